"""A loss landscape U(x): values, gradient and Hessian, with accurate finite differences as fallback.

``Landscape(f)`` wraps a function taking one array per coordinate (broadcasting, like numpy
ufuncs) and returning U at those points. Missing derivatives are computed by central finite
differences of fourth order: the gradient from f with step ``h = eps**(1/5) * max(1, |x|)``
(truncation ~h^4, round-off ~eps/h, both ~1e-13 relative), the Hessian from the gradient with the
same stencil when a gradient is given, otherwise from f with ``h = eps**(1/6) * max(1, |x|)``
(error ~1e-10 relative).

Analytic derivatives are checked once, when the landscape is made, against these differences at five
points of [-1, 1]^d (:meth:`Landscape.check_derivatives`): a gradient that contradicts f is refused
with the point and both values, not integrated silently. Complex values of U are refused too.
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
        Default: fourth-order central differences of ``f``. A given gradient (and Hessian) is
        checked against those differences once (:meth:`check_derivatives`).
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

    #: How the constructor's arguments for the derivatives and for U are named in messages.
    _derivative_arguments = ("grad", "hessian", "f")

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
        # analytic derivatives are checked once against differences of f: here at generic points
        # of [-1, 1]^d, or (when U is not finite at any of them) on the first grid it meets
        self._derivatives_checked = grad is None and hessian is None
        if not self._derivatives_checked:
            self._derivatives_checked = self.check_derivatives(*_probe_points([(-1.0, 1.0)] * self.ndim)) > 0

    def __repr__(self) -> str:
        return f"Landscape({self.name!r}, ndim={self.ndim})"

    # --- evaluation ---------------------------------------------------------------------------
    def __call__(self, *x) -> np.ndarray:
        x = self._coordinates(x)
        value = _real(self.f(*x), x, f"landscape {self.name!r}: U")
        return np.broadcast_to(value, np.broadcast(*x).shape)

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
                    f"grad: expected {self.ndim} partial derivatives (one array per coordinate), got {len(g)}"
                )
            return np.stack([np.broadcast_to(_real(gi, x, "grad: the gradient"), shape) for gi in g])
        return _central_difference(lambda *y: self(*y)[None], x, _H_GRAD)[0]

    def hessian(self, *x) -> np.ndarray:
        """Hessian, shape ``(d, d) + shape`` (symmetrised)."""
        x = self._coordinates(x)
        shape = np.broadcast(*x).shape
        if self.hessian_function is not None:
            h = self.hessian_function(*x)
            try:
                h = _real(h, x, "hessian: the Hessian")
            except ValueError:  # a nested d x d sequence mixing numbers and arrays
                h = np.array([[np.broadcast_to(_real(v, x, "hessian: the Hessian"), shape) for v in row] for row in h])
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
    def check_derivatives(self, *x) -> int:
        """Compare the analytic gradient and Hessian (those given) with central differences of U at points x.

        Differences of fourth order are taken with steps h and 2h (h as for the fallback gradient,
        one vectorised call of U); the analytic value must agree with the finer one within
        ``1e-4`` times the largest derivative seen, plus the estimated difference error (the gap
        between the two steps, and round-off ``1e3 eps |U| / h``). The Hessian is compared with
        differences of the gradient (analytic when given, else second differences of U). Points
        where U or a difference is not finite are skipped.

        Raises ValueError naming ``grad`` (``hessian``) with the point and both values. Returns
        the number of points compared. The constructor runs it once at five points of
        ``[-1, 1]^d`` (about 40 evaluations of U in one call for d = 2).
        """
        grad_name, hessian_name, f_name = self._derivative_arguments
        x = [np.ravel(c) for c in np.broadcast_arrays(*self._coordinates(x))]
        with np.errstate(all="ignore"):
            u = self(*x)
            ok = np.isfinite(u)
            if self.grad_function is not None:
                fine, coarse, h = _two_step_differences(lambda *y: self(*y)[None], x, _H_GRAD)
                fine, coarse = fine[0], coarse[0]
                given = self.grad(*x)
                ok &= np.all(np.isfinite(fine) & np.isfinite(coarse) & np.isfinite(given), axis=0)
                roundoff = 1e3 * _EPS * np.abs(u) / h
                _require_agreement(given, fine, coarse, roundoff, ok, x, (grad_name, "gradient", f_name))
            if self.hessian_function is not None:
                if self.grad_function is not None:
                    fine, coarse, h = _two_step_differences(self.grad, x, _H_GRAD)
                    g = np.max(np.abs(np.where(ok, self.grad(*x), 0.0)), axis=0)
                    roundoff = 1e3 * _EPS * g / h
                else:
                    fine = _second_difference(self, x, _H_HESS)
                    coarse = _second_difference(self, x, 2 * _H_HESS)
                    h = _H_HESS * np.min([np.maximum(1.0, np.abs(c)) for c in x], axis=0)
                    roundoff = 1e3 * _EPS * np.abs(u) / h**2
                fine = 0.5 * (fine + np.swapaxes(fine, 0, 1))
                coarse = 0.5 * (coarse + np.swapaxes(coarse, 0, 1))
                given = self.hessian(*x)
                ok &= np.all(np.isfinite(fine) & np.isfinite(coarse) & np.isfinite(given), axis=(0, 1))
                _require_agreement(given, fine, coarse, roundoff, ok, x, (hessian_name, "Hessian", f_name))
        return int(ok.sum())

    def require_finite(self, grid) -> np.ndarray:
        """U at the grid's cell centres; raises ValueError where U or its gradient is not finite.

        Analytic derivatives that could not be checked at construction (U not finite on
        ``[-1, 1]^d``) are checked here, at five points inside the grid.
        """
        if not self._derivatives_checked:
            self._derivatives_checked = self.check_derivatives(*_probe_points(grid.bounds)) > 0
        mesh = grid.mesh()
        values = np.broadcast_to(self(*mesh), grid.shape)
        _require_finite(values, grid, f"landscape {self.name!r}: U")
        _require_finite(self.grad(*mesh), grid, f"landscape {self.name!r}: grad U")
        return np.array(values)


#: Five generic coordinates in [-1, 1]: away from 0, +-1/2, +-1 and other round numbers where a
#: kink or a special value of U could hide a wrong derivative.
_PROBE = np.array([-0.7731, -0.3519, 0.1187, 0.4243, 0.8467])


def _probe_points(bounds) -> list:
    """Five points in the box ``bounds`` (one (lo, hi) per axis), not on its diagonal."""
    return [lo + 0.5 * (np.roll(_PROBE, 2 * k) + 1.0) * (hi - lo) for k, (lo, hi) in enumerate(bounds)]


def _real(value, x, what: str) -> np.ndarray:
    """``value`` as a float array; a ValueError naming ``what`` (and where) when it is complex."""
    value = np.asarray(value)
    if np.iscomplexobj(value):
        where = ""
        try:
            arrays = np.broadcast_arrays(value, *x)
            i = int(np.argmax(arrays[0].ravel().imag != 0))
            point = tuple(round(float(c.ravel()[i]), 6) for c in arrays[1:])
            where = f" ({arrays[0].ravel()[i]:.6g} at x = {point})"
        except ValueError:  # a constant (d, d) Hessian: no point to show
            pass
        raise ValueError(f"{what} is complex-valued{where}; expected real values")
    return value.astype(float, copy=False)


def _require_agreement(given, fine, coarse, roundoff, ok, x, names: tuple) -> None:
    """Raise a ValueError where ``given`` and the difference ``fine`` disagree.

    Arrays have the points on their last axis; the tolerance is 1e-4 of the largest value seen
    plus the estimated error of ``fine`` (its gap to ``coarse``, and ``roundoff``). ``names`` is
    (the derivative's argument, what it is, the argument U comes from), e.g.
    ``("grad", "gradient", "f")``.
    """
    name, what, f_name = names
    if not ok.any():
        return
    scale = max(float(np.max(np.abs(fine[..., ok]))), float(np.max(np.abs(given[..., ok]))))
    excess = np.abs(given - fine) - (1e-4 * scale + np.abs(fine - coarse) + roundoff)
    excess = np.where(ok, np.max(excess.reshape(-1, ok.size), axis=0), -np.inf)
    j = int(np.argmax(excess))
    if excess[j] > 0:
        point = tuple(round(float(c[j]), 6) for c in x)
        raise ValueError(
            f"{name}: the analytic {what} contradicts {f_name} at x = {point}: {name} gives "
            f"{_format(given[..., j])}, central differences of {f_name} give {_format(fine[..., j])}"
        )


def _format(values) -> str:
    """A vector as ``(1.5, -2)``, a matrix as ``[[1, 0], [0, 2]]`` (6 significant digits)."""
    values = np.asarray(values)
    if values.ndim == 1:
        return "(" + ", ".join(f"{v:.6g}" for v in values) + ("," if values.size == 1 else "") + ")"
    return "[" + ", ".join("[" + ", ".join(f"{v:.6g}" for v in row) + "]" for row in values) + "]"


def _two_step_differences(g: Callable, x: list, h_rel: float) -> tuple:
    """Fourth-order central differences of g (shape ``(m,) + s``) with steps h and 2h, from one call.

    Returns ``(fine, coarse, h)``: the differences with steps h and 2h, each of shape
    ``(m, d) + s`` (entry [i, k] is dg_i/dx_k), and the steps, shape ``(d,) + s``.
    """
    d = len(x)
    h = np.stack([(xk + h_rel * np.maximum(1.0, np.abs(xk))) - xk for xk in x])  # exact steps
    multiples = (-4, -2, -1, 1, 2, 4)
    shifted = [np.stack([x[j] + (c * h[k] if j == k else 0.0) for k in range(d) for c in multiples]) for j in range(d)]
    values = np.asarray(g(*shifted), dtype=float)
    values = values.reshape((values.shape[0], d, len(multiples)) + values.shape[2:])
    v = dict(zip(multiples, np.moveaxis(values, 2, 0)))
    fine = (8 * (v[1] - v[-1]) - (v[2] - v[-2])) / (12 * h)
    coarse = (8 * (v[2] - v[-2]) - (v[4] - v[-4])) / (24 * h)
    return fine, coarse, h


def _require_finite(values, grid, what: str) -> None:
    values = np.asarray(values)
    bad = ~np.isfinite(values)
    if bad.any():
        idx = np.argwhere(bad)[0][-grid.ndim :]
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
        out[k, k] = (-at({k: 2}) + 16 * at({k: 1}) - 30 * f0 + 16 * at({k: -1}) - at({k: -2})) / (12 * steps[k] ** 2)
        for m in range(k):
            mixed = 0.0
            # fourth-order mixed derivative: Richardson combination of the O(h^2) stencils at h and 2h
            for scale, weight in ((1, 4.0), (2, -1.0)):
                s = (
                    at({k: scale, m: scale})
                    - at({k: scale, m: -scale})
                    - at({k: -scale, m: scale})
                    + at({k: -scale, m: -scale})
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
