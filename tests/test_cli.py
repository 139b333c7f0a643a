"""The `ccbot` command as a user runs it: chat, resume, diagram, and bad databases."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # every test runs `ccbot` as a subprocess

PROJECT = Path(__file__).resolve().parent.parent


def ccbot(*args: str, stdin: bytes = b"", env: dict[str, str] | None = None,
          cwd: Path = PROJECT) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin,
                          capture_output=True, env={**os.environ, **(env or {})}, cwd=cwd,
                          timeout=120)


def test_chat_resumes_exactly_where_the_user_left_off(tmp_path: Path) -> None:
    db = str(tmp_path / "chat.db")
    first = ccbot("chat", "--db", db, "--user", "amira", stdin=b"1\n1\n2\nmy note\n3\n")
    assert first.returncode == 0
    second = ccbot("chat", "--db", db, "--user", "amira", stdin=b"")
    out = second.stdout.decode()
    assert "Welcome back" in out
    # She had answered step 1 (with a note) and step 2: she resumes at step 3.
    assert "step 3 of 12" in out and "Designing services:" in out


def test_each_console_user_has_their_own_progress(tmp_path: Path) -> None:
    db = str(tmp_path / "chat.db")
    ccbot("chat", "--db", db, "--user", "a", stdin=b"1\n1\n2\n/skip\n")
    other = ccbot("chat", "--db", db, "--user", "b", stdin=b"")
    assert "Is that OK with you?" in other.stdout.decode()


def test_chat_db_can_come_from_the_environment(tmp_path: Path) -> None:
    db = tmp_path / "env.db"
    result = ccbot("chat", stdin=b"1\n", env={"CCBOT_DB": str(db)})
    assert result.returncode == 0 and db.exists()


def test_chat_rejects_invalid_utf8_and_carries_on(tmp_path: Path) -> None:
    result = ccbot("chat", "--db", str(tmp_path / "x.db"), stdin=b"\xff\xfe\n1\n")
    out = result.stdout.decode()
    assert "not valid UTF-8" in out and "Which best describes your role?" in out
    assert result.returncode == 0


def test_chat_never_shows_a_traceback_on_odd_input(tmp_path: Path) -> None:
    odd = "\n".join(["", "/", "//", "/strand", "/start x y z", "\u202eRTL", "🙂" * 500,
                     "\x00\x07", "/back", "/skip", "9" * 50, "/where", "/profile"]) + "\n"
    result = ccbot("chat", "--db", str(tmp_path / "x.db"), stdin=b"1\n1\n" + odd.encode())
    assert result.returncode == 0
    assert b"Traceback" not in result.stdout + result.stderr


def test_corrupt_database_is_a_clear_error_and_is_not_overwritten(tmp_path: Path) -> None:
    db = tmp_path / "corrupt.db"
    db.write_bytes(b"this is not a database" * 100)
    before = db.read_bytes()
    result = ccbot("chat", "--db", str(db), stdin=b"hello\n")
    assert result.returncode == 2
    err = result.stderr.decode()
    assert "not a valid ccbot database" in err and "Traceback" not in err
    assert db.read_bytes() == before


def test_unwritable_database_location_is_a_clear_error(tmp_path: Path) -> None:
    result = ccbot("chat", "--db", str(tmp_path / "missing" / "dir" / "x.db"), stdin=b"hi\n")
    assert result.returncode == 2
    err = result.stderr.decode()
    assert "--db" in err and "Traceback" not in err


def test_database_file_is_private_to_its_owner(tmp_path: Path) -> None:
    db = tmp_path / "private.db"
    ccbot("chat", "--db", str(db), stdin=b"")
    assert (db.stat().st_mode & 0o777) == 0o600


def test_diagram_prints_mermaid(tmp_path: Path) -> None:
    result = ccbot("diagram", "cycle")
    out = result.stdout.decode()
    assert result.returncode == 0
    assert out.startswith("stateDiagram-v2")
    assert 'state "outcomes.insight" as' in out and "[end of pass]" in out


def test_diagram_of_unknown_dialogue_exits_2() -> None:
    result = ccbot("diagram", "nope")
    assert result.returncode == 2 and b"choose one of: cycle, onboarding" in result.stderr


def test_broken_content_stops_chat_with_a_pointer_to_validate(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "locales.yaml").write_text("locales: [", "utf-8")
    result = ccbot("chat", "--content", str(content), "--db", str(tmp_path / "x.db"))
    assert result.returncode == 2
    assert b"ccbot validate" in result.stderr and b"Traceback" not in result.stderr


def test_preview_shows_question_scale_and_every_prompt() -> None:
    result = ccbot("preview", "outcomes.design")
    out = result.stdout.decode()
    assert result.returncode == 0
    assert out.startswith("Designing services: How far do the people who use your service")
    for label in ("1 Not yet", "2 Developing", "3 Established", "4 Embedded"):
        assert f"--- {label} ---" in out
    assert out.count("Evidence: Bovaird (2007)") == 4
    assert "What would change first if service users redesigned" in out


def test_preview_of_unknown_question_or_language_exits_2() -> None:
    assert ccbot("preview", "outcomes.nothing").returncode == 2
    result = ccbot("preview", "outcomes.design", "--lang", "xx")
    assert result.returncode == 2 and b"no locale 'xx'" in result.stderr
