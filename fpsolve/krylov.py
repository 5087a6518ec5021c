"""exp(tA) v at many times t from one shift-and-invert Krylov space (rational Krylov).

With Z = (I - gamma A)^-1 and the Arnoldi relation Z V_m = V_{m+1} H_m, the approximation

    exp(t A) v  ~  |v| V_m exp(t A_m) e_1,    A_m = (I - H_m^-1) / gamma,

converges at a rate independent of the grid (the norm of A) for sectorial A such as the forward
operators of Fokker-Planck generators (van den Eshof & Hochbruck, SIAM J. Sci. Comput. 27, 2006;
Moret & Novati, BIT 44, 2004). One real sparse LU of I - gamma A serves every time in a band
of times within a factor ~10 of gamma; bands of times far apart get their own space. This is
what makes the exit-time law on 2-D grids cheap: hundreds of output times cost one or two LUs
and a few dozen solves, where a rational approximation per time needs 8 complex LUs each.

Long times on closed chains. For t much beyond 1/gap the shift gamma ~ t/4 makes I - gamma A
nearly singular (condition ~ gamma |A|): the solves err by ~ eps gamma |A| along the stationary law,
the Ritz value of the stationary mode leaves 1, and successive Krylov dimensions never agree
(before deflation: "no convergence" at t ~ 1/gap on a 2-D double well at T = 1/12, or, after a
false breakdown, a law silently off by 2e-4 in 1-D at T = 1/24). There the stationary part is
carried exactly and the Krylov space built for the zero-mass rest, each new vector projected back
onto 1^T w = 0 (:mod:`fpsolve.deflation`).

Convergence. The dimension grows until the result at every requested time changes by less than
``rtol * |v|`` when 8 more vectors are added. Double precision cannot always deliver that:
perturbing A by eps |A| (what a normwise backward-stable solve may do) moves exp(tA) v by up to
~ eps |A| t e^{-lambda t} |v|, lambda the slowest decay rate (a Ritz value of A_m). When the
changes stagnate below that floor, the answer is returned with the last change as its error
estimate: silently up to TRUST_FLOOR |v|, with a RuntimeWarning up to REFUSE_FLOOR |v|, refused
beyond (RuntimeError); so is any answer whose floor exceeds |v| (lambda below eps |A|: the slow
part is not determined at all). The floor is an upper bound: the LUs of these M-matrices are
usually far more accurate (measured: slow decay rates right to 1e-7 where eps |A| / lambda = 1e-5).
"""

from __future__ import annotations

import weakref

import numpy as np
import scipy.linalg as dense
import scipy.sparse as sparse

from ._warnings import warn
from .deflation import DEFLATE_ABOVE, closed_chain_law, zero_mass
from .operators import is_matrix_free
from .solvers import shifted_solver

__all__ = ["expm_multiply_krylov", "ROUNDOFF", "TRUST_FLOOR", "REFUSE_FLOOR"]

#: Relative perturbation of A by a normwise backward-stable shifted solve, for the round-off floor
#: eps |A| t e^{-lambda t} |v| below which successive Krylov results may stagnate.
ROUNDOFF = np.finfo(float).eps
#: An answer accepted at the round-off floor with an error estimate above this fraction of |v|
#: warns (RuntimeWarning) with the accuracy reached ...
TRUST_FLOOR = 1e-6
#: ... and one above this fraction is refused (RuntimeError): its slow part is not determined.
REFUSE_FLOOR = 1e-2


def expm_multiply_krylov(A, v, times, *, rtol: float = 1e-10, max_dim: int = 200, band: float = 30.0, stationary=None):
    """exp(t A) v for every t in ``times`` (non-negative), shape ``(len(times), len(v))``.

    Parameters
    ----------
    A : sparse matrix (N, N) or MatrixFree
        A forward operator A = Q^T (spectrum in the closed left half plane, near the real axis).
    v : array (N,)
    times : array of float
        Non-negative finite times, any order, as large as wanted (t = 1e8 / gap is fine).
    rtol : float
        Target accuracy relative to |v| (the estimate compares successive Krylov dimensions);
        where double precision cannot determine exp(tA) v that well, the accuracy it can.
    max_dim : int
        Largest Krylov dimension per band; exceeding it raises RuntimeError.
    band : float
        Times within a factor ``band`` of each other share one Krylov space (one LU).
    stationary : array (N,), optional
        The stationary law of a closed chain (A pi = 0, sum 1), if the caller has it; otherwise it
        is computed when a band of long times needs it (closed chains only).

    Returns
    -------
    np.ndarray
        ``out[i] = exp(times[i] A) v``.

    Raises
    ------
    ValueError
        Negative or non-finite times.
    RuntimeError
        No convergence within ``max_dim`` vectors (the message names the times and another
        method); or exp(tA)v not determined in double precision (the slowest decay rate below
        eps |A|, or an answer stagnating above REFUSE_FLOOR |v|). Between TRUST_FLOOR and
        REFUSE_FLOOR a RuntimeWarning states the accuracy reached.
    """
    if is_matrix_free(A) and A.shape[0] <= DENSE_STATES:
        A = _densified(A)
    elif not is_matrix_free(A):
        A = sparse.csc_array(A, dtype=float)
    v = np.asarray(v, dtype=float)
    times = np.asarray(times, dtype=float)
    if np.any(times < 0) or not np.all(np.isfinite(times)):
        raise ValueError("times: expected finite non-negative times")
    out = np.empty((times.size, v.size))
    out[times == 0] = v
    norm_a = 2.0 * float(np.abs(A.diagonal()).max(initial=0.0))  # Gershgorin bound on |A|
    law = None if stationary is None else np.asarray(stationary, dtype=float)
    looked = law is not None
    for group, gamma in _bands(times, band):
        deflate = gamma * norm_a > DEFLATE_ABOVE
        if deflate and not looked:
            law, looked = closed_chain_law(A), True
        if deflate and law is not None:
            mass = float(v.sum())
            rest = _band(A, v - mass * law, times[group], gamma, rtol * np.linalg.norm(v), max_dim, norm_a, law)
            out[group] = mass * law + rest
        else:
            out[group] = _band(A, v, times[group], gamma, rtol * np.linalg.norm(v), max_dim, norm_a)
    return out


