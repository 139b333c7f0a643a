"""Rights are checked when they are used: schedules, /report and role links outlive no right."""

from __future__ import annotations

import time
from collections.abc import Iterator
from itertools import count
from pathlib import Path

import pytest
from coordinator_world import ADMIN, Chat, World, invite_code

from bot.definitions.model import Content
from bot.engine.core.events import UserKey
from bot.engine.features.broadcasts.schedules import run_due
from bot.engine.ports.directory import commit_ops
from bot.engine.ports.directory_ops import CreateSchedule, GrantRole, RevokeRole, SetMemberRole
from bot.engine.ports.schedules import NewSchedule

MONDAY_9 = 1_750_060_800.0  # Mon 16 Jun 2025 08:00 UTC


@pytest.fixture(params=["memory", "sqlite"])
def world(request: pytest.FixtureRequest, content: Content, tmp_path: Path) -> Iterator[World]:
    made = World(content, request.param, tmp_path / "rights.db")
    yield made
    made.close()


def team_with_manager(world: World) -> tuple[Chat, int]:
    """Team riverside with two members; member 20 is its manager."""
    admin = world.member(ADMIN.id)
    admin.send("/newteam riverside")
    code = invite_code(admin.text())
    for ident in ("20", "21"):
        world.member(ident).send(f"/start {code}")
    team = world.directory.team_named("riverside")
    assert team is not None
    commit_ops(world.store, [SetMemberRole(team.id, "telegram:20", "manager")])
    return world.chat("20"), team.id


def schedule_by(world: World, maker: str, team_id: int) -> int:
    commit_ops(world.store, [CreateSchedule(NewSchedule(
        maker, "weekly", 0, "09:00", "Europe/London", f"team:{team_id}", "riverside", "text",
        None, "Stand-up at ten.", MONDAY_9, world.clock.now))])
    return world.directory.schedules()[-1].id


def test_a_schedule_runs_while_its_maker_may_still_address_the_team(world: World) -> None:
    _, team_id = team_with_manager(world)
    schedule_by(world, "telegram:20", team_id)
    (run,) = run_due(world.directory, world.store, world.content, MONDAY_9 + 5,
                     holds=world.engine.roles.has)
    assert run.sent and run.told is None


def test_a_schedule_of_a_demoted_manager_is_cancelled_and_they_are_told(world: World) -> None:
    _, team_id = team_with_manager(world)
    schedule_id = schedule_by(world, "telegram:20", team_id)
    commit_ops(world.store, [SetMemberRole(team_id, "telegram:20", "member")])
    (run,) = run_due(world.directory, world.store, world.content, MONDAY_9 + 5,
                     holds=world.engine.roles.has)
    assert not run.sent and run.told == "20" and run.result.startswith("cancelled")
    assert world.directory.broadcasts(10) == []
    schedule = world.directory.schedule(schedule_id)
    assert schedule is not None and schedule.status != "active"
    assert run_due(world.directory, world.store, world.content, MONDAY_9 + 7 * 86400,
                   holds=world.engine.roles.has) == []


def test_a_schedule_made_with_the_cli_keeps_running(world: World) -> None:
    _, team_id = team_with_manager(world)
    schedule_by(world, "cli", team_id)
    (run,) = run_due(world.directory, world.store, world.content, MONDAY_9 + 5,
                     holds=world.engine.roles.has)
    assert run.sent


def test_report_needs_current_access_to_the_audience(world: World) -> None:
    manager, team_id = team_with_manager(world)
    manager.send("/broadcast")
    manager.tap("team riverside")
    manager.tap("Type a message")
    manager.send("Stand-up moved to 10:00.")
    manager.tap("Send now")
    (broadcast,) = world.directory.broadcasts(1)
    manager.send(f"/report {broadcast.id}")
    assert f"Broadcast #{broadcast.id}" in manager.text()
    # Made a plain member again, then given another team to manage: still a manager, but
    # no longer of riverside.
    commit_ops(world.store, [SetMemberRole(team_id, "telegram:20", "member")])
    admin = world.chat(ADMIN.id)
    admin.send("/newteam hillside")
    world.chat("20").send(f"/start {invite_code(admin.text())}")
    hillside = world.directory.team_named("hillside")
    assert hillside is not None
    commit_ops(world.store, [SetMemberRole(hillside.id, "telegram:20", "manager")])
    manager.send(f"/report {broadcast.id}")
    assert f"Broadcast #{broadcast.id}" not in manager.text()
    assert world.content.text("refused", "en") in manager.text()


