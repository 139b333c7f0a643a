"""The in-memory twin of the Store port, with the same behaviour as SQLiteStore."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import asdict, replace
from typing import Any

from bot.engine.core.events import UserKey
from bot.engine.core.records import Answer, Commit, Op, UserRecord
from bot.engine.ports.store import StoreError

OpHandler = Callable[[Any, Op], None]
ForgetHandler = Callable[[Any, UserKey], None]


class MemoryStore:
    """An in-memory Store with the same behaviour as the SQLite one."""

    def __init__(self) -> None:
        # Features keep their own in-memory tables here, keyed by feature name.
        self.tables: dict[str, Any] = {}
        self.op_handlers: dict[type[Op], OpHandler] = {}
        # Features delete their own rows about a user when the user is forgotten.
        self.forget_handlers: list[ForgetHandler] = []
        # Features add their rows about a user to /mydata: table name -> rows of the user.
        self.exporters: dict[str, Callable[[UserKey], list[dict[str, Any]]]] = {}
        self._users: dict[UserKey, UserRecord] = {}
        self._answers: list[Answer] = []
        self._seen: set[tuple[str, int]] = set()
        self._lock = threading.Lock()
        # Set by a channel that sends from a reply outbox (as SQLiteStore's reply_outbox): it
        # is called with each commit, inside the store's lock, to queue the turn's replies.
        self.turn_queue: Callable[[Commit], None] | None = None

    def load_user(self, key: UserKey) -> UserRecord | None:
        with self._lock:
            return self._users.get(key)

    def seen(self, channel: str, update_id: int) -> bool:
        with self._lock:
            return (channel, update_id) in self._seen

    def commit(self, change: Commit) -> bool:
        with self._lock:
            if change.update_id is not None:
                marker = (change.user.channel, change.update_id)
                if marker in self._seen:
                    return False
                self._seen.add(marker)
            if change.forget:
                self._users.pop(change.user, None)
                self._answers = [a for a in self._answers if a.user != change.user]
                for forget in self.forget_handlers:
                    forget(self, change.user)
                self._queue(change)
                return True
            if change.record is not None:
                self._users[change.user] = change.record
            self._answers.extend(change.answers)
            for noted in change.notes:
                self._answers = [replace(a, note=noted.note) if same_answer(a, noted) else a
                                 for a in self._answers]
            for op in change.ops:
                handler = self.op_handlers.get(type(op))
                if handler is None:
                    raise StoreError(f"no handler for {type(op).__name__} in MemoryStore; "
                                     "register one in op_handlers")
                handler(self, op)
            self._queue(change)
            return True

    def _queue(self, change: Commit) -> None:
        if self.turn_queue is not None:
            self.turn_queue(change)

    def answers(self, key: UserKey, dialogue: str | None = None) -> list[Answer]:
        with self._lock:
            return [a for a in self._answers
                    if a.user == key and (dialogue is None or a.dialogue == dialogue)]

    def users(self) -> list[UserRecord]:
        """Every stored user record (features resolve audiences such as 'everyone')."""
        with self._lock:
            return list(self._users.values())

    def export_user(self, key: UserKey) -> dict[str, Any]:
        with self._lock:
            record = self._users.get(key)
            data = {
                "users": [_record_dict(record)] if record else [],
                "dialogue_states": [asdict(p) for p in record.positions] if record else [],
                "answers": [_answer_dict(a) for a in self._answers if a.user == key],
            }
        for table, rows in self.exporters.items():
            data[table] = rows(key)
        return data

    def queues_replies(self) -> bool:
        # Without a turn queue, a turn's replies are handed back to the caller.
        return self.turn_queue is not None

    def close(self) -> None:
        """Nothing to release."""


def _record_dict(record: UserRecord) -> dict[str, Any]:
    data = asdict(record)
    data.pop("positions")
    data["key"] = str(record.key)
    return data


def _answer_dict(answer: Answer) -> dict[str, Any]:
    data = asdict(answer)
    data.pop("user")
    return data


def same_answer(a: Answer, b: Answer) -> bool:
    """True when both name the same stored answer (all but the note)."""
    return (a.user, a.dialogue, a.cycle, a.question, a.level, a.at) == (
        b.user, b.dialogue, b.cycle, b.question, b.level, b.at)
