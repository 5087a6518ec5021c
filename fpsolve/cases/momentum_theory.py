"""Closed forms and asymptotics the momentum cases compare the kinetic PDE with (no PDE solver here).

Conventions (DESIGN.md section 1, fpsolve.momentum): phase space x = (theta, v),

    d theta = v dt,   d v = (-gamma v - kappa grad U) dt + sqrt(2 gamma T_kin) dW

is underdamped Langevin dynamics in the potential kappa U at the temperature T_kin. Both kinetic
models with isotropic constant noise are of this form: ``UnderdampedLangevin(U, gamma, T)`` with
kappa = 1, T_kin = T, and ``MomentumSGD(U, lr, B, beta, noise_scale=sigma^2)`` with
kappa = c = 2 / (lr (1 + beta)), gamma = c (1 - beta) and T_kin = c T_eff, where
T_eff = lr sigma^2 / (2 B (1 - beta)) is the temperature of its theta-marginal e^{-U / T_eff}.

* :func:`overdamped_exit_time`: the 1-D double integral (Gardiner ch. 5) for dX = -U' dt + sqrt(2T) dW.
* :func:`kramers_rate`, :func:`energy_diffusion_rate`: Kramers (1940) at moderate-to-high and at low
  friction (Hanggi, Talkner & Borkovec, Rev. Mod. Phys. 62, 251 (1990), eqs. 4.7 and 4.49).
* :func:`linear_kinetic_drift`, :func:`stationary_covariance`, :func:`covariance_at`: the harmonic
  (Ornstein-Uhlenbeck) phase-space process, by the Lyapunov equation and Van Loan's block exponential.
* :func:`heavy_ball_variance`: the exact stationary variance of the discrete heavy-ball recursion
  on a quadratic (an AR(2) process); :func:`heavy_ball_modified_loss` the loss whose Gibbs law has it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import integrate, linalg, optimize

__all__ = [
    "LangevinForm",
    "langevin_form",
    "overdamped_exit_time",
    "well_and_barrier",
    "kramers_rate",
    "energy_diffusion_rate",
    "separatrix_action",
    "linear_kinetic_drift",
    "stationary_covariance",
    "covariance_at",
    "heavy_ball_variance",
    "heavy_ball_modified_loss",
    "power_law_exponent",
]


@dataclass(frozen=True)
class LangevinForm:
    """A kinetic model as d v = (-friction v - potential_scale grad U) dt + sqrt(2 friction temperature) dW.

    ``temperature`` is T_kin (units of potential_scale x U); ``theta_temperature`` = T_kin /
    potential_scale is the temperature of the theta-marginal exp(-U / theta_temperature)."""

    potential_scale: float
    friction: float
    temperature: float

    @property
    def theta_temperature(self) -> float:
        return self.temperature / self.potential_scale


def langevin_form(model) -> LangevinForm:
    """The :class:`LangevinForm` of a kinetic model with constant isotropic noise (t = 0)."""
    if getattr(model, "noise", None) != "isotropic" or not model.autonomous:
        raise ValueError(f"model: the Langevin form needs constant isotropic noise and no schedule; got {model!r}")
    scale = float(model.scale) if hasattr(model, "scale") else 1.0
    friction = float(model.friction)
    temperature = float(np.ravel(model.velocity_variance(*[np.zeros(1)] * model.dim))[0])
    return LangevinForm(scale, friction, temperature)


def overdamped_exit_time(landscape, temperature: float, wall: float, exit_at: float, start: float) -> float:
    """Mean first passage time of dX = -U'(X) dt + sqrt(2 T) dW from ``start`` to ``exit_at``,
    reflected at ``wall`` < start < exit_at:

        tau = (1/T) int_start^exit_at dy int_wall^y exp((U(y) - U(z)) / T) dz     (Gardiner ch. 5).

    Evaluated by nested adaptive quadrature (relative accuracy about 1e-10)."""
    if not wall < start <= exit_at:
        raise ValueError(f"start: expected wall < start <= exit_at, got {wall}, {start}, {exit_at}")
    U = lambda x: float(landscape(np.array([x]))[0])

    def inner(y):
        uy = U(y)
        return integrate.quad(
            lambda z: np.exp((uy - U(z)) / temperature), wall, y, limit=200, epsabs=0.0, epsrel=1e-11
        )[0]

    value = integrate.quad(inner, start, exit_at, limit=200, epsabs=0.0, epsrel=1e-10)[0]
    return value / temperature


def well_and_barrier(landscape, start: float, exit_at: float) -> tuple:
    """(theta_min, theta_saddle): the minimum of U near ``start`` and the maximum of U between it and
    ``exit_at`` (1-D landscapes), by bounded scalar minimisation."""
    U = lambda x: float(landscape(np.array([x]))[0])
    lo, hi = sorted((start, exit_at))
    width = hi - lo
    minimum = optimize.minimize_scalar(U, bounds=(start - width, exit_at), method="bounded", options={"xatol": 1e-10}).x
    a, b = sorted((minimum, exit_at))
    saddle = optimize.minimize_scalar(lambda x: -U(x), bounds=(a, b), method="bounded", options={"xatol": 1e-10}).x
    return float(minimum), float(saddle)


def _curvature(landscape, x: float) -> float:
    return float(np.ravel(landscape.hessian(np.array([x])))[0])


def kramers_rate(landscape, form: LangevinForm, minimum: float, saddle: float) -> float:
    """Kramers' moderate-to-high-friction escape rate (1/time) over the barrier at ``saddle``:

        k = [sqrt(gamma^2/4 + w_b^2) - gamma/2] / w_b * w_0 / (2 pi) * exp(-kappa dU / T_kin),

    w_0^2 = kappa U''(min), w_b^2 = kappa |U''(saddle)|. For gamma -> infinity it is the
    overdamped rate divided by gamma."""
    kappa, gamma, T = form.potential_scale, form.friction, form.temperature
    w0 = np.sqrt(kappa * _curvature(landscape, minimum))
    wb = np.sqrt(kappa * abs(_curvature(landscape, saddle)))
    barrier = kappa * (_value(landscape, saddle) - _value(landscape, minimum))
    return float((np.sqrt(gamma**2 / 4 + wb**2) - gamma / 2) / wb * w0 / (2 * np.pi) * np.exp(-barrier / T))


def separatrix_action(landscape, form: LangevinForm, minimum: float, saddle: float) -> float:
    """The action I_b = closed-orbit integral of v d theta at the barrier energy, over the well
    on the minimum's side of the saddle: 2 int sqrt(2 kappa (U(saddle) - U(theta))) d theta."""
    kappa = form.potential_scale
    top = _value(landscape, saddle)
    direction = np.sign(minimum - saddle)
    # the far turning point: where U climbs back to the barrier energy behind the minimum
    step = abs(saddle - minimum)
    far = minimum + direction * step
    while _value(landscape, far) < top:
        far += direction * step
    turn = optimize.brentq(lambda x: _value(landscape, x) - top, minimum, far, xtol=1e-13)
    lo, hi = sorted((turn, saddle))
    speed = lambda x: np.sqrt(max(2.0 * kappa * (top - _value(landscape, x)), 0.0))
    return 2.0 * integrate.quad(speed, lo, hi, points=[minimum], limit=200, epsrel=1e-10)[0]


