"""A preconditioner for the 4-D kinetic operator that needs no factorization of it: alternating
direction (Peaceman-Rachford) steps with exact solves on the (theta_k, v_k) planes.

The kinetic operator splits by axis pairs, Q = Q_1 + Q_2, where Q_k (transport along theta_k
and the fitted velocity fluxes along v_k) couples only the cells of one (theta_k, v_k) plane, with
coefficients that depend on the other theta coordinate but not on the other velocity. So on
48^4 cells there are 48 distinct plane operators per direction, each a 2-D kinetic operator of
48^2 cells: their sparse LUs take a few MB. With A = sigma I - Q = A_1 + A_2 (A_k = sigma_k I - Q_k
splits the identity shift between the directions), one Peaceman-Rachford step with shift s is

    (s + A_1) y = (s - A_2) x + b,     (s + A_2) x' = (s - A_1) y + b,

and a preconditioner application runs one step for each shift of a geometric sequence (Wachspress'
idea: each shift damps the error components with eigenvalues near it). Measured with GMRES
(benchmarks/bench_momentum.py): about 30 iterations from 16^4 to 48^4, on separable and on
coupled landscapes, where one shift needs 100 to 300.

Plane solves run in a Numba kernel, in parallel over planes: the LU factors of every plane are
stored in flat arrays, and each plane solves all its right-hand sides (the other velocity's
cells, which share the plane operator) at once, read from and written to the 4-D vector in place.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numba import njit, prange
from scipy.sparse import linalg as sla

from .kinetic_kernels import KineticCoefficients, kinetic_diagonal, sparse_kinetic

__all__ = ["plane_preconditioner", "adi_shifts", "ADI_SHIFTS", "ADI_RANGE"]

#: Number of Peaceman-Rachford steps (shifts) per preconditioner application, and the ratio of
#: the largest shift to the smallest. Measured on U = (x^2 - 1)^2 + y^2 + c x y at T = 0.25,
#: gamma = 1 (c = 0 and 0.3, 16^4 to 32^4): one shift takes 113 to 353 GMRES iterations, three
#: 32 to 35, six over a range of 300 26 to 31.
ADI_SHIFTS = 6
ADI_RANGE = 300.0


def adi_shifts(rate: float, count: int = ADI_SHIFTS, spread: float = ADI_RANGE) -> np.ndarray:
    """Geometric shifts from ``rate / spread`` to ``rate`` (``rate`` ~ half the fastest rate)."""
    return np.geomspace(rate / spread, rate, count)


def _plane_coefficients(c: KineticCoefficients, k: int, other: int) -> KineticCoefficients:
    """The 2-D (theta_k, v_k) operator Q_k at the index ``other`` of the other theta axis."""
    theta_rows = np.arange(c.shape[0] * c.shape[1]).reshape(c.shape[:2])
    rows = theta_rows[:, other] if k == 0 else theta_rows[other, :]
    return KineticCoefficients(
        shape=(c.shape[k], c.shape[2 + k]),
        velocities=(c.velocities[k],),
        theta_spacing=(c.theta_spacing[k],),
        velocity_spacing=(c.velocity_spacing[k],),
        faces=(c.faces[k],),
        weights=c.weights,
        left=(c.left[k][rows],),
        right=(c.right[k][rows],),
    )


def _plane_systems(c: KineticCoefficients, live4: np.ndarray, k: int, transpose: bool) -> list:
    """The planes of direction k: ``(base, rhs_offsets, -Q_plane)`` for each distinct plane
    operator. A plane is the set of live cells (theta_k, v_k) at fixed (theta_other, v_other);
    planes that share theta_other and their live pattern share one operator (restricted to the
    live cells, transposed if asked), and their v_other indices are its right-hand sides:
    cell q of right-hand side r is the flat index ``base[q] + rhs_offsets[r]``."""
    flat = np.arange(c.size).reshape(c.shape)
    systems = []
    for other in range(c.shape[1 - k]):
        if k == 0:  # plane cells (theta1, v1), right-hand sides v2
            index, live = flat[:, other, :, :], live4[:, other, :, :]
        else:  # plane cells (theta2, v2), right-hand sides v1
            index, live = flat[other].transpose(0, 2, 1), live4[other].transpose(0, 2, 1)
        index = index.reshape(-1, index.shape[-1])  # (plane cells, rhs)
        live = live.reshape(index.shape)
        patterns = {}
        for r in range(index.shape[1]):
            if live[:, r].any():
                patterns.setdefault(live[:, r].tobytes(), []).append(r)
        if not patterns:
            continue
        Q = sparse_kinetic(_plane_coefficients(c, k, other))
        for rhs in patterns.values():
            mask = live[:, rhs[0]]
            minus_q = -sp.csc_matrix(Q[mask][:, mask])
            systems.append(
                (index[mask, 0], index[0, rhs] - index[0, 0], sp.csc_matrix(minus_q.T) if transpose else minus_q)
            )
    return systems


class _Planes:
    """The LU factors of (shift I + A) for all plane systems of one direction
    (:func:`_plane_systems`), in flat arrays for :func:`_plane_solve_kernel`."""

    def __init__(self, systems: list, shift: float):
        pieces = {
            name: []
            for name in ("base", "rhs", "L_ptr", "L_idx", "L_val", "U_ptr", "U_idx", "U_val", "perm_r", "perm_c")
        }
        starts = {name: [0] for name in ("base", "rhs", "L", "U")}
        for base, rhs_offsets, A in systems:
            shifted = sp.csc_matrix(A + shift * sp.identity(A.shape[0], format="csc"))
            # shifted planes of generators are diagonally dominant enough that SuperLU's
            # diagonal pivots are kept (the solves are checked against dense LU in the tests,
            # and the outer GMRES checks its backward error)
            lu = sla.splu(shifted, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0)
            self._append(pieces, starts, base, rhs_offsets, lu)
        self.arrays = tuple(
            np.ascontiguousarray(np.concatenate(pieces[name]) if pieces[name] else np.zeros(0, dtype=np.int64))
            for name in ("base", "rhs", "L_ptr", "L_idx", "L_val", "U_ptr", "U_idx", "U_val", "perm_r", "perm_c")
        )
        self.starts = tuple(np.asarray(starts[name], dtype=np.int64) for name in ("base", "rhs", "L", "U"))

    @staticmethod
    def _append(pieces, starts, base, rhs_offsets, lu):
        L, U = sp.csc_matrix(lu.L), sp.csc_matrix(lu.U)
        L.sort_indices()
        U.sort_indices()
        pieces["base"].append(base.astype(np.int64))
        pieces["rhs"].append(np.asarray(rhs_offsets, dtype=np.int64))
        pieces["L_ptr"].append(L.indptr[:-1].astype(np.int64) + starts["L"][-1])
        pieces["L_idx"].append(L.indices.astype(np.int64))
        pieces["L_val"].append(L.data)
        pieces["U_ptr"].append(U.indptr[:-1].astype(np.int64) + starts["U"][-1])
        pieces["U_idx"].append(U.indices.astype(np.int64))
        pieces["U_val"].append(U.data)
        pieces["perm_r"].append(lu.perm_r.astype(np.int64))
        pieces["perm_c"].append(lu.perm_c.astype(np.int64))
        starts["base"].append(starts["base"][-1] + base.size)
        starts["rhs"].append(starts["rhs"][-1] + len(rhs_offsets))
        starts["L"].append(starts["L"][-1] + L.nnz)
        starts["U"].append(starts["U"][-1] + U.nnz)

    def solve(self, x: np.ndarray, out: np.ndarray) -> None:
        """out = (shift I - Q_k)^{-1} x on the live cells of every plane (flat 4-D vectors)."""
        _plane_solve_kernel(x, out, *self.arrays, *self.starts)


@njit(parallel=True, cache=True)
def _plane_solve_kernel(
    x, out, base, rhs, L_ptr, L_idx, L_val, U_ptr, U_idx, U_val, perm_r, perm_c, base_start, rhs_start, L_start, U_start
):
    """For every plane p (in parallel): solve with its LU (perm_r A perm_c = L U, L unit lower
    and U upper triangular in CSC) all right-hand sides x[base[q] + rhs[r]], q over the plane's
    cells, r over its right-hand sides, writing out[base[q] + rhs[r]]."""
    for p in prange(base_start.size - 1):
        b0, b1 = base_start[p], base_start[p + 1]
        r0, r1 = rhs_start[p], rhs_start[p + 1]
        n, nr = b1 - b0, r1 - r0
        l_end, u_end = L_start[p + 1], U_start[p + 1]
        work = np.empty((n, nr))
        for q in range(n):
            row = perm_r[b0 + q]
            for r in range(nr):
                work[row, r] = x[base[b0 + q] + rhs[r0 + r]]
        for j in range(n):  # L y = w, column by column (unit diagonal)
            stop = L_ptr[b0 + j + 1] if j + 1 < n else l_end
            for t in range(L_ptr[b0 + j], stop):
                i = L_idx[t]
                if i > j:
                    value = L_val[t]
                    for r in range(nr):
                        work[i, r] -= value * work[j, r]
        for j in range(n - 1, -1, -1):  # U z = y, last column first
            start = U_ptr[b0 + j]
            stop = U_ptr[b0 + j + 1] if j + 1 < n else u_end
            pivot = 0.0
            for t in range(start, stop):
                if U_idx[t] == j:
                    pivot = U_val[t]
            for r in range(nr):
                work[j, r] /= pivot
            for t in range(start, stop):
                i = U_idx[t]
                if i < j:
                    value = U_val[t]
                    for r in range(nr):
                        work[i, r] -= value * work[j, r]
        for q in range(n):
            column = perm_c[b0 + q]
            for r in range(nr):
                out[base[b0 + q] + rhs[r0 + r]] = work[column, r]


@njit(parallel=True, cache=True)
def _combine(out, factor, x, previous, b):
    """out = factor x - previous + b in one pass (``out`` may be ``previous``)."""
    for i in prange(out.size):
        out[i] = factor * x[i] - previous[i] + b[i]


def plane_preconditioner(
    c: KineticCoefficients, live=None, identity: float = 0.0, transpose: bool = False, shifts=None
):
    """``z = apply(r)``, an approximation of (identity I - Q_live)^{-1} r (or of the transpose)
    by one Peaceman-Rachford step per shift (module docstring), for a 4-D kinetic operator.

    Parameters
    ----------
    c : KineticCoefficients
        The operator (dim theta = 2).
    live : bool array of shape ``c.shape`` or flat, optional
        The cells kept (absorbing cells removed); all by default. ``r`` and ``z`` are vectors over
        the live cells.
    identity : float
        sigma >= 0 (units 1/time): 0 for backward equations, c/s for the shifted systems of
        implicit steps and eigensolvers.
    shifts : array, optional
        The ADI shifts (1/time); :func:`adi_shifts` of half the fastest rate by default.
    """
    if c.dim != 2:
        raise ValueError(
            f"coefficients: the plane preconditioner is for 4-D phase space (dim theta = 2), got dim theta = {c.dim}"
        )
    live4 = np.ones(c.shape, dtype=bool) if live is None else np.asarray(live, dtype=bool).reshape(c.shape)
    keep = live4.ravel()
    if shifts is None:
        shifts = adi_shifts(0.5 * float(np.abs(kinetic_diagonal(c)).max()))
    half = 0.5 * identity
    systems = [_plane_systems(c, live4, k, transpose) for k in (0, 1)]
    planes = [[_Planes(systems[k], s + half) for k in (0, 1)] for s in shifts]
    return _peaceman_rachford(planes, np.asarray(shifts, dtype=float), keep)


def _peaceman_rachford(planes, shifts, keep):
    """One Peaceman-Rachford step per shift from x = 0, for A = A_1 + A_2 given the plane solvers
    of (s + A_k). The products A_k x are never formed: (s + A_1) y = r_1 gives
    (s - A_1) y = 2 s y - r_1, and (s + A_2) x = r_2 gives (s' - A_2) x = (s' + s) x - r_2."""

    def apply(r):
        b = np.zeros(keep.size)
        b[keep] = r
        first_rhs, second_rhs = b.copy(), np.empty(keep.size)
        x, y = np.zeros(keep.size), np.zeros(keep.size)
        for index, (s, (first, second)) in enumerate(zip(shifts, planes)):
            first.solve(first_rhs, y)  # (s + A_1) y = (s - A_2) x + b
            _combine(second_rhs, 2.0 * s, y, first_rhs, b)  # (s - A_1) y + b
            second.solve(second_rhs, x)  # (s + A_2) x = (s - A_1) y + b
            if index + 1 < len(shifts):  # (s' - A_2) x + b
                _combine(first_rhs, shifts[index + 1] + s, x, second_rhs, b)
        return x[keep]

    return apply
