"""The reminders port on SQLite: the `reminders` table, its migration set and its op handlers."""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlite_utils import Database
from sqlite_utils.db import Table
from sqlite_utils.migrations import Migrations

from bot.engine.core.records import Op
from bot.engine.ports.practice import AlreadyClaimed
from bot.engine.ports.reminders import ClaimNudge, Reminder, SetReminder
from bot.engine.ports.store import StoreError
from bot.storage.sqlite_store import SQLiteStore, explain

# Its own migration set, so its numbering never collides with another feature's.
migrations = Migrations("ccbot-reminders")
_COLUMNS = "user_key, zone, next_at, unanswered, last_nudge_at, offered_at"


@migrations()
def m001_reminders(db: Database) -> None:
    """One row per user who was offered reminders; /forget deletes it with the user."""
    table = db["reminders"]
    assert isinstance(table, Table)
    table.create({"user_key": str, "zone": str, "next_at": float, "unanswered": int,
                  "last_nudge_at": float, "offered_at": float}, pk="user_key",
                 defaults={"unanswered": 0})
    db.execute("CREATE INDEX reminders_due ON reminders (next_at) WHERE next_at IS NOT NULL")
    # Finding who went quiet reads users by when they last wrote, not all of them.
    db.execute("CREATE INDEX IF NOT EXISTS users_last_seen ON users (last_seen)")
    db.execute("""CREATE TRIGGER forget_user_reminders AFTER DELETE ON users
        BEGIN DELETE FROM reminders WHERE user_key = OLD.key; END""")


class SQLiteReminders:
    """Reminders in the bot's database; reads here, writes as ops in a turn's transaction."""

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store

    def _rows(self, sql: str, params: tuple[Any, ...]) -> list[Reminder]:
        return [Reminder(*tuple(r)) for r in self.store.query(sql, params)]

    def reminder(self, user: str) -> Reminder | None:
        found = self._rows(f"SELECT {_COLUMNS} FROM reminders WHERE user_key = ?", (user,))
        return found[0] if found else None

    def due_nudges(self, now: float, limit: int) -> list[Reminder]:
        return self._rows(
            f"SELECT {_COLUMNS} FROM reminders r INDEXED BY reminders_due WHERE next_at IS NOT"
            " NULL AND next_at <= ? AND NOT EXISTS (SELECT 1 FROM users u WHERE"
            " u.key = r.user_key AND u.status = 'blocked') ORDER BY next_at, user_key LIMIT ?",
            (now, limit))

    def quiet_users(self, since: float, limit: int) -> list[str]:
        rows = self.store.query(
            "SELECT u.key FROM users u WHERE u.last_seen < ? AND u.consent = 1"
            " AND u.status != 'blocked' AND EXISTS (SELECT 1 FROM dialogue_states d"
            " WHERE d.user_key = u.key AND d.dialogue = 'cycle') AND NOT EXISTS"
            " (SELECT 1 FROM reminders r WHERE r.user_key = u.key) ORDER BY u.key LIMIT ?",
            (since, limit))
        return [r[0] for r in rows]


def _set(conn: sqlite3.Connection, op: Op) -> None:
    assert isinstance(op, SetReminder)
    conn.execute("INSERT INTO reminders (user_key, next_at, zone) VALUES (?, ?, ?)"
                 " ON CONFLICT(user_key) DO UPDATE SET next_at = excluded.next_at,"
                 " zone = coalesce(excluded.zone, zone)", (op.user, op.next_at, op.zone))


def _claim(conn: sqlite3.Connection, op: Op) -> None:
    assert isinstance(op, ClaimNudge)
    if op.offer:
        done = conn.execute("INSERT OR IGNORE INTO reminders (user_key, offered_at)"
                            " VALUES (?, ?)", (op.user, op.at)).rowcount
    else:
        done = conn.execute(
            "UPDATE reminders SET next_at = ?, unanswered = ?, last_nudge_at = CASE WHEN ?"
            " THEN ? ELSE last_nudge_at END WHERE user_key = ? AND next_at IS ?",
            (op.next_at, op.unanswered, int(op.sent), op.at, op.user, op.expected)).rowcount
    if not done:
        raise AlreadyClaimed(op.user)  # rolls the whole commit back, its message included


HANDLERS = {SetReminder: _set, ClaimNudge: _claim}


def install_reminders(store: SQLiteStore) -> SQLiteReminders:
    """Apply the reminders migrations, register its ops and its /mydata table."""
    try:
        migrations.apply(store.db)
    except sqlite3.Error as exc:
        raise StoreError(explain(exc, store.path)) from exc
    store.op_handlers.update(HANDLERS)
    store.export_tables["reminders"] = ("user_key",)
    return SQLiteReminders(store)
