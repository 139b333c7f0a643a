"""Benchmark: the /team aggregates and chart rendering behind /profile, /progress and /team.

Run: .venv/bin/python benchmarks/reports.py [--repeats 20] [--save DIR] [--memory 200]
     [--members 1000] [--cycles 10]
Targets (issue 5): aggregates under 50 ms, a chart under 300 ms.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bot.charts.render import MatplotlibCharts  # noqa: E402
from bot.definitions.checked import load_content  # noqa: E402
from bot.definitions.model import Content  # noqa: E402
from bot.engine.core.events import UserKey  # noqa: E402
from bot.engine.features.team_view.words import team_report  # noqa: E402
from bot.engine.messages import REQUIRED_MESSAGES  # noqa: E402
from bot.engine.ports.charts import Axis, Chart, Series, TeamLegend  # noqa: E402
from bot.engine.ports.directory import Directory  # noqa: E402
from bot.engine.ports.directory_ops import CreateTeam, NewInvite  # noqa: E402
from bot.engine.release.requests import view_team  # noqa: E402
from bot.storage.directory_store import install  # noqa: E402
from bot.storage.sqlite_store import SQLiteStore  # noqa: E402

CHART_TARGET_MS = 300.0
AGGREGATES_TARGET_MS = 50.0
DAY = 86400.0


@dataclass(frozen=True)
class ChartTiming:
    """How long one chart type took to render, and what it produced."""

    chart: str
    first_ms: float
    median_ms: float
    slowest_ms: float
    width: int
    height: int
    kilobytes: float


@dataclass(frozen=True)
class AggregateTiming:
    """How long one step of the /team aggregates took, median and slowest of the repeats."""

    step: str
    median_ms: float
    slowest_ms: float


def populate_team(store: SQLiteStore, members: int, cycles: int, now: float) -> int:
    """One team of `members`, each with `cycles` full cycles of 12 answers (with notes), in bulk.

    The answers go through the same triggers as live answers, so latest_levels is filled the
    way the running bot fills it. Returns the team id.
    """
    directory = install(store)
    from bot.engine.ports.directory import commit_ops

    commit_ops(store, [CreateTeam("bench", None, now, NewInvite("in-bench", "team", None, None,
                                                                 None, now))])
    team = directory.team_named("bench")
    assert team is not None
    content = load_content(PROJECT / "content", PROJECT / "dialogues", REQUIRED_MESSAGES)
    subs = [sub.id for sub in content.sub_components]
    keys = [f"telegram:{100000 + i}" for i in range(members)]
    with store.transaction() as conn:
        conn.executemany(
            "INSERT INTO users (key, channel, external_id, locale, consent, persona, active, turn,"
            " created_at, last_seen) VALUES (?, 'telegram', ?, 'en', 1, 'frontline', 'cycle',"
            " 30, ?, ?)", ((key, key.split(":")[1], now - 400 * DAY,
                            now - (i % 60) * DAY) for i, key in enumerate(keys)))
        conn.executemany(
            "INSERT INTO team_members (team_id, user_key, role, joined_at) VALUES (?, ?, ?, ?)",
            ((team.id, key, "manager" if i == 0 else "member", now - 400 * DAY)
             for i, key in enumerate(keys)))
        conn.executemany(
            "INSERT INTO answers (user_key, dialogue, cycle, question, level, note, at)"
            " VALUES (?, 'cycle', ?, ?, ?, ?, ?)",
            ((key, cycle, sub, 1 + (i + j + cycle) % 4, f"private note {i}.{cycle}.{j}",
              now - (cycles - cycle) * 30 * DAY + j * 60)
             for i, key in enumerate(keys) for cycle in range(1, cycles + 1)
             for j, sub in enumerate(subs)))
    return team.id


def insert_cost(store: SQLiteStore, rows: int = 5000) -> tuple[float, float]:
    """µs per cycle answer inserted with the team-view triggers, then with them dropped.

    The database is the benchmark's throw-away file; the triggers are dropped at the end.
    """
    def insert(cycle: int) -> float:
        start = time.perf_counter()
        with store.transaction() as conn:
            for i in range(rows):
                conn.execute("INSERT INTO answers (user_key, dialogue, cycle, question, level,"
                             " note, at) VALUES (?, 'cycle', ?, ?, 2, NULL, ?)",
                             (f"telegram:{100000 + i % 1000}", cycle, f"bench.{i}",
                              time.time()))
        return (time.perf_counter() - start) / rows * 1e6

    with_triggers = insert(1001)
    with store.transaction() as conn:
        conn.execute("DROP TRIGGER latest_levels_on_answer")
        conn.execute("DROP TRIGGER step_counts_on_answer")
    return with_triggers, insert(1002)


def aggregate_timings(repeats: int = 20, members: int = 1000,
                      cycles: int = 10) -> tuple[list[AggregateTiming], int, tuple[float, float]]:
    """Median of `repeats` for each step of /team on a fresh SQLite file; and the answer count."""
    now = time.time()
    with tempfile.TemporaryDirectory() as folder:
        store = SQLiteStore(Path(folder) / "team.db")
        try:
            team_id = populate_team(store, members, cycles, now)
            directory: Directory = install(store)
            content: Content = load_content(PROJECT / "content", PROJECT / "dialogues",
                                            REQUIRED_MESSAGES)
            viewer = UserKey("telegram", "100000")
            answers = store.query("SELECT COUNT(*) FROM answers")[0][0]
            team = directory.team(team_id)
            assert team is not None
            view = view_team(directory, content, team, str(viewer), now)
            steps: dict[str, Callable[[], object]] = {
                "team_levels (SQL)": lambda: directory.team_levels(team_id),
                "view_team (rounds, release, audit)": lambda: view_team(
                    directory, content, team, str(viewer), now),
                "team_report (words)": lambda: team_report(
                    content, "en", "bench", view.release, view.rules,
                    view.rounds.open.closes_at),
                "all of /team's aggregates": lambda: (lambda v: team_report(
                    content, "en", "bench", v.release, v.rules, v.rounds.open.closes_at))(
                    view_team(directory, content, team, str(viewer), now)),
            }
            rows = []
            for name, step in steps.items():
                step()  # warm: the first read pulls pages into SQLite's cache
                samples = []
                for _ in range(repeats):
                    start = time.perf_counter()
                    step()
                    samples.append(time.perf_counter() - start)
                rows.append(AggregateTiming(name, statistics.median(samples) * 1000,
                                            max(samples) * 1000))
            cost = insert_cost(store)
        finally:
            store.close()
    return rows, answers, cost


def print_aggregate_table(rows: list[AggregateTiming], repeats: int, members: int,
                          cycles: int, answers: int, cost: tuple[float, float]) -> None:
    """The aggregate timings as a Markdown table, then the verdict against the target."""
    print(f"/team aggregates: {members:,} members x {cycles} cycles = {answers:,} answers in "
          f"SQLite; median of {repeats}\n")
    print("| step | median | slowest |")
    print("|---|---:|---:|")
    for row in rows:
        print(f"| {row.step} | {row.median_ms:.1f} ms | {row.slowest_ms:.1f} ms |")
    total = rows[-1]
    verdict = "met" if total.median_ms < AGGREGATES_TARGET_MS else "MISSED"
    print(f"\nAll aggregates: {total.median_ms:.1f} ms (target < {AGGREGATES_TARGET_MS:.0f} ms)"
          f": {verdict}")
    print(f"What the triggers keeping latest_levels and step_counts cost: {cost[0]:.0f} µs per "
          f"cycle answer inserted, {cost[1]:.0f} µs without them\n")


def chart_inputs() -> dict[str, Callable[[MatplotlibCharts], Chart]]:
    """One worst-case call per chart: 12 spokes with a previous cycle, 20 points, 12 bars."""
    content = load_content(PROJECT / "content", PROJECT / "dialogues", REQUIRED_MESSAGES)
    axes = tuple(Axis(f"{strand.id}.{sub.id}", sub.title.get("en"), strand.title.get("en"))
                 for strand in content.strands for sub in strand.sub_components)
    groups = tuple(strand.title.get("en") for strand in content.strands)
    current = Series("Cycle 10", tuple(1.0 + (i * 7 % 4) for i in range(len(axes))))
    previous = Series("Previous cycle", tuple(None if i == 4 else 1.0 + (i * 5 % 4)
                                              for i in range(len(axes))))
    # Ten cycles with a reflection after each: the longest history the issue describes.
    points = tuple((f"Cycle {n // 2 + 1}" if n % 2 == 0 else f"Reflection {n // 2 + 1} Mar",
                    tuple(1.0 + ((n + g) % 7) / 2 for g in range(len(groups))))
                   for n in range(20))
    means = tuple(None if i in (2, 10) else 1.5 + (i % 5) / 2 for i in range(len(axes)))
    spreads = tuple(None if m is None else (1.0, min(4.0, m + 1)) for m in means)
    legend = TeamLegend("Team average", "Lowest to highest answer", "Hidden: fewer than 3")
    return {
        "profile": lambda charts: charts.profile(axes, current, previous, "Your profile", ""),
        "progress": lambda charts: charts.progress(groups, points, "Your progress", ""),
        "team": lambda charts: charts.team(axes, means, spreads, "Team", "", legend),
    }


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def chart_timings(repeats: int = 20, save: Path | None = None) -> list[ChartTiming]:
    """Render each chart type repeats times after one cold render; optionally keep the PNGs."""
    charts = MatplotlibCharts()
    rows = []
    for name, render in chart_inputs().items():
        start = time.perf_counter()
        chart = render(charts)  # the first render also loads fonts: reported on its own
        first = time.perf_counter() - start
        samples = []
        for _ in range(repeats):
            start = time.perf_counter()
            render(charts)
            samples.append(time.perf_counter() - start)
        width, height = png_size(chart.png)
        rows.append(ChartTiming(name, first * 1000, statistics.median(samples) * 1000,
                                max(samples) * 1000, width, height, len(chart.png) / 1024))
        if save is not None:
            save.mkdir(parents=True, exist_ok=True)
            (save / f"{name}.png").write_bytes(chart.png)
    return rows


def rss_mb() -> float:
    """Current resident set size in MB (Linux)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def render_memory(renders: int = 200) -> tuple[float, int]:
    """RSS growth (MB) and live-object growth over renders, charts taken in turn."""
    charts = MatplotlibCharts()
    calls = list(chart_inputs().values())
    for render in calls:
        render(charts)  # fonts and caches load once; that is not growth
    gc.collect()
    rss, objects = rss_mb(), len(gc.get_objects())
    for n in range(renders):
        calls[n % len(calls)](charts)
    gc.collect()
    return rss_mb() - rss, len(gc.get_objects()) - objects