#: Matrix-free operators (nonlocal jump generators) with at most this many states are densified
#: once (n products, cached per operator) and their shifted systems solved by dense LU: 32 MB at
#: 2048 states. Each Krylov vector then costs one pair of triangular solves instead of a
#: preconditioned GMRES run (~10-40 products, each an FFT pair plus Python overhead).
DENSE_STATES = 2048

_DENSE_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _densified(A) -> np.ndarray:
    """The dense matrix of a small matrix-free operator, computed once per operator object."""
    matrix = _DENSE_CACHE.get(A)
    if matrix is None:
        matrix = A.toarray()
        _DENSE_CACHE[A] = matrix
    return matrix


def _dense_shifted_solver(A: np.ndarray, gamma: float):
    """x = solve(b) for (I - gamma A) x = b by one dense LU (LAPACK getrf, partial pivoting)."""
    factors = dense.lu_factor(np.eye(A.shape[0]) - gamma * A, check_finite=False)
    return lambda b: dense.lu_solve(factors, b, check_finite=False)


def _bands(times, band):
    """(indices, gamma) for groups of positive times within a factor ``band`` of each other."""
    positive = np.flatnonzero(times > 0)
    order = positive[np.argsort(times[positive])]
    start = 0
    while start < order.size:
        t_low = times[order[start]]
        stop = start
        while stop < order.size and times[order[stop]] <= band * t_low:
            stop += 1
        group = order[start:stop]
        yield group, float(np.sqrt(times[group[0]] * times[group[-1]])) / 4.0
        start = stop


def _band(A, v, times, gamma, tolerance, max_dim, norm_a, law=None):
    """exp(t A) v for the times of one band, from the Krylov space of (I - gamma A)^-1 and v.

    With ``law`` (closed chains), v has zero mass and every new vector is projected back onto
    the zero-mass subspace along ``law``.
    """
    n = v.size
    beta = float(np.linalg.norm(v))
    if beta == 0:
        return np.zeros((times.size, n))
    solve = _dense_shifted_solver(A, gamma) if isinstance(A, np.ndarray) else shifted_solver(A, 1.0, gamma)
    size = min(max_dim, n)
    basis = np.empty((size + 1, n))
    hess = np.zeros((size + 1, size))
    basis[0] = v / beta
    previous = last_change = None
    for j in range(size):
        w = solve(basis[j])
        if law is not None:
            w = zero_mass(w, law)  # Z keeps 1^T w = 0 exactly; the solve's round-off does not
        for _ in range(2):  # Gram-Schmidt twice: orthogonality to round-off
            coef = basis[: j + 1] @ w
            w -= coef @ basis[: j + 1]
            hess[: j + 1, j] += coef
        hess[j + 1, j] = np.linalg.norm(w)
        breakdown = hess[j + 1, j] <= 1e-14 * np.abs(hess[: j + 1, j]).max()
        if not breakdown:
            basis[j + 1] = w / hess[j + 1, j]
        m = j + 1
        if m % 8 and not breakdown and m < size:
            continue
        small, slowest = _small_exponentials(hess[:m, :m], gamma, times)
        small *= beta
        floor = ROUNDOFF * norm_a * times * np.exp(np.minimum(slowest * times, 0.0)) * beta
        if np.any(floor > beta):
            _refuse_undetermined(times, floor, beta, slowest, norm_a)
        if breakdown:  # an invariant subspace of Z: exact up to the solves' round-off
            return small @ basis[:m]
        if previous is not None:
            k = previous.shape[1]
            change = np.abs(small[:, :k] - previous).max(axis=1) + np.abs(small[:, k:]).max(axis=1)
            if np.all(change <= tolerance):
                return small @ basis[:m]
            stagnating = last_change is not None and change.max() >= 0.5 * last_change
            if stagnating and np.all(change <= np.maximum(tolerance, floor)):
                _check_round_off(change, beta, times, slowest, norm_a)
                return small @ basis[:m]
            last_change = change.max()
        previous = small
    raise RuntimeError(
        f"expm_multiply_krylov: no convergence to {tolerance:.2g} (absolute) within {max_dim} "
        f"Krylov vectors at times {times.min():.3g} .. {times.max():.3g}; integrate by time "
        "steps instead (integrate(..., method='trbdf2'), evolve(..., method='trbdf2'))"
    )


