"""Relaxation rates to high relative accuracy, and a-posteriori error estimates for the others.

The slowest rates of a metastable chain are e^{-dU/T} small against the fastest ones, max|Q_ii|.
An eigensolver working on Q (or on its symmetrization S) sees Q_ii = -(sum of the row's rates),
rounded: an absolute perturbation eps max|Q_ii| of every eigenvalue, which is a relative error
eps max|Q_ii| / rate of the slowest one, and grows as the grid is refined (max|Q_ii| ~ T / h^2).
Three cures, by structure:

* **birth-death chains** (tridiagonal Q, both directions of every link present): -Q is similar to
  A^T A, A the bidiagonal matrix with one row per link e, (-sqrt(b_e), +sqrt(d_{e+1})) at columns
  (e, e + 1), plus one row sqrt(kappa_i) per killed state. A is brought to an upper bidiagonal R
  by Givens rotations that only multiply and take hypotenuses, and the singular values of R are
  found by bisection on its Golub-Kahan matrix (LAPACK dstebz, zero diagonal), which Demmel and
  Kahan (1990) showed to be accurate to a few eps *relative* to each singular value. The rates
  sigma^2 carry ~n eps relative error whatever the gap; Q's diagonal is never used.
* **other reversible chains** (detailed balance mu_i Q_ij = mu_j Q_ji): the same A (one row per
  link, sqrt(Q_ji) v_j - sqrt(Q_ij) v_i in the symmetrized coordinates v = sqrt(mu) f) gives the
  Dirichlet form sum_links mu_i Q_ij (f_j - f_i)^2 + sum_i kappa_i mu_i f_i^2 = |A v|^2 as a sum
  of squares. Rayleigh-Ritz with it on an eigensolver's slow subspace V gives rates with an error
  quadratic in the subspace's error, estimated a posteriori from the residuals A^T A y - theta y
  and the gap to the next rate.
* **non-reversible chains**: first-order estimate kappa(lambda) |r| / |x| from the right and left
  eigenvectors (kappa = |x| |y| / |y^H x|), the residual including its own round-off.
"""

from __future__ import annotations

import numba
import numpy as np
import scipy.sparse as sparse
from scipy.linalg import lapack

__all__ = ["RATES_RTOL", "birth_death_rates", "dirichlet_factor", "ritz_rates", "eigenvalue_error_estimates"]

#: Relative accuracy that every returned relaxation rate is certified to (docs/numerics.md);
#: a rate whose a-posteriori error estimate exceeds it is refused.
RATES_RTOL = 1e-6

#: Smallest rate that is returned: below it sigma^2 leaves the normal double range (1e-308), and
#: a computed zero would be indistinguishable from a reducible chain.
SMALLEST_RATE = 1e-290

_EPS = np.finfo(float).eps


def _bidiagonal_reference(up, down, kill):
    """Upper bidiagonal R (diagonal, superdiagonal) with R^T R = A^T A = -S for the birth-death
    chain with sqrt rates ``up[i]`` = sqrt(b_i) (i -> i+1), ``down[i]`` = sqrt(d_i) (i -> i-1) and
    ``kill[i]`` = sqrt(kappa_i). Plain-Python twin of :data:`_bidiagonal_kernel`.

    Column by column, the row carried from the previous rotation (one entry, ``carry``) is merged
    with the killing row (hypot), then rotated against the link row (-up[i], down[i+1]): with
    r = hypot(g, up[i]), the new row of R is (r, up[i] down[i+1] / r) and the carry into the next
    column g down[i+1] / r. Products, quotients and hypotenuses only: no cancellation, so every
    entry of R is accurate to a few eps relative.
    """
    n = up.size
    diagonal, superdiagonal = np.zeros(n), np.zeros(max(n - 1, 0))
    carry = 0.0
    for i in range(n):
        g = np.hypot(carry, kill[i])
        if i == n - 1:
            diagonal[i] = g
            break
        r = np.hypot(g, up[i])
        diagonal[i] = r
        if r > 0.0:
            superdiagonal[i] = -(up[i] / r * down[i + 1])
            carry = g / r * down[i + 1]
        else:  # no killing so far and no link to the right: the chain splits here
            carry = 0.0
    return diagonal, superdiagonal


_bidiagonal_kernel = numba.njit(cache=True)(_bidiagonal_reference)


def smallest_singular_values(diagonal, superdiagonal, first: int, count: int) -> np.ndarray:
    """Singular values ``first`` .. ``first + count - 1`` (0-based, ascending) of the upper
    bidiagonal matrix, by bisection on its Golub-Kahan form (zero diagonal, off-diagonal
    d_1, e_1, d_2, ...), whose eigenvalues are +-sigma; absolute tolerance 2 * tiny, so each is
    found to its own relative precision."""
    n = diagonal.size
    off = np.empty(2 * n - 1)
    off[0::2], off[1::2] = diagonal, superdiagonal
    m, values, _, _, info = lapack.dstebz(
        np.zeros(2 * n), off, 2, 0.0, 0.0, n + 1 + first, n + first + count, 2 * np.finfo(float).tiny, b"E"
    )
    if info != 0 or m != count:
        raise RuntimeError(f"Q: LAPACK dstebz failed on the bidiagonal factor (info = {info})")
    return np.sort(values[:m])


