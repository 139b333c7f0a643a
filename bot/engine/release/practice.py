"""The release of a team's actions tried per strand: counts, under the same rules as averages.

A count of the round's respondents (besides the viewer) who tried something in a strand during
the round is a figure over that respondent set, like an average: it needs `Rules.minimum`
people and passes the differencing audit against everything the viewer saw before (quantity
'tried:<strand>'), so two views can never be subtracted to tell whether one person tried.
Who tried what is never part of a release.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.engine.ports.releases import Released
from bot.engine.release.figures import Figure
from bot.engine.release.rules import Rules
from bot.engine.release.team import _Ledger


@dataclass(frozen=True)
class TriedRelease:
    """Per strand, the count shown (Figure.mean) or why it is withheld; what to record."""

    strands: tuple[Figure, ...]
    recorded: tuple[Released, ...]


def release_tried(viewer: str, source: str, respondents: frozenset[str],
                  tried: dict[str, set[str]], strands: Sequence[str],
                  earlier: Sequence[Released], rules: Rules, at: float) -> TriedRelease:
    """The counts of actions tried per strand that `viewer` may see."""
    ledger = _Ledger(earlier, viewer, source, at)
    people = frozenset(respondents - {viewer})
    figures = []
    for strand in strands:
        why = ledger.admit(f"tried:{strand}", people, rules.minimum, rules.minimum)
        count = len(tried.get(strand, set()) & people)
        figures.append(Figure(f"tried:{strand}", None if why else float(count), None,
                              len(people), why))
    return TriedRelease(tuple(figures), tuple(ledger.recorded))


@dataclass(frozen=True)
class OutcomeRelease:
    """How a broadcast's commitments went, per outcome, or why it is withheld; what to record."""

    counts: tuple[tuple[str, int], ...] | None  # (outcome, people), None when withheld
    people: int
    withheld: str | None
    recorded: tuple[Released, ...]


def release_outcomes(viewer: str, broadcast_id: int, outcomes: dict[str, str],
                     earlier: Sequence[Released], rules: Rules, at: float) -> OutcomeRelease:
    """The settled outcomes of a broadcast's commitments that `viewer` may see, as counts.

    Only settled outcomes count, so each person's value is fixed when it enters the set, as a
    broadcast answer is; the set is audited like a distribution (spread minimum, quantity
    'practice:broadcast:<id>')."""
    ledger = _Ledger(earlier, viewer, f"broadcast:{broadcast_id}", at)
    people = frozenset(p for p in outcomes if p != viewer)
    why = ledger.admit(f"practice:broadcast:{broadcast_id}", people, rules.spread_minimum,
                       rules.minimum)
    if why is not None:
        return OutcomeRelease(None, len(people), why, ())
    counts = {o: sum(1 for p in people if outcomes[p] == o)
              for o in ("helped", "mixed", "not_yet", "dropped")}
    return OutcomeRelease(tuple(counts.items()), len(people), None, tuple(ledger.recorded))
