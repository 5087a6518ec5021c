"""Spectral linear algebra on a generator Q: relaxation rates, detailed balance, killing rates.

Q is an N×N sparse rate matrix of a continuous-time Markov chain on grid cells: Q[i, j] ≥ 0 is
the rate from cell i to cell j (i ≠ j) and each row sums to 0 (closed chain) or to a negative
number (mass killed at absorbing boundaries). The forward equation is dp/dt = Qᵀp, the backward
one du/dt = Qu. Here: the slowest relaxation rates (−Re λ of the eigenvalues λ of Q nearest 0),
for a sparse Q or a matrix-free one (:class:`fpsolve.operators.MatrixFree`), detailed balance and
killing rates. The stationary law lives in :mod:`fpsolve.stationary`, linear solves in
:mod:`fpsolve.solvers`.
"""


import numpy as np
import scipy.sparse as sparse
from scipy.sparse import csgraph
from scipy.sparse import linalg as sla

from ._warnings import warn as _warn
from .operators import MatrixFree, is_matrix_free
from .solvers import (ORDERING, birth_death_parts, factorize, krylov_solver, shifted_solver, solve,
                      solve_birth_death)


__all__ = ["relaxation_rates", "is_reversible", "log_detailed_balance",
           "killing_rates", "symmetrized", "as_generator", "KILLING_RTOL", "DENSE_MAX",
           # linear solves, re-exported from fpsolve.solvers
           "solve", "factorize", "solve_birth_death", "shifted_solver", "birth_death_parts"]

#: A row of Q whose sum is negative by more than KILLING_RTOL times the row's absolute sum kills
#: mass; smaller sums are round-off of rows that vanish in exact arithmetic. The one threshold
#: for every caller (generators, integrators, stationary laws).
KILLING_RTOL = 1e-12

#: Matrix-free operators with at most this many states are densified for eigenvalue and
#: stationary problems (n products, exact linear algebra).
DENSE_MAX = 3000


def as_generator(Q, name="Q"):
    """Q as a CSR float matrix, or as given if it is a large :class:`MatrixFree` (small ones are
    densified to sparse: n products)."""
    if is_matrix_free(Q):
        if Q.shape[0] > DENSE_MAX:
            return Q
        Q = Q.tosparse()
    if not sparse.issparse(Q) and not isinstance(Q, np.ndarray):
        raise ValueError(f"{name}: expected a sparse N×N rate matrix, got {type(Q).__name__}")
    Q = sparse.csr_array(Q, dtype=float)
    if Q.shape[0] != Q.shape[1]:
        raise ValueError(f"{name}: expected a square matrix, got shape {Q.shape}")
    return Q


def killing_rates(Q) -> np.ndarray:
    """The killing rate of each state, −(Q 1)_i where that exceeds the round-off of row i
    (:data:`KILLING_RTOL` times its absolute sum), else 0. A :class:`MatrixFree` operator that
    declares its ``killing`` is taken at its word."""
    if is_matrix_free(Q):
        if Q.killing is not None:
            return Q.killing.copy()
        rows = Q.sum(axis=1)
        scale = 2.0 * np.abs(Q.diagonal())
    else:
        Q = sparse.csr_array(Q)
        row_of = np.repeat(np.arange(Q.shape[0]), np.diff(Q.indptr))
        rows = np.bincount(row_of, weights=Q.data, minlength=Q.shape[0])
        scale = np.bincount(row_of, weights=np.abs(Q.data), minlength=Q.shape[0])
    killing = -rows
    killing[killing <= KILLING_RTOL * np.maximum(scale, np.finfo(float).tiny)] = 0.0
    return killing


def symmetrized(Q) -> sparse.csr_array:
    """S_ij = √(Q_ij Q_ji), S_ii = Q_ii: for a reversible Q, diag(μ)^½ Q diag(μ)^−½ computed entry
    by entry (no over- or underflow of μ^±½ when μ spans hundreds of decades)."""
    Q = sparse.csr_array(Q)
    off = Q - sparse.diags_array(Q.diagonal())
    return sparse.csr_array(off.multiply(off.T).sqrt()) + sparse.diags_array(Q.diagonal())


