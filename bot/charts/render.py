"""MatplotlibCharts: the engine's ChartRenderer, drawing PNGs with matplotlib's Agg backend."""

from __future__ import annotations

import threading
from collections.abc import Callable

from matplotlib.figure import Figure

from bot.charts import style
from bot.charts.profile import draw_profile
from bot.charts.progress import draw_progress
from bot.charts.team import draw_team
from bot.engine.ports.charts import (
    Axis,
    Chart,
    ChartError,
    Series,
    TeamLegend,
    check_profile,
    check_progress,
    check_team,
)

# Matplotlib is not thread-safe even without pyplot (font caches, text layout are shared), and
# the bot may render from worker threads: one chart at a time, each well under 300 ms.
_RENDER_LOCK = threading.Lock()

# Inches at style.DPI: 880 px wide each, taller where there are more rows to read.
PROFILE_SIZE = (8.0, 8.6)
PROGRESS_SIZE = (8.0, 6.4)
TEAM_SIZE = (8.0, 10.0)


class MatplotlibCharts:
    """Renders charts as PNG bytes; any failure is raised as ChartError."""

    def profile(self, axes: tuple[Axis, ...], current: Series, previous: Series | None,
                title: str, caption: str) -> Chart:
        check_profile(axes, current, previous, caption)
        return _render("profile", PROFILE_SIZE, False, caption,
                       lambda figure: draw_profile(figure, axes, current, previous, title))

    def progress(self, groups: tuple[str, ...],
                 points: tuple[tuple[str, tuple[float | None, ...]], ...],
                 title: str, caption: str) -> Chart:
        check_progress(groups, points, caption)
        return _render("progress", PROGRESS_SIZE, True, caption,
                       lambda figure: draw_progress(figure, groups, points, title))

    def team(self, axes: tuple[Axis, ...], means: tuple[float | None, ...],
             spreads: tuple[tuple[float, float] | None, ...], title: str, caption: str,
             legend: TeamLegend | None = None) -> Chart:
        check_team(axes, means, spreads, caption)
        return _render("team", TEAM_SIZE, True, caption,
                       lambda figure: draw_team(figure, axes, means, spreads, title, legend))


def _render(kind: str, size: tuple[float, float], constrained: bool, caption: str,
            draw: Callable[[Figure], None]) -> Chart:
    try:
        with _RENDER_LOCK:
            figure = style.new_figure(*size, constrained=constrained)
            try:
                draw(figure)
                png = style.png_bytes(figure)
            finally:
                # Break the figure's reference cycles now rather than at the next GC pass.
                figure.clear()
    except Exception as error:
        raise ChartError(f"{kind} chart could not be drawn: {type(error).__name__}: {error}") \
            from error
    return Chart(png=png, caption=caption)
