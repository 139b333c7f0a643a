"""The dashboard port on SQLite: sign-in links, sessions, page views, frozen weekly counts."""

from __future__ import annotations

import hmac
import sqlite3

from sqlite_utils import Database
from sqlite_utils.db import Table
from sqlite_utils.migrations import Migrations

from bot.engine.core.records import Op
from bot.engine.ports.dashboard import IssueLogin, Session, View, WeekCount
from bot.engine.ports.store import StoreError
from bot.storage import schema_teams
from bot.storage.sqlite_store import SQLiteStore, explain

# Its own migration set, applied after the core one (as practice_store's).
migrations = Migrations("ccbot-dashboard")


def _table(db: Database, name: str) -> Table:
    table = db[name]
    assert isinstance(table, Table)
    return table


@migrations()
def m001_dashboard(db: Database) -> None:
    """Links, sessions and views; /forget deletes a user's rows of all three (a trigger)."""
    _table(db, "dashboard_links").create(
        {"token_hash": str, "user_key": str, "created_at": float, "expires_at": float,
         "used_at": float}, pk="token_hash", not_null={"user_key", "expires_at"})
    _table(db, "dashboard_sessions").create(
        {"session_hash": str, "user_key": str, "started_at": float, "expires_at": float},
        pk="session_hash", not_null={"user_key", "expires_at"})
    _table(db, "dashboard_views").create(
        {"id": int, "user_key": str, "page": str, "at": float}, pk="id",
        not_null={"user_key", "page", "at"})
    _table(db, "dashboard_weeks").create(
        {"week_start": float, "metric": str, "population": int, "count": int},
        pk=("week_start", "metric"))
    for table in ("dashboard_links", "dashboard_sessions", "dashboard_views"):
        _table(db, table).create_index(["user_key"])
    db.execute("""CREATE TRIGGER forget_user_dashboard AFTER DELETE ON users BEGIN
        DELETE FROM dashboard_links WHERE user_key = OLD.key;
        DELETE FROM dashboard_sessions WHERE user_key = OLD.key;
        DELETE FROM dashboard_views WHERE user_key = OLD.key; END""")


# The Monday 00:00 UTC starting the week of `at` (the Unix epoch was a Thursday).
_WEEK_OF = "(CAST(({at} - 345600) / 604800 AS INTEGER) * 604800 + 345600)"


@migrations()
def m002_activity(db: Database) -> None:
    """Who was active in which week, and when each person first reached each step of the
    cycle: kept up by triggers on `answers`, so the overview never scans every answer
    (benchmarks/dashboard.py: 7 s before, at 1.2 M answers). /forget deletes both."""
    db.execute("CREATE TABLE dashboard_active (user_key TEXT NOT NULL, week_start REAL NOT "
               "NULL, PRIMARY KEY (user_key, week_start)) WITHOUT ROWID")
    db.execute("CREATE INDEX dashboard_active_week ON dashboard_active (week_start)")
    db.execute("CREATE TABLE dashboard_steps (user_key TEXT NOT NULL, question TEXT NOT NULL, "
               "first_at REAL NOT NULL, PRIMARY KEY (user_key, question)) WITHOUT ROWID")
    db.execute(f"""INSERT OR IGNORE INTO dashboard_active (user_key, week_start)
        SELECT DISTINCT user_key, {_WEEK_OF.format(at="at")} FROM answers""")
    db.execute("""INSERT INTO dashboard_steps (user_key, question, first_at)
        SELECT user_key, question, MIN(at) FROM answers WHERE dialogue = 'cycle'
        GROUP BY user_key, question""")
    db.execute(f"""CREATE TRIGGER dashboard_on_answer AFTER INSERT ON answers BEGIN
        INSERT OR IGNORE INTO dashboard_active (user_key, week_start)
            VALUES (NEW.user_key, {_WEEK_OF.format(at="NEW.at")});
        INSERT INTO dashboard_steps (user_key, question, first_at)
            SELECT NEW.user_key, NEW.question, NEW.at WHERE NEW.dialogue = 'cycle'
            ON CONFLICT (user_key, question) DO UPDATE SET
            first_at = MIN(first_at, excluded.first_at); END""")
    # Reflections are a few rows among the cycle's answers: found by this index, not a scan.
    # Partial, so that no query on the cycle's answers can pick it: an index on (dialogue, at)
    # made the rounds' query (release_store.round_levels) read every cycle answer per team.
    db.execute("CREATE INDEX answers_reflect_at ON answers (at) WHERE dialogue = 'reflect'")
    db.execute("""CREATE TRIGGER forget_user_dashboard_activity AFTER DELETE ON users BEGIN
        DELETE FROM dashboard_active WHERE user_key = OLD.key;
        DELETE FROM dashboard_steps WHERE user_key = OLD.key; END""")


@migrations()
def m003_forgotten_steps(db: Database) -> None:
    """A forgotten person's steps stay, under an opaque token (as their round answers do,
    schema_teams._FORGET_RELEASES): the funnel of a later week is then never one person
    short of an earlier one, which would say how far the person who left had got."""
    db.execute("DROP TRIGGER forget_user_dashboard_activity")
    db.execute("""CREATE TRIGGER forget_user_dashboard_activity AFTER DELETE ON users BEGIN
        DELETE FROM dashboard_active WHERE user_key = OLD.key;
        INSERT INTO forgotten_people (token) VALUES ('forgotten:' || lower(hex(randomblob(8))));
        UPDATE dashboard_steps SET user_key = (SELECT token FROM forgotten_people
            ORDER BY rowid DESC LIMIT 1) WHERE user_key = OLD.key; END""")


