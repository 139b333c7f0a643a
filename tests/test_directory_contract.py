"""The contract both directories pass: the in-memory twin and SQLite, reads, ops and outbox."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.engine.core.events import UserKey
from bot.engine.core.pseudonyms import SECRET_SETTING
from bot.engine.core.records import Answer, Commit, Op, UserRecord
from bot.engine.memory.directory import install_memory
from bot.engine.memory.store import MemoryStore
from bot.engine.ports import directory_ops as ops
from bot.engine.ports.broadcasts import BroadcastOutbox, NewBroadcast, Recipient
from bot.engine.ports.directory import EVERYONE, Directory, audience_of, commit_ops
from bot.engine.ports.schedules import NewSchedule
from bot.engine.ports.store import Store
from bot.engine.ports.team_reads import AlreadyRun, TeamActivity
from bot.storage.directory_store import install
from bot.storage.sqlite_store import SQLiteStore

ANN, BEN, CAT = UserKey("telegram", "11"), UserKey("telegram", "22"), UserKey("telegram", "33")
CONSOLE = UserKey("console", "dan")
NOW = 1_750_000_000.0


@dataclass
class Setup:
    """A store with its directory (which is also its outbox)."""

    store: Store
    directory: Directory
    outbox: BroadcastOutbox
    kind: str

    def do(self, *batch: Op) -> None:
        commit_ops(self.store, batch)

    def user(self, key: UserKey, consent: bool = True, locale: str = "en") -> None:
        self.store.commit(Commit(key, None, UserRecord(key, locale, consent=consent)))


@pytest.fixture(params=["memory", "sqlite"])
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Setup]:
    if request.param == "memory":
        memory = MemoryStore()
        directory = install_memory(memory)
        yield Setup(memory, directory, directory, "memory")
    else:
        sqlite = SQLiteStore(tmp_path / "directory.db")
        found = install(sqlite)
        yield Setup(sqlite, found, found, "sqlite")
        sqlite.close()


def invite(code: str, team_id: int | None = None, kind: str = "team", role: str | None = None,
           max_uses: int | None = None, expires_at: float | None = None) -> ops.NewInvite:
    return ops.NewInvite(code, kind, team_id, role, "telegram:1", NOW, max_uses, expires_at)


def team(s: Setup, name: str = "riverside", code: str | None = None) -> int:
    s.do(ops.CreateTeam(name, "telegram:1", NOW, invite(code or f"in-{name}")))
    found = s.directory.team_named(name)
    assert found is not None
    return found.id


def broadcast(s: Setup, recipients: list[UserKey], audience: str = EVERYONE,
              kind: str = "prompt") -> int:
    new = NewBroadcast("telegram:1", audience, "", kind, "outcomes.insight" if kind == "prompt"
                       else None, "hello" if kind == "text" else None, NOW, None, "1")
    s.do(ops.CreateBroadcast(new, tuple(Recipient(k, k.id, "en") for k in recipients)))
    return s.directory.broadcasts(1)[0].id


# ---------------------------------------------------------------------- settings and roles
def test_a_kept_setting_is_not_replaced_and_others_are(setup: Setup) -> None:
    setup.do(ops.SetSetting("first", "one", keep=True))
    setup.do(ops.SetSetting("first", "other", keep=True))
    assert setup.directory.setting("first") == "one"
    setup.do(ops.SetSetting("bot_username", "a"), ops.SetSetting("bot_username", "b"))
    assert setup.directory.setting("bot_username") == "b"


def test_the_pseudonym_key_is_stable_and_never_stored_as_a_setting(setup: Setup) -> None:
    # Issue 12: the key lived in the database beside the data (SECRET_SETTING); no longer.
    key = setup.directory.pseudonym_key()
    assert len(key) >= 32 and setup.directory.pseudonym_key() == key
    assert setup.directory.setting(SECRET_SETTING) is None


def test_a_salt_is_stable_per_person_until_they_forget(setup: Setup) -> None:
    setup.user(ANN)
    first = setup.directory.pseudonym_salt(ANN)
    assert first and setup.directory.pseudonym_salt(ANN) == first
    assert setup.directory.pseudonym_salt(BEN) != first
    assert setup.store.commit(Commit(ANN, None, None, forget=True))
    assert setup.directory.pseudonym_salt(ANN) not in ("", first)


def test_roles_are_granted_and_revoked(setup: Setup) -> None:
    setup.do(ops.GrantRole(str(ANN), "coordinator", None, NOW),
             ops.GrantRole(str(ANN), "coordinator", None, NOW + 5))
    assert setup.directory.granted_roles(ANN) == {"coordinator"}
    assert setup.directory.grants() == [(str(ANN), "coordinator", NOW)]
    setup.do(ops.RevokeRole(str(ANN), "coordinator"))
    assert setup.directory.granted_roles(ANN) == frozenset()


# ---------------------------------------------------------------------- teams and invites
def test_team_names_are_found_case_insensitively(setup: Setup) -> None:
    tid = team(setup, "Riverside")
    assert setup.directory.team_named("RIVERSIDE") == setup.directory.team(tid)
    assert [t.name for t in setup.directory.teams()] == ["Riverside"]
    assert setup.directory.team_named("hillside") is None


def test_a_new_team_has_one_working_invite(setup: Setup) -> None:
    tid = team(setup, code="in-abc")
    found = setup.directory.invite("in-abc")
    assert found is not None and found.team_id == tid and found.kind == "team"
    assert found.problem(NOW) is None and found.uses == 0
    assert [i.code for i in setup.directory.invites(tid)] == ["in-abc"]


def test_invites_can_be_used_up_expire_and_be_revoked(setup: Setup) -> None:
    tid = team(setup)
    setup.do(ops.CreateInvite(invite("in-once", tid, max_uses=1)),
             ops.CreateInvite(invite("in-old", tid, expires_at=NOW + 10)))
    setup.do(ops.ConsumeInvite("in-once"))
    once = setup.directory.invite("in-once")
    assert once is not None and once.uses == 1 and once.problem(NOW) == "used_up"
    old = setup.directory.invite("in-old")
    assert old is not None and old.problem(NOW + 9) is None and old.problem(NOW + 10) == "expired"
    setup.do(ops.RevokeInvites(NOW, team_id=tid))
    assert all(i.problem(NOW) == "revoked" for i in setup.directory.invites(tid))


def test_revoking_one_code_leaves_the_others(setup: Setup) -> None:
    tid = team(setup, code="in-a")
    setup.do(ops.CreateInvite(invite("in-b", tid)), ops.RevokeInvites(NOW, code="in-a"))
    states = {i.code: i.problem(NOW) for i in setup.directory.invites(tid)}
    assert states == {"in-a": "revoked", "in-b": None}


def test_members_join_once_become_managers_and_leave(setup: Setup) -> None:
    tid = team(setup)
    setup.do(ops.JoinTeam(tid, str(ANN), NOW), ops.JoinTeam(tid, str(ANN), NOW + 1),
             ops.JoinTeam(tid, str(BEN), NOW + 2, role="manager"))
    assert [(m.user, m.role, m.joined_at) for m in setup.directory.members(tid)] == [
        (ANN, "member", NOW), (BEN, "manager", NOW + 2)]
    setup.do(ops.SetMemberRole(tid, str(ANN), "manager"), ops.LeaveTeam(tid, str(BEN)))
    assert [(m.user, m.role) for m in setup.directory.members(tid)] == [(ANN, "manager")]
    assert [m.team_id for m in setup.directory.memberships(ANN)] == [tid]
    setup.do(ops.JoinTeam(tid, str(ANN), NOW, role="manager"))
    assert [m.role for m in setup.directory.memberships(ANN)] == ["manager"]


def test_cohorts_hold_teams(setup: Setup) -> None:
    a, b = team(setup, "a"), team(setup, "b")
    setup.do(ops.CreateCohort("North", None, NOW))
    north = setup.directory.cohort_named("north")
    assert north is not None and north.team_ids == ()
    setup.do(ops.SetCohortTeam(north.id, b, True), ops.SetCohortTeam(north.id, a, True),
             ops.SetCohortTeam(north.id, a, True))
    assert setup.directory.cohort(north.id).team_ids == (a, b)  # type: ignore[union-attr]
    setup.do(ops.SetCohortTeam(north.id, a, False))
    assert [c.team_ids for c in setup.directory.cohorts()] == [(b,)]


# ---------------------------------------------------------------------- audiences
def test_recipients_are_consented_reachable_users_of_the_channel(setup: Setup) -> None:
    a, b = team(setup, "a"), team(setup, "b")
    for key in (ANN, BEN, CONSOLE):
        setup.user(key)
    setup.user(CAT, consent=False)
    setup.do(*(ops.JoinTeam(a, str(k), NOW) for k in (ANN, CAT, CONSOLE)),
             ops.JoinTeam(b, str(ANN), NOW), ops.JoinTeam(b, str(BEN), NOW),
             ops.CreateCohort("north", None, NOW))
    north = setup.directory.cohort_named("north")
    assert north is not None
    setup.do(ops.SetCohortTeam(north.id, a, True), ops.SetCohortTeam(north.id, b, True))

    def keys(audience: str) -> list[UserKey]:
        return [r.user for r in setup.directory.recipients(audience, ("telegram",))]

    assert keys(audience_of("team", a)) == [ANN]
    assert keys(audience_of("cohort", north.id)) == [ANN, BEN]
    assert keys(EVERYONE) == [ANN, BEN]
    assert keys("team:999") == [] and keys("nonsense") == []
    everyone = setup.directory.recipients(EVERYONE, ("telegram", "console"))
    assert [r.user for r in everyone] == [CONSOLE, ANN, BEN]
    assert [(r.chat_id, r.locale) for r in everyone][1] == ("11", "en")


# ---------------------------------------------------------------------- the outbox
def test_a_broadcast_has_one_pending_copy_per_recipient(setup: Setup) -> None:
    for key in (ANN, BEN):
        setup.user(key)
    bid = broadcast(setup, [ANN, BEN])
    found = setup.directory.broadcast(bid)
    assert found is not None and found.status == "sending" and found.progress_chat_id == "1"
    assert setup.outbox.progress(bid).pending == 2 and setup.outbox.progress(bid).total == 2
    copy = setup.directory.delivery_of(bid, ANN)
    assert copy is not None and copy.status == "pending" and copy.chat_id == "11"
    assert setup.directory.delivery_of(bid, CAT) is None
    assert [b.id for b in setup.outbox.unfinished()] == [bid]


def test_claims_take_due_rows_once_and_one_per_chat(setup: Setup) -> None:
    for key in (ANN, BEN, CAT):
        setup.user(key)
    first = broadcast(setup, [ANN, BEN, CAT])
    second = broadcast(setup, [ANN])
    assert setup.outbox.claim_due("telegram", NOW - 1, 10) == []
    batch = setup.outbox.claim_due("telegram", NOW, 10)
    assert [(d.broadcast_id, d.user, d.status, d.attempts) for d in batch] == [
        (first, ANN, "sending", 1), (first, BEN, "sending", 1), (first, CAT, "sending", 1)]
    # Ann's copy of the second broadcast waits for the next batch: one message per chat.
    assert [(d.broadcast_id, d.user) for d in setup.outbox.claim_due("telegram", NOW, 10)] == [
        (second, ANN)]
    assert setup.outbox.claim_due("telegram", NOW, 10) == []
    assert setup.outbox.claim_due("console", NOW, 10) == []


def test_claim_respects_the_limit(setup: Setup) -> None:
    keys = [UserKey("telegram", str(100 + i)) for i in range(5)]
    for key in keys:
        setup.user(key)
    broadcast(setup, keys)
    assert len(setup.outbox.claim_due("telegram", NOW, 2)) == 2
    assert len(setup.outbox.claim_due("telegram", NOW, 10)) == 3


def test_outcomes_are_recorded_once_and_finish_the_broadcast(setup: Setup) -> None:
    for key in (ANN, BEN, CAT):
        setup.user(key)
    bid = broadcast(setup, [ANN, BEN, CAT])
    a, b, c = setup.outbox.claim_due("telegram", NOW, 10)
    assert setup.outbox.mark_sent(a.id, 501, NOW + 1)
    assert not setup.outbox.mark_sent(a.id, 502, NOW + 2)  # not 'sending' any more
    assert setup.outbox.mark_retry(b.id, "timeout", NOW + 30)
    assert setup.outbox.mark_failed(c.id, "Bad Request: chat not found", NOW + 1)
    progress = setup.outbox.progress(bid)
    assert (progress.sent, progress.failed, progress.pending, progress.remaining) == (1, 1, 1, 1)
    assert setup.outbox.claim_due("telegram", NOW + 29, 10) == []
    (again,) = setup.outbox.claim_due("telegram", NOW + 30, 10)
    assert again.id == b.id and again.attempts == 2 and again.last_error == "timeout"
    assert setup.outbox.mark_sent(again.id, None, NOW + 31)
    done = setup.directory.broadcast(bid)
    assert done is not None and done.status == "done" and done.finished_at == NOW + 31
    assert setup.outbox.unfinished() == []
    sent = setup.directory.delivery_of(bid, ANN)
    assert sent is not None and sent.message_id == 501 and sent.sent_at == NOW + 1


def test_a_block_skips_the_users_other_copies_and_later_audiences(setup: Setup) -> None:
    for key in (ANN, BEN):
        setup.user(key)
    first = broadcast(setup, [ANN, BEN])
    second = broadcast(setup, [ANN])
    copy = next(d for d in setup.outbox.claim_due("telegram", NOW, 10) if d.user == ANN)
    assert setup.outbox.mark_blocked(copy.id, "Forbidden: bot was blocked by the user", NOW)
    other = setup.directory.delivery_of(second, ANN)
    assert other is not None and other.status == "blocked"
    assert setup.directory.broadcast(second).status == "done"  # type: ignore[union-attr]
    assert setup.outbox.progress(first).blocked == 1
    assert [r.user for r in setup.directory.recipients(EVERYONE, ("telegram",))] == [BEN]
    setup.outbox.unblock(ANN)
    assert [r.user for r in setup.directory.recipients(EVERYONE, ("telegram",))] == [ANN, BEN]


def test_a_copy_queued_before_a_block_is_skipped_at_claim(setup: Setup) -> None:
    for key in (ANN, BEN):
        setup.user(key)
    first = broadcast(setup, [ANN])
    (copy,) = setup.outbox.claim_due("telegram", NOW, 10)
    later = broadcast(setup, [ANN, BEN])
    setup.outbox.mark_blocked(copy.id, "Forbidden", NOW)
    assert [d.user for d in setup.outbox.claim_due("telegram", NOW, 10)] == [BEN]
    assert setup.outbox.progress(later).blocked == 1
    assert setup.outbox.progress(first).blocked == 1


def test_rows_in_flight_at_a_crash_are_counted_and_retried(setup: Setup) -> None:
    keys = [UserKey("telegram", str(100 + i)) for i in range(4)]
    for key in keys:
        setup.user(key)
    bid = broadcast(setup, keys)
    a, b, c = setup.outbox.claim_due("telegram", NOW, 3)
    setup.outbox.mark_sent(a.id, 1, NOW)
    # The process dies here with b and c 'sending'.
    assert setup.outbox.recover_in_flight(NOW + 60) == {bid: 2}
    assert setup.directory.broadcast(bid).in_flight_at_restart == 2  # type: ignore[union-attr]
    retried = {d.user: d for d in setup.outbox.claim_due("telegram", NOW + 60, 10)}
    assert set(retried) == {b.user, c.user, keys[3]}
    assert retried[b.user].resent_after_restart and not retried[keys[3]].resent_after_restart
    # The copy confirmed sent is never claimed again.
    assert a.user not in retried
    assert setup.outbox.recover_in_flight(NOW + 61) == {bid: 3}
    assert setup.directory.broadcast(bid).in_flight_at_restart == 5  # type: ignore[union-attr]


def test_progress_message_is_remembered(setup: Setup) -> None:
    setup.user(ANN)
    bid = broadcast(setup, [ANN])
    setup.outbox.set_progress_message(bid, 777)
    assert setup.outbox.unfinished()[0].progress_message_id == 777


# ---------------------------------------------------------------------- answers and reports
def test_the_first_level_counts_and_the_latest_note(setup: Setup) -> None:
    for key in (ANN, BEN, CAT):
        setup.user(key)
    bid = broadcast(setup, [ANN, BEN, CAT])
    setup.do(ops.RecordNote(bid, str(CAT), "first", NOW))
    setup.do(ops.RecordAnswer(bid, str(ANN), 2, NOW),
             ops.RecordAnswer(bid, str(ANN), 4, NOW + 1),
             ops.RecordAnswer(bid, str(BEN), 2, NOW + 2),
             ops.RecordAnswer(bid, str(CAT), 3, NOW + 3),
             ops.RecordNote(bid, str(ANN), "mine", NOW + 4),
             ops.RecordNote(bid, str(CAT), "second", NOW + 5))
    answer = setup.directory.answer_of(bid, ANN)
    assert answer is not None and (answer.level, answer.note) == (2, "mine")
    cat = setup.directory.answer_of(bid, CAT)
    assert cat is not None and (cat.level, cat.note, cat.answered_at) == (3, "second", NOW + 3)
    report = setup.directory.report(bid)
    assert report is not None
    assert (report.answered, report.distribution, report.notes) == (3, ((2, 2), (3, 1)), 2)
    assert setup.directory.report(999) is None


def test_failure_reasons_are_grouped(setup: Setup) -> None:
    keys = [UserKey("telegram", str(100 + i)) for i in range(3)]
    for key in keys:
        setup.user(key)
    bid = broadcast(setup, keys)
    rows = setup.outbox.claim_due("telegram", NOW, 10)
    for row, reason in zip(rows, ["timeout", "chat not found", "timeout"], strict=True):
        setup.outbox.mark_failed(row.id, reason, NOW)
    report = setup.directory.report(bid)
    assert report is not None and report.failures == (("timeout", 2), ("chat not found", 1))


def test_responses_list_every_answer_with_the_teams(setup: Setup) -> None:
    tid = team(setup, "riverside")
    for key in (ANN, BEN):
        setup.user(key)
    setup.do(ops.JoinTeam(tid, str(ANN), NOW))
    bid = broadcast(setup, [ANN, BEN], audience=audience_of("team", tid))
    setup.do(ops.RecordAnswer(bid, str(BEN), 1, NOW + 2), ops.RecordAnswer(bid, str(ANN), 4, NOW))
    rows = setup.directory.responses()
    assert [(r.user, r.level, r.teams, r.question) for r in rows] == [
        (ANN, 4, ("riverside",), "outcomes.insight"), (BEN, 1, (), "outcomes.insight")]


# ---------------------------------------------------------------------- schedules
def schedule(setup: Setup, frequency: str = "daily", next_run: float = NOW) -> int:
    setup.do(ops.CreateSchedule(NewSchedule("telegram:1", frequency, None, "09:00", "UTC",
                                            EVERYONE, "", "cycle", None, None, next_run, NOW)))
    return setup.directory.schedules()[-1].id


def test_schedules_are_due_until_cancelled(setup: Setup) -> None:
    sid = schedule(setup, next_run=NOW + 100)
    assert setup.directory.due_schedules(NOW + 99) == []
    assert [s.id for s in setup.directory.due_schedules(NOW + 100)] == [sid]
    setup.do(ops.CancelSchedule(sid, NOW))
    assert setup.directory.due_schedules(NOW + 100) == [] and setup.directory.schedules() == []
    cancelled = setup.directory.schedule(sid)
    assert cancelled is not None and cancelled.status == "cancelled"


def test_a_schedule_run_is_created_once_even_if_replayed(setup: Setup) -> None:
    setup.user(ANN)
    sid = schedule(setup)
    new = NewBroadcast("telegram:1", EVERYONE, "", "prompt", "outcomes.insight", None, NOW, sid)
    run = ops.RunSchedule(sid, NOW, NOW + 86400, 1, NOW, "sent to 1", new,
                          (Recipient(ANN, "11", "en"),))
    setup.do(run)
    setup.do(run)
    assert len(setup.directory.broadcasts(10)) == 1
    found = setup.directory.schedule(sid)
    assert found is not None and (found.next_run_at, found.cycle_index, found.last_result) == (
        NOW + 86400, 1, "sent to 1")
    setup.do(ops.RunSchedule(sid, NOW + 86400, None, 1, NOW, "skipped", None))
    assert setup.directory.schedule(sid).status == "done"  # type: ignore[union-attr]


# ---------------------------------------------------------------------- forgetting
def test_forget_removes_the_users_rows_and_their_name_on_what_they_made(setup: Setup) -> None:
    tid = team(setup)
    for key in (ANN, BEN):
        setup.user(key)
    setup.do(ops.GrantRole(str(ANN), "coordinator", None, NOW),
             ops.JoinTeam(tid, str(ANN), NOW), ops.JoinTeam(tid, str(BEN), NOW),
             ops.CreateInvite(ops.NewInvite("in-ann", "team", tid, None, str(ANN), NOW)),
             ops.CreateSchedule(NewSchedule(str(ANN), "daily", None, "09:00", "UTC", EVERYONE,
                                            "", "cycle", None, None, NOW, NOW)))
    new = NewBroadcast(str(ANN), EVERYONE, "", "text", None, "hi", NOW, None, "11")
    setup.do(ops.CreateBroadcast(new, (Recipient(ANN, "11", "en"), Recipient(BEN, "22", "en"))))
    bid = setup.directory.broadcasts(1)[0].id
    setup.do(ops.RecordNote(bid, str(ANN), "private words", NOW))
    setup.outbox.claim_due("telegram", NOW, 10)
    ben_copy = setup.directory.delivery_of(bid, BEN)
    assert ben_copy is not None
    setup.outbox.mark_sent(ben_copy.id, 1, NOW)

    assert setup.store.commit(Commit(ANN, 99, None, forget=True))

    assert setup.directory.granted_roles(ANN) == frozenset()
    assert setup.directory.memberships(ANN) == []
    assert setup.directory.delivery_of(bid, ANN) is None
    assert setup.directory.answer_of(bid, ANN) is None
    kept = setup.directory.broadcast(bid)
    assert kept is not None and kept.created_by is None and kept.progress_chat_id is None
    # Ann's copy was the last one waiting: the broadcast is complete without it.
    assert kept.status == "done"
    assert setup.directory.invite("in-ann").created_by is None  # type: ignore[union-attr]
    assert setup.directory.schedules()[0].created_by is None
    assert [m.user for m in setup.directory.members(tid)] == [BEN]
    if isinstance(setup.store, SQLiteStore):
        assert rows_naming(setup.store, ANN) == []


def rows_naming(store: SQLiteStore, key: UserKey) -> list[str]:
    """Every table and column in which the user's key or chat id still appears."""
    conn = sqlite3.connect(store.path)
    found = []
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        for table in tables:
            columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
            for column in columns:
                hits = conn.execute(f"SELECT COUNT(*) FROM {table} WHERE CAST({column} AS TEXT) "
                                    "IN (?, ?)", (str(key), key.id)).fetchone()[0]
                if hits:
                    found.append(f"{table}.{column}")
    finally:
        conn.close()
    return found


