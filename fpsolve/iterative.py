"""Iterative backward solves of large sub-generators: AMG-preconditioned Krylov with an error bound.

Q_OO x = rhs for a 3-D grid of millions of cells does not fit a sparse LU (fill ~ n^{4/3} with
nested dissection, n^1.7 measured with minimum degree; work ~ n^2). Here M = -Q_OO, a
non-singular M-matrix, is solved by

* a reversible chain (detailed balance mu_i Q_ij = mu_j Q_ji, :func:`fpsolve.linalg.
  log_detailed_balance`): conjugate gradients on the symmetrized A = -Pi^{1/2} Q_OO Pi^{-1/2}
  (entries sqrt(Q_ij Q_ji), symmetric positive definite), preconditioned by a smoothed-
  aggregation V-cycle whose near-null vector is mu^{1/2} (:mod:`fpsolve.amg`); the transposed
  system Q_OO^T x = rhs is the same A with the other scaling, so both share one hierarchy;
* any other M-matrix (cross-diffusion, non-gradient drift): BiCGSTAB with a V-cycle built on M
  itself (near-null vector 1). Measured on Hessian-noise SGD with cross-diffusion at 32^3
  (lr 0.1, batch 1 and 2, tau up to 4e7), to relative residual 1e-8: BiCGSTAB + AMG 25 and 42
  iterations (0.5 and 0.8 s), BiCGSTAB + ILU(1e-4) 60 and 52 (3 s setup), scipy's GMRES(40) + AMG
  57 and > 300 (17 and 57 s), GMRES + ILU did not converge
  (``python benchmarks/bench_backward_3d.py --nonreversible``; loaded machine).

A solve that does not reach its bound escalates: (CG ->) BiCGSTAB -> BiCGSTAB preconditioned by
two V-cycles; when all stall it is refused with the grid a sparse LU would fit.

CG minimises the error in a mu-weighted norm, so cells that carry e^-50 of the equilibrium mass
can keep a relative error 100 times the tolerance; a few Gauss-Seidel sweeps on the original,
unscaled system remove it (measured at 32^3: max relative error 3e-4 -> 3e-7 in 3 sweeps).

**The error bound.** For an M-matrix G = M^{-1} >= 0 entrywise, so the error of x with residual
r = b - M x obeys |x - x*| = |G r| <= G |r|. G |r| is computed by one more, loose, solve
(the same hierarchy) and the answer is accepted when max(G |r|) <= rtol max|x| (normwise
relative: the committor is 0 near one set). Measured against SuperLU at 20^3 and 32^3
(reversible and Hessian-noise chains, exit times and Green's function rows, T down to 0.05), the
bound is 2.3 to 100 times the actual error: safe, and cheap (about a fifth of the solve).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numba
import numpy as np
import scipy.sparse as sparse

from . import amg

__all__ = [
    "BackwardSolver",
    "IterativeSolution",
    "discretization_error_estimate",
    "direct_fits",
    "iterative_rtol",
    "RTOL_CAP",
    "RTOL_FLOOR",
    "KRYLOV_MAXITER",
]

#: The solve's error bound is never looser than this relative to max|x|, and never asked tighter
#: than RTOL_FLOOR (Krylov iterations stall near eps * kappa). The curvature-corrected scheme's
#: error is 1.5e-6 at 64^3 on the reference problem, so on fine 3-D grids the bound can be of the
#: order of the grid's error (the actual solve error measured 2-100x below the bound). A tighter
#: cap costs no time at 64^3 (1.0 s at 1e-6 and 1e-8) but at T = 0.05 the bound cannot go below
#: the residual's round-off level, ~3e-6, so 1e-6 is what every measured case can honour.
RTOL_CAP = 1e-6
RTOL_FLOOR = 1e-10

#: Iterations allowed per Krylov solve. CG with the V-cycle takes 10-25 iterations to 1e-7 from
#: 32^3 to 128^3 (measured on the double well, T = 1/4); 200 means the preconditioner failed.
KRYLOV_MAXITER = 200

#: Gauss-Seidel sweeps (forward and backward) on the unscaled system after each Krylov solve.
SWEEPS = 3

#: Defect-correction rounds (Krylov solve of the residual equation, sweeps, bound) before the
#: next, stronger method is tried.
ROUNDS = 4

#: The bound asked is at least this many times the round-off level of the residual (see
#: BackwardSolver._target): measured on SGD (lr 0.1, batch 5, isotropic noise 5) at 64^3,
#: tau up to 2.7e8, the bound stalled at 1.2e-5 in every round against a round-off estimate
#: eps max|M_ii| max|x| = 4.3e-5 (the defect correction gains nothing there; a sparse LU is
#: limited by the same rounding).
ROUNDOFF_FACTOR = 4.0

#: Relative residual of the loose solve that computes the bound G|r|.
BOUND_RTOL = 1e-1

#: Where mu^{1/2} is below this, x = y / mu^{1/2} amplifies the CG error beyond use: those cells
#: start from 0 and get their values from their neighbours in the Gauss-Seidel sweeps.
SCALE_TRUST = 1e-100

#: log mu is clipped here so that mu^{-1/2} stays finite (e^{600}).
LOG_MU_FLOOR = -1200.0


@dataclass(frozen=True)
class IterativeSolution:
    """x with its error bound (max |x - x*| / max|x|, from G|r|) and the Krylov iterations."""

    x: np.ndarray
    error: float
    iterations: int
    method: str


def discretization_error_estimate(Q, log_mu=None, back=None) -> float:
    """Relative discretization error of a second-order fitted-flux scheme, estimated from the
    chain alone: Pe^2 / 12 with Pe = |log(Q_ij / Q_ji)| the link Peclet number (the density
    changes by e^Pe across a link), averaged over the links weighted by the equilibrium flux
    mu_i Q_ij for a reversible chain, the median link otherwise. ``back``: the reverse rates
    aligned with Q's entries (:func:`fpsolve.linalg.reverse_rates`), when already at hand.

    Measured on U = (x^2-1)^2 + y^2 + z^2, T = 1/4, exit from x < 0: the estimate is 9.1e-3,
    2.3e-3, 5.9e-4 at 32^3, 64^3, 128^3. The plain fitted flux erred by 6.1e-3, 1.5e-3, 3.8e-4
    there (1.5 times below the estimate); with the curvature correction, which removes that bulk
    term for models with a potential, the errors are 8.8e-5 and 1.5e-6 at 32^3 and 64^3: the
    estimate is then an upper bound, not the error."""
    from .linalg import reverse_rates

    Q, back = reverse_rates(Q) if back is None else (sparse.csr_array(Q), back)
    if log_mu is None:
        row = np.repeat(np.arange(Q.shape[0]), np.diff(Q.indptr))
        keep = (Q.indices != row) & (Q.data > 0) & (back > 0)
        if not keep.any():
            return 1.0
        return float(np.median(np.log(Q.data[keep] / back[keep]) ** 2) / 12.0)
    log_mu = np.asarray(log_mu, dtype=float)
    total, weight = _flux_weighted_peclet2(Q.indptr, Q.indices, Q.data, back, log_mu - log_mu.max())
    return float(total / weight / 12.0) if weight > 0 else 1.0


@numba.njit(cache=True)
def _flux_weighted_peclet2(indptr, indices, data, back, log_mu):
    """(sum of mu_i Q_ij Pe_ij^2, sum of mu_i Q_ij) over the links with both rates positive."""
    total = 0.0
    weight = 0.0
    for i in range(indptr.size - 1):
        mu = np.exp(log_mu[i])
        if mu == 0.0:
            continue
        for k in range(indptr[i], indptr[i + 1]):
            if indices[k] != i and data[k] > 0 and back[k] > 0:
                peclet = np.log(data[k] / back[k])
                total += mu * data[k] * peclet * peclet
                weight += mu * data[k]
    return total, weight


def iterative_rtol(Q, log_mu=None, back=None) -> float:
    """The error bound asked of an iterative solve: 1e-4 of the discretization error estimate,
    capped at :data:`RTOL_CAP` and floored at :data:`RTOL_FLOOR`. The estimate is the fitted
    flux's bulk error; with a potential, whose curvature correction removes that term, the
    actual error measured 1/50 to 1/1000 of it (24^3 to 64^3), so 1e-4 x estimate keeps the solve
    near 1 % of the grid's error where the cap does not bind (on 3-D grids it binds)."""
    return float(np.clip(1e-4 * discretization_error_estimate(Q, log_mu, back), RTOL_FLOOR, RTOL_CAP))


