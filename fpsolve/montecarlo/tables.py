"""Functions tabulated at the centres of a grid and interpolated multilinearly inside kernels.

When numba cannot compile a model's function (arbitrary Python), its values at the cell centres of a
fine :class:`fpsolve.Grid` are packed into a ``_Table`` and read back with :func:`interpolate`. The
error of multilinear interpolation is ~h^2/8 max|f''|; :func:`_table_error` measures it at 2000
random points (numpy twin) for the kernel's notes.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
from numba import njit

from ..grid import Grid

__all__ = ["interpolate"]


@njit(cache=True)
def interpolate(values, shape, lo, h, periodic, x0, x1, x2, col):
    """Multilinear interpolation of column ``col`` of a node table at (x0, x1, x2).

    ``values`` has shape (n0 * n1 * n2, m) (C order, unused axes of length 1); nodes sit at cell
    centres ``lo + (i + 1/2) h`` as in :class:`fpsolve.Grid`; beyond the outermost centre the value
    is held constant, periodic axes wrap.
    """
    idx0 = np.zeros(3, np.int64)
    idx1 = np.zeros(3, np.int64)
    w = np.zeros(3)
    for a in range(3):
        n = shape[a]
        if n == 1:
            continue
        xa = x0 if a == 0 else (x1 if a == 1 else x2)
        s = (xa - lo[a]) / h[a] - 0.5
        i = math.floor(s)
        f = s - i
        if periodic[a]:
            idx0[a] = i % n
            idx1[a] = (i + 1) % n
            w[a] = f
        elif s <= 0.0:
            idx0[a] = 0
            idx1[a] = 0
        elif s >= n - 1:
            idx0[a] = n - 1
            idx1[a] = n - 1
        else:
            idx0[a] = i
            idx1[a] = i + 1
            w[a] = f
    out = 0.0
    for corner in range(8):
        weight = 1.0
        flat = 0
        for a in range(3):
            bit = (corner >> a) & 1
            if bit == 1 and shape[a] == 1:
                weight = 0.0
            weight *= w[a] if bit == 1 else 1.0 - w[a]
            flat = flat * shape[a] + (idx1[a] if bit == 1 else idx0[a])
        if weight != 0.0:
            out += weight * values[flat, col]
    return out


class _Table:
    """Values of m functions at the centres of a grid, packed for :func:`interpolate`."""

    def __init__(self, grid: Grid, columns: np.ndarray):
        d = grid.ndim
        self.grid = grid
        pad = 3 - d
        self.shape = np.array(list(grid.shape) + [1] * pad, dtype=np.int64)
        self.lo = np.array([lo for lo, _ in grid.bounds] + [0.0] * pad)
        self.h = np.array(list(grid.spacing) + [1.0] * pad)
        self.periodic = np.array(list(grid.periodic) + [False] * pad)
        self.values = np.ascontiguousarray(columns.reshape(-1, columns.shape[-1]))

    def arrays(self):
        return self.values, self.shape, self.lo, self.h, self.periodic


def _tabulation_grid(bounds, tabulate, d) -> Grid:
    if isinstance(tabulate, Grid):
        return tabulate
    caps = (8192, 1024, 128)[d - 1]
    if isinstance(bounds, Grid):
        return Grid(bounds.bounds, [min(4 * n, caps) for n in bounds.shape], bounds.periodic)
    if bounds is not None:
        b = np.asarray(bounds, dtype=float).reshape(-1, 2)
        if np.all(np.isfinite(b)):
            return Grid(b, (4096, 512, 96)[d - 1])
    raise ValueError(
        "tabulate: the model's functions could not be compiled with numba, so they must be "
        "tabulated, which needs a finite box: pass bounds=Grid(...) or tabulate=Grid(...)"
    )


def _table_error(grid: Grid, exact: Callable, values: np.ndarray) -> float:
    """Max |interpolated - exact| over 2000 random points, relative to max |exact| (numpy twin)."""
    rng = np.random.default_rng(12345)
    pts = [rng.uniform(lo, hi, 2000) for lo, hi in grid.bounds]
    ex = exact(*pts)  # (m, 2000)
    approx = np.stack([grid.interpolate(values[..., j], *pts) for j in range(values.shape[-1])])
    scale = max(np.max(np.abs(ex)), 1e-300)
    return float(np.max(np.abs(approx - ex)) / scale)
