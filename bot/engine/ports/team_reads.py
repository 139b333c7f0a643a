"""What the team view and weekly digests read: levels, activity, digests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.engine.core.events import UserKey


@dataclass(frozen=True)
class TeamActivity:
    """How much a team has used the bot (defined in features/team_view/figures.py)."""

    members: int
    active: int  # members seen since the given time
    steps: int  # distinct (member, cycle, sub-component) answered with a level in the cycle


@dataclass(frozen=True)
class Digest:
    """A manager's weekly /team summary: when it runs, in their local time, and for which team."""

    id: int
    user: UserKey
    team_id: int
    weekday: int  # 0 = Monday
    local_time: str  # 'HH:MM'
    timezone: str
    next_run_at: float
    created_at: float
    last_run_at: float | None = None
    last_result: str | None = None


class AlreadyRun(Exception):
    """This run of a digest was claimed by someone else first; the transaction is undone."""


class TeamReads(Protocol):
    """Team answers and activity for the team view, and the weekly digests."""

    def team_levels(self, team_id: int) -> list[tuple[str, str, int]]:
        """(user key, sub-component, level): each current member's latest cycle level.

        Levels only, never notes: team views are built from this and team_activity alone.
        """
        ...

    def team_activity(self, team_id: int, since: float) -> TeamActivity:
        """Members, members seen at or after `since`, and cycle steps answered with a level."""
        ...

    def digests(self, user: UserKey | None = None) -> list[Digest]:
        """Weekly digests (of one user when given), by id."""
        ...

    def digests_due(self, now: float) -> list[Digest]:
        """Digests whose next run is at or before `now`, by id."""
        ...
