"""Charts: every renderer keeps the port's contract, and matplotlib's PNGs decode at phone size."""

from __future__ import annotations

import ast
import gc
import math
import struct
import sys
import weakref
import zlib
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from bot.charts import style
from bot.charts.render import MatplotlibCharts
from bot.definitions.model import Content
from bot.engine.memory.charts import MemoryCharts
from bot.engine.ports.charts import (
    MAX_CAPTION_CHARS,
    Axis,
    ChartError,
    ChartRenderer,
    Series,
    TeamLegend,
    group_runs,
)

PORT = Path(__file__).resolve().parent.parent / "bot" / "engine" / "ports" / "charts.py"
MIN_WIDTH = 800
LEGEND = TeamLegend("Team average", "Lowest to highest answer", "Hidden: fewer than 3 answers")


@pytest.fixture(params=["matplotlib", "memory"])
def charts(request: pytest.FixtureRequest) -> ChartRenderer:
    """Each ChartRenderer implementation: the contract tests run against all of them."""
    return MatplotlibCharts() if request.param == "matplotlib" else MemoryCharts()


@pytest.fixture(scope="module")
def drawn() -> MatplotlibCharts:
    """The matplotlib renderer alone, for what only real drawing can show."""
    return MatplotlibCharts()


def axes_for(content: Content, locale: str = "en") -> tuple[Axis, ...]:
    """The 12 sub-components as chart axes, titled in a locale."""
    return tuple(Axis(f"{strand.id}.{sub.id}", sub.title.get(locale), strand.title.get(locale))
                 for strand in content.strands for sub in strand.sub_components)


@pytest.fixture(scope="module")
def axes() -> tuple[Axis, ...]:
    """Twelve axes in four groups of three, as the framework has."""
    names = {"Outcomes": ("Insight", "Brokering relationships", "Designing services"),
             "Alignment": ("Risk", "Incentives and shared goals", "Resources"),
             "Delivery": ("Innovation", "Agility", "Leadership"),
             "Accountability": ("Evidence", "Engagement and democracy", "Transparency")}
    return tuple(Axis(f"{group.lower()}.{label.split()[0].lower()}", label, group)
                 for group, labels in names.items() for label in labels)


