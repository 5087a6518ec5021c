"""Turning a model's drift and noise (and a domain) into Numba step kernels.

A **step kernel** advances one path by one time step in place::

    step(x, t, dt, rng, params, S) -> None

``x`` is the state (float64 array of length ``state_dim``), ``t`` the time at the step's start,
``rng`` the path's random stream (:mod:`.rng`), ``params`` whatever the kernel needs (arrays,
tuples), and ``S`` a ``(state_dim, state_dim)`` scratch array that the step fills with the noise
factor it used, so that the increment's covariance is ``S S^T dt``; the simulator's Brownian-bridge
exit test reads it. A plug-in that cannot provide ``S`` says ``bridge=False``.

Gaussian models (any :class:`fpsolve.dynamics.Model` without jumps: ``Langevin``, ``SGD``,
``Diffusion``, or a user's subclass) compile to the Euler-Maruyama step
``x += b(x, t) dt + c(t) R(x) sqrt(dt) xi`` with ``S = c(t) R(x)``. Both factors are asked of the
model, which declares 2 D(x, t) = c(t)^2 Sigma(x): c(t) = ``model.noise_amplitude(t)`` (tabulated
per step when the model is not autonomous) and R = Sigma^(1/2) from ``model.noise_covariance``
(:mod:`.noise_root`: constant, the SGD Hessian root in closed form, or tabulated). Sigma may be
positive semi-definite (noise on some axes only). A model with alpha-stable ``jumps`` needs a
plug-in kernel: the Levy models of :mod:`fpsolve.levy` (``LevyLangevin``, ``LevySGD``, ``LevyAdam``,
any :class:`fpsolve.levy.LevyModel`) are registered with the stable-jump kernel of :mod:`.levy`.

The drift of ``Langevin`` and ``SGD`` is compiled with ``numba.njit`` from the landscape's
``grad_function`` (``hessian_function``; else fourth-order central differences of the compiled
gradient, step ``eps^(1/5) max(1, |x|)``), that of ``Diffusion`` from its drift function. When that fails (arbitrary Python), the drift and/or R are **tabulated**
at the nodes of a fine grid (``tabulate=Grid``, or the simulation box refined) and interpolated
multilinearly in the kernel. This is an approximation: the interpolation error is ~h^2/8 max|b''|;
the measured maximum error at 2000 random points is kept in ``StepKernel.notes``. The drift of a
user's Model subclass is always tabulated (from ``model.drift(*x, t=0)``, so the model must be
autonomous; give the class a ``step_kernel`` otherwise).

Other models plug in without changing the simulator: give the model class a method
``step_kernel(self, dt) -> StepKernel``, or call ``register_step_kernel(ModelClass, factory)`` with
``factory(model, dt) -> StepKernel`` (it also receives ``bounds=`` and ``tabulate=`` when it accepts
them). The kinetic models (momentum SGD, underdamped Langevin) are registered this way with the
BAOAB kernel of :mod:`.phase_space`.

Domains (boxes, half-spaces, predicates) compile in :mod:`.domains`; the Euler-Maruyama update and
the built-in landscapes' drifts as data are in :mod:`.em_step`.

Compiled kernels that call user functions cannot be cached on disk (the functions' identities
change between processes; caching them would only grow ``__pycache__``): they are compiled once per
model per process. The generic kernels (random numbers, interpolation, matrix roots) are cached.
So are Langevin and isotropic-noise SGD models on the polynomial landscapes of fpsolve.landscapes
(``double_well``, ``tilted_double_well``, ``double_well_2d``/``separable_2d``,
``rotated_double_well``, ``quadratic``): their gradient is passed as data to one generic step
(``builtin_step``) that repeats the factory's arithmetic, bitwise, and runs in the one cached driver.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Callable

import numba
import numpy as np
from numba import njit

from ..dynamics import SGD, Diffusion, Langevin, Model
from ..grid import Grid
from .em_step import _builtin_data, _make_em_step, builtin_step
from .noise_root import noise_root, sqrt_abs_2x2, sqrt_abs_numpy  # noqa: F401  (public here too)
from .tables import _Table, _table_error, _tabulation_grid, interpolate

__all__ = [
    "StepKernel",
    "register_step_kernel",
    "compile_model",
    "interpolate",
    "sqrt_abs_2x2",
    "sqrt_abs_numpy",
]

_REGISTRY: dict = {}
_H_GRAD = np.finfo(float).eps ** (1 / 5)


@dataclass(frozen=True, eq=False)
class StepKernel:
    """A compiled one-step map for a model (see the module docstring for the signature).

    Attributes
    ----------
    step : numba dispatcher
        ``step(x, t, dt, rng, params, S)``.
    state_dim : int
        Length of the state vector (d, or 2d in phase space).
    params : object
        Passed to ``step`` unchanged (arrays or tuples of arrays), unless ``make_params`` is given.
    make_params : callable, optional
        ``make_params(n_steps, dt) -> params`` for coefficients that change with time (schedules).
    bridge : bool
        Whether ``step`` fills ``S`` with its noise factor (needed by the Brownian-bridge test).
    notes : tuple of str
        Approximations made (tabulation and its measured error), for reports.
    noise_factor : (state_dim, state_dim) array, optional
        The ``S`` that ``step`` writes, when it is the same at every state and time (additive,
        autonomous noise): the simulator then precomputes the bridge test's per-face variances.
    reflect_partner : (state_dim,) int array, optional
        For walls of ``bounds``: when axis ``a`` is mirrored at a wall and ``reflect_partner[a] >= 0``,
        that coordinate changes sign too (specular reflection of a position and its velocity in
        phase space). None (or -1) mirrors the position only.
    """

    step: object
    state_dim: int
    params: object = None
    make_params: Callable | None = None
    bridge: bool = True
    notes: tuple = field(default=())
    noise_factor: np.ndarray | None = None
    reflect_partner: np.ndarray | None = None

    def parameters(self, n_steps: int, dt: float):
        if self.make_params is not None:
            return self.make_params(n_steps, dt)
        return np.zeros(1) if self.params is None else self.params


def register_step_kernel(model_class: type, factory: Callable) -> None:
    """Register ``factory(model, dt) -> StepKernel`` for instances of ``model_class``.

    A factory that also accepts keywords ``bounds`` and ``tabulate`` receives the simulator's (for
    tabulating functions that numba cannot compile).
    """
    _REGISTRY[model_class] = factory


def _call_factory(factory, model, dt, bounds, tabulate):
    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        parameters = {}
    if "bounds" in parameters and "tabulate" in parameters:
        return factory(model, dt, bounds=bounds, tabulate=tabulate)
    return factory(model, dt)


# ------------------------------------------------------------------------------------------------
# Compiling user functions
# ------------------------------------------------------------------------------------------------
def _jit(fn):
    return fn if isinstance(fn, numba.core.dispatcher.Dispatcher) else njit(inline="always")(fn)


def _vector_adapter(fn, d: int, sign: float):
    """njit ``g(x0, x1, x2) -> (g0, g1, g2)`` (zero-padded) from ``fn(*x)`` returning d numbers."""
    probe = [0.37 + 0.11 * k for k in range(d)]
    try:
        reference = np.asarray(fn(*probe), dtype=float).reshape(-1)
        jitted = _jit(fn)
        args = ", ".join(["x0", "x1", "x2"][:d])
        if np.ndim(fn(*probe)) == 0 and d == 1:
            body = f"    return (sign * float(f({args})), 0.0, 0.0)"
        else:
            comps = [f"sign * float(r[{k}])" for k in range(d)] + ["0.0"] * (3 - d)
            body = f"    r = f({args})\n    return (" + ", ".join(comps) + ")"
        namespace = {"f": jitted, "sign": sign}
        exec(f"def g(x0, x1, x2):\n{body}", namespace)
        g = njit(inline="always")(namespace["g"])
        value = np.array(g(*(probe + [0.0] * (3 - d))))[:d]
        if reference.shape != (d,) or not np.allclose(value, sign * reference, rtol=1e-10, atol=1e-12):
            return None
        return g
    except Exception:
        return None


def _hessian_adapter(fn, d: int):
    """njit ``h(x0, x1, x2, H)`` filling H from ``fn(*x)`` ((d, d) numbers), or None."""
    if fn is None:
        return None
    probe = [0.37 + 0.11 * k for k in range(d)]
    try:
        reference = np.asarray(fn(*probe), dtype=float).reshape(d, d)
        jitted = _jit(fn)
        args = ", ".join(["x0", "x1", "x2"][:d])
        if np.ndim(fn(*probe)) == 0:
            body = f"    H[0, 0] = float(f({args}))"
        else:
            body = f"    r = f({args})\n" + "\n".join(
                f"    H[{i}, {j}] = float(r[{i}][{j}])" for i in range(d) for j in range(d)
            )
        namespace = {"f": jitted}
        exec(f"def h(x0, x1, x2, H):\n{body}", namespace)
        h = njit(inline="always")(namespace["h"])
        H = np.zeros((d, d))
        h(*(probe + [0.0] * (3 - d)), H)
        return h if np.allclose(H, reference, rtol=1e-10, atol=1e-12) else None
    except Exception:
        return None


def _fd_hessian(grad, d: int):
    """njit ``h(x0, x1, x2, H)``: fourth-order central differences of the compiled gradient."""
    hrel = _H_GRAD

    @njit(inline="always")
    def h(x0, x1, x2, H):
        for k in range(d):
            xk = x0 if k == 0 else (x1 if k == 1 else x2)
            step = hrel * max(1.0, abs(xk))
            step = (xk + step) - xk
            gp1 = grad(x0 + step * (k == 0), x1 + step * (k == 1), x2 + step * (k == 2))
            gm1 = grad(x0 - step * (k == 0), x1 - step * (k == 1), x2 - step * (k == 2))
            gp2 = grad(x0 + 2 * step * (k == 0), x1 + 2 * step * (k == 1), x2 + 2 * step * (k == 2))
            gm2 = grad(x0 - 2 * step * (k == 0), x1 - 2 * step * (k == 1), x2 - 2 * step * (k == 2))
            for i in range(d):
                H[i, k] = (8.0 * (gp1[i] - gm1[i]) - (gp2[i] - gm2[i])) / (12.0 * step)
        for i in range(d):
            for j in range(i):
                m = 0.5 * (H[i, j] + H[j, i])
                H[i, j] = m
                H[j, i] = m

    return h


def _drift_from_gradient(grad):
    @njit(inline="always")
    def drift(x0, x1, x2, lr, S):
        return grad(x0, x1, x2)  # the adapter already carries the minus sign

    return drift


def _modified_drift(grad, hess, d):
    """b = -g - (lr/2) H g with g = grad U (the adapter returns -g)."""

    @njit(inline="always")
    def drift(x0, x1, x2, lr, S):
        mg = grad(x0, x1, x2)
        hess(x0, x1, x2, S)
        if d == 1:
            return (mg[0] + 0.5 * lr * S[0, 0] * mg[0], 0.0, 0.0)
        out0 = mg[0] + 0.5 * lr * (S[0, 0] * mg[0] + S[0, 1] * mg[1] + (S[0, 2] * mg[2] if d > 2 else 0.0))
        out1 = mg[1] + 0.5 * lr * (S[1, 0] * mg[0] + S[1, 1] * mg[1] + (S[1, 2] * mg[2] if d > 2 else 0.0))
        out2 = 0.0
        if d > 2:
            out2 = mg[2] + 0.5 * lr * (S[2, 0] * mg[0] + S[2, 1] * mg[1] + S[2, 2] * mg[2])
        return (out0, out1, out2)

    return drift


def tabulate_drift(exact: Callable, grid: Grid, d: int, notes: list, what: str = "drift", corrected: bool = False):
    """The drift kernel interpolating ``exact`` (coordinates -> array of shape ``(k,) + shape``)
    tabulated on ``grid`` (multilinear); a note with the interpolation error goes to ``notes``."""
    values = np.moveaxis(exact(*grid.mesh()), 0, -1)
    notes.append(
        f"{what} tabulated on {grid!r}, multilinear interpolation, max relative error "
        f"{_table_error(grid, exact, values):.2e}"
    )
    return _tabulated_drift(_Table(grid, values), d, corrected)


def _tabulated_drift(table: _Table, d: int, corrected: bool):
    values, shape, lo, h, per = table.arrays()

    @njit(inline="always")
    def drift(x0, x1, x2, lr, S):
        r0 = interpolate(values, shape, lo, h, per, x0, x1, x2, 0)
        r1 = interpolate(values, shape, lo, h, per, x0, x1, x2, 1) if d > 1 else 0.0
        r2 = interpolate(values, shape, lo, h, per, x0, x1, x2, 2) if d > 2 else 0.0
        if corrected:
            r0 += lr * interpolate(values, shape, lo, h, per, x0, x1, x2, d)
            if d > 1:
                r1 += lr * interpolate(values, shape, lo, h, per, x0, x1, x2, d + 1)
            if d > 2:
                r2 += lr * interpolate(values, shape, lo, h, per, x0, x1, x2, d + 2)
        return (r0, r1, r2)

    return drift


# ------------------------------------------------------------------------------------------------
# compile_model
# ------------------------------------------------------------------------------------------------
def _compiled_drift(model, d, known, tab_grid, notes):
    """The drift as a numba kernel: (drift, builtin, hess). ``builtin`` is the data of the cached
    generic step (constant noise, gradient drift) and then ``drift`` is None; ``hess`` is the
    Hessian kernel when the noise or the modified loss needs it. Drifts without a compilable
    formula are tabulated on ``tab_grid()`` (a note records the interpolation error)."""
    grad = hess = builtin = None
    corrected = isinstance(model, SGD) and model.modified_loss
    if isinstance(model, Diffusion):
        grad = _vector_adapter(model._drift, d, 1.0)
    elif known:  # Langevin, SGD: b = -grad U
        U = model.landscape
        if model.constant_diffusion and not corrected:
            builtin = _builtin_data(U.grad_function, d)  # constant R: the cached generic step
        if U.grad_function is not None and builtin is None:
            grad = _vector_adapter(U.grad_function, d, -1.0)
    needs_hessian = corrected or (isinstance(model, SGD) and model.noise == "hessian")
    if needs_hessian and grad is not None:
        hess = _hessian_adapter(model.landscape.hessian_function, d) or _fd_hessian(grad, d)
    if builtin is not None:
        drift = None
    elif grad is not None and (not corrected or hess is not None):
        drift = _modified_drift(grad, hess, d) if corrected else _drift_from_gradient(grad)
    else:
        U = model.landscape
        if corrected:

            def exact(*x):
                gr = U.grad(*x)
                return np.concatenate([-gr, -0.5 * np.einsum("ij...,j...->i...", U.hessian(*x), gr)])
        else:

            def exact(*x):
                return model.drift(*x, t=0.0)

        drift = tabulate_drift(exact, tab_grid(), d, notes, "drift", corrected)

    return drift, builtin, hess


def _schedule_table(model):
    """make_params(n_steps, dt) -> the (rows, 2) table of (noise amplitude c(t), learning rate) per
    step; one row for autonomous models."""
    c_of_t = model.noise_amplitude
    lr_of_t = model.lr_at if isinstance(model, SGD) else (lambda t: 0.0)
    autonomous = model.autonomous

    def make_params(n_steps, dt_):
        rows = 1 if autonomous else max(int(n_steps), 1)
        table = np.empty((rows, 2))
        for k in range(rows):
            table[k] = c_of_t(k * dt_), lr_of_t(k * dt_)
        return table

    return make_params


def compile_model(model, dt: float, bounds=None, tabulate: Grid | None = None) -> StepKernel:
    """Return the StepKernel of ``model`` (plug-in, registered factory, or Euler-Maruyama)."""
    for cls in type(model).__mro__:
        if cls in _REGISTRY:
            return _call_factory(_REGISTRY[cls], model, dt, bounds, tabulate)
    if hasattr(model, "step_kernel"):
        return model.step_kernel(dt)
    if not isinstance(model, Model):
        raise TypeError(
            f"model: no Monte Carlo step kernel for {type(model).__name__}; give the class a "
            "step_kernel(dt) method, register one with register_step_kernel, or derive it from "
            "fpsolve.dynamics.Model (drift, noise_amplitude, noise_covariance)"
        )
    if model.jumps is not None:
        raise ValueError(
            f"model: the Euler-Maruyama simulator draws Gaussian noise; this model has alpha-stable "
            f"jumps ({model.jumps!r}); give the class a step_kernel(dt) method that draws them, or "
            "derive it from fpsolve.levy.LevyModel (Euler steps with exact stable jumps)"
        )
    known = isinstance(model, (Langevin, SGD, Diffusion))
    if not known and not model.autonomous:
        raise ValueError(
            f"model: {type(model).__name__} is not autonomous, but the simulator tabulates the drift "
            "of a user's model at t = 0 only; give the class a step_kernel(dt) method"
        )
    d = model.ndim
    if d > 3:
        raise ValueError(f"model: Euler-Maruyama kernels support 1 to 3 dimensions, got {d}")
    notes = []
    grid_cache = {}

    def tab_grid():
        if "g" not in grid_cache:
            grid_cache["g"] = _tabulation_grid(bounds, tabulate, d)
        return grid_cache["g"]

    drift, builtin, hess = _compiled_drift(model, d, known, tab_grid, notes)

    # --- noise: 2 D = c(t)^2 Sigma(x), both asked of the model; S = c(t) R(x) with R = Sigma^(1/2) ---
    root, constant_R = noise_root(model, hess, tab_grid, notes)
    c0 = model.noise_amplitude(0.0)
    if not (np.isfinite(c0) and c0 >= 0):
        raise ValueError(f"model: noise_amplitude(0) = {c0!r}; expected a finite non-negative number")

    make_params = _schedule_table(model)
    noise_factor = None
    if constant_R is not None and model.autonomous:
        noise_factor = c0 * np.asarray(constant_R, dtype=float).reshape(d, d)
    if builtin is not None:
        step, R = builtin_step, np.ascontiguousarray(constant_R, dtype=float)
        make_table = make_params
        make_params = lambda n_steps, dt_: (make_table(n_steps, dt_), builtin, R)  # noqa: E731
    else:
        step = _make_em_step(drift, root, d)
    return StepKernel(
        step=step, state_dim=d, make_params=make_params, bridge=True, notes=tuple(notes), noise_factor=noise_factor
    )
