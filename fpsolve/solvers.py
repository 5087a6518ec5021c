"""Linear solves with generators: sparse LU, banded LU, birth-death elimination, AMG, Krylov.

Backward equations (Q_sub tau = -1), implicit time steps ((I - s A) y = b) and shift-and-invert
eigensolvers all solve with a generator or a shift of it. The method follows the operator's
structure, never the grid it came from:

* a birth-death chain (tridiagonal, non-negative off-diagonals): elimination without
  cancellation (:func:`solve_birth_death`), entrywise accurate at any barrier height;
* other sparse matrices: LAPACK's banded LU for bandwidth <= 2, else SuperLU with a minimum-degree
  ordering (1-D, 2-D and small 3-D chains);
* large 3-D sub-generators (:func:`prefers_iterative`: a band wider than 4 sqrt(n), from
  ITERATIVE_MIN unknowns, where a sparse LU fills in like n^{4/3} and costs n^2):
  :class:`fpsolve.iterative.BackwardSolver`, conjugate gradients on the symmetrized chain for
  reversible chains and BiCGSTAB/GMRES otherwise, preconditioned by smoothed-aggregation AMG
  (:mod:`fpsolve.amg`), to an error bound set by the discretization error
  (:func:`fpsolve.iterative.iterative_rtol`, never looser than 1e-6) and checked a posteriori;
  a solve that stalls escalates to GMRES, then is refused with the grid a direct solve would fit;
* matrix-free operators (:class:`fpsolve.operators.MatrixFree`): GMRES preconditioned by the
  operator's own matrix-free preconditioner when it has one (the kinetic scheme's plane solves,
  for 4-D phase space where no factorization fits), else by the LU of its sparse approximation,
  to a stated backward error that is checked after every solve.
"""

import numba
import numpy as np
import scipy.sparse as sparse
from scipy.linalg import lapack
from scipy.sparse import linalg as sla

from .operators import MatrixFree, is_matrix_free
from .orderings import nested_dissection

__all__ = [
    "factorize",
    "solve",
    "solve_birth_death",
    "birth_death_parts",
    "shifted_solver",
    "krylov_solver",
    "generator_solver",
    "prefers_iterative",
    "ITERATIVE_MIN",
    "ORDERING",
    "KRYLOV_RTOL",
]

#: Fill-reducing ordering for sparse LU of generators: their sparsity is structurally symmetric
#: (every link has both directions), where minimum degree on A^T + A gives about half the fill
#: of SuperLU's default COLAMD (measured on 2-D grids: 2.0e6 against 3.5e6 nonzeros at 200^2).
ORDERING = "MMD_AT_PLUS_A"

#: Normwise backward error to which Krylov solves of matrix-free operators are driven.
KRYLOV_RTOL = 1e-11

#: Restart cycles of KRYLOV_RESTART GMRES iterations allowed per solve before it is refused.
KRYLOV_CYCLES = 100

#: GMRES iterations per restart cycle: the kinetic plane preconditioner converges in about 30
#: (16^4 to 48^4, docs/numerics.md "Phase space at scale"); a cycle of 40 keeps its Krylov space
#: whole (41 vectors: 1.4 GB at 48^4 with the absorbed cells removed).
KRYLOV_RESTART = 40


def birth_death_parts(Q):
    """``(lower, upper)`` rates of a birth-death generator (tridiagonal, non-negative
    off-diagonals), or None when Q has another structure. Decided from the matrix alone."""
    if is_matrix_free(Q):
        return None
    coo = sparse.coo_array(Q)
    if coo.nnz and np.abs(coo.row.astype(np.int64) - coo.col).max() > 1:
        return None
    Q = sparse.csr_array(Q)
    upper = np.append(Q.diagonal(1), 0.0)
    lower = np.insert(Q.diagonal(-1), 0, 0.0)
    if np.any(upper < 0) or np.any(lower < 0):
        return None
    return lower, upper


