"""A loss landscape U(x): values, gradient and Hessian, with accurate finite differences as fallback.

``Landscape(f)`` wraps a function taking one array per coordinate (broadcasting, like numpy
ufuncs) and returning U at those points. Missing derivatives are computed by central finite
differences of fourth order: the gradient from f with step ``h = eps**(1/5) * max(1, |x|)``
(truncation ~h^4, round-off ~eps/h, both ~1e-13 relative), the Hessian from the gradient with the
same stencil when a gradient is given, otherwise from f with ``h = eps**(1/6) * max(1, |x|)``
(error ~1e-10 relative).
"""

from __future__ import annotations

import inspect
from typing import Callable, Sequence

import numpy as np

__all__ = ["Landscape"]

_EPS = np.finfo(float).eps
_H_GRAD = _EPS ** (1 / 5)
_H_HESS = _EPS ** (1 / 6)


class Landscape:
    """A scalar loss U(x) on R^d with gradient and Hessian.

    Parameters
    ----------
    f : callable
        ``f(x0, x1, ...)`` -> U, one array per coordinate, broadcasting.
    grad : callable, optional
        ``grad(x0, ...)`` -> sequence of d arrays (or an array of shape ``(d,) + shape``).
        Default: fourth-order central differences of ``f``.
    hessian : callable, optional
        ``hessian(x0, ...)`` -> array of shape ``(d, d) + shape``. Default: fourth-order central
        differences of the gradient.
    ndim : int, optional
        Dimension d; inferred from the number of positional parameters of ``f`` when omitted.
    name : str, optional
        A short name for messages and plots.
    minima, saddles : sequence of points, optional
        Known critical points (used by named landscapes, basin labelling and docs).

    Notes
    -----
    Calling a landscape evaluates U: ``U(x, y)``. ``U.grad(x, y)`` has shape ``(d,) + shape``
    and ``U.hessian(x, y)`` shape ``(d, d) + shape``, where ``shape`` is the broadcast shape of the
    coordinates.
    """

    def __init__(
        self,
        f: Callable,
        grad: Callable | None = None,
        hessian: Callable | None = None,
        *,
        ndim: int | None = None,
        name: str | None = None,
        minima: Sequence | None = None,
        saddles: Sequence | None = None,
    ):
        if not callable(f):
            raise TypeError(f"f: expected a callable U(x0, x1, ...), got {type(f).__name__}")
        if ndim is None:
            ndim = _positional_arity(f)
        if ndim is None or not 1 <= ndim <= 6:
            raise ValueError(f"ndim: could not infer the dimension of f; pass ndim= (got {ndim})")
        self.f = f
        self.grad_function = grad
        self.hessian_function = hessian
        self.ndim = int(ndim)
        self.name = name or getattr(f, "__name__", "U")
        self.minima = [tuple(float(c) for c in np.atleast_1d(m)) for m in (minima or [])]
        self.saddles = [tuple(float(c) for c in np.atleast_1d(s)) for s in (saddles or [])]

    def __repr__(self) -> str:
        return f"Landscape({self.name!r}, ndim={self.ndim})"

    # --- evaluation ---------------------------------------------------------------------------
    def __call__(self, *x) -> np.ndarray:
        x = self._coordinates(x)
        return np.broadcast_to(np.asarray(self.f(*x), dtype=float), np.broadcast(*x).shape)

    def grad(self, *x) -> np.ndarray:
        """Gradient, shape ``(d,) + shape``."""
        x = self._coordinates(x)
        shape = np.broadcast(*x).shape
        if self.grad_function is not None:
            g = self.grad_function(*x)
            if isinstance(g, np.ndarray) and self.ndim == 1 and g.shape == shape:
                g = (g,)  # a 1-D gradient returned as one array rather than a 1-tuple
            if len(g) != self.ndim:
                raise ValueError(
                    f"grad: expected {self.ndim} partial derivatives (one array per coordinate), "
                    f"got {len(g)}"
                )
            return np.stack([np.broadcast_to(np.asarray(gi, dtype=float), shape) for gi in g])
        return _central_difference(lambda *y: self(*y)[None], x, _H_GRAD)[0]

    def hessian(self, *x) -> np.ndarray:
        """Hessian, shape ``(d, d) + shape`` (symmetrised)."""
        x = self._coordinates(x)
        shape = np.broadcast(*x).shape
        if self.hessian_function is not None:
            h = self.hessian_function(*x)
            try:
                h = np.asarray(h, dtype=float)
            except ValueError:  # a nested d x d sequence mixing numbers and arrays
                h = np.array([[np.broadcast_to(np.asarray(v, float), shape) for v in row] for row in h])
            if self.ndim == 1 and h.shape == shape:
                h = h[None, None]  # a 1-D Hessian returned as one array U''(x)
            elif h.shape[:2] == (self.ndim, self.ndim):
                h = h.reshape(h.shape + (1,) * max(0, 2 + len(shape) - h.ndim))  # constant entries
            try:
                return np.broadcast_to(h, (self.ndim, self.ndim) + shape).copy()
            except ValueError:
                raise ValueError(
                    f"hessian: expected a ({self.ndim}, {self.ndim}) + shape array, got shape {h.shape}"
                ) from None
        if self.grad_function is not None:
            h = _central_difference(self.grad, x, _H_GRAD)
        else:
            h = _second_difference(self, x, _H_HESS)
        return 0.5 * (h + np.swapaxes(h, 0, 1))

    def _coordinates(self, x) -> list:
        if len(x) == 1 and self.ndim > 1 and np.ndim(x[0]) >= 1 and np.shape(x[0])[0] == self.ndim:
            x = tuple(x[0])  # a single stacked point array (d, ...)
        if len(x) != self.ndim:
            raise ValueError(f"{self.name}: expected {self.ndim} coordinate arrays, got {len(x)}")
        return [np.asarray(xi, dtype=float) for xi in x]

    # --- checks ---------------------------------------------------------------------------------
    def require_finite(self, grid) -> np.ndarray:
        """U at the grid's cell centres; raises ValueError where U or its gradient is not finite."""
        mesh = grid.mesh()
        values = np.broadcast_to(self(*mesh), grid.shape)
        _require_finite(values, grid, f"landscape {self.name!r}: U")
        _require_finite(self.grad(*mesh), grid, f"landscape {self.name!r}: grad U")
        return np.array(values)


