"""Schedules: local times across DST, parsing, due runs, missed runs, restarts, the wizard."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from coordinator_world import ADMIN, Chat, World, ccbot, invite_code

from bot.definitions.model import Content
from bot.engine.core.local_time import Rule, next_run, parse_at, parse_clock, zone_of
from bot.engine.features.broadcasts.schedules import run_due
from bot.engine.ports.directory import EVERYONE, Rejected, commit_ops
from bot.engine.ports.directory_ops import CreateSchedule
from bot.engine.ports.schedules import NewSchedule, Schedule
from bot.storage.directory_store import install
from bot.storage.sqlite_store import SQLiteStore

LONDON = "Europe/London"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0,
        second: int = 0) -> float:
    return datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc).timestamp()


def local(ts: float, zone: str = LONDON) -> str:
    return datetime.fromtimestamp(ts, ZoneInfo(zone)).strftime("%a %Y-%m-%d %H:%M %Z")


# ---------------------------------------------------------------------- next_run
def test_daily_runs_at_the_local_time_later_today_or_tomorrow() -> None:
    rule = Rule("daily", None, 9, 0, LONDON)
    assert local(next_run(rule, utc(2025, 6, 2, 7, 0))) == "Mon 2025-06-02 09:00 BST"
    assert local(next_run(rule, utc(2025, 6, 2, 8, 0))) == "Tue 2025-06-03 09:00 BST"


def test_weekly_runs_on_the_weekday() -> None:
    monday = Rule("weekly", 0, 9, 0, LONDON)
    assert local(next_run(monday, utc(2025, 6, 3, 12, 0))) == "Mon 2025-06-09 09:00 BST"
    assert local(next_run(monday, utc(2025, 6, 9, 7, 59))) == "Mon 2025-06-09 09:00 BST"
    assert local(next_run(Rule("weekly", 6, 23, 30, "UTC"), utc(2025, 6, 2)), "UTC") == \
        "Sun 2025-06-08 23:30 UTC"


def test_the_local_time_holds_across_daylight_saving_changes() -> None:
    rule = Rule("weekly", 0, 9, 0, LONDON)
    before = next_run(rule, utc(2025, 3, 25))  # Monday 31 March, after clocks went forward
    assert local(before) == "Mon 2025-03-31 09:00 BST" and before == utc(2025, 3, 31, 8, 0)
    after = next_run(rule, utc(2025, 10, 22))  # Monday 27 October, after clocks went back
    assert local(after) == "Mon 2025-10-27 09:00 GMT" and after == utc(2025, 10, 27, 9, 0)


def test_a_time_skipped_by_the_clocks_runs_an_hour_later_that_day() -> None:
    rule = Rule("daily", None, 1, 30, LONDON)
    assert local(next_run(rule, utc(2025, 3, 30, 0, 0))) == "Sun 2025-03-30 02:30 BST"


def test_a_repeated_time_runs_once_at_its_first_occurrence() -> None:
    rule = Rule("daily", None, 1, 30, LONDON)
    first = next_run(rule, utc(2025, 10, 25, 12, 0))
    assert first == utc(2025, 10, 26, 0, 30)  # 01:30 BST, not 01:30 GMT
    assert local(next_run(rule, first)) == "Mon 2025-10-27 01:30 GMT"


def test_other_zones_work_too() -> None:
    nairobi = Rule("daily", None, 9, 0, "Africa/Nairobi")
    assert next_run(nairobi, utc(2025, 6, 2)) == utc(2025, 6, 2, 6, 0)


# ---------------------------------------------------------------------- parsing
@pytest.mark.parametrize("text, expected", [("9:00", (9, 0)), ("09:05", (9, 5)),
                                            ("17.30", (17, 30)), ("7h15", (7, 15)),
                                            (" 23:59 ", (23, 59))])
def test_local_times_parse(text: str, expected: tuple[int, int]) -> None:
    assert parse_clock(text) == expected


@pytest.mark.parametrize("text", ["24:00", "9", "9:60", "nine", "", "9:0", "-1:00", "09:00pm"])
def test_malformed_times_are_rejected(text: str) -> None:
    with pytest.raises(Rejected) as caught:
        parse_clock(text)
    assert caught.value.message_id == "bc.bad_time"


@pytest.mark.parametrize("name", ["Mars/Base", "", "../../etc/passwd", "/etc/localtime",
                                  "Europe/", "London"])
def test_unknown_time_zones_are_rejected(name: str) -> None:
    with pytest.raises(Rejected) as caught:
        zone_of(name)
    assert caught.value.message_id == "bc.bad_zone"


def test_at_takes_a_local_time_or_an_offset_and_must_be_future() -> None:
    now = utc(2025, 6, 1)
    assert parse_at("2025-06-02 09:00", LONDON, now) == utc(2025, 6, 2, 8, 0)
    assert parse_at("2025-06-02T09:00+02:00", LONDON, now) == utc(2025, 6, 2, 7, 0)
    for text, message in (("2025-05-31 09:00", "bc.at_past"), ("tomorrow", "bc.bad_at"),
                          ("2025-06-01 00:00", "bc.at_past")):
        with pytest.raises(Rejected) as caught:
            parse_at(text, LONDON, now)
        assert caught.value.message_id == message


# ---------------------------------------------------------------------- due runs
@pytest.fixture(params=["memory", "sqlite"])
def world(request: pytest.FixtureRequest, content: Content, tmp_path: Path) -> Iterator[World]:
    made = World(content, request.param, tmp_path / "world.db")
    yield made
    made.close()


def with_team(world: World, members: int = 2) -> Chat:
    admin = world.member(ADMIN.id)
    admin.send("/newteam riverside")
    code = invite_code(admin.text())
    for i in range(members):
        world.member(str(10 + i)).send(f"/start {code}")
    return admin


def weekly(world: World, kind: str = "cycle", first: float | None = None,
           audience: str | None = None) -> Schedule:
    team = world.directory.team_named("riverside")
    assert team is not None
    at = first if first is not None else utc(2025, 6, 16, 8, 0)
    commit_ops(world.store, [CreateSchedule(NewSchedule(
        str(ADMIN), "weekly", 0, "09:00", LONDON, audience or f"team:{team.id}", "riverside",
        kind, "outcomes.design" if kind == "prompt" else None, None, at, world.clock.now))])
    return world.directory.schedules()[-1]


def test_runs_missed_while_stopped_are_sent_once_not_repeated(world: World) -> None:
    with_team(world)
    schedule = weekly(world)
    # The bot was down for three Mondays; it starts on Wednesday 2 July.
    now = utc(2025, 7, 2, 12, 0)
    (run,) = run_due(world.directory, world.store, world.content, now)
    assert run.sent and run.missed == 2 and "2 earlier run(s) missed" in run.result
    assert len(world.directory.broadcasts(10)) == 1
    after = world.directory.schedule(schedule.id)
    assert after is not None and local(after.next_run_at) == "Mon 2025-07-07 09:00 BST"
    assert run_due(world.directory, world.store, world.content, now + 3600) == []
    assert len(world.directory.broadcasts(10)) == 1


def test_the_cycle_advances_one_sub_component_per_run(world: World) -> None:
    with_team(world)
    weekly(world)
    questions = []
    at = utc(2025, 6, 16, 8, 0)
    for _ in range(3):
        run_due(world.directory, world.store, world.content, at)
        questions.append(world.directory.broadcasts(1)[0].question)
        at += 7 * 86400
    assert questions == ["outcomes.insight", "outcomes.relationships", "outcomes.design"]


def test_a_run_with_nobody_to_send_to_is_skipped_and_rearmed(world: World) -> None:
    with_team(world, members=0)
    schedule = weekly(world)
    (run,) = run_due(world.directory, world.store, world.content, utc(2025, 6, 16, 8, 0))
    assert not run.sent and run.result == "skipped: nobody to send to"
    after = world.directory.schedule(schedule.id)
    assert after is not None and after.cycle_index == 0 and after.status == "active"
    assert world.directory.broadcasts(5) == []


def test_a_one_off_runs_once(world: World) -> None:
    with_team(world)
    at = world.clock.now + 3600
    team = world.directory.team_named("riverside")
    assert team is not None
    commit_ops(world.store, [CreateSchedule(NewSchedule(
        None, "once", None, "17:06", "UTC", EVERYONE, "", "text", None, "Hello", at,
        world.clock.now))])
    assert run_due(world.directory, world.store, world.content, at - 1) == []
    (run,) = run_due(world.directory, world.store, world.content, at + 5)
    assert run.next_run_at is None and world.directory.schedules() == []
    assert world.directory.broadcasts(1)[0].body == "Hello"


def test_schedules_survive_a_restart(content: Content, tmp_path: Path) -> None:
    path = tmp_path / "restart.db"
    world = World(content, "sqlite", path)
    with_team(world)
    schedule = weekly(world)
    world.close()
    store = SQLiteStore(path)
    directory = install(store)
    assert [s.id for s in directory.schedules()] == [schedule.id]
    (run,) = run_due(directory, store, content, utc(2025, 6, 16, 8, 0, 30))
    assert run.sent and directory.broadcasts(1)[0].progress_chat_id == ADMIN.id
    store.close()


# ---------------------------------------------------------------------- the wizard
def schedule_wizard(admin: Chat) -> None:
    admin.send("/schedule")
    admin.tap("team riverside")
    admin.tap("Next in the cycle")
    admin.tap("Every week")
    admin.tap("Monday")


def test_the_wizard_stores_a_weekly_cycle_schedule(world: World) -> None:
    admin = with_team(world)
    schedule_wizard(admin)
    admin.send("9:00")
    admin.send("Europe/London")
    assert "every Monday at 09:00 (Europe/London)" in admin.text()
    assert "The first one goes on Mon 16 Jun 2025 09:00 Europe/London" in admin.text()
    admin.tap("Save schedule")
    (schedule,) = world.directory.schedules()
    assert (schedule.frequency, schedule.weekday, schedule.local_time, schedule.timezone,
            schedule.kind) == ("weekly", 0, "09:00", LONDON, "cycle")
    assert schedule.next_run_at == utc(2025, 6, 16, 8, 0)


@pytest.mark.parametrize("step, bad, answer", [
    ("time", "25:00", "not a time I understand"),
    ("time", "noon", "not a time I understand"),
    ("zone", "Mars/Base", "I don't know the time zone \"Mars/Base\""),
    ("zone", "../../etc/passwd", "I don't know the time zone"),
])
def test_bad_times_and_zones_get_a_clear_answer_and_no_change(world: World, step: str,
                                                              bad: str, answer: str) -> None:
    admin = with_team(world)
    schedule_wizard(admin)
    if step == "zone":
        admin.send("09:00")
    before = admin.awaiting()
    admin.send(bad)
    assert answer in admin.text()
    assert admin.awaiting() == before and world.directory.schedules() == []


def test_a_daily_schedule_in_utc(world: World) -> None:
    admin = with_team(world)
    admin.send("/schedule")
    admin.tap("team riverside")
    admin.tap("Accountability")
    admin.tap("Transparency")
    admin.tap("Every day")
    admin.send("17:30")
    admin.tap("UTC")
    admin.tap("Save schedule")
    (schedule,) = world.directory.schedules()
    assert (schedule.frequency, schedule.question, schedule.next_run_at) == (
        "daily", "accountability.transparency", utc(2025, 6, 15, 17, 30))


def test_schedule_from_a_broadcast_preview(world: World) -> None:
    admin = with_team(world)
    admin.send("/broadcast")
    admin.tap("team riverside")
    admin.tap("Type a message")
    admin.send("Weekly check-in: one thing that went well?")
    admin.tap("Schedule")
    admin.tap("Every week")
    admin.tap("Friday")
    admin.send("16:00")
    admin.send("Africa/Nairobi")
    admin.tap("Save schedule")
    (schedule,) = world.directory.schedules()
    assert (schedule.kind, schedule.body, schedule.weekday) == (
        "text", "Weekly check-in: one thing that went well?", 4)
    assert world.directory.broadcasts(5) == []


def test_schedules_lists_and_cancels(world: World) -> None:
    admin = with_team(world)
    weekly(world)
    admin.send("/schedules")
    assert "every Monday at 09:00 (Europe/London)" in admin.text()
    assert "next: Insight" in admin.text()
    admin.tap(admin.labels()[0])
    assert "is cancelled" in admin.text() and world.directory.schedules() == []
    admin.send("/schedules")
    assert "There are no schedules" in admin.text()


def test_cli_lists_schedules_and_one_off_broadcasts(content: Content, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:

    db = ["--db", str(tmp_path / "cli.db")]
    assert ccbot(["broadcast", "--audience", "everyone", "--text", "hello", "--at",
                 "2099-06-02 09:00", "--tz", LONDON, *db]) == 0
    assert ccbot(["broadcast", "--audience", "everyone", "--text", "hello", "--at",
                 "2001-06-02 09:00", *db]) == 2
    assert ccbot(["broadcast", "--audience", "everyone", "--text", "hello", "--at",
                 "2099-06-02 09:00", "--tz", "Nowhere/City", *db]) == 2
    assert ccbot(["schedules", "list", *db]) == 0
    out = capsys.readouterr()
    assert "once, on Tue 2 Jun 2099 09:00 Europe/London" in out.out
    assert "in the past" in out.err and "Nowhere/City" in out.err
    assert ccbot(["schedules", "cancel", "1", *db]) == 0
    assert ccbot(["schedules", "cancel", "1", *db]) == 2
