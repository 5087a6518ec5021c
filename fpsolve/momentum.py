"""Kinetic (phase-space) models: momentum SGD and underdamped Langevin dynamics in (theta, v).

Both are Ito diffusions on phase space R^{2d} (d = dim theta) whose noise acts on the velocities
only (a degenerate diffusion):

    d theta = v dt,
    d v     = [-gamma(t) v + F(theta, t)] dt + a(t) Sigma(theta)^(1/2) dW,

with friction gamma, force F and noise amplitude a. The density obeys the kinetic (Kramers)
Fokker-Planck equation

    d_t p = -v . grad_theta p + div_v((gamma v - F) p) + div_v(D_v grad_v p),   D_v = a^2 Sigma / 2.

* ``MomentumSGD(U, lr, batch_size, momentum)`` (DESIGN.md section 1): heavy ball
  theta_{k+1} = theta_k - lr g_k + momentum (theta_k - theta_{k-1}) with t = k lr, whose SDE has
  c = 2 / (lr (1 + momentum)), gamma = c (1 - momentum), F = -c grad U, a = c sqrt(lr / B). For a
  quadratic with Hessian eigenvalue lambda and Sigma = sigma^2 H: Var theta = lr sigma^2 / (2 B (1 -
  momentum)) and Var v = sigma^2 lambda / (B (1 - momentum^2)).
* ``UnderdampedLangevin(U, friction, temperature)``: gamma = friction, F = -grad U, a = sqrt(2 gamma T);
  with isotropic noise the stationary law is Maxwell-Boltzmann, proportional to exp(-(U + |v|^2/2) / T).

Coordinates are ordered (theta_1 .. theta_d, v_1 .. v_d); phase-space grids name their axes
``theta`` and ``v`` (:func:`phase_space_grid`).
"""

from __future__ import annotations

import numpy as np

from .dynamics import SGD, Langevin, Model, _require_landscape
from .hyperparameters import SGDHyperparameters, _constant, _positive, _schedule
from .grid import Grid, _is_number
from .landscape import Landscape
from .noise import HESSIAN_FLOOR, make_noise

__all__ = ["KineticModel", "MomentumSGD", "UnderdampedLangevin", "phase_space_grid", "is_kinetic"]


class KineticModel(Model):
    """Base class of phase-space models: d theta = v dt, d v = (-gamma v + F) dt + a Sigma^(1/2) dW.

    Subclasses set :attr:`landscape`, :attr:`dim` and the callables behind :meth:`friction`,
    :meth:`force` and :meth:`noise_amplitude`; the noise covariance Sigma(theta) comes from
    :func:`fpsolve.noise.make_noise` as for :class:`fpsolve.SGD`. Schemes read the structure through
    :attr:`position_axes`, :attr:`velocity_axes`, :meth:`friction`, :meth:`force` and
    :meth:`velocity_diffusion`; Monte Carlo and everything generic read :meth:`drift` and the noise.
    """

    dim: int
    sigma = None
    #: The gradient-noise model behind Sigma(theta) (as for :class:`fpsolve.SGD`).
    noise = "isotropic"
    noise_scale: float = 1.0
    hessian_floor: float = HESSIAN_FLOOR
    constant_diffusion: bool = False
    #: L2 coefficient w: the force is -force_factor(t) (grad U + w theta).
    weight_decay: float = 0.0

    @property
    def ndim(self) -> int:
        return 2 * self.dim

    @property
    def position_axes(self) -> tuple:
        """Indices of theta in phase space."""
        return tuple(range(self.dim))

    @property
    def velocity_axes(self) -> tuple:
        """Indices of v in phase space."""
        return tuple(range(self.dim, 2 * self.dim))

    @property
    def noise_axes(self) -> tuple:
        return self.velocity_axes

    def friction_at(self, t: float = 0.0) -> float:
        """gamma(t) > 0 at continuous time t, units 1/time (constant or scheduled)."""
        raise TypeError(f"{type(self).__name__} does not define its friction")

    def force_factor(self, t: float = 0.0) -> float:
        """kappa(t) in F = -kappa(t) (grad U + weight_decay theta), units 1/time^2 per unit of
        U'' (1 for Langevin dynamics with unit mass, c = 2 / (lr (1 + momentum)) for momentum)."""
        raise TypeError(f"{type(self).__name__} does not define its force")

    def force(self, *theta, t: float = 0.0) -> np.ndarray:
        """F(theta, t) = -force_factor(t) (grad U + weight_decay theta), the velocity-independent
        part of dv/dt, shape ``(d,) + shape``."""
        g = self.landscape.grad(*theta)
        if self.weight_decay:
            g = g + self.weight_decay * np.stack(np.broadcast_arrays(*theta))
        return -self.force_factor(t) * g

    def drift(self, *x, t: float = 0.0) -> np.ndarray:
        """(v, -gamma v + F(theta)), shape ``(2d,) + shape``."""
        self._require_phase_space(x)
        shape = np.broadcast(*x).shape
        theta, v = x[: self.dim], x[self.dim :]
        force = self.force(*theta, t=t)
        gamma = self.friction_at(t)
        out = np.empty((2 * self.dim,) + shape)
        for k in range(self.dim):
            out[k] = np.broadcast_to(v[k], shape)
            out[self.dim + k] = np.broadcast_to(-gamma * np.asarray(v[k]) + force[k], shape)
        return out

    def velocity_covariance(self, *theta) -> np.ndarray:
        """Sigma(theta), shape ``(d, d) + shape`` (the covariance of the velocity noise)."""
        return self.sigma(*theta)

    def noise_covariance(self, *x) -> np.ndarray:
        """Sigma embedded in phase space: zero except the velocity block, ``(2d, 2d) + shape``."""
        self._require_phase_space(x)
        shape = np.broadcast(*x).shape
        out = np.zeros((2 * self.dim, 2 * self.dim) + shape)
        out[self.dim :, self.dim :] = self.velocity_covariance(*x[: self.dim]) * np.ones(shape)
        return out

    def velocity_diffusion(self, *theta, t: float = 0.0) -> np.ndarray:
        """D_v(theta, t) = a(t)^2 Sigma(theta) / 2, shape ``(d, d) + shape``."""
        return (0.5 * self.noise_amplitude(t) ** 2) * self.velocity_covariance(*theta)

    def velocity_variance(self, *theta, t: float = 0.0) -> np.ndarray:
        """The local equilibrium (Maxwellian) variance of each velocity, diag(D_v) / gamma, shape
        ``(d,) + shape``: exact for theta frozen; what a velocity box must hold (several times its
        square root on each side)."""
        diffusion = self.velocity_diffusion(*theta, t=t)
        return np.stack([diffusion[k, k] for k in range(self.dim)]) / self.friction_at(t)

    def _require_phase_space(self, x) -> None:
        if len(x) != 2 * self.dim:
            raise ValueError(
                f"x: {type(self).__name__} lives in phase space (theta, v) of dimension "
                f"{2 * self.dim} (2 x dim theta = 2 x {self.dim}); got {len(x)} coordinates"
            )


