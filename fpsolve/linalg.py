"""Spectral linear algebra on a generator Q: relaxation rates, detailed balance, killing rates.

Q is an N×N sparse rate matrix of a continuous-time Markov chain on grid cells: Q[i, j] ≥ 0 is
the rate from cell i to cell j (i ≠ j) and each row sums to 0 (closed chain) or to a negative
number (mass killed at absorbing boundaries). The forward equation is dp/dt = Qᵀp, the backward
one du/dt = Qu. Here: the slowest relaxation rates (−Re λ of the eigenvalues λ of Q nearest 0),
for a sparse Q or a matrix-free one (:class:`fpsolve.operators.MatrixFree`), each certified to a
relative accuracy or refused (the accurate methods and error estimates are in
:mod:`fpsolve.rate_accuracy`), detailed balance and killing rates. The stationary law lives in
:mod:`fpsolve.stationary`, linear solves in :mod:`fpsolve.solvers`.
"""

import numba
import numpy as np
import scipy.linalg
import scipy.sparse as sparse
from scipy.sparse import linalg as sla

from .operators import is_matrix_free
from .rate_accuracy import RATES_RTOL, birth_death_rates, dirichlet_factor, eigenvalue_error_estimates, ritz_rates
from .solvers import birth_death_parts, factorize, shifted_solver, solve, solve_birth_death


__all__ = [
    "relaxation_rates",
    "is_reversible",
    "log_detailed_balance",
    "killing_rates",
    "symmetrized",
    "reverse_rates",
    "as_generator",
    "KILLING_RTOL",
    "DENSE_MAX",
    "RATES_RTOL",
    # linear solves, re-exported from fpsolve.solvers
    "solve",
    "factorize",
    "solve_birth_death",
    "shifted_solver",
    "birth_death_parts",
]

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


def killing_rates(Q, signed: bool = False) -> np.ndarray:
    """The killing rate of each state, −(Q 1)_i where that exceeds the round-off of row i
    (:data:`KILLING_RTOL` times its absolute sum), else 0. A :class:`MatrixFree` operator that
    declares its ``killing`` is taken at its word.

    With ``signed=True``, negative values −(Q 1)_i beyond round-off are kept too: a conservative
    operator with negative off-diagonal entries (second-order transport) can have rows summing
    to a positive number next to an exit, while its total outflow k · p stays the exit flux."""
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
    roundoff = KILLING_RTOL * np.maximum(scale, np.finfo(float).tiny)
    killing[(np.abs(killing) if signed else killing) <= roundoff] = 0.0
    return killing


def symmetrized(Q, back=None) -> sparse.csr_array:
    """S_ij = √(Q_ij Q_ji), S_ii = Q_ii: for a reversible Q, diag(μ)^½ Q diag(μ)^−½ computed entry
    by entry (no over- or underflow of μ^±½ when μ spans hundreds of decades). ``back``: the
    reverse rates aligned with Q's entries (:func:`reverse_rates`), when already at hand."""
    if back is None:
        Q, back = reverse_rates(Q)
    else:
        Q = sparse.csr_array(Q)
    row = np.repeat(np.arange(Q.shape[0]), np.diff(Q.indptr))
    diagonal = Q.indices == row
    data = np.where(diagonal, Q.data, np.sqrt(np.maximum(Q.data * back, 0.0)))
    S = sparse.csr_array((data, Q.indices, Q.indptr), shape=Q.shape)
    S.eliminate_zeros()
    return S