_REMEDY = (
    "; a coarser grid, a higher temperature or a lower barrier is better conditioned "
    "(mean exit times and committors, linear solves, stay accurate there)"
)


def _refuse_undetermined(times, floor, beta, slowest, norm_a):
    """RuntimeError: the slowest decay rate is below the round-off of the fastest ones, so the
    slow part of exp(tA)v is not determined in double precision at these times."""
    worst = int(np.argmax(floor))
    raise RuntimeError(
        f"expm_multiply_krylov: at t = {times[worst]:.3g} exp(tA)v is not determined in double "
        f"precision: the slowest decay rate ({-slowest:.2g}) is below the round-off of the "
        f"operator's fastest rates (eps |A| = {np.finfo(float).eps * norm_a:.1g})" + _REMEDY
    )


def _check_round_off(change, beta, times, slowest, norm_a):
    """For an answer accepted at the round-off floor, with the last change as its error: refuse it
    (RuntimeError) above REFUSE_FLOOR |v|, warn above TRUST_FLOOR |v|."""
    worst = int(np.argmax(change))
    relative = float(change[worst] / beta)
    if relative <= TRUST_FLOOR:
        return
    detail = (
        f"at t = {times[worst]:.3g}, exp(tA)v is determined by double precision only to about "
        f"{relative:.1e} relative to |v|: the slowest decay rate ({-slowest:.2g}) is close to "
        f"the round-off of the operator's fastest rates (eps |A| = {np.finfo(float).eps * norm_a:.1g})"
    )
    if relative > REFUSE_FLOOR:
        raise RuntimeError("expm_multiply_krylov: " + detail + _REMEDY)
    warn("expm_multiply_krylov: " + detail + _REMEDY, RuntimeWarning)


def _small_exponentials(h, gamma, times):
    """Rows exp(t A_m) e_1 for A_m = (I - H^-1) / gamma, and the slowest decay of A_m (the
    largest real part of its eigenvalues)."""
    m = h.shape[0]
    a_m = (np.eye(m) - dense.solve(h, np.eye(m))) / gamma
    values, vectors = np.linalg.eig(a_m)
    # A Ritz value mu of Z = (I - gamma A)^-1 at round-off level (a mode decaying much faster than
    # 1/gamma) may come out negative; (1 - 1/mu)/gamma is then hugely *positive*, e^{t.} overflows
    # (seen at t = 1e16). A generator has no growing modes: such a mode decays at |Re|.
    values = -np.abs(values.real) + 1j * values.imag
    slowest = float(values.real.max())
    if _eigenvector_condition(vectors) < 1e8:
        weights = np.linalg.solve(vectors, np.eye(m)[:, 0])
        with np.errstate(under="ignore"):
            rows = (vectors[None, :, :] * (np.exp(np.multiply.outer(times, values)) * weights)[:, None, :]).sum(axis=2)
        return np.real(rows), slowest
    return _stepped_exponentials(a_m, times), slowest


def _stepped_exponentials(a_m, times) -> np.ndarray:
    """Rows exp(t A_m) e_1 by matrix exponentials of the steps between the sorted times, one
    ``expm`` per distinct step (the equally spaced node tables of the exit-time law need one in
    all), where one per time cost 0.14 s each for m ~ 50 on the loaded 2-core machine."""
    m = a_m.shape[0]
    order = np.argsort(times)
    rows = np.empty((len(times), m))
    state, previous, step, propagator = np.eye(m)[:, 0], 0.0, None, None
    for k in order:
        delta = float(times[k]) - previous
        if step is None or abs(delta - step) > 1e-12 * max(abs(step), abs(delta)):
            step, propagator = delta, dense.expm(delta * a_m)
        state = propagator @ state
        rows[k] = state
        previous = float(times[k])
    return rows


def _eigenvector_condition(vectors) -> float:
    """The 1-norm condition number of the complex eigenvector matrix (at most m times the 2-norm
    one, so the eigenvector path is taken a little less often), from its LU inverse; inf when
    singular.

    Not ``np.linalg.cond``: its complex SVD took 0.6-0.8 s for 88 x 88 on the loaded 2-core
    machine (1 ms single-threaded), and the Hessenberg work of a 1600-cell fractional evolution
    then dominated everything (1.6 s of 3.3 s). The LU inverse takes ~3 ms."""
    try:
        inverse = np.linalg.inv(vectors)
    except np.linalg.LinAlgError:
        return float("inf")
    return float(np.linalg.norm(vectors, 1) * np.linalg.norm(inverse, 1))
