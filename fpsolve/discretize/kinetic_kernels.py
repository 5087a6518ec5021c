"""Matrix-free kinetic operator: Numba kernels applying Q f and Q^T p of the "kinetic" scheme on
phase space (theta, v) without storing Q, from the scheme's per-face coefficients.

The operator is the one of :mod:`fpsolve.discretize.kinetic_fluxes` (same faces, same ghosts,
same fitted velocity fluxes; the tests compare it entry by entry with that module's sparse
matrix). In conservation form dp/dt = Q^T p = -sum_a Div_a J_a, with J_a the face fluxes:

* theta axis k, face f between cells f - 1 and f at the cell row's velocity v_j:
  J = v_j [w_2 p_up2 + w_1 p_up + w_0 p_down] (upwind by the sign of v_j); outside the box the
  stencil reads ghosts: specular walls mirror (i, j) -> (-1 - i, n_v - 1 - j), absorbing faces
  read zero and let nothing in, periodic axes wrap;
* velocity axis k, interior face between v_j and v_{j+1} at theta cell i:
  J = left[i, j] p_j - right[i, j] p_{j+1} (Scharfetter-Gummel: left = D_kk B(-Pe) / h_v,
  right = D_kk B(Pe) / h_v, Pe = h_v (-gamma v_face + F_k(theta_i)) / D_kk); the outer faces of
  the velocity box carry nothing;
* velocity cross diffusion (4-D phase space with noise correlated across velocities, D_km != 0):
  the face flux of v_k also carries -D_km d_{v_m} p, the mean of one-sided differences along v_m
  at the face's two cells, on the side that the sign of D_km picks (the stencil of finite
  volumes, fpsolve.discretize.fv._cross_terms; a difference whose neighbour lies outside the
  velocity box is dropped). The face flux is conservative, so Q stays generator-like (rows sum
  to zero); the stencil is the skew one along the correlation, second order.

The backward operator is the transpose, Q f = sum_a F_a^T g_a with g_a = Div_a^T f the face
differences (f_R - f_L) / h, missing cells read as zero. Every kernel walks the lines of one axis
(all cells sharing the other indices) in parallel; a line writes only into itself (a specular
ghost stays in its theta line), so the scatter is race-free. Memory is O(cells) for the vectors
and O(theta cells x velocity faces) for the coefficients: 48^4 = 5.3e6 cells cost 42 MB a vector.

Units: theta in parameter units, v in parameter units per unit time, Q in 1/time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numba import njit, prange

from ..operators import MatrixFree
from .fv import bernoulli
from .kinetic_cross import cross_coefficients, cross_kernel, cross_triplets, cross_view
from .kinetic_fluxes import TRANSPORT_WEIGHTS

__all__ = [
    "KineticCoefficients",
    "kinetic_coefficients",
    "matrix_free_kinetic",
    "sparse_kinetic",
    "apply_forward",
    "apply_backward",
    "kinetic_diagonal",
    "FACE_KINDS",
]

#: Integer codes of the theta face kinds handed to the kernels.
FACE_KINDS = {"reflecting": 0, "absorbing": 1, "periodic": 2}
_SPECULAR, _ABSORBING, _PERIODIC = 0, 1, 2


@dataclass(frozen=True, eq=False)
class KineticCoefficients:
    """The per-face coefficients of the kinetic operator on a phase-space grid of shape
    ``theta_shape + velocity_shape`` (``d`` theta axes, then their ``d`` velocity axes).

    Attributes
    ----------
    shape : tuple of int
        The grid shape.
    velocities : tuple of arrays
        Per theta axis k, the cell-centre velocities of its velocity axis (units theta / time).
    theta_spacing, velocity_spacing : tuple of float
        Cell sizes h of the theta and velocity axes.
    faces : tuple of (int, int)
        Per theta axis, the (low, high) face kinds as codes of :data:`FACE_KINDS`.
    weights : (float, float, float)
        Transport weights (w_2, w_1, w_0) of :data:`fpsolve.discretize.kinetic_fluxes.TRANSPORT_WEIGHTS`.
    left, right : tuple of arrays
        Per velocity axis k, arrays of shape (theta cells, n_vk - 1) in 1/time * h_v:
        the velocity-face flux is J = left p_j - right p_{j+1} (units of p times velocity / time).
    cross : tuple of arrays
        In 4-D phase space with cross diffusion, per velocity axis k the D_km(theta) (m != k) at
        the theta cells, shape (theta cells,), in velocity^2 / time; empty without cross terms.
    """

    shape: tuple
    velocities: tuple
    theta_spacing: tuple
    velocity_spacing: tuple
    faces: tuple
    weights: tuple
    left: tuple
    right: tuple
    cross: tuple = ()

    @property
    def dim(self) -> int:
        return len(self.velocities)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))


def kinetic_coefficients(grid, model, boundary, t: float = 0.0, transport: str = "second-order") -> KineticCoefficients:
    """The coefficients of the kinetic scheme for ``model`` on the phase-space ``grid`` at time t.

    ``boundary`` is the normalized per-axis (low, high) face kinds (as ``FokkerPlanck.boundary``).
    Cross diffusion D_km (noise correlated across velocities, 4-D phase space) is kept when some
    |D_km| exceeds round-off of sqrt(D_kk D_mm) (:mod:`fpsolve.discretize.kinetic_cross`).
    """
    d = model.dim
    theta_shape = grid.shape[:d]
    theta = [c.reshape([-1 if a == k else 1 for a in range(d)]) for k, c in enumerate(grid.centers[:d])]
    force = np.broadcast_to(model.force(*theta, t=t), (d,) + theta_shape)
    diffusion = np.broadcast_to(model.velocity_diffusion(*theta, t=t), (d, d) + theta_shape)
    gamma = float(model.friction_at(t))
    left, right = [], []
    for k, v_axis in enumerate(model.velocity_axes):
        h = grid.spacing[v_axis]
        v_face = grid.faces[v_axis][1:-1]
        dkk = diffusion[k, k].reshape(-1, 1)
        peclet = h * (-gamma * v_face[None, :] + force[k].reshape(-1, 1)) / dkk
        left.append(np.ascontiguousarray(dkk / h * bernoulli(-peclet)))
        right.append(np.ascontiguousarray(dkk / h * bernoulli(peclet)))
    return KineticCoefficients(
        shape=tuple(grid.shape),
        velocities=tuple(np.ascontiguousarray(grid.centers[v], dtype=float) for v in model.velocity_axes),
        theta_spacing=tuple(float(grid.spacing[k]) for k in model.position_axes),
        velocity_spacing=tuple(float(grid.spacing[v]) for v in model.velocity_axes),
        faces=tuple((FACE_KINDS[boundary[k][0]], FACE_KINDS[boundary[k][1]]) for k in model.position_axes),
        weights=tuple(float(w) for w in TRANSPORT_WEIGHTS[transport]),
        left=tuple(left),
        right=tuple(right),
        cross=cross_coefficients(diffusion),
    )


def _transport_view(coefficients, k):
    """(A, n, B, m, C): the grid shape split around theta axis k and its velocity axis."""
    shape, d = coefficients.shape, coefficients.dim
    before = int(np.prod(shape[:k]))
    between = int(np.prod(shape[k + 1 : d + k]))
    after = int(np.prod(shape[d + k + 1 :]))
    return before, shape[k], between, shape[d + k], after


def _velocity_view(coefficients, k):
    """(T, B, m, C): theta cells, velocity axes before v_k, v_k, velocity axes after."""
    shape, d = coefficients.shape, coefficients.dim
    return (int(np.prod(shape[:d])), int(np.prod(shape[d : d + k])), shape[d + k], int(np.prod(shape[d + k + 1 :])))


def apply_forward(coefficients: KineticCoefficients, p) -> np.ndarray:
    """Q^T p: the forward operator dp/dt on a flat density vector (C order, length grid.size)."""
    return _apply(coefficients, np.ascontiguousarray(p, dtype=float), 0)


def apply_backward(coefficients: KineticCoefficients, f) -> np.ndarray:
    """Q f: the backward (Kolmogorov) operator on a flat function vector."""
    return _apply(coefficients, np.ascontiguousarray(f, dtype=float), 1)


def kinetic_diagonal(coefficients: KineticCoefficients) -> np.ndarray:
    """The diagonal Q_ii (flat, non-positive)."""
    return _apply(coefficients, np.zeros(coefficients.size), 2)


def _apply(c: KineticCoefficients, x, mode: int) -> np.ndarray:
    """Sum over axes of one kernel pass each; mode 0: Q^T x, 1: Q x, 2: diagonal of Q."""
    out = np.zeros(c.size)
    w2, w1, w0 = c.weights
    for k in range(c.dim):
        view = _transport_view(c, k)
        _transport_kernel(
            x.reshape(view),
            out.reshape(view),
            c.velocities[k],
            c.theta_spacing[k],
            w2,
            w1,
            w0,
            c.faces[k][0],
            c.faces[k][1],
            mode,
        )
    for k in range(c.dim):
        view = _velocity_view(c, k)
        _velocity_kernel(x.reshape(view), out.reshape(view), c.left[k], c.right[k], c.velocity_spacing[k], mode)
    for k in range(len(c.cross)):
        view = cross_view(c)
        cross_kernel(
            x.reshape(view), out.reshape(view), c.cross[k], c.velocity_spacing[k], c.velocity_spacing[1 - k], k, mode
        )
    return out


@njit(cache=True, inline="always")
def _ghost(t, j, n, m, low, high):
    """The cell (theta index, velocity index) the stencil reads at theta index t of velocity
    row j, or (-1, j) for an empty (absorbing) ghost."""
    if 0 <= t < n:
        return t, j
    kind = low if t < 0 else high
    if kind == _PERIODIC:
        return t % n, j
    if kind == _ABSORBING:
        return -1, j
    if t < 0:  # specular: the mirror cell with the opposite velocity
        return -1 - t, m - 1 - j
    return 2 * n - 1 - t, m - 1 - j


@njit(cache=True, inline="always")
def _face(f, v, n, low, high):
    """The theta face f at velocity v: ``(open, left, right, t2, t1, t0)``: whether it carries a
    flux (an absorbing face lets nothing in), the cells on its two sides (-1 outside the box), and
    the theta indices its upwind stencil reads with weights w2, w1, w0 (ghosts by :func:`_ghost`)."""
    closed = (f == 0 and v > 0 and low == _ABSORBING) or (f == n and v < 0 and high == _ABSORBING)
    left = f - 1 if f > 0 else (n - 1 if low == _PERIODIC else -1)
    right = f if f < n else (0 if high == _PERIODIC else -1)
    if v > 0:
        return not closed, left, right, f - 2, f - 1, f
    return not closed, left, right, f + 1, f, f - 1


@njit(parallel=True, cache=True)
def _transport_kernel(x, out, velocity, h, w2, w1, w0, low, high, mode):
    """Add one theta axis's transport to ``out`` (5-D views (A, n, B, m, C), see :func:`_apply`).
    Parallel over (A, B); the stencil of each face is found once and applied along C, the
    contiguous axis."""
    A, n, B, m, C = x.shape
    first_face = 1 if low == _PERIODIC else 0
    for ab in prange(A * B):
        a = ab // B
        b = ab % B
        for j in range(m):
            v = velocity[j]
            if v == 0.0:
                continue
            for f in range(first_face, n + 1):
                is_open, left, right, t2, t1, t0 = _face(f, v, n, low, high)
                if not is_open:
                    continue
                i2, j2 = _ghost(t2, j, n, m, low, high)
                i1, j1 = _ghost(t1, j, n, m, low, high)
                i0, j0 = _ghost(t0, j, n, m, low, high)
                c2 = w2 * v / h if i2 >= 0 else 0.0
                c1 = w1 * v / h if i1 >= 0 else 0.0
                c0 = w0 * v / h if i0 >= 0 else 0.0
                i2, i1, i0 = max(i2, 0), max(i1, 0), max(i0, 0)
                if mode == 0:
                    for c in range(C):
                        flux = c2 * x[a, i2, b, j2, c] + c1 * x[a, i1, b, j1, c] + c0 * x[a, i0, b, j0, c]
                        if left >= 0:
                            out[a, left, b, j, c] -= flux
                        if right >= 0:
                            out[a, right, b, j, c] += flux
                elif mode == 1:
                    for c in range(C):
                        g = 0.0
                        if right >= 0:
                            g += x[a, right, b, j, c]
                        if left >= 0:
                            g -= x[a, left, b, j, c]
                        out[a, i2, b, j2, c] += c2 * g
                        out[a, i1, b, j1, c] += c1 * g
                        out[a, i0, b, j0, c] += c0 * g
                else:
                    for i, jj, coefficient in ((i2, j2, c2), (i1, j1, c1), (i0, j0, c0)):
                        if jj == j and (i == right or i == left):
                            sign = 1.0 if i == right else -1.0
                            for c in range(C):
                                out[a, i, b, jj, c] += sign * coefficient


@njit(parallel=True, cache=True)
def _velocity_kernel(x, out, left, right, h, mode):
    """Add one velocity axis's fitted fluxes to ``out`` (4-D views (T, B, m, C)); parallel over
    (T, B), C innermost (contiguous)."""
    T, B, m, C = x.shape
    for tb in prange(T * B):
        i = tb // B
        b = tb % B
        for j in range(m - 1):
            a_left = left[i, j] / h
            a_right = right[i, j] / h
            if mode == 0:
                for c in range(C):
                    flux = a_left * x[i, b, j, c] - a_right * x[i, b, j + 1, c]
                    out[i, b, j, c] -= flux
                    out[i, b, j + 1, c] += flux
            elif mode == 1:
                for c in range(C):
                    g = x[i, b, j + 1, c] - x[i, b, j, c]
                    out[i, b, j, c] += a_left * g
                    out[i, b, j + 1, c] -= a_right * g
            else:
                for c in range(C):
                    out[i, b, j, c] -= a_left
                    out[i, b, j + 1, c] -= a_right


def sparse_kinetic(coefficients: KineticCoefficients) -> sp.csr_matrix:
    """Q as a sparse CSR matrix, assembled from the same coefficients by the same stencils
    (for small grids: planes of a preconditioner, 2-D direct solves, tests)."""
    c = coefficients
    bound = 6 * c.size * c.dim + 4 * c.size * c.dim
    rows = np.empty(bound, dtype=np.int64)
    cols = np.empty(bound, dtype=np.int64)
    vals = np.empty(bound)
    count = 0
    index = np.arange(c.size, dtype=np.int64)
    w2, w1, w0 = c.weights
    for k in range(c.dim):
        count = _transport_triplets(
            index.reshape(_transport_view(c, k)),
            c.velocities[k],
            c.theta_spacing[k],
            w2,
            w1,
            w0,
            c.faces[k][0],
            c.faces[k][1],
            rows,
            cols,
            vals,
            count,
        )
    for k in range(c.dim):
        count = _velocity_triplets(
            index.reshape(_velocity_view(c, k)), c.left[k], c.right[k], c.velocity_spacing[k], rows, cols, vals, count
        )
    if c.cross:
        extra = 8 * c.size * len(c.cross)
        rows, cols, vals = (np.concatenate([a[:count], np.empty(extra, dtype=a.dtype)]) for a in (rows, cols, vals))
    for k in range(len(c.cross)):
        count = cross_triplets(
            index.reshape(cross_view(c)),
            c.cross[k],
            c.velocity_spacing[k],
            c.velocity_spacing[1 - k],
            k,
            rows,
            cols,
            vals,
            count,
        )
    Q = sp.csr_matrix((vals[:count], (rows[:count], cols[:count])), shape=(c.size, c.size))
    Q.sum_duplicates()
    Q.eliminate_zeros()
    return Q


@njit(cache=True)
def _transport_triplets(index, velocity, h, w2, w1, w0, low, high, rows, cols, vals, count):
    """Append the entries of one theta axis's transport (mode 1 of the kernel, entry by entry)."""
    A, n, B, m, C = index.shape
    first_face = 1 if low == _PERIODIC else 0
    for a in range(A):
        for b in range(B):
            for c in range(C):
                for j in range(m):
                    v = velocity[j]
                    if v == 0.0:
                        continue
                    for f in range(first_face, n + 1):
                        is_open, left, right, t2, t1, t0 = _face(f, v, n, low, high)
                        if not is_open:
                            continue
                        for t, w in ((t2, w2), (t1, w1), (t0, w0)):
                            if w == 0.0:
                                continue
                            i, jj = _ghost(t, j, n, m, low, high)
                            if i < 0:
                                continue
                            for cell, sign in ((right, 1.0), (left, -1.0)):
                                if cell >= 0:
                                    rows[count] = index[a, i, b, jj, c]
                                    cols[count] = index[a, cell, b, j, c]
                                    vals[count] = sign * w * v / h
                                    count += 1
    return count


