"""Replays YAML transcripts (user says -> bot must answer) through the engine or `ccbot chat`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.engine.core.events import Choice, Event, UserKey
from bot.engine.engine import Engine

TRANSCRIPTS = Path(__file__).parent / "transcripts"
PROJECT = Path(__file__).parent.parent


@dataclass(frozen=True)
class Step:
    """One user action and what the bot's answer must (and must not) contain."""

    send: str | None
    tap: str | None
    expect: tuple[str, ...]
    expect_not: tuple[str, ...]
    choices: tuple[str, ...] | None


@dataclass(frozen=True)
class Transcript:
    """A named conversation for one user."""

    name: str
    user: str
    steps: tuple[Step, ...]
    locale: str | None = None


def load(path: Path) -> Transcript:
    """Parse a transcript file."""
    data: dict[str, Any] = yaml.safe_load(path.read_text("utf-8"))
    steps = tuple(
        Step(
            send=str(s["send"]) if "send" in s else None,
            tap=str(s["tap"]) if "tap" in s else None,
            expect=tuple(str(e) for e in s.get("expect", [])),
            expect_not=tuple(str(e) for e in s.get("expect_not", [])),
            choices=tuple(str(c) for c in s["choices"]) if "choices" in s else None,
        )
        for s in data["steps"]
    )
    return Transcript(data["name"], str(data.get("user", "tester")), steps, data.get("locale"))


def all_transcripts() -> list[Path]:
    """Every transcript file, sorted."""
    return sorted(TRANSCRIPTS.glob("*.yaml"))


def flat(text: str) -> str:
    """Whitespace collapsed, so wrapped console output compares with one-line expectations."""
    return " ".join(text.split())


def replay_engine(engine: Engine, transcript: Transcript) -> None:
    """Replay through the engine; assert every expectation, naming the step that failed."""
    key = UserKey("test", transcript.user)
    choices: tuple[Choice, ...] = ()
    for number, step in enumerate(transcript.steps, start=1):
        if step.tap is not None:
            match = [c for c in choices if c.label == step.tap]
            assert match, (f"{transcript.name} step {number}: no button '{step.tap}' "
                           f"among {[c.label for c in choices]}")
            event = Event(key, choice=match[0].id, update_id=None, locale=transcript.locale)
        else:
            event = Event(key, text=step.send or "", locale=transcript.locale)
        response = engine.handle(event)
        said = flat("\n".join(r.text for r in response.replies))
        for expected in step.expect:
            assert flat(expected) in said, (
                f"{transcript.name} step {number} ({step.send or step.tap}): expected "
                f"{expected!r} in:\n{said}")
        for unwanted in step.expect_not:
            assert flat(unwanted) not in said, (
                f"{transcript.name} step {number}: did not expect {unwanted!r} in:\n{said}")
        offered = [r.choices for r in response.replies if r.choices]
        if offered:
            choices = offered[-1]
        if step.choices is not None:
            assert tuple(c.label for c in choices) == step.choices, (
                f"{transcript.name} step {number}: choices {[c.label for c in choices]}")


def replay_console(transcript: Transcript, db: Path, extra_env: dict[str, str] | None = None,
                   ) -> str:
    """Replay through `ccbot chat` as a subprocess; taps are typed as the button's label."""
    lines = [step.tap if step.tap is not None else (step.send or "")
             for step in transcript.steps]
    # The console opens with an implicit /start; drop a leading explicit one to keep steps aligned.
    skip_first = bool(lines) and lines[0] == "/start"
    stdin = "\n".join(lines[1:] if skip_first else lines) + "\n"
    env = {**os.environ, "CCBOT_DB": str(db), **(extra_env or {})}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--user", transcript.user,
         *(["--lang", transcript.locale] if transcript.locale else [])],
        input=stdin.encode("utf-8"), capture_output=True, env=env, cwd=PROJECT, timeout=120,
    )
    out = result.stdout.decode("utf-8")
    assert result.returncode == 0, f"ccbot chat exited {result.returncode}: {result.stderr!r}"
    assert "Traceback" not in out + result.stderr.decode("utf-8", "replace")
    said = flat(out)
    position = 0
    for number, step in enumerate(transcript.steps, start=1):
        for expected in step.expect:
            found = said.find(flat(expected), position)
            assert found >= 0, (f"{transcript.name} step {number}: expected {expected!r} "
                                f"after position {position} in console output:\n{said}")
            position = found
    return out


def prompts_in(text: str) -> int:
    """How many '> ' input prompts the console printed."""
    return len(re.findall(r"(^|\n)> ", text))