def print_chart_table(rows: list[ChartTiming], repeats: int) -> None:
    """The chart timings as a Markdown table, then the verdict against the target."""
    print(f"Charts: median of {repeats} renders after one cold render\n")
    print("| chart | first render | median | slowest | size | PNG |")
    print("|---|---:|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row.chart} | {row.first_ms:.0f} ms | {row.median_ms:.0f} ms "
              f"| {row.slowest_ms:.0f} ms | {row.width}×{row.height} px "
              f"| {row.kilobytes:.0f} KB |")
    worst = max(rows, key=lambda row: row.median_ms)
    verdict = "met" if worst.median_ms < CHART_TARGET_MS else "MISSED"
    print(f"\nSlowest median: {worst.chart}, {worst.median_ms:.0f} ms "
          f"(target < {CHART_TARGET_MS:.0f} ms): {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=20, help="timed renders per chart")
    parser.add_argument("--save", type=Path, help="write the rendered charts to this folder")
    parser.add_argument("--memory", type=int, default=200, metavar="N",
                        help="renders to watch for memory growth (0 to skip)")
    parser.add_argument("--members", type=int, default=1000, help="members of the team")
    parser.add_argument("--cycles", type=int, default=10, help="full cycles per member")
    args = parser.parse_args()

    rows, answers, cost = aggregate_timings(args.repeats, args.members, args.cycles)
    print_aggregate_table(rows, args.repeats, args.members, args.cycles, answers, cost)
    print_chart_table(chart_timings(args.repeats, args.save), args.repeats)
    if args.memory:
        growth_mb, growth_objects = render_memory(args.memory)
        print(f"\nAfter {args.memory} more renders: RSS {growth_mb:+.1f} MB, "
              f"live objects {growth_objects:+,}")


if __name__ == "__main__":
    main()
