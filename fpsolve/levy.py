"""Levy-driven models of training dynamics: alpha-stable gradient noise (Zhou et al. 2020).

Every model here is the jump-diffusion

    dX = b(X, t) dt + eps(t) dL^alpha  (+ sqrt(2 D(t)) dW, an optional Gaussian part),

with symmetric alpha-stable jumps normalised by E exp(i k L_1) = exp(-|k|^alpha) per axis
(DESIGN.md section 1). Its Fokker-Planck operator is

    d_t p = -div(b p) - sum_j eps_j^alpha_j (-d_j^2)^(alpha_j / 2) p  (+ div(D grad p)),

the jump part described by :attr:`jumps` (a :class:`fpsolve.noise.JumpLaw`: ``alphas``,
``scales``, ``axes``, ``isotropic``).

* ``LevyLangevin(U, alpha, scale, temperature=0)``: b = -grad U, eps = ``scale``, D = T I.
* ``LevySGD(U, lr, batch_size, alpha, noise_scale=s)``: SGD whose per-sample gradient noise is
  s L_1 (per coordinate, tail index alpha_j). The mean of B of them has scale s B^(1/alpha - 1);
  one step moves lr times that, and over t = k lr the k steps add up to the scale
  ``eps = s (lr / B)^((alpha - 1) / alpha)`` per unit time^(1/alpha). At alpha = 2, s L_1 is
  N(0, 2 s^2): ``LevySGD(..., alpha=2, noise_scale=s)`` is exactly
  ``SGD(..., noise="isotropic", noise_scale=2 s^2)`` (D = lr s^2 / B).
* ``LevyAdam(U, lr, batch_size, alpha, preconditioner=q)``: Adam with a frozen diagonal
  preconditioner Q = diag(q): b = -Q^-1 grad U and jumps eps Q^-1 dL (axis j has scale eps_j / q_j).

A Gaussian part (``temperature`` for LevyLangevin, ``gaussian_scale`` = sigma^2 of an isotropic
Gaussian gradient noise for LevySGD/LevyAdam, as SGD's ``noise_scale``) is declared through the
usual ``noise_amplitude`` / ``noise_covariance`` / ``diffusion``. Without one, ``gaussian`` is
False, ``noise_axes`` is () and all three are zero: a scheme or simulator reads "no Brownian part".

Schedules: ``lr`` and ``batch_size`` may be functions of t; then ``autonomous`` is False, the values
are read with ``lr_at(t)`` and ``batch_size_at(t)`` (``model.lr`` is a number only when constant)
and the jump law at time t is :meth:`LevyModel.jump_law` (``jumps`` is the law at t = 0).
"""

from __future__ import annotations

import numpy as np

from .dynamics import Model, _require_landscape
from .hyperparameters import SGDHyperparameters
from .grid import _is_number
from .landscape import Landscape
from .noise import JumpLaw, _per_axis, identity_field

__all__ = ["LevyModel", "LevyLangevin", "LevySGD", "LevyAdam", "stable_sgd_scale"]


def stable_sgd_scale(noise_scale, lr: float, batch_size: float, alpha) -> np.ndarray:
    """eps = s (lr / B)^((alpha - 1) / alpha): the continuous-time scale of SGD's stable noise.

    ``noise_scale`` s is the stable scale of one sample's gradient noise (E exp(i k g) =
    exp(-|s k|^alpha)); s and alpha may be per-axis arrays. Units: eps has the units of x per
    unit time^(1/alpha), time t = lr * iterations.
    """
    alpha = np.asarray(alpha, dtype=float)
    return np.asarray(noise_scale, dtype=float) * (lr / batch_size) ** ((alpha - 1.0) / alpha)


