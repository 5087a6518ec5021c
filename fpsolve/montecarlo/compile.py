"""Turning a model's drift and noise (and a domain) into Numba step kernels.

A **step kernel** advances one path by one time step in place::

    step(x, t, dt, rng, params, S) -> None

``x`` is the state (float64 array of length ``state_dim``), ``t`` the time at the step's start,
``rng`` the path's random stream (:mod:`.rng`), ``params`` whatever the kernel needs (arrays,
tuples), and ``S`` a ``(state_dim, state_dim)`` scratch array that the step fills with the noise
factor it used, so that the increment's covariance is ``S S^T dt``; the simulator's Brownian-bridge
exit test reads it. A plug-in that cannot provide ``S`` says ``bridge=False``.

Overdamped models (``Langevin``, ``SGD``, ``Diffusion``) compile to the Euler-Maruyama step
``x += b(x, t) dt + c(t) R(x) sqrt(dt) xi`` with ``S = c(t) R(x)``, ``c R R^T c = 2 D``:

* Langevin: R = I, c = sqrt(2 T);
* SGD: c = sqrt(lr(t) / batch_size(t)) (schedules evaluated at the step's start, tabulated per
  step), R = sqrt(s) I (isotropic), sqrt(s) |H|^(1/2) with H's eigenvalues replaced by
  max(|lambda|, floor) (Hessian noise: closed form in 1-D and 2-D, LAPACK ``eigh`` in 3-D),
  or a tabulated Sigma^(1/2) (callable or empirical noise);
* Diffusion: R = (2 D)^(1/2) (constant: computed once; callable: tabulated).

The gradient (and Hessian) are compiled with ``numba.njit`` from the landscape's ``grad_function``
(``hessian_function``; else fourth-order central differences of the compiled gradient, step
``eps^(1/5) max(1, |x|)``). When that fails (arbitrary Python), the drift and/or R are **tabulated**
at the nodes of a fine grid (``tabulate=Grid``, or the simulation box refined) and interpolated
multilinearly in the kernel. This is an approximation: the interpolation error is ~h^2/8 max|b''|;
the measured maximum error at 2000 random points is kept in ``StepKernel.notes``.

Models to come (momentum in phase space, Levy noise) plug in without changing the simulator: give
the model class a method ``step_kernel(self, dt) -> StepKernel``, or call
``register_step_kernel(ModelClass, factory)`` with ``factory(model, dt) -> StepKernel``.

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

import math
from dataclasses import dataclass, field
from typing import Callable

import numba
import numpy as np
from numba import njit

from ..dynamics import SGD, Diffusion, Langevin
from ..grid import Grid
from ..noise import HESSIAN_FLOOR
from .em_step import _builtin_data, _make_em_step, builtin_step

__all__ = [
    "StepKernel", "register_step_kernel", "compile_model", "interpolate", "sqrt_abs_2x2",
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
    """

    step: object
    state_dim: int
    params: object = None
    make_params: Callable | None = None
    bridge: bool = True
    notes: tuple = field(default=())
    noise_factor: np.ndarray | None = None

    def parameters(self, n_steps: int, dt: float):
        if self.make_params is not None:
            return self.make_params(n_steps, dt)
        return np.zeros(1) if self.params is None else self.params


def register_step_kernel(model_class: type, factory: Callable) -> None:
    """Register ``factory(model, dt) -> StepKernel`` for instances of ``model_class``."""
    _REGISTRY[model_class] = factory


# ------------------------------------------------------------------------------------------------
# Matrix roots and interpolation (cached generic kernels, with numpy twins)
# ------------------------------------------------------------------------------------------------
@njit(cache=True)
def sqrt_abs_2x2(a, b, c, floor, S):
    """S = |H|^(1/2) for H = [[a, b], [b, c]], eigenvalues floored at ``floor`` (closed form)."""
    mean = 0.5 * (a + c)
    radius = math.sqrt(0.25 * (a - c) * (a - c) + b * b)
    s1 = math.sqrt(max(abs(mean + radius), floor))
    s2 = math.sqrt(max(abs(mean - radius), floor))
    theta = 0.5 * math.atan2(2.0 * b, a - c)  # eigenvector of the larger eigenvalue
    cs, sn = math.cos(theta), math.sin(theta)
    S[0, 0] = cs * cs * s1 + sn * sn * s2
    S[0, 1] = cs * sn * (s1 - s2)
    S[1, 0] = S[0, 1]
    S[1, 1] = sn * sn * s1 + cs * cs * s2


