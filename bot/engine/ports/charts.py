"""The chart port the engine calls, the plain values it takes, and a drawing-free twin for tests."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

# DESIGN.md §4.9: Telegram photo captions must stay below 1,024 characters.
MAX_CAPTION_CHARS = 1023
LOWEST_LEVEL = 1.0
HIGHEST_LEVEL = 4.0


class ChartError(Exception):
    """A chart could not be drawn; send the text summary without it."""


@dataclass(frozen=True)
class Axis:
    """One spoke of the profile or one bar of the team chart: a sub-component."""

    id: str
    label: str
    group: str


@dataclass(frozen=True)
class Series:
    """Named levels, one per axis; None where nothing was answered."""

    name: str
    values: tuple[float | None, ...]


@dataclass(frozen=True)
class TeamLegend:
    """Localized legend names for the team chart's bars, whiskers and suppressed rows."""

    mean: str
    spread: str
    suppressed: str


@dataclass(frozen=True)
class Chart:
    """A rendered PNG and the same content in words."""

    png: bytes
    caption: str


class ChartRenderer(Protocol):
    """Draws the profile, progress and team charts from plain values and localized text."""

    def profile(self, axes: tuple[Axis, ...], current: Series, previous: Series | None,
                title: str, caption: str) -> Chart:
        """A radar of levels per sub-component, grouped by strand, previous series dashed."""
        ...

    def progress(self, groups: tuple[str, ...],
                 points: tuple[tuple[str, tuple[float | None, ...]], ...],
                 title: str, caption: str) -> Chart:
        """Mean level per group (strand) at each labelled point in time, oldest first."""
        ...

    def team(self, axes: tuple[Axis, ...], means: tuple[float | None, ...],
             spreads: tuple[tuple[float, float] | None, ...], title: str, caption: str,
             legend: TeamLegend | None = None) -> Chart:
        """Team means per sub-component with whiskers; None means suppressed (too few people)."""
        ...


def group_runs(axes: tuple[Axis, ...]) -> list[tuple[str, int, int]]:
    """Runs of neighbouring axes in the same group: (group, first index, last index)."""
    runs: list[tuple[str, int, int]] = []
    for index, axis in enumerate(axes):
        if runs and runs[-1][0] == axis.group:
            runs[-1] = (axis.group, runs[-1][1], index)
        else:
            runs.append((axis.group, index, index))
    return runs


def check_profile(axes: tuple[Axis, ...], current: Series, previous: Series | None,
                  caption: str) -> None:
    """Raise ChartError unless the profile inputs fit together."""
    _check_caption(caption)
    _check_axes(axes, minimum=3, chart="profile")
    for series in (current, previous):
        if series is not None:
            _check_levels(series.values, len(axes), f"series {series.name!r}")


def check_progress(groups: tuple[str, ...],
                   points: tuple[tuple[str, tuple[float | None, ...]], ...],
                   caption: str) -> None:
    """Raise ChartError unless the progress inputs fit together."""
    _check_caption(caption)
    if not groups:
        raise ChartError("progress chart: no groups; pass one strand title per line")
    if not points:
        raise ChartError("progress chart: no points; send the 'no answers yet' text instead")
    for label, values in points:
        _check_levels(values, len(groups), f"point {label!r}")


def check_team(axes: tuple[Axis, ...], means: tuple[float | None, ...],
               spreads: tuple[tuple[float, float] | None, ...], caption: str) -> None:
    """Raise ChartError unless the team inputs fit together."""
    _check_caption(caption)
    _check_axes(axes, minimum=1, chart="team")
    _check_levels(means, len(axes), "means")
    if len(spreads) != len(axes):
        raise ChartError(f"spreads: {len(spreads)} values for {len(axes)} axes; "
                         "pass one (low, high) pair or None per axis")
    for axis, mean, spread in zip(axes, means, spreads):
        if spread is None:
            continue
        if mean is None:
            # A suppressed mean must not leak through its whisker.
            raise ChartError(f"spreads: {axis.id} is suppressed but has a spread; pass None")
        if len(spread) != 2:
            raise ChartError(f"spreads: {axis.id} needs a (low, high) pair, got {spread!r}")
        low, high = spread
        _check_level(low, f"spreads: {axis.id} low")
        _check_level(high, f"spreads: {axis.id} high")
        if low > high:
            raise ChartError(f"spreads: {axis.id} low {low} is above high {high}")


def _check_caption(caption: str) -> None:
    if len(caption) > MAX_CAPTION_CHARS:
        raise ChartError(f"caption is {len(caption)} characters; Telegram allows "
                         f"{MAX_CAPTION_CHARS}: shorten it or send the rest as a message")


def _check_axes(axes: tuple[Axis, ...], minimum: int, chart: str) -> None:
    if len(axes) < minimum:
        raise ChartError(f"{chart} chart: {len(axes)} axes, at least {minimum} needed")
    ids = [axis.id for axis in axes]
    if len(set(ids)) != len(ids):
        raise ChartError(f"{chart} chart: axis ids repeat: {ids}")


def _check_levels(values: tuple[float | None, ...], expected: int, what: str) -> None:
    if len(values) != expected:
        raise ChartError(f"{what}: {len(values)} values for {expected} axes or groups; "
                         "pass exactly one value (or None) each")
    for index, value in enumerate(values):
        if value is not None:
            _check_level(value, f"{what} value {index + 1}")


def _check_level(value: object, what: str) -> None:
    valid = (isinstance(value, (int, float)) and not isinstance(value, bool)
             and math.isfinite(value) and LOWEST_LEVEL <= value <= HIGHEST_LEVEL)
    if not valid:
        raise ChartError(f"{what} is {value!r}; levels are numbers from "
                         f"{LOWEST_LEVEL:g} to {HIGHEST_LEVEL:g}")
