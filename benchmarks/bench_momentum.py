"""Momentum at scale (issue 9, "Speed and scale"): the kinetic PDE side by side with Monte Carlo.

Run:  PYTHONPATH=. python benchmarks/bench_momentum.py [--sizes 24,36,48] [--skip-mc] [--skip-2d]
      [--repeat 3] [--reference] [--threads]      (--sizes '' skips the 4-D part)

All in one process (Numba compiled first, on small grids, and excluded from the timings):

1. 4-D phase space (theta in R^2), UnderdampedLangevin(U = (x^2 - 1)^2 + y^2, friction 1,
   T = 0.25), start (-1, 0, 0, 0), exit when theta_1 >= 0. The matrix-free kinetic operator
   (fpsolve.discretize.kinetic_kernels) with GMRES preconditioned by alternating-direction plane
   solves (fpsolve.discretize.kinetic_planes), at 24^4, 36^4, 48^4 cells: wall and CPU time of the
   mean exit time, peak resident memory (getrusage), and the answer against the 2-D phase-space
   exit time on the same (theta_1, v_1) grid. U is separable, so the 4-D operator is a Kronecker
   sum and the two must agree to the solver's tolerance: an exact reference.
2. 2-D phase space on 512^2 (the double well, T = 0.25, friction 1): the stationary law and the
   mean exit time through fpsolve's public API, best of --repeat; --reference compares the law
   with SuperLU (COLAMD, partial pivoting) on the same pinned system.
3. Monte Carlo to 1 % (one standard error) with the phase-space BAOAB simulator at dt = 0.03:
   pilot runs measure tau, its coefficient of variation and the cost per step, at T = 0.25 and
   0.125; the PDE (2-D, 512^2) at the same temperatures and at T = 1/16; the crossover temperature
   (Arrhenius interpolation of the Monte Carlo cost) and the PDE / Monte Carlo ratio at T = 1/16.

Grids: theta_1 in (-2.2, 0.2) with a multiple of 12 cells puts the exit boundary theta_1 = 0 on a
cell face (absorbing sets remove whole cells in the kinetic scheme). Wall times depend on the
machine's load: CPU seconds are printed as well.
"""

from __future__ import annotations

import argparse
import math
import resource
import time

import numpy as np

import fpsolve as fp
from fpsolve.boundary import normalize_boundary
from fpsolve.discretize import kinetic_kernels as kk
from fpsolve.generator import Generator

FRICTION = 1.0
THETA1 = (-2.2, 0.2)
THETA2 = (-1.6, 1.6)


def velocity_box(temperature):
    return (-6.0 * math.sqrt(temperature), 6.0 * math.sqrt(temperature))


def model_2d(temperature):
    return fp.UnderdampedLangevin(fp.landscapes.double_well(), friction=FRICTION, temperature=temperature)


def model_4d(temperature):
    U = fp.Landscape(lambda x, y: (x**2 - 1) ** 2 + y**2, name="separable double well")
    return fp.UnderdampedLangevin(U, friction=FRICTION, temperature=temperature)


def clock():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return time.perf_counter(), usage.ru_utime + usage.ru_stime


def since(start):
    wall, cpu = clock()
    return wall - start[0], cpu - start[1]


def peak_gib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # ru_maxrss is in KiB


def exit_time_2d(n, temperature=0.25):
    grid = fp.phase_space_grid(theta=THETA1, v=velocity_box(temperature), cells=(n, n))
    start = clock()
    tau = fp.mean_exit_time(model_2d(temperature), grid, domain=lambda th, v: th < 0)
    return tau(-1.0, 0.0), since(start)


def exit_time_4d(n, temperature=0.25):
    grid = fp.phase_space_grid(theta=[THETA1, THETA2], v=[velocity_box(temperature)] * 2, cells=(n,) * 4)
    start = clock()
    model = model_4d(temperature)
    coefficients = kk.kinetic_coefficients(grid, model, normalize_boundary(grid, "reflecting"))
    generator = Generator(kk.matrix_free_kinetic(coefficients), grid, markov=False)
    tau = fp.mean_exit_time(generator, domain=lambda t1, t2, v1, v2: t1 < 0)
    return tau(-1.0, 0.0, 0.0, 0.0), since(start)


