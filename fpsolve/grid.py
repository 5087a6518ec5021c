"""Uniform cell-centred grids in 1-3 dimensions (or phase space) with periodic flags per axis.

A grid divides the box ``[lo_0, hi_0] x ... x [lo_{d-1}, hi_{d-1}]`` into ``n_0 x ... x n_{d-1}``
equal cells. Fields live at cell centres as arrays of shape ``grid.shape`` (``indexing="ij"``);
densities are normalised so that ``p.sum() * grid.cell_volume == 1``.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Grid"]


@dataclass(frozen=True, eq=False)
class Grid:
    """A uniform, cell-centred box grid.

    Parameters
    ----------
    bounds : sequence of (lo, hi)
        The box, one pair per axis, ``lo < hi``.
    cells : int or sequence of int
        Number of cells per axis (at least 3 each).
    periodic : bool or sequence of bool
        Whether each axis wraps around (the face at ``hi`` is the face at ``lo``).
    axis_names : sequence of str, optional
        Names used in messages and plots, e.g. ``("theta", "v")`` for phase space.
        Default ``("x", "y", "z")`` truncated to the dimension.

    Bad arguments (reversed or non-finite bounds, a wrong nesting, fewer than 3 or a non-integer
    number of cells, a flag that is not a bool) raise a ValueError naming the argument.

    Examples
    --------
    >>> grid = Grid([(-2.5, 2.5), (-1.5, 1.5)], [400, 200])
    >>> grid.shape, grid.cell_volume
    ((400, 200), 0.0001875)
    """

    bounds: tuple
    cells: tuple
    periodic: tuple = False
    axis_names: tuple | None = None
    _centers: tuple = field(init=False, repr=False)

    def __init__(self, bounds, cells, periodic=False, axis_names=None):
        bounds = _as_bounds(bounds)
        ndim = len(bounds)
        if not 1 <= ndim <= 6:
            raise ValueError(f"bounds: expected 1 to 6 axes (phase space counts twice), got {ndim}")
        cells = tuple(_cell_count(n, k) for k, n in enumerate(_per_axis(cells, ndim, "cells")))
        periodic = tuple(_flag(p, "periodic") for p in _per_axis(periodic, ndim, "periodic"))
        if axis_names is None:
            axis_names = ("x", "y", "z")[:ndim] if ndim <= 3 else tuple(f"x{k}" for k in range(ndim))
        axis_names = tuple(str(a) for a in axis_names)
        if len(axis_names) != ndim:
            raise ValueError(f"axis_names: expected {ndim} names, got {len(axis_names)}")
        object.__setattr__(self, "bounds", bounds)
        object.__setattr__(self, "cells", tuple(int(n) for n in cells))
        object.__setattr__(self, "periodic", tuple(bool(p) for p in periodic))
        object.__setattr__(self, "axis_names", axis_names)
        centers = tuple(lo + (np.arange(n) + 0.5) * (hi - lo) / n for (lo, hi), n in zip(bounds, self.cells))
        for c in centers:
            c.flags.writeable = False
        object.__setattr__(self, "_centers", centers)

    # --- geometry -----------------------------------------------------------------------------
    @property
    def ndim(self) -> int:
        """Number of axes."""
        return len(self.bounds)

    @property
    def shape(self) -> tuple:
        """Number of cells per axis; the shape of every field on this grid."""
        return self.cells

    @property
    def size(self) -> int:
        """Total number of cells."""
        return int(np.prod(self.cells))

    @property
    def spacing(self) -> tuple:
        """Cell width per axis, ``(hi - lo) / n``."""
        return tuple((hi - lo) / n for (lo, hi), n in zip(self.bounds, self.cells))

    @property
    def cell_volume(self) -> float:
        """Volume (length in 1-D, area in 2-D) of one cell."""
        return float(np.prod(self.spacing))

    @property
    def centers(self) -> tuple:
        """Cell-centre coordinates, one 1-D array per axis."""
        return self._centers

    @property
    def faces(self) -> tuple:
        """Face coordinates, one 1-D array of ``n + 1`` values per axis."""
        return tuple(np.linspace(lo, hi, n + 1) for (lo, hi), n in zip(self.bounds, self.cells))

    def mesh(self) -> tuple:
        """Cell-centre coordinates as full grid-shaped arrays (``indexing="ij"``)."""
        return tuple(np.meshgrid(*self.centers, indexing="ij"))

    def coarsened(self, factor) -> "Grid":
        """The same box with about ``factor`` times fewer cells along every axis.

        Each axis gets ``round(n / factor)`` cells (exactly ``n / factor`` when it divides; the
        spacing then grows by exactly ``factor``, otherwise by ``n / round(n / factor)``). The
        bounds, periodic flags and axis names are kept. Raises a ValueError naming ``factor``
        when it is not a number >= 1, and when an axis would keep fewer than 3 cells.
        """
        if not _is_number(factor) or not np.isfinite(factor) or factor < 1:
            raise ValueError(f"factor: expected a number >= 1, got {factor!r}")
        cells = [max(int(round(n / float(factor))), 1) for n in self.cells]
        for k, (n, m) in enumerate(zip(self.cells, cells)):
            if m < 3:
                raise ValueError(
                    f"factor: coarsening axis {self.axis_names[k]} ({n} cells) by {factor:g} leaves "
                    f"{m} cells; a grid needs at least 3 per axis"
                )
        return Grid(self.bounds, cells, self.periodic, self.axis_names)

    def __repr__(self) -> str:
        box = " x ".join(f"[{lo:g}, {hi:g}]" for lo, hi in self.bounds)
        per = "".join("p" if p else "-" for p in self.periodic)
        return f"Grid({box}, cells={self.cells}, periodic={per})"

    # --- fields -------------------------------------------------------------------------------
    def integrate(self, values) -> float | np.ndarray:
        """Integral of a cell field over the box (midpoint rule): ``sum(values) * cell_volume``.

        Extra leading axes (e.g. time) are kept: ``values`` of shape ``(m,) + grid.shape`` gives
        an array of ``m`` integrals.
        """
        values = np.asarray(values)
        if values.shape[values.ndim - self.ndim :] != self.shape:
            raise ValueError(f"values: expected trailing shape {self.shape}, got {values.shape}")
        axes = tuple(range(values.ndim - self.ndim, values.ndim))
        return values.sum(axis=axes) * self.cell_volume

    def evaluate(self, function) -> np.ndarray:
        """Evaluate ``function(*coordinates)`` at the cell centres; returns a grid-shaped array."""
        out = np.asarray(function(*self.mesh()), dtype=float)
        return np.broadcast_to(out, self.shape).copy()

    def contains(self, *point) -> bool:
        """Whether a point lies in the closed box (periodic axes contain every coordinate)."""
        point = self._as_point(point)
        return all(per or lo <= x <= hi for x, (lo, hi), per in zip(point, self.bounds, self.periodic))

    def cell_index(self, *point) -> tuple:
        """Index of the cell containing a point; raises ValueError when the point is outside."""
        point = self._as_point(point)
        self.require_inside(point, "point")
        index = []
        for x, (lo, hi), n, per in zip(point, self.bounds, self.cells, self.periodic):
            if per:
                x = lo + (x - lo) % (hi - lo)
            index.append(min(int((x - lo) / (hi - lo) * n), n - 1))
        return tuple(index)

    def require_inside(self, point, name: str = "point") -> None:
        """Raise a ValueError naming ``name`` when ``point`` lies outside the box."""
        point = self._as_point(point)
        if not self.contains(*point):
            raise ValueError(f"{name}: {tuple(float(x) for x in point)} lies outside the grid {self!r}")

    def interpolate(self, values, *points) -> np.ndarray | float:
        """Multilinear interpolation of a cell field at arbitrary points.

        ``points`` is one coordinate array per axis (broadcast together). Between the outermost
        cell centre and the box face the field is held constant (periodic axes wrap). Points
        outside the box raise a ValueError.
        """
        values = np.asarray(values, dtype=float)
        if values.shape != self.shape:
            raise ValueError(f"values: expected shape {self.shape}, got {values.shape}")
        if len(points) != self.ndim:
            raise ValueError(f"points: expected {self.ndim} coordinate arrays, got {len(points)}")
        coords = np.broadcast_arrays(*[np.asarray(p, dtype=float) for p in points])
        scalar = coords[0].ndim == 0
        coords = [c.ravel() for c in coords]
        for k, (c, (lo, hi), per) in enumerate(zip(coords, self.bounds, self.periodic)):
            if not per and (np.any(c < lo - 1e-12 * (hi - lo)) or np.any(c > hi + 1e-12 * (hi - lo))):
                bad = c[(c < lo) | (c > hi)][0]
                raise ValueError(f"points: coordinate {self.axis_names[k]} = {bad:g} lies outside [{lo:g}, {hi:g}]")
        lower, weight = self._interpolation_stencil(coords)
        result = np.zeros(coords[0].shape)
        for corner in np.ndindex(*(2,) * self.ndim):
            idx, wt = [], np.ones_like(result)
            for k, bit in enumerate(corner):
                i = lower[k] + bit
                if self.periodic[k]:
                    i = i % self.cells[k]
                idx.append(i)
                wt = wt * (weight[k] if bit else 1.0 - weight[k])
            result += wt * values[tuple(idx)]
        return float(result[0]) if scalar else result.reshape(np.broadcast(*points).shape)

    def interpolation_weights(self, *point) -> np.ndarray:
        """Grid-shaped weights w of one point with ``interpolate(values, *point) == (w * values).sum()``
        for every field: the multilinear (cloud-in-cell) weights of the 2^d nearest cell centres,
        summing to 1 (all on the outer cell between the outermost centre and a wall; wrapped on
        periodic axes). Points outside the box raise a ValueError naming ``point``."""
        self.require_inside(point)
        lower, weight = self._interpolation_stencil([np.array([x]) for x in self._as_point(point)])
        factors = []
        for i0, w, n, per in zip(lower, weight, self.cells, self.periodic):
            axis = np.zeros(n)
            axis[i0[0]] += 1.0 - w[0]
            axis[(i0[0] + 1) % n if per else min(i0[0] + 1, n - 1)] += w[0]
            factors.append(axis)
        out = factors[0]
        for axis in factors[1:]:
            out = np.multiply.outer(out, axis)
        return out.reshape(self.shape)

    def _interpolation_stencil(self, coords) -> tuple:
        """Per axis, the lower stencil cell index and the weight of the upper one for 1-D
        coordinate arrays (the shared core of :meth:`interpolate` and :meth:`interpolation_weights`)."""
        lower, weight = [], []
        for c, (lo, hi), n, per in zip(coords, self.bounds, self.cells, self.periodic):
            s = (c - lo) / (hi - lo) * n - 0.5  # fractional index relative to centres
            i0 = np.floor(s).astype(int)
            w = s - i0
            if per:
                i0 = i0 % n
            else:
                w = np.where(i0 < 0, 0.0, w)  # below the first centre: hold values[0]
                i0 = np.clip(i0, 0, n - 2)
                w = np.where(s >= n - 1, 1.0, w)
                w = np.clip(w, 0.0, 1.0)
            lower.append(i0)
            weight.append(w)
        return lower, weight

    def _as_point(self, point) -> tuple:
        if len(point) == 1 and np.ndim(point[0]) == 1:
            point = tuple(point[0])
        if len(point) != self.ndim:
            raise ValueError(f"point: expected {self.ndim} coordinates, got {len(point)}")
        return tuple(float(x) for x in point)


def _as_bounds(bounds) -> tuple:
    """The box as ``((lo, hi), ...)`` floats; one bare pair ``(lo, hi)`` is a 1-D box.

    Every argument error is a ValueError naming ``bounds`` (case files catch ValueError).
    """
    if isinstance(bounds, (str, bytes)) or not np.iterable(bounds):
        raise ValueError(f"bounds: expected a sequence of (lo, hi) pairs, one per axis, got {bounds!r}")
    bounds = list(bounds)
    if _is_pair(bounds):
        bounds = [bounds]
    out = []
    for k, pair in enumerate(bounds):
        if not _is_pair(pair):
            raise ValueError(
                f"bounds: axis {k}: expected a pair (lo, hi) of numbers, got {pair!r}; "
                "give one (lo, hi) pair per axis, e.g. [(-2, 2), (-1, 1)]"
            )
        lo, hi = (float(v) for v in pair)
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise ValueError(f"bounds: axis {k} has non-finite bounds ({lo}, {hi})")
        if not lo < hi:
            raise ValueError(f"bounds: axis {k} is reversed or empty: lo = {lo:g} >= hi = {hi:g}")
        if not np.isfinite(hi - lo):
            raise ValueError(f"bounds: axis {k} is too wide for floating point: ({lo:g}, {hi:g})")
        out.append((lo, hi))
    return tuple(out)


def _is_number(value) -> bool:
    """A real number that is not a bool (numpy scalars and 0-d arrays included)."""
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, np.ndarray):
        return value.ndim == 0 and value.dtype.kind in "iuf"
    return isinstance(value, numbers.Real)


def _is_pair(value) -> bool:
    if isinstance(value, (str, bytes)) or not np.iterable(value):
        return False
    items = list(value)
    return len(items) == 2 and all(_is_number(v) for v in items)


def _cell_count(n, axis: int) -> int:
    if not _is_number(n) or not np.isfinite(n) or int(n) != n:
        raise ValueError(f"cells: expected a positive integer per axis, got {n!r}")
    if n < 3:
        raise ValueError(f"cells: axis {axis} needs at least 3 cells, got {int(n)}")
    return int(n)


def _flag(value, name: str) -> bool:
    if isinstance(value, (bool, np.bool_)) or (_is_number(value) and value in (0, 1)):
        return bool(value)
    raise ValueError(f"{name}: expected True or False per axis, got {value!r}")


def _per_axis(value, ndim: int, name: str) -> tuple:
    if isinstance(value, (str, bytes)) or not np.iterable(value):
        return (value,) * ndim
    value = tuple(value)
    if len(value) != ndim:
        raise ValueError(f"{name}: expected {ndim} values (one per axis), got {len(value)}")
    return value