def _require_finite(values, grid, what: str) -> None:
    values = np.asarray(values)
    bad = ~np.isfinite(values)
    if bad.any():
        idx = np.argwhere(bad)[0][-grid.ndim:]
        point = tuple(float(c[i]) for c, i in zip(grid.centers, idx))
        raise ValueError(f"{what} is not finite ({values[tuple(np.argwhere(bad)[0])]}) at x = {point}")


def _central_difference(g: Callable, x: list, h_rel: float) -> np.ndarray:
    """Fourth-order central differences of a vector function g (shape (m,)+s) along every axis.

    Returns shape ``(m, d) + s``: entry [i, k] is dg_i/dx_k.
    """
    columns = []
    for k in range(len(x)):
        h = h_rel * np.maximum(1.0, np.abs(x[k]))
        h = (x[k] + h) - x[k]  # make the step exactly representable

        def shifted(c):
            y = list(x)
            y[k] = x[k] + c * h
            return np.asarray(g(*y), dtype=float)

        columns.append((8 * (shifted(1) - shifted(-1)) - (shifted(2) - shifted(-2))) / (12 * h))
    return np.stack(columns, axis=1)


def _second_difference(f: Callable, x: list, h_rel: float) -> np.ndarray:
    """Fourth-order finite-difference Hessian of a scalar function; shape ``(d, d) + s``."""
    d = len(x)
    shape = np.broadcast(*x).shape
    steps = []
    for k in range(d):
        h = h_rel * np.maximum(1.0, np.abs(x[k]))
        steps.append((x[k] + h) - x[k])

    def at(offsets):
        y = [x[k] + offsets.get(k, 0) * steps[k] for k in range(d)]
        return np.broadcast_to(np.asarray(f(*y), dtype=float), shape)

    out = np.empty((d, d) + shape)
    f0 = at({})
    for k in range(d):
        out[k, k] = (
            -at({k: 2}) + 16 * at({k: 1}) - 30 * f0 + 16 * at({k: -1}) - at({k: -2})
        ) / (12 * steps[k] ** 2)
        for m in range(k):
            mixed = 0.0
            # fourth-order mixed derivative: Richardson combination of the O(h^2) stencils at h and 2h
            for scale, weight in ((1, 4.0), (2, -1.0)):
                s = (
                    at({k: scale, m: scale}) - at({k: scale, m: -scale})
                    - at({k: -scale, m: scale}) + at({k: -scale, m: -scale})
                ) / (4 * scale**2 * steps[k] * steps[m])
                mixed = mixed + weight * s
            out[k, m] = out[m, k] = mixed / 3.0
    return out


def _positional_arity(f: Callable) -> int | None:
    try:
        params = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):
        return None
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if any(p.kind == inspect.Parameter.VAR_POSITIONAL for p in params):
        return None
    return sum(1 for p in params if p.kind in kinds and p.default is inspect.Parameter.empty)
