"""The contract every Store implementation passes: the in-memory twin and SQLite alike."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.engine.core.events import UserKey
from bot.engine.core.records import Answer, Commit, Position, UserRecord
from bot.engine.memory.store import MemoryStore
from bot.engine.ports.store import Store
from bot.storage.sqlite_store import SQLiteStore

ALICE = UserKey("telegram", "101")
BOB = UserKey("telegram", "202")


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
    else:
        sqlite = SQLiteStore(tmp_path / "contract.db")
        yield sqlite
        sqlite.close()


def record(key: UserKey, state: str = "outcomes.insight", turn: int = 1) -> UserRecord:
    return UserRecord(
        key=key, locale="en", consent=True, persona="manager", active="cycle", turn=turn,
        positions=(Position("cycle", state, cycle=2, pass_start="outcomes.insight",
                            pending_level=None),
                   Position("onboarding", "done")),
        created_at=1.0, last_seen=2.0,
    )


def answer(key: UserKey, question: str, level: int | None, note: str | None = None,
           at: float = 10.0) -> Answer:
    return Answer(key, "cycle", 2, question, level, note, at)


def test_unknown_user_loads_as_none(store: Store) -> None:
    assert store.load_user(ALICE) is None


def test_committed_record_loads_back_equal(store: Store) -> None:
    assert store.commit(Commit(ALICE, 1, record(ALICE)))
    loaded = store.load_user(ALICE)
    assert loaded is not None
    assert loaded.key == ALICE and loaded.turn == 1 and loaded.persona == "manager"
    assert sorted(loaded.positions, key=lambda p: p.dialogue) == sorted(
        record(ALICE).positions, key=lambda p: p.dialogue)


def test_answers_are_appended_in_time_order(store: Store) -> None:
    store.commit(Commit(ALICE, 1, record(ALICE), (answer(ALICE, "outcomes.insight", 2, at=5),)))
    store.commit(Commit(ALICE, 2, record(ALICE), (answer(ALICE, "outcomes.insight", 3, "hi",
                                                         at=6),)))
    levels = [(a.question, a.level, a.note) for a in store.answers(ALICE)]
    assert levels == [("outcomes.insight", 2, None), ("outcomes.insight", 3, "hi")]


def test_a_note_is_written_into_the_row_of_its_answer_only(store: Store) -> None:
    first, again = answer(ALICE, "outcomes.insight", 2, at=10.0), answer(
        ALICE, "outcomes.insight", 3, at=11.0)
    store.commit(Commit(ALICE, 1, record(ALICE), (first, again,
                                                 answer(BOB, "outcomes.insight", 3, at=11.0))))
    store.commit(Commit(ALICE, 2, record(ALICE), notes=(replace(again, note="my words"),)))
    assert [(a.level, a.note) for a in store.answers(ALICE)] == [(2, None), (3, "my words")]
    assert [a.note for a in store.answers(BOB)] == [None]


def test_answers_filter_by_dialogue(store: Store) -> None:
    other = Answer(ALICE, "reflect", 1, "quick.outcomes", 2, None, 3.0)
    store.commit(Commit(ALICE, 1, record(ALICE), (answer(ALICE, "outcomes.insight", 2), other)))
    assert [a.dialogue for a in store.answers(ALICE, "cycle")] == ["cycle"]
    assert len(store.answers(ALICE)) == 2


def test_replayed_update_id_changes_nothing(store: Store) -> None:
    assert store.commit(Commit(ALICE, 7, record(ALICE, turn=1),
                               (answer(ALICE, "outcomes.insight", 2),)))
    assert store.seen("telegram", 7)
    assert not store.commit(Commit(ALICE, 7, record(ALICE, "alignment.risk", turn=9),
                                   (answer(ALICE, "outcomes.insight", 4),)))
    loaded = store.load_user(ALICE)
    assert loaded is not None and loaded.turn == 1
    assert [a.level for a in store.answers(ALICE)] == [2]


def test_update_ids_are_per_channel(store: Store) -> None:
    console = UserKey("console", "101")
    assert store.commit(Commit(ALICE, 5, record(ALICE)))
    assert store.commit(Commit(console, 5, record(console)))
    assert not store.seen("other", 5)


def test_commit_without_update_id_always_applies(store: Store) -> None:
    assert store.commit(Commit(ALICE, None, record(ALICE, turn=1)))
    assert store.commit(Commit(ALICE, None, record(ALICE, turn=2)))
    loaded = store.load_user(ALICE)
    assert loaded is not None and loaded.turn == 2


def test_forget_removes_the_user_and_their_answers_only(store: Store) -> None:
    store.commit(Commit(ALICE, 1, record(ALICE), (answer(ALICE, "outcomes.insight", 2, "x"),)))
    store.commit(Commit(BOB, 2, record(BOB), (answer(BOB, "outcomes.insight", 3),)))
    assert store.commit(Commit(ALICE, 3, None, forget=True))
    assert store.load_user(ALICE) is None
    assert store.answers(ALICE) == []
    assert store.load_user(BOB) is not None and len(store.answers(BOB)) == 1
    assert store.export_user(ALICE)["answers"] == []


def test_export_holds_profile_positions_answers_and_notes(store: Store) -> None:
    store.commit(Commit(ALICE, 1, record(ALICE),
                        (answer(ALICE, "outcomes.insight", 2, "my own words"),)))
    data = store.export_user(ALICE)
    assert set(data) >= {"users", "dialogue_states", "answers"}
    assert len(data["users"]) == 1 and len(data["dialogue_states"]) == 2
    assert data["answers"][0]["note"] == "my own words"
    assert store.export_user(BOB)["users"] == []


def test_position_replaced_per_dialogue(store: Store) -> None:
    store.commit(Commit(ALICE, 1, record(ALICE, "outcomes.insight")))
    store.commit(Commit(ALICE, 2, record(ALICE, "delivery.agility#note")))
    loaded = store.load_user(ALICE)
    assert loaded is not None
    cycle = loaded.position("cycle")
    assert cycle is not None and cycle.state == "delivery.agility#note"
    assert len(loaded.positions) == 2


def test_a_database_from_before_the_persona_rename_keeps_each_users_persona(
        tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.db"
    store = SQLiteStore(path)
    store.commit(Commit(ALICE, 1, record(ALICE)))
    store.close()
    # Put the database back as it was before m004: the column called `role`, m004 not applied.
    with sqlite3.connect(path) as conn:
        conn.execute("ALTER TABLE users RENAME COLUMN persona TO role")
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm004_persona'")
    reopened = SQLiteStore(path)
    loaded = reopened.load_user(ALICE)
    reopened.close()
    assert loaded is not None and loaded.persona == "manager"
