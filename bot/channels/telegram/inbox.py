"""The durable inbox: each update is in SQLite before Telegram is told we have it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.channels.telegram.translate import CHANNEL, address
from bot.engine.core.events import Reply, UserKey
from bot.storage.sqlite_store import SQLiteStore, queue_replies

_ADD = (
    "INSERT OR IGNORE INTO inbox (channel, update_id, chat_id, user_key, body, received_at)"
    " SELECT ?, ?, ?, ?, ?, ? WHERE NOT EXISTS"
    " (SELECT 1 FROM processed_updates WHERE channel = ? AND update_id = ?)"
)


@dataclass(frozen=True)
class InboxItem:
    """One received update waiting to be handled."""

    update_id: int
    chat: str
    user_key: str | None
    update: dict[str, Any]


class Inbox:
    """Received updates not yet handled; handling deletes them in its own transaction."""

    def __init__(self, store: SQLiteStore, channel: str = CHANNEL) -> None:
        self.store = store
        self.channel = channel

    def add(self, updates: Iterable[Mapping[str, Any]]) -> list[InboxItem]:
        """Store a batch in one transaction; return the updates not stored or handled before."""
        items = []
        for update in updates:
            chat, user_key = address(update)
            items.append(InboxItem(int(update["update_id"]), chat, user_key, dict(update)))
        if not items:
            return []
        new = []
        now = time.time()
        with self.store.transaction() as conn:
            for item in items:
                # Telegram delivers at least once: a redelivered update is neither stored twice
                # nor stored again after it was handled.
                cursor = conn.execute(_ADD, (
                    self.channel, item.update_id, item.chat, item.user_key,
                    # ASCII escapes keep a lone surrogate ("\ud83d" from a client) storable.
                    json.dumps(item.update, separators=(",", ":")), now,
                    self.channel, item.update_id))
                if cursor.rowcount:
                    new.append(item)
        return new

    def pending(self) -> list[InboxItem]:
        """Updates left unhandled (by a crash or a stop), oldest first."""
        rows = self.store.query("SELECT update_id, chat_id, user_key, body FROM inbox"
                                " WHERE channel = ? ORDER BY update_id", (self.channel,))
        return [InboxItem(r["update_id"], r["chat_id"], r["user_key"], json.loads(r["body"]))
                for r in rows]

    def done(self, item: InboxItem, user: UserKey | None = None,
             replies: tuple[Reply, ...] = ()) -> None:
        """Mark an update handled without the engine (ignored, or failed) and queue `replies`."""
        with self.store.transaction() as conn:
            conn.execute("INSERT OR IGNORE INTO processed_updates (channel, update_id, at)"
                         " VALUES (?, ?, ?)", (self.channel, item.update_id, time.time()))
            conn.execute("DELETE FROM inbox WHERE channel = ? AND update_id = ?",
                         (self.channel, item.update_id))
            if user is not None and replies:
                queue_replies(conn, user, item.chat, item.update_id, replies)
