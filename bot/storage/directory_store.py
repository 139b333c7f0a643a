"""The directory and broadcast outbox on SQLite: reads and the sender's calls."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from bot.engine.core.events import UserKey
from bot.engine.ports.broadcasts import (
    BLOCKED,
    BLOCKED_EARLIER,
    FAILED,
    PENDING,
    SENDING,
    SENT,
    Broadcast,
    BroadcastAnswer,
    Delivery,
    Progress,
    Recipient,
    Report,
    ResponseRow,
)
from bot.engine.ports.directory import EVERYONE, parse_key, split_audience
from bot.engine.ports.schedules import Schedule
from bot.engine.ports.store import StoreError
from bot.engine.ports.teams import Cohort, Invite, Member, Team
from bot.storage import release_store, schema_teams, team_view_store
from bot.storage.blocked_chats import block_user, unblock_user
from bot.storage.directory_writes import FINISH_BROADCAST, HANDLERS
from bot.storage.pseudonym_keys import SQLitePseudonymKeys, load_key
from bot.storage.release_store import ReleaseReads
from bot.storage.sqlite_store import SQLiteStore, explain
from bot.storage.team_view_store import TeamViewReads

_BROADCAST_COLUMNS = ("id, created_by, audience, audience_label, kind, question, body, "
                      "created_at, status, schedule_id, progress_chat_id, progress_message_id, "
                      "in_flight_at_restart, finished_at")
_DELIVERY_COLUMNS = ("o.id, o.broadcast_id, o.user_key, o.channel, o.chat_id, o.status, "
                     "o.attempts, o.last_error, o.next_attempt_at, o.sent_at, o.message_id, "
                     "COALESCE(u.locale, 'en') AS locale, o.resent_after_restart")
_SCHEDULE_COLUMNS = ("id, created_by, frequency, weekday, local_time, timezone, audience, "
                     "audience_label, kind, question, body, next_run_at, created_at, status, "
                     "cycle_index, last_run_at, last_result")
_INVITE_COLUMNS = ("code, kind, team_id, role, created_at, max_uses, uses, expires_at, "
                   "revoked_at, created_by")


def _broadcast(r: sqlite3.Row) -> Broadcast:
    return Broadcast(r["id"], r["created_by"], r["audience"], r["audience_label"] or "",
                     r["kind"], r["question"], r["body"], r["created_at"], r["status"],
                     r["schedule_id"], r["progress_chat_id"], r["progress_message_id"],
                     r["in_flight_at_restart"] or 0, r["finished_at"])


def _delivery(r: sqlite3.Row) -> Delivery:
    return Delivery(r["id"], r["broadcast_id"], parse_key(r["user_key"]), r["channel"],
                    r["chat_id"], r["status"], r["attempts"], r["last_error"],
                    r["next_attempt_at"] or 0.0, r["sent_at"], r["message_id"], r["locale"],
                    bool(r["resent_after_restart"]))


def _schedule(r: sqlite3.Row) -> Schedule:
    return Schedule(r["id"], r["created_by"], r["frequency"], r["weekday"], r["local_time"],
                    r["timezone"], r["audience"], r["audience_label"] or "", r["kind"],
                    r["question"], r["body"], r["next_run_at"], r["created_at"], r["status"],
                    r["cycle_index"] or 0, r["last_run_at"], r["last_result"])


def _invite(r: sqlite3.Row) -> Invite:
    return Invite(r["code"], r["kind"], r["team_id"], r["role"], r["created_at"],
                  r["max_uses"], r["uses"], r["expires_at"], r["revoked_at"], r["created_by"])


def _rows(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
    cursor = conn.execute(sql, params)
    cursor.row_factory = sqlite3.Row
    return cursor.fetchall()


class SQLiteDirectory(TeamViewReads, SQLitePseudonymKeys, ReleaseReads):
    """Directory and BroadcastOutbox on the SQLiteStore's connection (see TeamViewReads)."""

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store

    def _q(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        return self.store.query(sql, params)

    # ------------------------------------------------------------------ reads
    def setting(self, name: str) -> str | None:
        rows = self._q("SELECT value FROM app_settings WHERE name = ?", (name,))
        return rows[0]["value"] if rows else None

    def granted_roles(self, user: UserKey) -> frozenset[str]:
        return frozenset(r["role"] for r in self._q(
            "SELECT role FROM role_grants WHERE user_key = ?", (str(user),)))

    def grants(self) -> list[tuple[str, str, float]]:
        return [(r["user_key"], r["role"], r["granted_at"]) for r in self._q(
            "SELECT user_key, role, granted_at FROM role_grants ORDER BY user_key, role")]

    def teams(self) -> list[Team]:
        return [Team(r["id"], r["name"], r["created_at"])
                for r in self._q("SELECT id, name, created_at FROM teams ORDER BY name_key")]

    def team(self, team_id: int) -> Team | None:
        rows = self._q("SELECT id, name, created_at FROM teams WHERE id = ?", (team_id,))
        return Team(rows[0]["id"], rows[0]["name"], rows[0]["created_at"]) if rows else None

    def team_named(self, name: str) -> Team | None:
        rows = self._q("SELECT id, name, created_at FROM teams WHERE name_key = ?",
                       (name.casefold(),))
        return Team(rows[0]["id"], rows[0]["name"], rows[0]["created_at"]) if rows else None

    def memberships(self, user: UserKey) -> list[Member]:
        return [Member(r["team_id"], user, r["role"], r["joined_at"]) for r in self._q(
            "SELECT team_id, role, joined_at FROM team_members WHERE user_key = ? "
            "ORDER BY team_id", (str(user),))]

    def members(self, team_id: int) -> list[Member]:
        return [Member(team_id, parse_key(r["user_key"]), r["role"], r["joined_at"])
                for r in self._q("SELECT user_key, role, joined_at FROM team_members WHERE "
                                 "team_id = ? ORDER BY joined_at, user_key", (team_id,))]

    def invite(self, code: str) -> Invite | None:
        rows = self._q(f"SELECT {_INVITE_COLUMNS} FROM invites WHERE code = ?", (code,))
        return _invite(rows[0]) if rows else None

    def invites(self, team_id: int) -> list[Invite]:
        return [_invite(r) for r in self._q(
            f"SELECT {_INVITE_COLUMNS} FROM invites WHERE team_id = ? "
            "ORDER BY created_at DESC, code DESC", (team_id,))]

    def role_links(self) -> list[Invite]:
        return [_invite(r) for r in self._q(
            f"SELECT {_INVITE_COLUMNS} FROM invites WHERE kind = 'role' "
            "ORDER BY created_at DESC, code DESC")]

    def _cohort_teams(self, cohort_id: int) -> tuple[int, ...]:
        return tuple(r["team_id"] for r in self._q(
            "SELECT team_id FROM cohort_teams WHERE cohort_id = ? ORDER BY team_id",
            (cohort_id,)))

    def cohorts(self) -> list[Cohort]:
        return [Cohort(r["id"], r["name"], self._cohort_teams(r["id"]))
                for r in self._q("SELECT id, name FROM cohorts ORDER BY name_key")]

    def cohort(self, cohort_id: int) -> Cohort | None:
        rows = self._q("SELECT id, name FROM cohorts WHERE id = ?", (cohort_id,))
        return Cohort(rows[0]["id"], rows[0]["name"], self._cohort_teams(cohort_id)) \
            if rows else None

    def cohort_named(self, name: str) -> Cohort | None:
        rows = self._q("SELECT id FROM cohorts WHERE name_key = ?", (name.casefold(),))
        return self.cohort(rows[0]["id"]) if rows else None

    def recipients(self, audience: str, channels: Iterable[str]) -> list[Recipient]:
        wanted = tuple(channels)
        if not wanted:
            return []
        kind, ident = split_audience(audience)
        marks = ", ".join("?" * len(wanted))
        # Not blocked, as the registry keeps it (bot/storage/blocked_chats.py).
        where = (f"u.consent = 1 AND COALESCE(u.status, 'active') != 'blocked' "
                 f"AND u.channel IN ({marks})")
        if kind == EVERYONE:
            sql = f"SELECT u.key, u.external_id, u.locale FROM users u WHERE {where}"
            params: tuple[Any, ...] = wanted
        elif kind == "team":
            sql = ("SELECT u.key, u.external_id, u.locale FROM users u WHERE u.key IN "
                   f"(SELECT user_key FROM team_members WHERE team_id = ?) AND {where}")
            params = (ident, *wanted)
        elif kind == "cohort":
            sql = ("SELECT u.key, u.external_id, u.locale FROM users u WHERE u.key IN "
                   "(SELECT m.user_key FROM team_members m JOIN cohort_teams c "
                   f"ON c.team_id = m.team_id WHERE c.cohort_id = ?) AND {where}")
            params = (ident, *wanted)
        else:
            return []
        return [Recipient(parse_key(r["key"]), r["external_id"], r["locale"])
                for r in self._q(sql + " ORDER BY u.key", params)]

    def broadcast(self, broadcast_id: int) -> Broadcast | None:
        rows = self._q(f"SELECT {_BROADCAST_COLUMNS} FROM broadcasts WHERE id = ?",
                       (broadcast_id,))
        return _broadcast(rows[0]) if rows else None

    def broadcasts(self, limit: int, created_by: str | None = None) -> list[Broadcast]:
        if created_by is None:
            rows = self._q(f"SELECT {_BROADCAST_COLUMNS} FROM broadcasts ORDER BY id DESC "
                           "LIMIT ?", (limit,))
        else:
            rows = self._q(f"SELECT {_BROADCAST_COLUMNS} FROM broadcasts WHERE created_by = ? "
                           "ORDER BY id DESC LIMIT ?", (created_by, limit))
        return [_broadcast(r) for r in rows]

    def delivery_of(self, broadcast_id: int, user: UserKey) -> Delivery | None:
        rows = self._q(f"SELECT {_DELIVERY_COLUMNS} FROM broadcast_outbox o LEFT JOIN users u "
                       "ON u.key = o.user_key WHERE o.broadcast_id = ? AND o.user_key = ?",
                       (broadcast_id, str(user)))
        return _delivery(rows[0]) if rows else None

    def answer_of(self, broadcast_id: int, user: UserKey) -> BroadcastAnswer | None:
        rows = self._q("SELECT level, note, answered_at, noted_at FROM broadcast_answers "
                       "WHERE broadcast_id = ? AND user_key = ?", (broadcast_id, str(user)))
        if not rows:
            return None
        r = rows[0]
        return BroadcastAnswer(broadcast_id, user, r["level"], r["note"],
                               r["answered_at"] if r["answered_at"] is not None
                               else r["noted_at"])

    def report(self, broadcast_id: int) -> Report | None:
        broadcast = self.broadcast(broadcast_id)
        if broadcast is None:
            return None
        failures = tuple((r["reason"], r["n"]) for r in self._q(
            "SELECT COALESCE(last_error, 'unknown') AS reason, COUNT(*) AS n FROM "
            "broadcast_outbox WHERE broadcast_id = ? AND status = 'failed' GROUP BY reason "
            "ORDER BY n DESC, reason", (broadcast_id,)))
        distribution = tuple((r["level"], r["n"]) for r in self._q(
            "SELECT level, COUNT(*) AS n FROM broadcast_answers WHERE broadcast_id = ? AND "
            "level IS NOT NULL GROUP BY level ORDER BY level", (broadcast_id,)))
        notes = self._q("SELECT COUNT(*) AS n FROM broadcast_answers WHERE broadcast_id = ? "
                        "AND note IS NOT NULL AND note != ''", (broadcast_id,))[0]["n"]
        return Report(broadcast, self.progress(broadcast_id), failures,
                      answered=sum(n for _, n in distribution), distribution=distribution,
                      notes=notes)

    def schedules(self, active_only: bool = True) -> list[Schedule]:
        where = " WHERE status = 'active'" if active_only else ""
        return [_schedule(r) for r in self._q(
            f"SELECT {_SCHEDULE_COLUMNS} FROM schedules{where} ORDER BY id")]

    def schedule(self, schedule_id: int) -> Schedule | None:
        rows = self._q(f"SELECT {_SCHEDULE_COLUMNS} FROM schedules WHERE id = ?",
                       (schedule_id,))
        return _schedule(rows[0]) if rows else None

    def due_schedules(self, now: float) -> list[Schedule]:
        return [_schedule(r) for r in self._q(
            f"SELECT {_SCHEDULE_COLUMNS} FROM schedules WHERE status = 'active' AND "
            "next_run_at <= ? ORDER BY id", (now,))]

    def responses(self) -> list[ResponseRow]:
        teams: dict[str, list[str]] = {}
        for r in self._q("SELECT m.user_key, t.name FROM team_members m JOIN teams t "
                         "ON t.id = m.team_id ORDER BY t.name"):
            teams.setdefault(r["user_key"], []).append(r["name"])
        rows = self._q(
            "SELECT a.broadcast_id, b.created_at, b.audience_label, b.kind, b.question, "
            "a.user_key, a.level, a.note, COALESCE(a.answered_at, a.noted_at) AS at "
            "FROM broadcast_answers a JOIN broadcasts b ON b.id = a.broadcast_id "
            "ORDER BY a.broadcast_id, at, a.user_key")
        return [ResponseRow(r["broadcast_id"], r["created_at"], r["audience_label"] or "",
                            r["kind"], r["question"], parse_key(r["user_key"]), r["level"],
                            r["note"], r["at"], tuple(sorted(teams.get(r["user_key"], []))))
                for r in rows]

    # ------------------------------------------------------------------ outbox
    def claim_due(self, channel: str, now: float, limit: int) -> list[Delivery]:
        with self.store.transaction() as conn:
            rows = _rows(conn,
                         f"SELECT {_DELIVERY_COLUMNS}, u.status AS user_status "
                         "FROM broadcast_outbox o JOIN broadcasts b ON b.id = o.broadcast_id "
                         "LEFT JOIN users u ON u.key = o.user_key WHERE o.status = 'pending' "
                         "AND o.channel = ? AND o.next_attempt_at <= ? AND b.status = 'sending' "
                         "ORDER BY o.next_attempt_at, o.id LIMIT ?", (channel, now, limit * 2))
            claimed: list[Delivery] = []
            chats: set[str] = set()
            for r in rows:
                if len(claimed) >= limit:
                    break
                if r["user_status"] == BLOCKED:
                    conn.execute("UPDATE broadcast_outbox SET status = 'blocked', last_error = ? "
                                 "WHERE id = ?", (BLOCKED_EARLIER, r["id"]))
                    conn.execute(FINISH_BROADCAST, (now, r["broadcast_id"], r["broadcast_id"]))
                    continue
                if r["chat_id"] in chats:
                    continue
                chats.add(r["chat_id"])
                conn.execute("UPDATE broadcast_outbox SET status = 'sending', attempts = "
                             "attempts + 1, claimed_at = ? WHERE id = ?", (now, r["id"]))
                row = _delivery(r)
                claimed.append(Delivery(row.id, row.broadcast_id, row.user, row.channel,
                                        row.chat_id, SENDING, row.attempts + 1, row.last_error,
                                        row.next_attempt_at, row.sent_at, row.message_id,
                                        row.locale, row.resent_after_restart))
            return claimed

    def _mark(self, conn: sqlite3.Connection, delivery_id: int, at: float, sets: str,
              params: tuple[Any, ...]) -> int | None:
        """Update a 'sending' row; its broadcast id, or None if it was not 'sending'."""
        rows = _rows(conn, "SELECT broadcast_id FROM broadcast_outbox WHERE id = ? AND "
                     "status = 'sending'", (delivery_id,))
        if not rows:
            return None
        conn.execute(f"UPDATE broadcast_outbox SET {sets} WHERE id = ?", (*params, delivery_id))
        bid: int = rows[0]["broadcast_id"]
        conn.execute(FINISH_BROADCAST, (at, bid, bid))
        return bid

    def mark_sent(self, delivery_id: int, message_id: int | None, at: float) -> bool:
        with self.store.transaction() as conn:
            return self._mark(conn, delivery_id, at, "status = 'sent', sent_at = ?, "
                              "message_id = ?, last_error = NULL", (at, message_id)) is not None

    def mark_retry(self, delivery_id: int, error: str, next_attempt_at: float) -> bool:
        with self.store.transaction() as conn:
            return self._mark(conn, delivery_id, next_attempt_at, "status = 'pending', "
                              "last_error = ?, next_attempt_at = ?",
                              (error, next_attempt_at)) is not None

    def mark_failed(self, delivery_id: int, error: str, at: float) -> bool:
        with self.store.transaction() as conn:
            return self._mark(conn, delivery_id, at, "status = 'failed', last_error = ?",
                              (error,)) is not None

    def mark_blocked(self, delivery_id: int, error: str, at: float) -> bool:
        with self.store.transaction() as conn:
            rows = _rows(conn, "SELECT user_key FROM broadcast_outbox WHERE id = ?",
                         (delivery_id,))
            if not rows or self._mark(conn, delivery_id, at, "status = 'blocked', "
                                      "last_error = ?", (error,)) is None:
                return False
            user = rows[0]["user_key"]
            block_user(conn, user)
            others = _rows(conn, "SELECT DISTINCT broadcast_id FROM broadcast_outbox WHERE "
                           "user_key = ? AND status = 'pending'", (user,))
            conn.execute("UPDATE broadcast_outbox SET status = 'blocked', last_error = ? "
                         "WHERE user_key = ? AND status = 'pending'", (BLOCKED_EARLIER, user))
            for r in others:
                conn.execute(FINISH_BROADCAST, (at, r["broadcast_id"], r["broadcast_id"]))
            return True

    def unblock(self, user: UserKey) -> None:
        with self.store.transaction() as conn:
            unblock_user(conn, str(user))

    def progress(self, broadcast_id: int) -> Progress:
        counts = {r["status"]: r["n"] for r in self._q(
            "SELECT status, COUNT(*) AS n FROM broadcast_outbox WHERE broadcast_id = ? "
            "GROUP BY status", (broadcast_id,))}
        return Progress(sum(counts.values()), counts.get(SENT, 0), counts.get(FAILED, 0),
                        counts.get(BLOCKED, 0), counts.get(PENDING, 0), counts.get(SENDING, 0))

    def recover_in_flight(self, now: float) -> dict[int, int]:
        with self.store.transaction() as conn:
            found = {r["broadcast_id"]: r["n"] for r in _rows(
                conn, "SELECT broadcast_id, COUNT(*) AS n FROM broadcast_outbox WHERE "
                "status = 'sending' GROUP BY broadcast_id")}
            conn.execute("UPDATE broadcast_outbox SET status = 'pending', next_attempt_at = ?, "
                         "resent_after_restart = 1 WHERE status = 'sending'", (now,))
            conn.executemany("UPDATE broadcasts SET in_flight_at_restart = "
                             "in_flight_at_restart + ? WHERE id = ?",
                             [(n, bid) for bid, n in found.items()])
            return found

    def set_progress_message(self, broadcast_id: int, message_id: int) -> None:
        with self.store.transaction() as conn:
            conn.execute("UPDATE broadcasts SET progress_message_id = ? WHERE id = ?",
                         (message_id, broadcast_id))

    def unfinished(self) -> list[Broadcast]:
        return [_broadcast(r) for r in self._q(
            f"SELECT {_BROADCAST_COLUMNS} FROM broadcasts WHERE status = 'sending' ORDER BY id")]


# ---------------------------------------------------------------------- op handlers
# Rows naming a user that /mydata must show: about them (the forget trigger in schema_teams
# deletes those) and made by them (it removes their name from those).
EXPORT_TABLES: dict[str, tuple[str, ...]] = {
    "role_grants": ("user_key", "granted_by"), "team_members": ("user_key",),
    "broadcast_answers": ("user_key",), "broadcast_outbox": ("user_key",),
    "digests": ("user_key",), "latest_levels": ("user_key",), "step_counts": ("user_key",),
    "teams": ("created_by",), "cohorts": ("created_by",), "invites": ("created_by",),
    "broadcasts": ("created_by",), "schedules": ("created_by",),
    "pseudonym_salts": ("user_key",), "round_answers": ("user_key",),
    "release_ledger": ("viewer",)}


def install(store: SQLiteStore) -> SQLiteDirectory:
    """Apply the coordinator migrations and register the ops; returns the directory."""
    try:
        schema_teams.migrations.apply(store.db)
    except sqlite3.Error as exc:
        raise StoreError(explain(exc, store.path)) from exc
    store.op_handlers.update(HANDLERS)
    store.op_handlers.update(team_view_store.HANDLERS)
    store.op_handlers.update(release_store.HANDLERS)
    store.export_tables.update(EXPORT_TABLES)
    directory = SQLiteDirectory(store)
    # Loaded (made, or moved out of the database) once here, so no turn races to create it.
    directory._pseudonym_key = load_key(store)
    return directory
