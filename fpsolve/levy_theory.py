"""Closed forms and small-noise asymptotics for alpha-stable Lévy flights (no PDE solver here).

Conventions (DESIGN.md section 1): dX = -grad U(X) dt + eps dL^alpha with E exp(i k L_1) =
exp(-|k|^alpha), so the forward operator is dp/dt = div(p grad U) - eps^alpha (-Delta)^{alpha/2} p.
For alpha < 2 the noise is pure jumps with the Lévy measure

    nu(dy) = eps^alpha c_{d,alpha} |y|^{-d-alpha} dy,
    c_{d,alpha} = alpha 2^{alpha-1} Gamma((d+alpha)/2) / (pi^{d/2} Gamma(1 - alpha/2)),

(:func:`stable_jump_constant`); in one dimension c_{1,alpha} = Gamma(1+alpha) sin(pi alpha/2)/pi,
the constant C_alpha of Imkeller & Pavlyukevich. At alpha = 2 the noise is Gaussian with D = eps^2.

What is here, each with its source:

* :func:`getoor_mean_exit_time`: E_x tau of the free process from a ball (Getoor 1961).
* :func:`exit_location_density`: where the free process lands when it leaves an interval
  (Blumenthal, Getoor & Ray 1961).
* :func:`exit_jump_measure`, :func:`imkeller_pavlyukevich_exit_time`: the small-noise mean exit
  time from a well, 1 / (eps^alpha nu(jumps that leave from the minimum)) (Imkeller & Pavlyukevich
  2006); per-axis noise with a scale and tail index per coordinate (Zhou et al. 2020).
* :func:`levy_ou_scale`, :func:`levy_ou_stationary_density`: the stationary law of the Lévy-OU process.
* :func:`chechkin_density`: the stationary density of the Cauchy flight in the quartic well
  (Chechkin et al. 2002).
"""

from __future__ import annotations

import numpy as np
from scipy import special

__all__ = [
    "stable_jump_constant",
    "imkeller_pavlyukevich_constant",
    "getoor_mean_exit_time",
    "exit_location_density",
    "exit_jump_measure",
    "imkeller_pavlyukevich_exit_time",
    "levy_ou_scale",
    "levy_ou_stationary_density",
    "chechkin_density",
]


def _tail_index(alpha, allow_gaussian: bool = False) -> np.ndarray:
    a = np.asarray(alpha, dtype=float)
    upper_ok = (a <= 2) if allow_gaussian else (a < 2)
    if not np.all(np.isfinite(a) & (a > 0) & upper_ok):
        interval = "(0, 2]" if allow_gaussian else "(0, 2) (alpha = 2 is Gaussian noise: no jumps)"
        raise ValueError(f"alpha: expected a tail index in {interval}, got {alpha!r}")
    return a


def _positive(name: str, value) -> np.ndarray:
    v = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(v) & (v > 0)):
        raise ValueError(f"{name}: expected positive numbers, got {value!r}")
    return v


def stable_jump_constant(alpha, dim: int = 1):
    """c_{d,alpha}: the Lévy measure of the standard symmetric alpha-stable process is
    c_{d,alpha} |y|^{-d-alpha} dy (symbol |k|^alpha), 0 < alpha < 2."""
    a = _tail_index(alpha)
    d = int(dim)
    if d < 1:
        raise ValueError(f"dim: expected a positive dimension, got {dim!r}")
    return a * 2.0 ** (a - 1) * special.gamma((d + a) / 2) / (np.pi ** (d / 2) * special.gamma(1 - a / 2))


def imkeller_pavlyukevich_constant(alpha):
    """C_alpha = Gamma(1 + alpha) sin(pi alpha / 2) / pi, equal to c_{1,alpha}."""
    a = _tail_index(alpha)
    return special.gamma(1 + a) * np.sin(np.pi * a / 2) / np.pi


