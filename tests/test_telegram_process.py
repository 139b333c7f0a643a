"""The real `ccbot run` and `ccbot webhook` processes against the fake Bot API, kill -9 included."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fake_bot_api import FakeBotAPI

pytestmark = pytest.mark.slow  # starts `ccbot run` / `ccbot webhook` processes and kills them

PROJECT = Path(__file__).resolve().parent.parent
WORDS = {1: "not yet", 2: "developing", 3: "established", 4: "embedded"}
LABELS = {1: "Not yet", 2: "Developing", 3: "Established", 4: "Embedded"}
# The buttons under a prompt, which answer no question.
PROMPT_BUTTONS = {"About this evidence", "I'll try this"}
CHOSEN = re.compile(r"\n\n✓ .*$", re.DOTALL)
STEP = re.compile(r"step (\d+) of 12")


def env_for(fake: FakeBotAPI, db: Path, token: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "CCBOT_"))}
    env.update({"TELEGRAM_BOT_TOKEN": token or fake.token,
                "TELEGRAM_API_BASE_URL": fake.base_url, "CCBOT_DB": str(db)})
    return env


# A reply slower than the read timeout is sent again, which the order checks would see as a
# repeat: room for a loaded machine.
READ_TIMEOUT = 10


def start_bot(fake: FakeBotAPI, db: Path, log: Path, *flags: str,
              level: str = "INFO") -> subprocess.Popen[bytes]:
    with log.open("ab") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run", "--poll-timeout", "1", "--read-timeout",
             str(READ_TIMEOUT), "--log-level", level, *flags],
            env=env_for(fake, db), cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=stderr)


def stop_bot(process: subprocess.Popen[bytes]) -> tuple[int, float]:
    """SIGTERM; the exit status and how long the process took to exit."""
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=15)
    return code, time.monotonic() - started


class PhoneUser(threading.Thread):
    """Walks onboarding and one cycle like a person on a phone: taps, typed answers, notes."""

    # A whole walk (some thirty questions) on a loaded machine: join() returns when it ends.
    WALK_TIMEOUT = 240

    def __init__(self, fake: FakeBotAPI, user_id: int, timeout: float = 30.0) -> None:
        super().__init__(daemon=True)
        self.fake = fake
        self.user_id = user_id
        self.timeout = timeout
        self.error: BaseException | None = None
        self.done = False
        self.typed_notes: list[str] = []

    def run(self) -> None:
        try:
            self.walk()
            self.done = True
        except BaseException as exc:  # reported by the test
            self.error = exc

    def passes_over(self, message: dict[str, Any]) -> bool:
        """A message with buttons that is not the conversation's next question: a tailored
        prompt, whose only button is *I'll try this* (features/practice)."""
        return all(str(data).startswith("practice:") for _, data in FakeBotAPI.buttons(message))

    def next_keyboard(self, after: int) -> dict[str, Any]:
        """The newest message with buttons, once it is newer than `after` and settled."""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            with_buttons = self.keyboards(after)
            if with_buttons:
                time.sleep(0.03)  # a person reads before tapping; later messages may follow
                return self.keyboards(after)[-1]
            time.sleep(0.01)
        raise TimeoutError(f"user {self.user_id}: no new question after message {after}")

    def keyboards(self, after: int) -> list[dict[str, Any]]:
        # A prompt's own buttons (the evidence card, I'll try this) are not a question.
        return [m for m in self.fake.messages(self.user_id) if FakeBotAPI.buttons(m)
                and m["message_id"] > after and not self.passes_over(m)
                and not {t for t, _ in FakeBotAPI.buttons(m)} <= PROMPT_BUTTONS]

    def walk(self) -> None:
        uid, fake = self.user_id, self.fake
        fake.send_text(uid, "/start")
        acted, turn = 0, 0
        seen: tuple[str, tuple[tuple[str, str | None], ...]] = ("", ())
        while True:
            message = self.next_keyboard(acted)
            acted = message["message_id"]
            buttons = tuple(FakeBotAPI.buttons(message))
            if (message["text"], buttons) == seen:
                continue  # the same question sent twice (after a crash): a person ignores it
            seen = (message["text"], buttons)
            data = dict(buttons)
            if "Cycle 1 done" in message["text"]:
                return
            turn += 1
            if "Yes, I agree" in data:
                fake.press_button(uid, acted, str(data["Yes, I agree"]))
            elif "Frontline staff" in data:
                fake.press_button(uid, acted, str(data["Frontline staff"]))
            elif "Developing" in data:
                if turn > 3 and (uid + turn) % 2:
                    # The note the last prompt offered, then the answer: one chat, in order.
                    note = f"note {turn} from {uid} <with> & marks"
                    self.typed_notes.append(note)
                    fake.send_text(uid, note)
                level = (uid + turn) % 4 + 1
                how = (uid + turn) % 3
                if how == 0:
                    fake.press_button(uid, acted, str(data[LABELS[level]]))
                else:
                    fake.send_text(uid, str(level) if how == 1 else WORDS[level])
            else:
                raise AssertionError(f"user {uid}: unexpected question {message['text']!r}")


