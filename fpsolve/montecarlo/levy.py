"""Monte Carlo step kernel for Levy-driven models (fpsolve.levy): Euler steps with exact stable jumps.

One step of length h of dX = b(X, t) dt + eps dL^alpha + c(t) R dW (a :class:`fpsolve.levy.LevyModel`)
from x, with the coefficients at the step's start t:

    x_new = x + b(x, t) h + c(t) R sqrt(h) xi + J,

(explicit Euler for the drift, drift-implicit where a far jump makes the explicit step unstable:
:mod:`.levy_drift`), where xi is standard normal (the Gaussian part, when the model has one) and J the jump increment
of the stable noise over the step, drawn exactly in law (:mod:`.levy_stable`):
J_j = eps_j(t) h^(1/alpha_j) Z_j with independent standard symmetric stable Z_j per axis, or
J = eps h^(1/alpha) Z with a rotation-invariant Z for isotropic jumps. Without a drift the
endpoints are therefore exact at every step; with one the error is Euler's, O(h) in law.

Exits. The simulator tests the step's end: a path whose increment lands outside the domain exits
at that step, and the exit location is the landing point, which lies beyond the boundary (where
the jump lands), not on a face. The Gaussian part keeps the simulator's Brownian-bridge test (the
step fills S with c R). What discrete monitoring misses is an excursion out and back within one
step; for U = 0 the mean exit time from (-r, r) is overestimated by about 1.1-1.6 eps h^(1/alpha) / r
relative for alpha in [1.2, 1.8], +1.1 % at alpha = 1.5, h = 1e-3, r = eps = 1, and less than the
statistical error for alpha < 1 (benchmarks/levy_monitoring_bias.py, docs/levy.md).

Walls. Exit problems follow DESIGN.md section 1: the whole exterior of the domain is absorbing, so
run them **without** ``bounds``. With ``bounds`` (sampling, stationary laws) the jumps are
**censored** as in the Fokker-Planck operator on a box: a step whose jump would land outside the
box keeps its drift and Gaussian parts and drops the jump; the simulator's walls then mirror the
rest. A bounded box also keeps the explicit Euler step stable on steep (e.g. quartic) landscapes,
which a far jump would otherwise send to overflow.

The drift is -P grad U with P diagonal (Q^-1 for LevyAdam): on the polynomial landscapes of
fpsolve.landscapes it is data for one shared step (:data:`levy_builtin_step`), otherwise the
compiled ``grad_function`` or a tabulation (as :mod:`.compile` does for Gaussian models). The
steps call user functions and are compiled once per process; the random variates and the noise
update are cached on disk.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..levy import LevyModel
from .compile import StepKernel, _vector_adapter, register_step_kernel, tabulate_drift
from .em_step import _builtin_data, builtin_drift
from .levy_drift import make_drift_step
from .levy_stable import isotropic_radius, symmetric_stable
from .rng import normal
from .tables import _tabulation_grid

__all__ = ["levy_step_kernel", "levy_builtin_step", "levy_step_numpy"]


@njit(cache=True, inline="always")
def _row(table, t, dt):
    """Row of the per-step coefficient table (one row when autonomous)."""
    k = 0
    if table.shape[0] > 1:
        k = min(int(t / dt + 0.5), table.shape[0] - 1)
    return k


@njit(cache=True)
def _levy_noise(x, t, dt, rng, params, S):
    """x += c R sqrt(dt) xi + J (module docstring), after the drift; S := c R (the Gaussian factor).

    ``params = (table, p, R, alphas, pinv, lo, hi, isotropic)`` with ``table`` rows
    ``[c, s_0, .., s_{d-1}]``, s_j = eps_j h^(1/alpha_j) the jump scales of this step; ``lo``/``hi``
    the censoring box (+-inf without one)."""
    table, _, R, alphas, _, lo, hi, isotropic = params
    d = x.shape[0]
    k = _row(table, t, dt)
    c = table[k, 0]
    sq = math.sqrt(dt)
    for i in range(d):
        for j in range(d):
            S[i, j] = c * R[i, j]
    if c > 0.0:
        for j in range(d):
            z = normal(rng)
            for i in range(d):
                x[i] += S[i, j] * sq * z
    j0 = j1 = j2 = 0.0
    if isotropic:  # E exp(i k . Z) = exp(-|k|^alpha): Z = (2 A)^(1/2) G (module levy_stable)
        radius = isotropic_radius(rng, alphas[0])
        j0 = table[k, 1] * radius * normal(rng)
        j1 = table[k, 2] * radius * normal(rng) if d > 1 else 0.0
        j2 = table[k, 3] * radius * normal(rng) if d > 2 else 0.0
    else:
        j0 = table[k, 1] * symmetric_stable(rng, alphas[0])
        j1 = table[k, 2] * symmetric_stable(rng, alphas[1]) if d > 1 else 0.0
        j2 = table[k, 3] * symmetric_stable(rng, alphas[2]) if d > 2 else 0.0
    inside = lo[0] <= x[0] + j0 <= hi[0]
    if d > 1:
        inside = inside and lo[1] <= x[1] + j1 <= hi[1]
    if d > 2:
        inside = inside and lo[2] <= x[2] + j2 <= hi[2]
    if inside:  # censored: a jump that would leave the box is not made
        x[0] += j0
        if d > 1:
            x[1] += j1
        if d > 2:
            x[2] += j2


@njit(cache=True)
def _builtin_minus_grad(params, d, x0, x1, x2):
    """-grad U of a polynomial landscape of fpsolve.landscapes, given as data ``params[1]``."""
    return builtin_drift(params[1], d, x0, x1, x2)


def _make_levy_step(minus_grad):
    """The Levy step around ``minus_grad(params, d, x0, x1, x2) -> -grad U`` (3-tuple): the drift
    (:mod:`.levy_drift`: explicit Euler, drift-implicit after far jumps), then the noise."""
    drift_step = make_drift_step(minus_grad)

    @njit
    def step(x, t, dt, rng, params, S):
        drift_step(x, dt, params)
        _levy_noise(x, t, dt, rng, params, S)

    return step


#: The step for the polynomial landscapes of fpsolve.landscapes (their gradient as data): one
#: compiled step, and one simulator driver, for all of them.
levy_builtin_step = _make_levy_step(_builtin_minus_grad)


def _drift_pieces(model, d, bounds, tabulate, notes):
    """(step, p): the cached step with landscape data, else a compiled or tabulated gradient."""
    U = model.landscape
    data = _builtin_data(U.grad_function, d) if U.grad_function is not None else None
    if data is not None:
        return levy_builtin_step, data
    grad = _vector_adapter(U.grad_function, d, -1.0) if U.grad_function is not None else None
    if grad is None:
        tabulated = tabulate_drift(
            lambda *x: -np.asarray(U.grad(*x), dtype=float), _tabulation_grid(bounds, tabulate, d), d, notes, "gradient"
        )

        @njit(inline="always")
        def minus_grad(params, d, x0, x1, x2):
            return tabulated(x0, x1, x2, 0.0, params[2])  # (its last argument is unused scratch)
    else:

        @njit(inline="always")
        def minus_grad(params, d, x0, x1, x2):
            return grad(x0, x1, x2)

    return _make_levy_step(minus_grad), np.zeros(1)


def _coefficient_table(model, d):
    """make_table(n_steps, h) -> rows [c(t), eps_j(t) h^(1/alpha_j)] per step (one if autonomous)."""

    def row(t, h):
        law = model.jump_law(t)
        scales = [s * h ** (1.0 / a) for s, a in zip(law.scales, law.alphas)]
        return [float(model.noise_amplitude(t))] + scales

    def make_table(n_steps, h):
        times = np.zeros(1) if model.autonomous else np.arange(max(int(n_steps), 1)) * h
        return np.array([row(t, h) for t in times], dtype=float).reshape(len(times), 1 + d)

    return make_table


def levy_step_kernel(model: LevyModel, dt: float, bounds=None, tabulate=None) -> StepKernel:
    """The :class:`StepKernel` of a Levy model (registered for :class:`fpsolve.levy.LevyModel`).

    ``bounds`` (a Grid or (lo, hi) pairs) is the box whose exterior censors jumps; ``tabulate`` a
    grid for tabulating a gradient numba cannot compile.
    """
    d = model.ndim
    if d > 3:
        raise ValueError(f"model: Levy kernels support 1 to 3 dimensions, got {d}")
    law = model.jumps
    if tuple(law.axes) != tuple(range(d)):
        raise ValueError(f"model: the Levy kernel needs jumps on every axis, got axes {law.axes}")
    notes: list = []
    step, data = _drift_pieces(model, d, bounds, tabulate, notes)
    R = np.diag(np.sqrt(np.asarray(model._gaussian_covariance, dtype=float)))
    lo, hi = _box(bounds, d)
    constant = (
        np.ascontiguousarray(R),
        np.array(law.alphas),
        np.array(model._inverse_metric, dtype=float),
        lo,
        hi,
        bool(law.isotropic),
    )
    make_table = _coefficient_table(model, d)

    def make_params(n_steps, h):
        return (make_table(n_steps, h), data) + constant

    noise_factor = None
    if model.autonomous and model.gaussian:
        noise_factor = model.noise_amplitude(0.0) * R
    if bounds is not None:
        notes.append("jumps that would land outside the bounds are censored (not made)")
    return StepKernel(
        step=step, state_dim=d, make_params=make_params, bridge=True, notes=tuple(notes), noise_factor=noise_factor
    )


def _box(bounds, d):
    """(lo, hi) arrays of the censoring box (+-inf without bounds; periodic axes never censor)."""
    lo, hi = np.full(d, -np.inf), np.full(d, np.inf)
    if bounds is None:
        return lo, hi
    from ..grid import Grid

    grid = bounds if isinstance(bounds, Grid) else Grid(bounds, 3)
    for k, ((a, b), periodic) in enumerate(zip(grid.bounds, grid.periodic)):
        if not periodic:
            lo[k], hi[k] = a, b
    return lo, hi


def levy_step_numpy(x, dt, drift, inverse_metric, c, R, scales, alphas, xi, z, lo=None, hi=None):
    """Numpy twin of one axis-aligned step: ``drift(x) -> -grad U``, ``xi`` the normals, ``z`` the
    standard stable variates, ``scales`` eps_j (the step scales them by dt^(1/alpha_j))."""
    x = np.array(x, dtype=float)
    x = x + np.asarray(inverse_metric) * drift(x) * dt + c * math.sqrt(dt) * (np.asarray(R) @ np.asarray(xi))
    jump = np.asarray(scales) * dt ** (1.0 / np.asarray(alphas)) * np.asarray(z)
    lo = np.full(len(x), -np.inf) if lo is None else np.asarray(lo)
    hi = np.full(len(x), np.inf) if hi is None else np.asarray(hi)
    return x + jump if np.all((lo <= x + jump) & (x + jump <= hi)) else x


register_step_kernel(LevyModel, levy_step_kernel)
