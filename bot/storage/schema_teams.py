"""The coordinator tables (roles, teams, invites, cohorts, broadcasts, schedules, digests)."""

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


# The latest cycle level per (user, sub-component), kept by triggers so that /team and the
# weekly digest read one small row per member and sub-component instead of every answer ever
# given (benchmarks/README.md, "Reports"). Ties on `at` go to the later row, as in
# bot.engine.summaries.latest_levels. Notes are never copied here.
_LATEST_ON_INSERT = """
CREATE TRIGGER latest_levels_on_answer AFTER INSERT ON answers
WHEN NEW.dialogue = 'cycle' AND NEW.level IS NOT NULL
BEGIN
    INSERT INTO latest_levels (user_key, question, level, at)
    VALUES (NEW.user_key, NEW.question, NEW.level, NEW.at)
    ON CONFLICT (user_key, question) DO UPDATE SET level = excluded.level, at = excluded.at
    WHERE excluded.at >= latest_levels.at;
END
"""
# /forget deletes the user's answers (bot/storage/sqlite_store.py, USER_TABLES); any deleted
# cycle answer re-derives its row from what is left, so the last one deleted leaves nothing.
_LATEST_ON_DELETE = """
CREATE TRIGGER latest_levels_on_delete AFTER DELETE ON answers
WHEN OLD.dialogue = 'cycle' AND OLD.level IS NOT NULL
BEGIN
    DELETE FROM latest_levels WHERE user_key = OLD.user_key AND question = OLD.question;
    INSERT INTO latest_levels (user_key, question, level, at)
    SELECT user_key, question, level, at FROM answers
    WHERE user_key = OLD.user_key AND question = OLD.question AND dialogue = 'cycle'
    AND level IS NOT NULL ORDER BY at DESC, id DESC LIMIT 1;
END
"""
_LATEST_BACKFILL = """
INSERT INTO latest_levels (user_key, question, level, at)
SELECT user_key, question, level, at FROM (
    SELECT user_key, question, level, at, ROW_NUMBER() OVER (
        PARTITION BY user_key, question ORDER BY at DESC, id DESC) AS newest
    FROM answers WHERE dialogue = 'cycle' AND level IS NOT NULL)
WHERE newest = 1
"""
# Cycle steps completed per user: distinct (cycle, sub-component) answered with a level, so a
# step answered again after /back counts once. Counting them from answers took ~40 ms for a
# 1,000-member team (120k answers); a counter per user makes it one row per member.
_STEPS_MATCH = ("answers.user_key = {row}.user_key AND answers.cycle = {row}.cycle AND "
                "answers.question = {row}.question AND answers.dialogue = 'cycle' AND "
                "answers.level IS NOT NULL")
_STEPS_ON_INSERT = f"""
CREATE TRIGGER step_counts_on_answer AFTER INSERT ON answers
WHEN NEW.dialogue = 'cycle' AND NEW.level IS NOT NULL
BEGIN
    INSERT INTO step_counts (user_key, steps) SELECT NEW.user_key, 1
    WHERE NOT EXISTS (SELECT 1 FROM answers WHERE {_STEPS_MATCH.format(row="NEW")}
                      AND answers.id != NEW.id)
    ON CONFLICT (user_key) DO UPDATE SET steps = steps + 1;
END
"""
_STEPS_ON_DELETE = f"""
CREATE TRIGGER step_counts_on_delete AFTER DELETE ON answers
WHEN OLD.dialogue = 'cycle' AND OLD.level IS NOT NULL
BEGIN
    UPDATE step_counts SET steps = steps - 1 WHERE user_key = OLD.user_key
    AND NOT EXISTS (SELECT 1 FROM answers WHERE {_STEPS_MATCH.format(row="OLD")});
    DELETE FROM step_counts WHERE user_key = OLD.user_key AND steps <= 0;
END
"""
_STEPS_BACKFILL = """
INSERT INTO step_counts (user_key, steps)
SELECT user_key, COUNT(*) FROM (SELECT DISTINCT user_key, cycle, question FROM answers
                                WHERE dialogue = 'cycle' AND level IS NOT NULL)
GROUP BY user_key
"""
_FORGET_TEAM_VIEW = """
CREATE TRIGGER forget_user_team_view AFTER DELETE ON users
BEGIN
    DELETE FROM latest_levels WHERE user_key = OLD.key;
    DELETE FROM step_counts WHERE user_key = OLD.key;
    DELETE FROM digests WHERE user_key = OLD.key;
END
"""


