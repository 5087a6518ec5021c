"""Where a jump process lands when it leaves a domain: a density over the exterior, not face masses.

For dX = b dt + eps dL^alpha killed outside a domain D, a path leaves D by a jump (alpha < 2
paths do not creep out where the drift points inward), and the landing point X_tau has the
density (Ikeda & Watanabe 1962)

    f(y) = int_D G(x0, z) nu(y - z) dz,        y outside D,

with G(x0, .) the Green's function of the killed process (the expected time spent near z before
the exit) and nu the Lévy measure: per axis j, eps_j^alpha_j c_{alpha_j} |s|^{-1-alpha_j} along
the axis; isotropic, eps^alpha c_{d,alpha} |y|^{-d-alpha} (fpsolve.levy_theory). One transposed
solve gives the chain's Green's function row g (g_i: expected time in cell i); the density is
then the sum over live cells of g_i times the Lévy measure averaged over the cell, integrated
exactly along the jump's axis (a piecewise-constant G), so f stays finite up to the domain's edge
where it blows up like dist^(-alpha/2) (Blumenthal, Getoor & Ray 1961). The chain's own numbers
come with it: the probability of landing in each exterior cell of the box, and of landing beyond
the box (its killing).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import levy_theory
from ..grid import Grid
from ..linalg import killing_rates
from .exit import ExitLocations, green_function_row

__all__ = ["JumpExitLocations", "jump_exit_locations", "has_jumps"]

#: Gauss-Legendre points per axis and cell for the isotropic Lévy measure in d >= 2
_SUBCELL_POINTS = 4


def has_jumps(model) -> bool:
    """True for a model with alpha-stable jumps of tail index below 2 (alpha = 2 is a diffusion)."""
    jumps = getattr(model, "jumps", None)
    return jumps is not None and not bool(getattr(jumps, "gaussian", False))


@dataclass(frozen=True, eq=False)
class JumpExitLocations(ExitLocations):
    """Where a jump process started at ``start`` lands when it leaves the domain.

    Attributes (besides ExitLocations')
    ----------
    beyond_box : float
        Probability of landing outside the grid's box (the chain's killing weighted by g).
    green : np.ndarray
        Grid-shaped Green's function row g (expected time spent in each cell before the exit;
        zero outside the domain), in the model's time unit.
    jumps : JumpLaw
        The model's jump law (tail indices, scales, axes).

    ``cells`` holds the chain's probability of landing in each exterior cell inside the box;
    ``faces`` is empty (a jump does not stop at a face). :meth:`density` evaluates the landing
    density at any exterior point, inside or beyond the box.
    """

    beyond_box: float = 0.0
    green: np.ndarray = field(default=None, repr=False)
    inside: np.ndarray = field(default=None, repr=False)
    jumps: object = None

    @property
    def total(self) -> float:
        return float(self.cells.sum() + self.beyond_box)

    def __repr__(self) -> str:
        return (
            f"JumpExitLocations(start {self.start}, into exterior cells of the box {self.cells.sum():.6g}, "
            f"beyond the box {self.beyond_box:.6g})"
        )

    def density(self, *y) -> np.ndarray:
        """Landing density f(y) at exterior points, one coordinate array per axis (broadcast);
        probability per unit length (1-D) or area (2-D). ValueError for a point in a live cell."""
        points = np.stack(np.broadcast_arrays(*[np.asarray(c, dtype=float) for c in y]), axis=-1)
        if points.shape[-1] != self.grid.ndim:
            raise ValueError(f"y: expected {self.grid.ndim} coordinate arrays, got {points.shape[-1]}")
        flat = points.reshape(-1, self.grid.ndim)
        self._require_exterior(flat)
        if self.jumps.isotropic and self.grid.ndim > 1:
            values = _isotropic_density(flat, self.green, self.grid, self.jumps)
        else:
            values = sum(
                _axis_density(flat, self.green, self.grid, axis, alpha, scale)
                for axis, alpha, scale in zip(self.jumps.axes, self.jumps.alphas, self.jumps.scales)
            )
        return np.asarray(values).reshape(points.shape[:-1])

    def _require_exterior(self, flat: np.ndarray) -> None:
        grid = self.grid
        low = np.array([b[0] for b in grid.bounds])
        high = np.array([b[1] for b in grid.bounds])
        in_box = np.all((flat > low) & (flat < high), axis=1)
        if not in_box.any():
            return
        index = tuple(
            np.clip(((flat[in_box] - low) / np.array(grid.spacing)).astype(int), 0, np.array(grid.shape) - 1).T
        )
        live = self.inside[index]
        if live.any():
            bad = flat[in_box][np.argmax(live)]
            raise ValueError(
                f"y: the point {tuple(float(v) for v in bad)} lies in a cell of the domain; "
                "the landing density lives outside the domain"
            )


def jump_exit_locations(target, domain, start) -> JumpExitLocations:
    """The landing law of a jump model's exit from ``domain`` started at ``start`` (see the module
    docstring); ``target`` is a :class:`fpsolve.analysis.backward.Target` whose model has jumps."""
    gen, inside, point, green = green_function_row(target, domain, start)
    cells = gen.outflow(green)
    # what the full Q kills (jumps beyond the box), without the rates into the domain's exterior cells
    beyond = float(np.dot(green, killing_rates(gen.matrix)[gen.live]))
    return JumpExitLocations(
        cells,
        {},
        point,
        target.grid,
        {"green_sum": float(green.sum())},
        beyond_box=beyond,
        green=gen.extend(green),
        inside=inside,
        jumps=target.model.jumps,
    )


def _axis_density(points: np.ndarray, green: np.ndarray, grid: Grid, axis: int, alpha: float, scale: float):
    """Landings from jumps along ``axis``: the jump keeps the other coordinates, so a point y gets
    mass from the line of cells whose other coordinates contain y's; per cell the measure
    eps^alpha c_alpha |y_j - z|^{-1-alpha} integrated exactly over the cell's extent along the axis."""
    if alpha >= 2:
        return np.zeros(len(points))
    c = scale**alpha * levy_theory.stable_jump_constant(alpha)
    faces = grid.bounds[axis][0] + np.arange(grid.shape[axis] + 1) * grid.spacing[axis]
    others = [k for k in range(grid.ndim) if k != axis]
    cross = float(np.prod([grid.spacing[k] for k in others])) if others else 1.0
    out = np.zeros(len(points))
    for n, y in enumerate(points):
        index = []
        for k in others:
            low, high = grid.bounds[k]
            if not low < y[k] < high:
                break  # a jump along this axis cannot reach y from inside the box
            index.append(min(int((y[k] - low) / grid.spacing[k]), grid.shape[k] - 1))
        else:
            line = np.moveaxis(green, axis, -1)[tuple(index)] if others else green
            out[n] = c * np.dot(line, _cell_integrals(y[axis], faces, alpha)) / (grid.spacing[axis] * cross)
    return out


