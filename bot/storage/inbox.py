"""The durable inbox in SQLite: every statement that adds, takes or marks an update handled."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable

from bot.engine.core.events import Reply, UserKey
from bot.engine.ports.inbox import InboxItem
from bot.storage.reply_outbox import queue_replies
from bot.storage.transactions import Transactions

_ADD = (
    "INSERT OR IGNORE INTO inbox (channel, update_id, chat_id, user_key, body, received_at)"
    " SELECT ?, ?, ?, ?, ?, ? WHERE NOT EXISTS"
    " (SELECT 1 FROM processed_updates WHERE channel = ? AND update_id = ?)"
)


def mark_handled(conn: sqlite3.Connection, channel: str,
                 update_id: int) -> tuple[bool, str | None]:
    """Inside an open transaction: record the update as handled and take it from the inbox.

    Returns (False, None) when it was handled before (Telegram delivers at least once), else
    (True, the chat its inbox row came from, or None without one). Recording the id in the
    same transaction as the turn is what makes each update count once (DESIGN.md §4 rule 4).
    """
    cursor = conn.execute("INSERT OR IGNORE INTO processed_updates (channel, update_id, at)"
                          " VALUES (?, ?, ?)", (channel, update_id, time.time()))
    if cursor.rowcount == 0:
        return False, None
    row = conn.execute("DELETE FROM inbox WHERE channel = ? AND update_id = ? RETURNING chat_id",
                       (channel, update_id)).fetchall()
    return True, (str(row[0][0]) if row else None)


class SQLiteInbox:
    """Received updates not yet handled; the turn that handles one deletes it."""

    def __init__(self, store: Transactions, channel: str = "telegram") -> None:
        self.store = store
        self.channel = channel

    def add(self, items: Iterable[InboxItem]) -> list[InboxItem]:
        batch = list(items)
        if not batch:
            return []
        new = []
        now = time.time()
        with self.store.transaction() as conn:
            for item in batch:
                # Neither stored twice nor stored again after it was handled.
                cursor = conn.execute(_ADD, (
                    self.channel, item.update_id, item.chat, item.user_key,
                    # ASCII escapes keep a lone surrogate ("\ud83d" from a client) storable.
                    json.dumps(item.update, separators=(",", ":")), now,
                    self.channel, item.update_id))
                if cursor.rowcount:
                    new.append(item)
        return new

    def pending(self) -> list[InboxItem]:
        rows = self.store.query("SELECT update_id, chat_id, user_key, body FROM inbox"
                                " WHERE channel = ? ORDER BY update_id", (self.channel,))
        return [InboxItem(r["update_id"], r["chat_id"], r["user_key"], json.loads(r["body"]))
                for r in rows]

    def done(self, item: InboxItem, user: UserKey | None = None,
             replies: tuple[Reply, ...] = ()) -> None:
        with self.store.transaction() as conn:
            mark_handled(conn, self.channel, item.update_id)
            if user is not None and replies:
                queue_replies(conn, user, item.chat, item.update_id, replies)
