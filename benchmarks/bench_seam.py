"""Before/after timings of the seam redesign: run under two versions of fpsolve, e.g.

    PYTHONPATH=/path/to/old/checkout python benchmarks/bench_seam.py   # before
    python benchmarks/bench_seam.py                                     # after

Measured 2026-12-03 on 2 cores (6cf9b9d -> the seam): see the closing note of issue 7 and
benchmarks/README.md.
"""

import time
import warnings

import numpy as np
import fpsolve as fp

warnings.simplefilter("ignore")


def best(f, repeat=5):
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        out.append(time.perf_counter() - t)
    return min(out)


U1 = fp.landscapes.double_well()
g1 = fp.Grid([(-2.5, 2.5)], [10000])
m1 = fp.Langevin(U1, 0.25)
U2 = fp.Landscape(lambda x, y: (x**2 - 1) ** 2 + 2 * y**2, grad=lambda x, y: np.stack([4 * x * (x * x - 1), 4 * y]))
g2 = fp.Grid([(-2.5, 2.5), (-1.5, 1.5)], [512, 512])
g3 = fp.Grid([(-2.5, 2.5), (-1.5, 1.5)], [200, 200])
m2 = fp.Langevin(U2, 0.25)
fp.mean_exit_time(m1, g1, lambda x: x < 0)
rows = [
    ("1-D mean exit time, 1e4 cells", lambda: fp.mean_exit_time(m1, g1, lambda x: x < 0), 7),
    (
        "1-D evolve to t = 1, 5 (1e4 cells)",
        lambda: fp.FokkerPlanck(m1, g1).evolve(fp.gaussian(g1, mean=-1, std=0.1), [0, 1, 5]),
        5,
    ),
    (
        "2-D evolve 200^2 to t = 2",
        lambda: fp.FokkerPlanck(m2, g3).evolve(fp.gaussian(g3, mean=(-1, 0), std=0.1), [0, 1, 2]),
        3,
    ),
    ("2-D mean exit time 512^2", lambda: fp.mean_exit_time(m2, g2, lambda x, y: x < 0), 3),
    ("2-D stationary 512^2", lambda: fp.FokkerPlanck(m2, g2).stationary(), 3),
    ("2-D relaxation rate 200^2", lambda: fp.FokkerPlanck(m2, g3).relaxation_rates(1), 3),
]
for name, f, r in rows:
    print(f"{name:40s} {best(f, r):8.4f} s")
