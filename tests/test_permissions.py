"""The permission matrix: every privileged command and button × every role, on both stores.

Allowed means the action ran; refused means a polite answer, a log line and no state change.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from coordinator_world import ADMIN, Chat, World, invite_code

from bot.definitions.model import Content
from bot.engine.ports.directory import commit_ops
from bot.engine.ports.directory_ops import GrantRole, RevokeRole, SetMemberRole

REFUSED = "only available to coordinators or managers"
NOT_FOR_YOU = "not for you"
ROLES = ("unconsented", "member", "manager", "coordinator", "admin")
IDS = {"admin": ADMIN.id, "coordinator": "2", "manager": "3", "member": "4", "unconsented": "5"}
RANK = {role: i for i, role in enumerate(ROLES)}

# Each privileged command with the least role that may use it. /report 1 is a broadcast the
# admin made: a manager may only see reports of their own broadcasts.
COMMANDS = {
    "/newteam hillside": "coordinator",
    "/teams": "manager",
    "/members riverside": "manager",
    "/invite riverside rotate": "manager",
    "/invite riverside revoke": "manager",
    "/cohort new north": "coordinator",
    "/cohort add north riverside": "coordinator",
    "/makecoordinator": "admin",
    "/broadcast": "manager",
    "/schedule": "manager",
    "/schedules": "manager",
    "/report 1": "coordinator",
    "/report": "manager",
    "/team riverside": "manager",
    "/team": "manager",
    "/digest on monday 09:00 riverside": "manager",
    "/digest": "manager",
    # Added with issue 7 (members reaching coordinator or manager data): the plain forms.
    "/invite riverside": "manager",
    "/members": "manager",
    "/cohort": "coordinator",
    "/cohort list": "coordinator",
    "/cohort remove north riverside": "coordinator",
    "/digest off riverside": "manager",
}


@pytest.fixture(params=["memory", "sqlite"])
def world(request: pytest.FixtureRequest, content: Content, tmp_path: Path) -> Iterator[World]:
    made = World(content, request.param, tmp_path / "world.db")
    admin = made.member(ADMIN.id)
    commit_ops(made.store, [GrantRole("telegram:2", "coordinator", None, 0.0)])
    made.member("2")
    admin.send("/newteam riverside")
    code = invite_code(admin.text())
    for ident in ("3", "4"):
        made.member(ident).send(f"/start {code}")
    team = made.directory.team_named("riverside")
    assert team is not None
    commit_ops(made.store, [SetMemberRole(team.id, "telegram:3", "manager")])
    made.chat("5").send("/start")
    admin.send("/cohort new north")
    admin.send("/broadcast")
    admin.tap("team riverside")
    admin.tap("Outcomes")
    admin.tap("Insight")
    admin.tap("Send now")
    admin.send("/schedule")
    admin.tap("everyone")
    admin.tap("Next in the cycle")
    admin.tap("Every day")
    admin.send("09:00")
    admin.tap("UTC")
    admin.tap("Save schedule")
    yield made
    made.close()


def snapshot(world: World, chat: Chat) -> object:
    """Everything a privileged action could change, and the actor's own record."""
    d = world.directory
    teams = [(t, d.members(t.id), d.invites(t.id)) for t in d.teams()]
    record = world.store.load_user(chat.user)
    mine = replace(record, last_seen=0.0) if record else None
    return (teams, d.cohorts(), d.broadcasts(100), d.grants(), d.schedules(False),
            d.responses(), [world.outbox.progress(b.id) for b in d.broadcasts(100)], mine)


def allowed(role: str, least: str) -> bool:
    return RANK[role] >= RANK[least]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_privileged_commands(world: World, role: str, command: str,
                             caplog: pytest.LogCaptureFixture) -> None:
    chat = world.chat(IDS[role])
    before = snapshot(world, chat)
    with caplog.at_level(logging.WARNING, logger="bot.engine.engine"):
        chat.send(command)
    if role == "unconsented":
        assert "First, please answer this question" in chat.text()
        assert snapshot(world, chat) == before
    elif allowed(role, COMMANDS[command]):
        assert REFUSED not in chat.text(), chat.text()
    else:
        assert REFUSED in chat.text()
        assert snapshot(world, chat) == before
        assert any("refused" in r.getMessage() for r in caplog.records)


def coordinator_button(world: World, label: str) -> str:
    """The callback data of a button on the coordinator's own keyboard."""
    chat = world.chat(IDS["coordinator"])
    if label == "Make manager":
        chat.send("/members riverside")
        return next(c.id for r in chat.last.replies for c in r.choices
                    if c.label.startswith("Make "))
    if label == "Send now":
        chat.send("/broadcast")
        chat.tap("everyone")
        chat.tap("Type a message")
        chat.send("Hello all")
        return chat.button("Send now")
    chat.send("/schedules")
    return chat.button("Cancel #1")


@pytest.mark.parametrize("role", ["unconsented", "member", "manager", "admin"])
@pytest.mark.parametrize("label", ["Make manager", "Send now", "Cancel #1"])
def test_buttons_from_a_coordinators_keyboard_do_nothing_for_others(world: World, role: str,
                                                                    label: str) -> None:
    data = coordinator_button(world, label)
    other = world.chat(IDS[role])
    before = snapshot(world, other)
    response = other.press(data)
    assert response.stale_choice
    assert snapshot(world, other) == before


@pytest.mark.parametrize("role", ROLES)
def test_a_broadcasts_answer_buttons_work_for_its_recipients_only(world: World,
                                                                  role: str) -> None:
    chat = world.chat(IDS[role])
    before = snapshot(world, chat)
    response = chat.press("bc:1:3")
    answer = world.directory.answer_of(1, chat.user)
    if role in ("manager", "member"):  # the broadcast went to team riverside
        assert answer is not None and answer.level == 3 and not response.stale_choice
    else:
        assert response.stale_choice and answer is None
        assert snapshot(world, chat) == before
        if role != "unconsented":
            assert NOT_FOR_YOU in chat.text()


def test_a_coordinator_demoted_mid_way_cannot_press_make_manager(world: World) -> None:
    chat = world.chat(IDS["coordinator"])
    chat.send("/members riverside")
    data = next(c.id for r in chat.last.replies for c in r.choices if c.label.startswith("Make"))
    commit_ops(world.store, [RevokeRole("telegram:2", "coordinator")])
    before = snapshot(world, chat)
    chat.press(data)
    assert REFUSED in chat.text()
    after = snapshot(world, chat)
    assert after[:-1] == before[:-1]  # type: ignore[index]


def test_a_manager_demoted_mid_way_cannot_send(world: World) -> None:
    chat = world.chat(IDS["manager"])
    chat.send("/broadcast")
    chat.tap("team riverside")
    chat.tap("Type a message")
    chat.send("Hello team")
    team = world.directory.team_named("riverside")
    assert team is not None
    commit_ops(world.store, [SetMemberRole(team.id, "telegram:3", "member")])
    chat.tap("Send now")
    assert REFUSED in chat.text()
    assert [b.id for b in world.directory.broadcasts(10)] == [1]


def test_a_manager_cannot_reach_another_teams_audience(world: World) -> None:
    admin = world.chat(ADMIN.id)
    admin.send("/newteam hillside")
    code = invite_code(admin.text())
    world.member("6").send(f"/start {code}")
    chat = world.chat(IDS["manager"])
    chat.send("/broadcast")
    assert chat.labels() == ["team riverside", "Cancel"]
    # A typed label is matched against the user's own buttons only.
    chat.send("team hillside")
    assert "Please tap a button" in chat.text() and world.directory.broadcasts(10)[0].id == 1
