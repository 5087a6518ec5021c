"""Spectral against finite volumes, side by side in one run (issue 11, "Speed").

1. The 1-D mean exit time of the double well U = (x^2 - 1)^2, T = 0.5, from x < 0 (reflecting at
   -2.5), to 1e-10 relative at x = -2, -1, -0.5 against nested adaptive quadrature of the exact
   double integral: Chebyshev collocation (``discretization="spectral"``, target <= 5 ms) against
   finite volumes, alone and Richardson-extrapolated from two grids (N, 2N): (4 tau_2N - tau_N)/3.
2. The 2-D periodic evolution on 256^2 modes to t = 10 (target <= 1 s; engineer D's
   ``fpsolve.discretize.fourier_benchmark``), against finite volumes on 64^2 .. 256^2: the FV
   error against a time-converged Fourier run on the same grid, and the FV unknowns and time that
   its measured order needs for the Fourier accuracy (extrapolated: FV cannot reach it).

Command: ``python benchmarks/bench_spectral.py`` (about a minute). Times are the best of several
runs; the machine's other load slows dense LAPACK (multithreaded OpenBLAS) a lot, so run it idle.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from scipy.integrate import quad

import fpsolve as fp

T = 0.5
BOX = (-2.5, 2.5)
STARTS = (-2.0, -1.0, -0.5)
TARGET = 1e-10


def exit_time_reference(x0: float) -> float:
    """(1/T) int_x0^0 e^{U/T} int_-2.5^y e^{-U/T} dz dy by nested quad (epsrel 1e-13)."""
    U = fp.landscapes.double_well()

    def inner(y):
        return quad(
            lambda z: np.exp(-U(z) / T), BOX[0], y, points=[-1.0] if y > -1 else None, epsabs=0, epsrel=1e-13, limit=200
        )[0]

    return (
        quad(
            lambda y: np.exp(U(y) / T) * inner(y),
            x0,
            0.0,
            points=[-1.0] if x0 < -1 else None,
            epsabs=0,
            epsrel=1e-13,
            limit=200,
        )[0]
        / T
    )


def best_time(run, repeats: int) -> tuple:
    """(best wall time, last result) of ``run()`` over ``repeats`` calls."""
    best, out = np.inf, None
    for _ in range(repeats):
        begin = time.perf_counter()
        out = run()
        best = min(best, time.perf_counter() - begin)
    return best, out


def exit_time_error(values, references) -> float:
    return max(abs(v / r - 1) for v, r in zip(values, references))


def spectral_exit_times(references, sizes=(40, 48, 56, 64, 72, 80, 96)) -> list:
    """Rows (points, seconds, error) of the Chebyshev solve through the public API."""
    model = fp.Langevin(fp.landscapes.double_well(), temperature=T)
    rows = []
    for n in sizes:
        grid = fp.Grid([BOX], [n])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # coarse sizes warn that they are not resolved
            seconds, tau = best_time(
                lambda: fp.mean_exit_time(model, grid, lambda x: x < 0, discretization="spectral"), 20
            )
        rows.append((n, seconds, exit_time_error([tau(x) for x in STARTS], references)))
    return rows


def fv_exit_times(references, sizes=(500, 1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000)) -> list:
    """Rows (cells, seconds, error, Richardson error with the previous size, seconds of both)."""
    model = fp.Langevin(fp.landscapes.double_well(), temperature=T)
    rows, previous = [], None
    for n in sizes:
        grid = fp.Grid([BOX], [n])
        seconds, tau = best_time(lambda: fp.mean_exit_time(model, grid, lambda x: x < 0), 3 if n <= 32000 else 1)
        values = [tau(x) for x in STARTS]
        richardson = np.nan
        pair_seconds = np.nan
        if previous is not None and n == 2 * previous[0]:
            extrapolated = [(4 * v - w) / 3 for v, w in zip(values, previous[2])]
            richardson = exit_time_error(extrapolated, references)
            pair_seconds = seconds + previous[1]
        rows.append((n, seconds, exit_time_error(values, references), richardson, pair_seconds))
        previous = (n, seconds, values)
    return rows


def first_reaching(rows, column: int):
    for row in rows:
        if row[column] <= TARGET:
            return row
    return None


def exit_time_benchmark() -> dict:
    references = [exit_time_reference(x) for x in STARTS]
    spectral = spectral_exit_times(references)
    fv = fv_exit_times(references)
    print("1-D mean exit time, double well T = 0.5, max relative error at x = -2, -1, -0.5")
    print(f"{'scheme':<28}{'unknowns':>10}{'seconds':>12}{'error':>12}")
    for n, seconds, error in spectral:
        print(f"{'chebyshev (spectral)':<28}{n:>10d}{seconds:>12.5f}{error:>12.2e}")
    for n, seconds, error, richardson, pair in fv:
        print(f"{'fv':<28}{n:>10d}{seconds:>12.5f}{error:>12.2e}")
        if np.isfinite(richardson):
            print(f"{'fv Richardson (N/2, N)':<28}{n + n // 2:>10d}{pair:>12.5f}{richardson:>12.2e}")
    cheb = first_reaching(spectral, 2)
    plain = first_reaching(fv, 2)
    rich_rows = [(n + n // 2, pair, r) for n, _, _, r, pair in fv if np.isfinite(r)]
    rich = first_reaching(rich_rows, 2)
    out = {"spectral": cheb, "fv": plain, "fv_richardson": rich, "rows": (spectral, fv)}
    print()
    print(
        f"to {TARGET:g}: chebyshev {cheb[0]} points in {cheb[1] * 1e3:.2f} ms (target 5 ms: "
        f"{'met' if cheb[1] <= 5e-3 else 'NOT met'})"
    )
    if plain is None:
        # the FV error is second order: extrapolate the cells it would need from the finest grid
        n, seconds, error = fv[-1][:3]
        need = n * np.sqrt(error / TARGET)
        print(
            f"  fv alone does not reach it by {n} cells (error {error:.2e}); second order needs "
            f"~{need:.2e} cells (extrapolated), ~{seconds * need / n:.2f} s"
        )
        out["fv_extrapolated"] = (need, seconds * need / n)
    else:
        print(f"  fv alone: {plain[0]} cells in {plain[1] * 1e3:.1f} ms")
    if rich is not None:
        print(
            f"  fv Richardson: {rich[0]} cells (two grids) in {rich[1] * 1e3:.2f} ms; "
            f"ratio fv-Richardson / chebyshev time {rich[1] / cheb[1]:.1f}"
        )
    return out


def fv_periodic_errors(sizes=(64, 128, 256), t_end=10.0) -> list:
    """Rows (n, seconds, relative L1 error) of FV on the Fourier benchmark problem, the error
    against Fourier ETDRK4 (dt = 1/16) on the same grid (its own error ~1e-9)."""
    from fpsolve.discretize.fourier_benchmark import benchmark_problem

    rows = []
    for n in sizes:
        spectral, p0 = benchmark_problem(n)
        reference = spectral.evolve(p0, [0.0, t_end], "etdrk4", dt=1 / 16).p[-1]
        fv = fp.FokkerPlanck(spectral.model, spectral.grid, discretization="fv")
        seconds, sol = best_time(lambda: fv.evolve(p0, [0.0, t_end]), 1)
        rows.append((n, seconds, float(np.abs(sol.p[-1] - reference).sum() / np.abs(reference).sum())))
    return rows


def evolution_benchmark() -> dict:
    from fpsolve.discretize.fourier_benchmark import benchmark_evolution

    seconds, error, stats = min((benchmark_evolution(n=256, t_end=10.0, dt=0.25) for _ in range(3)), key=lambda r: r[0])
    fv = fv_periodic_errors()
    print()
    print("2-D periodic evolution to t = 10, U = cos x + cos y + cos(x - y)/2, T = 0.5")
    print(f"{'scheme':<28}{'unknowns':>10}{'seconds':>12}{'rel. L1 error':>15}")
    print(f"{'fourier ETDRK4 dt=0.25':<28}{256**2:>10d}{seconds:>12.3f}{error:>15.2e}")
    for n, s, e in fv:
        print(f"{'fv (exponential)':<28}{n * n:>10d}{s:>12.3f}{e:>15.2e}")
    (n1, s1, e1), (n2, s2, e2) = fv[-2], fv[-1]
    order = np.log(e1 / e2) / np.log(n2 / n1)
    growth = np.log(s2 / s1) / np.log(n2 / n1)
    need = n2 * (e2 / error) ** (1 / order)
    need_seconds = s2 * (need / n2) ** growth
    print(
        f"fourier 256^2 to t = 10 in {seconds:.3f} s (target 1 s: {'met' if seconds <= 1 else 'NOT met'}); "
        f"FV observed order {order:.2f}: for the Fourier error {error:.1e} it would need ~{need:.0f}^2 "
        f"cells and ~{need_seconds:.3g} s (extrapolated with time ~ n^{growth:.2f}); "
        f"FV at 256^2 is {e2 / error:.1e}x less accurate and {s2 / seconds:.1f}x "
        f"{'slower' if s2 > seconds else 'faster'}"
    )
    return {"fourier": (seconds, error, stats), "fv": fv, "fv_needed": (need, need_seconds)}


if __name__ == "__main__":
    exit_time_benchmark()
    evolution_benchmark()