def factorize(M, *, method="auto", rtol=1e-12, ordering=None):
    """A reusable solver ``x = solver(rhs)`` for the sparse system M x = rhs.

    ``method="direct"`` is a sparse LU (SuperLU, minimum-degree ordering; banded LU for bandwidth
    <= 2), good up to ~1e6 unknowns in 1-D and 2-D. ``method="amg"`` is a Krylov method (CG for a
    symmetric M, else BiCGSTAB then GMRES) preconditioned by a smoothed-aggregation V-cycle
    (:mod:`fpsolve.amg`), to relative residual ``max(rtol, 1e-10)``, checked; for a generator
    (or minus one) :class:`fpsolve.iterative.BackwardSolver` with its error bound instead.
    ``"auto"`` picks "amg" where :func:`prefers_iterative` says a sparse LU would be slow or not
    fit (3-D stencils from :data:`ITERATIVE_MIN` unknowns), else "direct".
    ``ordering``: a fill-reducing ordering to use (e.g. :func:`nested_dissection` of a matrix
    with nearly the same graph, computed once for several factorizations); M is then factored
    as structurally nonsymmetric (:func:`_nonsymmetric_lu_solver`), without testing its pattern.
    """
    if is_matrix_free(M):
        return krylov_solver(M, rtol=max(rtol, KRYLOV_RTOL))
    M = sparse.csc_array(M, dtype=float)
    if M.shape[0] != M.shape[1]:
        raise ValueError(f"M: expected a square matrix, got shape {M.shape}")
    coo = M.tocoo()
    bandwidth = int(np.abs(coo.row.astype(np.int64) - coo.col).max(initial=0))
    if method == "auto":
        method = "amg" if prefers_iterative(M, bandwidth) else "direct"
    if method == "direct":
        if bandwidth <= 2:  # 1-D grids: LAPACK's banded LU is ~10x faster than SuperLU
            return _banded_solver(M, bandwidth)
        from .factorizations import sparse_lu  # the ordering by structure and size (engineer C)

        return sparse_lu(M, ordering)
    if method == "amg":
        return _amg_solver(M, rtol)
    raise ValueError(f"method: unknown solver {method!r}; choose 'auto', 'direct' or 'amg'")


#: Structurally nonsymmetric matrices from this many unknowns are factored by
#: :func:`_nonsymmetric_lu_solver`; smaller ones keep the minimum-degree ordering, which is fast
#: at that size and whose round-off the integrators' mass budgets were measured with (a 12-state
#: long-time test keeps mass to 1e-14 with it, 1.3e-14 with COLAMD).
NONSYMMETRIC_LU_SIZE = 10_000

#: Threshold partial pivoting for structurally nonsymmetric matrices: a diagonal pivot is kept
#: while it is at least this fraction of its column's largest entry, which keeps the nested
#: dissection ordering (full partial pivoting, 1.0, would reorder rows freely).
PIVOT_THRESHOLD = 0.1

#: Normwise backward error |b - M x| / (|b| + |M| |x|) that LU solves of structurally
#: nonsymmetric matrices must meet (round-off gives ~1e-16; a badly pivoted elimination 1e-6 and
#: worse).
LU_BACKWARD_RTOL = 1e-10


def _structurally_symmetric(M) -> bool:
    pattern = sparse.csr_array(M != 0)
    return (pattern != pattern.T).nnz == 0


