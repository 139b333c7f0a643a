"""Operator figures from a database, read-only and safe while the bot runs: `ccbot stats`."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from bot.engine.ports.store import StoreError
from bot.storage.backup import read_only_uri
from bot.storage.sqlite_store import BUSY_TIMEOUT_MS, explain

DAY = 86_400.0
# A cycle counts as completed when all of the framework's 12 sub-components have an answer
# with a level in it; a quick reflection when all 4 of its questions (one per strand) have.
# Passes that reached the summary with a skipped question are not counted: the summary is not
# stored as an event, and these counts come from the answers alone.
CYCLE_STEPS = 12
REFLECTION_STEPS = 4

_COMPLETED = (
    "SELECT COUNT(*) FROM (SELECT 1 FROM answers WHERE dialogue = ? AND level IS NOT NULL"
    " GROUP BY user_key, cycle HAVING COUNT(DISTINCT question) >= ?)"
)
# Replies by status; the table is named `outbox` until schema m003 renames it at the bot's
# next start, and stats may read a database the new version has not opened yet.
_COUNT_REPLIES = {
    "reply_outbox": "SELECT COUNT(*) FROM reply_outbox WHERE status = ?",
    "outbox": "SELECT COUNT(*) FROM outbox WHERE status = ?",
}


@dataclass(frozen=True)
class Stats:
    """What an operator watches: people, progress, and what waits to be handled or sent."""

    users: int
    consented: int
    active_7_days: int
    active_30_days: int
    cycles_completed: int
    reflections_completed: int
    blocked_users: int
    inbox: int
    outbox_pending: int
    outbox_failed: int
    outbox_blocked: int
    broadcast_pending: int
    at: float


def read_stats(path: str | Path, now: float | None = None) -> Stats:
    """The figures of the database at `path`, from one consistent read snapshot."""
    path = Path(path)
    if not path.exists():
        raise StoreError(f"no database at {path}; check --db or CCBOT_DB")
    now = time.time() if now is None else now
    try:
        conn = sqlite3.connect(read_only_uri(path), uri=True, isolation_level=None)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            # One read transaction: every figure describes the same moment.
            conn.execute("BEGIN")
            tables = {r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}

            def one(table: str, sql: str, params: tuple[object, ...] = ()) -> int:
                # A table made by a later migration is missing until the bot has started once.
                return int(conn.execute(sql, params).fetchone()[0]) if table in tables else 0

            replies = "outbox" if "outbox" in tables else "reply_outbox"
            stats = Stats(
                users=one("users", "SELECT COUNT(*) FROM users"),
                consented=one("users", "SELECT COUNT(*) FROM users WHERE consent = 1"),
                active_7_days=one("users", "SELECT COUNT(*) FROM users WHERE last_seen >= ?",
                                  (now - 7 * DAY,)),
                active_30_days=one("users", "SELECT COUNT(*) FROM users WHERE last_seen >= ?",
                                   (now - 30 * DAY,)),
                cycles_completed=one("answers", _COMPLETED, ("cycle", CYCLE_STEPS)),
                reflections_completed=one("answers", _COMPLETED, ("reflect", REFLECTION_STEPS)),
                blocked_users=one("users", "SELECT COUNT(*) FROM users WHERE status = 'blocked'"),
                inbox=one("inbox", "SELECT COUNT(*) FROM inbox"),
                outbox_pending=one(replies, _COUNT_REPLIES[replies], ("pending",)),
                outbox_failed=one(replies, _COUNT_REPLIES[replies], ("failed",)),
                outbox_blocked=one(replies, _COUNT_REPLIES[replies], ("blocked",)),
                broadcast_pending=one("broadcast_outbox",
                                      "SELECT COUNT(*) FROM broadcast_outbox WHERE status IN"
                                      " ('pending', 'sending')"),
                at=now,
            )
            conn.execute("COMMIT")
            return stats
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise StoreError(explain(exc, str(path))) from exc


def stats_text(stats: Stats) -> str:
    """The figures as aligned lines for a terminal."""
    rows = [
        ("users", f"{stats.users} ({stats.consented} agreed to take part)"),
        ("active in the last 7 days", str(stats.active_7_days)),
        ("active in the last 30 days", str(stats.active_30_days)),
        ("cycles completed", f"{stats.cycles_completed} (all {CYCLE_STEPS} sub-components "
                             "answered in one cycle)"),
        ("reflections completed", f"{stats.reflections_completed} (all {REFLECTION_STEPS} "
                                  "questions answered)"),
        ("users who blocked the bot", str(stats.blocked_users)),
        ("inbox backlog", f"{stats.inbox} update(s) received, not yet handled"),
        ("reply outbox backlog", f"{stats.outbox_pending} reply(ies) not yet sent "
                                 f"({stats.outbox_failed} failed, {stats.outbox_blocked} "
                                 "held for blocked chats)"),
        ("broadcast outbox backlog", f"{stats.broadcast_pending} message(s) pending or sending"),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows) + "\n"
