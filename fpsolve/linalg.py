"""Linear algebra on a generator Q: stationary law, relaxation rates, sparse solves.

Q is an N×N sparse rate matrix of a continuous-time Markov chain on grid cells: Q[i, j] ≥ 0 is
the rate from cell i to cell j (i ≠ j) and each row sums to 0 (closed chain) or to a negative
number (mass killed at absorbing boundaries). The forward equation is dp/dt = Qᵀp, the backward
one du/dt = Qu. Here: the stationary law (Qᵀπ = 0, Σπ = 1), the slowest relaxation rates (−Re λ
of the eigenvalues λ of Q nearest 0), and direct or algebraic-multigrid solves with Q (for
instance Q_sub τ = −1 for mean exit times).
"""


import numba
import numpy as np
import scipy.sparse as sparse
from ._warnings import warn as _warn
from scipy.linalg import lapack
from scipy.sparse import csgraph
from scipy.sparse import linalg as sla

#: Fill-reducing ordering for sparse LU of generators: their sparsity is structurally symmetric
#: (every link has both directions), where minimum degree on A^T + A gives about half the fill
#: of SuperLU's default COLAMD (measured on 2-D grids: 2.0e6 against 3.5e6 nonzeros at 200^2).
ORDERING = "MMD_AT_PLUS_A"

__all__ = ["stationary_distribution", "relaxation_rates", "solve", "factorize", "is_reversible",
           "log_detailed_balance", "solve_birth_death"]


def _as_generator(Q, name="Q"):
    if not sparse.issparse(Q) and not isinstance(Q, np.ndarray):
        raise ValueError(f"{name}: expected a sparse N×N rate matrix, got {type(Q).__name__}")
    Q = sparse.csr_array(Q, dtype=float)
    if Q.shape[0] != Q.shape[1]:
        raise ValueError(f"{name}: expected a square matrix, got shape {Q.shape}")
    return Q


def _killing(Q):
    """Row sums of Q clipped to ≤ 0 noise: the killing rate of each cell (≥ 0)."""
    scale = np.abs(Q).sum(axis=1)
    rows = np.asarray(Q.sum(axis=1)).ravel()
    killing = -rows
    killing[np.abs(rows) <= 1e-10 * np.maximum(scale, np.finfo(float).tiny)] = 0.0
    return killing


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
    Q = _as_generator(Q)
    killing = _killing(Q)
    if np.any(killing > 0):
        raise ValueError(f"Q: {int(np.sum(killing > 0))} rows have negative sums (mass is "
                         "killed at absorbing cells), so there is no stationary distribution")
    n = Q.shape[0]
    if n == 1:
        return np.ones(1)
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


def _detailed_balance_law(Q, rtol=1e-8):
    """The stationary law of a reversible closed chain, or None if Q is not reversible."""
    log_mu = log_detailed_balance(Q, rtol)
    if log_mu is None or len(np.unique(csgraph.connected_components(Q, directed=False)[1])) > 1:
        return None
    mu = np.exp(log_mu)
    return mu / mu.sum()


def is_reversible(Q, rtol=1e-8) -> bool:
    """Whether Q satisfies detailed balance μ_i Q_ij = μ_j Q_ji for some μ > 0 (see
    :func:`log_detailed_balance`; killing on the diagonal does not matter)."""
    return log_detailed_balance(_as_generator(Q), rtol) is not None


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
    Q = _as_generator(Q)
    n = Q.shape[0]
    closed = not np.any(_killing(Q) > 0)
    want = k + 1 if closed else k
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
    off = Q - sparse.diags_array(Q.diagonal())
    S = sparse.csr_array(off.multiply(off.T).sqrt()) + sparse.diags_array(Q.diagonal())
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
        off = Q - sparse.diags_array(Q.diagonal())
        S = sparse.csr_array(off.multiply(off.T).sqrt()) + sparse.diags_array(Q.diagonal())
        lam = sla.eigsh(sparse.csc_array(S), k=want, sigma=sigma, which="LM",
                        return_eigenvectors=False)
    else:
        lam = sla.eigs(sparse.csc_array(Q), k=want, sigma=sigma, which="LM",
                       return_eigenvectors=False)
    return np.sort(-np.real(lam))


def factorize(M, *, method="auto", rtol=1e-12):
    """A reusable solver ``x = solver(rhs)`` for the sparse system M x = rhs.

    ``method="direct"`` is a sparse LU (SuperLU, COLAMD ordering), good up to ~1e6 unknowns in
    1-D and 2-D. ``method="amg"`` is GMRES (CG for symmetric M) preconditioned by pyamg smoothed aggregation to
    relative residual ``rtol`` (CG when M is symmetric; needs the ``amg`` extra). ``"auto"`` picks direct for
    N ≤ 1e6 unless the stencil looks 3-D (more than 6 nonzeros per row and N > 2e5).
    """
    M = sparse.csc_array(M, dtype=float)
    n = M.shape[0]
    if M.shape[0] != M.shape[1]:
        raise ValueError(f"M: expected a square matrix, got shape {M.shape}")
    if method == "auto":
        method = "direct" if n <= 1_000_000 and not (M.nnz > 6 * n and n > 200_000) else "amg"
    if method == "direct":
        coo = M.tocoo()
        bandwidth = int(np.abs(coo.row.astype(np.int64) - coo.col).max(initial=0))
        if bandwidth <= 2:  # 1-D grids: LAPACK's banded LU is ~10x faster than SuperLU
            return _banded_solver(M, bandwidth)
        try:
            lu = sla.splu(M, permc_spec=ORDERING)
        except RuntimeError as exc:
            raise ValueError(f"M: the matrix is singular ({exc})") from exc
        return lu.solve
    if method == "amg":
        return _amg_solver(M, rtol)
    raise ValueError(f"method: unknown solver {method!r}; choose 'auto', 'direct' or 'amg'")


