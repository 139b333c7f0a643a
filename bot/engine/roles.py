"""Who holds which role (bootstrap admins, stored grants, team managers) and their menus."""

from __future__ import annotations

from bot.engine.directory import Directory
from bot.engine.engine import ROLE_ORDER
from bot.engine.events import UserKey

ADMINS_ENV = "CCBOT_ADMINS"
# Roles that are granted (stored, or CCBOT_ADMINS); "manager" comes from managing a team.
GRANTABLE = ("coordinator", "admin")

# The commands each role sees in the chat menu, after the core ones: (command, message id of
# its one-line description, least role). Members see /myteams and /leave.
MENU: tuple[tuple[str, str, str], ...] = (
    ("myteams", "menu.myteams", "member"),
    ("leave", "menu.leave", "member"),
    ("teams", "menu.teams", "manager"),
    ("members", "menu.members", "manager"),
    ("team", "menu.team", "manager"),
    ("digest", "menu.digest", "manager"),
    ("invite", "menu.invite", "manager"),
    ("broadcast", "menu.broadcast", "manager"),
    ("report", "menu.report", "manager"),
    ("schedule", "menu.schedule", "manager"),
    ("schedules", "menu.schedules", "manager"),
    ("newteam", "menu.newteam", "coordinator"),
    ("cohort", "menu.cohort", "coordinator"),
    ("makecoordinator", "menu.makecoordinator", "admin"),
)
MENU_MESSAGES = tuple(message for _, message, _ in MENU)


class AdminsError(ValueError):
    """CCBOT_ADMINS holds something that is not a Telegram user id."""


def parse_admins(value: str | None) -> frozenset[str]:
    """'123, 456' -> {'telegram:123', 'telegram:456'}; raises AdminsError naming the variable."""
    keys = set()
    for part in (value or "").replace(";", ",").split(","):
        ident = part.strip()
        if not ident:
            continue
        if not ident.isdigit():
            raise AdminsError(f"{ADMINS_ENV} must list numeric Telegram user ids separated by "
                              f"commas (e.g. 12345,67890); '{ident[:40]}' is not one")
        keys.add(f"telegram:{ident}")
    return frozenset(keys)


def rank(roles: frozenset[str]) -> int:
    """The index in ROLE_ORDER of the highest role held (0 for a plain member)."""
    return max((ROLE_ORDER.index(r) for r in roles if r in ROLE_ORDER), default=0)


def menu_for(roles: frozenset[str]) -> list[tuple[str, str]]:
    """The (command, description message id) pairs this set of roles sees in the menu."""
    held = rank(roles)
    return [(command, message) for command, message, least in MENU
            if ROLE_ORDER.index(least) <= held]


class DirectoryRoles:
    """A RoleBook: CCBOT_ADMINS, stored grants, and 'manager' for anyone managing a team."""

    def __init__(self, directory: Directory, admins: frozenset[str] = frozenset()) -> None:
        self.directory = directory
        self.admins = admins

    def roles(self, key: UserKey) -> frozenset[str]:
        roles = set(self.directory.granted_roles(key))
        if str(key) in self.admins:
            roles.add("admin")
        if any(m.role == "manager" for m in self.directory.memberships(key)):
            roles.add("manager")
        return frozenset(roles)
