"""Forward evolution and stationary law of the Chebyshev collocation, and the map to grid cells.

The forward operator L* (:func:`fpsolve.discretize.chebyshev.forward_matrix`) with its boundary
rows is a differential-algebraic system: interior points evolve, dp_I/dt = (L* p)_I, and every
boundary point carries one algebraic condition B p = 0 (zero normal flux on a reflecting face,
p = 0 on an absorbing one). Eliminating the boundary values, p_B = -B_B^{-1} B_I p_I, leaves the
ODE dp_I/dt = A p_I, integrated exactly in time by dense matrix exponentials (one per distinct
output step). The stationary law is the null vector of the bordered L* (inverse iteration with one
LU), normalised by Clenshaw-Curtis quadrature (the exact integral of the interpolant).

What the grid sees: densities are reported as **cell averages of the interpolant** over the
grid's cells (exact integrals, so ``grid.integrate(p)`` is the mass to round-off); an initial
density given on the cells is carried to the Chebyshev points by a cubic spline through the cell
values (fourth order: a coarse start limits the accuracy, not the collocation).
"""

from __future__ import annotations

import numpy as np
import scipy.interpolate
import scipy.linalg

from .chebyshev import ChebyshevBox, boundary_faces, flux_matrices, forward_matrix
from .chebyshev_nodes import cumulative_integral

#: A growing mode of the collocated forward operator (its zero eigenvalue pushed to the right by
#: truncation, or a spurious eigenvalue) may change the mass by at most this relative amount
#: over the evolution: e^{rate t} - 1 <= 1e-3 (on an Ornstein-Uhlenbeck test the rate is 1e-3 at
#: 32 points, 7e-7 at 48, 5e-11 at 64, where the density errors are 3e-2, 3e-3, 2e-4).
GROWTH_REFUSE = 1e-3

__all__ = [
    "GROWTH_REFUSE",
    "bordered_forward",
    "cell_average_matrices",
    "evolution_matrix",
    "evolve",
    "from_cells",
    "quadrature_weights",
    "stationary",
    "to_cells",
]


def bordered_forward(model, box: ChebyshevBox, faces, t: float = 0.0) -> tuple:
    """``(M, boundary)``: L* with the boundary points' rows replaced by their conditions, and the
    boolean mask of those points."""
    M = forward_matrix(model, box, t)
    absorbing, reflecting = boundary_faces(box, faces)
    M[absorbing] = np.eye(box.size)[absorbing]
    fluxes = flux_matrices(model, box, t)
    for k in range(box.ndim):
        rows = reflecting == k
        M[rows] = fluxes[k][rows]
    return M, absorbing | (reflecting >= 0)


def evolution_matrix(model, box: ChebyshevBox, faces, t: float = 0.0) -> tuple:
    """``(A, lift, interior)``: dp_I/dt = A p_I, and the full vector p = lift @ p_I."""
    M, boundary = bordered_forward(model, box, faces, t)
    interior = ~boundary
    lift = np.zeros((box.size, int(interior.sum())))
    lift[interior] = np.eye(int(interior.sum()))
    if boundary.any():
        lift[boundary] = -np.linalg.solve(M[np.ix_(boundary, boundary)], M[np.ix_(boundary, interior)])
    return M[interior] @ lift, lift, interior


def quadrature_weights(box: ChebyshevBox) -> np.ndarray:
    """Clenshaw-Curtis weights on the tensor points (C order): w @ f = integral of the interpolant."""
    out = np.ones(1)
    for (lo, hi), n in zip(box.bounds, box.nodes):
        w = np.array([cumulative_integral(e, lo, hi)[-1] for e in np.eye(n)])
        out = np.kron(out, w)
    return out


def cell_average_matrices(box: ChebyshevBox, grid) -> tuple:
    """Per axis, the (cells x points) matrix of exact averages of the interpolant over each cell."""
    out = []
    for (lo, hi), n, faces, h in zip(box.bounds, box.nodes, grid.faces, grid.spacing):
        F = np.array([cumulative_integral(e, lo, hi, faces) for e in np.eye(n)]).T  # faces x points
        out.append((F[1:] - F[:-1]) / h)
    return tuple(out)


def _apply(matrices, values, shape) -> np.ndarray:
    out = np.asarray(values, dtype=float).reshape(shape)
    for k, M in enumerate(matrices):
        out = np.moveaxis(np.tensordot(M, out, axes=([1], [k])), 0, k)
    return out


def to_cells(box: ChebyshevBox, grid, values, averages=None) -> np.ndarray:
    """Point values (shape ``box.nodes``) -> cell averages (shape ``grid.shape``)."""
    return _apply(averages or cell_average_matrices(box, grid), values, box.nodes)


def from_cells(box: ChebyshevBox, grid, cell_values) -> np.ndarray:
    """Cell averages -> values at the Chebyshev points, by histopolation per axis: the cumulative
    mass at the cell faces (exact from the averages) is interpolated by a not-a-knot cubic spline
    and differentiated (third order in the cell width; the mass is kept)."""
    out = np.asarray(cell_values, dtype=float)
    for k, (faces, h, points) in enumerate(zip(grid.faces, grid.spacing, box.points)):
        moved = np.moveaxis(out, k, 0)
        mass = np.concatenate([np.zeros((1,) + moved.shape[1:]), np.cumsum(moved, axis=0) * h])
        spline = scipy.interpolate.CubicSpline(faces, mass, axis=0)
        out = np.moveaxis(spline(points, 1), 0, k)
    return out


def evolve(model, box: ChebyshevBox, faces, grid, p0, times) -> tuple:
    """Densities at ``times`` (cell averages, shape ``(len(times),) + grid.shape``) and stats."""
    A, lift, interior = evolution_matrix(model, box, faces)
    growth = float(np.linalg.eigvals(A).real.max())
    if growth * float(np.max(times)) > GROWTH_REFUSE:
        raise ValueError(
            f"grid: the Chebyshev collocation of this forward problem has a growing mode (rate "
            f"{growth:.3g}, a factor {np.exp(growth * float(np.max(times))):.4g} by t = "
            f"{float(np.max(times)):g}); the points do not resolve the operator (a high Peclet "
            "number or a thin layer): give more cells (points), or use discretization='fv'"
        )
    p = from_cells(box, grid, p0).ravel()
    state = p[interior]
    averages = cell_average_matrices(box, grid)
    out, previous, steps = [], 0.0, 0
    for t in times:
        if t != previous:
            state = scipy.linalg.expm(A * (t - previous)) @ state
            steps += 1
        previous = t
        out.append(to_cells(box, grid, lift @ state, averages))
    return np.array(out), {"steps": steps, "largest_growth_rate": growth}


def stationary(model, box: ChebyshevBox, faces, grid) -> np.ndarray:
    """The normalised stationary density as cell averages (every face reflecting)."""
    M, _ = bordered_forward(model, box, faces)
    # inverse iteration on the (nearly) singular bordered L*: two solves with one LU give its null
    # vector to round-off; the shift keeps an exactly singular M factorizable
    shift = np.finfo(float).eps * np.abs(M).sum(axis=1).max()
    lu = scipy.linalg.lu_factor(M - shift * np.eye(box.size), check_finite=False)
    p = np.ones(box.size)
    for _ in range(3):
        p = scipy.linalg.lu_solve(lu, p / np.abs(p).max(), check_finite=False)
    p = p / (quadrature_weights(box) @ p)
    return to_cells(box, grid, p)