def log_detailed_balance(Q, rtol: float = 1e-8):
    """log μ (max 0) with μ_i Q_ij = μ_j Q_ji on every link, or None if Q is not reversible.

    μ is built along breadth-first spanning trees of the links in the log domain, so measures
    spanning thousands of orders of magnitude stay exact; the steps are accumulated to the roots by
    pointer jumping (log2(depth) vectorized sweeps). Detailed balance is then checked on every
    link, to ``rtol`` in log μ, except between cells that both carry less than e^-460 (1e-200) of
    the largest weight, where floored rates need not balance. The diagonal (killing) is ignored.
    """
    Q = sparse.csr_matrix(Q)
    n = Q.shape[0]
    _, component = csgraph.connected_components(Q, directed=False)
    parent = np.full(n, -1)
    for c in np.unique(component):
        root = int(np.flatnonzero(component == c)[0])
        order, pred = csgraph.breadth_first_order(Q, root, directed=False, return_predecessors=True)
        parent[order[1:]] = pred[order[1:]]
    child = np.flatnonzero(parent >= 0)
    forward = _entries(Q, parent[child], child)
    backward = _entries(Q, child, parent[child])
    if np.any(forward <= 0) or np.any(backward <= 0):
        return None
    step = np.zeros(n)
    step[child] = np.log(forward) - np.log(backward)
    log_mu, up = step.copy(), parent.copy()
    while np.any(up >= 0):
        has = up >= 0
        log_mu[has] += log_mu[up[has]]
        up[has] = up[up[has]]
    coo = Q.tocoo()
    off = coo.row != coo.col
    i, j, q = coo.row[off], coo.col[off], coo.data[off]
    back = _entries(Q, j, i)
    if np.any(q <= 0) or np.any(back <= 0):
        return None
    log_mu -= log_mu.max()
    matters = np.maximum(log_mu[i], log_mu[j]) > -460.0
    mismatch = np.abs(log_mu[i] + np.log(q) - log_mu[j] - np.log(back))[matters]
    if mismatch.max(initial=0.0) > rtol:
        return None
    return log_mu


def _entries(Q, rows, cols) -> np.ndarray:
    """Q[rows[k], cols[k]] as a float array (scipy returns a sparse matrix for empty indices:
    a chain with no links, e.g. a one-cell domain)."""
    if len(rows) == 0:
        return np.zeros(0)
    return np.asarray(Q[rows, cols]).ravel()


def is_reversible(Q, rtol=1e-8) -> bool:
    """Whether Q satisfies detailed balance μ_i Q_ij = μ_j Q_ji for some μ > 0 (see
    :func:`log_detailed_balance`; killing on the diagonal does not matter)."""
    return log_detailed_balance(as_generator(Q), rtol) is not None


def relaxation_rates(Q, k, *, reversible=None) -> np.ndarray:
    """The k smallest nonzero relaxation rates −Re λ of the generator Q, ascending, positive.

    For a closed chain the eigenvalue 0 (the stationary law) is left out; with killing every
    eigenvalue counts and the first rate is the decay rate of survival. Reversible chains
    (detailed balance, detected with :func:`is_reversible` unless ``reversible`` is given) are
    symmetrized, S_ij = sign·√(Q_ij Q_ji), S_ii = Q_ii, similar to Q through diag(μ)^{1/2}, and
    solved with ``eigsh``; others with shift-invert Arnoldi (``eigs``). In both cases the shift
    σ = 1e-10·max|Q_ii| > 0 lies just above the spectrum, so Q − σI is a nonsingular M-matrix.
    Complex pairs contribute two equal rates.

    Parameters
    ----------
    Q : sparse matrix, shape (N, N)
    k : int
        Number of rates, 1 ≤ k ≤ N − 2 (N with killing).
    reversible : bool, optional
        Skip the detection.

    Returns
    -------
    np.ndarray
        Shape (k,).
    """
    Q = as_generator(Q)
    n = Q.shape[0]
    closed = not np.any(killing_rates(Q) > 0)
    want = k + 1 if closed else k
    if is_matrix_free(Q):
        if not (isinstance(k, (int, np.integer)) and 1 <= k and want <= n - 2):
            raise ValueError(f"k: expected an integer in [1, {n - 3}] for this {n}-state operator, got {k!r}")
        scale = float(np.max(np.abs(Q.diagonal())))
        rates = _slowest_matrix_free(Q, want, 1e-10 * scale)
        if closed and rates[1] > 1e-7 * scale:  # the second pass of the sparse path, below
            rates = _slowest_matrix_free(Q, want, 0.5 * rates[1])
        return _checked(rates[1:], scale)[:k] if closed else rates[:k]
    if not closed and isinstance(k, (int, np.integer)) and k == n:
        # every rate of a killed chain (e.g. a one-cell domain): too many for ARPACK, dense
        return np.sort(-np.linalg.eigvals(Q.toarray()).real)
    if not (isinstance(k, (int, np.integer)) and 1 <= k and want <= n - 1):
        raise ValueError(f"k: expected an integer in [1, {n - 2 if closed else n}] for a {n}-state "
                         f"{'closed' if closed else 'killed'} chain, got {k!r}")
    log_mu = log_detailed_balance(Q) if reversible is not False else None
    if reversible is None:
        reversible = log_mu is not None
    scale = float(np.max(np.abs(Q.diagonal())))
    sigma = 1e-10 * scale
    if closed and log_mu is not None:
        # the stationary law is known exactly (detailed balance): deflate it instead of
        # computing the zero mode, so that tiny gaps keep their relative accuracy
        rates = _slowest_deflated(Q, k, sigma, log_mu)
        return _checked(rates, scale)[:k]
    rates = _slowest(Q, want, sigma, reversible)
    if closed and rates[1] > 1e3 * sigma:
        # The zero mode, amplified to 1/σ by the shift-inversion, pollutes the others with
        # relative errors ~eps/(σ·r); a second pass with σ = r_1/2 removes that amplification.
        rates = _slowest(Q, want, 0.5 * rates[1], reversible)
    if closed:
        rates = _checked(rates[1:], scale)  # drop the eigenvalue closest to 0, the stationary law
    return rates[:k]


