"""The differencing check: may one more respondent set be released to a viewer?

Every released figure (an average, a spread, a distribution) about one quantity (a
sub-component) is computed from a respondent set. Answers are modelled as one unknown per
(person, quantity), the same unknown in every round, team and cohort: the worst case for the
person ("nothing else changed"). A set of released averages is then a set of linear
equations, one row (the respondent set's indicator) per release, and what the viewer can
work out is exactly the row space of those rows. A new set is refused when, together with
everything already released to the viewer about the quantity:

1. it differs from an earlier set by 1 to minimum-1 people (the direct difference; a fast
   first filter, implied by rule 2); or
2. the row space holds a non-zero combination that involves fewer than `minimum` people: a
   sum ("Ann + Ben = 5"), a difference ("Ann - Ben = 3", which on a 1-4 scale tells both) or
   one answer outright.

Rule 2 is decided over *atoms*: people who are in exactly the same released sets, whom no
combination can tell apart. With Q the projection onto the complement of the row space (in
atom coordinates), a combination supported on a group T of atoms is in the row space exactly
when the principal submatrix Q[T, T] is singular. Only groups of small atoms (fewer than
`minimum` people in all) matter. A group whose every row of Q[T, T] is strictly diagonally
dominant is non-singular (Gershgorin), so only atoms failing that bound are searched, group by
group; if that search would be too large, the set is refused (safe, and said in
docs/PRIVACY.md, "How exact the audit is").

Floating point alone is not safe here: a long chain of overlapping sets can make the rows so
ill-conditioned that a real direction of the row space looks like rounding noise and is
dropped, and the audit would then see less than the viewer can work out. So the rank is
computed exactly, modulo two large primes (a rank modulo a prime never exceeds the true rank),
and the floating-point directions are used only when they are that many and well separated
from zero (`trusted_basis`); otherwise the set is refused. With a trusted basis every error is
far below `TOLERANCE`, and anything within `TOLERANCE` of singular counts as determined, so
rounding can only make the audit withhold, never release.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import combinations

import numpy as np

TOLERANCE = 1e-9
# Above this leverage, some combination might weigh one atom so heavily that the 1-4 bounds on
# everyone else's answers tell its value (see small_combination).
BOUNDED_LEVERAGE = 0.9
# Exact ranks are taken modulo these primes (below 2**31, so a product of two residues fits in
# int64); the larger of the two ranks is used, since either can only fall short of the truth.
PRIMES = (2_147_483_647, 2_147_483_629)
# A margin on the error of the computed row space (relative to machine epsilon, per unit of
# condition number and square root of the atoms): ten times the usual constant.
ERROR_FACTOR = 10.0
# The most candidate groups searched one by one before refusing (safe) instead.
SEARCH_LIMIT = 20_000
CACHE_SIZE = 256
_VERDICTS: dict[tuple[object, ...], bool] = {}
_INDEX: dict[str, int] = {}
_BITS: dict[frozenset[str], int] = {}
# Seeded, so that a run (and a bug report) can be reproduced; each exact rank draws afresh.
_RANDOM = np.random.default_rng(20151)


def forget_cache() -> None:
    """Empty the caches (the benchmark measures cold releases)."""
    _VERDICTS.clear()
    _BITS.clear()
    _INDEX.clear()


def bits(people: frozenset[str]) -> int:
    """The set as an integer bitmask (one bit per person, numbered on first sight)."""
    found = _BITS.get(people)
    if found is None:
        index = _INDEX
        numbers = np.fromiter((index.setdefault(p, len(index)) for p in people), np.int64,
                              len(people))
        flags = np.zeros(len(index), dtype=np.uint8)
        flags[numbers] = 1
        # Packed by numpy: adding 1 << n person by person is quadratic in big-int bytes.
        found = int.from_bytes(np.packbits(flags, bitorder="little").tobytes(), "little")
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
    masks = [bits(row) for row in rows]
    everyone = 0
    for mask in masks:
        everyone |= mask
    width = everyone.bit_length()
    # Row r's membership as a bit array over person numbers, unpacked by numpy in C.
    raw = np.array([np.frombuffer(m.to_bytes((width + 7) // 8, "little"), dtype=np.uint8)
                    for m in masks])
    member = np.unpackbits(raw, axis=1, bitorder="little")[:, :width]
    member = member[:, member.any(axis=0)]
    packed = np.packbits(member, axis=0)
    _, first, sizes = np.unique(packed.T, axis=0, return_index=True, return_counts=True)
    return member[:, first].astype(np.float64), sizes


def modular_rank(matrix: np.ndarray, prime: int) -> int:
    """The rank of an integer matrix over the integers modulo `prime` (Gaussian elimination)."""
    work = matrix.astype(np.int64) % prime
    rank = 0
    for column in range(work.shape[1]):
        pivots = np.flatnonzero(work[rank:, column]) + rank
        if pivots.size == 0:
            continue
        pivot = int(pivots[0])
        work[[rank, pivot]] = work[[pivot, rank]]
        inverse = pow(int(work[rank, column]), prime - 2, prime)
        work[rank] = work[rank] * inverse % prime
        others = np.flatnonzero(work[:, column])
        others = others[others != rank]
        if others.size:
            factors = work[others, column][:, None]
            work[others] = (work[others] - factors * work[rank] % prime) % prime
        rank += 1
        if rank == work.shape[0]:
            break
    return rank


def exact_rank(matrix: np.ndarray) -> int:
    """The rank of a 0/1 matrix over the rationals (with overwhelming probability).

    Each prime's rank is taken of the matrix times a random matrix as wide as it is tall: the
    same rank with probability at least 1 - rows/prime (Schwartz-Zippel), never more, and a
    square elimination instead of one over every atom.
    """
    rows, width = matrix.shape
    if width >= 1 << 22:
        raise ValueError("too many atoms for an exact product in float64; split the ledger")
    ranks = []
    for prime in PRIMES:
        mixing = _RANDOM.integers(0, prime, size=(width, rows)).astype(np.float64)
        # 0/1 times residues below 2**31, summed over fewer than 2**22 atoms: every partial
        # sum is an integer below 2**53, so the float product is exact (and runs on BLAS).
        product = (matrix @ mixing).astype(np.int64) % prime
        ranks.append(modular_rank(product, prime))
    return max(ranks)


def trusted_basis(matrix: np.ndarray) -> np.ndarray | None:
    """Orthonormal rows spanning the row space of `matrix`, or None when rounding could hide
    a direction of it (a direction too weak to tell from noise that is really there)."""
    values, vectors = np.linalg.eigh(matrix @ matrix.T)
    largest = float(values.max(initial=0.0))
    if largest <= 0.0:
        return np.zeros((0, matrix.shape[1]))
    # The Gram matrix's eigenvalues are the squared singular values, each within about
    # eps * largest; the basis below is accurate to about eps * condition * sqrt(atoms) (the
    # usual error growth of these backward-stable steps), which must stay a tenth of TOLERANCE.
    most_condition = TOLERANCE / (10 * ERROR_FACTOR * np.finfo(np.float64).eps
                                  * np.sqrt(matrix.shape[1]))
    strong = values >= largest / most_condition**2
    if int(strong.sum()) < len(values) and exact_rank(matrix) > int(strong.sum()):
        return None  # a real direction of the row space is too weak to compute: withhold
    first: np.ndarray = (vectors[:, strong] / np.sqrt(values[strong])).T @ matrix
    # One more pass makes the rows orthonormal to rounding (the first is off by eps * cond^2).
    again, turn = np.linalg.eigh(first @ first.T)
    basis: np.ndarray = (turn / np.sqrt(again)).T @ first
    return basis


def small_combination(matrix: np.ndarray, sizes: np.ndarray, minimum: int) -> bool:
    """True when the row space holds a combination of fewer than `minimum` people."""
    small = np.flatnonzero(sizes < minimum)
    if small.size == 0:
        return False
    full = trusted_basis(matrix)
    if full is None:
        return True  # the row space cannot be known for sure: withhold
    basis = full[:, small]
    weights = sizes[small]
    # P[a, a], the share of atom a's own direction that lies in the row space.
    leverage = np.einsum("ij,ij->j", basis, basis)
    if (leverage >= 1 - TOLERANCE).any():
        return True  # one atom's sum is determined
    if (leverage > BOUNDED_LEVERAGE).any():
        # A combination where one atom's weight is over three times all the others' together
        # ("13 x Ann + four others") pins that atom down, answers being 1 to 4; any such
        # combination gives the atom a leverage over 9/10, so below that none exists.
        return True
    # At most this many atoms fit in a group of fewer than `minimum` people.
    most = int(np.searchsorted(np.cumsum(np.sort(weights)), minimum - 1, side="right"))
    # Q[T, T] = I - P[T, T] is singular only if P[T, T] has eigenvalue 1, which needs its
    # trace, the leverages of T, to reach 1: usually even the largest few stay far below.
    if most < 2 or np.sort(leverage)[-most:].sum() < 1 - TOLERANCE:
        return False
    q = np.eye(len(small)) - basis.T @ basis
    diagonal = np.diag(q).copy()
    off = np.abs(q)
    np.fill_diagonal(off, 0.0)
    partners = min(most - 1, len(small) - 1)
    strongest = -np.partition(-off, partners - 1, axis=1)[:, :partners].sum(axis=1)
    # A group whose every row is strictly diagonally dominant is non-singular (Gershgorin).
    weak = np.flatnonzero(diagonal - strongest <= TOLERANCE)
    return bool(weak.size) and _search(q, weights, weak, most, minimum)


def _search(q: np.ndarray, weights: np.ndarray, weak: np.ndarray, most: int,
            minimum: int) -> bool:
    """Whether some group of atoms, one of them in `weak`, has a singular Q[T, T]."""
    count = len(q)
    candidates = 0
    for size in range(2, most + 1):
        for a in weak.tolist():
            others = [b for b in range(count) if b != a and weights[b] + weights[a] < minimum]
            for rest in combinations(others, size - 1):
                group = [a, *rest]
                if int(weights[group].sum()) >= minimum:
                    continue
                candidates += 1
                if candidates > SEARCH_LIMIT:
                    return True  # too many to try: withhold rather than guess
                if np.linalg.eigvalsh(q[np.ix_(group, group)])[0] <= TOLERANCE:
                    return True
    return False


def determined_small_groups(rows: Sequence[frozenset[str]], minimum: int) -> bool:
    """True when the rows determine a combination of the answers of 1..minimum-1 people."""
    key = (minimum, *rows)
    if key not in _VERDICTS:
        matrix, sizes = atoms(rows)
        _VERDICTS[key] = small_combination(matrix, sizes, minimum)
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


def first_refused(rows: Sequence[tuple[str, frozenset[str]]],
                  ledger: Callable[[str], list[frozenset[str]]], minimum: int) -> int | None:
    """The index of the first (quantity, people) row that `may_release` now refuses, given
    `ledger(quantity)` (the sets already recorded) and the rows before it; None if none is.

    A turn decides against the ledger it read; the store calls this when writing, so a row
    released meanwhile by another process is taken into account (verdicts are cached, so
    an unchanged ledger costs a look-up)."""
    seen: dict[str, list[frozenset[str]]] = {}
    for index, (quantity, people) in enumerate(rows):
        earlier = seen.get(quantity)
        if earlier is None:
            earlier = seen[quantity] = list(ledger(quantity))
        if people not in earlier and not may_release(people, earlier, minimum):
            return index
        earlier.append(people)
    return None

