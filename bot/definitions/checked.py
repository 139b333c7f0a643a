"""Content that is known good: loaded, fully validated, or a ContentError listing every problem."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from bot.definitions.loader import load
from bot.definitions.model import Content
from bot.definitions.problems import ContentError
from bot.definitions.validation import validate_loaded


def load_content(content_dir: Path, dialogues_dir: Path,
                 required_messages: Iterable[str] = ()) -> Content:
    """Load and fully validate; raise ContentError listing every problem if there is one."""
    content, problems, sources = load(content_dir, dialogues_dir)
    if content is not None:
        problems.extend(validate_loaded(content, sources, required_messages))
    if content is None or any(not p.warning for p in problems):
        raise ContentError(problems)
    return content
