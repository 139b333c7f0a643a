"""Benchmark: the /team aggregates and chart rendering behind /profile, /progress and /team.

Run: .venv/bin/python benchmarks/reports.py [--repeats 20] [--save DIR] [--memory 200]
Targets (issue 5): aggregates under 50 ms, a chart under 300 ms.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bot.charts.render import MatplotlibCharts  # noqa: E402
from bot.definitions.loader import load_content  # noqa: E402
from bot.engine.charts import Axis, Chart, Series, TeamLegend  # noqa: E402
from bot.engine.messages import REQUIRED_MESSAGES  # noqa: E402

CHART_TARGET_MS = 300.0


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
    args = parser.parse_args()

    # The /team aggregates (1,000 members × 10 cycles, target < 50 ms) are measured in their
    # own function beside chart_timings() and print their own table here, before the charts.

    print_chart_table(chart_timings(args.repeats, args.save), args.repeats)
    if args.memory:
        growth_mb, growth_objects = render_memory(args.memory)
        print(f"\nAfter {args.memory} more renders: RSS {growth_mb:+.1f} MB, "
              f"live objects {growth_objects:+,}")


if __name__ == "__main__":
    main()
