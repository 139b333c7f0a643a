"""The in-memory twin of the directory and outbox, kept on a MemoryStore for tests."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from bot.engine.core.events import UserKey
from bot.engine.core.records import Op
from bot.engine.memory.blocked_chats import MemoryBlockedChats
from bot.engine.memory.broadcast_outbox import BroadcastOutboxMemory
from bot.engine.memory.pseudonym_keys import MemoryPseudonymKeys
from bot.engine.memory.releases import HANDLERS as RELEASE_HANDLERS
from bot.engine.memory.releases import ReleaseMemory
from bot.engine.memory.store import MemoryStore
from bot.engine.memory.team_view import TeamViewMemory
from bot.engine.ports import directory_ops as ops
from bot.engine.ports.broadcasts import (
    FAILED,
    PENDING,
    Broadcast,
    BroadcastAnswer,
    Delivery,
    NewBroadcast,
    Recipient,
    Report,
    ResponseRow,
)
from bot.engine.ports.directory import EVERYONE, parse_key, split_audience
from bot.engine.ports.schedules import Schedule
from bot.engine.ports.team_reads import Digest
from bot.engine.ports.teams import Cohort, Invite, Member, Team


class MemoryDirectory(TeamViewMemory, BroadcastOutboxMemory, MemoryPseudonymKeys, ReleaseMemory):
    """Directory and BroadcastOutbox over plain dicts, with the same behaviour as the SQLite one."""

    def __init__(self, store: MemoryStore) -> None:
        MemoryPseudonymKeys.__init__(self)
        ReleaseMemory.__init__(self)
        self.store = store
        self._lock = threading.RLock()
        self._settings: dict[str, str] = {}
        self._grants: dict[tuple[str, str], float] = {}
        self._teams: dict[int, Team] = {}
        self._members: dict[tuple[int, str], Member] = {}
        self._invites: dict[str, Invite] = {}
        self._cohorts: dict[int, Cohort] = {}
        self._broadcasts: dict[int, Broadcast] = {}
        self._deliveries: dict[int, Delivery] = {}
        self._answers: dict[tuple[int, str], BroadcastAnswer] = {}
        self._schedules: dict[int, Schedule] = {}
        self._digests: dict[int, Digest] = {}
        # The one registry of blocked chats, shared with replies (ports/blocked_chats.py).
        self.blocked = MemoryBlockedChats()
        self._ids: Counter[str] = Counter()

    def _next(self, table: str) -> int:
        self._ids[table] += 1
        return self._ids[table]

    # ------------------------------------------------------------------ reads
    def setting(self, name: str) -> str | None:
        with self._lock:
            return self._settings.get(name)

    def granted_roles(self, user: UserKey) -> frozenset[str]:
        with self._lock:
            return frozenset(role for (key, role) in self._grants if key == str(user))

    def grants(self) -> list[tuple[str, str, float]]:
        with self._lock:
            return sorted((key, role, at) for (key, role), at in self._grants.items())

    def teams(self) -> list[Team]:
        with self._lock:
            return sorted(self._teams.values(), key=lambda t: t.name.casefold())

    def team(self, team_id: int) -> Team | None:
        with self._lock:
            return self._teams.get(team_id)

    def team_named(self, name: str) -> Team | None:
        with self._lock:
            return next((t for t in self._teams.values()
                         if t.name.casefold() == name.casefold()), None)

    def memberships(self, user: UserKey) -> list[Member]:
        with self._lock:
            return sorted((m for m in self._members.values() if m.user == user),
                          key=lambda m: m.team_id)

    def members(self, team_id: int) -> list[Member]:
        with self._lock:
            return sorted((m for m in self._members.values() if m.team_id == team_id),
                          key=lambda m: (m.joined_at, str(m.user)))

    def invite(self, code: str) -> Invite | None:
        with self._lock:
            return self._invites.get(code)

    def invites(self, team_id: int) -> list[Invite]:
        with self._lock:
            found = [i for i in self._invites.values() if i.team_id == team_id]
            return sorted(found, key=lambda i: (i.created_at, i.code), reverse=True)

    def role_links(self) -> list[Invite]:
        with self._lock:
            found = [i for i in self._invites.values() if i.kind == "role"]
            return sorted(found, key=lambda i: (i.created_at, i.code), reverse=True)

    def cohorts(self) -> list[Cohort]:
        with self._lock:
            return sorted(self._cohorts.values(), key=lambda c: c.name.casefold())

    def cohort(self, cohort_id: int) -> Cohort | None:
        with self._lock:
            return self._cohorts.get(cohort_id)

    def cohort_named(self, name: str) -> Cohort | None:
        with self._lock:
            return next((c for c in self._cohorts.values()
                         if c.name.casefold() == name.casefold()), None)

    def recipients(self, audience: str, channels: Iterable[str]) -> list[Recipient]:
        wanted = set(channels)
        kind, ident = split_audience(audience)
        records = self.store.users()
        with self._lock:
            if kind == EVERYONE:
                keys = {r.key for r in records}
            elif kind == "team":
                keys = {m.user for m in self._members.values() if m.team_id == ident}
            elif kind == "cohort" and ident in self._cohorts:
                teams = set(self._cohorts[ident].team_ids)
                keys = {m.user for m in self._members.values() if m.team_id in teams}
            else:
                keys = set()
            blocked = set(self.blocked.users)
        found = [Recipient(r.key, r.key.id, r.locale) for r in records
                 if r.key in keys and r.consent and r.key.channel in wanted
                 and str(r.key) not in blocked]
        return sorted(found, key=lambda r: str(r.user))

    def broadcast(self, broadcast_id: int) -> Broadcast | None:
        with self._lock:
            return self._broadcasts.get(broadcast_id)

    def broadcasts(self, limit: int, created_by: str | None = None) -> list[Broadcast]:
        with self._lock:
            found = [b for b in self._broadcasts.values()
                     if created_by is None or b.created_by == created_by]
            return sorted(found, key=lambda b: b.id, reverse=True)[:limit]

    def delivery_of(self, broadcast_id: int, user: UserKey) -> Delivery | None:
        with self._lock:
            return next((d for d in self._deliveries.values()
                         if d.broadcast_id == broadcast_id and d.user == user), None)

    def answer_of(self, broadcast_id: int, user: UserKey) -> BroadcastAnswer | None:
        with self._lock:
            return self._answers.get((broadcast_id, str(user)))

    def report(self, broadcast_id: int) -> Report | None:
        with self._lock:
            broadcast = self._broadcasts.get(broadcast_id)
            if broadcast is None:
                return None
            mine = [d for d in self._deliveries.values() if d.broadcast_id == broadcast_id]
            failures = Counter(d.last_error or "unknown" for d in mine if d.status == FAILED)
            answers = [a for (bid, _), a in self._answers.items() if bid == broadcast_id]
            levels = Counter(a.level for a in answers if a.level is not None)
            return Report(
                broadcast, self.progress(broadcast_id),
                tuple(sorted(failures.items(), key=lambda kv: (-kv[1], kv[0]))),
                answered=sum(1 for a in answers if a.level is not None),
                distribution=tuple(sorted((lv, n) for lv, n in levels.items())),
                notes=sum(1 for a in answers if a.note),
            )

    def schedules(self, active_only: bool = True) -> list[Schedule]:
        with self._lock:
            return sorted((s for s in self._schedules.values()
                           if not active_only or s.status == "active"), key=lambda s: s.id)

    def schedule(self, schedule_id: int) -> Schedule | None:
        with self._lock:
            return self._schedules.get(schedule_id)

    def due_schedules(self, now: float) -> list[Schedule]:
        return [s for s in self.schedules() if s.next_run_at <= now]

    def responses(self) -> list[ResponseRow]:
        with self._lock:
            rows = []
            for (bid, _), answer in self._answers.items():
                broadcast = self._broadcasts[bid]
                teams = tuple(sorted(self._teams[m.team_id].name
                                     for m in self._members.values() if m.user == answer.user))
                rows.append(ResponseRow(bid, broadcast.created_at, broadcast.audience_label,
                                        broadcast.kind, broadcast.question, answer.user,
                                        answer.level, answer.note, answer.answered_at, teams))
            return sorted(rows, key=lambda r: (r.broadcast_id, r.answered_at, str(r.user)))

    # ------------------------------------------------------------------ writes (op handlers)
    def apply(self, op: Op) -> None:
        """Apply one op; called by MemoryStore.commit under its lock."""
        with self._lock:
            _HANDLERS[type(op)](self, op)

    def forget(self, user: UserKey) -> None:
        """Delete every row about the user; rows they created lose their name."""
        key = str(user)
        with self._lock:
            self._grants = {k: v for k, v in self._grants.items() if k[0] != key}
            self._members = {k: v for k, v in self._members.items() if k[1] != key}
            self._deliveries = {i: d for i, d in self._deliveries.items() if d.user != user}
            self._answers = {k: v for k, v in self._answers.items() if k[1] != key}
            self.blocked.unblock(user.id, key)
            self._forget_digests(user)
            self._revoke_role_links(key)
            self.forget_salt(user)
            self._forget_releases(user)
            for code, inv in self._invites.items():
                if inv.created_by == key:
                    self._invites[code] = replace(inv, created_by=None)
            for bid, b in self._broadcasts.items():
                if b.created_by == key:
                    self._broadcasts[bid] = replace(b, created_by=None, progress_chat_id=None,
                                                    progress_message_id=None)
            for sid, s in self._schedules.items():
                if s.created_by == key:
                    self._schedules[sid] = replace(s, created_by=None)
            # A broadcast waiting only for this user's copy is now complete.
            for bid in list(self._broadcasts):
                self._finish_if_done(bid, time.time())

    def _set_setting(self, op: ops.SetSetting) -> None:
        if not (op.keep and op.name in self._settings):
            self._settings[op.name] = op.value

    def _grant(self, op: ops.GrantRole) -> None:
        self._grants.setdefault((op.user, op.role), op.at)

    def _revoke(self, op: ops.RevokeRole) -> None:
        self._grants.pop((op.user, op.role), None)
        self._revoke_role_links(op.user)

    def _revoke_role_links(self, key: str) -> None:
        """A demoted or forgotten person's role links are withdrawn."""
        now = time.time()
        for code, inv in self._invites.items():
            if inv.kind == "role" and inv.created_by == key and inv.revoked_at is None:
                self._invites[code] = replace(inv, revoked_at=now)

    def _create_team(self, op: ops.CreateTeam) -> None:
        team = Team(self._next("teams"), op.name, op.at)
        self._teams[team.id] = team
        self._create_invite(ops.CreateInvite(replace(op.invite, team_id=team.id)))

    def _create_invite(self, op: ops.CreateInvite) -> None:
        i = op.invite
        self._invites[i.code] = Invite(i.code, i.kind, i.team_id, i.role, i.at, i.max_uses, 0,
                                       i.expires_at, None, i.by)

    def _revoke_invites(self, op: ops.RevokeInvites) -> None:
        for code, inv in self._invites.items():
            if inv.revoked_at is None and (code == op.code or (
                    op.team_id is not None and inv.team_id == op.team_id)):
                self._invites[code] = replace(inv, revoked_at=op.at)

    def _consume(self, op: ops.ConsumeInvite) -> None:
        inv = self._invites.get(op.code)
        if inv is not None:
            self._invites[op.code] = replace(inv, uses=inv.uses + 1)

    def _join(self, op: ops.JoinTeam) -> None:
        key = (op.team_id, op.user)
        existing = self._members.get(key)
        if existing is None:
            self._members[key] = Member(op.team_id, parse_key(op.user), op.role, op.at)
        elif op.role == "manager":
            self._members[key] = replace(existing, role="manager")

    def _set_member_role(self, op: ops.SetMemberRole) -> None:
        key = (op.team_id, op.user)
        if key in self._members:
            self._members[key] = replace(self._members[key], role=op.role)

    def _leave(self, op: ops.LeaveTeam) -> None:
        self._members.pop((op.team_id, op.user), None)

    def _create_cohort(self, op: ops.CreateCohort) -> None:
        cohort = Cohort(self._next("cohorts"), op.name, ())
        self._cohorts[cohort.id] = cohort

    def _cohort_team(self, op: ops.SetCohortTeam) -> None:
        cohort = self._cohorts.get(op.cohort_id)
        if cohort is None:
            return
        teams = set(cohort.team_ids) - {op.team_id}
        if op.member:
            teams.add(op.team_id)
        self._cohorts[op.cohort_id] = replace(cohort, team_ids=tuple(sorted(teams)))

    def _insert_broadcast(self, new: NewBroadcast, recipients: Iterable[Recipient]) -> None:
        bid = self._next("broadcasts")
        self._broadcasts[bid] = Broadcast(
            bid, new.created_by, new.audience, new.audience_label, new.kind, new.question,
            new.body, new.created_at, "sending", new.schedule_id, new.progress_chat_id)
        for r in recipients:
            did = self._next("deliveries")
            self._deliveries[did] = Delivery(did, bid, r.user, r.user.channel, r.chat_id,
                                             PENDING, next_attempt_at=new.created_at,
                                             locale=r.locale)
        self._finish_if_done(bid, new.created_at)

    def _create_broadcast(self, op: ops.CreateBroadcast) -> None:
        self._insert_broadcast(op.broadcast, op.recipients)

    def _answer(self, op: ops.RecordAnswer) -> None:
        key = (op.broadcast_id, op.user)
        existing = self._answers.get(key)
        if existing is None:
            self._answers[key] = BroadcastAnswer(op.broadcast_id, parse_key(op.user), op.level,
                                                 None, op.at)
        elif existing.level is None:
            self._answers[key] = replace(existing, level=op.level, answered_at=op.at)

    def _note(self, op: ops.RecordNote) -> None:
        key = (op.broadcast_id, op.user)
        existing = self._answers.get(key)
        if existing is None:
            self._answers[key] = BroadcastAnswer(op.broadcast_id, parse_key(op.user), None,
                                                 op.note, op.at)
        else:
            self._answers[key] = replace(existing, note=op.note)

    def _create_schedule(self, op: ops.CreateSchedule) -> None:
        s = op.schedule
        sid = self._next("schedules")
        self._schedules[sid] = Schedule(
            sid, s.created_by, s.frequency, s.weekday, s.local_time, s.timezone, s.audience,
            s.audience_label, s.kind, s.question, s.body, s.next_run_at, s.created_at)

    def _cancel_schedule(self, op: ops.CancelSchedule) -> None:
        s = self._schedules.get(op.schedule_id)
        if s is not None and s.status == "active":
            self._schedules[op.schedule_id] = replace(s, status="cancelled")

    def _run_schedule(self, op: ops.RunSchedule) -> None:
        s = self._schedules.get(op.schedule_id)
        if s is None or s.status != "active" or s.next_run_at != op.expected_next_run:
            return
        self._schedules[op.schedule_id] = replace(
            s, next_run_at=op.next_run_at if op.next_run_at is not None else s.next_run_at,
            status="active" if op.next_run_at is not None else "done",
            cycle_index=op.cycle_index, last_run_at=op.at, last_result=op.result)
        if op.broadcast is not None:
            self._insert_broadcast(op.broadcast, op.recipients)