# ---------------------------------------------------------------------- team views and digests
def answered(store: Store, key: UserKey,
             *rows: tuple[str, int, str, int | None, float]) -> None:
    """Store answers: (dialogue, cycle, question, level, at), each with a private note."""
    store.commit(Commit(key, None, None, answers=tuple(
        Answer(key, dialogue, cycle, question, level, "private words", at)
        for dialogue, cycle, question, level, at in rows)))


def test_team_levels_are_each_members_latest_cycle_level(setup: Setup) -> None:
    tid = team(setup)
    for key in (ANN, BEN, CAT):
        setup.user(key)
    setup.do(ops.JoinTeam(tid, str(ANN), NOW), ops.JoinTeam(tid, str(BEN), NOW))
    answered(setup.store, ANN, ("cycle", 1, "outcomes.insight", 2, NOW),
             ("cycle", 2, "outcomes.insight", 4, NOW + 10),
             ("cycle", 2, "outcomes.insight", None, NOW + 20),  # a skip changes nothing
             ("reflect", 1, "quick.outcomes", 1, NOW + 30),  # reflections are not levels
             ("cycle", 2, "alignment.risk", 3, NOW + 5))
    answered(setup.store, ANN, ("cycle", 1, "alignment.risk", 1, NOW + 1))  # older, stored later
    answered(setup.store, BEN, ("cycle", 1, "outcomes.insight", 1, NOW))
    answered(setup.store, CAT, ("cycle", 1, "outcomes.insight", 4, NOW))  # not in the team
    assert sorted(setup.directory.team_levels(tid)) == [
        (str(ANN), "alignment.risk", 3), (str(ANN), "outcomes.insight", 4),
        (str(BEN), "outcomes.insight", 1)]
    assert setup.directory.team_levels(tid + 1) == []