class BackwardSolver:
    """x = solver(rhs) for Q_OO x = rhs (``solver.solve(rhs, transpose)`` also gives the bound).

    Parameters
    ----------
    Q : sparse matrix
        The sub-generator Q_OO (a non-singular M-matrix up to sign: Markov rates and killing).
    log_mu : array, optional
        log of a detailed-balance measure of Q (reversible chains): the symmetric CG path.
    rtol : float, optional
        Error bound asked, max|x - x*| <= rtol max|x| (default: :func:`iterative_rtol`), raised
        to the round-off level of the residual where that is higher (:data:`ROUNDOFF_FACTOR`).
    cache : fpsolve.amg.HierarchyCache, optional
        Aggregates reused from, and recorded for, operators with the same sparsity.
    maxiter : int
        Krylov iterations allowed per solve (:data:`KRYLOV_MAXITER`).
    back : array, optional
        The reverse rates aligned with Q's entries (:func:`fpsolve.linalg.reverse_rates`).
    """

    def __init__(self, Q, *, log_mu=None, rtol=None, cache=None, maxiter: int = KRYLOV_MAXITER, back=None):
        from .linalg import reverse_rates, symmetrized

        Q, back = reverse_rates(Q) if back is None else (sparse.csr_array(Q), back)
        self.M = amg._canonical(-Q)
        self.n = self.M.shape[0]
        self.rtol = iterative_rtol(Q, log_mu, back) if rtol is None else float(rtol)
        self.maxiter = int(maxiter)
        self.cache = cache
        self.fastest_rate = float(np.abs(self.M.diagonal()).max(initial=0.0))
        self.reversible = log_mu is not None
        if self.reversible:
            half = 0.5 * np.maximum(np.asarray(log_mu, dtype=float) - np.max(log_mu), LOG_MU_FLOOR)
            self.scale = np.exp(half)  # mu^{1/2}, max 1
            self.A = amg._canonical(-symmetrized(Q, back))
            self.hierarchy = amg.build_hierarchy(self.A, self.scale, symmetric=True, cache=cache)
        else:
            self.hierarchy = amg.build_hierarchy(self.M, None, symmetric=False, cache=cache)
        self._systems = {}
        self._transposed = None

    def __repr__(self) -> str:
        kind = "CG on the symmetrized chain" if self.reversible else "BiCGSTAB"
        return f"BackwardSolver({self.n} unknowns, {kind}, rtol {self.rtol:.0e}, {self.hierarchy!r})"

    def __call__(self, rhs) -> np.ndarray:
        return self.solve(rhs).x

    # --- the pieces: the system, its transpose, the inner Krylov solve --------------------------
    def _system(self, transpose: bool):
        """(M or M^T as CSR, its nonsymmetric hierarchy): built once, on first use (for a
        reversible chain only when CG has stalled and BiCGSTAB takes over)."""
        if transpose not in self._systems:
            M = self.M if not transpose else amg._canonical(self.M.T)
            if not transpose and not self.reversible:
                H = self.hierarchy
            else:
                H = amg.build_hierarchy(M, None, symmetric=False, cache=self.cache)
            self._systems[transpose] = (M, H)
        return self._systems[transpose]

    def _unscaled(self, transpose: bool):
        """M or M^T as CSR, without building a hierarchy (for the sweeps and residuals)."""
        if not transpose:
            return self.M
        if transpose in self._systems:
            return self._systems[transpose][0]
        if self._transposed is None:
            self._transposed = amg._canonical(self.M.T)
        return self._transposed

    def _inner(self, r, transpose, rtol, method):
        """An approximate solution d of M d = r (M^T d = r), and the iterations it took."""
        if self.reversible and method == "cg":
            h = self.scale
            trusted = h >= SCALE_TRUST
            # M x = r <=> A (h x) = h r;  M^T x = r <=> A (x / h) = r / h
            rhs = np.where(trusted, r / np.where(trusted, h, 1.0), 0.0) if transpose else h * r
            y, iterations = pcg(self.A, rhs, self.hierarchy.vcycle, rtol, self.maxiter)
            d = h * y if transpose else np.where(trusted, y / np.where(trusted, h, 1.0), 0.0)
            return d, iterations
        M, H = self._system(transpose)
        precondition = H.vcycle if method == "bicgstab" else two_cycles(M, H.vcycle)
        return bicgstab(M, r, precondition, rtol, self.maxiter)

    def _methods(self):
        """The escalation: the first Krylov method, then BiCGSTAB on the unscaled system, then
        BiCGSTAB with two V-cycles per preconditioning (a stronger preconditioner)."""
        first = ("cg",) if self.reversible else ()
        return first + ("bicgstab", "bicgstab with two V-cycles")

    # --- the solve with its bound ---------------------------------------------------------------
    def solve(self, rhs, transpose: bool = False) -> IterativeSolution:
        """Solve Q_OO x = rhs (Q_OO^T x = rhs) to the error bound :attr:`rtol`, escalating
        through :meth:`_methods`; RuntimeError when all stall."""
        b = -np.asarray(rhs, dtype=float)  # M x = -rhs
        if not np.any(b):
            return IterativeSolution(np.zeros(self.n), 0.0, 0, "none")
        M = self._unscaled(transpose)
        best = None
        for method in self._methods():
            x, bound, iterations, target = self._defect_correction(M, b, transpose, method)
            if bound <= target:
                return IterativeSolution(x, bound, iterations, method)
            best = (bound, iterations) if best is None or bound < best[0] else best
        raise RuntimeError(self._refusal(*best))

    def _target(self, x, b) -> float:
        """The bound to reach: :attr:`rtol`, or the round-off level of the residual when that is
        higher: r = b - M x is computed with errors ~eps |M| |x| ~ 2 eps max|M_ii| |x|, so G|r|
        cannot fall below ~eps max|M_ii| max|x| / max|b| relative (the trust estimate of
        :meth:`fpsolve.generator.Generator.solve_error`), times :data:`ROUNDOFF_FACTOR`."""
        size_b = float(np.abs(b).max(initial=0.0))
        roundoff = np.finfo(float).eps * self.fastest_rate * float(np.abs(x).max(initial=0.0)) / max(size_b, 1e-300)
        return max(self.rtol, ROUNDOFF_FACTOR * roundoff)

    def _defect_correction(self, M, b, transpose, method):
        x = np.zeros(self.n)
        r = b.copy()
        total = 0
        bound = target = np.inf
        for _ in range(ROUNDS):
            d, iterations = self._inner(r, transpose, self.rtol, method)
            total += iterations
            if not np.all(np.isfinite(d)):
                return x, np.inf, total, self.rtol
            x += d
            _sweeps(M, x, b)
            r = b - M @ x
            bound = self._bound(M, r, x, transpose, method)
            target = self._target(x, b)
            if bound <= target:
                break
        return x, bound, total, target

    def _bound(self, M, r, x, transpose, method) -> float:
        """max(G|r|) / max|x|: G|r| from a loose solve (:data:`BOUND_RTOL`) and sweeps, with a
        factor 2 for the looseness (measured at 20^3 and 32^3 against sparse LU: the bound is 2.3
        to 100 times the actual error, and the same with BOUND_RTOL = 1e-2 as with 1e-1)."""
        size = float(np.abs(x).max(initial=0.0))
        if size == 0 or not np.isfinite(size):
            return np.inf
        magnitude = np.abs(r)
        z, _ = self._inner(magnitude, transpose, BOUND_RTOL, method)
        _sweeps(M, z, magnitude)
        return 2.0 * float(np.abs(z).max(initial=0.0)) / size

    def _refusal(self, bound, iterations) -> str:
        direct = direct_size_advice(self.n)
        return (
            f"backward solve: the AMG-preconditioned Krylov iterations on {self.n} unknowns "
            f"stalled at an error bound {bound:.1e} (asked {self.rtol:.0e}) after {iterations} "
            f"iterations of {', '.join(self._methods())} (at most {self.maxiter} per solve). "
            "The chain is too metastable or too non-normal for the multigrid preconditioner; "
            f"lower the barrier (dU / D) or raise the noise. {direct}"
        )


