"""/forget leaves none of the person's bytes on disk: not in the database, the -wal or the -shm."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.engine.core.events import UserKey
from bot.engine.core.records import Answer, Commit, UserRecord
from bot.storage.sqlite_store import JOURNAL_SIZE_LIMIT, SQLiteStore

MARKER = "forget-me-marker-7Hq2"
ANN, BEN = UserKey("telegram", "41"), UserKey("telegram", "42")


def files_holding(db: Path, marker: str) -> list[str]:
    """The names of the database's files (main, -wal, -shm) whose bytes contain `marker`."""
    needle = marker.encode()
    return [p.name for p in sorted(db.parent.glob(db.name + "*")) if needle in p.read_bytes()]


def write_notes(store: SQLiteStore, user: UserKey, note: str, update: int) -> None:
    record = UserRecord(key=user, locale="en", consent=True)
    answers = tuple(Answer(user, "cycle", 1, f"q{n}", 2, f"{note} #{n}", float(n))
                    for n in range(12))
    assert store.commit(Commit(user, update, record, answers))


def test_a_forgotten_note_is_in_no_file_while_the_store_is_open_or_after_close(
        tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    store = SQLiteStore(db)
    write_notes(store, ANN, MARKER, 1)
    write_notes(store, BEN, "another person's note", 2)
    store.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")  # some copies in the main file too
    write_notes(store, ANN, MARKER, 3)
    assert files_holding(db, MARKER)  # the scan finds what is there
    assert store.commit(Commit(ANN, 4, None, forget=True))
    assert files_holding(db, MARKER) == []
    assert files_holding(db, "another person's note") != []  # only the forgotten one goes
    store.close()
    assert files_holding(db, MARKER) == []


def test_a_reader_in_the_way_leaves_the_wal_for_the_next_checkpoint(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    store = SQLiteStore(db)
    write_notes(store, ANN, MARKER, 1)
    reader = sqlite3.connect(db)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM answers").fetchone()  # holds a snapshot
    store.conn.execute("PRAGMA busy_timeout = 0")
    assert store.commit(Commit(ANN, 2, None, forget=True))
    reader.execute("ROLLBACK")
    reader.close()
    assert store.wipe_journal()
    assert files_holding(db, MARKER) == []
    store.close()


def test_the_store_turns_on_secure_delete_and_limits_the_journal(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "bot.db")
    assert store.conn.execute("PRAGMA secure_delete").fetchone()[0] == 1
    assert store.conn.execute("PRAGMA journal_size_limit").fetchone()[0] == JOURNAL_SIZE_LIMIT
    store.close()