def getoor_mean_exit_time(x, alpha: float, scale: float = 1.0, radius: float = 1.0, center=0.0):
    """Mean exit time of eps L^alpha (no drift) from the ball |x - center| < radius, alpha in (0, 2].

    E_x tau = Gamma(d/2) (r^2 - |x - c|^2)^{alpha/2} / (2^alpha Gamma(1 + alpha/2)
    Gamma((d + alpha)/2) eps^alpha) (Getoor, Trans. AMS 101, 75 (1961)); in one dimension this is
    (r^2 - (x - c)^2)^{alpha/2} / (Gamma(1 + alpha) eps^alpha), and at alpha = 2 Brownian motion
    with D = eps^2: (r^2 - |x|^2) / (2 d eps^2). ``x`` has shape (..., d) (or any shape in 1-D);
    zero outside the ball.
    """
    a = float(_tail_index(alpha, allow_gaussian=True))
    eps, r = float(_positive("scale", scale)), float(_positive("radius", radius))
    c = np.atleast_1d(np.asarray(center, dtype=float))
    x = np.asarray(x, dtype=float)
    d = c.size
    if d == 1:
        squared = (x - c[0]) ** 2
    else:
        if x.shape[-1] != d:
            raise ValueError(f"x: expected points of shape (..., {d}) for a {d}-D center, got {x.shape}")
        squared = np.sum((x - c) ** 2, axis=-1)
    constant = special.gamma(d / 2) / (2**a * special.gamma(1 + a / 2) * special.gamma((d + a) / 2))
    return constant * np.maximum(r**2 - squared, 0.0) ** (a / 2) / eps**a


def exit_location_density(y, x, alpha: float, radius: float = 1.0, center=0.0):
    """Density of X_tau, the landing point of the free isotropic alpha-stable process started at x
    when it first leaves the ball |z - c| < r, 0 < alpha < 2 (independent of the scale eps):

        f(y) = Gamma(d/2) pi^{-d/2-1} sin(pi alpha/2) ((r^2 - |x-c|^2) / (|y-c|^2 - r^2))^{alpha/2} / |y - x|^d

    for |y - c| > r, zero inside (Blumenthal, Getoor & Ray, Trans. AMS 99, 540 (1961)); in 1-D
    sin(pi alpha/2)/pi ((r^2 - x^2)/(y^2 - r^2))^{alpha/2} / |y - x|. Its tail
    f(y) ~ c_{d,alpha} |y|^{-d-alpha} E_x tau (eps = 1) is the Ikeda-Watanabe formula
    f(y) = int G(x, z) nu(y - z) dz far from the ball. ``x`` and ``center`` are points of
    dimension d (numbers in 1-D); ``y`` has shape (..., d) (any shape in 1-D).
    """
    a = float(_tail_index(alpha))
    r = float(_positive("radius", radius))
    c = np.atleast_1d(np.asarray(center, dtype=float))
    x0 = np.atleast_1d(np.asarray(x, dtype=float)) - c
    d = c.size
    if x0.size != d:
        raise ValueError(f"x: expected a point of dimension {d} like the center, got {x!r}")
    if not float(np.sum(x0**2)) < r**2:
        raise ValueError(f"x: the start {x} is not inside the ball of radius {r} around {center}")
    u = np.asarray(y, dtype=float)
    if d == 1:
        u = u[..., None]
    elif u.shape[-1] != d:
        raise ValueError(f"y: expected points of shape (..., {d}), got {u.shape}")
    u = u - c
    squared = np.sum(u**2, axis=-1)
    outside = squared > r**2
    safe_sq = np.where(outside, squared, 4 * r**2)
    distance = np.linalg.norm(np.where(outside[..., None], u, 2 * r) - x0, axis=-1)
    constant = special.gamma(d / 2) * np.pi ** (-d / 2 - 1) * np.sin(np.pi * a / 2)
    value = constant * ((r**2 - np.sum(x0**2)) / (safe_sq - r**2)) ** (a / 2) / distance**d
    return np.where(outside, value, 0.0)


