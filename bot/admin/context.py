"""What every coordinator subcommand shares: the opened database, errors, users, content."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from bot import settings
from bot.definitions.checked import load_content
from bot.definitions.model import DEFAULT_LOCALE, Content
from bot.definitions.problems import ContentError
from bot.engine.core.events import UserKey
from bot.engine.features.broadcasts.actions import CLI_MAKER
from bot.engine.messages import REQUIRED_MESSAGES
from bot.engine.ports.directory import Rejected
from bot.engine.ports.store import StoreError
from bot.storage.directory_store import SQLiteDirectory, install
from bot.storage.sqlite_store import SQLiteStore
from bot.wiring import USERNAME_ENV

EXIT_CONFIG = 2
CLI_ACTOR = CLI_MAKER  # what `ccbot` records as the maker of what it creates


class AdminError(Exception):
    """A problem with a coordinator command; printed as one line, exit status 2."""


@dataclass
class Opened:
    """The database and directory a command works on."""

    store: SQLiteStore
    directory: SQLiteDirectory


@contextmanager
def open_database(args: argparse.Namespace) -> Iterator[Opened]:
    try:
        store = SQLiteStore(settings.db_path(args.db))
    except StoreError as exc:
        raise AdminError(str(exc)) from exc
    try:
        yield Opened(store, install(store))
    finally:
        store.close()


def english(error: Rejected, args: argparse.Namespace) -> str:
    """The explanation of a rejection, in the content's English wording."""
    return error.text(admin_content(args), DEFAULT_LOCALE)


def admin_content(args: argparse.Namespace) -> Content:
    try:
        return load_content(settings.content_dir(args.content),
                            settings.dialogues_dir(args.dialogues), REQUIRED_MESSAGES)
    except ContentError as exc:
        raise AdminError(f"the content has problems; run `ccbot validate` "
                         f"({len(exc.problems)} found)") from exc


def user_key(text: str) -> UserKey:
    """A Telegram user id (e.g. 12345), or a full key such as console:alice."""
    value = text.strip()
    if value.isdigit():
        return UserKey("telegram", value)
    channel, _, ident = value.partition(":")
    if channel and ident:
        return UserKey(channel, ident)
    raise AdminError(f"'{value}' is not a user: give a Telegram user id (digits) or "
                     "channel:id such as console:alice")


def bot_username_of(args: argparse.Namespace, opened: Opened) -> str:
    return (getattr(args, "bot_username", None) or os.environ.get(USERNAME_ENV)
            or opened.directory.setting("bot_username") or "ccbot")
