"""The release of a team's figures: minimum groups and the differencing check, then the figures.

`release_team` is the one function that turns a closed round's answers into the figures a
viewer sees (docs/PRIVACY.md, "Release rules"). The viewer's own answers are left out of every
figure they see and never count towards a minimum. A sub-component's average is shown when at
least `Rules.minimum` others answered it and the audit (audit.py) finds that its respondent
set, with everything already released to the viewer, singles out nobody; its spread also needs
`Rules.spread_minimum`. A strand's figures are built only from its shown sub-components: the
average pools their answers (so it says nothing their averages and counts do not), the spread
is over each person's mean of those answers and is audited as a figure of its own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from bot.definitions.model import Content
from bot.engine.ports.releases import Released, RoundAnswer
from bot.engine.release.audit import may_release
from bot.engine.release.figures import (
    DIFFERENCING,
    NOT_SHOWN_PARTS,
    SPREAD_TOO_FEW,
    TOO_FEW,
    Figure,
    TeamRelease,
    middle_half,
)
from bot.engine.release.rules import Rules

WEAKEST = 2


@dataclass(frozen=True)
class TeamRequest:
    """What a release of one team's closed round needs to know."""

    viewer: str
    source: str  # names the group and round, e.g. 'team:3 round:7'
    round_number: int | None
    round_closed_at: float | None
    answers: tuple[RoundAnswer, ...]  # the closed round's answers
    members: int
    open_respondents: int  # people besides the viewer who answered in the open round so far
    earlier: tuple[Released, ...]  # everything already released to the viewer
    rules: Rules
    at: float


class _Ledger:
    """The viewer's released sets per quantity, growing as this release accepts figures."""

    def __init__(self, earlier: Sequence[Released], viewer: str, source: str, at: float):
        self.sets: dict[str, list[frozenset[str]]] = defaultdict(list)
        # One object per distinct set: the audit's caches then compare sets by identity, not
        # person by person (sub-components usually share their respondents).
        self.canon: dict[frozenset[str], frozenset[str]] = {}
        for row in earlier:
            self.sets[row.quantity].append(self.canon.setdefault(row.people, row.people))
        self.viewer, self.source, self.at = viewer, source, at
        self.recorded: list[Released] = []

    def admit(self, quantity: str, people: frozenset[str], needed: int,
              minimum: int) -> str | None:
        """None (and remembered) when a figure over `people` may be shown; else why not.

        `needed` is how many people the figure needs; `minimum` is the smallest group whose
        answers may be determined (Rules.minimum).
        """
        if len(people) < needed:
            return TOO_FEW
        people = self.canon.setdefault(people, people)
        if not may_release(people, self.sets[quantity], minimum):
            return DIFFERENCING
        if people not in self.sets[quantity]:
            self.sets[quantity].append(people)
            self.recorded.append(Released(self.viewer, quantity, self.source, people, self.at))
        return None


def rounded_level(content: Content, question_id: str, mean: float) -> int:
    """The scale level nearest to a team mean (halves round up), within the scale."""
    question = content.questions[question_id]
    numbers = [lv.level for lv in content.scales[question.scale].levels]
    return max(min(numbers), min(max(numbers), int(mean + 0.5)))


def release_team(content: Content, request: TeamRequest) -> TeamRelease:
    """The figures `request.viewer` may see of one closed round, and what to record."""
    rules = request.rules
    ledger = _Ledger(request.earlier, request.viewer, request.source, request.at)
    by_sub: dict[str, dict[str, float]] = defaultdict(dict)
    for answer in request.answers:
        if answer.person != request.viewer and answer.question in content.questions:
            by_sub[answer.question][answer.person] = float(answer.level)
    subs = []
    for sub in content.sub_components:
        values = by_sub.get(sub.id, {})
        reason = ledger.admit(sub.id, frozenset(values), rules.minimum, rules.minimum)
        subs.append(_figure(sub.id, values, reason, rules.spread_minimum))
    shown = {f.id for f in subs if f.shown}
    strands = []
    for strand in content.strands:
        parts = [s.id for s in strand.sub_components if s.id in shown]
        strands.append(_strand(strand.id, parts, by_sub, ledger, rules))
    order = {sub.id: index for index, sub in enumerate(content.sub_components)}
    ranked = sorted((f for f in subs if f.mean is not None), key=lambda f: (f.mean, order[f.id]))
    weakest = tuple((f, rounded_level(content, f.id, f.mean))
                    for f in ranked[:WEAKEST] if f.mean is not None)
    people = {p for values in by_sub.values() for p in values}
    enough = len(people) >= rules.minimum
    return TeamRelease(
        request.source, request.round_number, request.round_closed_at, request.members,
        len(people) if enough else None,
        request.open_respondents if request.open_respondents >= rules.minimum else None,
        bool(people), tuple(subs), tuple(strands), weakest, tuple(ledger.recorded))


def _figure(figure_id: str, values: dict[str, float], reason: str | None,
            spread_minimum: int) -> Figure:
    if reason is not None:
        return Figure(figure_id, None, None, 0, reason)
    numbers = list(values.values())
    mean = sum(numbers) / len(numbers)
    if len(numbers) < spread_minimum:
        return Figure(figure_id, mean, None, len(numbers), None, SPREAD_TOO_FEW)
    return Figure(figure_id, mean, middle_half(numbers), len(numbers))


def _strand(strand_id: str, parts: list[str], by_sub: dict[str, dict[str, float]],
            ledger: _Ledger, rules: Rules) -> Figure:
    if not parts:
        return Figure(strand_id, None, None, 0, NOT_SHOWN_PARTS)
    pooled = [v for part in parts for v in by_sub[part].values()]
    mean = sum(pooled) / len(pooled)
    per_person: dict[str, list[float]] = defaultdict(list)
    for part in parts:
        for person, value in by_sub[part].items():
            per_person[person].append(value)
    people = frozenset(per_person)
    reason = ledger.admit(strand_id, people, rules.spread_minimum, rules.minimum)
    if reason is not None:
        return Figure(strand_id, mean, None, len(people), None,
                      SPREAD_TOO_FEW if reason == TOO_FEW else DIFFERENCING)
    means = [sum(v) / len(v) for v in per_person.values()]
    return Figure(strand_id, mean, middle_half(means), len(people))
