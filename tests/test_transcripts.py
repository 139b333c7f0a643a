"""Transcript tests: whole conversations replayed through the engine and through `ccbot chat`."""

from __future__ import annotations

from pathlib import Path

import pytest
from transcript_runner import all_transcripts, load, replay_console, replay_engine

from bot.definitions.model import Content
from bot.engine.engine import Engine
from bot.engine.memory.store import MemoryStore
from bot.storage.sqlite_store import SQLiteStore

TRANSCRIPTS = all_transcripts()


def test_there_are_transcripts() -> None:
    assert len(TRANSCRIPTS) >= 4


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=lambda p: p.stem)
def test_transcript_through_engine_with_memory_store(path: Path, content: Content) -> None:
    replay_engine(Engine(content, MemoryStore()), load(path))


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=lambda p: p.stem)
def test_transcript_through_engine_with_sqlite_store(path: Path, content: Content,
                                                     tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "t.db")
    try:
        replay_engine(Engine(content, store), load(path))
    finally:
        store.close()


@pytest.mark.slow
@pytest.mark.parametrize("path", TRANSCRIPTS, ids=lambda p: p.stem)
def test_transcript_through_console(path: Path, tmp_path: Path) -> None:
    replay_console(load(path), tmp_path / "console.db")
