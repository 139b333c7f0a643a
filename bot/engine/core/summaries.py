"""Turning a set of answers into strand scores: strongest, weakest, and what to take away."""

from __future__ import annotations

from dataclasses import dataclass

from bot.definitions.model import Content
from bot.engine.core.records import Answer


@dataclass(frozen=True)
class StrandScore:
    """The mean level of a strand's answered sub-components."""

    strand: str
    mean: float
    answered: int


@dataclass(frozen=True)
class Summary:
    """Strongest and weakest strands, and the sub-component to work on next."""

    scores: tuple[StrandScore, ...]
    strongest: StrandScore | None
    weakest: StrandScore | None
    focus_question: str | None
    focus_level: int | None


def latest_levels(answers: list[Answer]) -> dict[str, int]:
    """The most recent answered level per question (skips ignored)."""
    levels: dict[str, int] = {}
    for answer in sorted(answers, key=lambda a: a.at):
        if answer.level is not None:
            levels[answer.question] = answer.level
    return levels


def summarise(content: Content, levels: dict[str, int]) -> Summary:
    """Score strands from per-question levels; ties go to the earlier strand in the cycle."""
    scores: list[StrandScore] = []
    for strand in content.strands:
        values = [lv for qid, lv in levels.items()
                  if content.questions.get(qid) and content.questions[qid].strand == strand.id]
        if values:
            scores.append(StrandScore(strand.id, sum(values) / len(values), len(values)))
    if not scores:
        return Summary((), None, None, None, None)
    weakest = min(scores, key=lambda s: s.mean)
    # With every strand level there is no strongest; the earliest strand is still the focus.
    best = max(scores, key=lambda s: s.mean)
    strongest = best if best.mean > weakest.mean else None
    order = {s.id: i for i, s in enumerate(content.sub_components)}
    in_weakest = [(lv, order.get(qid, 0), qid) for qid, lv in levels.items()
                  if content.questions[qid].strand == weakest.strand]
    level, _, focus = min(in_weakest)
    return Summary(tuple(scores), strongest, weakest, focus, level)
