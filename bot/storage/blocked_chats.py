"""The registry of blocked chats in SQLite: a blocked private chat is its user, status 'blocked'."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # directory_store uses the statements below inside its own transactions
    from bot.storage.sqlite_store import SQLiteStore


def block_user(conn: sqlite3.Connection, user_key: str) -> None:
    """Inside an open transaction: the user blocked the bot."""
    conn.execute("UPDATE users SET status = 'blocked' WHERE key = ?", (user_key,))


def unblock_user(conn: sqlite3.Connection, user_key: str) -> None:
    """Inside an open transaction: the user wrote again, so they are reachable."""
    conn.execute("UPDATE users SET status = 'active' WHERE key = ? AND status = 'blocked'",
                 (user_key,))


class SQLiteBlockedChats:
    """One channel's blocked chats: users' private chats in `users`, groups in memory only.

    The set is read once at start-up and kept here, because it is asked about on every update
    and every reply; every change goes through this object (or, for a broadcast copy, through
    SQLiteDirectory.mark_blocked in the copy's transaction, and then `block` here).
    """

    def __init__(self, store: SQLiteStore, channel: str = "telegram") -> None:
        self.store = store
        self.channel = channel
        rows = store.query("SELECT external_id FROM users WHERE channel = ? AND status ="
                           " 'blocked'", (channel,))
        self._chats = {r["external_id"] for r in rows}

    def block(self, chat: str, user_key: str | None) -> None:
        self._chats.add(chat)
        if user_key:
            with self.store.transaction() as conn:
                block_user(conn, user_key)

    def unblock(self, chat: str, user_key: str | None) -> None:
        self._chats.discard(chat)
        if user_key:
            with self.store.transaction() as conn:
                unblock_user(conn, user_key)

    def is_blocked(self, chat: str) -> bool:
        return chat in self._chats

    def chats(self) -> list[str]:
        return sorted(self._chats)