def exit_jump_measure(alpha, distances, scale=1.0):
    """nu(jumps that leave the box around a point): the rate at which eps dL^alpha, started at a
    point at distances (a_j, b_j) from the low and high walls along each axis j, jumps out at once.

    Per-axis (axis-aligned) noise, one tail index and one scale per axis as in Zhou et al.
    (arXiv 2010.05627): sum_j eps_j^alpha_j C_alpha_j / alpha_j (a_j^-alpha_j + b_j^-alpha_j).
    ``distances`` is a pair (a, b) in 1-D or a sequence of pairs, one per axis; a distance may be
    inf (no wall on that side). This is the "Radon measure" of the basin's exterior seen from the
    minimum that sets the escape time: a wider basin has a smaller one, its depth does not enter.
    """
    pairs = np.atleast_2d(np.asarray(distances, dtype=float))
    if pairs.shape[-1] != 2 or pairs.ndim != 2:
        raise ValueError(f"distances: expected (a, b) or one (a, b) pair per axis, got {distances!r}")
    if not np.all(pairs > 0):
        raise ValueError(f"distances: the point must be strictly inside the well, got {distances!r}")
    n = pairs.shape[0]
    a = np.broadcast_to(_tail_index(alpha), (n,))
    eps = np.broadcast_to(_positive("scale", scale), (n,))
    with np.errstate(divide="ignore"):
        reach = pairs[:, 0] ** -a + pairs[:, 1] ** -a
    return float(np.sum(eps**a * imkeller_pavlyukevich_constant(a) / a * reach))


def imkeller_pavlyukevich_exit_time(alpha, distances, scale=1.0):
    """Small-noise mean exit time from a well: 1 / exit_jump_measure(alpha, distances, scale).

    With the minimum at distances (a, b) from the well's ends, in 1-D
    tau ~ alpha / (C_alpha eps^alpha (a^-alpha + b^-alpha)) as eps -> 0 (Imkeller & Pavlyukevich,
    Stoch. Proc. Appl. 116, 611 (2006)): polynomial in 1/eps and set by the width, not the depth.
    The relative correction vanishes with eps (docs/levy.md measures its rate).
    """
    return 1.0 / exit_jump_measure(alpha, distances, scale)


def levy_ou_scale(alpha: float, scale: float, curvature: float) -> float:
    """Scale sigma of the stationary law of dX = -lambda X dt + eps dL^alpha: symmetric alpha-stable
    with E exp(ikX) = exp(-|sigma k|^alpha), sigma = eps (alpha lambda)^{-1/alpha}
    (sigma^alpha = eps^alpha int_0^inf e^{-alpha lambda s} ds). alpha in (0, 2]."""
    a = float(_tail_index(alpha, allow_gaussian=True))
    eps, lam = float(_positive("scale", scale)), float(_positive("curvature", curvature))
    return eps * (a * lam) ** (-1.0 / a)


def levy_ou_stationary_density(x, alpha: float, scale: float, curvature: float):
    """The stationary density of the Lévy-OU process dX = -lambda X dt + eps dL^alpha: the
    symmetric alpha-stable density of scale :func:`levy_ou_scale` (scipy's levy_stable with
    beta = 0, whose characteristic function is exp(-|sigma k|^alpha) in both its parametrisations;
    at alpha = 2 the normal law of variance 2 sigma^2)."""
    from scipy.stats import levy_stable, norm

    sigma = levy_ou_scale(alpha, scale, curvature)
    x = np.asarray(x, dtype=float)
    if float(alpha) == 2.0:
        return norm.pdf(x, scale=np.sqrt(2.0) * sigma)
    return levy_stable.pdf(x, float(alpha), 0.0, loc=0.0, scale=sigma)


def chechkin_density(x, scale: float):
    """Stationary density of the Cauchy flight (alpha = 1) in the quartic well U = x^4 / 4,
    dX = -X^3 dt + eps dL^1: p(x) = c^3 / (pi (c^4 - c^2 x^2 + x^4)), c = eps^{1/3}
    (Chechkin et al., Chem. Phys. 284, 67 (2002)). Bimodal, with finite variance c^2."""
    c = float(_positive("scale", scale)) ** (1.0 / 3.0)
    x = np.asarray(x, dtype=float)
    return c**3 / (np.pi * (c**4 - c**2 * x**2 + x**4))
