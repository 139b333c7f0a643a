"""The coordinator tables (roles, teams, invites, cohorts, broadcasts, outbox, schedules)."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.db import Table
from sqlite_utils.migrations import Migrations

# Applied after the core set in bot/storage/schema.py, by bot.storage.directory_store.install.
migrations = Migrations("ccbot-teams")

# /forget deletes the users row (bot/storage/sqlite_store.py); this trigger then deletes the
# user's rows in the coordinator tables, which a store without these migrations does not have
# (so they cannot be listed in USER_TABLES). Rows the user only *created* (a team, a broadcast,
# a schedule, an invite) stay for everyone else and lose the creator's key.
_FORGET_TRIGGER = """
CREATE TRIGGER forget_user_coordination AFTER DELETE ON users
BEGIN
    DELETE FROM team_members WHERE user_key = OLD.key;
    DELETE FROM role_grants WHERE user_key = OLD.key;
    UPDATE broadcasts SET progress_chat_id = NULL, progress_message_id = NULL,
        created_by = NULL WHERE created_by = OLD.key;
    UPDATE teams SET created_by = NULL WHERE created_by = OLD.key;
    UPDATE cohorts SET created_by = NULL WHERE created_by = OLD.key;
    UPDATE invites SET created_by = NULL WHERE created_by = OLD.key;
    UPDATE schedules SET created_by = NULL WHERE created_by = OLD.key;
    UPDATE role_grants SET granted_by = NULL WHERE granted_by = OLD.key;
    DELETE FROM broadcast_outbox WHERE user_key = OLD.key;
    DELETE FROM broadcast_answers WHERE user_key = OLD.key;
    -- A broadcast that was waiting only for this user's copy is now complete.
    UPDATE broadcasts SET status = 'done',
        finished_at = (julianday('now') - 2440587.5) * 86400.0
        WHERE status = 'sending' AND NOT EXISTS (
            SELECT 1 FROM broadcast_outbox o WHERE o.broadcast_id = broadcasts.id
            AND o.status IN ('pending', 'sending'));
END
"""


def _table(db: Database, name: str) -> Table:
    """The named table (sqlite-utils types `db[name]` as table-or-view)."""
    table = db[name]
    assert isinstance(table, Table)
    return table


@migrations()
def m001_teams(db: Database) -> None:
    """Settings, role grants, teams, members, invites and cohorts."""
    _table(db, "app_settings").create({"name": str, "value": str}, pk="name")
    _table(db, "role_grants").create(
        {"user_key": str, "role": str, "granted_by": str, "granted_at": float},
        pk=("user_key", "role"),
    )
    _table(db, "teams").create(
        {"id": int, "name": str, "name_key": str, "created_by": str, "created_at": float},
        pk="id", not_null={"name", "name_key"},
    )
    _table(db, "teams").create_index(["name_key"], unique=True)
    _table(db, "team_members").create(
        {"team_id": int, "user_key": str, "role": str, "joined_at": float},
        pk=("team_id", "user_key"), not_null={"role"}, defaults={"role": "member"},
        foreign_keys=[("team_id", "teams", "id")],
    )
    _table(db, "team_members").create_index(["user_key"])
    _table(db, "invites").create(
        {"code": str, "kind": str, "team_id": int, "role": str, "created_by": str,
         "created_at": float, "max_uses": int, "uses": int, "expires_at": float,
         "revoked_at": float},
        pk="code", not_null={"kind", "uses"}, defaults={"uses": 0},
        foreign_keys=[("team_id", "teams", "id")],
    )
    _table(db, "invites").create_index(["team_id"])
    _table(db, "cohorts").create(
        {"id": int, "name": str, "name_key": str, "created_by": str, "created_at": float},
        pk="id", not_null={"name", "name_key"},
    )
    _table(db, "cohorts").create_index(["name_key"], unique=True)
    _table(db, "cohort_teams").create(
        {"cohort_id": int, "team_id": int}, pk=("cohort_id", "team_id"),
        foreign_keys=[("cohort_id", "cohorts", "id"), ("team_id", "teams", "id")],
    )


@migrations()
def m002_broadcasts(db: Database) -> None:
    """Broadcasts, their outbox (one row per recipient), answers, and schedules."""
    _table(db, "broadcasts").create(
        {"id": int, "created_by": str, "audience": str, "audience_label": str, "kind": str,
         "question": str, "body": str, "created_at": float, "status": str,
         "schedule_id": int, "progress_chat_id": str, "progress_message_id": int,
         "in_flight_at_restart": int, "finished_at": float},
        pk="id", not_null={"audience", "kind", "status", "in_flight_at_restart"},
        defaults={"status": "sending", "in_flight_at_restart": 0},
    )
    _table(db, "broadcasts").create_index(["status"])
    # The durable outbox of DESIGN.md §4 rule 6; see docs/BROADCASTS.md for the life of a row.
    _table(db, "broadcast_outbox").create(
        {"id": int, "broadcast_id": int, "user_key": str, "channel": str, "chat_id": str,
         "status": str, "attempts": int, "last_error": str, "next_attempt_at": float,
         "claimed_at": float, "sent_at": float, "message_id": int,
         "resent_after_restart": int},
        pk="id", not_null={"broadcast_id", "user_key", "channel", "chat_id", "status"},
        defaults={"status": "pending", "attempts": 0, "resent_after_restart": 0},
        foreign_keys=[("broadcast_id", "broadcasts", "id")],
    )
    _table(db, "broadcast_outbox").create_index(["broadcast_id", "user_key"], unique=True)
    _table(db, "broadcast_outbox").create_index(["status", "channel", "next_attempt_at"])
    _table(db, "broadcast_outbox").create_index(["user_key"])
    _table(db, "broadcast_answers").create(
        {"broadcast_id": int, "user_key": str, "level": int, "note": str,
         "answered_at": float, "noted_at": float},
        pk=("broadcast_id", "user_key"), foreign_keys=[("broadcast_id", "broadcasts", "id")],
    )
    _table(db, "broadcast_answers").create_index(["user_key"])
    _table(db, "schedules").create(
        {"id": int, "created_by": str, "frequency": str, "weekday": int, "local_time": str,
         "timezone": str, "audience": str, "audience_label": str, "kind": str,
         "question": str, "body": str, "cycle_index": int, "next_run_at": float,
         "last_run_at": float, "last_result": str, "status": str, "created_at": float,
         "cancelled_at": float},
        pk="id", not_null={"frequency", "local_time", "timezone", "audience", "kind",
                           "next_run_at", "status"},
        defaults={"status": "active", "cycle_index": 0},
    )
    _table(db, "schedules").create_index(["status", "next_run_at"])
    db.execute(_FORGET_TRIGGER)
