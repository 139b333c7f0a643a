"""The in-memory twin of the reminders port (bot/storage/reminder_store.py is the SQLite one)."""

from __future__ import annotations

import threading
from dataclasses import asdict, replace
from typing import Any

from bot.engine.core.events import UserKey
from bot.engine.core.records import Op
from bot.engine.memory.store import MemoryStore
from bot.engine.ports.practice import AlreadyClaimed
from bot.engine.ports.reminders import ClaimNudge, Reminder, SetReminder


class MemoryReminders:
    """Reminders in a dict; quiet users are found among the store's records."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self._rows: dict[str, Reminder] = {}
        self._lock = threading.Lock()

    def reminder(self, user: str) -> Reminder | None:
        with self._lock:
            return self._rows.get(user)

    def due_nudges(self, now: float, limit: int) -> list[Reminder]:
        with self._lock:
            due = [r for r in self._rows.values() if r.next_at is not None and r.next_at <= now]
        return sorted(due, key=lambda r: (r.next_at or 0.0, r.user))[:limit]

    def quiet_users(self, since: float, limit: int) -> list[str]:
        with self._lock:
            known = set(self._rows)
        found = [str(r.key) for r in self.store.users()
                 if r.consent and r.last_seen < since and r.position("cycle") is not None
                 and str(r.key) not in known]
        return sorted(found)[:limit]

    def apply(self, op: Op) -> None:
        """Apply one op (inside the store's commit)."""
        with self._lock:
            if isinstance(op, SetReminder):
                row = self._rows.get(op.user, Reminder(op.user))
                self._rows[op.user] = replace(row, next_at=op.next_at, zone=op.zone or row.zone)
            elif isinstance(op, ClaimNudge):
                found = self._rows.get(op.user)
                if op.offer:
                    if found is not None:
                        raise AlreadyClaimed(op.user)
                    self._rows[op.user] = Reminder(op.user, offered_at=op.at)
                    return
                if found is None or found.next_at != op.expected:
                    raise AlreadyClaimed(op.user)
                self._rows[op.user] = replace(
                    found, next_at=op.next_at, unanswered=op.unanswered,
                    last_nudge_at=op.at if op.sent else found.last_nudge_at)

    def forget(self, user: UserKey) -> None:
        """Delete the forgotten user's reminders."""
        with self._lock:
            self._rows.pop(str(user), None)

    def export(self, user: UserKey) -> list[dict[str, Any]]:
        """The user's reminder row, for /mydata."""
        found = self.reminder(str(user))
        return [asdict(found)] if found else []


def attach(store: MemoryStore) -> MemoryReminders:
    """A reminders twin registered on the store: its ops, forget handler and /mydata rows."""
    reminders = MemoryReminders(store)
    for op_type in (SetReminder, ClaimNudge):
        store.op_handlers[op_type] = lambda _store, op: reminders.apply(op)
    store.forget_handlers.append(lambda _store, user: reminders.forget(user))
    store.exporters["reminders"] = reminders.export
    return reminders
