"""Broadcasts: who receives one, each recipient's delivery, answers and reports; and the outbox."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from bot.engine.core.events import UserKey

# Delivery statuses of one recipient's copy of a broadcast (docs/BROADCASTS.md).
PENDING, SENDING, SENT, FAILED, BLOCKED = "pending", "sending", "sent", "failed", "blocked"
# The reason given for copies not sent because the recipient had blocked the bot before.
BLOCKED_EARLIER = "blocked the bot earlier"


@dataclass(frozen=True)
class Recipient:
    """Someone a broadcast will be delivered to, in their private chat."""

    user: UserKey
    chat_id: str
    locale: str


@dataclass(frozen=True)
class NewBroadcast:
    """A broadcast to create: who asked, to whom, and what (a prompt id or a text)."""

    created_by: str | None
    audience: str
    audience_label: str
    kind: str  # 'prompt' or 'text'
    question: str | None
    body: str | None
    created_at: float
    schedule_id: int | None = None
    progress_chat_id: str | None = None


@dataclass(frozen=True)
class Broadcast:
    """A stored broadcast; status is 'sending' until every copy has an outcome, then 'done'."""

    id: int
    created_by: str | None
    audience: str
    audience_label: str
    kind: str
    question: str | None
    body: str | None
    created_at: float
    status: str
    schedule_id: int | None = None
    progress_chat_id: str | None = None
    progress_message_id: int | None = None
    in_flight_at_restart: int = 0
    finished_at: float | None = None


@dataclass(frozen=True)
class Delivery:
    """One recipient's copy of a broadcast: an outbox row (docs/BROADCASTS.md)."""

    id: int
    broadcast_id: int
    user: UserKey
    channel: str
    chat_id: str
    status: str
    attempts: int = 0
    last_error: str | None = None
    next_attempt_at: float = 0.0
    sent_at: float | None = None
    message_id: int | None = None
    locale: str = "en"
    resent_after_restart: bool = False


@dataclass(frozen=True)
class Progress:
    """How far a broadcast has got."""

    total: int = 0
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    pending: int = 0
    sending: int = 0

    @property
    def remaining(self) -> int:
        """Copies without an outcome yet (waiting, or being sent right now)."""
        return self.pending + self.sending

    @property
    def done(self) -> bool:
        """True when every copy is sent, failed or blocked."""
        return self.remaining == 0


@dataclass(frozen=True)
class BroadcastAnswer:
    """A recipient's answer to a broadcast: a level, a reflection, or both."""

    broadcast_id: int
    user: UserKey
    level: int | None
    note: str | None
    answered_at: float


@dataclass(frozen=True)
class Report:
    """What happened to a broadcast: outcomes, failure reasons and answers."""

    broadcast: Broadcast
    progress: Progress
    failures: tuple[tuple[str, int], ...]
    answered: int
    distribution: tuple[tuple[int, int], ...]
    notes: int


@dataclass(frozen=True)
class ResponseRow:
    """One recipient's answer for the export, before pseudonymisation."""

    broadcast_id: int
    broadcast_at: float
    audience_label: str
    kind: str
    question: str | None
    user: UserKey
    level: int | None
    note: str | None
    answered_at: float
    teams: tuple[str, ...]


class BroadcastReads(Protocol):
    """Broadcasts, their recipients, deliveries, answers and reports."""

    def recipients(self, audience: str, channels: Iterable[str]) -> list[Recipient]:
        """Who a broadcast to `audience` reaches now: consented, not blocked, on `channels`."""
        ...

    def broadcast(self, broadcast_id: int) -> Broadcast | None:
        """The broadcast with this id."""
        ...

    def broadcasts(self, limit: int, created_by: str | None = None) -> list[Broadcast]:
        """The newest broadcasts (by one creator when given), newest first."""
        ...

    def delivery_of(self, broadcast_id: int, user: UserKey) -> Delivery | None:
        """The user's copy of a broadcast; None when they are not a recipient."""
        ...

    def answer_of(self, broadcast_id: int, user: UserKey) -> BroadcastAnswer | None:
        """The user's answer to a broadcast, if any."""
        ...

    def report(self, broadcast_id: int) -> Report | None:
        """Outcomes and answers of a broadcast."""
        ...

    def responses(self) -> list[ResponseRow]:
        """Every answer to every broadcast, oldest broadcast first."""
        ...


class BroadcastOutbox(Protocol):
    """What the broadcast sender calls; each call is its own short transaction."""

    def claim_due(self, channel: str, now: float, limit: int) -> list[Delivery]:
        """Mark up to `limit` due pending copies 'sending' (one per chat) and return them."""
        ...

    def mark_sent(self, delivery_id: int, message_id: int | None, at: float) -> bool:
        """A claimed copy was accepted by the platform; False if it was not 'sending'."""
        ...

    def mark_retry(self, delivery_id: int, error: str, next_attempt_at: float) -> bool:
        """A claimed copy failed for now (429, 5xx, timeout); try again at `next_attempt_at`."""
        ...

    def mark_failed(self, delivery_id: int, error: str, at: float) -> bool:
        """A claimed copy failed for good; `error` is the reason shown in the report."""
        ...

    def mark_blocked(self, delivery_id: int, error: str, at: float) -> bool:
        """The recipient blocked the bot: this copy and their other pending ones are skipped."""
        ...

    def unblock(self, user: UserKey) -> None:
        """The user can be reached again (they wrote to the bot or restarted it)."""
        ...

    def progress(self, broadcast_id: int) -> Progress:
        """Counts per outcome."""
        ...

    def recover_in_flight(self, now: float) -> dict[int, int]:
        """At start-up: copies left 'sending' by a crash go back to 'pending'; counts per id."""
        ...

    def set_progress_message(self, broadcast_id: int, message_id: int) -> None:
        """Remember the coordinator's progress message, to edit it after a restart."""
        ...

    def unfinished(self) -> list[Broadcast]:
        """Broadcasts still sending, oldest first."""
        ...
