"""A-posteriori check of a stationary law: probability balance on every cell and across cuts.

For the generator Q of a closed chain (Q_ij ≥ 0 the rate i → j, rows summing to 0) a vector π is
stationary when the probability flows π_i Q_ij balance: for every set S of states, the flow out of
S equals the flow into S. The *balance error* of S is

    δ_S = |flow into S − flow out of S| / (flow into S + flow out of S),

computed from the links that cross S's boundary only, so no flow inside S cancels. Two families of
sets are judged:

* every single cell, δ_i = |(Qᵀπ)_i| / (|Q|ᵀπ)_i, the componentwise backward error: π is exactly
  balanced at every cell for entries of Qᵀ perturbed relatively by max δ_i;
* the n − 1 *cuts* {first k states} of given orderings of the states (the C order of a 2-D
  grid and its transpose cut it into slabs across either axis, fpsolve.gth.axis_orderings).

The cuts are what a metastable chain needs. When the flow across a barrier is below round-off of
the flows inside the wells (10⁻²² of them in the issue-8 reproducer), a law with a wrong share of
mass between the wells still balances every cell to 1e-15, because the per-cell errors of a whole
well add up to more than the barrier flow. Across a cut through the barrier the error is O(1).
"""

from dataclasses import dataclass

import numba
import numpy as np
import scipy.sparse as sparse

__all__ = ["BalanceError", "balance_errors", "JUDGED_MASS"]

#: Cells holding less than this fraction of the largest mass, and cuts whose gross flow is below
#: this fraction of the largest cell flow, are not judged: their neighbours' masses may have
#: underflowed (double precision ends near 1e-308), and their total is negligible.
JUDGED_MASS = 1e-200

#: Work bound (link lengths summed, ~0.05 s) for judging every cut; beyond it every ``stride``-th
#: cut (every 6th on a 512² grid, all of them on the 220×160 reproducer).
_CUT_WORK = 50_000_000


@dataclass(frozen=True)
class BalanceError:
    """The largest balance error of a law over single cells (``cells``) and over cuts (``cuts``)."""

    cells: float
    cuts: float

    @property
    def worst(self) -> float:
        return max(self.cells, self.cuts)

    def __repr__(self) -> str:
        return f"BalanceError(cells={self.cells:.2g}, cuts={self.cuts:.2g})"


