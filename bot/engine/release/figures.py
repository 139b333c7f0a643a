"""What a release contains: figures shown, and for each one withheld the reason (a message id)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from bot.engine.ports.releases import Released

# Why a figure is withheld; each is a message id in content/messages/release.yaml.
TOO_FEW = "rel.too_few"  # fewer than the minimum answered, not counting the viewer
SPREAD_TOO_FEW = "rel.spread_too_few"  # enough for an average, too few for a spread
DIFFERENCING = "rel.differencing"  # comparing it with what the viewer saw could single someone out
NOT_SHOWN_PARTS = "rel.parts_hidden"  # a strand whose sub-components are all withheld
REASONS = (TOO_FEW, SPREAD_TOO_FEW, DIFFERENCING, NOT_SHOWN_PARTS)


@dataclass(frozen=True)
class Figure:
    """One sub-component's or strand's figure; mean/spread are None when withheld (and why)."""

    id: str
    mean: float | None
    spread: tuple[float, float] | None
    respondents: int = 0
    withheld: str | None = None  # why the mean is withheld
    spread_withheld: str | None = None  # why the spread is withheld (when the mean is shown)

    @property
    def shown(self) -> bool:
        """True when the average is shown."""
        return self.mean is not None


@dataclass(frozen=True)
class TeamRelease:
    """Everything /team, the digest and (later) the dashboard may show about one team."""

    source: str  # 'team:3 round:7'
    round_number: int | None  # the closed round described; None before the first closes
    round_closed_at: float | None
    members: int
    respondents: int | None  # people in the closed round besides the viewer; None below minimum
    open_count: int | None  # respondents so far in the open round; None below the minimum
    answered: bool  # anyone besides the viewer answered in the closed round
    subs: tuple[Figure, ...]  # every sub-component, in cycle order
    strands: tuple[Figure, ...]  # every strand, in cycle order
    weakest: tuple[tuple[Figure, int], ...]  # up to two shown subs with a rounded level
    recorded: tuple[Released, ...]  # what this release adds to the viewer's ledger

    @property
    def any_shown(self) -> bool:
        """True when at least one sub-component average is shown."""
        return any(f.shown for f in self.subs)

    @property
    def reasons(self) -> tuple[str, ...]:
        """The distinct reasons figures were withheld, in REASONS order."""
        found = {f.withheld for f in (*self.subs, *self.strands)}
        found |= {f.spread_withheld for f in (*self.subs, *self.strands)}
        return tuple(r for r in REASONS if r in found)


@dataclass(frozen=True)
class Distribution:
    """A broadcast prompt's answers as a viewer may see them: counts per level, or why not."""

    answered: int  # answers besides the viewer's own
    counts: tuple[tuple[int, int], ...]  # (level, how many); empty when withheld
    withheld: str | None
    recorded: tuple[Released, ...]


def middle_half(values: list[float]) -> tuple[float, float]:
    """The interquartile range (inclusive method) of at least two values."""
    low, _, high = statistics.quantiles(values, n=4, method="inclusive")
    return low, high
