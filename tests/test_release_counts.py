"""The dashboard's counts of people: minimum population without the viewer, never the viewer."""

from __future__ import annotations

from bot.engine.ports.dashboard import WeekCount
from bot.engine.release.counts import WEEK, closed_weeks, release_counts
from bot.engine.release.figures import TOO_FEW
from bot.engine.release.rules import Rules

MONDAY = 1_749_427_200.0  # Mon 9 Jun 2025 00:00 UTC


def test_only_weeks_that_have_ended_are_counted() -> None:
    assert closed_weeks(MONDAY + 3 * 86_400, 2) == [MONDAY - 2 * WEEK, MONDAY - WEEK]
    assert closed_weeks(MONDAY, 1) == [MONDAY - WEEK]


def test_a_count_needs_the_minimum_population_besides_the_viewer() -> None:
    counts = [WeekCount(MONDAY, "active", 5, 2)]
    shown = release_counts(counts, set(), None, Rules())
    assert shown[0].count == 2
    # The viewer is one of the five: four others are too few.
    hidden = release_counts(counts, set(), MONDAY - 1, Rules())
    assert hidden[0].count is None and hidden[0].withheld == TOO_FEW


def test_the_viewer_is_never_counted() -> None:
    counts = [WeekCount(MONDAY, "tried", 9, 3)]
    shown = release_counts(counts, {(MONDAY, "tried")}, MONDAY - 1, Rules())
    assert shown[0].count == 2 and shown[0].population == 8


def test_someone_onboarded_after_the_week_is_not_in_its_population() -> None:
    counts = [WeekCount(MONDAY, "active", 5, 1)]
    assert release_counts(counts, set(), MONDAY + WEEK + 1, Rules())[0].count == 1


def test_a_deployment_minimum_applies() -> None:
    counts = [WeekCount(MONDAY, "active", 6, 1)]
    assert release_counts(counts, set(), None, Rules(minimum=7, spread_minimum=8))[0].count \
        is None