@njit(cache=True)
def _sqrt_abs_inplace(S, floor):
    """Replace the symmetric matrix in S by |S|^(1/2) with floored eigenvalues."""
    d = S.shape[0]
    if d == 1:
        S[0, 0] = math.sqrt(max(abs(S[0, 0]), floor))
    elif d == 2:
        sqrt_abs_2x2(S[0, 0], 0.5 * (S[0, 1] + S[1, 0]), S[1, 1], floor, S)
    else:
        w, v = np.linalg.eigh(0.5 * (S + S.T))
        for i in range(d):
            w[i] = math.sqrt(max(abs(w[i]), floor))
        for i in range(d):
            for j in range(d):
                acc = 0.0
                for k in range(d):
                    acc += v[i, k] * w[k] * v[j, k]
                S[i, j] = acc


def sqrt_abs_numpy(h: np.ndarray, floor: float) -> np.ndarray:
    """Numpy twin of the in-kernel root: V diag(sqrt(max(|lambda|, floor))) V^T."""
    w, v = np.linalg.eigh(0.5 * (h + h.T))
    return (v * np.sqrt(np.maximum(np.abs(w), floor))) @ v.T


@njit(cache=True)
def interpolate(values, shape, lo, h, periodic, x0, x1, x2, col):
    """Multilinear interpolation of column ``col`` of a node table at (x0, x1, x2).

    ``values`` has shape (n0 * n1 * n2, m) (C order, unused axes of length 1); nodes sit at cell
    centres ``lo + (i + 1/2) h`` as in :class:`fpsolve.Grid`; beyond the outermost centre the value
    is held constant, periodic axes wrap.
    """
    idx0 = np.zeros(3, np.int64)
    idx1 = np.zeros(3, np.int64)
    w = np.zeros(3)
    for a in range(3):
        n = shape[a]
        if n == 1:
            continue
        xa = x0 if a == 0 else (x1 if a == 1 else x2)
        s = (xa - lo[a]) / h[a] - 0.5
        i = math.floor(s)
        f = s - i
        if periodic[a]:
            idx0[a] = i % n
            idx1[a] = (i + 1) % n
            w[a] = f
        elif s <= 0.0:
            idx0[a] = 0
            idx1[a] = 0
        elif s >= n - 1:
            idx0[a] = n - 1
            idx1[a] = n - 1
        else:
            idx0[a] = i
            idx1[a] = i + 1
            w[a] = f
    out = 0.0
    for corner in range(8):
        weight = 1.0
        flat = 0
        for a in range(3):
            bit = (corner >> a) & 1
            if bit == 1 and shape[a] == 1:
                weight = 0.0
            weight *= w[a] if bit == 1 else 1.0 - w[a]
            flat = flat * shape[a] + (idx1[a] if bit == 1 else idx0[a])
        if weight != 0.0:
            out += weight * values[flat, col]
    return out


class _Table:
    """Values of m functions at the centres of a grid, packed for :func:`interpolate`."""

    def __init__(self, grid: Grid, columns: np.ndarray):
        d = grid.ndim
        self.grid = grid
        pad = 3 - d
        self.shape = np.array(list(grid.shape) + [1] * pad, dtype=np.int64)
        self.lo = np.array([lo for lo, _ in grid.bounds] + [0.0] * pad)
        self.h = np.array(list(grid.spacing) + [1.0] * pad)
        self.periodic = np.array(list(grid.periodic) + [False] * pad)
        self.values = np.ascontiguousarray(columns.reshape(-1, columns.shape[-1]))

    def arrays(self):
        return self.values, self.shape, self.lo, self.h, self.periodic


