"""The figures and tables of docs/spectral.md: spectral against finite volumes, and where spectral fails.

Command: ``python benchmarks/spectral_figures.py`` (about two minutes) writes
docs/figures/spectral_double_well.png, spectral_periodic.png and spectral_failures.png and prints
the numbers quoted in docs/spectral.md.

* Double well (1-D mean exit time, T = 0.5): max relative error at x = -2, -1, -0.5 against nested
  quadrature, against unknowns and wall time, for Chebyshev, FV, and FV Richardson-extrapolated.
* Smooth periodic evolution (1-D, U = cos x + sin(2x)/2, T = 0.5, Gaussian start, t = 1): relative
  L1 error of the cell averages against a 128-mode Fourier run with dt = 1/400 averaged exactly
  over each grid's cells, for the Fourier scheme (ETDRK4, dt = 1/100) and FV (exponential, exact
  in time), both started from ``fp.gaussian`` (cell averages), against unknowns and wall time.
* Failures: a kink (U = |x|), high barriers (dU/T up to 40: round-off and wall layers), and a
  drift-dominated problem (constant drift against a wall, Peclet number L |b| / D up to 1000).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
from scipy.integrate import quad

import fpsolve as fp
from fpsolve.discretize.chebyshev import ChebyshevBox, solve_backward_1d

sys.path.insert(0, str(Path(__file__).parent))
from bench_spectral import (
    STARTS,
    best_time,
    exit_time_reference,
    fv_exit_times,
    spectral_exit_times,
)

FIGURES = Path(__file__).resolve().parents[1] / "docs" / "figures"


def double_well_rows():
    references = [exit_time_reference(x) for x in STARTS]
    spectral = spectral_exit_times(references, sizes=(16, 24, 32, 40, 48, 56, 64, 72, 80, 96, 128))
    fv = fv_exit_times(references, sizes=tuple(250 * 2**k for k in range(11)))
    return spectral, fv


def periodic_problem():
    U = fp.Landscape(
        lambda x: np.cos(x) + 0.5 * np.sin(2 * x),
        lambda x: (-np.sin(x) + np.cos(2 * x))[None] * np.ones((1,) + np.shape(x)),
    )
    return fp.Langevin(U, temperature=0.5)


def cell_averages_on(averages, n):
    """Exact averages over the cells of an n-cell grid of [0, 2 pi) of the trigonometric
    polynomial whose averages over the N = len(averages) cells are given: the mean of e^{ikx} over
    a cell of width h is e^{ikx} sinc(kh/2)."""
    N = averages.size
    c = np.fft.rfft(averages) / N
    k = np.arange(c.size)
    point = c / np.sinc(k / N)  # sinc(k h_N / 2) with h_N = 2 pi / N
    weights = np.where((k == 0) | ((N % 2 == 0) & (k == N // 2)), 1.0, 2.0)
    x0 = np.pi / N  # the first centre of the N-cell grid
    x = (np.arange(n) + 0.5) * 2 * np.pi / n
    return (np.exp(1j * np.outer(x - x0, k)) @ (weights * point * np.sinc(k / n))).real


def periodic_rows(t_end=1.0):
    """Both schemes start from fp.gaussian (cell averages, which both read as such); errors are
    of cell averages, against the 128-mode reference averaged exactly over each grid's cells."""
    model = periodic_problem()

    def fourier(n, dt):
        grid = fp.Grid([(0, 2 * np.pi)], [n], periodic=True)
        fpe = fp.FokkerPlanck(model, grid, discretization="spectral")
        p0 = fp.gaussian(grid, mean=np.pi, std=0.4)  # the wrapped tails are < 1e-12
        return grid, best_time(lambda: fpe.evolve(p0, [0.0, t_end], "etdrk4", dt=dt), 3)

    _, (_, ref) = fourier(128, 1 / 400)
    reference = ref.p[-1]

    def error(grid, p):
        exact = cell_averages_on(reference, grid.shape[0])
        return float(np.abs(p - exact).sum() / np.abs(exact).sum())

    spectral = []
    for n in (8, 12, 16, 24, 32, 48, 64):
        try:
            grid, (seconds, sol) = fourier(n, 1 / 100)
        except ValueError as refused:  # too few modes for the drift: the scheme refuses
            print(f"fourier {n}: refused ({str(refused)[:60]}...)")
            continue
        spectral.append((n, seconds, error(grid, sol.p[-1])))
    fv = []
    for n in (32, 64, 128, 256, 512, 1024, 2048, 4096):
        grid = fp.Grid([(0, 2 * np.pi)], [n], periodic=True)
        fpe = fp.FokkerPlanck(model, grid)
        p0 = fp.gaussian(grid, mean=np.pi, std=0.4)
        seconds, sol = best_time(lambda: fpe.evolve(p0, [0.0, t_end]), 3)
        fv.append((n, seconds, error(grid, sol.p[-1])))
    return spectral, fv


