"""The progress chart: one line per strand across cycles and reflections, oldest on the left."""

from __future__ import annotations

import math

from matplotlib.figure import Figure

from bot.charts import style
from bot.engine.ports.charts import HIGHEST_LEVEL, LOWEST_LEVEL

# Levels are whole numbers, so strands often share a value: nudging each strand sideways
# keeps every marker visible instead of stacking them.
DODGE = 0.07
MOST_TICK_LABELS = 10


def draw_progress(figure: Figure, groups: tuple[str, ...],
                  points: tuple[tuple[str, tuple[float | None, ...]], ...], title: str) -> None:
    """Draw the lines onto figure."""
    style.add_title(figure, title)
    ax = figure.add_subplot()
    colours = style.group_colours(list(groups))
    middle = (len(groups) - 1) / 2
    for index, group in enumerate(groups):
        xs = [x + (index - middle) * DODGE for x in range(len(points))]
        # NaN breaks the line: an unanswered strand leaves a gap, not a guessed value.
        ys = [math.nan if value is None else value
              for value in (values[index] for _, values in points)]
        ax.plot(xs, ys, color=colours[group], linewidth=3,
                marker=style.GROUP_MARKERS[index % len(style.GROUP_MARKERS)], markersize=10,
                markeredgecolor="white", markeredgewidth=1.2, label=group)

    ax.set_ylim(LOWEST_LEVEL - 0.3, HIGHEST_LEVEL + 0.3)
    ax.set_yticks(range(int(LOWEST_LEVEL), int(HIGHEST_LEVEL) + 1))
    ax.set_xlim(-0.5, len(points) - 0.5)
    step = math.ceil(len(points) / MOST_TICK_LABELS)
    shown = range(0, len(points), step)
    ax.set_xticks(list(shown))
    # A few labels fit side by side, wrapped; many are slanted on one line each instead.
    crowded = len(shown) > 6
    ax.set_xticklabels([points[i][0] if crowded else style.wrap(points[i][0], 12)
                        for i in shown],
                       rotation=35 if crowded else 0, ha="right" if crowded else "center",
                       rotation_mode="anchor")
    ax.tick_params(labelsize=style.LABEL_SIZE, colors=style.TEXT, length=0)
    ax.grid(axis="y", color=style.GRID, linewidth=0.9)
    ax.set_axisbelow(True)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color(style.GRID)
    figure.legend(loc="outside lower center", ncol=min(len(groups), 2), frameon=False,
                  fontsize=style.LEGEND_SIZE)
