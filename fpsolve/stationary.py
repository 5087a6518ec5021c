"""The stationary law of a generator Q: Qᵀπ = 0, π ≥ 0, Σπ = 1, checked before it is returned.

Reversible chains get π exactly from detailed balance (log space, along spanning trees). Other
Markov chains get it by GTH elimination on Q's band (:mod:`fpsolve.gth`), which has no
subtraction and is therefore accurate entry by entry however metastable the chain; chains whose
band is too wide for it (3-D grids) by sparse LU with iterative refinement, or beyond 1e5 states by
AMG-preconditioned GMRES with one state removed (judged by :func:`iterative_balance_errors`); large
matrix-free operators by preconditioned GMRES. Every law passes an a-posteriori balance check
(:mod:`fpsolve.balance`) before it is returned, or the call is refused with a ValueError.
"""

import functools

import numpy as np
import scipy.sparse as sparse
from scipy.sparse import csgraph

from ._warnings import warn as _warn
from .balance import JUDGED_MASS, _cut_error, balance_errors
from .factorizations import sparse_lu
from .gth import axis_orderings, band_ordering, bandwidth_of, gth_banded
from .linalg import as_generator, killing_rates, log_detailed_balance
from .operators import MatrixFree, is_matrix_free
from .solvers import NONSYMMETRIC_LU_SIZE, factorize, krylov_solver, nested_dissection
from .stationary_iterative import (
    ITERATIVE,
    ITERATIVE_CELL_RTOL,
    ITERATIVE_CUT_RTOL,
    closed_classes,
    iterative_balance_errors,
)
from .stationary_iterative import iterative_law as _iterative_law
from .iterative import direct_fits, direct_size_advice


__all__ = ["stationary_distribution", "BALANCE_RTOL", "GTH_MAX_WORK", "GTH_MAX_BYTES", "iterative_balance_errors"]

#: A returned law balances every cell and every cut of the band ordering to this relative error
#: (:func:`fpsolve.balance.balance_errors`). Exact laws computed in double precision reach 1e-14
#: (measured: GTH and detailed balance on the chains of tests/test_stationary.py); wrong shares of
#: mass between metastable wells show errors of 1e-5 to 1 across the cut through the barrier.
BALANCE_RTOL = 1e-10

#: GTH elimination is used when its multiply-adds (n·bandwidth²) and its band storage
#: (8·n·(2·bandwidth + 1) bytes) stay below these: 1e10 takes about 10 s on one core.
GTH_MAX_WORK = 1e10
GTH_MAX_BYTES = 2e9

#: Below this work GTH goes before sparse LU; above it (a dense 1-D nonlocal chain of 2000 states
#: is 8e9) LU with refinement is tried first and GTH only if LU's law fails the check.
GTH_FIRST_WORK = 2e9

#: Negative off-diagonal entries no larger than this fraction of their row's |Q_ii| are round-off
#: of zero rates (limited cross-diffusion fluxes leave some of ~1e-14); they are set to zero.
ROUNDOFF_RATE = 1e-12

#: Normwise backward error |Qᵀπ| / (2 max|Q_ii| max π) required of matrix-free laws (GMRES is
#: driven to 1e-11, fpsolve.solvers.KRYLOV_RTOL); their products carry normwise round-off only.
MATRIX_FREE_RTOL = 1e-9

#: Laws of conservative operators that are not Markov generators (the kinetic scheme's
#: second-order transport) come from an LU solve, whose residual is small normwise: about eps
#: times the flows of the heaviest cells at every cell. Relative to a cell's own flows that is
#: eps / (π_i / max π), so cells (and cuts) carrying less than this fraction of the largest
#: mass (gross flow) are not judged one by one: at 1e-5 the attainable relative residual is
#: ~1e-11, ten times below BALANCE_RTOL. (At 1e-8 the check refused correct kinetic laws at
#: random resolutions: cells 1.6e-7 on a 160² quartic, where the velocity-box tails hold
#: 1e-20 of the peak.) The law is judged with its signed values; its negative part is at the
#: level of the discretization error (-1.5e-8 of the peak on a 320² Maxwell-Boltzmann problem).
#: Cuts are judged normwise for the same reason (:func:`fpsolve.balance._cut_error`).
NON_MARKOV_JUDGED = 1e-5

