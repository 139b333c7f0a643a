"""The release of a broadcast prompt's distribution (/report): same minimums, same ledger.

The viewer's own answer is left out. The distribution is a count per level, and counts over a
respondent set are linear in the answers just as averages are (docs/PRIVACY.md), so it is
audited under the prompt's sub-component together with the team figures the viewer saw: a
second look after one more answer arrived differs from the first by one person and is withheld.

Why the same audit fits: with unknowns y[p, l] ("p answered level l"), the counts over sets
S_i give rows M (x) I, and each person's y[p, .] sums to 1. If v is in the kernel of M with
v[p] != 0, then v (x) (e_l - e_l') is in the kernel of both, so y[p, l] is not determined:
a person's level is determined by counts only when their answer would be by averages.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from bot.engine.ports.releases import Released, RoundAnswer
from bot.engine.release.audit import may_release
from bot.engine.release.figures import DIFFERENCING, TOO_FEW, Distribution
from bot.engine.release.rules import Rules


def release_distribution(viewer: str, broadcast_id: int, question: str,
                         levels: Sequence[RoundAnswer], earlier: Sequence[Released],
                         rules: Rules, at: float) -> Distribution:
    """The counts per level `viewer` may see of a broadcast prompt, and what to record."""
    others = {a.person: a.level for a in levels if a.person != viewer}
    people = frozenset(others)
    if len(people) < rules.spread_minimum:
        return Distribution(len(people), (), TOO_FEW, ())
    seen = [row.people for row in earlier if row.quantity == question]
    if not may_release(people, seen, rules.minimum):
        return Distribution(len(people), (), DIFFERENCING, ())
    counts = tuple(sorted(Counter(others.values()).items()))
    recorded = () if people in seen else (
        Released(viewer, question, f"broadcast:{broadcast_id}", people, at),)
    return Distribution(len(people), counts, None, recorded)
