"""Reminders to carry on: each user's opt-in, time zone and nudge history; values, ops, port."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.engine.core.records import Op


@dataclass(frozen=True)
class Reminder:
    """One user's reminder settings; `next_at` None means no nudge is planned."""

    user: str
    zone: str | None = None
    next_at: float | None = None
    # Nudges sent in a row with no message from the user since; two stop the nudges.
    unanswered: int = 0
    last_nudge_at: float | None = None
    offered_at: float | None = None  # when the one offer after quiet days was sent


@dataclass(frozen=True)
class SetReminder(Op):
    """Plan the next nudge (None: reminders off); a zone, when given, replaces the stored one."""

    user: str
    next_at: float | None
    zone: str | None = None


@dataclass(frozen=True)
class ClaimNudge(Op):
    """A due nudge (or offer) taken by one tick, only if `next_at` is still `expected` (else
    AlreadyClaimed, from bot.engine.ports.practice): records it and plans the next."""

    user: str
    expected: float | None
    at: float
    unanswered: int
    next_at: float | None
    sent: bool = True  # False: only re-planned (quiet hours, too soon), nothing sent
    offer: bool = False  # the one offer after quiet days, not a nudge


class ReminderBook(Protocol):
    """Stored reminders, read side; writes are the ops above."""

    def reminder(self, user: str) -> Reminder | None:
        """The user's reminder settings, if any were ever stored."""
        ...

    def due_nudges(self, now: float, limit: int) -> list[Reminder]:
        """Up to `limit` reminders whose next nudge is due, earliest first."""
        ...

    def quiet_users(self, since: float, limit: int) -> list[str]:
        """Users who consented, last wrote before `since`, are in the cycle and were never
        offered reminders (no stored row); blocked users left out where the store knows."""
        ...