#: A pinned state carrying less than this fraction of the largest stationary mass is re-pinned at
#: the heaviest state of that first law, for Markov chains. The pinned equation is the one left
#: out, so its cell absorbs the solve's residual, ~eps times the largest flows: relative to a
#: light cell's own flows that fails the balance check, which judges every cell of a Markov
#: chain. Elsewhere the pinned solve is as accurate whatever the pin (the LU's backward error is
#: a perturbation of Q, not of the pin): see :func:`_conservative_law`.
HEAVY_ENOUGH = 1e-3

#: Iterative refinement of a pinned LU law stops once a step changes the normalised law by less
#: than this fraction of its largest entry. Past the first step the refined laws wander at the
#: LU's round-off, 1e2-1e3 eps normwise, without converging (measured on the 2-D kinetic double
#: well at 256^2 and 512^2); a step that moves the law by more is still correcting something.
REFINEMENT_SETTLED = 1e-12

#: Iterative refinement is not started when the first solve's componentwise backward error
#: |r_i| / (|M| |π| + |b|)_i is below this on every cell the balance check judges: fixed-precision
#: refinement cannot lower it further (Skeel 1980: one step reaches O(eps) componentwise when
#: the LU is stable). Measured on the pinned 512^2 kinetic double well: 5.3e-16 before a step,
#: 2.1e-16 after it, and the two laws differ by 1.0e-13 of the peak, as much as either differs
#: from SuperLU with partial pivoting and COLAMD (2.9e-13, 1.9e-13); against dense solves with
#: long-double residuals (40x32, 48x48 at T = 0.1, 64x64) the step changed the error on the
#: cells above 1e-5 of the peak from 2e-11, 1.2e-11, 6.7e-12 to 3.6e-12, 8.2e-13, 1.5e-10
#: (tests/test_stationary_lu.py): no systematic gain. 1e-14 is 45 eps.
REFINEMENT_NEEDLESS = 1e-14

#: The negative part of such a law is set to zero; when its mass exceeds this fraction of the
#: total, a warning says so (the law is then off by at least that much in L1: refine the grid).
NEGATIVE_MASS_WARNING = 1e-3


def stationary_distribution(Q) -> np.ndarray:
    """The stationary law π of the generator Q: Qᵀπ = 0, π ≥ 0, Σπ = 1.

    Methods, in order, the first whose answer passes the check being returned:

    1. detailed balance (reversible chains: the fitted finite-volume scheme with gradient drift
       and no cross diffusion): π_j/π_i = Q_ij/Q_ji along a spanning tree, in log space, O(N);
    2. GTH elimination (Markov chains whose band, after reordering, costs at most
       :data:`GTH_MAX_WORK` and :data:`GTH_MAX_BYTES`): no subtraction, each π_i with a small
       relative error at any barrier height, non-reversible chains included;
    3. sparse LU of Qᵀ with one equation replaced by π_j = 1, and iterative refinement (before
       GTH when GTH would cost more than :data:`GTH_FIRST_WORK`); before it, for chains with at
       least :data:`ITERATIVE_MIN_STATES` states and a band wider than ITERATIVE_BAND √n (3-D
       grids), GMRES with an AMG preconditioner on the system with one state removed
       (:func:`_iterative_law`), judged by :func:`iterative_balance_errors` (cells with at least
       ITERATIVE_JUDGED of the peak mass, cuts normwise).

    The check: balance of the probability flows π_i Q_ij at every cell carrying at least 1e-200
    of the largest mass, and across each cut {first k states} of the given order and, for a 2-D
    grid recognised from Q's offsets, of the transposed order (slabs across either axis, computed
    from the crossing links only), both to :data:`BALANCE_RTOL` relative to the gross flows. The cuts
    catch a wrong share of mass between metastable wells, which leaves every single cell balanced
    to round-off. Matrix-free operators (more than ``linalg.DENSE_MAX`` states) are solved by
    preconditioned GMRES and checked by their normwise residual (:data:`MATRIX_FREE_RTOL`).

    Parameters
    ----------
    Q : sparse matrix, shape (N, N), or MatrixFree
        Generator of an irreducible closed chain (rows sum to 0).

    Returns
    -------
    np.ndarray
        π, shape (N,), non-negative, summing to 1.

    Raises
    ------
    ValueError
        If some rows of Q sum to a negative number (killing: no stationary law exists), the chain
        is reducible, or no method meets the check (the message gives the errors reached and
        what would help).
    """
    large_jumps = (
        is_matrix_free(Q) and Q.killing is not None and Q.preconditioner is None and Q.shape[0] > REMOVAL_MIN_STATES
    )
    if not large_jumps:  # (densifying a large jump generator would cost O(n^3))
        Q = as_generator(Q)
    killing = killing_rates(Q)
    if np.any(killing > 0):
        raise ValueError(
            f"Q: {int(np.sum(killing > 0))} rows have negative sums (mass is "
            "killed at absorbing cells), so there is no stationary distribution"
        )
    n = Q.shape[0]
    if n == 1:
        return np.ones(1)
    if is_matrix_free(Q):
        return _stationary_matrix_free(Q)
    rates = markov_rates(Q)
    if rates is None:
        return _conservative_law(Q)
    if n < ITERATIVE_MIN_STATES:  # (larger chains: the iterative law counts them itself)
        _require_one_closed_class(rates)
    chain = rates
    slabs = axis_orderings(Q)  # cuts across each axis of a 2-D grid
    band = functools.cache(lambda: band_ordering(Q))  # (order, bandwidth), only when needed
    tried = []
    for method, solve in _methods(chain, rates is not None, band):
        pi = solve()
        if pi is not None:
            if method == ITERATIVE:
                error = iterative_balance_errors(chain, pi, slabs)
                passed = error.cells <= ITERATIVE_CELL_RTOL and error.cuts <= ITERATIVE_CUT_RTOL
            else:
                error = balance_errors(chain, pi, slabs)
                passed = error.worst <= BALANCE_RTOL
            if passed:
                return pi / pi.sum()
            tried.append(f"{method}: {error!r}")
        if method == ITERATIVE and not direct_fits(n):
            # the next methods factor the whole chain: refuse now rather than run out of memory
            what = f" ({tried[-1]})" if tried else " (the solve stalled or the chain is reducible)"
            raise ValueError(
                f"Q: the iterative stationary law of this {n}-state chain was refused{what}, and no "
                f"direct method fits: {direct_size_advice(n)}"
            )
    raise ValueError(_refusal(tried, n, band()[1], rates is not None, Q))


