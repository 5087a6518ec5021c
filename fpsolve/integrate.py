"""Time integrators for the forward equation dp/dt = A p, A = Qᵀ the transpose of a generator.

A has non-negative off-diagonal entries and column sums ≤ 0 (= 0 where no mass is killed), so the
exact flow p(t) = exp((t - t0) A) p0 keeps p ≥ 0 and conserves Σp on a closed chain. A is large,
sparse and stiff; its spectrum lies in the left half plane, on the real axis for reversible
chains and close to it otherwise. The single entry point is :func:`integrate`:

- ``"trbdf2"`` (default): TR-BDF2 with γ = 2 − √2, L-stable, second order. Both stages solve with
  I − (γ/2) h A, so one sparse LU per step size. Adaptive with the embedded third-order error
  estimate (filtered through the same LU, Hosea & Shampine 1996), step sizes restricted to the
  ladder h = (t_end − t0)·2^−k so that each rung is factorized once and reused
  (:mod:`fpsolve.implicit`, which also keeps the mass of closed chains at long steps).
- ``"bdf2"``: BDF2, L-stable, second order; the same ladder, restarted with a TR-BDF2 step after
  each change of step size, error by Milne's device. Less efficient than "trbdf2".
- ``"exponential"``: exp((t − t0)A) p0 at all output times from one shift-and-invert (rational)
  Krylov space per band of times (one real LU each; :mod:`fpsolve.krylov`), accurate to ~1e-10
  relative to ‖p0‖ and exact in time, at any t ≥ 0: on closed chains the stationary part is
  carried exactly (:mod:`fpsolve.deflation`), and where double precision cannot resolve the
  slowest decay the answer warns with its accuracy or is refused. Robust for the strongly
  non-normal operators of drift-dominated problems, and the cheapest exact method for many
  output times on 2-D grids. On large 3-D grids (at least ``CHEBYSHEV_MIN_STATES`` states, band
  wider than 4 sqrt(n)), where one sparse LU costs more than the whole answer, "exponential" is
  the Chebyshev series of exp(tA) instead: matrix products only, O(sqrt(rho t)) of them. For
  reversible chains on the symmetrized operator (:mod:`fpsolve.chebyshev_exponential`), error
  at most 1e-10 max|p0| in the maximum norm; for non-reversible ones on A itself, with the
  a-posteriori bound of its residual, l1 error at most 1e-10 of the mass
  (:mod:`fpsolve.chebyshev_residual`; where that series grows too fast, the Krylov space).
- ``"cram"``: exp(ΔA) p by the order-16 Chebyshev rational approximation (CRAM, the best
  uniform rational approximation to e^z on (−∞, 0]) in incomplete partial fractions (Pusa 2016,
  Nucl. Sci. Eng. 182:297): 8 complex sparse LUs per distinct time increment. Fastest in 1-D,
  but accurate only while the spectrum *and pseudospectrum* of ΔA stay near the negative real
  axis: on drift-dominated (strongly non-normal) generators it can return large negative
  densities (seen: −2e4 for a narrow Gaussian drifting at high Péclet number). Prefer
  "exponential" unless the problem is close to reversible and diffusion-dominated.
- ``"explicit"``: forward Euler (first order) with h = 0.9/max|A_ii|, a Numba CSR kernel. For an
  M-matrix generator this keeps p ≥ 0 and conserves mass. For very large grids.

Operators are a sparse matrix A or a :class:`fpsolve.operators.MatrixFree` operator (autonomous),
or a callable ``operator(t) -> (key, A_t)`` whose ``key`` is hashable, piecewise constant in t, and
equal exactly when the matrices are equal. Matrix-free operators are solved with by preconditioned
Krylov iterations instead of LU ("cram" needs complex factorizations and refuses them).
"""

from dataclasses import dataclass
import math

import numpy as np
import scipy.sparse as sparse

from fpsolve import euler_kernels as kernels
from fpsolve.chebyshev_exponential import chebyshev_expm_multiply
from fpsolve.chebyshev_residual import bounded_chebyshev_expm_multiply
from fpsolve.cram import run_cram
from fpsolve.implicit import advance_bar, next_switch, run_bdf2, run_trbdf2, snap
from fpsolve.krylov import expm_multiply_krylov
from fpsolve.linalg import killing_rates, log_detailed_balance
from fpsolve.operators import is_matrix_free

__all__ = ["IntegrationResult", "integrate", "METHODS"]

METHODS = ("trbdf2", "bdf2", "exponential", "cram", "explicit")


