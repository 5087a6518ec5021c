"""GTH elimination: the stationary law of a banded Markov chain without subtraction.

The Grassmann–Taksar–Heyman algorithm solves Qᵀπ = 0 for the generator Q of an irreducible chain
(Q_ij ≥ 0 the rate i → j, rows summing to 0) by eliminating states one at a time (censoring the
chain on the remaining ones). Eliminating state k adds to each rate i → j (i, j < k) the rate of the
detour i → k → j, Q_ik Q_kj / s_k, where the pivot s_k = Σ_{j<k} Q_kj is recomputed as the sum of k's
remaining off-diagonal rates instead of being read from the diagonal. Every operation is then a
sum, product or quotient of non-negative numbers: each π_i comes out with a small relative error
whatever the chain's conditioning (O'Cinneide 1993), in particular for metastable chains, whose
stationary systems are nearly singular, and for tails many decades below the largest mass.

Fill-in stays inside the band of Q, so with the band half-width ``bw`` (cells ordered so that it is
the shorter axis of a 2-D grid) the cost is about n·bw² multiply-adds and the storage n·(2bw + 1)
numbers. The kernels below are plain Python run by numba (``cache=True``); the same functions
unjitted are their reference twins for tests on tiny inputs.
"""

import numba
import numpy as np
import scipy.sparse as sparse
from scipy.sparse import csgraph

__all__ = ["band_storage", "band_ordering", "axis_orderings", "bandwidth_of", "gth_banded", "banded_gth_reference"]

#: Back substitution rescales its moving window of the last ``bw`` values when they leave
#: [2^-500, 2^500]: π may span far more than the ~600 decades of double precision (the
#: scale of each entry is kept in a separate exponent).
_RESCALE = 2.0**500


def band_storage(Q, bandwidth: int) -> np.ndarray:
    """Q's off-diagonal rates in band storage: ``band[i, bandwidth + j - i] = Q_ij`` for
    0 < |i − j| ≤ ``bandwidth``; the diagonal slot is zero (GTH never reads it)."""
    coo = sparse.coo_array(Q)
    coo.sum_duplicates()  # then each (row, column) appears once and can be assigned
    off = coo.row != coo.col
    band = np.zeros((Q.shape[0], 2 * bandwidth + 1))
    rows, cols = coo.row[off].astype(np.int64), coo.col[off].astype(np.int64)
    band[rows, bandwidth + cols - rows] = coo.data[off]
    return band


def _eliminate(band, bandwidth):
    """Eliminate states n−1, …, 1 in place; return the pivots s_k (s_0 = 0) and the first state
    whose pivot vanished (−1 if none: then the chain is irreducible)."""
    n = band.shape[0]
    pivots = np.zeros(n)
    pivot_row = np.empty(bandwidth)  # k's rates to the remaining states: a separate buffer, so
    for k in range(n - 1, 0, -1):  # that the compiler sees no aliasing and vectorizes the update
        low = max(0, k - bandwidth)
        width = k - low
        s = 0.0
        for j in range(width):
            pivot_row[j] = band[k, bandwidth + low + j - k]
            s += pivot_row[j]
        pivots[k] = s
        if not s > 0.0:
            return pivots, k
        for i in range(low, k):
            detour = band[i, bandwidth + k - i]
            if detour == 0.0:
                continue
            detour /= s
            row = band[i]
            start = bandwidth + low - i
            # j == i updates the unused diagonal slot: harmless, and keeps the loop branch-free
            for j in range(width):
                row[start + j] += detour * pivot_row[j]
    return pivots, -1


def _back_substitute(band, bandwidth, pivots):
    """π_0 = 1, π_k = Σ_{i<k} π_i Q̃_ik / s_k, returned as log π (unnormalised). The last
    ``bandwidth`` values (all that later steps read) share one scale, renormalised to max 1
    whenever they leave [1/_RESCALE, _RESCALE]; each value keeps the log of its scale."""
    n = band.shape[0]
    value = np.zeros(n)
    log_scale = np.zeros(n)
    value[0] = 1.0
    current = 0.0
    for k in range(1, n):
        low = max(0, k - bandwidth)
        total = 0.0
        largest = 0.0
        for i in range(low, k):
            total += value[i] * band[i, bandwidth + k - i]
            largest = max(largest, value[i])
        value[k] = total / pivots[k]
        log_scale[k] = current
        largest = max(largest, value[k])
        if largest > _RESCALE or 0.0 < largest < 1.0 / _RESCALE:
            for i in range(low, k + 1):
                value[i] /= largest
                log_scale[i] = current + np.log(largest)
            current += np.log(largest)
    out = np.full(n, -np.inf)
    for k in range(n):
        if value[k] > 0.0:
            out[k] = np.log(value[k]) + log_scale[k]
    return out