@migrations()
def m004_sessions_end_with_the_role(db: Database) -> None:
    """A withdrawn role ends the person's dashboard sessions at once (a team's manager made a
    member or removed, a coordinator or admin grant revoked): a browser left signed in must
    not work again if the role comes back later. Rights are still checked at every request."""
    db.execute("""CREATE TRIGGER dashboard_end_on_demotion AFTER UPDATE OF role ON team_members
        WHEN OLD.role = 'manager' AND NEW.role IS NOT 'manager' BEGIN
        DELETE FROM dashboard_sessions WHERE user_key = OLD.user_key; END""")
    db.execute("""CREATE TRIGGER dashboard_end_on_removal AFTER DELETE ON team_members
        WHEN OLD.role = 'manager' BEGIN
        DELETE FROM dashboard_sessions WHERE user_key = OLD.user_key; END""")
    db.execute("""CREATE TRIGGER dashboard_end_on_revoke AFTER DELETE ON role_grants BEGIN
        DELETE FROM dashboard_sessions WHERE user_key = OLD.user_key; END""")


class SQLiteDashboard:
    """The dashboard's tables in the bot's database; each write is its own transaction."""

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store

    def redeem(self, token_hash: str, now: float) -> str | None:
        with self.store.transaction() as conn:
            row = conn.execute("SELECT token_hash, user_key, expires_at, used_at FROM "
                               "dashboard_links WHERE token_hash = ?", (token_hash,)).fetchone()
            # The lookup is by an index; the comparison that decides is in constant time.
            if row is None or not hmac.compare_digest(row[0], token_hash):
                return None
            if row[3] is not None or row[2] <= now:
                return None
            conn.execute("UPDATE dashboard_links SET used_at = ? WHERE token_hash = ?",
                         (now, token_hash))
            return str(row[1])

    def start_session(self, session: Session) -> None:
        with self.store.transaction() as conn:
            conn.execute("INSERT INTO dashboard_sessions (session_hash, user_key, started_at,"
                         " expires_at) VALUES (?, ?, ?, ?)", (session.session_hash,
                                                              session.user, session.started_at,
                                                              session.expires_at))
            # Expired rows go as new ones come, so the table holds live sessions only.
            conn.execute("DELETE FROM dashboard_sessions WHERE expires_at <= ?",
                         (session.started_at,))

    def session(self, session_hash: str, now: float) -> Session | None:
        rows = self.store.query("SELECT session_hash, user_key, started_at, expires_at FROM "
                                "dashboard_sessions WHERE session_hash = ? AND expires_at > ?",
                                (session_hash, now))
        if not rows or not hmac.compare_digest(rows[0][0], session_hash):
            return None
        return Session(rows[0][0], rows[0][1], rows[0][2], rows[0][3])

    def end_session(self, session_hash: str) -> None:
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM dashboard_sessions WHERE session_hash = ?",
                         (session_hash,))

    def end_sessions_of(self, user: str) -> None:
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM dashboard_sessions WHERE user_key = ?", (user,))

    def record_view(self, view: View) -> None:
        with self.store.transaction() as conn:
            conn.execute("INSERT INTO dashboard_views (user_key, page, at) VALUES (?, ?, ?)",
                         (view.user, view.page, view.at))

    def views(self, user: str) -> list[View]:
        return [View(r[0], r[1], r[2]) for r in self.store.query(
            "SELECT user_key, page, at FROM dashboard_views WHERE user_key = ? ORDER BY id",
            (user,))]

    def frozen_weeks(self, week_starts: list[float]) -> list[WeekCount]:
        if not week_starts:
            return []
        marks = ", ".join("?" * len(week_starts))
        return [WeekCount(r[0], r[1], r[2], r[3]) for r in self.store.query(
            f"SELECT week_start, metric, population, count FROM dashboard_weeks "
            f"WHERE week_start IN ({marks})", tuple(week_starts))]

    def frozen_funnels(self, until: float) -> list[WeekCount]:
        return [WeekCount(r[0], r[1], r[2], r[3]) for r in self.store.query(
            "SELECT week_start, metric, population, count FROM dashboard_weeks "
            "WHERE metric LIKE 'step:%' AND week_start <= ?", (until,))]

    def freeze_weeks(self, counts: list[WeekCount]) -> None:
        with self.store.transaction() as conn:
            conn.executemany("INSERT OR IGNORE INTO dashboard_weeks (week_start, metric, "
                             "population, count) VALUES (?, ?, ?, ?)",
                             [(c.week_start, c.metric, c.population, c.count) for c in counts])


def _issue(conn: sqlite3.Connection, op: Op) -> None:
    assert isinstance(op, IssueLogin)
    conn.execute("INSERT INTO dashboard_links (token_hash, user_key, created_at, expires_at)"
                 " VALUES (?, ?, ?, ?)", (op.token_hash, op.user, op.created_at, op.expires_at))
    conn.execute("DELETE FROM dashboard_links WHERE expires_at <= ?", (op.created_at,))


def install_dashboard(store: SQLiteStore) -> SQLiteDashboard:
    """Apply the dashboard migrations, register its op and its /mydata tables.

    Its triggers are on the coordinator tables (roles end sessions) and keep a forgotten
    person's steps under a `forgotten_people` token: those migrations come first."""
    try:
        schema_teams.migrations.apply(store.db)
        migrations.apply(store.db)
    except sqlite3.Error as exc:
        raise StoreError(explain(exc, store.path)) from exc
    store.op_handlers[IssueLogin] = _issue
    for table in ("dashboard_links", "dashboard_sessions", "dashboard_views",
                  "dashboard_active", "dashboard_steps"):
        store.export_tables[table] = ("user_key",)
    return SQLiteDashboard(store)
