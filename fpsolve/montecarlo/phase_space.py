"""Phase-space step kernel for kinetic models (momentum SGD, underdamped Langevin): BAOAB splitting.

A :class:`fpsolve.momentum.KineticModel` is the degenerate diffusion on phase space (theta, v)

    d theta = v dt,    d v = (-gamma(t) v + F(theta, t)) dt + a(t) Sigma(theta)^(1/2) dW,

with F(theta, t) = f(t) (-grad U(theta) - w theta) (f = c(t) = 2 / (lr (1 + beta)) and w the weight
decay for MomentumSGD; f = 1, w = 0 for UnderdampedLangevin). One step of length h splits it as
(Leimkuhler & Matthews 2013, "BAOAB")

    B: v += (h/2) F(theta)                                   half kick
    A: theta += (h/2) v                                      half drift
    O: v = e^{-gamma h} v + a sqrt((1 - e^{-2 gamma h}) / (2 gamma)) Sigma(theta)^(1/2) xi
                                                             exact Ornstein-Uhlenbeck step, theta frozen
    A: theta += (h/2) v
    B: v += (h/2) F(theta)

with gamma, f and a taken at the step's midpoint time t + h/2 (schedules of lr, batch size,
friction, temperature are tabulated per step; the midpoint keeps the splitting second order in
time, where the start time would cost O(h)). It is weak order 2 for smooth test functions at
finite times: on the double-well exit time at friction 1, T = 0.25 the bias is C dt^2 with
C = 494 +/- 111 (benchmarks/kinetic_mc_reference.py). Its error on dynamics grows with friction x dt
as well (the A steps use the velocity at half steps, not its average over the step): friction x dt
above :data:`MAX_FRICTION_STEP` is refused.

Sigma(theta)^(1/2) is the overdamped simulators' noise root (:mod:`.noise_root`) applied to the model's
velocity covariance: constant for isotropic noise, the closed-form |H|^(1/2) root from the compiled
Hessian for Hessian noise, tabulated on a theta grid (``bounds``/``tabulate``) for empirical or
callable noise. The force comes from the landscape's compiled gradient (the built-in polynomial
landscapes as data, one cached step for all of them), else it is tabulated on the theta grid.

The step fills the velocity block of ``S`` with ``a R(theta) sqrt((1 - e^{-2 gamma h}) / (2 gamma h))``
(the O step's increment is ``S S^T h`` in law) and zeros elsewhere: theta carries no noise, so the
simulator's Brownian-bridge test is skipped for faces along theta (zero variance) and exits through
them are detected at step ends; theta is C^1 in time, so that costs O(h), not O(sqrt h). The
kernel declares ``reflect_partner``: a wall in theta_k reflects specularly (v_k -> -v_k), as the
kinetic PDE's walls do.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..grid import Grid
from ..momentum import KineticModel
from . import baoab
from .compile import StepKernel, _fd_hessian, _hessian_adapter, _vector_adapter, register_step_kernel, tabulate_drift
from .em_step import _builtin_data, builtin_step
from .noise_root import noise_root
from .tables import _tabulation_grid

__all__ = ["kinetic_step_kernel", "baoab_step_numpy", "VelocityNoiseView", "MAX_FRICTION_STEP"]

#: Largest friction x dt accepted. BAOAB's O step is exact, but its A steps move theta with the
#: velocity at the half steps, which misses the velocity's decorrelation within a step: on a
#: harmonic well (U'' = 8, friction 40) the relative error of the mean at t = 5 is -27 % at
#: friction dt = 2, -5.2 % at 0.8, -2.1 % at 0.5, -0.52 % at 0.25, -0.08 % at 0.1 (exact
#: recursion vs closed form, as in tests/test_montecarlo_phase_space.py); exit times follow: about
#: -24 % at 2 and -6 % at 0.8 (double well, T = 0.5, friction 40, exit at theta = 1, 1500 paths).
MAX_FRICTION_STEP = 0.5

#: Relative agreement required between ``model.force(theta, t)`` and the kernel's
#: f(t) (-grad U - w theta) at probe points: both are the same double-precision formula, so only a
#: different force law (a user's subclass) misses it, by O(1).
_FORCE_CHECK = 1e-9


class VelocityNoiseView:
    """A kinetic model's velocity noise seen as an overdamped model on theta, for :func:`noise_root`:
    ``ndim = dim theta`` and ``noise_covariance(*theta) = Sigma(theta)``."""

    def __init__(self, model: KineticModel):
        self.model = model
        self.ndim = model.dim
        self.noise = model.noise
        self.noise_scale = model.noise_scale
        self.hessian_floor = model.hessian_floor
        self.constant_diffusion = model.constant_diffusion

    def noise_covariance(self, *theta):
        return self.model.velocity_covariance(*theta)


# ------------------------------------------------------------------------------------------------
# The step
# ------------------------------------------------------------------------------------------------
def _make_baoab_step(force, root, d: int):
    """BAOAB step (:mod:`.baoab`) for phase space of dimension 2d around the model's pieces.

    ``force(data, x0, x1, x2)`` returns -grad U (zero-padded 3-tuple); ``root(R, x0, x1, x2, S)``
    writes Sigma(theta)^(1/2) into the (d, d) array S. ``params = (table, data, R)`` with ``table``
    the (rows, 4) array of ``[f, e^{-gamma h}, a sqrt((1 - e^{-2 gamma h}) / (2 gamma)), w]`` per step.
    (The built-in landscapes with constant noise use ``em_step.builtin_kinetic_step`` instead: the
    same sequence with the force as data, cached on disk.)
    """

    @njit  # not IR-inlined into the simulator's parallel loop: that would only slow its compilation
    def step(x, t, dt, rng, params, S):
        table, data, R = params
        f, decay, sd, w = baoab.coefficients(table, t, dt)
        half = 0.5 * dt
        x0, x1, x2 = baoab.theta_of(x, d)
        baoab.kick(x, force(data, x0, x1, x2), f, w, half, d)
        baoab.drift(x, half, d)
        block = S[:d, :d]
        x0, x1, x2 = baoab.theta_of(x, d)
        root(R, x0, x1, x2, block)
        baoab.ou_step(x, block, decay, sd, dt, rng, S, d)
        baoab.drift(x, half, d)
        x0, x1, x2 = baoab.theta_of(x, d)
        baoab.kick(x, force(data, x0, x1, x2), f, w, half, d)

    return step


def baoab_step_numpy(theta, v, dt, force, root, friction, amplitude, xi):
    """Numpy twin of one BAOAB step for tests: ``force(theta) -> F``, ``root(theta) -> Sigma^(1/2)``,
    ``xi`` the standard normals; returns the new ``(theta, v)``."""
    theta, v = np.array(theta, dtype=float), np.array(v, dtype=float)
    v = v + 0.5 * dt * force(theta)
    theta = theta + 0.5 * dt * v
    sd = amplitude * math.sqrt(-math.expm1(-2.0 * friction * dt) / (2.0 * friction))
    v = math.exp(-friction * dt) * v + sd * (root(theta) @ np.asarray(xi, dtype=float))
    theta = theta + 0.5 * dt * v
    v = v + 0.5 * dt * force(theta)
    return theta, v


# ------------------------------------------------------------------------------------------------
# The factory registered for KineticModel
# ------------------------------------------------------------------------------------------------
def _theta_grid(bounds, tabulate, d: int) -> Grid:
    """The theta part of a phase-space grid (or a theta grid given as is), for tabulations."""

    def theta_part(grid):
        if isinstance(grid, Grid) and grid.ndim == 2 * d:
            return Grid(grid.bounds[:d], list(grid.shape[:d]), periodic=list(grid.periodic[:d]))
        return grid

    if bounds is not None and not isinstance(bounds, Grid):
        bounds = np.asarray(bounds, dtype=float).reshape(-1, 2)[:d]
    return _tabulation_grid(theta_part(bounds), theta_part(tabulate), d)


def _force_factor(model):
    """``(f(t), w)``: F(theta, t) = f(t) (-grad U(theta) - w theta)."""
    return model.force_factor, float(model.weight_decay)


def _check_force(model, factor, weight_decay) -> None:
    """Refuse a kinetic model whose force is not f(t) (-grad U - w theta) (a user's subclass)."""
    d = model.dim
    probe = [np.array(0.37 + 0.11 * k) for k in range(d)]
    expected = -np.asarray(model.landscape.grad(*probe), dtype=float).reshape(d)
    expected = factor(0.0) * (expected - weight_decay * np.array([float(p) for p in probe]))
    got = np.asarray(model.force(*probe, t=0.0), dtype=float).reshape(d)
    if not np.allclose(got, expected, rtol=_FORCE_CHECK, atol=_FORCE_CHECK * np.abs(expected).max()):
        raise ValueError(
            f"model: the phase-space simulator integrates F = f(t) (-grad U - w theta); "
            f"{type(model).__name__}.force differs ({got} vs {expected} at theta = "
            f"{[float(p) for p in probe]}); register a step kernel for this class with "
            "fpsolve.montecarlo.register_step_kernel"
        )


def _schedule_table(model, factor, weight_decay):
    """make_params(n_steps, dt) -> (rows, 4) table [f, e^{-gamma h}, OU noise sd, w] per step."""

    def row(t, h):
        gamma, amplitude = float(model.friction_at(t)), float(model.noise_amplitude(t))
        sd = amplitude * math.sqrt(-math.expm1(-2.0 * gamma * h) / (2.0 * gamma))
        return (float(factor(t)), math.exp(-gamma * h), sd, weight_decay)

    def make_table(n_steps, h):
        if model.autonomous:
            times = np.zeros(1)
        else:  # schedules: coefficients at each step's midpoint (second order)
            times = (np.arange(max(int(n_steps), 1)) + 0.5) * h
        _check_friction_step(model, times, h)
        return np.array([row(t, h) for t in times], dtype=float).reshape(len(times), 4)

    return make_table


def _check_friction_step(model, times, h) -> None:
    """Refuse friction x dt > MAX_FRICTION_STEP (module docstring: the dynamics would be off by more
    than about 2 %)."""
    frictions = np.array([float(model.friction_at(t)) for t in times])
    k = int(np.argmax(frictions))
    if frictions[k] * h > MAX_FRICTION_STEP:
        raise ValueError(
            f"dt: friction x dt = {frictions[k] * h:.3g} (friction {frictions[k]:.4g} at t = {times[k]:g}); "
            f"the BAOAB splitting's error on dynamics grows as (friction dt)^2 (on a harmonic well at "
            f"friction 40 the mean's relaxation is off by -2 % at 0.5 and -27 % at 2; exit times "
            f"likewise): take dt <= {MAX_FRICTION_STEP / frictions[k]:.3g}, or <= "
            f"{0.25 / frictions[k]:.3g} for about 0.5 %"
        )


def _general_pieces(model, view, grid, notes):
    """(force, root) kernels for a landscape without the built-in data form."""
    d, U = model.dim, model.landscape
    grad = _vector_adapter(U.grad_function, d, -1.0) if U.grad_function is not None else None
    if grad is None:
        tabulated = tabulate_drift(lambda *theta: -np.asarray(U.grad(*theta), dtype=float), grid(), d, notes, "force")

        @njit(inline="always")
        def force(data, x0, x1, x2):
            return tabulated(x0, x1, x2, 0.0, data)
    else:

        @njit(inline="always")
        def force(data, x0, x1, x2):
            return grad(x0, x1, x2)

    hess = None
    if model.noise == "hessian" and grad is not None:
        hess = _hessian_adapter(U.hessian_function, d) or _fd_hessian(grad, d)
    theta_root, _ = noise_root(view, hess, grid, notes)

    @njit(inline="always")
    def root(R, x0, x1, x2, S):
        theta_root(x0, x1, x2, S)

    return force, root


def kinetic_step_kernel(model: KineticModel, dt: float, bounds=None, tabulate=None) -> StepKernel:
    """The BAOAB :class:`StepKernel` of a kinetic model (registered for :class:`KineticModel`).

    ``bounds``/``tabulate`` (phase-space or theta grids) give the theta box on which functions that
    numba cannot compile (empirical or callable noise, a gradient without a formula) are tabulated.
    """
    d = model.dim
    if d > 3:
        raise ValueError(f"model: phase-space kernels support 1 to 3 parameters, got dim theta = {d}")
    factor, weight_decay = _force_factor(model)
    _check_force(model, factor, weight_decay)
    view = VelocityNoiseView(model)
    notes: list = []
    cache: dict = {}

    def grid():
        if "g" not in cache:
            cache["g"] = _theta_grid(bounds, tabulate, d)
        return cache["g"]

    data = _builtin_data(model.landscape.grad_function, d) if model.landscape.grad_function else None
    R = np.zeros((d, d))
    if data is not None and model.constant_diffusion:
        step = builtin_step  # the disk-cached generic step; a negative kind selects BAOAB
        data = np.concatenate([[-data[0]], data[1:]])
        R = np.ascontiguousarray(noise_root(view, None, grid, notes)[1], dtype=float)
    else:
        force, root = _general_pieces(model, view, grid, notes)
        step = _make_baoab_step(force, root, d)
        data = np.zeros(1)
    make_table = _schedule_table(model, factor, weight_decay)

    def make_params(n_steps, h):
        return (make_table(n_steps, h), data, R)

    noise_factor = None
    if model.constant_diffusion and model.autonomous:
        root_constant = noise_root(view, None, grid, [])[1]
        sd = make_table(1, dt)[0, 2]
        noise_factor = np.zeros((2 * d, 2 * d))
        noise_factor[d:, d:] = sd / math.sqrt(dt) * np.asarray(root_constant, dtype=float).reshape(d, d)
    partner = np.full(2 * d, -1, dtype=np.int64)
    partner[:d] = np.arange(d, 2 * d)
    return StepKernel(
        step=step,
        state_dim=2 * d,
        make_params=make_params,
        bridge=True,
        notes=tuple(notes),
        noise_factor=noise_factor,
        reflect_partner=partner,
    )


register_step_kernel(KineticModel, kinetic_step_kernel)
