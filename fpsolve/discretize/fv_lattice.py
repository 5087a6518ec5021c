"""Cross diffusion by exponentially fitted links along the grid's lattice directions.

A diffusion tensor with cross terms D_km couples diagonal neighbours. Where it is diagonally
dominant on the grid's scale, at every cell,

    D_kk / h_k^2  >=  sum_{m != k} |D_km| / (h_k h_m)     for every axis k,

it is a sum of rank-one tensors along lattice vectors:

    D = sum_d a_d v_d v_d^T,
    v_d = h_k e_k + s h_m e_m,  a_d = max(s D_km, 0) / (h_k h_m)   for each pair k < m, s = +-1,
    v_d = h_k e_k,              a_d = D_kk / h_k^2 - sum_{m != k} |D_km| / (h_k h_m)   (the axes).

The drift splits with it through g = D^{-1} b: sum_d a_d v_d (v_d . g) = D g = b. The Ito flux
J = b p - div(D p) is then a sum of one-dimensional fluxes along the lattice vectors,

    J = sum_d v_d [ (v_d . g) q_d - (v_d . grad) q_d ],    q_d = a_d p,

and each is fitted exponentially on its link c -> c + v_d (Scharfetter-Gummel with the Peclet
number Pe_d = v_d . g at the link's midpoint): the rates are

    Q[c, c + v_d] = a_d(c) B(-Pe_d),    Q[c + v_d, c] = a_d(c + v_d) B(Pe_d),    B(z) = z / (e^z - 1).

Every rate is positive (no limiter is needed, unlike central cross differences), the scheme is
second order (g at the midpoint, a_d at the cells), and where g is locally constant e^{g . x} / a_d
balances every link, so the chain's small loops balance to O(h^2): the spectrum of the generator
stays close to the real axis, which is what the Chebyshev exponential needs
(docs/scale.md, "Cross diffusion by fitted lattice directions"). With constant D there are
7 + 2 (number of cross pairs) diagonals in 3-D (11 for two pairs), the stencil of
:mod:`fpsolve.chebyshev_residual`'s unrolled product.

Where D is not dominant the split does not exist and :func:`fpsolve.discretize.fv.assemble` uses
central cross differences instead, unless those cells carry negligible density (below
e^{-cutoff} of the peak, the criterion of the monotonicity report: Hessian noise far up the walls of
a landscape): there the cross coefficients are scaled down until the cell is dominant.

Boundaries. A link that leaves the box through a reflecting face is dropped (no flux through the
face; first order in the cells along it, as the axis scheme's cross terms were). Through an
absorbing face (p = 0 on the face) it is a half link from the cell to the face, fitted like the
axis faces: killing rate 2 a_d(c) B(-Pe_d / 2), Pe_d = w . g at the crossing point, w the link's
vector out of the box. Periodic axes wrap.

Face fluxes. A transfer along an axis link crosses one face. A diagonal transfer c -> c + e_k + s e_m
is split in halves over its two face paths (first along k then m, and first along m then k), so the
face fluxes are the scheme's own current: -div F = the forward operator, exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from . import fv_stencil as stencil
from .fv_stencil import bernoulli

__all__ = ["LatticeDirection", "lattice_directions", "assemble_lattice"]

#: Cells that keep this close to all of their cross coefficients count as dominant: a tensor on the
#: edge of dominance, up to round-off (the axis remainders below zero are set to zero).
REMAINDER_ROUNDOFF = 1e-12


@dataclass(frozen=True)
class LatticeDirection:
    """One lattice direction: ``offset`` in cells (d ints, the first nonzero entry +1) and its
    coefficient ``a`` at the cell centres (1 / time: D / h^2 units), shaped like the grid or
    broadcastable to it."""

    offset: np.ndarray
    coefficient: np.ndarray


def lattice_directions(d_cell: np.ndarray, spacing, relevant=None) -> list | None:
    """The split D = sum_d a_d v_d v_d^T on the lattice (module docstring) from D at the cell
    centres, shape (d, d) + grid shape (or broadcast): a list of :class:`LatticeDirection`, cross
    pairs first, then the axes; None when D is not diagonally dominant on the grid's scale at
    some cell where ``relevant`` (a boolean mask of the cells whose density can matter, default
    all). At cells outside it that are not dominant the cross coefficients are scaled down until
    they are (the tensor is changed there, where the density is below e^{-cutoff} of its peak).
    Directions whose coefficient vanishes everywhere are left out."""
    d = d_cell.shape[0]
    h = np.asarray(spacing, dtype=float)
    axes = [np.asarray(d_cell[k, k], dtype=float) / h[k] ** 2 for k in range(d)]
    pairs = []
    for k in range(d):
        for m in range(k + 1, d):
            dkm = np.asarray(d_cell[k, m], dtype=float)
            if np.any(dkm != 0):
                pairs.append((k, m, dkm / (h[k] * h[m])))
    crossing = [sum((np.abs(a) for k, m, a in pairs if k == axis or m == axis), np.zeros(())) for axis in range(d)]
    # the largest share of the cross coefficients each cell can keep: 1 where D is dominant
    keep = np.ones(())
    for axis in range(d):
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(crossing[axis] > 0, axes[axis] / crossing[axis], np.inf)
        keep = np.minimum(keep, ratio)
    short = keep < 1.0 - REMAINDER_ROUNDOFF
    if np.any(short):
        if relevant is None or np.any(np.broadcast_to(short, np.shape(relevant)) & relevant):
            return None
    keep = np.minimum(keep, 1.0)
    directions = []
    remainders = list(axes)
    for k, m, a in pairs:
        for sign in (1, -1):
            coefficient = np.maximum(sign * a, 0.0) * keep
            if not np.any(coefficient > 0):
                continue
            offset = np.zeros(d, dtype=np.int64)
            offset[k], offset[m] = 1, sign
            directions.append(LatticeDirection(offset, coefficient))
            remainders[k] = remainders[k] - coefficient
            remainders[m] = remainders[m] - coefficient
    for k in range(d):
        offset = np.zeros(d, dtype=np.int64)
        offset[k] = 1
        remainder = np.maximum(remainders[k], 0.0)  # round-off below zero on the edge of dominance
        if np.any(remainder > 0):
            directions.append(LatticeDirection(offset, remainder))
    return directions


def assemble_lattice(model, grid, bounds, t: float, d_cell: np.ndarray, relevant=None) -> tuple | None:
    """``(generator, face_flux)`` of the lattice scheme (module docstring) for ``model`` on ``grid``
    with the per-axis ``bounds`` (:func:`fpsolve.boundary.normalize_boundary`) at time ``t``; D at
    the cell centres ``d_cell`` (checked positive definite by the caller); ``relevant`` the cells
    whose density can matter
    (:func:`lattice_directions`). None when D is not diagonally dominant on the grid's scale
    at one of them (the caller then uses central cross differences)."""
    directions = lattice_directions(d_cell, grid.spacing, relevant)
    if directions is None:
        return None
    index = np.indices(grid.shape)
    # a constant D was evaluated (and cleaned of round-off cross terms) once, in d_cell
    constant = (
        d_cell[(slice(None), slice(None)) + (0,) * grid.ndim] if getattr(model, "constant_diffusion", False) else None
    )
    slots = [(direction, sense) for direction in directions for sense in (1, -1)]
    offsets = np.array([sense * direction.offset for direction, sense in slots], dtype=np.int64)
    rates = np.zeros((len(slots),) + grid.shape)
    killing, exits = np.zeros(grid.shape), []
    for s, (direction, _) in enumerate(slots):
        coefficient = np.broadcast_to(direction.coefficient, grid.shape)
        peclet = _link_peclet(model, grid, t, offsets[s], constant)
        outside, through_absorbing = _leaving(grid, bounds, index, offsets[s])
        rates[s] = np.where(outside, 0.0, coefficient * bernoulli(-peclet))
        if through_absorbing.any():
            # half link from the cell to the face: the same fit over half the distance
            kill = np.where(through_absorbing, 2.0 * coefficient * bernoulli(-0.5 * peclet), 0.0)
            killing += kill
            exits.append((offsets[s], kill))
    rates = rates.reshape(len(slots), -1)
    diagonal = -(rates.sum(axis=0) + killing.ravel())
    shape4, periodic4, offsets4, order = stencil.padded(grid.shape, grid.periodic, offsets)
    indptr, indices, data = stencil.stencil_csr(shape4, periodic4, offsets4, rates[order], diagonal)
    generator = sp.csr_matrix((data, indices, indptr), shape=(grid.size, grid.size))
    generator.eliminate_zeros()
    face_flux = _face_flux(grid, bounds, index, offsets, rates.reshape((len(slots),) + grid.shape), exits)
    return generator, face_flux


def _link_peclet(model, grid, t, offset, constant) -> np.ndarray:
    """Pe = w . g at the midpoints x_c + w / 2 of the links c -> c + offset from every cell,
    w = offset * h, g = D^{-1} b there (on a box face for links that leave the box); ``constant``
    the (d, d) tensor of a constant diffusion, else None (D evaluated at the midpoints)."""
    d = grid.ndim
    link = offset * np.asarray(grid.spacing, dtype=float)
    midpoint = [np.broadcast_to(c + link[k] / 2, grid.shape) for k, c in enumerate(grid.mesh())]
    drift = np.stack(np.broadcast_arrays(*model.drift(*midpoint, t=t)))
    if not np.all(np.isfinite(drift)):
        bad = np.unravel_index(int(np.argmax(~np.isfinite(drift).all(axis=0))), grid.shape)
        point = tuple(round(float(c[bad]), 6) for c in midpoint)
        raise ValueError(f"drift: not finite at x = {point}")
    if constant is not None:
        direction = np.linalg.solve(constant, link)  # D symmetric: w . D^{-1} b = (D^{-1} w) . b
        return np.einsum("k,k...->...", direction, drift)
    tensor = np.asarray(model.diffusion(*midpoint, t=t), dtype=float)
    tensor = np.moveaxis(np.broadcast_to(tensor, (d, d) + grid.shape), (0, 1), (-2, -1))
    g = np.linalg.solve(tensor, np.moveaxis(drift, 0, -1)[..., None])[..., 0]
    return np.einsum("k,...k->...", link, g)


def _leaving(grid, bounds, index, offset) -> tuple:
    """For every cell: whether c + offset lies outside the box (periodic axes wrap), and whether
    the link leaves through an absorbing face."""
    outside = np.zeros(grid.shape, dtype=bool)
    absorbing = np.zeros(grid.shape, dtype=bool)
    for k, n in enumerate(grid.shape):
        if offset[k] == 0 or grid.periodic[k]:
            continue
        out = (index[k] + offset[k] < 0) | (index[k] + offset[k] >= n)
        outside |= out
        if bounds[k][0 if offset[k] < 0 else 1] == "absorbing":
            absorbing |= out
    return outside, absorbing


def _face_index(grid, k: int, multi, sign: int) -> np.ndarray:
    """Flat index, in the faces array of axis k (n_k + 1 faces along k, the wrap face of a periodic
    axis at index n_k), of the face of cells ``multi`` on their high (sign +1) or low side."""
    n = grid.shape[k]
    position = multi[k] + (1 if sign > 0 else 0)
    if grid.periodic[k] and sign < 0:
        position = np.where(position == 0, n, position)
    shape_f = list(grid.shape)
    shape_f[k] = n + 1
    return np.ravel_multi_index(tuple(position if m == k else multi[m] for m in range(grid.ndim)), shape_f)


def _face_flux(grid, bounds, index, offsets, rates, exits) -> tuple:
    """F_k per axis (faces x cells, CSR): every transfer rate r p_c from c along a link adds
    h_k sign_k r to the faces it crosses (a diagonal link: half over each of its two face paths,
    :func:`fpsolve.discretize.fv_stencil.link_face_entries`); a killing rate adds to the cell's own
    absorbing box faces the link leaves through. One axis at a time, to hold one axis's entries in
    memory."""
    h = np.asarray(grid.spacing, dtype=float)
    d = grid.ndim
    shape4, periodic4, _, _ = stencil.padded(grid.shape, grid.periodic, offsets)
    offsets4 = np.zeros((len(offsets), 4), dtype=np.int64)
    offsets4[:, 4 - d :] = offsets  # in the order of ``rates`` (padded() sorts them)
    flat_rates = np.ascontiguousarray(rates.reshape(len(offsets), -1))
    cells = np.arange(grid.size).reshape(grid.shape)
    flux = []
    for axis, n in enumerate(grid.shape):
        rows, columns, data = [
            [part] for part in stencil.link_face_entries(shape4, periodic4, 4 - d + axis, offsets4, flat_rates, h[axis])
        ]
        for offset, kill in exits:
            side = 0 if offset[axis] < 0 else 1
            if offset[axis] == 0 or grid.periodic[axis] or bounds[axis][side] != "absorbing":
                continue
            out = (index[axis] + offset[axis] < 0) | (index[axis] + offset[axis] >= n)
            # the share of the killing through this face: the link may leave through a corner
            faces = np.zeros(grid.shape)
            for k in np.flatnonzero(offset):
                k_side = 0 if offset[k] < 0 else 1
                if not grid.periodic[k] and bounds[k][k_side] == "absorbing":
                    faces += (index[k] + offset[k] < 0) | (index[k] + offset[k] >= grid.shape[k])
            where = out & (kill > 0)
            sign = int(offset[axis])
            rows.append(_face_index(grid, axis, [m[where] for m in index], sign))
            columns.append(cells[where])
            data.append(sign * h[axis] * (kill / np.maximum(faces, 1.0))[where])
        faces_count = grid.size // n * (n + 1)
        matrix = sp.coo_matrix(
            (np.concatenate(data), (np.concatenate(rows), np.concatenate(columns))), shape=(faces_count, grid.size)
        )
        flux.append(matrix.tocsr())
    return tuple(flux)