def kink_rows():
    """U = |x|, T = 0.5, exit from x < 1 on [-3, 3], tau(-0.5)."""
    U = fp.Landscape(lambda x: np.abs(x), lambda x: np.sign(x)[None])
    model = fp.Langevin(U, temperature=0.5)

    def inner(y):
        return quad(lambda z: np.exp(-abs(z) / 0.5), -3, y, points=[0] if y > 0 else None, epsabs=0, epsrel=1e-13)[0]

    exact = quad(lambda y: np.exp(abs(y) / 0.5) * inner(y), -0.5, 1.0, points=[0], epsabs=0, epsrel=1e-13)[0] / 0.5
    rows = {"chebyshev": [], "fv": []}
    for n in (16, 32, 64, 96, 128, 192, 256, 512):
        # the raw collocation (the public API refuses most of these sizes and warns at the others)
        box = ChebyshevBox([(-3.0, 1.0)], [n])
        (tau,), _ = solve_backward_1d(model, box, [("reflecting", "absorbing")], lambda m, p: -1.0 if m == 0 else None)
        rows["chebyshev"].append((n, abs(box.interpolate(tau, -0.5) / exact - 1)))
    for n in (60, 240, 960, 3840, 15360):
        tau = fp.mean_exit_time(model, fp.Grid([(-3.0, 3.0)], [n]), lambda x: x < 1)
        rows["fv"].append((n, abs(tau(-0.5) / exact - 1)))
    return rows


def barrier_rows():
    """Double well, dU/T = 1/T from 2 to 40: the best Chebyshev error (64 .. 256 points) and FV
    Richardson (4000/8000 cells), tau(-1) against nested quadrature."""
    rows = []
    for T in (0.5, 0.2, 0.1, 1 / 15, 0.05, 1 / 30, 0.025):
        U = fp.landscapes.double_well()
        model = fp.Langevin(U, temperature=T)

        def inner(y):
            return quad(
                lambda z: np.exp(-U(z) / T),
                -2.5,
                y,
                points=[-1.0] if y > -1 else None,
                epsabs=0,
                epsrel=1e-13,
                limit=400,
            )[0]

        exact = quad(lambda y: np.exp(U(y) / T) * inner(y), -1.0, 0.0, epsabs=0, epsrel=1e-13, limit=400)[0] / T
        best = (np.inf, 0)
        for n in (64, 96, 128, 192, 256):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    tau = fp.mean_exit_time(
                        model, fp.Grid([(-2.5, 2.5)], [n]), lambda x: x < 0, discretization="spectral"
                    )
                best = min(best, (abs(tau(-1.0) / exact - 1), n))
            except ValueError:
                pass
        coarse, fine = (
            fp.mean_exit_time(model, fp.Grid([(-2.5, 2.5)], [n]), lambda x: x < 0)(-1.0) for n in (4000, 8000)
        )
        chebyshev = best[0] if np.isfinite(best[0]) else np.nan  # nan: refused at every size
        rows.append((1 / T, chebyshev, best[1], abs((4 * fine - coarse) / 3 / exact - 1), abs(fine / exact - 1)))
    return rows


def peclet_rows():
    """dX = b dt + sqrt(2D) dW on [0, 1], b = 1 towards the exit at 1, reflecting at 0, Peclet
    number Pe = b L / D: tau(x) = (1 - x) - D (e^{-x/D} - e^{-1/D}) (the double integral in closed
    form), with a boundary layer of width D = 1/Pe at the wall. Relative error at x = 0.5 and at
    x = 1/(2 Pe) (inside the layer)."""
    rows = []
    for peclet in (10, 30, 100, 300, 1000):
        D = 1.0 / peclet
        model = fp.Langevin(fp.Landscape(lambda x: -x, lambda x: -np.ones((1,) + np.shape(x))), temperature=D)

        def exact(x):
            return (1 - x) - D * (np.exp(-x / D) - np.exp(-1 / D))

        row = [peclet]
        for n in (32, 64, 128, 256):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    tau = fp.mean_exit_time(
                        model,
                        fp.Grid([(0.0, 1.0)], [n]),
                        None,
                        boundary=("reflecting", "absorbing"),
                        discretization="spectral",
                    )
                row.append(max(abs(tau(x) / exact(x) - 1) for x in (0.5, D / 2)))
            except ValueError:
                row.append(np.nan)  # refused: not resolved
        tau = fp.mean_exit_time(model, fp.Grid([(0.0, 1.0)], [1000]), None, boundary=("reflecting", "absorbing"))
        row.append(max(abs(tau(x) / exact(x) - 1) for x in (0.5, D / 2)))
        rows.append(tuple(row))
    return rows