class LevyModel(Model):
    """Base class: drift -P grad U with a constant diagonal P, alpha-stable jumps on every axis,
    and an optional isotropic Gaussian part 2 D(t) = c(t)^2 Sigma.

    Subclasses set ``landscape``, ``ndim``, ``_inverse_metric`` (the diagonal of P, a tuple),
    ``_gaussian_covariance`` (Sigma's diagonal, a tuple, zeros for none) and define
    :meth:`jump_law` and :meth:`noise_amplitude`.
    """

    constant_diffusion = True
    _inverse_metric: tuple
    _gaussian_covariance: tuple

    @property
    def jumps(self) -> JumpLaw:
        """The jump law at t = 0 (:meth:`jump_law` at other times when ``autonomous`` is False)."""
        return self.jump_law(0.0)

    def jump_law(self, t: float = 0.0) -> JumpLaw:
        """The :class:`JumpLaw` of the jumps at time t."""
        raise TypeError(f"{type(self).__name__} does not define its jumps")

    @property
    def gaussian(self) -> bool:
        """Whether the model has a Brownian part (else noise_amplitude, covariance, diffusion are 0)."""
        return any(v > 0 for v in self._gaussian_covariance)

    @property
    def noise_axes(self) -> tuple:
        """The axes of the Gaussian part: all of them, or () without one."""
        return tuple(range(self.ndim)) if self.gaussian else ()

    def drift(self, *x, t=0.0):
        g = self.landscape.grad(*x)
        scale = np.asarray(self._inverse_metric, dtype=float).reshape((self.ndim,) + (1,) * (g.ndim - 1))
        return -scale * g

    def noise_covariance(self, *x):
        shape = np.broadcast(*x).shape
        diagonal = np.asarray(self._gaussian_covariance, dtype=float).reshape((self.ndim,) + (1,) * len(shape))
        return identity_field(self.ndim, shape) * diagonal

    def potential(self, t=0.0):
        p = self._inverse_metric
        if len(set(p)) != 1:
            return None  # -P grad U with unequal p_j is a gradient of no function in general
        U = self.landscape
        return U if p[0] == 1.0 else (lambda *x, _U=U, _p=p[0]: _p * _U(*x))

    def gaussian_equivalent_diffusion(self, t: float = 0.0) -> np.ndarray:
        """The (d, d) constant diffusion matrix of the whole noise when every alpha is 2 (the
        Brownian part plus the jumps, which are then N(0, 2 eps^2 t)); ValueError otherwise."""
        x = (np.zeros(()),) * self.ndim
        return self.diffusion(*x, t=t) + self.jump_law(t).gaussian_diffusion(self.ndim)


class LevyLangevin(LevyModel):
    """dX = -grad U dt + scale dL^alpha (+ sqrt(2 T) dW when temperature > 0).

    Parameters
    ----------
    landscape : Landscape
        The potential U.
    alpha : float or sequence of float
        Tail index in (0, 2], or one per coordinate (axis-aligned jumps).
    scale : float or sequence of float
        eps > 0, or one per coordinate. The Fokker-Planck operator gains
        -sum_j eps_j^alpha_j (-d_j^2)^(alpha_j / 2) (axis-aligned) or -eps^alpha (-Laplacian)^(alpha/2)
        (``isotropic``).
    temperature : float
        T >= 0 of an added Brownian part (D = T I); 0 for pure jumps.
    isotropic : bool
        Rotation-invariant jumps (one alpha, one scale) instead of independent ones per axis.
    """

    def __init__(self, landscape: Landscape, alpha, scale, temperature: float = 0.0, isotropic: bool = False):
        _require_landscape(landscape)
        self.landscape = landscape
        self.ndim = landscape.ndim
        self._jumps = JumpLaw(alpha, scale, tuple(range(self.ndim)), isotropic=isotropic)
        self.temperature = _non_negative(temperature, "temperature")
        self._inverse_metric = (1.0,) * self.ndim
        self._gaussian_covariance = (1.0 if self.temperature > 0 else 0.0,) * self.ndim

    def __repr__(self) -> str:
        j = self._jumps
        extra = f", temperature={self.temperature:g}" if self.temperature > 0 else ""
        iso = ", isotropic=True" if j.isotropic else ""
        return f"LevyLangevin({self.landscape.name!r}, alpha={j.alpha}, scale={j.scale}{extra}{iso})"

    def jump_law(self, t=0.0):
        return self._jumps

    def noise_amplitude(self, t=0.0):
        return float(np.sqrt(2.0 * self.temperature))

    def describe(self):
        j = self._jumps
        return {
            "model": "LevyLangevin",
            "landscape": self.landscape.name,
            "alpha": _json(j.alpha),
            "scale": _json(j.scale),
            "temperature": self.temperature,
            "isotropic": j.isotropic,
        }


