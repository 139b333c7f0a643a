"""A drawing-free twin of the chart port: records each call and returns a blank PNG."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

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


def blank_png(width: int, height: int) -> bytes:
    """A white greyscale PNG of the given size, built with the standard library only."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = (b"\x00" + b"\xff" * width) * height  # filter byte 0, then white pixels
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


@dataclass
class MemoryCharts:
    """A ChartRenderer that draws nothing: it records each call and returns a blank PNG."""

    fail: bool = False
    calls: list[tuple[str, str]] = field(default_factory=list)
    width: int = 880
    height: int = 880

    def profile(self, axes: tuple[Axis, ...], current: Series, previous: Series | None,
                title: str, caption: str) -> Chart:
        check_profile(axes, current, previous, caption)
        return self._chart("profile", title, caption)

    def progress(self, groups: tuple[str, ...],
                 points: tuple[tuple[str, tuple[float | None, ...]], ...],
                 title: str, caption: str) -> Chart:
        check_progress(groups, points, caption)
        return self._chart("progress", title, caption)

    def team(self, axes: tuple[Axis, ...], means: tuple[float | None, ...],
             spreads: tuple[tuple[float, float] | None, ...], title: str, caption: str,
             legend: TeamLegend | None = None) -> Chart:
        check_team(axes, means, spreads, caption)
        return self._chart("team", title, caption)

    def _chart(self, kind: str, title: str, caption: str) -> Chart:
        self.calls.append((kind, title))
        if self.fail:
            raise ChartError(f"{kind} chart: MemoryCharts was told to fail")
        return Chart(png=blank_png(self.width, self.height), caption=caption)
