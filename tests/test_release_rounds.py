"""Check-in rounds: monthly boundaries in UTC, catching up, closing early, and who may close."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlite_utils
from coordinator_world import ADMIN, World, ccbot, invite_code

from bot.admin.rounds import invite
from bot.definitions.model import Content
from bot.engine.features.broadcasts.views import ROUND_INVITE, render_message
from bot.engine.ports.directory import commit_ops
from bot.engine.ports.directory_ops import SetMemberRole
from bot.engine.ports.releases import CloseRound
from bot.engine.release.rounds import next_boundary, settle
from bot.engine.release.rules import Rules, rules_from


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=timezone.utc).timestamp()


def test_a_round_closes_on_the_first_of_the_next_month_at_midnight_utc() -> None:
    assert next_boundary(utc(2025, 12, 31, 23, 59), 1) == utc(2026, 1, 1)
    assert next_boundary(utc(2026, 1, 1), 1) == utc(2026, 2, 1)
    assert next_boundary(utc(2026, 3, 29, 1, 30), 3) == utc(2026, 6, 1)  # across a DST change


def test_the_minimum_may_be_raised_but_never_set_below_three() -> None:
    assert rules_from({"CCBOT_MIN_GROUP": "6"}).minimum == 6
    assert rules_from({}).minimum == 5 and rules_from({}).spread_minimum == 8
    with pytest.raises(ValueError, match="CCBOT_MIN_GROUP"):
        rules_from({"CCBOT_MIN_GROUP": "2"})
    with pytest.raises(ValueError, match="whole number"):
        rules_from({"CCBOT_ROUND_MONTHS": "monthly"})


@pytest.fixture(params=["memory", "sqlite"])
def world(request: pytest.FixtureRequest, content: Content, tmp_path: Path) -> Iterator[World]:
    made = World(content, request.param, tmp_path / "world.db")
    yield made
    made.close()


def riverside(world: World) -> int:
    admin = world.member(ADMIN.id)
    admin.send("/newteam riverside")
    code = invite_code(admin.text())
    world.member("3").send(f"/start {code}")
    team = world.directory.team_named("riverside")
    assert team is not None
    commit_ops(world.store, [SetMemberRole(team.id, "telegram:3", "manager")])
    return team.id


def test_missed_months_are_closed_once_each_and_closing_twice_changes_nothing(
        world: World) -> None:
    team_id = riverside(world)
    team = world.directory.team(team_id)
    assert team is not None
    later = world.clock.now + 100 * 86400  # 1 July, 1 August and 1 September passed
    state = settle(world.directory, team_id, team.created_at, later, Rules())
    commit_ops(world.store, state.ops)
    rounds = world.directory.rounds(team_id)
    assert [r.closed for r in rounds] == [True, True, True, False]
    assert all(r.closed_by == "schedule" for r in rounds[:3])
    again = settle(world.directory, team_id, team.created_at, later, Rules())
    assert again.ops == () and again.last == rounds[2]
    commit_ops(world.store, [CloseRound(team_id, 3, later, "cli", ())])  # already closed
    assert world.directory.rounds(team_id)[2] == rounds[2]


def test_a_coordinator_closes_the_round_with_the_button(world: World) -> None:
    team_id = riverside(world)
    admin = world.chat(ADMIN.id)
    admin.send("/round")
    assert "Team riverside, round 1: open since" in admin.text()
    admin.tap("Close now: riverside")
    assert "Round 1 of team riverside is closed" in admin.text()
    first = world.directory.rounds(team_id)[0]
    assert first.closed and first.closed_by == str(ADMIN)


def test_a_manager_cannot_close_a_round_even_with_a_forged_button(world: World) -> None:
    team_id = riverside(world)
    boss = world.chat("3")
    boss.send("/round")
    assert "Close now" not in " ".join(boss.labels())
    done = boss.last.replies[-1].choices[-1].id
    boss.press(done.replace("done", f"c.{team_id}"))
    assert "Is closed" not in boss.text() and "closed; /team shows" not in boss.text()
    assert not any(r.closed for r in world.directory.rounds(team_id))


def test_closing_with_invite_sends_each_team_an_invitation_through_the_broadcast_path(
        world: World) -> None:
    team_id = riverside(world)
    members = len(world.directory.recipients(f"team:{team_id}", ("telegram",)))
    assert invite(world.store, world.directory, team_id, "riverside", world.clock.now) == \
        f"invitation queued for {members} member(s); the running bot sends it."
    sent = world.directory.broadcasts(1)[0]
    assert (sent.kind, sent.audience) == (ROUND_INVITE, f"team:{team_id}")


def test_inviting_a_team_with_nobody_to_reach_says_so(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--db", str(tmp_path / "cli.db")]
    assert ccbot(["teams", "create", "empty", *db]) == 0
    capsys.readouterr()
    assert ccbot(["rounds", "close", "--invite", *db]) == 0
    out = capsys.readouterr().out
    assert "empty: round 1 closed; 0 answered" in out and "no members to invite." in out
    assert list(sqlite_utils.Database(tmp_path / "cli.db")["broadcasts"].rows) == []


def test_the_invitation_is_in_each_recipients_language_and_points_to_the_cycle(
        content: Content) -> None:
    for locale in ("en", "fr", "es"):
        text, buttons = render_message(content, locale, ROUND_INVITE, None, None, "1")
        assert "/where" in text and buttons == ()
    assert render_message(content, "fr", ROUND_INVITE, None, None, "1")[0] != \
        render_message(content, "en", ROUND_INVITE, None, None, "1")[0]
