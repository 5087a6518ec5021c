"""Time-step bias of Levy Monte Carlo exit times: discrete monitoring against Getoor's closed form.

For U = 0 the simulator's stable increments are exact in law at every step, so the only error of
the mean exit time from (-1, 1) is what monitoring at step ends misses: an excursion out and back
within one step. This script measures that bias against Getoor's formula
tau(0) = 1 / (Gamma(1 + alpha) eps^alpha) (eps = 1) for several alpha and dt, with the standard
error of the Monte Carlo mean, and fits bias = C dt^p per alpha.

    python benchmarks/levy_monitoring_bias.py            # about 2 minutes on 2 cores
    python benchmarks/levy_monitoring_bias.py --speed    # cost per step: the double-well exit
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np

import fpsolve as fp
from fpsolve import montecarlo as mc

ALPHAS = (0.8, 1.2, 1.5, 1.8)
STEPS = (1e-2, 3e-3, 1e-3)
N_PATHS = 40_000


def main():
    flat = fp.landscapes.quadratic([[0.0]])
    print(f"{'alpha':>6} {'dt':>8} {'rel. bias':>10} {'+-1 se':>8} {'s':>6}")
    for alpha in ALPHAS:
        reference = 1.0 / math.gamma(1.0 + alpha)
        biases = []
        for dt in STEPS:
            start = time.perf_counter()
            sim = mc.simulator(fp.LevyLangevin(flat, alpha, 1.0), dt=dt, seed=11)
            run = sim.exit_times([0.0], N_PATHS, domain=mc.Box([(-1.0, 1.0)]), t_max=100 * reference)
            bias = run.times.mean() / reference - 1.0
            se = run.times.std(ddof=1) / math.sqrt(N_PATHS) / reference
            biases.append(bias)
            print(f"{alpha:6.2f} {dt:8.0e} {bias:+10.4f} {se:8.4f} {time.perf_counter() - start:6.1f}")
        slope = np.polyfit(np.log(STEPS), np.log(np.maximum(biases, 1e-6)), 1)[0]
        print(f"       fitted order p = {slope:.2f} (bias ~ dt^p; compare 1/alpha = {1 / alpha:.2f}, 1/2 = 0.50)")


def speed():
    """Exit from the left well of the double well (x < 0, start -1), alpha = 1.5, eps = 0.4."""
    sim = mc.simulator(fp.LevyLangevin(fp.landscapes.double_well(), 1.5, 0.4), dt=1e-3, seed=0)
    left = mc.HalfSpace([1.0], 0.0)
    sim.exit_times([-1.0], 10, domain=left, t_max=1.0)  # compile
    start = time.perf_counter()
    run = sim.exit_times([-1.0], 4000, domain=left, t_max=500.0)
    elapsed = time.perf_counter() - start
    steps = float((run.times / sim.dt).sum())
    print(
        f"tau(-1) = {run.times.mean():.3f} +- {run.times.std(ddof=1) / math.sqrt(4000):.3f}; "
        f"{elapsed:.2f} s, {1e9 * elapsed / steps:.0f} ns per step (all cores)"
    )


if __name__ == "__main__":
    speed() if "--speed" in sys.argv else main()
