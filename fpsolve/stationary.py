"""The stationary law of a generator Q: Qᵀπ = 0, π ≥ 0, Σπ = 1.

Reversible chains get π exactly from detailed balance (log space, along spanning trees); other
chains by a pinned sparse solve; large matrix-free operators by preconditioned GMRES.
"""


import numpy as np
import scipy.sparse as sparse
from scipy.sparse import csgraph
from scipy.sparse import linalg as sla

from .linalg import as_generator, killing_rates, log_detailed_balance
from .operators import MatrixFree, is_matrix_free
from .solvers import ORDERING, krylov_solver


__all__ = ["stationary_distribution"]


def stationary_distribution(Q) -> np.ndarray:
    """The stationary law π of the generator Q: Qᵀπ = 0, π ≥ 0, Σπ = 1.

    Reversible chains (detailed balance, as the fitted finite-volume scheme gives for gradient
    drift without cross diffusion) get π exactly from the ratios π_j/π_i = Q_ij/Q_ji along a
    spanning tree, in log space: O(N), round-off relative accuracy even where π spans hundreds of
    orders of magnitude. Other chains: one equation of the singular system is replaced by
    π_j = 1 for a cell j with large stationary mass, the rest solved by sparse LU and the result
    normalised (j is re-chosen as argmax π if the first guess was light). For small chains
    (N ≤ 20 000) whose law spans many decades a last pass eliminates the light cells first
    without pivoting (as in the GTH algorithm), so that tails come out with relative accuracy.

    Parameters
    ----------
    Q : sparse matrix, shape (N, N)
        Generator of an irreducible closed chain (rows sum to 0).

    Returns
    -------
    np.ndarray
        π, shape (N,), non-negative, summing to 1.

    Raises
    ------
    ValueError
        If some rows of Q sum to a negative number (killing: no stationary law exists), or the
        chain is reducible (the solve is singular).
    """
    Q = as_generator(Q)
    killing = killing_rates(Q)
    if np.any(killing > 0):
        raise ValueError(f"Q: {int(np.sum(killing > 0))} rows have negative sums (mass is "
                         "killed at absorbing cells), so there is no stationary distribution")
    n = Q.shape[0]
    if n == 1:
        return np.ones(1)
    if is_matrix_free(Q):
        return _stationary_matrix_free(Q)
    mu = _detailed_balance_law(Q)
    if mu is not None:
        return mu
    out_rate = -Q.diagonal()
    in_rate = np.asarray(Q.sum(axis=0)).ravel() + out_rate
    j = int(np.argmax(in_rate / np.maximum(out_rate, np.finfo(float).tiny)))
    pi = _pinned_solve(Q, j)
    if not np.all(np.isfinite(pi)) or pi[j] < 1e-3 * np.max(pi):
        pi = _pinned_solve(Q, int(np.nanargmax(np.where(np.isfinite(pi), pi, -np.inf))))
    pi = np.maximum(pi, 0.0)
    if n <= 20_000 and pi.min() < 1e-8 * pi.max():
        # Laws spanning many decades: eliminate the light cells first and the heaviest last,
        # without pivoting (Qᵀ is column diagonally dominant), so that back substitution
        # computes each light value from heavier ones without cancellation (as in GTH). Without
        # a fill-reducing ordering this is affordable only for small chains.
        pi = np.maximum(_pinned_solve(Q, int(np.argmax(pi)), order=np.argsort(pi)), 0.0)
    return pi / pi.sum()


def _pinned_solve(Q, j, order=None):
    """Solve Qᵀπ = 0 with equation j replaced by π_j = 1; optionally eliminate in ``order``
    (ending with j) without pivoting."""
    n = Q.shape[0]
    M = sparse.lil_array(Q.T)
    M[j, :] = 0.0
    M[j, j] = 1.0
    rhs = np.zeros(n)
    rhs[j] = 1.0
    try:
        with np.errstate(all="ignore"):
            if order is None:
                return sla.splu(sparse.csc_array(M), permc_spec=ORDERING).solve(rhs)
            M = sparse.csr_array(M)[order][:, order]
            lu = sla.splu(sparse.csc_array(M), permc_spec="NATURAL", diag_pivot_thresh=0.0,
                          options=dict(SymmetricMode=True))
            pi = np.empty(n)
            pi[order] = lu.solve(rhs[order])
            return pi
    except RuntimeError as exc:
        raise ValueError("Q: the stationary system is singular; the chain is probably "
                         "reducible (several closed classes)") from exc


def _detailed_balance_law(Q, rtol=1e-8):
    """The stationary law of a reversible closed chain, or None if Q is not reversible."""
    log_mu = log_detailed_balance(Q, rtol)
    if log_mu is None or len(np.unique(csgraph.connected_components(Q, directed=False)[1])) > 1:
        return None
    mu = np.exp(log_mu)
    return mu / mu.sum()


def _stationary_matrix_free(Q: MatrixFree) -> np.ndarray:
    """Q^T pi = 0, sum pi = 1 for a large matrix-free Q: the equation of the state with the
    largest diagonal-normalised inflow replaced by pi_j = 1, solved by preconditioned GMRES."""
    n = Q.shape[0]
    j = int(np.argmin(Q.diagonal()))  # any state with mass works; the fastest is well connected
    e = np.zeros(n)
    e[j] = 1.0

    def pinned(x, transpose_rows):
        y = transpose_rows(x)
        y[j] = x[j]
        return y

    approx = None
    if Q.approximate is not None:
        approx = sparse.lil_array(Q.approximate.T)
        approx[j, :] = 0.0
        approx[j, j] = 1.0
    system = MatrixFree(n, lambda x: pinned(x, Q.rmatvec), lambda x: pinned(x, Q.matvec),
                        np.where(np.arange(n) == j, 1.0, Q.diagonal()), approximate=approx)
    pi = np.maximum(krylov_solver(system)(e), 0.0)
    return pi / pi.sum()