class LevySGD(SGDHyperparameters, LevyModel):
    """SGD with alpha-stable gradient noise: dX = -grad U dt + eps dL^alpha (+ Gaussian part).

    eps_j = s_j (lr / B)^((alpha_j - 1) / alpha_j), time t = lr * iterations (module docstring).
    ``LevySGD(U, lr, B, alpha=2, noise_scale=s)`` is ``SGD(U, lr, B, noise="isotropic",
    noise_scale=2 s^2)`` exactly.

    Parameters
    ----------
    landscape : Landscape
        The mean loss U.
    lr, batch_size : float or callable
        Learning rate eta > 0 and batch size B >= 1, or schedules of continuous time t. Constants
        read back as numbers (``model.lr``); ``model.lr_at(t)`` and ``model.batch_size_at(t)``
        work for both (as for :class:`fpsolve.SGD`).
    alpha : float or sequence of float
        Tail index of the gradient noise in (0, 2], or one per coordinate.
    noise_scale : float or sequence of float
        s > 0, the stable scale of one sample's gradient noise (per coordinate if a sequence).
    gaussian_scale : float
        sigma^2 >= 0 of an added isotropic Gaussian gradient noise: D = lr sigma^2 / (2 B) I, as
        SGD's ``noise_scale``. 0 (default): pure jumps.
    isotropic : bool
        Rotation-invariant jumps (one alpha, one scale).
    """

    def __init__(
        self,
        landscape: Landscape,
        lr,
        batch_size,
        alpha,
        noise_scale=1.0,
        gaussian_scale: float = 0.0,
        isotropic: bool = False,
    ):
        _require_landscape(landscape)
        self.landscape = landscape
        self.ndim = d = landscape.ndim
        self._set_hyperparameters(landscape, lr, batch_size, "isotropic")
        self.alphas = _checked_alphas(alpha, d)
        self.noise_scales = _positive_per_axis(noise_scale, d, "noise_scale")
        if not isinstance(isotropic, (bool, np.bool_)):
            raise TypeError(f"isotropic: expected True or False, got {isotropic!r}")
        if isotropic and (len(set(self.alphas)) > 1 or len(set(self.noise_scales)) > 1):
            raise ValueError(
                f"isotropic: a rotation-invariant law has one alpha and one noise_scale; got alpha="
                f"{alpha!r}, noise_scale={noise_scale!r} (pass isotropic=False for per-axis laws)"
            )
        self.isotropic = bool(isotropic)
        self.gaussian_scale = _non_negative(gaussian_scale, "gaussian_scale")
        self._inverse_metric = (1.0,) * d
        self._gaussian_covariance = (self.gaussian_scale,) * d

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.landscape.name!r}, lr={_show(self._lr_schedule)}, "
            f"batch_size={_show(self._batch_size_schedule)}, alpha={_one_or_all(self.alphas)}, "
            f"noise_scale={_one_or_all(self.noise_scales)})"
        )

    def noise_scale_at(self, t: float = 0.0) -> tuple:
        """eps_j(t) = s_j (lr(t) / B(t))^((alpha_j - 1) / alpha_j), one per axis."""
        eps = stable_sgd_scale(self.noise_scales, self.lr_at(t), self.batch_size_at(t), self.alphas)
        return tuple(float(e) for e in eps)

    def jump_law(self, t=0.0):
        scales = self.noise_scale_at(t)
        if self.isotropic:
            return JumpLaw(_one_or_all(self.alphas), _one_or_all(scales), tuple(range(self.ndim)), True)
        return JumpLaw(self.alphas, scales, tuple(range(self.ndim)))

    def noise_amplitude(self, t=0.0):
        return float(np.sqrt(self.lr_at(t) / self.batch_size_at(t))) if self.gaussian else 0.0

    def describe(self):
        return {
            "model": type(self).__name__,
            "landscape": self.landscape.name,
            "lr": self._described("lr"),
            "batch_size": self._described("batch_size"),
            "alpha": _json(_one_or_all(self.alphas)),
            "noise_scale": _json(_one_or_all(self.noise_scales)),
            "gaussian_scale": self.gaussian_scale,
            "isotropic": bool(self.isotropic),
        }


