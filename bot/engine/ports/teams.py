"""Teams, their members and invite links, and cohorts of teams: values and the read port."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.engine.core.events import UserKey


@dataclass(frozen=True)
class Team:
    """A team: people who joined by its invite link, some of them its managers."""

    id: int
    name: str
    created_at: float


@dataclass(frozen=True)
class Member:
    """One person's membership of a team; role is 'member' or 'manager'."""

    team_id: int
    user: UserKey
    role: str
    joined_at: float


@dataclass(frozen=True)
class Invite:
    """A deep-link code: joins a team (kind 'team') or grants a role (kind 'role')."""

    code: str
    kind: str
    team_id: int | None
    role: str | None
    created_at: float
    max_uses: int | None = None
    uses: int = 0
    expires_at: float | None = None
    revoked_at: float | None = None
    created_by: str | None = None

    def problem(self, now: float) -> str | None:
        """Why the code can no longer be used ('revoked', 'expired', 'used_up'), or None."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and now >= self.expires_at:
            return "expired"
        if self.max_uses is not None and self.uses >= self.max_uses:
            return "used_up"
        return None


@dataclass(frozen=True)
class Cohort:
    """A named set of teams to broadcast to."""

    id: int
    name: str
    team_ids: tuple[int, ...]


class TeamBook(Protocol):
    """Who is in which team and cohort, and the invite links."""

    def teams(self) -> list[Team]:
        """Every team, by name."""
        ...

    def team(self, team_id: int) -> Team | None:
        """The team with this id."""
        ...

    def team_named(self, name: str) -> Team | None:
        """The team with this name (case-insensitive)."""
        ...

    def memberships(self, user: UserKey) -> list[Member]:
        """The user's memberships, by team id."""
        ...

    def members(self, team_id: int) -> list[Member]:
        """A team's members, in order of joining."""
        ...

    def invite(self, code: str) -> Invite | None:
        """The invite with this code, whatever its state."""
        ...

    def invites(self, team_id: int) -> list[Invite]:
        """A team's invites, newest first."""
        ...

    def role_links(self) -> list[Invite]:
        """Every role link (e.g. from /makecoordinator), newest first."""
        ...

    def cohorts(self) -> list[Cohort]:
        """Every cohort, by name."""
        ...

    def cohort(self, cohort_id: int) -> Cohort | None:
        """The cohort with this id."""
        ...

    def cohort_named(self, name: str) -> Cohort | None:
        """The cohort with this name (case-insensitive)."""
        ...
