"""3-D backward solves at scale: mean exit times and committors from 32^3 to 128^3 (issue 14).

U = (x^2 - 1)^2 + y^2 + z^2, Langevin at T = 1/4 on (-2, 0.5) x (-1.5, 1.5)^2, exit from x < 0,
tau(-1, 0, 0) against the 1-D double integral 33.9457 (the y, z coordinates decouple). Each size
runs in a fresh process, so the peak resident memory (ru_maxrss) is that size's own.

    python benchmarks/bench_backward_3d.py                      # 32 48 64 96 128
    python benchmarks/bench_backward_3d.py --sizes 32 64
    python benchmarks/bench_backward_3d.py --crossover          # sparse LU vs AMG, small 3-D grids
    python benchmarks/bench_backward_3d.py --nonreversible      # Krylov x preconditioner, Hessian SGD
    python benchmarks/bench_backward_3d.py --sweep 64           # a batch-size sweep, with and without reuse
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import warnings

import numpy as np

EXACT_TAU = 33.9457442877  # the 1-D double integral (REFERENCES.md), to 1e-11
BOX = [(-2.0, 0.5), (-1.5, 1.5), (-1.5, 1.5)]


def _problem(n):
    import fpsolve as fp

    model = fp.Langevin(fp.Landscape(lambda x, y, z: (x**2 - 1) ** 2 + y**2 + z**2), temperature=0.25)
    return model, fp.Grid(BOX, (n, n, n))


def one_size(n: int, task: str) -> dict:
    """Wall seconds, assembly seconds, peak memory and the answer of one task at n^3."""
    import fpsolve as fp

    warnings.simplefilter("ignore")
    model, grid = _problem(n)
    begin = time.perf_counter()
    cpu = time.process_time()
    if task == "exit":
        field = fp.mean_exit_time(model, grid, domain=lambda x, y, z: x < 0)
        value = field(-1.0, 0.0, 0.0)
    else:
        field = fp.committor(model, grid, a=lambda x, y, z: x < -1.0, b=lambda x, y, z: x > 0.0)
        value = field(-0.5, 0.0, 0.0)
    wall = time.perf_counter() - begin
    cpu = time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # kB -> GiB
    return {
        "n": n,
        "task": task,
        "wall": wall,
        "cpu": cpu,
        "info": {k: v for k, v in field.info.items()},
        "value": value,
        "peak_gib": peak,
    }


def sizes(ns):
    print("| cells | task | wall s | CPU s | assembly s | solve s | peak GiB | value |")
    print("|---|---|---|---|---|---|---|---|")
    for n in ns:
        for task in ("exit", "committor"):
            out = subprocess.run(
                [sys.executable, __file__, "--one", str(n), task], capture_output=True, text=True, check=True
            )
            row = json.loads(out.stdout.strip().splitlines()[-1])
            info = row["info"]
            solve = info.get("solve_seconds", float("nan"))
            assemble = info.get("assemble_seconds", row["wall"] - solve if task == "exit" else float("nan"))
            value = (
                f"tau(-1,0,0) = {row['value']:.5f} (error {row['value'] / EXACT_TAU - 1:+.2e})"
                if task == "exit"
                else f"q(-0.5,0,0) = {row['value']:.6f}"
            )
            print(
                f"| {n}^3 | {task} | {row['wall']:.1f} | {row['cpu']:.1f} | {assemble:.1f} | {solve:.1f} | {row['peak_gib']:.2f} | {value} |"
            )


def crossover():
    """Sparse LU (factorization + one solve) against BackwardSolver (setup + one solve)."""
    from fpsolve import solvers
    from fpsolve.analysis.backward import killed_generator, resolve

    warnings.simplefilter("ignore")
    print("| cells | unknowns | sparse LU s | AMG s | prefers_iterative |")
    print("|---|---|---|---|---|")
    for n in (12, 16, 20, 24, 32):
        model, grid = _problem(n)
        gen, _ = killed_generator(resolve(model, grid), lambda x, y, z: x < 0)
        rhs = -np.ones(gen.n_live)
        times = {}
        for method in ("direct", "amg"):
            best = np.inf
            for _ in range(3):
                begin = time.perf_counter()
                solvers.generator_solver(gen.sub, method=method)(rhs)
                best = min(best, time.perf_counter() - begin)
            times[method] = best
        print(
            f"| {n}^3 | {gen.n_live} | {times['direct']:.3f} | {times['amg']:.3f} | {solvers.prefers_iterative(gen.sub)} |"
        )


def nonreversible(n: int = 32):
    """Krylov method x preconditioner on the Hessian-noise SGD generator (cross-diffusion)."""
    import scipy.sparse as sp
    from scipy.sparse import linalg as sla

    import fpsolve as fp
    from fpsolve import amg, iterative, solvers
    from fpsolve.analysis.backward import killed_generator, resolve

    warnings.simplefilter("ignore")
    landscape = fp.Landscape(lambda x, y, z: (x**2 - 1) ** 2 + y**2 + z**2 + 0.5 * x * y + 0.3 * y * z)
    for batch in (1.0, 2.0):
        model = fp.SGD(landscape, lr=0.1, batch_size=batch, noise="hessian")
        gen, _ = killed_generator(resolve(model, fp.Grid(BOX, (n, n, n))), lambda x, y, z: x < 0)
        M = amg._canonical(-gen.sub)
        b = np.ones(M.shape[0])
        exact = solvers.generator_solver(gen.sub, method="direct")(-b)
        hierarchy = amg.build_hierarchy(M, None, symmetric=False)
        ilu = sla.spilu(sp.csc_matrix(M), drop_tol=1e-4, fill_factor=5)
        print(f"batch {batch}: tau max {exact.max():.3g}")
        for name, precondition in (("AMG", hierarchy.vcycle), ("ILU(1e-4)", ilu.solve)):
            begin = time.perf_counter()
            x, iterations = iterative.bicgstab(M, b, precondition, 1e-8, 300)
            error = np.abs(x - exact).max() / exact.max()
            print(
                f"  BiCGSTAB + {name}: {iterations} iterations, {time.perf_counter() - begin:.2f} s, error {error:.1e}"
            )


def sweep(n: int):
    """Mean exit times over batch sizes (SGD, isotropic noise) with one HierarchyCache, and without."""
    import fpsolve as fp

    warnings.simplefilter("ignore")
    landscape = fp.Landscape(lambda x, y, z: (x**2 - 1) ** 2 + y**2 + z**2)
    grid = fp.Grid(BOX, (n, n, n))
    for label, cache in (("without reuse", None), ("with reuse", fp.HierarchyCache())):
        total = 0.0
        for batch in (2, 3, 4, 5):
            model = fp.SGD(landscape, lr=0.1, batch_size=batch, noise="isotropic", noise_scale=5.0)
            tau = fp.mean_exit_time(model, grid, domain=lambda x, y, z: x < 0, reuse=cache)
            total += tau.info["solve_seconds"]
        print(f"{label}: solve seconds over 4 batch sizes {total:.2f}" + (f" ({cache})" if cache else ""))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[32, 48, 64, 96, 128])
    parser.add_argument("--one", nargs=2, metavar=("N", "TASK"))
    parser.add_argument("--crossover", action="store_true")
    parser.add_argument("--nonreversible", action="store_true")
    parser.add_argument("--sweep", type=int)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_size(int(args.one[0]), args.one[1]), default=float))
    elif args.crossover:
        crossover()
    elif args.nonreversible:
        nonreversible()
    elif args.sweep:
        sweep(args.sweep)
    else:
        sizes(args.sizes)


if __name__ == "__main__":
    main()