def conversation(fake: FakeBotAPI, user_id: int) -> list[str]:
    """The bot's messages as first sent (the ✓ mark from an edit removed)."""
    return [CHOSEN.sub("", m["text"] or m["caption"] or "") for m in fake.messages(user_id)]


def collapse(said: list[str]) -> tuple[list[str], int]:
    """Consecutive repeats removed, and how many there were."""
    kept: list[str] = []
    for text in said:
        if not kept or kept[-1] != text:
            kept.append(text)
    return kept, len(said) - len(kept)


def check_order(said: list[str]) -> None:
    """Onboarding, then each question followed by its prompt (which offers the note), in order.

    A typed note is answered "Note saved." and the question again: both are left out here."""
    assert "Is that OK with you?" in said[0]
    assert said[1].startswith("Thanks. Which best describes your role?")
    assert said[2].startswith("Great, let's begin")
    said, _ = collapse([text for text in said if text != "Note saved."])
    questions = [i for i, text in enumerate(said) if STEP.search(text)]
    assert [int(STEP.findall(said[i])[0]) for i in questions] == list(range(1, 13))
    for n, index in enumerate(questions):
        end = questions[n + 1] if n + 1 < len(questions) else len(said) - 1
        between = said[index + 1:end]
        assert len(between) == 1, between
        assert "Evidence:" in between[0] and "Type a note if you like" in between[0], between
    assert said[-1].startswith("Cycle 1 done")


def db_rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def handled_count(db: Path) -> int:
    """Rows in processed_updates, or 0 before the bot has created its database."""
    try:
        return int(db_rows(db, "SELECT COUNT(*) FROM processed_updates")[0][0])
    except sqlite3.OperationalError:
        return 0


def test_users_complete_a_cycle_concurrently_each_in_order_and_the_token_is_never_logged(
        bot_api: FakeBotAPI, tmp_path: Path, processes: list[subprocess.Popen[bytes]]) -> None:
    db, log = tmp_path / "bot.db", tmp_path / "bot.log"
    processes.append(start_bot(bot_api, db, log, level="DEBUG"))
    users = [PhoneUser(bot_api, 700_000_001 + i) for i in range(5)]
    for user in users:
        user.start()
    for user in users:
        user.join(PhoneUser.WALK_TIMEOUT)
        assert user.error is None and user.done, user.error
    code, took = stop_bot(processes[0])
    assert code == 0 and took < 5
    for user in users:
        check_order(conversation(bot_api, user.user_id))
    notes = {r[0] for r in db_rows(db, "SELECT note FROM answers WHERE note IS NOT NULL")}
    assert notes == {n for u in users for n in u.typed_notes}
    assert db_rows(db, "SELECT COUNT(*) FROM answers")[0][0] == 12 * len(users)
    stderr = log.read_text("utf-8")
    assert "<redacted>" in stderr  # PTB logs its Bot API URL at DEBUG; the filter caught it
    for secret in (bot_api.token, quote(bot_api.token, safe=""), bot_api.token.split(":")[1]):
        assert secret not in stderr


def test_kill_9_mid_traffic_loses_nothing_and_handles_nothing_twice(
        bot_api: FakeBotAPI, tmp_path: Path, processes: list[subprocess.Popen[bytes]]) -> None:
    db, log = tmp_path / "bot.db", tmp_path / "bot.log"
    bot_api.latency = 0.005
    processes.append(start_bot(bot_api, db, log))
    users = [PhoneUser(bot_api, 710_000_001 + i, timeout=60) for i in range(8)]
    for user in users:
        user.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if handled_count(db) >= 80:
            break
        time.sleep(0.01)
    processes[0].kill()  # SIGKILL: no clean-up of any kind
    processes[0].wait()
    killed_at = handled_count(db)
    waiting = [db_rows(db, f"SELECT COUNT(*) FROM {t}")[0][0] for t in ("inbox", "reply_outbox")]
    time.sleep(0.3)
    processes.append(start_bot(bot_api, db, log))
    for user in users:
        user.join(PhoneUser.WALK_TIMEOUT)
        assert user.error is None and user.done, user.error
    code, _ = stop_bot(processes[1])
    assert code == 0
    delivered = {u["update_id"] for u in bot_api.sent_updates}
    processed = {r[0] for r in db_rows(db, "SELECT update_id FROM processed_updates")}
    lost = delivered - processed
    twice = db_rows(db, "SELECT user_key, cycle, question, COUNT(*) FROM answers"
                        " GROUP BY user_key, cycle, question HAVING COUNT(*) > 1")
    doubled: dict[int, int] = {}
    for user in users:
        said, repeats = collapse(conversation(bot_api, user.user_id))
        check_order(said)  # nothing lost, nothing out of order
        assert not any("moved on" in text for text in said)
        doubled[user.user_id] = repeats
    print(f"\nkill -9 after {killed_at} handled updates ({waiting[0]} in the inbox, {waiting[1]}"
          f" in the outbox): lost {len(lost)}, handled twice "
          f"{len(twice)}, replies doubled {sum(doubled.values())} ({doubled})")
    assert lost == set()
    assert twice == []
    assert db_rows(db, "SELECT COUNT(*) FROM answers")[0][0] == 12 * len(users)
    assert db_rows(db, "SELECT COUNT(*) FROM inbox")[0][0] == 0
    assert db_rows(db, "SELECT COUNT(*) FROM reply_outbox")[0][0] == 0
    # A reply in flight at the kill may be sent again after the restart, at most one per chat.
    assert all(n <= 1 for n in doubled.values())


