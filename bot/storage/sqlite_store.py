"""The SQLite Store: one file, WAL, one writer connection, each change in one transaction."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from bot.engine.core.events import UserKey
from bot.engine.core.records import Answer, Commit, Op, Position, UserRecord
from bot.engine.ports.store import StoreError, StoreUnavailable
from bot.storage.inbox import mark_handled
from bot.storage.reply_outbox import forget_user
from bot.storage.schema import migrations
from bot.storage.transactions import TurnQueue

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
# After a checkpoint the -wal file is cut back to this size; it otherwise keeps its biggest
# size, and its old frames (page images with whatever was deleted since) with it.
JOURNAL_SIZE_LIMIT = 4 * 1024 * 1024
# The values PRAGMA synchronous takes; checked because a PRAGMA cannot take a parameter.
SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")

_USER_COLUMNS = ("key", "channel", "external_id", "locale", "consent", "persona", "active", "turn",
                 "awaiting", "start_payload", "created_at", "last_seen")
_UPSERT_USER = (
    f"INSERT INTO users ({', '.join(_USER_COLUMNS)}) VALUES ({', '.join('?' * len(_USER_COLUMNS))})"
    " ON CONFLICT(key) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _USER_COLUMNS[1:])
)
_UPSERT_STATE = (
    "INSERT INTO dialogue_states (user_key, dialogue, state, cycle, pass_start, pending_level,"
    " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(user_key, dialogue) DO UPDATE SET"
    " state = excluded.state, cycle = excluded.cycle, pass_start = excluded.pass_start,"
    " pending_level = excluded.pending_level, updated_at = excluded.updated_at"
)
_INSERT_ANSWER = (
    "INSERT INTO answers (user_key, dialogue, cycle, question, level, note, at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
# The note an answer's prompt offered, written into the row of that answer.
_SET_NOTE = (
    "UPDATE answers SET note = ? WHERE user_key = ? AND dialogue = ? AND cycle = ?"
    " AND question = ? AND at = ?"
)
# Tables holding rows about a user, and the column naming them; /forget empties all of them.
USER_TABLES: dict[str, str] = {"users": "key", "dialogue_states": "user_key",
                               "answers": "user_key"}
# Queues a turn's replies inside the turn's transaction, given the chat its update came from.


def explain(exc: sqlite3.Error, path: str) -> str:
    """A message for a database error that says what to do about it."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        return (f"the database {path} is locked by another process; stop the other ccbot "
                "process (or wait for it to finish) and try again")
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return (f"{path} is not a valid ccbot database ({text}); restore it from a backup or "
                "point --db / CCBOT_DB at another file. Nothing was overwritten")
    if "readonly" in text or "unable to open" in text or "disk I/O" in text:
        return (f"cannot write the database {path} ({text}); check the folder exists and is "
                "writable, or choose another file with --db / CCBOT_DB")
    if "full" in text:
        return f"the disk holding {path} is full; free some space and try again"
    return f"database error on {path}: {text}"


def store_error(exc: sqlite3.Error, path: str) -> StoreError:
    """The StoreError for a database error; StoreUnavailable when trying again may work."""
    text = str(exc)
    passing = ("locked", "busy", "full", "disk I/O")
    kind = StoreUnavailable if any(word in text for word in passing) else StoreError
    return kind(explain(exc, path))


