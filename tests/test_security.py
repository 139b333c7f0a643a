"""Security checks: the token never logged, private files, SQL only with parameters, exports
that stay in their folder and do not clobber the database, no privileged data for members.

Covered elsewhere and not repeated here:
- the webhook answers 403 to a missing or wrong secret and stores nothing:
  tests/test_telegram_process.py::test_webhook_process_sets_the_webhook_and_checks_the_secret
  (the real process) and tests/test_telegram_channel.py::
  test_webhook_checks_the_secret_before_storing_anything (in-process);
- export names that leave the folder ("../x", "a/../../x", "/etc/passwd", a symlink), in
  tests/test_export.py::test_the_export_cannot_leave_its_folder and, through the CLI,
  test_cli_export_warns_about_notes_and_refuses_escapes;
- every privileged command and button against every role: tests/test_permissions.py.
"""

from __future__ import annotations

import ast
import json
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from coordinator_world import ADMIN, Chat, World, ccbot, invite_code
from fake_bot_api import FakeBotAPI
from test_telegram_channel import USER, Bot, scenario
from test_telegram_process import PhoneUser, env_for, stop_bot

import bot.storage.directory_store as directory_store
import bot.storage.practice_store as practice_store
import bot.storage.reminder_store as reminder_store
import bot.storage.sqlite_store as sqlite_store
import bot.storage.team_view_store as team_view_store
from bot.definitions.model import Content
from bot.engine.ports.directory import commit_ops
from bot.engine.ports.directory_ops import GrantRole
from bot.exports import ExportError, export_responses, safe_path

PROJECT = Path(__file__).resolve().parent.parent
# Shaped like a real token (digits, ':', 35 of [A-Za-z0-9_-]); ':' is what URL-encoding changes.
TOKEN = "7012345678:AAHf-Secret_Token_for_Redaction9x8"


# ---------------------------------------------------------------------- the token in logs
# Run by the test instead of `python -m bot.cli`: the same bot, with an error injected into
# the engine whose message and traceback carry the token, plain and URL-encoded.
INJECT = '''
import os, sys
from urllib.parse import quote
import bot.engine.engine as engine

handle = engine.Engine.handle

def failing(self, event):
    if event.text == "/boom":
        token = os.environ["TELEGRAM_BOT_TOKEN"]
        raise RuntimeError(f"POST https://api.telegram.org/bot{token}/x failed; "
                           f"retry /bot{quote(token, safe='')}/x")
    return handle(self, event)

engine.Engine.handle = failing
from bot.cli import main
sys.exit(main())
'''


@pytest.fixture
def token_api() -> Iterator[FakeBotAPI]:
    with FakeBotAPI(token=TOKEN) as api:
        yield api
        assert api.server_errors == []


@pytest.mark.slow
def test_a_debug_run_with_errors_never_logs_the_token_and_every_line_is_json(
        token_api: FakeBotAPI, tmp_path: Path) -> None:
    fake, db, log = token_api, tmp_path / "bot.db", tmp_path / "bot.log"
    (tmp_path / "inject.py").write_text(INJECT)
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, str(tmp_path / "inject.py"), "run", "--poll-timeout", "1",
             "--read-timeout", "3", "--log-level", "DEBUG", "--log-format", "json"],
            env={**env_for(fake, db), "PYTHONPATH": str(PROJECT)}, cwd=PROJECT,
            stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        fake.fail_next("sendMessage", "500", count=2)
        fake.fail_next("sendMessage", "429")
        users = [PhoneUser(fake, 740_000_001 + i) for i in range(2)]
        for user in users:
            user.start()
        # A user who types the token: the bot quotes it back, and PTB logs the request.
        fake.send_text(740_000_009, f"/strand {TOKEN}")
        fake.send_text(740_000_009, "/boom")
        for user in users:
            user.join(PhoneUser.WALK_TIMEOUT)
            assert user.error is None and user.done, user.error
        assert fake.wait_for(lambda: len(fake.messages(740_000_009)) >= 2, 60)
        modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.glob("bot.db*")}
    finally:
        code, _ = stop_bot(process)
    assert code == 0
    # The pseudonym key file beside the database (issue 12) is private too.
    assert modes == {"bot.db": 0o600, "bot.db-wal": 0o600, "bot.db-shm": 0o600,
                     "bot.db.key": 0o600}
    assert "Sorry, something went wrong on my side" in fake.texts(740_000_009)[-1]
    text = log.read_text("utf-8")
    records = [json.loads(line) for line in text.splitlines()]  # nothing bypassed the format
    assert len(records) > 100 and "<redacted>" in text
    boom = [r for r in records if "error handling update" in r["message"]]
    assert len(boom) == 1 and "RuntimeError" in boom[0]["exception"]
    assert boom[0]["exception"].count("<redacted>") == 2
    for secret in (TOKEN, quote(TOKEN, safe=""), TOKEN.split(":")[1]):
        assert secret not in text


