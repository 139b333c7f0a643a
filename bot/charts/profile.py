"""The profile radar: one spoke per sub-component, strands as tinted sectors, two series."""

from __future__ import annotations

import math
from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon, Wedge
from matplotlib.text import Text

from bot.charts import style
from bot.engine.ports.charts import HIGHEST_LEVEL, Axis, Series, group_runs

# Drawn on plain x/y axes rather than a polar projection: polar lines between spokes curve
# into arcs, and the labels need placing by hand anyway.
OUTER = HIGHEST_LEVEL
LABEL_RADIUS = OUTER + 0.3
LIMIT = 5.7  # half the width of the drawing area, in level units: room for labels
NOT_ANSWERED_RADIUS = 0.55  # inside the level-1 ring, where no level can fall
EDGE_PX = 6  # the least white space between a label and the image's edge


def draw_profile(figure: Figure, axes: tuple[Axis, ...], current: Series,
                 previous: Series | None, title: str) -> None:
    """Draw the radar onto figure."""
    style.add_title(figure, title, top=0.985)
    ax = figure.add_axes((0.0, 0.09, 1.0, 0.82))
    ax.set_xlim(-LIMIT, LIMIT)
    ax.set_ylim(-LIMIT, LIMIT)
    ax.set_aspect("equal")
    ax.axis("off")

    angles = spoke_angles(len(axes))
    _draw_groups(ax, axes, angles)
    _draw_grid(ax, angles)
    _draw_current(ax, angles, current.values)
    if previous is not None:
        _draw_previous(ax, angles, previous.values)
    labels = _draw_labels(ax, axes, angles, current.values)
    _fit(figure, ax, labels)

    handles: list[Patch | Line2D] = [
        Patch(facecolor=style.BLUE, alpha=0.3, edgecolor=style.BLUE, linewidth=2.5,
              label=current.name)]
    if previous is not None:
        handles.append(Line2D([], [], color=style.BLACK, linestyle="--", linewidth=2.2,
                              marker="D", markersize=6, label=previous.name))
    figure.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False,
                  fontsize=style.LEGEND_SIZE, bbox_to_anchor=(0.5, 0.01))


def spoke_angles(count: int) -> list[float]:
    """Clockwise angles from the top, half a step in, so a group boundary sits at 12 o'clock."""
    step = 2 * math.pi / count
    return [step / 2 + i * step for i in range(count)]


def point(angle: float, radius: float) -> tuple[float, float]:
    """x, y of a radius along a clockwise-from-top angle."""
    return radius * math.sin(angle), radius * math.cos(angle)


def _draw_groups(ax: Axes, axes: tuple[Axis, ...], angles: list[float]) -> None:
    half = math.pi / len(axes)
    colours = style.group_colours([axis.group for axis in axes])
    for group, first, last in group_runs(axes):
        start, end = angles[first] - half, angles[last] + half
        # Wedge angles run anticlockwise from 3 o'clock, in degrees.
        ax.add_patch(Wedge((0, 0), OUTER + 0.15, 90 - math.degrees(end),
                           90 - math.degrees(start), facecolor=colours[group], alpha=0.16,
                           linewidth=0))
        ax.plot(*zip(point(start, 0), point(start, OUTER + 0.15)), color=style.MUTED,
                linewidth=1.6, zorder=2)
        _group_title(ax, group, (start + end) / 2, colours[group])


def _group_title(ax: Axes, group: str, angle: float, colour: str) -> None:
    # Titles go to the edge of the drawing area along the group's middle, clear of the
    # spoke labels; where that is a corner, the title hugs it. Placed in axes fractions,
    # they stay at the edge when _fit zooms out.
    x, y = point(angle, 1.0)
    scale = 0.98 / max(abs(x), abs(y))
    x, y = x * scale, y * scale
    ax.text((x + 1) / 2, (y + 1) / 2, style.wrap(group, 22), transform=ax.transAxes,
            fontsize=style.GROUP_SIZE, fontweight="bold", color=style.TEXT,
            ha=_align(x, "left", "right", 0.1), va=_align(y, "bottom", "top", 0.1),
            bbox={"boxstyle": "round,pad=0.35", "facecolor": colour, "alpha": 0.35,
                  "linewidth": 0})


def _align(coordinate: float, below: str, above: str, near: float = 0.5) -> str:
    """The alignment for a coordinate below zero, above zero, or centred when near it."""
    if abs(coordinate) < near:
        return "center"
    return above if coordinate > 0 else below