def _checked(rates, scale):
    """Refuse a slowest rate lost in round-off; warn when it is close to that."""
    if rates.size == 0:
        return rates
    # eigenvalues of Q are defined to about eps * max|Q_ii| (round-off in its entries)
    resolution = np.finfo(float).eps * scale
    if rates[0] < 20 * resolution:
        raise ValueError(
            f"Q: the slowest relaxation rate is zero to round-off (below {20 * resolution:.2g} = "
            "20 eps max|Q_ii|): the chain is reducible, or so metastable that its gap is lost "
            "in round-off; mean exit times (linear solves; exact for 1-D chains) resolve longer time scales"
        )
    if rates[0] < 200 * resolution:
        # measured on double wells: the computed zero mode lands within ~0.05 units of 0,
        # so a rate r carries an absolute error of about 0.1 units
        _warn(
            f"relaxation_rates: the slowest rate {rates[0]:.3g} is within {rates[0] / resolution:.0f} "
            f"round-off units ({resolution:.2g}) of zero; its relative accuracy is only about "
            f"{0.1 * resolution / rates[0]:.0e}. Mean exit times (linear solves) are accurate there")
    return rates


def _slowest_deflated(Q, k, sigma, log_mu):
    """The k smallest nonzero rates of a closed reversible chain: Lanczos on the shift-inverted,
    symmetrized generator S with the known null vector sqrt(mu) projected out.

    S_ij = sqrt(Q_ij Q_ji), S_ii = Q_ii is similar to Q through diag(mu)^(1/2); the operator
    P (S - sigma I)^-1 P (P the projector orthogonal to sqrt(mu)) has eigenvalues
    1 / (lambda - sigma) on the other modes, the largest in modulus for the slowest rates.
    """
    S = symmetrized(Q)
    null = np.exp(0.5 * log_mu)
    null /= np.linalg.norm(null)
    n = Q.shape[0]
    # S is symmetric: a symmetric fill-reducing ordering halves the factor
    solve = sla.splu(sparse.csc_array(S - sigma * sparse.identity(n, format="csc")),
                     permc_spec="MMD_AT_PLUS_A", options=dict(SymmetricMode=True)).solve

    def inverse(x):
        x = np.ravel(x)
        y = solve(x - null * (null @ x))
        return y - null * (null @ y)

    operator = sla.LinearOperator((n, n), matvec=inverse, dtype=float)
    mu = sla.eigsh(operator, k=k, which="LM", return_eigenvectors=False)
    return np.sort(-(sigma + 1.0 / np.real(mu)))


def _slowest(Q, want, sigma, reversible):
    """−Re λ for the ``want`` eigenvalues λ of Q nearest the shift σ > 0, ascending."""
    if reversible:
        lam = sla.eigsh(sparse.csc_array(symmetrized(Q)), k=want, sigma=sigma, which="LM",
                        return_eigenvectors=False)
    else:
        lam = sla.eigs(sparse.csc_array(Q), k=want, sigma=sigma, which="LM",
                       return_eigenvectors=False)
    return np.sort(-np.real(lam))


def _slowest_matrix_free(Q: MatrixFree, want: int, sigma: float) -> np.ndarray:
    """−Re λ of the ``want`` eigenvalues of a matrix-free Q nearest the shift σ: shift-invert
    Arnoldi with preconditioned Krylov inner solves of (Q − σI). Q rather than Qᵀ: a
    generator-like preconditioner shares Q's right null vector (the constants) exactly, so the
    nearly singular shifted solves stay well preconditioned."""
    n = Q.shape[0]
    inverse = shifted_solver(Q, -sigma, -1.0)  # (Q - sigma I)^-1
    operator = sla.LinearOperator((n, n), matvec=Q.matvec, dtype=float)
    opinv = sla.LinearOperator((n, n), matvec=inverse, dtype=float)
    lam = sla.eigs(operator, k=want, sigma=sigma, OPinv=opinv, which="LM", return_eigenvectors=False)
    return np.sort(-np.real(lam))