def test_sigterm_finishes_in_flight_work_within_5_s_and_keeps_the_rest(
        bot_api: FakeBotAPI, tmp_path: Path, processes: list[subprocess.Popen[bytes]]) -> None:
    db, log = tmp_path / "bot.db", tmp_path / "bot.log"
    processes.append(start_bot(bot_api, db, log, "--concurrency", "2"))
    assert bot_api.wait_for(lambda: bool(bot_api.commands_for()), 60)
    bot_api.latency = 0.3
    sent = [bot_api.send_text(720_000_001 + i, "/help") for i in range(40)]
    assert bot_api.wait_for(lambda: bot_api.acknowledged_offset > max(sent), 60)
    code, took = stop_bot(processes[0])
    assert code == 0 and took < 5
    left = db_rows(db, "SELECT COUNT(*) FROM inbox")[0][0]
    assert left > 0  # not handled yet, but safe
    bot_api.latency = 0.0
    processes.append(start_bot(bot_api, db, log))
    assert bot_api.wait_for(lambda: db_rows(db, "SELECT COUNT(*) FROM inbox")[0][0] == 0, 60)
    def answered(user_id: int) -> bool:
        return len(bot_api.messages(user_id)) >= 2

    assert all(bot_api.wait_for(partial(answered, 720_000_001 + i), 30) for i in range(40))
    processed = {r[0] for r in db_rows(db, "SELECT update_id FROM processed_updates")}
    assert set(sent) <= processed
    assert stop_bot(processes[1])[0] == 0


def test_missing_token_is_one_line_naming_the_variable_and_exit_2(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    result = subprocess.run([sys.executable, "-m", "bot.cli", "run", "--db",
                             str(tmp_path / "x.db")], env=env, capture_output=True, cwd=PROJECT,
                            timeout=60)
    assert result.returncode == 2
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "TELEGRAM_BOT_TOKEN" in lines[0]


def test_rejected_token_is_one_line_naming_the_variable_and_exit_2(
        bot_api: FakeBotAPI, tmp_path: Path) -> None:
    wrong = "654321:not-the-right-token"
    result = subprocess.run([sys.executable, "-m", "bot.cli", "run", "--log-level", "DEBUG"],
                            env=env_for(bot_api, tmp_path / "x.db", token=wrong),
                            capture_output=True, cwd=PROJECT, timeout=60)
    assert result.returncode == 2
    stderr = result.stderr.decode()
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("ccbot: ") and "TELEGRAM_BOT_TOKEN" in last
    assert wrong not in stderr and "not-the-right-token" not in stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def post(url: str, update: dict[str, Any], secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(url, json.dumps(update).encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_webhook_process_sets_the_webhook_and_checks_the_secret(
        bot_api: FakeBotAPI, tmp_path: Path, processes: list[subprocess.Popen[bytes]]) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    env = {**env_for(bot_api, tmp_path / "hook.db"), "TELEGRAM_WEBHOOK_SECRET": "hook-Secret_1"}
    with (tmp_path / "hook.log").open("wb") as stderr:
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "webhook", "--port", str(port), "--url", url],
            env=env, cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=stderr))
    assert bot_api.wait_for(lambda: bot_api.webhook_url == url, 60)
    assert bot_api.calls_to("setWebhook")[-1]["secret_token"] == "hook-Secret_1"
    update = {"update_id": 1, "message": {
        "message_id": 1, "date": int(time.time()), "text": "/start",
        "chat": {"id": 730_000_001, "type": "private"},
        "from": {"id": 730_000_001, "is_bot": False, "first_name": "W"}}}
    assert post(url, update, None) == 403
    assert post(url, update, "wrong") == 403
    db = tmp_path / "hook.db"
    assert db_rows(db, "SELECT COUNT(*) FROM inbox")[0][0] == 0
    assert post(url, update, "hook-Secret_1") == 200
    assert bot_api.wait_for(lambda: len(bot_api.messages(730_000_001)) == 1, 30)
    assert stop_bot(processes[0])[0] == 0
    assert Counter(r[0] for r in db_rows(db, "SELECT update_id FROM processed_updates")) == {1: 1}
