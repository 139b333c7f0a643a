"""Scheduled broadcasts: the values and the read port."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class NewSchedule:
    """A schedule to create (see bot/engine/features/broadcasts/schedules.py for the rules)."""

    created_by: str | None
    frequency: str  # 'daily', 'weekly' or 'once'
    weekday: int | None  # 0 = Monday, for weekly
    local_time: str  # 'HH:MM'
    timezone: str
    audience: str
    audience_label: str
    kind: str  # 'prompt', 'text' or 'cycle' (the next sub-component each run)
    question: str | None
    body: str | None
    next_run_at: float
    created_at: float


@dataclass(frozen=True)
class Schedule:
    """A stored schedule; status 'active', 'cancelled' or 'done' (a one-off that ran)."""

    id: int
    created_by: str | None
    frequency: str
    weekday: int | None
    local_time: str
    timezone: str
    audience: str
    audience_label: str
    kind: str
    question: str | None
    body: str | None
    next_run_at: float
    created_at: float
    status: str = "active"
    cycle_index: int = 0
    last_run_at: float | None = None
    last_result: str | None = None


class ScheduleBook(Protocol):
    """Stored schedules and which are due."""

    def schedules(self, active_only: bool = True) -> list[Schedule]:
        """Schedules by id."""
        ...

    def schedule(self, schedule_id: int) -> Schedule | None:
        """The schedule with this id."""
        ...

    def due_schedules(self, now: float) -> list[Schedule]:
        """Active schedules whose next run is at or before `now`."""
        ...
