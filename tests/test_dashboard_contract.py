"""The dashboard port's contract: the SQLite store and its in-memory twin behave alike."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.engine.core.events import UserKey
from bot.engine.core.records import Commit
from bot.engine.memory.dashboard import attach
from bot.engine.memory.store import MemoryStore
from bot.engine.ports.dashboard import DashboardBook, IssueLogin, Session, View, WeekCount
from bot.engine.ports.store import Store
from bot.storage.dashboard_store import install_dashboard
from bot.storage.sqlite_store import SQLiteStore

ANN = UserKey("telegram", "1")


@pytest.fixture(params=["memory", "sqlite"])
def both(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, DashboardBook]]:
    if request.param == "memory":
        memory = MemoryStore()
        yield memory, attach(memory)
        return
    sqlite = SQLiteStore(tmp_path / "contract.db")
    yield sqlite, install_dashboard(sqlite)
    sqlite.close()


def issue(store: Store, token_hash: str = "h1", at: float = 100.0) -> None:
    store.commit(Commit(ANN, None, None, ops=(IssueLogin(token_hash, str(ANN), at, at + 600),)))


def test_a_link_is_redeemed_once(both: tuple[Store, DashboardBook]) -> None:
    store, book = both
    issue(store)
    assert book.redeem("h1", 200.0) == str(ANN)
    assert book.redeem("h1", 201.0) is None


def test_an_expired_or_unknown_link_is_refused(both: tuple[Store, DashboardBook]) -> None:
    store, book = both
    issue(store)
    assert book.redeem("h1", 700.0) is None
    assert book.redeem("nope", 200.0) is None


def test_sessions_expire_and_end(both: tuple[Store, DashboardBook]) -> None:
    _, book = both
    book.start_session(Session("s1", str(ANN), 0.0, 100.0))
    book.start_session(Session("s2", str(ANN), 0.0, 100.0))
    assert book.session("s1", 50.0) is not None
    assert book.session("s1", 100.0) is None
    book.end_session("s1")
    assert book.session("s1", 50.0) is None and book.session("s2", 50.0) is not None
    book.end_sessions_of(str(ANN))
    assert book.session("s2", 50.0) is None


def test_views_are_kept_in_order(both: tuple[Store, DashboardBook]) -> None:
    _, book = both
    book.record_view(View(str(ANN), "overview", 1.0))
    book.record_view(View(str(ANN), "team:3", 2.0))
    assert [v.page for v in book.views(str(ANN))] == ["overview", "team:3"]


def test_a_frozen_count_keeps_its_first_value(both: tuple[Store, DashboardBook]) -> None:
    _, book = both
    book.freeze_weeks([WeekCount(0.0, "active", 10, 4)])
    book.freeze_weeks([WeekCount(0.0, "active", 9, 3), WeekCount(0.0, "tried", 10, 1)])
    found = {c.metric: c for c in book.frozen_weeks([0.0])}
    assert found["active"] == WeekCount(0.0, "active", 10, 4) and found["tried"].count == 1
    assert book.frozen_weeks([604800.0]) == []