def energy_diffusion_rate(landscape, form: LangevinForm, minimum: float, saddle: float) -> float:
    """Kramers' low-friction (energy-diffusion) rate: k = gamma I_b / T_kin * w_0 / (2 pi) *
    exp(-kappa dU / T_kin), valid for gamma I_b / T_kin << 1 (and the barrier high)."""
    kappa, gamma, T = form.potential_scale, form.friction, form.temperature
    w0 = np.sqrt(kappa * _curvature(landscape, minimum))
    barrier = kappa * (_value(landscape, saddle) - _value(landscape, minimum))
    action = separatrix_action(landscape, form, minimum, saddle)
    return float(gamma * action / T * w0 / (2 * np.pi) * np.exp(-barrier / T))


def _value(landscape, x: float) -> float:
    return float(landscape(np.array([x]))[0])


def linear_kinetic_drift(hessian, potential_scale: float, friction: float) -> np.ndarray:
    """M with dx = M x dt + noise for the harmonic kinetic process x = (theta, v), U = theta.H.theta/2:
    M = [[0, I], [-kappa H, -gamma I]] (shape 2d x 2d)."""
    H = np.atleast_2d(np.asarray(hessian, dtype=float))
    d = H.shape[0]
    M = np.zeros((2 * d, 2 * d))
    M[:d, d:] = np.eye(d)
    M[d:, :d] = -potential_scale * H
    M[d:, d:] = -friction * np.eye(d)
    return M


def _phase_space_diffusion(velocity_diffusion) -> np.ndarray:
    Dv = np.atleast_2d(np.asarray(velocity_diffusion, dtype=float))
    d = Dv.shape[0]
    D = np.zeros((2 * d, 2 * d))
    D[d:, d:] = Dv
    return D


