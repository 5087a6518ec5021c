"""The noise factor of the Euler-Maruyama step, R(x) = Sigma(x)^(1/2), asked of the model.

Every Gaussian model declares its noise as 2 D(x, t) = c(t)^2 Sigma(x) (:class:`fpsolve.dynamics.Model`):
the time factor c(t) is ``model.noise_amplitude(t)`` and the covariance Sigma(x) is
``model.noise_covariance(*x)``. The step draws ``c(t) R(x) sqrt(dt) xi`` with R the symmetric
square root of Sigma, so that c^2 R R^T = 2 D. Nothing here knows a model's noise law; R is

* constant when ``model.constant_diffusion`` (computed once; exact square roots of a diagonal);
* for SGD Hessian noise, Sigma = s |H(x)| with H's eigenvalues replaced by max(|lambda|, floor):
  sqrt(s) |H|^(1/2) from the compiled Hessian, in closed form in 1-D and 2-D, LAPACK ``eigh`` in
  3-D (a fast path that needs s and the floor, not a copy of the amplitude);
* otherwise tabulated at the nodes of a grid (:mod:`.tables`).

Sigma need only be positive semi-definite. Noise on some coordinates only (``model.noise_axes``, a
degenerate diffusion such as a kinetic model's) has a root with zero rows and columns on the
others, and the step leaves those coordinates to the drift.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
from numba import njit

from ..dynamics import SGD
from ..grid import Grid
from ..noise import HESSIAN_FLOOR
from .tables import _Table, _table_error, interpolate

__all__ = ["noise_root", "noise_covariance", "psd_root_numpy", "sqrt_abs_2x2", "sqrt_abs_numpy"]

#: Asymmetries and negative eigenvalues of Sigma down to TOLERANCE max|Sigma| are round-off: a
#: covariance computed in floating point (E[g g^T] - E[g] E[g]^T, a finite-difference |H|) is
#: symmetric and positive semi-definite only to a few ulps of its largest entries, while a wrong
#: model is off by O(1). The root is taken of (Sigma + Sigma^T) / 2 with negative eigenvalues zeroed.
TOLERANCE = 1e-8


# ------------------------------------------------------------------------------------------------
# Matrix roots (cached generic kernels, with numpy twins)
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


def psd_root_numpy(sigma: np.ndarray) -> np.ndarray:
    """Symmetric square root of a positive semi-definite (d, d) matrix: V diag(sqrt(lambda_+)) V^T.

    A diagonal Sigma gets the square roots of its diagonal, exactly (so that R = sqrt(s) I, bitwise,
    for isotropic noise).
    """
    sigma = np.asarray(sigma, dtype=float)
    diagonal = np.diagonal(sigma)
    if np.array_equal(sigma, np.diag(diagonal)):
        return np.diag(np.sqrt(np.maximum(diagonal, 0.0)))
    return _sym_sqrt_field(sigma).reshape(sigma.shape)


def _sym_sqrt_field(matrices: np.ndarray) -> np.ndarray:
    """(d, d) + shape symmetric PSD field -> its square root, shape shape + (d*d,)."""
    d = matrices.shape[0]
    moved = np.moveaxis(matrices, (0, 1), (-2, -1))
    w, v = np.linalg.eigh(0.5 * (moved + np.swapaxes(moved, -1, -2)))
    root = np.einsum("...ik,...k,...jk->...ij", v, np.sqrt(np.maximum(w, 0.0)), v)
    return root.reshape(root.shape[:-2] + (d * d,))


def noise_covariance(model, *x) -> np.ndarray:
    """``model.noise_covariance(*x)``, shape ``(d, d) + shape``, checked symmetric and positive
    semi-definite (to :data:`TOLERANCE`): the public boundary of the simulator's noise."""
    d, shape = model.ndim, np.broadcast(*x).shape
    sigma = np.asarray(model.noise_covariance(*x), dtype=float)
    try:
        if sigma.ndim < 2 or sigma.shape[:2] != (d, d):
            raise ValueError
        sigma = np.broadcast_to(sigma.reshape(sigma.shape + (1,) * (2 + len(shape) - sigma.ndim)), (d, d) + shape)
    except ValueError:
        raise ValueError(
            f"model: noise_covariance must return a ({d}, {d}) + shape array; got shape "
            f"{sigma.shape} at points of shape {shape}"
        ) from None
    flat = np.moveaxis(sigma, (0, 1), (-2, -1)).reshape(-1, d, d)
    scale = max(float(np.abs(flat).max(initial=0.0)), 1e-300)
    points = np.stack([np.broadcast_to(np.asarray(xi, dtype=float), shape).reshape(-1) for xi in x], axis=1)
    if not np.all(np.isfinite(flat)):
        k = int(np.argmax(~np.isfinite(flat).all(axis=(1, 2))))
        raise ValueError(f"model: noise_covariance is not finite at x = {_point(points[k])}")
    asymmetry = np.abs(flat - np.swapaxes(flat, 1, 2)).max(axis=(1, 2))
    k = int(np.argmax(asymmetry))
    if asymmetry[k] > TOLERANCE * scale:
        raise ValueError(
            f"model: noise_covariance is not symmetric at x = {_point(points[k])}; "
            f"|Sigma - Sigma^T| reaches {asymmetry[k]:.3g}"
        )
    smallest = np.linalg.eigvalsh(0.5 * (flat + np.swapaxes(flat, 1, 2)))[:, 0]
    k = int(np.argmin(smallest))
    if smallest[k] < -TOLERANCE * scale:
        raise ValueError(
            f"model: the noise covariance is not positive semi-definite at x = "
            f"{_point(points[k])} (no square root exists); smallest eigenvalue {smallest[k]:.3g}"
        )
    return sigma


