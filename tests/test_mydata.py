"""/mydata is complete by construction: every row in any table that names the user is in it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from coordinator_world import ADMIN, World, invite_code

from bot.definitions.model import Content
from bot.engine.core.events import Event
from bot.engine.ports.dashboard import Session, View
from bot.storage.reply_outbox import queue_each_turn
from bot.storage.sqlite_store import SQLiteStore


def busy_admin(content: Content, path: Path) -> World:
    """An admin who has done a bit of everything: answered, noted, reflected, made a team and
    a cohort, invited, granted, broadcast, scheduled, asked for a digest; with a reply and an
    update still waiting."""
    world = World(content, "sqlite", path)
    assert isinstance(world.store, SQLiteStore)
    queue_each_turn(world.store)
    admin = world.member(ADMIN.id)
    admin.send("2")
    admin.tap("I'll try this")
    admin.tap("In 3 days")
    admin.send("A note only I should read.")
    admin.send("/pause")
    admin.tap("Remind me in 3 days")
    admin.send("Europe/Paris")
    admin.send("/reflect")
    admin.tap(admin.labels()[1])
    admin.send("/newteam riverside")
    code = invite_code(admin.text())
    world.member("2").send(f"/start {code}")
    admin.send(f"/start {code}")  # and joins it
    admin.send("/cohort new north")
    admin.send("/cohort add north riverside")
    admin.send("/makecoordinator")
    admin.send("/invite riverside rotate")
    admin.send("/broadcast")
    admin.tap("team riverside")
    admin.tap("Type a message")
    admin.send("Stand-up moved to 10:00.")
    admin.tap("Send now")
    admin.send("/schedule")
    admin.tap("team riverside")
    admin.tap("Type a message")
    admin.send("Weekly check-in.")
    admin.tap("Every day")
    admin.send("09:00")
    admin.tap("UTC")
    admin.tap("Save schedule")
    admin.send("/digest on monday 09:00 UTC")
    admin.send("/dashboard")  # a sign-in link, then a session and a page view on the web
    world.dashboard.start_session(Session("a-session-hash", str(ADMIN), 0.0, 4e9))
    world.dashboard.record_view(View(str(ADMIN), "overview", 1.0))
    world.store.db.execute(  # an update received and not yet handled
        "INSERT INTO inbox (channel, update_id, chat_id, user_key, body, received_at) "
        "VALUES ('telegram', 999999, ?, ?, '{}', 0)", (ADMIN.id, str(ADMIN)))
    return world


def naming_rows(path: Path, values: set[str]) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table in which some column holds one of `values`."""
    found: dict[str, list[dict[str, Any]]] = {}
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        for table in tables:
            for row in conn.execute(f"SELECT * FROM {table}"):
                if any(str(v) in values for v in dict(row).values() if v is not None):
                    found.setdefault(table, []).append(dict(row))
    return found


def test_every_row_naming_the_user_is_in_mydata(content: Content, tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    world = busy_admin(content, path)
    rows = naming_rows(path, {str(ADMIN)})  # before: /mydata's own reply cannot be in it
    response = world.engine.handle(Event(ADMIN, text="/mydata", update_id=next(world.ids)))
    document = next(r.document for r in response.replies if r.document is not None)
    data = json.loads(document.data)
    assert set(rows) >= {"users", "answers", "team_members", "teams", "cohorts", "invites",
                         "broadcasts", "schedules", "digests", "latest_levels", "inbox",
                         "reply_outbox", "commitments", "reminders", "dashboard_links",
                         "dashboard_sessions", "dashboard_views"}, "reach every table"
    missing = {table: [r for r in table_rows if r not in data.get(table, [])
                       and _plain(r) not in data.get(table, [])]
               for table, table_rows in rows.items()}
    assert {t: r for t, r in missing.items() if r} == {}
    world.close()


def test_mydata_holds_the_text_the_user_typed(content: Content, tmp_path: Path) -> None:
    world = busy_admin(content, tmp_path / "typed.db")
    response = world.engine.handle(Event(ADMIN, text="/mydata", update_id=next(world.ids)))
    document = next(r.document for r in response.replies if r.document is not None)
    text = document.data.decode("utf-8")
    for typed in ("A note only I should read.", "Stand-up moved to 10:00.", "Weekly check-in."):
        assert typed in text
    world.close()


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: f"<{len(v):,} bytes>" if isinstance(v, bytes) else v for k, v in row.items()}
