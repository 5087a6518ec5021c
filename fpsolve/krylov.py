"""exp(tA) v at many times t from one shift-and-invert Krylov space (rational Krylov).

With Z = (I - gamma A)^-1 and the Arnoldi relation Z V_m = V_{m+1} H_m, the approximation

    exp(t A) v  ~  |v| V_m exp(t A_m) e_1,    A_m = (I - H_m^-1) / gamma,

converges at a rate independent of the grid (the norm of A) for sectorial A such as the forward
operators of Fokker-Planck generators (van den Eshof & Hochbruck, SIAM J. Sci. Comput. 27, 2006;
Moret & Novati, BIT 44, 2004). One real sparse LU of I - gamma A serves every time in a band
of times within a factor ~10 of gamma; bands of times far apart get their own space. This is
what makes the exit-time law on 2-D grids cheap: hundreds of output times cost one or two LUs
and a few dozen solves, where a rational approximation per time needs 8 complex LUs each.

The Krylov dimension grows until the result at every requested time changes by less than
``rtol * |v|`` when 8 more vectors are added.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as dense
import scipy.sparse as sparse

from .operators import is_matrix_free
from .solvers import shifted_solver

__all__ = ["expm_multiply_krylov"]


def expm_multiply_krylov(A, v, times, *, rtol: float = 1e-10, max_dim: int = 200, band: float = 30.0):
    """exp(t A) v for every t in ``times`` (non-negative), shape ``(len(times), len(v))``.

    Parameters
    ----------
    A : sparse matrix (N, N)
        A forward operator (spectrum in the closed left half plane, near the real axis).
    v : array (N,)
    times : array of float
        Non-negative times, any order.
    rtol : float
        Target accuracy relative to |v| (the estimate compares successive Krylov dimensions).
    max_dim : int
        Largest Krylov dimension per band; exceeding it raises RuntimeError.
    band : float
        Times within a factor ``band`` of each other share one Krylov space (one LU).

    Returns
    -------
    np.ndarray
        ``out[i] = exp(times[i] A) v``.
    """
    if not is_matrix_free(A):
        A = sparse.csc_array(A, dtype=float)
    v = np.asarray(v, dtype=float)
    times = np.asarray(times, dtype=float)
    if np.any(times < 0) or not np.all(np.isfinite(times)):
        raise ValueError("times: expected finite non-negative times")
    out = np.empty((times.size, v.size))
    zero = times == 0
    out[zero] = v
    positive = np.flatnonzero(~zero)
    if positive.size == 0:
        return out
    order = positive[np.argsort(times[positive])]
    start = 0
    while start < order.size:
        t_low = times[order[start]]
        stop = start
        while stop < order.size and times[order[stop]] <= band * t_low:
            stop += 1
        group = order[start:stop]
        gamma = float(np.sqrt(times[group[0]] * times[group[-1]])) / 4.0
        out[group] = _band(A, v, times[group], gamma, rtol, max_dim)
        start = stop
    return out


def _band(A, v, times, gamma, rtol, max_dim):
    n = v.size
    beta = float(np.linalg.norm(v))
    if beta == 0:
        return np.zeros((times.size, n))
    solve = shifted_solver(A, 1.0, gamma)
    basis = np.empty((min(max_dim, n) + 1, n))
    hess = np.zeros((min(max_dim, n) + 1, min(max_dim, n)))
    basis[0] = v / beta
    previous = None
    for j in range(min(max_dim, n)):
        w = solve(basis[j])
        for _ in range(2):  # Gram-Schmidt twice: orthogonality to round-off
            coef = basis[: j + 1] @ w
            w -= coef @ basis[: j + 1]
            hess[: j + 1, j] += coef
        hess[j + 1, j] = np.linalg.norm(w)
        breakdown = hess[j + 1, j] <= 1e-14 * np.abs(hess[: j + 1, j]).max()
        if not breakdown:
            basis[j + 1] = w / hess[j + 1, j]
        m = j + 1
        if m % 8 and not breakdown and m < min(max_dim, n):
            continue
        small = _small_exponentials(hess[:m, :m], gamma, times) * beta  # (len(times), m)
        if breakdown:
            return small @ basis[:m]
        if previous is not None:
            change = np.abs(small[:, : previous.shape[1]] - previous).max() + np.abs(small[:, previous.shape[1]:]).max()
            if change <= rtol * beta:
                return small @ basis[:m]
        previous = small
    raise RuntimeError(
        f"expm_multiply_krylov: no convergence to rtol = {rtol:g} within {max_dim} Krylov vectors "
        f"(times {times[0]:.3g} .. {times[-1]:.3g}); use method='exponential'"
    )


def _small_exponentials(h, gamma, times):
    """Rows exp(t A_m) e_1 for A_m = (I - H^-1) / gamma."""
    m = h.shape[0]
    a_m = (np.eye(m) - dense.solve(h, np.eye(m))) / gamma
    values, vectors = np.linalg.eig(a_m)
    if np.linalg.cond(vectors) < 1e8:
        weights = np.linalg.solve(vectors, np.eye(m)[:, 0])
        rows = (vectors[None, :, :] * (np.exp(np.multiply.outer(times, values)) * weights)[:, None, :]).sum(axis=2)
        return np.real(rows)
    return np.array([dense.expm(t * a_m)[:, 0] for t in times])