def test_team_activity_counts_members_active_ones_and_distinct_steps(setup: Setup) -> None:
    tid = team(setup)
    for key, seen in ((ANN, NOW), (BEN, NOW - 40 * 86400)):
        setup.store.commit(Commit(key, None, UserRecord(key, "en", consent=True,
                                                        last_seen=seen)))
        setup.do(ops.JoinTeam(tid, str(key), NOW))
    setup.do(ops.JoinTeam(tid, "telegram:44", NOW))  # a member with no user row
    answered(setup.store, ANN, ("cycle", 1, "outcomes.insight", 2, NOW),
             ("cycle", 1, "outcomes.insight", 3, NOW + 1),  # answered again after /back
             ("cycle", 1, "outcomes.design", None, NOW + 2),  # skipped: not completed
             ("cycle", 2, "outcomes.insight", 3, NOW + 3),
             ("reflect", 1, "quick.outcomes", 2, NOW + 4))
    answered(setup.store, BEN, ("cycle", 1, "alignment.risk", 1, NOW))
    answered(setup.store, CAT, ("cycle", 1, "alignment.risk", 1, NOW))  # not in the team
    found = setup.directory.team_activity(tid, NOW - 30 * 86400)
    assert (found.members, found.active, found.steps) == (3, 1, 3)
    assert setup.directory.team_activity(tid + 1, NOW) == TeamActivity(0, 0, 0)


