"""Monte Carlo throughput, and Monte Carlo against the PDE for a mean exit time.

Run:  python benchmarks/bench_montecarlo.py [--quick]

1. Throughput: Euler-Maruyama steps per second for 1-D Langevin on U = (x^2 - 1)^2 (T = 0.25) with
   reflecting walls, without and with an absorbing Box and its Brownian-bridge test, on 1 thread and
   on all threads (best of 3 runs each; compilation excluded and reported separately).
2. The table of issue 4: mean exit time from x = -1 through x = 0, reflecting wall at -2.5, on the
   double well at Delta U / D = 2, 4, 8, 12 (D = 0.5, 0.25, 0.125, 1/12).
   * Monte Carlo to 1 %: n = (CV / 0.01)^2 paths (standard error 1 %), dt = 2e-3 (bridge bias
     ~ -1.75 dt = -0.35 %, REFERENCES.md). Run directly when the predicted cost is under
     ``DIRECT_LIMIT`` seconds; otherwise a pilot run of a few hundred paths measures CV and the
     step rate, and the cost (CV / 0.01)^2 * (tau / dt) / rate is extrapolated (marked "extrap.").
   * PDE to 1e-6: fpsolve.mean_exit_time on Grid([(-2.5, 0)], [n]), reflecting / absorbing, n
     doubled from 250 until |tau(-1) / exact - 1| <= 1e-6; the time of that solve (best of 3).
   * Exact: the double integral (Gardiner ch. 5), by scipy quad.
"""

from __future__ import annotations

import math
import sys
import time

import numba
import numpy as np
from scipy import integrate

import fpsolve
import fpsolve.montecarlo as mc
from fpsolve.dynamics import Langevin
from fpsolve.landscape import Landscape

#: Reference values (REFERENCES.md / issue 4); D = 0.5 is computed by quad.
EXACT = {0.25: 33.9457442877, 0.125: 1749.19088458, 1 / 12: 93559.0}
DIRECT_LIMIT = 120.0
DT = 2e-3


def quartic():
    return Landscape(lambda x: (x * x - 1) ** 2, grad=lambda x: (4 * x * (x * x - 1),), name="quartic")


def exact_exit_time(T, r=-2.5, s=0.0, x=-1.0):
    """tau(x) = (1/T) int_x^s e^{U(y)/T} int_r^y e^{-U(z)/T} dz dy."""
    U = lambda z: (z * z - 1) ** 2  # noqa: E731
    inner = lambda y: integrate.quad(
        lambda z: math.exp(-U(z) / T),
        r,
        y,  # noqa: E731
        points=[-1.0] if y > -1 else None,
        epsabs=0,
        epsrel=1e-12,
        limit=200,
    )[0]
    return integrate.quad(lambda y: math.exp(U(y) / T) * inner(y), x, s, epsabs=0, epsrel=1e-11)[0] / T


def best_rate(run, repeats=3):
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        steps = run()
        best = max(best, steps / (time.perf_counter() - start))
    return best


def throughput(sim, box, threads):
    print(f"{'run':<34}{'threads':>8}{'steps/s':>12}{'ns/step/core':>14}")
    for label, dom, t_end in (("reflecting walls only", None, 20.0), ("absorbing Box + bridge test", box, 4000.0)):
        for k in sorted({1, threads}):
            numba.set_num_threads(k)
            if dom is None:

                def run():
                    sim.sample([-1.0], 2000, [t_end])
                    return 2000 * round(t_end / sim.dt)
            else:

                def run():
                    ex = sim.exit_times([-1.0], 2000, dom, t_max=t_end)
                    return int(np.sum(np.rint(ex.times / sim.dt)))

            rate = best_rate(run)
            print(f"{label:<34}{k:>8}{rate:>12.3g}{k / rate * 1e9:>14.1f}")
    numba.set_num_threads(threads)


def pde_time(T, exact):
    model = Langevin(quartic(), temperature=T)
    n = 250
    while True:
        grid = fpsolve.Grid([(-2.5, 0.0)], [n])
        solve = lambda: fpsolve.mean_exit_time(
            model,
            grid,
            domain=None,  # noqa: E731
            boundary=("reflecting", "absorbing"),
        )
        err = abs(float(solve()(-1.0)) / exact - 1)
        if err <= 1e-6 or n >= 256_000:
            break
        n *= 2
    best = math.inf
    for _ in range(3):
        start = time.perf_counter()
        solve()
        best = min(best, time.perf_counter() - start)
    return n, err, best


