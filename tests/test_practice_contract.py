"""The contract both practice books pass: commitments, claiming a due follow-up once, forget."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.engine.core.events import UserKey
from bot.engine.core.records import Commit, Op, UserRecord
from bot.engine.memory.practice import MemoryPractice, attach
from bot.engine.memory.store import MemoryStore
from bot.engine.ports.practice import (
    AlreadyClaimed,
    AnswerFollowUp,
    ClaimFollowUp,
    MakeCommitment,
    NoteFollowUp,
    PracticeBook,
)
from bot.engine.ports.store import Store
from bot.storage.practice_store import install_practice
from bot.storage.sqlite_store import SQLiteStore

ANN, BEN = UserKey("telegram", "11"), UserKey("telegram", "22")
NOW = 1_750_000_000.0


@dataclass
class Book:
    """A store and its practice book."""

    store: Store
    practice: PracticeBook

    def do(self, user: UserKey, *batch: Op) -> None:
        self.store.commit(Commit(user, None, None, ops=batch))


@pytest.fixture(params=["memory", "sqlite"])
def book(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Book]:
    if request.param == "memory":
        memory = MemoryStore()
        found = Book(memory, attach(memory, MemoryPractice()))
    else:
        sqlite = SQLiteStore(tmp_path / "contract.db")
        found = Book(sqlite, install_practice(sqlite))
    for user in (ANN, BEN):
        found.store.commit(Commit(user, None, UserRecord(user, "en", consent=True)))
    yield found
    found.store.close()


def make(book: Book, user: UserKey, strand: str = "outcomes", due: float = NOW + 100) -> int:
    book.do(user, MakeCommitment(str(user), f"{strand}.insight", strand, 2, "frontline", NOW,
                                 due))
    return book.practice.commitments(str(user))[0].id


def test_a_commitment_is_stored_with_what_it_was_about(book: Book) -> None:
    ident = make(book, ANN)
    [found] = book.practice.commitments(str(ANN))
    assert (found.id, found.question, found.strand, found.level, found.persona) == (
        ident, "outcomes.insight", "outcomes", 2, "frontline")
    assert (found.status, found.asked, found.due_at) == ("open", 0, NOW + 100)
    assert book.practice.commitment(ident) == found
    assert book.practice.commitments(str(BEN)) == []


def test_commitments_come_newest_first(book: Book) -> None:
    first = make(book, ANN)
    book.do(ANN, MakeCommitment(str(ANN), "delivery.x", "delivery", 1, None, NOW + 5, NOW + 9))
    assert [c.id for c in book.practice.commitments(str(ANN))][1] == first


def test_only_due_follow_ups_are_found_earliest_first_up_to_the_limit(book: Book) -> None:
    late = make(book, ANN, due=NOW + 200)
    early = make(book, BEN, due=NOW + 100)
    make(book, BEN, due=NOW + 900)
    assert [c.id for c in book.practice.due_followups(NOW + 300, 10)] == [early, late]
    assert [c.id for c in book.practice.due_followups(NOW + 300, 1)] == [early]
    assert book.practice.due_followups(NOW, 10) == []


def test_a_follow_up_is_claimed_once(book: Book) -> None:
    ident = make(book, ANN)
    book.do(ANN, ClaimFollowUp(ident, NOW + 100))
    with pytest.raises(AlreadyClaimed):
        book.do(ANN, ClaimFollowUp(ident, NOW + 100))
    found = book.practice.commitment(ident)
    assert found is not None and found.asked == 1 and found.due_at is None
    assert book.practice.due_followups(NOW + 1000, 10) == []


def test_answers_and_notes_change_only_the_owners_commitment(book: Book) -> None:
    ident = make(book, ANN)
    book.do(BEN, AnswerFollowUp(ident, str(BEN), "dropped", NOW + 1))
    book.do(BEN, NoteFollowUp(ident, str(BEN), "not mine"))
    assert book.practice.commitment(ident).status == "open"  # type: ignore[union-attr]
    book.do(ANN, AnswerFollowUp(ident, str(ANN), "helped", NOW + 2))
    book.do(ANN, NoteFollowUp(ident, str(ANN), "it worked"))
    found = book.practice.commitment(ident)
    assert found is not None and (found.status, found.note, found.answered_at) == (
        "helped", "it worked", NOW + 2)


def test_tried_counts_per_strand_and_who_tried_since(book: Book) -> None:
    for user, strand, status in ((ANN, "outcomes", "helped"), (ANN, "outcomes", "mixed"),
                                 (ANN, "delivery", "not_yet"), (BEN, "outcomes", "helped")):
        ident = make(book, user, strand)
        book.do(user, AnswerFollowUp(ident, str(user), status, NOW + 10))
    assert book.practice.tried_by_strand(str(ANN)) == {"outcomes": 2}
    assert book.practice.tried_by([str(ANN), str(BEN)], NOW, NOW + 11) == {
        "outcomes": {str(ANN), str(BEN)}}
    assert book.practice.tried_by([str(ANN)], NOW + 11, NOW + 20) == {}
    assert book.practice.tried_by([str(ANN)], NOW, NOW + 10) == {}


def test_forget_deletes_the_users_commitments_only(book: Book) -> None:
    make(book, ANN)
    make(book, BEN)
    book.store.commit(Commit(ANN, None, None, forget=True))
    assert book.practice.commitments(str(ANN)) == []
    assert len(book.practice.commitments(str(BEN))) == 1
    assert "commitments" in book.store.export_user(BEN)