@migrations()
def m003_team_view(db: Database) -> None:
    """Team views' derived tables (latest levels, step counts; kept by triggers) and digests."""
    _table(db, "latest_levels").create(
        {"user_key": str, "question": str, "level": int, "at": float},
        pk=("user_key", "question"), not_null={"level", "at"},
    )
    db.execute(_LATEST_BACKFILL)
    db.execute(_LATEST_ON_INSERT)
    db.execute(_LATEST_ON_DELETE)
    _table(db, "step_counts").create({"user_key": str, "steps": int}, pk="user_key",
                                     not_null={"steps"})
    # The step triggers look for an earlier answer to the same step through this index.
    db.execute("CREATE INDEX answers_cycle_steps ON answers (user_key, cycle, question) "
               "WHERE dialogue = 'cycle' AND level IS NOT NULL")
    db.execute(_STEPS_BACKFILL)
    db.execute(_STEPS_ON_INSERT)
    db.execute(_STEPS_ON_DELETE)
    # One digest per (user, team); /digest off deletes it. See docs/BROADCASTS.md.
    _table(db, "digests").create(
        {"id": int, "user_key": str, "team_id": int, "weekday": int, "local_time": str,
         "timezone": str, "next_run_at": float, "created_at": float, "last_run_at": float,
         "last_result": str},
        pk="id", not_null={"user_key", "team_id", "weekday", "local_time", "timezone",
                           "next_run_at"},
        foreign_keys=[("team_id", "teams", "id")],
    )
    _table(db, "digests").create_index(["user_key", "team_id"], unique=True)
    _table(db, "digests").create_index(["next_run_at"])
    db.execute(_FORGET_TEAM_VIEW)


# Role links made by someone who is forgotten are withdrawn before their name is removed, so
# `ccbot roles links list` shows them as revoked (redemption checks the maker's role anyway).
_FORGET_REVOKES_ROLE_LINKS = """
CREATE TRIGGER forget_user_role_links BEFORE DELETE ON users
BEGIN
    UPDATE invites SET revoked_at = (julianday('now') - 2440587.5) * 86400.0
        WHERE kind = 'role' AND created_by = OLD.key AND revoked_at IS NULL;
END
"""


@migrations()
def m004_forget_revokes_role_links(db: Database) -> None:
    """/forget withdraws the role links the person made (issue 12: rights end with them)."""
    db.execute(_FORGET_REVOKES_ROLE_LINKS)


# Each person's pseudonym salt (bot/storage/pseudonym_keys.py): deleted with the user, so after
# /forget the same Telegram account gets a new pseudonym and member code. People known before
# this step get an empty salt, which keeps the member codes their coordinators already have.
_PSEUDONYM_SALTS = (
    "CREATE TABLE pseudonym_salts (user_key TEXT PRIMARY KEY, salt TEXT NOT NULL)",
    "INSERT OR IGNORE INTO pseudonym_salts (user_key, salt)"
    " SELECT key, '' FROM users UNION SELECT user_key, '' FROM team_members"
    " UNION SELECT user_key, '' FROM role_grants UNION SELECT user_key, '' FROM broadcast_answers",
    """CREATE TRIGGER forget_user_pseudonym_salt AFTER DELETE ON users
BEGIN
    DELETE FROM pseudonym_salts WHERE user_key = OLD.key;
END""")


@migrations()
def m005_pseudonym_salts(db: Database) -> None:
    """A salt per person, gone with /forget (issue 12: a fresh pseudonym after /forget)."""
    for statement in _PSEUDONYM_SALTS:
        db.execute(statement)


# After /forget the person's answers stay in closed rounds (a closed round's figures never
# change) and in the ledger's respondent sets (so later releases are still checked against
# them), but their key is replaced by one opaque token, so nothing links them to the person.
# What was released *to* them is deleted: a forgotten manager is no manager until re-appointed.
_FORGET_RELEASES = """
CREATE TRIGGER forget_user_releases AFTER DELETE ON users
BEGIN
    DELETE FROM release_ledger WHERE viewer = OLD.key;
    INSERT INTO forgotten_people (token) VALUES ('forgotten:' || lower(hex(randomblob(8))));
    UPDATE round_answers SET user_key = (SELECT token FROM forgotten_people
        ORDER BY rowid DESC LIMIT 1) WHERE user_key = OLD.key;
    UPDATE release_ledger SET people = replace(people, json_quote(OLD.key),
        json_quote((SELECT token FROM forgotten_people ORDER BY rowid DESC LIMIT 1)))
        WHERE instr(people, json_quote(OLD.key)) > 0;
    UPDATE rounds SET closed_by = NULL WHERE closed_by = OLD.key;
END
"""


@migrations()
def m006_releases(db: Database) -> None:
    """Check-in rounds, their fixed answers, and what was released to whom (docs/PRIVACY.md)."""
    _table(db, "rounds").create(
        {"id": int, "team_id": int, "number": int, "opened_at": float, "closes_at": float,
         "closed_at": float, "closed_by": str},
        pk="id", not_null={"team_id", "number", "opened_at", "closes_at"},
        foreign_keys=[("team_id", "teams", "id")],
    )
    _table(db, "rounds").create_index(["team_id", "number"], unique=True)
    # Levels only, never notes: a closed round's figures are computed from these rows alone.
    _table(db, "round_answers").create(
        {"round_id": int, "user_key": str, "question": str, "level": int},
        pk=("round_id", "user_key", "question"), not_null={"level"},
        foreign_keys=[("round_id", "rounds", "id")],
    )
    _table(db, "round_answers").create_index(["user_key"])
    # people: a JSON array of the respondents' keys (or forgotten tokens), sorted.
    _table(db, "release_ledger").create(
        {"id": int, "viewer": str, "quantity": str, "source": str, "people": str, "at": float},
        pk="id", not_null={"viewer", "quantity", "source", "people", "at"},
    )
    _table(db, "release_ledger").create_index(["viewer"])
    _table(db, "forgotten_people").create({"token": str}, not_null={"token"})
    db.execute(_FORGET_RELEASES)