def four_d(sizes):
    print("== 4-D phase space: mean exit time, matrix-free + plane-preconditioned GMRES ==")
    exit_time_4d(12)  # compile the kernels
    print(
        f"{'cells':>10} {'tau(-1,0,0,0)':>15} {'2-D tau(-1,0)':>15} {'rel. diff':>10} "
        f"{'wall s':>8} {'CPU s':>8} {'peak GiB':>9}"
    )
    results = {}
    for n in sizes:
        tau4, (wall, cpu) = exit_time_4d(n)
        tau2, _ = exit_time_2d(n)
        results[n] = tau4
        print(
            f"{n}^4={n**4:>8.2e} {tau4:15.6f} {tau2:15.6f} {abs(tau4 - tau2) / tau2:10.1e} "
            f"{wall:8.1f} {cpu:8.1f} {peak_gib():9.2f}",
            flush=True,
        )
    return results


def two_d(n=512, repeat=3, reference=False):
    """The 512^2 stationary law and exit time through the public API, best of ``repeat`` (wall
    and CPU, assembly included); ``reference``: the law against SuperLU with COLAMD and partial
    pivoting on the same pinned system (about 8 s more)."""
    print(f"== 2-D phase space {n}^2: stationary law and mean exit time (public API, best of {repeat}) ==")
    model = model_2d(0.25)
    small = fp.phase_space_grid(theta=(-2.2, 2.2), v=(-3, 3), cells=(64, 64))
    fp.FokkerPlanck(model, small).stationary()  # compile
    exit_time_2d(64)
    grid = fp.phase_space_grid(theta=(-2.2, 2.2), v=(-3, 3), cells=(n, n))
    timings = []
    for _ in range(repeat):
        start = clock()
        fpe = fp.FokkerPlanck(model, grid)
        p = fpe.stationary()
        timings.append(since(start))
    wall, cpu = min(t[0] for t in timings), min(t[1] for t in timings)
    th, v = grid.mesh()
    boltzmann = np.exp(-(((th**2 - 1) ** 2) + v**2 / 2) / 0.25)
    boltzmann /= boltzmann.sum() * grid.cell_volume
    error = np.abs(p - boltzmann).max() / boltzmann.max()
    print(
        f"stationary: {wall:.2f} s wall, {cpu:.2f} s CPU (one sparse LU; all {repeat}: "
        f"{', '.join(f'{w:.2f}' for w, _ in timings)} s wall); max |p - Maxwell-Boltzmann| / max = {error:.1e}"
    )
    if reference:
        law = reference_law(fpe.generator.matrix)
        print(
            f"            against SuperLU/COLAMD with partial pivoting: {np.abs(p.ravel() * grid.cell_volume - law).max() / law.max():.1e} of the peak"
        )
    timings = [exit_time_2d(n) for _ in range(repeat)]
    tau = timings[0][0]
    wall, cpu = min(t[1][0] for t in timings), min(t[1][1] for t in timings)
    print(
        f"exit time:  {wall:.2f} s wall, {cpu:.2f} s CPU; tau(-1, 0) = {tau:.4f} "
        "(Monte Carlo reference 154.77 +/- 0.27, /work/notes/kinetic_mc_reference.md)",
        flush=True,
    )


def reference_law(Q):
    """The stationary law from Q^T pinned at the heaviest state as fpsolve pins it, by SuperLU
    with COLAMD and partial pivoting (no fpsolve solver), negative part set to zero, normalised."""
    import scipy.sparse as sparse
    from scipy.sparse.linalg import splu

    from fpsolve.stationary import _heavy_state

    Q = sparse.csr_array(Q)
    j = _heavy_state(Q)
    M = sparse.lil_array(Q.T)
    M[j, :] = 0.0
    M[j, j] = 1.0
    rhs = np.zeros(Q.shape[0])
    rhs[j] = 1.0
    law = np.maximum(splu(sparse.csc_array(M), permc_spec="COLAMD", diag_pivot_thresh=1.0).solve(rhs), 0.0)
    return law / law.sum()