@njit(cache=True)
def _velocity_triplets(index, left, right, h, rows, cols, vals, count):
    """Append the entries of one velocity axis's fitted fluxes."""
    T, B, m, C = index.shape
    for i in range(T):
        for b in range(B):
            for c in range(C):
                for j in range(m - 1):
                    low, up = index[i, b, j, c], index[i, b, j + 1, c]
                    for row, col, value in (
                        (low, up, left[i, j] / h),
                        (low, low, -left[i, j] / h),
                        (up, up, -right[i, j] / h),
                        (up, low, right[i, j] / h),
                    ):
                        rows[count] = row
                        cols[count] = col
                        vals[count] = value
                        count += 1
    return count


def matrix_free_kinetic(coefficients: KineticCoefficients) -> MatrixFree:
    """The kinetic operator as a :class:`fpsolve.operators.MatrixFree` generator: Q f, Q^T p and
    the diagonal by the kernels above, O(cells) memory.

    Solves (:func:`fpsolve.solvers.krylov_solver`) are preconditioned in 4-D phase space by the
    alternating-direction plane solves of :mod:`fpsolve.discretize.kinetic_planes`, which factor
    only 2-D planes; in 2-D phase space the operator is one plane, and its exact sparse matrix is
    handed over as ``approximate`` (its LU makes GMRES converge in one step).
    """
    c = coefficients
    operator = MatrixFree(
        c.size,
        lambda f: apply_backward(c, f),
        lambda p: apply_forward(c, p),
        kinetic_diagonal(c),
        approximate=sparse_kinetic(c) if c.dim == 1 else None,
        preconditioner=_plane_factory(c) if c.dim == 2 else None,
    )
    return operator


def _plane_factory(c: KineticCoefficients):
    from .kinetic_planes import plane_preconditioner

    return lambda live, identity, transpose: plane_preconditioner(c, live, identity, transpose)