def _nonsymmetric_lu_solver(M, order=None):
    """SuperLU on M ordered by :func:`nested_dissection`, with threshold pivoting
    (:data:`PIVOT_THRESHOLD`); every solve is checked by its normwise backward error.

    For the structurally nonsymmetric kinetic operators (upwind transport) a minimum-degree
    ordering of A^T + A with partial pivoting is pathological (574 s against 0.5 s for a 38k-unknown
    exit time, /work/notes/splu_pivoting_pathology.md); COLAMD is sound but fills in more. On the
    2-D kinetic exit problem at 512^2 (240k unknowns) nested dissection gave 2.0e7 nonzeros in L + U
    and 1.6 s, COLAMD 3.2e7 and 5.7 s (same loaded machine)."""
    order = nested_dissection(M) if order is None else order
    permuted = sparse.csc_array(M[order][:, order])
    try:
        lu = sla.splu(permuted, permc_spec="NATURAL", diag_pivot_thresh=PIVOT_THRESHOLD)
    except RuntimeError as exc:
        raise ValueError(f"M: the matrix is singular ({exc})") from exc
    norm_m = float(abs(M).sum(axis=0).max())  # the 1-norm of M

    def solver(rhs):
        rhs = np.asarray(rhs, dtype=float)
        x = np.empty_like(rhs)
        x[order] = lu.solve(rhs[order])
        residual = np.abs(rhs - M @ x).sum(axis=0).max()
        scale = np.abs(rhs).sum(axis=0).max() + norm_m * np.abs(x).sum(axis=0).max()
        if not residual <= LU_BACKWARD_RTOL * scale:
            raise ValueError(
                f"M: the sparse LU is inaccurate (backward error {residual / scale:.1e}): the "
                "matrix is too close to singular for double precision; coarsen the grid or raise "
                "the noise"
            )
        return x

    return solver


def solve_birth_death(lower, upper, killing, rhs) -> np.ndarray:
    """Solve (-Q) x = rhs for a birth-death sub-generator, to entrywise relative accuracy.

    Q has rates ``lower[i]`` (i -> i-1), ``upper[i]`` (i -> i+1), all >= 0, and killing rates
    ``killing[i]`` >= 0, so (-Q)_ii = lower[i] + upper[i] + killing[i]: the diagonal is never
    formed. Gaussian elimination from the first state keeps each eliminated row as
    (upper, effective killing) with k'_i = k_i + l_i k'_{i-1} / (u_{i-1} + k'_{i-1}), and back
    substitution x_i = (r'_i + u_i x_{i+1}) / (u_i + k'_i): sums of non-negative terms only
    (the idea of Grassmann-Taksar-Heyman), so for rhs >= 0 every entry of x carries round-off
    relative error even when x spans hundreds of orders of magnitude (exit times e^{dU/D} at any
    barrier), where a general LU loses everything beyond ~1/(eps max rate).

    Raises ValueError when a closed set of states has no killing (x would be infinite).
    """
    args = [np.ascontiguousarray(a, dtype=float) for a in (lower, upper, killing, rhs)]
    x = _birth_death_kernel(*args)
    if not np.all(np.isfinite(x)):
        lower, upper, killing = args[:3]
        connected = np.all(upper[:-1] > 0) and np.all(lower[1:] > 0) and np.any(killing > 0)
        if connected:
            raise ValueError(
                "domain: the solution overflows the double range (exit times beyond 1.8e308 at "
                "barriers above about 700 times the diffusion): not resolved in double precision; "
                "raise the temperature or lower the barrier"
            )
        raise ValueError(
            "domain: a set of cells is never absorbed: no rate leads from it to the absorbing set "
            "(rates that underflow to 0 at barriers above about 700 times the diffusion also cut "
            "the chain), so its exit time is infinite or not resolved in double precision"
        )
    return x


def _birth_death_reference(lower, upper, killing, rhs):
    """Plain-Python twin of :func:`_birth_death_kernel` (tests compare them)."""
    n = rhs.size
    eff, r = np.empty(n), np.empty(n)
    prev_eff = prev_r = prev_up = 0.0
    for i in range(n):
        carry = lower[i] / (prev_up + prev_eff) if i > 0 and lower[i] > 0 else 0.0
        eff[i] = killing[i] + carry * prev_eff
        r[i] = rhs[i] + carry * prev_r
        prev_eff, prev_r, prev_up = eff[i], r[i], upper[i]
    x = np.empty(n)
    following = 0.0
    for i in range(n - 1, -1, -1):
        denominator = upper[i] + eff[i]
        x[i] = (r[i] + upper[i] * following) / denominator if denominator > 0 else np.inf
        following = x[i]
    return x