def _require_one_closed_class(rates) -> None:
    """ValueError unless the chain has exactly one closed class: with several, every mixture of
    their laws balances, and GTH or LU would return one of them (all mass in one class) as if it
    were the law. Transient states are allowed (they get zero mass)."""
    classes = closed_classes(rates)
    if classes > 1:
        raise ValueError(
            f"Q: the chain is reducible: {classes} closed classes (sets of states no positive rate "
            "leaves), so its stationary law is not unique; on a grid this means rates that vanish or "
            "underflow cut it in parts (a barrier far above the noise, or zero diffusion across a "
            "plane): solve each part on its own, or raise the noise"
        )


#: Markov chains with at least this many states whose band is wider than ITERATIVE_BAND sqrt(n)
#: (3-D grids: n^(2/3)) get their law by :func:`_iterative_law` before sparse LU, whose fill grows
#: as n^(4/3) there (the issue-14 table: 88 s and 3.1 GB for one LU at 64^3 = 2.6e5 cells).
ITERATIVE_MIN_STATES = 100_000
ITERATIVE_BAND = 4.0


def _methods(chain, markov, band):
    """``(name, solve)`` pairs in the order they are tried; ``solve()`` returns π or None.
    ``band()`` gives (order, bandwidth) of the band ordering (computed on first use)."""
    n = chain.shape[0]
    lu = ("sparse LU with iterative refinement", lambda: _refined_lu_law(chain))
    if not markov:
        yield lu
        return
    yield "detailed balance", lambda: _detailed_balance_law(chain)
    # the grid's own (C) order decides: its band is n^(2/3) on a 3-D grid, and the band ordering
    # (2 s at 128^3) is needed only if the iterative law fails
    if n >= ITERATIVE_MIN_STATES and bandwidth_of(chain, np.arange(n)) > ITERATIVE_BAND * np.sqrt(n):
        yield ITERATIVE, lambda: _iterative_law(chain)
    order, bandwidth = band()
    if n * bandwidth**2 > GTH_FIRST_WORK:
        yield lu  # a wide band (dense nonlocal chains): LU is much cheaper, GTH if it fails
    if _gth_affordable(n, bandwidth):
        yield "GTH elimination", lambda: _gth_law(chain, order, bandwidth)
    if n * bandwidth**2 <= GTH_FIRST_WORK:
        yield lu


