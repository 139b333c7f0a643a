"""Charts for web pages: the bot's own chart code (bot/charts), saved as SVG for an <img>."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from functools import lru_cache
from io import BytesIO

from matplotlib import rc_context
from matplotlib.figure import Figure

from bot.charts import style
from bot.charts.funnel import draw_funnel
from bot.charts.render import TEAM_SIZE
from bot.charts.team import draw_team
from bot.engine.features.team_view.words import TeamChart

_LOCK = threading.Lock()  # matplotlib is not thread-safe (bot/charts/render.py)
FUNNEL_SIZE = (8.0, 6.0)
CACHED = 512


def _svg(size: tuple[float, float], draw: Callable[[Figure], None]) -> str:
    """A data: URI of the figure as SVG.

    Text stays text (svg.fonttype 'none'): it names a font family, which the browser takes
    from the fonts it has, so nothing is fetched; the file is half the size of one with text
    drawn as paths (23 KB against 53 KB for the team chart).
    """
    with _LOCK, rc_context({"svg.fonttype": "none"}):
        figure = style.new_figure(*size)
        try:
            draw(figure)
            buffer = BytesIO()
            figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
        finally:
            figure.clear()
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


# The same inputs always draw the same chart: a released team figure or a frozen week's
# funnel is drawn once, not at every look.
@lru_cache(maxsize=CACHED)
def team_svg(chart: TeamChart) -> str:
    """The /team chart, as the chat draws it, as a data: URI."""
    return _svg(TEAM_SIZE, lambda figure: draw_team(figure, chart.axes, chart.means,
                                                    chart.spreads, chart.title, chart.legend))


@lru_cache(maxsize=CACHED)
def funnel_svg(labels: tuple[str, ...], counts: tuple[int | None, ...], title: str,
               withheld: str) -> str:
    """The cycle funnel as a data: URI."""
    return _svg(FUNNEL_SIZE, lambda figure: draw_funnel(figure, list(labels), list(counts),
                                                        title, withheld))
