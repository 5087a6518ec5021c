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
multilinear value there). Where the centred 4^d stencil leaves the box or touches a cell outside
``valid`` (an absorbing set, where the field holds boundary values and has a kink), it is shifted
by one cell along the axes concerned (the point stays inside its span: still interpolation,
O(h^4)); where no such stencil exists (fewer than four valid centres in a row, or a point
between a wall and the outermost centre) the multilinear value is used.
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
    valid = None if valid is None else np.asarray(valid, dtype=bool)
    coords = [np.ravel(c) for c in np.broadcast_arrays(*[np.asarray(p, dtype=float) for p in points])]
    lower, offset, between = [], [], np.ones(coords[0].shape, dtype=bool)
    for c, (lo, hi), n, periodic in zip(coords, grid.bounds, grid.cells, grid.periodic):
        s = (c - lo) / (hi - lo) * n - 0.5  # fractional index relative to the centres
        i0 = np.floor(s).astype(int)
        lower.append(i0)
        offset.append(s - i0)
        if not periodic:
            between &= (i0 >= 0) & (i0 + 1 <= n - 1)  # else: between a wall and the outer centre
    smooth = np.full(coords[0].shape, np.nan)
    # the centred stencil first, then stencils shifted by one cell along some axes (away from a
    # wall or an invalid cell): still interpolation, the point stays inside the stencil's span
    shifts = sorted(np.ndindex(*(3,) * grid.ndim), key=lambda d: sum(abs(k - 1) for k in d))
    for shift in shifts:
        todo = between & np.isnan(smooth)
        if not todo.any():
            break
        d = [k - 1 for k in shift]
        result, low, high, ok = _stencil(grid, values, valid, lower, offset, d, todo)
        margin = (high - low) / 8.0
        smooth[ok] = np.clip(result, low - margin, high + margin)[ok]
    smooth = np.where(np.isnan(smooth), linear.ravel(), smooth).reshape(linear.shape)
    return float(smooth) if smooth.ndim == 0 else smooth


def _stencil(grid, values, valid, lower, offset, shift, todo) -> tuple:
    """The 4^d Lagrange value at the points ``todo`` with the stencil's first cell at
    lower - 1 + shift per axis: (value, smallest and largest sample, admissible), arrays over all
    points (meaningful where admissible)."""
    count = todo.size
    ok = todo.copy()
    first, weights = [], []
    for i0, w, d, n, periodic in zip(lower, offset, shift, grid.cells, grid.periodic):
        start = i0 - 1 + d
        if periodic:
            start = start % n
        else:
            ok &= (start >= 0) & (start + 3 <= n - 1)
            start = np.clip(start, 0, n - 4)
        first.append(start)
        weights.append(_lagrange_weights(w - d))
    result = np.zeros(count)
    low, high = np.full(count, np.inf), np.full(count, -np.inf)
    for corner in np.ndindex(*(4,) * grid.ndim):
        index = tuple(
            (start + step) % n if periodic else start + step
            for start, step, n, periodic in zip(first, corner, grid.cells, grid.periodic)
        )
        sample = values[index]
        result += np.prod([w[:, step] for w, step in zip(weights, corner)], axis=0) * sample
        low, high = np.minimum(low, sample), np.maximum(high, sample)
        if valid is not None:
            ok &= valid[index]
    return result, low, high, ok


def _lagrange_weights(w: np.ndarray) -> np.ndarray:
    """Weights of the 4-point Lagrange polynomial through nodes -1, 0, 1, 2 evaluated at w in
    [-1, 2), shape (points, 4)."""
    return np.stack(
        [
            -w * (w - 1.0) * (w - 2.0) / 6.0,
            (w + 1.0) * (w - 1.0) * (w - 2.0) / 2.0,
            -(w + 1.0) * w * (w - 2.0) / 2.0,
            (w + 1.0) * w * (w - 1.0) / 6.0,
        ],
        axis=1,
    )