def mc_time(sim, box, exact, rate_hint):
    """Seconds to a 1 % mean (measured, or extrapolated from a pilot), and the estimate's numbers."""
    predicted = (1 / 0.01) ** 2 * exact / DT / rate_hint
    if predicted <= DIRECT_LIMIT:
        n = 10_000
        start = time.perf_counter()
        ex = sim.exit_times([-1.0], n, box, t_max=60 * exact)
        elapsed = time.perf_counter() - start
        cv = np.std(ex.times, ddof=1) / np.mean(ex.times)
        # n = (CV/0.01)^2 paths give a 1 % standard error: scale the measured time by that ratio
        return elapsed * (cv / 0.01) ** 2 / n, ex, cv, "measured"
    n = max(32, int(DIRECT_LIMIT / 4 * rate_hint / (exact / DT)))  # a ~30 s pilot
    start = time.perf_counter()
    ex = sim.exit_times([-1.0], n, box, t_max=20 * exact)
    elapsed = time.perf_counter() - start
    steps = float(np.sum(np.rint(ex.times / DT)))
    cv = np.std(ex.times, ddof=1) / np.mean(ex.times)
    return (cv / 0.01) ** 2 * (exact / DT) / (steps / elapsed), ex, cv, f"extrap. ({n} paths)"


def main(quick=False):
    threads = numba.config.NUMBA_NUM_THREADS
    box = mc.Box([(-np.inf, 0.0)])
    start = time.perf_counter()
    sim = mc.simulator(Langevin(quartic(), temperature=0.25), dt=DT, seed=1, bounds=[(-2.5, 2.5)])
    sim.exit_times([-1.0], 4, box, t_max=0.01)
    sim.sample([-1.0], 4, [0.01])
    print(f"compile (model + driver): {time.perf_counter() - start:.1f} s\n")
    throughput(sim, box, threads)
    numba.set_num_threads(threads)
    rate = best_rate(lambda: int(np.sum(np.rint(sim.exit_times([-1.0], 2000, box, t_max=4000.0).times / DT))), 2)
    print(f"\nbridge-test rate on {threads} threads used for predictions: {rate:.3g} steps/s\n")

    temps = [0.5, 0.25] if quick else [0.5, 0.25, 0.125, 1 / 12]
    exact = dict(EXACT)
    exact[0.5] = exact_exit_time(0.5)
    print(
        f"{'dU/D':>5}{'D':>8}{'tau exact':>14}{'MC mean':>12}{'MC se':>7}{'MC err':>8}{'CV':>6}"
        f"{'MC s (1 %)':>12}{'':>22}{'PDE n':>8}{'PDE err':>9}{'PDE s':>8}{'MC/PDE':>9}"
    )
    for T in temps:
        n, err, t_pde = pde_time(T, exact[T])
        s = mc.simulator(Langevin(quartic(), temperature=T), dt=DT, seed=7, bounds=[(-2.5, 2.5)])
        s.exit_times([-1.0], 2, box, t_max=0.01)  # compile outside the timing
        t_mc, ex, cv, how = mc_time(s, box, exact[T], rate)
        mean = float(np.mean(ex.times))
        se = float(np.std(ex.times, ddof=1) / math.sqrt(ex.n_paths))
        print(
            f"{1 / T:>5g}{T:>8.4g}{exact[T]:>14.10g}{mean:>12.5g}{se / exact[T]:>7.2%}"
            f"{mean / exact[T] - 1:>8.2%}{cv:>6.2f}{t_mc:>12.3g}{how:>22}{n:>8d}{err:>9.1e}"
            f"{t_pde:>8.3f}{t_mc / t_pde:>9.3g}"
        )
    print(
        f"\nD = 0.5: exact by quad {exact[0.5]:.10g}; censored paths: none counted as exits "
        f"(t_max = 60 tau, 20 tau for pilots)"
    )


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