_HANDLERS: dict[type[Op], Callable[[MemoryDirectory, Any], None]] = {
    ops.SetSetting: MemoryDirectory._set_setting,
    ops.GrantRole: MemoryDirectory._grant,
    ops.RevokeRole: MemoryDirectory._revoke,
    ops.CreateTeam: MemoryDirectory._create_team,
    ops.CreateInvite: MemoryDirectory._create_invite,
    ops.RevokeInvites: MemoryDirectory._revoke_invites,
    ops.ConsumeInvite: MemoryDirectory._consume,
    ops.JoinTeam: MemoryDirectory._join,
    ops.SetMemberRole: MemoryDirectory._set_member_role,
    ops.LeaveTeam: MemoryDirectory._leave,
    ops.CreateCohort: MemoryDirectory._create_cohort,
    ops.SetCohortTeam: MemoryDirectory._cohort_team,
    ops.CreateBroadcast: MemoryDirectory._create_broadcast,
    ops.RecordAnswer: MemoryDirectory._answer,
    ops.RecordNote: MemoryDirectory._note,
    ops.CreateSchedule: MemoryDirectory._create_schedule,
    ops.CancelSchedule: MemoryDirectory._cancel_schedule,
    ops.RunSchedule: MemoryDirectory._run_schedule,
    ops.SetDigest: MemoryDirectory._set_digest,
    ops.StopDigest: MemoryDirectory._stop_digest,
    ops.RunDigest: MemoryDirectory._run_digest,
    **RELEASE_HANDLERS,
}


def install_memory(store: MemoryStore) -> MemoryDirectory:
    """Attach a directory to a MemoryStore: its op handlers and its forget handler."""
    directory = MemoryDirectory(store)
    store.tables["directory"] = directory
    for op_type in _HANDLERS:
        store.op_handlers[op_type] = lambda _store, op: directory.apply(op)
    store.forget_handlers.append(lambda _store, user: directory.forget(user))
    return directory
