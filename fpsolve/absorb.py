"""Absorbing sets on the seam: remove cells from the state space, with the boundary where it really is.

``absorb(gen, where)`` turns a generator and a set of cells into the killed generator ("keep these
unknowns, remove those"); it knows nothing of the scheme that made Q. A mask carries no sub-cell
information: the absorbing boundary of a masked set is the first absorbed cell centre, a first-order
placement unless the true boundary lies there. A predicate does carry it: on every link i -> j
from a kept cell to a removed one, the point where the predicate changes sign is located by
bracketing (ten vectorized predicate calls) at the fraction theta of the link, and the link's rate is moved to that distance:

    Q_ij  ->  Q_ij * B(-theta z) / (theta B(-z)),     z = log(Q_ij / Q_ji),   B(z) = z / (e^z - 1).

For a fitted (Scharfetter-Gummel) link, Q_ij = (D / h^2) B(-z) with z the link's Peclet number, so
this is the fitted rate over the distance theta h with the potential drop scaled by theta: the
half-cell flux of an absorbing box face when theta = 1/2, and the Shortley-Weller idea for
boundaries between grid points. Rates stay positive (an M-matrix), the row's diagonal absorbs the
change. The whole row of each cut cell is then scaled by the Shortley-Weller factor of its cut
links (:func:`_shortley_weller_scale`), which makes the cell's equation consistent with the
backward equation for a drift that is constant across the cell: with the curvature-corrected
finite-volume rates 1-D exit times converge at order 4 when the boundary falls on a face or a
centre, a constant-drift exit is exact, and an O(h^2) term proportional to the drift's variation
remains for other theta (docs/numerics.md has the measured numbers).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .discretize.fv import bernoulli
from .generator import Generator, as_mask

__all__ = ["absorb", "crossing_fractions", "THETA_MIN"]

#: Smallest link fraction used: a boundary closer than this to a kept cell centre is put at this
#: distance (the rate grows like 1/theta; the exit time there is O(theta h^2 / D) anyway).
THETA_MIN = 1e-3

#: The crossing on a link is bracketed by evaluating the predicate at _POINTS interior points per
#: round: after _ROUNDS rounds the bracket is 9^-10 ~ 3e-10 of the link.
_POINTS, _ROUNDS = 8, 10


def absorb(gen: Generator, where, name: str = "domain", complement: bool = False) -> tuple:
    """``(killed generator, removed mask)``: ``gen`` with the cells where ``where`` holds removed
    (with ``complement=True``, where it does not hold: ``where`` is then a domain to stay in).

    ``where`` is a grid-shaped boolean mask or a predicate on the coordinates. For a predicate
    on a sparse Markov generator, rates of links between neighbouring cells across the boundary
    are placed at the predicate's sign change (module docstring); longer links (jumps) keep their
    rates; masks, matrix-free and non-Markov operators remove whole cells.
    """
    mask = as_mask(gen.grid, where, name)
    removed = (~mask if complement else mask) & ~gen.absorbing
    if not callable(where) or gen.matrix_free or not gen.markov or not removed.any():
        return gen.with_absorbing(removed), removed
    Q = sp.csr_matrix(gen.matrix)
    Q.sort_indices()
    n = Q.shape[0]
    row_of = np.repeat(np.arange(n), np.diff(Q.indptr))
    keys = row_of.astype(np.int64) * n + Q.indices  # sorted: rows in order, columns sorted
    keep = gen.live & ~removed.ravel()
    cut = np.flatnonzero(keep[row_of] & removed.ravel()[Q.indices] & (Q.data > 0))
    cut = cut[_neighbouring(gen.grid, row_of[cut], Q.indices[cut])]
    if cut.size:
        rows, cols = row_of[cut], Q.indices[cut]
        theta = crossing_fractions(gen.grid, where, rows, cols, kept_value=complement)
        reverse = np.searchsorted(keys, cols.astype(np.int64) * n + rows)
        found = (reverse < keys.size) & (keys[np.minimum(reverse, keys.size - 1)] == cols.astype(np.int64) * n + rows)
        backward = np.where(found, Q.data[np.minimum(reverse, keys.size - 1)], 0.0)
        forward = Q.data[cut]
        peclet = _link_peclet(forward, backward)
        added = forward * (_fitted_factor(peclet, theta) - 1.0)
        data = Q.data.copy()
        data[cut] += added
        diagonal = np.searchsorted(keys, rows.astype(np.int64) * (n + 1))
        if not np.array_equal(keys[np.minimum(diagonal, keys.size - 1)], rows.astype(np.int64) * (n + 1)):
            raise ValueError("matrix: a row with a cut link stores no diagonal entry; Q is not a generator")
        np.add.at(data, diagonal, -added)  # each row keeps its sum
        scale = _shortley_weller_scale(gen.grid, rows, cols, theta, peclet, n)
        # a row with jumps beyond the neighbours belongs to a nonlocal operator, whose cell
        # equation is not a second difference: no Shortley-Weller factor there
        entries = np.flatnonzero(scale[row_of] != 1.0)  # the stored entries of the scaled rows
        far = ~_neighbouring(gen.grid, row_of[entries], Q.indices[entries]) & (Q.data[entries] != 0)
        scale[np.unique(row_of[entries][far])] = 1.0
        data *= scale[row_of]
        Q = sp.csr_matrix((data, Q.indices, Q.indptr), shape=Q.shape)
    killed = Generator(Q, gen.grid, gen.absorbing | removed, gen.face_flux, gen.markov, gen.generator_like)
    return killed, removed


def crossing_fractions(grid, where, rows, cols, kept_value: bool) -> np.ndarray:
    """For each link from a kept cell ``rows[k]`` (where the predicate is ``kept_value``) to a
    removed cell ``cols[k]``, the fraction theta in [THETA_MIN, 1] of the way from the kept
    cell's centre at which the predicate changes value, bracketed on the straight segment
    between the centres."""
    start = _centres(grid, rows)
    step = _centres(grid, cols) - start
    lo = np.zeros(rows.size)  # the kept side
    hi = np.ones(rows.size)  # the removed side
    fractions = np.arange(1, _POINTS + 1) / (_POINTS + 1)
    for _ in range(_ROUNDS):  # each round shrinks the bracket (_POINTS + 1)-fold in one call
        s = lo[:, None] + (hi - lo)[:, None] * fractions  # (links, points)
        points = start[:, None, :] + s[:, :, None] * step[:, None, :]
        value = np.broadcast_to(np.asarray(where(*np.moveaxis(points, -1, 0)), dtype=bool), s.shape)
        removed_side = value != kept_value
        first = np.where(removed_side.any(axis=1), removed_side.argmax(axis=1), _POINTS)
        width = hi - lo
        lo, hi = lo + width * first / (_POINTS + 1), lo + width * (first + 1) / (_POINTS + 1)
    return np.clip(0.5 * (lo + hi), THETA_MIN, 1.0)


def _neighbouring(grid, rows, cols) -> np.ndarray:
    """Whether each link joins cells at most one cell apart along every axis (the 3^d stencil of
    local schemes; a periodic axis wraps). Only such links are moved to the crossing: the fitted
    half-link flux describes a local flux across the boundary, not a jump over several cells
    (a jump of a nonlocal generator lands where it lands, and is killed there)."""
    near = np.ones(rows.size, dtype=bool)
    for axis, (i, j) in enumerate(zip(np.unravel_index(rows, grid.shape), np.unravel_index(cols, grid.shape))):
        step = np.abs(i - j)
        if grid.periodic[axis]:
            step = np.minimum(step, grid.shape[axis] - step)
        near &= step <= 1
    return near


def _centres(grid, flat) -> np.ndarray:
    index = np.unravel_index(flat, grid.shape)
    return np.stack([c[i] for c, i in zip(grid.centers, index)], axis=1)


def _shortley_weller_scale(grid, rows, cols, theta, peclet, n: int) -> np.ndarray:
    """Per cell, the factor that scales the whole row of a cell with cut links (1 elsewhere).

    A cut link puts the boundary at theta h from the kept centre. Without a correction the cell's
    equation is not consistent with the backward equation there, and the mean exit time carries an
    error h^2 theta (1 - theta) / (2 D) (diffusion) or up to theta (1 - theta) h / (2 v) (drift v
    towards the boundary) whose constant changes with where the boundary falls in the cell. The
    factor that makes the cell's equation exact for the local solution (a linear part plus the
    link's exponential, which the fitted rates already reproduce) is

        s = p / (B(-theta p) - B(p)),   p the cut link's Peclet number towards the boundary:

    2 / (1 + theta) without drift (the Shortley-Weller difference, whose axis terms are divided by
    the mean spacing (1 + theta) h / 2), 1 / theta for strong drift towards the boundary, 1 for
    drift away from it. An axis cut on both sides takes 2 / (theta_minus + theta_plus). The row is
    scaled as a whole, by the mean over its cut axes: a uniform row scaling is a change of the
    cell's holding time, so the chain stays a generator and stays reversible (with the cell's
    weight divided by the factor), and harmonic functions
    (committors) are unchanged. Near a boundary the other axes' second differences are small (the
    solution is constant along the boundary), so one factor per row suffices; only links along
    one axis (the 2d-neighbour stencil) count.
    """
    scale = np.ones(n)
    shape = grid.shape
    src = np.unravel_index(rows, shape)
    dst = np.unravel_index(cols, shape)
    moved = np.stack([a != b for a, b in zip(src, dst)], axis=1)
    axial = moved.sum(axis=1) == 1
    if not axial.any():
        return scale
    axis = np.argmax(moved, axis=1)
    step = np.take_along_axis(np.stack(dst, axis=1) - np.stack(src, axis=1), axis[:, None], axis=1)[:, 0]
    wraps = np.asarray(grid.periodic, dtype=bool)[axis] & (np.abs(step) > 1)
    forward = (step > 0) != wraps  # a periodic wrap from the last cell to the first is a step forward
    ndim = len(shape)
    key = rows.astype(np.int64) * ndim + axis
    unique, inverse = np.unique(key[axial], return_inverse=True)
    spans = np.ones((unique.size, 2))
    np.minimum.at(spans, (inverse, forward[axial].astype(int)), theta[axial])
    both_sides = (spans < 1.0).all(axis=1)
    # one cut side: the drift-aware factor of its one link (rows cut on both sides use the spans)
    p = np.zeros(unique.size)
    th = np.ones(unique.size)
    p[inverse], th[inverse] = peclet[axial], theta[axial]
    with np.errstate(invalid="ignore", divide="ignore"):
        one_side = np.where(np.abs(p) < 1e-8, 2.0 / (1.0 + th), p / (bernoulli(-th * p) - bernoulli(p)))
    factor = np.where(both_sides, 2.0 / spans.sum(axis=1), one_side)
    cell = unique // ndim
    total = np.bincount(cell, weights=factor, minlength=n)
    count = np.bincount(cell, minlength=n)
    has = count > 0
    scale[has] = total[has] / count[has]
    return scale


def _link_peclet(forward, backward) -> np.ndarray:
    """z = log(forward / backward) per link (0 where there is no reverse rate), clipped to +-700."""
    with np.errstate(divide="ignore"):
        z = np.where(backward > 0, np.log(forward / np.where(backward > 0, backward, 1.0)), 0.0)
    return np.clip(z, -700.0, 700.0)


def _fitted_factor(z, theta) -> np.ndarray:
    """B(-theta z) / (theta B(-z)), z the link's Peclet number (:func:`_link_peclet`)."""
    return bernoulli(-theta * z) / (theta * bernoulli(-z))
