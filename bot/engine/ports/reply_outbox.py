"""The reply outbox port: each turn's replies, kept until every part is delivered."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.engine.core.events import Reply, UserKey


@dataclass(frozen=True)
class QueuedReply:
    """A reply waiting in the outbox: where it goes and how many of its parts were sent."""

    id: int
    chat_id: str
    user_key: str
    reply: Reply
    parts_sent: int


class ReplyOutbox(Protocol):
    """One channel's replies not yet sent; a turn queues them in its own commit."""

    def queue(self, user: UserKey, chat_id: str, update_id: int | None,
              replies: tuple[Reply, ...]) -> None:
        """Add replies for `chat_id`, in order (outside a turn: a digest, a test)."""
        ...

    def pending(self, chat_id: str) -> list[QueuedReply]:
        """The chat's unsent replies, oldest first."""
        ...

    def chats_waiting(self) -> list[str]:
        """Chats with unsent replies, the longest-waiting first."""
        ...

    def progress(self, reply_id: int, parts_sent: int) -> None:
        """Record that the first `parts_sent` parts of a long reply were delivered."""
        ...

    def sent(self, reply_id: int) -> None:
        """The reply was delivered in full: drop it (it may quote the user's words)."""
        ...

    def failed(self, reply_id: int, reason: str) -> None:
        """Give up on a reply, keeping it with the reason for an operator to read."""
        ...

    def hold(self, chat_id: str, reason: str) -> None:
        """The chat refuses our messages: keep its pending replies aside, with the reason."""
        ...
