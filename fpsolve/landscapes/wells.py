"""Double wells in one and two dimensions: symmetric, tilted, sharp-flat, separable and rotated."""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq

from ..landscape import Landscape
from ._build import _finish, _finite, _matrix, _newton, _positive


# --- one dimension -------------------------------------------------------------------------------
def double_well(a: float = 1.0, depth: float = 1.0) -> Landscape:
    """Symmetric quartic double well U(x) = depth (x^2 - a^2)^2 / a^4.

    Minima x = -a, +a (U = 0, curvature U'' = 8 depth / a^2); saddle (local maximum) x = 0 with
    U = depth, U'' = -4 depth / a^2. Barrier height ``depth`` from either minimum.
    """
    a = _positive(a, "a")
    depth = _positive(depth, "depth")
    a2, a4 = a * a, a**4

    def f(x):
        return depth * (x * x - a2) ** 2 / a4

    def grad(x):
        return (4.0 * depth * x * (x * x - a2) / a4,)

    def hessian(x):
        return _matrix([[depth * (12.0 * x * x - 4.0 * a2) / a4]])

    U = Landscape(f, grad, hessian, ndim=1, name="double_well")
    return _finish(U, [(-a,), (a,)], [(0.0,)], {"a": a, "depth": depth})


def tilted_double_well(tilt: float = 0.25) -> Landscape:
    """Tilted quartic double well U(x) = (x^2 - 1)^2 + tilt x.

    The critical points are the three real roots of U' = 4x^3 - 4x + tilt (needs
    |tilt| < 8 / (3 sqrt 3) ~ 1.5396), found by ``numpy.roots`` and polished by Newton. For
    tilt = 0.25: minima x = -1.029896 (U = -0.253791, the deeper one) and x = 0.967149
    (U = 0.245963), saddle x = 0.062747 (U = 1.007828); barriers 1.261619 (left) and 0.761865 (right).
    """
    tilt = _finite(tilt, "tilt")
    limit = 8.0 / (3.0 * math.sqrt(3.0))
    if abs(tilt) >= limit:
        raise ValueError(f"tilt: expected |tilt| < 8/(3 sqrt 3) = {limit:.6f} (two wells), got {tilt!r}")

    def f(x):
        return (x * x - 1.0) ** 2 + tilt * x

    def grad(x):
        return (4.0 * x * (x * x - 1.0) + tilt,)

    def hessian(x):
        return _matrix([[12.0 * x * x - 4.0]])

    U = Landscape(f, grad, hessian, ndim=1, name="tilted_double_well")
    roots = np.sort(np.roots([4.0, 0.0, -4.0, tilt]).real)
    left, middle, right = (_newton(U, (r,)) for r in roots)
    return _finish(U, [left, right], [middle], {"tilt": tilt})


def sharp_flat_double_well(kappa_sharp: float = 16.0, kappa_flat: float = 4.0) -> Landscape:
    """Smooth 1-D double well with a sharp and a flat minimum of exactly equal depth.

    U(x) = (x^2 - 1)^2 g(x),   g(x) = exp(c - beta tanh(x) / tanh(1)),
    beta = log(kappa_sharp / kappa_flat) / 2,   c = log(kappa_sharp kappa_flat / 64) / 2.

    U is analytic (C-infinity) and positive away from x = -1, +1, where U = 0 exactly: the depths
    are equal to round-off. Curvatures U''(-1) = 8 g(-1) = kappa_sharp (the sharp minimum) and
    U''(+1) = 8 g(1) = kappa_flat (the flat one). The saddle (local maximum) is the root in (-1, 1)
    of 4x - beta (x^2 - 1)(1 - tanh^2 x) / tanh(1), found by Newton. Defaults (16, 4): saddle at
    x = -0.208455 (U'' = -5.4274), barrier U = 1.103148 from both minima. This is the equal-depth, unequal-curvature
    setting of Dai & Zhu (arXiv 2112.00987). A curvature ratio that would create extra
    critical points is rejected (none found for ratios up to 1e12).
    """
    kappa_sharp = _positive(kappa_sharp, "kappa_sharp")
    kappa_flat = _positive(kappa_flat, "kappa_flat")
    beta = 0.5 * math.log(kappa_sharp / kappa_flat) / math.tanh(1.0)
    c = 0.5 * math.log(kappa_sharp * kappa_flat / 64.0)

    def f(x):
        return (x * x - 1.0) ** 2 * np.exp(c - beta * np.tanh(x))

    def grad(x):
        t = np.tanh(x)
        g = np.exp(c - beta * t)
        return ((x * x - 1.0) * g * (4.0 * x - beta * (x * x - 1.0) * (1.0 - t * t)),)

    def hessian(x):
        t = np.tanh(x)
        g = np.exp(c - beta * t)
        q, dq, ddq = (x * x - 1.0) ** 2, 4.0 * x * (x * x - 1.0), 12.0 * x * x - 4.0
        dphi = -beta * (1.0 - t * t)
        ddphi = 2.0 * beta * t * (1.0 - t * t)
        return _matrix([[g * (ddq + 2.0 * dq * dphi + q * (dphi * dphi + ddphi))]])

    U = Landscape(f, grad, hessian, ndim=1, name="sharp_flat_double_well")
    # Critical points besides +-1 are the roots of 4x - beta (x^2-1) sech^2 x; demand exactly one.
    xs = np.linspace(-12.0, 12.0, 24001)
    h = 4.0 * xs - beta * (xs * xs - 1.0) * (1.0 - np.tanh(xs) ** 2)
    crossings = np.flatnonzero(np.sign(h[:-1]) != np.sign(h[1:]))
    if crossings.size != 1 or not -1.0 < xs[crossings[0]] < 1.0:
        raise ValueError(
            f"kappa_sharp: the ratio kappa_sharp/kappa_flat = {kappa_sharp / kappa_flat:g} gives "
            "critical points other than two minima and one saddle"
        )
    saddle = _newton(U, (xs[crossings[0]],))
    parameters = {"kappa_sharp": kappa_sharp, "kappa_flat": kappa_flat, "beta": beta, "c": c}
    return _finish(U, [(-1.0,), (1.0,)], [saddle], parameters)


