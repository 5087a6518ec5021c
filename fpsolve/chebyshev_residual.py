"""exp(tA) v for any Markov chain by the Chebyshev series, with an l1 error bound from its residual.

A = Q^T is the forward operator of a generator Q (rates Q_ij >= 0 off the diagonal, row sums <= 0),
reversible or not. With B = I + (2 / rho) A and z = rho t / 2, the truncated Chebyshev series

    y_m(t) = sum_{k <= m} c_k(t) T_k(B) v,   c_0 = e^{-z} I_0(z),  c_k = 2 e^{-z} I_k(z),

is exp(tA) v for m -> infinity whatever the spectrum of A; for a reversible chain its error is
bounded a priori (:mod:`fpsolve.chebyshev_exponential`), for a non-reversible one the eigenvalues
leave the real interval [-rho, 0] and ||T_k(B) v|| may grow, so no a-priori bound holds. The bound
here is a posteriori and needs no spectral information. The coefficients satisfy the ODE termwise
(dc_k/dt = (rho / 2) ((c_{k-1} + c_{k+1}) / 2 - c_k)), so only the two boundary terms survive in
the residual of the truncated series:

    r_m(t) = y_m' - A y_m = (rho / 4) (c_{m+1}(t) T_m(B) v - c_m(t) T_{m+1}(B) v).

The error e = exp(tA) v - y_m solves e' = A e - r_m, e(0) = 0, so e(t) = -int_0^t exp((t - s)A)
r_m(s) ds, and exp(sA) is a contraction in the l1 norm (non-negative, column sums <= 1: mass is
conserved or killed, never created). Hence, with N_k = ||T_k(B) v||_1 and
J_k(z) = int_0^z e^{-u} I_k(u) du,

    ||exp(tA) v - y_m(t)||_1  <=  N_m J_{m+1}(z) + N_{m+1} J_m(z),

a bound on the total-variation distance, in exact arithmetic, for every generator and every v.
The degree is raised until it is below ``rtol ||v||_1`` at every output time. Long times are
split into segments (each one polynomial; the bounds of the segments add, by the same
contraction) when ||T_k(B) v|| grows by more than ``MAX_GROWTH`` within a segment, because then
round-off (about eps m max_k N_k) would no longer be negligible. Each segment also accumulates the
series at ``CHECKPOINTS`` of its length: when the growth sets in after one of them has converged,
the segment stops there and the products are kept (the next segments take that length); only a
growth before any checkpoint restarts with a wider interval or a shorter segment. The answer is
refused (RuntimeError) when segments would have to be shorter than a few explicit steps.

Cost: about sqrt(rho t log(1 / rtol)) products of A, no linear solve (1177 at 128^3 to t = 10
for the rotating double well, docs/scale.md). The products run on A stored by its diagonals
(a structured-grid stencil: 7 in 3-D, 11 with constant cross diffusion; both unrolled) in one fused
Numba loop that also accumulates the output times and N_k.
"""

from __future__ import annotations

import numba
import numpy as np
import scipy.sparse as sparse
from scipy.special import ive

from .chebyshev_exponential import chebyshev_degree, symmetrized_radius

__all__ = ["bounded_chebyshev_expm_multiply", "BoundedChebyshevResult", "bessel_integrals", "MAX_GROWTH"]

#: A segment is cut when ||T_k(B) v||_1 exceeds this multiple of ||v||_1, or the larger multiple
#: rtol / (2 eps k) that keeps the round-off of the recurrence, about eps k max_j N_j, below half
#: the segment's share of rtol (at rtol = 1e-8 and degree 1200: 1.9e4). At rtol = 1e-10 this floor
#: decides: the round-off then stays below 2e-16 * 2000 * 1e3 = 4e-10 ||v||_1 (measured growth:
#: 1e2 at 48^3 to t = 10 for the rotating double well).
MAX_GROWTH = 1e3

#: Largest l1 growth e^{mu t} of exp(tA) (negative off-diagonal rates) under which the bound is kept
#: (it is multiplied by it); beyond, the operator is refused.
MAX_AMPLIFICATION = 2.0

#: Segments are refused shorter than this many multiples of 2 / rho (about ten forward-Euler
#: steps): a polynomial of degree ~ 10 per segment is explicit time stepping, not an exponential.
MIN_SEGMENT_Z = 5.0

