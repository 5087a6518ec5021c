"""3-D forward problems at scale: FokkerPlanck construction, stationary law, evolution to t = 10.

U = (x^2 - 1)^2 + y^2 + z^2 at T = 1/4 (fp.Langevin, reversible) on [-2, 0.5] x [-1.5, 1.5]^2; a
non-reversible variant ("nonreversible", fp.Diffusion: a rotation added to -grad U, constant
cross diffusion); and the non-reversible evolution problem of issue 14 ("rotation": drift
-grad U + (-0.5 y, 0.5 (x^2 - 1), 0), D = 0.25 I, on (-2, 2) x (-1.5, 1.5)^2), at n^3 cells, from
a Gaussian at (-1, 0, 0) (std 0.2) to t = 1 and 10. Each measurement runs in its own process so
that its peak RSS is its own:

    python benchmarks/bench_forward_3d.py                      # 32, 64, 96, 128 cells per axis
    python benchmarks/bench_forward_3d.py --cells 128 --only langevin
    python benchmarks/bench_forward_3d.py --only rotation --stages evolve --repeat 3

prints one line per (model, cells, stage): wall seconds (best of --repeat), the process's CPU seconds
(what the stage costs on an idle core: the 2-core machine is shared), peak RSS in GB, load average.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np

CROSS_DIFFUSION = np.array([[0.25, 0.05, 0.0], [0.05, 0.25, 0.05], [0.0, 0.05, 0.25]])


def problem(name: str, n: int):
    import fpsolve as fp

    grid = fp.Grid([(-2, 0.5), (-1.5, 1.5), (-1.5, 1.5)], [n, n, n])
    if name == "langevin":
        U = fp.Landscape(lambda x, y, z: (x**2 - 1) ** 2 + y**2 + z**2)
        return fp.Langevin(U, temperature=0.25), grid
    if name == "rotation":

        def rotating(x, y, z):
            return np.stack(np.broadcast_arrays(-4 * x * (x**2 - 1) - 0.5 * y, -2 * y + 0.5 * (x**2 - 1), -2 * z))

        return fp.Diffusion(rotating, 0.25 * np.eye(3), 3), fp.Grid([(-2, 2), (-1.5, 1.5), (-1.5, 1.5)], [n] * 3)

    def drift(x, y, z):
        return np.stack(np.broadcast_arrays(-4 * x * (x**2 - 1) - 0.5 * y, -2 * y + 0.5 * (x + 1), -2 * z))

    return fp.Diffusion(drift, CROSS_DIFFUSION, 3), grid


def measure(name: str, n: int, stage: str) -> dict:
    """Run one stage in this process: seconds of the stage alone, peak RSS of the process."""
    import warnings

    import fpsolve as fp

    warnings.simplefilter("ignore")
    model, grid = problem(name, n)
    begin, cpu = time.perf_counter(), time.process_time()
    fpe = fp.FokkerPlanck(model, grid)
    seconds, cpu = time.perf_counter() - begin, time.process_time() - cpu
    extra = {}
    if stage == "stationary":
        begin, cpu = time.perf_counter(), time.process_time()
        p = fpe.stationary()
        seconds, cpu = time.perf_counter() - begin, time.process_time() - cpu
        extra["mass"] = float(grid.integrate(p))
    elif stage == "evolve":
        p0 = fp.gaussian(grid, mean=(-1.0, 0.0, 0.0), std=0.2)
        begin, cpu = time.perf_counter(), time.process_time()
        sol = fpe.evolve(p0, [0.0, 1.0, 10.0])
        seconds, cpu = time.perf_counter() - begin, time.process_time() - cpu
        extra.update(mass=float(sol.mass[-1]), min=float(sol.p.min()), steps=sol.stats["steps"])
        extra.update(factorizations=sol.stats["factorizations"])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # kB -> GB
    load = round(float(open("/proc/loadavg").read().split()[0]), 1) if sys.platform == "linux" else None
    return dict(
        model=name,
        cells=n,
        stage=stage,
        seconds=round(seconds, 2),
        cpu_seconds=round(cpu, 2),
        peak_gb=round(peak, 2),
        load=load,
        **extra,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, nargs="*", default=[32, 64, 96, 128])
    parser.add_argument("--only", choices=["langevin", "nonreversible", "rotation"], default=None)
    parser.add_argument("--stages", nargs="*", default=["build", "stationary", "evolve"])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--one", nargs=3, metavar=("MODEL", "CELLS", "STAGE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one[0], int(args.one[1]), args.one[2])))
        return
    models = [args.only] if args.only else ["langevin", "nonreversible", "rotation"]
    for name in models:
        for n in args.cells:
            for stage in args.stages:
                runs = []
                for _ in range(args.repeat):
                    out = subprocess.run(
                        [sys.executable, __file__, "--one", name, str(n), stage], capture_output=True, text=True
                    )
                    if out.returncode != 0:
                        runs.append({"model": name, "cells": n, "stage": stage, "error": out.stderr.strip()[-300:]})
                        break
                    runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
                best = min(runs, key=lambda r: r.get("seconds", np.inf))
                print(json.dumps(best), flush=True)


if __name__ == "__main__":
    main()
