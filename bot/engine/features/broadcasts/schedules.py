"""Schedule rules: the next run in local time (DST-correct), parsing times, and due runs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.definitions.model import Content
from bot.engine.ports.directory import (
    Directory,
    NewBroadcast,
    Rejected,
    Schedule,
    commit_ops,
    parse_key,
)
from bot.engine.ports.directory_ops import RunSchedule
from bot.engine.ports.store import Store

FREQUENCIES = ("daily", "weekly", "once")
_CLOCK = re.compile(r"^(\d{1,2})[:.h](\d{2})$")
# Counting missed runs stops here (a year of daily runs); only the count's size is reported.
_MAX_COUNT = 400


@dataclass(frozen=True)
class Rule:
    """When a repeating schedule runs: daily, or weekly on `weekday` (0 = Monday)."""

    frequency: str
    weekday: int | None
    hour: int
    minute: int
    zone: str


def parse_clock(text: str) -> tuple[int, int]:
    """'9:00', '09:00', '9.00' or '9h00' -> (9, 0); anything else is rejected."""
    match = _CLOCK.match(text.strip())
    if match:
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour < 24 and minute < 60:
            return hour, minute
    raise Rejected("bc.bad_time", time=text.strip()[:20])


def zone_of(name: str) -> ZoneInfo:
    """The IANA time zone called `name` (e.g. Europe/London)."""
    cleaned = name.strip()
    try:
        if not cleaned or cleaned.startswith(("/", ".")) or ".." in cleaned:
            raise ValueError(cleaned)
        return ZoneInfo(cleaned)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise Rejected("bc.bad_zone", zone=cleaned[:60]) from None


def rule_of(schedule: Schedule) -> Rule:
    """The repeating rule of a stored schedule."""
    hour, minute = parse_clock(schedule.local_time)
    return Rule(schedule.frequency, schedule.weekday, hour, minute, schedule.timezone)


def next_run(rule: Rule, after_utc: float) -> float:
    """The first run strictly after `after_utc`, as a UTC epoch.

    Runs happen at the wall-clock time in the rule's zone: 09:00 Europe/London is 08:00 UTC in
    summer and 09:00 UTC in winter. A time that does not exist on a spring-forward day (e.g.
    01:30) runs at the same offset as before the change (02:30 local); a time that happens
    twice on a fall-back day runs at its first occurrence (fold=0).
    """
    zone = zone_of(rule.zone)
    start = datetime.fromtimestamp(after_utc, zone).date()
    for offset in range(0, 9):
        day = start + timedelta(days=offset)
        if rule.frequency == "weekly" and day.weekday() != rule.weekday:
            continue
        at = datetime.combine(day, time(rule.hour, rule.minute), tzinfo=zone).timestamp()
        if at > after_utc:
            return at
    raise AssertionError("a daily or weekly rule always has a run within 8 days")


def runs_between(rule: Rule, start_utc: float, end_utc: float) -> int:
    """How many runs fall in (start_utc, end_utc]."""
    count, at = 0, start_utc
    while count < _MAX_COUNT:
        at = next_run(rule, at)
        if at > end_utc:
            break
        count += 1
    return count


def parse_at(text: str, zone_name: str, now: float) -> float:
    """'2025-06-02 09:00' (in `zone_name` unless it carries an offset) -> a future UTC epoch."""
    zone = zone_of(zone_name)
    try:
        moment = datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    except ValueError:
        raise Rejected("bc.bad_at", at=text.strip()[:40]) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    at = moment.timestamp()
    if at <= now:
        raise Rejected("bc.at_past", at=text.strip()[:40])
    return at


def local_text(ts: float, zone_name: str) -> str:
    """'Mon 2 Jun 2025 09:00 Europe/London'."""
    moment = datetime.fromtimestamp(ts, zone_of(zone_name))
    return f"{moment:%a} {moment.day} {moment:%b %Y %H:%M} {zone_name}"


def clock_of(ts: float, zone_name: str) -> str:
    """'09:00': the local wall-clock time of `ts` in the zone."""
    return f"{datetime.fromtimestamp(ts, zone_of(zone_name)):%H:%M}"


def date_text(ts: float) -> str:
    """'3 May 2025', in UTC."""
    moment = datetime.fromtimestamp(ts, timezone.utc)
    return f"{moment.day} {moment:%b %Y}"


def utc_text(ts: float) -> str:
    """'2 Jun 2025 08:00 UTC'."""
    moment = datetime.fromtimestamp(ts, timezone.utc)
    return f"{moment.day} {moment:%b %Y %H:%M} UTC"


def first_run(frequency: str, weekday: int | None, clock: str, zone: str,
              now: float) -> float:
    """The first run of a new repeating schedule."""
    hour, minute = parse_clock(clock)
    return next_run(Rule(frequency, weekday, hour, minute, zone), now)


@dataclass(frozen=True)
class Run:
    """What one due schedule did: whether a broadcast was created, and why not if not."""

    schedule_id: int
    recipients: int
    missed: int
    next_run_at: float | None
    result: str

    @property
    def sent(self) -> bool:
        """True when a broadcast was created."""
        return self.recipients > 0


def plan_run(directory: Directory, content: Content, schedule: Schedule, now: float,
             channels: tuple[str, ...]) -> tuple[RunSchedule, Run]:
    """The op for one due run, and its summary.

    One run is created however many were missed while the bot was down, and the next run is
    the first one after `now`, so missed runs are sent once and not repeated.
    """
    if schedule.frequency == "once":
        following: float | None = None
        missed = 0
    else:
        rule = rule_of(schedule)
        following = next_run(rule, now)
        missed = runs_between(rule, schedule.next_run_at, now)
    question = schedule.question
    index = schedule.cycle_index
    if schedule.kind == "cycle":
        subs = content.sub_components
        question = subs[index % len(subs)].id
    broadcast: NewBroadcast | None = None
    recipients = directory.recipients(schedule.audience, channels)
    if schedule.kind in ("prompt", "cycle") and question not in content.questions:
        result = f"skipped: the prompt {question} no longer exists"
        recipients = []
    elif not recipients:
        result = "skipped: nobody to send to"
    else:
        creator = parse_key(schedule.created_by) if schedule.created_by else None
        chat = creator.id if creator is not None and creator.channel in channels else None
        broadcast = NewBroadcast(
            schedule.created_by, schedule.audience, schedule.audience_label,
            "text" if schedule.kind == "text" else "prompt", question,
            schedule.body if schedule.kind == "text" else None, now, schedule.id, chat)
        result = f"sent to {len(recipients)}"
        if schedule.kind == "cycle":
            index += 1
    if missed:
        result += f"; {missed} earlier run(s) missed while stopped were not repeated"
    op = RunSchedule(schedule.id, schedule.next_run_at, following, index, now, result,
                     broadcast, tuple(recipients))
    return op, Run(schedule.id, len(recipients), missed, following, result)


def run_due(directory: Directory, store: Store, content: Content, now: float,
            channels: tuple[str, ...] = ("telegram",)) -> list[Run]:
    """Create the broadcasts of every due schedule, each in its own transaction.

    Call it at start-up (runs missed while stopped are sent once) and then periodically.
    """
    runs = []
    for schedule in directory.due_schedules(now):
        op, run = plan_run(directory, content, schedule, now, channels)
        commit_ops(store, [op])
        runs.append(run)
    return runs