@dataclass(frozen=True, eq=False, repr=False)
class IntegrationResult:
    """Solution of dp/dt = A p at the requested times.

    Attributes
    ----------
    t : np.ndarray
        The output times asked for, shape (m,).
    y : np.ndarray
        y[k] = p(t[k]), shape (m, N).
    steps : int
        Accepted time steps (for "exponential": rational-function evaluations).
    factorizations : int
        Sparse LU factorizations computed (complex ones counted individually).
    method : str
        The integrator used.
    message : str
        A sentence describing the run.
    """

    t: np.ndarray
    y: np.ndarray
    steps: int
    factorizations: int
    method: str
    message: str

    def __repr__(self):
        times = f"[{self.t[0]:g}, …, {self.t[-1]:g}]" if len(self.t) > 2 else str(list(self.t))
        return (
            f"IntegrationResult(method={self.method!r}, t={times} ({len(self.t)} times), "
            f"y.shape={self.y.shape}, steps={self.steps}, "
            f"factorizations={self.factorizations}, message={self.message!r})"
        )


def integrate(operator, p0, t, method="trbdf2", *, rtol=1e-8, atol=1e-14, dt=None, progress=False):
    """Solve dp/dt = A(t) p, p(t[0]) = p0, and return p at the times t.

    A = Qᵀ is a forward operator (non-negative off-diagonals, column sums ≤ 0). See the module
    docstring for the methods.

    Parameters
    ----------
    operator : scipy.sparse matrix or callable
        A (N×N), or ``operator(t) -> (key, A_t)`` for a time-dependent operator whose keys are
        piecewise constant in t (equal keys = equal matrices; factorizations are cached by key).
        Such an operator may also offer ``operator.key(t)``, the key alone, so that locating a
        switch does not build matrices.
        The callable should be cheap (return prebuilt matrices): the adaptive methods probe keys
        to locate where they change (bisection to ~1e-12 relative) and land a step there.
        Between changes the matrix is taken at the step midpoint.
    p0 : array_like
        Initial state, shape (N,), finite.
    t : array_like
        Strictly increasing output times; t[0] is the time of p0.
    method : {"trbdf2", "bdf2", "exponential", "cram", "explicit"}
    rtol, atol : float
        Local error tolerances of the adaptive "trbdf2"/"bdf2" (RMS norm of the estimate weighted
        by atol + rtol|p|). Ignored by "exponential" (accurate to ~1e-10 relative to ‖p0‖, or
        warned about: :mod:`fpsolve.krylov`), "cram" and "explicit" (stability-limited step).
    dt : float, optional
        Fixed step for "trbdf2"/"bdf2" (the last step to each output time may be shorter); for
        "explicit" an upper bound on the step.
    progress : bool
        Show a tqdm bar over simulated time.

    Returns
    -------
    IntegrationResult

    Raises
    ------
    ValueError
        For an unknown method, non-increasing t, a p0 of the wrong shape or with non-finite
        entries, or "exponential" with a time-dependent operator.
    RuntimeError
        From "exponential" when exp(tA)p0 is not determined in double precision (the slowest
        decay rate is below the round-off of the fastest ones) or the Krylov space does not
        converge (:func:`fpsolve.krylov.expm_multiply_krylov`).
    """
    if method not in METHODS:
        raise ValueError(f"method: unknown integrator {method!r}; choose one of " + ", ".join(repr(m) for m in METHODS))
    t = np.asarray(t, dtype=float)
    if t.ndim != 1 or t.size == 0 or not np.all(np.isfinite(t)):
        raise ValueError("t: expected a non-empty 1-D sequence of finite output times")
    if np.any(np.diff(t) <= 0):
        raise ValueError("t: output times must be strictly increasing")
    p0 = np.asarray(p0, dtype=float)
    op, n = _as_operator(operator, t[0])
    if p0.shape != (n,):
        raise ValueError(f"p0: expected shape ({n},) to match the {n}×{n} operator, got {p0.shape}")
    if not np.all(np.isfinite(p0)):
        raise ValueError("p0: contains non-finite entries")
    if dt is not None and not (np.isfinite(dt) and dt > 0):
        raise ValueError(f"dt: expected a positive finite step, got {dt!r}")
    if not (rtol > 0 and atol >= 0):
        raise ValueError(f"rtol, atol: expected rtol > 0 and atol >= 0, got {rtol}, {atol}")
    if method in ("exponential", "cram") and not op.autonomous:
        raise ValueError(
            f"method: {method!r} needs a constant operator (a sparse matrix); "
            "for a time-dependent operator use method='trbdf2'"
        )
    if method == "cram" and is_matrix_free(op(t[0])[1]):
        raise ValueError(
            "method: 'cram' needs complex LU factorizations, and this operator is "
            "matrix-free; use 'exponential' or 'trbdf2'"
        )

    bar = _progress_bar(t, progress)
    try:
        if method in ("trbdf2", "bdf2"):
            run = run_trbdf2 if method == "trbdf2" else run_bdf2
            y, steps, facts, msg = run(op, p0, t, rtol, atol, dt, bar, _is_closed(op(t[0])[1]))
        elif method == "cram":
            y, steps, facts, msg = run_cram(op, p0, t, bar, snap, advance_bar)
        elif method == "exponential":
            y, steps, facts, msg = _run_exponential(op(t[0])[1], p0, t)
            advance_bar(bar, t[-1] - t[0])
        else:
            y, steps, facts, msg = _run_explicit(op, p0, t, dt, bar)
    finally:
        if bar is not None:
            bar.close()
    return IntegrationResult(t=t, y=y, steps=steps, factorizations=facts, method=method, message=msg)


