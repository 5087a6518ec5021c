"""Chebyshev collocation of a diffusion on a box: the backward generator and the forward operator.

On a box [a_0, b_0] x ... (1-D or 2-D) with n_k Chebyshev-Gauss-Lobatto points per axis
(:mod:`fpsolve.discretize.chebyshev_nodes`), a function is its tensor-product polynomial
interpolant, and derivatives are exact derivatives of that interpolant. For the Ito diffusion
dX = b dt + sqrt(2D) dW (D = model.diffusion):

* the backward generator  L f  = sum_k b_k d_k f + sum_kl D_kl d_k d_l f   (exit times, committors);
* the forward operator    L*p  = -sum_k d_k J_k,  with the flux  J_k = b_k p - sum_l d_l (D_kl p).

Boundary conditions replace the collocation equation at the boundary points (row replacement,
Trefethen ch. 7 and 13): an absorbing face gives f = value (backward) or p = 0 (forward); a
reflecting face gives the co-normal condition sum_l D_kl d_l f = 0 (backward) or zero normal flux
J_k = 0 (forward). At a corner shared by an absorbing and a reflecting face the absorbing one wins.

A collocation operator is not a Markov chain: there are no rates between points, solutions have no
sign guarantee, and its accuracy is read off the decay of the solution's Chebyshev coefficients
(:func:`fpsolve.discretize.chebyshev_nodes.tail_ratio`), not from an M-matrix property. Matrices
are dense: n points per axis cost O(n^(3d)) to factor, so the collocation is meant for n up to a
few hundred in 1-D and about 60 per axis in 2-D, which smooth problems need for 1e-10.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.linalg

from ..operators import MatrixFree
from .base import Assembled, Discretization
from .chebyshev_nodes import (
    cumulative_integral,
    differentiation_matrix,
    interpolation_matrix,
    lobatto_points,
)

__all__ = [
    "MAX_UNKNOWNS",
    "ChebyshevBox",
    "ChebyshevCollocation",
    "backward_matrix",
    "boundary_faces",
    "flux_matrices",
    "forward_matrix",
    "solve_backward",
    "solve_backward_1d",
]

#: Dense collocation refuses more unknowns than this (a 4096^2 LU takes ~2 s and 134 MB).
MAX_UNKNOWNS = 4096

KINDS = ("reflecting", "absorbing")


@dataclass(frozen=True, eq=False)
class ChebyshevBox:
    """Tensor-product Lobatto points on a box.

    Attributes
    ----------
    bounds : tuple of (lo, hi)
        One pair per axis.
    nodes : tuple of int
        Points per axis (>= 3), ends included.
    """

    bounds: tuple
    nodes: tuple

    def __post_init__(self):
        object.__setattr__(self, "bounds", tuple((float(lo), float(hi)) for lo, hi in self.bounds))
        object.__setattr__(self, "nodes", tuple(int(n) for n in self.nodes))

    @property
    def ndim(self) -> int:
        return len(self.bounds)

    @property
    def shape(self) -> tuple:
        return self.nodes

    @property
    def size(self) -> int:
        return int(np.prod(self.nodes))

    @cached_property
    def points(self) -> tuple:
        """The Lobatto points of each axis, increasing."""
        return tuple(lobatto_points(n, lo, hi) for (lo, hi), n in zip(self.bounds, self.nodes))

    def mesh(self) -> tuple:
        return tuple(np.meshgrid(*self.points, indexing="ij"))

    @cached_property
    def derivatives(self) -> tuple:
        """d/dx_k on the tensor points (C order), one dense matrix per axis."""
        ones = [np.eye(n) for n in self.nodes]
        out = []
        for k, ((lo, hi), n) in enumerate(zip(self.bounds, self.nodes)):
            factors = list(ones)
            factors[k] = differentiation_matrix(n, lo, hi)
            out.append(_kron(factors))
        return tuple(out)

    def second_derivative(self, k: int, l: int) -> np.ndarray:
        """d^2/dx_k dx_l on the tensor points, as a Kronecker product of 1-D factors."""
        factors = [np.eye(n) for n in self.nodes]
        for axis in (k, l):
            lo, hi = self.bounds[axis]
            factors[axis] = differentiation_matrix(self.nodes[axis], lo, hi) @ factors[axis]
        return _kron(factors)

    def interpolate(self, values, *points) -> np.ndarray:
        """The tensor interpolant of node ``values`` (shape ``nodes``) at points given as one
        coordinate array per axis (broadcast together)."""
        coords = np.broadcast_arrays(*[np.asarray(p, dtype=float) for p in points])
        values = np.asarray(values, dtype=float).reshape(self.nodes)
        if self.ndim == 1:
            return (interpolation_matrix(self.points[0], coords[0]) @ values).reshape(coords[0].shape)
        mx = interpolation_matrix(self.points[0], coords[0])
        my = interpolation_matrix(self.points[1], coords[1])
        return np.einsum("pi,ij,pj->p", mx, values, my).reshape(coords[0].shape)

    def on_tensor(self, values, axes_points: tuple) -> np.ndarray:
        """The interpolant on the tensor product of 1-D point sets ``axes_points`` (one per axis)."""
        out = np.asarray(values, dtype=float).reshape(self.nodes)
        for k, pts in enumerate(axes_points):
            M = interpolation_matrix(self.points[k], pts)
            out = np.moveaxis(np.tensordot(M, out, axes=([1], [k])), 0, k)
        return out


def _kron(factors) -> np.ndarray:
    out = factors[0]
    for f in factors[1:]:
        out = np.kron(out, f)
    return out


def _coefficients(model, box: ChebyshevBox, t: float):
    x = box.mesh()
    b = np.asarray(model.drift(*x, t=t), dtype=float).reshape(box.ndim, box.size)
    D = np.asarray(model.diffusion(*x, t=t), dtype=float).reshape(box.ndim, box.ndim, box.size)
    if not (np.all(np.isfinite(b)) and np.all(np.isfinite(D))):
        raise ValueError("model: the drift or the diffusion is not finite at some collocation point")
    return b, D


def backward_matrix(model, box: ChebyshevBox, t: float = 0.0) -> np.ndarray:
    """L = sum_k b_k d_k + sum_kl D_kl d_k d_l at the tensor points (no boundary rows)."""
    b, D = _coefficients(model, box, t)
    d = box.derivatives
    L = np.zeros((box.size, box.size))
    for k in range(box.ndim):
        L += b[k][:, None] * d[k]
        for l in range(box.ndim):
            if np.any(D[k, l] != 0):
                L += D[k, l][:, None] * box.second_derivative(k, l)
    return L


def flux_matrices(model, box: ChebyshevBox, t: float = 0.0) -> tuple:
    """Per axis k, J_k = F_k p = b_k p - sum_l d_l (D_kl p) at the tensor points."""
    b, D = _coefficients(model, box, t)
    d = box.derivatives
    out = []
    for k in range(box.ndim):
        F = np.diag(b[k])
        for l in range(box.ndim):
            if np.any(D[k, l] != 0):
                F -= d[l] * D[k, l][None, :]
        out.append(F)
    return tuple(out)


def forward_matrix(model, box: ChebyshevBox, t: float = 0.0) -> np.ndarray:
    """L* p = -sum_k d_k J_k at the tensor points (no boundary rows)."""
    return -sum(dk @ Fk for dk, Fk in zip(box.derivatives, flux_matrices(model, box, t)))


def boundary_faces(box: ChebyshevBox, faces) -> tuple:
    """``(absorbing, reflecting)``: per point, the face that sets its boundary row.

    ``faces`` is one ``(low, high)`` pair of kinds per axis ("reflecting" or "absorbing").
    ``absorbing`` is a boolean array over the points (C order); ``reflecting`` an integer array
    holding the axis whose reflecting face the point lies on, or -1 (interior or absorbing points).
    A point on an absorbing face is absorbing; among reflecting faces the first axis wins.
    """
    index = np.unravel_index(np.arange(box.size), box.nodes)
    absorbing = np.zeros(box.size, dtype=bool)
    reflecting = np.full(box.size, -1)
    for k, (pair, n) in enumerate(zip(faces, box.nodes)):
        for end, kind in zip((0, n - 1), pair):
            if kind not in KINDS:
                raise ValueError(f"boundary: unknown kind {kind!r}; expected one of {KINDS}")
            on = index[k] == end
            if kind == "absorbing":
                absorbing |= on
            else:
                reflecting[on & (reflecting < 0)] = k
    reflecting[absorbing] = -1
    return absorbing, reflecting


def solve_backward(model, box: ChebyshevBox, faces, right_hand_sides, face_values=None, t: float = 0.0):
    """Solve L f_m = rhs_m inside, with the boundary rows of ``faces``; one LU for all m.

    Parameters
    ----------
    right_hand_sides : callable
        ``rhs(m, previous)`` -> values at the points (or a scalar) for solve m = 0, 1, ... given
        the previous solution (None for m = 0); it is called until it returns None. Moments of the exit time
        use rhs_n = -n tau_{n-1}.
    face_values : array or None
        Values of f at the absorbing points (C order over all points; only those entries are
        read). Default zero.

    Returns
    -------
    (solutions, info) : list of arrays of shape ``box.nodes``, dict with ``condition`` (the
        1-norm condition number estimate of the bordered matrix) and ``residual`` (largest
        relative residual of the solves).
    """
    if box.size > MAX_UNKNOWNS:
        raise ValueError(
            f"grid: {box.size} collocation points need a dense {box.size}^2 solve; at most "
            f"{MAX_UNKNOWNS} are allowed (smooth problems reach 1e-10 with ~100 points in 1-D and "
            "~40 per axis in 2-D: give fewer cells, or use discretization='fv' for rough problems)"
        )
    A = backward_matrix(model, box, t)
    absorbing, reflecting = boundary_faces(box, faces)
    _, D = _coefficients(model, box, t)
    A[absorbing] = np.eye(box.size)[absorbing]
    for k in range(box.ndim):
        rows = reflecting == k
        if rows.any():
            conormal = sum(D[k, l][:, None] * box.derivatives[l] for l in range(box.ndim))
            A[rows] = conormal[rows]
    boundary = absorbing | (reflecting >= 0)
    given = np.zeros(box.size) if face_values is None else np.asarray(face_values, float).ravel()
    lu = scipy.linalg.lu_factor(A, check_finite=False)
    norm1 = np.abs(A).sum(axis=0).max()
    rcond = scipy.linalg.lapack.dgecon(lu[0], norm1, norm="1")[0]
    out, residual, previous, m = [], 0.0, None, 0
    while (rhs := right_hand_sides(m, previous)) is not None:
        rhs = np.broadcast_to(np.asarray(rhs, dtype=float).ravel(), (box.size,)).copy()
        rhs[boundary] = 0.0
        rhs[absorbing] = given[absorbing]
        x = scipy.linalg.lu_solve(lu, rhs, check_finite=False)
        scale = np.abs(A).sum(axis=1) * np.abs(x).max(initial=0.0) + np.abs(rhs)
        residual = max(residual, float((np.abs(A @ x - rhs) / np.maximum(scale, 1e-300)).max()))
        previous = x.reshape(box.nodes)
        out.append(previous)
        m += 1
    return out, {"condition": 1.0 / max(rcond, 1e-300), "residual": residual}


def solve_backward_1d(model, box: ChebyshevBox, faces, right_hand_sides, face_values=(0.0, 0.0), t: float = 0.0):
    """The 1-D backward equation b f' + D f'' = rhs solved as a first-order one for g = f'.

    In 1-D, L f = r is the first-order equation b g + D g' = r for the derivative g = f', and f is
    g's spectral integral fixed by its absorbing end(s). This avoids the round-off of d^2/dx^2 on
    a solution that is nearly constant at a huge value (a high barrier: the mean exit time from a
    well with dU/T = 20 is 3e8 and flat across the well), which limits the second-order
    collocation to ~1e-6 there, while the first-order form keeps ~1e-12 (tests/test_chebyshev.py).
    A reflecting end gives g = 0 there (D f' = 0); with two absorbing ends g = g_p + c h, where
    h solves the homogeneous equation, and c makes f take both end values.

    Same arguments and returns as :func:`solve_backward` (``face_values`` is ``(f(a), f(b))``).
    """
    ((a, b_end),) = box.bounds
    n = box.size
    if n > MAX_UNKNOWNS:
        raise ValueError(
            f"grid: {n} collocation points exceed the dense limit of {MAX_UNKNOWNS}; "
            "smooth 1-D problems reach 1e-10 with ~100: give fewer cells"
        )
    b, D = _coefficients(model, box, t)
    A = np.diag(b[0]) + D[0, 0][:, None] * box.derivatives[0]
    low, high = faces[0]
    if low == high == "reflecting":
        raise ValueError("domain: both ends reflect, so the process never leaves (infinite exit time)")
    pinned = n - 1 if high == "reflecting" else 0  # g = 0 at a reflecting end, else g_p(a) = 0
    A[pinned] = 0.0
    A[pinned, pinned] = 1.0
    lu = scipy.linalg.lu_factor(A, check_finite=False)
    rcond = scipy.linalg.lapack.dgecon(lu[0], np.abs(A).sum(axis=0).max(), norm="1")[0]
    homogeneous = None
    if low == high == "absorbing":
        e = np.zeros(n)
        e[pinned] = 1.0
        homogeneous = cumulative_integral(scipy.linalg.lu_solve(lu, e, check_finite=False), a, b_end)
    out, residual, previous, m = [], 0.0, None, 0
    while (rhs := right_hand_sides(m, previous)) is not None:
        rhs = np.broadcast_to(np.asarray(rhs, dtype=float).ravel(), (box.size,)).copy()
        rhs[pinned] = 0.0
        g = scipy.linalg.lu_solve(lu, rhs, check_finite=False)
        scale = np.abs(A).sum(axis=1) * np.abs(g).max(initial=0.0) + np.abs(rhs)
        residual = max(residual, float((np.abs(A @ g - rhs) / np.maximum(scale, 1e-300)).max()))
        G = cumulative_integral(g, a, b_end)
        if homogeneous is not None:
            f = face_values[0] + G + (face_values[1] - face_values[0] - G[-1]) / homogeneous[-1] * homogeneous
        elif low == "absorbing":
            f = face_values[0] + G
        else:
            f = face_values[1] - (G[-1] - G)
        previous = f
        out.append(f)
        m += 1
    return out, {"condition": 1.0 / max(rcond, 1e-300), "residual": residual}


def _refuse_cell_operator(_):
    raise ValueError(
        "discretization: the Chebyshev collocation (discretization='spectral' on a non-periodic "
        "box) has no operator on the grid cells (its unknowns are Chebyshev points, not cells): "
        "it evolves densities, finds the stationary law, and solves mean exit times, their moments "
        "and committors itself; for this analysis use discretization='fv'"
    )


class ChebyshevCollocation(Discretization):
    """Chebyshev collocation on a non-periodic 1-D or 2-D box (``discretization="chebyshev"``, and
    what ``"spectral"`` hands non-periodic boxes to).

    The grid gives the box and, per axis, the number of Chebyshev-Gauss-Lobatto points
    (``grid.cells``); densities come back as cell averages of the interpolant
    (:mod:`fpsolve.discretize.chebyshev_forward`), exit times and committors as fields at the cell
    centres with a spectral interpolant (:mod:`fpsolve.analysis.chebyshev_backward`). Not a Markov
    chain: analyses that need rates refuse it, naming ``discretization="fv"``.
    """

    name = "chebyshev"
    markov = False
    generator_like = False
    priority = -10
    evolve_methods = ("exponential",)
    absorbing_cells = False
    undershoot_advice = (
        "Chebyshev collocation is not positivity preserving, and these points do not resolve "
        "the density where it nearly vanishes; give more cells (points per axis), or use "
        "discretization='fv' (positive)"
    )

    def __init__(self, model, grid, boundary, **options):
        if options:
            raise ValueError(f"options: the Chebyshev collocation takes none, got {sorted(options)}")
        super().__init__(model, grid, boundary)
        self.require_model(model, grid)
        if all(grid.periodic):
            raise ValueError(
                "grid: Chebyshev collocation is for non-periodic boxes; on this "
                "periodic grid use discretization='spectral' (Fourier)"
            )
        if any(grid.periodic):
            raise ValueError(
                "grid: Chebyshev collocation needs every axis non-periodic (mixed "
                "periodic boxes are not supported); make every axis periodic for the "
                "Fourier scheme, or use discretization='fv'"
            )
        if grid.size > MAX_UNKNOWNS:
            raise ValueError(
                f"grid: {grid.size} Chebyshev points need dense {grid.size}^2 matrices; at most "
                f"{MAX_UNKNOWNS} (grid.cells is the number of points per axis: smooth problems need "
                "~100 in 1-D, ~40 per axis in 2-D), or use discretization='fv'"
            )
        self.box = ChebyshevBox(grid.bounds, grid.cells)

    @staticmethod
    def require_model(model, grid) -> None:
        """ValueError unless ``model`` is a diffusion with noise on every axis in 1-D or 2-D."""
        if getattr(model, "jumps", None) is not None:
            raise ValueError(
                "model: Chebyshev collocation has no jump (Levy) operator on bounded "
                "boxes; use the Fourier scheme on a periodic grid or "
                "discretization='fv' with the fractional scheme"
            )
        if tuple(getattr(model, "noise_axes", ())) != tuple(range(grid.ndim)):
            raise ValueError(
                "model: Chebyshev collocation needs noise on every axis (phase-space "
                "models: use discretization='kinetic')"
            )
        if grid.ndim > 2:
            raise ValueError(
                f"grid: Chebyshev collocation supports 1-D and 2-D boxes, got {grid.ndim}-D; use discretization='fv'"
            )
        if min(grid.cells) < 4:
            raise ValueError("grid: Chebyshev collocation needs at least 4 points (cells) per axis")

    def assemble(self, t: float = 0.0) -> Assembled:
        n = self.grid.size
        Q = MatrixFree(n, _refuse_cell_operator, _refuse_cell_operator, np.zeros(n))
        return Assembled(Q, None, {"points": self.box.nodes, "box": self.box.bounds})

    def evolve(self, p0, times, method="exponential", *, rtol=None, dt=None, progress=False):
        """Densities at ``times`` (cell averages), exact in time; see chebyshev_forward.evolve."""
        from . import chebyshev_forward

        if method not in self.evolve_methods:
            raise ValueError(f"method: the Chebyshev collocation integrates with {self.evolve_methods}, got {method!r}")
        if not getattr(self.model, "autonomous", True):
            raise ValueError(
                "model: the Chebyshev collocation evolves time-independent models only; "
                "use discretization='fv' for lr or batch_size schedules"
            )
        return chebyshev_forward.evolve(
            self.model, self.box, self.boundary, self.grid, np.asarray(p0, dtype=float), np.asarray(times, dtype=float)
        )

    def stationary(self) -> np.ndarray:
        """The stationary density (cell averages); needs every box face reflecting."""
        from . import chebyshev_forward

        if any(kind != "reflecting" for pair in self.boundary for kind in pair):
            raise ValueError(
                "boundary: a stationary law needs every box face reflecting (mass leaves through absorbing faces)"
            )
        return chebyshev_forward.stationary(self.model, self.box, self.boundary, self.grid)