# --- two dimensions ------------------------------------------------------------------------------
def double_well_2d(stiffness: float = 2.0) -> Landscape:
    """Separable 2-D double well U(x, y) = (x^2 - 1)^2 + stiffness y^2.

    Minima (-1, 0), (1, 0) (U = 0, Hessian diag(8, 2 stiffness)); saddle (0, 0) (U = 1, Hessian
    diag(-4, 2 stiffness)). Barrier height 1.
    """
    stiffness = _positive(stiffness, "stiffness")

    def f(x, y):
        return (x * x - 1.0) ** 2 + stiffness * y * y

    def grad(x, y):
        return (4.0 * x * (x * x - 1.0), 2.0 * stiffness * y)

    def hessian(x, y):
        return _matrix([[12.0 * x * x - 4.0, 0.0 * y], [0.0 * x, 2.0 * stiffness + 0.0 * y]])

    U = Landscape(f, grad, hessian, ndim=2, name="double_well_2d")
    return _finish(U, [(-1.0, 0.0), (1.0, 0.0)], [(0.0, 0.0)], {"stiffness": stiffness})


def separable_2d() -> Landscape:
    """U(x, y) = (x^2 - 1)^2 + y^2: ``double_well_2d(stiffness=1)``. Minima (+-1, 0), saddle (0, 0), barrier 1."""
    U = double_well_2d(stiffness=1.0)
    U.name = "separable_2d"
    return U


def rotated_double_well(angle: float = math.pi / 6, stiffness: float = 2.0) -> Landscape:
    """Double well rotated by ``angle``: U = (u^2 - 1)^2 + stiffness v^2 with
    u = cos(angle) x + sin(angle) y, v = -sin(angle) x + cos(angle) y.

    Minima +-(cos angle, sin angle) (U = 0); saddle (0, 0) (U = 1) with Hessian
    R^T diag(-4, 2 stiffness) R, whose off-diagonal entry cos(angle) sin(angle) (-4 - 2 stiffness)
    is nonzero unless angle is a multiple of pi/2. Barrier height 1.
    """
    angle = _finite(angle, "angle")
    stiffness = _positive(stiffness, "stiffness")
    c, s = math.cos(angle), math.sin(angle)

    def f(x, y):
        u = c * x + s * y
        v = -s * x + c * y
        return (u * u - 1.0) ** 2 + stiffness * v * v

    def grad(x, y):
        u = c * x + s * y
        v = -s * x + c * y
        du = 4.0 * u * (u * u - 1.0)
        dv = 2.0 * stiffness * v
        return (c * du - s * dv, s * du + c * dv)

    def hessian(x, y):
        u = c * x + s * y
        huu = 12.0 * u * u - 4.0
        hvv = 2.0 * stiffness
        return _matrix(
            [[c * c * huu + s * s * hvv, c * s * (huu - hvv)], [c * s * (huu - hvv), s * s * huu + c * c * hvv]]
        )

    U = Landscape(f, grad, hessian, ndim=2, name="rotated_double_well")
    return _finish(U, [(-c, -s), (c, s)], [(0.0, 0.0)], {"angle": angle, "stiffness": stiffness})