def _cut_flows(indptr, indices, data, position, pi, stride):
    """Net and gross flow across each cut {states at positions ≤ k} of an ordering; each link
    contributes to the cuts it crosses (those between its ends' positions, multiples of stride)."""
    n = pi.shape[0]
    net = np.zeros(n)
    gross = np.zeros(n)
    for i in range(n):
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            flow = pi[i] * data[p]
            if j == i or flow == 0.0:
                continue
            a, b = position[i], position[j]
            sign = 1.0 if a < b else -1.0
            low, high = min(a, b), max(a, b)
            first = ((low + stride - 1) // stride) * stride
            for k in range(first, high, stride):
                net[k] += sign * flow
                gross[k] += abs(flow)
    return net, gross


_cut_flows_kernel = numba.njit(cache=True)(_cut_flows)


def _all_cut_flows(indptr, indices, data, position, pi):
    """Net and gross flow across every cut {states at positions ≤ k}, in O(links + n): a link
    between positions a < b enters the cuts a, …, b − 1, so it is added at a and subtracted at b
    of difference arrays whose prefix sums are the flows. Differences and prefix sums are kept
    in double-double arithmetic (TwoSum: a hi + lo pair per entry), so the links that do not
    cross cut k cancel in its sum to ~n·eps² of the largest flow, far below the eps of one
    rounded flow: the flows are as accurate as :func:`_cut_flows` sums them."""
    n = pi.shape[0]
    diff = np.zeros((n + 1, 4))  # per position: net (hi, lo), gross (hi, lo)
    for i in range(n):
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            flow = pi[i] * data[p]
            if j == i or flow == 0.0:
                continue
            low, high = min(position[i], position[j]), max(position[i], position[j])
            signed = flow if position[i] < position[j] else -flow
            _add_two_sum(diff, low, 0, signed)
            _add_two_sum(diff, high, 0, -signed)
            _add_two_sum(diff, low, 2, abs(flow))
            _add_two_sum(diff, high, 2, -abs(flow))
    net = np.empty(n)
    gross = np.empty(n)
    for column, out in ((0, net), (2, gross)):
        hi = lo = 0.0
        for k in range(n):
            s = hi + diff[k, column]  # TwoSum of hi and the difference, then renormalise
            t = s - hi
            e = (hi - (s - t)) + (diff[k, column] - t) + lo + diff[k, column + 1]
            hi = s + e
            lo = e - (hi - s)
            out[k] = hi + lo
    return net, gross


def _add_two_sum(diff, k, column, term):
    """diff[k, column] + diff[k, column + 1] += term, the rounding error of the high part kept
    in the low part (TwoSum: s + e equals diff[k, column] + term exactly)."""
    s = diff[k, column] + term
    t = s - diff[k, column]
    diff[k, column + 1] += (diff[k, column] - (s - t)) + (term - t)
    diff[k, column] = s


_add_two_sum = numba.njit(cache=True, inline="always")(_add_two_sum)
_all_cut_flows_kernel = numba.njit(cache=True)(_all_cut_flows)


def balance_errors(Q, pi, orders=None) -> BalanceError:
    """Balance errors of π for the generator Q: over single cells and over the cuts of ``orders``.

    Parameters
    ----------
    Q : sparse matrix (n, n)
        The generator (off-diagonal rates, row sums 0).
    pi : array (n,)
        The candidate stationary law (any normalisation).
    orders : sequence of int arrays (n,), optional
        Orderings of the states whose prefixes are the cuts; default the single order 0, …, n − 1.

    Returns
    -------
    BalanceError
        ``cells`` = max_i |(Qᵀπ)_i| / (|Q|ᵀπ)_i over cells with π_i ≥ JUDGED_MASS·max π, and
        ``cuts`` = max over cuts of |net flow| / gross flow; NaN anywhere in π gives inf.
    """
    pi = np.asarray(pi, dtype=float)
    if not np.all(np.isfinite(pi)) or np.any(pi < 0) or not pi.max(initial=0.0) > 0:
        return BalanceError(np.inf, np.inf)
    pi = pi / pi.max()
    Q = sparse.csr_array(Q)
    residual = Q.T @ pi
    scale = abs(Q).T @ pi
    judged = (pi >= JUDGED_MASS) & (scale > 0)
    cells = np.max(np.abs(residual[judged]) / scale[judged], initial=0.0)
    n = Q.shape[0]
    orders = [np.arange(n)] if orders is None else orders
    cuts = max(_cut_error(Q, pi, np.asarray(order)) for order in orders)
    return BalanceError(float(cells), float(cuts))


def _cut_error(Q, pi, order, normwise: bool = False) -> float:
    """max over the cuts {first k states of ``order``} of |net flow| / gross flow (cuts whose
    gross flow underflowed are not judged); ``normwise``: of |net flow| / the largest gross flow
    over all cuts, the accuracy an LU law can promise (its residual is small normwise)."""
    n = Q.shape[0]
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n)
    if normwise:  # every cut, in O(links): cancellation in the prefix sums is far below the tolerance
        net, gross = _all_cut_flows_kernel(Q.indptr.astype(np.int64), Q.indices.astype(np.int64), Q.data, position, pi)
        return float(np.max(np.abs(net[:-1]), initial=0.0) / max(float(gross.max(initial=0.0)), 1e-300))
    rows = np.repeat(np.arange(n), np.diff(Q.indptr))
    work = int(np.abs(position[rows] - position[Q.indices]).sum())
    stride = max(1, -(-work // _CUT_WORK))
    net, gross = _cut_flows_kernel(Q.indptr.astype(np.int64), Q.indices.astype(np.int64), Q.data, position, pi, stride)
    floor = JUDGED_MASS * np.max(np.abs(Q.diagonal()))
    crossed = gross[:-1] > floor
    return float(np.max(np.abs(net[:-1][crossed]) / gross[:-1][crossed], initial=0.0))
