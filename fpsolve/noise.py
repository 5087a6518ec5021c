"""Gradient-noise covariances Sigma(x) for SGD models: isotropic, Hessian, empirical, or a callable.

Each noise model is a function ``sigma(*x) -> array of shape (d, d) + shape`` where ``shape`` is the
broadcast shape of the coordinates. The SGD diffusion tensor is ``D = lr * Sigma / (2 * batch_size)``
(DESIGN.md section 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = ["make_noise", "NOISE_MODELS", "HESSIAN_FLOOR", "JumpLaw", "identity_field"]

NOISE_MODELS = ("isotropic", "hessian", "empirical")

#: Default floor for the eigenvalues of |H| in Hessian noise, in the units of the Hessian: it keeps
#: the diffusion positive definite across saddles and inflection points, where an eigenvalue of H
#: passes through zero.
HESSIAN_FLOOR = 1e-2


def make_noise(noise, landscape, *, noise_scale: float = 1.0, floor: float = HESSIAN_FLOOR) -> Callable:
    """Return ``sigma(*x)`` for a noise model name or callable.

    Parameters
    ----------
    noise : {"isotropic", "hessian", "empirical"} or callable
        ``"isotropic"``: ``noise_scale * I``. ``"hessian"``: ``noise_scale * |H(x)|``, the Hessian
        with its eigenvalues replaced by their absolute values floored at ``floor``.
        ``"empirical"``: the per-sample gradient covariance of a FiniteSumLoss,
        ``(1/N) sum_i grad l_i grad l_i^T - grad U grad U^T``, times ``noise_scale``.
        A callable ``noise(*x)`` returns a ``(d, d) + shape`` array (or a scalar field, meaning a
        multiple of the identity); it is multiplied by ``noise_scale``.
    landscape : Landscape
        The loss U.
    noise_scale : float
        Overall factor s > 0 (sigma^2 for isotropic noise).
    floor : float
        Eigenvalue floor for Hessian noise (> 0).
    """
    if not np.isfinite(noise_scale) or noise_scale <= 0:
        raise ValueError(f"noise_scale: expected a positive number, got {noise_scale!r}")
    d = landscape.ndim
    if callable(noise):
        return _callable_noise(noise, d, noise_scale)
    if noise == "isotropic":
        return lambda *x: noise_scale * identity_field(d, np.broadcast(*x).shape)
    if noise == "hessian":
        if not floor > 0:
            raise ValueError(f"floor: the Hessian-noise eigenvalue floor must be positive, got {floor!r}")
        return lambda *x: noise_scale * absolute_matrix(landscape.hessian(*x), floor)
    if noise == "empirical":
        covariance = getattr(landscape, "gradient_covariance", None)
        if covariance is None:
            raise ValueError(
                f"noise: 'empirical' needs a FiniteSumLoss landscape (per-sample gradients); got {landscape!r}"
            )
        return lambda *x: noise_scale * np.asarray(covariance(*x))
    raise ValueError(f"noise: unknown noise model {noise!r}; expected one of {NOISE_MODELS} or a callable")


def absolute_matrix(h: np.ndarray, floor: float) -> np.ndarray:
    """|H| with eigenvalues floored: for a field of symmetric matrices of shape ``(d, d) + shape``."""
    d = h.shape[0]
    if d == 1:
        return np.maximum(np.abs(h), floor)
    moved = np.moveaxis(h, (0, 1), (-2, -1))
    values, vectors = np.linalg.eigh(moved)
    values = np.maximum(np.abs(values), floor)
    out = np.einsum("...ik,...k,...jk->...ij", vectors, values, vectors)
    return np.moveaxis(out, (-2, -1), (0, 1))


def identity_field(d: int, shape: tuple) -> np.ndarray:
    """The identity tensor field, shape ``(d, d) + shape``."""
    eye = np.eye(d).reshape((d, d) + (1,) * len(shape))
    return np.broadcast_to(eye, (d, d) + shape).copy()


def _callable_noise(noise: Callable, d: int, scale: float) -> Callable:
    def sigma(*x):
        shape = np.broadcast(*x).shape
        value = np.asarray(noise(*x), dtype=float)
        if value.ndim == 0 or value.shape == shape:
            return scale * value * identity_field(d, shape)
        if value.shape[:2] != (d, d):
            raise ValueError(
                f"noise: the callable must return a ({d}, {d}) + shape array or a scalar field; got shape {value.shape}"
            )
        return scale * np.broadcast_to(value, (d, d) + shape).copy()

    return sigma


@dataclass(frozen=True)
class JumpLaw:
    """Symmetric alpha-stable jumps of a model: the noise eps dL^alpha (DESIGN.md section 1).

    Two forms, both normalised so that one unit of time of a unit-scale process has the
    characteristic function E exp(i k L_1) = exp(-|k|^alpha):

    * **axis-aligned** (default, as in Zhou et al. 2020): independent one-dimensional laws along
      each of ``axes``, axis j with its own tail index ``alphas[j]`` and scale ``scales[j]``. The
      Fokker-Planck operator gains ``-sum_j scales[j]**alphas[j] (-d_j^2)^(alphas[j]/2)``;
    * **isotropic**: one rotation-invariant law on ``axes`` (one alpha, one scale), adding
      ``-scale**alpha (-Laplacian)^(alpha/2)`` over those axes.

    The symbol of the added operator is :meth:`symbol`: the jump part of X_t - X_0 has
    E exp(i k . (X_t - X_0)) = exp(-t symbol(k)). alpha = 2 is Gaussian: a diffusion D = scale^2
    along each axis (:meth:`gaussian_diffusion`).

    Parameters
    ----------
    alpha : float or sequence of float
        Tail index in (0, 2], or one per entry of ``axes``.
    scale : float or sequence of float
        eps > 0 (units of x per unit time^(1/alpha)), or one per entry of ``axes``.
    axes : sequence of int
        Coordinates the jumps act on.
    isotropic : bool
        One rotation-invariant law on ``axes`` instead of independent per-axis laws (needs one
        alpha and one scale).

    Attributes
    ----------
    alphas, scales : tuple of float
        One tail index and one scale per entry of ``axes`` (always present; read these).
    alpha, scale : float or tuple
        As given: a float when every axis shares it, else the same tuple as ``alphas``/``scales``.
    """

    alpha: object
    scale: object
    axes: tuple
    isotropic: bool = False

    def __post_init__(self):
        axes = tuple(int(a) for a in np.atleast_1d(self.axes)) if np.ndim(self.axes) <= 1 else None
        if not axes or len(set(axes)) != len(axes) or min(axes) < 0:
            raise ValueError(f"axes: expected distinct non-negative axis indices, got {self.axes!r}")
        alphas = _per_axis(self.alpha, len(axes), "alpha")
        scales = _per_axis(self.scale, len(axes), "scale")
        for a in alphas:
            if not (np.isfinite(a) and 0 < a <= 2):
                raise ValueError(f"alpha: expected a tail index in (0, 2], got {self.alpha!r}")
        for s in scales:
            if not (np.isfinite(s) and s > 0):
                raise ValueError(f"scale: expected a positive noise scale, got {self.scale!r}")
        if not isinstance(self.isotropic, (bool, np.bool_)):
            raise TypeError(f"isotropic: expected True or False, got {self.isotropic!r}")
        if self.isotropic and (len(set(alphas)) > 1 or len(set(scales)) > 1):
            raise ValueError(
                f"isotropic: a rotation-invariant law has one alpha and one scale; got alpha="
                f"{self.alpha!r}, scale={self.scale!r} (pass isotropic=False for per-axis laws)"
            )
        object.__setattr__(self, "axes", axes)
        object.__setattr__(self, "isotropic", bool(self.isotropic))
        object.__setattr__(self, "alphas", alphas)
        object.__setattr__(self, "scales", scales)
        object.__setattr__(self, "alpha", alphas[0] if len(set(alphas)) == 1 else alphas)
        object.__setattr__(self, "scale", scales[0] if len(set(scales)) == 1 else scales)

    @property
    def gaussian(self) -> bool:
        """True when every tail index is 2: the jumps are a Brownian motion (D = scale^2)."""
        return all(a == 2.0 for a in self.alphas)

    def symbol(self, *k) -> np.ndarray:
        """psi(k) with E exp(i k . (X_t - X_0)) = exp(-t psi(k)) for the jump part alone.

        ``k`` holds one wavenumber array per coordinate of the model (broadcasting; axes outside
        ``axes`` are ignored, and at least ``max(axes) + 1`` arrays are needed). Axis-aligned:
        psi = sum_j scales[j]^alphas[j] |k_j|^alphas[j]; isotropic: scale^alpha |k|^alpha over
        ``axes``. The Fokker-Planck operator's Fourier multiplier is -psi.
        """
        if len(k) <= max(self.axes):
            raise ValueError(f"k: expected at least {max(self.axes) + 1} wavenumber arrays, got {len(k)}")
        k = [np.asarray(kj, dtype=float) for kj in k]
        if self.isotropic:
            norm = np.sqrt(sum(k[a] ** 2 for a in self.axes))
            return (self.scales[0] * norm) ** self.alphas[0]
        return sum(np.abs(s * k[a]) ** al for a, al, s in zip(self.axes, self.alphas, self.scales))

    def gaussian_diffusion(self, ndim: int) -> np.ndarray:
        """The (ndim, ndim) diffusion matrix these jumps are when every alpha is 2: scale^2 on
        ``axes`` (E exp(i k L_1) = exp(-k^2) is N(0, 2) per unit time). ValueError otherwise."""
        if not self.gaussian:
            raise ValueError(f"alpha: the jumps are Gaussian only when alpha = 2, got alphas {self.alphas}")
        D = np.zeros((ndim, ndim))
        for a, s in zip(self.axes, self.scales):
            D[a, a] = s * s
        return D


def _per_axis(value, n_axes: int, name: str) -> tuple:
    """``value`` (a number or a sequence of ``n_axes`` numbers) as a tuple of ``n_axes`` floats."""
    try:
        values = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected a number or one number per axis, got {value!r}") from None
    if isinstance(value, (bool, np.bool_)) or values.ndim > 1:
        raise TypeError(f"{name}: expected a number or one number per axis, got {value!r}")
    if values.ndim == 0:
        return (float(values),) * n_axes
    if values.shape != (n_axes,):
        raise ValueError(f"{name}: expected one value per axis ({n_axes}), got {len(values)}: {value!r}")
    return tuple(float(v) for v in values)
