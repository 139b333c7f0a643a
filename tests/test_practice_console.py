"""`ccbot chat` shows a follow-up that fell due while it was closed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from coordinator_world import World
from test_practice_process import LIBFAKETIME

from bot.definitions.model import Content

PROJECT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(LIBFAKETIME is None,
                                reason="needs libfaketime (apt-get install faketime)")


def chat(db: Path, lines: list[str], shift: str) -> str:
    """`ccbot chat --user ana` with its clock moved by `shift`; what it printed."""
    env = {**os.environ, "CCBOT_DB": str(db), "LD_PRELOAD": str(LIBFAKETIME),
           "FAKETIME": shift}
    result = subprocess.run([sys.executable, "-m", "bot.cli", "chat", "--user", "ana"],
                            input="\n".join(lines).encode("utf-8") + b"\n",
                            capture_output=True, env=env, cwd=PROJECT, timeout=120)
    assert result.returncode == 0, result.stderr
    return " ".join(result.stdout.decode("utf-8").split())  # the console wraps long lines


def test_the_terminal_chat_asks_how_it_went_once_the_follow_up_is_due(
        content: Content, tmp_path: Path) -> None:
    db = tmp_path / "console.db"
    world = World(content, "sqlite", db)
    world.clock.now = time.time()  # the console runs on the real clock, moved
    ana = world.member("ana", channel="console")
    ana.send("/cycle")
    ana.send("2")
    ana.tap("I'll try this")
    ana.tap("In 7 days")
    world.close()
    early = chat(db, ["/actions"], "+2d")
    assert "How did it go?" not in early and "Planned:" in early
    later = chat(db, ["1", "Called the two families back.", "/actions"], "+9d")
    assert "How did it go?" in later
    assert later.count("How did it go?") == 1
    assert "practice history" in later and "tried, it helped" in later
    again = chat(db, ["/actions"], "+10d")
    assert "How did it go?" not in again  # sent once
