"""What the dashboard serves from: the bot's parts over one database, and who is looking."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.dashboard.security import RateLimit
from bot.definitions.model import Content
from bot.engine.core.events import UserKey
from bot.engine.core.roles import ROLE_ORDER, DirectoryRoles, rank
from bot.engine.features.team_view.access import viewable_teams
from bot.engine.ports.dashboard import DashboardBook
from bot.engine.ports.directory import Directory, parse_key
from bot.engine.ports.practice import PracticeBook
from bot.engine.ports.reminders import ReminderBook
from bot.engine.ports.teams import Team
from bot.storage.sqlite_store import SQLiteStore


@dataclass
class Site:
    """The running dashboard: content (reloadable, hence a getter), the database and its ports."""

    content: Callable[[], Content]
    store: SQLiteStore
    directory: Directory
    roles: DirectoryRoles
    practice: PracticeBook
    reminders: ReminderBook
    book: DashboardBook
    clock: Callable[[], float] = time.time
    logins: RateLimit = field(default_factory=RateLimit)


@dataclass(frozen=True)
class Viewer:
    """The signed-in person, as checked at this request: their role, language, zone, teams."""

    user: str
    role: str  # the highest held: 'manager', 'coordinator' or 'admin'
    locale: str
    zone: str | None  # the time zone from /reminders, if they set one
    teams: tuple[Team, ...]  # the teams whose figures they may see
    session_id: str = ""

    @property
    def coordinator(self) -> bool:
        """True for coordinators and admins."""
        return ROLE_ORDER.index(self.role) >= ROLE_ORDER.index("coordinator")

    def may_see(self, team_id: int) -> bool:
        """True when the team is one of theirs."""
        return any(t.id == team_id for t in self.teams)


def load_viewer(site: Site, user: str, session_id: str = "") -> Viewer | None:
    """The viewer with their rights now, or None when they hold no dashboard role any more."""
    key: UserKey = parse_key(user)
    record = site.store.load_user(key)
    if record is None:
        return None  # forgotten
    held = rank(site.roles.roles(key))
    if held < ROLE_ORDER.index("manager"):
        return None
    role = ROLE_ORDER[held]
    coordinator = held >= ROLE_ORDER.index("coordinator")
    teams = tuple(viewable_teams(site.directory, key, coordinator))
    reminder = site.reminders.reminder(user)
    return Viewer(user, role, record.locale, reminder.zone if reminder else None, teams,
                  session_id)
