"""Matrix-free generators: Q given by its action, for operators too dense to store.

A nonlocal operator (a fractional Laplacian couples every cell to every other) has a dense Q: on
256^2 cells that is 4e9 entries. It is applied instead, by FFT or any fast product. The seam
(:class:`fpsolve.generator.Generator`) accepts a :class:`MatrixFree` wherever it accepts a sparse
Q; linear algebra then uses preconditioned Krylov methods with a stated tolerance instead of
factorizations (:mod:`fpsolve.linalg`).

What an operator must provide (the seam's contract, docs/architecture.md):

* ``matvec(f)`` = Q f and ``rmatvec(p)`` = Q^T p on vectors of length n;
* ``diagonal`` = (Q_ii), non-positive for a Markov generator;
* optionally ``approximate``, a sparse matrix close to Q (its near field, for instance) whose LU
  preconditions the Krylov solves;
* optionally ``killing``, the rate at which each cell's mass leaves the state space through
  no other cell (jumps out of a bounded domain), known without cancellation;
* optionally ``preconditioner``, a factory of approximate inverses that needs no matrix (the
  kinetic scheme's alternating-direction plane solves, :mod:`fpsolve.discretize.kinetic_planes`),
  for operators too large for any factorization.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["MatrixFree", "is_matrix_free"]


class MatrixFree:
    """A square linear operator Q of size n given by its products.

    Parameters
    ----------
    n : int
        Number of states.
    matvec, rmatvec : callable
        ``matvec(f) -> Q f`` and ``rmatvec(p) -> Q^T p`` for float vectors of length n (pure
        functions: they must not modify their argument).
    diagonal : array (n,)
        The diagonal of Q.
    approximate : sparse matrix (n, n), optional
        A cheap approximation of Q used to precondition solves. Best when it is itself a
        generator with Q's row sums (for a nonlocal operator: the near field with the far rates
        lumped onto the nearest neighbours), so that it shares Q's slow modes; a near field that
        simply drops the far rates preconditions nearly singular solves poorly.
    killing : array (n,), optional
        Non-negative rates of leaving the state space from each state (Q 1 = -killing for a
        Markov generator), when known exactly.
    preconditioner : callable, optional
        ``preconditioner(live, identity, transpose) -> apply``: ``apply(r)`` approximates
        (identity I - Q_live)^{-1} r, or the inverse of its transpose, where Q_live is Q restricted
        to the states of the boolean mask ``live`` (None: all) and ``identity`` >= 0 (units of Q).
        Krylov solves use it instead of ``approximate`` (:func:`fpsolve.solvers.krylov_solver`).
    """

    ndim = 2
    dtype = np.dtype(float)

    def __init__(self, n: int, matvec, rmatvec, diagonal, *, approximate=None, killing=None, preconditioner=None):
        self.shape = (int(n), int(n))
        self._matvec, self._rmatvec = matvec, rmatvec
        self._diagonal = np.asarray(diagonal, dtype=float).reshape(-1)
        if self._diagonal.shape != (self.shape[0],):
            raise ValueError(f"diagonal: expected shape ({n},), got {self._diagonal.shape}")
        self.approximate = None if approximate is None else sp.csr_array(approximate, dtype=float)
        if self.approximate is not None and self.approximate.shape != self.shape:
            raise ValueError(f"approximate: expected shape {self.shape}, got {self.approximate.shape}")
        self.killing = None if killing is None else np.asarray(killing, dtype=float).reshape(-1)
        self.preconditioner = preconditioner

    def __repr__(self) -> str:
        extras = ", preconditioner" if self.approximate is not None or self.preconditioner else ""
        return f"MatrixFree(n={self.shape[0]}{extras})"

    def matvec(self, f) -> np.ndarray:
        return np.asarray(self._matvec(np.asarray(f, dtype=float)), dtype=float)

    def rmatvec(self, p) -> np.ndarray:
        return np.asarray(self._rmatvec(np.asarray(p, dtype=float)), dtype=float)

    def __matmul__(self, x):
        x = np.asarray(x, dtype=float)
        if x.ndim == 1:
            return self.matvec(x)
        return np.column_stack([self.matvec(col) for col in x.T])

    def diagonal(self) -> np.ndarray:
        return self._diagonal.copy()

    @property
    def T(self) -> "MatrixFree":
        """Q^T as a matrix-free operator (killing is a property of Q's rows, not carried over)."""
        approx = None if self.approximate is None else self.approximate.T
        preconditioner = None
        if self.preconditioner is not None:
            original = self.preconditioner
            preconditioner = lambda live, identity, transpose: original(live, identity, not transpose)  # noqa: E731
        return MatrixFree(
            self.shape[0],
            self._rmatvec,
            self._matvec,
            self._diagonal,
            approximate=approx,
            preconditioner=preconditioner,
        )

    def sum(self, axis):
        """Row sums (axis=1, Q 1) or column sums (axis=0, Q^T 1), as sparse matrices offer."""
        ones = np.ones(self.shape[0])
        return self.matvec(ones) if axis == 1 else self.rmatvec(ones)

    def restrict(self, keep) -> "MatrixFree":
        """Q restricted to the states where ``keep`` (boolean, length n) is True: the others are
        removed (their values are zero in products)."""
        keep = np.asarray(keep, dtype=bool)
        n = self.shape[0]

        def lift(x):
            full = np.zeros(n)
            full[keep] = x
            return full

        matvec = lambda x: self._matvec(lift(x))[keep]  # noqa: E731
        approx = None
        if self.approximate is not None:
            approx = _with_row_sums(
                self.approximate[keep][:, keep], self._diagonal[keep], matvec(np.ones(int(keep.sum())))
            )
        killing = None if self.killing is None else self.killing[keep]
        preconditioner = None
        if self.preconditioner is not None:
            original = self.preconditioner

            def preconditioner(live, identity, transpose):
                within = keep.copy()  # the restricted operator's live states, as states of Q
                if live is not None:
                    within[keep] = np.asarray(live, dtype=bool)
                return original(within, identity, transpose)

        return MatrixFree(
            int(keep.sum()),
            matvec,
            lambda x: self._rmatvec(lift(x))[keep],
            self._diagonal[keep],
            approximate=approx,
            killing=killing,
            preconditioner=preconditioner,
        )

    def toarray(self) -> np.ndarray:
        """The dense matrix (n products; for small operators and tests)."""
        eye = np.eye(self.shape[0])
        return np.column_stack([self.matvec(e) for e in eye])

    def tosparse(self) -> sp.csr_array:
        """The dense matrix as a sparse array (small operators only)."""
        return sp.csr_array(self.toarray())


def _with_row_sums(approx, diagonal, row_sums):
    """``approx`` with Q's diagonal and its off-diagonal rows scaled so that each row sums as Q's.

    Removing states from a nonlocal operator turns the far jumps into them into killing; a
    near-field approximation that lumped those jumps onto neighbouring states would keep them as
    transitions and stop approximating the restricted operator (preconditioned solves then
    stall). Scaling the off-diagonal part of each row by (row sum - Q_ii) / (its own sum) keeps
    the approximation an M-matrix with the operator's own killing."""
    approx = sp.csr_array(approx, dtype=float)
    off = approx - sp.diags_array(approx.diagonal())
    own = np.asarray(off.sum(axis=1)).ravel()
    wanted = np.maximum(row_sums - diagonal, 0.0)
    scale = np.where(own > 0, wanted / np.where(own > 0, own, 1.0), 0.0)
    return sp.csr_array(sp.diags_array(scale) @ off + sp.diags_array(diagonal))


def is_matrix_free(operator) -> bool:
    return isinstance(operator, MatrixFree)
