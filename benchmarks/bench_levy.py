"""Lévy exit times: the fractional PDE side by side with the Lévy Monte Carlo, in one process (issue 10).

Run:  PYTHONPATH=. python benchmarks/bench_levy.py [--paths 400] [--dt 1e-3] [--skip-2d] [--skip-mc]

Problem: dX = -grad U dt + eps dL^1.5 (fp.LevyLangevin), mean exit time from the left well.

* 1-D: U = (x^2 - 1)^2, the well (-3, 0) from x = -1: a jump below -3 or beyond 0 is an exit. The
  PDE on 8192 cells of the box (-3, 1) with the domain x < 0 (cells beyond 0 absorb, jumps beyond
  the box are killed: the same exit problem; error bar: the value on 4096 cells).
* 2-D: U = (x^2 - 1)^2 + 2 y^2 with per-axis (axis-aligned) jumps, the well (-2.5, 0) x (-1.5, 1.5)
  from (-1, 0); the PDE on 256^2 cells of (-2.5, 0.7) x (-1.5, 1.5) with x < 0 (error bar: 128^2).
* Monte Carlo (fpsolve.montecarlo.simulator: Euler drift, exact Chambers-Mallows-Stuck jumps, exit
  at the landing point) at dt = 1e-3 (discrete-monitoring bias about (1.1 to 1.6) eps dt^(2/3) / r:
  0.2 % at eps = 0.2 to 0.8 % at 0.5, docs/levy.md "Lévy Monte Carlo"): a pilot of ``--paths``
  paths per eps gives the wall time per path and the coefficient of variation CV; the time to a
  1 % standard error is
  pilot seconds x (CV / 0.01)^2 / paths. Compilation is excluded (a warm-up run first).

Printed: per eps the PDE's seconds and tau, the Monte Carlo's tau with its 99 % interval, the
deviation in standard errors, the Monte Carlo's seconds to 1 %, their ratio, the break-even
accuracy (the relative standard error at which the Monte Carlo costs what the PDE does: a
cruder answer is cheaper by Monte Carlo, a sharper one by the PDE), and the crossover eps where
the costs to 1 % meet (a power law fitted to the Monte Carlo cost; the PDE cost taken as its
largest measured time). Wall times depend on the machine's load: CPU seconds are printed as well.
"""

from __future__ import annotations

import argparse
import math
import resource
import time

import numpy as np

import fpsolve as fp
from fpsolve import levy_theory

ALPHA = 1.5
SCALES_1D = [0.5, 0.4, 0.3, 0.25, 0.2]
SCALES_2D = [0.5, 0.3, 0.2]
WELL_1D = [(-3.0, 0.0)]  # the exit problem: leave this box
BOX_1D = [(-3.0, 1.0)]  # the PDE's grid: the well and the cells beyond x = 0
WELL_2D = [(-2.5, 0.0), (-1.5, 1.5)]
BOX_2D = [(-2.5, 0.7), (-1.5, 1.5)]  # x = 0 is a cell face of 256 cells


def left_of_zero(x, *rest):
    """The PDE's domain on the box: x_0 < 0."""
    return x < 0


def clock():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return time.perf_counter(), usage.ru_utime + usage.ru_stime


