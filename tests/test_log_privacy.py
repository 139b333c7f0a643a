"""No message body, name, username, token or webhook secret in any log line or exit message.

The real `ccbot run --log-level DEBUG` and `ccbot webhook` against the fake Bot API, plus the
filters on their own. The same run proves that a group chat gets only the pointer lines.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fake_bot_api import FakeBotAPI
from test_telegram_process import db_rows, env_for, free_port, stop_bot

from bot.channels.telegram.config import ConfigError, telegram_config
from bot.channels.telegram.redaction import TokenFilter
from bot.library_logs import HIDDEN, LibraryLogFilter

PROJECT = Path(__file__).resolve().parent.parent
ADMIN_ID, USER_ID, GROUP_ID = 760_000_001, 760_000_002, -1_760_000_003
FIRST_NAME, USERNAME = "Zorblaxfirst", "zorblax_handle_q7"
NOTE, BROADCAST, REFLECTION = "marker-note-Kq3", "marker-broadcast-Wy8", "marker-reflection-Pj5"
SECRET = "hook-Secret_Marker_9"
BOT_NAME = "ccbot_test_bot"


def record(name: str, msg: object, *args: object, level: int = logging.DEBUG) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, args or None, None)


def shown(filters: list[logging.Filter], entry: logging.LogRecord) -> str:
    for each in filters:
        each.filter(entry)
    return entry.getMessage()


# ---------------------------------------------------------------------- the filters alone

def test_ptb_call_parameters_and_results_keep_the_endpoint_and_lose_the_body() -> None:
    data = {"chat_id": 5, "text": f"Note saved: {NOTE}", "first_name": FIRST_NAME}
    calling = record("telegram.Bot", "Calling Bot API endpoint `%s` with parameters `%s`",
                     "sendMessage", data)
    finished = record("telegram.Bot", "Call to Bot API endpoint `%s` finished with return "
                      "value `%s`", "getUpdates", [{"message": {"text": NOTE}}])
    for entry in (calling, finished):
        line = shown([LibraryLogFilter()], entry)
        assert NOTE not in line and FIRST_NAME not in line and HIDDEN in line
    assert "`sendMessage`" in calling.getMessage()


def test_unparsable_updates_logged_at_critical_lose_their_data_too() -> None:
    entry = record("telegram.Bot", "Error while parsing updates! Received data was %r",
                   [{"message": {"from": {"username": USERNAME}}}], level=logging.CRITICAL)
    assert USERNAME not in shown([LibraryLogFilter()], entry)
    json_text = record("telegram.request.BaseRequest", 'Can not load invalid JSON data: "%s"',
                       f'{{"text":"{NOTE}"}}', level=logging.ERROR)
    assert NOTE not in shown([LibraryLogFilter()], json_text)


def test_a_library_line_keeps_plain_values_and_our_own_lines_are_left_as_written() -> None:
    url = record("telegram.Bot", "Set Bot API URL: %s", "http://127.0.0.1:8081/bot1:AB")
    assert shown([LibraryLogFilter(), TokenFilter("1:AB")], url) == \
        "Set Bot API URL: http://127.0.0.1:8081/bot<redacted>"
    ours = record("bot.channels.telegram.sender", "reply %s for chat %s", 3, 42)
    assert shown([LibraryLogFilter()], ours) == "reply 3 for chat 42"


def test_the_webhook_secret_is_redacted_like_the_token() -> None:
    entry = record("telegram.Bot", "setWebhook %s", f"secret_token={SECRET}")
    assert SECRET not in shown([TokenFilter("1:AB", SECRET)], entry)


def test_a_base_url_without_bot_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:AB")
    with pytest.raises(ConfigError, match="TELEGRAM_API_BASE_URL must end in /bot"):
        telegram_config("http://127.0.0.1:8081")


def exit_line(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    result = subprocess.run([sys.executable, "-m", "bot.cli", *argv], env=env,
                            capture_output=True, cwd=PROJECT, timeout=60)
    return result.returncode, result.stderr.decode()


def test_configuration_errors_never_print_the_token_or_the_secret(tmp_path: Path) -> None:
    token = "7012345678:AAHf-Exit_Line_Token_Marker9x8"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "CCBOT_"))}
    env.update({"TELEGRAM_BOT_TOKEN": token, "CCBOT_DB": str(tmp_path / "x.db"),
                "TELEGRAM_API_BASE_URL": "http://127.0.0.1:1", "TELEGRAM_WEBHOOK_SECRET": SECRET})
    code, stderr = exit_line(["run"], env)
    assert code == 2 and "TELEGRAM_API_BASE_URL" in stderr
    # An operator who pastes the token or the secret into --url gets them back redacted.
    env["TELEGRAM_API_BASE_URL"] = "http://127.0.0.1:1/bot"
    code_url, stderr_url = exit_line(["webhook", "--url", f"ftp://h/{token}/{SECRET}",
                                      "--port", "1"], env)
    assert code_url == 2 and "--url" in stderr_url and "<redacted>" in stderr_url
    for text in (stderr, stderr_url):
        for secret in (token, quote(token, safe=""), token.split(":")[1], SECRET):
            assert secret not in text


# ---------------------------------------------------------------------- the real process

def newest_with(fake: FakeBotAPI, chat: int, label: str, timeout: float = 60) -> dict[str, Any]:
    """The newest message in `chat` with a button labelled `label`, once there is one."""
    found: list[dict[str, Any]] = []

    def seen() -> bool:
        found[:] = [m for m in fake.messages(chat) if label in dict(FakeBotAPI.buttons(m))]
        return bool(found)

    assert fake.wait_for(seen, timeout), (label, fake.texts(chat)[-3:])
    return found[-1]


def tap(fake: FakeBotAPI, user: int, label: str) -> None:
    message = newest_with(fake, user, label)
    data = dict(FakeBotAPI.buttons(message))[label]
    assert data is not None
    fake.press_button(user, message["message_id"], data)


def says(fake: FakeBotAPI, chat: int, part: str, timeout: float = 60) -> None:
    assert fake.wait_for(lambda: any(part in t for t in fake.texts(chat)), timeout), \
        (part, fake.texts(chat)[-3:])


def person_update(fake: FakeBotAPI, user: int, text: str, chat: int | None = None) -> None:
    """A text message from someone whose name and username are the markers."""
    chat_json: dict[str, Any] = (
        {"id": user, "type": "private", "first_name": FIRST_NAME, "username": USERNAME}
        if chat is None else {"id": chat, "type": "supergroup", "title": "Staff room"})
    message: dict[str, Any] = {
        "message_id": int(time.time() * 1000) % 1_000_000_000, "date": int(time.time()),
        "text": text, "chat": chat_json,
        "from": {"id": user, "is_bot": False, "first_name": FIRST_NAME, "username": USERNAME,
                 "last_name": FIRST_NAME + "last", "language_code": "en"}}
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0,
                                "length": len(text.split()[0])}]
    fake.send_raw_update({"message": message})


def onboard(fake: FakeBotAPI, user: int) -> None:
    person_update(fake, user, "/start")
    tap(fake, user, "Yes, I agree")
    tap(fake, user, "Manager")
    tap(fake, user, "Developing")
    newest_with(fake, user, "About this evidence")


def sent_texts(fake: FakeBotAPI, *chats: int) -> list[str]:
    """Every text and caption the bot sent, as sent (edits included)."""
    said = [c.get("text") or c.get("caption") or "" for name in ("sendMessage", "editMessageText",
            "sendPhoto", "sendDocument") for c in fake.calls_to(name)
            if c.get("chat_id") in chats or str(c.get("chat_id")) in map(str, chats)]
    return [s for s in said if len(s) >= 12]


@pytest.mark.slow
def test_a_debug_run_logs_no_note_name_broadcast_reflection_or_reply_and_groups_get_pointers(
        bot_api: FakeBotAPI, tmp_path: Path, processes: list[subprocess.Popen[bytes]]) -> None:
    fake, db, log = bot_api, tmp_path / "bot.db", tmp_path / "bot.log"
    env = {**env_for(fake, db), "CCBOT_ADMINS": str(ADMIN_ID)}
    with log.open("wb") as stderr:
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run", "--poll-timeout", "1", "--log-level",
             "DEBUG", "--schedule-interval", "0.5"],
            env=env, cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=stderr))
    onboard(fake, USER_ID)
    person_update(fake, USER_ID, f"{NOTE} about Mrs K")
    says(fake, USER_ID, "Note saved.")
    onboard(fake, ADMIN_ID)
    # The admin types a broadcast; the user answers it and writes a reflection.
    person_update(fake, ADMIN_ID, "/broadcast")
    tap(fake, ADMIN_ID, "everyone")
    tap(fake, ADMIN_ID, "Type a message")
    person_update(fake, ADMIN_ID, f"{BROADCAST}: how did this week go?")
    tap(fake, ADMIN_ID, "Send now")
    says(fake, USER_ID, BROADCAST)
    tap(fake, USER_ID, "Write a reflection")
    person_update(fake, USER_ID, f"{REFLECTION} we listened more")
    says(fake, USER_ID, "reflection", timeout=60)
    person_update(fake, USER_ID, "/mydata")
    assert fake.wait_for(lambda: bool(fake.documents(USER_ID)), 60)
    # In a group: personal and privileged commands get one pointer line each, nothing else.
    commands = [("/mydata", USER_ID), ("/profile", USER_ID), ("/team", ADMIN_ID),
                ("/makecoordinator", ADMIN_ID)]
    for command, who in commands:
        person_update(fake, who, f"{command}@{BOT_NAME}", chat=GROUP_ID)
    assert fake.wait_for(lambda: len(fake.messages(GROUP_ID)) >= len(commands), 60)
    person_update(fake, USER_ID, f"/help@{BOT_NAME}", chat=GROUP_ID)  # answered after them all
    says(fake, GROUP_ID, "What I can do:")
    # /forget while the bot runs: the note and the reflection leave the database and its -wal.
    def holding(marker: str) -> list[str]:
        return [p.name for p in db.parent.glob("bot.db*") if marker.encode() in p.read_bytes()]

    assert holding(NOTE) and holding(REFLECTION)  # the scan sees them before
    person_update(fake, USER_ID, "/forget")
    tap(fake, USER_ID, "Yes")
    says(fake, USER_ID, "everything about you has been deleted")
    assert fake.wait_for(lambda: not db_rows(db, "SELECT 1 FROM reply_outbox"), 30)
    assert holding(NOTE) == [] and holding(REFLECTION) == []
    code, _ = stop_bot(processes[0])
    assert code == 0

    posted = fake.messages(GROUP_ID)
    pointer = "Let's talk in private"
    assert [m["text"].startswith(pointer) for m in posted] == [True] * len(commands) + [False]
    assert fake.documents(GROUP_ID) == [] and fake.photos(GROUP_ID) == []
    group_calls = json.dumps([c for c in fake.calls_to("sendMessage")
                              if str(c.get("chat_id")) == str(GROUP_ID)])
    assert "?start=" not in group_calls
    text = log.read_text("utf-8")
    assert "Calling Bot API endpoint `sendMessage`" in text  # DEBUG really was on
    markers = [NOTE, BROADCAST, REFLECTION, FIRST_NAME, USERNAME, fake.token,
               quote(fake.token, safe=""), fake.token.split(":")[1]]
    for marker in markers:
        assert marker not in text, marker
    replies = sent_texts(fake, USER_ID, ADMIN_ID, GROUP_ID)
    assert len(replies) > 20
    for reply in replies:
        for line in reply.splitlines():
            assert len(line) < 12 or line not in text, line


@pytest.mark.slow
def test_a_debug_webhook_run_never_logs_the_secret_or_the_token(
        bot_api: FakeBotAPI, tmp_path: Path, processes: list[subprocess.Popen[bytes]]) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    log = tmp_path / "hook.log"
    env = {**env_for(bot_api, tmp_path / "hook.db"), "TELEGRAM_WEBHOOK_SECRET": SECRET}
    with log.open("wb") as stderr:
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "webhook", "--port", str(port), "--url", url,
             "--log-level", "DEBUG"],
            env=env, cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=stderr))
    assert bot_api.wait_for(lambda: bot_api.webhook_url == url, 60)
    update = {"update_id": 1, "message": {
        "message_id": 1, "date": int(time.time()), "text": NOTE,
        "chat": {"id": USER_ID, "type": "private", "first_name": FIRST_NAME},
        "from": {"id": USER_ID, "is_bot": False, "first_name": FIRST_NAME,
                 "username": USERNAME}}}
    request = urllib.request.Request(url, json.dumps(update).encode(), {
        "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET})
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status == 200
    assert bot_api.wait_for(lambda: len(bot_api.messages(USER_ID)) >= 1, 30)
    assert stop_bot(processes[0])[0] == 0
    text = log.read_text("utf-8")
    assert "setWebhook" in text
    for marker in (SECRET, bot_api.token, bot_api.token.split(":")[1], NOTE, FIRST_NAME,
                   USERNAME):
        assert marker not in text, marker