_birth_death_kernel = numba.njit(cache=True)(_birth_death_reference)


def _banded_solver(M, bandwidth: int):
    """LU with partial pivoting of a banded matrix (LAPACK gbtrf), reused by every solve."""
    n = M.shape[0]
    kl = ku = max(bandwidth, 1)
    band = np.zeros((2 * kl + ku + 1, n))  # gbtrf's layout, with kl extra rows for the fill
    coo = M.tocoo()
    band[kl + ku + coo.row - coo.col, coo.col] = coo.data
    lu, pivots, info = lapack.dgbtrf(band, kl, ku)
    if info > 0:
        raise ValueError(f"M: the matrix is singular (zero pivot at row {info})")
    if info < 0:  # an argument LAPACK rejected: a bug here, not bad input
        raise RuntimeError(f"dgbtrf rejected argument {-info}")

    def solver(rhs):
        x, status = lapack.dgbtrs(lu, kl, ku, np.asarray(rhs, dtype=float), pivots)
        if status != 0:
            raise RuntimeError(f"dgbtrs rejected argument {-status}")
        return x

    return solver


def solve(M, rhs, *, method="auto", rtol=1e-12) -> np.ndarray:
    """Solve M x = rhs (see :func:`factorize` for the methods)."""
    return factorize(M, method=method, rtol=rtol)(np.asarray(rhs, dtype=float))


#: 3-D sub-generators from this many unknowns are solved iteratively ("auto"). Measured on the
#: double well U = (x^2-1)^2 + y^2 + z^2, T = 1/4, exit from x < 0 (``python
#: benchmarks/bench_backward_3d.py --crossover``, best of 3, load average 10 on the 2 cores),
#: seconds for factorization + one solve, sparse LU / BackwardSolver: 12^3 (1 440 unknowns)
#: 0.043 / 0.009, 16^3 (3 328) 0.31 / 0.027, 20^3 (6 400) 1.2 / 0.047, 24^3 (10 944) 1.5 / 0.089,
#: 32^3 (26 624) 9.0 / 0.13. AMG is faster at every size, but below ~5e3 unknowns the LU costs
#: under a second and is exact to round-off (the iterative answer carries its 1e-6 bound), so
#: small 3-D grids keep it.
ITERATIVE_MIN = 5_000


def prefers_iterative(M, bandwidth: int | None = None) -> bool:
    """Whether a sparse LU of M would be slow or not fit: a 3-D stencil (more than 6 nonzeros a
    row and a band wider than 4 sqrt(n): a 2-D grid's is ~sqrt(n), the 2-D kinetic operator's
    ~3 sqrt(n); a 3-D grid's n^{2/3}) with at least :data:`ITERATIVE_MIN` unknowns. Nested
    dissection fills a 3-D LU like n^{4/3} (the top separator, n^{2/3} unknowns, is dense) and
    factors it in ~n^2 operations, where AMG-preconditioned Krylov costs ~n."""
    n = M.shape[0]
    if bandwidth is None:
        coo = sparse.coo_array(M)
        bandwidth = int(np.abs(coo.row.astype(np.int64) - coo.col).max(initial=0))
    return n >= ITERATIVE_MIN and M.nnz > 6 * n and bandwidth > 4 * np.sqrt(n)


def generator_solver(Q, *, markov: bool = True, reuse=None, method: str = "auto"):
    """A reusable solver of Q x = rhs for a (sub-)generator Q: the direct path of
    :func:`factorize`, or for a large 3-D Markov chain (:func:`prefers_iterative`) an
    :class:`fpsolve.iterative.BackwardSolver` (symmetric CG when Q satisfies detailed balance),
    whose ``solve(rhs, transpose)`` also reports an error bound. ``reuse``: an
    :class:`fpsolve.amg.HierarchyCache` shared by the points of a sweep."""
    if is_matrix_free(Q):
        return factorize(Q)
    if method not in ("auto", "direct", "amg"):
        raise ValueError(f"method: unknown solver {method!r}; choose 'auto', 'direct' or 'amg'")
    if method == "auto":
        method = "amg" if markov and prefers_iterative(Q) else "direct"
    if method == "direct":
        return factorize(Q, method="direct")
    if not markov:
        return factorize(Q, method="amg")
    from .iterative import BackwardSolver
    from .linalg import log_detailed_balance, reverse_rates

    Q, back = reverse_rates(Q)
    return BackwardSolver(Q, log_mu=log_detailed_balance(Q, back=back), cache=reuse, back=back)