def _draw_grid(ax: Axes, angles: list[float]) -> None:
    for level in range(1, int(OUTER) + 1):
        ring = [point(angle, level) for angle in angles]
        ax.add_patch(Polygon(ring, closed=True, fill=False, edgecolor=style.GRID,
                             linewidth=1.6 if level == OUTER else 0.9, zorder=1))
        # Ring numbers sit on the 12 o'clock boundary, where no spoke runs.
        ax.text(0.1, level, str(level), fontsize=style.TICK_SIZE, color=style.MUTED,
                ha="left", va="center", zorder=6,
                bbox={"boxstyle": "round,pad=0.1", "facecolor": "white", "alpha": 0.8,
                      "linewidth": 0})
    for angle in angles:
        ax.plot(*zip(point(angle, 0), point(angle, OUTER)), color=style.GRID, linewidth=0.9,
                zorder=1)


def _outline(values: Sequence[float | None]) -> list[tuple[int, int]]:
    """Pairs of neighbouring spokes that are both answered: only those get joined."""
    count = len(values)
    return [(i, (i + 1) % count) for i in range(count)
            if values[i] is not None and values[(i + 1) % count] is not None]


def _draw_current(ax: Axes, angles: list[float], values: tuple[float | None, ...]) -> None:
    # The fill drops to the centre where nothing was answered: no area, no invented level.
    area = [point(angle, value or 0.0) for angle, value in zip(angles, values)]
    ax.add_patch(Polygon(area, closed=True, facecolor=style.BLUE, alpha=0.28, linewidth=0,
                         zorder=3))
    for i, j in _outline(values):
        ax.plot(*zip(point(angles[i], values[i] or 0.0), point(angles[j], values[j] or 0.0)),
                color=style.BLUE, linewidth=3, solid_capstyle="round", zorder=4)
    _markers(ax, angles, values, style.BLUE, marker="o", size=9, zorder=5)


def _draw_previous(ax: Axes, angles: list[float], values: tuple[float | None, ...]) -> None:
    for i, j in _outline(values):
        ax.plot(*zip(point(angles[i], values[i] or 0.0), point(angles[j], values[j] or 0.0)),
                color=style.BLACK, linewidth=2.2, linestyle="--", zorder=6)
    _markers(ax, angles, values, style.BLACK, marker="D", size=6, zorder=7)


def _markers(ax: Axes, angles: list[float], values: tuple[float | None, ...], colour: str,
             marker: str, size: float, zorder: float) -> None:
    answered = [point(a, v) for a, v in zip(angles, values) if v is not None]
    missing = [point(a, NOT_ANSWERED_RADIUS) for a, v in zip(angles, values) if v is None]
    if answered:
        ax.plot(*zip(*answered), linestyle="none", marker=marker, markersize=size,
                color=colour, zorder=zorder)
    if missing:
        # Hollow markers just off the centre: "nothing here yet", on the right spoke.
        ax.plot(*zip(*missing), linestyle="none", marker=marker, markersize=size * 0.8,
                markerfacecolor="white", markeredgecolor=colour, markeredgewidth=1.8,
                zorder=zorder)


def _draw_labels(ax: Axes, axes: tuple[Axis, ...], angles: list[float],
                 values: tuple[float | None, ...]) -> list[Text]:
    labels = []
    for axis, angle, value in zip(axes, angles, values):
        x, y = point(angle, LABEL_RADIUS)
        # Unanswered spokes are named in grey italics, a cue that needs no extra words.
        labels.append(ax.text(x, y, style.wrap(axis.label, 14), fontsize=style.LABEL_SIZE,
                color=style.TEXT if value is not None else style.MUTED,
                fontstyle="normal" if value is not None else "italic",
                ha=_align(x, "right", "left"), va=_align(y, "top", "bottom"),
                multialignment="center", zorder=8))
    return labels


def _fit(figure: Figure, ax: Axes, labels: list[Text]) -> None:
    """Zoom out just enough that every spoke label stays inside the drawing area."""
    # Labels keep their size in points while the radar scales with the limits, so long
    # labels (other languages, larger fonts) are fitted by shrinking the radar, not the text.
    ax.apply_aspect()
    box = ax.get_window_extent()
    centre_x, centre_y = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2
    # Sideways, labels may use the figure's margins; up and down, title and legend need theirs.
    room_x = figure.bbox.width / 2 - EDGE_PX
    room_y = box.height / 2
    scale = 1.0
    for label in labels:
        extent = label.get_window_extent()
        anchor_x, anchor_y = ax.transData.transform(label.get_position())
        for offset, inner, outer, room in (
                (anchor_x - centre_x, anchor_x - extent.x0, extent.x1 - anchor_x, room_x),
                (anchor_y - centre_y, anchor_y - extent.y0, extent.y1 - anchor_y, room_y)):
            reach = outer if offset > 0 else inner  # how far the text runs away from the centre
            if abs(offset) > 1 and reach < room:
                scale = min(scale, (room - reach) / abs(offset))
    if scale < 1.0:
        ax.set_xlim(-LIMIT / scale, LIMIT / scale)
        ax.set_ylim(-LIMIT / scale, LIMIT / scale)