#: Where a segment may stop, as fractions of its length, when ||T_k(B) v|| grows too much before
#: its end converges: the products spent are kept instead of repeated over a shorter segment. On a
#: chain whose grid-scale modes carry small imaginary parts near the left end of the interval the
#: growth sets in late (past degree ~1000 at 128^3) and the 3/4 point has converged by then.
CHECKPOINTS = np.array([0.5, 0.75])
#: Largest number of distinct diagonals for the banded product (a 3-D stencil has 7, with cross
#: diffusion 19 to 27, plus the wraps of periodic axes); beyond it the CSR rows are used.
MAX_DIAGONALS = 40


class BoundedChebyshevResult:
    """exp(t A) v at the requested times (``y``, shape (len(times), n)) with its l1 error ``bound``
    at each time (relative to ||v||_1, truncation in exact arithmetic plus the round-off estimate
    eps m max N_k), the number of ``products`` of A, the interval radius ``rho``, the ``segments``
    the time axis was split into, and the largest ``growth`` max_k ||T_k(B) w||_1 / ||w||_1."""

    def __init__(self, y, bound, products, rho, segments, growth):
        self.y, self.bound, self.products, self.rho = y, bound, products, rho
        self.segments, self.growth = segments, growth

    def __repr__(self) -> str:
        return (
            f"BoundedChebyshevResult(products={self.products}, segments={self.segments}, rho={self.rho:.4g}, "
            f"bound={np.max(self.bound, initial=0.0):.2g}, growth={self.growth:.3g})"
        )


def bessel_integrals(z: float, top: int) -> np.ndarray:
    """J_k(z) = int_0^z e^{-u} I_k(u) du for k = 0 .. top (non-negative, decreasing in k).

    From d/du (e^{-u} I_k) = e^{-u} ((I_{k-1} + I_{k+1}) / 2 - I_k): for k >= 1,
    J_{k-1} = 2 (J_k + e^{-z} I_k(z)) - J_{k+1}, run downwards from a degree where J is below
    1e-300 of J_0 (errors then grow at most linearly, the homogeneous solutions being 1 and k),
    and J_0 = z e^{-z} (I_0(z) + I_1(z)) in closed form, used as a check of the recurrence.
    """
    if z <= 0:
        return np.zeros(top + 1)
    # e^{-u} I_k(u) <= e^{-k^2 / 2u}-ish: far below 1e-300 of the peak beyond sqrt(2 z 700) + k
    start = int(max(top, np.ceil(np.sqrt(2.0 * z * 700.0)) + 60)) + 2
    values = ive(np.arange(start + 1), z)
    integrals = np.zeros(start + 2)
    for k in range(start, 0, -1):
        integrals[k - 1] = 2.0 * (integrals[k] + values[k]) - integrals[k + 1]
    exact = z * (values[0] + values[1])
    if not np.isclose(integrals[0], exact, rtol=1e-9, atol=0.0):  # pragma: no cover - guards the recurrence
        raise RuntimeError(f"bessel_integrals: recurrence lost accuracy at z = {z:g}")
    return np.maximum(integrals[: top + 1], 0.0)


