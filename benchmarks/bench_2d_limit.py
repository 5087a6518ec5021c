"""2-D at the limit (issue 14 item 3, issue 9's 512^2 stationary law): what beats SuperLU + MMD.

Run:  PYTHONPATH=. python benchmarks/bench_2d_limit.py [--fv 200,300,400,800] [--kinetic 512] [--repeat 3]
      [--skip-api]

All in one process, side by side on the same matrices (CPU seconds of the calling thread, best
of --repeat, so that other processes on the machine inflate the numbers less than wall time):

1. Sparse LU of finite-volume operators, I - 0.5 Q^T of Langevin((x^2 - 1)^2 + y^2, T = 1/4) on
   [-2, 2]^2 (the matrix of the evolution's shift-and-invert Krylov step; structurally
   symmetric, column diagonally dominant): SuperLU with minimum degree on A^T + A (MMD, the
   default until this benchmark), COLAMD, fpsolve's nested dissection (ordering time included),
   METIS nested dissection (pymetis, ordering included) and MKL PARDISO (pypardiso, analysis
   included), the last two only when installed. Reported: seconds, nonzeros of L + U, and the
   normwise backward error of one solve.
2. The same for the 512^2 kinetic stationary system (UnderdampedLangevin on the double well,
   T = 1/4, friction 1, theta in (-2.2, 2.2), v in (-3, 3), Q^T with one equation pinned as
   fpsolve.stationary pins it): structurally nonsymmetric, threshold pivoting 0.1.
3. Through the public API (wall and CPU seconds, best of --repeat): the 2-D evolution to t = 2
   (FokkerPlanck.evolve, shift-and-invert Krylov, one LU and ~24 solves) with nested
   dissection forced against minimum degree forced (factorizations.DISSECTION_SIZE set to 0 or
   above the size: where it should lie); the 512^2 kinetic
   stationary law and its agreement with SuperLU/COLAMD on the same pinned system.
4. A lower-order correction (--lower-order, default 256^2): the LU of the first-order upwind
   kinetic operator (cheaper: fewer nonzeros) as the preconditioner of GMRES on the
   second-order pinned stationary system; the law after 10, 20, 40 iterations.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import scipy.sparse as sparse
import scipy.sparse.linalg as sla

import fpsolve as fp
from fpsolve import factorizations
from fpsolve.orderings import nested_dissection
from fpsolve.stationary import _heavy_state


def thread_seconds(function, repeat):
    """(best CPU seconds of this thread, best wall seconds, last result) of ``function()`` over
    ``repeat`` runs (multithreaded solvers, PARDISO, spend CPU time in other threads too)."""
    best, best_wall, result = np.inf, np.inf, None
    for _ in range(repeat):
        start, wall = time.thread_time(), time.perf_counter()
        result = function()
        best = min(best, time.thread_time() - start)
        best_wall = min(best_wall, time.perf_counter() - wall)
    return best, best_wall, result


def fv_matrix(n):
    U = fp.Landscape(lambda x, y: (x**2 - 1) ** 2 + y**2, name="double well x quadratic")
    grid = fp.Grid([(-2, 2), (-2, 2)], [n, n])
    Q = sparse.csr_array(fp.FokkerPlanck(fp.Langevin(U, temperature=0.25), grid).generator.matrix)
    return sparse.csc_array(sparse.identity(n * n, format="csc") - 0.5 * Q.T)


def kinetic_model():
    return fp.UnderdampedLangevin(fp.landscapes.double_well(), friction=1.0, temperature=0.25)


def kinetic_grid(n):
    return fp.phase_space_grid(theta=(-2.2, 2.2), v=(-3, 3), cells=(n, n))


def kinetic_pinned(n):
    """Q^T with the equation of the state fpsolve.stationary pins replaced by pi_j = 1."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Q = sparse.csr_array(fp.FokkerPlanck(kinetic_model(), kinetic_grid(n)).generator.matrix)
    j = _heavy_state(Q)
    M = sparse.csr_array(Q.T)
    M.data[M.indptr[j] : M.indptr[j + 1]] = 0.0
    M = sparse.csc_array(M + sparse.csr_array(([1.0], ([j], [j])), shape=M.shape))
    rhs = np.zeros(M.shape[0])
    rhs[j] = 1.0
    return M, rhs


def backward_error(M, x, b):
    return float(np.abs(b - M @ x).max() / (np.abs(b).max() + abs(M).sum(axis=1).max() * np.abs(x).max()))


