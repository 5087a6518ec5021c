"""Jump rates of the fractional Laplacian on a lattice: the Levy measure lumped onto cells.

The generator of eps dL^alpha (symbol eps^alpha |k|^alpha, DESIGN.md section 1) is

    L f(x) = eps^alpha c_{d,alpha} PV int (f(x + y) - f(x)) |y|^(-d-alpha) dy
           = -eps^alpha (-Laplacian)^(alpha/2) f,
    c_{d,alpha} = 2^alpha Gamma((d + alpha)/2) / (pi^(d/2) |Gamma(-alpha/2)|).

Writing the integral over the symmetric pairs y, -y as

    L f(x) = (eps^alpha c / 2) int psi(y) |y|^(2-d-alpha) dy,
    psi(y) = (f(x + y) + f(x - y) - 2 f(x)) / |y|^2,

psi is smooth in y (in 1-D: psi(y) = f''(x) + f''''(x) y^2 / 12 + ...), so interpolating psi
piecewise linearly between the lattice nodes y_k = k h and integrating the weight
|y|^(2-d-alpha) exactly is second order (the Duo-van Wyk-Zhang (2018) quadrature with their
splitting exponent gamma = 2). The node k != 0 contributes the rate

    w_k = eps^alpha c W_k / |y_k|^2,     W_k = int hat_k(y) |y|^(2-d-alpha) dy  (> 0)

from x to x + y_k: the Levy measure's second moment y^2 nu(dy) lumped onto the lattice by the
hat functions, divided by |y_k|^2. Every rate is positive, so the operator is a Markov jump
generator by construction. The node y = 0, where psi(0) = f'' (1-D) or Laplacian f / 2 in the
hat's average over directions (2-D, square cells), is the central second difference: a
nearest-neighbour rate, i.e. a diffusion D_eff = w_1 h^2 that the finite-volume part carries.

Functions here are pure: arrays in, arrays out. Units: rates per unit time for lattice spacing
h in the units of x.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

__all__ = [
    "levy_constant",
    "rates_1d",
    "tail_rate_1d",
    "periodic_rates_1d",
    "symbol_1d",
    "rates_2d_isotropic",
    "tail_rate_2d",
]

#: Gauss-Legendre nodes on [0, 1] for smooth hat integrals away from the origin.
_GL_X, _GL_W = np.polynomial.legendre.leggauss(8)
_GL_X, _GL_W = 0.5 * (_GL_X + 1.0), 0.5 * _GL_W


def levy_constant(d: int, alpha: float) -> float:
    """c_{d,alpha} of the fractional Laplacian's kernel (0 at alpha = 2, where it is local)."""
    if alpha == 2.0:
        return 0.0
    return float(2.0**alpha * math.gamma((d + alpha) / 2) / (math.pi ** (d / 2) * abs(math.gamma(-alpha / 2))))


def _second_difference_power(k: np.ndarray, p: float) -> np.ndarray:
    """(k + 1)^p - 2 k^p + (k - 1)^p for k >= 2 without cancellation: with u = 1/k, a = p log(1+u),
    b = p log(1-u), it is k^p (e^a + e^b - 2) = 2 k^p [expm1(s/2) cosh(d/2) + 2 sinh^2(d/4)],
    s = a + b = p log(1 - u^2), d = a - b (relative error ~ eps (p / (p - 1)))."""
    u = 1.0 / k
    a, b = p * np.log1p(u), p * np.log1p(-u)
    s, dif = a + b, a - b
    return 2.0 * k**p * (np.expm1(s / 2) * np.cosh(dif / 2) + 2.0 * np.sinh(dif / 4) ** 2)


def rates_1d(alpha: float, scale: float, h: float, n_nodes: int) -> tuple:
    """``(w, d_eff)``: rates w[k] (k = 0 .. n_nodes, w[0] = w[1] = 0) of jumps over k cells in one
    direction, for k >= 2, and the diffusion d_eff = w_1 h^2 of the nearest-neighbour rate.

    W_k / h^(2-alpha) = ((k+1)^(3-alpha) - 2 k^(3-alpha) + (k-1)^(3-alpha)) / ((2-alpha)(3-alpha))
    for full hats; the node k = 1 also carries the half hat of the node 0 (1 / ((2-alpha)(3-alpha)),
    the f'' of psi(0)). The last node ``n_nodes`` is the end of the quadrature window: it gets the
    half hat on [n_nodes - 1, n_nodes] only; beyond it :func:`tail_rate_1d` is exact. At
    alpha = 2 all jumps vanish and d_eff = scale^2 (the Gaussian limit).
    """
    if n_nodes < 2:
        raise ValueError(f"n_nodes: the quadrature window needs at least 2 nodes, got {n_nodes}")
    w = np.zeros(n_nodes + 1)
    if alpha == 2.0:
        return w, scale**2
    c = levy_constant(1, alpha) * scale**alpha * h**-alpha
    p = 3.0 - alpha
    norm = (2.0 - alpha) * p
    k = np.arange(2, n_nodes, dtype=float)
    w[2:n_nodes] = c * _second_difference_power(k, p) / norm / k**2
    if n_nodes >= 2:
        s = (n_nodes - 1) + _GL_X  # the half hat (s - K + 1) on [K - 1, K]
        w[n_nodes] = c * np.sum(_GL_W * (s - n_nodes + 1) * s ** (1.0 - alpha)) / n_nodes**2
    nearest = c * (1.0 + 2.0**p - 2.0) / norm  # half hat at 0 plus the full hat at 1
    return w, nearest * h * h


