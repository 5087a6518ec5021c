"""Smoothed-aggregation algebraic multigrid for large generators: hierarchies and V-cycles.

A hierarchy approximates A^{-1} for a sparse M-matrix A (minus a sub-generator, or its symmetrized
form) by a sequence of coarser Galerkin operators A_{l+1} = P_l^T A_l P_l. The prolongators are
smoothed aggregation (Vanek, Mandel & Brezina 1996): cells strongly coupled to each other
(|a_ij| >= theta sqrt(a_ii a_jj)) are grouped into aggregates, the tentative prolongator
interpolates a near-null vector B (A B ~ 0: the constants for -Q, mu^{1/2} for the symmetrized
-S = -Pi^{1/2} Q Pi^{-1/2}) piecewise on the aggregates, and one damped Jacobi step
P = (I - omega diag(1/sum_j |a_ij|) A) T smooths it (the row-sum, Gershgorin weighting needs no
eigenvalue estimate). The V-cycle smooths with one forward Gauss-Seidel sweep before the coarse
correction and one backward sweep after it, so for a symmetric A it is a symmetric preconditioner
(conjugate gradients stay valid).

Everything is CSR and built here (pyamg's C++ strength, aggregation and Gauss-Seidel kernels do
the inner loops): pyamg's own setup keeps P in BSR form, whose ``sum_duplicates`` took 7 of the
10 s of its setup at 128^3 (1.7e6 unknowns), and its Krylov drivers call BLAS dot products that
were measured 15 ms each on the loaded 2-core machine. The aggregates of a hierarchy depend only
on the pattern of strong couplings: :class:`HierarchyCache` keeps them for the next operator
with the same sparsity (the points of a sweep), so only the numeric part is rebuilt.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sparse
from scipy.sparse.linalg import splu

__all__ = ["Hierarchy", "HierarchyCache", "build_hierarchy", "STRENGTH_THETA", "MAX_COARSE"]

#: Strength threshold theta of the aggregation: 0 keeps every coupling. Measured at 64^3 on the
#: symmetrized double-well generator (CG to 1e-7 on one core, B = mu^{1/2}): theta = 0 took 14
#: iterations, 0.1 took 30 and 0.25 61 (the grid's anisotropic couplings get cut).
STRENGTH_THETA = 0.0

#: Operators with at most this many unknowns are factored (sparse LU) at the bottom of the cycle.
MAX_COARSE = 500

#: Damping of the Jacobi prolongator smoother (with the row-sum weighting, 4/3 / rowsum ~ 2/3 / a_ii).
PROLONGATOR_OMEGA = 4.0 / 3.0

#: Coarsening stops when a level keeps more than this fraction of its unknowns.
MIN_COARSENING = 0.9


@dataclass(frozen=True, eq=False)
class Hierarchy:
    """Galerkin operators ``A[0] = A`` (finest) to ``A[-1]`` (coarsest, factored by sparse LU) with the
    prolongators ``P[l]`` from level l+1 to level l; ``symmetric`` says whether A is."""

    A: list
    P: list
    R: list
    coarse: tuple
    symmetric: bool

    @property
    def operator_complexity(self) -> float:
        """Nonzeros of all levels over those of the finest."""
        return sum(a.nnz for a in self.A) / max(self.A[0].nnz, 1)

    def __repr__(self) -> str:
        sizes = " > ".join(str(a.shape[0]) for a in self.A)
        return f"Hierarchy({sizes} unknowns, operator complexity {self.operator_complexity:.2f})"

    def vcycle(self, b: np.ndarray) -> np.ndarray:
        """One V-cycle for A x = b from x = 0: an approximate A^{-1} b (linear in b)."""
        return self._cycle(0, np.asarray(b, dtype=float))

    def _cycle(self, level: int, b: np.ndarray) -> np.ndarray:
        if level == len(self.A) - 1:
            return self._coarse_solve(b)
        A = self.A[level]
        x = np.zeros_like(b)
        gauss_seidel(A, x, b, forward=True)
        residual = b - A @ x
        x += self.P[level] @ self._cycle(level + 1, self.R[level] @ residual)
        gauss_seidel(A, x, b, forward=False)
        return x

    def _coarse_solve(self, b):
        return self.coarse[1].solve(b)


def gauss_seidel(A, x, b, forward: bool = True, sweeps: int = 1) -> None:
    """Gauss-Seidel sweeps on A x = b in place (lexicographic, forward or backward order)."""
    from pyamg import amg_core

    n = A.shape[0]
    start, stop, step = (0, n, 1) if forward else (n - 1, -1, -1)
    for _ in range(sweeps):
        amg_core.gauss_seidel(A.indptr, A.indices, A.data, x, b, start, stop, step)


@dataclass(repr=False)
class HierarchyCache:
    """Aggregates of AMG hierarchies, kept for the next operator with the same sparsity pattern.

    Pass one instance to every point of a sweep (``fp.mean_exit_time(..., reuse=cache)``): the
    operators of a sweep over batch size or temperature share their pattern, and the aggregation
    (strength of connection and grouping, on every level) is reused, so only the numeric part
    (prolongator smoothing and the Galerkin products) is rebuilt. Nothing is global: a cache
    lives as long as the caller keeps it. ``hits`` and ``misses`` count the hierarchies built
    with and without reuse.
    """

    aggregates: dict = field(default_factory=dict)
    hits: int = 0
    misses: int = 0

    def __repr__(self) -> str:
        return f"HierarchyCache({len(self.aggregates)} sparsity patterns, hits {self.hits}, misses {self.misses})"

    def lookup(self, A):
        return self.aggregates.get(_pattern_key(A))

    def store(self, A, aggregates) -> None:
        self.aggregates[_pattern_key(A)] = aggregates


def _pattern_key(A) -> str:
    digest = hashlib.blake2b(digest_size=16)
    digest.update(np.asarray(A.shape, dtype=np.int64).tobytes())
    digest.update(np.ascontiguousarray(A.indptr).tobytes())
    digest.update(np.ascontiguousarray(A.indices).tobytes())
    return digest.hexdigest()


def build_hierarchy(A, near_null=None, *, symmetric: bool, cache: HierarchyCache | None = None) -> Hierarchy:
    """A smoothed-aggregation hierarchy for the sparse M-matrix A (positive diagonal).

    ``near_null``: a vector with A B ~ 0 (default: the constants). ``symmetric``: A is symmetric
    (then the coarse operators are kept exactly symmetric). ``cache``: reuse (and record) the aggregates of an operator with A's pattern.
    """
    A = _canonical(A)
    B = np.ones(A.shape[0]) if near_null is None else np.asarray(near_null, dtype=float)
    cached = None if cache is None else cache.lookup(A)
    if cache is not None:
        if cached is None:
            cache.misses += 1
        else:
            cache.hits += 1
    operators, prolongators, restrictions, aggregates = [A], [], [], []
    while operators[-1].shape[0] > MAX_COARSE:
        level = len(prolongators)
        current = operators[-1]
        if cached is not None and level < len(cached):
            agg = cached[level]
        elif cached is not None:
            break
        else:
            agg = _aggregate(current, symmetric)
        n_coarse = int(agg.max(initial=-1)) + 1
        if n_coarse == 0 or n_coarse > MIN_COARSENING * current.shape[0]:
            break
        aggregates.append(agg)
        T, B = _tentative(agg, B, n_coarse)
        P = _smoothed_prolongator(current, T)
        R = sparse.csr_array(P.T)
        coarse = _canonical(R @ (current @ P))
        if symmetric:
            coarse = _canonical(0.5 * (coarse + coarse.T))
        prolongators.append(P)
        restrictions.append(R)
        operators.append(coarse)
    if cache is not None and cached is None:
        cache.store(A, aggregates)
    # the coarsest level by SuperLU, not dense LAPACK: OpenBLAS's threaded dense factorizations
    # of 180-800 unknowns were measured 0.2-0.9 s on the loaded 2-core machine (1 ms when idle)
    try:
        coarse_factor = ("lu", splu(sparse.csc_array(operators[-1]), permc_spec="MMD_AT_PLUS_A"))
    except RuntimeError as exc:
        raise ValueError(f"A: the coarsest multigrid operator is singular ({exc})") from exc
    return Hierarchy(operators, prolongators, restrictions, coarse_factor, symmetric)


def _canonical(A):
    """CSR with sorted int32 indices and float64 values (the layout pyamg's kernels expect)."""
    A = sparse.csr_array(A, dtype=float)
    A.sum_duplicates()
    A.sort_indices()
    if A.nnz < 2**31 - 1:
        A.indices = A.indices.astype(np.int32, copy=False)
        A.indptr = A.indptr.astype(np.int32, copy=False)
    return A


def _aggregate(A, symmetric: bool) -> np.ndarray:
    """Aggregate index of every unknown (-1: left out, an isolated unknown) by pyamg's standard
    aggregation of the strong couplings |a_ij| >= theta sqrt(|a_ii a_jj|) (of (|A| + |A^T|)/2
    when A is not symmetric: aggregation needs a symmetric graph). With theta = 0 every coupling
    is strong and A's own pattern is aggregated (pyamg's strength routine took 0.7 s per level at
    128^3 to return it)."""
    from pyamg import amg_core

    graph = A if symmetric else _canonical(abs(A) + abs(A).T)
    if STRENGTH_THETA > 0:
        from pyamg.strength import symmetric_strength_of_connection

        graph = _canonical(symmetric_strength_of_connection(sparse.csr_matrix(graph), STRENGTH_THETA))
    n = A.shape[0]
    agg = np.empty(n, dtype=graph.indices.dtype)
    roots = np.empty(n, dtype=graph.indices.dtype)
    amg_core.standard_aggregation(n, graph.indptr, graph.indices, agg, roots)
    return agg.astype(np.int64)


def _tentative(agg: np.ndarray, B: np.ndarray, n_coarse: int):
    """T with T_{i, agg_i} = B_i / |B on the aggregate| (orthonormal columns) and the coarse
    near-null vector, the norms (T B_coarse = B on aggregated unknowns)."""
    inside = agg >= 0
    norms = np.sqrt(np.bincount(agg[inside], weights=B[inside] ** 2, minlength=n_coarse))
    norms = np.where(norms > 0, norms, 1.0)
    rows = np.flatnonzero(inside)
    values = B[inside] / norms[agg[inside]]
    T = sparse.csr_array((values, (rows, agg[inside])), shape=(agg.size, n_coarse))
    return T, norms


def _smoothed_prolongator(A, T):
    """P = T - omega diag(1 / sum_j |a_ij|) A T (one damped Jacobi step with Gershgorin weights)."""
    row_sums = np.asarray(abs(A).sum(axis=1)).ravel()
    weights = PROLONGATOR_OMEGA / np.where(row_sums > 0, row_sums, 1.0)
    smoothed = sparse.csr_array(sparse.diags_array(weights) @ (A @ T))
    return _canonical(T - smoothed)
