"""Exit-time benchmarks: 1-D and 2-D mean exit times, a 2-D batch-size sweep, PDE vs Monte Carlo.

Run: python benchmarks/bench_exit_times.py   (prints a table; targets from issue 3)
"""

import time
import warnings
from concurrent.futures import ThreadPoolExecutor


import fpsolve as fp
from fpsolve import landscapes
from fpsolve.analysis import basins, mean_exit_time
from fpsolve.studies import batch_size_point, sweep

warnings.filterwarnings("ignore")
U1 = fp.Landscape(lambda x: (x * x - 1) ** 2, lambda x: (4 * x * (x * x - 1),), ndim=1)


def best_of(fn, repeat=5):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main():
    rows = []
    grid = fp.Grid([(-2.5, 0.0)], [10_000])
    model = fp.Langevin(U1, 0.25)
    t1, tau = best_of(lambda: mean_exit_time(model, grid, None, boundary=("reflecting", "absorbing")))
    rows.append(("1-D mean exit time, 1e4 cells", t1, 0.010))

    grid2 = fp.Grid([(-2.5, 2.5), (-2.5, 2.5)], [512, 512])
    model2 = fp.Langevin(landscapes.rotated_double_well(), 0.25)
    t2, _ = best_of(lambda: mean_exit_time(model2, grid2, lambda x, y: x < 0), repeat=2)
    rows.append(("2-D mean exit time, 512^2", t2, 2.0))

    U2 = landscapes.sharp_flat_2d()
    grid3 = fp.Grid([(-2.5, 2.5), (-2.0, 2.0)], [256, 256])
    b = basins(grid3, U2)
    point = lambda batch_size: batch_size_point(
        U2,
        grid3,
        lr=1.0,
        batch_size=batch_size,  # noqa: E731
        noise="isotropic",
        noise_scale=8.0,
        basins=b,
        spectral_gap=False,
    )
    t0 = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        sweep(point, executor=pool, progress=False, batch_size=list(range(1, 17)))
    rows.append(("16-pt B sweep 2-D 256^2 (exit times+occupancy), 2 thr", time.perf_counter() - t0, 20.0))
    with_gap = lambda batch_size: batch_size_point(
        U2,
        grid3,
        lr=1.0,
        batch_size=batch_size,  # noqa: E731
        noise="isotropic",
        noise_scale=8.0,
        basins=b,
    )
    t0 = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        sweep(with_gap, executor=pool, progress=False, batch_size=list(range(1, 17)))
    rows.append(("  the same with the spectral gap, 2 thr", time.perf_counter() - t0, 20.0))

    print(f"{'benchmark':52s} {'seconds':>10s} {'target':>8s} {'ratio':>7s}")
    for name, sec, target in rows:
        print(f"{name:52s} {sec:10.4f} {target:8.3f} {sec / target:7.2f}")

    print("\nPDE vs Monte Carlo at 1 % on U = (x^2-1)^2, start -1, absorbed at 0 (box face)")
    exact = {0.25: 33.9457442877, 0.125: 1749.19088458, 1 / 12: 93559.0, 1 / 16: 5.06064e6}
    # Monte Carlo time to a 1 % mean exit time, from benchmarks/bench_montecarlo.py (fpsolve's
    # parallel Numba Euler-Maruyama with the Brownian-bridge test, 2 cores; see benchmarks/README.md)
    # and, for D = 1/16, the estimate scaled like tau
    mc = {
        0.25: (2.7, "measured, bench_montecarlo"),
        0.125: (71.8, "extrapolated, bench_montecarlo"),
        1 / 12: (4.78e3, "extrapolated, bench_montecarlo"),
        1 / 16: (36 * 3600.0, "extrapolated (issue 3)"),
    }
    print(f"{'D':>8s} {'exact':>14s} {'PDE':>14s} {'rel err':>9s} {'PDE s':>8s} {'MC s':>9s} {'MC/PDE':>9s}  MC source")
    for D, ref in exact.items():
        model = fp.Langevin(U1, D)
        g = fp.Grid([(-2.5, 0.0)], [5000])  # -1 is a face: interpolated, O(h^2)
        sec, tau = best_of(lambda: mean_exit_time(model, g, None, boundary=("reflecting", "absorbing")))
        value = tau(-1.0)
        mc_sec, source = mc[D]
        print(
            f"{D:8.5f} {ref:14.9g} {value:14.9g} {abs(value / ref - 1):9.1e} {sec:8.4f} {mc_sec:9.3g} "
            f"{mc_sec / sec:9.2e}  {source}"
        )
    print(
        "(MC seconds: time to a 1 % standard error at dt = 2e-3 with the bridge test, measured or"
        " extrapolated by benchmarks/bench_montecarlo.py; the D = 1/16 figure is issue 3's estimate.)"
    )


if __name__ == "__main__":
    main()
