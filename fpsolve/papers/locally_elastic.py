"""Locally elastic SDEs (Zhang, Wang & Su 2021): the model, its exact Gaussian law, its step kernel.

K classes have class-mean features X_1, ..., X_K in R^K (logit-like coordinates; the state is
x = (X_1, ..., X_K) flattened, class-major, of length K^2). With u_k = e_k - 1/K (the direction in
which a gradient step on a class-k sample moves logits at the uniform prediction) and P_k the
orthogonal projector onto u_k, the features move by

    dX_k = (1/K) [alpha(t) P_k X_k + beta(t) sum_{k' != k} P_{k'} X_{k'}] dt + sigma dW_k,

alpha the intra-class impact, beta the inter-class impact (the paper's local elasticity is
alpha > beta), W_k independent standard Brownian motions in R^K. The drift is linear, x' = M(t) x
with M(t) = (alpha(t) M_intra + beta(t) M_inter) / K, and the noise additive, so the law at any
time is Gaussian: :func:`gaussian_law` gives its mean and covariance exactly (matrix exponentials,
Van Loan's block formula, when alpha and beta are constant; the mean and covariance ODEs to 1e-11
otherwise). The Monte Carlo step kernel (:meth:`LocallyElasticSDE.step_kernel`) draws each step's
exact Gaussian transition, so fpsolve.montecarlo samples the law at the step times without
time-discretization error for constant impacts.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy.integrate import quad, solve_ivp
from scipy.linalg import cholesky, expm

from fpsolve.montecarlo import StepKernel
from fpsolve.montecarlo.rng import normal

__all__ = ["LocallyElasticSDE", "gaussian_law", "separating_direction", "unit_directions"]

#: Largest log-growth of a mode whose squared growth (the variance) double precision still holds
MAX_LOG_GROWTH = 0.5 * np.log(np.finfo(float).max) - 10.0


def unit_directions(n_classes: int) -> np.ndarray:
    """Rows u_k / |u_k| with u_k = e_k - 1/K; |u_k|^2 = (K - 1)/K and u_j . u_k = -1/K for j != k."""
    u = np.eye(n_classes) - 1.0 / n_classes
    return u / np.linalg.norm(u, axis=1, keepdims=True)


def separating_direction(n_classes: int) -> np.ndarray:
    """The weights w of the separating coordinate s = w . x = (1/K) sum_k u_k . X_k / |u_k|: each
    class's margin along its own direction, averaged. s is the coordinate of the mode X_k = c u_k
    (all classes pushed towards the vertices of the simplex), which grows at rate (alpha - beta)/K."""
    return (unit_directions(n_classes) / n_classes).reshape(-1)


def _as_function(value, name: str) -> Callable:
    if callable(value):
        return value
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name}: expected a finite number or a function of t, got {value!r}")
    return lambda t: value


@dataclass(frozen=True, eq=False)
class LocallyElasticSDE:
    """The locally elastic SDE system (see the module docstring).

    Parameters
    ----------
    n_classes : int
        K >= 2.
    intra, inter : float or callable t -> float
        The intra-class impact alpha(t) and the inter-class impact beta(t) (rates per unit time).
    noise : float
        sigma > 0, the noise amplitude on every feature coordinate.
    """

    n_classes: int
    intra: object
    inter: object
    noise: float

    def __post_init__(self):
        if not (isinstance(self.n_classes, (int, np.integer)) and self.n_classes >= 2):
            raise ValueError(f"n_classes: expected an integer K >= 2, got {self.n_classes!r}")
        if not (np.isfinite(self.noise) and self.noise > 0):
            raise ValueError(f"noise: expected sigma > 0, got {self.noise!r}")
        _as_function(self.intra, "intra")  # refuses non-finite constants
        _as_function(self.inter, "inter")

    def __repr__(self) -> str:
        show = lambda v: "f(t)" if callable(v) else f"{float(v):g}"
        return (
            f"LocallyElasticSDE(K={self.n_classes}, alpha={show(self.intra)}, "
            f"beta={show(self.inter)}, sigma={self.noise:g})"
        )

    @property
    def state_dim(self) -> int:
        return self.n_classes**2

    @property
    def constant(self) -> bool:
        return not (callable(self.intra) or callable(self.inter))

    def impacts(self, t: float) -> tuple:
        """(alpha(t), beta(t))."""
        return _as_function(self.intra, "intra")(t), _as_function(self.inter, "inter")(t)

    def integrated_impacts(self, t: float) -> tuple:
        """(A(t), B(t)) = (int_0^t alpha, int_0^t beta), by quadrature to 1e-12 for functions."""
        if self.constant:
            return float(self.intra) * t, float(self.inter) * t
        alpha, beta = _as_function(self.intra, "intra"), _as_function(self.inter, "inter")
        return (
            quad(alpha, 0.0, t, epsabs=1e-13, epsrel=1e-12, limit=200)[0],
            quad(beta, 0.0, t, epsabs=1e-13, epsrel=1e-12, limit=200)[0],
        )

    def impact_matrices(self) -> tuple:
        """(M_intra, M_inter): block (k, k) of M_intra is P_k; block (k, j), j != k, of M_inter is P_j."""
        K = self.n_classes
        u = unit_directions(K)
        projectors = [np.outer(u[k], u[k]) for k in range(K)]
        intra = np.zeros((K * K, K * K))
        inter = np.zeros((K * K, K * K))
        for k in range(K):
            for j in range(K):
                target = intra if j == k else inter
                target[k * K : (k + 1) * K, j * K : (j + 1) * K] = projectors[j]
        return intra, inter

    def drift_matrix(self, t: float = 0.0) -> np.ndarray:
        """M(t) with drift M(t) x."""
        alpha, beta = self.impacts(t)
        intra, inter = self.impact_matrices()
        return (alpha * intra + beta * inter) / self.n_classes

    def transition(self, t: float, dt: float) -> tuple:
        """(F, Q): the exact transition x(t + dt) = F x(t) + N(0, Q) with M frozen at t + dt/2
        (exact for constant impacts; second order in dt otherwise). Van Loan's block exponential."""
        n = self.state_dim
        M = self.drift_matrix(t + 0.5 * dt)
        block = np.zeros((2 * n, 2 * n))
        block[:n, :n] = -M
        block[:n, n:] = self.noise**2 * np.eye(n)
        block[n:, n:] = M.T
        E = expm(block * dt)
        F = E[n:, n:].T
        Q = F @ E[:n, n:]
        return F, 0.5 * (Q + Q.T)

    def step_kernel(self, dt: float) -> StepKernel:
        """The Monte Carlo step for fpsolve.montecarlo: each step draws the exact Gaussian
        transition (:meth:`transition`), one table row per step when the impacts depend on t."""
        if not (np.isfinite(dt) and dt > 0):
            raise ValueError(f"dt: expected a positive time step, got {dt!r}")

        def make_params(n_steps, dt_):
            rows = 1 if self.constant else max(int(n_steps), 1)
            F = np.empty((rows, self.state_dim, self.state_dim))
            L = np.empty_like(F)
            for k in range(rows):
                F[k], Q = self.transition(k * dt_, dt_)
                L[k] = cholesky(Q, lower=True)
            return F, L

        factor = None
        if self.constant:
            _, Q = self.transition(0.0, dt)
            factor = cholesky(Q, lower=True) / math.sqrt(dt)
        return StepKernel(
            step=_gaussian_step, state_dim=self.state_dim, make_params=make_params, bridge=True, noise_factor=factor
        )