def solve_birth_death(lower, upper, killing, rhs) -> np.ndarray:
    """Solve (-Q) x = rhs for a birth-death sub-generator, to entrywise relative accuracy.

    Q has rates ``lower[i]`` (i -> i-1), ``upper[i]`` (i -> i+1), all >= 0, and killing rates
    ``killing[i]`` >= 0, so (-Q)_ii = lower[i] + upper[i] + killing[i]: the diagonal is never
    formed. Gaussian elimination from the first state keeps each eliminated row as
    (upper, effective killing) with k'_i = k_i + l_i k'_{i-1} / (u_{i-1} + k'_{i-1}), and back
    substitution x_i = (r'_i + u_i x_{i+1}) / (u_i + k'_i): sums of non-negative terms only
    (the idea of Grassmann-Taksar-Heyman), so for rhs >= 0 every entry of x carries round-off
    relative error even when x spans hundreds of orders of magnitude (exit times e^{dU/D} at any
    barrier), where a general LU loses everything beyond ~1/(eps max rate).

    Raises ValueError when a closed set of states has no killing (x would be infinite).
    """
    args = [np.ascontiguousarray(a, dtype=float) for a in (lower, upper, killing, rhs)]
    x = _birth_death_kernel(*args)
    if not np.all(np.isfinite(x)):
        raise ValueError(
            "domain: a set of cells is never absorbed (no killing reaches it), so its exit time is "
            "infinite"
        )
    return x


def _birth_death_reference(lower, upper, killing, rhs):
    """Plain-Python twin of :func:`_birth_death_kernel` (tests compare them)."""
    n = rhs.size
    eff, r = np.empty(n), np.empty(n)
    prev_eff = prev_r = prev_up = 0.0
    for i in range(n):
        carry = lower[i] / (prev_up + prev_eff) if i > 0 and lower[i] > 0 else 0.0
        eff[i] = killing[i] + carry * prev_eff
        r[i] = rhs[i] + carry * prev_r
        prev_eff, prev_r, prev_up = eff[i], r[i], upper[i]
    x = np.empty(n)
    following = 0.0
    for i in range(n - 1, -1, -1):
        denominator = upper[i] + eff[i]
        x[i] = (r[i] + upper[i] * following) / denominator if denominator > 0 else np.inf
        following = x[i]
    return x


_birth_death_kernel = numba.njit(cache=True)(_birth_death_reference)


def _banded_solver(M, bandwidth: int):
    """LU with partial pivoting of a banded matrix (LAPACK gbtrf), reused by every solve."""
    n = M.shape[0]
    kl = ku = max(bandwidth, 1)
    band = np.zeros((2 * kl + ku + 1, n))  # gbtrf's layout, with kl extra rows for the fill
    coo = M.tocoo()
    band[kl + ku + coo.row - coo.col, coo.col] = coo.data
    lu, pivots, info = lapack.dgbtrf(band, kl, ku)
    if info > 0:
        raise ValueError(f"M: the matrix is singular (zero pivot at row {info})")
    if info < 0:  # an argument LAPACK rejected: a bug here, not bad input
        raise RuntimeError(f"dgbtrf rejected argument {-info}")

    def solver(rhs):
        x, status = lapack.dgbtrs(lu, kl, ku, np.asarray(rhs, dtype=float), pivots)
        if status != 0:
            raise RuntimeError(f"dgbtrs rejected argument {-status}")
        return x

    return solver


def solve(M, rhs, *, method="auto", rtol=1e-12) -> np.ndarray:
    """Solve M x = rhs (see :func:`factorize` for the methods)."""
    return factorize(M, method=method, rtol=rtol)(np.asarray(rhs, dtype=float))


def _amg_solver(M, rtol):
    try:
        import pyamg
    except ImportError as exc:
        raise ImportError("method='amg' needs pyamg: pip install 'fpsolve[amg]'") from exc
    # generators have a negative diagonal; AMG expects a positive one
    sign = -1.0 if np.sum(M.diagonal()) < 0 else 1.0
    A = sparse.csr_array(sign * M)
    symmetric = abs(A - A.T).max() <= 1e-14 * abs(A).max()
    ml = pyamg.smoothed_aggregation_solver(
        A, symmetry="hermitian" if symmetric else "nonsymmetric")

    def solver(rhs):
        b = sign * np.asarray(rhs, dtype=float)
        residuals = []
        x = ml.solve(b, tol=rtol, accel="cg" if symmetric else "gmres", maxiter=500,
                     residuals=residuals)
        resid = np.linalg.norm(b - A @ x) / max(np.linalg.norm(b), np.finfo(float).tiny)
        if resid > 10 * rtol:
            raise RuntimeError(f"amg: the Krylov solver did not reach rtol = {rtol:g} "
                               f"(relative residual {resid:.1e} after {len(residuals)} "
                               "iterations); try method='direct'")
        return x

    return solver
