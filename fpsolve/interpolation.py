"""Fourth-order interpolation of smooth cell fields (exit times, committors) at arbitrary points.

:meth:`fpsolve.grid.Grid.interpolate` is multilinear: its error, h^2 s (1 - s) |f''| / 2 per axis
with s the point's fractional position between two centres, is O(h^2) with a constant that
changes with the point's position in its cell. Once the scheme's own values at the centres are
more accurate than that (the finite-volume exit times are, on smooth landscapes), the
interpolation would set the error of ``tau(x)`` and make it jump between grids, which breaks
Richardson extrapolation. Here the value is the tensor product of 4-point Lagrange polynomials
through the centres around the point (error O(h^4) for a smooth field), clipped to the range of
those 4^d values widened by 1/8 of it on each side (a smooth extremum between samples exceeds
them by about f'' h^2 / 8, an eighth of the range f'' (2h)^2 / 2 of a 4-point stencil around it):
next to a sharp, unresolved layer the value can overshoot by at most that eighth (use the
multilinear value there). Where the 4^d stencil leaves
the box or touches a cell outside ``valid`` (an absorbing set, where the field holds boundary
values and has a kink), the multilinear value is used instead.
"""

from __future__ import annotations

import numpy as np

__all__ = ["cubic_interpolate"]


def cubic_interpolate(grid, values, points, valid=None) -> np.ndarray | float:
    """Interpolate the cell field ``values`` (shape ``grid.shape``) at ``points``.

    Parameters
    ----------
    grid : fpsolve.grid.Grid
    values : array, shape grid.shape
    points : sequence of arrays
        One coordinate array per axis, broadcast together (as for :meth:`Grid.interpolate`).
    valid : bool array of shape grid.shape or None
        Cells where the field is smooth; a stencil touching any other cell falls back to the
        multilinear value. None: every cell.

    Returns a float for scalar coordinates, else an array of the broadcast shape. Points outside
    the box raise the ValueError of :meth:`Grid.interpolate`.
    """
    linear = np.asarray(grid.interpolate(values, *points), dtype=float)
    if min(grid.cells) < 4:
        return float(linear) if linear.ndim == 0 else linear
    values = np.asarray(values, dtype=float)
    coords = [np.ravel(c) for c in np.broadcast_arrays(*[np.asarray(p, dtype=float) for p in points])]
    first, weights, inside = [], [], np.ones(coords[0].shape, dtype=bool)
    for c, (lo, hi), n, periodic in zip(coords, grid.bounds, grid.cells, grid.periodic):
        s = (c - lo) / (hi - lo) * n - 0.5  # fractional index relative to the centres
        i0 = np.floor(s).astype(int)
        w = s - i0
        start = i0 - 1
        if periodic:
            start = start % n
        else:
            inside &= (start >= 0) & (start + 3 <= n - 1)
            start = np.clip(start, 0, n - 4)
        first.append(start)
        weights.append(_lagrange_weights(w))
    result = np.zeros(coords[0].shape)
    low, high = np.full(result.shape, np.inf), np.full(result.shape, -np.inf)
    ok = inside.copy()
    for corner in np.ndindex(*(4,) * grid.ndim):
        index = tuple(
            (start + step) % n if periodic else start + step
            for start, step, n, periodic in zip(first, corner, grid.cells, grid.periodic)
        )
        sample = values[index]
        weight = np.prod([w[:, step] for w, step in zip(weights, corner)], axis=0)
        result += weight * sample
        low, high = np.minimum(low, sample), np.maximum(high, sample)
        if valid is not None:
            ok &= np.asarray(valid)[index]
    margin = (high - low) / 8.0
    smooth = np.where(ok, np.clip(result, low - margin, high + margin), linear.ravel())
    smooth = smooth.reshape(linear.shape)
    return float(smooth) if smooth.ndim == 0 else smooth


def _lagrange_weights(w: np.ndarray) -> np.ndarray:
    """Weights of the 4-point Lagrange polynomial through nodes -1, 0, 1, 2 evaluated at w in [0, 1),
    shape (points, 4)."""
    return np.stack(
        [
            -w * (w - 1.0) * (w - 2.0) / 6.0,
            (w + 1.0) * (w - 1.0) * (w - 2.0) / 2.0,
            -(w + 1.0) * w * (w - 2.0) / 2.0,
            (w + 1.0) * w * (w - 1.0) / 6.0,
        ],
        axis=1,
    )
