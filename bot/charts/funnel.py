"""The cycle funnel: how many people reached each step, as horizontal bars, first step on top."""

from __future__ import annotations

from matplotlib.figure import Figure

from bot.charts import style


def draw_funnel(figure: Figure, labels: list[str], counts: list[int | None], title: str,
                withheld: str) -> None:
    """One bar per step; a withheld count is a hatched band labelled `withheld`, no length."""
    style.add_title(figure, title)
    ax = figure.add_subplot()
    highest = max([c for c in counts if c is not None] or [1]) or 1
    rows = list(range(len(labels)))
    for row, count in zip(rows, counts):
        if count is None:
            ax.barh(row, highest, height=0.62, color=style.SUPPRESSED_FILL,
                    edgecolor=style.SUPPRESSED_EDGE, hatch="///", linewidth=1)
            ax.text(highest / 2, row, withheld, va="center", ha="center",
                    fontsize=style.TICK_SIZE, color=style.TEXT)
            continue
        ax.barh(row, count, height=0.62, color=style.BLUE)
        ax.text(count + highest * 0.01, row, str(count), va="center",
                fontsize=style.TICK_SIZE, color=style.TEXT)
    ax.set_yticks(rows, [style.wrap(label, 24) for label in labels])
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.set_xlim(0, highest * 1.12)
    ax.tick_params(axis="y", labelsize=style.TICK_SIZE, colors=style.TEXT, length=0)
    ax.tick_params(axis="x", labelsize=style.TICK_SIZE, colors=style.TEXT, length=0)
    ax.grid(axis="x", color=style.GRID, linewidth=0.9)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