def superlu(M, spec, threshold):
    return sla.splu(M, permc_spec=spec, diag_pivot_thresh=threshold)


def ordered(M, order, threshold):
    lu = superlu(sparse.csc_array(M[order][:, order]), "NATURAL", threshold)
    return lu, order


def metis_order(M):
    import pymetis

    graph = sparse.csr_array(abs(M) + abs(M.T))
    graph.setdiag(0)
    graph.eliminate_zeros()
    return np.asarray(pymetis.nested_dissection(xadj=graph.indptr, adjncy=graph.indices)[0])


def candidates(M, threshold, minimum_degree):
    """(name, factor) pairs; factor() returns (nonzeros or None, solve)."""

    def plain(spec):
        def run():
            lu = superlu(M, spec, threshold)
            return lu.nnz, lu.solve

        return run

    def dissected(order_of):
        def run():
            lu, order = ordered(M, order_of(M), threshold)

            def solve(b):
                x = np.empty_like(b)
                x[order] = lu.solve(b[order])
                return x

            return lu.nnz, solve

        return run

    def pardiso():
        import pypardiso

        solver = pypardiso.PyPardisoSolver(mtype=11)
        A = sparse.csr_matrix(M)
        solver.factorize(A)
        return int(solver.iparm[17]), lambda b: solver.solve(A, b)

    result = []
    if minimum_degree:
        result.append(("SuperLU + MMD on A^T + A", plain("MMD_AT_PLUS_A")))
    result += [
        ("SuperLU + COLAMD", plain("COLAMD")),
        ("SuperLU + fpsolve nested dissection", dissected(nested_dissection)),
    ]
    for name, module, run in (
        ("SuperLU + METIS (pymetis)", "pymetis", dissected(metis_order)),
        ("MKL PARDISO (pypardiso)", "pypardiso", pardiso),
    ):
        try:
            __import__(module)
        except ImportError:
            print(f"  {name:40s} not installed")
            continue
        result.append((name, run))
    return result


def compare_factorizations(label, M, b, threshold, minimum_degree, repeat):
    print(f"== {label}: {M.shape[0]} unknowns, {M.nnz} nonzeros")
    for name, run in candidates(M, threshold, minimum_degree):
        seconds, wall, (nonzeros, solve) = thread_seconds(run, repeat)
        error = backward_error(M, solve(b), b)
        print(
            f"  {name:38s} {seconds:7.3f} CPU s {wall:7.3f} wall s   L+U {nonzeros:.3e}   backward error {error:.1e}",
            flush=True,
        )


def api_evolution(n, repeat):
    U = fp.Landscape(lambda x, y: (x**2 - 1) ** 2 + y**2, name="double well x quadratic")
    grid = fp.Grid([(-2, 2), (-2, 2)], [n, n])
    p0 = fp.gaussian(grid, mean=(-1, 0), std=0.2)
    default = factorizations.DISSECTION_SIZE
    laws = {}
    for label, size in (("dissection forced", 0), ("MMD forced", 10**12)):
        factorizations.DISSECTION_SIZE = size
        best_wall, best_cpu = np.inf, np.inf
        for _ in range(repeat):
            problem = fp.FokkerPlanck(fp.Langevin(U, temperature=0.25), grid)
            wall, cpu = time.perf_counter(), time.process_time()
            laws[label] = problem.evolve(p0, [0.0, 2.0]).p[-1]
            best_wall = min(best_wall, time.perf_counter() - wall)
            best_cpu = min(best_cpu, time.process_time() - cpu)
        print(f"  evolve {n}^2 to t = 2, {label:18s} {best_wall:6.3f} s wall  {best_cpu:6.3f} s CPU", flush=True)
    factorizations.DISSECTION_SIZE = default
    difference = np.abs(laws["dissection forced"] - laws["MMD forced"]).max() / np.abs(laws["MMD forced"]).max()
    print(f"  the two densities differ by {difference:.1e} of the peak")


