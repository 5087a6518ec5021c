"""The stationary law of a large non-reversible Markov chain (3-D grids) by preconditioned GMRES.

A 3-D grid's sparse LU fills in like n^(4/3) (88 s and 3.1 GB at 64^3), so beyond
``stationary.ITERATIVE_MIN_STATES`` states the law of a chain without detailed balance is
solved iteratively. One heavy state j is removed: with x_i = π_i / π_j,

    A x = b,   A = -(Q without row and column j)ᵀ,   b = (Q_ji) (the rates out of j),

a non-singular M-matrix when the chain is irreducible. Its rows are balance equations of the
*forward* equation, whose near-null vector is π itself, not the constants a smoothed-aggregation
hierarchy assumes (with the constants GMRES stalled at a backward error of 3e-6 on the 64^3
rotation chain). So the hierarchy is built on A D, D = diag(μ) with μ ≈ π: its rows sum to
-(Qᵀμ)_i ≈ 0, the setting of the backward problem. μ = e^φ comes from the chain alone: φ is the
least-squares potential of the link ratios, L φ = -Σ_k log(Q_ik / Q_ki) (L the graph Laplacian of
the links), exact for a reversible chain (detailed balance: π_k / π_i = Q_ik / Q_ki) and the
gradient part of the drift otherwise (:func:`gradient_potential`). j is the top of φ.

Measured on the issue-14 rotation chain (``python benchmarks/bench_forward_3d.py --only rotation
--stages stationary``): 28 GMRES(40) iterations at 64^3, 33 at 128^3, where pyamg's nonsymmetric
SA on A with scipy's GMRES needed 189 iterations at 64^3 and 220 s at 128^3.

The law is refused (None) unless the normwise backward error |b - A x| / (|A| |x| + |b|) reaches
10 :data:`ITERATIVE_SOLVE_RTOL`; the caller then judges it by :func:`iterative_balance_errors`.
A chain with more than one closed class is refused before any solve.
"""

from __future__ import annotations

import numba
import numpy as np
import scipy.sparse as sparse
from scipy.linalg import solve_triangular
from scipy.sparse import csgraph

from . import amg
from .balance import BalanceError, _cut_error
from .iterative import _dot, pcg  # _dot: the compiled dot product the Krylov methods share
from .linalg import reverse_rates

__all__ = [
    "iterative_law",
    "iterative_balance_errors",
    "gradient_potential",
    "closed_classes",
    "ITERATIVE",
    "ITERATIVE_SOLVE_RTOL",
    "ITERATIVE_JUDGED",
    "ITERATIVE_CELL_RTOL",
    "ITERATIVE_CUT_RTOL",
]

#: The name of the iterative method (judged by :func:`iterative_balance_errors`).
ITERATIVE = "AMG-preconditioned GMRES with one state removed"

#: The iterative law is refused when the normwise backward error |b - A x| / (|A| |x| + |b|)
#: (infinity norms, |A| by its largest row sum) of its solve is above 10 times this.
ITERATIVE_SOLVE_RTOL = 1e-13

#: The solve aims at this backward error, and stops short of it only when a restart cycle no
#: longer halves the error. The law's error is about the chain's condition times the backward
#: error: measured against dense LU laws refined in long double on the 12^3 rotation chain with
#: barrier U/T = 12.5 (tests/test_stationary_iterative.py), 2.6e-10 of the peak when stopped at
#: 1e-13, 2.5e-11 at 1e-15; at U/T = 8.3, 7.5e-11 and 1.3e-13. The extra iterations cost ~10 %.
ITERATIVE_SOLVE_AIM = 1e-15

#: Cells carrying at least this fraction of the largest mass are judged one by one in an iterative
#: law. A normwise backward error eta leaves a cell of mass fraction mu unbalanced by ~eta / mu
#: relative to its own flows: at 1e-6, 1e-7 for eta = 1e-13 (the lighter cells, a few 1e-6 of the
#: mass together, are judged through the cuts).
ITERATIVE_JUDGED = 1e-6

