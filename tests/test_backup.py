"""`ccbot backup`: a consistent, private copy of a database that is in use."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.engine.core.events import UserKey
from bot.engine.core.records import Answer, Commit, UserRecord
from bot.engine.ports.store import StoreError
from bot.storage.backup import backup
from bot.storage.sqlite_store import SQLiteStore

KEY = UserKey("telegram", "42")


def filled(path: Path) -> SQLiteStore:
    store = SQLiteStore(path)
    for i in range(50):
        store.commit(Commit(KEY, i, UserRecord(KEY, "en", consent=True, turn=i),
                            (Answer(KEY, "cycle", 1, "outcomes.insight", 2, f"note {i}", i),)))
    return store


def test_backup_of_a_database_in_use_is_complete_and_private(tmp_path: Path) -> None:
    store = filled(tmp_path / "live.db")
    try:
        size = backup(tmp_path / "live.db", tmp_path / "copy.db")
        assert size > 0
        copy = SQLiteStore(tmp_path / "copy.db")
        assert len(copy.answers(KEY)) == 50
        copy.close()
        assert (tmp_path / "copy.db").stat().st_mode & 0o777 == 0o600
        # The live store keeps working after the backup.
        assert store.commit(Commit(KEY, 999, UserRecord(KEY, "en", turn=999)))
    finally:
        store.close()


def test_backup_refuses_to_overwrite_unless_asked(tmp_path: Path) -> None:
    filled(tmp_path / "live.db").close()
    (tmp_path / "copy.db").write_bytes(b"precious")
    with pytest.raises(StoreError, match="already exists"):
        backup(tmp_path / "live.db", tmp_path / "copy.db")
    assert (tmp_path / "copy.db").read_bytes() == b"precious"
    backup(tmp_path / "live.db", tmp_path / "copy.db", overwrite=True)
    assert sqlite3.connect(tmp_path / "copy.db").execute(
        "select count(*) from answers").fetchone()[0] == 50


def test_backup_of_a_missing_database_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no database at"):
        backup(tmp_path / "none.db", tmp_path / "copy.db")
    assert not (tmp_path / "copy.db").exists()


def test_backup_of_a_file_that_is_not_a_database_leaves_nothing(tmp_path: Path) -> None:
    (tmp_path / "bad.db").write_bytes(b"not a database at all" * 50)
    with pytest.raises(StoreError, match="not a valid ccbot database"):
        backup(tmp_path / "bad.db", tmp_path / "copy.db")
    assert not (tmp_path / "copy.db").exists()
    assert not (tmp_path / "copy.db.partial").exists()