def test_digests_are_set_moved_claimed_once_and_stopped(setup: Setup) -> None:
    tid = team(setup)
    setup.do(ops.SetDigest(str(ANN), tid, 0, "09:00", "UTC", NOW + 100, NOW))
    setup.do(ops.SetDigest(str(ANN), tid, 2, "10:30", "Europe/London", NOW + 200, NOW))
    (digest,) = setup.directory.digests()
    assert (digest.user, digest.team_id, digest.weekday, digest.local_time, digest.timezone,
            digest.next_run_at) == (ANN, tid, 2, "10:30", "Europe/London", NOW + 200)
    assert setup.directory.digests(BEN) == [] and setup.directory.digests(ANN) == [digest]
    assert setup.directory.digests_due(NOW + 199) == []
    assert setup.directory.digests_due(NOW + 200) == [digest]
    claim = ops.RunDigest(digest.id, NOW + 200, NOW + 900, NOW + 201, "sent")
    setup.do(claim)
    with pytest.raises(AlreadyRun):
        setup.do(claim)
    (after,) = setup.directory.digests()
    assert (after.next_run_at, after.last_run_at, after.last_result) == (NOW + 900, NOW + 201,
                                                                         "sent")
    other = team(setup, "hillside")
    setup.do(ops.SetDigest(str(ANN), other, 0, "09:00", "UTC", NOW, NOW))
    setup.do(ops.StopDigest(str(ANN), tid))
    assert [d.team_id for d in setup.directory.digests()] == [other]
    setup.do(ops.StopDigest(str(ANN)))
    assert setup.directory.digests() == []


