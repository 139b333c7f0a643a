"""Files with people's answers are private: `ccbot chat --files` and `ccbot export`."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from coordinator_world import World, ccbot
from test_export import answered

from bot.definitions.model import Content

PROJECT = Path(__file__).resolve().parent.parent


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.slow
def test_chat_files_are_written_0600_in_a_0700_folder(tmp_path: Path) -> None:
    files = tmp_path / "ccbot-files"
    result = subprocess.run(
        [sys.executable, "-c", "import os, sys; os.umask(0o022); from bot.cli import main; "
         "sys.exit(main())", "chat", "--db", str(tmp_path / "chat.db"), "--user", "amira",
         "--files", str(files)],
        input=b"1\n1\n2\nmy note\n/profile\n/mydata\n", capture_output=True, cwd=PROJECT,
        timeout=120)
    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in files.iterdir())
    assert "amira-my-data.json" in written and any(n.endswith(".png") for n in written)
    assert mode(files) == 0o700
    assert {p.name: mode(p) for p in files.iterdir()} == dict.fromkeys(written, 0o600)


def test_an_existing_export_is_refused_unless_overwrite_and_then_made_0600(
        content: Content, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "cli.db"
    world = World(content, "sqlite", db)
    answered(world)
    world.close()
    out = tmp_path / "out"
    out.mkdir()
    old = out / "r.csv"
    old.write_text("someone else's file")
    old.chmod(0o644)
    args = ["export", "responses", "--db", str(db), "--dir", str(out), "--out", "r.csv",
            "--include-notes"]
    assert ccbot(args) == 2
    refused = capsys.readouterr().err
    assert "already exists" in refused and "--overwrite" in refused
    assert old.read_text() == "someone else's file" and mode(old) == 0o644
    assert ccbot([*args, "--overwrite"]) == 0
    assert "Amira" in old.read_text("utf-8-sig") and mode(old) == 0o600
    assert sorted(p.name for p in out.iterdir()) == ["r.csv"]  # no temporary file left


def test_a_new_export_is_0600_whatever_the_umask(content: Content, tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    world = World(content, "sqlite", db)
    answered(world)
    world.close()
    previous = os.umask(0)
    try:
        assert ccbot(["export", "responses", "--db", str(db), "--dir", str(tmp_path),
                      "--out", "new.xlsx", "--format", "xlsx"]) == 0
    finally:
        os.umask(previous)
    assert mode(tmp_path / "new.xlsx") == 0o600