def log_detailed_balance(Q, rtol: float = 1e-8, back=None):
    """log μ (max 0) with μ_i Q_ij = μ_j Q_ji on every link, or None if Q is not reversible.

    μ is built along breadth-first spanning trees of the links in the log domain (log μ_j =
    log μ_i + log(Q_ij / Q_ji) across each tree link, the rounding of every sum carried down the
    tree by TwoSum: tests/test_long_times.py's symmetric double well, 400 cells, balances its
    wells to 5e-16 with it and to 8e-14 with plain sums), so measures spanning thousands of orders
    of magnitude stay exact. Detailed balance is then checked on every link, to ``rtol`` in
    log μ, except between cells that both carry less than e^-460 (1e-200) of the largest weight,
    where floored rates need not balance. A link with a rate ≤ 0 in either direction (or only one
    direction stored) breaks reversibility. The diagonal (killing) is ignored. One compiled pass
    over the links (:func:`_log_measure_reference` is its plain twin). ``back``: the reverse
    rates aligned with a CSR Q's entries (:func:`reverse_rates`), when already at hand.
    """
    Q, back = reverse_rates(Q) if back is None else (sparse.csr_array(Q), np.asarray(back, dtype=float))
    log_mu, ok = _log_measure_kernel(Q.indptr, Q.indices, Q.data, back, float(rtol))
    return log_mu if ok else None


def reverse_rates(Q) -> tuple:
    """``(Q, back)``: Q as CSR with sorted indices and, for each stored entry (i, j), the rate
    Q_ji (0 where it is not stored). Aligned with Q's own data when the pattern is
    structurally symmetric (the transpose has the same indptr and indices)."""
    Q = sparse.csr_array(Q, dtype=float)
    if not Q.has_sorted_indices:
        Q = Q.sorted_indices()
    QT = Q.tocsc()  # the arrays of Q^T in CSR form, with sorted indices
    QT.sort_indices()
    if np.array_equal(Q.indptr, QT.indptr) and np.array_equal(Q.indices, QT.indices):
        return Q, QT.data
    row = np.repeat(np.arange(Q.shape[0]), np.diff(Q.indptr))
    return Q, _entries(Q, Q.indices, row)


def _log_measure_reference(indptr, indices, data, back, rtol):
    """Plain-Python twin of :func:`_log_measure_kernel`: ``(log_mu, reversible)``."""
    n = indptr.size - 1
    log_mu = np.zeros(n)
    carry = np.zeros(n)  # the rounding error of each log_mu, carried down the tree (TwoSum)
    visited = np.zeros(n, dtype=np.bool_)
    queue = np.empty(n, dtype=np.int64)
    for root in range(n):  # one breadth-first tree per connected component
        if visited[root]:
            continue
        visited[root] = True
        queue[0] = root
        head, tail = 0, 1
        while head < tail:
            i = queue[head]
            head += 1
            for k in range(indptr[i], indptr[i + 1]):
                j = indices[k]
                if j == i or visited[j]:
                    continue
                if data[k] <= 0 or back[k] <= 0:
                    return log_mu, False
                step = np.log(data[k] / back[k])
                total = log_mu[i] + step
                rounded = total - log_mu[i]
                carry[j] = carry[i] + (log_mu[i] - (total - rounded)) + (step - rounded)
                log_mu[j] = total
                visited[j] = True
                queue[tail] = j
                tail += 1
    for i in range(n):
        log_mu[i] += carry[i]
    top = log_mu.max() if n else 0.0
    for i in range(n):
        log_mu[i] -= top
    for i in range(n):  # every link (each pair once), not only the tree's
        for k in range(indptr[i], indptr[i + 1]):
            j = indices[k]
            if j == i:
                continue
            if data[k] <= 0 or back[k] <= 0:
                return log_mu, False
            if j > i and max(log_mu[i], log_mu[j]) > -460.0:
                if abs(log_mu[i] - log_mu[j] + np.log(data[k] / back[k])) > rtol:
                    return log_mu, False
    return log_mu, True


_log_measure_kernel = numba.njit(cache=True)(_log_measure_reference)


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


