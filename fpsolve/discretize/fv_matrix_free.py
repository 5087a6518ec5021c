"""The finite-volume generator without a matrix: Q f and Q^T p from per-link rates, in 1-D to 4-D.

The finite-volume generator of a structured grid links each cell to its face neighbours (and,
with cross diffusion, to its diagonal neighbours) at a few fixed offsets. Stored as one rate
array per offset (:mod:`fpsolve.discretize.fv_stencil`), it costs (2d + 1) doubles per cell
instead of the (2d + 1) doubles and integers of CSR plus the face-flux matrices, and its products
are Numba loops over lines of the grid. This is what 4-D operators (48^4 = 5.3e6 cells) need.

Two ways in:

* :func:`from_model` computes the fitted face rates of the model directly
  (:func:`fpsolve.discretize.fv.face_rates`), the same numbers the assembled CSR is built from,
  so that the two agree to round-off; no matrix is formed (diffusions without cross terms);
* :func:`from_generator` reads the rates off an assembled CSR generator of a structured grid
  (any stencil, cross diffusion and limited links included).

Both return an :class:`fpsolve.operators.MatrixFree` with ``diagonal``, ``killing`` and a
``preconditioner`` hook: ``preconditioner(live, identity, transpose)`` approximates
(identity I - Q_live)^{-1} (or the inverse of its transpose) by one smoothed-aggregation AMG
V-cycle (pyamg) of that matrix, built from the stencil when it has at most
:data:`AMG_MAX_CELLS` cells, else by Jacobi (the inverse diagonal).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sparse

from ..operators import MatrixFree
from . import fv
from . import fv_stencil as kernels

__all__ = ["Stencil", "from_model", "from_generator", "stencil_of", "AMG_MAX_CELLS"]

#: Largest number of cells for which the preconditioner builds the CSR and an AMG hierarchy:
#: 128^3 = 2.1e6 cells take ~0.5 GB for the matrix and its hierarchy; beyond, Jacobi.
AMG_MAX_CELLS = 4_000_000


class Stencil:
    """Q on a structured grid as per-offset rates (see :mod:`fpsolve.discretize.fv_stencil`).

    Attributes
    ----------
    shape : tuple of int
        The grid's shape (up to four axes).
    periodic : tuple of bool
    offsets : int array (m, d)
        Neighbour offsets, in increasing flat order.
    rates : array (m, n)
        ``rates[s, i] = Q[i, i + offsets[s]]``, zero towards a wall.
    diagonal : array (n,)
        Q_ii = -(sum_s rates[s, i] + killing[i]).
    killing : array (n,)
        Rate out of the state space (absorbing box faces).
    """

    def __init__(self, shape, periodic, offsets, rates, killing, diagonal=None):
        self.shape = tuple(int(s) for s in shape)
        self.periodic = tuple(bool(p) for p in periodic)
        self._shape4, self._periodic4, offsets4, order = kernels.padded(self.shape, self.periodic, offsets)
        self._offsets4 = np.ascontiguousarray(offsets4)
        self.offsets = np.asarray(offsets, dtype=np.int64).reshape(-1, len(self.shape))[order]
        self.rates = np.ascontiguousarray(np.asarray(rates, dtype=float).reshape(len(order), -1)[order])
        self.killing = np.ascontiguousarray(killing, dtype=float).reshape(-1)
        if diagonal is None:
            diagonal = -(self.rates.sum(axis=0) + self.killing)
        self.diagonal = np.ascontiguousarray(diagonal, dtype=float).reshape(-1)
        self.size = self.diagonal.size

    def matvec(self, f) -> np.ndarray:
        """Q f."""
        out = np.empty(self.size)
        kernels.apply_generator(
            self._shape4, self._periodic4, self._offsets4, self.rates, self.diagonal, _vector(f, self.size), out
        )
        return out

    def rmatvec(self, p) -> np.ndarray:
        """Q^T p."""
        out = np.empty(self.size)
        kernels.apply_transpose(
            self._shape4, self._periodic4, self._offsets4, self.rates, self.diagonal, _vector(p, self.size), out
        )
        return out

    def tocsr(self) -> sparse.csr_array:
        """Q as a CSR array (columns sorted)."""
        indptr, indices, data = kernels.stencil_csr(
            self._shape4, self._periodic4, self._offsets4, self.rates, self.diagonal
        )
        return sparse.csr_array((data, indices, indptr), shape=(self.size, self.size))

    def symmetrized_bound(self) -> float:
        """An upper bound on the spectral radius of Q for a reversible chain: Gershgorin's bound
        max_i (|Q_ii| + sum_j sqrt(Q_ij Q_ji)) on the symmetric S = Pi^(1/2) Q Pi^(-1/2), whose
        entries are S_ij = sqrt(Q_ij Q_ji) (needs no pi)."""
        total = -self.diagonal.copy()
        for s, offset in enumerate(self.offsets):
            back = int(np.flatnonzero(np.all(self.offsets == -offset, axis=1))[0])
            partner = np.roll(self.rates[back].reshape(self.shape), tuple(-offset), axis=tuple(range(len(self.shape))))
            total += np.sqrt(self.rates[s] * partner.ravel())
        return float(total.max(initial=0.0))


def _vector(x, n) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=float).reshape(-1)
    if x.size != n:
        raise ValueError(f"x: expected {n} values, got {x.size}")
    return x


def from_model(model, grid, boundary="reflecting", t: float = 0.0) -> MatrixFree:
    """The matrix-free finite-volume generator of ``model`` on ``grid`` (no cross diffusion): the
    fitted face rates of :func:`fpsolve.discretize.fv.face_rates`, the same as the assembled CSR's."""
    axes = fv.face_rates(model, grid, boundary, t)
    offsets, rates, killing = fv.stencil_rates(grid, axes)
    return as_matrix_free(Stencil(grid.shape, grid.periodic, offsets, rates, killing))


