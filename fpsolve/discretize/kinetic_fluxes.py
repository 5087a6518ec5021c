"""Face fluxes of the kinetic (Kramers) Fokker-Planck equation on a phase-space grid (theta, v).

The equation, in conservation form d_t p + sum_k d_{theta_k} J^theta_k + sum_k d_{v_k} J^v_k = 0:

    J^theta_k = v_k p                                   (transport at the cell's velocity),
    J^v_k     = (-gamma v_k + F_k(theta)) p - sum_m D_km(theta) d_{v_m} p.

Every face flux is a linear map of the cell densities, J_a = F_a p (a sparse matrix per axis a,
faces numbered as in :mod:`fpsolve.discretize.fv`: ``n_a + 1`` faces along axis a, C order), and
the generator is Q = (-sum_a Div_a F_a)^T. The coefficients are pure functions of arrays, one
value per face and stencil cell, so that a matrix-free kernel can mirror them face by face.

Theta faces (the face f between theta-cells f - 1 and f, velocity v_j of the cell row):

    J = v_j [w_2 p_{up2} + w_1 p_{up} + w_0 p_{down}],

up = the upwind cell (f - 1 if v_j > 0, else f), up2 the next one upwind, down the downwind cell.
Weights (w_2, w_1, w_0) of the kappa scheme (van Leer): (-(1 - kappa)/4, 1 - kappa/2, (1 + kappa)/4);
kappa = -1, the fully upwind second-order scheme (-1/2, 3/2, 0), is the default; first-order
upwind is (0, 1, 0). Outside the theta box the stencil reads ghost cells:

* specular wall ("reflecting"): p(-1 - i, j) = p(i, mirror(j)), mirror(j) = n_v - 1 - j (the cell
  with velocity -v_j: the velocity grid must be symmetric about 0). Mass reaching the wall at v
  re-enters at -v in the same cell row; the wall flux is odd in v, so its sum over a velocity
  column vanishes: mass is conserved exactly.
* absorbing face: ghosts are empty (p = 0): outflow leaves, and the flux of incoming velocities
  is zero.
* periodic axis: indices wrap.

Velocity faces (interior only: the outer faces of the velocity box carry no flux):
exponentially fitted (Scharfetter-Gummel) fluxes with the drift -gamma v_face + F_k(theta_i) and
D = D_kk(theta_i), Pe = h_v (-gamma v_face + F_k) / D_kk,

    J = (D_kk / h_v) [B(-Pe) p_L - B(Pe) p_R],    B(z) = z / (e^z - 1).

Since -gamma v_face + F = -(W_R - W_L) / h_v for W(v) = gamma v^2 / 2 - F v, this is the fitted
flux of a potential: exact for the local Maxwellian exp(-gamma (v - F/gamma)^2 / (2 D)) at fixed
theta. Cross diffusion D_km (m != k, Hessian noise in 4-D) is added as in finite volumes: the mean
over the face's two cells of one-sided differences of D_km p along v_m, oriented by the sign of
D_km (:func:`fpsolve.discretize.fv._cross_terms`).

Split velocity faces (``force_weights`` given, the "kinetic-hamiltonian" scheme): at low friction
the fitted flux's cell Peclet number |F| h_v / D is large and it degenerates to first-order upwind
in v, whose numerical diffusion |F| h_v / 2 acts as extra friction (in the energy-diffusion
regime it dominates gamma T and the rate converges at first order). There the fitted flux keeps
only the Ornstein-Uhlenbeck part (drift -gamma v_face, Peclet |v| h_v / T, small), and the force
is a transport in v at the speed F_k(theta_i), by the kappa scheme of the theta transport:

    J = F [w_2 p_{up2} + w_1 p_{up} + w_0 p_{down}],

the upwind side set by the sign of F, stencil cells beyond the velocity box read 0 (the box's
edge holds no mass) and the outer faces still carry nothing: mass is conserved exactly.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .fv import _cross_terms, _face_index, bernoulli

__all__ = ["TRANSPORT_WEIGHTS", "transport_weights", "theta_flux", "velocity_flux", "force_flux", "mirror_index"]

#: Stencil weights (upwind-2, upwind, downwind) of the transport schemes in theta.
TRANSPORT_WEIGHTS = {
    "second-order": (-0.5, 1.5, 0.0),  # kappa = -1: reads upwind cells only
    "upwind": (0.0, 1.0, 0.0),  # first order, a Markov generator
}


def transport_weights(kappa: float) -> tuple:
    """(w_2, w_1, w_0) of the kappa scheme: the face value p_up + (1 - kappa)/4 (p_up - p_up2)
    + (1 + kappa)/4 (p_down - p_up); second order for every kappa, third for kappa = 1/3."""
    return (-(1.0 - kappa) / 4.0, 1.0 - kappa / 2.0, (1.0 + kappa) / 4.0)


def mirror_index(j: np.ndarray, n_v: int) -> np.ndarray:
    """The velocity cell with the opposite velocity on a grid symmetric about 0."""
    return n_v - 1 - j


def theta_flux(grid, k: int, v_axis: int, bounds: tuple, weights: tuple) -> sp.csr_matrix:
    """The transport flux J = v p through the faces of theta axis ``k`` (module docstring), as a
    sparse map (faces of axis k) x (cells).

    Parameters
    ----------
    grid : Grid
        The phase-space grid.
    k, v_axis : int
        The theta axis and its velocity axis.
    bounds : (str, str)
        The (low, high) face kinds of axis k: "reflecting" (specular), "absorbing" or "periodic".
    weights : (float, float, float)
        (w_2, w_1, w_0), :data:`TRANSPORT_WEIGHTS` or :func:`transport_weights`.
    """
    shape = grid.shape
    n, n_v = shape[k], shape[v_axis]
    periodic = bounds[0] == "periodic"
    face_numbers = np.arange(1, n + 1) if periodic else np.arange(n + 1)
    face_shape = list(shape)
    face_shape[k] = face_numbers.size
    multi = list(np.indices(face_shape))
    multi[k] = face_numbers[multi[k]]  # face f lies between cells f - 1 and f
    velocity = grid.centers[v_axis][multi[v_axis]]
    forward = velocity > 0
    face_shape_all = list(shape)
    face_shape_all[k] = n + 1
    rows_all = np.ravel_multi_index(tuple(multi), face_shape_all).ravel()
    incoming = np.zeros(velocity.shape, dtype=bool)  # absorbing faces let nothing in
    if bounds[0] == "absorbing":
        incoming |= (multi[k] == 0) & (velocity > 0)
    if bounds[1] == "absorbing":
        incoming |= (multi[k] == n) & (velocity < 0)
    rows, cols, vals = [], [], []
    # (offset for v > 0, offset for v < 0, weight): up2, up, down relative to face f
    for offset_pos, offset_neg, weight in ((-2, 1, weights[0]), (-1, 0, weights[1]), (0, -1, weights[2])):
        if weight == 0.0:
            continue
        theta_index = multi[k] + np.where(forward, offset_pos, offset_neg)
        cell = list(multi)
        keep = ~incoming & (velocity != 0)
        if periodic:
            cell[k] = theta_index % n
        else:
            low, high = theta_index < 0, theta_index >= n
            specular = (low & (bounds[0] == "reflecting")) | (high & (bounds[1] == "reflecting"))
            keep &= ~((low & (bounds[0] == "absorbing")) | (high & (bounds[1] == "absorbing")))
            cell[k] = np.where(low, -1 - theta_index, np.where(high, 2 * n - 1 - theta_index, theta_index))
            cell[v_axis] = np.where(specular, mirror_index(multi[v_axis], n_v), multi[v_axis])
        cell_index = np.ravel_multi_index(tuple(np.clip(c, 0, s - 1) for c, s in zip(cell, shape)), shape)
        keep = keep.ravel()
        rows.append(rows_all[keep])
        cols.append(cell_index.ravel()[keep])
        vals.append((weight * velocity).ravel()[keep])
    n_faces = grid.size // n * (n + 1)
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n_faces, grid.size)
    )


def velocity_flux(
    grid, k: int, v_axis: int, friction: float, force: np.ndarray, diffusion: np.ndarray, force_weights=None
) -> sp.csr_matrix:
    """Fitted friction-and-diffusion flux through the interior faces of velocity axis ``v_axis``
    (the outer faces of the velocity box carry no flux), with cross diffusion along the other
    velocity axes; with ``force_weights`` (w_2, w_1, w_0) the force is split off the fitted flux
    and transported by :func:`force_flux` (module docstring).

    Parameters
    ----------
    friction : float
        gamma > 0, units 1/time.
    force : array, shape ``(d,) + theta shape``
        F(theta) at the theta cell centres, units velocity/time.
    diffusion : array, shape ``(d, d) + theta shape``
        D_v(theta) at the theta cell centres, units velocity^2/time.
    """
    d = force.shape[0]
    shape = grid.shape
    n_v, h = shape[v_axis], grid.spacing[v_axis]
    index = np.arange(grid.size).reshape(shape)
    left = np.take(index, np.arange(n_v - 1), axis=v_axis)
    right = np.take(index, np.arange(1, n_v), axis=v_axis)
    expand = (slice(None),) * d + (None,) * d  # theta arrays -> phase space
    v_face = grid.faces[v_axis][1:-1].reshape([-1 if a == v_axis else 1 for a in range(grid.ndim)])
    dkk = np.broadcast_to(diffusion[k, k][expand], left.shape)
    fitted_force = force[k][expand] if force_weights is None else 0.0
    pe = h * (-friction * v_face + fitted_force) / dkk
    face = _face_index(grid, v_axis, left).ravel()
    rows = [face, face]
    cols = [left.ravel(), right.ravel()]
    vals = [(dkk / h * bernoulli(-pe)).ravel(), (-dkk / h * bernoulli(pe)).ravel()]
    for m in range(d):
        if m == k:
            continue
        dkm = np.broadcast_to(diffusion[k, m][expand], shape)
        positive = np.broadcast_to(diffusion[k, m][expand], left.shape) > 0
        for cells, forward in ((left, ~positive), (right, positive)):
            for position, column, coefficient in _cross_terms(grid, dkm, cells, d + m, forward):
                rows.append(face[position])
                cols.append(column)
                vals.append(-0.5 * coefficient)
    n_faces = grid.size // n_v * (n_v + 1)
    fitted = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n_faces, grid.size)
    )
    return fitted if force_weights is None else fitted + force_flux(grid, k, v_axis, force, force_weights)


def force_flux(grid, k: int, v_axis: int, force: np.ndarray, weights: tuple) -> sp.csr_matrix:
    """The flux J = F_k(theta) p through the interior faces of velocity axis ``v_axis`` by the
    kappa scheme ``weights`` = (w_2, w_1, w_0) (module docstring; cells beyond the box read 0), a
    sparse map (faces of ``v_axis``) x (cells). ``force``: F at the theta cell centres, shape
    ``(d,) + theta shape``, units velocity/time."""
    d = force.shape[0]
    shape = grid.shape
    n_v = shape[v_axis]
    stride = int(np.prod(shape[v_axis + 1 :], dtype=int))
    index = np.arange(grid.size).reshape(shape)
    left = np.take(index, np.arange(n_v - 1), axis=v_axis)  # interior face f + 1 lies right of cell f
    speed = np.broadcast_to(force[k][(slice(None),) * d + (None,) * d], left.shape).ravel()
    cell_left = left.ravel()
    j_left = np.broadcast_to(
        np.arange(n_v - 1).reshape([-1 if a == v_axis else 1 for a in range(grid.ndim)]), left.shape
    ).ravel()
    face = _face_index(grid, v_axis, left).ravel()
    forward = speed > 0
    rows, cols, vals = [], [], []
    # (offset from the left cell for F > 0, for F < 0, weight): up2, up, down
    for offset_pos, offset_neg, weight in ((-1, 2, weights[0]), (0, 1, weights[1]), (1, 0, weights[2])):
        if weight == 0.0:
            continue
        offset = np.where(forward, offset_pos, offset_neg)
        j = j_left + offset
        keep = (j >= 0) & (j < n_v) & (speed != 0)
        rows.append(face[keep])
        cols.append((cell_left + offset * stride)[keep])
        vals.append(weight * speed[keep])
    n_faces = grid.size // n_v * (n_v + 1)
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n_faces, grid.size)
    )