@pytest.mark.slow
def test_an_update_with_a_language_code_that_is_not_text_is_answered_not_stuck(
        bot_api: FakeBotAPI, tmp_path: Path, content: Content) -> None:
    # Before: the engine raised on the number, and so did the apology, so the update stayed
    # in the inbox for ever, failing again at every start.
    async def story(bot: Bot) -> None:
        update = {"message": {"message_id": 1, "date": 0, "text": "/start",
                              "chat": {"id": USER, "type": "private"},
                              "from": {"id": USER, "is_bot": False, "first_name": "U",
                                       "language_code": 5}}}
        await bot.settle(bot.fake.send_raw_update(update))
        assert "Is that OK with you?" in bot.fake.texts(USER)[0]
        assert bot.rows("inbox") == []

    scenario(bot_api, tmp_path, content, story)


# ---------------------------------------------------------------------- SQL meta-characters
META = ["'; DROP TABLE users; --", 'say "hi"', "back\\slash", "100%", "a_b%_", "nul\x00byte",
        "Robert'); DELETE FROM answers; --", "%' OR '1'='1", "1 OR 1=1"]
ONE_LINE = "  ".join(META)


def tables(conn: sqlite3.Connection) -> dict[str, int]:
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {name: conn.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0]
            for name in names}


def schema(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
    return conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()


@pytest.fixture
def world(content: Content, tmp_path: Path) -> Iterator[World]:
    made = World(content, "sqlite", tmp_path / "world.db")
    admin = made.member(ADMIN.id)
    commit_ops(made.store, [GrantRole("telegram:2", "coordinator", None, 0.0)])
    admin.send("/newteam riverside")
    code = invite_code(admin.text())
    made.member("4").send(f"/start {code}")
    admin.send("/cohort new north")
    yield made
    made.close()


def conn_of(world: World) -> sqlite3.Connection:
    assert isinstance(world.store, sqlite_store.SQLiteStore)
    return world.store.conn


def unchanged_by(world: World, chat: Chat, text: str) -> None:
    """`text` is refused or finds nothing: no table gains or loses a row but the update id."""
    conn = conn_of(world)
    before = tables(conn)
    chat.send(text)
    assert chat.last.replies, text
    after = tables(conn)
    after["processed_updates"] -= 1
    assert after == before, text


def test_sql_meta_characters_through_every_text_input_change_nothing_but_their_own_row(
        world: World, tmp_path: Path) -> None:
    conn = conn_of(world)
    shape = schema(conn)
    admin, member = world.chat(ADMIN.id), world.chat("4")
    for meta in (*META, ONE_LINE):
        for text in (f"/strand {meta}", f"/newteam {meta}", f"/cohort new {meta}",
                     f"/cohort add {meta} riverside", f"/report {meta}", f"/members {meta}",
                     f"/team {meta}", f"/invite {meta}", f"/invite riverside {meta}",
                     f"/digest on monday 09:00 {meta}", f"/digest off {meta}",
                     f"/leave {meta}"):
            unchanged_by(world, admin, text)
        for payload in (meta, f"in-{meta}", "in-%", "in-_", "in-' OR '1'='1"):
            # An invite code is looked up by equality: a wildcard joins nobody to anything.
            unchanged_by(world, world.member("6"), f"/start {payload}")
    # Free text is stored exactly as typed: a cycle note, a broadcast, a reflection.
    member.send("/cycle")
    member.send("2")
    member.send(ONE_LINE)
    assert conn.execute("SELECT note FROM answers WHERE note IS NOT NULL").fetchall() == \
        [(ONE_LINE,)]
    admin.send("/broadcast")
    admin.tap("team riverside")
    admin.tap("Type a message")
    admin.send(ONE_LINE)
    admin.tap("Send now")
    broadcast = world.directory.broadcasts(1)[0]
    assert broadcast.body == ONE_LINE
    member.press(f"bc:{broadcast.id}:n")
    member.send(ONE_LINE)
    answer = world.directory.answer_of(broadcast.id, member.user)
    assert answer is not None and answer.note == ONE_LINE
    out = tmp_path / "out"
    out.mkdir()
    for name in META[:-4]:  # the ones a file name can hold
        assert ccbot(["export", "responses", "--db", str(tmp_path / "world.db"), "--dir",
                      str(out), "--out", f"{name}.csv", "--include-notes"]) == 0
        assert (out / f"{name}.csv").exists()
    assert schema(conn) == shape
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert tables(conn)["users"] == 3  # the admin, the member, and 6 who tried the codes
    assert {t.name for t in world.directory.teams()} == {"riverside"}


# ---------------------------------------------------------------------- SQL built in code
# Every f-string in bot/ that builds SQL, and what it may interpolate: identifiers and
# placeholders from fixed lists in the code, never a value. Values always go as parameters.
# A new interpolation fails this test until it is added here with its reason.
ALLOWED: dict[tuple[str, str], str] = {
    ("storage/sqlite_store.py", "', '.join(_USER_COLUMNS)"): "fixed tuple of column names",
    ("storage/sqlite_store.py", "', '.join('?' * len(_USER_COLUMNS))"): "placeholders only",
    ("storage/sqlite_store.py", "BUSY_TIMEOUT_MS"): "an int constant (PRAGMA takes no ?)",
    ("storage/sqlite_store.py", "JOURNAL_SIZE_LIMIT"): "an int constant (PRAGMA takes no ?)",
    ("storage/sqlite_store.py", "synchronous"): "checked against SYNCHRONOUS first",
    ("storage/sqlite_store.py", "table"): "a key of USER_TABLES or of export_tables, which "
                                           "features fill from constants (EXPORT_TABLES)",
    ("storage/sqlite_store.py", "column"): "a value of the same fixed mappings",
    ("storage/sqlite_store.py", "where"): "'column = ?' joined by OR, the columns from the "
                                           "same fixed mappings",
    ("storage/backup.py", "BUSY_TIMEOUT_MS"): "an int constant",
    ("storage/stats.py", "BUSY_TIMEOUT_MS"): "an int constant",
    ("storage/directory_store.py", "_INVITE_COLUMNS"): "fixed column list",
    ("storage/directory_store.py", "_BROADCAST_COLUMNS"): "fixed column list",
    ("storage/directory_store.py", "_DELIVERY_COLUMNS"): "fixed column list",
    ("storage/directory_store.py", "_SCHEDULE_COLUMNS"): "fixed column list",
    ("storage/directory_store.py", "marks"): "', '.join('?' * n): placeholders only",
    ("storage/directory_store.py", "where"): "a constant condition, or one built from "
                                             "constants and `marks`",
    ("storage/directory_store.py", "sets"): "SET clauses written as constants by mark_*()",
    ("storage/directory_writes.py", "verb"): "'INSERT OR IGNORE' or 'INSERT OR REPLACE'",
    ("storage/team_view_store.py", "_DIGEST_COLUMNS"): "fixed column list",
    ("storage/release_store.py", "_ROUND_COLUMNS"): "fixed column list",
    ("storage/practice_store.py", "_COLUMNS"): "fixed column list",
    ("storage/practice_store.py", "marks"): "', '.join('?' * n): placeholders only",
    ("storage/reminder_store.py", "_COLUMNS"): "fixed column list",
    ("storage/schema_teams.py", "_STEPS_MATCH.format(row='NEW')"): "trigger text, constant",
    ("storage/schema_teams.py", "_STEPS_MATCH.format(row='OLD')"): "trigger text, constant",
    ("channels/telegram/menus.py", "marks"): "', '.join('?' * n): placeholders only",
    ("storage/dashboard_store.py", "_WEEK_OF.format(at='at')"): "migration text, constant",
    ("storage/dashboard_store.py", "_WEEK_OF.format(at='NEW.at')"): "trigger text, constant",
    ("storage/dashboard_store.py", "marks"): "', '.join('?' * n): placeholders only",
    ("storage/programme_reads.py", "', '.join('?' * len(TRIED))"): "placeholders only",
}
SQL_WORDS = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|PRAGMA|CREATE|DROP|ALTER|WHERE|FROM|"
                       r"VALUES|JOIN|SET|INTO|AND|OR|IN|ORDER BY|GROUP BY|LIMIT)\b")


