"""What an operator runs: `ccbot backup` and `ccbot stats`, `/healthz`, and JSON log lines."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from fake_bot_api import FakeBotAPI
from test_telegram_process import db_rows, env_for, free_port, stop_bot

from bot.channels import http_server
from bot.channels.telegram import health
from bot.channels.telegram.redaction import TokenFilter
from bot.cli import main
from bot.engine.core.events import UserKey
from bot.engine.core.records import Answer, Commit, UserRecord
from bot.logging_setup import JsonFormatter
from bot.storage.directory_store import install
from bot.storage.sqlite_store import SQLiteStore
from bot.storage.stats import read_stats

PROJECT = Path(__file__).resolve().parent.parent
TOKEN = "123456:AAH-secret_Token/with+odd=chars"
SUBS = ["outcomes.insight", "outcomes.relationships", "outcomes.design", "alignment.risk",
        "alignment.incentives", "alignment.resources", "delivery.innovation",
        "delivery.agility", "delivery.leadership", "accountability.evidence",
        "accountability.engagement", "accountability.transparency"]
DAY = 86_400.0


@pytest.fixture(autouse=True)
def logging_as_it_was() -> Iterator[None]:
    """main() sets up logging for the whole process; put it back for the tests after these."""
    root, access = logging.getLogger(), logging.getLogger("aiohttp.access")
    handlers, level, access_level = list(root.handlers), root.level, access.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    access.setLevel(access_level)
    logging.captureWarnings(False)


def count(db: Path, sql: str) -> int:
    return int(db_rows(db, sql)[0][0])


def until(predicate: Callable[[], bool], timeout: float) -> bool:
    """Poll until true (returns at once when it is) or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


# ---------------------------------------------------------------------- ccbot backup
def filled(path: Path, answers: int) -> None:
    """A database with `answers` cycle answers carrying 200-character notes (about 1 MB/4k)."""
    store = SQLiteStore(path)
    with store.transaction() as conn:
        conn.executemany(
            "INSERT INTO answers (user_key, dialogue, cycle, question, level, note, at)"
            " VALUES (?, 'cycle', 1, ?, 2, ?, ?)",
            ((f"telegram:{i}", SUBS[i % 12], "n" * 200, i) for i in range(answers)))
    store.close()