def bounded_chebyshev_expm_multiply(A, v, times, *, rtol: float = 1e-10, rho: float | None = None):
    """exp(t A) v for each t in ``times`` (non-negative, any order), A = Q^T for a generator Q, with
    the l1 error at most ``rtol ||v||_1`` at every time (module docstring).

    Parameters
    ----------
    A : sparse matrix (n, n)
        The forward operator (non-negative off-diagonal entries, column sums <= 0).
    v : array (n,)
    times : array of float
    rtol : float
        Bound on ||error||_1 / ||v||_1 at every output time (truncation; the round-off estimate is
        added to the reported ``bound``).
    rho : float, optional
        Length of the interval [-rho, 0] of the series (default: Gershgorin's bound on the
        symmetrized operator, :func:`fpsolve.chebyshev_exponential.symmetrized_radius`, widened
        to the Gershgorin disc of A's columns if ||T_k(B) v|| grows too fast on the first
        segment). Any value gives a valid bound; one too long costs products, one too short
        (modes to the left of -rho, where T_k grows geometrically) short segments or a refusal.

    Returns
    -------
    BoundedChebyshevResult

    Raises
    ------
    ValueError
        Negative or non-finite times, rtol outside (0, 1).
    RuntimeError
        When ||T_k(B) v|| grows so fast (a strongly non-normal operator: drift far stronger than
        diffusion on the cell scale) that segments shorter than ``MIN_SEGMENT_Z * 2 / rho`` would be
        needed; the message names the integrators that handle it.
    """
    times = np.asarray(times, dtype=float).ravel()
    if np.any(times < 0) or not np.all(np.isfinite(times)):
        raise ValueError("times: expected non-negative finite times")
    if not 0 < rtol < 1:
        raise ValueError(f"rtol: expected 0 < rtol < 1, got {rtol!r}")
    A = sparse.csr_array(A, dtype=float)
    v = np.asarray(v, dtype=float)
    y = np.empty((times.size, v.size))
    y[times == 0] = v
    mass = float(np.abs(v).sum())
    radii = [float(rho)] if rho is not None else [symmetrized_radius(A), _disc_radius(A)]
    if times.max(initial=0.0) == 0 or mass == 0 or radii[0] <= 0:
        y[times > 0] = v  # A = 0, or v = 0
        return BoundedChebyshevResult(y, np.zeros(times.size), 0, radii[0], 0, 1.0)
    order = np.argsort(times)
    order = order[times[order] > 0]
    span = float(times[order[-1]])
    # exp(sA) grows in l1 by at most e^{mu s} (mu = 0 for a generator; round-off-sized negative
    # rates of cross-diffusion stencils give mu ~ 1e-14): the segments' bounds are scaled by it
    amplification = float(np.exp(_l1_log_norm(A) * span))
    if amplification > MAX_AMPLIFICATION:
        raise RuntimeError(
            f"exponential: the operator has negative off-diagonal rates (not a Markov chain): exp(tA) may "
            f"grow by {amplification:.3g} in l1 by t = {span:g}, so the residual bound is void; integrate by "
            "implicit time steps instead (evolve(..., method='trbdf2'))"
        )
    step = _Product(A)
    rho = radii.pop(0)
    start, state, spent, products, segments, growth, length = 0.0, v, 0.0, 0, 0, 1.0, span
    proven = 0.0  # the longest segment that has converged
    bound = np.zeros(times.size)
    while order.size:
        end = min(span, start + length)
        inside = order[times[order] <= end * (1 + 1e-14)]
        # the segment's output times, then the checkpoints it may stop at (unless a segment as long
        # has already converged), then its end: each checkpoint and the end with the share of rtol
        # of its own length (the outputs with the whole segment's, which stays within rtol at every
        # time: spent + share <= rtol)
        stops = start + CHECKPOINTS * (end - start) if end - start > proven * (1 + 1e-12) else np.zeros(0)
        ends = np.concatenate([times[inside], stops, [end]]) - start
        budgets = rtol * mass * ends / span / amplification
        budgets[: inside.size] = budgets[-1]
        outcome = _segment(step, state, ends, rho, budgets, first_stop=inside.size)
        products += outcome.products
        if outcome.values is None:  # ||T_k v|| grew too much before any checkpoint was reached
            if radii and segments == 0:  # a wider interval once, then shorter segments
                rho = radii.pop(0)
                continue
            length = _shorter(length, rho, outcome.rate, budgets[-1] / float(np.abs(state).sum()), outcome.allowed)
            if rho * length / 2.0 < MIN_SEGMENT_Z:
                _refuse(rho, start, span)
            continue
        reached = start + outcome.reached
        done = inside[: outcome.values.shape[0] - 1]  # the outputs up to the time reached
        if outcome.stopped:  # at a checkpoint: its length for the next segments
            length = outcome.reached
            if rho * length / 2.0 < MIN_SEGMENT_Z:
                _refuse(rho, reached, span)
        segments, growth, proven = segments + 1, max(growth, outcome.growth), max(proven, outcome.reached)
        y[done] = outcome.values[: done.size]
        bound[done] = (spent + outcome.errors[: done.size]) * amplification / mass
        spent += outcome.errors[-1]
        start, state, order = reached, outcome.values[-1], order[done.size :]
    return BoundedChebyshevResult(y, bound, products, rho, segments, growth)


def _disc_radius(A) -> float:
    """max_j (|A_jj| + sum_i |A_ij|): Gershgorin's discs by columns contain the spectrum of A (for a
    generator, the disc |lambda + a| <= a, a = max |A_jj|)."""
    column = np.asarray(abs(A).sum(axis=0)).ravel()
    return float(np.max(column, initial=0.0))


