"""/team shows a team's actions tried per strand only as the release rules allow."""

from __future__ import annotations

from pathlib import Path

import pytest
from coordinator_world import World
from test_team_view import close_round, team_world

from bot.definitions.model import Content
from bot.engine.core.events import UserKey
from bot.engine.core.records import Commit
from bot.engine.ports.practice import AnswerFollowUp, MakeCommitment


@pytest.fixture(params=["memory", "sqlite"])
def world(request: pytest.FixtureRequest, content: Content, tmp_path: Path) -> World:
    return World(content, request.param, tmp_path / "team.db")


def tried(world: World, ident: str, strand: str = "outcomes") -> None:
    """`ident` committed to something in `strand` and said it helped, now."""
    user = UserKey("telegram", ident)
    world.store.commit(Commit(user, None, None, ops=(MakeCommitment(
        str(user), f"{strand}.x", strand, 2, "frontline", world.clock.now,
        world.clock.now + 1),)))
    [made] = world.practice.commitments(str(user))
    world.store.commit(Commit(user, None, None, ops=(AnswerFollowUp(
        made.id, str(user), "helped", world.clock.now + 2),)))


def test_a_team_sees_how_many_tried_per_strand_never_who(world: World) -> None:
    boss = team_world(world, respondents=6, close=False)
    for ident in ("10", "11", "12", "13", "14"):
        tried(world, ident)
    close_round(world)
    boss.send("/team")
    said = "\n".join(r.text for r in boss.last.replies)
    assert "Actions tried in the round (helped or mixed), per strand: Outcomes 5" in said
    assert "telegram:1" not in said and "10" not in said.split("per strand:")[1]
    world.close()


def test_actions_tried_are_withheld_below_the_minimum_group(world: World) -> None:
    boss = team_world(world, respondents=4, close=False)
    for ident in ("10", "11"):
        tried(world, ident)
    close_round(world)
    boss.send("/team")
    said = "\n".join(r.text for r in boss.last.replies)
    assert "Actions tried per strand are not shown" in said
    world.close()


def committed_from_broadcast(world: World, people: int, outcome: str = "helped") -> int:
    """`people` recipients of a prompt broadcast commit to its prompt and answer `outcome`."""
    from test_broadcasts import deliver_all, latest, send_prompt, team_with

    chats = team_with(world, [str(20 + n) for n in range(people)])
    send_prompt(world.chat("1"))
    broadcast = latest(world.directory)
    deliver_all(world)
    for chat in chats:
        chat.press(f"bc:{broadcast.id}:2")
        chat.tap("I'll try this")
        chat.tap("In 3 days")
        [made] = world.practice.commitments(str(chat.user))
        world.store.commit(Commit(chat.user, None, None, ops=(AnswerFollowUp(
            made.id, str(chat.user), outcome, world.clock.now + 5),)))
    return broadcast.id


def test_a_broadcasts_report_says_how_the_commitments_went_in_aggregate(world: World) -> None:
    ident = committed_from_broadcast(world, 8)
    admin = world.chat("1")
    admin.send(f"/report {ident}")
    said = "\n".join(r.text for r in admin.last.replies)
    assert "8 said how it went: helped 8, mixed 0, not yet 0, dropped 0. Never who." in said
    world.close()


def test_a_broadcasts_commitment_outcomes_are_withheld_below_eight(world: World) -> None:
    ident = committed_from_broadcast(world, 7)
    admin = world.chat("1")
    admin.send(f"/report {ident}")
    said = "\n".join(r.text for r in admin.last.replies)
    assert "how it went is not shown yet" in said
    world.close()
