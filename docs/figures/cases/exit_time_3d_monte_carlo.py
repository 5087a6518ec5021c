"""Seeded Monte Carlo reference for cases/exit_time_3d.toml: the mean exit time from each minimum
through x = 0 at one batch size, with a 99 % interval (docs/scale.md, "A three-parameter case").

    python docs/figures/cases/exit_time_3d_monte_carlo.py [BATCH_SIZE] [PATHS] [DT]

Euler-Maruyama paths of SGD with Hessian noise (the case's landscape with derivatives by hand,
fpsolve.cases.reduction_3d.case_landscape, so numba compiles drift and |H|^(1/2)), reflecting at
the case's box, exits by the exact Brownian-bridge test at the plane. Prints mean, 99 % half-width
and the time-step bias check (the same seed at 2 dt).
"""

import math
import sys
import time

import numpy as np

import fpsolve as fp
from fpsolve import montecarlo
from fpsolve.cases.reduction_3d import case_landscape

batch_size = float(sys.argv[1]) if len(sys.argv) > 1 else 16.0
paths = int(sys.argv[2]) if len(sys.argv) > 2 else 8000
dt = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-3
case = fp.cases.load("exit_time_3d")
model = fp.SGD(case_landscape(), lr=0.5, batch_size=batch_size, noise="hessian", hessian_floor=30.0)
box = case.grid.bounds
for name, start, normal in (("sharp", (-1.0, 0.0, 0.0), 1.0), ("flat", (1.0, 0.0, 0.0), -1.0)):
    for step in (dt, 2 * dt):
        begin = time.perf_counter()
        sim = montecarlo.simulator(model, dt=step, seed=2026, bounds=box)
        exits = sim.exit_times(start, paths, domain=montecarlo.HalfSpace((normal, 0.0, 0.0), 0.0), t_max=1e4)
        t = np.asarray(exits.times)
        half = 2.576 * t.std(ddof=1) / math.sqrt(paths)
        print(
            f"B = {batch_size:g}, {name}, dt = {step:g}: tau = {t.mean():.4f} +- {half:.4f} (99 %), "
            f"{int(np.sum(exits.censored))} censored, {time.perf_counter() - begin:.1f} s"
        )