def _tabulation_grid(bounds, tabulate, d) -> Grid:
    if isinstance(tabulate, Grid):
        return tabulate
    caps = (8192, 1024, 128)[d - 1]
    if isinstance(bounds, Grid):
        return Grid(bounds.bounds, [min(4 * n, caps) for n in bounds.shape], bounds.periodic)
    if bounds is not None:
        b = np.asarray(bounds, dtype=float).reshape(-1, 2)
        if np.all(np.isfinite(b)):
            return Grid(b, (4096, 512, 96)[d - 1])
    raise ValueError(
        "tabulate: the model's functions could not be compiled with numba, so they must be "
        "tabulated, which needs a finite box: pass bounds=Grid(...) or tabulate=Grid(...)"
    )


def _table_error(grid: Grid, exact: Callable, values: np.ndarray) -> float:
    """Max |interpolated - exact| over 2000 random points, relative to max |exact| (numpy twin)."""
    rng = np.random.default_rng(12345)
    pts = [rng.uniform(lo, hi, 2000) for lo, hi in grid.bounds]
    ex = exact(*pts)  # (m, 2000)
    approx = np.stack([grid.interpolate(values[..., j], *pts) for j in range(values.shape[-1])])
    scale = max(np.max(np.abs(ex)), 1e-300)
    return float(np.max(np.abs(approx - ex)) / scale)


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
                f"    H[{i}, {j}] = float(r[{i}][{j}])" for i in range(d) for j in range(d))
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


def _hessian_floor(model) -> float:
    floor = getattr(model, "hessian_floor", None)
    if floor is None:  # SGD keeps the floor only inside its noise closure
        code, cells = model.sigma.__code__, model.sigma.__closure__ or ()
        floor = dict(zip(code.co_freevars, (c.cell_contents for c in cells))).get("floor", HESSIAN_FLOOR)
    return float(floor)


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


def _constant_root(R: np.ndarray, d: int):
    R = np.ascontiguousarray(R, dtype=float)

    @njit(inline="always")
    def root(x0, x1, x2, S):
        for i in range(d):
            for j in range(d):
                S[i, j] = R[i, j]

    return root


def _hessian_root(hess, scale: float, floor: float, d: int):
    rs = math.sqrt(scale)

    @njit(inline="always")
    def root(x0, x1, x2, S):
        hess(x0, x1, x2, S)
        _sqrt_abs_inplace(S, floor)
        for i in range(d):
            for j in range(d):
                S[i, j] *= rs

    return root


def _tabulated_root(table: _Table, d: int):
    values, shape, lo, h, per = table.arrays()

    @njit(inline="always")
    def root(x0, x1, x2, S):
        for i in range(d):
            for j in range(d):
                S[i, j] = interpolate(values, shape, lo, h, per, x0, x1, x2, i * d + j)

    return root


def _sym_sqrt_field(matrices: np.ndarray) -> np.ndarray:
    """(d, d) + shape symmetric PSD field -> its square root, shape shape + (d*d,)."""
    d = matrices.shape[0]
    moved = np.moveaxis(matrices, (0, 1), (-2, -1))
    w, v = np.linalg.eigh(0.5 * (moved + np.swapaxes(moved, -1, -2)))
    root = np.einsum("...ik,...k,...jk->...ij", v, np.sqrt(np.maximum(w, 0.0)), v)
    return root.reshape(root.shape[:-2] + (d * d,))


