"""Mean exit times, their moments, exit locations and committors: backward equations on Q.

For a Markov chain with generator Q on the grid cells and a domain Omega (the live cells; every
other cell, and every absorbing box face, is a cemetery), the first exit time tau from Omega has

    Q_OO tau_1 = -1,    Q_OO tau_n = -n tau_{n-1}   (tau_n = E_x[tau^n], tau_0 = 1),

the discrete backward Kolmogorov equations (Gardiner, ch. 5). Where the chain leaves Omega is
given by the Green's function G = (-Q_OO)^{-1}: the probability of leaving from the start cell s
into an exterior cell j is (G Q_{O,ext})_{sj}, into a box face the killing rate through that
face weighted by G_s. The committor q = P(hit b before a) solves Q q = 0 off a and b, with q = 0 on
a and 1 on b. Everything here talks to :class:`fpsolve.generator.Generator` only.

Where the effective boundary is: absorption in exterior cells puts it at the first exterior
cell centre (the field is 0 there); an "absorbing" box face puts it on the face itself (p = 0 on
the face, a half-cell fitted flux). Both are second order when the continuum boundary is there.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from .. import linalg
from ..generator import Generator, as_mask
from ..grid import Grid
from ..plotting import grid_image
from ..problem import FokkerPlanck
from .fields import Field
from .._warnings import warn as _warn

__all__ = ["mean_exit_time", "exit_locations", "committor", "ExitLocations", "killed_generator",
           "start_cell", "learning_rate"]


def _left_half(*x):
    """The default domain: x_0 < 0 (``lambda x: x < 0`` in 1-D)."""
    return x[0] < 0


def learning_rate(model) -> float | None:
    """lr of an SGD model (t = lr * iterations), else None."""
    lr = getattr(model, "lr", None)
    if lr is None:
        return None
    return float(lr(0.0)) if callable(lr) else float(lr)


def killed_generator(model, grid: Grid, domain=_left_half, boundary="reflecting") -> tuple:
    """The generator of ``model`` killed outside ``domain``: ``(Generator, inside_mask)``.

    ``domain`` is a mask, a predicate on the cell-centre coordinates, or None (the whole box,
    which then needs an absorbing box face). Raises ValueError for an empty domain and for a
    domain from some part of which nothing is ever absorbed (infinite exit time).
    """
    if not getattr(model, "autonomous", True):
        raise ValueError(
            "model: exit times need time-independent coefficients; the model has an lr or "
            "batch_size schedule"
        )
    inside = np.ones(grid.shape, dtype=bool) if domain is None else as_mask(grid, domain, "domain")
    if not inside.any():
        raise ValueError("domain: no cell centre of the grid satisfies it; the domain is empty")
    gen = FokkerPlanck(model, grid, boundary=boundary).generator.with_absorbing(~inside)
    _require_absorption(gen)
    return gen, inside


def _require_absorption(gen: Generator) -> None:
    """ValueError when some live cells can never reach a cemetery (their exit time is infinite)."""
    if not gen.has_killing:
        raise ValueError(
            "domain: nothing is ever absorbed (the domain covers the whole box and no box face is "
            "absorbing), so the exit time is infinite; give a smaller domain or boundary='absorbing'"
        )
    sub = gen.sub.tocoo()
    n = gen.n_live
    off = (sub.row != sub.col) & (sub.data > 0)
    scale = float(np.abs(gen.sub.diagonal()).max())
    killing = np.flatnonzero(gen.killing > 1e-12 * scale)
    # edges j -> i whenever i can jump to j: search backwards from a virtual cemetery node n
    rows = np.concatenate([sub.col[off], np.full(killing.size, n)])
    cols = np.concatenate([sub.row[off], killing])
    graph = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n + 1, n + 1))
    reached = csgraph.breadth_first_order(graph, n, directed=True, return_predecessors=False)
    if reached.size < n + 1:
        hit = np.ones(n + 1, dtype=bool)
        hit[reached] = False
        cell = np.flatnonzero(gen.live)[np.flatnonzero(hit[:n])[0]]
        point = tuple(round(float(c[i]), 6) for c, i in zip(gen.grid.centers, np.unravel_index(cell, gen.grid.shape)))
        raise ValueError(
            f"domain: from {int(hit[:n].sum())} cells (e.g. x = {point}) the process can never leave "
            "the domain, so the exit time is infinite there; make the domain connected to its exterior"
        )


def start_cell(grid: Grid, start, inside: np.ndarray | None = None, name: str = "start") -> tuple:
    """The index of the cell containing ``start``; ValueError naming ``start`` when it lies
    outside the grid or outside the domain."""
    point = tuple(np.atleast_1d(np.asarray(start, dtype=float)).ravel())
    if len(point) != grid.ndim:
        raise ValueError(f"{name}: expected {grid.ndim} coordinates, got {len(point)}")
    grid.require_inside(point, name)
    index = grid.cell_index(*point)
    if inside is not None and not inside[index]:
        raise ValueError(f"{name}: {point} lies outside the domain (its cell is absorbing)")
    return index


def mean_exit_time(model, grid: Grid, domain=_left_half, *, boundary="reflecting", moments: int = 1) -> Field:
    """Mean first exit time tau(x) = E_x[inf{t : X_t not in domain}] on every cell: Q tau = -1.

    Parameters
    ----------
    model : fpsolve.dynamics.Model
        Langevin, SGD or any time-independent Ito diffusion.
    grid : Grid
    domain : mask, predicate or None
        The cells the process lives in, e.g. ``lambda x, y: x < 0``; exterior cells are absorbing
        (tau = 0 there). Default ``x_0 < 0``. None means the whole box (with absorbing box faces).
    boundary : str, sequence or dict
        Box faces, as for :class:`fpsolve.FokkerPlanck` ("reflecting", "absorbing", ...).
    moments : int
        Number of moments E[tau^n], n = 1..moments, by the recursive solves Q tau_n = -n tau_{n-1}
        (one LU factorization for all).

    Returns
    -------
    Field
        ``values`` (continuous time; ``iterations`` = values / lr for SGD), ``moments``,
        ``variance`` when moments >= 2; ``tau(x)`` interpolates.

    Raises
    ------
    ValueError
        Empty domain; a domain that is never left (infinite exit time); moments < 1.
    """
    if int(moments) != moments or moments < 1:
        raise ValueError(f"moments: expected a positive integer, got {moments!r}")
    begin = time.perf_counter()
    gen, inside = killed_generator(model, grid, domain, boundary)
    assembled = time.perf_counter()
    previous = np.ones(gen.n_live)
    out = []
    for n in range(1, int(moments) + 1):
        previous = gen.solve(-n * previous)
        _require_resolved(previous, gen, n)
        out.append(gen.extend(previous))
    info = {"cells": gen.n_live, "assemble_seconds": assembled - begin,
            "solve_seconds": time.perf_counter() - assembled}
    return Field(out[0], grid, "mean exit time", learning_rate(model), tuple(out), inside, info)


#: Refuse mean exit times whose condition estimate eps * max|Q_ii| * max tau exceeds this, and
#: warn above RESOLUTION_WARN. Measured on the 1-D and 2-D double well against the exact discrete
#: (birth-death, log-domain) solution: relative errors are about 1/50 of the estimate (2e-4 at
#: 1e-2, 1 % at 0.4, 16 % at 40), and positive garbage (too small by 1e6) follows beyond it.
RESOLUTION_REFUSE = 1.0
RESOLUTION_WARN = 1e-2


def _require_resolved(values: np.ndarray, gen, n: int) -> None:
    """(-Q)^-1 of an M-matrix is non-negative: negative or non-finite moments mean the solve lost
    all accuracy. For the first moment the generator's own error estimate
    (:meth:`fpsolve.generator.Generator.solve_error`: entrywise accurate for 1-D birth-death
    chains, eps max|Q_ii| max tau otherwise) decides between refusing and warning."""
    scale = float(np.abs(values).max(initial=0.0))
    estimate = gen.solve_error(values) if n == 1 else 0.0
    if (not np.all(np.isfinite(values)) or values.min(initial=0.0) < -1e-8 * scale
            or estimate > RESOLUTION_REFUSE):
        fastest = float(np.abs(gen.sub.diagonal()).max())
        raise ValueError(
            f"domain: the exit-time moment {n} is not resolved in double precision (values up to "
            f"{scale:.3g} against the fastest rate {fastest:.3g} of the grid: the linear solve lost "
            "all accuracy). The barrier is too high for the noise (dU/D beyond ~30 on 2-D and "
            "3-D grids); raise the noise (smaller batch size, larger lr) or lower the barrier"
        )
    if estimate > RESOLUTION_WARN:
        _warn(
            f"mean_exit_time: exit times up to {scale:.3g} are near the limit of double precision "
            f"for this grid; expect relative errors up to about {estimate:.0e} (dU/D is close to ~30)")


@dataclass(frozen=True, eq=False)
class ExitLocations:
    """Where the process leaves the domain, started from one point.

    Attributes
    ----------
    cells : np.ndarray
        Grid-shaped: probability of the first step out of the domain landing in each exterior
        cell (zero inside the domain).
    faces : dict
        ``{(axis_name, "low" | "high"): array}``: probability of being absorbed through each
        cell's face on an absorbing box face (the array has the grid shape without that axis).
    start : tuple
    grid : Grid
    """

    cells: np.ndarray
    faces: dict
    start: tuple
    grid: Grid
    info: dict = field(default_factory=dict, repr=False)

    @property
    def total(self) -> float:
        """Total probability (1 up to round-off when the process surely leaves)."""
        return float(self.cells.sum() + sum(float(f.sum()) for f in self.faces.values()))

    @property
    def through_faces(self) -> float:
        """Probability of leaving through absorbing box faces."""
        return float(sum(float(f.sum()) for f in self.faces.values()))

    def __repr__(self) -> str:
        return (f"ExitLocations(start {self.start}, into exterior cells {self.cells.sum():.6g}, "
                f"through box faces {self.through_faces:.6g})")

    def plot(self, ax=None):
        """Exit probability per exterior cell (1-D: stems; 2-D: image)."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        if self.grid.ndim == 1:
            ax.stem(self.grid.centers[0], self.cells)
            ax.set_xlabel(self.grid.axis_names[0])
        else:
            grid_image(ax, self.grid, self.cells)
        ax.set_title(f"exit location from {self.start}")
        return ax