@njit(cache=True)
def _gaussian_step(x, t, dt, rng, params, S):
    """x <- F x + L xi with (F, L) the table row of the step starting at t; S <- L / sqrt(dt)."""
    F, L = params
    k = 0
    if F.shape[0] > 1:
        k = min(int(t / dt + 0.5), F.shape[0] - 1)
    n = x.shape[0]
    xi = np.empty(n)
    for i in range(n):
        xi[i] = normal(rng)
    new = np.zeros(n)
    for i in range(n):
        acc = 0.0
        for j in range(n):
            acc += F[k, i, j] * x[j] + L[k, i, j] * xi[j]
        new[i] = acc
    scale = 1.0 / math.sqrt(dt)
    for i in range(n):
        x[i] = new[i]
        for j in range(n):
            S[i, j] = L[k, i, j] * scale


def gaussian_law(model: LocallyElasticSDE, t: float, mean0, cov0=None) -> tuple:
    """The exact law of x(t): (mean, covariance), from x(0) ~ N(mean0, cov0) (cov0 = 0 by default).

    Constant impacts: mean = e^{Mt} mean0, covariance = e^{Mt} cov0 e^{M^T t} + Q(t) with Q from
    Van Loan's block exponential. Otherwise the ODEs m' = M m, C' = M C + C M^T + sigma^2 I are
    integrated by DOP853 at rtol 1e-11 (no discretization of the SDE is involved either way).
    """
    n = model.state_dim
    mean0 = np.broadcast_to(np.asarray(mean0, dtype=float), (n,)).copy()
    cov0 = np.zeros((n, n)) if cov0 is None else np.asarray(cov0, dtype=float).reshape(n, n)
    if not (np.isfinite(t) and t >= 0):
        raise ValueError(f"t: expected a time >= 0, got {t!r}")
    if t == 0:
        return mean0, cov0.copy()
    if model.constant:
        growth = np.max(np.linalg.eigvals(model.drift_matrix()).real) * t
        if growth > MAX_LOG_GROWTH:
            raise ValueError(
                f"t: the law overflows double precision at t = {t:g} (the fastest mode grows "
                f"by exp({growth:.4g}), its variance by the square); use a shorter time"
            )
        F, Q = model.transition(0.0, t)
        return F @ mean0, F @ cov0 @ F.T + Q

    def rhs(s, y):
        M = model.drift_matrix(s)
        m, C = y[:n], y[n:].reshape(n, n)
        return np.concatenate([M @ m, (M @ C + C @ M.T + model.noise**2 * np.eye(n)).ravel()])

    out = solve_ivp(rhs, (0.0, t), np.concatenate([mean0, cov0.ravel()]), method="DOP853", rtol=1e-11, atol=1e-13)
    if not (out.success and np.all(np.isfinite(out.y[:, -1]))):
        raise RuntimeError(
            f"gaussian_law: the moment ODEs failed at t = {t:g} ({out.message}); if the "
            "modes grow beyond double precision there, use a shorter time"
        )
    C = out.y[n:, -1].reshape(n, n)
    return out.y[:n, -1], 0.5 * (C + C.T)