def link_by_granted_admin(world: World) -> tuple[Chat, str]:
    commit_ops(world.store, [GrantRole("telegram:5", "admin", "cli", world.clock.now)])
    maker = world.member("5")
    maker.send("/makecoordinator")
    return maker, invite_code(maker.text())


def test_a_role_link_works_while_its_maker_is_an_admin(world: World) -> None:
    _, code = link_by_granted_admin(world)
    world.member("30").send(f"/start {code}")
    assert world.engine.roles.has(UserKey("telegram", "30"), "coordinator")


def test_a_role_link_of_a_demoted_admin_grants_nothing_and_is_withdrawn(world: World) -> None:
    _, code = link_by_granted_admin(world)
    commit_ops(world.store, [RevokeRole("telegram:5", "admin")])
    stranger = world.member("30")
    stranger.send(f"/start {code}")
    assert not world.engine.roles.has(stranger.user, "coordinator")
    invite = world.directory.invite(code)
    assert invite is not None and invite.revoked_at is not None


def test_a_role_link_of_a_forgotten_admin_grants_nothing_and_is_withdrawn(
        world: World) -> None:
    maker, code = link_by_granted_admin(world)
    maker.send("/forget")
    maker.tap("Yes")
    stranger = world.member("30")
    stranger.send(f"/start {code}")
    assert not world.engine.roles.has(stranger.user, "coordinator")
    invite = world.directory.invite(code)
    assert invite is not None and invite.revoked_at is not None


def test_a_role_link_of_an_admin_no_longer_in_ccbot_admins_grants_nothing(
        content: Content, tmp_path: Path) -> None:
    path = tmp_path / "admins.db"
    before = World(content, "sqlite", path)
    maker = before.member(ADMIN.id)
    maker.send("/makecoordinator")
    code = invite_code(maker.text())
    before.close()
    after = World(content, "sqlite", path, admins=frozenset())  # CCBOT_ADMINS changed
    after.ids = count(10_000)  # update ids go on from the first run's
    stranger = after.member("30")
    stranger.send(f"/start {code}")
    assert not after.engine.roles.has(stranger.user, "coordinator")
    assert after.content.text("teams.role_link_lapsed", "en") in stranger.text()
    after.close()


def test_the_demoted_managers_notice_is_queued_for_their_chat(content: Content,
                                                             tmp_path: Path) -> None:
    from bot.storage.reply_outbox import SQLiteReplyOutbox, queue_each_turn
    from bot.storage.sqlite_store import SQLiteStore

    world = World(content, "sqlite", tmp_path / "told.db")
    assert isinstance(world.store, SQLiteStore)
    queue_each_turn(world.store)
    _, team_id = team_with_manager(world)
    schedule_by(world, "telegram:20", team_id)
    commit_ops(world.store, [SetMemberRole(team_id, "telegram:20", "member")])
    outbox = SQLiteReplyOutbox(world.store)
    waiting = len(outbox.pending("20"))
    run_due(world.directory, world.store, world.content, MONDAY_9 + 5,
            holds=world.engine.roles.has)
    (notice,) = outbox.pending("20")[waiting:]
    assert notice.reply.text.startswith("I cancelled your schedule")
    world.close()


def test_role_links_can_be_listed_and_withdrawn_from_the_command_line(
        content: Content, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from coordinator_world import ccbot

    path = tmp_path / "links.db"
    world = World(content, "sqlite", path)
    world.clock.now = time.time()  # the command line reads the real clock
    maker = world.member(ADMIN.id)
    maker.send("/makecoordinator")
    code = invite_code(maker.text())
    world.close()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CCBOT_ADMINS", ADMIN.id)
        assert ccbot(["roles", "links", "list", "--db", str(path)]) == 0
        listed = capsys.readouterr().out
        assert code in listed and listed.rstrip().endswith("usable")
        assert ccbot(["roles", "links", "revoke", code, "--db", str(path)]) == 0
        assert "Withdrew 1 role link(s)." in capsys.readouterr().out
        ccbot(["roles", "links", "list", "--db", str(path)])
        assert capsys.readouterr().out.rstrip().endswith("revoked")
    after = World(content, "sqlite", path)
    after.ids, after.clock.now = count(10_000), time.time()
    stranger = after.member("30")
    stranger.send(f"/start {code}")
    assert not after.engine.roles.has(stranger.user, "coordinator")
    after.close()
