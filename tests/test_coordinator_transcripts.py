"""Coordinator transcripts: several people's conversations, replayed with every store.

Engine only: `ccbot chat` is one user per process and cannot receive broadcasts.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from transcript_runner import (
    coordinator_transcripts,
    load,
    replay_console,
    replay_engine,
    replay_world,
    world_for,
)

from bot.definitions.model import Content
from bot.engine.engine import Engine
from bot.engine.memory.store import MemoryStore

TRANSCRIPTS = coordinator_transcripts()


def test_there_are_coordinator_transcripts() -> None:
    assert len(TRANSCRIPTS) >= 4


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@pytest.mark.parametrize("path", TRANSCRIPTS, ids=lambda p: p.stem)
def test_coordinator_transcript_through_engine(path: Path, kind: str, content: Content,
                                               tmp_path: Path) -> None:
    transcript = load(path)
    world = world_for(transcript, content, kind, tmp_path / "world.db")
    try:
        replay_world(world, transcript)
    finally:
        world.close()


def test_a_misspelt_key_is_refused_naming_the_file_and_step(tmp_path: Path) -> None:
    path = tmp_path / "typo.yaml"
    path.write_text("name: typo\ngiven: {roles: {cora: coordinator}}\n"
                    "steps:\n  - send: /teams\n  - as: ann\n    expekt: [x]\n", "utf-8")
    with pytest.raises(AssertionError, match=r"typo.yaml step 2: unknown key\(s\) \['expekt'\]"):
        load(path)


def test_several_people_are_not_replayed_as_one(content: Content, tmp_path: Path) -> None:
    transcript = load(TRANSCRIPTS[0])
    with pytest.raises(AssertionError, match="several people; use replay_world"):
        replay_engine(Engine(content, MemoryStore()), transcript)
    with pytest.raises(AssertionError, match="the console has one user"):
        replay_console(transcript, tmp_path / "console.db")
