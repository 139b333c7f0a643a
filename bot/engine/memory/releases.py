"""The in-memory twin of the release port (rounds, answers, ledger) for MemoryDirectory."""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from bot.engine.core.events import UserKey
from bot.engine.core.records import Answer, Op
from bot.engine.memory.store import MemoryStore
from bot.engine.ports.broadcasts import BroadcastAnswer
from bot.engine.ports.releases import (
    CloseRound,
    OpenRound,
    RecordRelease,
    ReleaseConflict,
    Released,
    Round,
    RoundAnswer,
)
from bot.engine.ports.teams import Member
from bot.engine.release.audit import first_refused


def latest_within(answers: list[Answer], start: float, end: float) -> dict[str, int]:
    """The latest level per sub-component among cycle answers given in [start, end)."""
    found: dict[str, tuple[float, int]] = {}
    for answer in answers:
        if answer.level is None or not start <= answer.at < end:
            continue
        if answer.question not in found or answer.at >= found[answer.question][0]:
            found[answer.question] = (answer.at, answer.level)
    return {question: level for question, (_, level) in found.items()}


class ReleaseMemory:
    """Rounds and the release ledger in dicts; MemoryDirectory inherits it."""

    store: MemoryStore
    _lock: threading.RLock
    _members: dict[tuple[int, str], Member]
    _answers: dict[tuple[int, str], BroadcastAnswer]
    _ids: Counter[str]
    _rounds: dict[int, Round]
    _round_answers: dict[int, tuple[RoundAnswer, ...]]
    _ledger: list[Released]

    def __init__(self) -> None:
        self._rounds, self._round_answers, self._ledger = {}, {}, []

    def rounds(self, team_id: int) -> list[Round]:
        with self._lock:
            return sorted((r for r in self._rounds.values() if r.team_id == team_id),
                          key=lambda r: r.number)

    def round_answers(self, round_id: int) -> list[RoundAnswer]:
        with self._lock:
            return list(self._round_answers.get(round_id, ()))

    def round_levels(self, team_id: int, start: float, end: float) -> list[RoundAnswer]:
        with self._lock:
            members = [m for m in self._members.values() if m.team_id == team_id]
        found = []
        for member in members:
            levels = latest_within(self.store.answers(member.user, "cycle"),
                                   max(start, member.joined_at), end)
            found += [RoundAnswer(str(member.user), q, v) for q, v in sorted(levels.items())]
        return found

    def released(self, viewer: str) -> list[Released]:
        with self._lock:
            return [row for row in self._ledger if row.viewer == viewer]

    def broadcast_levels(self, broadcast_id: int) -> list[RoundAnswer]:
        with self._lock:
            return [RoundAnswer(key, "", a.level) for (bid, key), a in self._answers.items()
                    if bid == broadcast_id and a.level is not None]

    # ------------------------------------------------------------------ op handlers
    def _open_round(self, op: OpenRound) -> None:
        if any(r.number == op.number for r in self.rounds(op.team_id)):
            return
        self._ids["rounds"] += 1
        round_id = self._ids["rounds"]
        self._rounds[round_id] = Round(round_id, op.team_id, op.number, op.opened_at,
                                       op.closes_at)

    def _close_round(self, op: CloseRound) -> None:
        found = next((r for r in self.rounds(op.team_id) if r.number == op.number), None)
        if found is None or found.closed:
            return  # closing twice changes nothing
        self._rounds[found.id] = replace(found, closed_at=op.closed_at, closed_by=op.closed_by)
        self._round_answers[found.id] = op.answers

    def _record_release(self, op: RecordRelease) -> None:
        # As the SQLite store: checked again against the ledger as it is now.
        for viewer in {r.viewer for r in op.rows} if op.minimum is not None else ():
            def ledger(quantity: str, viewer: str = viewer) -> list[frozenset[str]]:
                return [r.people for r in self._ledger
                        if r.viewer == viewer and r.quantity == quantity]
            rows = [(r.quantity, r.people) for r in op.rows if r.viewer == viewer]
            if first_refused(rows, ledger, op.minimum or 0) is not None:
                raise ReleaseConflict("figures were released to the same viewer meanwhile")
        self._ledger.extend(op.rows)

    def _forget_releases(self, user: UserKey) -> None:
        # The person's answers stay in closed rounds (their figures never change) but lose
        # the link to them: one opaque token replaces their key everywhere.
        key, token = str(user), f"forgotten:{secrets.token_hex(8)}"
        self._round_answers = {
            i: tuple(replace(a, person=token) if a.person == key else a for a in answers)
            for i, answers in self._round_answers.items()}
        self._ledger = [replace(row, people=frozenset(token if p == key else p
                                                      for p in row.people))
                        for row in self._ledger if row.viewer != key]
        self._rounds = {i: replace(r, closed_by=None) if r.closed_by == key else r
                        for i, r in self._rounds.items()}


HANDLERS: dict[type[Op], Callable[[Any, Any], None]] = {
    OpenRound: ReleaseMemory._open_round,
    CloseRound: ReleaseMemory._close_round,
    RecordRelease: ReleaseMemory._record_release,
}
