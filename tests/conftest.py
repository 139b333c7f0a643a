"""Shared fixtures: the shipped content (loaded once per session) and a fake Bot API."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from coordinator_world import World
from dashboard_client import Browser, site_of
from fake_bot_api import FakeBotAPI

from bot.definitions.checked import load_content
from bot.definitions.model import Content
from bot.engine.messages import REQUIRED_MESSAGES

PROJECT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def content() -> Content:
    """The content and dialogues the project ships."""
    return load_content(PROJECT / "content", PROJECT / "dialogues", REQUIRED_MESSAGES)


@pytest.fixture
def bot_api() -> Iterator[FakeBotAPI]:
    """A fake Telegram Bot API on a random local port, checked for internal errors at the end."""
    with FakeBotAPI() as api:
        yield api
        assert api.server_errors == []


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Bot processes a test starts; any still running at the end are killed."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture
def browser(world: World) -> Iterator[Browser]:
    """A browser on the dashboard over the test module's own `world` fixture."""
    made = Browser(site_of(world))
    yield made
    made.close()
