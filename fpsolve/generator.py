"""The seam between discretizations and analysis: the generator Q of a Markov chain on grid cells.

Every discretization produces an operator Q on the grid cells (Q[i, j] >= 0 the rate from cell i to
cell j, rows summing to zero, or to minus a killing rate where mass leaves the state space). It is
a sparse matrix, or a :class:`fpsolve.operators.MatrixFree` operator for nonlocal schemes. Forward
evolution of a density is dp/dt = Q^T p; the backward equation, exit times, committors, relaxation
rates and stationary laws are linear algebra on Q. Cells in an *absorbing set* are cemetery states:
they are removed from the state space ("keep these unknowns, remove those"), and the chain
restricted to the remaining *live* cells is a sub-generator whose row deficit is the rate of
absorption. Analysis code talks only to this object, never to the discretization that made it.

Fast paths are chosen from the operator's structure: a tridiagonal sub-generator is a birth-death
chain, solved by elimination without cancellation; anything else by sparse LU or, matrix-free, by
preconditioned Krylov iterations (:mod:`fpsolve.solvers`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from . import linalg, solvers
from .grid import Grid
from .iterative import BackwardSolver
from .operators import is_matrix_free
from .stationary import stationary_distribution

__all__ = ["Generator", "as_mask"]


@dataclass(frozen=True, eq=False)
class Generator:
    """Q on a grid, with an optional absorbing set.

    Attributes
    ----------
    matrix : scipy.sparse matrix or MatrixFree
        Q over all ``grid.size`` cells (C order), absorbing cells included as if they were not.
    grid : Grid
    absorbing : np.ndarray of bool, shape ``grid.shape``
        Cells removed from the state space (all False when nothing is absorbed inside the box).
    face_flux : tuple of sparse matrices, optional
        Per axis, the map from cell densities to the scheme's face fluxes (faces shaped with
        ``n_k + 1`` entries along axis k); used for absorption through box faces.
    markov : bool
        Whether Q is the generator of a Markov chain (non-negative rates). Spectral operators are
        not; analyses that need rates refuse them (:meth:`require_markov`).
    generator_like : bool, optional
        Whether Q, though not Markov, is a conservative generator on the cells: rows summing to
        zero, or to minus a killing rate (the kinetic scheme's second-order transport, whose only
        fault is small negative off-diagonal entries). Its eigenvalues and survival functions keep
        their meaning and are computed with a-posteriori checks (:meth:`require_generator_like`).
        Default: True for Markov generators; for others, True when a sparse Q's rows all sum to
        zero within round-off (a closed conservative operator), else False: a scheme with absorbing
        box faces declares it (``Discretization.generator_like``), since next to an exit such a Q
        has rows of either sign.
    """

    matrix: object
    grid: Grid
    absorbing: np.ndarray = None
    face_flux: tuple | None = field(default=None, repr=False)
    markov: bool = True
    generator_like: bool | None = None

    def __post_init__(self):
        if not (sp.issparse(self.matrix) or is_matrix_free(self.matrix)):
            raise TypeError(
                f"matrix: expected a sparse matrix or a MatrixFree operator, got {type(self.matrix).__name__}"
            )
        if self.matrix.shape != (self.grid.size, self.grid.size):
            raise ValueError(f"matrix: expected shape {(self.grid.size,) * 2} for the grid, got {self.matrix.shape}")
        if sp.issparse(self.matrix):
            object.__setattr__(self, "matrix", sp.csr_matrix(self.matrix, dtype=float))
        if self.absorbing is None:
            object.__setattr__(self, "absorbing", np.zeros(self.grid.shape, dtype=bool))
        else:
            mask = np.asarray(self.absorbing, dtype=bool)
            if mask.shape != self.grid.shape:
                raise ValueError(f"absorbing: expected a mask of shape {self.grid.shape}, got {mask.shape}")
            object.__setattr__(self, "absorbing", mask)
        if self.generator_like is None:
            like = self.markov or (not self.matrix_free and _conservative(self.matrix))
            object.__setattr__(self, "generator_like", bool(like))

    def __repr__(self) -> str:
        size = "matrix-free" if self.matrix_free else f"nonzeros {self.matrix.nnz}"
        return (
            f"Generator({self.grid!r}, live cells {self.n_live} of {self.grid.size}, "
            f"{size}, killing {'yes' if self.has_killing else 'no'})"
        )

    @property
    def matrix_free(self) -> bool:
        return is_matrix_free(self.matrix)

    def require_markov(self, what: str) -> None:
        """ValueError when Q is not a Markov generator (a spectral operator, or the kinetic
        scheme's second-order transport with its negative off-diagonal entries)."""
        if self.markov:
            return
        if self.generator_like:
            raise ValueError(
                f"discretization: {what} need the rate matrix of a Markov chain (non-negative "
                "rates), and this operator has negative off-diagonal entries (second-order "
                "transport); use a first-order Markov scheme (discretization='kinetic-upwind' for "
                "phase-space models, less accurate) or mean exit times and committors, which work "
                "on this operator"
            )
        raise ValueError(
            f"discretization: {what} need the rate matrix of a Markov chain, and this operator "
            "(a spectral discretization) is not one; use discretization='fv'"
        )

    def require_generator_like(self, what: str) -> None:
        """ValueError unless Q is a Markov generator or a conservative one with rows summing to
        zero or to minus a killing rate (:attr:`generator_like`)."""
        if not self.generator_like:
            self.require_markov(what)

    # --- the state space ----------------------------------------------------------------------
    @cached_property
    def live(self) -> np.ndarray:
        """Flat boolean mask of the live (non-absorbing) cells."""
        return ~self.absorbing.ravel()

    @property
    def n_live(self) -> int:
        return int(self.live.sum())

    def live_position(self, index) -> int:
        """Position in the live-cell vectors of the cell with grid multi-index ``index``."""
        flat = int(np.ravel_multi_index(tuple(index), self.grid.shape))
        if not self.live[flat]:
            raise ValueError(f"start: the cell {tuple(index)} is absorbing")
        return int(np.count_nonzero(self.live[:flat]))

    @cached_property
    def sub(self):
        """Q restricted to the live cells (a sub-generator when anything is absorbed)."""
        if self.live.all():
            return self.matrix
        if self.matrix_free:
            return self.matrix.restrict(self.live)
        return sp.csr_matrix(self.matrix[self.live][:, self.live])

    @cached_property
    def diagonal(self) -> np.ndarray:
        """Q_ii on the live cells."""
        return np.asarray(self.sub.diagonal(), dtype=float)

    @property
    def fastest_rate(self) -> float:
        """max |Q_ii| over the live cells: the scale of round-off in Q."""
        return float(np.abs(self.diagonal).max(initial=0.0))

    @cached_property
    def killing(self) -> np.ndarray:
        """Rate of absorption from each live cell, without cancellation: the rates into absorbing
        cells (entries of Q) plus what the full Q itself kills (:func:`fpsolve.linalg.killing_rates`:
        box faces, jumps out of the domain). Non-negative for Markov generators; for a conservative
        non-Markov Q some entries may be negative (second-order outflow reads a cell upwind of the
        exit with a negative weight), while the outflow k . p of a density stays the exit flux."""
        into = self.rates_into(self.absorbing) if not self.live.all() else 0.0
        signed = not self.markov  # a non-M-matrix may move negative mass to the cemetery
        return linalg.killing_rates(self.matrix, signed=signed)[self.live] + into

    @property
    def has_killing(self) -> bool:
        return bool(np.abs(self.killing).max(initial=0.0) > linalg.KILLING_RTOL * max(self.fastest_rate, 1e-300))

    @cached_property
    def forward(self):
        """The forward operator A = Q_sub^T: dp/dt = A p on the live cells."""
        return self.sub.T if self.matrix_free else sp.csr_matrix(self.sub.T)

    def with_absorbing(self, mask) -> "Generator":
        """The same chain with the cells of ``mask`` (or also those already absorbing) removed."""
        mask = np.asarray(mask, dtype=bool) | self.absorbing
        return Generator(self.matrix, self.grid, mask, self.face_flux, self.markov, self.generator_like)

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

    def rates_into(self, mask) -> np.ndarray:
        """Total rate from each live cell into the cells of ``mask``: (Q 1_mask) on the live cells."""
        indicator = np.asarray(mask, dtype=float).reshape(-1)
        return np.asarray(self.matrix @ indicator).reshape(-1)[self.live]

    def outflow(self, weights) -> np.ndarray:
        """Grid-shaped flow into each absorbing cell, sum_i w_i Q_ij, from live-cell weights w
        (zero on live cells). With w the Green's function row this is where the chain exits."""
        full = self.extend(weights).reshape(-1)
        flow = self.matrix.rmatvec(full) if self.matrix_free else self.matrix.T @ full
        return np.where(self.absorbing, np.asarray(flow).reshape(self.grid.shape), 0.0)

    @cached_property
    def _birth_death(self):
        """(lower, upper) rates when the live chain is birth-death (tridiagonal), else None."""
        return linalg.birth_death_parts(self.sub) if self.markov else None

    def solver(self, reuse=None):
        """The reusable solver of Q_sub x = rhs, built on first use and kept: elimination for a
        birth-death chain, else :func:`fpsolve.solvers.generator_solver` (sparse LU, or AMG-
        preconditioned Krylov for large 3-D chains). ``reuse``: an
        :class:`fpsolve.amg.HierarchyCache` whose aggregates a new AMG hierarchy reuses (the
        points of a sweep); it only matters for the first call."""
        built = self.__dict__.get("_built_solver")
        if built is None:
            parts = self._birth_death
            if parts is not None:
                # a birth-death chain: elimination without cancellation, entrywise accurate for
                # any barrier height (solvers.solve_birth_death)
                lower, upper = parts
                killing = self.killing
                built = lambda rhs: solvers.solve_birth_death(lower, upper, killing, -rhs)  # noqa: E731
            else:
                built = solvers.generator_solver(self.sub, markov=self.markov, reuse=reuse)
            self.__dict__["_built_solver"] = built
        return built

    @property
    def _solver(self):
        return self.solver()

    @cached_property
    def _transpose_solver(self):
        built = self.solver()
        if isinstance(built, BackwardSolver):  # iterative: one hierarchy serves Q^T (reversible chains)
            return lambda rhs: built.solve(rhs, transpose=True).x
        return solvers.factorize(self.forward)

    def solve_with_error(self, rhs, transpose: bool = False, reuse=None) -> tuple:
        """``(x, error)``: x = Q_sub^{-1} rhs (or Q_sub^{-T} rhs) and an estimate of its relative
        error, the larger of the round-off estimate :meth:`solve_error` and, for an iterative
        solve, its a-posteriori bound max(G|r|) / max|x| (:mod:`fpsolve.iterative`)."""
        self._require_killing()
        rhs = np.asarray(rhs, dtype=float)
        built = self.solver(reuse)
        if isinstance(built, BackwardSolver):
            solution = built.solve(rhs, transpose=transpose)
            x, bound = solution.x, solution.error
        else:
            x, bound = (self._transpose_solver(rhs) if transpose else built(rhs)), 0.0
        return x, max(self.solve_error(x, rhs, transpose), bound)

    def solve_error(self, x, rhs=None, transpose: bool = False) -> float:
        """An estimate of the relative round-off error of ``x = solve(rhs)`` for ``rhs`` of one sign.

        Birth-death chains are solved entrywise accurately: ~n eps. Otherwise the relative error
        is about eps ||Q|| ||Q^-1||, with ||Q|| ~ max|Q_ii| and ||Q^-1|| ~ max|x| / max|rhs| for
        a right-hand side of one sign (for exit times, rhs = -1: the rounding of the diagonal acts
        as a spurious killing eps max|Q_ii| against the escape rate 1 / max|x|). Measured ~50
        times larger than the actual error on double wells. An iterative solve adds its own
        bound (:meth:`solve_with_error`).
        """
        if self._birth_death is not None and not transpose:
            return float(self.n_live * np.finfo(float).eps)
        size = 1.0 if rhs is None else float(np.abs(np.asarray(rhs)).max(initial=0.0))
        x_max = float(np.abs(np.asarray(x)).max(initial=0.0))
        return float(np.finfo(float).eps * self.fastest_rate * x_max / max(size, 1e-300))

    def _require_killing(self) -> None:
        if self.generator_like and not self.has_killing:
            raise ValueError(
                "domain: nothing is ever absorbed (no absorbing cells or faces are reachable), "
                "so exit times are infinite; give a domain smaller than the box or an absorbing boundary"
            )

    def solve(self, rhs) -> np.ndarray:
        """Solve Q_sub x = rhs on the live cells (factorization computed once and reused).

        Raises ValueError when Q_sub is singular: nothing is absorbed, so backward problems such
        as mean exit times have no finite solution.
        """
        self._require_killing()
        return self._solver(np.asarray(rhs, dtype=float))

    def solve_transpose(self, rhs) -> np.ndarray:
        """Solve Q_sub^T x = rhs on the live cells (Green's function rows, exit locations)."""
        self._require_killing()
        return self._transpose_solver(np.asarray(rhs, dtype=float))

    def stationary(self) -> np.ndarray:
        """Stationary probability vector over all cells (requires no absorption)."""
        if self.has_killing or not self.live.all():
            raise ValueError(
                "boundary: the process is absorbed, so it has no stationary law; "
                "use reflecting or periodic boundaries without an absorbing set"
            )
        return stationary_distribution(self.matrix)

    def relaxation_rates(self, k: int, *, rtol: float = linalg.RATES_RTOL) -> np.ndarray:
        """The k smallest nonzero relaxation rates (positive, ascending) of the live chain, each
        certified to relative accuracy ``rtol`` or refused (:func:`fpsolve.linalg.relaxation_rates`).

        A conservative non-Markov Q (:attr:`generator_like`) is treated as a non-reversible chain:
        shift-invert Arnoldi with right and left eigenvectors, each rate certified by its
        eigen-residual and condition number (the estimate kappa(lambda) |r|)."""
        self.require_generator_like("relaxation rates")
        if self.markov:
            return linalg.relaxation_rates(self.sub, k, rtol=rtol, killing=self.killing)
        # the killing only tells a closed chain (a zero eigenvalue to leave out) from a killed one
        closed_or_killed = np.where(self.has_killing, np.abs(self.killing), 0.0)
        return linalg.relaxation_rates(self.sub, k, rtol=rtol, killing=closed_or_killed, reversible=False)


def _conservative(Q) -> bool:
    """Whether every row of the sparse Q sums to zero within round-off: a closed conservative
    generator, whatever the signs of its entries."""
    Q = sp.csr_matrix(Q)
    rows = np.asarray(Q.sum(axis=1)).ravel()
    scale = np.asarray(abs(Q).sum(axis=1)).ravel()
    return bool(np.all(np.abs(rows) <= linalg.KILLING_RTOL * np.maximum(scale, np.finfo(float).tiny)))


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
            raise ValueError(
                f"{name}: expected a boolean mask of shape {grid.shape} or a predicate, got shape {mask.shape}"
            )
        if mask.dtype != bool:
            raise ValueError(f"{name}: expected a boolean mask, got dtype {mask.dtype}")
    return np.array(mask, dtype=bool)