def markov_rates(Q):
    """Q with its round-off negative rates set to zero (:data:`ROUNDOFF_RATE`), or None if some
    off-diagonal entry is genuinely negative (not a Markov generator)."""
    Q = sparse.csr_array(Q, copy=True)
    rows = np.repeat(np.arange(Q.shape[0]), np.diff(Q.indptr))
    off = rows != Q.indices
    scale = np.abs(Q.diagonal())[rows]
    negative = off & (Q.data < 0)
    if np.any(Q.data[negative] < -ROUNDOFF_RATE * scale[negative]):
        return None
    Q.data[negative] = 0.0
    Q.eliminate_zeros()
    return Q


def _gth_affordable(n, bandwidth) -> bool:
    return n * bandwidth**2 <= GTH_MAX_WORK and 8.0 * n * (2 * bandwidth + 1) <= GTH_MAX_BYTES


def _gth_law(Q, order, bandwidth):
    """GTH on the states listed in ``order``, after removing the states nothing flows into
    (rates that underflowed to zero at the box's corners make a few): their mass is 0, and left
    in they would stop the elimination with a zero pivot. Returns None if the rest is reducible."""
    Q = sparse.csr_array(Q)
    keep = np.ones(Q.shape[0], dtype=bool)
    off = Q - sparse.diags_array(Q.diagonal())
    while True:
        inflow = off.T @ keep.astype(float)
        unreachable = keep & ~(inflow > 0)
        if not unreachable.any():
            break
        keep &= ~unreachable
    order = order[keep[order]]
    sub = Q[order][:, order]
    try:
        law = gth_banded(sub, bandwidth_of(sub, np.arange(len(order))))
    except ValueError:
        return None
    pi = np.zeros(Q.shape[0])
    pi[order] = law
    return pi


def _refined_lu_law(Q, refinements=3, clip=True, heavy_enough=HEAVY_ENOUGH, judged=JUDGED_MASS):
    """Solve Qᵀπ = 0 with the equation of a heavy state j replaced by π_j = 1 (sparse LU), then
    up to ``refinements`` steps of iterative refinement (none when the cells with |π_i| >=
    ``judged`` max|π|, those the balance check judges, are at round-off already); if π_j <
    ``heavy_enough`` max π, j is re-chosen as argmax π and the system solved again (a second
    factorization). Negative entries are set to zero unless ``clip`` is False. Returns None if
    the LU breaks down."""
    # one fill-reducing ordering for both pinned systems (their graphs differ in one row only)
    ordering = nested_dissection(Q) if Q.shape[0] >= NONSYMMETRIC_LU_SIZE else None
    j = _heavy_state(Q)
    pi = _pinned_solve(Q, j, refinements, ordering, judged)
    if pi is not None and pi[j] < heavy_enough * np.max(pi):
        pi = _pinned_solve(Q, int(np.argmax(pi)), refinements, ordering, judged)
    if pi is None:
        return None
    return np.maximum(pi, 0.0) if clip else pi