def _is_generator_like(A) -> bool:
    """Whether A or -A has a non-positive diagonal, non-negative off-diagonals and row sums <= 0
    (a sub-generator: an M-matrix up to sign)."""
    A = sparse.csr_array(A)
    diagonal = A.diagonal()
    sign = 1.0 if np.sum(diagonal) <= 0 else -1.0
    off = sparse.csr_array(sign * A - sparse.diags_array(sign * diagonal))
    rows = np.asarray((sign * A).sum(axis=1)).ravel()
    scale = np.asarray(abs(A).sum(axis=1)).ravel()
    largest = float(abs(A).max()) if A.nnz else 0.0
    return bool(
        off.data.min(initial=0.0) >= -1e-14 * largest  # round-off of limited cross-diffusion
        and np.all(rows <= 1e-12 * scale)
        and np.all(sign * diagonal < 0)
    )


def _amg_solver(M, rtol):
    """AMG-preconditioned Krylov solves of M x = rhs: BackwardSolver (with its error bound) for a
    sub-generator or its negative, else CG (symmetric M) or BiCGSTAB then GMRES, to relative
    residual max(rtol, 1e-10), checked after every solve."""
    from . import amg
    from .iterative import RTOL_FLOOR, BackwardSolver, bicgstab, direct_size_advice, pcg, two_cycles

    if _is_generator_like(M):
        sign = 1.0 if np.sum(M.diagonal()) <= 0 else -1.0
        solver = BackwardSolver(sign * sparse.csr_array(M), rtol=min(max(rtol, RTOL_FLOOR), 1e-6))
        return lambda rhs: solver(sign * np.asarray(rhs, dtype=float))
    sign = -1.0 if np.sum(M.diagonal()) < 0 else 1.0  # AMG expects a positive diagonal
    A = amg._canonical(sign * M)
    symmetric = abs(A - A.T).max() <= 1e-14 * abs(A).max()
    hierarchy = amg.build_hierarchy(A, None, symmetric=symmetric)
    target = max(rtol, RTOL_FLOOR)
    stronger = two_cycles(A, hierarchy.vcycle)
    methods = [(pcg, hierarchy.vcycle)] if symmetric else []
    methods += [(bicgstab, hierarchy.vcycle), (bicgstab, stronger)]

    def solver(rhs):
        b = sign * np.asarray(rhs, dtype=float)
        norm_b = max(np.linalg.norm(b), np.finfo(float).tiny)
        resid = np.inf
        for method, precondition in methods:
            x, iterations = method(A, b, precondition, target, 500)
            resid = np.linalg.norm(b - A @ x) / norm_b
            if resid <= 10 * target:
                return x
        raise RuntimeError(
            f"amg: the preconditioned Krylov solve did not reach relative residual {target:g} "
            f"(reached {resid:.1e} with CG/BiCGSTAB and one or two V-cycles); "
            f"{direct_size_advice(A.shape[0])}"
        )

    return solver