class SQLiteStore:
    """Store on a SQLite file; safe to call from several threads (one writer connection)."""

    def __init__(self, path: str | Path, synchronous: str = "NORMAL") -> None:
        self.path = str(path)
        if synchronous.upper() not in SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {', '.join(SYNCHRONOUS)}, "
                             f"not {synchronous!r}")
        # Set by bot.storage.reply_outbox.queue_each_turn for a channel that sends from the
        # outbox (Telegram): each turn's replies are then queued in the turn's transaction, so
        # a crash between commit and send loses no reply. None (the terminal chat): the caller
        # shows the replies.
        self.reply_outbox: TurnQueue | None = None
        self._lock = threading.RLock()
        # Every table with rows that name a user (table -> the columns that may name them), so
        # /mydata shows them all; tests/test_mydata.py fails for a table left out. Features
        # add theirs, and delete or anonymise those rows themselves on /forget.
        self.export_tables: dict[str, tuple[str, ...]] = {
            **{table: (column,) for table, column in USER_TABLES.items()},
            # Updates and replies still waiting to be handled or sent.
            "inbox": ("user_key",), "reply_outbox": ("user_key",)}
        # Features register how their ops are written, inside the turn's transaction.
        self.op_handlers: dict[type[Op], Callable[[sqlite3.Connection, Op], None]] = {}
        try:
            self._create_private(self.path)
            self.conn = sqlite3.connect(self.path, check_same_thread=False,
                                        isolation_level=None)
            self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._refuse_foreign()
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute(f"PRAGMA synchronous = {synchronous}")
            self.conn.execute("PRAGMA foreign_keys = ON")
            # Deleted rows are overwritten with zeros, not left in free pages: a /forget must
            # not leave the note in the file, whatever SQLITE_SECURE_DELETE the build chose.
            self.conn.execute("PRAGMA secure_delete = ON")
            self.conn.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT}")
            self.db = Database(self.conn, execute_plugins=False)
            migrations.apply(self.db)
        except sqlite3.Error as exc:
            raise StoreError(explain(exc, self.path)) from exc
        except OSError as exc:
            raise StoreError(f"cannot open the database {self.path}: {exc.strerror}; check the "
                             "folder exists and is writable, or use --db / CCBOT_DB") from exc

    def _refuse_foreign(self) -> None:
        """Stop before writing to a SQLite file some other program made (or a broken one)."""
        tables = {r[0] for r in self.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        ours = "_sqlite_migrations" in tables and self.conn.execute(
            "SELECT 1 FROM _sqlite_migrations WHERE migration_set = ?",
            (migrations.name,)).fetchone()
        if tables and not ours:
            # Before: the migrations added their tables and switched the file to WAL before
            # failing on a table name they share with the other program.
            shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
            raise StoreError(f"{self.path} is a SQLite database, but not a ccbot one (its "
                             f"tables: {shown}); point --db / CCBOT_DB at another file. "
                             "Nothing was changed")

    @staticmethod
    def _create_private(path: str) -> None:
        """Create the file readable by its owner only: it holds people's reflections."""
        if path == ":memory:" or os.path.exists(path):
            return
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT on the writer connection, rolled back on any error."""
        with self._lock:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise store_error(exc, self.path) from exc
            try:
                yield self.conn
                self.conn.execute("COMMIT")
            except BaseException as exc:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise store_error(exc, self.path) from exc
                raise

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        """Run a read query on the shared connection."""
        with self._lock:
            try:
                cursor = self.conn.execute(sql, params)
                cursor.row_factory = sqlite3.Row
                return cursor.fetchall()
            except sqlite3.Error as exc:
                raise store_error(exc, self.path) from exc

    # ------------------------------------------------------------------ Store port
    def load_user(self, key: UserKey) -> UserRecord | None:
        rows = self.query(f"SELECT {', '.join(_USER_COLUMNS)} FROM users WHERE key = ?",
                          (str(key),))
        if not rows:
            return None
        row = rows[0]
        positions = tuple(
            Position(r["dialogue"], r["state"], r["cycle"] or 1, r["pass_start"],
                     r["pending_level"])
            for r in self.query("SELECT dialogue, state, cycle, pass_start, pending_level FROM "
                                "dialogue_states WHERE user_key = ? ORDER BY dialogue",
                                (str(key),))
        )
        return UserRecord(
            key=key, locale=row["locale"], consent=bool(row["consent"]), persona=row["persona"],
            active=row["active"], turn=row["turn"] or 0, awaiting=row["awaiting"],
            positions=positions, created_at=row["created_at"] or 0.0,
            last_seen=row["last_seen"] or 0.0, start_payload=row["start_payload"],
        )

    def seen(self, channel: str, update_id: int) -> bool:
        return bool(self.query("SELECT 1 FROM processed_updates WHERE channel = ? AND "
                               "update_id = ?", (channel, update_id)))

    def commit(self, change: Commit) -> bool:
        with self.transaction() as conn:
            applied = self.apply(conn, change)
        if applied and change.forget:
            self.wipe_journal()
        return applied

    def wipe_journal(self) -> bool:
        """Copy the -wal into the database and empty it, so no old page keeps deleted rows.

        The WAL holds every page image written since the last checkpoint: the note a person
        just forgot among them. False (and the WAL left for the next try) while a reader
        still needs it.
        """
        with self._lock:
            try:
                busy, _, _ = self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            except sqlite3.Error as exc:
                log.warning("the -wal file of %s was not emptied after a /forget: %s",
                            self.path, explain(exc, self.path))
                return False
        if busy:
            log.warning("the -wal file of %s was not emptied after a /forget: a reader is "
                        "using it; it is emptied at the next /forget or checkpoint", self.path)
        return not busy

    def apply(self, conn: sqlite3.Connection, change: Commit) -> bool:
        """Write a change inside an open transaction; False if its update id was seen."""
        chat = None
        if change.update_id is not None:
            first, chat = mark_handled(conn, change.user.channel, change.update_id)
            if not first:
                return False
        key = str(change.user)
        if change.forget:
            for table, column in USER_TABLES.items():
                conn.execute(f"DELETE FROM {table} WHERE {column} = ?", (key,))
            # Replies still queued may quote the user's answers or carry their /mydata file.
            forget_user(conn, key)
            self._queue(conn, change, chat)
            return True
        record = change.record
        if record is not None:
            conn.execute(_UPSERT_USER, (
                key, record.key.channel, record.key.id, record.locale, int(record.consent),
                record.persona, record.active, record.turn, record.awaiting, record.start_payload,
                record.created_at, record.last_seen))
            now = record.last_seen
            conn.executemany(_UPSERT_STATE, [
                (key, p.dialogue, p.state, p.cycle, p.pass_start, p.pending_level, now)
                for p in record.positions])
        conn.executemany(_INSERT_ANSWER, [
            (str(a.user), a.dialogue, a.cycle, a.question, a.level, a.note, a.at)
            for a in change.answers])
        conn.executemany(_SET_NOTE, [
            (a.note, str(a.user), a.dialogue, a.cycle, a.question, a.at) for a in change.notes])
        for op in change.ops:
            handler = self.op_handlers.get(type(op))
            if handler is None:
                raise StoreError(f"no handler for {type(op).__name__} in SQLiteStore; "
                                 "register one in op_handlers")
            handler(conn, op)
        self._queue(conn, change, chat)
        return True

    def _queue(self, conn: sqlite3.Connection, change: Commit, chat: str | None) -> None:
        if self.reply_outbox is not None:
            self.reply_outbox(conn, change, chat)

    def queues_replies(self) -> bool:
        return self.reply_outbox is not None

    def answers(self, key: UserKey, dialogue: str | None = None) -> list[Answer]:
        sql = ("SELECT dialogue, cycle, question, level, note, at FROM answers WHERE user_key = ?"
               + (" AND dialogue = ?" if dialogue else "") + " ORDER BY at, id")
        params: tuple[Any, ...] = (str(key), dialogue) if dialogue else (str(key),)
        return [Answer(key, r["dialogue"], r["cycle"], r["question"], r["level"], r["note"],
                       r["at"]) for r in self.query(sql, params)]

    def export_user(self, key: UserKey) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for table, columns in self.export_tables.items():
            where = " OR ".join(f"{column} = ?" for column in columns)
            rows = self.query(f"SELECT * FROM {table} WHERE {where}", (str(key),) * len(columns))
            data[table] = [_plain(dict(r)) for r in rows]
        return data

    def close(self) -> None:
        with self._lock:
            self.conn.close()


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """A row as JSON can hold it: a queued chart or document is described, not embedded."""
    return {k: f"<{len(v):,} bytes>" if isinstance(v, bytes) else v for k, v in row.items()}
