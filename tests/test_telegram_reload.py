"""Reloading content in the running `ccbot run`: SIGHUP and --watch, bad content kept out."""

from __future__ import annotations

import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from fake_bot_api import FakeBotAPI
from test_telegram_process import PROJECT, start_bot, stop_bot

pytestmark = pytest.mark.slow  # starts `ccbot run` processes and signals them

QUESTION = "How far do you use what service users and communities tell you"


def copy_project(tmp_path: Path) -> tuple[Path, Path]:
    shutil.copytree(PROJECT / "content", tmp_path / "content")
    shutil.copytree(PROJECT / "dialogues", tmp_path / "dialogues")
    return tmp_path / "content", tmp_path / "dialogues"


def texts(fake: FakeBotAPI, chat: int) -> str:
    return "\n".join(m["text"] or "" for m in fake.messages(chat))


def onboard(fake: FakeBotAPI, user: int) -> None:
    fake.send_text(user, "/start")
    assert fake.wait_for(lambda: "Is that OK with you?" in texts(fake, user), 20)
    message = fake.last_message(user)
    assert message is not None
    fake.press_button(user, message["message_id"], FakeBotAPI.buttons(message)[0][1] or "")
    assert fake.wait_for(lambda: "Which best describes your role?" in texts(fake, user), 20)
    message = fake.last_message(user)
    assert message is not None
    fake.press_button(user, message["message_id"], FakeBotAPI.buttons(message)[0][1] or "")
    assert fake.wait_for(lambda: QUESTION in texts(fake, user), 20)


def edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text("utf-8").replace(old, new), "utf-8")


def test_sighup_reloads_valid_content_and_keeps_the_old_on_problems(
        bot_api: FakeBotAPI, tmp_path: Path, processes: list[subprocess.Popen[bytes]]) -> None:
    content, dialogues = copy_project(tmp_path)
    log = tmp_path / "bot.log"
    bot = start_bot(bot_api, tmp_path / "bot.db", log, "--content", str(content),
                    "--dialogues", str(dialogues))
    processes.append(bot)
    onboard(bot_api, 7001)
    # A broken edit first: the bot logs it and keeps speaking the old content.
    edit(dialogues / "cycle.yaml", "ask: delivery.agility,", "ask: delivery.agilty,")
    edit(content / "steps/outcomes.yaml", QUESTION, "How well do you use what people say")
    bot.send_signal(signal.SIGHUP)
    assert bot_api.wait_for(lambda: "content reload refused" in log.read_text("utf-8"), 20)
    assert "unknown question 'delivery.agilty'" in log.read_text("utf-8")
    bot_api.send_text(7001, "/where")
    assert bot_api.wait_for(lambda: texts(bot_api, 7001).count(QUESTION) >= 2, 20)
    # Fixed: the next SIGHUP takes the new wording.
    edit(dialogues / "cycle.yaml", "ask: delivery.agilty,", "ask: delivery.agility,")
    bot.send_signal(signal.SIGHUP)
    assert bot_api.wait_for(lambda: "content reloaded" in log.read_text("utf-8"), 20)
    bot_api.send_text(7001, "/where")
    assert bot_api.wait_for(
        lambda: "How well do you use what people say" in texts(bot_api, 7001), 20)
    assert stop_bot(bot)[0] == 0


def test_watch_reloads_when_a_file_is_saved(
        bot_api: FakeBotAPI, tmp_path: Path, processes: list[subprocess.Popen[bytes]]) -> None:
    content, dialogues = copy_project(tmp_path)
    log = tmp_path / "bot.log"
    bot = start_bot(bot_api, tmp_path / "bot.db", log, "--content", str(content),
                    "--dialogues", str(dialogues), "--watch")
    processes.append(bot)
    onboard(bot_api, 7002)
    edit(content / "steps/outcomes.yaml", QUESTION, "How well do you use what people say")
    assert bot_api.wait_for(lambda: "content reloaded" in log.read_text("utf-8"), 20)
    bot_api.send_text(7002, "/where")
    assert bot_api.wait_for(
        lambda: "How well do you use what people say" in texts(bot_api, 7002), 20)
    assert stop_bot(bot)[0] == 0
