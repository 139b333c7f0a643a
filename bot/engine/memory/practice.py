"""The in-memory twin of the practice port (bot/storage/practice_store.py is the SQLite one)."""

from __future__ import annotations

import threading
from dataclasses import asdict, replace
from typing import Any

from bot.engine.core.events import UserKey
from bot.engine.core.records import Op
from bot.engine.memory.store import MemoryStore
from bot.engine.ports.practice import (
    TRIED,
    AlreadyClaimed,
    AnswerFollowUp,
    ClaimFollowUp,
    Commitment,
    MakeCommitment,
    NoteFollowUp,
)


class MemoryPractice:
    """Commitments in a dict; the ops arrive through MemoryStore.commit (see `attach`)."""

    def __init__(self) -> None:
        self._rows: dict[int, Commitment] = {}
        self._next = 1
        self._lock = threading.Lock()

    def commitments(self, user: str) -> list[Commitment]:
        with self._lock:
            return sorted((c for c in self._rows.values() if c.user == user),
                          key=lambda c: (-c.made_at, -c.id))

    def commitment(self, commitment_id: int) -> Commitment | None:
        with self._lock:
            return self._rows.get(commitment_id)

    def due_followups(self, now: float, limit: int) -> list[Commitment]:
        with self._lock:
            due = [c for c in self._rows.values() if c.due_at is not None and c.due_at <= now]
        return sorted(due, key=lambda c: (c.due_at or 0.0, c.id))[:limit]

    def tried_by_strand(self, user: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for c in self.commitments(user):
            if c.status in TRIED:
                counts[c.strand] = counts.get(c.strand, 0) + 1
        return counts

    def broadcast_outcomes(self, broadcast_id: int) -> dict[str, str]:
        with self._lock:
            return {c.user: c.status for c in self._rows.values()
                    if c.broadcast_id == broadcast_id and c.status != "open"
                    and (c.status != "not_yet" or c.due_at is None)}

    def tried_by(self, users: list[str], since: float, until: float) -> dict[str, set[str]]:
        wanted = set(users)
        found: dict[str, set[str]] = {}
        with self._lock:
            for c in self._rows.values():
                if (c.user in wanted and c.status in TRIED and c.answered_at is not None
                        and since <= c.answered_at < until):
                    found.setdefault(c.strand, set()).add(c.user)
        return found

    # ------------------------------------------------------------------ writes
    def apply(self, op: Op) -> None:
        """Apply one op (called inside the store's commit)."""
        with self._lock:
            if isinstance(op, MakeCommitment):
                self._rows[self._next] = Commitment(
                    self._next, op.user, op.question, op.strand, op.level, op.persona,
                    op.made_at, op.due_at, broadcast_id=op.broadcast_id)
                self._next += 1
            elif isinstance(op, ClaimFollowUp):
                row = self._rows.get(op.id)
                if row is None or row.due_at != op.due_at:
                    raise AlreadyClaimed(op.id)
                self._rows[op.id] = replace(row, due_at=None, asked=row.asked + 1)
            elif isinstance(op, AnswerFollowUp):
                row = self._rows.get(op.id)
                if row is not None and row.user == op.user:
                    self._rows[op.id] = replace(row, status=op.status, answered_at=op.at,
                                                due_at=op.due_at)
            elif isinstance(op, NoteFollowUp):
                row = self._rows.get(op.id)
                if row is not None and row.user == op.user:
                    self._rows[op.id] = replace(row, note=op.note)

    def forget(self, user: UserKey) -> None:
        """Delete every commitment of a forgotten user."""
        with self._lock:
            self._rows = {i: c for i, c in self._rows.items() if c.user != str(user)}

    def export(self, user: UserKey) -> list[dict[str, Any]]:
        """The user's commitments as plain values, for /mydata."""
        return [asdict(c) for c in self.commitments(str(user))]


def attach(store: MemoryStore, practice: MemoryPractice) -> MemoryPractice:
    """Register the practice ops and forget handler on a MemoryStore; returns `practice`."""
    for op_type in (MakeCommitment, ClaimFollowUp, AnswerFollowUp, NoteFollowUp):
        store.op_handlers[op_type] = lambda _store, op: practice.apply(op)
    store.forget_handlers.append(lambda _store, user: practice.forget(user))
    store.exporters["commitments"] = practice.export
    return practice