def is_kinetic(model) -> bool:
    """Whether ``model`` is a phase-space model (a :class:`KineticModel`)."""
    return isinstance(model, KineticModel)


class MomentumSGD(SGDHyperparameters, KineticModel):
    """SGD with heavy-ball momentum as an underdamped SDE in phase space (theta, v).

    The heavy-ball update theta_{k+1} = theta_k - lr g_k + momentum (theta_k - theta_{k-1}), g_k a
    minibatch gradient with covariance Sigma / batch_size, with continuous time t = k lr, is the
    SDE (DESIGN.md section 1)

        d theta = v dt,   d v = -c [(1 - momentum) v + grad U + weight_decay theta] dt
                                + c sqrt(lr / batch_size) Sigma(theta)^(1/2) dW,

    c = 2 / (lr (1 + momentum)): friction gamma = c (1 - momentum), units 1/time.

    Parameters
    ----------
    landscape : Landscape
        The mean loss U(theta).
    lr : float or callable
        Learning rate eta > 0, or a schedule ``lr(t)``. A constant reads back as the number
        ``model.lr``; ``model.lr_at(t)`` works for both (as for :class:`fpsolve.SGD`).
    batch_size : float or callable
        Batch size B >= 1, or a schedule ``batch_size(t)`` (``model.batch_size_at(t)``).
    momentum : float
        beta in [0, 1).
    noise, noise_scale, hessian_floor
        The gradient-noise covariance Sigma(theta), exactly as for :class:`fpsolve.SGD`
        (``"isotropic"``, ``"hessian"``, ``"empirical"`` or a callable).
    weight_decay : float
        L2 coefficient w >= 0: the update uses g + w theta (the loss U + w |theta|^2 / 2).

    Notes
    -----
    The high-friction (overdamped) limit is SGD with the effective learning rate lr / (1 - momentum)
    run for the time t / (1 - momentum) (:meth:`overdamped`).
    """

    def __init__(
        self,
        landscape: Landscape,
        lr,
        batch_size,
        momentum: float,
        noise="isotropic",
        noise_scale: float = 1.0,
        weight_decay: float = 0.0,
        hessian_floor: float = HESSIAN_FLOOR,
    ):
        _require_landscape(landscape)
        self.landscape = landscape
        self.dim = landscape.ndim
        self._set_hyperparameters(landscape, lr, batch_size, noise)
        self.momentum = _momentum(momentum)
        self.weight_decay = _non_negative(weight_decay, "weight_decay")
        self.noise = noise
        self.noise_scale = _positive(noise_scale, "noise_scale")
        self.hessian_floor = _positive(hessian_floor, "hessian_floor")
        self.sigma = make_noise(noise, landscape, noise_scale=self.noise_scale, floor=self.hessian_floor)
        self.constant_diffusion = noise == "isotropic"

    def __repr__(self) -> str:
        return (
            f"MomentumSGD({self.landscape.name!r}, lr={_shown(self._lr_schedule)}, batch_size="
            f"{_shown(self._batch_size_schedule)}, momentum={self.momentum:g}, noise={_noise_name(self.noise)!r})"
        )

    def scale_at(self, t: float = 0.0) -> float:
        """c(t) = 2 / (lr(t) (1 + momentum)) at continuous time t, units 1/time."""
        return 2.0 / (self.lr_at(t) * (1.0 + self.momentum))

    @property
    def scale(self) -> float:
        """The constant c = 2 / (lr (1 + momentum)), units 1/time (ValueError under an lr
        schedule: use :meth:`scale_at`)."""
        return 2.0 / (self.lr * (1.0 + self.momentum))

    def friction_at(self, t=0.0):
        return self.scale_at(t) * (1.0 - self.momentum)

    @property
    def friction(self) -> float:
        """The constant friction gamma = c (1 - momentum), units 1/time (ValueError under an lr
        schedule: use :meth:`friction_at`)."""
        return self.scale * (1.0 - self.momentum)

    def force_factor(self, t=0.0):
        return self.scale_at(t)

    def noise_amplitude(self, t=0.0):
        return float(self.scale_at(t) * np.sqrt(self.lr_at(t) / self.batch_size_at(t)))

    def overdamped(self) -> SGD:
        """The high-friction limit: ``SGD(U, lr / (1 - momentum), batch_size, noise)``, whose time
        t' relates to this model's t by t' = t / (1 - momentum) (constant lr and batch size only)."""
        if not self.autonomous:
            raise ValueError("overdamped: defined for a constant lr and batch_size, not schedules")
        if self.weight_decay:
            raise ValueError("overdamped: weight_decay is not carried over; fold it into the landscape")
        return SGD(
            self.landscape,
            self.lr / (1.0 - self.momentum),
            self.batch_size,
            noise=self.noise,
            noise_scale=self.noise_scale,
            hessian_floor=self.hessian_floor,
        )

    def describe(self):
        return {
            "model": "MomentumSGD",
            "landscape": self.landscape.name,
            "lr": self._described("lr"),
            "batch_size": self._described("batch_size"),
            "momentum": self.momentum,
            "noise": _noise_name(self.noise),
            "noise_scale": self.noise_scale,
            "weight_decay": self.weight_decay,
        }


