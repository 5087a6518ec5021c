"""Evolution far beyond the slowest relaxation time: the numbers of docs/numerics.md, "Time
integrators". Run: python benchmarks/long_times.py  (about 10 s on 2 cores)

1. The tilted 1-D double well U = (x^2 - 1)^2 + 0.1 x at T = 1/24 (slowest rate ~4e-10) and the
   2-D double well at T = 1/12 (gap 1.1e-5), default method: L1 distance of p(t) to the Gibbs
   law integrated over the cells (10-point Gauss-Legendre), and the mass error.
2. Survival on the 1-D double well killed at x > 0: the decay rate between t = 3/lambda and
   10/lambda against the chain's exact slowest rate (tests/test_long_times.py computes it from
   exit times summed without cancellation), and what the Krylov exponential reports.
3. Steps and mass drift of TR-BDF2 / BDF2 to long times.
"""

import sys
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp

import fpsolve as fp
from fpsolve.integrate import integrate

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_long_times import TILTED, gibbs_cell_masses, killed_chain_slow_rate  # noqa: E402


def to_gibbs():
    print("1. default method far beyond the gap: L1 to Gibbs cell masses, mass error")
    for n in (400, 800):
        grid = fp.Grid([(-2.5, 2.5)], [n])
        sol = fp.FokkerPlanck(fp.Langevin(TILTED, 1 / 24), grid).evolve(
            fp.gaussian(grid, mean=-1.0, std=0.1), [0, 1e13, 1e16]
        )
        ref = gibbs_cell_masses(TILTED, 1 / 24, np.linspace(-2.5, 2.5, n + 1))
        l1 = [np.abs(p * grid.cell_volume - ref).sum() for p in sol.p[1:]]
        print(
            f"   1-D T=1/24 n={n}: t=1e13 {l1[0]:.2e}, t=1e16 {l1[1]:.2e}, mass error {np.abs(sol.mass - 1).max():.1e}"
        )
    U = fp.landscapes.double_well_2d()
    for n in (64, 128):
        grid = fp.Grid([(-2.5, 2.5), (-2.0, 2.0)], [n, n])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            fpe = fp.FokkerPlanck(fp.Langevin(U, 1 / 12), grid)
        sol = fpe.evolve(fp.gaussian(grid, mean=(-1.0, 0.0), std=0.2), [0, 1e5, 1e8])
        ref = np.outer(
            gibbs_cell_masses(lambda x: (x**2 - 1) ** 2, 1 / 12, np.linspace(-2.5, 2.5, n + 1)),
            gibbs_cell_masses(lambda y: 2 * y**2, 1 / 12, np.linspace(-2.0, 2.0, n + 1)),
        )
        l1 = np.abs(sol.p[-1] * grid.cell_volume - ref).sum()
        print(
            f"   2-D T=1/12 {n}x{n}: t=1e8 {l1:.2e}, mass error {np.abs(sol.mass - 1).max():.1e}, "
            f"{sol.stats['seconds']:.2f} s"
        )


def survival():
    print("2. survival decay rate vs the chain's exact lambda_1 (killed at x > 0, 400 cells)")
    grid = fp.Grid([(-2.5, 2.5)], [400])
    for temperature in (1 / 12, 1 / 16, 1 / 20, 1 / 24, 1 / 32):
        gen = fp.FokkerPlanck(fp.Langevin(fp.landscapes.double_well(), temperature), grid).generator
        killed = gen.with_absorbing(grid.centers[0] > 0)
        rate = killed_chain_slow_rate(sp.csr_array(killed.sub))
        p0 = killed.restrict(fp.gaussian(grid, mean=-1.0, std=0.1)) * grid.cell_volume
        times = np.array([0, 3, 10]) / rate
        condition = np.finfo(float).eps * 2 * np.abs(killed.forward.diagonal()).max() / rate
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                s = integrate(killed.forward, p0, times, "exponential").y.sum(axis=1)
                err = f"rate error {np.log(s[1] / s[2]) / 7 - 1:+.1e}"
            except RuntimeError:
                err = "refused (RuntimeError)"
        said = [str(w.message).split("about ")[1].split(" ")[0] for w in caught if "only to about" in str(w.message)]
        print(
            f"   T=1/{round(1 / temperature)}: lambda_1 {rate:.2e}, eps|A|/lambda_1 {condition:.1e}, "
            f"{err}" + (f", warned: accurate to ~{said[0]}" if said else "")
        )


def implicit():
    print("3. implicit methods to long times (1-D T=1/24, 400 cells, t = 1e11)")
    grid = fp.Grid([(-2.5, 2.5)], [400])
    A = fp.FokkerPlanck(fp.Langevin(fp.landscapes.double_well(), 1 / 24), grid).generator.forward
    p0 = fp.gaussian(grid, mean=-1.0, std=0.1).ravel() * grid.cell_volume
    for method in ("trbdf2", "bdf2"):
        res = integrate(A, p0, [0, 1e11], method)
        print(f"   {method}: {res.message}, mass error {abs(res.y[-1].sum() - 1):.1e}")


if __name__ == "__main__":
    to_gibbs()
    survival()
    implicit()
