"""A small world for coordinator tests: one engine, its directory, and people chatting to it."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import count
from pathlib import Path
from typing import Any

from bot.definitions.model import Content
from bot.engine.coordination import coordination
from bot.engine.core.events import Event, Response, UserKey
from bot.engine.engine import Engine
from bot.engine.features.dashboard.feature import DashboardFeature
from bot.engine.features.practice.feature import PracticeFeature
from bot.engine.features.reminders.feature import RemindersFeature
from bot.engine.memory.dashboard import attach as attach_dashboard
from bot.engine.memory.directory import install_memory
from bot.engine.memory.practice import MemoryPractice
from bot.engine.memory.practice import attach as attach_practice
from bot.engine.memory.reminders import attach as attach_reminders
from bot.engine.memory.store import MemoryStore
from bot.engine.ports.broadcasts import BroadcastOutbox
from bot.engine.ports.dashboard import DashboardBook
from bot.engine.ports.directory import Directory
from bot.engine.ports.practice import PracticeBook
from bot.engine.ports.reminders import ReminderBook
from bot.engine.ports.store import Store
from bot.storage.dashboard_store import install_dashboard
from bot.storage.directory_store import install
from bot.storage.practice_store import install_practice
from bot.storage.reminder_store import install_reminders
from bot.storage.sqlite_store import SQLiteStore

ADMIN = UserKey("telegram", "1")
START = 1_750_000_000.0  # Sun 15 Jun 2025 15:06:40 UTC
DASHBOARD_URL = "https://dash.example.org"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class World:
    """An engine with the coordinator features over a memory or SQLite store."""

    def __init__(self, content: Content, kind: str = "memory", path: Path | None = None,
                 admins: frozenset[str] = frozenset({str(ADMIN)})) -> None:
        self.content = content
        self.clock = Clock()
        self.store: Store
        if kind == "memory":
            memory = MemoryStore()
            self.directory: Directory = install_memory(memory)
            self.outbox: BroadcastOutbox = self.directory
            self.practice: PracticeBook = attach_practice(memory, MemoryPractice())
            self.reminders: ReminderBook = attach_reminders(memory)
            self.dashboard: DashboardBook = attach_dashboard(memory)
            self.store = memory
        else:
            assert path is not None
            sqlite = SQLiteStore(path)
            self.directory = install(sqlite)
            self.outbox = self.directory
            self.practice = install_practice(sqlite)
            self.reminders = install_reminders(sqlite)
            self.dashboard = install_dashboard(sqlite)
            self.store = sqlite
        features, roles = coordination(self.directory, admins, bot_username="testbot",
                                       practice=self.practice)
        self.roles = roles
        self.engine = Engine(content, self.store, clock=self.clock,
                             features=[PracticeFeature(self.practice),
                                       RemindersFeature(self.reminders),
                                       DashboardFeature(DASHBOARD_URL), *features], roles=roles)
        self.ids: Iterator[int] = count(1)

    def chat(self, ident: str, channel: str = "telegram") -> Chat:
        return Chat(self, UserKey(channel, ident))

    def member(self, ident: str, channel: str = "telegram") -> Chat:
        """A user who has been through onboarding (onboarded now if they had not been)."""
        chat = self.chat(ident, channel)
        record = self.store.load_user(chat.user)
        if record is None or not record.consent:
            chat.onboard()
        return chat

    def close(self) -> None:
        self.store.close()


class Chat:
    """One person talking to the world's engine."""

    def __init__(self, world: World, user: UserKey) -> None:
        self.world = world
        self.user = user
        self.last = Response()

    def handle(self, **kwargs: Any) -> Response:
        self.last = self.world.engine.handle(Event(self.user, update_id=next(self.world.ids),
                                                   **kwargs))
        return self.last

    def send(self, text: str) -> Response:
        return self.handle(text=text)

    def press(self, data: str) -> Response:
        """Press a button by its callback data (which may be forged)."""
        return self.handle(choice=data)

    def tap(self, label: str) -> Response:
        return self.press(self.button(label))

    def button(self, label: str) -> str:
        for reply in reversed(self.last.replies):
            for choice in reply.choices:
                if choice.label == label:
                    return choice.id
        raise AssertionError(f"no button {label!r} in {self.text()!r}")

    def labels(self) -> list[str]:
        return [c.label for r in self.last.replies for c in r.choices]

    def text(self) -> str:
        return "\n".join(r.text for r in self.last.replies)

    def onboard(self, start: str = "/start") -> None:
        self.send(start)
        self.tap("Yes, I agree")
        self.tap("Frontline staff")

    def awaiting(self) -> str | None:
        record = self.world.store.load_user(self.user)
        return record.awaiting if record else None


def invite_code(text: str) -> str:
    """The start payload of the first invite link in a reply."""
    marker = "?start="
    assert marker in text, text
    return text.split(marker, 1)[1].split()[0]


def ccbot(argv: list[str]) -> int:
    """Run a `ccbot` subcommand in-process, without main()'s global logging set-up."""
    from bot.cli import build_parser

    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result
