"""The in-memory twin of the reply outbox."""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.engine.core.events import Reply, UserKey
from bot.engine.ports.reply_outbox import QueuedReply


@dataclass(frozen=True)
class _Row:
    """A queued reply with its status, as the SQLite table keeps it."""

    queued: QueuedReply
    channel: str
    status: str = "pending"
    reason: str | None = None


class MemoryReplyOutbox:
    """Replies of one channel in a list, oldest first."""

    def __init__(self, channel: str = "telegram") -> None:
        self.channel = channel
        self.rows: list[_Row] = []
        self._next_id = 1

    def queue(self, user: UserKey, chat_id: str, update_id: int | None,
              replies: tuple[Reply, ...]) -> None:
        for reply in replies:
            self.rows.append(_Row(QueuedReply(self._next_id, chat_id, str(user), reply, 0),
                                  user.channel))
            self._next_id += 1

    def forget(self, user_key: str) -> None:
        """Drop the user's queued replies: they may quote the user's answers."""
        self.rows = [r for r in self.rows if r.queued.user_key != user_key]

    def _waiting(self) -> list[_Row]:
        return [r for r in self.rows if r.channel == self.channel and r.status == "pending"]

    def pending(self, chat_id: str) -> list[QueuedReply]:
        return [r.queued for r in self._waiting() if r.queued.chat_id == chat_id]

    def chats_waiting(self) -> list[str]:
        return list(dict.fromkeys(r.queued.chat_id for r in self._waiting()))

    def progress(self, reply_id: int, parts_sent: int) -> None:
        self.rows = [replace(r, queued=replace(r.queued, parts_sent=parts_sent))
                     if r.queued.id == reply_id else r for r in self.rows]

    def sent(self, reply_id: int) -> None:
        self.rows = [r for r in self.rows if r.queued.id != reply_id]

    def failed(self, reply_id: int, reason: str) -> None:
        self.rows = [replace(r, status="failed", reason=reason[:500])
                     if r.queued.id == reply_id else r for r in self.rows]

    def hold(self, chat_id: str, reason: str) -> None:
        self.rows = [replace(r, status="blocked", reason=reason[:500])
                     if r in self._waiting() and r.queued.chat_id == chat_id else r
                     for r in self.rows]
