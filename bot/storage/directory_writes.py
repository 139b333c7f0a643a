"""The coordinator ops' SQL: each op a turn or the CLI commits, applied in that transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from typing import Any

from bot.engine.core.records import Op
from bot.engine.ports import directory_ops as ops
from bot.engine.ports.broadcasts import NewBroadcast, Recipient

# Finishes a broadcast once no copy is waiting; run after every outcome.
FINISH_BROADCAST = ("UPDATE broadcasts SET status = 'done', finished_at = ? WHERE id = ? AND "
                    "status = 'sending' AND NOT EXISTS (SELECT 1 FROM broadcast_outbox WHERE "
                    "broadcast_id = ? AND status IN ('pending', 'sending'))")


def _set_setting(conn: sqlite3.Connection, op: ops.SetSetting) -> None:
    verb = "INSERT OR IGNORE" if op.keep else "INSERT OR REPLACE"
    conn.execute(f"{verb} INTO app_settings (name, value) VALUES (?, ?)", (op.name, op.value))


def _grant(conn: sqlite3.Connection, op: ops.GrantRole) -> None:
    conn.execute("INSERT OR IGNORE INTO role_grants (user_key, role, granted_by, granted_at) "
                 "VALUES (?, ?, ?, ?)", (op.user, op.role, op.by, op.at))


def _revoke(conn: sqlite3.Connection, op: ops.RevokeRole) -> None:
    conn.execute("DELETE FROM role_grants WHERE user_key = ? AND role = ?", (op.user, op.role))
    # A demoted person's role links go with the role.
    conn.execute("UPDATE invites SET revoked_at = (julianday('now') - 2440587.5) * 86400.0 "
                 "WHERE kind = 'role' AND created_by = ? AND revoked_at IS NULL", (op.user,))


def _insert_invite(conn: sqlite3.Connection, i: ops.NewInvite, team_id: int | None) -> None:
    conn.execute("INSERT INTO invites (code, kind, team_id, role, created_by, created_at, "
                 "max_uses, uses, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)",
                 (i.code, i.kind, team_id, i.role, i.by, i.at, i.max_uses, i.expires_at))


def _create_team(conn: sqlite3.Connection, op: ops.CreateTeam) -> None:
    cursor = conn.execute("INSERT INTO teams (name, name_key, created_by, created_at) "
                          "VALUES (?, ?, ?, ?)", (op.name, op.name.casefold(), op.by, op.at))
    _insert_invite(conn, op.invite, cursor.lastrowid)


def _create_invite(conn: sqlite3.Connection, op: ops.CreateInvite) -> None:
    _insert_invite(conn, op.invite, op.invite.team_id)


def _revoke_invites(conn: sqlite3.Connection, op: ops.RevokeInvites) -> None:
    if op.code is not None:
        conn.execute("UPDATE invites SET revoked_at = ? WHERE code = ? AND revoked_at IS NULL",
                     (op.at, op.code))
    if op.team_id is not None:
        conn.execute("UPDATE invites SET revoked_at = ? WHERE team_id = ? AND "
                     "revoked_at IS NULL", (op.at, op.team_id))


def _consume(conn: sqlite3.Connection, op: ops.ConsumeInvite) -> None:
    conn.execute("UPDATE invites SET uses = uses + 1 WHERE code = ?", (op.code,))


def _join(conn: sqlite3.Connection, op: ops.JoinTeam) -> None:
    conn.execute("INSERT OR IGNORE INTO team_members (team_id, user_key, role, joined_at) "
                 "VALUES (?, ?, ?, ?)", (op.team_id, op.user, op.role, op.at))
    if op.role == "manager":
        conn.execute("UPDATE team_members SET role = 'manager' WHERE team_id = ? AND "
                     "user_key = ?", (op.team_id, op.user))


def _set_member_role(conn: sqlite3.Connection, op: ops.SetMemberRole) -> None:
    conn.execute("UPDATE team_members SET role = ? WHERE team_id = ? AND user_key = ?",
                 (op.role, op.team_id, op.user))


def _leave(conn: sqlite3.Connection, op: ops.LeaveTeam) -> None:
    conn.execute("DELETE FROM team_members WHERE team_id = ? AND user_key = ?",
                 (op.team_id, op.user))


def _create_cohort(conn: sqlite3.Connection, op: ops.CreateCohort) -> None:
    conn.execute("INSERT INTO cohorts (name, name_key, created_by, created_at) "
                 "VALUES (?, ?, ?, ?)", (op.name, op.name.casefold(), op.by, op.at))


def _cohort_team(conn: sqlite3.Connection, op: ops.SetCohortTeam) -> None:
    if op.member:
        conn.execute("INSERT OR IGNORE INTO cohort_teams (cohort_id, team_id) VALUES (?, ?)",
                     (op.cohort_id, op.team_id))
    else:
        conn.execute("DELETE FROM cohort_teams WHERE cohort_id = ? AND team_id = ?",
                     (op.cohort_id, op.team_id))


def _insert_broadcast(conn: sqlite3.Connection, new: NewBroadcast,
                      recipients: Iterable[Recipient]) -> None:
    cursor = conn.execute(
        "INSERT INTO broadcasts (created_by, audience, audience_label, kind, question, body, "
        "created_at, status, schedule_id, progress_chat_id) VALUES (?, ?, ?, ?, ?, ?, ?, "
        "'sending', ?, ?)", (new.created_by, new.audience, new.audience_label, new.kind,
                             new.question, new.body, new.created_at, new.schedule_id,
                             new.progress_chat_id))
    bid = cursor.lastrowid
    conn.executemany(
        "INSERT INTO broadcast_outbox (broadcast_id, user_key, channel, chat_id, status, "
        "attempts, next_attempt_at) VALUES (?, ?, ?, ?, 'pending', 0, ?)",
        [(bid, str(r.user), r.user.channel, r.chat_id, new.created_at) for r in recipients])
    conn.execute(FINISH_BROADCAST, (new.created_at, bid, bid))


def _create_broadcast(conn: sqlite3.Connection, op: ops.CreateBroadcast) -> None:
    _insert_broadcast(conn, op.broadcast, op.recipients)


def _answer(conn: sqlite3.Connection, op: ops.RecordAnswer) -> None:
    # The first level is kept: a double tap or a second thought does not change the report.
    conn.execute("INSERT INTO broadcast_answers (broadcast_id, user_key, level, answered_at) "
                 "VALUES (?, ?, ?, ?) ON CONFLICT (broadcast_id, user_key) DO UPDATE SET "
                 "level = excluded.level, answered_at = excluded.answered_at "
                 "WHERE broadcast_answers.level IS NULL",
                 (op.broadcast_id, op.user, op.level, op.at))


def _note(conn: sqlite3.Connection, op: ops.RecordNote) -> None:
    conn.execute("INSERT INTO broadcast_answers (broadcast_id, user_key, note, noted_at) "
                 "VALUES (?, ?, ?, ?) ON CONFLICT (broadcast_id, user_key) DO UPDATE SET "
                 "note = excluded.note, noted_at = excluded.noted_at",
                 (op.broadcast_id, op.user, op.note, op.at))


def _create_schedule(conn: sqlite3.Connection, op: ops.CreateSchedule) -> None:
    s = op.schedule
    conn.execute(
        "INSERT INTO schedules (created_by, frequency, weekday, local_time, timezone, "
        "audience, audience_label, kind, question, body, cycle_index, next_run_at, status, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, 'active', ?)",
        (s.created_by, s.frequency, s.weekday, s.local_time, s.timezone, s.audience,
         s.audience_label, s.kind, s.question, s.body, s.next_run_at, s.created_at))


def _cancel_schedule(conn: sqlite3.Connection, op: ops.CancelSchedule) -> None:
    conn.execute("UPDATE schedules SET status = 'cancelled', cancelled_at = ? WHERE id = ? "
                 "AND status = 'active'", (op.at, op.schedule_id))


def _run_schedule(conn: sqlite3.Connection, op: ops.RunSchedule) -> None:
    if op.next_run_at is None:
        cursor = conn.execute(
            "UPDATE schedules SET status = 'done', cycle_index = ?, last_run_at = ?, "
            "last_result = ? WHERE id = ? AND status = 'active' AND next_run_at = ?",
            (op.cycle_index, op.at, op.result, op.schedule_id, op.expected_next_run))
    else:
        cursor = conn.execute(
            "UPDATE schedules SET next_run_at = ?, cycle_index = ?, last_run_at = ?, "
            "last_result = ? WHERE id = ? AND status = 'active' AND next_run_at = ?",
            (op.next_run_at, op.cycle_index, op.at, op.result, op.schedule_id,
             op.expected_next_run))
    if cursor.rowcount == 1 and op.broadcast is not None:
        _insert_broadcast(conn, op.broadcast, op.recipients)


HANDLERS: dict[type[Op], Callable[[sqlite3.Connection, Any], None]] = {
    ops.SetSetting: _set_setting,
    ops.GrantRole: _grant,
    ops.RevokeRole: _revoke,
    ops.CreateTeam: _create_team,
    ops.CreateInvite: _create_invite,
    ops.RevokeInvites: _revoke_invites,
    ops.ConsumeInvite: _consume,
    ops.JoinTeam: _join,
    ops.SetMemberRole: _set_member_role,
    ops.LeaveTeam: _leave,
    ops.CreateCohort: _create_cohort,
    ops.SetCohortTeam: _cohort_team,
    ops.CreateBroadcast: _create_broadcast,
    ops.RecordAnswer: _answer,
    ops.RecordNote: _note,
    ops.CreateSchedule: _create_schedule,
    ops.CancelSchedule: _cancel_schedule,
    ops.RunSchedule: _run_schedule,
}
