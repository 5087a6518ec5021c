"""exp(tA) v for reversible chains by a Chebyshev series: matrix products only, with an error bound.

The forward operator A = Q^T of a reversible generator (pi_i Q_ij = pi_j Q_ji) is similar to the
symmetric S = Pi^(1/2) Q Pi^(-1/2) (Pi = diag(pi)): its spectrum lies on [-rho, 0], rho bounded by
Gershgorin's theorem applied to S, whose entries S_ij = sqrt(Q_ij Q_ji) need no pi. On that
interval, with x = 1 + 2 lambda / rho in [-1, 1] and z = t rho / 2,

    exp(t lambda) = e^{-z} e^{z x} = sum_k c_k T_k(x),   c_0 = I_0(z) e^{-z},  c_k = 2 I_k(z) e^{-z},

(the Chebyshev series of the exponential; I_k the modified Bessel functions). Truncated after
degree m, the polynomial p satisfies |p(lambda) - e^{t lambda}| <= sum_{k > m} |c_k| =: delta on the
whole interval, so

    || p(A) v - exp(tA) v ||_pi  <=  delta || v ||_pi,     ||w||_pi = || Pi^(-1/2) w ||_2,

for every vector v: the bound holds in the norm in which A is symmetric, whatever v is. The degree
needed grows like sqrt(rho t log(1/delta)) (I_k(z) e^{-z} ~ e^{-k^2 / 2z} / sqrt(2 pi z)), against
rho t for explicit time stepping: about 1200 products of A for the 128^3 three-parameter problem
at t = 10, with no linear solve. All output times share one recurrence (the vectors T_k(B) v are
the same; only the coefficients depend on t).

Non-reversible chains have complex eigenvalues, outside the interval the series is built on, where
Chebyshev polynomials grow like (x + sqrt(x^2 - 1))^k: this method refuses them
(:func:`fpsolve.integrate.integrate` then uses the shift-and-invert Krylov exponential).
"""

from __future__ import annotations

import numba
import numpy as np
import scipy.sparse as sparse
from scipy.special import ive

from .operators import is_matrix_free

__all__ = ["chebyshev_expm_multiply", "symmetrized_radius", "chebyshev_degree", "ChebyshevResult"]


class ChebyshevResult:
    """exp(t A) v at the requested times (``y``, shape (len(times), n)), with the ``degree`` of the
    polynomial, the interval radius ``rho`` and the truncation ``bound`` delta (relative, in the
    pi-weighted norm) reached at each time."""

    def __init__(self, y, degree, rho, bound, maximum_norm=False):
        self.y, self.degree, self.rho, self.bound = y, degree, rho, bound
        self.maximum_norm = maximum_norm  # whether the error is also below rtol max|v| entrywise

    def __repr__(self) -> str:
        return f"ChebyshevResult(degree={self.degree}, rho={self.rho:.4g}, bound={np.max(self.bound):.2g})"


def symmetrized_radius(A) -> float:
    """Gershgorin's bound on the spectral radius of the symmetrized operator of a reversible
    forward operator A = Q^T: max_i (|A_ii| + sum_j sqrt(A_ij A_ji)), from A alone (sparse), or
    2 max |A_ii| for a matrix-free A (an upper bound for any generator: row sums of Q vanish)."""
    if is_matrix_free(A):
        return 2.0 * float(np.abs(A.diagonal()).max(initial=0.0))
    A = sparse.csr_array(A)
    off = A - sparse.diags_array(A.diagonal())
    symmetric = off.multiply(off.T)
    symmetric.data = np.sqrt(np.maximum(symmetric.data, 0.0))
    rows = np.asarray(symmetric.sum(axis=1)).ravel()
    return float(np.max(np.abs(A.diagonal()) + rows, initial=0.0))


def chebyshev_degree(z: float, rtol: float) -> tuple:
    """(m, delta): the smallest degree m whose truncation bound delta = sum_{k > m} 2 I_k(z) e^{-z}
    is below ``rtol``, for z = t rho / 2."""
    if z <= 0:
        return 0, 0.0
    # I_k(z) e^-z ~ exp(-k^2 / 2z): the tail is negligible well beyond k = sqrt(2 z log(1/rtol))
    top = int(np.ceil(np.sqrt(2.0 * z * (np.log(1.0 / rtol) + 10.0)) + 40))
    terms = 2.0 * ive(np.arange(top + 1), z)
    tail = np.cumsum(terms[::-1])[::-1]  # tail[k] = sum_{j >= k} terms[j]
    below = np.flatnonzero(tail[1:] <= rtol)
    m = int(below[0]) if below.size else top
    return m, float(tail[m + 1]) if m + 1 <= top else 0.0


