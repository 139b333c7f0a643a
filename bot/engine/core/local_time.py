"""Local time for schedules and digests: rules, next runs (DST-correct), parsing, showing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.engine.ports.directory import Rejected
from bot.engine.ports.schedules import Schedule

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