def exit_locations(model, grid: Grid, domain=_left_half, start=None, *, boundary="reflecting") -> ExitLocations:
    """The distribution of where the process leaves ``domain`` when started at ``start``.

    One transposed solve gives the Green's function row g = e_s^T (-Q_OO)^{-1} (the expected time
    spent in each cell before exit); the exit probability into exterior cell j is sum_i g_i Q_ij,
    and through an absorbing box face the face's killing rate weighted by g.
    """
    if start is None:
        raise ValueError("start: give the starting point, e.g. start=-1.0 or start=(-1, 0)")
    gen, inside = killed_generator(model, grid, domain, boundary)
    index = start_cell(grid, start, inside)
    live_index = np.cumsum(gen.live) - 1
    s = int(live_index[np.ravel_multi_index(index, grid.shape)])
    e = np.zeros(gen.n_live)
    e[s] = 1.0
    green = linalg.solve(-gen.forward, e)  # (-Q_OO)^T g = e_s
    into = gen.rates_into(~inside)
    cells = np.zeros(grid.size)
    cells[(~inside).ravel()] = into.T @ green
    faces = _face_exits(gen, green)
    point = tuple(float(c[i]) for c, i in zip(grid.centers, index))
    return ExitLocations(cells.reshape(grid.shape), faces, point, grid, {"green_sum": float(green.sum())})