class Writer(threading.Thread):
    """Stands in for the running bot: commits a turn (an answer and its update id) non-stop."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.commits = 0
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        store = SQLiteStore(self.path)
        key = UserKey("telegram", "writer")
        try:
            while not self.stop.is_set():
                n = self.commits + 1
                store.commit(Commit(key, n, UserRecord(key, "en", turn=n), (
                    Answer(key, "cycle", 1, "outcomes.insight", 2, "w", float(n)),)))
                self.commits = n
                time.sleep(0.001)
        except BaseException as exc:  # reported by the test
            self.error = exc
        finally:
            store.close()


def test_backup_while_the_bot_writes_is_consistent_and_does_not_stop_it(tmp_path: Path) -> None:
    db, copy = tmp_path / "live.db", tmp_path / "copy.db"
    filled(db, 60_000)  # about 4,500 pages: five steps of the old 1,024-page copy
    writer = Writer(db)
    writer.start()
    assert until(lambda: writer.commits >= 20 or writer.error is not None, 60)
    codes: list[int] = []
    backing_up = threading.Thread(target=lambda: codes.append(
        main(["backup", "--db", str(db), str(copy)])))
    backing_up.start()
    # Copied in steps, the backup started again at every commit of the writer and never ended.
    backing_up.join(120)
    at_end = writer.commits
    # The writer carries on after the backup (a commit of its own, however slow the disk).
    went_on = until(lambda: writer.commits > at_end or writer.error is not None, 30)
    writer.stop.set()
    writer.join(30)
    assert not backing_up.is_alive() and codes == [0]
    assert writer.error is None and went_on  # the bot was never held up
    assert db_rows(copy, "PRAGMA integrity_check") == [("ok",)]
    # One snapshot: every turn in the copy is whole (its answer and its update id together).
    turns = count(copy, "SELECT COUNT(*) FROM processed_updates")
    assert turns >= 20
    assert count(copy, "SELECT COUNT(*) FROM answers WHERE user_key = 'telegram:writer'") == turns
    assert count(copy, "SELECT COUNT(*) FROM answers") == 60_000 + turns
    assert copy.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("name", ["ccbot#1.db", "what?.db", "100%.db", "with space.db"])
def test_backup_copies_the_named_database_whatever_its_name(tmp_path: Path, name: str) -> None:
    filled(tmp_path / name, 3)
    # Before: "ccbot#1.db" was opened as a URI, so an empty database "ccbot" was made and copied.
    assert main(["backup", "--db", str(tmp_path / name), str(tmp_path / "copy.db")]) == 0
    assert count(tmp_path / "copy.db", "SELECT COUNT(*) FROM answers") == 3
    left = {p.name for p in tmp_path.iterdir()} - {f"{name}-wal", f"{name}-shm"}
    assert left == {name, "copy.db"}


@pytest.mark.parametrize("where, expected", [
    ("exists.db", "already exists; choose a new file or pass --overwrite"),
    ("folder", "is a folder; give the backup a file name"),
    ("missing/copy.db", "does not exist; create it first"),
])
def test_backup_refusals_are_one_line_and_exit_2(tmp_path: Path, where: str, expected: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    filled(tmp_path / "live.db", 3)
    (tmp_path / "exists.db").write_bytes(b"precious")
    (tmp_path / "folder").mkdir()
    assert main(["backup", "--db", str(tmp_path / "live.db"), str(tmp_path / where)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ccbot: ") and expected in err[0]
    assert (tmp_path / "exists.db").read_bytes() == b"precious"
    assert (tmp_path / "folder").is_dir() and not list((tmp_path / "folder").iterdir())


def test_backup_overwrites_only_when_asked(tmp_path: Path) -> None:
    filled(tmp_path / "live.db", 3)
    (tmp_path / "old.db").write_bytes(b"yesterday")
    assert main(["backup", "--db", str(tmp_path / "live.db"), str(tmp_path / "old.db"),
                 "--overwrite"]) == 0
    assert count(tmp_path / "old.db", "SELECT COUNT(*) FROM answers") == 3


# ---------------------------------------------------------------------- ccbot stats
NOW = 1_750_000_000.0


def stats_world(path: Path) -> None:
    """A database whose every figure is known."""
    store = SQLiteStore(path)
    install(store)
    users = [  # key, consent, last seen (days ago), status
        ("telegram:1", 1, 1, "active"), ("telegram:2", 1, 10, "active"),
        ("telegram:3", 1, 40, "blocked"), ("telegram:4", 0, 2, "active"),
        ("console:me", 1, 0.1, "active")]
    answers: list[tuple[str, str, int, str, int | None]] = []
    for i, sub in enumerate(SUBS):  # user 1: cycle 1 complete, cycle 2 half done
        answers.append(("telegram:1", "cycle", 1, sub, 1 + i % 4))
        if i < 6:
            answers.append(("telegram:1", "cycle", 2, sub, 2))
    for sub in SUBS[:11]:  # user 2: 11 answers and a skip: reached the summary, not counted
        answers.append(("telegram:2", "cycle", 1, sub, 3))
    answers.append(("telegram:2", "cycle", 1, SUBS[11], None))
    for sub in SUBS:  # console:me answered outcomes.insight twice (after /back): still 12
        answers.append(("console:me", "cycle", 1, sub, 4))
    answers.append(("console:me", "cycle", 1, SUBS[0], 3))
    for cycle in (1, 2):  # telegram:2: two quick reflections, and a third one begun
        for strand in ("outcomes", "alignment", "delivery", "accountability"):
            answers.append(("telegram:2", "reflect", cycle, f"quick.{strand}", 2))
    answers.append(("telegram:2", "reflect", 3, "quick.outcomes", 2))
    with store.transaction() as conn:
        conn.executemany(
            "INSERT INTO users (key, channel, external_id, locale, consent, status, last_seen)"
            " VALUES (?, ?, ?, 'en', ?, ?, ?)",
            [(k, k.split(":")[0], k.split(":")[1], c, s, NOW - d * DAY)
             for k, c, d, s in users])
        conn.executemany("INSERT INTO answers (user_key, dialogue, cycle, question, level, at)"
                         " VALUES (?, ?, ?, ?, ?, 0)", answers)
        conn.executemany("INSERT INTO inbox (channel, update_id, chat_id, body, received_at)"
                         " VALUES ('telegram', ?, '1', '{}', 0)", [(u,) for u in (7, 8, 9)])
        conn.executemany("INSERT INTO reply_outbox (channel, chat_id, text, status) VALUES"
                         " ('telegram', '1', 'hi', ?)",
                         [("pending",), ("pending",), ("failed",), ("blocked",)])
        conn.execute("INSERT INTO broadcasts (id, audience, kind) VALUES (1, 'everyone', 'text')")
        conn.executemany("INSERT INTO broadcast_outbox (broadcast_id, user_key, channel, chat_id,"
                         " status) VALUES (1, ?, 'telegram', ?, ?)",
                         [("telegram:1", "1", "sent"), ("telegram:2", "2", "pending"),
                          ("telegram:3", "3", "blocked"), ("telegram:4", "4", "sending")])
    store.close()


def test_stats_counts_every_figure_as_documented(tmp_path: Path) -> None:
    stats_world(tmp_path / "s.db")
    stats = read_stats(tmp_path / "s.db", now=NOW)
    assert (stats.users, stats.consented, stats.active_7_days, stats.active_30_days) == \
        (5, 4, 3, 4)
    assert (stats.cycles_completed, stats.reflections_completed) == (2, 2)
    assert (stats.blocked_users, stats.inbox, stats.outbox_pending, stats.outbox_failed,
            stats.outbox_blocked, stats.broadcast_pending) == (1, 3, 2, 1, 1, 2)


def test_stats_prints_text_or_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stats_world(tmp_path / "s.db")
    assert main(["stats", "--db", str(tmp_path / "s.db")]) == 0
    text = capsys.readouterr().out
    assert "cycles completed            2 (all 12 sub-components answered in one cycle)" in text
    assert "inbox backlog               3 update(s)" in text
    assert main(["stats", "--db", str(tmp_path / "s.db"), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["users"] == 5 and figures["inbox"] == 3 and figures["broadcast_pending"] == 2
    assert set(figures) >= {"active_7_days", "active_30_days", "cycles_completed",
                            "reflections_completed", "outbox_pending", "blocked_users"}


def test_stats_reads_a_busy_database_without_waiting_or_writing(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    stats_world(db)
    before = db.read_bytes()
    bot = sqlite3.connect(db, isolation_level=None)
    bot.execute("BEGIN IMMEDIATE")  # the bot in the middle of a turn
    bot.execute("INSERT INTO inbox (channel, update_id, chat_id, body) VALUES ('t', 1, '1', '')")
    started = time.monotonic()
    stats = read_stats(db, now=NOW)
    assert time.monotonic() - started < 1 and stats.inbox == 3  # the committed figure
    bot.execute("ROLLBACK")
    bot.close()
    assert db.read_bytes() == before


def test_stats_of_a_missing_database_creates_nothing(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats", "--db", str(tmp_path / "none.db")]) == 2
    assert "no database at" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------- /healthz
def get(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return int(answer.status), json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


@pytest.mark.slow
def test_healthz_in_the_webhook_process_answers_without_a_secret_and_handles_nothing(
        bot_api: FakeBotAPI, tmp_path: Path, processes: list[subprocess.Popen[bytes]]) -> None:
    port = free_port()
    db = tmp_path / "hook.db"
    env = {**env_for(bot_api, db), "TELEGRAM_WEBHOOK_SECRET": "hook-Secret_1"}
    with (tmp_path / "hook.log").open("wb") as stderr:
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "webhook", "--port", str(port), "--url",
             f"http://127.0.0.1:{port}/telegram"],
            env=env, cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=stderr))
    assert bot_api.wait_for(lambda: bool(bot_api.webhook_url), 60)
    calls = len(bot_api.calls)
    assert get(f"http://127.0.0.1:{port}/healthz") == (200, {"status": "ok", "inbox": 0,
                                                              "outbox": 0})
    time.sleep(0.2)
    assert len(bot_api.calls) == calls  # nothing was sent because of the check
    assert count(db, "SELECT COUNT(*) FROM processed_updates") == 0
    assert stop_bot(processes[0])[0] == 0


async def fetch(store: SQLiteStore, method: str = "GET") -> tuple[int, str]:
    app = http_server.application(health.routes(store))
    async with (http_server.running(app, "127.0.0.1", 0) as port,
                aiohttp.ClientSession() as client,
                client.request(method, f"http://127.0.0.1:{port}{health.HEALTH_PATH}",
                               data=b"{}" if method == "POST" else None) as answer):
        return answer.status, await answer.text()


def test_healthz_counts_the_backlog_and_says_503_when_the_database_does_not_answer(
        tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "h.db")
    with store.transaction() as conn:
        conn.executemany("INSERT INTO inbox (channel, update_id, chat_id, body) VALUES"
                         " ('telegram', ?, '1', '{}')", [(1,), (2,)])
        conn.executemany("INSERT INTO reply_outbox (channel, chat_id, text, status) VALUES"
                         " ('telegram', '1', 'hi', ?)", [("pending",), ("failed",)])
    code, body = asyncio.run(fetch(store))
    assert (code, json.loads(body)) == (200, {"status": "ok", "inbox": 2, "outbox": 1})
    assert asyncio.run(fetch(store, "POST"))[0] == 405
    store.close()  # the database is gone from under the bot
    code, body = asyncio.run(fetch(store))
    assert (code, json.loads(body)) == (503, {"status": "unavailable"})
    assert "h.db" not in body  # the reason is logged, not told to whoever asks


# ---------------------------------------------------------------------- JSON logs
def json_logger(token: str | None = None) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    if token:
        handler.addFilter(TokenFilter(token))
    logger = logging.getLogger(f"test.json.{id(stream)}")
    logger.propagate = False
    logger.handlers = [handler]
    logger.setLevel(logging.DEBUG)
    return logger, stream


def test_json_lines_carry_time_level_logger_message_and_extras() -> None:
    logger, stream = json_logger()
    logger.info("handled %s in %d ms", "an update", 3,
                extra={"update_id": 42, "user": UserKey("telegram", "7")})
    logger.warning("multi\nline \u202e text 🙂")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "handled an update in 3 ms"
    assert (first["level"], first["logger"], first["update_id"], first["user"]) == \
        ("INFO", logger.name, 42, "telegram:7")
    assert first["time"].endswith("Z") and time.strptime(first["time"][:19], "%Y-%m-%dT%H:%M:%S")
    assert second["message"] == "multi\nline \u202e text 🙂" and "user" not in second
    assert stream.getvalue().isascii() and stream.getvalue().count("\n") == 2


def test_json_lines_keep_the_token_redacted_in_messages_arguments_and_tracebacks() -> None:
    logger, stream = json_logger(TOKEN)
    logger.debug("POST https://api.telegram.org/bot%s/getMe", TOKEN)
    logger.info(f"url-encoded: /bot{quote(TOKEN, safe='')}/sendMessage")
    try:
        raise RuntimeError(f"request to /bot{TOKEN}/getUpdates failed")
    except RuntimeError:
        logger.exception("stopped receiving updates")
    out = stream.getvalue()
    records = [json.loads(line) for line in out.splitlines()]
    assert len(records) == 3 and "<redacted>" in records[2]["exception"]
    assert "RuntimeError" in records[2]["exception"]
    for secret in (TOKEN, quote(TOKEN, safe=""), TOKEN.split(":")[1]):
        assert secret not in out