def _l1_log_norm(A) -> float:
    """mu_1(A) = max_j (A_jj + sum_{i != j} |A_ij|) = max_j 2 sum_i max(-A_ij, 0) + (column sum):
    ||exp(sA)||_1 <= e^{mu s}; zero for a generator (column sums <= 0, no negative rates)."""
    off = A - sparse.diags_array(A.diagonal())
    column = np.asarray(abs(off).sum(axis=0)).ravel() + A.diagonal()
    return max(float(np.max(column, initial=0.0)), 0.0)


def _shorter(length, rho, rate, relative_budget, allowed):
    """A segment length whose degree keeps ||T_k v|| below the ``allowed`` growth at the growth
    ``rate`` (per degree) just measured: degree ~ sqrt(2 z log(1 / budget)) <= 0.7 log(allowed) /
    rate, and at most half the length that failed."""
    degree = 0.7 * np.log(allowed) / max(rate, 1e-300)
    z = degree**2 / (2.0 * np.log(1.0 / min(relative_budget, 0.5)))
    return min(0.5 * length, 2.0 * z / rho)


class _Outcome:
    """What one segment gave: ``values`` of the outputs up to the time ``reached`` (relative to the
    segment's start), then the value there (the segment's end, or a checkpoint when ``stopped``),
    with their l1 ``errors``; the ``products`` spent and the largest ``growth``. ``values`` is None
    when ||T_k v|| grew too much before any checkpoint was reached: then the growth ``rate`` per
    degree and the growth that was ``allowed`` at that degree."""

    def __init__(
        self, values=None, errors=None, products=0, growth=1.0, rate=0.0, reached=0.0, stopped=False, allowed=MAX_GROWTH
    ):
        self.values, self.errors, self.products, self.growth, self.rate = values, errors, products, growth, rate
        self.reached, self.stopped, self.allowed = reached, stopped, allowed


def _segment(step, v, ends, rho, budgets, first_stop) -> _Outcome:
    """One polynomial from v to the times ``ends`` (relative; the outputs, increasing, then from
    index ``first_stop`` the checkpoints and the segment's end, increasing), each to its l1
    truncation bound ``budgets`` (plus the round-off estimate eps m max N_k). When ||T_k v||
    grows too much, the values up to the last checkpoint already reached are returned."""
    norm_v = float(np.abs(v).sum())
    z = rho * ends / 2.0
    if norm_v == 0:
        keep = first_stop + 1
        return _Outcome(np.zeros((keep, v.size)), np.zeros(keep), reached=float(ends[-1]))
    guess = chebyshev_degree(float(z[-1]), budgets[-1] / norm_v)[0]
    top = 2 * guess + 100  # the tail decays like e^{-k^2 / 2z}: far past any useful degree
    coefficients = 2.0 * ive(np.arange(top + 2)[None, :], z[:, None])
    coefficients[:, 0] /= 2.0
    integrals = np.array([bessel_integrals(float(s), top + 1) for s in z])
    norms = np.empty(top + 2)
    norms[0] = norm_v
    y = np.zeros((ends.size, v.size))
    active = np.ones(ends.size, dtype=bool)
    errors = np.zeros(ends.size)
    # T_{k-1} and T_{k-2} in zero-padded buffers: the stencil reads beyond the ends without tests
    pad, n = step.pad, v.size
    current, previous = np.zeros(n + 2 * pad), np.zeros(n + 2 * pad)
    current[pad : pad + n] = v
    # ||T_k v|| allowed at degree k: MAX_GROWTH, or round-off eps k N_k up to half the budget
    floor, roundoff = MAX_GROWTH * norm_v, 0.5 * budgets[-1] / np.finfo(float).eps
    for k in range(1, top + 2):
        # T_k = 2 B T_{k-1} - T_{k-2} (T_1 = B T_0), B = I + (2 / rho) A, written over T_{k-2},
        # with c_{k-1} T_{k-1} added to y on the way
        half = 0.5 if k == 1 else 1.0
        norms[k] = step(2.0 / rho, current, previous[pad : pad + n], half, coefficients[:, k - 1] * active, y)
        previous, current = current, previous
        if not norms[k] <= max(floor, roundoff / k):  # (or not finite)
            return _stopped(y, errors, active, ends, first_stop, k, norms, norm_v, max(floor, roundoff / k) / norm_v)
        # truncation after degree m = k - 1: N_m J_{m+1} + N_{m+1} J_m
        truncation = norms[k - 1] * integrals[:, k] + norms[k] * integrals[:, k - 1]
        done = active & (truncation <= budgets)
        errors[done] = truncation[done] + np.finfo(float).eps * k * norms[: k + 1].max()
        active &= ~done
        if not active.any():
            keep = np.append(np.arange(first_stop), ends.size - 1)
            return _Outcome(y[keep], errors[keep], k, float(norms[: k + 1].max() / norm_v), reached=float(ends[-1]))
    return _stopped(y, errors, active, ends, first_stop, top + 1, norms, norm_v, MAX_GROWTH)