def tail_rate_1d(alpha: float, scale: float, distance: float) -> float:
    """eps^alpha c int_distance^inf y^(-1-alpha) dy: the exact rate of jumps longer than
    ``distance`` in one direction."""
    if alpha == 2.0:
        return 0.0
    return levy_constant(1, alpha) * scale**alpha * distance**-alpha / alpha


def periodic_rates_1d(alpha: float, scale: float, h: float, n: int) -> tuple:
    """``(w, d_eff)`` on a ring of n cells: w[m] (m = 0 .. n - 1, w[0] = w[1]'s jump part only for
    m >= 2) is the total rate of jumps landing m cells to the right, summed over every image
    k = m + j n of the infinite lattice; the nearest-neighbour rate stays d_eff / h^2 (carried by
    the finite-volume part) and its images are added to w[1] and w[n-1].

    Images up to k < 4 n are summed exactly; beyond, w_k = C k^(-1-alpha) (1 - alpha (1 - alpha)
    / (12 k^2) + O(k^-4)) is summed by Hurwitz zeta functions (error below 1e-16 relative)."""
    if alpha == 2.0:
        return np.zeros(n), scale**2
    lattice, d_eff = rates_1d(alpha, scale, h, 4 * n + 1)
    lattice = lattice[: 4 * n]  # full hats only (the window end is not used)
    w = np.zeros(n)
    for m in range(n):
        right = lattice[m::n]  # k = m, m + n, ... (< 4n), jumps to the right
        left = lattice[(n - m) % n :: n]  # jumps to the left landing at the same cell
        w[m] = right.sum() + left.sum()
    c = levy_constant(1, alpha) * scale**alpha * h**-alpha
    for m in range(1, n):
        for q in (m / n, (n - m) / n):  # right and left jumps, images j >= 4
            start = 4 + q
            w[m] += c * (
                n ** (-1 - alpha) * special.zeta(1 + alpha, start)
                - alpha * (1 - alpha) / 12 * n ** (-3 - alpha) * special.zeta(3 + alpha, start)
            )
    w[0] = 0.0  # jumps that land on the starting cell move nothing
    return w, d_eff


def symbol_1d(alpha: float, scale: float, h: float, n: int) -> np.ndarray:
    """Eigenvalues of minus the periodic jump generator (jumps plus d_eff) on the discrete
    wavenumbers 2 pi m / (n h), m = 0 .. n - 1 (FFT order): the discrete symbol that approximates
    eps^alpha |xi|^alpha at second order for |xi| h small."""
    w, d_eff = periodic_rates_1d(alpha, scale, h, n)
    theta = 2 * np.pi * np.fft.fftfreq(n)
    nearest = d_eff / h**2 * (2 - 2 * np.cos(theta))
    return nearest + np.real(np.fft.fft(w)[0] - np.fft.fft(w))


def rates_2d_isotropic(alpha: float, scale: float, h: tuple, reach: tuple) -> tuple:
    """``(w, d_eff)`` for the isotropic 2-D operator: w[|k1|, |k2|] the rate of a jump to
    (x + k1 h1, y + k2 h2) for 0 <= |k_j| <= reach[j] (w[0, 0] = w[1, 0] = w[0, 1] = 0: the
    axis neighbours' rates are the diffusion d_eff = (D1, D2) that the finite-volume part carries).

    W_k = int hat_k(y) |y|^(-alpha) dy (tensor hats): exact near the origin (polar-friendly
    product Gauss quadrature on the four quarter cells of each hat), and the second-order moment
    expansion h1 h2 (g + h1^2 g_11 / 12 + h2^2 g_22 / 12), g = |y|^-alpha, from |k|_inf > 12
    (relative error ~ 3e-5 there, smaller beyond).
    The hat at the origin contributes psi(0) = (W0_1 f_xx + W0_2 f_yy) / W0 (the hat's average
    of y_j^2 / |y|^2), a central second difference: rates W0_j / (2 h_j^2) to the axis neighbours.
    """
    if alpha == 2.0:
        return np.zeros((reach[0] + 1, reach[1] + 1)), (scale**2, scale**2)
    h1, h2 = h
    c = levy_constant(2, alpha) * scale**alpha
    k1 = np.arange(reach[0] + 1, dtype=float)[:, None]
    k2 = np.arange(reach[1] + 1, dtype=float)[None, :]
    y1, y2 = k1 * h1, k2 * h2
    r2 = y1**2 + y2**2
    with np.errstate(divide="ignore", invalid="ignore"):
        g = r2 ** (-alpha / 2)
        common = alpha * r2 ** (-alpha / 2 - 1)
        g11 = -common * (1 - (alpha + 2) * y1**2 / r2)
        g22 = -common * (1 - (alpha + 2) * y2**2 / r2)
        weight = h1 * h2 * (g + h1**2 * g11 / 12 + h2**2 * g22 / 12)
    near = 12
    for i in range(min(near, reach[0]) + 1):
        for j in range(min(near, reach[1]) + 1):
            if i or j:
                weight[i, j] = _hat_integral(i, j, h1, h2, alpha)[0]
    w = np.zeros_like(weight)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(r2 > 0, c * weight / r2, 0.0)
    _, m1, m2 = _hat_integral(0, 0, h1, h2, alpha)
    d1 = (w[1, 0] + c * m1 / (2 * h1**2)) * h1**2
    d2 = (w[0, 1] + c * m2 / (2 * h2**2)) * h2**2
    w[1, 0] = w[0, 1] = 0.0
    return w, (d1, d2)