def sharp_flat_2d(
    sharp_amplitude: float = 2.0,
    sharp_width: float = 0.3,
    flat_width: float = 0.7,
    confinement: float = 1.0,
) -> Landscape:
    """Two Gaussian wells of different widths in a confining quadratic, calibrated to equal depth.

    U(x, y) = confinement (x^2 + y^2) / 2 - A_s exp(-((x+1)^2 + y^2) / (2 w_s^2))
                                         - A_f exp(-((x-1)^2 + y^2) / (2 w_f^2)).

    The flat amplitude A_f is solved for (Brent's method, with each minimum refined by Newton) so that
    the two minima have equal U to ~1e-15. Minima and the saddle lie on y = 0 (U is even in y).
    Defaults: A_f = 1.959911; sharp minimum (-0.949298, 0) with Hessian diag(21.72, 22.99), flat
    minimum (0.792898, 0) with Hessian diag(4.493, 4.829), both U = -1.561639; saddle
    (-0.326913, 0) with U = -0.433044, Hessian diag(-7.955, 3.457); barrier 1.128596 from both. Parameters ``sharp_amplitude`` = A_s,
    ``sharp_width`` = w_s, ``flat_width`` = w_f (> w_s).
    """
    A_s = _positive(sharp_amplitude, "sharp_amplitude")
    w_s = _positive(sharp_width, "sharp_width")
    w_f = _positive(flat_width, "flat_width")
    q = _positive(confinement, "confinement")
    if not w_f > w_s:
        raise ValueError(f"flat_width: must exceed sharp_width = {w_s:g}, got {w_f:g}")
    s2, f2 = 2.0 * w_s * w_s, 2.0 * w_f * w_f

    def build(A_f):
        def f(x, y):
            return (
                0.5 * q * (x * x + y * y)
                - A_s * np.exp(-((x + 1.0) ** 2 + y * y) / s2)
                - A_f * np.exp(-((x - 1.0) ** 2 + y * y) / f2)
            )

        def grad(x, y):
            es = A_s * np.exp(-((x + 1.0) ** 2 + y * y) / s2) * 2.0 / s2
            ef = A_f * np.exp(-((x - 1.0) ** 2 + y * y) / f2) * 2.0 / f2
            return (q * x + es * (x + 1.0) + ef * (x - 1.0), q * y + es * y + ef * y)

        def hessian(x, y):
            out = None
            for A, w2, x0 in ((A_s, s2, -1.0), (A_f, f2, 1.0)):
                e = A * np.exp(-((x - x0) ** 2 + y * y) / w2) * 2.0 / w2
                gx, gy = 2.0 * (x - x0) / w2, 2.0 * y / w2
                term = _matrix([[e * (1.0 - gx * (x - x0)), -e * gx * y], [-e * gy * (x - x0), e * (1.0 - gy * y)]])
                out = term if out is None else out + term
            return out + q * np.eye(2).reshape((2, 2) + (1,) * (out.ndim - 2))

        return Landscape(f, grad, hessian, ndim=2, name="sharp_flat_2d")

    def minima(A_f):
        U = build(A_f)
        return U, _newton(U, (-1.0, 0.0)), _newton(U, (1.0, 0.0))

    def depth_gap(A_f):
        U, sharp, flat = minima(A_f)
        return float(U(*sharp) - U(*flat))

    try:
        A_f = brentq(depth_gap, 0.25 * A_s, 4.0 * A_s, xtol=1e-15, rtol=4 * np.finfo(float).eps)
        U, sharp, flat = minima(A_f)
        xs = np.linspace(sharp[0], flat[0], 2001)
        saddle = _newton(U, (xs[np.argmax(U(xs, 0.0))], 0.0))
    except (ValueError, RuntimeError, np.linalg.LinAlgError) as error:
        raise ValueError(
            f"sharp_amplitude: could not calibrate two equal-depth wells for these parameters ({error})"
        ) from None
    parameters = {
        "sharp_amplitude": A_s,
        "flat_amplitude": A_f,
        "sharp_width": w_s,
        "flat_width": w_f,
        "confinement": q,
    }
    return _finish(U, [sharp, flat], [saddle], parameters)