#: Largest relative balance error of a judged cell of an iterative law: measured 1.1e-11, 2.7e-10
#: and 1.3e-8 on the non-reversible 3-D chain of tests/test_forward_3d.py at 9^3, 14^3 and 32^3
#: cells with the unscaled hierarchy (it grows as the judged cells get lighter relative to the
#: normwise residual); 3e-14 and 6e-15 on the rotation chain at 64^3 and 128^3 with the scaled one.
#: 1e-6 leaves a factor 100 at 32^3, while a law off by a share of mass fails the cuts.
ITERATIVE_CELL_RTOL = 1e-6

#: Largest net flow across a cut of the grid's axis orderings, relative to the largest gross flow
#: across any cut (normwise: the net flow sums the residuals of every cell on one side; measured
#: 5e-15 to 3e-14 on the chains above). A wrong share of mass between metastable sets shows as a
#: net flow of the order of the flow across their cut.
ITERATIVE_CUT_RTOL = 1e-8

#: GMRES restart length: 41 basis vectors of n doubles (0.7 GB at 128^3). The rotation and
#: cross-diffusion chains converge within one cycle (28-40 iterations from 48^3 to 128^3).
GMRES_RESTART = 40

#: Restart cycles before the solve is given up; a cycle that does not halve the backward error
#: ends it earlier (GMRES has stalled: a reducible chain, or a preconditioner that misses it).
GMRES_CYCLES = 10

#: Relative residual of the conjugate-gradient solve for the potential φ: μ = e^φ only scales the
#: hierarchy, and differs from π by factors up to 5 on the rotation chain anyway.
POTENTIAL_RTOL = 1e-6

#: L + POTENTIAL_SHIFT I keeps the Laplacian of the links (singular: constants) invertible on the
#: coarsest multigrid level; its smallest nonzero eigenvalue is ~(π/128)^2 = 6e-4 at 128^3.
POTENTIAL_SHIFT = 1e-8

#: φ - max φ is floored here (μ >= e^-600 = 1e-261) so that A D keeps normal, positive diagonal
#: entries; cells that light are below ITERATIVE_JUDGED by far, and their scale does not matter.
LOG_SCALE_FLOOR = -600.0


def iterative_balance_errors(Q, pi, orders) -> BalanceError:
    """Balance errors of an iteratively solved law: cells with π_i >= ITERATIVE_JUDGED max π
    relative to their own flows, cuts of ``orders`` normwise (relative to the largest cut flow)."""
    pi = np.asarray(pi, dtype=float)
    if not np.all(np.isfinite(pi)) or np.any(pi < 0) or not pi.max(initial=0.0) > 0:
        return BalanceError(np.inf, np.inf)
    pi = pi / pi.max()
    Q = sparse.csr_array(Q)
    judged = pi >= ITERATIVE_JUDGED
    residual = np.abs(Q.T @ pi)[judged] / (abs(Q).T @ pi)[judged]
    cuts = max(_cut_error(Q, pi, np.asarray(order), normwise=True) for order in orders)
    return BalanceError(float(residual.max(initial=0.0)), float(cuts))