def _hat_integral(i: int, j: int, h1: float, h2: float, alpha: float) -> tuple:
    """(int hat |y|^-alpha, int hat |y|^-alpha y1^2/|y|^2, ... y2^2/|y|^2) for the tensor hat at
    node (i h1, j h2), by product Gauss quadrature on its four cells; the cell with the origin at
    a corner is mapped by the Duffy transform (the singularity |y|^-alpha becomes integrable
    smooth)."""
    total = np.zeros(3)
    for a in (i - 1, i):
        for b in (j - 1, j):
            total += _cell_integral(a, b, i, j, h1, h2, alpha)
    return tuple(total)


def _cell_integral(a, b, i, j, h1, h2, alpha):
    """The three integrals over the cell [a, a+1] x [b, b+1] (units of h) of the hat at (i, j)."""
    x, wx = _GL_X, _GL_W
    if (a, b) in ((0, 0), (-1, 0), (0, -1), (-1, -1)):
        # the origin is a corner: split along the diagonal; on each triangle (s, t) = (u, u v)
        # (Duffy) turns |y|^-alpha dy into u^(1-alpha) (..)^(-alpha/2) du dv, and u^(1-alpha) is
        # the weight of a Gauss-Jacobi rule (exact for the singular factor)
        beta = 1.0 - alpha
        xj, wj = special.roots_jacobi(12, 0.0, beta)
        u1, wu = 0.5 * (xj + 1.0), wj / 2.0 ** (1.0 + beta)
        sx, sy = (1.0 if a == 0 else -1.0), (1.0 if b == 0 else -1.0)
        out = np.zeros(3)
        u, v = np.meshgrid(u1, x, indexing="ij")
        weight = np.outer(wu, wx)
        for swap in (False, True):
            s, t = (u * v, u) if swap else (u, u * v)
            y1, y2 = sx * s * h1, sy * t * h2
            hat = np.clip(1 - np.abs(y1 / h1 - i), 0, None) * np.clip(1 - np.abs(y2 / h2 - j), 0, None)
            scaled = h1**2 * (v**2 if swap else 1.0) + h2**2 * (1.0 if swap else v**2)
            base = weight * hat * scaled ** (-alpha / 2) * h1 * h2
            r2 = y1**2 + y2**2
            out += np.array([base.sum(), (base * y1**2 / r2).sum(), (base * y2**2 / r2).sum()])
        return out
    u, v = np.meshgrid(a + x, b + x, indexing="ij")
    return _hat_terms(u * h1, v * h2, i, j, h1, h2, alpha, np.outer(wx, wx) * h1 * h2)


def _hat_terms(y1, y2, i, j, h1, h2, alpha, wts):
    hat = np.clip(1 - np.abs(y1 / h1 - i), 0, None) * np.clip(1 - np.abs(y2 / h2 - j), 0, None)
    r2 = y1**2 + y2**2
    base = wts * hat * r2 ** (-alpha / 2)
    return np.array([base.sum(), (base * y1**2 / r2).sum(), (base * y2**2 / r2).sum()])


def tail_rate_2d(alpha: float, scale: float, half_widths: tuple) -> float:
    """eps^alpha c_{2,alpha} int over the exterior of the rectangle [-a1, a1] x [-a2, a2] of
    |y|^(-2-alpha) dy: the rate of jumps beyond a window (exact, by 1-D quadrature in the angle)."""
    if alpha == 2.0:
        return 0.0
    a1, a2 = half_widths
    c = levy_constant(2, alpha) * scale**alpha
    # int_0^{2pi} int_{rho(phi)}^inf r^(-1-alpha) dr dphi = (1/alpha) int rho(phi)^-alpha dphi,
    # rho the distance to the rectangle's edge along phi; by symmetry 4x the first quadrant
    corner = math.atan2(a2, a1)
    xg, wg = np.polynomial.legendre.leggauss(64)

    def piece(lo, hi, edge):
        phi = 0.5 * (hi - lo) * (xg + 1) + lo
        rho = edge(phi)
        return 0.5 * (hi - lo) * np.sum(wg * rho**-alpha)

    integral = piece(0.0, corner, lambda p: a1 / np.cos(p)) + piece(corner, math.pi / 2, lambda p: a2 / np.sin(p))
    return float(c * 4 * integral / alpha)
