"""A cache of sparse LU solvers for shifted systems (c I - s A), real or complex.

Implicit steps and rational approximations solve with c I - s A for a few (c, s) many times:
each pair is factorized once (minimum-degree ordering on A^T + A) and kept, least recently used
first out. Complex shifts on large grids are solved in real arithmetic as 2n x 2n block systems.
"""

from collections import OrderedDict

import numpy as np
import scipy.sparse as sparse
from scipy.sparse.linalg import splu

from .solvers import ORDERING, shifted_solver

__all__ = ["Factorizations", "complex_shift_solver", "COMPLEX_LU_MAX"]


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