def birth_death_rates(lower, upper, killing, k: int) -> tuple:
    """The k slowest relaxation rates of a birth-death chain, ascending, and their relative error
    bound, from the bidiagonal factor (no subtraction anywhere).

    ``lower[i]`` is the rate i -> i-1, ``upper[i]`` the rate i -> i+1, ``killing[i]`` >= 0 the rate
    of absorption; every link must exist both ways (upper[i] > 0 iff lower[i+1] > 0). A chain
    without killing (closed) has the exact eigenvalue 0, which is left out.

    Returns ``(rates, relative_error)``. Demmel and Kahan bound the error of each singular value
    of an exactly stored R by about (2n - 1) eps relative to itself; R's entries carry a few eps
    each, from the rates; the rates are squares: 4 n eps in all (measured 7e-16 .. 9e-15 for n up
    to 8000, docs/numerics.md).
    """
    killing = np.asarray(killing, dtype=float)
    up, down = np.sqrt(np.asarray(upper, float)), np.sqrt(np.asarray(lower, float))
    kill = np.sqrt(killing)
    diagonal, superdiagonal = _bidiagonal_kernel(up, down, kill)
    closed = not np.any(killing > 0)
    sigma = smallest_singular_values(diagonal, superdiagonal, 1 if closed else 0, k)
    rates = sigma**2
    if rates[0] < SMALLEST_RATE:
        raise ValueError(
            f"Q: the slowest relaxation rate is {rates[0]:.3g}, below {SMALLEST_RATE:.0e}: the chain "
            "falls apart into pieces that never exchange mass (or exchange it more slowly than double "
            "precision represents); mean exit times between the pieces give the time scales"
        )
    return rates, 4.0 * up.size * _EPS


def dirichlet_factor(Q, killing) -> sparse.csr_array:
    """The sparse L x N matrix A with |A v|^2 = v^T (-S) v for a reversible generator Q: one row
    per link i < j, sqrt(Q_ji) at column j and -sqrt(Q_ij) at column i, and one row sqrt(kappa_i)
    per killed state. A^T A = -S (S the symmetrized generator with the exact diagonal
    -sum_j Q_ij - kappa_i), which is never formed. Requires Q_ij > 0 iff Q_ji > 0."""
    Q = sparse.csr_array(Q)
    coo = sparse.triu(Q, k=1).tocoo()
    i, j, forward = coo.row, coo.col, coo.data
    backward = np.asarray(Q[j, i]).ravel() if i.size else np.zeros(0)
    killed = np.flatnonzero(killing > 0)
    links = i.size
    rows = np.concatenate([np.arange(links), np.arange(links), links + np.arange(killed.size)])
    cols = np.concatenate([j, i, killed])
    data = np.concatenate([np.sqrt(backward), -np.sqrt(forward), np.sqrt(killing[killed])])
    return sparse.csr_array((data, (rows, cols)), shape=(links + killed.size, Q.shape[0]))


def ritz_rates(A, vectors, null=None) -> tuple:
    """Rayleigh-Ritz with the Dirichlet form |A v|^2 on the span of ``vectors`` (N x m, the
    symmetrized coordinates v = sqrt(mu) f), orthogonal to the unit vector ``null`` if given.

    Returns ``(theta, error)``, both ascending by theta, shape (m,): the Ritz values (rates) and an
    a-posteriori bound on their absolute errors for -S = A^T A (Parlett, The Symmetric Eigenvalue
    Problem, Thms 4.5.1 and 11.7.1): some eigenvalue lies within |r_a| of theta_a (r_a the
    residual of the unit Ritz vector), and when the block of the j + 1 slowest Ritz pairs is
    separated from the rest of the spectrum by delta_j, each of its values is within
    |R_j|_F^2 / delta_j of an eigenvalue. delta_j is measured against theta_{j+1} - |r_{j+1}|,
    assuming (as shift-invert guarantees) that no eigenvalue below theta_{m-1} was missed. Each
    residual carries its own round-off bound, (c + 2) eps (|A|^T |A| |y| + theta |y|), c the
    most entries of a column of A: with it the estimate cannot fall below what double
    precision can certify.
    """
    V = np.asarray(vectors, dtype=float)
    if null is not None:
        V = V - np.outer(null, null @ V)
    V, _ = np.linalg.qr(V)
    G = A @ V  # rows: weighted differences, all m columns
    _, singular, w_t = np.linalg.svd(G, full_matrices=False)
    order = np.argsort(singular)
    theta = singular[order] ** 2
    Y = V @ w_t[order].T  # unit Ritz vectors
    residual = A.T @ (A @ Y) - Y * theta
    absA = abs(A)
    c = float(np.diff(sparse.csc_array(A).indptr).max(initial=0)) + 2.0
    floor = c * _EPS * (absA.T @ (absA @ np.abs(Y)) + np.abs(Y) * theta)
    res = np.linalg.norm(residual, axis=0) + np.linalg.norm(floor, axis=0)
    error = res.copy()
    for j in range(theta.size - 1):  # the block of Ritz pairs 0..j
        delta = theta[j + 1] - res[j + 1] - theta[j]
        if delta > 0:
            error[: j + 1] = np.minimum(error[: j + 1], np.sum(res[: j + 1] ** 2) / delta)
    return theta, error


def eigenvalue_error_estimates(lam, right, left, residual_norms) -> np.ndarray:
    """First-order error estimates kappa_a |r_a| / |x_a| for eigenvalues ``lam`` of a
    non-normal matrix, with right vectors x_a (columns of ``right``), left vectors y_a (columns of
    ``left``: eigenvectors of the transpose, matched to ``lam``) and residual norms |Q x_a -
    lam_a x_a| (including their round-off); kappa_a = |x_a| |y_a| / |y_a^T x_a| is the
    eigenvalue's condition number (Wilkinson)."""
    norms_x = np.linalg.norm(right, axis=0)
    norms_y = np.linalg.norm(left, axis=0)
    overlap = np.abs(np.sum(left * right, axis=0))
    condition = norms_x * norms_y / np.maximum(overlap, np.finfo(float).tiny)
    return condition * residual_norms / norms_x