class UnderdampedLangevin(KineticModel):
    """Underdamped (kinetic) Langevin dynamics with unit mass:

        d theta = v dt,   d v = (-friction v - grad U) dt + sqrt(2 friction T) Sigma(theta)^(1/2) dW.

    With isotropic noise (Sigma = I, the default) the stationary law is Maxwell-Boltzmann,
    proportional to exp(-(U(theta) + |v|^2 / 2) / T).

    Parameters
    ----------
    landscape : Landscape
        The potential U(theta).
    friction : float or callable
        gamma > 0 (units 1/time), or a schedule ``friction(t)``.
    temperature : float or callable
        T > 0 (units of U), or a schedule ``temperature(t)``. A constant reads back as the number
        ``model.temperature``; ``model.temperature_at(t)`` works for both.
    noise, noise_scale, hessian_floor
        An optional non-isotropic Sigma(theta), as for :class:`fpsolve.SGD`.

    Notes
    -----
    For large friction, theta follows overdamped Langevin dynamics slowed down by the friction:
    times (e.g. mean exit times) are ``friction`` times those of :meth:`overdamped`.
    """

    def __init__(
        self,
        landscape: Landscape,
        friction,
        temperature,
        noise="isotropic",
        noise_scale: float = 1.0,
        hessian_floor: float = HESSIAN_FLOOR,
    ):
        _require_landscape(landscape)
        self.landscape = landscape
        self.dim = landscape.ndim
        self._friction = _schedule(friction, "friction")
        self._temperature_schedule = _schedule(temperature, "temperature")
        self.noise = noise
        self.noise_scale = _positive(noise_scale, "noise_scale")
        self.hessian_floor = _positive(hessian_floor, "hessian_floor")
        self.sigma = make_noise(noise, landscape, noise_scale=self.noise_scale, floor=self.hessian_floor)
        self.autonomous = not (callable(friction) or callable(temperature))
        self.constant_diffusion = noise == "isotropic"

    def __repr__(self) -> str:
        return (
            f"UnderdampedLangevin({self.landscape.name!r}, friction={_shown(self._friction)}, "
            f"temperature={_shown(self._temperature_schedule)})"
        )

    @property
    def temperature(self) -> float:
        """The constant temperature T (ValueError under a schedule: use :meth:`temperature_at`)."""
        return _constant(self._temperature_schedule, "temperature")

    def temperature_at(self, t: float = 0.0) -> float:
        """The temperature at continuous time t (constant or scheduled)."""
        return self._temperature_schedule(t)

    @property
    def has_schedule(self) -> bool:
        """Whether friction or temperature is a function of t (``autonomous`` is its negation)."""
        return not self.autonomous

    def friction_at(self, t=0.0):
        """gamma(t) at continuous time t, units 1/time (constant or scheduled)."""
        return self._friction(t)

    @property
    def friction(self) -> float:
        """The constant friction gamma, units 1/time (ValueError under a schedule: use
        :meth:`friction_at`)."""
        return _constant(self._friction, "friction")

    def force_factor(self, t=0.0):
        return 1.0

    def noise_amplitude(self, t=0.0):
        return float(np.sqrt(2.0 * self._friction(t) * self.temperature_at(t)))

    def parameters(self, t=0.0):
        return (float(self._friction(t)), float(self.temperature_at(t)))

    def overdamped(self) -> Langevin:
        """``Langevin(U, T)``: the high-friction limit, in the time t / friction."""
        if not self.autonomous or self.noise != "isotropic":
            raise ValueError("overdamped: defined for constant friction and temperature with isotropic noise")
        return Langevin(self.landscape, self.temperature)

    def describe(self):
        return {
            "model": "UnderdampedLangevin",
            "landscape": self.landscape.name,
            "friction": _described(self._friction),
            "temperature": _described(self._temperature_schedule),
            "noise": _noise_name(self.noise),
            "noise_scale": self.noise_scale,
        }


