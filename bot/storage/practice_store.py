"""The practice port on SQLite: the `commitments` table, its migration set and its op handlers."""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlite_utils import Database
from sqlite_utils.db import Table
from sqlite_utils.migrations import Migrations

from bot.engine.core.records import Op
from bot.engine.ports.practice import (
    TRIED,
    AlreadyClaimed,
    AnswerFollowUp,
    ClaimFollowUp,
    Commitment,
    MakeCommitment,
    NoteFollowUp,
)
from bot.engine.ports.store import StoreError
from bot.storage.sqlite_store import SQLiteStore, explain

# Its own migration set (applied after the core one), so its numbering never collides with
# another feature's.
migrations = Migrations("ccbot-practice")

_COLUMNS = ("id, user_key, question, strand, level, persona, made_at, due_at, status, asked,"
            " answered_at, note, broadcast_id")


@migrations()
def m001_commitments(db: Database) -> None:
    """Commitments and their follow-ups; /forget deletes them with the user (a trigger)."""
    table = db["commitments"]
    assert isinstance(table, Table)
    table.create(
        {"id": int, "user_key": str, "question": str, "strand": str, "level": int,
         "persona": str, "made_at": float, "due_at": float, "status": str, "asked": int,
         "answered_at": float, "note": str, "broadcast_id": int},
        pk="id", not_null={"user_key", "question", "strand", "made_at", "status"},
        defaults={"status": "open", "asked": 0})
    # Finding what is due reads this index from its start, never the whole table
    # (benchmarks/practice.py); a partial index holds only the rows still to ask.
    db.execute("CREATE INDEX commitments_due ON commitments (due_at) WHERE due_at IS NOT NULL")
    table.create_index(["user_key", "made_at"])
    db.execute("""CREATE TRIGGER forget_user_practice AFTER DELETE ON users
        BEGIN DELETE FROM commitments WHERE user_key = OLD.key; END""")


def _commitment(row: sqlite3.Row | tuple[Any, ...]) -> Commitment:
    return Commitment(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8],
                      row[9], row[10], row[11], row[12])


class SQLitePractice:
    """Commitments in the bot's database; reads here, writes as ops in a turn's transaction."""

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store

    def _rows(self, sql: str, params: tuple[Any, ...]) -> list[Commitment]:
        return [_commitment(tuple(r)) for r in self.store.query(sql, params)]

    def commitments(self, user: str) -> list[Commitment]:
        return self._rows(f"SELECT {_COLUMNS} FROM commitments WHERE user_key = ?"
                          " ORDER BY made_at DESC, id DESC", (user,))

    def commitment(self, commitment_id: int) -> Commitment | None:
        found = self._rows(f"SELECT {_COLUMNS} FROM commitments WHERE id = ?",
                           (commitment_id,))
        return found[0] if found else None

    def due_followups(self, now: float, limit: int) -> list[Commitment]:
        # Blocked users are left out here; their follow-up waits until they write again.
        return self._rows(
            f"SELECT {_COLUMNS} FROM commitments c INDEXED BY commitments_due"
            " WHERE due_at IS NOT NULL AND due_at <= ? AND NOT EXISTS (SELECT 1 FROM users u"
            " WHERE u.key = c.user_key AND u.status = 'blocked') ORDER BY due_at, id LIMIT ?",
            (now, limit))

    def tried_by_strand(self, user: str) -> dict[str, int]:
        marks = ", ".join("?" * len(TRIED))
        rows = self.store.query(f"SELECT strand, count(*) FROM commitments WHERE user_key = ?"
                                f" AND status IN ({marks}) GROUP BY strand", (user, *TRIED))
        return {r[0]: r[1] for r in rows}

    def broadcast_outcomes(self, broadcast_id: int) -> dict[str, str]:
        rows = self.store.query("SELECT user_key, status FROM commitments WHERE broadcast_id = ?"
                                " AND status != 'open' AND (status != 'not_yet' OR due_at IS"
                                " NULL)", (broadcast_id,))
        return {r[0]: r[1] for r in rows}

    def tried_by(self, users: list[str], since: float, until: float) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        wanted = set(users)
        marks = ", ".join("?" * len(TRIED))
        rows = self.store.query(f"SELECT strand, user_key FROM commitments WHERE status IN"
                                f" ({marks}) AND answered_at >= ? AND answered_at < ?",
                                (*TRIED, since, until))
        for strand, user in rows:
            if user in wanted:
                found.setdefault(strand, set()).add(user)
        return found


def _make(conn: sqlite3.Connection, op: Op) -> None:
    assert isinstance(op, MakeCommitment)
    conn.execute("INSERT INTO commitments (user_key, question, strand, level, persona, made_at,"
                 " due_at, broadcast_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 (op.user, op.question, op.strand, op.level, op.persona, op.made_at, op.due_at,
                  op.broadcast_id))


def _claim(conn: sqlite3.Connection, op: Op) -> None:
    assert isinstance(op, ClaimFollowUp)
    done = conn.execute("UPDATE commitments SET due_at = NULL, asked = asked + 1"
                        " WHERE id = ? AND due_at = ?", (op.id, op.due_at)).rowcount
    if not done:
        raise AlreadyClaimed(op.id)  # rolls the whole commit back, replies included


def _answer(conn: sqlite3.Connection, op: Op) -> None:
    assert isinstance(op, AnswerFollowUp)
    conn.execute("UPDATE commitments SET status = ?, answered_at = ?, due_at = ?"
                 " WHERE id = ? AND user_key = ?", (op.status, op.at, op.due_at, op.id, op.user))


def _note(conn: sqlite3.Connection, op: Op) -> None:
    assert isinstance(op, NoteFollowUp)
    conn.execute("UPDATE commitments SET note = ? WHERE id = ? AND user_key = ?",
                 (op.note, op.id, op.user))


HANDLERS = {MakeCommitment: _make, ClaimFollowUp: _claim, AnswerFollowUp: _answer,
            NoteFollowUp: _note}


def install_practice(store: SQLiteStore) -> SQLitePractice:
    """Apply the practice migrations, register its ops and its /mydata table."""
    try:
        migrations.apply(store.db)
    except sqlite3.Error as exc:
        raise StoreError(explain(exc, store.path)) from exc
    store.op_handlers.update(HANDLERS)
    store.export_tables["commitments"] = ("user_key",)
    return SQLitePractice(store)
