"""When a follow-up is due: days after the commitment, moved into the user's daytime."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.engine.core.local_time import zone_of

DAYS = (3, 7, 14)
DEFAULT_DAYS = 7
# Never between 20:00 and 08:00 local time; a follow-up falling there waits for this hour.
QUIET_FROM, QUIET_UNTIL = 20, 8
MORNING_HOUR = 10


def daytime(ts: float, zone: str) -> float:
    """`ts` if it is between 08:00 and 20:00 in `zone`, else the next 10:00 there."""
    local = datetime.fromtimestamp(ts, zone_of(zone))
    if QUIET_UNTIL <= local.hour < QUIET_FROM:
        return ts
    day = local if local.hour < QUIET_UNTIL else local + timedelta(days=1)
    morning = day.replace(hour=MORNING_HOUR, minute=0, second=0, microsecond=0)
    return morning.timestamp()


def follow_up_at(made_at: float, days: int, zone: str) -> float:
    """The follow-up's time: `days` days after `made_at`, at a sensible local hour."""
    return daytime(made_at + days * 86400, zone)
