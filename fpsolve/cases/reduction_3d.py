"""The transverse-averaged 1-D reduction of SGD with Hessian noise on U(x, y, z) = f(x) + a(x) y^2 / 2
+ b(x) z^2 / 2: the independent reference of the three-parameter case (fpsolve.cases.tasks_3d).

With D = eps |H| (eps = lr noise_scale / (2 B), eigenvalues of |H| floored at F), at fixed x the
transverse coordinates are Ornstein-Uhlenbeck processes with drift -a(x) y and diffusion
eps max(a(x), F) (on the axis y = z = 0, where H is diagonal), hence Gaussian with variance
v_y(x) = eps max(a, F) / a. The x-marginal obeys exactly
d_t rho = d_x( <d_x U | x> rho + d_x(<D_xx | x> rho) ); averaging with those Gaussians gives the
1-D diffusion with drift -m(x) and diffusion D(x):

    m(x) = f'(x) + a'(x) v_y(x) / 2 + b'(x) v_z(x) / 2,      D(x) = eps max(|f''(x)|, F).

Its stationary law is rho ∝ exp(-int m / D) / D and its mean exit time from x0 through the plane
x = c (reflecting at the box's end) the double integral

    tau(x0) = int_{x0}^{c} s(y) int_{lo}^{y} dz / (D(z) s(z)) dy,     s = exp(int m / D).

For constant D the stationary occupancies are independent of B to leading order: the effective
potential f + eps W / 2 (W = int a' max(a, F)/a + b' max(b, F)/b) shifts the log-ratio of the two
wells by (W(x_sharp) - W(x_flat)) / (2 F), whatever eps. The reduction is the small-noise (fast
transverse relaxation) limit; its error is O(eps), measured against the 3-D solve in docs/scale.md.
Everything here is quadrature on a fine 1-D line: no fpsolve solver is involved.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.integrate import cumulative_trapezoid, trapezoid

from ..landscape import Landscape

__all__ = ["TransverseReduction", "transverse_reduction", "reduction_refusal", "case_landscape"]

#: Points of the fine line on which the 1-D integrals are taken (trapezoid error ~1e-8 relative)
LINE_POINTS = 20001


@dataclass(frozen=True)
class TransverseReduction:
    """Mean exit times from the two starts through the plane x = ``plane`` (continuous time) and
    the stationary mass on each side of it, of the transverse-averaged 1-D diffusion."""

    exit_time_low: float
    exit_time_high: float
    occupancy_low: float
    occupancy_high: float
    plane: float


def reduction_refusal(landscape, bounds, starts, samples: int = 64) -> str | None:
    """Why the reduction does not apply to ``landscape`` on the box ``bounds`` (None if it does):
    U must be f(x) + a(x) y^2/2 + b(x) z^2/2 with a, b > 0 (checked at ``samples`` seeded points to
    1e-8 relative), and the starts must lie on the axis y = z = 0."""
    if any(abs(s[1]) > 0 or abs(s[2]) > 0 for s in starts):
        return "the starts are not on the axis y = z = 0"
    low, high = np.array(bounds, dtype=float).T
    x, y, z = np.random.default_rng(0).uniform(low, high, size=(samples, 3)).T
    zero = np.zeros_like(x)
    on_axis = landscape.hessian(x, zero, zero)
    if np.any(on_axis[1, 1] <= 0) or np.any(on_axis[2, 2] <= 0):
        return "a transverse curvature U_yy or U_zz is not positive on the axis"
    model = landscape(x, zero, zero) + 0.5 * on_axis[1, 1] * y * y + 0.5 * on_axis[2, 2] * z * z
    value = landscape(x, y, z)
    if np.max(np.abs(value - model)) > 1e-8 * max(1.0, float(np.max(np.abs(value)))):
        return "U is not of the form f(x) + a(x) y^2/2 + b(x) z^2/2"
    return None


def transverse_reduction(landscape, *, lr, batch_size, noise_scale=1.0, floor, x_bounds, plane, starts):
    """The 1-D reduction of the module docstring for the landscape ``landscape`` of (x, y, z).

    ``x_bounds`` is the box along x (reflecting ends), ``plane`` the x of the exit plane and
    ``starts`` the x of the start below and above it. Returns a :class:`TransverseReduction`.
    The landscape must have that form (:func:`reduction_refusal` says whether it has)."""
    eps = lr * noise_scale / (2.0 * batch_size)
    # the plane and the starts are nodes of the line, so that each integral ends exactly there
    x = np.union1d(np.linspace(x_bounds[0], x_bounds[1], LINE_POINTS), [plane, *starts])
    zero = np.zeros_like(x)
    force = landscape.grad(x, zero, zero)[0]
    hessian = landscape.hessian(x, zero, zero)
    drift = force.copy()
    for axis in (1, 2):  # the transverse curvatures a(x), b(x) and their mean forces
        curvature = hessian[axis, axis]
        variance = eps * np.maximum(curvature, floor) / curvature
        drift += 0.5 * np.gradient(curvature, x, edge_order=2) * variance
    diffusion = eps * np.maximum(np.abs(hessian[0, 0]), floor)
    log_scale = cumulative_trapezoid(drift / diffusion, x, initial=0.0)
    log_scale -= log_scale.min()
    speed = np.exp(-log_scale) / diffusion  # stationary density up to a constant
    mass_below = cumulative_trapezoid(speed, x, initial=0.0)
    total = mass_below[-1]
    mass_above = total - mass_below
    integrand_low = np.exp(log_scale) * mass_below  # s(y) int_lo^y speed
    integrand_high = np.exp(log_scale) * mass_above
    below, above = x <= plane, x >= plane
    low = (x >= starts[0]) & below
    high = (x <= starts[1]) & above
    return TransverseReduction(
        exit_time_low=float(trapezoid(integrand_low[low], x[low])),
        exit_time_high=float(trapezoid(integrand_high[high], x[high])),
        occupancy_low=float(mass_below[below][-1] / total),
        occupancy_high=float(mass_above[below][-1] / total),
        plane=float(plane),
    )


def case_landscape() -> Landscape:
    """The landscape of cases/exit_time_3d.toml with its gradient and Hessian by hand:
    U = (x^2 - 1)^2 + (40 - 20 tanh x) y^2 / 2 + (30 - 10 tanh x) z^2 / 2.

    The case file gives U as an expression (derivatives by finite differences); this twin is plain
    arithmetic, so that numba compiles it for Monte Carlo (drift and the closed-form root of |H|).
    tests/test_case_exit_time_3d.py checks that the two agree."""

    def u(x, y, z):
        return (x * x - 1.0) ** 2 + 0.5 * (40.0 - 20.0 * np.tanh(x)) * y * y + 0.5 * (30.0 - 10.0 * np.tanh(x)) * z * z

    def grad(x, y, z):
        t = np.tanh(x)
        s = 1.0 - t * t
        return (
            4.0 * x * (x * x - 1.0) - 10.0 * s * y * y - 5.0 * s * z * z,
            (40.0 - 20.0 * t) * y,
            (30.0 - 10.0 * t) * z,
        )

    def hessian(x, y, z):
        t = np.tanh(x)
        s = 1.0 - t * t
        xx = 12.0 * x * x - 4.0 + 20.0 * t * s * y * y + 10.0 * t * s * z * z
        return np.array(
            (
                (xx, -20.0 * s * y, -10.0 * s * z),
                (-20.0 * s * y, 40.0 - 20.0 * t + 0.0 * y, 0.0 * z),
                (-10.0 * s * z, 0.0 * y, 30.0 - 10.0 * t + 0.0 * z),
            )
        )

    return Landscape(u, grad, hessian, ndim=3, name="sharp_flat_3d")