def _point(x: np.ndarray) -> str:
    return "(" + ", ".join(f"{v:.4g}" for v in x) + ")"


# ------------------------------------------------------------------------------------------------
# In-kernel roots: root(x0, x1, x2, S) writes R(x) into S
# ------------------------------------------------------------------------------------------------
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


def _hessian_floor(model) -> float:
    floor = getattr(model, "hessian_floor", None)
    if floor is None:  # SGD keeps the floor only inside its noise closure
        code, cells = model.sigma.__code__, model.sigma.__closure__ or ()
        floor = dict(zip(code.co_freevars, (c.cell_contents for c in cells))).get("floor", HESSIAN_FLOOR)
    return float(floor)


def _hessian_noise(model) -> bool:
    """SGD's Hessian noise, or a kinetic model's velocity noise of that law (its theta-space view,
    :class:`.phase_space.VelocityNoiseView`): both carry ``noise``, ``noise_scale`` and the floor."""
    return (
        (isinstance(model, SGD) or hasattr(model, "hessian_floor"))
        and isinstance(model.noise, str)
        and model.noise == "hessian"
    )


def noise_root(model, hessian, grid: Callable[[], Grid], notes: list):
    """``(root, R)``: the kernel piece ``root(x0, x1, x2, S)`` writing R(x) = Sigma(x)^(1/2) into S,
    and R itself when it is the same at every x (else None).

    ``hessian`` is the compiled Hessian ``h(x0, x1, x2, H)`` of an SGD model's loss (or None);
    ``grid()`` gives the tabulation grid; a tabulation appends its measured error to ``notes``.
    """
    d = model.ndim
    if _hessian_noise(model) and hessian is not None:
        return _hessian_root(hessian, model.noise_scale, _hessian_floor(model), d), None
    if model.constant_diffusion:
        origin = [np.zeros(())] * d
        R = psd_root_numpy(noise_covariance(model, *origin))
        return _constant_root(R, d), R
    g = grid()
    values = _sym_sqrt_field(noise_covariance(model, *g.mesh()))
    exact = lambda *x: np.moveaxis(_sym_sqrt_field(model.noise_covariance(*x)), -1, 0)  # noqa: E731
    error = _table_error(g, exact, values)
    notes.append(f"noise Sigma^(1/2) tabulated on {g!r}, max relative error {error:.2e}")
    return _tabulated_root(_Table(g, values), d), None