def sql_interpolations() -> Iterator[tuple[str, int, str]]:
    """(file, line, expression) for each value put into SQL text by formatting."""
    root = PROJECT / "bot"
    for path in sorted(root.rglob("*.py")):
        name = path.relative_to(root).as_posix()
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.JoinedStr):
                literal = "".join(str(v.value) for v in node.values if isinstance(v, ast.Constant))
                if SQL_WORDS.search(literal):
                    for value in node.values:
                        if isinstance(value, ast.FormattedValue):
                            yield name, node.lineno, ast.unparse(value.value)
            elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and \
                    isinstance(node.left, ast.Constant) and isinstance(node.left.value, str) \
                    and SQL_WORDS.search(node.left.value):
                yield name, node.lineno, "% formatting"
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                    node.func.attr == "format" and isinstance(node.func.value, ast.Constant) \
                    and SQL_WORDS.search(str(node.func.value.value)):
                yield name, node.lineno, ".format() on SQL"


def test_sql_text_interpolates_only_identifiers_from_fixed_lists() -> None:
    found = list(sql_interpolations())
    assert len(found) > 20  # the scan sees the SQL it should
    strays = [f"bot/{name}:{line}: {expr}" for name, line, expr in found
              if (name, expr) not in ALLOWED]
    assert strays == [], "SQL built from a value; pass it as a ? parameter instead"