def gradient_potential(Q) -> np.ndarray:
    """φ (max 0) minimising Σ over links i < k with both rates positive of
    (φ_k - φ_i - log(Q_ik / Q_ki))^2: the log of the stationary law for a reversible chain (then
    exact up to the CG tolerance), the potential of the gradient part of the drift otherwise.

    The normal equations are L φ = -Σ_k log(Q_ik / Q_ki) with L the graph Laplacian of those
    links, solved by conjugate gradients with a smoothed-aggregation V-cycle to
    :data:`POTENTIAL_RTOL`. Cells on no such link get the floor :data:`LOG_SCALE_FLOOR`."""
    Q, back = reverse_rates(Q)
    n = Q.shape[0]
    rows = np.repeat(np.arange(n), np.diff(Q.indptr))
    link = (Q.indices != rows) & (Q.data > 0) & (back > 0)
    ratio = np.zeros(Q.nnz)
    ratio[link] = np.log(Q.data[link] / back[link])
    adjacency = sparse.csr_array((link.astype(float), Q.indices, Q.indptr), shape=Q.shape)
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    laplacian = sparse.diags_array(degree + POTENTIAL_SHIFT) - adjacency
    rhs = -np.bincount(rows, weights=ratio, minlength=n)
    hierarchy = amg.build_hierarchy(laplacian, symmetric=True)
    phi, _ = pcg(sparse.csr_array(laplacian), rhs, hierarchy.vcycle, POTENTIAL_RTOL, 200)
    phi = phi - phi[degree > 0].max(initial=0.0)
    return np.where(degree > 0, np.maximum(phi, LOG_SCALE_FLOOR), LOG_SCALE_FLOOR)


def iterative_law(Q):
    """π (unnormalised, π_j = 1) of a large irreducible Markov generator Q (CSR, off-diagonal
    rates >= 0) from the system with one heavy state j removed, by GMRES(:data:`GMRES_RESTART`)
    right-preconditioned with a V-cycle of the hierarchy of A D (module docstring), to the
    normwise backward error :data:`ITERATIVE_SOLVE_AIM`. None when the chain has more than one
    closed class (the pinned solve would return the law of j's class alone, which balances), or
    when the solve ends above 10 :data:`ITERATIVE_SOLVE_RTOL`."""
    Q = sparse.csr_array(Q)
    n = Q.shape[0]
    if closed_classes(Q) > 1:
        return None
    phi = gradient_potential(Q)
    j = int(np.argmax(phi))
    keep = np.ones(n, dtype=bool)
    keep[j] = False
    A = sparse.csr_array(-(Q[keep][:, keep]).T)
    b = np.asarray(Q[[j]][:, keep].todense(), dtype=float).ravel()
    scale = np.exp(phi[keep])
    try:
        hierarchy = amg.build_hierarchy(A @ sparse.diags_array(scale), symmetric=False)
    except ValueError:  # a singular coarsest level: the chain is reducible
        return None
    x = _solve_to_backward_error(A, b, lambda r: scale * hierarchy.vcycle(r))
    if x is None:
        return None
    pi = np.empty(n)
    pi[keep] = np.maximum(x, 0.0)
    pi[j] = 1.0
    return pi


def closed_classes(Q) -> int:
    """The number of closed communicating classes of the chain with rates Q (strongly connected
    components that no positive rate leaves): 1 when the stationary law is unique."""
    rows = np.repeat(np.arange(Q.shape[0]), np.diff(Q.indptr))
    positive = (Q.data > 0) & (Q.indices != rows)
    graph = sparse.csr_array((np.ones(int(positive.sum())), (rows[positive], Q.indices[positive])), shape=Q.shape)
    count, label = csgraph.connected_components(graph, directed=True, connection="strong")
    leaving = label[rows[positive]] != label[Q.indices[positive]]
    return count - np.unique(label[rows[positive][leaving]]).size


def _backward_error(A, b, x, norm_a) -> float:
    """|b - A x|_inf / (|A|_inf |x|_inf + |b|_inf)."""
    return float(np.abs(b - A @ x).max() / (norm_a * np.abs(x).max() + np.abs(b).max()))


