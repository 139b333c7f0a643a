"""Where things are: the database file and content folders, from flags, environment or defaults."""

from __future__ import annotations

import os
from pathlib import Path

DB_ENV = "CCBOT_DB"
CONTENT_ENV = "CCBOT_CONTENT"
DIALOGUES_ENV = "CCBOT_DIALOGUES"
DEFAULT_DB = "ccbot.db"

# Content ships beside the package in a source checkout (the README's install is editable).
_PROJECT = Path(__file__).resolve().parent.parent


def db_path(flag: str | None) -> str:
    """--db, else $CCBOT_DB, else ./ccbot.db."""
    return flag or os.environ.get(DB_ENV) or DEFAULT_DB


def _folder(flag: str | None, env: str, name: str) -> Path:
    if flag:
        return Path(flag)
    if os.environ.get(env):
        return Path(os.environ[env])
    local = Path.cwd() / name
    return local if local.is_dir() else _PROJECT / name


def content_dir(flag: str | None) -> Path:
    """--content, else $CCBOT_CONTENT, else ./content, else the project's content/."""
    return _folder(flag, CONTENT_ENV, "content")


def dialogues_dir(flag: str | None) -> Path:
    """--dialogues, else $CCBOT_DIALOGUES, else ./dialogues, else the project's dialogues/."""
    return _folder(flag, DIALOGUES_ENV, "dialogues")