def chebyshev_expm_multiply(
    A, v, times, *, rtol: float = 1e-10, rho: float | None = None, log_weight=None
) -> ChebyshevResult:
    """exp(t A) v for each t in ``times`` (non-negative), A the forward operator of a reversible
    chain (spectrum on [-rho, 0]), to ``rtol`` relative in the pi-weighted norm (module docstring).

    Parameters
    ----------
    A : sparse matrix or MatrixFree
        A = Q^T, Q a reversible generator (closed or with killing).
    v : array (n,)
    times : array of float
    rtol : float
        Truncation bound delta of the series at every time.
    rho : float, optional
        An upper bound on the spectral radius of A (default :func:`symmetrized_radius`).
    log_weight : array (n,), optional
        log pi up to a constant (detailed balance, :func:`fpsolve.linalg.log_detailed_balance`).
        Given, the series runs on the symmetric S = Pi^(-1/2) A Pi^(1/2) (S_ij = sqrt(A_ij A_ji))
        stored by its upper diagonals, for u = Pi^(-1/2) v: half the memory traffic of CSR per
        product (3 numbers per cell in 3-D instead of 7 values and 7 indices). The answer is
        the same polynomial of A applied to v, in exact arithmetic, and the degree is raised so
        that the error is at most ``rtol`` max|v| in the maximum norm as well.
    """
    times = np.asarray(times, dtype=float).ravel()
    if np.any(times < 0) or not np.all(np.isfinite(times)):
        raise ValueError("times: expected non-negative finite times")
    v = np.asarray(v, dtype=float)
    rho = symmetrized_radius(A) if rho is None else float(rho)
    if rho <= 0:  # A = 0
        return ChebyshevResult(np.tile(v, (len(times), 1)), 0, rho, np.zeros(len(times)))
    z = times * rho / 2.0
    symmetric = None if log_weight is None or is_matrix_free(A) else _symmetric_form(A, v, log_weight)
    if symmetric is not None:
        # |error_i| <= sqrt(pi_i / max pi) delta ||v||_pi' (||.||_pi' with pi / max pi) <= delta
        # ||u0||_2: the truncation bound divided by ||u0||_2 / max|v| bounds the error in the
        # maximum norm by rtol max|v| (a start where pi is small, e^-20 of the well's, costs
        # ~sqrt(2 z 23) more products, a few percent)
        peak = float(np.abs(v).max(initial=0.0))
        largest = float(np.abs(symmetric[1]).max(initial=0.0))
        spread = largest * float(np.linalg.norm(symmetric[1] / largest)) / peak if peak > 0 else 1.0
        rtol = rtol / max(spread, 1.0)
    degrees, bounds = zip(*(chebyshev_degree(float(s), rtol) for s in z))
    m = max(degrees)
    coefficients = np.array([2.0 * ive(np.arange(m + 1), s) for s in z])  # (len(times), m + 1)
    coefficients[:, 0] /= 2.0
    for row, degree in enumerate(degrees):
        coefficients[row, degree + 1 :] = 0.0
    # T_k(B) v with B = I + (2 / rho) A: T_0 = v, T_1 = B v, T_{k+1} = 2 B T_k - T_{k-1}
    if symmetric is not None:
        step, v, root = symmetric[0](2.0 / rho), symmetric[1], symmetric[2]
    else:
        step, root = _step_function(A, 2.0 / rho), None
    y = np.outer(coefficients[:, 0], v)
    previous, current = v.copy(), np.zeros_like(v)
    if m >= 1:
        step(v, current, current, 0.5, coefficients[:, 1], y)  # T_1 = (2 B T_0 - 0) / 2
    for k in range(2, m + 1):
        # T_{k+1} overwrites T_{k-1} in place (each entry is read once, then written): one
        # stream less per product of this memory-bound loop
        step(current, previous, previous, 1.0, coefficients[:, k], y)
        previous, current = current, previous
    if root is not None:
        y *= root  # p = Pi^(1/2) u
    return ChebyshevResult(y, m, rho, np.array(bounds), maximum_norm=root is not None)


#: log pi below this (relative to its maximum) is not scaled by (the factor e^{-log pi / 2} would
#: overflow): the symmetric form is not used when v has mass on such states.
LOG_WEIGHT_FLOOR = -1300.0

