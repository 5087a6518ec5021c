"""Shared pieces of the landscape factories: checked parameters, Hessian stacking, Newton refinement
of critical points, and attaching minima, saddles and parameters to a Landscape."""

from __future__ import annotations

import numpy as np

from ..grid import _is_number
from ..landscape import Landscape


def _matrix(rows) -> np.ndarray:
    """Stack a nested list of broadcastable entries into an array of shape ``(d, d) + shape``."""
    entries = [np.asarray(e, dtype=float) for row in rows for e in row]
    shape = np.broadcast_shapes(*(e.shape for e in entries))
    d = len(rows)
    return np.stack([np.broadcast_to(e, shape) for e in entries]).reshape((d, d) + shape)


def _newton(landscape: Landscape, guess, maxiter: int = 60) -> tuple:
    """Refine a critical point of ``landscape`` by Newton's method on grad U = 0."""
    x = np.array(guess, dtype=float).reshape(-1)
    for _ in range(maxiter):
        step = np.linalg.solve(landscape.hessian(*x).reshape(x.size, x.size), landscape.grad(*x).reshape(-1))
        x = x - step
        if np.max(np.abs(step)) <= 4 * np.finfo(float).eps * max(1.0, np.max(np.abs(x))):
            break
    else:
        raise RuntimeError(f"{landscape.name}: Newton did not converge from {tuple(guess)}")
    return tuple(float(c) for c in x)


def _finish(landscape: Landscape, minima, saddles, parameters: dict) -> Landscape:
    landscape.minima = [tuple(float(c) for c in np.atleast_1d(m)) for m in minima]
    landscape.saddles = [tuple(float(c) for c in np.atleast_1d(s)) for s in saddles]
    landscape.parameters = dict(parameters)
    return landscape


def _finite(value, name: str) -> float:
    """A factory parameter: TypeError naming ``name`` unless a real number, ValueError unless finite."""
    if not _is_number(value):
        raise TypeError(f"{name}: expected a number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name}: expected a finite number, got {value!r}")
    return value


def _numbers(value, name: str) -> np.ndarray:
    """A factory parameter that is an array of real numbers: TypeError naming ``name`` for other
    entries, ValueError for a ragged nesting."""
    try:
        array = np.asarray(value)
    except ValueError:  # ragged
        raise ValueError(f"{name}: expected a rectangular array of numbers, got {value!r}") from None
    if array.dtype.kind not in "iuf":
        raise TypeError(f"{name}: expected an array of numbers, got {value!r}")
    return array.astype(float)


def _positive(value, name: str) -> float:
    """A factory parameter: TypeError naming ``name`` unless a real number, ValueError unless > 0."""
    if not _is_number(value):
        raise TypeError(f"{name}: expected a positive number, got {value!r}")
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name}: expected a positive number, got {value!r}")
    return value
