"""The release of the dashboard's counts of people: who took part, where they stopped.

The programme overview shows, for closed weeks only, how many people were onboarded, active,
did a reflection or tried something, and how far people got in the 12 steps of the cycle.
Each figure is a count of the people with a property among a *population*: everyone
onboarded by the end of that week. A count is shown only when its population holds at least
`Rules.minimum` people besides the viewer, never counts the viewer, and is itself 0 or at
least the minimum (a count of 1 is one person's doing). The counts of a closed week are
frozen the first time they are computed (bot/storage/dashboard_store.py), so a figure never
changes afterwards: a /forget, or anything that happens later, cannot be found by comparing
two looks at the same week. The funnel is cumulative (who reached a step by then), so two
weeks' funnels differ by who progressed between them: a step is shown only when it differs
from the last shown value of that step by 0 or by the minimum or more (`release_funnel`;
docs/PRIVACY.md, "The dashboard's counts").
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from bot.engine.ports.dashboard import WeekCount
from bot.engine.release.figures import DIFFERENCING, TOO_FEW
from bot.engine.release.rules import Rules

WEEK = 7 * 86_400.0
# The weekly figures and the funnel step metrics.
WEEKLY = ("onboarded", "active", "reflected", "tried")


def step_metric(step: int) -> str:
    """The funnel's metric for reaching step `step` (1-based)."""
    return f"step:{step}"


@dataclass(frozen=True)
class CountFigure:
    """One count as the viewer may see it: `count` is None when withheld (and why)."""

    week_start: float
    metric: str
    count: int | None
    population: int  # besides the viewer
    withheld: str | None = None


def closed_weeks(now: float, weeks: int) -> list[float]:
    """The starts (Monday 00:00 UTC) of the last `weeks` weeks that ended by `now`, oldest first."""
    # The Unix epoch was a Thursday: Monday 00:00 UTC is 4 days past a multiple of a week.
    monday = 4 * 86_400.0
    current = ((now - monday) // WEEK) * WEEK + monday
    return [current - WEEK * n for n in range(weeks, 0, -1)]


def release_counts(frozen: Sequence[WeekCount], viewer_in: Collection[tuple[float, str]],
                   viewer_onboarded_at: float | None, rules: Rules) -> tuple[CountFigure, ...]:
    """The frozen counts `viewer` may see, in the order given.

    `viewer_in` are the (week, metric) pairs the viewer themself is counted in, and
    `viewer_onboarded_at` when they were onboarded (None: never), so that they are left out
    of both the count and its population.
    """
    figures = []
    for frozen_count in frozen:
        week_end = frozen_count.week_start + WEEK
        member = viewer_onboarded_at is not None and viewer_onboarded_at < week_end
        population = frozen_count.population - (1 if member else 0)
        if population < rules.minimum:
            figures.append(CountFigure(frozen_count.week_start, frozen_count.metric, None,
                                       max(population, 0), TOO_FEW))
            continue
        mine = 1 if (frozen_count.week_start, frozen_count.metric) in viewer_in else 0
        count = frozen_count.count - mine
        if small(count, rules):
            figures.append(CountFigure(frozen_count.week_start, frozen_count.metric, None,
                                       population, TOO_FEW))
            continue
        figures.append(CountFigure(frozen_count.week_start, frozen_count.metric, count,
                                   population))
    return tuple(figures)


def small(count: int, rules: Rules) -> bool:
    """True for a count (or a change of one) of 1 to minimum - 1 people, either way: it
    would be what so few people did."""
    return 0 < abs(count) < rules.minimum


def release_funnel(frozen: Sequence[WeekCount], viewer_in: Collection[tuple[float, str]],
                   viewer_onboarded_at: float | None, rules: Rules,
                   week_start: float) -> tuple[CountFigure, ...]:
    """The funnel of `week_start` as `viewer` may see it, one figure per step metric.

    `frozen` holds every frozen funnel count up to that week (all weeks ever frozen, any
    order). Each step is released along the chain of its frozen weeks, oldest first: a week's
    count is shown when `release_counts` shows it and it differs from the step's last shown
    count by 0 or by the minimum or more. The facts only ever grow (a forgotten person's
    steps stay, under an opaque token), so any two shown counts of a step differ by 0 or by
    the minimum or more: no two looks give away how far fewer people got.
    """
    by_metric: dict[str, list[WeekCount]] = {}
    for count in frozen:
        if count.week_start <= week_start:
            by_metric.setdefault(count.metric, []).append(count)
    figures = []
    for metric in sorted(by_metric, key=lambda m: int(m.split(":")[1])):
        last: int | None = None
        figure: CountFigure | None = None
        for count in sorted(by_metric[metric], key=lambda c: c.week_start):
            (figure,) = release_counts([count], viewer_in, viewer_onboarded_at, rules)
            if figure.count is not None and last is not None and small(figure.count - last,
                                                                        rules):
                figure = CountFigure(figure.week_start, metric, None, figure.population,
                                     DIFFERENCING)
            if figure.count is not None:
                last = figure.count
        if figure is not None and figure.week_start == week_start:
            figures.append(figure)
    return tuple(figures)
