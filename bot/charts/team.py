"""The team chart: mean level per sub-component as bars grouped by strand, spread as whiskers."""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from bot.charts import style
from bot.engine.ports.charts import HIGHEST_LEVEL, Axis, TeamLegend, group_runs

BAR_HEIGHT = 0.62
STRAND_GAP = 0.35  # extra space between one strand's last bar and the next heading
SUPPRESSED_HATCH = "///"


def draw_team(figure: Figure, axes: tuple[Axis, ...], means: tuple[float | None, ...],
              spreads: tuple[tuple[float, float] | None, ...], title: str,
              legend: TeamLegend | None) -> None:
    """Draw the bars onto figure."""
    style.add_title(figure, title)
    ax = figure.add_subplot()
    colours = style.group_colours([axis.group for axis in axes])
    ticks: list[tuple[float, str, bool]] = []  # row, label, is a strand heading
    row = 0.0
    for group, first, last in group_runs(axes):
        # Each strand gets a heading row and a tinted band behind its bars.
        heading = row
        ticks.append((heading, style.wrap(group, 20), True))
        for index in range(first, last + 1):
            row -= 1
            ticks.append((row, style.wrap(axes[index].label, 20), False))
            _draw_row(ax, row, means[index], spreads[index])
        ax.axhspan(row - 0.5, heading + 0.5, color=colours[group], alpha=0.16, linewidth=0,
                   zorder=0)
        row -= 1 + STRAND_GAP

    ax.set_yticks([tick for tick, _, _ in ticks], [label for _, label, _ in ticks])
    for (_, _, is_heading), label in zip(ticks, ax.get_yticklabels()):
        if is_heading:
            label.set_fontweight("bold")
            label.set_fontsize(style.GROUP_SIZE)
    ax.set_ylim(row + STRAND_GAP + 0.5, 0.5)
    ax.set_xlim(0, HIGHEST_LEVEL + 0.15)
    ax.set_xticks(range(1, int(HIGHEST_LEVEL) + 1))
    ax.tick_params(axis="y", labelsize=style.LABEL_SIZE, colors=style.TEXT, length=0)
    ax.tick_params(axis="x", labelsize=style.TICK_SIZE, colors=style.TEXT, length=0,
                   labeltop=True)
    ax.grid(axis="x", color=style.GRID, linewidth=0.9)
    ax.set_axisbelow(True)
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    ax.spines["left"].set_color(style.GRID)
    if legend is not None:
        _add_legend(figure, legend, show_mean=any(m is not None for m in means),
                    show_spread=any(s is not None for s in spreads),
                    show_suppressed=None in means)


def _draw_row(ax: Axes, row: float, mean: float | None,
              spread: tuple[float, float] | None) -> None:
    if mean is None:
        # Too few respondents: a hatched band across the scale, so no length can be read.
        ax.barh(row, HIGHEST_LEVEL, height=BAR_HEIGHT, color=style.SUPPRESSED_FILL,
                edgecolor=style.SUPPRESSED_EDGE, hatch=SUPPRESSED_HATCH, linewidth=1,
                zorder=2)
        return
    ax.barh(row, mean, height=BAR_HEIGHT, color=style.BLUE, zorder=2)
    if spread is not None:
        low, high = spread
        ax.plot([low, high], [row, row], color=style.BLACK, linewidth=2.2, zorder=3,
                solid_capstyle="butt")
        ax.plot([low, high], [row, row], linestyle="none", marker="|", markersize=16,
                markeredgewidth=2.2, color=style.BLACK, zorder=3)


def _add_legend(figure: Figure, legend: TeamLegend, show_mean: bool, show_spread: bool,
                show_suppressed: bool) -> None:
    # Only what the chart shows is explained.
    handles: list[Patch | Line2D] = []
    if show_mean:
        handles.append(Patch(facecolor=style.BLUE, label=legend.mean))
    if show_spread:
        handles.append(Line2D([], [], color=style.BLACK, linewidth=2.2, marker="|",
                              markersize=16, markeredgewidth=2.2, label=legend.spread))
    if show_suppressed:
        handles.append(Patch(facecolor=style.SUPPRESSED_FILL, edgecolor=style.SUPPRESSED_EDGE,
                             hatch=SUPPRESSED_HATCH, label=legend.suppressed))
    figure.legend(handles=handles, loc="outside lower center", ncol=1, frameon=False,
                  fontsize=style.LEGEND_SIZE)
