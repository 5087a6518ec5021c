"""Monte Carlo throughput and time to a 1 %-accurate mean exit time.

Run:  python benchmarks/bench_montecarlo.py [--quick]

1. Throughput: Euler-Maruyama steps per second for 1-D Langevin on U = (x^2 - 1)^2 (T = 0.25) with
   reflecting walls, without and with an absorbing Box and its Brownian-bridge test, on 1 thread and
   on all threads (2 cores here).
2. Mean exit time from x = -1 through x = 0 with a reflecting wall at -2.5, for T = D = 0.25 (and
   0.125 unless --quick) against the double integral (33.9457442877 and 1749.19088458):
   n = (4 / 0.01)^2 ~ 1.6e5 paths would give 4 standard errors = 1 % (exit times have CV ~ 1), so we
   use n = 40000 (standard error ~0.5 %) and dt = 2e-3 (bridge bias ~ -1.75 dt = -0.35 %) at
   T = 0.25; the wall-clock time includes compilation, reported separately.
"""

from __future__ import annotations

import sys
import time

import numba
import numpy as np

import fpsolve.montecarlo as mc
from fpsolve.dynamics import Langevin
from fpsolve.landscape import Landscape

EXACT = {0.25: 33.9457442877, 0.125: 1749.19088458}


def quartic():
    return Landscape(lambda x: (x * x - 1) ** 2, grad=lambda x: (4 * x * (x * x - 1),), name="quartic")


def throughput(sim, n_paths, t_end, threads, domain=None):
    numba.set_num_threads(threads)
    start = time.perf_counter()
    if domain is None:
        sim.sample([-1.0], n_paths, [t_end])
        steps = n_paths * round(t_end / sim.dt)
    else:
        ex = sim.exit_times([-1.0], n_paths, domain, t_max=t_end)
        steps = int(np.sum(np.rint(ex.times / sim.dt)))
    return steps / (time.perf_counter() - start)


def main(quick=False):
    threads = numba.config.NUMBA_NUM_THREADS
    box = mc.Box([(-np.inf, 0.0)])
    t0 = time.perf_counter()
    sim = mc.simulator(Langevin(quartic(), temperature=0.25), dt=2e-3, seed=1, bounds=[(-2.5, 2.5)])
    sim.exit_times([-1.0], 4, box, t_max=0.01)
    compile_time = time.perf_counter() - t0
    print(f"compile (model + driver): {compile_time:.1f} s")
    print(f"{'run':<34}{'threads':>8}{'steps/s':>12}{'ns/step/core':>14}")
    for label, dom, t_end in (("reflecting walls only", None, 20.0), ("absorbing Box + bridge test", box, 4000.0)):
        for k in sorted({1, threads}):
            rate = throughput(sim, 2000, t_end, k, dom)
            print(f"{label:<34}{k:>8}{rate:>12.3g}{k / rate * 1e9:>14.1f}")
    numba.set_num_threads(threads)

    print()
    print(f"{'T':>6}{'dt':>8}{'n':>8}{'mean':>12}{'exact':>14}{'rel.err':>9}{'rel.se':>8}{'bias':>9}{'time s':>8}")
    cases = [(0.25, 2e-3, 40_000)] + ([] if quick else [(0.125, 1e-2, 2_000)])
    for T, dt, n in cases:
        model = Langevin(quartic(), temperature=T)
        start = time.perf_counter()
        s = mc.simulator(model, dt=dt, seed=7, bounds=[(-2.5, 2.5)])
        ex = s.exit_times([-1.0], n, box, t_max=40 * EXACT[T])
        elapsed = time.perf_counter() - start
        exact = EXACT[T]
        print(f"{T:>6g}{dt:>8g}{n:>8d}{ex.mean:>12.5g}{exact:>14.10g}{ex.mean / exact - 1:>9.2%}"
              f"{ex.standard_error / exact:>8.2%}{-1.75 * dt:>9.2%}{elapsed:>8.1f}")


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
