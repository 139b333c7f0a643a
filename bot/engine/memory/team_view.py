"""The in-memory twin of the team view's reads and the weekly digests, for MemoryDirectory."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import replace

from bot.engine.core.events import UserKey
from bot.engine.core.summaries import latest_levels
from bot.engine.memory.store import MemoryStore
from bot.engine.ports import directory_ops as ops
from bot.engine.ports.directory import parse_key
from bot.engine.ports.team_reads import AlreadyRun, Digest, TeamActivity
from bot.engine.ports.teams import Member

CYCLE = "cycle"


class TeamViewMemory:
    """Team levels and activity computed from the MemoryStore's answers; digests in a dict."""

    store: MemoryStore
    _lock: threading.RLock
    _members: dict[tuple[int, str], Member]
    _digests: dict[int, Digest]
    _ids: Counter[str]

    def _team(self, team_id: int) -> list[UserKey]:
        with self._lock:
            return [m.user for m in self._members.values() if m.team_id == team_id]

    def team_levels(self, team_id: int) -> list[tuple[str, str, int]]:
        found = []
        for user in self._team(team_id):
            levels = latest_levels(self.store.answers(user, CYCLE))
            found += [(str(user), question, level) for question, level in levels.items()]
        return found

    def team_activity(self, team_id: int, since: float) -> TeamActivity:
        members = self._team(team_id)
        active = steps = 0
        for user in members:
            record = self.store.load_user(user)
            active += record is not None and record.last_seen >= since
            steps += len({(a.cycle, a.question) for a in self.store.answers(user, CYCLE)
                          if a.level is not None})
        return TeamActivity(len(members), active, steps)

    def digests(self, user: UserKey | None = None) -> list[Digest]:
        with self._lock:
            return sorted((d for d in self._digests.values() if user is None or d.user == user),
                          key=lambda d: d.id)

    def digests_due(self, now: float) -> list[Digest]:
        return [d for d in self.digests() if d.next_run_at <= now]

    # ------------------------------------------------------------------ op handlers
    def _set_digest(self, op: ops.SetDigest) -> None:
        user = parse_key(op.user)
        found = next((d for d in self._digests.values()
                      if d.user == user and d.team_id == op.team_id), None)
        if found is None:
            self._ids["digests"] += 1
            digest_id = self._ids["digests"]
            self._digests[digest_id] = Digest(digest_id, user, op.team_id, op.weekday,
                                              op.local_time, op.timezone, op.next_run_at, op.at)
        else:
            self._digests[found.id] = replace(found, weekday=op.weekday,
                                              local_time=op.local_time, timezone=op.timezone,
                                              next_run_at=op.next_run_at)

    def _stop_digest(self, op: ops.StopDigest) -> None:
        user = parse_key(op.user)
        self._digests = {i: d for i, d in self._digests.items()
                         if not (d.user == user and op.team_id in (None, d.team_id))}

    def _run_digest(self, op: ops.RunDigest) -> None:
        found = self._digests.get(op.digest_id)
        if found is None or found.next_run_at != op.expected_next_run:
            raise AlreadyRun(f"digest {op.digest_id} was run or changed by someone else")
        self._digests[op.digest_id] = replace(found, next_run_at=op.next_run_at,
                                              last_run_at=op.at, last_result=op.result)

    def _forget_digests(self, user: UserKey) -> None:
        self._digests = {i: d for i, d in self._digests.items() if d.user != user}
