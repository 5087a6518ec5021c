"""Basins of attraction on the grid (a steepest-descent watershed) and the mass in each over time.

Every cell points to the neighbour (among its 3^d - 1 neighbours, periodic axes wrapped) with the
steepest descent (U_i - U_j) / |x_i - x_j| > 0; following the pointers ends in a *sink*. Cells with
no lower neighbour form plateaus (connected sets of equal U): a plateau that touches a cell with a
lower neighbour drains through it (pointers set by breadth-first flooding from the draining
cells), any other plateau is a minimum. Minima are labelled in the order of ``landscape.minima``
when the landscape lists them (other grid minima, e.g. at the box walls, get the next labels),
else in increasing order of U.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from ..grid import Grid
from ..initial import require_density

__all__ = ["basins", "Basins", "basin_occupancy", "Occupancy"]


@dataclass(frozen=True, eq=False)
class Basins:
    """A watershed partition of the grid.

    Attributes
    ----------
    labels : np.ndarray of int
        Grid-shaped basin index of every cell, 0 .. n - 1.
    minima : list of tuple
        The minimum of each basin (the landscape's own coordinates when it lists them, else the
        centre of the lowest cell).
    sharpness : list of np.ndarray
        Hessian eigenvalues (ascending) at each minimum.
    values : np.ndarray
        U at each minimum.
    grid : Grid
    """

    labels: np.ndarray
    minima: list
    sharpness: list
    values: np.ndarray
    grid: Grid = field(repr=False)

    @property
    def n(self) -> int:
        return len(self.minima)

    def __len__(self) -> int:
        return self.n

    def mask(self, i: int) -> np.ndarray:
        """Boolean mask of basin i."""
        return self.labels == i

    def __repr__(self) -> str:
        parts = ", ".join(
            f"{tuple(round(c, 4) for c in m)} (H eig {np.round(h, 3).tolist()})"
            for m, h in zip(self.minima, self.sharpness)
        )
        return f"Basins({self.n} on {self.grid!r}: {parts})"


def basins(grid: Grid, landscape, values=None) -> Basins:
    """Label every cell by the minimum its steepest-descent path reaches.

    Parameters
    ----------
    grid : Grid
    landscape : Landscape or None
        U, and optionally ``.minima`` (labels follow its order) and ``.hessian`` (sharpness).
    values : array, optional
        U at the cell centres (grid-shaped); default ``landscape`` evaluated on the grid. Pass
        e.g. ``-log p`` to find the basins of a density.
    """
    if values is None:
        if landscape is None:
            raise ValueError("landscape: give a landscape or the values of U on the grid")
        values = np.broadcast_to(landscape(*grid.mesh()), grid.shape)
    u = np.asarray(values, dtype=float)
    if u.shape != grid.shape:
        raise ValueError(f"values: expected shape {grid.shape}, got {u.shape}")
    if not np.all(np.isfinite(u)):
        raise ValueError("values: U is not finite on every cell")
    sink = _descend(grid, u)
    sinks = np.unique(sink)
    # group sink cells into plateau minima (connected equal-U sinks were merged by _descend)
    named = [tuple(float(c) for c in m) for m in (getattr(landscape, "minima", None) or [])]
    order = []
    for m in named:
        if grid.contains(*m):
            target = sink[np.ravel_multi_index(grid.cell_index(*m), grid.shape)]
            order.append(int(target) if target not in order else None)
        else:
            order.append(None)
    rest = [int(s) for s in sinks[np.argsort(u.ravel()[sinks], kind="stable")] if int(s) not in order]
    label_of = {}
    minima = []
    for m, s in zip(named, order):
        if s is not None:
            label_of[s] = len(minima)
            minima.append(m)
    for s in rest:
        label_of[s] = len(minima)
        minima.append(tuple(float(c[i]) for c, i in zip(grid.centers, np.unravel_index(s, grid.shape))))
    lookup = np.zeros(grid.size, dtype=int)
    for s, lab in label_of.items():
        lookup[s] = lab
    labels = lookup[sink].reshape(grid.shape)
    sharpness, vals = [], []
    for m in minima:
        if landscape is not None and hasattr(landscape, "hessian"):
            h = np.asarray(landscape.hessian(*m), dtype=float).reshape(grid.ndim, grid.ndim)
            sharpness.append(np.linalg.eigvalsh(0.5 * (h + h.T)))
            vals.append(float(np.asarray(landscape(*m))))
        else:
            sharpness.append(np.full(grid.ndim, np.nan))
            vals.append(float(u[grid.cell_index(*m)]))
    return Basins(labels, minima, sharpness, np.array(vals), grid)


def _neighbour_offsets(ndim: int):
    return [o for o in itertools.product((-1, 0, 1), repeat=ndim) if any(o)]


def _descend(grid: Grid, u: np.ndarray) -> np.ndarray:
    """For every cell (flat index) the flat index of the sink its steepest-descent path reaches."""
    n = grid.size
    index = np.arange(n).reshape(grid.shape)
    flat_u = u.ravel()
    best_slope = np.zeros(n)
    pointer = np.arange(n)
    neighbours = []
    for offset in _neighbour_offsets(grid.ndim):
        shifted, valid = index, np.ones(grid.shape, dtype=bool)
        for k, o in enumerate(offset):
            if o == 0:
                continue
            shifted = np.roll(shifted, -o, axis=k)
            if not grid.periodic[k]:
                edge = np.zeros(grid.shape, dtype=bool)
                sl = [slice(None)] * grid.ndim
                sl[k] = slice(-1, None) if o > 0 else slice(0, 1)
                edge[tuple(sl)] = True
                valid &= ~edge
        other = shifted.ravel()
        ok = valid.ravel()
        dist = float(np.sqrt(sum((o * h) ** 2 for o, h in zip(offset, grid.spacing))))
        slope = np.where(ok, (flat_u - flat_u[other]) / dist, -np.inf)
        better = slope > best_slope
        best_slope = np.where(better, slope, best_slope)
        pointer = np.where(better, other, pointer)
        neighbours.append((other, ok))
    # plateaus: cells without a lower neighbour that have an equal neighbour
    stuck = pointer == np.arange(n)
    queue = deque()
    for other, ok in neighbours:
        flat = ok & stuck & ~stuck[other] & (flat_u == flat_u[other])
        for i in np.flatnonzero(flat):
            if pointer[i] == i:
                pointer[i] = other[i]
                queue.append(i)
    adjacency = np.stack([np.where(ok, other, -1) for other, ok in neighbours], axis=1)
    while queue:  # flood the draining plateaus breadth first
        i = queue.popleft()
        for j in adjacency[i]:
            if j >= 0 and pointer[j] == j and flat_u[j] == flat_u[i]:
                pointer[j] = i
                queue.append(j)
    # remaining plateaus are minima: point every cell of one at its first cell
    stuck = pointer == np.arange(n)
    for i in np.flatnonzero(stuck):
        if pointer[i] != i:
            continue
        for j in adjacency[i]:
            if j >= 0 and stuck[j] and flat_u[j] == flat_u[i] and j != i:
                _merge_plateau(i, adjacency, pointer, stuck, flat_u)
                break
    while True:  # pointer jumping
        nxt = pointer[pointer]
        if np.array_equal(nxt, pointer):
            return pointer
        pointer = nxt


def _merge_plateau(root, adjacency, pointer, stuck, flat_u) -> None:
    queue = deque([root])
    seen = {root}
    while queue:
        i = queue.popleft()
        for j in adjacency[i]:
            if j >= 0 and j not in seen and stuck[j] and flat_u[j] == flat_u[root]:
                seen.add(j)
                pointer[j] = root
                queue.append(j)


@dataclass(frozen=True, eq=False)
class Occupancy:
    """Probability mass in each basin over time.

    Attributes
    ----------
    t : np.ndarray
        Times (``[inf]`` for a stationary density).
    fractions : np.ndarray
        Shape ``(len(t), n_basins)``: mass in each basin (rows sum to the total mass).
    basins : Basins
    """

    t: np.ndarray
    fractions: np.ndarray
    basins: Basins

    def __repr__(self) -> str:
        last = np.round(self.fractions[-1], 4).tolist()
        return f"Occupancy({len(self.t)} times, {self.basins.n} basins, at t = {self.t[-1]:g}: {last})"

    @property
    def sharpness(self) -> list:
        """Hessian eigenvalues at each basin's minimum."""
        return self.basins.sharpness

    def plot(self, ax=None):
        """Fraction in each basin against t."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        for i, m in enumerate(self.basins.minima):
            h = self.basins.sharpness[i]
            ax.plot(
                self.t,
                self.fractions[:, i],
                label=f"basin {i} at {tuple(round(c, 3) for c in m)}, max H eig {np.max(h):.3g}",
            )
        ax.set_xlabel("t")
        ax.set_ylabel("occupancy")
        ax.legend()
        return ax


def basin_occupancy(sol, basins=None, *, grid: Grid | None = None) -> Occupancy:
    """Mass in each basin: from a :class:`fpsolve.Solution` (over time) or a density array.

    Parameters
    ----------
    sol : Solution or array
        ``sol.t``, ``sol.p``, ``sol.grid``; or one grid-shaped density (e.g.
        ``fpe.stationary()``), reported at t = inf (then pass ``grid=``). Densities must be
        finite and non-negative (:func:`fpsolve.initial.require_density`); a ValueError names
        ``p`` (an array) or the offending ``density`` of a Solution. A Solution from a scheme
        that is not a Markov chain (kinetic, spectral) may undershoot slightly where the density
        is negligible (``evolve`` warns when it matters): its signed mass is counted. Phase-space densities
        (theta, v) are integrated over the velocities first: basins are those of U in theta,
        ``occupancy.basins.grid`` the theta grid; the theta-marginal may carry the small
        undershoots of the second-order kinetic scheme (counted with their sign).
    basins : Basins, Landscape, model or None
        The partition; a landscape (or a model's ``.landscape``) is partitioned with
        :func:`basins`. None uses the basins of -log p of the last density (the landscape's
        basins at equilibrium with constant temperature); prefer passing the landscape.
    """
    signed = False
    if hasattr(sol, "p") and hasattr(sol, "t"):
        rows, t, grid = sol.p, np.asarray(sol.t, dtype=float), sol.grid
        names = [f"sol.p[{i}] (t = {ti:g})" for i, ti in enumerate(t)]
        # evolve's own output: a second-order scheme that is not a Markov chain undershoots by
        # its discretization error (and evolve has warned if that matters)
        signed = float(np.min(rows)) < 0
    else:
        if grid is None:
            grid = getattr(basins, "grid", None)
        if grid is None:
            raise ValueError("grid: pass grid= (or a Basins) with a single density array")
        rows, t, names = [sol], np.array([np.inf]), ["p"]
    d = _position_dim(grid, basins)
    # phase-space densities come from second-order kinetic transport, which undershoots slightly
    # (its discretization error, reported by FokkerPlanck.evolve): their signed mass is counted
    rows = [require_density(row, grid, name, allow_negative=bool(d) or signed) for row, name in zip(rows, names)]
    p = np.stack(rows)
    if d:
        p, grid = _position_marginal(p, grid, d)
    if isinstance(basins, Basins) and basins.labels.shape != grid.shape:
        raise ValueError(f"basins: computed on {basins.grid!r}, but the density lives on {grid!r}")
    if basins is None:
        last = np.maximum(p[-1], 1e-300 * max(float(p[-1].max()), 1e-300))
        basins = globals()["basins"](grid, None, values=-np.log(last))
    elif not isinstance(basins, Basins):
        landscape = getattr(basins, "landscape", basins)
        if not callable(landscape):
            raise TypeError(f"basins: expected a Basins, a Landscape, a model or None, got {type(basins).__name__}")
        basins = globals()["basins"](grid, landscape)
    labels = basins.labels.ravel()
    fractions = np.stack([np.bincount(labels, weights=row.ravel(), minlength=basins.n) for row in p]) * grid.cell_volume
    return Occupancy(t, fractions, basins)


def _position_dim(grid: Grid, basins) -> int:
    """dim theta when ``grid`` is a phase space (theta, v), else 0: axes named as by
    :func:`fpsolve.phase_space_grid`, or basins given on half of the grid's dimensions."""
    if grid.ndim % 2:
        return 0
    d = grid.ndim // 2
    named = (
        ("theta", "v") if d == 1 else tuple(f"theta{k + 1}" for k in range(d)) + tuple(f"v{k + 1}" for k in range(d))
    )
    if tuple(grid.axis_names) == named:
        return d
    if isinstance(basins, Basins):
        return d if basins.grid.ndim == d else 0
    landscape = getattr(basins, "landscape", basins)
    return d if getattr(landscape, "ndim", None) == d else 0


def _position_marginal(p: np.ndarray, grid: Grid, d: int) -> tuple:
    """``(marginals, theta_grid)``: densities of shape ``(times,) + phase-space shape`` integrated
    over the velocity axes (the last d)."""
    velocity_axes = tuple(range(1 + d, 1 + 2 * d))
    marginal = p.sum(axis=velocity_axes) * float(np.prod(grid.spacing[d:]))
    theta_grid = Grid(grid.bounds[:d], grid.cells[:d], periodic=grid.periodic[:d], axis_names=grid.axis_names[:d])
    return marginal, theta_grid