def direct_fits(n: int) -> bool:
    """Whether a sparse LU of a 3-D generator with ``n`` unknowns fits in half the available
    memory (the estimate of :func:`direct_size_advice`)."""
    return LU_BYTES_COEFFICIENT * float(n) ** LU_FILL_EXPONENT <= 0.5 * _available_memory()


def direct_size_advice(n: int) -> str:
    """Which grid a sparse LU of a 3-D generator fits in half the available memory, from the fill
    measured with SuperLU (:data:`LU_BYTES_COEFFICIENT` n^:data:`LU_FILL_EXPONENT`)."""
    available = _available_memory()
    fits = int((0.5 * available / LU_BYTES_COEFFICIENT) ** (1.0 / LU_FILL_EXPONENT))
    need = LU_BYTES_COEFFICIENT * float(n) ** LU_FILL_EXPONENT
    if need <= 0.5 * available:
        return (
            f"A sparse LU of this size needs about {need / 2**30:.1f} GiB and fits in memory: "
            "solve with fpsolve.solvers.factorize(M, method='direct')"
        )
    side = int(round(fits ** (1 / 3)))
    return (
        f"A sparse LU would need about {need / 2**30:.0f} GiB ({available / 2**30:.0f} GiB available): "
        f"it fits up to about {fits} live cells (a {side}^3 grid); coarsen the grid to that size"
    )


