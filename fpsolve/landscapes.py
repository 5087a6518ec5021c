"""A library of named test landscapes with analytic gradients, Hessians and known critical points.

Every factory returns an :class:`fpsolve.landscape.Landscape` whose ``f`` and ``grad_function`` are
plain arithmetic (``+ - * / **``, ``np.exp``, ``np.cos``, ``np.tanh``) so that ``numba.njit`` compiles
them for scalar float arguments (the Monte Carlo simulators do) while they still broadcast over numpy
arrays. ``grad_function`` returns a tuple of partial derivatives, one per coordinate. Critical points
(``minima``, ``saddles``; a saddle has exactly one negative Hessian eigenvalue, in 1-D it is the local
maximum between two wells) are exact or refined by Newton's method from a close guess to round-off.
Each landscape also carries ``parameters``, a dict of its defining numbers (including calibrated ones).

``available()`` maps names to factories; case files use ``landscape = {name = "double_well", ...}``.
See docs/landscapes.md for the table of formulas, critical points and barrier heights.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq

from .grid import _is_number
from .landscape import Landscape

__all__ = [
    "available",
    "double_well",
    "double_well_2d",
    "muller_brown",
    "periodic_cosine",
    "quadratic",
    "rotated_double_well",
    "separable_2d",
    "sharp_flat_2d",
    "sharp_flat_double_well",
    "tilted_double_well",
]


# --- helpers -------------------------------------------------------------------------------------
def _matrix(rows) -> np.ndarray:
    """Stack a nested list of broadcastable entries into an array of shape ``(d, d) + shape``."""
    entries = [np.asarray(e, dtype=float) for row in rows for e in row]
    shape = np.broadcast_shapes(*(e.shape for e in entries))
    d = len(rows)
    return np.stack([np.broadcast_to(e, shape) for e in entries]).reshape((d, d) + shape)


def _newton(landscape: Landscape, guess, maxiter: int = 60) -> tuple:
    """Refine a critical point of ``landscape`` by Newton's method on grad U = 0."""
    x = np.array(guess, dtype=float).reshape(-1)
    for _ in range(maxiter):
        step = np.linalg.solve(landscape.hessian(*x).reshape(x.size, x.size), landscape.grad(*x).reshape(-1))
        x = x - step
        if np.max(np.abs(step)) <= 4 * np.finfo(float).eps * max(1.0, np.max(np.abs(x))):
            break
    else:
        raise RuntimeError(f"{landscape.name}: Newton did not converge from {tuple(guess)}")
    return tuple(float(c) for c in x)


def _finish(landscape: Landscape, minima, saddles, parameters: dict) -> Landscape:
    landscape.minima = [tuple(float(c) for c in np.atleast_1d(m)) for m in minima]
    landscape.saddles = [tuple(float(c) for c in np.atleast_1d(s)) for s in saddles]
    landscape.parameters = dict(parameters)
    return landscape


def _finite(value, name: str) -> float:
    """A factory parameter: TypeError naming ``name`` unless a real number, ValueError unless finite."""
    if not _is_number(value):
        raise TypeError(f"{name}: expected a number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name}: expected a finite number, got {value!r}")
    return value


def _numbers(value, name: str) -> np.ndarray:
    """A factory parameter that is an array of real numbers: TypeError naming ``name`` for other
    entries, ValueError for a ragged nesting."""
    try:
        array = np.asarray(value)
    except ValueError:  # ragged
        raise ValueError(f"{name}: expected a rectangular array of numbers, got {value!r}") from None
    if array.dtype.kind not in "iuf":
        raise TypeError(f"{name}: expected an array of numbers, got {value!r}")
    return array.astype(float)


def _positive(value, name: str) -> float:
    """A factory parameter: TypeError naming ``name`` unless a real number, ValueError unless > 0."""
    if not _is_number(value):
        raise TypeError(f"{name}: expected a positive number, got {value!r}")
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name}: expected a positive number, got {value!r}")
    return value


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
        return _matrix([[c * c * huu + s * s * hvv, c * s * (huu - hvv)],
                        [c * s * (huu - hvv), s * s * huu + c * c * hvv]])

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
            return (0.5 * q * (x * x + y * y) - A_s * np.exp(-((x + 1.0) ** 2 + y * y) / s2)
                    - A_f * np.exp(-((x - 1.0) ** 2 + y * y) / f2))

        def grad(x, y):
            es = A_s * np.exp(-((x + 1.0) ** 2 + y * y) / s2) * 2.0 / s2
            ef = A_f * np.exp(-((x - 1.0) ** 2 + y * y) / f2) * 2.0 / f2
            return (q * x + es * (x + 1.0) + ef * (x - 1.0), q * y + es * y + ef * y)

        def hessian(x, y):
            out = None
            for A, w2, x0 in ((A_s, s2, -1.0), (A_f, f2, 1.0)):
                e = A * np.exp(-((x - x0) ** 2 + y * y) / w2) * 2.0 / w2
                gx, gy = 2.0 * (x - x0) / w2, 2.0 * y / w2
                term = _matrix([[e * (1.0 - gx * (x - x0)), -e * gx * y],
                                [-e * gy * (x - x0), e * (1.0 - gy * y)]])
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
    parameters = {"sharp_amplitude": A_s, "flat_amplitude": A_f, "sharp_width": w_s,
                  "flat_width": w_f, "confinement": q}
    return _finish(U, [sharp, flat], [saddle], parameters)


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
        out = out + _matrix([[e * (px * px + 2.0 * _MB_a[k]), e * (px * py + _MB_b[k])],
                             [e * (px * py + _MB_b[k]), e * (py * py + 2.0 * _MB_c[k])]])
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


def available() -> dict:
    """Named landscape factories: name -> callable(**parameters) -> Landscape."""
    return {
        "double_well": double_well,
        "tilted_double_well": tilted_double_well,
        "sharp_flat_double_well": sharp_flat_double_well,
        "double_well_2d": double_well_2d,
        "separable_2d": separable_2d,
        "rotated_double_well": rotated_double_well,
        "sharp_flat_2d": sharp_flat_2d,
        "muller_brown": muller_brown,
        "quadratic": quadratic,
        "periodic_cosine": periodic_cosine,
    }
