"""Reference mean exit time of underdamped Langevin on the double well, by seeded Monte Carlo (issue 9).

Run:  PYTHONPATH=. python benchmarks/kinetic_mc_reference.py [--paths N] [--dts 0.02,0.01,0.005] [--pilot]
      PYTHONPATH=. python benchmarks/kinetic_mc_reference.py --wall        (Monte Carlo wall time to 1 %)
      PYTHONPATH=. python benchmarks/kinetic_mc_reference.py --rate        (ns per step)

Problem: UnderdampedLangevin(U = (x^2 - 1)^2, friction 1, temperature 0.25), start (theta, v) =
(-1, 0), exit when theta >= 0 (any v): HalfSpace((1, 0), 0), no walls. The phase-space simulator
(BAOAB splitting, fpsolve.montecarlo.phase_space) tests the exit at step ends: theta carries no
noise, so there is no Brownian-bridge correction and the step-end test costs O(dt).

1. ``--pilot``: large steps (0.16 .. 0.02) to measure the weak order p of the exit-time bias,
   tau(dt) = tau_0 + C dt^p, by weighted least squares.
2. Main run: ``--dts`` with ``--paths`` paths each (independent seeds), then the weighted
   least-squares fit tau(dt) = tau_0 + C dt^p with p = ``--order`` (2: the pilot's best fit is
   p = 1.8, BAOAB's weak order; the step-end exit test adds only O(dt) that the data do not show),
   which gives tau_0 and its standard error from the fit's covariance; the 99 % interval is
   tau_0 +/- 2.576 se.
3. ``--wall``: the wall time of Monte Carlo to 1 % at T = 0.25 and T = 0.125 (see
   :func:`wall_times`), compilation excluded.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

import fpsolve as fp
from fpsolve.montecarlo import HalfSpace

Z99 = 2.5758293035489004


def model(temperature=0.25):
    return fp.UnderdampedLangevin(fp.landscapes.double_well(), friction=1.0, temperature=temperature)


def exit_run(dt, n_paths, seed, temperature=0.25, t_max=None):
    """(mean, standard error, coefficient of variation, seconds, steps) of one seeded run."""
    sim = fp.montecarlo.simulator(model(temperature), dt, seed=seed)
    sim.exit_times((-1.0, 0.0), 64, domain=HalfSpace((1.0, 0.0), 0.0), t_max=10.0)  # compile
    t_max = t_max or (200.0 * 155.0 if temperature >= 0.25 else 1e6)
    start = time.perf_counter()
    result = sim.exit_times((-1.0, 0.0), n_paths, domain=HalfSpace((1.0, 0.0), 0.0), t_max=t_max)
    seconds = time.perf_counter() - start
    if result.censored.any():
        raise RuntimeError(f"{int(result.censored.sum())} censored paths at t_max = {t_max}: raise t_max")
    mean, se = result.mean, result.standard_error
    return mean, se, se * math.sqrt(n_paths) / mean, seconds, float(result.times.sum() / dt)


def fit(dts, means, ses, order):
    """Weighted least squares tau = tau_0 + C dt^order: (tau_0, se(tau_0), C, se(C), chi2/dof)."""
    dts, means, ses = (np.asarray(a, dtype=float) for a in (dts, means, ses))
    X = np.stack([np.ones_like(dts), dts**order], axis=1) / ses[:, None]
    y = means / ses
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    cov = np.linalg.inv(X.T @ X)
    dof = max(len(dts) - 2, 1)
    chi2 = float(np.sum((X @ coef - y) ** 2)) / dof
    return coef[0], math.sqrt(cov[0, 0]), coef[1], math.sqrt(cov[1, 1]), chi2


def fit_order(dts, means, ses):
    """The order p minimising the weighted residual of tau_0 + C dt^p (grid search on [0.5, 3])."""
    orders = np.linspace(0.5, 3.0, 251)
    chi = [fit(dts, means, ses, p)[4] for p in orders]
    return float(orders[int(np.argmin(chi))])


def table(dts, n_paths, seed0):
    rows = []
    print(f"{'dt':>8} {'paths':>9} {'mean tau':>10} {'se':>8} {'CV':>6} {'seconds':>8} {'ns/step':>8}")
    for k, dt in enumerate(dts):
        mean, se, cv, seconds, steps = exit_run(dt, n_paths, seed0 + k)
        rows.append((dt, mean, se))
        print(
            f"{dt:8.4f} {n_paths:9d} {mean:10.4f} {se:8.4f} {cv:6.3f} {seconds:8.1f} {1e9 * seconds / steps:8.2f}",
            flush=True,
        )
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, default=1_000_000)
    parser.add_argument("--dts", default="0.02,0.01,0.005")
    parser.add_argument("--order", type=float, default=2.0, help="weak order used to extrapolate")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--pilot", action="store_true", help="dt = 0.16 .. 0.02, 2e5 paths each")
    parser.add_argument("--wall", action="store_true")
    parser.add_argument("--rate", action="store_true", help="ns per step, all threads and 1 thread")
    args = parser.parse_args()
    if args.wall:
        return wall_times(args.order)
    if args.rate:
        return step_rate()
    dts = [float(s) for s in args.dts.split(",")]
    paths = args.paths
    if args.pilot:
        dts, paths = [0.16, 0.08, 0.04, 0.02], 200_000
    rows = table(dts, paths, args.seed)
    dts_, means, ses = zip(*rows)
    if len(rows) >= 3:
        print(f"best-fitting weak order p = {fit_order(dts_, means, ses):.2f}")
    tau0, se0, C, seC, chi2 = fit(dts_, means, ses, args.order)
    print(
        f"fit tau = tau_0 + C dt^{args.order:g}: tau_0 = {tau0:.4f} +/- {Z99 * se0:.4f} (99 %, "
        f"{100 * Z99 * se0 / tau0:.3f} %), C = {C:.3f} +/- {seC:.3f}, chi2/dof = {chi2:.2f}"
    )


def wall_times(order):
    """Monte Carlo wall time to 1 % at T = 0.25 and 0.125, dt = 0.03 (bias C dt^2 = 0.44, 0.3 % at
    T = 0.25 with the fitted C = 494; dt = 0.05 would be 0.8 %). "1 %" is one standard error
    (n = (CV / 0.01)^2) or a 99 % half-width (n = (2.576 CV / 0.01)^2); a pilot run measures tau, CV
    and the step rate, the cost is n tau / dt steps at that rate. At T = 0.25 the 1-standard-error
    run is also made directly."""
    dt = 0.03
    for temperature, pilot in ((0.25, 20_000), (0.125, 1_000)):
        mean, se, cv, seconds, steps = exit_run(dt, pilot, 7, temperature)
        rate = seconds / steps
        n1, n99 = math.ceil((cv / 0.01) ** 2), math.ceil((Z99 * cv / 0.01) ** 2)
        print(
            f"T = {temperature:g}: dt = {dt:g}, tau = {mean:.1f} +/- {se:.1f}, CV = {cv:.3f}, "
            f"{1e9 * rate:.1f} ns/step ({pilot} paths, {seconds:.1f} s): 1 % (1 se) needs {n1} paths, "
            f"{n1 * mean / dt * rate:.2f} s; 1 % (99 %) needs {n99} paths, {n99 * mean / dt * rate:.2f} s",
            flush=True,
        )
        if temperature == 0.25:
            mean, se, cv, seconds, steps = exit_run(dt, n1, 8, temperature)
            print(f"   direct run, {n1} paths: tau = {mean:.2f} +/- {se:.2f} (1 se), {seconds:.2f} s")


def step_rate():
    """Nanoseconds per BAOAB step with the exit test (dt = 0.05, 4000 paths), best of 3, compilation
    excluded, on all threads and on one."""
    import numba

    sim = fp.montecarlo.simulator(model(), 0.05, seed=1)
    domain = HalfSpace((1.0, 0.0), 0.0)
    sim.exit_times((-1.0, 0.0), 16, domain, t_max=10.0)
    for threads in (numba.config.NUMBA_NUM_THREADS, 1):
        numba.set_num_threads(threads)
        best = math.inf
        for _ in range(3):
            start = time.perf_counter()
            result = sim.exit_times((-1.0, 0.0), 4000, domain, t_max=1e5)
            best = min(best, (time.perf_counter() - start) / (result.times.sum() / 0.05))
        print(f"{threads} thread(s): {1e9 * best:.1f} ns/step")


if __name__ == "__main__":
    main()
