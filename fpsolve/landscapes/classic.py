"""Landscapes of any dimension and the classic test surfaces: Müller–Brown, quadratics, periodic cosines."""

from __future__ import annotations

import math

import numpy as np

from ..grid import _is_number
from ..landscape import Landscape
from ._build import _finish, _matrix, _newton, _numbers, _positive


# Müller & Brown (1979), Theor. Chim. Acta 53, 75: U = sum_k A_k exp(a_k dx^2 + b_k dx dy + c_k dy^2).
_MB_A = (-200.0, -100.0, -170.0, 15.0)
_MB_a = (-1.0, -1.0, -6.5, 0.7)
_MB_b = (0.0, 0.0, 11.0, 0.6)
_MB_c = (-10.0, -10.0, -6.5, 0.7)
_MB_X0 = (1.0, 0.0, -0.5, -1.0)
_MB_Y0 = (0.0, 0.5, 1.5, 1.0)
_MB_MINIMA = ((-0.558, 1.442), (0.623, 0.028), (-0.050, 0.467))
_MB_SADDLES = ((-0.822, 0.624), (0.212, 0.293))


def _mb_f(x, y):
    total = 0.0 * (x + y)
    for k in range(4):
        dx, dy = x - _MB_X0[k], y - _MB_Y0[k]
        total = total + _MB_A[k] * np.exp(_MB_a[k] * dx * dx + _MB_b[k] * dx * dy + _MB_c[k] * dy * dy)
    return total


def _mb_grad(x, y):
    gx = 0.0 * (x + y)
    gy = 0.0 * (x + y)
    for k in range(4):
        dx, dy = x - _MB_X0[k], y - _MB_Y0[k]
        e = _MB_A[k] * np.exp(_MB_a[k] * dx * dx + _MB_b[k] * dx * dy + _MB_c[k] * dy * dy)
        gx = gx + e * (2.0 * _MB_a[k] * dx + _MB_b[k] * dy)
        gy = gy + e * (_MB_b[k] * dx + 2.0 * _MB_c[k] * dy)
    return (gx, gy)


def _mb_hessian(x, y):
    out = 0.0
    for k in range(4):
        dx, dy = x - _MB_X0[k], y - _MB_Y0[k]
        e = _MB_A[k] * np.exp(_MB_a[k] * dx * dx + _MB_b[k] * dx * dy + _MB_c[k] * dy * dy)
        px = 2.0 * _MB_a[k] * dx + _MB_b[k] * dy
        py = _MB_b[k] * dx + 2.0 * _MB_c[k] * dy
        out = out + _matrix(
            [
                [e * (px * px + 2.0 * _MB_a[k]), e * (px * py + _MB_b[k])],
                [e * (px * py + _MB_b[k]), e * (py * py + 2.0 * _MB_c[k])],
            ]
        )
    return out


def muller_brown() -> Landscape:
    """The Müller–Brown potential (Müller & Brown 1979), the standard parameters.

    U(x, y) = sum_{k=1..4} A_k exp(a_k (x - x0_k)^2 + b_k (x - x0_k)(y - y0_k) + c_k (y - y0_k)^2),
    A = (-200, -100, -170, 15), a = (-1, -1, -6.5, 0.7), b = (0, 0, 11, 0.6),
    c = (-10, -10, -6.5, 0.7), x0 = (1, 0, -0.5, -1), y0 = (0, 0.5, 1.5, 1).

    Minima (Newton from the literature values): A (-0.558224, 1.441726) U = -146.6995,
    B (0.623499, 0.028038) U = -108.1667, C (-0.050011, 0.466694) U = -80.7678.
    Saddles: (-0.822002, 0.624313) U = -40.6648 (between A and C), (0.212487, 0.292988)
    U = -72.2489 (between C and B). Barriers: A -> saddle 1: 106.03; B -> saddle 2: 35.92;
    C -> saddle 2: 8.52, C -> saddle 1: 40.10.
    """
    U = Landscape(_mb_f, _mb_grad, _mb_hessian, ndim=2, name="muller_brown")
    minima = [_newton(U, m) for m in _MB_MINIMA]
    saddles = [_newton(U, s) for s in _MB_SADDLES]
    return _finish(U, minima, saddles, {})