#: Bytes of SuperLU's L + U (8-byte values, 4-byte indices) of a 3-D 7-point sub-generator,
#: ~ LU_BYTES_COEFFICIENT n^LU_FILL_EXPONENT: measured with minimum degree on A^T + A on the
#: double well (exit from x < 0): nnz(L + U) = 6.8e5, 1.2e6, 2.6e6, 1.2e7 at n = 3 328, 6 400,
#: 10 944, 26 624 unknowns, growing like n^1.7 from 24^3 to 32^3 (nested dissection would give
#: n^{4/3}); 12 nnz / n^{5/3} = 5.8 and 6.1 there. SuperLU's working memory comes on top.
LU_BYTES_COEFFICIENT = 6.5
LU_FILL_EXPONENT = 5.0 / 3.0


def _available_memory() -> float:
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024.0
    except OSError:
        pass
    return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def _sweeps(M, x, b) -> None:
    """SWEEPS forward and backward Gauss-Seidel sweeps on M x = b, in place."""
    for _ in range(SWEEPS):
        amg.gauss_seidel(M, x, b, forward=True)
        amg.gauss_seidel(M, x, b, forward=False)


# --- Krylov methods (dot products in Numba: BLAS ddot was measured 15 ms a call under load) -----
@numba.njit(cache=True)
def _dot(a, b):
    total = 0.0
    for i in range(a.size):
        total += a[i] * b[i]
    return total


