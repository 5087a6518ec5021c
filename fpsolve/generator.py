"""The seam between discretizations and analysis: the generator Q of a Markov chain on grid cells.

Every discretization produces a rate matrix Q (Q[i, j] >= 0 the rate from cell i to cell j,
rows summing to zero, or to minus a killing rate at absorbing box faces). Forward evolution of a
density is dp/dt = Q^T p; the backward equation, exit times, committors, relaxation rates and
stationary laws are linear algebra on Q. Cells in an *absorbing set* are cemetery states: they are
removed from the state space, and the chain restricted to the remaining *live* cells is a
sub-generator whose row deficit is the rate of absorption. Analysis code talks only to this
object, never to the discretization that made it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from . import linalg
from .grid import Grid

__all__ = ["Generator", "as_mask"]


@dataclass(frozen=True, eq=False)
class Generator:
    """Q on a grid, with an optional absorbing set.

    Attributes
    ----------
    matrix : scipy.sparse.csr_matrix
        Q over all ``grid.size`` cells (C order), absorbing cells included as if they were not.
    grid : Grid
    absorbing : np.ndarray of bool, shape ``grid.shape``
        Cells removed from the state space (all False when nothing is absorbed inside the box).
    face_flux : tuple of sparse matrices, optional
        Per axis, the map from cell densities to the scheme's face fluxes (faces shaped with
        ``n_k + 1`` entries along axis k); used by ``current``.
    """

    matrix: sp.csr_matrix
    grid: Grid
    absorbing: np.ndarray = None
    face_flux: tuple | None = field(default=None, repr=False)

    def __post_init__(self):
        if self.absorbing is None:
            object.__setattr__(self, "absorbing", np.zeros(self.grid.shape, dtype=bool))
        else:
            mask = np.asarray(self.absorbing, dtype=bool)
            if mask.shape != self.grid.shape:
                raise ValueError(f"absorbing: expected a mask of shape {self.grid.shape}, got {mask.shape}")
            object.__setattr__(self, "absorbing", mask)

    def __repr__(self) -> str:
        return (
            f"Generator({self.grid!r}, live cells {self.n_live} of {self.grid.size}, "
            f"nonzeros {self.matrix.nnz}, killing {'yes' if self.has_killing else 'no'})"
        )

    # --- the state space ----------------------------------------------------------------------
    @cached_property
    def live(self) -> np.ndarray:
        """Flat boolean mask of the live (non-absorbing) cells."""
        return ~self.absorbing.ravel()

    @property
    def n_live(self) -> int:
        return int(self.live.sum())

    @cached_property
    def sub(self) -> sp.csr_matrix:
        """Q restricted to the live cells (a sub-generator when anything is absorbed)."""
        if self.live.all():
            return self.matrix
        return sp.csr_matrix(self.matrix[self.live][:, self.live])

    @cached_property
    def killing(self) -> np.ndarray:
        """Rate of absorption from each live cell (non-negative), without cancellation.

        Two parts: the rates into absorbing cells (entries of Q, exact), and the killing at
        absorbing box faces (minus the row sums of the full Q, kept only where they exceed the
        round-off of the row, 1e-12 max|Q_ij|: elsewhere the row sums vanish exactly in exact
        arithmetic, and their rounding must not act as a spurious killing).
        """
        full = self.matrix[self.live]
        row_sums = np.asarray(full.sum(axis=1)).ravel()
        row_scale = np.asarray(abs(full).max(axis=1).todense()).ravel()
        faces = np.where(-row_sums > 1e-12 * row_scale, -row_sums, 0.0)
        into = np.asarray(full[:, ~self.live].sum(axis=1)).ravel() if not self.live.all() else 0.0
        return faces + into

    @property
    def has_killing(self) -> bool:
        scale = float(np.abs(self.sub.diagonal()).max(initial=0.0))
        return bool(self.killing.max(initial=0.0) > 1e-12 * max(scale, 1e-300))

    @cached_property
    def forward(self) -> sp.csr_matrix:
        """The forward operator A = Q_sub^T: dp/dt = A p on the live cells."""
        return sp.csr_matrix(self.sub.T)

    def with_absorbing(self, mask) -> "Generator":
        """The same chain with the cells of ``mask`` (or also those already absorbing) removed."""
        mask = np.asarray(mask, dtype=bool) | self.absorbing
        return Generator(self.matrix, self.grid, mask, self.face_flux)

    # --- fields on the live cells ---------------------------------------------------------------
    def restrict(self, field_values) -> np.ndarray:
        """A grid-shaped field as a vector over the live cells."""
        return np.asarray(field_values, dtype=float).reshape(-1)[self.live]

    def extend(self, values, fill: float = 0.0) -> np.ndarray:
        """A vector over the live cells as a grid-shaped field, ``fill`` on absorbing cells."""
        out = np.full(self.grid.size, fill, dtype=np.result_type(values, float))
        out[self.live] = values
        return out.reshape(self.grid.shape)

    # --- linear algebra ------------------------------------------------------------------------
    def apply(self, f) -> np.ndarray:
        """Q f on the live cells (the backward operator acting on a function)."""
        return self.sub @ f

    def apply_transpose(self, p) -> np.ndarray:
        """Q^T p on the live cells (the forward operator acting on a density)."""
        return self.forward @ p

    @cached_property
    def _solver(self):
        if self._birth_death:
            # a birth-death chain: elimination without cancellation, entrywise accurate for any
            # barrier height (linalg.solve_birth_death)
            sub = self.sub
            upper = np.append(sub.diagonal(1), 0.0)
            lower = np.insert(sub.diagonal(-1), 0, 0.0)
            killing = self.killing
            return lambda rhs: linalg.solve_birth_death(lower, upper, killing, -rhs)
        return linalg.factorize(self.sub)

    @property
    def _birth_death(self) -> bool:
        return self.grid.ndim == 1 and not self.grid.periodic[0]

    def solve_error(self, x) -> float:
        """An estimate of the relative error of ``x = solve(rhs)`` for rhs of one sign.

        Birth-death chains (1-D) are solved entrywise accurately: ~n eps. Otherwise the rounding
        of the diagonal acts as a spurious killing eps max|Q_ii| against the escape rate
        1 / max|x|: eps max|Q_ii| max|x| (measured ~50 times larger than the actual error on
        double wells).
        """
        if self._birth_death:
            return float(self.n_live * np.finfo(float).eps)
        fastest = float(np.abs(self.sub.diagonal()).max(initial=0.0))
        return float(np.finfo(float).eps * fastest * np.abs(np.asarray(x)).max(initial=0.0))

    def solve(self, rhs) -> np.ndarray:
        """Solve Q_sub x = rhs on the live cells (factorization computed once and reused).

        Raises ValueError when Q_sub is singular: nothing is absorbed, so backward problems such
        as mean exit times have no finite solution.
        """
        if not self.has_killing:
            raise ValueError(
                "domain: nothing is ever absorbed (no absorbing cells or faces are reachable), "
                "so exit times are infinite; give a domain smaller than the box or an absorbing boundary"
            )
        return self._solver(np.asarray(rhs, dtype=float))

    def rates_into(self, mask) -> sp.csr_matrix:
        """Rates from each live cell into the cells of ``mask`` (live x masked), for exit locations."""
        mask = np.asarray(mask, dtype=bool).ravel()
        return sp.csr_matrix(self.matrix[self.live][:, mask])

    def stationary(self) -> np.ndarray:
        """Stationary probability vector over all cells (requires no absorption)."""
        if self.has_killing or not self.live.all():
            raise ValueError(
                "boundary: the process is absorbed, so it has no stationary law; "
                "use reflecting or periodic boundaries without an absorbing set"
            )
        return linalg.stationary_distribution(self.matrix)

    def relaxation_rates(self, k: int) -> np.ndarray:
        """The k smallest nonzero relaxation rates (positive, ascending) of the live chain."""
        return linalg.relaxation_rates(self.sub, k)


def as_mask(grid: Grid, where, name: str = "domain") -> np.ndarray:
    """A boolean cell mask from a mask array or a predicate on the cell-centre coordinates.

    ``where`` may be a grid-shaped boolean array or a callable ``where(x, y, ...)`` taking one
    coordinate array per axis (``lambda x, y: x < 0``).
    """
    if callable(where):
        try:
            mask = where(*grid.mesh())
        except Exception as error:  # re-raise with the argument named
            raise ValueError(f"{name}: the predicate failed on the grid coordinates: {error}") from error
        mask = np.asarray(mask, dtype=bool)
        try:
            mask = np.broadcast_to(mask, grid.shape)
        except ValueError:
            raise ValueError(
                f"{name}: the predicate returned shape {mask.shape}; expected a boolean array of "
                f"the grid's shape {grid.shape} (one value per cell centre)"
            ) from None
    else:
        mask = np.asarray(where)
        if mask.shape != grid.shape:
            raise ValueError(f"{name}: expected a boolean mask of shape {grid.shape} or a predicate, got shape {mask.shape}")
        if mask.dtype != bool:
            raise ValueError(f"{name}: expected a boolean mask, got dtype {mask.dtype}")
    return np.array(mask, dtype=bool)