# ---------------------------------------------------------------- operators and factorizations


class _Operator:
    """A(t) with a key; autonomous operators have key None."""

    def __init__(self, func, autonomous, raw=None):
        self.func = func
        self.autonomous = autonomous
        self.raw = raw

    def __call__(self, t):
        return self.func(t)

    def key(self, t):
        if self.autonomous:
            return None
        cheap = getattr(self.raw, "key", None)  # a key without building the matrix, if offered
        return cheap(t) if callable(cheap) else self.raw(t)[0]


def _check_matrix(A, where):
    if is_matrix_free(A):
        return A
    if not (sparse.issparse(A) or isinstance(A, np.ndarray)) or A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(
            f"operator: {where} must be a square sparse matrix, got "
            f"{type(A).__name__} of shape {getattr(A, 'shape', None)}"
        )
    return sparse.csr_array(A, dtype=float)


def _as_operator(operator, t0):
    if callable(operator) and not sparse.issparse(operator) and not is_matrix_free(operator):
        try:
            key, A0 = operator(t0)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                "operator: a callable operator must return (key, A_t) for a time "
                f"t; calling it at t = {t0} failed: {exc}"
            ) from exc
        hash(key)
        n = _check_matrix(A0, "operator(t)[1]").shape[0]

        def func(s):
            key, A = operator(s)
            return key, _check_matrix(A, "operator(t)[1]")

        return _Operator(func, autonomous=False, raw=operator), n
    A = _check_matrix(operator, "the operator")
    return _Operator(lambda s: (None, A), autonomous=True), A.shape[0]


def _is_closed(A):
    """No mass leaves the chain: the columns of A = Qᵀ (the rows of Q) sum to zero to round-off."""
    return not np.any(killing_rates(A.T) > 0)


def _conserve_mass(A, p0, y):
    """For a closed chain (column sums of A zero), rescale each state to the exact mass of p0.

    exp(tA) conserves the sum exactly, but the Krylov approximation only to its tolerance
    (~1e-10 relative); the rescaling restores conservation to round-off and changes the states by
    no more than that tolerance. Chains with killing are returned unchanged.
    """
    mass = float(np.sum(p0))
    if mass == 0 or not _is_closed(A):
        return y
    sums = y.sum(axis=1)
    return y * np.where(sums != 0, mass / np.where(sums != 0, sums, 1.0), 1.0)[:, None]


def _progress_bar(t, progress):
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(
        total=float(t[-1] - t[0]),
        unit="t",
        desc="integrate",
        bar_format="{l_bar}{bar}| t={n:.4g}/{total:.4g} [{elapsed}<{remaining}]",
    )


# ------------------------------------------------------------------- Chebyshev, large 3-D chains

#: "exponential" evaluates exp(tA) p0 by the Chebyshev series (:mod:`fpsolve.chebyshev_exponential`)
#: instead of shift-and-invert Krylov for reversible sparse operators with at least this many states
#: whose band is wider than 4 sqrt(n) (3-D grids): there one sparse LU costs more than the whole
#: series (at 64^3, LU 88 s and 3.1 GB in the issue-14 table; the series to t = 10 in 3.4 s CPU;
#: at 32^3 the Krylov exponential took 50 s wall at load 6, the series 0.2 s CPU).
CHEBYSHEV_MIN_STATES = 10_000

#: Error bound of the Chebyshev series relative to max|p0|, in the maximum norm (given log pi): the
#: accuracy the Krylov exponential aims at (:func:`fpsolve.krylov.expm_multiply_krylov`, rtol 1e-10).
CHEBYSHEV_RTOL = 1e-10


#: Error bound of the non-reversible Chebyshev series in the l1 norm, relative to the mass ||p0||_1
#: (:mod:`fpsolve.chebyshev_residual`): a total-variation bound, so every entry's error is below
#: 1e-8 of the mass, three orders or more below the spatial error of any grid this path runs on
#: (at least 1e4 states: L1 errors of 1e-5 and above, docs/scale.md); the looser bound lets the
#: series grow to ~1e4 before a segment is cut (round-off eps k ||T_k v|| < rtol / 2), which halves
#: the products of drift-dominated 3-D chains (1912 -> ~1100 at 128^3 with cross diffusion).
BOUNDED_CHEBYSHEV_RTOL = 1e-8