def _cell_integrals(y: float, faces: np.ndarray, alpha: float) -> np.ndarray:
    """int over each cell [faces[k], faces[k+1]] of |y - z|^{-1-alpha} dz, for y outside the cells
    that carry mass (cells containing y get 0: they are exterior, where g = 0)."""
    a, b = faces[:-1], faces[1:]
    out = np.zeros(a.size)
    right = b <= y  # the cell lies left of y
    left = a >= y
    with np.errstate(divide="ignore"):
        out[right] = ((y - b[right]) ** -alpha - (y - a[right]) ** -alpha) / alpha
        out[left] = ((a[left] - y) ** -alpha - (b[left] - y) ** -alpha) / alpha
    return np.where(np.isfinite(out), out, 0.0)


def _isotropic_density(points: np.ndarray, green: np.ndarray, grid: Grid, jumps) -> np.ndarray:
    """Isotropic jumps in d >= 2: sum_i g_i / V_i int_cell_i nu(y - z) dz by Gauss-Legendre points
    in each live cell; refused within one cell of a live cell, where that rule is not accurate."""
    d, alpha = grid.ndim, float(jumps.alphas[0])
    c = float(jumps.scales[0]) ** alpha * levy_theory.stable_jump_constant(alpha, dim=d)
    nodes, weights = np.polynomial.legendre.leggauss(_SUBCELL_POINTS)
    live = np.argwhere(green > 0)
    mass = green[tuple(live.T)]
    centres = np.stack([grid.centers[k][live[:, k]] for k in range(d)], axis=1)
    h = np.array(grid.spacing)
    offsets = np.stack(np.meshgrid(*[nodes / 2] * d, indexing="ij"), axis=-1).reshape(-1, d) * h
    w = np.prod(np.stack(np.meshgrid(*[weights / 2] * d, indexing="ij"), axis=-1).reshape(-1, d), axis=1)
    out = np.zeros(len(points))
    for n, y in enumerate(points):
        gap = np.max(np.abs(centres - y) / h, axis=1)
        if gap.min() < 1.5:
            raise ValueError(
                f"y: {tuple(float(v) for v in y)} is within one cell of the domain, where the "
                "isotropic landing density is not resolved by cell quadrature; evaluate it "
                "further out or refine the grid"
            )
        r = np.linalg.norm(centres[:, None, :] + offsets[None] - y, axis=2)
        out[n] = c * np.sum(mass * (r ** (-d - alpha) @ w))
    return out  # the weights average nu over each cell: g_i / V_i * V_i * mean = g_i * mean