GROUPS = ("Outcomes", "Alignment", "Delivery", "Accountability")
FULL = Series("Cycle 3", (3, 2, 4, 1, 2, 2, 3, 3, 4, 2, 1, 1))
GAPS = Series("Cycle 3", (3, None, 4, 1, None, None, 3, 3, 4, None, 1, 1))
PREVIOUS = Series("Previous cycle", (2, 2, 3, 1, 2, 1, 3, 2, None, 2, 1, 1))
MEANS = (2.8, 2.1, 3.0, 1.6, 2.4, 2.0, 3.1, 2.9, 3.4, 2.2, 2.5, 1.8)
SPREADS = tuple((1.0, 4.0) for _ in MEANS)


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height of a PNG, after checking every chunk and inflating its image data."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    offset, chunks, data = 8, [], b""
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset:offset + 4])
        kind = png[offset + 4:offset + 8]
        body = png[offset + 8:offset + 8 + length]
        (crc,) = struct.unpack(">I", png[offset + 8 + length:offset + 12 + length])
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc, f"bad CRC in {kind!r}"
        chunks.append(kind)
        data += body if kind == b"IDAT" else b""
        offset += 12 + length
    assert chunks[0] == b"IHDR" and chunks[-1] == b"IEND"
    width, height, depth, colour = struct.unpack(">IIBB", png[16:26])
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    # Each row is one filter byte and then the pixels: the image data must inflate to that.
    assert len(zlib.decompress(data)) == height * (1 + width * channels * depth // 8)
    return width, height


# The port's contract: every implementation.

def test_profile_is_a_png_at_least_800_px_wide(charts: ChartRenderer,
                                               axes: tuple[Axis, ...]) -> None:
    chart = charts.profile(axes, FULL, PREVIOUS, "Your profile", "Words")
    assert png_size(chart.png)[0] >= MIN_WIDTH


def test_progress_is_a_png_at_least_800_px_wide(charts: ChartRenderer) -> None:
    chart = charts.progress(GROUPS, (("Cycle 1", (1.0, 2.0, 3.0, 4.0)),), "Progress", "Words")
    assert png_size(chart.png)[0] >= MIN_WIDTH


def test_team_is_a_png_at_least_800_px_wide(charts: ChartRenderer,
                                            axes: tuple[Axis, ...]) -> None:
    chart = charts.team(axes, MEANS, SPREADS, "Team", "Words", LEGEND)
    assert png_size(chart.png)[0] >= MIN_WIDTH


def test_caption_is_returned_unchanged(charts: ChartRenderer, axes: tuple[Axis, ...]) -> None:
    caption = "Strongest: Delivery (3.3).\nWeakest: Alignment <1.7> & falling — «focus»."
    assert charts.profile(axes, FULL, None, "t", caption).caption == caption
    assert charts.progress(GROUPS, (("Cycle 1", (1, 2, 3, 4)),), "t", caption).caption == caption
    assert charts.team(axes, MEANS, SPREADS, "t", caption).caption == caption


def test_a_caption_telegram_would_refuse_is_an_error(charts: ChartRenderer,
                                                     axes: tuple[Axis, ...]) -> None:
    charts.profile(axes, FULL, None, "t", "x" * MAX_CAPTION_CHARS)
    with pytest.raises(ChartError, match="caption is 1024 characters"):
        charts.profile(axes, FULL, None, "t", "x" * (MAX_CAPTION_CHARS + 1))


@pytest.mark.parametrize("values", [(3, 2), (3,) * 13, (5,) * 12, (0,) * 12,
                                    (math.nan,) * 12, (True,) * 12, ("3",) * 12])
def test_profile_values_that_do_not_fit_are_an_error(charts: ChartRenderer,
                                                     axes: tuple[Axis, ...],
                                                     values: tuple[float | None, ...]) -> None:
    with pytest.raises(ChartError):
        charts.profile(axes, Series("Cycle 1", values), None, "t", "c")
    with pytest.raises(ChartError):
        charts.profile(axes, FULL, Series("Previous", values), "t", "c")


def test_profile_needs_three_distinct_axes(charts: ChartRenderer,
                                           axes: tuple[Axis, ...]) -> None:
    with pytest.raises(ChartError, match="at least 3"):
        charts.profile(axes[:2], Series("c", (1, 2)), None, "t", "c")
    with pytest.raises(ChartError, match="repeat"):
        charts.profile((axes[0],) * 3, Series("c", (1, 2, 3)), None, "t", "c")


def test_progress_inputs_that_do_not_fit_are_an_error(charts: ChartRenderer) -> None:
    with pytest.raises(ChartError, match="no points"):
        charts.progress(GROUPS, (), "t", "c")
    with pytest.raises(ChartError, match="no groups"):
        charts.progress((), (("Cycle 1", ()),), "t", "c")
    with pytest.raises(ChartError, match="'Cycle 2': 3 values"):
        charts.progress(GROUPS, (("Cycle 1", (1, 2, 3, 4)), ("Cycle 2", (1, 2, 3))), "t", "c")


def test_team_inputs_that_do_not_fit_are_an_error(charts: ChartRenderer,
                                                  axes: tuple[Axis, ...]) -> None:
    with pytest.raises(ChartError, match="means"):
        charts.team(axes, MEANS[:-1], SPREADS, "t", "c")
    with pytest.raises(ChartError, match="spreads: 11 values"):
        charts.team(axes, MEANS, SPREADS[:-1], "t", "c")
    with pytest.raises(ChartError, match="above high"):
        charts.team(axes, MEANS, ((3.0, 2.0), *SPREADS[1:]), "t", "c")
    with pytest.raises(ChartError, match="low is 0"):
        charts.team(axes, MEANS, ((0.0, 2.0), *SPREADS[1:]), "t", "c")


def test_a_suppressed_mean_cannot_carry_a_spread(charts: ChartRenderer,
                                                 axes: tuple[Axis, ...]) -> None:
    with pytest.raises(ChartError, match="suppressed but has a spread"):
        charts.team(axes, (None, *MEANS[1:]), SPREADS, "t", "c")


# What only real drawing can show.

def test_profile_draws_with_unanswered_spokes_and_no_previous(drawn: MatplotlibCharts,
                                                              axes: tuple[Axis, ...]) -> None:
    assert png_size(drawn.profile(axes, GAPS, None, "Profile", "c").png)[0] >= MIN_WIDTH
    assert png_size(drawn.profile(axes, GAPS, PREVIOUS, "Profile", "c").png)[0] >= MIN_WIDTH


def test_profile_draws_when_nothing_is_answered(drawn: MatplotlibCharts,
                                                axes: tuple[Axis, ...]) -> None:
    empty = Series("Cycle 1", (None,) * len(axes))
    assert png_size(drawn.profile(axes, empty, empty, "Profile", "c").png)[0] >= MIN_WIDTH


@pytest.mark.parametrize("locale", ["en", "fr", "es"])
def test_profile_fits_the_shipped_titles_in_every_locale(drawn: MatplotlibCharts,
                                                         content: Content, locale: str) -> None:
    chart = drawn.profile(axes_for(content, locale), FULL, PREVIOUS, "Profile", "c")
    assert png_size(chart.png)[0] >= MIN_WIDTH


def test_progress_draws_one_point_gaps_and_a_long_history(drawn: MatplotlibCharts) -> None:
    one = (("Cycle 1", (2.0, None, 1.0, 3.0)),)
    gaps = (("Cycle 1", (None, 2.0, None, 1.0)), ("Reflection 12 Mar", (2.0, None, 3.0, 1.0)),
            ("Cycle 2", (2.5, 2.0, None, None)))
    history = tuple((f"Reflection {n} Mar", (1.0 + n % 4, 2.0, None, 4.0)) for n in range(1, 31))
    for points in (one, gaps, history):
        assert png_size(drawn.progress(GROUPS, points, "Progress", "c").png)[0] >= MIN_WIDTH


def test_team_draws_suppressed_rows_with_and_without_a_legend(drawn: MatplotlibCharts,
                                                              axes: tuple[Axis, ...]) -> None:
    means = (None, *MEANS[1:5], None, *MEANS[6:])
    spreads = tuple(None if mean is None else (1.0, 4.0) for mean in means)
    for legend in (LEGEND, None):
        chart = drawn.team(axes, means, spreads, "Team", "c", legend)
        assert png_size(chart.png)[0] >= MIN_WIDTH
    everything_hidden = drawn.team(axes, (None,) * 12, (None,) * 12, "Team", "c", LEGEND)
    assert png_size(everything_hidden.png)[0] >= MIN_WIDTH


def test_a_failure_while_drawing_becomes_a_chart_error(drawn: MatplotlibCharts,
                                                       axes: tuple[Axis, ...],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(figure: object) -> bytes:
        raise MemoryError("no room")

    monkeypatch.setattr(style, "png_bytes", broken)
    with pytest.raises(ChartError, match="profile chart could not be drawn: MemoryError"):
        drawn.profile(axes, FULL, None, "t", "c")


def test_rendering_leaves_nothing_behind(drawn: MatplotlibCharts, axes: tuple[Axis, ...],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    figures: list[weakref.ref[Figure]] = []
    new_figure = style.new_figure

    def tracked(width: float, height: float, constrained: bool = True) -> Figure:
        figure = new_figure(width, height, constrained)
        figures.append(weakref.ref(figure))
        return figure

    def render() -> None:
        drawn.profile(axes, FULL, PREVIOUS, "t", "c")
        drawn.progress(GROUPS, (("Cycle 1", (1, 2, 3, 4)),), "t", "c")
        drawn.team(axes, MEANS, SPREADS, "t", "c", LEGEND)

    render()
    gc.collect()
    before = len(gc.get_objects())
    monkeypatch.setattr(style, "new_figure", tracked)
    for _ in range(10):
        render()
    gc.collect()
    assert len(figures) == 30 and all(figure() is None for figure in figures)
    # Even a cleared figure left behind holds ~200 objects: 30 of them would show here.
    assert len(gc.get_objects()) - before < 1_000


def test_the_port_imports_only_the_standard_library() -> None:
    tree = ast.parse(PORT.read_text("utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported - set(sys.stdlib_module_names) - {"__future__"} == set()


def test_group_runs_follow_neighbouring_axes(axes: tuple[Axis, ...]) -> None:
    assert group_runs(axes) == [("Outcomes", 0, 2), ("Alignment", 3, 5), ("Delivery", 6, 8),
                                ("Accountability", 9, 11)]


def test_memory_twin_records_calls_and_can_fail(axes: tuple[Axis, ...]) -> None:
    twin = MemoryCharts(fail=True)
    with pytest.raises(ChartError):
        twin.team(axes, MEANS, SPREADS, "Team", "c")
    assert twin.calls == [("team", "Team")]