class LevyAdam(LevySGD):
    """Adam with a frozen diagonal preconditioner Q = diag(q) and alpha-stable gradient noise:

        dX = -Q^-1 grad U dt + eps Q^-1 dL^alpha   (+ Gaussian part with D = lr sigma^2 Q^-2 / (2 B)),

    axis j jumping with scale eps_j / q_j, eps_j as in :class:`LevySGD`. Zhou et al. (2020) argue
    that Q rescales the basin: in the coordinates y_j = q_j x_j the jumps have SGD's scale eps
    while the basin of U(Q^-1 y) is q_j times wider along axis j. To leading order in small eps the
    escape rate is the jump intensity eps^alpha times the Levy measure of the jumps that leave the
    basin, which scales as width^-alpha and not with depth, so q_j > 1 (the usual Adam
    preconditioner at a sharp minimum, sqrt(v) of the squared gradients) slows escapes by about
    q^alpha. In one dimension exactly, by the time change s = t / q,
    tau_Adam(x; eps, q) = q tau_SGD(x; eps q^((1 - alpha) / alpha)).

    Parameters
    ----------
    preconditioner : sequence of float or callable
        q, d positive numbers, or ``preconditioner(landscape) -> q``, evaluated once, here (e.g.
        ``lambda U: np.sqrt(np.abs(np.diag(U.hessian(*minimum))))``). Kept as ``self.preconditioner``.
    Other parameters as :class:`LevySGD` (no ``isotropic``: the scales eps / q_j differ per axis).
    """

    def __init__(
        self, landscape: Landscape, lr, batch_size, alpha, preconditioner, noise_scale=1.0, gaussian_scale: float = 0.0
    ):
        super().__init__(landscape, lr, batch_size, alpha, noise_scale=noise_scale, gaussian_scale=gaussian_scale)
        q = preconditioner(landscape) if callable(preconditioner) else preconditioner
        self.preconditioner = _positive_per_axis(q, self.ndim, "preconditioner", require_sequence=True)
        self._inverse_metric = tuple(1.0 / qj for qj in self.preconditioner)
        self._gaussian_covariance = tuple(self.gaussian_scale / qj**2 for qj in self.preconditioner)

    def __repr__(self) -> str:
        return super().__repr__()[:-1] + f", preconditioner={list(self.preconditioner)})"

    def jump_law(self, t=0.0):
        scales = tuple(e / qj for e, qj in zip(self.noise_scale_at(t), self.preconditioner))
        return JumpLaw(self.alphas, scales, tuple(range(self.ndim)))

    def describe(self):
        out = super().describe()
        del out["isotropic"]
        out["preconditioner"] = list(self.preconditioner)
        return out


# ------------------------------------------------------------------------------------------------
def _checked_alphas(alpha, d: int) -> tuple:
    alphas = _per_axis(alpha, d, "alpha")
    for a in alphas:
        if not (np.isfinite(a) and 0 < a <= 2):
            raise ValueError(f"alpha: expected a tail index in (0, 2], got {alpha!r}")
    return alphas


def _positive_per_axis(value, d: int, name: str, require_sequence: bool = False) -> tuple:
    """``value`` as d positive floats (one number is repeated unless ``require_sequence``)."""
    if require_sequence and np.ndim(value) == 0:
        raise ValueError(f"{name}: expected {d} positive numbers (one per coordinate), got {value!r}")
    values = _per_axis(value, d, name)
    if not all(np.isfinite(v) and v > 0 for v in values):
        raise ValueError(f"{name}: expected positive numbers, got {value!r}")
    return values


def _non_negative(value, name: str) -> float:
    if not _is_number(value):
        raise TypeError(f"{name}: expected a non-negative number, got {value!r}")
    if not (np.isfinite(float(value)) and float(value) >= 0):
        raise ValueError(f"{name}: expected a non-negative number, got {value!r}")
    return float(value)


def _one_or_all(values: tuple):
    return values[0] if len(set(values)) == 1 else values


def _json(value):
    return list(value) if isinstance(value, tuple) else value


def _show(schedule) -> str:
    return "schedule" if callable(getattr(schedule, "source", None)) else f"{schedule(0.0):g}"