def _face_exits(gen: Generator, green: np.ndarray) -> dict:
    """Absorption through box faces, from the scheme's face fluxes (rate = outward flux / h)."""
    grid = gen.grid
    out = {}
    if gen.face_flux is None:
        return out
    density = gen.extend(green).ravel()
    for k, flux in enumerate(gen.face_flux):
        if grid.periodic[k]:
            continue
        shape_f = list(grid.shape)
        shape_f[k] += 1
        j = (flux @ density).reshape(shape_f)
        for side, name in ((0, "low"), (1, "high")):
            face = np.take(j, 0 if side == 0 else shape_f[k] - 1, axis=k)
            outward = (-face if side == 0 else face) / grid.spacing[k]
            if np.any(outward != 0):
                out[(grid.axis_names[k], name)] = np.maximum(outward, 0.0)
    return out


def committor(model, grid: Grid, a=None, b=None, *, boundary="reflecting") -> Field:
    """The committor q(x) = P_x(hit b before a): Q q = 0 off a and b, q = 0 on a, q = 1 on b.

    Parameters
    ----------
    a, b : mask or predicate
        The two target sets (disjoint, non-empty), e.g. ``a=lambda x: x < -1, b=lambda x: x > 1``.
    boundary : str, sequence or dict
        Box faces. Mass killed at an absorbing box face counts as hitting neither set.
    """
    if a is None or b is None:
        raise ValueError("a, b: give both target sets, e.g. a=lambda x: x < -1, b=lambda x: x > 1")
    in_a, in_b = as_mask(grid, a, "a"), as_mask(grid, b, "b")
    for name, mask in (("a", in_a), ("b", in_b)):
        if not mask.any():
            raise ValueError(f"{name}: no cell centre of the grid satisfies it; the set is empty")
    if (in_a & in_b).any():
        raise ValueError(f"a, b: the target sets overlap in {int((in_a & in_b).sum())} cells")
    begin = time.perf_counter()
    gen, inside = killed_generator(model, grid, ~(in_a | in_b), boundary)
    rhs = -np.asarray(gen.rates_into(in_b).sum(axis=1)).ravel()
    q = gen.extend(gen.solve(rhs))
    q[in_b] = 1.0
    info = {"cells": gen.n_live, "seconds": time.perf_counter() - begin}
    return Field(q, grid, "committor", None, (), inside, info)