def superlu_threads(n=512):
    """Whether work can overlap scipy's SuperLU factorization in another thread: the pinned n^2
    kinetic stationary system (as fpsolve.stationary pins and orders it) factored alone, next to
    a pure-Python loop in the main thread, and twice in two threads at once (wall seconds)."""
    import threading

    import scipy.sparse as sparse
    from scipy.sparse.linalg import splu

    from fpsolve.orderings import nested_dissection
    from fpsolve.stationary import _heavy_state, _pinned_transpose

    grid = fp.phase_space_grid(theta=(-2.2, 2.2), v=(-3, 3), cells=(n, n))
    Q = sparse.csr_array(fp.FokkerPlanck(model_2d(0.25), grid).generator.matrix)
    order = nested_dissection(Q)
    P = sparse.csc_array(_pinned_transpose(Q, _heavy_state(Q))[order][:, order])

    def factor():
        splu(P, permc_spec="NATURAL", diag_pivot_thresh=0.1)

    start = time.perf_counter()
    factor()
    alone = time.perf_counter() - start
    worker = threading.Thread(target=factor)
    start = time.perf_counter()
    worker.start()
    loops = 0
    while worker.is_alive():
        sum(range(10_000))
        loops += 1
    beside_python = time.perf_counter() - start
    workers = [threading.Thread(target=factor) for _ in range(2)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    two = time.perf_counter() - start
    print(
        f"SuperLU {n}^2: alone {alone:.2f} s; in a thread beside a Python loop {beside_python:.2f} s "
        f"({loops} loops ran); two at once in two threads {two:.2f} s (one after the other: {2 * alone:.2f} s)"
    )


def monte_carlo_cost(temperature, pilot_paths, dt=0.03, seed=7):
    """(tau, CV, wall seconds per step, CPU seconds per step, dt) from a seeded pilot run; the 1 %
    cost is (CV/0.01)^2 tau/dt steps."""
    from fpsolve.montecarlo import HalfSpace

    sim = fp.montecarlo.simulator(model_2d(temperature), dt, seed=seed)
    domain = HalfSpace((1.0, 0.0), 0.0)
    sim.exit_times((-1.0, 0.0), 64, domain=domain, t_max=10.0)  # compile
    start = clock()
    result = sim.exit_times((-1.0, 0.0), pilot_paths, domain=domain, t_max=1e7)
    wall, cpu = since(start)
    if result.censored.any():
        raise RuntimeError(f"{int(result.censored.sum())} censored Monte Carlo paths; raise t_max")
    cv = result.standard_error * math.sqrt(pilot_paths) / result.mean
    steps = float(result.times.sum() / dt)
    return result.mean, cv, wall / steps, cpu / steps, dt


def side_by_side(n=512):
    print("== Monte Carlo to 1 % against the PDE (2-D phase space, 512^2, exit time) ==")
    print("   (costs in CPU seconds, which the machine's load changes less than wall seconds)")
    rows = {}
    for temperature, pilot in ((0.25, 20_000), (0.125, 2_000)):
        tau_mc, cv, wall_step, cpu_step, dt = monte_carlo_cost(temperature, pilot)
        steps = (cv / 0.01) ** 2 * tau_mc / dt
        mc_seconds = steps * cpu_step
        tau_pde, (wall, cpu) = exit_time_2d(n, temperature)
        rows[temperature] = (mc_seconds, cpu)
        print(
            f"T = {temperature:<6g} MC: tau = {tau_mc:9.1f}, CV = {cv:.3f}, {1e9 * wall_step:.1f} ns/step wall, "
            f"1 % = {steps:.2e} steps = {mc_seconds:8.2f} CPU s ({steps * wall_step:.2f} s wall) | "
            f"PDE: tau = {tau_pde:9.2f} in {cpu:.2f} CPU s ({wall:.2f} s wall) | MC / PDE = "
            f"{mc_seconds / cpu:.2g}",
            flush=True,
        )
    tau_low, (_, wall_low) = exit_time_2d(n, 1.0 / 16)
    # Monte Carlo cost ~ tau ~ exp(dU / T): Arrhenius through the two measured points
    (m1, p1), (m2, p2) = rows[0.25], rows[0.125]
    slope = math.log(m2 / m1) / (8.0 - 4.0)
    mc_low = m2 * math.exp(slope * (16.0 - 8.0))
    crossover = 4.0 + math.log(0.5 * (p1 + p2) / m1) / slope
    print(
        f"T = 1/16   PDE: tau = {tau_low:.4g} in {wall_low:.2f} CPU s | MC to 1 % (Arrhenius extrapolation "
        f"of the measured cost) {mc_low:.3g} CPU s | MC / PDE = {mc_low / wall_low:.2g}"
    )
    print(f"crossover: Monte Carlo to 1 % costs as much as the PDE at 1/T = {crossover:.2f} (T = {1 / crossover:.3f})")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="24,36,48")
    parser.add_argument("--skip-mc", action="store_true")
    parser.add_argument("--skip-2d", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="2-D timings: best of this many")
    parser.add_argument("--reference", action="store_true", help="2-D law against SuperLU/COLAMD")
    parser.add_argument("--threads", action="store_true", help="can work overlap SuperLU in a thread?")
    args = parser.parse_args()
    if args.sizes:
        four_d([int(n) for n in args.sizes.split(",")])
    if not args.skip_2d:
        two_d(repeat=args.repeat, reference=args.reference)
    if args.threads:
        superlu_threads()
    if not args.skip_mc:
        side_by_side()


if __name__ == "__main__":
    main()
