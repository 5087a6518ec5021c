"""The drift part of a Levy step: explicit Euler where it is stable, drift-implicit Euler after far jumps.

A stable jump can throw a path far out, where a steep landscape's drift is huge: on U = (x^2 - 1)^2
the explicit Euler step x + h b(x) is unstable once h |b'(x)| = 12 x^2 h > 2 (|x| > 13 at
h = 1e-3), and the path overflows to inf and NaN within a few steps. Each step therefore first
takes the explicit predictor y = x + h P b(x) (P the model's diagonal inverse metric) and checks the
drift's variation along it,

    h |P (b(y) - b(x))| <= THETA |y - x|,

a local Lipschitz bound h L <= THETA (one more drift evaluation). Where it holds (everywhere the
explicit step is accurate) the step is explicit Euler; where it fails the drift part is the
drift-implicit Euler step, the root y of y = x + h P b(y) found by Newton's method with a
finite-difference Jacobian, started from x. Drift-implicit Euler is stable for the one-sided
Lipschitz drifts of confining landscapes and first order like the explicit step; on U = (x^2 - 1)^2
it brings a path from x = 1e10 back to |x| < 20 in four steps of 1e-3.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["make_drift_step", "solve_small", "THETA"]

#: Largest h x (drift variation / step length) along the explicit predictor for which the
#: explicit Euler step is taken (explicit Euler on y' = -L y is stable for h L < 2; 0.5 keeps
#: its one-step error factor |1 - hL - e^{-hL}| below 0.11).
THETA = 0.5

#: Newton's iterations stop when the update is below this relative size, or after _MAX_NEWTON.
_NEWTON_TOL = 1e-12
_MAX_NEWTON = 200


@njit(cache=True)
def solve_small(J, f, d, k):
    """Component k of J^-1 f for d = 1, 2, 3, by Cramer's rule (J well conditioned here: I minus a
    small multiple of the drift's Jacobian, or a large one with the identity's help)."""
    if d == 1:
        return f[0] / J[0, 0]
    if d == 2:
        det = J[0, 0] * J[1, 1] - J[0, 1] * J[1, 0]
        if k == 0:
            return (f[0] * J[1, 1] - J[0, 1] * f[1]) / det
        return (J[0, 0] * f[1] - f[0] * J[1, 0]) / det
    M = J.copy()
    det = _det3(M)
    for i in range(3):
        M[i, k] = f[i]
    return _det3(M) / det


@njit(cache=True)
def _det3(M):
    return (
        M[0, 0] * (M[1, 1] * M[2, 2] - M[1, 2] * M[2, 1])
        - M[0, 1] * (M[1, 0] * M[2, 2] - M[1, 2] * M[2, 0])
        + M[0, 2] * (M[1, 0] * M[2, 1] - M[1, 1] * M[2, 0])
    )


def make_drift_step(minus_grad):
    """``drift_step(x, h, params)``: x += h P b(x) in place, explicit or drift-implicit (module
    docstring). ``minus_grad(params, d, x0, x1, x2)`` returns -grad U as a 3-tuple; P is
    ``params[4]``."""

    @njit
    def implicit(x, h, params, d):
        """The root y of y = x + h P b(y) by Newton's method from y = x, written to x."""
        pinv = params[4]
        y = np.zeros(3)
        b = np.zeros(3)
        J = np.zeros((3, 3))
        f = np.zeros(3)
        for k in range(d):
            y[k] = x[k]
        for _ in range(_MAX_NEWTON):
            g = minus_grad(params, d, y[0], y[1], y[2])
            for k in range(d):
                b[k] = pinv[k] * g[k]
                f[k] = y[k] - x[k] - h * b[k]
            for k in range(d):  # J = I - h P (d b / d y), forward differences
                step = 1e-7 * max(1.0, abs(y[k]))
                y[k] += step
                gs = minus_grad(params, d, y[0], y[1], y[2])
                y[k] -= step
                for i in range(d):
                    J[i, k] = (1.0 if i == k else 0.0) - h * (pinv[i] * gs[i] - b[i]) / step
            for k in range(d):  # the Newton update J^-1 f (b is free again)
                b[k] = solve_small(J, f, d, k)
            size = 0.0
            for k in range(d):
                y[k] -= b[k]
                size = max(size, abs(b[k]) / max(1.0, abs(y[k])))
            if size < _NEWTON_TOL:
                break
        for k in range(d):
            x[k] = y[k]

    @njit
    def drift_step(x, h, params):
        d = x.shape[0]
        pinv = params[4]
        x0, x1, x2 = x[0], x[1] if d > 1 else 0.0, x[2] if d > 2 else 0.0
        g = minus_grad(params, d, x0, x1, x2)
        b0, b1, b2 = pinv[0] * g[0], pinv[1] * g[1] if d > 1 else 0.0, pinv[2] * g[2] if d > 2 else 0.0
        y0, y1, y2 = x0 + h * b0, x1 + h * b1, x2 + h * b2
        g = minus_grad(params, d, y0, y1, y2)
        c0, c1, c2 = pinv[0] * g[0], pinv[1] * g[1] if d > 1 else 0.0, pinv[2] * g[2] if d > 2 else 0.0
        change = (c0 - b0) ** 2 + (c1 - b1) ** 2 + (c2 - b2) ** 2
        length = (h * b0) ** 2 + (h * b1) ** 2 + (h * b2) ** 2
        if h * math.sqrt(change) <= THETA * math.sqrt(length) and math.isfinite(change):
            x[0] = y0
            if d > 1:
                x[1] = y1
            if d > 2:
                x[2] = y2
        else:
            implicit(x, h, params, d)

    return drift_step
