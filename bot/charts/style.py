"""The look shared by every chart: palette, font sizes, figure set-up and PNG encoding."""

from __future__ import annotations

import textwrap
from io import BytesIO

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

# 110 dpi keeps an 8-inch figure at 880 px: wider than the 800 px a phone needs, small to send.
DPI = 110

# Okabe & Ito (2008), "Color Universal Design": distinguishable with the common colour-vision
# deficiencies. Strands take the colours that do not carry data; yellow is left out because it
# vanishes on white.
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
BLUISH_GREEN = "#009E73"
REDDISH_PURPLE = "#CC79A7"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
BLACK = "#000000"
GROUP_COLOURS = (ORANGE, SKY_BLUE, BLUISH_GREEN, REDDISH_PURPLE, VERMILLION)
# Markers repeat the colour's message in shape, so lines stay apart in greyscale too.
GROUP_MARKERS = ("o", "s", "^", "D", "v")

TEXT = "#1A1A1A"
MUTED = "#767676"  # the lightest grey with 4.5:1 contrast on white
GRID = "#BBBBBB"
SUPPRESSED_FILL = "#E6E6E6"
SUPPRESSED_EDGE = "#8C8C8C"

# Telegram shows an 880 px photo at about 45% on a phone: 15 pt here is ~10 CSS px there.
TITLE_SIZE = 19
GROUP_SIZE = 16
LABEL_SIZE = 15
LEGEND_SIZE = 15
TICK_SIZE = 13


def new_figure(width: float, height: float, constrained: bool = True) -> Figure:
    """A figure drawn by Agg directly, so no pyplot global state is touched."""
    # Constrained layout makes room for wrapped titles, long tick labels and the legend.
    figure = Figure(figsize=(width, height), dpi=DPI, facecolor="white",
                    layout="constrained" if constrained else None)
    FigureCanvasAgg(figure)
    return figure


def png_bytes(figure: Figure) -> bytes:
    """The figure as PNG bytes, its pixel size exactly figsize × DPI."""
    buffer = BytesIO()
    # No bbox_inches="tight": it would crop the image below the width we promise.
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def group_colours(groups: list[str]) -> dict[str, str]:
    """A colour per group name, in order of first appearance."""
    unique = list(dict.fromkeys(groups))
    return {name: GROUP_COLOURS[i % len(GROUP_COLOURS)] for i, name in enumerate(unique)}


def wrap(text: str, width: int) -> str:
    """Text broken into lines of at most width characters, long words kept whole."""
    return "\n".join(textwrap.wrap(text, width, break_long_words=False)) or text


def add_title(figure: Figure, title: str, top: float | None = None) -> None:
    """The chart's title, wrapped to the figure's width; top only for hand-made layouts."""
    if not title:
        return
    text = figure.suptitle(wrap(title, 46), fontsize=TITLE_SIZE, fontweight="bold", color=TEXT)
    # Only set y by hand without constrained layout: setting it turns that layout's
    # placement of the title off, and the title then overlaps the axes.
    if top is not None:
        text.set_y(top)
        text.set_verticalalignment("top")
