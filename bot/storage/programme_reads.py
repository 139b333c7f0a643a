"""The raw counts behind the dashboard's overview, per closed week, read from SQLite.

Only counts of people leave here (a WeekCount per week and metric); the release module
(bot/engine/release/counts.py) decides which of them a viewer may see. With `only`, the
same counts for one person (0 or 1), so that the viewer can be left out of what they see.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from bot.engine.ports.dashboard import WeekCount
from bot.engine.ports.practice import TRIED
from bot.engine.release.counts import WEEK, WEEKLY, step_metric
from bot.storage.sqlite_store import SQLiteStore

REFLECTION_STEPS = 4  # a reflection is done when all of its questions (one per strand) are


def onboarded_at(store: SQLiteStore, user: str) -> float | None:
    """When the user agreed to take part (their record's creation), None if they have not."""
    rows = store.query("SELECT created_at FROM users WHERE key = ? AND consent = 1", (user,))
    return float(rows[0][0] or 0.0) if rows else None


def _reflected(store: SQLiteStore, week_starts: Sequence[float], who: str,
               params: tuple[str, ...]) -> dict[float, set[str]]:
    """Who did a reflection in each week: all its questions answered within that week and
    the one before, the last of them in that week. Each week looks over its own two weeks,
    whichever weeks are asked together, so a frozen count and the viewer's part agree."""
    first, end = min(week_starts), max(week_starts) + WEEK
    rows = store.query(
        "SELECT user_key, cycle, question, at FROM answers WHERE dialogue = 'reflect' AND "
        "at >= ? AND at < ? AND level IS NOT NULL" + who, (first - WEEK, end, *params))
    wanted = set(week_starts)
    # Per week start: (user, cycle) -> questions answered in that week and the one before,
    # and whether one of them was in that week itself. Each row is seen once.
    asked: dict[float, dict[tuple[str, Any], set[str]]] = defaultdict(lambda: defaultdict(set))
    in_week: dict[float, set[tuple[str, Any]]] = defaultdict(set)
    for user, cycle, question, at in rows:
        week = first + ((at - first) // WEEK) * WEEK
        if week in wanted:
            asked[week][user, cycle].add(question)
            in_week[week].add((user, cycle))
        if week + WEEK in wanted:
            asked[week + WEEK][user, cycle].add(question)
    return {start: {user for (user, cycle), questions in asked[start].items()
                    if len(questions) >= REFLECTION_STEPS and (user, cycle) in in_week[start]}
            for start in week_starts}


def reached_at(store: SQLiteStore, user: str) -> dict[str, float]:
    """When the user first reached each step of the cycle (question id -> time)."""
    return {str(r[0]): float(r[1]) for r in store.query(
        "SELECT question, first_at FROM dashboard_steps WHERE user_key = ?", (user,))}


def week_counts(store: SQLiteStore, week_starts: Sequence[float], steps: Sequence[str],
                only: str | None = None) -> list[WeekCount]:
    """Per week: onboarded, active, reflected and tried; and the funnel (`steps`, the cycle's
    sub-components in order) as it stood at the end of the last week."""
    if not week_starts:
        return []
    first, end = min(week_starts), max(week_starts) + WEEK
    who, params = ("", ()) if only is None else (" AND user_key = ?", (only,))
    joined = sorted(float(r[0] or 0.0) for r in store.query(
        "SELECT created_at FROM users WHERE consent = 1"
        + ("" if only is None else " AND key = ?"), params))

    def bucket(rows: list[Any]) -> dict[float, set[str]]:
        """(user, at) rows -> the people per week start."""
        found: dict[float, set[str]] = defaultdict(set)
        for user, at in rows:
            if at is not None and first <= at < end:
                found[first + ((at - first) // WEEK) * WEEK].add(user)
        return found

    per_metric = {
        "onboarded": bucket(store.query(
            "SELECT key, created_at FROM users WHERE consent = 1 AND created_at >= ? AND "
            "created_at < ?" + who.replace("user_key", "key"), (first, end, *params))),
        "reflected": _reflected(store, week_starts, who, params),
        "tried": bucket(store.query(
            f"SELECT user_key, answered_at FROM commitments WHERE status IN "
            f"({', '.join('?' * len(TRIED))}) AND answered_at >= ? AND answered_at < ?" + who,
            (*TRIED, first, end, *params))),
    }
    # Kept by a trigger on answers (dashboard_store.m002_activity): one row per person and
    # week, counted here, so not one answer is read.
    active = {r[0]: r[1] for r in store.query(
        "SELECT week_start, COUNT(*) FROM dashboard_active WHERE week_start >= ? AND "
        "week_start < ?" + who + " GROUP BY week_start", (first, end, *params))}
    counts = []
    for start in week_starts:
        population = bisect_left(joined, start + WEEK)
        numbers = {metric: len(people.get(start, ())) for metric, people in per_metric.items()}
        numbers["active"] = active.get(start, 0)
        counts += [WeekCount(start, metric, population, numbers[metric]) for metric in WEEKLY]
    last = max(week_starts)
    reached = {r[0]: r[1] for r in store.query(
        "SELECT question, COUNT(*) FROM dashboard_steps WHERE first_at < ?" + who
        + " GROUP BY question", (last + WEEK, *params))}
    population = bisect_left(joined, last + WEEK)
    counts += [WeekCount(last, step_metric(n), population, reached.get(question, 0))
               for n, question in enumerate(steps, start=1)]
    return counts
