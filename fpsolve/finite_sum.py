"""Finite-sum losses U(theta) = (1/N) sum_i l(theta; x_i, y_i) from a small dataset and model.

A :class:`FiniteSumLoss` is a :class:`~fpsolve.landscape.Landscape` over the d model parameters
(d = 1-3) that also knows its per-sample gradients, hence the gradient-noise covariance

    Sigma(theta) = (1/N) sum_i grad l_i grad l_i^T - grad U grad U^T,

which :mod:`fpsolve.noise` uses for ``noise="empirical"``, and minibatch gradients for discrete SGD
simulators. Everything is vectorised over a grid of theta (one coordinate array per parameter,
broadcasting); sums over samples are accumulated in chunks, so a 256^2 grid with N = 200 samples
never holds all N x d x 65536 per-sample gradients at once.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit

from .landscape import Landscape

__all__ = ["FiniteSumLoss", "make_dataset", "DATASET_KINDS"]

DATASET_KINDS = ("linear_regression", "logistic_regression", "nonlinear")

#: Samples per chunk are chosen so that one per-sample array holds about this many floats (8 MB).
_CHUNK_ELEMENTS = 2**20


class FiniteSumLoss(Landscape):
    """Mean loss U(theta) = (1/N) sum_i l(theta; x_i, y_i) of a model with d = 1-3 parameters.

    Parameters
    ----------
    per_sample_loss : callable
        ``per_sample_loss(theta, x, y)`` -> array of shape ``(m,) + shape``. ``theta`` is a tuple of
        d arrays of the broadcast grid shape ``shape``; ``x`` is a tuple of p feature arrays and ``y``
        an array, each of shape ``(m,) + (1,) * len(shape)`` (samples on the first axis, so plain
        broadcasting gives one loss per sample and grid point).
    per_sample_grad : callable
        Same arguments; returns a sequence of d arrays (the partials dl/dtheta_j), each
        broadcastable to ``(m,) + shape``.
    data : (X, y)
        Features ``X`` of shape ``(N, p)`` (or ``(N,)`` for one feature) and targets ``y`` of shape
        ``(N,)``.
    ndim : int
        Number of parameters d.
    per_sample_hessian : callable, optional
        Same arguments; returns a d x d nested sequence of arrays. Default: fourth-order finite
        differences of the analytic mean gradient (:class:`Landscape`).
    name : str
        Name for messages and plots.
    minima, saddles : sequence of points, optional
        Known critical points.

    Examples
    --------
    >>> X, y = make_dataset("linear_regression", n=50, seed=1)
    >>> U = FiniteSumLoss.linear_regression(X, y)
    >>> Sigma = U.gradient_covariance(0.0, 0.0)        # shape (2, 2)
    """

    _derivative_arguments = ("per_sample_grad", "per_sample_hessian", "per_sample_loss")

    def __init__(
        self,
        per_sample_loss: Callable,
        per_sample_grad: Callable,
        data,
        ndim: int,
        *,
        per_sample_hessian: Callable | None = None,
        name: str = "finite_sum",
        minima=None,
        saddles=None,
    ):
        if not callable(per_sample_loss):
            raise TypeError("per_sample_loss: expected a callable l(theta, x, y)")
        if not callable(per_sample_grad):
            raise TypeError("per_sample_grad: expected a callable returning d partial derivatives")
        X, y = _as_data(data)
        self._X, self._y = X, y
        self._loss, self._grad, self._hess = per_sample_loss, per_sample_grad, per_sample_hessian
        super().__init__(
            self._mean_loss,
            self._mean_grad,
            self._mean_hessian if per_sample_hessian is not None else None,
            ndim=int(ndim),
            name=name,
            minima=minima,
            saddles=saddles,
        )

    def __repr__(self) -> str:
        return f"FiniteSumLoss({self.name!r}, ndim={self.ndim}, n_samples={self.n_samples})"

    # --- data -----------------------------------------------------------------------------------
    @property
    def data(self) -> tuple:
        """The dataset ``(X, y)``: features of shape ``(N, p)``, targets of shape ``(N,)`` (copies)."""
        return self._X.copy(), self._y.copy()

    @property
    def n_samples(self) -> int:
        """Number of samples N."""
        return int(self._y.size)

    # --- per-sample machinery -------------------------------------------------------------------
    def _samples(self, index, ndim_grid: int) -> tuple:
        """Features and targets of the samples ``index``, shaped ``(m,) + (1,) * ndim_grid``."""
        trailing = (1,) * ndim_grid
        X = self._X[index]
        x = tuple(X[:, j].reshape((X.shape[0],) + trailing) for j in range(X.shape[1]))
        return x, self._y[index].reshape((X.shape[0],) + trailing)

    def _chunks(self, shape: tuple):
        """Slices of the sample axis such that one per-sample array has ~_CHUNK_ELEMENTS floats."""
        m = max(1, _CHUNK_ELEMENTS // max(1, int(np.prod(shape, dtype=np.int64))))
        for start in range(0, self.n_samples, m):
            yield slice(start, min(start + m, self.n_samples))

    def _theta(self, theta) -> tuple:
        return tuple(np.broadcast_arrays(*[np.asarray(t, dtype=float) for t in theta]))

    def _grads(self, theta: tuple, index) -> np.ndarray:
        """Per-sample gradients of the samples ``index``: shape ``(d, m) + shape``."""
        x, y = self._samples(index, theta[0].ndim)
        full = (x[0].shape[0],) + theta[0].shape
        return np.stack([np.broadcast_to(np.asarray(g, dtype=float), full) for g in self._grad(theta, x, y)])

    def _mean_loss(self, *theta) -> np.ndarray:
        theta = self._theta(theta)
        total = np.zeros(theta[0].shape)
        for index in self._chunks(theta[0].shape):
            x, y = self._samples(index, theta[0].ndim)
            total += np.sum(self._loss(theta, x, y), axis=0)
        return total / self.n_samples

    def _mean_grad(self, *theta) -> tuple:
        theta = self._theta(theta)
        total = np.zeros((self.ndim,) + theta[0].shape)
        for index in self._chunks(theta[0].shape):
            total += self._grads(theta, index).sum(axis=1)
        return tuple(total / self.n_samples)

    def _mean_hessian(self, *theta) -> np.ndarray:
        theta = self._theta(theta)
        d, shape = self.ndim, theta[0].shape
        total = np.zeros((d, d) + shape)
        for index in self._chunks(shape):
            x, y = self._samples(index, len(shape))
            h = self._hess(theta, x, y)
            for j in range(d):
                for k in range(d):
                    total[j, k] += np.sum(np.broadcast_to(h[j][k], (x[0].shape[0],) + shape), axis=0)
        return total / self.n_samples

    # --- public per-sample quantities -----------------------------------------------------------
    def per_sample_gradients(self, *theta) -> np.ndarray:
        """All per-sample gradients, shape ``(N, d) + shape`` (materialised: mind the memory)."""
        theta = self._theta(self._coordinates(theta))
        return np.moveaxis(self._grads(theta, slice(None)), 0, 1).copy()

    def gradient_covariance(self, *theta) -> np.ndarray:
        """Sigma(theta) = (1/N) sum_i (g_i - grad U)(g_i - grad U)^T, shape ``(d, d) + shape``.

        Equal to (1/N) sum_i g_i g_i^T - grad U grad U^T, computed in two passes over the samples
        (mean first, then centred outer products) so that it is positive semidefinite to round-off
        even where |grad U| dominates the spread.
        """
        theta = self._theta(self._coordinates(theta))
        d, shape = self.ndim, theta[0].shape
        mean = np.stack(self._mean_grad(*theta))
        total = np.zeros((d, d) + shape)
        for index in self._chunks(shape):
            centred = self._grads(theta, index) - mean[:, None]
            for j in range(d):
                for k in range(j + 1):
                    total[j, k] += np.sum(centred[j] * centred[k], axis=0)
        for j in range(d):
            for k in range(j):
                total[k, j] = total[j, k]
        return total / self.n_samples

    def minibatch_gradient(self, theta, indices) -> np.ndarray:
        """Mean gradient over the samples ``indices`` at one point theta; shape ``(d,)``."""
        theta = tuple(np.asarray(t, dtype=float) for t in np.reshape(np.asarray(theta, dtype=float), -1))
        if len(theta) != self.ndim:
            raise ValueError(f"theta: expected {self.ndim} coordinates, got {len(theta)}")
        indices = np.asarray(indices, dtype=np.intp).reshape(-1)
        if indices.size == 0:
            raise ValueError("indices: the minibatch is empty")
        return self._grads(theta, indices).mean(axis=1)

    # --- models ---------------------------------------------------------------------------------
    @classmethod
    def linear_regression(cls, X, y) -> "FiniteSumLoss":
        """Least squares l_i = (x_i^T theta - y_i)^2 / 2 with theta in R^d, d = number of features (1-3).

        U is quadratic with Hessian X^T X / N; its minimum is the least-squares solution.
        """
        X, y = _as_data((X, y))
        d = X.shape[1]
        if not 1 <= d <= 3:
            raise ValueError(f"X: linear regression needs 1 to 3 features, got {d}")

        def residual(theta, x, y):
            return sum(t * xj for t, xj in zip(theta, x)) - y

        def loss(theta, x, y):
            return 0.5 * residual(theta, x, y) ** 2

        def grad(theta, x, y):
            r = residual(theta, x, y)
            return [r * xj for xj in x]

        def hessian(theta, x, y):
            return [[xj * xk for xk in x] for xj in x]

        minima = []
        if np.linalg.matrix_rank(X) == d:
            minima = [np.linalg.lstsq(X, y, rcond=None)[0]]
        return cls(loss, grad, (X, y), d, per_sample_hessian=hessian, name="linear_regression", minima=minima)

    @classmethod
    def logistic_regression(cls, X, y) -> "FiniteSumLoss":
        """Logistic loss l_i = log(1 + exp(-y_i x_i^T theta)), labels y_i = +-1, 2 weights (no bias).

        Evaluated stably (``logaddexp``, ``expit``). U is convex; when the data are not separable
        through the origin it has one minimum, found by BFGS and polished by Newton.
        """
        X, y = _as_data((X, y))
        if X.shape[1] != 2:
            raise ValueError(f"X: logistic regression takes 2 features (2 weights), got {X.shape[1]}")
        if not np.all(np.isin(y, (-1.0, 1.0))):
            raise ValueError("y: logistic regression labels must be -1 or +1")

        def margin(theta, x, y):
            return y * (theta[0] * x[0] + theta[1] * x[1])

        def loss(theta, x, y):
            return np.logaddexp(0.0, -margin(theta, x, y))

        def grad(theta, x, y):
            w = -y * expit(-margin(theta, x, y))
            return [w * x[0], w * x[1]]

        def hessian(theta, x, y):
            m = margin(theta, x, y)
            w = expit(m) * expit(-m)
            return [[w * x[0] * x[0], w * x[0] * x[1]], [w * x[1] * x[0], w * x[1] * x[1]]]

        U = cls(loss, grad, (X, y), 2, per_sample_hessian=hessian, name="logistic_regression")
        start = _minimise(U, (0.0, 0.0))
        if start is not None and np.max(np.abs(start)) < 1e3:
            U.minima = [_newton(U, start)]
        return U

    @classmethod
    def nonlinear(cls, x, y) -> "FiniteSumLoss":
        """Two-parameter model y ~ a tanh(b x) with squared loss l_i = (a tanh(b x_i) - y_i)^2 / 2.

        theta = (a, b). U is even under (a, b) -> (-a, -b): two mirror-image global minima (found by
        BFGS and Newton) and a saddle at (0, 0), where the Hessian is [[0, -m], [-m, 0]] with
        m = mean(x_i y_i) (eigenvalues +-|m|). On the line b = 0, U = mean(y^2)/2 is flat in a.
        """
        X, y = _as_data((x, y))
        if X.shape[1] != 1:
            raise ValueError(f"x: the nonlinear model takes one feature, got {X.shape[1]}")

        def loss(theta, x, y):
            return 0.5 * (theta[0] * np.tanh(theta[1] * x[0]) - y) ** 2

        def grad(theta, x, y):
            a, b = theta
            t = np.tanh(b * x[0])
            r = a * t - y
            return [r * t, r * a * x[0] * (1.0 - t * t)]

        def hessian(theta, x, y):
            a, b = theta
            xi = x[0]
            t = np.tanh(b * xi)
            s = 1.0 - t * t
            r = a * t - y
            ab = xi * s * (a * t + r)
            return [[t * t, ab], [ab, (a * xi * s) ** 2 - 2.0 * r * a * xi * xi * t * s]]

        U = cls(loss, grad, (X, y), 2, per_sample_hessian=hessian, name="nonlinear")
        start = _minimise(U, (1.0, 1.0))
        if start is not None:
            a, b = _newton(U, start)
            U.minima = [(a, b), (-a, -b)] if a >= 0 else [(-a, -b), (a, b)]
        if np.mean(X[:, 0] * y) != 0:
            U.saddles = [(0.0, 0.0)]
        return U

    @classmethod
    def from_dataset(cls, kind: str, n: int = 100, seed: int = 0, **options) -> "FiniteSumLoss":
        """``make_dataset(kind, n, seed, **options)`` fed to the constructor of the same name."""
        X, y = make_dataset(kind, n, seed, **options)
        return getattr(cls, kind)(X, y)


def make_dataset(kind: str, n: int = 100, seed: int = 0, *, ndim: int = 2) -> tuple:
    """A small seeded dataset ``(X, y)`` for one of the three models.

    ``"linear_regression"``: X ~ N(0, I_ndim), y = X theta* + 0.5 N(0, 1), theta* = (1, -0.5, 0.25)[:ndim].
    ``"logistic_regression"``: labels +-1 with equal probability, X = label (1, 0.5) + N(0, I_2),
    then 10% of labels flipped (overlapping classes, so the loss has a finite minimum).
    ``"nonlinear"``: x ~ U(-2, 2), y = tanh(2 x) + 0.2 N(0, 1); X has shape (n, 1).
    """
    n = int(n)
    if n < 2:
        raise ValueError(f"n: expected at least 2 samples, got {n}")
    rng = np.random.default_rng(seed)
    if kind == "linear_regression":
        if ndim not in (1, 2, 3):
            raise ValueError(f"ndim: expected 1, 2 or 3 features, got {ndim!r}")
        X = rng.standard_normal((n, ndim))
        return X, X @ np.array([1.0, -0.5, 0.25][:ndim]) + 0.5 * rng.standard_normal(n)
    if kind == "logistic_regression":
        labels = rng.choice([-1.0, 1.0], size=n)
        X = labels[:, None] * np.array([1.0, 0.5]) + rng.standard_normal((n, 2))
        flip = rng.random(n) < 0.1
        return X, np.where(flip, -labels, labels)
    if kind == "nonlinear":
        x = rng.uniform(-2.0, 2.0, n)
        return x[:, None], np.tanh(2.0 * x) + 0.2 * rng.standard_normal(n)
    raise ValueError(f"kind: unknown dataset {kind!r}; expected one of {DATASET_KINDS}")


def _as_data(data) -> tuple:
    try:
        X, y = data
    except (TypeError, ValueError):
        raise ValueError("data: expected a pair (X, y)") from None
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    y = np.asarray(y, dtype=float).reshape(-1)
    if X.ndim != 2 or X.shape[0] != y.size or y.size == 0:
        raise ValueError(f"data: X must have shape (N, p) and y shape (N,); got {X.shape} and {y.shape}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise ValueError("data: X and y must be finite")
    return X.copy(), y.copy()


def _minimise(U: Landscape, start) -> np.ndarray | None:
    result = minimize(
        lambda t: float(U(*t)),
        np.asarray(start, dtype=float),
        jac=lambda t: U.grad(*t),
        method="BFGS",
        options={"gtol": 1e-10},
    )
    return result.x if np.all(np.isfinite(result.x)) else None


def _newton(U: Landscape, start, maxiter: int = 50) -> tuple:
    x = np.asarray(start, dtype=float)
    for _ in range(maxiter):
        step = np.linalg.solve(U.hessian(*x), U.grad(*x))
        x = x - step
        if np.max(np.abs(step)) <= 4 * np.finfo(float).eps * max(1.0, np.max(np.abs(x))):
            break
    return tuple(float(c) for c in x)
