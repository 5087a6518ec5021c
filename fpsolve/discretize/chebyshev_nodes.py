"""Chebyshev points, differentiation matrices, barycentric interpolation and coefficients on [a, b].

Pure functions of arrays, the numerical core of Chebyshev collocation (Trefethen, *Spectral Methods
in MATLAB*, ch. 6; Berrut & Trefethen, *Barycentric Lagrange Interpolation*, SIAM Rev. 2004). The
points are the n Chebyshev-Gauss-Lobatto points x_j = (a + b)/2 - (b - a)/2 cos(pi j / (n - 1)),
j = 0 .. n-1, in increasing order, both ends included. A function sampled there is represented by
its polynomial interpolant p of degree n - 1; D @ f are the values of p' at the points.
"""

from __future__ import annotations

import numpy as np
import scipy.fft

__all__ = [
    "barycentric_weights",
    "chebyshev_coefficients",
    "cumulative_integral",
    "differentiation_matrix",
    "interpolate",
    "interpolation_matrix",
    "lobatto_points",
    "tail_ratio",
]


def lobatto_points(n: int, a: float = -1.0, b: float = 1.0) -> np.ndarray:
    """The n Chebyshev-Gauss-Lobatto points on [a, b], increasing, ends exact (n >= 2).

    Computed as sines, x = c + r sin(pi (2j - n + 1) / (2(n - 1))), so that the points are
    symmetric to round-off about the centre c = (a + b)/2.
    """
    j = np.arange(n)
    s = np.sin(np.pi * (2 * j - (n - 1)) / (2.0 * (n - 1)))
    x = 0.5 * (a + b) + 0.5 * (b - a) * s
    x[0], x[-1] = a, b
    return x


def barycentric_weights(n: int) -> np.ndarray:
    """Barycentric weights of the n Lobatto points, w_j = (-1)^j delta_j, delta = 1/2 at the ends
    (any common factor cancels in the barycentric formula)."""
    w = (-1.0) ** np.arange(n)
    w[0] *= 0.5
    w[-1] *= 0.5
    return w


def differentiation_matrix(n: int, a: float = -1.0, b: float = 1.0) -> np.ndarray:
    """The first-derivative collocation matrix D on the n Lobatto points of [a, b].

    Off the diagonal D_ij = (w_j / w_i) / (x_i - x_j), with the differences x_i - x_j formed from
    sines (no cancellation); the diagonal is minus the off-diagonal row sums (D applied to a
    constant is exactly zero), which keeps the round-off of D near eps n^2 (Baltensperger &
    Trummer 2003).
    """
    k = np.arange(n)
    theta = np.pi / (2.0 * (n - 1))
    # s_i - s_j for s = -cos(pi j/(n-1)): 2 sin((i+j) theta) sin((i-j) theta)
    diff = 2.0 * np.sin((k[:, None] + k[None, :]) * theta) * np.sin((k[:, None] - k[None, :]) * theta)
    w = barycentric_weights(n)
    np.fill_diagonal(diff, 1.0)
    D = (w[None, :] / w[:, None]) / diff
    np.fill_diagonal(D, 0.0)
    D[np.diag_indices(n)] = -D.sum(axis=1)
    return D * (2.0 / (b - a))


def interpolation_matrix(nodes: np.ndarray, points) -> np.ndarray:
    """M with M @ f = the interpolant of the values f at the Lobatto ``nodes``, at ``points``.

    The second (true) barycentric formula, stable for Chebyshev points; a point that coincides
    with a node takes that node's value exactly.
    """
    points = np.asarray(points, dtype=float).ravel()
    w = barycentric_weights(nodes.size)
    diff = points[:, None] - nodes[None, :]
    exact = diff == 0.0
    diff[exact] = 1.0
    M = w[None, :] / diff
    M /= M.sum(axis=1, keepdims=True)
    hit = exact.any(axis=1)
    M[hit] = exact[hit].astype(float)
    return M


def interpolate(nodes: np.ndarray, values: np.ndarray, points) -> np.ndarray:
    """The interpolant of ``values`` (at the Lobatto ``nodes``) evaluated at ``points``."""
    points = np.asarray(points, dtype=float)
    return (interpolation_matrix(nodes, points) @ values).reshape(points.shape)


def chebyshev_coefficients(values: np.ndarray, axis: int = -1) -> np.ndarray:
    """Coefficients c_k of p = sum_k c_k T_k((2x - a - b)/(b - a)) from the values at the Lobatto
    points (increasing order), by a type-I discrete cosine transform."""
    values = np.flip(np.asarray(values, dtype=float), axis=axis)  # cos(pi j/(n-1)) order
    n = values.shape[axis]
    c = scipy.fft.dct(values, type=1, axis=axis) / (n - 1)
    edge = [slice(None)] * c.ndim
    for end in (0, n - 1):
        edge[axis] = end
        c[tuple(edge)] *= 0.5
    return c


def tail_ratio(values: np.ndarray, with_constant: bool = False) -> float:
    """How well Lobatto values resolve their function: the largest |c| among the tensor Chebyshev
    coefficients whose degree along some axis lies in that axis's last eighth (at least 3),
    relative to the largest |c| apart from the constant c_0...0 (an exit time from a deep well is a
    huge constant plus a variation, and it is the variation that must be resolved). Smooth,
    resolved functions give round-off (~1e-15); a kink gives a tail decaying only algebraically
    (|x| on [-1, 1]: c_k ~ 1/k^2)."""
    c = np.abs(np.asarray(values, dtype=float))
    if c.max(initial=0.0) == 0.0:
        return 0.0
    for axis in range(c.ndim):
        c = chebyshev_coefficients(c if axis else np.asarray(values, dtype=float), axis=axis)
    c = np.abs(c)
    body = c.copy()
    if not with_constant:
        body[(0,) * c.ndim] = 0.0
    top = float(body.max())
    if top == 0.0:
        return 0.0
    worst = 0.0
    for axis, n in enumerate(c.shape):
        tail = np.moveaxis(c, axis, 0)[n - max(3, n // 8) :]
        worst = max(worst, float(tail.max()) / top)
    return worst


def cumulative_integral(values: np.ndarray, a: float, b: float, points=None) -> np.ndarray:
    """F(x) = integral from a to x of the interpolant of ``values`` (Lobatto points on [a, b]),
    at the points themselves or at ``points``; exact for the interpolant: its Chebyshev series is
    integrated term by term, int T_k = T_{k+1}/(2(k+1)) - T_{k-1}/(2(k-1)) (T_1 for k = 0,
    T_2/4 for k = 1), and F(a) = 0."""
    c = chebyshev_coefficients(values)
    n = c.size
    integral = np.zeros(n + 1)
    integral[1] += c[0]
    if n > 1:
        integral[2] += c[1] / 4.0
    k = np.arange(2, n)
    integral[k + 1] += c[k] / (2.0 * (k + 1))
    integral[k - 1] -= c[k] / (2.0 * (k - 1))
    m = np.arange(n + 1)
    if points is None:  # at s_j = -cos(pi j/(n-1)): T_m(s_j) = (-1)^m cos(m pi j/(n-1)), no arccos
        j = np.arange(n)
        T = np.cos(np.outer(j, m) * np.pi / (n - 1)) * (-1.0) ** m[None, :]
    else:
        s = np.clip((2.0 * np.asarray(points, dtype=float).ravel() - a - b) / (b - a), -1.0, 1.0)
        T = np.cos(np.outer(np.arccos(s), m))
    left = np.sum(integral * (-1.0) ** m)  # the series at s = -1
    return (T @ integral - left) * 0.5 * (b - a)