def stationary_covariance(M, velocity_diffusion) -> np.ndarray:
    """The stationary covariance C of dx = M x dt + sqrt(2 D) dW, D = diag(0, D_v): the Lyapunov
    equation M C + C M^T + 2 D = 0 (M stable)."""
    D = _phase_space_diffusion(velocity_diffusion)
    if np.max(np.linalg.eigvals(M).real) >= 0:
        raise ValueError("hessian: the harmonic process has no stationary law (a non-positive curvature)")
    return linalg.solve_continuous_lyapunov(M, -2.0 * D)


def covariance_at(M, velocity_diffusion, t: float, initial=None) -> np.ndarray:
    """Cov x(t) of dx = M x dt + sqrt(2 D) dW from Cov x(0) = ``initial`` (zero: a point):
    e^{Mt} C_0 e^{M^T t} + int_0^t e^{Ms} 2D e^{M^T s} ds, the integral by Van Loan's block
    exponential expm([[M, 2D], [0, -M^T]] t) while t is below 5 fastest decay times, and as
    C_inf + e^{Mt} (C_0 - C_inf) e^{M^T t} (Lyapunov C_inf) beyond, where the block loses all digits."""
    D = _phase_space_diffusion(velocity_diffusion)
    n = M.shape[0]
    C0 = np.zeros((n, n)) if initial is None else np.asarray(initial, dtype=float)
    rates = -np.linalg.eigvals(M).real
    if rates.min() > 0 and rates.max() * t > 5.0:
        # e^{-M^T t} in Van Loan's block grows like e^{5} and beyond: C(t) = C_inf + e^{Mt}(C_0 - C_inf)e^{M^T t}
        # is stable there (its cancellation when C(t) << C_inf is why Van Loan is kept at short times)
        C = stationary_covariance(M, velocity_diffusion)
        propagator = linalg.expm(M * t)
        return C + propagator @ (C0 - C) @ propagator.T
    block = np.zeros((2 * n, 2 * n))
    block[:n, :n] = M
    block[:n, n:] = 2.0 * D
    block[n:, n:] = -M.T
    E = linalg.expm(block * t)
    propagator = E[:n, :n]
    noise = E[:n, n:] @ propagator.T
    return propagator @ C0 @ propagator.T + noise


def heavy_ball_variance(curvature: float, lr: float, momentum: float, gradient_noise: float) -> float:
    """Exact stationary Var theta of the discrete heavy ball theta_{k+1} = theta_k - lr (curvature
    theta_k + xi_k) + momentum (theta_k - theta_{k-1}) with Var xi = ``gradient_noise`` (an AR(2)
    process; Box & Jenkins' variance of x_{k+1} = a x_k + b x_{k-1} + e_k):

        Var = lr s^2 / (2 (1 - beta) lambda) / (1 - lr lambda / (2 (1 + beta))),

    the SDE's value lr s^2 / (2 (1 - beta) lambda) (Kunin et al. 2021) times a finite-lr factor.
    Stable for 0 < lr lambda < 2 (1 + beta)."""
    lam, beta = float(curvature), float(momentum)
    if not 0 < lr * lam < 2 * (1 + beta):
        raise ValueError(
            f"lr: the heavy ball diverges on this quadratic (lr x curvature = {lr * lam:g}, "
            f"stable below 2 (1 + momentum) = {2 * (1 + beta):g})"
        )
    return lr * gradient_noise / (2 * (1 - beta) * lam) / (1 - lr * lam / (2 * (1 + beta)))


def heavy_ball_modified_loss(landscape, lr: float, momentum: float):
    """U_hat = U - lr / (4 (1 + beta)) |grad U|^2: the loss whose Gibbs law exp(-U_hat / T_eff) has
    exactly :func:`heavy_ball_variance` on every quadratic (expand 1 / (lambda - lr lambda^2 /
    (2 (1 + beta)))); on other landscapes a first-order-in-lr model, which the case tests."""
    shift = lr / (4.0 * (1.0 + momentum))

    def modified(*theta):
        g = np.asarray(landscape.grad(*theta))
        return landscape(*theta) - shift * np.sum(g * g, axis=0)

    return modified


def power_law_exponent(t, values) -> tuple:
    """(c, prefactor) of the least-squares fit log values = log prefactor + c log t."""
    slope, intercept = np.polyfit(np.log(np.asarray(t, dtype=float)), np.log(np.asarray(values, dtype=float)), 1)
    return float(slope), float(np.exp(intercept))
