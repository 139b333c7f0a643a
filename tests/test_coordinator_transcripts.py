"""Coordinator transcripts: several people's conversations, replayed with every store.

Engine only: `ccbot chat` is one user per process and cannot receive broadcasts.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from transcript_runner import coordinator_transcripts, load, replay_world, world_for

from bot.definitions.model import Content

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
