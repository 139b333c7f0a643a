"""A user's own picture: the profile radar and progress over cycles, as chart inputs and words."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from bot.definitions.model import Content
from bot.engine.core.records import Answer
from bot.engine.core.summaries import latest_levels
from bot.engine.ports.charts import Axis


@dataclass(frozen=True)
class ProfileData:
    """Chart inputs for the profile: latest levels, and the previous cycle's where there is one."""

    axes: tuple[Axis, ...]
    current: tuple[float | None, ...]
    previous: tuple[float | None, ...] | None
    previous_cycle: int | None


@dataclass(frozen=True)
class ProgressPoint:
    """One cycle or reflection: its kind, number and mean level per strand (None if unanswered)."""

    kind: str
    number: int
    means: tuple[float | None, ...]


def axes(content: Content, locale: str) -> tuple[Axis, ...]:
    """One axis per sub-component, in cycle order, labelled in the user's language."""
    return tuple(Axis(sub.id, sub.title.get(locale),
                      content.strand(sub.strand).title.get(locale)  # type: ignore[union-attr]
                      ) for sub in content.sub_components)


def profile(content: Content, answers: list[Answer], locale: str) -> ProfileData | None:
    """Latest level per sub-component, with the cycle before the latest overlaid."""
    cycle_answers = [a for a in answers if a.dialogue == "cycle" and a.level is not None]
    if not cycle_answers:
        return None
    order = axes(content, locale)
    latest = latest_levels(cycle_answers)
    current = tuple(_float(latest.get(axis.id)) for axis in order)
    newest_cycle = max(a.cycle for a in cycle_answers)
    earlier = [a for a in cycle_answers if a.cycle < newest_cycle]
    if not earlier:
        return ProfileData(order, current, None, None)
    previous_cycle = max(a.cycle for a in earlier)
    before = latest_levels([a for a in earlier if a.cycle == previous_cycle])
    return ProfileData(order, current, tuple(_float(before.get(axis.id)) for axis in order),
                       previous_cycle)


def progress(content: Content, answers: list[Answer]) -> tuple[ProgressPoint, ...]:
    """Mean level per strand for each cycle and reflection, in the order they were done."""
    groups: dict[tuple[str, int], list[Answer]] = defaultdict(list)
    for answer in answers:
        if answer.level is not None and answer.dialogue in ("cycle", "reflect"):
            groups[(answer.dialogue, answer.cycle)].append(answer)
    points: list[tuple[float, ProgressPoint]] = []
    for (dialogue, number), group in groups.items():
        levels = latest_levels(group)
        means: list[float | None] = []
        for strand in content.strands:
            values = [lv for qid, lv in levels.items()
                      if qid in content.questions and content.questions[qid].strand == strand.id]
            means.append(sum(values) / len(values) if values else None)
        started = min(a.at for a in group)
        points.append((started, ProgressPoint(dialogue, number, tuple(means))))
    return tuple(point for _, point in sorted(points, key=lambda p: p[0]))


def _float(level: int | None) -> float | None:
    return float(level) if level is not None else None