_eliminate_kernel = numba.njit(cache=True)(_eliminate)
_back_substitute_kernel = numba.njit(cache=True)(_back_substitute)


def gth_banded(Q, bandwidth: int, *, kernels: bool = True) -> np.ndarray:
    """The stationary law of the irreducible chain with generator Q, by banded GTH elimination.

    Parameters
    ----------
    Q : sparse matrix, shape (n, n)
        Off-diagonal rates Q_ij ≥ 0, all within ``bandwidth`` of the diagonal (the diagonal is not
        read: the pivots are the sums of the remaining rates). Order the states so that
        ``bandwidth`` is small: the cost is ~n·bandwidth² and the memory 8·n·(2·bandwidth + 1) bytes.
    bandwidth : int
        max |i − j| over the nonzero rates.
    kernels : bool
        False runs the plain-Python twins of the numba kernels (tests on tiny chains).

    Returns
    -------
    np.ndarray
        π, shape (n,), non-negative, summing to 1; each entry with a small relative error (entries
        more than ~1e-308 below the largest underflow to 0).

    Raises
    ------
    ValueError
        If a pivot vanishes: the chain is reducible (some states cannot reach the others).
    """
    band = band_storage(Q, bandwidth)
    eliminate, back = (_eliminate_kernel, _back_substitute_kernel) if kernels else (_eliminate, _back_substitute)
    pivots, stuck = eliminate(band, int(bandwidth))
    if stuck >= 0:
        raise ValueError(
            f"Q: state {stuck} has no rate to the states before it once the later "
            "ones are eliminated; the chain is reducible (several closed classes "
            "or a state that cannot be left), so its stationary law is not unique"
        )
    log_pi = back(band, int(bandwidth), pivots)
    pi = np.exp(log_pi - log_pi.max())
    return pi / pi.sum()


def banded_gth_reference(Q) -> np.ndarray:
    """Dense GTH in numpy on a tiny chain (no band, no rescaling): the textbook algorithm, for
    tests of :func:`gth_banded`."""
    A = np.array(Q.toarray() if sparse.issparse(Q) else Q, dtype=float)
    n = A.shape[0]
    np.fill_diagonal(A, 0.0)
    for k in range(n - 1, 0, -1):
        s = A[k, :k].sum()
        A[:k, :k] += np.outer(A[:k, k], A[k, :k]) / s
    pi = np.zeros(n)
    pi[0] = 1.0
    for k in range(1, n):
        pi[k] = pi[:k] @ A[:k, k] / A[k, :k].sum()
    return pi / pi.sum()


def bandwidth_of(Q, order) -> int:
    """max |position(i) − position(j)| over the nonzero entries of Q when states are listed in
    ``order``."""
    coo = sparse.coo_array(Q)
    position = np.empty(Q.shape[0], dtype=np.int64)
    position[np.asarray(order)] = np.arange(Q.shape[0])
    return int(np.abs(position[coo.row] - position[coo.col]).max(initial=0))


def band_ordering(Q) -> tuple:
    """``(order, bandwidth)``: an ordering of the states with a small bandwidth, chosen from Q's
    sparsity alone (never from a grid).

    Candidates: the given order; the transposed order of a 2-D grid whose row length m is read off
    the largest offset (m or m − 1, if it divides n), which puts the shorter axis inside the band;
    and reverse Cuthill–McKee (periodic grids). The narrowest wins.
    """
    candidates = axis_orderings(Q) + [
        np.asarray(csgraph.reverse_cuthill_mckee(sparse.csr_array(Q), symmetric_mode=False))
    ]
    widths = [bandwidth_of(Q, order) for order in candidates]
    best = int(np.argmin(widths))
    return candidates[best], widths[best]


def axis_orderings(Q) -> list:
    """The given order, and the transposed order of a 2-D grid whose row length m is read off the
    largest offset of Q (m for a 5-point stencil, m + 1 with cross links) when m divides n. Their
    prefixes are slabs across one grid axis and across the other."""
    n = Q.shape[0]
    natural = np.arange(n)
    orders = [natural]
    width = bandwidth_of(Q, natural)
    for m in (width, width - 1):
        if 1 < m < n and n % m == 0:
            transposed = natural.reshape(n // m, m).T.ravel()
            if bandwidth_of(Q, transposed) <= n // m + 1:  # a grid of n/m rows of m cells
                orders.append(transposed)
                break
    return orders