def _conservative_law(Q):
    """The stationary law of a conservative operator with negative off-diagonal entries (rows
    sum to zero, e.g. the kinetic scheme's second-order transport): sparse LU with refinement,
    judged with the signed law (cells with |π_i| >= NON_MARKOV_JUDGED max π relative to their
    flows, every cut of :func:`_slab_orderings` relative to the largest cut flow, both to
    BALANCE_RTOL); its negative part is then set to zero, with a
    warning when that mass exceeds NEGATIVE_MASS_WARNING."""
    n = Q.shape[0]
    absolute = sparse.csr_array((np.abs(Q.data), Q.indices, Q.indptr), shape=Q.shape)
    if np.any(np.abs(Q @ np.ones(n)) > 1e-12 * (absolute @ np.ones(n))):
        raise ValueError(_refusal(["none: the rows of Q do not sum to zero"], n, 0, False, Q))
    # one factorization: a light pin (the local in/out ratio picks a velocity-box corner on
    # kinetic grids, 1e-15 of the peak at 256^2) is not re-pinned here. Its cell is below
    # NON_MARKOV_JUDGED, and the law is as accurate as with the heaviest pin: measured on the
    # 256^2 double well, the two laws differ by 1.5e-11 (T = 0.25) and 6.6e-11 (T = 0.1) on the
    # judged cells, and at T = 0.05 by 5e-5, as much as the heavy pin's own refinement steps
    # differ there (wells separated by e^-20: the shares are that ill-conditioned whatever the
    # pin; tests/test_stationary.py)
    pi = _refined_lu_law(Q, clip=False, heavy_enough=0.0, judged=NON_MARKOV_JUDGED)
    if pi is None:
        raise ValueError(_refusal([], n, 0, False, Q))
    pi = pi / pi.sum()
    judged = np.abs(pi) >= NON_MARKOV_JUDGED * pi.max()
    residual = np.abs(Q.T @ pi)[judged] / (absolute.T @ np.abs(pi))[judged]
    cells = float(residual.max(initial=0.0))
    # cuts normwise: the net flow of a cut sums the residuals of all cells on one side, up to
    # ~n eps of the largest flows; a wrong share between metastable sets shows as a net flow of
    # the order of the flow across their cut, detected down to BALANCE_RTOL of the largest flow
    cuts = max(_cut_error(Q, pi, order, normwise=True) for order in _slab_orderings(Q))
    if max(cells, cuts) > BALANCE_RTOL:
        raise ValueError(
            _refusal([f"sparse LU with iterative refinement: cells {cells:.2g}, cuts {cuts:.2g}"], n, 0, False, Q)
        )
    negative = float(-pi[pi < 0].sum())
    if negative > NEGATIVE_MASS_WARNING:
        _warn(
            f"stationary: the law of this operator, which is not a Markov generator, has "
            f"negative density carrying {negative:.2g} of the mass (set to zero); the law is off "
            "by at least that much: refine the grid"
        )
    pi = np.maximum(pi, 0.0)
    return pi / pi.sum()


