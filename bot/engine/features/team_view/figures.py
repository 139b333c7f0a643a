"""Who may see a team's view, and its figures: participation, averages, spreads, weakest two.

Definitions (README "For coordinators and managers", docs/BROADCASTS.md "Team view"):

- A member's level for a sub-component is their latest answer to it in the cycle (any cycle);
  skips and reflections do not count. Notes are never read.
- A respondent of a figure is a member whose levels the figure is computed from.
- Every figure computed from fewer than MIN_RESPONDENTS people *not counting the viewer* is
  suppressed (None). Not counting the viewer matters: a manager who answered too could
  otherwise subtract their own answer from an average of three and learn the other two.
- Spread is the interquartile range (the middle half: 25th to 75th percentile, inclusive
  method): for a sub-component, of members' levels; for a strand, of members' strand means
  (each member's mean over the strand's sub-components they answered). Unlike lowest-highest,
  it does not hinge on any single person's answer.
- Participation: members (always shown: /members lists them anyway); members active in the
  last ACTIVE_DAYS days (users.last_seen); cycle steps completed, i.e. distinct (member, cycle,
  sub-component) answered with a level, so answering again after /back counts once; and how
  many members have answered at all. The last three are about everyone in the team, so they
  are shown only when the team has MIN_RESPONDENTS members besides the viewer.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from bot.definitions.model import Content
from bot.engine.core.events import UserKey
from bot.engine.ports.directory import Directory
from bot.engine.ports.team_reads import TeamActivity
from bot.engine.ports.teams import Team

MIN_RESPONDENTS = 3
ACTIVE_DAYS = 30
DAY = 86400.0
WEAKEST = 2


@dataclass(frozen=True)
class Figure:
    """One sub-component's or strand's figure; mean and spread are None when suppressed."""

    id: str
    mean: float | None
    spread: tuple[float, float] | None

    @property
    def shown(self) -> bool:
        """False when too few people answered for the figure to be shown."""
        return self.mean is not None


@dataclass(frozen=True)
class Participation:
    """Members, and (None when the team is too small to show them) activity counts."""

    members: int
    active: int | None
    steps: int | None
    respondents: int | None


@dataclass(frozen=True)
class TeamFigures:
    """Everything /team and the digest show, already suppressed where it must be."""

    participation: Participation
    answered: bool  # anyone at all has answered (says which "no figures" reason applies)
    subs: tuple[Figure, ...]  # every sub-component, in cycle order
    strands: tuple[Figure, ...]  # every strand, in cycle order
    weakest: tuple[tuple[Figure, int], ...]  # up to WEAKEST shown subs, with a rounded level

    @property
    def any_shown(self) -> bool:
        """True when at least one sub-component average can be shown."""
        return any(f.shown for f in self.subs)

    @property
    def any_hidden(self) -> bool:
        """True when some level figure is suppressed."""
        return not all(f.shown for f in (*self.subs, *self.strands))


def middle_half(values: list[float]) -> tuple[float, float]:
    """The interquartile range (inclusive method) of at least two values."""
    low, _, high = statistics.quantiles(values, n=4, method="inclusive")
    return low, high


def _figure(figure_id: str, by_person: dict[str, float], viewer: str | None) -> Figure:
    others = len(by_person.keys() - {viewer} if viewer else by_person)
    if others < MIN_RESPONDENTS:
        return Figure(figure_id, None, None)
    values = list(by_person.values())
    return Figure(figure_id, sum(values) / len(values), middle_half(values))


def rounded_level(content: Content, question_id: str, mean: float) -> int:
    """The scale level nearest to a team mean (halves round up), within the scale."""
    question = content.questions[question_id]
    numbers = [lv.level for lv in content.scales[question.scale].levels]
    return max(min(numbers), min(max(numbers), int(mean + 0.5)))


def team_figures(content: Content, levels: Iterable[tuple[str, str, int]],
                 activity: TeamActivity, members: Iterable[str],
                 viewer: str | None = None) -> TeamFigures:
    """The team's figures from Directory.team_levels and team_activity.

    `members` are the team's user keys; `viewer` is the key of whoever will see the figures
    (None for nobody in particular), who is not counted towards MIN_RESPONDENTS.
    """
    per_sub: dict[str, dict[str, float]] = defaultdict(dict)
    for user, question, level in levels:
        if question in content.questions:
            per_sub[question][user] = float(level)
    subs = tuple(_figure(sub.id, per_sub.get(sub.id, {}), viewer)
                 for sub in content.sub_components)
    strands = []
    for strand in content.strands:
        person_levels: dict[str, list[float]] = defaultdict(list)
        for sub in strand.sub_components:
            for user, value in per_sub.get(sub.id, {}).items():
                person_levels[user].append(value)
        means = {user: sum(values) / len(values) for user, values in person_levels.items()}
        strands.append(_figure(strand.id, means, viewer))
    order = {sub.id: index for index, sub in enumerate(content.sub_components)}
    shown = sorted((f for f in subs if f.mean is not None),
                   key=lambda f: (f.mean, order[f.id]))
    weakest = tuple((f, rounded_level(content, f.id, f.mean))
                    for f in shown[:WEAKEST] if f.mean is not None)
    keys = set(members)
    respondents = {user for answers in per_sub.values() for user in answers}
    others = len(keys - {viewer}) if viewer else len(keys)
    if others >= MIN_RESPONDENTS:
        participation = Participation(activity.members, activity.active, activity.steps,
                                      len(respondents))
    else:
        participation = Participation(activity.members, None, None, None)
    return TeamFigures(participation, bool(respondents), subs, tuple(strands), weakest)


def viewable_teams(directory: Directory, user: UserKey, coordinator: bool) -> list[Team]:
    """Teams whose view the user may see: all for coordinators (and admins), else managed ones."""
    if coordinator:
        return directory.teams()
    managed = {m.team_id for m in directory.memberships(user) if m.role == "manager"}
    return [t for t in directory.teams() if t.id in managed]


def read_team_figures(directory: Directory, content: Content, team_id: int, now: float,
                      viewer: UserKey | None = None) -> TeamFigures:
    """The team's figures as `viewer` may see them, read through the Directory port."""
    members = [str(m.user) for m in directory.members(team_id)]
    activity = directory.team_activity(team_id, now - ACTIVE_DAYS * DAY)
    return team_figures(content, directory.team_levels(team_id), activity, members,
                        str(viewer) if viewer else None)
