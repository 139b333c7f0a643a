"""The docs keep up with the code: every `ccbot` subcommand and chat command is documented."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import build_parser, main
from bot.definitions.checked import load_content
from bot.engine.coordination import coordination
from bot.engine.engine import Engine
from bot.engine.features.dashboard.feature import DashboardFeature
from bot.engine.features.practice.feature import PracticeFeature
from bot.engine.features.reminders.feature import RemindersFeature
from bot.engine.memory.directory import install_memory
from bot.engine.memory.practice import MemoryPractice
from bot.engine.memory.practice import attach as attach_practice
from bot.engine.memory.reminders import attach as attach_reminders
from bot.engine.memory.store import MemoryStore
from bot.engine.messages import ALL_COMMANDS, REQUIRED_MESSAGES

PROJECT = Path(__file__).resolve().parent.parent


def chat_commands() -> set[str]:
    """Every chat command the bot knows, without the slash: each is declared once, as a
    Command of a feature, and a fully wired engine has them all."""
    content = load_content(PROJECT / "content", PROJECT / "dialogues", REQUIRED_MESSAGES)
    store = MemoryStore()
    features, roles = coordination(install_memory(store))
    practice = PracticeFeature(attach_practice(store, MemoryPractice()))
    reminders = RemindersFeature(attach_reminders(store))
    dashboard = DashboardFeature(None)
    engine = Engine(content, store, features=[practice, reminders, dashboard, *features],
                    roles=roles)
    assert {c.name for c in ALL_COMMANDS} == set(engine.commands)
    return set(engine.commands)


DOCS = (PROJECT / "README.md", *sorted((PROJECT / "docs").glob("*.md")))


def docs_text() -> str:
    return "\n".join(path.read_text("utf-8") for path in DOCS)


def subcommands(parser: argparse.ArgumentParser,
                path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every subcommand path under `parser`, nested ones too: ('teams',), ('teams', 'cohort')..."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*path, name)
                yield from subcommands(sub, (*path, name))


SUBCOMMANDS = sorted(subcommands(build_parser()))


def documented(path: tuple[str, ...], text: str) -> bool:
    """True if a line names `ccbot <first>` and then, later on that line, the rest in order.

    So `ccbot teams cohort list|create NAME|add COHORT TEAM` documents `teams cohort add`, and
    "`ccbot teams list`, `teams create NAME`" documents `teams create`.
    """
    for line in text.splitlines():
        words = re.findall(r"[a-z][a-z0-9_-]*", line.lower())
        for at in (i for i, word in enumerate(words[:-1]) if word == "ccbot"):
            if words[at + 1] != path[0]:
                continue
            rest = iter(words[at + 2:])
            if all(part in rest for part in path[1:]):
                return True
    return False


def test_the_cli_has_nested_subcommands() -> None:
    assert ("chat",) in SUBCOMMANDS and ("teams", "cohort", "add") in SUBCOMMANDS
    assert ("roles", "grant") in SUBCOMMANDS and ("export", "responses") in SUBCOMMANDS


def test_a_subcommand_counts_as_documented_only_with_its_whole_path() -> None:
    text = "| `ccbot teams list`, `teams create NAME` | teams |\nrun `ccbot backup` nightly"
    assert documented(("teams", "create"), text) and documented(("backup",), text)
    assert not documented(("teams", "rotate"), text)
    assert not documented(("create",), text)  # a word later on the line is not a subcommand


@pytest.mark.parametrize("path", SUBCOMMANDS, ids=" ".join)
def test_every_subcommand_is_documented(path: tuple[str, ...]) -> None:
    assert documented(path, docs_text()), (
        f"`ccbot {' '.join(path)}` is not in README.md or docs/*.md: add it to the table of "
        "`ccbot` commands in README.md (or the doc about its subject)")


@pytest.mark.parametrize("path", SUBCOMMANDS, ids=" ".join)
def test_every_subcommand_has_help(path: tuple[str, ...],
                                   capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*path, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: ccbot {' '.join(path)}")


def test_the_command_list_is_found() -> None:
    assert {"start", "help", "cycle", "team", "broadcast", "makecoordinator"} <= chat_commands()


@pytest.mark.parametrize("command", sorted(chat_commands()))
def test_every_chat_command_is_documented(command: str) -> None:
    # /team must not count as documented because /teams is.
    assert re.search(rf"(?<![\w/.?])/{command}(?![\w])", docs_text()), (
        f"/{command} is not in README.md or docs/*.md: add it to a command table in README.md")
