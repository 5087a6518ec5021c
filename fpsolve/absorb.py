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
change, and exit times, committors and exit laws become second order for straight and curved
boundaries (docs/numerics.md has the measured orders).
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
        added = forward * (_fitted_factor(forward, backward, theta) - 1.0)
        data = Q.data.copy()
        data[cut] += added
        diagonal = np.searchsorted(keys, rows.astype(np.int64) * (n + 1))
        if not np.array_equal(keys[np.minimum(diagonal, keys.size - 1)], rows.astype(np.int64) * (n + 1)):
            raise ValueError("matrix: a row with a cut link stores no diagonal entry; Q is not a generator")
        np.add.at(data, diagonal, -added)  # each row keeps its sum
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


def _fitted_factor(forward, backward, theta) -> np.ndarray:
    """B(-theta z) / (theta B(-z)) with z = log(forward / backward) (z = 0 where the link has no
    reverse rate to read a Peclet number from)."""
    with np.errstate(divide="ignore"):
        z = np.where(backward > 0, np.log(forward / np.where(backward > 0, backward, 1.0)), 0.0)
    z = np.clip(z, -700.0, 700.0)
    return bernoulli(-theta * z) / (theta * bernoulli(-z))