def relaxation_rates(Q, k, *, reversible=None, rtol: float = RATES_RTOL, killing=None) -> np.ndarray:
    """The k smallest nonzero relaxation rates −Re λ of the generator Q, ascending, positive, each
    certified to relative accuracy ``rtol`` for the chain whose rates are Q's off-diagonal entries
    and killing rates (the diagonal is taken as minus their sum, exactly).

    For a closed chain the eigenvalue 0 (the stationary law) is left out; with killing every
    eigenvalue counts and the first rate is the decay rate of survival. Complex pairs contribute
    two equal rates. The method follows Q's structure (:mod:`fpsolve.rate_accuracy`):

    * birth-death chains (1-D): squared singular values of a bidiagonal factor of −Q, accurate to
      ~n·eps relative at any barrier height (gaps 1e-18 of the fastest rate measured to 5e-15);
    * other reversible chains: shift-inverted Lanczos on the symmetrized generator (the known
      stationary vector deflated), then Rayleigh–Ritz with the Dirichlet form, a sum of squares;
    * non-reversible chains and large matrix-free operators: shift-invert Arnoldi with right and
      left eigenvectors, and a first-order error estimate κ(λ)·|residual|.

    Parameters
    ----------
    Q : sparse matrix or MatrixFree, shape (N, N)
    k : int
        Number of rates, 1 ≤ k ≤ N − 2 (N with killing).
    reversible : bool, optional
        None: detect detailed balance. True: require it (ValueError if Q violates it). False:
        use the general (non-reversible) method even on a reversible chain.
    rtol : float
        Relative accuracy to certify. A rate whose a-posteriori error estimate exceeds
        ``rtol`` times the rate is refused with RuntimeError, never returned.
    killing : array, optional
        The exact killing rate of each state (e.g. :attr:`fpsolve.Generator.killing`, the rates
        into removed absorbing cells). Default: :func:`killing_rates` (Q's row deficits, which
        carry round-off ~eps·max|Q_ii| when killing is small against the rates).

    Returns
    -------
    np.ndarray
        Shape (k,).
    """
    Q = as_generator(Q)
    n = Q.shape[0]
    if killing is None:
        killing = killing_rates(Q)
    else:
        killing = np.asarray(killing, dtype=float)
        if killing.shape != (n,) or not np.all(np.isfinite(killing)) or np.any(killing < 0):
            raise ValueError(
                f"killing: expected {n} finite non-negative rates, one per state, got shape {killing.shape}"
            )
    closed = not np.any(killing > 0)
    if not (isinstance(rtol, (float, int)) and 0 < rtol < 1):
        raise ValueError(f"rtol: expected a relative tolerance in (0, 1), got {rtol!r}")
    if not (isinstance(k, (int, np.integer)) and 1 <= k <= (n - 2 if closed else n)):
        raise ValueError(
            f"k: expected an integer in [1, {n - 2 if closed else n}] for a {n}-state "
            f"{'closed' if closed else 'killed'} chain, got {k!r}"
        )
    k = int(k)
    if is_matrix_free(Q):
        rates, error = _general_rates(Q, k, killing, closed)
        return _certified(rates, error, rtol, "shift-invert Arnoldi (matrix-free)")
    log_mu = log_detailed_balance(Q) if reversible is not False else None
    if reversible is True and log_mu is None:
        raise ValueError(
            "reversible: Q violates detailed balance μ_i Q_ij = μ_j Q_ji, so its "
            "rates cannot be computed as a reversible chain's; pass reversible=None "
            "to detect it"
        )
    if log_mu is None:
        rates, error = _general_rates(Q, k, killing, closed)
        return _certified(rates, error, rtol, "shift-invert Arnoldi (non-reversible chain)")
    parts = birth_death_parts(Q)
    if parts is not None:
        rates, relative = birth_death_rates(parts[0], parts[1], killing, k)
        return _certified(rates, relative * rates, rtol, "bidiagonal singular values")
    rates, error = _reversible_rates(Q, k, killing, log_mu, closed)
    return _certified(rates, error, rtol, "Lanczos + Dirichlet-form Rayleigh-Ritz")