#: Largest number of distinct upper diagonals for the symmetric form (a 3-D stencil has 3, with
#: cross diffusion 9, plus the wraps of periodic axes).
MAX_DIAGONALS = 20


def _symmetric_form(A, v, log_weight):
    """(make_step(scale), u0, root) for the symmetric form, or None where it does not apply (many
    diagonals, or v with mass where pi underflows)."""
    A = sparse.csr_array(A)
    n = A.shape[0]
    log_weight = np.asarray(log_weight, dtype=float) - np.max(log_weight)
    low = log_weight < LOG_WEIGHT_FLOOR
    if np.any(low & (v != 0)):
        return None
    off = A - sparse.diags_array(A.diagonal())
    product = sparse.triu(off.multiply(off.T), k=1, format="csr")
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(product.indptr))
    shift = product.indices.astype(np.int64) - rows
    offsets, which = np.unique(shift, return_inverse=True)
    if offsets.size > MAX_DIAGONALS:
        return None
    upper = np.zeros((offsets.size, n))
    upper[which.ravel(), rows] = np.sqrt(np.maximum(product.data, 0.0))
    diagonal = A.diagonal().astype(float)
    root = np.where(low, 0.0, np.exp(0.5 * log_weight))
    u0 = np.where(low, 0.0, v * np.exp(-0.5 * np.maximum(log_weight, LOG_WEIGHT_FLOOR)))

    def make_step(scale):
        def step(current, previous, out, half, c, y):
            _symmetric_chebyshev_step(offsets, upper, diagonal, scale, half, current, previous, out, c, y)

        return step

    return make_step, u0, root


@numba.njit(cache=True, parallel=True)
def _symmetric_chebyshev_step(offsets, upper, diagonal, scale, half, current, previous, out, c, y):
    """out = half (2 (current + scale S current) - previous), S symmetric given by its diagonal and
    upper diagonals (upper[s, i] = S[i, i + offsets[s]]); y[r] += c[r] out. Blocks of 4096 rows
    keep the partial sums in cache while the diagonals stream through; the blocks run in parallel
    threads (each entry is computed by one thread in a fixed order: the result does not depend on
    the thread count)."""
    n = current.size
    block = 4096
    for b in numba.prange((n + block - 1) // block):
        start = b * block
        end = min(n, start + block)
        acc = np.empty(end - start)
        for i in range(start, end):
            acc[i - start] = diagonal[i] * current[i]
        for s in range(offsets.size):
            o = offsets[s]
            for i in range(start, min(end, n - o)):  # S[i, i + o] u[i + o]
                acc[i - start] += upper[s, i] * current[i + o]
            for i in range(max(start, o), end):  # S[i, i - o] = S[i - o, i]
                acc[i - start] += upper[s, i - o] * current[i - o]
        for i in range(start, end):
            value = half * (2.0 * (current[i] + scale * acc[i - start]) - previous[i])
            out[i] = value
            for r in range(c.size):
                if c[r] != 0.0:
                    y[r, i] += c[r] * value


def _step_function(A, scale):
    """step(current, previous, out, half, c, y): out = half (2 (current + scale A current) -
    previous), then y[r] += c[r] out for every output time r. For a sparse A with few distinct
    diagonals (the stencils of structured grids: 7 in 3-D) one fused, blocked Numba loop over
    its diagonals (:func:`_diagonals`), else over its CSR rows."""
    if is_matrix_free(A):

        def step(current, previous, out, half, c, y):
            out[:] = half * (2.0 * (current + scale * A.matvec(current)) - previous)
            for row in np.flatnonzero(c):
                y[row] += c[row] * out

        return step
    A = sparse.csr_array(A)
    indptr, indices, data = A.indptr, A.indices, A.data.astype(float)

    def step(current, previous, out, half, c, y):
        _csr_chebyshev_step(indptr, indices, data, scale, half, current, previous, out, c, y)

    return step


@numba.njit(cache=True)
def _csr_chebyshev_step(indptr, indices, data, scale, half, current, previous, out, c, y):
    """out = half (2 (current + scale A current) - previous), A in CSR form; y[r] += c[r] out."""
    for i in range(current.size):
        total = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            total += data[p] * current[indices[p]]
        value = half * (2.0 * (current[i] + scale * total) - previous[i])
        out[i] = value
        for r in range(c.size):
            if c[r] != 0.0:
                y[r, i] += c[r] * value