def phase_space_grid(theta, v, cells, periodic_theta=False) -> Grid:
    """A phase-space grid with axes named ``theta`` and ``v`` (``theta1, theta2, v1, v2`` in 4-D).

    Parameters
    ----------
    theta : (lo, hi) or sequence of (lo, hi)
        The box in parameter space (one pair per parameter).
    v : (lo, hi) or sequence of (lo, hi)
        The velocity box, one pair per parameter; symmetric boxes (lo = -hi) keep the specular
        reflection v -> -v on the grid.
    cells : int or sequence of int
        Cells per axis, theta axes first.
    periodic_theta : bool or sequence of bool
        Whether each theta axis wraps around (velocity axes never do).
    """
    theta = [tuple(theta)] if _is_pair(theta) else [tuple(b) for b in theta]
    v = [tuple(v)] if _is_pair(v) else [tuple(b) for b in v]
    if len(theta) != len(v):
        raise ValueError(f"v: expected one velocity box per parameter ({len(theta)}), got {len(v)}")
    d = len(theta)
    names = (
        ("theta", "v") if d == 1 else tuple(f"theta{k + 1}" for k in range(d)) + tuple(f"v{k + 1}" for k in range(d))
    )
    periodic = [bool(periodic_theta)] * d if isinstance(periodic_theta, (bool, np.bool_)) else list(periodic_theta)
    if len(periodic) != d:
        raise ValueError(f"periodic_theta: expected {d} flags, got {len(periodic)}")
    return Grid(theta + v, cells, periodic=periodic + [False] * d, axis_names=names)


def _is_pair(value) -> bool:
    return np.ndim(value) == 1 and len(value) == 2 and all(_is_number(b) for b in value)


def _momentum(value) -> float:
    if not _is_number(value):
        raise TypeError(f"momentum: expected a number in [0, 1), got {value!r}")
    value = float(value)
    if not (0.0 <= value < 1.0):
        raise ValueError(f"momentum: expected a number in [0, 1) (heavy-ball beta), got {value!r}")
    return value


def _non_negative(value, name: str) -> float:
    if not _is_number(value):
        raise TypeError(f"{name}: expected a number >= 0, got {value!r}")
    value = float(value)
    if not (np.isfinite(value) and value >= 0.0):
        raise ValueError(f"{name}: expected a finite number >= 0, got {value!r}")
    return value


def _shown(schedule) -> str:
    source = getattr(schedule, "source", None)
    return "schedule" if callable(source) else f"{schedule(0.0):g}"


def _described(schedule):
    return "schedule" if callable(getattr(schedule, "source", None)) else schedule(0.0)


def _noise_name(noise) -> str:
    return noise if isinstance(noise, str) else "callable"
