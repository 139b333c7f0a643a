"""Fills a database for broadcast tests and benchmarks: consented users in a team, broadcasts.

Bulk SQL for the users (onboarding 2,000 people turn by turn would dominate the run), the
directory's own ops for teams, memberships, roles, broadcasts and schedules.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

from bot.engine.core.events import UserKey
from bot.engine.features.broadcasts.actions import plan_broadcast
from bot.engine.features.teams.actions import new_invite
from bot.engine.ports.directory import commit_ops
from bot.engine.ports.directory_ops import (
    CreateBroadcast,
    CreateSchedule,
    CreateTeam,
    GrantRole,
    JoinTeam,
    SetDigest,
)
from bot.engine.ports.schedules import NewSchedule
from bot.storage.directory_store import SQLiteDirectory, install
from bot.storage.sqlite_store import SQLiteStore


def tg(ident: int | str) -> UserKey:
    return UserKey("telegram", str(ident))


class Seeded:
    """A database opened for seeding (close it before the bot starts, or keep reading)."""

    def __init__(self, path: Path) -> None:
        self.store = SQLiteStore(path)
        self.directory: SQLiteDirectory = install(self.store)

    def close(self) -> None:
        self.store.close()

    def users(self, idents: Iterable[int | str], locale: str = "en") -> None:
        """Consented Telegram users, as onboarding leaves them."""
        now = time.time()
        rows = [(str(tg(i)), "telegram", str(i), locale, 1, "active", now, now)
                for i in idents]
        with self.store.transaction() as conn:
            conn.executemany("INSERT OR IGNORE INTO users (key, channel, external_id, locale, "
                             "consent, status, created_at, last_seen) VALUES "
                             "(?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def team(self, name: str, members: Iterable[int | str], managers: Iterable[int] = ()) -> int:
        """A team with these members (and managers); returns its id."""
        now = time.time()
        if self.directory.team_named(name) is None:
            commit_ops(self.store, [CreateTeam(name, "cli", now, new_invite(
                "team", None, None, "cli", now))])
        team = self.directory.team_named(name)
        assert team is not None
        ops = [JoinTeam(team.id, str(tg(i)), now) for i in members]
        ops += [JoinTeam(team.id, str(tg(i)), now, "manager") for i in managers]
        commit_ops(self.store, ops)
        return team.id

    def grant(self, ident: int, role: str = "coordinator") -> None:
        commit_ops(self.store, [GrantRole(str(tg(ident)), role, "cli", time.time())])

    def broadcast(self, team: str, text: str, by: int | None = None) -> int:
        """A typed-text broadcast to a team, as the wizard's "Send now" makes it."""
        found = self.directory.team_named(team)
        assert found is not None
        op, _ = plan_broadcast(self.directory, f"team:{found.id}", team, "text", None, text,
                               tg(by) if by is not None else None, time.time(), ("telegram",))
        commit_ops(self.store, [op])
        return max(b.id for b in self.directory.broadcasts(1))

    def copies_for_chat(self, broadcast_id: int, chat_id: str, count: int) -> None:
        """Extra outbox rows addressed to one chat (a group, or one person twice)."""
        now = time.time()
        with self.store.transaction() as conn:
            conn.executemany(
                "INSERT INTO broadcast_outbox (broadcast_id, user_key, channel, chat_id, status, "
                "attempts, next_attempt_at, resent_after_restart) VALUES "
                "(?, ?, 'telegram', ?, 'pending', 0, ?, 0)",
                [(broadcast_id, f"telegram:extra-{chat_id}-{n}", chat_id, now)
                 for n in range(count)])

    def daily_schedule(self, team: str, text: str, by: int, due_at: float) -> None:
        """A daily typed-text schedule whose next run is `due_at` (may be in the past)."""
        found = self.directory.team_named(team)
        assert found is not None
        commit_ops(self.store, [CreateSchedule(NewSchedule(
            str(tg(by)), "daily", None, "09:00", "UTC", f"team:{found.id}", team, "text", None,
            text, due_at, time.time()))])

    def weekly_digest(self, team: str, ident: int, due_at: float) -> None:
        """`/digest on monday 09:00 UTC TEAM` for `ident`, next run `due_at`."""
        found = self.directory.team_named(team)
        assert found is not None
        commit_ops(self.store, [SetDigest(str(tg(ident)), found.id, 0, "09:00", "UTC", due_at,
                                          time.time())])


__all__ = ["CreateBroadcast", "Seeded", "tg"]


def most_in_a_second(times: list[float]) -> int:
    """The most events in any sliding one-second window (pacing checks)."""
    times = sorted(times)
    best, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best
