"""Reminders to carry on: opt-in on /pause, the time zone asked once, gentle and rare nudges."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from coordinator_world import World

from bot.definitions.model import Content
from bot.engine.features.reminders.nudges import send_nudges, send_quiet_offers

DAY = 86400.0


@pytest.fixture(params=["memory", "sqlite"])
def world(request: pytest.FixtureRequest, content: Content, tmp_path: Path) -> World:
    return World(content, request.param, tmp_path / "reminders.db")


def paused(world: World) -> World:
    """A member part-way through the cycle who paused and asked for a reminder tomorrow."""
    chat = world.member("7")
    chat.send("/cycle")
    chat.send("2")
    chat.send("/pause")
    assert "Would you like a reminder to carry on?" in chat.text()
    chat.tap("Remind me tomorrow")
    assert "Which time zone are you in?" in chat.text()
    chat.send("Europe/Paris")  # typed: the buttons offer English speakers' likely zones
    assert "I'll remind you on" in chat.text()
    return world


def nudges(world: World) -> list[str]:
    return [str(u) for u, _ in send_nudges(world.reminders, world.store, world.content,
                                           world.clock.now)]


def next_at(world: World) -> float:
    found = world.reminders.reminder("telegram:7")
    assert found is not None and found.next_at is not None
    return found.next_at


def test_pause_offers_a_reminder_and_asks_the_time_zone_once(world: World) -> None:
    world = paused(world)
    found = world.reminders.reminder("telegram:7")
    assert found is not None and found.zone == "Europe/Paris"
    local = datetime.fromtimestamp(next_at(world), ZoneInfo("Europe/Paris"))
    assert 8 <= local.hour < 20
    chat = world.chat("7")
    chat.send("/pause")
    chat.tap("Remind me in 3 days")
    assert "Which time zone" not in chat.text() and "I'll remind you on" in chat.text()
    world.close()


def test_a_time_zone_can_be_typed_and_a_wrong_one_is_asked_again(world: World) -> None:
    chat = world.member("7")
    chat.send("/reminders")
    assert "Reminders are off." in chat.text()
    chat.tap("Remind me in 3 days")
    chat.send("Mars/Olympus")
    assert "I don't know the time zone" in chat.text()
    chat.tap("Africa/Nairobi")
    found = world.reminders.reminder("telegram:7")
    assert found is not None and found.zone == "Africa/Nairobi"
    chat.send("/reminders")
    assert "Reminders are on: the next one on" in chat.text()
    world.close()


def test_a_nudge_is_sent_once_when_due_in_the_daytime(world: World) -> None:
    world = paused(world)
    world.clock.now = next_at(world) - 60
    assert nudges(world) == []
    world.clock.now = next_at(world) + 60
    assert nudges(world) == ["telegram:7"]
    assert nudges(world) == []
    world.close()


def test_no_more_than_one_nudge_every_three_days_and_none_after_two_unanswered(
        world: World) -> None:
    world = paused(world)
    sent = []
    world.clock.now = next_at(world)
    for _ in range(40):  # twenty days, ticking every half day
        sent += [world.clock.now] * len(nudges(world))
        world.clock.now += DAY / 2
    assert len(sent) == 2
    assert sent[1] - sent[0] >= 3 * DAY
    for at in sent:
        assert 8 <= datetime.fromtimestamp(at, ZoneInfo("Europe/Paris")).hour < 20
    world.close()


def test_a_word_from_the_user_counts_as_an_answer_and_the_nudges_carry_on(world: World) -> None:
    world = paused(world)
    chat = world.chat("7")
    world.clock.now = next_at(world)
    sent = 0
    for _ in range(40):
        got = nudges(world)
        sent += len(got)
        if got:
            chat.send("/where")  # they answer each nudge
        world.clock.now += DAY / 2
    assert sent >= 5
    world.close()


def test_no_thanks_turns_reminders_off(world: World) -> None:
    world = paused(world)
    chat = world.chat("7")
    chat.send("/reminders")
    chat.tap("No thanks")
    world.clock.now += 30 * DAY
    assert nudges(world) == []
    world.close()


def test_quiet_mid_cycle_users_are_offered_reminders_once(world: World) -> None:
    chat = world.member("8")
    chat.send("/cycle")
    chat.send("2")
    start = world.clock.now
    world.clock.now = start - (start % DAY) + 4 * DAY + 10 * 3600
    first = send_quiet_offers(world.reminders, world.store, world.content, world.clock.now)
    again = send_quiet_offers(world.reminders, world.store, world.content, world.clock.now)
    assert [str(u) for u, _ in first] == ["telegram:8"] and again == []
    world.close()


def test_forget_deletes_the_reminders(world: World) -> None:
    world = paused(world)
    chat = world.chat("7")
    chat.send("/forget")
    chat.tap(chat.labels()[0])
    assert world.reminders.reminder("telegram:7") is None
    world.close()


def test_mydata_holds_the_reminder_settings(world: World) -> None:
    world = paused(world)
    data = world.store.export_user(world.chat("7").user)
    assert [row["zone"] for row in data["reminders"]] == ["Europe/Paris"]
    world.close()