def _certified(rates, error, rtol, method):
    """``rates`` when every a-posteriori error estimate is within ``rtol`` of its rate; else
    RuntimeError naming what would help."""
    relative = error / np.maximum(np.abs(rates), np.finfo(float).tiny)
    if np.all(relative <= rtol) and np.all(rates > 0):
        return rates
    a = int(np.argmax(relative > rtol)) if np.any(relative > rtol) else int(np.argmax(rates <= 0))
    raise RuntimeError(
        f"relaxation_rates: rate {a + 1} = {rates[a]:.6g} carries an estimated relative error "
        f"{relative[a]:.1e}, above rtol = {rtol:.0e} ({method}, double precision): the chain is "
        "too metastable or too non-normal for its slow rates to be resolved. Mean exit times "
        "(fpsolve.mean_exit_time, linear solves) resolve these time scales; a coarser grid "
        f"(smaller max|Q_ii|) or a looser tolerance (relaxation_rates(..., "
        f"rtol={max(10 * relative[a], 10 * rtol):.0e})) also helps"
    )


#: Chains up to this size are diagonalised densely (all eigenvectors, then the same refinement
#: and error estimates as the sparse path). Small: a threaded dense eig of 300 states took 5 s
#: on a loaded 2-core machine, where shift-invert Arnoldi takes milliseconds.
DENSE_EIG = 100


def _reversible_rates(Q, k, killing, log_mu, closed):
    """Rates and absolute error bounds of a reversible chain: Lanczos vectors of the symmetrized
    generator S (one extra pair for the gap), refined by Rayleigh–Ritz with the Dirichlet form."""
    n = Q.shape[0]
    m = min(k + 1, n - 1 if closed else n)
    null = None
    if closed:
        null = np.exp(0.5 * log_mu)
        null /= np.linalg.norm(null)
    S = symmetrized(Q)
    scale = float(np.max(np.abs(Q.diagonal())))
    if n <= DENSE_EIG or m >= n - 2:
        dense = S.toarray()
        if closed:  # move the zero mode far below the spectrum
            dense -= 4.0 * scale * np.outer(null, null)
        vectors = np.linalg.eigh(dense)[1][:, ::-1][:, :m]
    else:
        vectors = _slowest_symmetric_vectors(S, m, 1e-10 * scale, null)
    theta, error = ritz_rates(dirichlet_factor(Q, killing), vectors, null)
    return theta[:k], error[:k]


def _slowest_symmetric_vectors(S, m, sigma, null):
    """Eigenvectors of the symmetric S for its m eigenvalues nearest 0 (S ≤ 0): Lanczos on
    P (S − σ I)^{-1} P, P the projector orthogonal to ``null`` (None: no deflation), whose
    eigenvalues 1/(λ − σ) are largest in modulus for the slowest modes."""
    n = S.shape[0]
    # S is symmetric: a symmetric fill-reducing ordering halves the factor
    solve = sla.splu(
        sparse.csc_array(S - sigma * sparse.identity(n, format="csc")),
        permc_spec="MMD_AT_PLUS_A",
        options=dict(SymmetricMode=True),
    ).solve

    def inverse(x):
        x = np.ravel(x)
        if null is None:
            return solve(x)
        # np.sum of a product, not BLAS ddot: a threaded ddot on a loaded machine was measured
        # 20 ms per call here, 40 times the rest of the iteration
        y = solve(x - null * np.sum(null * x))
        return y - null * np.sum(null * y)

    operator = sla.LinearOperator((n, n), matvec=inverse, dtype=float)
    return sla.eigsh(operator, k=m, which="LM")[1]


def _general_rates(Q, k, killing, closed):
    """Rates and first-order error estimates κ(λ)|r| of any generator (sparse or matrix-free):
    right and left eigenvectors by shift-invert Arnoldi (dense for small chains).

    Shift-invert finds the eigenvalues nearest 0 in modulus; the rates are the smallest real
    parts. For a spectrum away from the real axis (kinetic operators: Re λ = -γ/2 with |Im λ|
    up to ω) these differ: an eigenvalue -1.5 + 0.87i (modulus 1.7) comes before -1 + 1.73i
    (modulus 2) although its rate is larger. When the eigenvalues found are complex, twice as
    many plus two are computed and the smallest real parts among them returned."""
    n = Q.shape[0]
    want = k + 1 if closed else k
    scale = float(np.max(np.abs(Q.diagonal())))
    lam, right, left = _slowest_eigentriples(Q, want, scale, closed)
    if lam.size < n and np.any(np.abs(lam.imag) > 1e-8 * np.abs(lam)):
        lam, right, left = _slowest_eigentriples(Q, min(2 * want + 2, n - 2), scale, closed)
    order = np.argsort(-lam.real)[:want] if lam.size > want else np.argsort(-lam.real)
    lam, right, left = lam[order], right[:, order], left[:, order]
    residual = _residual_norms(Q, lam, right, scale)
    error = eigenvalue_error_estimates(lam, right, left, residual)
    rates = -lam.real
    if closed:  # the eigenvalue nearest 0 is the stationary law's
        keep = np.arange(rates.size) != int(np.argmin(np.abs(lam)))
        rates, error = rates[keep], error[keep]
    return rates[:k], error[:k]