def _series_suits(A) -> bool:
    """Whether A is a large sparse forward operator of a 3-D-like grid (band wider than 4 sqrt(n)),
    where one sparse LU costs more than a polynomial exponential."""
    if is_matrix_free(A) or A.shape[0] < CHEBYSHEV_MIN_STATES:
        return False
    A = sparse.csr_array(A)
    rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
    bandwidth = int(np.abs(A.indices - rows).max(initial=0))
    return bandwidth**2 > 16 * A.shape[0]


def _chebyshev_suits(A):
    """log pi (detailed balance) if A is a large sparse forward operator of a 3-D-like grid whose
    chain is reversible, else None."""
    return log_detailed_balance(A.T) if _series_suits(A) else None


def _run_exponential(A, p0, t):
    """exp((t - t0) A) p0 for "exponential": on large 3-D grids the Chebyshev series (the
    symmetrized one for reversible chains, the one with the l1 residual bound otherwise), else,
    or where the bounded series refuses (too non-normal), the shift-and-invert Krylov space."""
    refused = ""
    if _series_suits(A):
        log_weight = log_detailed_balance(sparse.csr_array(A).T)
        if log_weight is not None:
            return _run_chebyshev(A, p0, t, log_weight)
        try:
            return _run_bounded_chebyshev(A, p0, t)
        except RuntimeError as exc:
            refused = f" (the Chebyshev series was refused: {exc})"
    y = _conserve_mass(A, p0, expm_multiply_krylov(A, p0, t - t[0]))
    return y, len(t) - 1, 0, "shift-and-invert Krylov, one real LU per band of times" + refused


def _run_chebyshev(A, p0, t, log_weight):
    """exp((t - t0) A) p0 by the Chebyshev series, mass restored on closed chains."""
    result = chebyshev_expm_multiply(A, p0, t - t[0], rtol=CHEBYSHEV_RTOL, log_weight=log_weight)
    y = _conserve_mass(A, p0, result.y)
    message = (
        f"Chebyshev series of degree {result.degree} on [-{result.rho:.4g}, 0] (reversible chain), "
        f"truncation bound {np.max(result.bound):.1g} "
        + (f"(error below {CHEBYSHEV_RTOL:g} max|p0|)" if result.maximum_norm else "in the pi-weighted norm")
    )
    return y, result.degree, 0, message


def _run_bounded_chebyshev(A, p0, t):
    """exp((t - t0) A) p0 by the Chebyshev series with the a-posteriori l1 bound (any chain, here
    the non-reversible ones), mass restored on closed chains."""
    result = bounded_chebyshev_expm_multiply(A, p0, t - t[0], rtol=BOUNDED_CHEBYSHEV_RTOL)
    y = _conserve_mass(A, p0, result.y)
    message = (
        f"Chebyshev series on [-{result.rho:.4g}, 0] with its residual bound (non-reversible chain): "
        f"{result.products} products in {result.segments} segment(s), l1 error below "
        f"{np.max(result.bound):.2g} of the mass"
    )
    return y, result.products, 0, message


# ---------------------------------------------------------------------------- explicit Euler


def _run_explicit(op, p0, t, dt, bar, safety=0.9):
    out = np.empty((len(t), len(p0)))
    out[0] = y = p0.copy()
    work = np.empty_like(y)
    steps = 0
    for k in range(1, len(t)):
        a = t[k - 1]
        while a < t[k]:
            b = next_switch(op, a, t[k])
            _, A = op(0.5 * (a + b))
            rate = float(np.max(-A.diagonal(), initial=0.0))
            h_max = safety / rate if rate > 0 else b - a
            if dt is not None:
                h_max = min(h_max, dt)
            nsteps = max(1, math.ceil((b - a) / h_max - 1e-12))
            h = (b - a) / nsteps
            if is_matrix_free(A):
                for _ in range(nsteps):
                    y = y + h * (A @ y)
                advance_bar(bar, nsteps * h)
                steps += nsteps
                a = b
                continue
            B = sparse.csr_array(sparse.identity(len(y), format="csr") + h * A)
            B.sort_indices()
            indptr, indices = B.indptr, B.indices
            chunk = max(1, int(2e7 // max(B.nnz, 1))) if bar is not None else nsteps
            done = 0
            while done < nsteps:
                m = min(chunk, nsteps - done)
                y = kernels.euler_steps(indptr, indices, B.data, y, work, m)
                work = np.empty_like(y) if m % 2 else work
                done += m
                advance_bar(bar, m * h)
            steps += nsteps
            a = b
        out[k] = y
    return out, steps, 0, f"{steps} forward-Euler steps (h ≤ {safety}/max|A_ii|)"