def test_the_allowed_column_lists_are_identifiers_only() -> None:
    lists = [", ".join(sqlite_store._USER_COLUMNS), directory_store._INVITE_COLUMNS,
             directory_store._BROADCAST_COLUMNS, directory_store._SCHEDULE_COLUMNS,
             directory_store._DELIVERY_COLUMNS.replace("COALESCE(u.locale, 'en') AS locale",
                                                       "locale"),
             team_view_store._DIGEST_COLUMNS, practice_store._COLUMNS, reminder_store._COLUMNS]
    for columns in lists:
        assert re.fullmatch(r"[a-z_.]+(, [a-z_.]+)*", columns), columns
    for table, naming in {**{t: (c,) for t, c in sqlite_store.USER_TABLES.items()},
                          **directory_store.EXPORT_TABLES}.items():
        assert re.fullmatch(r"[a-z_]+", table)
        assert all(re.fullmatch(r"[a-z_]+", column) for column in naming)
    with pytest.raises(ValueError, match="synchronous must be one of"):
        sqlite_store.SQLiteStore(":memory:", synchronous="OFF; DROP TABLE users")


# ---------------------------------------------------------------------- exports
def test_an_export_never_replaces_the_database_or_its_journal(world: World,
                                                              tmp_path: Path) -> None:
    db = tmp_path / "world.db"
    before = tables(conn_of(world))
    for name in ("world.db", "world.db-wal", "world.db-shm"):
        # Before: `--out ccbot.db` beside the database overwrote it with the CSV.
        assert ccbot(["export", "responses", "--db", str(db), "--dir", str(tmp_path),
                      "--out", name]) == 2
    with pytest.raises(ExportError, match="is a database file"):
        export_responses(world.directory, world.content, db, "csv")
    assert tables(conn_of(world)) == before
    with pytest.raises(ExportError, match="not a usable file name"):
        safe_path(tmp_path, "nul\x00.csv")


# ---------------------------------------------------------------------- members
GUESSED = ["tm:pick", "tm:team:1", "tm:leave:1", "tv:pick", "tv:digests", "tv:team:1",
           "bc:1:n", "bc:1:1", "bc:1:p", "bc:2:3", "bc:0:1", "bc:-1:1", "bc:1:99", "bc:x:y",
           "bc:1", "bc:", "t1:a.everyone", "t1:mgr.m-00000000", "t1:team.1", "t1:done"]


def test_a_member_pressing_guessed_long_lived_buttons_changes_and_learns_nothing(
        world: World) -> None:
    admin = world.chat(ADMIN.id)
    admin.send("/members riverside")
    code = next(c.label.split()[1] for r in admin.last.replies for c in r.choices
                if c.label.startswith("Make "))
    admin.send("/broadcast")
    admin.tap("everyone")  # a broadcast the member is not in: they joined no audience of it
    admin.tap("Type a message")
    admin.send("Only for the others")
    world.member("7")
    member = world.chat("4")
    conn = conn_of(world)
    turn = world.store.load_user(member.user)
    assert turn is not None
    for data in [*GUESSED, f"t{turn.turn}:a.everyone", f"t{turn.turn}:mgr.{code}",
                 f"t{turn.turn + 1}:mgr.{code}"]:
        before = tables(conn)
        response = member.press(data)
        after = tables(conn)
        after["processed_updates"] -= 1
        assert response.stale_choice and after == before, data
        said = member.text()
        for secret in (code, "?start=in-", "sent", "Only for the others", "members"):
            assert secret not in said, (data, said)
