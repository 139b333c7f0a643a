"""Shared fixtures: the shipped content, loaded once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.definitions.loader import load_content
from bot.definitions.model import Content
from bot.engine.messages import REQUIRED_MESSAGES

PROJECT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def content() -> Content:
    """The content and dialogues the project ships."""
    return load_content(PROJECT / "content", PROJECT / "dialogues", REQUIRED_MESSAGES)
