"""The export cannot be turned back into people (issue 12, finding 10).

Small teams are not named, times are days, /forget gives a new pseudonym and member code, and
the key that makes pseudonyms is not in the database (so not in a backup).
"""

from __future__ import annotations

import os
import re
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from coordinator_world import ADMIN, Chat, World, ccbot, invite_code

from bot.definitions.model import Content
from bot.engine.core.events import UserKey
from bot.engine.core.pseudonyms import SECRET_SETTING, member_code, member_code_of, pseudonym
from bot.exports import TEAM_MINIMUM, response_rows
from bot.storage.pseudonym_keys import KEY_ENV, key_path


@pytest.fixture(params=["memory", "sqlite"])
def world(request: pytest.FixtureRequest, content: Content, tmp_path: Path) -> Iterator[World]:
    made = World(content, request.param, tmp_path / "world.db")
    yield made
    made.close()


def team_of(world: World, name: str, people: list[int]) -> tuple[Chat, list[Chat]]:
    admin = world.member(ADMIN.id)
    admin.send(f"/newteam {name}")
    code = invite_code(admin.text())
    chats = [world.member(str(ident)) for ident in people]
    for chat in chats:
        chat.send(f"/start {code}")
    return admin, chats


def ask(admin: Chat, audience: str, world: World) -> int:
    admin.send("/broadcast")
    admin.tap(audience)
    admin.tap("Outcomes")
    admin.tap("Insight")
    admin.tap("Send now")
    return world.directory.broadcasts(1)[0].id


def rows(world: World) -> list[dict[str, object]]:
    header, body = response_rows(world.directory, world.content, False)
    return [dict(zip(header, row, strict=True)) for row in body]


def test_a_team_is_named_only_when_five_respondents_share_it(world: World) -> None:
    admin, big = team_of(world, "riverside", list(range(6001, 6001 + TEAM_MINIMUM)))
    _, small = team_of(world, "hilltop", [6101, 6102])
    bid = ask(admin, "everyone", world)
    for chat in big + small:
        chat.press(f"bc:{bid}:2")
    by_team = {str(r["teams"]) for r in rows(world)}
    assert by_team == {"riverside", ""}
    assert all(r["audience"] for r in rows(world))  # "everyone" names no one


def test_a_small_teams_name_is_not_the_audience_column_either(world: World) -> None:
    admin, chats = team_of(world, "hilltop", [6201, 6202, 6203])
    bid = ask(admin, "team hilltop", world)
    for chat in chats:
        chat.press(f"bc:{bid}:3")
    assert {(r["teams"], r["audience"]) for r in rows(world)} == {("", "")}


def test_a_small_audiences_broadcast_number_and_day_are_left_out_too(world: World) -> None:
    # Otherwise `ccbot broadcasts list` (or /report, or the dashboard) shows "#1 team hilltop"
    # and the export's three rows of broadcast 1 are that team's answers, one per pseudonym.
    admin, chats = team_of(world, "hilltop", [6211, 6212, 6213])
    bid = ask(admin, "team hilltop", world)
    for chat in chats:
        chat.press(f"bc:{bid}:3")
    assert {(r["broadcast"], r["broadcast_day_utc"]) for r in rows(world)} == {(None, "")}


def test_times_are_given_to_the_day(world: World) -> None:
    admin, chats = team_of(world, "riverside", [6301])
    chats[0].press(f"bc:{ask(admin, 'everyone', world)}:2")
    (row,) = rows(world)
    for column in ("broadcast_day_utc", "answered_day_utc"):
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(row[column])), row


def test_after_forget_the_same_account_has_a_new_pseudonym_and_member_code(
        world: World) -> None:
    admin, (chat,) = team_of(world, "riverside", [6401])
    before_code = member_code_of(world.directory, chat.user)
    chat.press(f"bc:{ask(admin, 'everyone', world)}:2")
    (before,) = rows(world)
    chat.send("/forget")
    chat.tap("Yes")
    admin.send("/invite riverside")
    chat.send(f"/start {invite_code(admin.text())}")
    chat.tap("Yes, I agree")  # a new person to the bot: asked again
    chat.tap("Frontline staff")
    chat.press(f"bc:{ask(admin, 'everyone', world)}:3")
    (after,) = rows(world)
    assert after["respondent"] != before["respondent"]
    assert member_code_of(world.directory, chat.user) != before_code


def test_the_key_is_in_a_0600_file_beside_the_database_and_not_in_it(
        content: Content, tmp_path: Path) -> None:
    db = tmp_path / "world.db"
    world = World(content, "sqlite", db)
    admin, (chat,) = team_of(world, "riverside", [6501])
    chat.press(f"bc:{ask(admin, 'everyone', world)}:2")
    key = world.directory.pseudonym_key()
    world.close()
    assert key_path(db).read_bytes().strip() == key
    assert stat.S_IMODE(key_path(db).stat().st_mode) == 0o600
    for part in db.parent.glob("world.db*"):
        if part != key_path(db):
            assert key not in part.read_bytes(), part
    (tmp_path / "copy").mkdir()
    assert ccbot(["backup", "--db", str(db), str(tmp_path / "copy" / "b.db")]) == 0
    assert sorted(p.name for p in (tmp_path / "copy").iterdir()) == ["b.db"]


def test_the_key_can_come_from_the_environment_instead(
        content: Content, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "k" * 40)
    world = World(content, "sqlite", tmp_path / "world.db")
    assert world.directory.pseudonym_key() == b"k" * 40
    world.close()
    assert not key_path(tmp_path / "world.db").exists()


def test_an_old_database_key_moves_to_the_key_file_and_keeps_the_codes(
        content: Content, tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    World(content, "sqlite", db).close()
    key_path(db).unlink()
    legacy = "ab" * 32
    member = UserKey("telegram", "6601")
    conn = sqlite3.connect(db)
    with conn:  # as a database from before issue 12 had it
        conn.execute("INSERT INTO app_settings (name, value) VALUES (?, ?)",
                     (SECRET_SETTING, legacy))
        conn.execute("INSERT INTO pseudonym_salts (user_key, salt) VALUES (?, '')",
                     (str(member),))
    conn.close()
    world = World(content, "sqlite", db)
    assert world.directory.setting(SECRET_SETTING) is None
    assert key_path(db).read_text().strip() == legacy
    assert member_code_of(world.directory, member) == member_code(legacy.encode(), member)
    assert pseudonym(legacy.encode(), member) != pseudonym(b"x" * 64, member)
    world.close()
    assert legacy.encode() not in db.read_bytes()
    assert os.stat(key_path(db)).st_mode & 0o077 == 0
