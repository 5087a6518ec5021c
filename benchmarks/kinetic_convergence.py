"""Grid convergence of the kinetic scheme: mean exit time of underdamped Langevin dynamics.

U = (x^2 - 1)^2, UnderdampedLangevin(friction=1, temperature=0.25), start (-1, 0), absorbed at
theta = 0 (an absorbing theta face; theta in (-2.2, 0) with a specular wall at -2.2, v in (-3, 3)
= 6 thermal widths). Prints, per refinement (n_theta, n_v = 2 n_theta), the mean exit time of
the default second-order transport ("kinetic", kappa = -1) and of first-order upwind
("kinetic-upwind"), the observed orders from successive differences, and the Richardson
extrapolation of the finest three second-order values with its error estimate.

Also shows why kappa = 1/3 is not used: its stencil reads the cell downstream of the exit, which
is empty, and its exit times turn negative next to the exit (refused by the backward solve).

Run:  python benchmarks/kinetic_convergence.py            (about 1 minute on 2 cores)
      python benchmarks/kinetic_convergence.py --quick    (without the finest grid)
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np

import fpsolve as fp
from fpsolve.discretize import kinetic_fluxes
from fpsolve.discretize.kinetic import Kinetic

FRICTION, TEMPERATURE, START = 1.0, 0.25, (-1.0, 0.0)
BOUNDARY = {"theta": ("reflecting", "absorbing")}


def exit_time(n_theta: int, discretization: str = "kinetic") -> float:
    model = fp.UnderdampedLangevin(fp.landscapes.double_well(), friction=FRICTION, temperature=TEMPERATURE)
    grid = fp.phase_space_grid(theta=(-2.2, 0.0), v=(-3.0, 3.0), cells=(n_theta, 2 * n_theta))
    fpe = fp.FokkerPlanck(model, grid, boundary=BOUNDARY, discretization=discretization)
    return float(fp.mean_exit_time(fpe, domain=None)(*START))


class _KappaThird(Kinetic):
    """kappa = 1/3 transport, for the comparison only (registered under a private name)."""

    name = "_kinetic-kappa-third"
    transport = "_kappa-third"


def richardson(coarse: float, middle: float, fine: float) -> tuple:
    """(extrapolated value, observed order, error estimate) from three grids refined by 2."""
    order = np.log2(abs(middle - coarse) / abs(fine - middle))
    value = fine + (fine - middle) / (2.0**order - 1.0)
    second_order = fine + (fine - middle) / 3.0
    return value, order, max(abs(value - second_order), abs(value - fine) / 3.0)


def main(quick: bool = False) -> None:
    sizes = [20, 40, 80, 160, 320] + ([] if quick else [640])
    print(f"mean exit time from {START} to theta = 0, U = (x^2-1)^2, gamma = {FRICTION}, T = {TEMPERATURE}")
    print(f"{'n_theta x n_v':>14} {'second order':>13} {'order':>6} {'upwind':>9} {'order':>6} {'seconds':>8}")
    second, upwind = [], []
    for n in sizes:
        begin = time.perf_counter()
        second.append(exit_time(n))
        upwind.append(exit_time(n, "kinetic-upwind"))
        orders = ["", ""]
        if len(second) >= 3:
            orders = [f"{np.log2(abs(s[-2] - s[-3]) / abs(s[-1] - s[-2])):.2f}" for s in (second, upwind)]
        print(
            f"{n:>6} x {2 * n:<5} {second[-1]:13.4f} {orders[0]:>6} {upwind[-1]:9.3f} {orders[1]:>6} "
            f"{time.perf_counter() - begin:8.2f}"
        )
    value, order, error = richardson(*second[-3:])
    print(f"Richardson (finest three, observed order {order:.2f}): tau = {value:.3f} +- {error:.3f}")

    kinetic_fluxes.TRANSPORT_WEIGHTS["_kappa-third"] = kinetic_fluxes.transport_weights(1.0 / 3.0)
    model = fp.UnderdampedLangevin(fp.landscapes.double_well(), friction=FRICTION, temperature=TEMPERATURE)
    for n in (40, 80):
        grid = fp.phase_space_grid(theta=(-2.2, 0.0), v=(-3.0, 3.0), cells=(n, 2 * n))
        fpe = fp.FokkerPlanck(model, grid, boundary=BOUNDARY, discretization=_KappaThird.name)
        killed = fpe.generator
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tau = killed.solve(-np.ones(killed.n_live))
        print(
            f"kappa = 1/3 on {n} x {2 * n}: exit times range {tau.min():.3g} .. {tau.max():.4g} "
            "(negative next to the exit: the stencil reads the empty downstream cell)"
        )


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
