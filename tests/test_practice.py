"""Commitments: *I'll try this* under a prompt, the follow-up days later, /actions and Drop."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from coordinator_world import World

from bot.definitions.model import Content
from bot.engine.features.practice.followups import send_due
from bot.engine.features.practice.timing import daytime, follow_up_at
from bot.engine.ports.practice import Commitment

DAY = 86400.0


@pytest.fixture(params=["memory", "sqlite"])
def world(request: pytest.FixtureRequest, content: Content, tmp_path: Path) -> World:
    return World(content, request.param, tmp_path / "practice.db")


def committed(world: World, days: str = "In 7 days") -> tuple[World, Commitment]:
    """A member who answered the first question and said they would try its prompt."""
    chat = world.member("5")
    chat.send("/cycle")
    chat.send("2")
    chat.tap("I'll try this")
    assert "When should I ask you how it went?" in chat.text()
    chat.tap(days)
    assert "Noted. I'll ask you how it went on" in chat.text()
    chat.tap("Skip")  # the answer's own note: the cycle carries on where it was
    [commitment] = world.practice.commitments(str(chat.user))
    return world, commitment


def follow_ups(world: World) -> list[str]:
    """What the tick sends now: the follow-up texts (the twin's replies are read back)."""
    told = send_due(world.practice, world.store, world.content, world.clock.now)
    return [str(u) for u, _ in told]


def test_i_will_try_this_records_the_prompt_persona_and_the_follow_up_day(world: World) -> None:
    world, commitment = committed(world)
    assert commitment.question in world.content.questions
    assert commitment.level == 2 and commitment.persona == "frontline"
    assert commitment.status == "open" and commitment.due_at is not None
    assert 7 * DAY - 12 * 3600 <= commitment.due_at - commitment.made_at <= 8 * DAY
    world.close()


def test_the_user_picks_three_seven_or_fourteen_days(world: World) -> None:
    world, commitment = committed(world, "In 14 days")
    assert commitment.due_at is not None and commitment.due_at - commitment.made_at >= 13 * DAY
    world.close()


def test_the_follow_up_is_sent_once_when_due_and_not_before(world: World) -> None:
    world, commitment = committed(world)
    world.clock.now = (commitment.due_at or 0) - 60
    assert follow_ups(world) == []
    world.clock.now = (commitment.due_at or 0) + 60
    assert follow_ups(world) == ["telegram:5"]
    assert follow_ups(world) == []  # claimed: a second tick sends nothing
    assert world.practice.commitment(commitment.id).asked == 1  # type: ignore[union-attr]
    world.close()


def test_tried_it_helped_keeps_the_answer_and_an_optional_private_note(world: World) -> None:
    world, commitment = committed(world)
    chat = world.chat("5")
    world.clock.now = (commitment.due_at or 0) + 60
    follow_ups(world)
    chat.press(f"practice:o:{commitment.id}:helped")
    assert "practice history" in chat.text() and "Type a note" in chat.text()
    chat.send("Asked two residents at the door.")
    found = world.practice.commitment(commitment.id)
    assert found is not None and found.status == "helped"
    assert found.note == "Asked two residents at the door."
    assert world.practice.tried_by_strand(str(chat.user)) == {commitment.strand: 1}
    world.close()


def test_not_yet_asks_again_once_a_week_later_and_then_stops(world: World) -> None:
    world, commitment = committed(world)
    chat = world.chat("5")
    world.clock.now = (commitment.due_at or 0) + 60
    follow_ups(world)
    chat.press(f"practice:o:{commitment.id}:not_yet")
    assert "I'll ask once more" in chat.text()
    again = world.practice.commitment(commitment.id)
    assert again is not None and again.due_at is not None
    assert again.due_at - world.clock.now >= 6.5 * DAY
    world.clock.now = again.due_at + 60
    assert follow_ups(world) == ["telegram:5"]
    chat.press(f"practice:o:{commitment.id}:not_yet")
    assert "I won't ask" in chat.text()
    world.clock.now += 30 * DAY
    assert follow_ups(world) == []
    world.close()


def test_actions_lists_open_ones_with_a_drop_button_and_drop_stops_the_follow_up(
        world: World) -> None:
    world, commitment = committed(world)
    chat = world.chat("5")
    chat.send("/actions")
    assert "Planned:" in chat.text()
    [drop] = [label for label in chat.labels() if label.startswith("Drop:")]
    chat.tap(drop)
    assert "Dropped:" in chat.text()
    world.clock.now = (commitment.due_at or 0) + 60
    assert follow_ups(world) == []
    chat.send("/actions")
    assert "dropped" in chat.text()
    world.close()


def test_someone_else_cannot_answer_or_drop_my_commitment(world: World) -> None:
    world, commitment = committed(world)
    other = world.member("6")
    other.press(f"practice:drop:{commitment.id}")
    assert "no longer open" in other.text()
    found = world.practice.commitment(commitment.id)
    assert found is not None and found.status == "open"
    world.close()


def test_forget_deletes_the_commitments_and_their_follow_ups(world: World) -> None:
    world, commitment = committed(world)
    chat = world.chat("5")
    chat.send("/forget")
    chat.tap(chat.labels()[0])
    assert world.practice.commitments(str(chat.user)) == []
    world.clock.now = (commitment.due_at or 0) + 60
    assert follow_ups(world) == []
    world.close()


def test_mydata_holds_the_commitments_and_the_note(world: World) -> None:
    world, commitment = committed(world)
    chat = world.chat("5")
    world.clock.now = (commitment.due_at or 0) + 60
    follow_ups(world)
    chat.press(f"practice:o:{commitment.id}:mixed")
    chat.send("Only one visit this week.")
    data = world.store.export_user(chat.user)
    assert [row["note"] for row in data["commitments"]] == ["Only one visit this week."]
    world.close()


def test_a_follow_up_never_falls_between_eight_in_the_evening_and_eight_in_the_morning() -> None:
    for hour in range(24):
        ts = 1_750_000_000.0 - (1_750_000_000.0 % DAY) + hour * 3600  # 15 Jun 2025, UTC
        for zone in ("UTC", "Europe/Paris", "America/Bogota"):
            local = datetime.fromtimestamp(daytime(ts, zone), ZoneInfo(zone))
            assert 8 <= local.hour < 20, (hour, zone, local)
    assert follow_up_at(0.0, 7, "UTC") >= 7 * DAY


def test_progress_shows_actions_tried_per_strand_beside_the_levels(world: World) -> None:
    world, commitment = committed(world)
    chat = world.chat("5")
    world.clock.now = (commitment.due_at or 0) + 60
    follow_ups(world)
    chat.press(f"practice:o:{commitment.id}:helped")
    chat.tap("Skip")
    chat.send("/progress")
    strand = world.content.strand(commitment.strand)
    assert strand is not None
    assert f"Actions tried (helped or mixed), per strand: {strand.title.get('en')} 1" in (
        chat.text())
    world.close()


def test_a_broadcast_prompt_carries_i_will_try_this_and_the_commitment_names_it(
        world: World) -> None:
    from test_broadcasts import deliver_all, latest, send_prompt, team_with

    [ann] = team_with(world, ["2"])
    send_prompt(world.chat("1"))
    broadcast = latest(world.directory)
    deliver_all(world)
    ann.press(f"bc:{broadcast.id}:2")
    ann.tap("I'll try this")
    ann.tap("In 7 days")
    [made] = world.practice.commitments(str(ann.user))
    assert made.broadcast_id == broadcast.id and made.question == broadcast.question
    world.close()


def test_a_user_who_blocked_the_bot_gets_no_follow_up_until_they_write_again(
        content: Content, tmp_path: Path) -> None:
    from bot.storage.blocked_chats import block_user, unblock_user
    from bot.storage.sqlite_store import SQLiteStore

    world, commitment = committed(World(content, "sqlite", tmp_path / "blocked.db"))
    assert isinstance(world.store, SQLiteStore)
    with world.store.transaction() as conn:
        block_user(conn, "telegram:5")
    world.clock.now = (commitment.due_at or 0) + 60
    assert follow_ups(world) == []
    with world.store.transaction() as conn:  # they wrote again (the channel unblocks them)
        unblock_user(conn, "telegram:5")
    assert follow_ups(world) == ["telegram:5"]
    world.close()
