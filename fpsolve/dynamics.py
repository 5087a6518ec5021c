"""SDE models of training dynamics: drift b(x, t) and diffusion tensor D(x, t) (Ito).

Every overdamped model here is an Ito diffusion

    dX = b(X, t) dt + sqrt(2 D(X, t)) dW,     d_t p = -div(b p) + d_i d_j (D_ij p),

with generator L f = b . grad f + D : grad grad f. Conventions (DESIGN.md section 1):

* ``Langevin(U, temperature=T)``: b = -grad U, D = T I; stationary law proportional to exp(-U/T).
* ``SGD(U, lr, batch_size, noise)``: b = -grad U, D = lr * Sigma(x) / (2 * batch_size); time t is
  lr times the number of iterations. ``modified_loss=True`` uses b = -grad(U + lr/4 |grad U|^2).
* ``Diffusion(drift, diffusion)``: any Ito diffusion (e.g. an Ornstein-Uhlenbeck process).

``lr`` and ``batch_size`` may be functions of t (schedules); the models then report
``autonomous = False`` (``has_schedule = True``) and every consumer asks for coefficients at the
current time through ``model.lr_at(t)`` and ``model.batch_size_at(t)``. A constant ``model.lr`` or
``model.batch_size`` reads as a number; under a schedule reading it raises a ValueError naming
``lr_at`` (:class:`fpsolve.hyperparameters.SGDHyperparameters`).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .landscape import Landscape
from .hyperparameters import SGDHyperparameters, _positive
from .noise import HESSIAN_FLOOR, identity_field, make_noise

__all__ = ["Model", "Langevin", "SGD", "Diffusion"]


class Model:
    """Base class: an Ito diffusion on R^d, optionally with jumps, given by what schemes need.

    A model declares

    * :meth:`drift` b(x, t), shape ``(d,) + shape``;
    * its Gaussian noise as an amplitude and a covariance, 2 D(x, t) = c(t)^2 Sigma(x)
      (:meth:`noise_amplitude`, :meth:`noise_covariance`); :meth:`diffusion` is D. Monte Carlo
      simulators draw sqrt(dt) c(t) Sigma(x)^(1/2) xi from the same two, so no consumer keeps a
      private copy of a model's noise law;
    * :attr:`noise_axes`, the coordinates the Gaussian noise acts on (all by default; a kinetic
      model's noise acts on the velocities only, and D is zero along the other coordinates);
    * :attr:`jumps`, a :class:`fpsolve.noise.JumpLaw` (alpha-stable jumps) or None;
    * optionally :meth:`potential`, V with b = -grad V exactly.

    Whether a scheme can handle the model (positive-definite D on the axes it diffuses along, no
    jumps for finite volumes, ...) is checked by the scheme, not here.
    """

    ndim: int
    landscape: Landscape | None = None
    autonomous: bool = True
    constant_diffusion: bool = False
    jumps = None

    @property
    def noise_axes(self) -> tuple:
        """Indices of the coordinates the Gaussian noise acts on (D vanishes along the others)."""
        return tuple(range(self.ndim))

    def drift(self, *x, t: float = 0.0) -> np.ndarray:
        """Ito drift b(x, t), shape ``(d,) + shape``."""
        raise TypeError(f"{type(self).__name__} does not define a drift")

    def noise_amplitude(self, t: float = 0.0) -> float:
        """c(t) in 2 D(x, t) = c(t)^2 Sigma(x): sqrt(2 T) for Langevin, sqrt(lr / B) for SGD."""
        raise TypeError(f"{type(self).__name__} does not define its noise")

    def noise_covariance(self, *x) -> np.ndarray:
        """Sigma(x) in 2 D(x, t) = c(t)^2 Sigma(x), shape ``(d, d) + shape``."""
        raise TypeError(f"{type(self).__name__} does not define its noise")

    def diffusion(self, *x, t: float = 0.0) -> np.ndarray:
        """Diffusion tensor D(x, t) = c(t)^2 Sigma(x) / 2 (generator b.grad + D:grad grad), shape
        ``(d, d) + shape``."""
        return (0.5 * self.noise_amplitude(t) ** 2) * self.noise_covariance(*x)

    def potential(self, t: float = 0.0) -> Callable | None:
        """V with b = -grad V exactly, or None when the drift is not a gradient."""
        return None

    def parameters(self, t: float = 0.0) -> tuple:
        """Hashable values of the time-dependent parameters at time t (a cache key)."""
        return ()

    def describe(self) -> dict:
        """A JSON-friendly description of the model."""
        return {"model": type(self).__name__}


class Langevin(Model):
    """Overdamped Langevin dynamics dX = -grad U dt + sqrt(2 T) dW.

    Parameters
    ----------
    landscape : Landscape
        The potential U.
    temperature : float
        T > 0 (units of U); stationary law proportional to exp(-U/T).
    """

    constant_diffusion = True

    def __init__(self, landscape: Landscape, temperature: float):
        _require_landscape(landscape)
        self.landscape = landscape
        self.ndim = landscape.ndim
        self.temperature = _positive(temperature, "temperature")

    def __repr__(self) -> str:
        return f"Langevin({self.landscape.name!r}, temperature={self.temperature:g})"

    def drift(self, *x, t=0.0):
        return -self.landscape.grad(*x)

    def noise_amplitude(self, t=0.0):
        return float(np.sqrt(2.0 * self.temperature))

    def noise_covariance(self, *x):
        return identity_field(self.ndim, np.broadcast(*x).shape)

    def diffusion(self, *x, t=0.0):
        return self.temperature * identity_field(self.ndim, np.broadcast(*x).shape)

    def potential(self, t=0.0):
        return self.landscape

    def describe(self):
        return {"model": "Langevin", "landscape": self.landscape.name, "temperature": self.temperature}


class SGD(SGDHyperparameters, Model):
    """Continuous-time SGD: dX = -grad U dt + sqrt(lr / batch_size) Sigma(X)^(1/2) dW.

    The diffusion tensor is D = lr * Sigma / (2 * batch_size) and time t = lr * iterations.
    A constant ``model.lr`` or ``model.batch_size`` reads as a number (``t / model.lr`` counts
    iterations); ``model.lr_at(t)`` and ``model.batch_size_at(t)`` give the values at time t for
    constants and schedules alike, and under a schedule reading ``model.lr`` is a ValueError
    naming ``lr_at`` (``model.has_schedule`` tells which).

    Parameters
    ----------
    landscape : Landscape
        The mean loss U.
    lr : float or callable
        Learning rate eta > 0, or a schedule ``lr(t)`` in continuous time t.
    batch_size : float or callable
        Batch size B > 0, or a schedule ``batch_size(t)``.
    noise : {"isotropic", "hessian", "empirical"} or callable
        The gradient-noise covariance Sigma(x) (see :mod:`fpsolve.noise`).
    noise_scale : float
        Factor s multiplying Sigma (sigma^2 for isotropic noise).
    modified_loss : bool
        Use the drift -grad(U + lr/4 |grad U|^2), the first-order finite-lr correction.
    hessian_floor : float
        Eigenvalue floor of |H| for Hessian noise.
    """

    def __init__(
        self,
        landscape: Landscape,
        lr,
        batch_size,
        noise="isotropic",
        noise_scale: float = 1.0,
        modified_loss: bool = False,
        hessian_floor: float = HESSIAN_FLOOR,
    ):
        _require_landscape(landscape)
        self.landscape = landscape
        self.ndim = landscape.ndim
        self._set_hyperparameters(landscape, lr, batch_size, noise)
        self.noise = noise
        self.noise_scale = _positive(noise_scale, "noise_scale")
        hessian_floor = _positive(hessian_floor, "hessian_floor")
        if not isinstance(modified_loss, (bool, np.bool_)):
            raise TypeError(f"modified_loss: expected True or False, got {modified_loss!r}")
        self.sigma = make_noise(noise, landscape, noise_scale=self.noise_scale, floor=hessian_floor)
        self.modified_loss = bool(modified_loss)
        self.constant_diffusion = noise == "isotropic"

    def __repr__(self) -> str:
        lr, bs = (_shown(self._described(name)) for name in ("lr", "batch_size"))
        return f"SGD({self.landscape.name!r}, lr={lr}, batch_size={bs}, noise={self.noise!r})"

    def drift(self, *x, t=0.0):
        g = self.landscape.grad(*x)
        if not self.modified_loss:
            return -g
        h = self.landscape.hessian(*x)
        return -g - 0.5 * self.lr_at(t) * np.einsum("ij...,j...->i...", h, g)

    def noise_amplitude(self, t=0.0):
        return float(np.sqrt(self.lr_at(t) / self.batch_size_at(t)))

    def noise_covariance(self, *x):
        return self.sigma(*x)

    def diffusion(self, *x, t=0.0):
        return (self.lr_at(t) / (2.0 * self.batch_size_at(t))) * self.sigma(*x)

    def potential(self, t=0.0):
        if not self.modified_loss:
            return self.landscape
        eta = self.lr_at(t)
        U = self.landscape
        return lambda *x: U(*x) + 0.25 * eta * np.sum(U.grad(*x) ** 2, axis=0)

    def describe(self):
        return {
            "model": "SGD",
            "landscape": self.landscape.name,
            "lr": self._described("lr"),
            "batch_size": self._described("batch_size"),
            "noise": self.noise if isinstance(self.noise, str) else "callable",
            "noise_scale": self.noise_scale,
            "modified_loss": self.modified_loss,
        }


class Diffusion(Model):
    """A general Ito diffusion dX = b(X) dt + sqrt(2 D(X)) dW.

    Parameters
    ----------
    drift : callable
        ``drift(*x)`` -> ``(d,) + shape`` array.
    diffusion : callable or array
        ``diffusion(*x)`` -> ``(d, d) + shape``, or a constant ``(d, d)`` symmetric positive
        semi-definite matrix.
    ndim : int
        Dimension d.
    potential : callable, optional
        V with drift = -grad V, when known (lets the finite-volume scheme be exact at equilibrium).
    noise_axes : sequence of int, optional
        The coordinates the noise acts on (default all). D must vanish along the others
        (degenerate diffusion, e.g. noise on velocities only); schemes that need D positive
        definite check it on these axes.
    """

    def __init__(self, drift: Callable, diffusion, ndim: int, potential: Callable | None = None, noise_axes=None):
        self.ndim = int(ndim)
        self._drift = drift
        self._potential = potential
        self._noise_axes = _axes(noise_axes, self.ndim)
        if callable(diffusion):
            self._diffusion = diffusion
        else:
            matrix = np.asarray(diffusion, dtype=float)
            if matrix.shape != (self.ndim, self.ndim):
                raise ValueError(f"diffusion: expected a ({ndim}, {ndim}) matrix, got {matrix.shape}")
            if not np.allclose(matrix, matrix.T):
                raise ValueError("diffusion: the constant diffusion matrix must be symmetric")
            eigenvalues = np.linalg.eigvalsh(matrix)
            if eigenvalues.min() < -1e-12 * max(abs(eigenvalues).max(), 1e-300):
                raise ValueError(
                    f"diffusion: not positive semi-definite (no sqrt(2D) exists); eigenvalues {eigenvalues}"
                )
            quiet = [k for k in range(self.ndim) if k not in self._noise_axes]
            if quiet and np.abs(matrix[quiet]).max() > 0:
                raise ValueError(f"diffusion: nonzero on axes {quiet}, which noise_axes={self._noise_axes} excludes")
            self.constant_diffusion = True
            self._diffusion = lambda *x: np.broadcast_to(
                matrix.reshape(matrix.shape + (1,) * np.broadcast(*x).ndim),
                matrix.shape + np.broadcast(*x).shape,
            ).copy()

    def __repr__(self) -> str:
        return f"Diffusion(ndim={self.ndim})"

    @property
    def noise_axes(self) -> tuple:
        return self._noise_axes

    def drift(self, *x, t=0.0):
        shape = np.broadcast(*x).shape
        b = self._drift(*x)
        if self.ndim == 1 and (np.ndim(b) == 0 or (isinstance(b, np.ndarray) and b.shape == shape)):
            b = (b,)  # a 1-D drift returned as one array (lambda x: -x) or a number, not a 1-tuple
        if len(b) != self.ndim:
            raise ValueError(f"drift: expected {self.ndim} components (one array per coordinate), got {len(b)}")
        return np.stack([np.broadcast_to(np.asarray(bk, float), shape) for bk in b])

    def noise_amplitude(self, t=0.0):
        return 1.0

    def noise_covariance(self, *x):
        return 2.0 * self.diffusion(*x)

    def diffusion(self, *x, t=0.0):
        shape = np.broadcast(*x).shape
        d = self.ndim
        value = self._diffusion(*x)
        try:
            value = np.asarray(value, dtype=float)
        except ValueError:  # a nested (d, d) sequence mixing numbers and arrays
            value = np.array([[np.broadcast_to(np.asarray(v, float), shape) for v in row] for row in value])
        if value.ndim == 0 or value.shape == shape:  # a scalar field: a multiple of the identity
            return value * identity_field(d, shape)
        if value.shape[:2] != (d, d):
            raise ValueError(
                f"diffusion: the callable must return a ({d}, {d}) + shape array or a scalar field; "
                f"got shape {value.shape}"
            )
        return np.broadcast_to(value.reshape(value.shape + (1,) * (2 + len(shape) - value.ndim)), (d, d) + shape).copy()

    def potential(self, t=0.0):
        return self._potential


def _axes(axes, ndim: int) -> tuple:
    """Validated axis indices (all axes for None)."""
    if axes is None:
        return tuple(range(ndim))
    out = tuple(int(a) for a in np.atleast_1d(axes))
    if not out or len(set(out)) != len(out) or not all(0 <= a < ndim for a in out):
        raise ValueError(f"noise_axes: expected distinct axis indices in [0, {ndim}), got {axes!r}")
    return tuple(sorted(out))


def _shown(value) -> str:
    return value if isinstance(value, str) else f"{value:g}"


def _require_landscape(landscape) -> None:
    if not isinstance(landscape, Landscape):
        raise TypeError(
            f"landscape: expected an fpsolve.Landscape, got {type(landscape).__name__}; "
            "wrap a function with fpsolve.Landscape(f)"
        )
