"""2-D at the limit, the spectral candidate (issue 14 item 3): Fourier against finite volumes.

Run:  OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/spectral_crossover.py [--temperatures 1,0.25] [--fv 25,50,100,200,400]
      [--fourier 12,16,20,24,32,40,48,64] [--steps 4,8,16,32,64,128,256] [--repeat 3] [--figure PATH]

Problem: Langevin(U = cos x + cos y + cos(x + y) / 2, T) on the torus [0, 2 pi)^2, started from the
product of two von Mises laws (concentrations 2 and 3, centres 2 and 4; smooth, not separable in
its evolution because of the cross term), evolved to t = 2.

Reference, made by no fpsolve solver: the Galerkin matrix of the forward operator on the Fourier
modes |m|, |n| <= M, written down from U's three cosines (each multiplies a mode by its four
neighbours), applied by scipy's expm_multiply to the von Mises coefficients (ratios of Bessel
functions, exact). Truncation at M = 32 changes the result by < 1e-13 against M = 24 for T >= 1/4 (printed), and
the same matrix annihilates the closed-form Boltzmann law e^{-U/T} (its coefficients by a 256^2
FFT) to round-off (printed). Cell averages on any grid are exact: mode m times sinc(m / n).

Printed, per temperature:

1. Diagnosis of the second order seen by the last session: the Fourier scheme's error against
   the reference's cell averages (spectral), against its point values at the centres (h^2 / 24 of
   the Laplacian: second order), with a start sampled at the centres instead of averaged (second
   order), and with IMEX (second order in time) at dt = h.
2. Time to accuracy through the public API (FokkerPlanck construction + evolve; process CPU and
   wall seconds, best of --repeat; run with OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 so that CPU
   seconds measure the work of one core on a shared machine): finite volumes on n^2 cells (exponential method, exact in time;
   the error against cell averages and against point values, FV credited with the smaller),
   Richardson-extrapolated FV (4 p_2n - p_n) / 3 with p_2n averaged onto the n^2 cells, and the
   Fourier scheme on n^2 modes with fixed steps dt = 2 / steps (ETDRK4), plus its default step
   control (rtol = 1e-8). The Pareto front of each method and the crossover table: the cheapest
   run of each method that reaches each accuracy.
3. Long times: each scheme's stationary law against the closed form e^{-U/T} / Z (cell averages).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import scipy.sparse as sparse
import scipy.special as special
from scipy.sparse.linalg import expm_multiply

import fpsolve as fp

T_END = 2.0
#: U = sum of A cos(a x + b y) over these (A, a, b): cos x + cos y + cos(x + y) / 2
COSINES = ((1.0, 1, 0), (1.0, 0, 1), (0.5, 1, 1))
KAPPA, CENTRE = (2.0, 3.0), (2.0, 4.0)  # the von Mises start, per axis
MODES = 32  # reference truncation |m| <= MODES


def langevin(temperature, cosines=COSINES, drift=(0.0, 0.0)):
    """Langevin on U = sum A cos(a x + b y) - drift . x: the gradient is periodic; a nonzero
    constant ``drift`` makes the chain non-reversible (a current around the torus)."""

    def potential(x, y):
        return sum(A * np.cos(a * x + b * y) for A, a, b in cosines) - drift[0] * x - drift[1] * y

    def grad(x, y):
        gx = sum(-A * a * np.sin(a * x + b * y) for A, a, b in cosines) - drift[0]
        gy = sum(-A * b * np.sin(a * x + b * y) for A, a, b in cosines) - drift[1]
        return np.stack(np.broadcast_arrays(gx, gy))

    return fp.Langevin(fp.Landscape(potential, grad, name="torus cosines"), temperature=temperature)


def grid(n):
    return fp.Grid([(0, 2 * np.pi)] * 2, [n, n], periodic=True)


# --- the reference: Galerkin on Fourier modes, independent of fpsolve ----------------------------
def galerkin(M, temperature, cosines=COSINES, drift=(0.0, 0.0)):
    """Sparse forward generator on the coefficients p_mn (|m|, |n| <= M, row-major) of
    d_t p = -div(b p) + T lap p with b = -grad U = sum A (a, b) sin(a x + b y) + drift.

    sin(a x + b y) = (e^+ - e^-) / 2i shifts a mode by +-(a, b), so (b_x p)_mn has A a (p_{m-a, n-b}
    - p_{m+a, n+b}) / 2i per cosine, and -div multiplies mode (m, n) by -i (m, n) . ; the constant
    drift and the diffusion are diagonal: -i (m c_x + n c_y) - T (m^2 + n^2)."""
    span = 2 * M + 1
    m, n = (a.ravel() for a in np.meshgrid(np.arange(-M, M + 1), np.arange(-M, M + 1), indexing="ij"))
    index = np.arange(span * span)
    rows, cols = [index], [index]
    vals = [-temperature * (m * m + n * n) - 1j * (drift[0] * m + drift[1] * n)]
    for amplitude, a, b in cosines:
        for sign in (1, -1):
            mm, nn = m - sign * a, n - sign * b
            ok = (np.abs(mm) <= M) & (np.abs(nn) <= M)
            rows.append(index[ok])
            cols.append(((mm + M) * span + nn + M)[ok])
            vals.append((-(m * a + n * b) * amplitude * sign / 2.0 + 0j)[ok])
    shape = (span * span,) * 2
    return sparse.csr_array((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=shape)


def start_modes(M):
    """Fourier coefficients of the von Mises product start (exact: I_m(kappa) / I_0(kappa))."""
    m = np.arange(-M, M + 1)
    factors = [
        special.ive(np.abs(m), k) / special.ive(0, k) * np.exp(-1j * m * c) / (2 * np.pi) for k, c in zip(KAPPA, CENTRE)
    ]
    return np.outer(*factors)


def reference_modes(temperature, t=T_END, M=MODES, cosines=COSINES, drift=(0.0, 0.0)):
    """Coefficients of the exact Galerkin evolution of the von Mises start to time ``t``."""
    start = start_modes(M)
    generator = galerkin(M, temperature, cosines, drift)
    return expm_multiply(generator * t, start.ravel()).reshape(start.shape)


def sample(modes, n, averaged=True):
    """Cell averages (or point values at the centres) on n^2 cells of the trigonometric
    polynomial with coefficients ``modes`` (|m| <= M on both axes)."""
    M = (modes.shape[0] - 1) // 2
    m = np.arange(-M, M + 1)
    x = (np.arange(n) + 0.5) * 2 * np.pi / n
    basis = np.exp(1j * np.outer(x, m)) * (np.sinc(m / n) if averaged else 1.0)
    return (basis @ modes @ basis.T).real


def boltzmann_modes(temperature, M=MODES, n=256, cosines=COSINES):
    """Coefficients of e^{-U/T} / Z by a trapezoidal FFT on n^2 points (spectrally exact)."""
    x = (np.arange(n) + 0.5) * 2 * np.pi / n
    X, Y = np.meshgrid(x, x, indexing="ij")
    values = np.exp(-sum(A * np.cos(a * X + b * Y) for A, a, b in cosines) / temperature)
    m = np.fft.fftfreq(n, 1.0 / n)
    shift = np.exp(-1j * m * np.pi / n)  # the samples sit half a cell off the origin
    modes = np.fft.fft2(values) / n**2 * np.outer(shift, shift)
    keep = np.r_[np.arange(n - M, n), np.arange(M + 1)]
    modes = modes[np.ix_(keep, keep)]
    return modes / (modes[M, M] * 4 * np.pi**2)


def check_reference(temperature):
    """(change from M = MODES - 8 to MODES at t = 2, |Galerkin . Boltzmann| / max coefficient)."""
    coarse = sample(reference_modes(temperature, M=MODES - 8), 64)
    fine = sample(reference_modes(temperature), 64)
    law = boltzmann_modes(temperature)
    residual = np.abs(galerkin(MODES, temperature) @ law.ravel()).max() / np.abs(law).max()
    return float(np.abs(coarse - fine).max() / fine.max()), float(residual)


# --- the runs ----------------------------------------------------------------------------------
def timed(function, repeat):
    """(best process CPU seconds, best wall seconds, last result)."""
    best_cpu, best_wall, result = np.inf, np.inf, None
    for _ in range(repeat):
        cpu, wall = time.process_time(), time.perf_counter()
        result = function()
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
    return best_cpu, best_wall, result


def error(p, exact):
    """Maximum error relative to the peak."""
    return float(np.abs(p - exact).max() / np.abs(exact).max())


def fourier_run(model, n, p0, steps=None, method="etdrk4"):
    problem = fp.FokkerPlanck(model, grid(n), discretization="spectral")
    dt = None if steps is None else T_END / steps
    return problem.evolve(p0, [0.0, T_END], method, dt=dt).p[-1]


def fv_run(model, n, p0):
    return fp.FokkerPlanck(model, grid(n)).evolve(p0, [0.0, T_END]).p[-1]


def coarsen(p):
    """Cell averages on the n^2 grid from those on the (2n)^2 grid (exact)."""
    n = p.shape[0] // 2
    return p.reshape(n, 2, n, 2).mean(axis=(1, 3))


def diagnose(model, temperature, sizes=(16, 24, 32, 48)):
    start, final = start_modes(MODES), reference_modes(temperature)
    print("  n    vs averages   vs point values   start sampled   IMEX dt = h")
    for n in sizes:
        averages, points = sample(final, n), sample(final, n, averaged=False)
        sampled = sample(start, n, averaged=False)
        sampled = sampled / (sampled.sum() * grid(n).cell_volume)
        p = fourier_run(model, n, sample(start, n), steps=128)
        row = [error(p, averages), error(p, points), error(fourier_run(model, n, sampled, steps=128), averages)]
        steps = int(np.ceil(T_END * n / (2 * np.pi)))
        row.append(error(fourier_run(model, n, sample(start, n), steps=steps, method="imex"), averages))
        print(f"  {n:3d}  " + "  ".join(f"{e:13.2e}" for e in row))


def measure(model, temperature, fv_sizes, fourier_sizes, steps_list, repeat):
    """Rows (method, label, error, CPU s, wall s) of every run."""
    start, final = start_modes(MODES), reference_modes(temperature)
    rows, fv_results = [], {}
    fv_run(model, 16, sample(start, 16))  # warm up: imports, Numba caches, FFT plans
    fourier_run(model, 16, sample(start, 16), steps=4)
    for n in fv_sizes:
        cpu, wall, p = timed(lambda: fv_run(model, n, sample(start, n)), repeat)
        e_avg, e_pts = error(p, sample(final, n)), error(p, sample(final, n, averaged=False))
        fv_results[n] = (p, cpu, wall)
        rows.append(("fv", f"{n}^2 (vs averages {e_avg:.1e}, points {e_pts:.1e})", min(e_avg, e_pts), cpu, wall))
    for n in fv_sizes:
        if 2 * n in fv_results:
            (p, c1, w1), (q, c2, w2) = fv_results[n], fv_results[2 * n]
            extrapolated = (4 * coarsen(q) - p) / 3
            rows.append(
                ("fv-richardson", f"{n}^2 + {2 * n}^2", error(extrapolated, sample(final, n)), c1 + c2, w1 + w2)
            )
    for n in fourier_sizes:
        exact = sample(final, n)
        for steps in list(steps_list) + [None]:
            cpu, wall, p = timed(lambda: fourier_run(model, n, sample(start, n), steps), repeat)
            label = f"{n}^2, " + ("rtol 1e-8" if steps is None else f"{steps} steps")
            rows.append(("fourier" if steps else "fourier-default", label, error(p, exact), cpu, wall))
    return rows


def pareto(rows):
    """Rows no other row of the same method beats in both error and CPU time, by error."""
    front = []
    for row in sorted(rows, key=lambda r: (r[3], r[2])):
        if not front or row[2] < front[-1][2]:
            front.append(row)
    return front


def crossover_table(rows, levels=(1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-8, 1e-10)):
    methods = sorted({r[0] for r in rows})
    print("  accuracy  " + "".join(f"{m:>34s}" for m in methods))
    for level in levels:
        cells = []
        for method in methods:
            hits = [r for r in rows if r[0] == method and r[2] <= level]
            best = min(hits, key=lambda r: r[3]) if hits else None
            cells.append("-" if best is None else f"{best[3]:.3f} s ({best[1].split(' (')[0]})")
        print(f"  {level:8.0e}  " + "".join(f"{c:>34s}" for c in cells))


def stationary_check(model, temperature, fv_sizes, fourier_sizes, repeat):
    law = boltzmann_modes(temperature)
    for label, sizes, options in (("fv", fv_sizes, {}), ("fourier", fourier_sizes, {"discretization": "spectral"})):
        for n in sizes:
            cpu, wall, p = timed(lambda: fp.FokkerPlanck(model, grid(n), **options).stationary(), repeat)
            print(f"  {label:8s} {n:4d}^2  error {error(p, sample(law, n)):.2e}  cpu {cpu:.3f} s  wall {wall:.3f} s")


def figure(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(5.5 * len(results), 4.2), squeeze=False)
    for ax, (temperature, rows) in zip(axes[0], results.items()):
        styles = (("fv", "o-"), ("fv-richardson", "s--"), ("fourier", "^-"), ("fourier-default", "v:"))
        for method, style in styles:
            front = pareto([r for r in rows if r[0] == method])
            ax.loglog([r[3] for r in front], [r[2] for r in front], style, label=method)
        ax.set(
            xlabel="CPU seconds (construction + evolve to t = 2)",
            ylabel="max error / peak",
            title=f"T = {temperature}",
        )
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--temperatures", default="1,0.25")
    parser.add_argument("--fv", default="25,50,100,200,400", help="finite-volume grid sides")
    parser.add_argument("--fourier", default="12,16,20,24,32,40,48,64", help="Fourier grid sides")
    parser.add_argument("--steps", default="4,8,16,32,64,128,256", help="fixed ETDRK4 steps to t = 2")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--figure", default=None, help="write the error-time figure here")
    args = parser.parse_args()
    ints = lambda text: [int(v) for v in text.split(",") if v]  # noqa: E731
    warnings.simplefilter("ignore")  # coarse Fourier grids warn about their tails: that is measured
    results = {}
    for temperature in [float(v) for v in args.temperatures.split(",")]:
        model = langevin(temperature)
        truncation, residual = check_reference(temperature)
        print(f"\nT = {temperature}: reference M = {MODES - 8} -> {MODES} changes by {truncation:.1e}", end="")
        print(f"; Galerkin . Boltzmann law {residual:.1e}")
        print("1. diagnosis (Fourier, ETDRK4 with 128 steps unless IMEX)")
        diagnose(model, temperature)
        rows = measure(model, temperature, ints(args.fv), ints(args.fourier), ints(args.steps), args.repeat)
        results[temperature] = rows
        print("2. Pareto fronts (error, CPU s, wall s)")
        for method in sorted({r[0] for r in rows}):
            for r in pareto([r for r in rows if r[0] == method]):
                print(f"  {method:16s} {r[1]:44s} {r[2]:9.2e} {r[3]:8.3f} {r[4]:8.3f}")
        print("   cheapest run (CPU s) reaching each accuracy")
        crossover_table(rows)
        print("3. stationary law against e^{-U/T} / Z")
        stationary_check(model, temperature, ints(args.fv)[:4], (16, 24, 32, 48), args.repeat)
    if args.figure:
        figure(results, args.figure)


if __name__ == "__main__":
    main()
