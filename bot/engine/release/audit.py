"""The differencing check: may one more respondent set be released to a viewer?

Every released figure (an average, a spread, a distribution) about one quantity (a
sub-component) is computed from a respondent set. Answers are modelled as one unknown per
(person, quantity), the same unknown in every round, team and cohort: the worst case for the
person ("nothing else changed"). A set of released averages is then a set of linear
equations, one row (the respondent set's indicator) per release. A new set is refused when,
together with everything already released to the viewer about the quantity:

1. it differs from an earlier set by 1 to minimum-1 people (the direct difference attack,
   which bounded answers can turn into exact values even when it is a difference of two); or
2. the sum of some group of fewer than `minimum` people becomes exactly determined, that is,
   the indicator of that group is in the row space of the released rows. Persons who are in
   exactly the same released sets form one "atom": nothing released can tell them apart, so
   the test runs over atoms. An atom's sum is determined iff its column is not in the span of
   the other atoms' columns; this is decided modulo a large prime drawn at random, with a
   random weighting (see _coloops), so a wrong "not determined" has a probability below one
   in ten million per check (docs/PRIVACY.md, "How exact the audit is").

docs/PRIVACY.md explains why these rules are sound and what they do not cover.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

# Below 2**31, so products fit in int64; each check uses one, drawn at random, so that no
# arrangement of answers can be aimed at a known prime.
PRIMES = (2_147_483_647, 2_147_483_629, 2_147_483_587, 2_147_483_579, 2_147_483_563)
# Verdicts by the exact rows checked: the sub-components of one release usually share their
# respondent sets, and a verdict depends on nothing else (minimum aside, which is fixed).
CACHE_SIZE = 256
_VERDICTS: dict[tuple[object, ...], bool] = {}


_INDEX: dict[str, int] = {}
_BITS: dict[frozenset[str], int] = {}


def forget_cache() -> None:
    """Empty the caches (the benchmark measures cold releases)."""
    _VERDICTS.clear()
    _BITS.clear()
    _INDEX.clear()


def bits(people: frozenset[str]) -> int:
    """The set as an integer bitmask (one bit per person, numbered on first sight)."""
    found = _BITS.get(people)
    if found is None:
        found = 0
        for person in people:
            found |= 1 << _INDEX.setdefault(person, len(_INDEX))
        if len(_BITS) > 16 * CACHE_SIZE:
            _BITS.pop(next(iter(_BITS)))
        _BITS[people] = found
    return found


def differs_too_little(new: frozenset[str], earlier: Iterable[frozenset[str]],
                       minimum: int) -> bool:
    """True when `new` and some earlier set differ by at least one but fewer than `minimum`."""
    mask = bits(new)
    return any(0 < (mask ^ bits(old)).bit_count() < minimum for old in earlier)


def atoms(rows: Sequence[frozenset[str]]) -> tuple[np.ndarray, np.ndarray]:
    """The persons grouped by the rows they are in: a 0/1 matrix (rows x atoms), and sizes."""
    index = {p: i for i, p in enumerate(sorted(frozenset().union(*rows)))}
    member = np.zeros((len(rows), len(index)), dtype=np.bool_)
    for r, row in enumerate(rows):
        member[r, [index[p] for p in row]] = True
    columns, sizes = np.unique(member.T, axis=0, return_counts=True)
    return columns.T.astype(np.int64), sizes


def _rref(m: np.ndarray, prime: int, limit: int | None = None) -> tuple[np.ndarray, list[int]]:
    """The reduced row echelon form of `m` modulo `prime`, and its pivot columns."""
    m = m % prime
    rows, cols = m.shape
    pivots: list[int] = []
    r = 0
    for c in range(cols if limit is None else limit):
        if r == rows:
            break
        nonzero = np.flatnonzero(m[r:, c])
        if nonzero.size == 0:
            continue
        p = r + int(nonzero[0])
        if p != r:
            m[[r, p]] = m[[p, r]]
        # Columns left of c are already zero in row r, so only c onwards change.
        m[r, c:] = (m[r, c:] * pow(int(m[r, c]), prime - 2, prime)) % prime
        factors = m[:, c].copy()
        factors[r] = 0
        touched = np.flatnonzero(factors)
        if touched.size:
            # Entries are below 2**31, so the product and difference fit in int64 before %.
            m[touched, c:] = (m[touched, c:] - factors[touched, None] * m[r, c:]) % prime
        pivots.append(c)
        r += 1
    return m, pivots


def _exact(value: np.ndarray, prime: int) -> np.ndarray:
    """A float64 product of values below 2**31 and 0/1 entries (exact below 2**53), mod prime."""
    exact: np.ndarray = np.rint(value).astype(np.int64) % prime
    return exact


def _coloops(matrix: np.ndarray, prime: int, rng: np.random.Generator) -> set[int]:
    """Columns of a 0/1 matrix not in the span of the other columns, modulo `prime`.

    With G = M D M^T for a random diagonal D, G minus column a's term is singular exactly
    when removing column a lowers the rank (with high probability when it does not), and by
    the matrix determinant lemma that is when d_a * m_a^T G^-1 m_a = 1.
    """
    d = rng.integers(1, prime, size=matrix.shape[1], dtype=np.int64)
    ones = matrix.astype(np.float64)
    gram = _exact((ones * d.astype(np.float64)) @ ones.T, prime)
    size = len(gram)
    inverse, independent = _rref(np.hstack([gram, np.eye(size, dtype=np.int64)]), prime,
                                 limit=size)
    if len(independent) < size:
        # Dependent rows add nothing to what is determined: keep a basis (G is symmetric, so
        # its independent columns are independent rows) and invert G on it.
        size = len(independent)
        gram = gram[np.ix_(independent, independent)]
        inverse, _ = _rref(np.hstack([gram, np.eye(size, dtype=np.int64)]), prime, limit=size)
    rows = ones[independent]
    solved = _exact(inverse[:, size:].astype(np.float64) @ rows, prime)
    lever = _exact((rows * solved).sum(axis=0), prime)
    return set(np.flatnonzero((lever * d) % prime == 1).tolist())


def _coloops_by_rref(matrix: np.ndarray, prime: int) -> set[int]:
    """The same set, by full elimination of the matrix (slow; the reference the tests use)."""
    m, pivots = _rref(matrix, prime)
    return {c for i, c in enumerate(pivots) if np.count_nonzero(m[i]) == 1}


def determined_small_groups(rows: Sequence[frozenset[str]], minimum: int) -> bool:
    """True when the rows determine the answer-sum of some group of 1..minimum-1 people."""
    key = (minimum, *rows)
    if key not in _VERDICTS:
        matrix, sizes = atoms(rows)
        small = set(np.flatnonzero(sizes < minimum).tolist())
        rng = np.random.default_rng()
        prime = int(rng.choice(PRIMES))
        _VERDICTS[key] = bool(small) and bool(_coloops(matrix, prime, rng) & small)
        if len(_VERDICTS) > CACHE_SIZE:
            _VERDICTS.pop(next(iter(_VERDICTS)))
    return _VERDICTS[key]


def may_release(new: frozenset[str], earlier: Sequence[frozenset[str]], minimum: int) -> bool:
    """True when releasing a figure over `new` can single out nobody, given `earlier`."""
    if len(new) < minimum:
        return False
    if new in earlier:
        return True  # the same people again: nothing new is learnt
    if differs_too_little(new, earlier, minimum):
        return False
    return not determined_small_groups([*connected(new, earlier), new], minimum)


def connected(new: frozenset[str], earlier: Sequence[frozenset[str]]) -> list[frozenset[str]]:
    """The earlier sets linked to `new` through shared people (the rest cannot interact)."""
    reach, found = bits(new), []
    left = [(old, bits(old)) for old in dict.fromkeys(earlier)]
    grew = True
    while grew:
        grew = False
        for item in list(left):
            if item[1] & reach:
                found.append(item[0])
                reach |= item[1]
                left.remove(item)
                grew = True
    return found
