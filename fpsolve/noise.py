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
                "noise: 'empirical' needs a FiniteSumLoss landscape (per-sample gradients); "
                f"got {landscape!r}"
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
                f"noise: the callable must return a ({d}, {d}) + shape array or a scalar field; "
                f"got shape {value.shape}"
            )
        return scale * np.broadcast_to(value, (d, d) + shape).copy()

    return sigma


@dataclass(frozen=True)
class JumpLaw:
    """Symmetric alpha-stable jumps of a model: the noise eps dL^alpha (DESIGN.md section 1).

    E exp(i k . L_1) = exp(-|k|^alpha) for ``isotropic`` jumps, or a product of one-dimensional
    laws exp(-|k_j|^alpha) along each of ``axes`` (axis-aligned noise, as in Zhou et al. 2020).
    The Fokker-Planck operator gains -scale^alpha (-Delta)^(alpha/2) (isotropic) or the sum of
    the one-dimensional fractional operators along ``axes``.

    Attributes
    ----------
    alpha : float
        Tail index, 0 < alpha <= 2 (alpha = 2 is Gaussian, with D = scale^2).
    scale : float
        eps > 0.
    axes : tuple of int
        Coordinates the jumps act on.
    isotropic : bool
        One rotation-invariant law on ``axes`` instead of independent per-axis laws.
    """

    alpha: float
    scale: float
    axes: tuple
    isotropic: bool = False

    def __post_init__(self):
        alpha, scale = float(self.alpha), float(self.scale)
        if not (np.isfinite(alpha) and 0 < alpha <= 2):
            raise ValueError(f"alpha: expected a tail index in (0, 2], got {self.alpha!r}")
        if not (np.isfinite(scale) and scale > 0):
            raise ValueError(f"scale: expected a positive noise scale, got {self.scale!r}")
        axes = tuple(int(a) for a in self.axes)
        if not axes or len(set(axes)) != len(axes) or min(axes) < 0:
            raise ValueError(f"axes: expected distinct non-negative axis indices, got {self.axes!r}")
        object.__setattr__(self, "alpha", alpha)
        object.__setattr__(self, "scale", scale)
        object.__setattr__(self, "axes", axes)
