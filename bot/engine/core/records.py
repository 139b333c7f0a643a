"""What the engine stores about a user: profile, place in each dialogue, answers."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from bot.engine.core.events import Reply, UserKey

# Notes are the user's own words; this keeps one message's note bounded (documented in README).
MAX_NOTE_CHARS = 2000


@dataclass(frozen=True)
class Position:
    """Where a user is in one dialogue."""

    dialogue: str
    state: str
    cycle: int = 1
    pass_start: str | None = None
    pending_level: int | None = None


@dataclass(frozen=True)
class UserRecord:
    """A user's profile and their place in every dialogue they have started."""

    key: UserKey
    locale: str
    consent: bool = False
    # Who the user said they are in onboarding (frontline, manager, coordinator, other): it
    # tailors advice, and is no permission (roles are granted, core/roles.py).
    persona: str | None = None
    active: str | None = None
    turn: int = 0
    awaiting: str | None = None
    positions: tuple[Position, ...] = ()
    created_at: float = 0.0
    last_seen: float = 0.0
    start_payload: str | None = None

    def position(self, dialogue: str) -> Position | None:
        """The user's place in `dialogue`, if they have started it."""
        return next((p for p in self.positions if p.dialogue == dialogue), None)

    def with_position(self, position: Position) -> UserRecord:
        """A copy with `position` replacing the one for its dialogue."""
        others = tuple(p for p in self.positions if p.dialogue != position.dialogue)
        return replace(self, positions=(*others, position))


@dataclass(frozen=True)
class Answer:
    """One answer in the append-only history."""

    user: UserKey
    dialogue: str
    cycle: int
    question: str
    level: int | None
    note: str | None
    at: float


class Op:
    """A change a feature asks the store to make in the same transaction as the turn."""


@dataclass(frozen=True)
class Commit:
    """Everything one event changes, written in one transaction with its update id."""

    user: UserKey
    update_id: int | None
    record: UserRecord | None
    answers: tuple[Answer, ...] = ()
    # Stored answers (matched by user, dialogue, cycle, question and time) that now carry the
    # note their prompt offered: the one change an answer's row ever gets.
    notes: tuple[Answer, ...] = ()
    forget: bool = False
    ops: tuple[Op, ...] = ()
    replies: tuple[Reply, ...] = field(default=(), compare=False)