def shifted_solver(A, c, s):
    """A reusable solver of (c I − s A) x = b, for a sparse A (LU, banded in 1-D) or a
    :class:`MatrixFree` A (preconditioned GMRES to :data:`KRYLOV_RTOL`, checked)."""
    n = A.shape[0]
    if is_matrix_free(A):
        approx = None if A.approximate is None else (c * sparse.identity(n, format="csr") - s * A.approximate)
        preconditioner = None
        if A.preconditioner is not None and s > 0 and c >= 0:
            # (sigma I - (c I - s A))^-1 = -(1/s) ((c - sigma)/s I - A)^-1: A's own approximate
            # inverse, scaled (krylov_solver asks sigma = 0)
            inner = A.preconditioner
            preconditioner = lambda live, identity, transpose: _scaled(  # noqa: E731
                inner(live, (c - identity) / s, transpose), -1.0 / s
            )
        shifted = MatrixFree(
            n,
            lambda x: c * x - s * A.matvec(x),
            lambda x: c * x - s * A.rmatvec(x),
            c - s * A.diagonal(),
            approximate=approx,
            preconditioner=preconditioner,
        )
        return krylov_solver(shifted)
    return factorize(c * sparse.identity(n, format="csc") - s * sparse.csc_array(A), method="auto")


def _scaled(apply, factor):
    return lambda r: factor * apply(r)


def krylov_solver(M: MatrixFree, rtol: float = KRYLOV_RTOL):
    """x = solver(b) for M x = b by GMRES, preconditioned by ``M.preconditioner`` (an approximate
    inverse of -M, negated), else by the LU of ``M.approximate``, else by the diagonal.

    The answer is checked by its normwise backward error |b - M x| / (|b| + |M| |x|), with
    |M| estimated by 2 max|M_ii| (rows of generators and their shifts are diagonally dominant):
    GMRES runs in restart cycles until it reaches ``rtol``; a solve that does not within
    :data:`KRYLOV_CYCLES` cycles raises ValueError instead of returning an inaccurate answer. (A relative residual alone cannot reach ``rtol`` for the nearly singular
    shifted systems of eigensolvers, where |x| ~ |b| / shift.)
    """
    n = M.shape[0]
    if M.preconditioner is not None:
        inverse_of_minus_m = M.preconditioner(None, 0.0, False)
        precondition = sla.LinearOperator((n, n), matvec=lambda x: -inverse_of_minus_m(x), dtype=float)
    elif M.approximate is not None:
        lu = sla.splu(sparse.csc_array(M.approximate), permc_spec=ORDERING)
        precondition = sla.LinearOperator((n, n), matvec=lu.solve, dtype=float)
    else:
        inverse = 1.0 / np.where(M.diagonal() != 0, M.diagonal(), 1.0)
        precondition = sla.LinearOperator((n, n), matvec=lambda x: inverse * x, dtype=float)
    operator = sla.LinearOperator((n, n), matvec=M.matvec, rmatvec=M.rmatvec, dtype=float)
    norm_m = 2.0 * float(np.abs(M.diagonal()).max(initial=0.0))

    def solver(rhs):
        b = np.asarray(rhs, dtype=float)
        norm_b = float(np.linalg.norm(b))
        if norm_b == 0:
            return np.zeros(n)
        x = np.zeros(n)
        backward = np.inf
        for _ in range(KRYLOV_CYCLES):  # restart cycles, each judged by the backward error
            allowed = rtol * (norm_b + norm_m * float(np.linalg.norm(x)))
            x, _ = sla.gmres(
                operator, b, x0=x, rtol=0.0, atol=allowed, restart=min(n, KRYLOV_RESTART), maxiter=1, M=precondition
            )
            residual = float(np.linalg.norm(b - M.matvec(x)))
            backward = residual / (norm_b + norm_m * float(np.linalg.norm(x)))
            if backward <= rtol:
                return x
        advice = (
            "its preconditioner does not capture it: refine the velocity grid, or lower the barrier (dU / T)"
            if M.preconditioner is not None
            else "give the operator a better preconditioner (MatrixFree(approximate=...)) or a coarser grid"
        )
        raise ValueError(
            f"M: the preconditioned Krylov solve of the matrix-free operator stopped at backward "
            f"error {backward:.1e} (asked {rtol:.0e}) after {KRYLOV_CYCLES} restarts; {advice}"
        )

    return solver
