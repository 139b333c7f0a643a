"""The team view's reads (latest levels, activity) and the weekly digests on SQLite."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from bot.engine.core.events import UserKey
from bot.engine.core.records import Op
from bot.engine.ports import directory_ops as ops
from bot.engine.ports.directory import parse_key
from bot.engine.ports.team_reads import AlreadyRun, Digest, TeamActivity
from bot.storage.sqlite_store import SQLiteStore

_DIGEST_COLUMNS = ("id, user_key, team_id, weekday, local_time, timezone, next_run_at, "
                   "created_at, last_run_at, last_result")


def _digest(r: sqlite3.Row) -> Digest:
    return Digest(r["id"], parse_key(r["user_key"]), r["team_id"], r["weekday"],
                  r["local_time"], r["timezone"], r["next_run_at"], r["created_at"] or 0.0,
                  r["last_run_at"], r["last_result"])


class TeamViewReads:
    """The Directory reads behind /team and the digest; SQLiteDirectory inherits them."""

    store: SQLiteStore

    def team_levels(self, team_id: int) -> list[tuple[str, str, int]]:
        # latest_levels is kept by triggers on answers (schema_teams.m003_team_view); it has
        # no note column, so no note can reach a team view from here.
        rows = self.store.query(
            "SELECT l.user_key, l.question, l.level FROM team_members m JOIN latest_levels l "
            "ON l.user_key = m.user_key WHERE m.team_id = ?", (team_id,))
        return [(r[0], r[1], r[2]) for r in rows]

    def team_activity(self, team_id: int, since: float) -> TeamActivity:
        # step_counts is kept by triggers on answers (schema_teams.m003_team_view).
        rows = self.store.query(
            "SELECT COUNT(*), COALESCE(SUM(u.last_seen >= ?), 0), COALESCE(SUM(s.steps), 0) "
            "FROM team_members m LEFT JOIN users u ON u.key = m.user_key "
            "LEFT JOIN step_counts s ON s.user_key = m.user_key WHERE m.team_id = ?",
            (since, team_id))
        return TeamActivity(rows[0][0], rows[0][1], rows[0][2])

    def digests(self, user: UserKey | None = None) -> list[Digest]:
        if user is None:
            rows = self.store.query(f"SELECT {_DIGEST_COLUMNS} FROM digests ORDER BY id")
        else:
            rows = self.store.query(f"SELECT {_DIGEST_COLUMNS} FROM digests WHERE user_key = ? "
                                    "ORDER BY id", (str(user),))
        return [_digest(r) for r in rows]

    def digests_due(self, now: float) -> list[Digest]:
        return [_digest(r) for r in self.store.query(
            f"SELECT {_DIGEST_COLUMNS} FROM digests WHERE next_run_at <= ? ORDER BY id",
            (now,))]


# ---------------------------------------------------------------------- op handlers
def _set_digest(conn: sqlite3.Connection, op: ops.SetDigest) -> None:
    conn.execute(
        "INSERT INTO digests (user_key, team_id, weekday, local_time, timezone, next_run_at, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user_key, team_id) DO UPDATE "
        "SET weekday = excluded.weekday, local_time = excluded.local_time, "
        "timezone = excluded.timezone, next_run_at = excluded.next_run_at",
        (op.user, op.team_id, op.weekday, op.local_time, op.timezone, op.next_run_at, op.at))


def _stop_digest(conn: sqlite3.Connection, op: ops.StopDigest) -> None:
    if op.team_id is None:
        conn.execute("DELETE FROM digests WHERE user_key = ?", (op.user,))
    else:
        conn.execute("DELETE FROM digests WHERE user_key = ? AND team_id = ?",
                     (op.user, op.team_id))


def _run_digest(conn: sqlite3.Connection, op: ops.RunDigest) -> None:
    cursor = conn.execute(
        "UPDATE digests SET next_run_at = ?, last_run_at = ?, last_result = ? "
        "WHERE id = ? AND next_run_at = ?",
        (op.next_run_at, op.at, op.result, op.digest_id, op.expected_next_run))
    if cursor.rowcount != 1:
        raise AlreadyRun(f"digest {op.digest_id} was run or changed by someone else")


HANDLERS: dict[type[Op], Callable[[sqlite3.Connection, Any], None]] = {
    ops.SetDigest: _set_digest,
    ops.StopDigest: _stop_digest,
    ops.RunDigest: _run_digest,
}