def plot_pair(ax_n, ax_t, series, title):
    for label, rows, style in series:
        rows = np.array(rows, dtype=float)
        ax_n.loglog(rows[:, 0], rows[:, 2], style, label=label)
        ax_t.loglog(rows[:, 1], rows[:, 2], style, label=label)
    ax_n.set_xlabel("unknowns")
    ax_t.set_xlabel("wall time (s)")
    for ax in (ax_n, ax_t):
        ax.set_ylabel("relative error")
        ax.grid(True, which="both", alpha=0.3)
        ax.axhline(1e-10, color="gray", lw=0.8, ls=":")
    ax_n.set_title(title)
    ax_n.legend()


def main():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    spectral, fv = double_well_rows()
    rich = [(n + n // 2, pair, r) for n, _, _, r, pair in fv if np.isfinite(r)]
    print("double well: chebyshev (points, s, error)", *[f"{n} {s:.2e} {e:.1e}" for n, s, e in spectral], sep="\n  ")
    print(
        "fv (cells, s, error; Richardson error, pair s)",
        *[f"{r[0]} {r[1]:.2e} {r[2]:.1e}; {r[3]:.1e} {r[4]:.2e}" for r in fv],
        sep="\n  ",
    )
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    plot_pair(
        *axes,
        [("Chebyshev", spectral, "o-"), ("FV", [r[:3] for r in fv], "s-"), ("FV Richardson (N/2, N)", rich, "^-")],
        "double well mean exit time, T = 0.5",
    )
    fig.tight_layout()
    fig.savefig(FIGURES / "spectral_double_well.png", dpi=110)

    spectral_p, fv_p = periodic_rows()
    print("periodic: fourier (modes, s, error)", *[f"{n} {s:.2e} {e:.1e}" for n, s, e in spectral_p], sep="\n  ")
    print("fv (cells, s, error)", *[f"{n} {s:.2e} {e:.1e}" for n, s, e in fv_p], sep="\n  ")
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    plot_pair(
        *axes,
        [("Fourier ETDRK4", spectral_p, "o-"), ("FV exponential", fv_p, "s-")],
        "periodic evolution to t = 1, U = cos x + sin 2x / 2",
    )
    fig.tight_layout()
    fig.savefig(FIGURES / "spectral_periodic.png", dpi=110)

    kink, barriers, peclet = kink_rows(), barrier_rows(), peclet_rows()
    print("kink |x|:", kink)
    print("barriers (dU/T, best chebyshev error, points, fv richardson 4000/8000, fv 8000):")
    for row in barriers:
        print("  %.0f %.1e %d %.1e %.1e" % row)
    print("peclet (Pe, chebyshev 32, 64, 128, 256, fv 1000):")
    for row in peclet:
        print("  " + " ".join(f"{v:.1e}" for v in row))
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for label, rows, style in (("Chebyshev", kink["chebyshev"], "o-"), ("FV", kink["fv"], "s-")):
        rows = np.array(rows)
        axes[0].loglog(rows[:, 0], rows[:, 1], style, label=label)
    axes[0].set(xlabel="unknowns", ylabel="relative error", title="kink: U = |x| (algebraic only)")
    b = np.array(barriers)
    axes[1].semilogy(b[:, 0], b[:, 1], "o-", label="Chebyshev, best of 64..256 points")
    axes[1].semilogy(b[:, 0], b[:, 3], "^-", label="FV Richardson 4000/8000")
    axes[1].semilogy(b[:, 0], 2.2e-16 * np.exp(b[:, 0]) / 10, "k:", label="eps e^{dU/T} / 10")
    axes[1].set(xlabel="dU / T", ylabel="relative error", title="high barriers: round-off floor")
    p = np.array(peclet)
    for j, n in enumerate((32, 64, 128, 256)):
        axes[2].loglog(p[:, 0], p[:, 1 + j], "o-", label=f"Chebyshev {n} (gaps: refused)")
    axes[2].loglog(p[:, 0], p[:, 5], "s-", label="FV 1000 cells")
    axes[2].set(xlabel="Peclet number L|b|/D", ylabel="relative error", title="thin wall layer, high Peclet")
    for ax in axes:
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(FIGURES / "spectral_failures.png", dpi=110)


if __name__ == "__main__":
    main()
