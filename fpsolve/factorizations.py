"""Sparse LU factorizations: the choice of ordering for one matrix, and a cache for shifts.

:func:`sparse_lu` is the sparse direct solve of :func:`fpsolve.solvers.factorize` (its
``method="direct"`` branch beyond banded matrices): SuperLU with the fill-reducing ordering that
the matrix's structure and size call for (docs/scale.md, "2-D at the limit").

Implicit steps and rational approximations solve with c I - s A for a few (c, s) many times:
:class:`Factorizations` factorizes each pair once and keeps it, least recently used first out.
Complex shifts on large grids are solved in real arithmetic as 2n x 2n block systems.
"""

from collections import OrderedDict

import numpy as np
import scipy.sparse as sparse
from scipy.sparse.linalg import splu

from .solvers import ORDERING, shifted_solver

__all__ = [
    "Factorizations",
    "complex_shift_solver",
    "sparse_lu",
    "COMPLEX_LU_MAX",
    "DISSECTION_SIZE",
]


class Factorizations:
    """Solvers of (c·I − s·A) keyed by (operator key, c, s), least recently used kept: sparse LU
    (:func:`fpsolve.solvers.shifted_solver`; preconditioned Krylov for matrix-free A)."""

    def __init__(self, maxsize=16):
        self._solvers = OrderedDict()
        self._maxsize = maxsize
        self.count = 0

    def solver(self, key, A, c, s):
        k = (key, c, s)
        solve = self._solvers.get(k)
        if solve is None:
            if not isinstance(c, complex):
                solve = shifted_solver(A, c, s)
            elif A.shape[0] > COMPLEX_LU_MAX:
                solve = complex_shift_solver(A, c, s)
            else:
                M = sparse.csc_array(c * sparse.identity(A.shape[0], dtype=complex, format="csc") - s * A)
                solve = splu(M, permc_spec=ORDERING).solve
            self.count += 1
            self._solvers[k] = solve
            if len(self._solvers) > self._maxsize:
                self._solvers.popitem(last=False)
        else:
            self._solvers.move_to_end(k)
        return solve


#: Above this size complex shifted systems are solved in real arithmetic (see
#: :func:`complex_shift_solver`): SuperLU's complex factorization was measured 10-40x slower
#: than the real one of the same sparsity on 2-D generators.
COMPLEX_LU_MAX = 4000


def complex_shift_solver(A, c, s):
    """Solver of (c I - s A) x = b for complex c and real A, via the real 2n x 2n system.

    With c = a + ib and unknowns interleaved as (Re x_1, Im x_1, Re x_2, ...), the system is
    (a I - s A) (x) I_2 + I_n (x) [[0, -b], [b, 0]]: real, as sparse as A up to 2x2 blocks.
    """
    n = A.shape[0]
    real = sparse.csc_array(c.real * sparse.identity(n, format="csc") - s * sparse.csc_array(A))
    block = sparse.kron(real, sparse.identity(2)) + sparse.kron(
        sparse.identity(n), sparse.csc_array(np.array([[0.0, -c.imag], [c.imag, 0.0]]))
    )
    lu = splu(sparse.csc_array(block), permc_spec=ORDERING)

    def solve(rhs):
        rhs = np.asarray(rhs, dtype=complex)
        stacked = np.empty(2 * n)
        stacked[0::2] = rhs.real
        stacked[1::2] = rhs.imag
        x = lu.solve(stacked)
        return x[0::2] + 1j * x[1::2]

    return solve


#: Structurally symmetric matrices (finite-volume generators and their shifts) from this many
#: unknowns are ordered by nested dissection (:func:`fpsolve.orderings.nested_dissection`) instead
#: of SuperLU's minimum degree on A^T + A. Measured on I - 0.5 Q^T of a 2-D double well
#: (`benchmarks/bench_2d_limit.py`, CPU s of ordering + factorization): 150^2 0.084 -> 0.064,
#: 400^2 0.73 -> 0.61, 800^2 4.96 -> 3.39; but dissection leaves 10-30 % more nonzeros, so each
#: solve costs more, and `evolve` (one LU, ~24 solves) broke even from 300^2 to 400^2. Set where
#: the fill excess is small and the factorization dominates (docs/scale.md, "2-D at the limit").
DISSECTION_SIZE = 250_000


def sparse_lu(M, ordering=None):
    """A solver ``x = solver(rhs)`` of M x = rhs by SuperLU (the ``method="direct"`` branch of
    :func:`fpsolve.solvers.factorize` for matrices that are not banded; M square CSC).

    The fill-reducing ordering follows the structure and the size: ``ordering`` when given;
    otherwise minimum degree on M^T + M for structurally symmetric M below
    :data:`DISSECTION_SIZE` unknowns (and any M below ``solvers.NONSYMMETRIC_LU_SIZE``), nested
    dissection above. Dissected matrices are factored with threshold pivoting and every solve
    is checked by its backward error (:func:`fpsolve.solvers._nonsymmetric_lu_solver`)."""
    from .solvers import NONSYMMETRIC_LU_SIZE, _nonsymmetric_lu_solver, _structurally_symmetric

    n = M.shape[0]
    minimum_degree = ordering is None and (
        n < NONSYMMETRIC_LU_SIZE or (n < DISSECTION_SIZE and _structurally_symmetric(M))
    )
    if minimum_degree:
        try:
            lu = splu(M, permc_spec=ORDERING)
        except RuntimeError as exc:
            raise ValueError(f"M: the matrix is singular ({exc})") from exc
        return lu.solve
    return _nonsymmetric_lu_solver(M, ordering)