def _slab_orderings(Q) -> list:
    """The given order, and, when the most frequent link length m > 1 divides n, the order of
    the n / m rows of m states transposed: on a 2-D grid with rows of m cells their prefixes are
    slabs across one axis and across the other. Read off Q's links alone (the kinetic operator's
    specular walls and two-cell upwind links hide its row length from
    :func:`fpsolve.gth.axis_orderings`, which reads it off the bandwidth). Any ordering's cuts
    are valid balance conditions; these are the ones a metastable share would fail."""
    n = Q.shape[0]
    natural = np.arange(n)
    rows = np.repeat(natural, np.diff(Q.indptr))
    lengths = np.abs(Q.indices - rows)
    lengths = lengths[lengths > 1]
    if lengths.size == 0:
        return [natural]
    m = int(np.argmax(np.bincount(lengths)))
    if n % m or m >= n:
        return [natural]
    return [natural, natural.reshape(n // m, m).T.ravel()]


def _heavy_state(Q) -> int:
    """A state likely to carry much stationary mass, to pin: the largest ratio of the rates in
    to the rate out."""
    out_rate = -Q.diagonal()
    in_rate = np.asarray(Q.sum(axis=0)).ravel() + out_rate
    return int(np.argmax(in_rate / np.maximum(out_rate, np.finfo(float).tiny)))


def _pinned_solve(Q, j, refinements, ordering=None, judged=0.0):
    """Qᵀπ = 0 with equation j replaced by π_j = 1, by sparse LU (in ``ordering`` when given),
    and up to ``refinements`` steps of iterative refinement, stopped once a step changes the
    normalised law by less than :data:`REFINEMENT_SETTLED` of its largest entry, or before a
    step when the componentwise backward error of the cells with |π_i| >= ``judged`` max|π| is
    already at :data:`REFINEMENT_NEEDLESS` (refinement in working precision cannot lower it)."""
    n = Q.shape[0]
    M = _pinned_transpose(Q, j)
    absolute = sparse.csc_array((np.abs(M.data), M.indices, M.indptr), shape=M.shape)
    rhs = np.zeros(n)
    rhs[j] = 1.0
    try:
        with np.errstate(all="ignore"):
            if ordering is not None:  # large: the dissected LU, without factorize's band test
                solve = sparse_lu(M, ordering)
            else:
                solve = factorize(M, method="direct")
            pi = solve(rhs)
            for _ in range(refinements):
                residual = rhs - M @ pi
                weights = np.abs(pi)
                cells = weights >= judged * weights.max()
                backward = np.abs(residual[cells]) / (absolute @ weights + np.abs(rhs))[cells]
                if backward.max(initial=0.0) <= REFINEMENT_NEEDLESS:
                    break
                before = pi / pi.sum()
                pi = pi + solve(residual)
                after = pi / pi.sum()
                if np.max(np.abs(after - before)) <= REFINEMENT_SETTLED * np.max(np.abs(after)):
                    break
    except (RuntimeError, ValueError):  # singular: reducible, reported by the refusal
        return None
    return pi if np.all(np.isfinite(pi)) else None


def _pinned_transpose(Q, j):
    """Qᵀ with its equation j replaced by π_j = 1, as CSC: the CSR arrays of Q read as the
    columns of Qᵀ, row j of Qᵀ (the entries of column j of Q) zeroed but for a 1 on the diagonal."""
    Q = sparse.csr_array(Q)
    data = Q.data.copy()
    in_row_j = Q.indices == j
    data[in_row_j] = 0.0
    diagonal = np.flatnonzero(in_row_j[Q.indptr[j] : Q.indptr[j + 1]])
    M = sparse.csc_array((data, Q.indices.copy(), Q.indptr.copy()), shape=Q.shape)
    if diagonal.size:
        M.data[Q.indptr[j] + diagonal[0]] = 1.0
    else:  # no stored diagonal entry
        M = sparse.csc_array(M + sparse.csc_array(([1.0], ([j], [j])), shape=M.shape))
    M.eliminate_zeros()
    return M


def _detailed_balance_law(Q, rtol=1e-8):
    """The stationary law of a reversible closed chain, or None if Q is not reversible."""
    log_mu = log_detailed_balance(Q, rtol)
    if log_mu is None or len(np.unique(csgraph.connected_components(Q, directed=False)[1])) > 1:
        return None
    mu = np.exp(log_mu)
    return mu / mu.sum()


def _refusal(tried, n, bandwidth, markov, Q) -> str:
    """The error message when no method met the check: what was reached, and what would help."""
    reached = "; ".join(tried) if tried else "no method produced a finite law"
    head = (
        f"Q: no stationary law of this {n}-state chain meets the balance check "
        f"(relative error {BALANCE_RTOL:g} on every cell and every cut of the band ordering); "
        f"reached {reached}. "
    )
    if not markov:
        worst = float(
            np.min(Q.data[sparse.csr_array(Q).indices != np.repeat(np.arange(n), np.diff(Q.indptr))], initial=0.0)
        )
        return head + (
            f"Q has negative off-diagonal rates (down to {worst:.3g}), so it is not a "
            "Markov generator and the cancellation-free GTH elimination does not apply; "
            "a discretization that keeps the rates non-negative (an M-matrix) makes it "
            "applicable"
        )
    if not _gth_affordable(n, bandwidth):
        return head + (
            f"GTH elimination, which is accurate for metastable chains, was not tried: "
            f"its band half-width {bandwidth} needs {n * bandwidth**2:.2g} multiply-adds "
            f"and {8.0 * n * (2 * bandwidth + 1) / 1e9:.2g} GB (limits "
            f"fpsolve.stationary.GTH_MAX_WORK = {GTH_MAX_WORK:g}, GTH_MAX_BYTES = "
            f"{GTH_MAX_BYTES:g}); fewer cells across the grid's shortest axis narrow the "
            "band, or raise those limits"
        )
    return head + (
        "GTH elimination did not balance either, so the chain is probably reducible "
        "(several closed classes, or rates that underflowed to zero cut it in parts): "
        "check the boundary conditions, or raise the noise so that every cell is "
        "reachable"
    )


def _stationary_matrix_free(Q: MatrixFree) -> np.ndarray:
    """Q^T pi = 0, sum pi = 1 for a large matrix-free Q: the equation of the state with the
    largest diagonal-normalised inflow replaced by pi_j = 1, solved by preconditioned GMRES, and
    refused unless |Q^T pi| <= MATRIX_FREE_RTOL * 2 max|Q_ii| max pi."""
    n = Q.shape[0]
    j = int(np.argmin(Q.diagonal()))  # any state with mass works; the fastest is well connected
    e = np.zeros(n)
    e[j] = 1.0
    if Q.killing is not None and Q.preconditioner is None:
        # remove the slowest state: where the drift vanishes, the bottom of a well carries mass
        pi = _stationary_by_removal(Q, int(np.argmax(Q.diagonal())))
        if pi is not None and _matrix_free_residual(Q, pi) > MATRIX_FREE_RTOL:
            # the removed state should carry mass (x = pi / pi_j spans fewer decades): again
            # from the state this first law puts the most mass on
            pi = _stationary_by_removal(Q, int(np.argmax(pi)))
        if pi is not None and _matrix_free_residual(Q, pi) <= MATRIX_FREE_RTOL:
            return pi / pi.sum()

    def pinned(x, transpose_rows):
        y = transpose_rows(x)
        y[j] = x[j]
        return y

    approx = None
    if Q.approximate is not None:
        approx = sparse.lil_array(Q.approximate.T)
        approx[j, :] = 0.0
        approx[j, j] = 1.0
    preconditioner = None
    if Q.preconditioner is not None:
        # the operator's own approximate inverse of -Q^T (the 4-D kinetic plane solves): the
        # pinned system differs from Q^T in one row, a rank-one change GMRES absorbs
        inner = Q.preconditioner(None, 0.0, True)
        preconditioner = lambda live, identity, transpose: inner  # noqa: E731
    system = MatrixFree(
        n,
        lambda x: pinned(x, Q.rmatvec),
        lambda x: pinned(x, Q.matvec),
        np.where(np.arange(n) == j, 1.0, Q.diagonal()),
        approximate=approx,
        preconditioner=preconditioner,
    )
    # judged signed: a conservative non-Markov operator's law (the 4-D kinetic scheme) has a
    # negative tail at the discretization error, which clipping would turn into a residual
    pi = krylov_solver(system)(e)
    error = _matrix_free_residual(Q, pi)
    if not error <= MATRIX_FREE_RTOL:
        advice = (
            "its preconditioner does not capture it: use fewer cells or a lower barrier"
            if Q.preconditioner is not None
            else "give the operator a closer sparse approximation (MatrixFree(approximate=...)) "
            "to precondition the solve, or use fewer cells"
        )
        raise ValueError(
            f"Q: the stationary law of this {n}-state matrix-free operator leaves a normwise "
            f"residual {error:.2g} (|Qᵀπ| / (2 max|Q_ii| max π)), above {MATRIX_FREE_RTOL:g}; {advice}"
        )
    negative = float(-pi[pi < 0].sum() / max(float(np.abs(pi).sum()), np.finfo(float).tiny))
    if negative > NEGATIVE_MASS_WARNING:
        _warn(
            f"stationary: the law of this operator, which is not a Markov generator, has "
            f"negative density carrying {negative:.2g} of the mass (set to zero); the law is off "
            "by at least that much: refine the grid"
        )
    pi = np.maximum(pi, 0.0)
    return pi / pi.sum()


#: Matrix-free Markov generators that declare their killing (jump generators) with more states
#: than this skip densification (linalg.DENSE_MAX) and are solved by removing one state
#: (:func:`_stationary_by_removal`): for the fractional scheme at 800 cells, 0.02 s against 2 s for
#: the dense GTH elimination, 13 s at 2400.
REMOVAL_MIN_STATES = 256


def _matrix_free_residual(Q: MatrixFree, pi: np.ndarray) -> float:
    """|Q^T pi| / (2 max|Q_ii| max pi): the normwise balance residual of a law."""
    scale = 2.0 * np.max(np.abs(Q.diagonal())) * np.max(pi)
    return float(np.max(np.abs(Q.rmatvec(pi))) / scale) if scale > 0 else np.inf


def _stationary_by_removal(Q: MatrixFree, j: int):
    """pi of a matrix-free Markov generator (one that declares its ``killing``) with state j
    removed: (-Q_{-j})^T x = (rates from j), pi = (x, 1 at j), x_i = pi_i / pi_j the expected time
    in i between visits to j. An M-matrix solve like an exit problem's, which the near-field
    preconditioner of a jump generator handles: 16-22 GMRES iterations for the fractional scheme
    at 3200-8192 cells, where the pinned singular system did not converge in 100 restarts. None
    when the solve is refused (the caller falls back to the pinned system)."""
    keep = np.ones(Q.shape[0], dtype=bool)
    keep[j] = False
    e = np.zeros(Q.shape[0])
    e[j] = 1.0
    try:
        x = krylov_solver(Q.restrict(keep).T)(-Q.rmatvec(e)[keep])
    except ValueError:
        return None
    pi = np.empty(Q.shape[0])
    pi[keep] = np.maximum(x, 0.0)
    pi[j] = 1.0
    return pi
