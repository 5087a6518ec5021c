"""The Euler-Maruyama update shared by every overdamped step, and the built-in polynomial
landscapes as data.

``_em_update`` is the one place where ``x += b dt + c S sqrt(dt) xi`` is written. The landscapes of
fpsolve.landscapes whose gradient is a short polynomial (``double_well``, ``tilted_double_well``,
``double_well_2d``/``separable_2d``, ``rotated_double_well``, ``quadratic``) are recognised from
their gradient function and passed to one generic, disk-cached step (``builtin_step``) as a
parameter array; its arithmetic repeats the factories' own, bitwise. Kinetic models on them (a
negative kind code) take the BAOAB branch, ``builtin_kinetic_step``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from . import baoab
from .rng import normal

__all__ = ["builtin_step", "builtin_drift"]


# ------------------------------------------------------------------------------------------------
# Euler-Maruyama step from drift and noise-root pieces
# ------------------------------------------------------------------------------------------------
@njit(cache=True, inline="always")
def _coefficients(params, t, dt):
    """``(c, lr)`` from the (n_rows, 2) table of ``[c, lr]`` per step (one row when autonomous)."""
    k = 0
    if params.shape[0] > 1:  # schedules: the row of this step
        k = min(int(t / dt + 0.5), params.shape[0] - 1)
    return params[k, 0], params[k, 1]


@njit(cache=True, inline="always")
def _em_update(x, x0, x1, x2, b, S, c, dt, rng, d):
    """``x = x_old + b dt + c S sqrt(dt) xi`` (S holds R on entry, c R on exit)."""
    sq = math.sqrt(dt)
    if d == 1:
        S[0, 0] *= c
        x[0] = x0 + b[0] * dt + S[0, 0] * sq * normal(rng)
    else:
        z0 = normal(rng)
        z1 = normal(rng)
        z2 = normal(rng) if d > 2 else 0.0
        for i in range(d):
            for j in range(d):
                S[i, j] *= c
        x[0] = x0 + b[0] * dt + sq * (S[0, 0] * z0 + S[0, 1] * z1 + (S[0, 2] * z2 if d > 2 else 0.0))
        x[1] = x1 + b[1] * dt + sq * (S[1, 0] * z0 + S[1, 1] * z1 + (S[1, 2] * z2 if d > 2 else 0.0))
        if d > 2:
            x[2] = x2 + b[2] * dt + sq * (S[2, 0] * z0 + S[2, 1] * z1 + S[2, 2] * z2)


def _make_em_step(drift, root, d: int):
    """EM step: ``b = drift(x0, x1, x2, lr, S)``, ``root(x0, x1, x2, S)``, then S *= c(t).

    ``params`` is a (n_rows, 2) table of ``[c, lr]`` per step (one row when autonomous).
    """

    @njit(inline="always")
    def step(x, t, dt, rng, params, S):
        c, lr = _coefficients(params, t, dt)
        x0 = x[0]
        x1 = x[1] if d > 1 else 0.0
        x2 = x[2] if d > 2 else 0.0
        b = drift(x0, x1, x2, lr, S)
        root(x0, x1, x2, S)
        _em_update(x, x0, x1, x2, b, S, c, dt, rng, d)

    return step


# ------------------------------------------------------------------------------------------------
# Built-in polynomial landscapes as data: one cached step (and driver) for all of them
# ------------------------------------------------------------------------------------------------
_DOUBLE_WELL, _TILTED_DOUBLE_WELL, _DOUBLE_WELL_2D, _ROTATED_DOUBLE_WELL, _QUADRATIC = 1, 2, 3, 4, 5


@njit(cache=True, inline="always")
def builtin_drift(p, d, x0, x1, x2):
    """-grad U (zero-padded 3-tuple) for the landscape coded in ``p`` (see :func:`_builtin_data`).

    Each branch repeats the operations of the factory's ``grad`` in fpsolve.landscapes in the same
    order, so that the result is bitwise that of the compiled ``grad_function``.
    """
    kind = abs(int(p[0]))  # negative: the same landscape for a kinetic model
    if kind == _DOUBLE_WELL:  # p = [kind, depth, a^2, a^4]
        return (-1.0 * (4.0 * p[1] * x0 * (x0 * x0 - p[2]) / p[3]), 0.0, 0.0)
    if kind == _TILTED_DOUBLE_WELL:  # p = [kind, tilt]
        return (-1.0 * (4.0 * x0 * (x0 * x0 - 1.0) + p[1]), 0.0, 0.0)
    if kind == _DOUBLE_WELL_2D:  # p = [kind, stiffness]
        return (-1.0 * (4.0 * x0 * (x0 * x0 - 1.0)), -1.0 * (2.0 * p[1] * x1), 0.0)
    if kind == _ROTATED_DOUBLE_WELL:  # p = [kind, cos, sin, stiffness]
        c, s = p[1], p[2]
        u = c * x0 + s * x1
        v = -s * x0 + c * x1
        du = 4.0 * u * (u * u - 1.0)
        dv = 2.0 * p[3] * v
        return (-1.0 * (c * du - s * dv), -1.0 * (s * du + c * dv), 0.0)
    # _QUADRATIC: p = [kind, H (3 x 3, row-major, zero-padded), centre (3)]
    u0, u1, u2 = x0 - p[10], x1 - p[11], x2 - p[12]
    g0 = p[1] * u0
    g1 = p[4] * u0
    g2 = p[7] * u0
    if d > 1:
        g0 += p[2] * u1
        g1 += p[5] * u1
        g2 += p[8] * u1
    if d > 2:
        g0 += p[3] * u2
        g1 += p[6] * u2
        g2 += p[9] * u2
    return (-1.0 * g0, -1.0 * g1 if d > 1 else 0.0, -1.0 * g2 if d > 2 else 0.0)


@njit(cache=True)  # a call, not IR-inlined: keeps the simulator's drivers quick to compile
def builtin_kinetic_step(x, t, dt, rng, table, p, R, S):
    """BAOAB (:mod:`.baoab`) in phase space (theta, v), theta = x[:d], with -grad U as data ``p``,
    the constant noise root R (d, d) and the (rows, 4) coefficient table of :mod:`.phase_space`."""
    d = x.shape[0] // 2
    f, decay, sd, w = baoab.coefficients(table, t, dt)
    half = 0.5 * dt
    x0, x1, x2 = baoab.theta_of(x, d)
    baoab.kick(x, builtin_drift(p, d, x0, x1, x2), f, w, half, d)
    baoab.drift(x, half, d)
    root = S[:d, :d]
    for i in range(d):
        for j in range(d):
            root[i, j] = R[i, j]
    baoab.ou_step(x, root, decay, sd, dt, rng, S, d)
    baoab.drift(x, half, d)
    x0, x1, x2 = baoab.theta_of(x, d)
    baoab.kick(x, builtin_drift(p, d, x0, x1, x2), f, w, half, d)


@njit(cache=True, inline="always")
def builtin_step(x, t, dt, rng, params, S):
    """The EM step of ``_make_em_step`` with the drift as data: ``params = (table, p, R)``.

    ``p[0] < 0`` marks a kinetic model (phase space, BAOAB: :func:`builtin_kinetic_step`)."""
    table, p, R = params
    if p[0] < 0.0:
        builtin_kinetic_step(x, t, dt, rng, table, p, R, S)
        return
    d = x.shape[0]
    c, lr = _coefficients(table, t, dt)
    x0 = x[0]
    x1 = x[1] if d > 1 else 0.0
    x2 = x[2] if d > 2 else 0.0
    b = builtin_drift(p, d, x0, x1, x2)
    for i in range(d):
        for j in range(d):
            S[i, j] = R[i, j]
    _em_update(x, x0, x1, x2, b, S, c, dt, rng, d)


def _builtin_data(fn, d: int):
    """``p`` for :func:`builtin_drift` when ``fn`` is the gradient of a polynomial landscape of
    fpsolve.landscapes (recognised by its code, parameters read from its closure), else None."""
    code = getattr(fn, "__code__", None)
    if code is None or not str(getattr(fn, "__module__", "")).startswith("fpsolve.landscapes"):
        return None
    factory = fn.__qualname__.split(".")[0]
    cells = dict(zip(code.co_freevars, (cell.cell_contents for cell in fn.__closure__ or ())))
    try:
        if factory == "double_well" and d == 1:
            p = [_DOUBLE_WELL, cells["depth"], cells["a2"], cells["a4"]]
        elif factory == "tilted_double_well" and d == 1:
            p = [_TILTED_DOUBLE_WELL, cells["tilt"]]
        elif factory == "double_well_2d" and d == 2:
            p = [_DOUBLE_WELL_2D, cells["stiffness"]]
        elif factory == "rotated_double_well" and d == 2:
            p = [_ROTATED_DOUBLE_WELL, cells["c"], cells["s"], cells["stiffness"]]
        elif factory == "quadratic":
            H, centre = np.zeros((3, 3)), np.zeros(3)
            names = ("h00", "h01", "h02", "h11", "h12", "h22")
            for name, (i, j) in zip(names, [(0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)]):
                if name in cells:
                    H[i, j] = H[j, i] = cells[name]
            for k, name in enumerate(("c0", "c1", "c2")[:d]):
                centre[k] = cells[name]
            p = [_QUADRATIC, *H.ravel(), *centre]
        else:
            return None
        p = np.array(p, dtype=float)
        # guard: the data form must reproduce the factory's gradient exactly at probe points
        for probe in ([0.37, 0.48, 0.59], [-1.3, 0.7, -0.2], [2.1, -1.9, 1.1]):
            got = np.array(builtin_drift(p, d, *probe))[:d]
            if not np.array_equal(got, -np.asarray(fn(*probe[:d]), dtype=float).reshape(-1)):
                return None
        return p
    except (KeyError, TypeError, ValueError):
        return None