def _solve_to_backward_error(A, b, precondition):
    """x by restarted GMRES from 0 towards the backward error ITERATIVE_SOLVE_AIM, each cycle
    judged by its true residual; None when it ends (stalled, or out of cycles) above
    10 ITERATIVE_SOLVE_RTOL."""
    norm_a = float(abs(A).sum(axis=1).max())
    x = np.zeros_like(b)
    error = 1.0
    for _ in range(GMRES_CYCLES):
        # the cycle's own 2-norm estimate bounds the inf-norm residual: stop at the aim with
        # |x| >= 1 (x_j's neighbours carry about π_j)
        target = ITERATIVE_SOLVE_AIM * (norm_a * max(1.0, np.abs(x).max()) + np.abs(b).max())
        x = x + gmres_cycle(A, b - A @ x, precondition, GMRES_RESTART, target)
        previous, error = error, _backward_error(A, b, x, norm_a)
        if not np.isfinite(error) or error <= ITERATIVE_SOLVE_AIM or error > 0.5 * previous:
            break
    return x if error <= 10 * ITERATIVE_SOLVE_RTOL else None


def gmres_cycle(A, residual, precondition, restart: int, target: float) -> np.ndarray:
    """One cycle of right-preconditioned GMRES (Saad & Schultz 1986) for A d = residual from
    d = 0: at most ``restart`` steps, stopped once the least-squares residual estimate
    |residual - A d|_2 <= ``target``. Arnoldi by classical Gram-Schmidt with selective
    reorthogonalisation (compiled: BLAS dot products were measured 7-15 ms a call on the loaded
    2-core machine), Givens rotations on the Hessenberg matrix."""
    n = residual.size
    beta = float(np.sqrt(_dot(residual, residual)))
    if not beta > target:
        return np.zeros(n)
    basis = np.empty((restart + 1, n))
    basis[0] = residual / beta
    hessenberg = np.zeros((restart + 1, restart))
    cosines, sines = np.zeros(restart), np.zeros(restart)
    rhs = np.zeros(restart + 1)
    rhs[0] = beta
    steps = 0
    for k in range(restart):
        w = A @ precondition(basis[k])
        column = np.zeros(k + 2)
        column[k + 1] = _orthogonalize(basis, k, w, column)
        for i in range(k):  # the earlier rotations, then a new one to zero the subdiagonal
            column[i], column[i + 1] = (
                cosines[i] * column[i] + sines[i] * column[i + 1],
                -sines[i] * column[i] + cosines[i] * column[i + 1],
            )
        norm = column[k + 1]
        radius = np.hypot(column[k], norm)
        cosines[k], sines[k] = column[k] / radius, norm / radius
        column[k], column[k + 1] = radius, 0.0
        rhs[k + 1], rhs[k] = -sines[k] * rhs[k], cosines[k] * rhs[k]
        hessenberg[: k + 1, k] = column[: k + 1]
        steps = k + 1
        if norm == 0.0 or abs(rhs[k + 1]) <= target:
            break
        basis[k + 1] = w / norm
    y = solve_triangular(hessenberg[:steps, :steps], rhs[:steps])
    combination = np.empty(n)
    _combine(basis, y, combination)
    return precondition(combination)


@numba.njit(cache=True)
def _orthogonalize(basis, k, w, coefficients):
    """w minus its projections on basis[0..k] in place, by classical Gram-Schmidt, repeated once
    when the pass cancelled more than 1 - 1/√2 of |w| (Daniel, Gragg, Kaufman & Stewart 1976:
    then orthogonality may be lost, and a second pass restores it); the projections are added to
    coefficients[0..k]. Returns |w|_2 after."""
    n = w.size
    norm = np.sqrt(_dot(w, w))
    for _ in range(2):
        projection = np.zeros(k + 1)
        for i in range(k + 1):
            total = 0.0
            for p in range(n):
                total += basis[i, p] * w[p]
            projection[i] = total
        for i in range(k + 1):
            for p in range(n):
                w[p] -= projection[i] * basis[i, p]
            coefficients[i] += projection[i]
        before, norm = norm, np.sqrt(_dot(w, w))
        if norm >= before / np.sqrt(2.0):
            break
    return norm


@numba.njit(cache=True)
def _combine(basis, y, out):
    """out = Σ_i y_i basis[i] over the first len(y) rows."""
    for p in range(out.size):
        total = 0.0
        for i in range(y.size):
            total += y[i] * basis[i, p]
        out[p] = total
