"""Roles and their ranks, and who holds which (bootstrap admins, stored grants, managers)."""

from __future__ import annotations

from typing import Protocol

from bot.engine.core.events import UserKey
from bot.engine.ports.directory import Directory

# Each role includes the powers of those before it.
ROLE_ORDER = ("member", "manager", "coordinator", "admin")


class RoleBook(Protocol):
    """Who holds which role; the engine asks before every privileged action."""

    def roles(self, key: UserKey) -> frozenset[str]:
        """The roles the user holds (members hold none)."""
        ...


class NoRoles:
    """A RoleBook where nobody holds a role."""

    def roles(self, key: UserKey) -> frozenset[str]:
        return frozenset()


class Roles:
    """Role checks over a RoleBook, with the rank order applied."""

    def __init__(self, book: RoleBook) -> None:
        self.book = book

    def has(self, key: UserKey, role: str) -> bool:
        """True when the user holds `role` or one ranked above it."""
        if role == "member":
            return True
        wanted = ROLE_ORDER.index(role)
        return any(r in ROLE_ORDER and ROLE_ORDER.index(r) >= wanted
                   for r in self.book.roles(key))


ADMINS_ENV = "CCBOT_ADMINS"
# Roles that are granted (stored, or CCBOT_ADMINS); "manager" comes from managing a team.
GRANTABLE = ("coordinator", "admin")


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