def pcg(A, b, precondition, rtol: float, maxiter: int):
    """Preconditioned conjugate gradients for the SPD A from x = 0, to |b - A x| <= rtol |b|:
    ``(x, iterations)``; iterations = maxiter + 1 when it did not converge."""
    x = np.zeros_like(b)
    r = b.copy()
    norm_b = np.sqrt(_dot(b, b))
    if norm_b == 0:
        return x, 0
    z = precondition(r)
    p = z.copy()
    rz = _dot(r, z)
    for k in range(1, maxiter + 1):
        Ap = A @ p
        alpha = rz / _dot(p, Ap)
        x += alpha * p
        r -= alpha * Ap
        if np.sqrt(_dot(r, r)) <= rtol * norm_b:
            return x, k
        z = precondition(r)
        rz_next = _dot(r, z)
        p = z + (rz_next / rz) * p
        rz = rz_next
    return x, maxiter + 1


def bicgstab(A, b, precondition, rtol: float, maxiter: int):
    """Right-preconditioned BiCGSTAB (van der Vorst 1992) from x = 0 to |b - A x| <= rtol |b|:
    ``(x, iterations)``; a breakdown returns what it has (the caller checks the bound)."""
    x = np.zeros_like(b)
    r = b.copy()
    shadow = b.copy()
    norm_b = np.sqrt(_dot(b, b))
    if norm_b == 0:
        return x, 0
    rho = alpha = omega = 1.0
    v = np.zeros_like(b)
    p = np.zeros_like(b)
    for k in range(1, maxiter + 1):
        rho_next = _dot(shadow, r)
        if rho_next == 0 or omega == 0:
            return x, maxiter + 1
        p = r + (rho_next / rho) * alpha / omega * (p - omega * v)
        rho = rho_next
        p_hat = precondition(p)
        v = A @ p_hat
        alpha = rho / _dot(shadow, v)
        s = r - alpha * v
        if np.sqrt(_dot(s, s)) <= rtol * norm_b:
            return x + alpha * p_hat, k
        s_hat = precondition(s)
        t = A @ s_hat
        tt = _dot(t, t)
        omega = _dot(t, s) / tt if tt > 0 else 0.0
        x += alpha * p_hat + omega * s_hat
        r = s - omega * t
        if np.sqrt(_dot(r, r)) <= rtol * norm_b:
            return x, k
    return x, maxiter + 1


def two_cycles(A, vcycle):
    """The preconditioner of two V-cycles: x = V b, then x += V (b - A x)."""

    def apply(b):
        x = vcycle(b)
        return x + vcycle(b - A @ x)

    return apply