def api_kinetic_stationary(n, repeat):
    grid = kinetic_grid(n)
    best_wall, best_cpu = np.inf, np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fp.FokkerPlanck(kinetic_model(), kinetic_grid(64)).stationary()  # compile
        for _ in range(repeat):
            wall, cpu = time.perf_counter(), time.process_time()
            law = fp.FokkerPlanck(kinetic_model(), grid).stationary()
            best_wall = min(best_wall, time.perf_counter() - wall)
            best_cpu = min(best_cpu, time.process_time() - cpu)
    M, rhs = kinetic_pinned(n)
    reference = sla.splu(M, permc_spec="COLAMD", diag_pivot_thresh=1.0).solve(rhs)
    reference = np.maximum(reference, 0.0)
    reference /= reference.sum() * grid.cell_volume
    difference = np.abs(law - reference.reshape(grid.shape)).max() / reference.max()
    print(
        f"  kinetic {n}^2 stationary law: {best_wall:.3f} s wall, {best_cpu:.3f} s CPU (best of {repeat}); "
        f"against SuperLU/COLAMD with partial pivoting on the same pinned system: {difference:.1e} of the peak",
        flush=True,
    )


def lower_order_correction(n, iterations=(10, 20, 40)):
    """The first-order (upwind) kinetic operator's LU as preconditioner of GMRES on the
    second-order pinned stationary system: LU seconds of both, and the law after k GMRES
    iterations (no restart) against the direct solve's, relative to its peak."""
    from fpsolve.boundary import normalize_boundary
    from fpsolve.discretize.kinetic import Kinetic

    grid = kinetic_grid(n)

    def generator(transport):
        scheme = Kinetic(kinetic_model(), grid, normalize_boundary(grid, "reflecting"))
        scheme.transport = transport
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return sparse.csr_array(scheme.assemble(0.0).generator)

    def pinned(Q, j):
        M = sparse.csr_array(Q.T)
        M.data[M.indptr[j] : M.indptr[j + 1]] = 0.0
        return sparse.csc_array(M + sparse.csr_array(([1.0], ([j], [j])), shape=M.shape))

    Q = generator("second-order")
    j = _heavy_state(Q)
    second, first = pinned(Q, j), pinned(generator("upwind"), j)
    rhs = np.zeros(second.shape[0])
    rhs[j] = 1.0

    def factor(M):
        seconds, _, (lu, order) = thread_seconds(lambda: ordered(M, nested_dissection(M), 0.1), 1)

        def solve(b):
            x = np.empty_like(b)
            x[order] = lu.solve(b[order])
            return x

        return seconds, lu.nnz, solve

    seconds_second, nonzeros_second, solve_second = factor(second)
    seconds_first, nonzeros_first, solve_first = factor(first)
    law = solve_second(rhs)
    law /= law.sum()
    print(
        f"  kinetic {n}^2: LU of the second-order system {seconds_second:.2f} CPU s (L+U {nonzeros_second:.2e}), "
        f"of the first-order one {seconds_first:.2f} CPU s (L+U {nonzeros_first:.2e})",
        flush=True,
    )
    preconditioner = sla.LinearOperator(second.shape, matvec=solve_first)
    for k in iterations:
        start = time.thread_time()
        x, _ = sla.gmres(second, rhs, M=preconditioner, rtol=1e-300, atol=0.0, restart=k, maxiter=1)
        seconds = time.thread_time() - start
        error = np.abs(x / x.sum() - law).max() / law.max()
        print(f"    GMRES, {k:3d} iterations: {seconds:.2f} CPU s, law off by {error:.1e} of its peak", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fv", default="200,300,400,800", help="finite-volume grid sides")
    parser.add_argument("--kinetic", default="512", help="kinetic grid sides")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-api", action="store_true")
    parser.add_argument("--lower-order", default="256", help="kinetic sides for the lower-order correction")
    args = parser.parse_args()
    nested_dissection(fv_matrix(16))  # compile
    fv_sizes = [int(s) for s in args.fv.split(",") if s]
    for n in fv_sizes:
        M = fv_matrix(n)
        b = np.random.default_rng(0).random(n * n)
        compare_factorizations(f"finite volumes {n}^2, I - 0.5 Q^T", M, b, 1.0, True, args.repeat)
    for n in [int(s) for s in args.kinetic.split(",") if s]:
        M, b = kinetic_pinned(n)
        compare_factorizations(f"kinetic {n}^2, pinned Q^T", M, b, 0.1, False, args.repeat)
    if not args.skip_api:
        print("== public API")
        for n in fv_sizes:
            if n <= 400:
                api_evolution(n, args.repeat)
        for n in [int(s) for s in args.kinetic.split(",") if s]:
            api_kinetic_stationary(n, args.repeat)
    if args.lower_order:
        print("== lower-order correction: first-order LU preconditioning GMRES on the second-order system")
        for n in [int(s) for s in args.lower_order.split(",") if s]:
            lower_order_correction(n)


if __name__ == "__main__":
    main()
