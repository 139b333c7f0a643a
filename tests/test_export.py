"""`ccbot export responses`: pseudonymous, stable, notes only on request, paths kept inside."""

from __future__ import annotations

import csv
import io
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from coordinator_world import ADMIN, Chat, World, ccbot, invite_code
from openpyxl import load_workbook

from bot.definitions.model import Content
from bot.engine.core.pseudonyms import member_code_of, pseudonym, pseudonym_of, secret_of
from bot.exports import ExportError, export_responses, response_rows, safe_path

PSEUDONYM = re.compile(r"^p-[0-9a-f]{10}$")


@pytest.fixture(params=["memory", "sqlite"])
def world(request: pytest.FixtureRequest, content: Content, tmp_path: Path) -> Iterator[World]:
    made = World(content, request.param, tmp_path / "world.db")
    yield made
    made.close()


def answered(world: World) -> list[Chat]:
    """Three members answer a broadcast; two write reflections."""
    admin = world.member(ADMIN.id)
    admin.send("/newteam riverside")
    code = invite_code(admin.text())
    chats = [world.member(str(ident)) for ident in (5551, 5552, 5553)]
    for chat in chats:
        chat.send(f"/start {code}")
    admin.send("/broadcast")
    admin.tap("team riverside")
    admin.tap("Outcomes")
    admin.tap("Insight")
    admin.tap("Send now")
    bid = world.directory.broadcasts(1)[0].id
    for chat, level in zip(chats, (2, 3, 3), strict=True):
        chat.press(f"bc:{bid}:{level}")
    chats[0].press(f"bc:{bid}:n")
    chats[0].send("Met Amira Khan from the tenants' group")
    chats[1].press(f"bc:{bid}:n")
    chats[1].send("=HYPERLINK(\"http://evil.example\",\"click\")")
    return chats


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text("utf-8-sig"))))


def test_the_export_is_pseudonymous_by_default(world: World, tmp_path: Path) -> None:
    chats = answered(world)
    path = tmp_path / "out.csv"
    assert export_responses(world.directory, world.content, path, "csv") == 3
    rows = read_csv(path)
    assert "reflection" not in rows[0]
    assert all(PSEUDONYM.match(r["respondent"]) for r in rows)
    assert len({r["respondent"] for r in rows}) == 3
    first = rows[0]
    # Three respondents share riverside: fewer than 5, so the team is not named (issue 12).
    assert (first["level"], first["answer"], first["teams"], first["prompt"]) == (
        "2", "Developing", "", "outcomes.insight")
    text = path.read_text("utf-8")
    for chat in chats:
        assert chat.user.id not in text and str(chat.user) not in text
    assert "telegram" not in text and "Amira" not in text
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_pseudonyms_are_stable_and_not_member_codes(world: World, tmp_path: Path) -> None:
    chats = answered(world)
    secret = secret_of(world.directory)
    first = [r[0] for r in response_rows(world.directory, world.content, False)[1]]
    second = [r[0] for r in response_rows(world.directory, world.content, False)[1]]
    assert first == second == [pseudonym_of(world.directory, c.user) for c in chats]
    assert pseudonym_of(world.directory, chats[0].user) != \
        member_code_of(world.directory, chats[0].user)
    assert first[0] == pseudonym(secret, chats[0].user,
                                 world.directory.pseudonym_salt(chats[0].user))
    assert pseudonym(b"another database", chats[0].user) != first[0]


def test_notes_only_with_include_notes_and_formulas_are_defused(world: World,
                                                                tmp_path: Path) -> None:
    answered(world)
    path = tmp_path / "notes.csv"
    export_responses(world.directory, world.content, path, "csv", include_notes=True)
    notes = [r["reflection"] for r in read_csv(path)]
    assert notes[0] == "Met Amira Khan from the tenants' group"
    assert notes[1].startswith("'=HYPERLINK") and notes[2] == ""


def test_xlsx_holds_the_same_rows_as_text(world: World, tmp_path: Path) -> None:
    answered(world)
    path = tmp_path / "out.xlsx"
    export_responses(world.directory, world.content, path, "xlsx", include_notes=True)
    sheet = load_workbook(path).active
    assert sheet is not None
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    header, rows = values[0], values[1:]
    assert header[0] == "respondent" and header[-1] == "reflection" and len(rows) == 3
    assert all(PSEUDONYM.match(str(r[0])) for r in rows)
    formula = sheet.cell(row=3, column=len(header))
    assert formula.data_type == "s" and str(formula.value).startswith("'=")


def test_an_empty_export_still_has_its_header(world: World, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    assert export_responses(world.directory, world.content, path, "csv") == 0
    assert path.read_text("utf-8-sig").startswith("respondent,teams,broadcast")


# ---------------------------------------------------------------------- paths
@pytest.mark.parametrize("name", ["../escape.csv", "a/../../escape.csv", "/etc/passwd", ".",
                                  "link/escape.csv"])
def test_the_export_cannot_leave_its_folder(tmp_path: Path, name: str) -> None:
    inside = tmp_path / "exports"
    inside.mkdir()
    (inside / "link").symlink_to(tmp_path)
    with pytest.raises(ExportError, match="outside"):
        safe_path(inside, name)


def test_names_inside_the_folder_are_fine(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    assert safe_path(tmp_path, "sub/../r.csv") == (tmp_path / "r.csv").resolve()
    assert safe_path(tmp_path, "sub/r.csv") == (tmp_path / "sub" / "r.csv").resolve()
    with pytest.raises(ExportError, match="does not exist"):
        safe_path(tmp_path / "missing", "r.csv")


def test_cli_export_warns_about_notes_and_refuses_escapes(content: Content, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    db = tmp_path / "cli.db"
    world = World(content, "sqlite", db)
    answered(world)
    world.close()
    out = tmp_path / "out"
    out.mkdir()
    args = ["export", "responses", "--db", str(db), "--dir", str(out)]
    assert ccbot([*args, "--format", "xlsx", "--out", "r.xlsx"]) == 0
    captured = capsys.readouterr()
    assert "Wrote 3 response(s)" in captured.out and "Warning" not in captured.err
    assert ccbot([*args, "--include-notes"]) == 0
    captured = capsys.readouterr()
    assert "Warning: the export includes reflections" in captured.err
    assert "Amira" in (out / "responses.csv").read_text("utf-8")
    assert ccbot([*args, "--out", "../escape.csv"]) == 2
    assert "outside" in capsys.readouterr().err and not (tmp_path / "escape.csv").exists()