def stencil_of(Q, grid) -> Stencil:
    """The stencil of an assembled generator Q (CSR, C order) of a structured grid: its offsets
    are read off the nonzero pattern (differences of multi-indices, across periodic wraps the
    short way round), its rates and diagonal copied. Periodic axes need at least 3 cells."""
    if any(p and n < 3 for p, n in zip(grid.periodic, grid.shape)):
        raise ValueError("grid: a periodic axis needs at least 3 cells for a stencil (offsets +1 and -1 coincide)")
    Q = sparse.csr_array(Q)
    n = grid.size
    rows = np.repeat(np.arange(n), np.diff(Q.indptr))
    off = rows != Q.indices
    rows, cols, values = rows[off], Q.indices[off], Q.data[off]
    delta = np.array(np.unravel_index(cols, grid.shape)) - np.array(np.unravel_index(rows, grid.shape))
    for k, size in enumerate(grid.shape):
        if grid.periodic[k]:
            delta[k] = np.where(delta[k] > size // 2, delta[k] - size, delta[k])
            delta[k] = np.where(delta[k] < -(size // 2), delta[k] + size, delta[k])
    offsets, which = np.unique(delta.T, axis=0, return_inverse=True)
    rates = np.zeros((len(offsets), n))
    np.add.at(rates, (which.ravel(), rows), values)
    diagonal = Q.diagonal()
    killing = -(diagonal + rates.sum(axis=0))
    return Stencil(grid.shape, grid.periodic, offsets, rates, killing, diagonal=diagonal)


def from_generator(Q, grid) -> MatrixFree:
    """The assembled generator Q of a structured grid as a matrix-free operator (:func:`stencil_of`)."""
    return as_matrix_free(stencil_of(Q, grid))


def as_matrix_free(stencil: Stencil) -> MatrixFree:
    """A :class:`MatrixFree` applying the stencil, with its killing and the preconditioner hook."""
    operator = MatrixFree(
        stencil.size,
        stencil.matvec,
        stencil.rmatvec,
        stencil.diagonal,
        killing=stencil.killing,
        preconditioner=lambda live, identity, transpose: preconditioner(stencil, live, identity, transpose),
    )
    operator.stencil = stencil
    return operator


def preconditioner(stencil: Stencil, live, identity: float, transpose: bool):
    """An approximate inverse of M = identity I - Q_live (M^T if ``transpose``), ``live`` a boolean
    mask of the kept states (None: all): one smoothed-aggregation V-cycle of M (pyamg) up to
    :data:`AMG_MAX_CELLS` cells, else the inverse of M's diagonal."""
    keep = np.ones(stencil.size, dtype=bool) if live is None else np.asarray(live, dtype=bool)
    diagonal = identity - stencil.diagonal[keep]
    if stencil.size > AMG_MAX_CELLS:
        inverse = 1.0 / np.where(diagonal > 0, diagonal, 1.0)
        return lambda r: inverse * r
    Q = stencil.tocsr()
    if live is not None:
        Q = Q[keep][:, keep]
    M = sparse.csr_array(identity * sparse.identity(Q.shape[0], format="csr") - Q)
    if transpose:
        M = sparse.csr_array(M.T)
    return amg_cycle(M)


def amg_cycle(M):
    """apply(r) = one V-cycle of a smoothed-aggregation hierarchy of M (an M-matrix), as an
    approximate inverse; pyamg is imported here (a core dependency from issue 14)."""
    import pyamg

    # prolongation smoothing weighted by row sums ("local"), not by pyamg's default Arnoldi
    # estimate of the spectral radius: that estimate took 40 of 54 s of a 48^3 stationary solve
    hierarchy = pyamg.smoothed_aggregation_solver(
        sparse.csr_matrix(M), symmetry="nonsymmetric", smooth=("jacobi", {"weighting": "local"}), max_coarse=500
    )
    operator = hierarchy.aspreconditioner(cycle="V")
    return lambda r: operator @ np.asarray(r, dtype=float)
