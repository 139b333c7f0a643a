"""Rounds, their fixed answers and the release ledger on SQLite (schema_teams.m004_releases)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any

from bot.engine.core.records import Op
from bot.engine.ports.releases import (
    CloseRound,
    OpenRound,
    RecordRelease,
    ReleaseConflict,
    Released,
    Round,
    RoundAnswer,
)
from bot.engine.release.audit import first_refused
from bot.storage.sqlite_store import SQLiteStore

RELEASED_MEANWHILE = ("figures were released to the same viewer meanwhile; the turn is "
                      "decided again")

_ROUND_COLUMNS = "id, team_id, number, opened_at, closes_at, closed_at, closed_by"


def _round(r: sqlite3.Row) -> Round:
    return Round(r["id"], r["team_id"], r["number"], r["opened_at"], r["closes_at"],
                 r["closed_at"], r["closed_by"])


class ReleaseReads:
    """The release port's reads; SQLiteDirectory inherits them."""

    store: SQLiteStore

    def rounds(self, team_id: int) -> list[Round]:
        return [_round(r) for r in self.store.query(
            f"SELECT {_ROUND_COLUMNS} FROM rounds WHERE team_id = ? ORDER BY number",
            (team_id,))]

    def round_answers(self, round_id: int) -> list[RoundAnswer]:
        return [RoundAnswer(r[0], r[1], r[2]) for r in self.store.query(
            "SELECT user_key, question, level FROM round_answers WHERE round_id = ? "
            "ORDER BY user_key, question", (round_id,))]

    def round_levels(self, team_id: int, start: float, end: float) -> list[RoundAnswer]:
        # The latest answer wins (of two at the same instant, the one stored last).
        rows = self.store.query(
            "SELECT user_key, question, level FROM (SELECT a.user_key, a.question, a.level, "
            "ROW_NUMBER() OVER (PARTITION BY a.user_key, a.question ORDER BY a.at DESC, "
            "a.id DESC) AS n FROM team_members m JOIN answers a ON a.user_key = m.user_key "
            "WHERE m.team_id = ? AND a.dialogue = 'cycle' AND a.level IS NOT NULL "
            "AND a.at >= MAX(?, m.joined_at) AND a.at < ?) WHERE n = 1 "
            "ORDER BY user_key, question", (team_id, start, end))
        return [RoundAnswer(r[0], r[1], r[2]) for r in rows]

    def released(self, viewer: str) -> list[Released]:
        # Equal sets become one object (keyed by their stored text), as the audit expects.
        sets: dict[str, frozenset[str]] = {}
        found = []
        for r in self.store.query("SELECT viewer, quantity, source, people, at "
                                  "FROM release_ledger WHERE viewer = ? ORDER BY id", (viewer,)):
            people = sets.get(r[3])
            if people is None:
                people = sets[r[3]] = frozenset(json.loads(r[3]))
            found.append(Released(r[0], r[1], r[2], people, r[4]))
        return found

    def broadcast_levels(self, broadcast_id: int) -> list[RoundAnswer]:
        return [RoundAnswer(r[0], "", r[1]) for r in self.store.query(
            "SELECT user_key, level FROM broadcast_answers WHERE broadcast_id = ? "
            "AND level IS NOT NULL ORDER BY user_key", (broadcast_id,))]


# ---------------------------------------------------------------------- op handlers
def _open_round(conn: sqlite3.Connection, op: OpenRound) -> None:
    # The unique (team_id, number) index makes a second opening of the same round a no-op.
    conn.execute("INSERT OR IGNORE INTO rounds (team_id, number, opened_at, closes_at) "
                 "VALUES (?, ?, ?, ?)", (op.team_id, op.number, op.opened_at, op.closes_at))


def _close_round(conn: sqlite3.Connection, op: CloseRound) -> None:
    found = conn.execute("SELECT id FROM rounds WHERE team_id = ? AND number = ? "
                         "AND closed_at IS NULL", (op.team_id, op.number)).fetchone()
    if found is None:
        return  # closing twice changes nothing
    conn.execute("UPDATE rounds SET closed_at = ?, closed_by = ? WHERE id = ?",
                 (op.closed_at, op.closed_by, found[0]))
    conn.executemany("INSERT INTO round_answers (round_id, user_key, question, level) "
                     "VALUES (?, ?, ?, ?)",
                     [(found[0], a.person, a.question, a.level) for a in op.answers])


def _ledger_now(conn: sqlite3.Connection,
                viewer: str) -> Callable[[str], list[frozenset[str]]]:
    """The viewer's recorded sets per quantity, read once, each distinct set parsed once."""
    sets: dict[str, frozenset[str]] = {}
    by_quantity: dict[str, list[frozenset[str]]] = {}
    for quantity, people in conn.execute("SELECT quantity, people FROM release_ledger "
                                         "WHERE viewer = ? ORDER BY id", (viewer,)):
        found = sets.get(people)
        if found is None:
            found = sets[people] = frozenset(json.loads(people))
        by_quantity.setdefault(quantity, []).append(found)
    return lambda quantity: by_quantity.get(quantity, [])


def _record_release(conn: sqlite3.Connection, op: RecordRelease) -> None:
    # Inside the commit's write transaction: what another process (the chat, the dashboard)
    # released to this viewer since the turn read the ledger counts too.
    for viewer in {r.viewer for r in op.rows} if op.minimum is not None else ():
        rows = [(r.quantity, r.people) for r in op.rows if r.viewer == viewer]
        if first_refused(rows, _ledger_now(conn, viewer), op.minimum or 0) is not None:
            raise ReleaseConflict(RELEASED_MEANWHILE)
    conn.executemany("INSERT INTO release_ledger (viewer, quantity, source, people, at) "
                     "VALUES (?, ?, ?, ?, ?)",
                     [(r.viewer, r.quantity, r.source, json.dumps(sorted(r.people)), r.at)
                      for r in op.rows])


HANDLERS: dict[type[Op], Callable[[sqlite3.Connection, Any], None]] = {
    OpenRound: _open_round,
    CloseRound: _close_round,
    RecordRelease: _record_release,
}