# ------------------------------------------------------------------------------------------------
# compile_model
# ------------------------------------------------------------------------------------------------
def compile_model(model, dt: float, bounds=None, tabulate: Grid | None = None) -> StepKernel:
    """Return the StepKernel of ``model`` (plug-in, registered factory, or Euler-Maruyama)."""
    for cls in type(model).__mro__:
        if cls in _REGISTRY:
            return _REGISTRY[cls](model, dt)
    if hasattr(model, "step_kernel"):
        return model.step_kernel(dt)
    if not isinstance(model, (Langevin, SGD, Diffusion)):
        raise TypeError(
            f"model: no Monte Carlo step kernel for {type(model).__name__}; give the class a "
            "step_kernel(dt) method or register one with register_step_kernel")
    d = model.ndim
    if d > 3:
        raise ValueError(f"model: Euler-Maruyama kernels support 1 to 3 dimensions, got {d}")
    notes = []
    grid_cache = {}

    def tab_grid():
        if "g" not in grid_cache:
            grid_cache["g"] = _tabulation_grid(bounds, tabulate, d)
        return grid_cache["g"]

    # --- drift ---
    grad = hess = builtin = None
    if isinstance(model, Diffusion):
        grad = _vector_adapter(model._drift, d, 1.0)
        corrected = False
    else:
        U = model.landscape
        corrected = isinstance(model, SGD) and model.modified_loss
        if isinstance(model, Langevin) or (model.noise == "isotropic" and not corrected):
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
        g = tab_grid()
        mesh = g.mesh()
        if corrected:
            U = model.landscape
            def exact(*x):
                gr = U.grad(*x)
                return np.concatenate([-gr, -0.5 * np.einsum("ij...,j...->i...", U.hessian(*x), gr)])
        else:
            def exact(*x):
                return model.drift(*x, t=0.0)
        values = np.moveaxis(exact(*mesh), 0, -1)
        table = _Table(g, values)
        err = _table_error(g, exact, values)
        notes.append(f"drift tabulated on {g!r}, multilinear interpolation, max relative error {err:.2e}")
        drift = _tabulated_drift(table, d, corrected)

    # --- noise root R and the time factor c ---
    constant_R = None  # R when it does not depend on x
    if isinstance(model, Langevin):
        constant_R = np.eye(d)
        root = _constant_root(constant_R, d)
        c_of_t = lambda t: math.sqrt(2.0 * model.temperature)  # noqa: E731
    elif isinstance(model, Diffusion):
        c_of_t = lambda t: 1.0  # noqa: E731
        if model.constant_diffusion:
            D = model.diffusion(*[np.zeros(())] * d)
            constant_R = sqrt_abs_numpy(2.0 * D, 0.0)
            root = _constant_root(constant_R, d)
        else:
            g = tab_grid()
            exact = lambda *x: np.moveaxis(_sym_sqrt_field(2.0 * model.diffusion(*x)), -1, 0)  # noqa: E731
            values = _sym_sqrt_field(2.0 * model.diffusion(*g.mesh()))
            err = _table_error(g, exact, values)
            notes.append(f"noise (2D)^(1/2) tabulated on {g!r}, max relative error {err:.2e}")
            root = _tabulated_root(_Table(g, values), d)
    else:  # SGD
        c_of_t = lambda t: math.sqrt(model.lr(t) / model.batch_size(t))  # noqa: E731
        if model.noise == "isotropic":
            constant_R = math.sqrt(model.noise_scale) * np.eye(d)
            root = _constant_root(constant_R, d)
        elif model.noise == "hessian" and hess is not None:
            root = _hessian_root(hess, model.noise_scale, _hessian_floor(model), d)
        else:
            g = tab_grid()
            exact = lambda *x: np.moveaxis(_sym_sqrt_field(model.sigma(*x)), -1, 0)  # noqa: E731
            values = _sym_sqrt_field(model.sigma(*g.mesh()))
            err = _table_error(g, exact, values)
            notes.append(f"noise Sigma^(1/2) tabulated on {g!r}, max relative error {err:.2e}")
            root = _tabulated_root(_Table(g, values), d)

    lr_of_t = (lambda t: model.lr(t)) if isinstance(model, SGD) else (lambda t: 0.0)
    autonomous = getattr(model, "autonomous", True)

    def make_params(n_steps, dt_):
        rows = 1 if autonomous else max(int(n_steps), 1)
        table = np.empty((rows, 2))
        for k in range(rows):
            table[k] = c_of_t(k * dt_), lr_of_t(k * dt_)
        return table

    noise_factor = None
    if constant_R is not None and autonomous:
        noise_factor = c_of_t(0.0) * np.asarray(constant_R, dtype=float).reshape(d, d)
    if builtin is not None:
        step, R = builtin_step, np.ascontiguousarray(constant_R, dtype=float)
        make_table = make_params
        make_params = lambda n_steps, dt_: (make_table(n_steps, dt_), builtin, R)  # noqa: E731
    else:
        step = _make_em_step(drift, root, d)
    return StepKernel(step=step, state_dim=d, make_params=make_params, bridge=True, notes=tuple(notes),
                      noise_factor=noise_factor)
