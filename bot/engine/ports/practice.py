"""Commitments ("I'll try this"), their follow-ups and the practice history: values, ops, port."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.engine.core.records import Op

# What a follow-up answer may be; 'open' until then, 'dropped' from /actions or the follow-up.
OUTCOMES = ("helped", "mixed", "not_yet", "dropped")
TRIED = ("helped", "mixed")


class AlreadyClaimed(Exception):
    """Another tick claimed this follow-up first (it is sent once, by that tick)."""


@dataclass(frozen=True)
class Commitment:
    """One thing a user said they would try, and what became of it."""

    id: int
    user: str
    question: str  # the sub-component
    strand: str
    level: int  # the answer whose prompt it was
    persona: str | None
    made_at: float
    # When the follow-up is next due; None once asked and not to be asked again.
    due_at: float | None
    status: str = "open"  # 'open' or one of OUTCOMES
    asked: int = 0  # follow-ups sent so far ('Not yet' asks once more)
    answered_at: float | None = None
    note: str | None = None
    broadcast_id: int | None = None  # set when the prompt came in a broadcast


@dataclass(frozen=True)
class MakeCommitment(Op):
    """Record a new commitment, its follow-up due at `due_at`."""

    user: str
    question: str
    strand: str
    level: int
    persona: str | None
    made_at: float
    due_at: float
    broadcast_id: int | None = None


@dataclass(frozen=True)
class ClaimFollowUp(Op):
    """Mark a due follow-up as sent, only if it is still due at `due_at` (else AlreadyClaimed)."""

    id: int
    due_at: float


@dataclass(frozen=True)
class AnswerFollowUp(Op):
    """The user's answer to a follow-up; `due_at` is the next ask ('Not yet'), else None."""

    id: int
    user: str
    status: str
    at: float
    due_at: float | None = None


@dataclass(frozen=True)
class NoteFollowUp(Op):
    """The optional note after a follow-up answer (private to the user)."""

    id: int
    user: str
    note: str


class PracticeBook(Protocol):
    """The stored commitments, read side; writes are the ops above, in a turn's commit."""

    def commitments(self, user: str) -> list[Commitment]:
        """The user's commitments, newest first."""
        ...

    def commitment(self, commitment_id: int) -> Commitment | None:
        """One commitment by id."""
        ...

    def due_followups(self, now: float, limit: int) -> list[Commitment]:
        """Up to `limit` follow-ups due at or before `now`, earliest first (blocked users left out
        where the store knows them)."""
        ...

    def tried_by_strand(self, user: str) -> dict[str, int]:
        """How many of the user's commitments were tried ('helped' or 'mixed'), per strand."""
        ...

    def broadcast_outcomes(self, broadcast_id: int) -> dict[str, str]:
        """Who committed from a broadcast prompt and how it went, for the settled ones only
        (helped, mixed, dropped, or not yet and not to be asked again); for the release module."""
        ...

    def tried_by(self, users: list[str], since: float, until: float) -> dict[str, set[str]]:
        """Per strand, which of `users` tried something, answered in [since, until) (for the
        release module only: it decides what figure, if any, may be shown)."""
        ...
