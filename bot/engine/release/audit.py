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
   the other atoms' columns; this is decided by Gaussian elimination modulo two large primes
   (a determined sum over the rationals is determined modulo a prime unless the prime divides
   a denominator, so a sum is treated as determined if it is determined modulo either).

docs/PRIVACY.md explains why these rules are sound and what they do not cover.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

import numpy as np

PRIMES = (2_147_483_647, 2_147_483_629)  # below 2**31: products fit in int64


def differs_too_little(new: frozenset[str], earlier: Iterable[frozenset[str]],
                       minimum: int) -> bool:
    """True when `new` and some earlier set differ by at least one but fewer than `minimum`."""
    return any(0 < len(new ^ old) < minimum for old in earlier)


def atoms(rows: Sequence[frozenset[str]]) -> list[tuple[frozenset[int], int]]:
    """The persons grouped by the rows they are in: (rows containing them, how many people)."""
    pattern: dict[str, set[int]] = defaultdict(set)
    for index, row in enumerate(rows):
        for person in row:
            pattern[person].add(index)
    sizes: dict[frozenset[int], int] = defaultdict(int)
    for where in pattern.values():
        sizes[frozenset(where)] += 1
    return list(sizes.items())


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
    found = atoms(rows)
    small = [i for i, (_, size) in enumerate(found) if size < minimum]
    if not small:
        return False
    matrix = np.zeros((len(rows), len(found)), dtype=np.int64)
    for column, (where, _) in enumerate(found):
        matrix[list(where), column] = 1
    rng = np.random.default_rng()
    return any(_coloops(matrix, prime, rng) & set(small) for prime in PRIMES)


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
    reach, found, left = set(new), [], list(dict.fromkeys(earlier))
    grew = True
    while grew:
        grew = False
        for old in list(left):
            if old & reach:
                found.append(old)
                reach |= old
                left.remove(old)
                grew = True
    return found
