"""The web dashboard's sign-in links, sessions, page views and frozen weekly counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.engine.core.records import Op


@dataclass(frozen=True)
class IssueLogin(Op):
    """Store a one-time sign-in link: only the hash of its token, whose it is, until when."""

    token_hash: str
    user: str
    created_at: float
    expires_at: float


@dataclass(frozen=True)
class Session:
    """A signed-in browser: the hash of its cookie, the user, when it ends."""

    session_hash: str
    user: str
    started_at: float
    expires_at: float


@dataclass(frozen=True)
class View:
    """Who opened which dashboard page when (what a data protection officer asks for)."""

    user: str
    page: str
    at: float


@dataclass(frozen=True)
class WeekCount:
    """A count of people frozen when a week was first shown: the population it is drawn from
    (everyone then onboarded) and how many of them had the property (`metric`)."""

    week_start: float
    metric: str  # 'onboarded', 'active', 'reflected', 'tried', or 'step:<n>' (the funnel)
    population: int
    count: int


class DashboardBook(Protocol):
    """The dashboard's own storage; every call is its own short transaction."""

    def redeem(self, token_hash: str, now: float) -> str | None:
        """Use a sign-in link once: its user if it is unused and unexpired, else None."""
        ...

    def start_session(self, session: Session) -> None:
        """Remember a signed-in browser."""
        ...

    def session(self, session_hash: str, now: float) -> Session | None:
        """The unexpired session with this hash."""
        ...

    def end_session(self, session_hash: str) -> None:
        """Sign a browser out."""
        ...

    def end_sessions_of(self, user: str) -> None:
        """Sign every browser of the user out (the role was lost)."""
        ...

    def record_view(self, view: View) -> None:
        """Log that a page was opened."""
        ...

    def views(self, user: str) -> list[View]:
        """The user's page views, oldest first."""
        ...

    def frozen_weeks(self, week_starts: list[float]) -> list[WeekCount]:
        """The counts frozen so far for these weeks."""
        ...

    def frozen_funnels(self, until: float) -> list[WeekCount]:
        """Every funnel count ('step:<n>') frozen so far, of weeks starting by `until`."""
        ...

    def freeze_weeks(self, counts: list[WeekCount]) -> None:
        """Freeze counts; a week's metric frozen before keeps its first value."""
        ...
