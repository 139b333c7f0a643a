"""Check-in rounds and what was released to whom: the release module's storage port."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.engine.core.records import Op
from bot.engine.ports.store import StoreUnavailable


@dataclass(frozen=True)
class Round:
    """A team's check-in round: open until closed; a closed round's answers never change."""

    id: int
    team_id: int
    number: int
    opened_at: float
    closes_at: float  # when it closes by itself (the monthly boundary, UTC)
    closed_at: float | None = None
    closed_by: str | None = None  # 'schedule', 'cli' or the coordinator's user key

    @property
    def closed(self) -> bool:
        """True once the round's answers are fixed."""
        return self.closed_at is not None


@dataclass(frozen=True)
class RoundAnswer:
    """One person's level for one sub-component in one closed round (never a note)."""

    person: str  # the user key, or an opaque 'forgotten:…' token after /forget
    question: str
    level: int


@dataclass(frozen=True)
class Released:
    """One respondent set a figure about `quantity` was computed from, as shown to `viewer`."""

    viewer: str
    quantity: str  # a sub-component id: team figures and broadcast distributions share it
    source: str  # e.g. 'team:3 round:7' or 'broadcast:12'
    people: frozenset[str]
    at: float


@dataclass(frozen=True)
class OpenRound(Op):
    """Open round `number` of a team (ignored when the team already has that round)."""

    team_id: int
    number: int
    opened_at: float
    closes_at: float


@dataclass(frozen=True)
class CloseRound(Op):
    """Close a team's open round with its answers; closing a closed round changes nothing."""

    team_id: int
    number: int
    closed_at: float
    closed_by: str
    answers: tuple[RoundAnswer, ...]


@dataclass(frozen=True)
class RecordRelease(Op):
    """Remember what was just shown, so that later releases are checked against it.

    With `minimum` (Rules.minimum of the release), the store checks the rows again against
    the ledger as it is when written, and raises ReleaseConflict if it changed under them."""

    rows: tuple[Released, ...]
    minimum: int | None = None


class ReleaseConflict(StoreUnavailable):
    """Another process released figures to the same viewer between this turn's reading of
    their ledger and its commit, and together they could single someone out: nothing of the
    turn was kept, and trying it again decides against the ledger as it now is."""


class ReleaseBook(Protocol):
    """Rounds, their fixed answers, live levels for closing, and the per-viewer ledger."""

    def rounds(self, team_id: int) -> list[Round]:
        """The team's rounds, oldest first."""
        ...

    def round_answers(self, round_id: int) -> list[RoundAnswer]:
        """A closed round's answers (empty for an open round)."""
        ...

    def round_levels(self, team_id: int, start: float, end: float) -> list[RoundAnswer]:
        """Each current member's latest cycle level per sub-component, answered in
        [max(start, when they joined), end): what a round closed at `end` holds."""
        ...

    def released(self, viewer: str) -> list[Released]:
        """Everything released to the viewer so far, oldest first."""
        ...

    def broadcast_levels(self, broadcast_id: int) -> list[RoundAnswer]:
        """The levels answered to a broadcast prompt, one per person (question = its prompt)."""
        ...
