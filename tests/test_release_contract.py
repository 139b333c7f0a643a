"""The contract both release books pass: rounds, their fixed answers, live levels, the ledger."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.engine.core.events import UserKey
from bot.engine.core.records import Answer, Commit, Op, UserRecord
from bot.engine.memory.directory import install_memory
from bot.engine.memory.store import MemoryStore
from bot.engine.ports import directory_ops as ops
from bot.engine.ports.broadcasts import NewBroadcast
from bot.engine.ports.directory import Directory, commit_ops
from bot.engine.ports.releases import (
    CloseRound,
    OpenRound,
    RecordRelease,
    ReleaseConflict,
    Released,
    RoundAnswer,
)
from bot.engine.ports.store import Store
from bot.storage.directory_store import install
from bot.storage.sqlite_store import SQLiteStore

ANN, BEN = UserKey("telegram", "11"), UserKey("telegram", "22")
NOW = 1_750_000_000.0


@dataclass
class Book:
    """A store with its directory, which is the release book."""

    store: Store
    directory: Directory

    def do(self, *batch: Op) -> None:
        commit_ops(self.store, batch)

    def answer(self, user: UserKey, question: str, level: int, at: float) -> None:
        self.store.commit(Commit(user, None, UserRecord(user, "en", consent=True),
                                 answers=(Answer(user, "cycle", 1, question, level, "note", at),)))

    def team(self) -> int:
        self.do(ops.CreateTeam("riverside", None, NOW, ops.NewInvite(
            "in-riverside", "team", None, None, None, NOW)))
        found = self.directory.team_named("riverside")
        assert found is not None
        return found.id


@pytest.fixture(params=["memory", "sqlite"])
def book(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Book]:
    if request.param == "memory":
        memory = MemoryStore()
        yield Book(memory, install_memory(memory))
    else:
        sqlite = SQLiteStore(tmp_path / "releases.db")
        yield Book(sqlite, install(sqlite))
        sqlite.close()


def test_a_round_opens_once_and_closes_once(book: Book) -> None:
    team = book.team()
    book.do(OpenRound(team, 1, NOW, NOW + 100), OpenRound(team, 1, NOW + 5, NOW + 200))
    (opened,) = book.directory.rounds(team)
    assert (opened.number, opened.opened_at, opened.closes_at, opened.closed) == (
        1, NOW, NOW + 100, False)
    first = (RoundAnswer(str(ANN), "outcomes.insight", 3),)
    book.do(CloseRound(team, 1, NOW + 50, "cli", first))
    book.do(CloseRound(team, 1, NOW + 60, "cli", (RoundAnswer(str(BEN), "outcomes.insight", 1),)))
    (closed,) = book.directory.rounds(team)
    assert closed.closed_at == NOW + 50 and closed.closed_by == "cli"
    assert book.directory.round_answers(closed.id) == list(first)


def test_round_levels_are_the_latest_answers_given_while_a_member_within_the_round(
        book: Book) -> None:
    team = book.team()
    book.answer(ANN, "outcomes.insight", 1, NOW + 1)  # before joining: never counted
    book.do(ops.JoinTeam(team, str(ANN), NOW + 10))
    book.answer(ANN, "outcomes.insight", 2, NOW + 20)
    book.answer(ANN, "outcomes.insight", 4, NOW + 30)  # the latest counts
    book.answer(ANN, "outcomes.design", 3, NOW + 100)  # after the round's end
    assert book.directory.round_levels(team, NOW, NOW + 100) == [
        RoundAnswer(str(ANN), "outcomes.insight", 4)]
    book.do(ops.LeaveTeam(team, str(ANN)))
    assert book.directory.round_levels(team, NOW, NOW + 100) == []


def test_the_ledger_keeps_what_was_released_to_each_viewer(book: Book) -> None:
    row = Released("telegram:9", "outcomes.insight", "team:1 round:1",
                   frozenset({str(ANN), str(BEN)}), NOW)
    book.do(RecordRelease((row,)))
    assert book.directory.released("telegram:9") == [row]
    assert book.directory.released("telegram:8") == []


def test_a_release_the_ledger_no_longer_admits_is_refused_and_nothing_is_kept(
        book: Book) -> None:
    # Two processes (the chat and the dashboard) each decided against the same ledger; the
    # second to commit would show the viewer a set one person away from the first.
    seven = frozenset(f"telegram:{n}" for n in range(100, 107))
    first = Released("telegram:9", "outcomes.insight", "team:1 round:1", seven, NOW)
    second = Released("telegram:9", "outcomes.insight", "team:2 round:1",
                      seven | {"telegram:200"}, NOW)
    book.do(RecordRelease((first,), 5))
    with pytest.raises(ReleaseConflict):
        book.do(RecordRelease((second,), 5))
    assert book.directory.released("telegram:9") == [first]
    book.do(RecordRelease((first,), 5))  # the same set again tells nothing new
    other = Released("telegram:8", "outcomes.insight", "team:2 round:1", second.people, NOW)
    book.do(RecordRelease((other,), 5))  # another viewer's ledger is theirs
    assert book.directory.released("telegram:8") == [other]


def test_forget_unlinks_a_person_but_keeps_closed_rounds_and_the_ledger_intact(
        book: Book) -> None:
    team = book.team()
    book.answer(ANN, "outcomes.insight", 2, NOW)
    book.answer(BEN, "outcomes.insight", 3, NOW)
    book.do(OpenRound(team, 1, NOW, NOW + 100), CloseRound(team, 1, NOW + 50, "cli", (
        RoundAnswer(str(ANN), "outcomes.insight", 2), RoundAnswer(str(ANN), "outcomes.design", 4),
        RoundAnswer(str(BEN), "outcomes.insight", 3))))
    book.do(RecordRelease((Released("telegram:9", "outcomes.insight", "team:1 round:1",
                                    frozenset({str(ANN), str(BEN)}), NOW),
                           Released(str(ANN), "outcomes.insight", "x", frozenset(), NOW))))
    book.store.commit(Commit(ANN, None, None, forget=True))
    (closed,) = book.directory.rounds(team)
    answers = book.directory.round_answers(closed.id)
    tokens = {a.person for a in answers if a.person != str(BEN)}
    assert len(tokens) == 1 and all(t.startswith("forgotten:") for t in tokens)
    assert sorted(a.level for a in answers) == [2, 3, 4]  # the round's figures are unchanged
    (row,) = book.directory.released("telegram:9")
    assert row.people == frozenset({str(BEN), *tokens})
    assert book.directory.released(str(ANN)) == []  # what they were shown goes with them
    assert str(ANN) not in repr(book.store.export_user(ANN))


def test_broadcast_levels_are_one_per_person(book: Book) -> None:
    team = book.team()
    book.do(ops.JoinTeam(team, str(ANN), NOW), ops.JoinTeam(team, str(BEN), NOW))
    book.store.commit(Commit(ANN, None, UserRecord(ANN, "en", consent=True)))
    book.store.commit(Commit(BEN, None, UserRecord(BEN, "en", consent=True)))
    book.do(ops.CreateBroadcast(NewBroadcast(
        "telegram:1", f"team:{team}", "riverside", "prompt", "outcomes.insight", None, NOW),
        ()))
    (broadcast,) = book.directory.broadcasts(10)
    book.do(ops.RecordAnswer(broadcast.id, str(ANN), 2, NOW),
            ops.RecordAnswer(broadcast.id, str(BEN), 4, NOW))
    found = sorted((a.person, a.level) for a in book.directory.broadcast_levels(broadcast.id))
    assert found == [(str(ANN), 2), (str(BEN), 4)]
