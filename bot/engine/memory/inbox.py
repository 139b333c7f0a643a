"""The in-memory twin of the durable inbox."""

from __future__ import annotations

from collections.abc import Iterable

from bot.engine.core.events import Reply, UserKey
from bot.engine.memory.reply_outbox import MemoryReplyOutbox
from bot.engine.ports.inbox import InboxItem


class MemoryInbox:
    """Updates kept in a dict until handled; handled ids are remembered, as in SQLite."""

    def __init__(self, outbox: MemoryReplyOutbox) -> None:
        self.outbox = outbox
        self.items: dict[int, InboxItem] = {}
        self.handled: set[int] = set()

    def add(self, items: Iterable[InboxItem]) -> list[InboxItem]:
        new = []
        for item in items:
            if item.update_id in self.items or item.update_id in self.handled:
                continue  # Telegram delivers at least once
            self.items[item.update_id] = item
            new.append(item)
        return new

    def pending(self) -> list[InboxItem]:
        return [self.items[i] for i in sorted(self.items)]

    def done(self, item: InboxItem, user: UserKey | None = None,
             replies: tuple[Reply, ...] = ()) -> None:
        self.handled.add(item.update_id)
        self.items.pop(item.update_id, None)
        if user is not None and replies:
            self.outbox.queue(user, item.chat, item.update_id, replies)
