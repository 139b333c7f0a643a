"""Schedule rules: the next run in local time (DST-correct), parsing times, and due runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.definitions.model import DEFAULT_LOCALE, Content
from bot.engine.core.events import Reply, UserKey
from bot.engine.core.local_time import (
    next_run,
    rule_of,
    runs_between,
)
from bot.engine.core.records import Commit
from bot.engine.features.broadcasts.actions import CLI_MAKER, may_address
from bot.engine.features.broadcasts.views import schedule_text
from bot.engine.ports.broadcasts import NewBroadcast
from bot.engine.ports.directory import Directory, commit_ops, parse_key
from bot.engine.ports.directory_ops import CancelSchedule, RunSchedule
from bot.engine.ports.schedules import Schedule
from bot.engine.ports.store import Store


@dataclass(frozen=True)
class Run:
    """What one due schedule did: whether a broadcast was created, and why not if not."""

    schedule_id: int
    recipients: int
    missed: int
    next_run_at: float | None
    result: str
    # The chat of a creator told about this run (a cancellation), to be drained.
    told: str | None = None

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
            channels: tuple[str, ...] = ("telegram",),
            holds: Callable[[UserKey, str], bool] | None = None) -> list[Run]:
    """Create the broadcasts of every due schedule, each in its own transaction.

    Call it at start-up (runs missed while stopped are sent once) and then periodically.
    With `holds` (who holds which role now), a schedule whose creator may no longer address
    its audience is cancelled instead, and its creator told.
    """
    runs = []
    for schedule in directory.due_schedules(now):
        if holds is not None and not creator_may_send(directory, holds, schedule):
            runs.append(cancel_lapsed(store, content, schedule, now))
            continue
        op, run = plan_run(directory, content, schedule, now, channels)
        commit_ops(store, [op])
        runs.append(run)
    return runs


def creator_may_send(directory: Directory, holds: Callable[[UserKey, str], bool],
                     schedule: Schedule) -> bool:
    """True when the schedule's creator may still address its audience (the CLI always may)."""
    if schedule.created_by == CLI_MAKER:
        return True
    if not schedule.created_by:
        return False  # forgotten: their rights went with them
    return may_address(directory, holds, parse_key(schedule.created_by), schedule.audience)


def cancel_lapsed(store: Store, content: Content, schedule: Schedule, now: float) -> Run:
    """Cancel a schedule whose creator lost the right to send it, telling them why."""
    cancel = CancelSchedule(schedule.id, now)
    result = "cancelled: its creator may no longer address this audience"
    if not schedule.created_by:
        commit_ops(store, [cancel])
        return Run(schedule.id, 0, 0, None, result)
    creator = parse_key(schedule.created_by)
    record = store.load_user(creator)
    locale = record.locale if record else DEFAULT_LOCALE
    text = content.text("bc.schedule_lapsed", locale,
                        schedule=schedule_text(content, schedule, locale))
    # Committed as the creator's (no record change): the reply is queued with the cancel.
    store.commit(Commit(creator, None, None, ops=(cancel,), replies=(Reply(text),)))
    return Run(schedule.id, 0, 0, None, result, told=creator.id)
