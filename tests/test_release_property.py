"""A property of the release: one person's answers change only figures that include them in a
released group of at least the minimum, and never what is shown or withheld.

Random teams and looks (membership changing from look to look, as with joins, leaves and
moves; each look a closed round or another team the viewer sees). Two worlds differ only in
one person's answers, or in a swap of two people's answers within one look's group. The
viewer must see identical output wherever that person's contribution is not part of a
released figure over at least the minimum, and identical decisions everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from itertools import combinations

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.definitions.model import Content
from bot.engine.ports.releases import Released, RoundAnswer
from bot.engine.release import audit
from bot.engine.release.audit import determined_small_groups
from bot.engine.release.figures import Figure, TeamRelease
from bot.engine.release.rules import Rules
from bot.engine.release.team import TeamRequest, release_team

PEOPLE = [f"telegram:{n}" for n in range(12)]
VIEWER = "telegram:99"
SUBS = 3  # the first strand's sub-components; the others stay unanswered (and hidden)

levels = st.integers(min_value=1, max_value=4)
# One look: who is in the group, and each one's level per sub-component (None: no answer).
look = st.dictionaries(st.sampled_from([*PEOPLE, VIEWER]),
                       st.lists(st.one_of(st.none(), levels), min_size=SUBS, max_size=SUBS),
                       max_size=13)


@dataclass(frozen=True)
class Seen:
    """One figure as the viewer saw it, and the people whose answers went into it."""

    figure: Figure
    group: frozenset[str]


def replay(content: Content, looks: list[dict[str, list[int | None]]]) -> list[list[Seen]]:
    ledger: list[Released] = []
    out = []
    subs = [s.id for s in content.sub_components[:SUBS]]
    strand = content.strands[0].id
    for number, group in enumerate(looks):
        answers = tuple(RoundAnswer(p, sub, level) for p, row in sorted(group.items())
                        for sub, level in zip(subs, row) if level is not None)
        release: TeamRelease = release_team(content, TeamRequest(
            VIEWER, f"look:{number}", number, 0.0, answers, len(group), 0, tuple(ledger),
            Rules(), 0.0))
        ledger.extend(release.recorded)
        by_sub = {sub: frozenset(a.person for a in answers
                                 if a.question == sub and a.person != VIEWER) for sub in subs}
        shown_parts = [sub for sub, f in zip(subs, release.subs) if f.shown]
        union = frozenset().union(*(by_sub[s] for s in shown_parts))
        seen = [Seen(f, by_sub[sub]) for sub, f in zip(subs, release.subs)]
        seen.append(Seen(next(f for f in release.strands if f.id == strand), union))
        out.append(seen)
    return out


def decisions(seen: list[list[Seen]]) -> list[list[object]]:
    return [[(s.figure.withheld, s.figure.spread_withheld, s.figure.respondents) for s in row]
            for row in seen]


def check(a: list[list[Seen]], b: list[list[Seen]], changed: set[str], minimum: int) -> None:
    assert decisions(a) == decisions(b)
    for row_a, row_b in zip(a, b):
        for x, y in zip(row_a, row_b):
            if (x.figure.mean, x.figure.spread) != (y.figure.mean, y.figure.spread):
                assert x.group & changed and len(x.group) >= minimum


@settings(max_examples=60, deadline=None)
@given(looks=st.lists(look, min_size=1, max_size=6), target=st.sampled_from(PEOPLE),
       other=st.lists(levels, min_size=SUBS, max_size=SUBS))
def test_one_persons_answers_change_only_released_groups_that_include_them(
        content: Content, looks: list[dict[str, list[int | None]]], target: str,
        other: list[int]) -> None:
    # Other levels wherever the target answered (who answered is shown as counts anyway).
    def moved(row: list[int | None]) -> list[int | None]:
        return [None if level is None else new for level, new in zip(row, other)]
    changed = [{p: (moved(row) if p == target else row) for p, row in g.items()}
               for g in looks]
    check(replay(content, looks), replay(content, changed), {target}, Rules().minimum)


@settings(max_examples=60, deadline=None)
@given(looks=st.lists(look, min_size=1, max_size=6), data=st.data())
def test_a_swap_within_a_group_changes_only_released_groups_holding_one_of_the_two(
        content: Content, looks: list[dict[str, list[int | None]]], data: st.DataObject) -> None:
    index = data.draw(st.integers(min_value=0, max_value=len(looks) - 1))
    members = sorted(p for p in looks[index] if p != VIEWER)
    if len(members) < 2:
        return
    first, second = data.draw(st.lists(st.sampled_from(members), min_size=2, max_size=2,
                                       unique=True))
    swapped = [dict(g) for g in looks]
    row = swapped[index]
    # Swap the levels, keeping who answered what (answering at all is not what is hidden).
    for s in range(SUBS):
        if row[first][s] is not None and row[second][s] is not None:
            row[first] = [*row[first][:s], looks[index][second][s], *row[first][s + 1:]]
            row[second] = [*row[second][:s], looks[index][first][s], *row[second][s + 1:]]
    check(replay(content, looks), replay(content, swapped), {first, second}, Rules().minimum)


def exact_rank(rows: list[list[int]]) -> int:
    """The rank of an integer matrix, by elimination over the rationals."""
    m = [[Fraction(v) for v in row] for row in rows]
    rank = 0
    for c in range(len(m[0]) if m else 0):
        pivot = next((r for r in range(rank, len(m)) if m[r][c] != 0), None)
        if pivot is None:
            continue
        m[rank], m[pivot] = m[pivot], m[rank]
        for r in range(len(m)):
            if r != rank and m[r][c] != 0:
                factor = m[r][c] / m[rank][c]
                m[r] = [a - factor * b for a, b in zip(m[r], m[rank])]
        rank += 1
    return rank


def some_small_combination(rows: list[frozenset[int]], minimum: int) -> bool:
    """The reference: removing some group of fewer than `minimum` people lowers the rank."""
    people = sorted(frozenset().union(*rows))
    full = exact_rank([[int(p in row) for p in people] for row in rows])
    for size in range(1, minimum):
        for group in combinations(people, size):
            kept = [p for p in people if p not in group]
            if exact_rank([[int(p in row) for p in kept] for row in rows] or [[0]]) < full:
                return True
    return False


@settings(max_examples=600, deadline=None)
# Withheld by the bounds rule alone (p5's leverage is over 0.9), found by hypothesis.
@example([frozenset({0, 1}), frozenset({0, 1, 2, 3, 4, 5}), frozenset({0, 2}),
          frozenset({0, 3, 4}), frozenset({0, 1, 2, 3})], 2)
@given(st.lists(st.frozensets(st.integers(0, 8), min_size=1), min_size=1, max_size=6),
       st.integers(2, 5))
def test_the_audit_finds_every_combination_of_a_small_group_and_withholds_more_only_by_bounds(
        rows: list[frozenset[int]], minimum: int) -> None:
    named = [frozenset(f"p{n}" for n in row) for row in rows]
    found, exact = determined_small_groups(named, minimum), some_small_combination(rows, minimum)
    assert found or not exact  # never misses an exact combination
    if found and not exact:
        # More than the exact rule withholds only by the bounds rule: someone whose leverage
        # is over 0.9 could be pinned down by a heavily weighted combination.
        matrix, sizes = audit.atoms(named)
        basis = audit.trusted_basis(matrix)
        assert basis is not None
        small = np.flatnonzero(sizes < minimum)
        leverage = np.einsum("ij,ij->j", basis[:, small], basis[:, small])
        assert (leverage > audit.BOUNDED_LEVERAGE).any()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(0, 1), min_size=6, max_size=6), min_size=1, max_size=7))
def test_the_modular_rank_is_the_exact_rank(rows: list[list[int]]) -> None:
    assert audit.exact_rank(np.array(rows, dtype=np.float64)) == exact_rank(rows)


def chain(length: int) -> tuple[list[frozenset[str]], frozenset[str]]:
    """Sets of five-person atoms overlapping as 1 + z + z³ (its inverse grows like 1.47^k),
    and one more set: Ann with the last atom, whose sum the chain determines exactly."""
    atoms = [frozenset(f"c{k}.{i}" for i in range(5)) for k in range(length)]
    rows = [frozenset().union(*(atoms[k - d] for d in (0, 1, 3) if k - d >= 0))
            for k in range(length)]
    return rows, atoms[-1] | {"ann"}


def test_a_long_chain_of_looks_that_determines_one_person_is_withheld() -> None:
    # Each look alone is over five-person atoms only, and releasable; Ann's look differs from
    # each by at least five people. In floating point the chain's last direction is noise
    # (condition ~1e7 at 40 links), so a float-only audit released Ann's answer.
    rows, last = chain(40)
    shown: list[frozenset[str]] = []
    for row in rows:
        assert audit.may_release(row, shown, 5)
        shown.append(row)
    audit.forget_cache()
    assert not audit.may_release(last, shown, 5)


def test_a_well_conditioned_history_is_not_refused_for_rounding() -> None:
    rows, _ = chain(8)
    # Ann always comes with the same five newcomers: one atom of six, nobody to single out.
    newcomers = frozenset(f"f.{i}" for i in range(5)) | {"ann"}
    assert audit.may_release(newcomers | rows[0], rows, 5)


def test_a_combination_weighing_one_person_thirteen_times_the_rest_is_withheld() -> None:
    # 13 x Ann + four others: with answers 1-4 the four add 4 to 16, so the total tells Ann's
    # answer (17-29 is 1, 30-42 is 2, ...) although five people are in it. Chains of sets reach
    # such weights; here the row is given directly, over five one-person atoms.
    matrix = np.array([[13.0, 1.0, 1.0, 1.0, 1.0]])
    assert audit.small_combination(matrix, np.ones(5, dtype=np.int64), 5)
    assert not audit.small_combination(np.ones((1, 5)), np.ones(5, dtype=np.int64), 5)
