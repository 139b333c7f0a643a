"""The real `ccbot run` process: a follow-up arrives after a restart with the clock moved on.

The process's own clock is moved with libfaketime (the `faketime` package, installed by
.ci/run), preloaded into the bot process itself rather than through the `faketime` wrapper,
which would take the SIGTERM meant for the bot. The bot has no test-only switch for its time.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fake_bot_api import FakeBotAPI
from test_telegram_process import READ_TIMEOUT, env_for, stop_bot

PROJECT = Path(__file__).resolve().parent.parent
USER = 714_000_001
# Where Debian and Ubuntu put libfaketime; the multi-threaded build, as the bot runs threads.
LIBFAKETIME = next((p for p in Path("/usr/lib").glob("*/faketime/libfaketimeMT.so.1")), None)

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(LIBFAKETIME is None,
                                 reason="needs libfaketime (apt-get install faketime)")]


def start_bot(fake: FakeBotAPI, db: Path, log: Path, shift: str | None = None,
              ) -> subprocess.Popen[bytes]:
    """`ccbot run`, its clock moved by `shift` when given (libfaketime's '+5d')."""
    command = [sys.executable, "-m", "bot.cli", "run", "--poll-timeout", "1", "--read-timeout",
               str(READ_TIMEOUT)]
    env = env_for(fake, db)
    if shift is not None:
        env.update({"LD_PRELOAD": str(LIBFAKETIME), "FAKETIME": shift})
    with log.open("ab") as stderr:
        return subprocess.Popen(command, env=env, cwd=PROJECT, stdout=subprocess.DEVNULL,
                                stderr=stderr)


def wait_for(found: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    """The first truthy value of `found()`, polled until `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def button_message(fake: FakeBotAPI, label: str) -> Callable[[], tuple[int, str] | None]:
    """The newest bot message with a button `label`: (message id, callback data)."""
    def find() -> tuple[int, str] | None:
        for message in reversed(fake.messages(USER)):
            for text, data in FakeBotAPI.buttons(message):
                if text == label and data:
                    return message["message_id"], data
        return None
    return find


def tap(fake: FakeBotAPI, label: str) -> None:
    message_id, data = wait_for(button_message(fake, label), f"a {label!r} button")
    fake.press_button(USER, message_id, data)


def test_a_follow_up_arrives_after_a_kill_and_a_restart_with_the_clock_moved_on(
        bot_api: FakeBotAPI, tmp_path: Path, processes: list[subprocess.Popen[bytes]]) -> None:
    db, log = tmp_path / "bot.db", tmp_path / "bot.log"
    processes.append(start_bot(bot_api, db, log))
    bot_api.send_text(USER, "/start")
    tap(bot_api, "Yes, I agree")
    tap(bot_api, "Frontline staff")
    wait_for(button_message(bot_api, "Developing"), "the first question")
    bot_api.send_text(USER, "2")
    tap(bot_api, "I'll try this")
    tap(bot_api, "In 3 days")
    wait_for(lambda: any("Noted." in t for t in bot_api.texts(USER)), "the commitment noted")
    processes[0].kill()  # kill -9: the commitment was committed with its reply
    processes[0].wait()
    assert not any("How did it go?" in t for t in bot_api.texts(USER))
    processes.append(start_bot(bot_api, db, log, shift="+5d"))
    wait_for(lambda: any("How did it go?" in t for t in bot_api.texts(USER)),
             "the follow-up after the restart")
    tap(bot_api, "Tried it — it helped")
    wait_for(lambda: any("practice history" in t for t in bot_api.texts(USER)),
             "the answer kept")
    code, _ = stop_bot(processes[1])
    assert code == 0
    follow_ups = [t for t in bot_api.texts(USER) if "How did it go?" in t]
    assert len(follow_ups) == 1, "sent exactly once"