def test_forget_removes_the_users_levels_steps_and_digests(setup: Setup) -> None:
    tid = team(setup)
    setup.user(ANN)
    setup.do(ops.JoinTeam(tid, str(ANN), NOW),
             ops.SetDigest(str(ANN), tid, 0, "09:00", "UTC", NOW, NOW))
    answered(setup.store, ANN, ("cycle", 1, "outcomes.insight", 2, NOW),
             ("cycle", 1, "outcomes.insight", 3, NOW + 1),
             ("cycle", 2, "alignment.risk", 1, NOW + 2))
    assert setup.store.commit(Commit(ANN, 7, None, forget=True))
    assert setup.directory.digests() == [] and setup.directory.team_levels(tid) == []
    setup.do(ops.JoinTeam(tid, str(ANN), NOW))  # back as a new person: nothing carried over
    assert setup.directory.team_activity(tid, NOW).steps == 0
    assert setup.directory.team_levels(tid) == []
    setup.do(ops.LeaveTeam(tid, str(ANN)))
    if isinstance(setup.store, SQLiteStore):
        assert rows_naming(setup.store, ANN) == []


def test_latest_levels_and_steps_are_derived_from_answers_made_before_the_upgrade(
        tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "old.db")  # the core schema only, as before m003
    answered(store, ANN, ("cycle", 1, "outcomes.insight", 2, NOW),
             ("cycle", 1, "outcomes.insight", 3, NOW + 1),
             ("cycle", 2, "outcomes.insight", 1, NOW + 1),
             ("cycle", 2, "alignment.risk", None, NOW + 3))
    directory = install(store)
    tid = team(Setup(store, directory, directory, "sqlite"))
    commit_ops(store, [ops.JoinTeam(tid, str(ANN), NOW)])
    # Two answers at the same moment: the one stored later counts, as in the live trigger.
    assert directory.team_levels(tid) == [(str(ANN), "outcomes.insight", 1)]
    assert directory.team_activity(tid, NOW).steps == 2
    store.close()
