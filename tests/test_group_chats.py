"""In a group chat nothing personal or privileged is said: one line and a private-chat button."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from coordinator_world import ADMIN, World

from bot.definitions.model import Content
from bot.engine.core.events import PRIVATE_CHAT, Event, Response
from bot.engine.messages import ALL_COMMANDS


@pytest.fixture(params=["memory", "sqlite"])
def world(request: pytest.FixtureRequest, content: Content, tmp_path: Path) -> Iterator[World]:
    built = World(content, request.param, tmp_path / "groups.db")
    yield built
    built.close()


def in_group(world: World, user: str, text: str = "", choice: str | None = None) -> Response:
    return world.engine.handle(Event(world.chat(user).user, text=text, choice=choice,
                                     update_id=next(world.ids), private=False))


def is_private_pointer(response: Response, content: Content) -> bool:
    """Exactly one reply: the private-only line with the button that opens the private chat."""
    (reply,) = response.replies
    return (reply.text == content.text("group.private_only", "en")
            and [c.id for c in reply.choices] == [PRIVATE_CHAT]
            and reply.image is None and reply.document is None)


@pytest.mark.parametrize("command", sorted(c.name for c in ALL_COMMANDS if c.name != "help"))
def test_every_command_but_help_points_to_the_private_chat_in_a_group(
        world: World, content: Content, command: str) -> None:
    admin = world.member(ADMIN.id)
    admin.send("2")
    before = world.store.load_user(admin.user)
    response = in_group(world, ADMIN.id, text=f"/{command}")
    assert is_private_pointer(response, content)
    assert world.store.load_user(admin.user) == before


def test_mydata_in_a_group_posts_no_document_and_role_links_are_never_made_there(
        world: World, content: Content) -> None:
    world.member(ADMIN.id)
    for command in ("/mydata", "/makecoordinator", "/invite", "/newteam north"):
        assert is_private_pointer(in_group(world, ADMIN.id, text=command), content)
    assert world.directory.teams() == []
    assert world.directory.invites(0) == []


def test_a_stranger_in_a_group_is_not_onboarded_there(world: World, content: Content) -> None:
    assert is_private_pointer(in_group(world, "77", text="/start"), content)
    assert world.store.load_user(world.chat("77").user) is None


def test_help_is_answered_in_a_group_without_storing_anything(
        world: World, content: Content) -> None:
    response = in_group(world, "78", text="/help")
    (reply,) = response.replies
    assert reply.text.startswith(content.text("help.title", "en")) and "/cycle - " in reply.text
    assert "/newteam" not in reply.text  # a stranger's /help lists only what they may use
    assert world.store.load_user(world.chat("78").user) is None


def test_a_button_pressed_in_a_group_changes_nothing(world: World, content: Content) -> None:
    member = world.member("79")
    before = world.store.load_user(member.user)
    assert before is not None
    response = in_group(world, "79", choice=f"t{before.turn}:2")
    assert is_private_pointer(response, content) and response.stale_choice
    assert world.store.load_user(member.user) == before


def test_help_lists_the_commands_of_the_users_role(world: World, content: Content) -> None:
    member, admin = world.member("80"), world.member(ADMIN.id)
    member.send("/help")
    admin.send("/help")
    assert "/myteams - " in member.text() and "/newteam" not in member.text()
    assert "/newteam - " in admin.text() and "/makecoordinator - " in admin.text()