def _stopped(y, errors, active, ends, first_stop, k, norms, norm_v, allowed) -> _Outcome:
    """The outcome of a segment cut short at degree k: the outputs up to the last checkpoint whose
    truncation was within its budget, and that checkpoint (the earlier outputs, shorter and with
    larger budgets, are then done too), else none, with the growth rate per degree."""
    reached = np.flatnonzero(~active[first_stop:-1])
    largest = float(np.max(np.minimum(norms[: k + 1], 1e300)))
    if reached.size == 0:
        return _Outcome(products=k, rate=float(np.log(largest / norm_v)) / k, allowed=allowed)
    last = first_stop + int(reached[-1])
    keep = np.append(np.flatnonzero(ends[:first_stop] <= ends[last]), last)
    if active[keep].any():  # pragma: no cover - guards the argument above
        raise RuntimeError("exponential: a checkpoint converged before an earlier output time")
    return _Outcome(y[keep], errors[keep], k, largest / norm_v, reached=float(ends[last]), stopped=True)


def _refuse(rho, start, span):
    raise RuntimeError(
        f"exponential: the Chebyshev series of exp(tA) grows too fast on this non-reversible chain (from "
        f"t = {start:.3g} of {span:.3g}, segments shorter than {2 * MIN_SEGMENT_Z / rho:.2g} would be needed: "
        "drift far stronger than diffusion on the cell scale); integrate by implicit time steps instead "
        "(evolve(..., method='trbdf2')), or refine the grid"
    )


class _Product:
    """step(scale, current, previous, half, c, y) -> ||out||_1: out = half (2 (I + scale M) u -
    previous) written over ``previous``, y[r] += c[r] u, for u = current[pad : pad + n] (``current``
    zero-padded by ``pad`` on both sides). M is stored by its diagonals, row-interleaved (stencil[i, s] =
    M[i, i + offsets[s]]: one stream of 7 numbers per cell in 3-D, no column indices), when it
    has at most MAX_DIAGONALS of them (structured grids), else by its CSR rows."""

    def __init__(self, M):
        n = M.shape[0]
        rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(M.indptr))
        shift = M.indices.astype(np.int64) - rows
        offsets, which = np.unique(shift, return_inverse=True)
        self.banded = offsets.size <= MAX_DIAGONALS
        if self.banded:
            self.offsets = offsets
            self.stencil = np.zeros((n, offsets.size))
            self.stencil[rows, which.ravel()] = M.data
            self.pad = int(np.abs(offsets).max(initial=0))
        else:
            self.matrix, self.pad = M, 0

    def __call__(self, scale, current, previous, half, c, y):
        args = (scale, half, current, self.pad, previous, c, y)
        if not self.banded:
            M = self.matrix
            return _csr_chebyshev_step(M.indptr, M.indices, M.data, *args)
        if self.offsets.size == 7:
            return _seven_point_chebyshev_step(self.offsets, self.stencil, *args)
        if self.offsets.size == 11:
            return _eleven_point_chebyshev_step(self.offsets, self.stencil, *args)
        return _stencil_chebyshev_step(self.offsets, self.stencil, *args)


@numba.njit(cache=True)
def _stencil_chebyshev_step(offsets, stencil, scale, half, padded, pad, previous, c, y):
    """The step of :class:`_Product` on the row-interleaved diagonals."""
    norm = 0.0
    for i in range(previous.size):
        j = pad + i
        total = 0.0
        for s in range(offsets.size):
            total += stencil[i, s] * padded[j + offsets[s]]
        value = half * (2.0 * (padded[j] + scale * total) - previous[i])
        for r in range(c.size):
            if c[r] != 0.0:
                y[r, i] += c[r] * padded[j]
        previous[i] = value
        norm += abs(value)
    return norm