def pde_tau(model, bounds, cells, start) -> dict:
    """tau at ``start`` on ``cells`` and on half of them; wall and CPU seconds of the fine solve."""
    out = {}
    for label, n in (("fine", cells), ("coarse", [c // 2 for c in cells])):
        grid = fp.Grid(bounds, n)
        wall, cpu = clock()
        try:
            tau = float(fp.mean_exit_time(model, grid, domain=left_of_zero)(*start))
        except (ValueError, RuntimeError) as error:
            return {"refused": f"{n}: {error}"}
        wall2, cpu2 = clock()
        out[label] = tau
        if label == "fine":
            out["seconds"], out["cpu"] = wall2 - wall, cpu2 - cpu
    out["tau"], out["error"] = out["fine"], out["fine"] - out["coarse"]
    return out


def monte_carlo(model, bounds, start, paths: int, dt: float, seed: int) -> dict:
    from fpsolve.montecarlo import simulator
    from fpsolve.montecarlo.domains import Box

    wall, cpu = clock()
    exits = simulator(model, dt=dt, seed=seed).exit_times(start, n_paths=paths, domain=Box(bounds), t_max=1e5)
    wall2, cpu2 = clock()
    times = np.asarray(exits.times, dtype=float)
    if exits.censored.any():
        raise RuntimeError(f"{int(exits.censored.sum())} paths censored at t = 1e5")
    mean, sd = float(times.mean()), float(times.std(ddof=1))
    cv = sd / mean
    seconds = wall2 - wall
    return dict(
        tau=mean,
        se=sd / math.sqrt(paths),
        cv=cv,
        seconds=seconds,
        cpu=cpu2 - cpu,
        to_one_percent=seconds * (cv / 0.01) ** 2 / paths,
        steps=float(times.sum() / dt),
    )


def crossover(scales, mc_seconds, pde_seconds) -> tuple:
    """eps where the Monte Carlo cost c eps^p (least squares in log-log) equals the PDE's."""
    p, log_c = np.polyfit(np.log(scales), np.log(mc_seconds), 1)
    return float(np.exp((np.log(pde_seconds) - log_c) / p)), float(p)


def run(dim: int, scales, landscape, well, bounds, cells, start, args) -> None:
    print(f"\n=== {dim}-D, alpha = {ALPHA}, well {well}, start {start}, PDE on {cells} cells of {bounds} ===")
    if not args.skip_mc:  # compile the simulator (excluded from the timings)
        monte_carlo(fp.LevyLangevin(landscape, ALPHA, scales[0]), well, start, 50, args.dt, 0)
    head = (
        f"{'eps':>5s} {'PDE s':>7s} {'PDE cpu':>7s} {'tau PDE':>9s} {'grid err':>8s} {'tau IP':>8s} "
        f"{'tau MC':>9s} {'99% half':>8s} {'dev/se':>6s} {'MC s to 1%':>10s} {'MC/PDE':>8s} {'even at':>7s}"
    )
    print(head)
    rows = []
    for k, eps in enumerate(scales):
        model = fp.LevyLangevin(landscape, ALPHA, eps)
        pde = pde_tau(model, bounds, cells, start)
        distances = [(s - lo, hi - s) for s, (lo, hi) in zip(start, well)]
        ip = levy_theory.imkeller_pavlyukevich_exit_time(ALPHA, distances, eps)
        refused = "refused" in pde
        if refused:
            line = f"{eps:5g} {'PDE refused (below)':>33s} {ip:8.3f}"
        else:
            line = (
                f"{eps:5g} {pde['seconds']:7.3f} {pde['cpu']:7.3f} {pde['tau']:9.4f} "
                f"{abs(pde['error']) / pde['tau']:8.1e} {ip:8.3f}"
            )
        if not args.skip_mc:
            mc = monte_carlo(model, well, start, args.paths, args.dt, seed=100 + k)
            rows.append((eps, np.nan if refused else pde["seconds"], mc["to_one_percent"]))
            deviation = "" if refused else f"{(mc['tau'] - pde['tau']) / mc['se']:6.2f}"
            ratio = "" if refused else f"{mc['to_one_percent'] / pde['seconds']:8.1f}"
            # the relative standard error at which the Monte Carlo costs what the PDE does
            even = "" if refused else f"{0.01 * math.sqrt(mc['to_one_percent'] / pde['seconds']):7.1%}"
            line += (
                f" {mc['tau']:9.4f} {2.576 * mc['se']:8.3f} {deviation:>6s} "
                f"{mc['to_one_percent']:10.2f} {ratio:>8s} {even:>7s}"
            )
        print(line, flush=True)
        if refused:
            print(f"      PDE refused: {pde['refused']}")
    if len(rows) >= 2 and np.isfinite([r[1] for r in rows]).any():
        scales_done, pde_s, mc_s = map(np.array, zip(*rows))
        pde_s = pde_s[np.isfinite(pde_s)]
        eps_star, p = crossover(scales_done, mc_s, pde_s.max())
        where = "inside" if scales_done.min() <= eps_star <= scales_done.max() else "outside (extrapolated)"
        print(
            f"Monte Carlo cost to 1 % ~ eps^{p:.2f}; it equals the PDE's {pde_s.max():.3f} s at eps = "
            f"{eps_star:.3g}, {where} the measured range [{scales_done.min():g}, {scales_done.max():g}]: "
            f"the PDE wins for every eps below it"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--paths", type=int, default=400, help="Monte Carlo pilot paths per eps")
    parser.add_argument("--dt", type=float, default=1e-3, help="Monte Carlo time step")
    parser.add_argument("--skip-2d", action="store_true")
    parser.add_argument("--skip-mc", action="store_true")
    args = parser.parse_args()
    run(1, SCALES_1D, fp.landscapes.double_well(), WELL_1D, BOX_1D, [8192], (-1.0,), args)
    if not args.skip_2d:
        run(2, SCALES_2D, fp.landscapes.double_well_2d(), WELL_2D, BOX_2D, [256, 256], (-1.0, 0.0), args)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"\npeak resident memory {peak:.2f} GiB")


if __name__ == "__main__":
    main()