# --- any dimension -------------------------------------------------------------------------------
def quadratic(hessian, center=None) -> Landscape:
    """U(x) = (x - c)^T H (x - c) / 2 in 1-3 dimensions, for a symmetric matrix H.

    H may be indefinite. The centre c is listed as the minimum when H is positive definite, as the
    saddle when H has exactly one negative and no zero eigenvalue, and not listed otherwise (a
    maximum, a higher-index saddle, or a degenerate valley). Barrier: none (a single well).
    """
    H = np.atleast_2d(_numbers(hessian, "hessian"))
    d = H.shape[0]
    if H.shape != (d, d) or not 1 <= d <= 3 or not np.all(np.isfinite(H)):
        raise ValueError(f"hessian: expected a finite (d, d) matrix with d = 1, 2 or 3, got {hessian!r}")
    if not np.allclose(H, H.T, rtol=1e-12, atol=0.0):
        raise ValueError("hessian: the matrix must be symmetric")
    H = 0.5 * (H + H.T)
    c = np.zeros(d) if center is None else _numbers(center, "center").reshape(-1)
    if c.shape != (d,) or not np.all(np.isfinite(c)):
        raise ValueError(f"center: expected {d} finite coordinates, got {center!r}")
    h = [[float(H[i, j]) for j in range(d)] for i in range(d)]
    c0 = float(c[0])
    c1 = float(c[1]) if d > 1 else 0.0
    c2 = float(c[2]) if d > 2 else 0.0

    if d == 1:
        h00 = h[0][0]

        def f(x):
            return 0.5 * h00 * (x - c0) ** 2

        def grad(x):
            return (h00 * (x - c0),)
    elif d == 2:
        h00, h01, h11 = h[0][0], h[0][1], h[1][1]

        def f(x, y):
            u, v = x - c0, y - c1
            return 0.5 * (h00 * u * u + 2.0 * h01 * u * v + h11 * v * v)

        def grad(x, y):
            u, v = x - c0, y - c1
            return (h00 * u + h01 * v, h01 * u + h11 * v)
    else:
        h00, h01, h02, h11, h12, h22 = h[0][0], h[0][1], h[0][2], h[1][1], h[1][2], h[2][2]

        def f(x, y, z):
            u, v, w = x - c0, y - c1, z - c2
            return 0.5 * (h00 * u * u + h11 * v * v + h22 * w * w) + h01 * u * v + h02 * u * w + h12 * v * w

        def grad(x, y, z):
            u, v, w = x - c0, y - c1, z - c2
            return (h00 * u + h01 * v + h02 * w, h01 * u + h11 * v + h12 * w, h02 * u + h12 * v + h22 * w)

    def hess(*x):
        return H.reshape((d, d) + (1,) * np.broadcast(*x).ndim)

    U = Landscape(f, grad, hess, ndim=d, name="quadratic")
    eig = np.linalg.eigvalsh(H)
    scale = max(1.0, float(np.max(np.abs(eig))))
    nonzero = np.all(np.abs(eig) > 1e-12 * scale)
    minima = [tuple(c)] if nonzero and np.all(eig > 0) else []
    saddles = [tuple(c)] if nonzero and np.sum(eig < 0) == 1 else []
    return _finish(U, minima, saddles, {"hessian": H.tolist(), "center": c.tolist()})


def periodic_cosine(amplitude: float = 1.0, period: float = 2 * math.pi, ndim: int = 1) -> Landscape:
    """U(x) = -amplitude sum_i cos(2 pi x_i / period), for ndim = 1, 2, 3 (use periodic grids).

    Listed in the cell [-period/2, period/2]^d: minimum at the origin (U = -d amplitude, Hessian
    amplitude (2 pi/period)^2 I); saddles at period/2 along each single axis (U = (2 - d) amplitude;
    the barrier between neighbouring minima is 2 amplitude). In 1-D the "saddle" is the maximum.
    """
    amplitude = _positive(amplitude, "amplitude")
    period = _positive(period, "period")
    if not _is_number(ndim) or ndim not in (1, 2, 3):
        raise ValueError(f"ndim: expected 1, 2 or 3, got {ndim!r}")
    ndim = int(ndim)
    k = 2.0 * math.pi / period
    A = amplitude

    if ndim == 1:

        def f(x):
            return -A * np.cos(k * x)

        def grad(x):
            return (A * k * np.sin(k * x),)
    elif ndim == 2:

        def f(x, y):
            return -A * (np.cos(k * x) + np.cos(k * y))

        def grad(x, y):
            return (A * k * np.sin(k * x), A * k * np.sin(k * y))
    else:

        def f(x, y, z):
            return -A * (np.cos(k * x) + np.cos(k * y) + np.cos(k * z))

        def grad(x, y, z):
            return (A * k * np.sin(k * x), A * k * np.sin(k * y), A * k * np.sin(k * z))

    def hessian(*x):
        shape = np.broadcast(*x).shape
        out = np.zeros((ndim, ndim) + shape)
        for i, xi in enumerate(x):
            out[i, i] = A * k * k * np.cos(k * xi)
        return out

    U = Landscape(f, grad, hessian, ndim=ndim, name="periodic_cosine")
    origin = (0.0,) * ndim
    saddles = [tuple(0.5 * period if j == i else 0.0 for j in range(ndim)) for i in range(ndim)]
    return _finish(U, [origin], saddles, {"amplitude": amplitude, "period": period, "ndim": ndim})