#: Cells per block of the parallel steps: each block's l1 norm is summed on its own, then the
#: blocks in order, so the norm (and the degrees it decides) does not depend on the thread count.
BLOCK = 8192


@numba.njit(cache=True, parallel=True)
def _seven_point_chebyshev_step(offsets, stencil, scale, half, padded, pad, previous, c, y):
    """:func:`_stencil_chebyshev_step` unrolled for the 7-point stencil of 3-D grids, over blocks of
    cells in parallel threads (benchmarks/bench_chebyshev_kernels.py)."""
    o0, o1, o2, o3, o4, o5, o6 = offsets[0], offsets[1], offsets[2], offsets[3], offsets[4], offsets[5], offsets[6]
    n = previous.size
    blocks = (n + BLOCK - 1) // BLOCK
    partial = np.zeros(blocks)
    for b in numba.prange(blocks):
        norm = 0.0
        for i in range(b * BLOCK, min(n, (b + 1) * BLOCK)):
            j = pad + i
            total = (
                stencil[i, 0] * padded[j + o0]
                + stencil[i, 1] * padded[j + o1]
                + stencil[i, 2] * padded[j + o2]
                + stencil[i, 3] * padded[j + o3]
                + stencil[i, 4] * padded[j + o4]
                + stencil[i, 5] * padded[j + o5]
                + stencil[i, 6] * padded[j + o6]
            )
            value = half * (2.0 * (padded[j] + scale * total) - previous[i])
            for r in range(c.size):
                if c[r] != 0.0:
                    y[r, i] += c[r] * padded[j]
            previous[i] = value
            norm += abs(value)
        partial[b] = norm
    return _ordered_sum(partial)


@numba.njit(cache=True, parallel=True)
def _eleven_point_chebyshev_step(offsets, stencil, scale, half, padded, pad, previous, c, y):
    """:func:`_seven_point_chebyshev_step` for 11 diagonals: the 3-D stencil with one pair of
    cross-diffusion links per cell face pair (constant cross diffusion on the lattice directions,
    bench_forward_3d.py "nonreversible")."""
    o0, o1, o2, o3, o4, o5 = offsets[0], offsets[1], offsets[2], offsets[3], offsets[4], offsets[5]
    o6, o7, o8, o9, o10 = offsets[6], offsets[7], offsets[8], offsets[9], offsets[10]
    n = previous.size
    blocks = (n + BLOCK - 1) // BLOCK
    partial = np.zeros(blocks)
    for b in numba.prange(blocks):
        norm = 0.0
        for i in range(b * BLOCK, min(n, (b + 1) * BLOCK)):
            j = pad + i
            total = (
                stencil[i, 0] * padded[j + o0]
                + stencil[i, 1] * padded[j + o1]
                + stencil[i, 2] * padded[j + o2]
                + stencil[i, 3] * padded[j + o3]
                + stencil[i, 4] * padded[j + o4]
                + stencil[i, 5] * padded[j + o5]
                + stencil[i, 6] * padded[j + o6]
                + stencil[i, 7] * padded[j + o7]
                + stencil[i, 8] * padded[j + o8]
                + stencil[i, 9] * padded[j + o9]
                + stencil[i, 10] * padded[j + o10]
            )
            value = half * (2.0 * (padded[j] + scale * total) - previous[i])
            for r in range(c.size):
                if c[r] != 0.0:
                    y[r, i] += c[r] * padded[j]
            previous[i] = value
            norm += abs(value)
        partial[b] = norm
    return _ordered_sum(partial)


@numba.njit(cache=True)
def _ordered_sum(partial):
    total = 0.0
    for b in range(partial.size):
        total += partial[b]
    return total


@numba.njit(cache=True)
def _csr_chebyshev_step(indptr, indices, data, scale, half, current, pad, previous, c, y):
    """The step of :class:`_Product` on the CSR rows of M (``pad`` = 0: ``current`` unpadded)."""
    norm = 0.0
    for i in range(previous.size):
        total = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            total += data[p] * current[indices[p]]
        value = half * (2.0 * (current[i] + scale * total) - previous[i])
        for r in range(c.size):
            if c[r] != 0.0:
                y[r, i] += c[r] * current[i]
        previous[i] = value
        norm += abs(value)
    return norm
