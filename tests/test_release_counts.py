"""The dashboard's counts of people: minimum population without the viewer, never the viewer."""

from __future__ import annotations

from bot.engine.ports.dashboard import WeekCount
from bot.engine.release.counts import WEEK, closed_weeks, release_counts, release_funnel
from bot.engine.release.figures import DIFFERENCING, TOO_FEW
from bot.engine.release.rules import Rules

MONDAY = 1_749_427_200.0  # Mon 9 Jun 2025 00:00 UTC


def test_only_weeks_that_have_ended_are_counted() -> None:
    assert closed_weeks(MONDAY + 3 * 86_400, 2) == [MONDAY - 2 * WEEK, MONDAY - WEEK]
    assert closed_weeks(MONDAY, 1) == [MONDAY - WEEK]


def test_a_count_needs_the_minimum_population_besides_the_viewer() -> None:
    counts = [WeekCount(MONDAY, "active", 5, 5)]
    shown = release_counts(counts, set(), None, Rules())
    assert shown[0].count == 5
    # The viewer is one of the five: four others are too few.
    hidden = release_counts(counts, set(), MONDAY - 1, Rules())
    assert hidden[0].count is None and hidden[0].withheld == TOO_FEW


def test_the_viewer_is_never_counted() -> None:
    counts = [WeekCount(MONDAY, "tried", 9, 6)]
    shown = release_counts(counts, {(MONDAY, "tried")}, MONDAY - 1, Rules())
    assert shown[0].count == 5 and shown[0].population == 8


def test_someone_onboarded_after_the_week_is_not_in_its_population() -> None:
    counts = [WeekCount(MONDAY, "active", 5, 0)]
    assert release_counts(counts, set(), MONDAY + WEEK + 1, Rules())[0].count == 0


def test_a_deployment_minimum_applies() -> None:
    counts = [WeekCount(MONDAY, "active", 6, 1)]
    assert release_counts(counts, set(), None, Rules(minimum=7, spread_minimum=8))[0].count \
        is None


def test_a_count_of_fewer_people_than_the_minimum_is_withheld() -> None:
    counts = [WeekCount(MONDAY, "active", 12, n) for n in (0, 1, 4, 5, 12)]
    assert [f.count for f in release_counts(counts, set(), None, Rules())] == \
        [0, None, None, 5, 12]
    # Leaving the viewer out can make a count small.
    (mine,) = release_counts([WeekCount(MONDAY, "active", 12, 5)], {(MONDAY, "active")},
                             MONDAY - 1, Rules())
    assert mine.count is None and mine.withheld == TOO_FEW


def test_a_funnel_step_is_withheld_when_it_moved_by_fewer_than_the_minimum() -> None:
    weeks = [MONDAY + WEEK * n for n in range(4)]
    # step 1 goes 6, 7 (one person more: withheld), 11 (5 more than the last shown), 11
    history = [WeekCount(w, "step:1", 12, c) for w, c in zip(weeks, (6, 7, 11, 11))]
    shown = [release_funnel(history, set(), None, Rules(), w)[0] for w in weeks]
    assert [f.count for f in shown] == [6, None, 11, 11]
    assert shown[1].withheld == DIFFERENCING


def test_any_two_shown_funnels_differ_by_none_or_by_the_minimum() -> None:
    weeks = [MONDAY + WEEK * n for n in range(8)]
    history = [WeekCount(w, "step:1", 30, c) for w, c in zip(weeks, (5, 6, 7, 9, 10, 12, 14, 15))]
    shown = [f.count for w in weeks for f in release_funnel(history, set(), None, Rules(), w)
             if f.count is not None]
    assert all(a == b or abs(a - b) >= 5 for a in shown for b in shown), shown


def test_the_funnel_leaves_the_viewer_out_week_by_week() -> None:
    weeks = [MONDAY, MONDAY + WEEK]
    history = [WeekCount(w, "step:1", 12, 6) for w in weeks]
    # The viewer reached step 1 in the second week: 6 then 5 others, one apart: withheld.
    (second,) = release_funnel(history, {(weeks[1], "step:1")}, MONDAY - 1, Rules(), weeks[1])
    assert second.count is None and second.withheld == DIFFERENCING