def _slowest_eigentriples(Q, want, scale, closed):
    """(λ, right, left): the ``want`` eigenvalues of Q nearest 0 with right and left
    eigenvectors (all of them, densely, for small chains)."""
    n = Q.shape[0]
    if not is_matrix_free(Q) and (n <= DENSE_EIG or want >= n - 2):
        lam, left, right = scipy.linalg.eig(Q.toarray(), left=True, right=True)
        left = left.conj()  # eigenvectors of Q^T
    else:
        lam, right = _eigenpairs(Q, want, 1e-10 * scale)
        if closed and -lam.real[np.argsort(-lam.real)[1]] > 1e-7 * scale:
            # the zero mode, amplified to 1/σ by the inversion, pollutes the others with relative
            # errors ~eps/(σ r); a second pass with σ = r_1/2 removes that amplification
            lam, right = _eigenpairs(Q, want, 0.5 * np.sort(-lam.real)[1])
        sigma = max(1e-10 * scale, 0.5 * float(np.sort(-lam.real)[1])) if closed else 1e-10 * scale
        mu, left = _eigenpairs(Q.T, want, sigma)
        left = left[:, [int(np.argmin(np.abs(mu - value))) for value in lam]]
    return lam, right, left


def _eigenpairs(Q, want, sigma):
    """Eigenvalues λ of Q nearest the shift σ > 0 with right eigenvectors: shift-invert Arnoldi,
    sparse LU for a sparse Q, preconditioned Krylov inner solves for a matrix-free one. A
    generator-like preconditioner shares Q's null vector (the constants), so the nearly singular
    shifted solves stay well preconditioned."""
    n = Q.shape[0]
    if not is_matrix_free(Q):
        return sla.eigs(sparse.csc_array(Q), k=want, sigma=sigma, which="LM")
    inverse = shifted_solver(Q, -sigma, -1.0)  # (Q - sigma I)^-1
    operator = sla.LinearOperator((n, n), matvec=Q.matvec, dtype=float)
    opinv = sla.LinearOperator((n, n), matvec=inverse, dtype=float)
    return sla.eigs(operator, k=want, sigma=sigma, OPinv=opinv, which="LM")


def _residual_norms(Q, lam, right, scale):
    """|Q x − λ x| per column, plus a bound on its own round-off: (c + 2) eps (|Q| |x| + |λ| |x|)
    with c the most nonzeros of a row (a sparse product sums c terms); for a matrix-free Q, |Q|
    is bounded by 2 max|Q_ii| (generator rows are diagonally dominant) and c by log2(N) + 2 (FFT
    products)."""
    eps = np.finfo(float).eps
    if is_matrix_free(Q):
        apply = lambda x: Q.matvec(x.real) + 1j * Q.matvec(x.imag)  # noqa: E731
        products = np.column_stack([apply(x) for x in right.T])
        c = np.log2(Q.shape[0]) + 2.0
        floor = c * eps * (2.0 * scale + np.abs(lam)) * np.linalg.norm(right, axis=0)
    else:
        products = Q @ right
        c = float(np.diff(Q.indptr).max(initial=0)) + 2.0
        floor = c * eps * np.linalg.norm(abs(Q) @ np.abs(right) + np.abs(right) * np.abs(lam), axis=0)
    return np.linalg.norm(products - right * lam, axis=0) + floor
