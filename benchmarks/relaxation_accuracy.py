"""Relative accuracy of fpsolve's relaxation rates against the chain's own rates in mpmath.

    python benchmarks/relaxation_accuracy.py            (about 1 minute on 2 cores)

The reference is the Sturm-count bisection of tests/test_relaxation_rates.py (the float rates
taken as exact, 50-700 digits; no fpsolve solver). Prints, per problem, the slowest rate, its
ratio to the fastest rate max|Q_ii|, the relative error, and for non-reversible chains fpsolve's
a-posteriori estimate and whether the public function returns the rate or refuses it.
The numbers are quoted in docs/numerics.md ("Relaxation rates: accuracy").
"""

import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sparse

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import fpsolve as fp  # noqa: E402
from fpsolve.linalg import _general_rates, killing_rates, relaxation_rates  # noqa: E402
from tests.test_relaxation_rates import (
    chain_parts,
    double_well_generator,  # noqa: E402
    eigenvalue_by_bisection,
    nonreversible_double_well,
)

warnings.simplefilter("ignore")  # coarse-grid Peclet warnings: the float chain is the subject


def birth_death_table():
    print("1-D double well on [-3, 3] (birth-death: bidiagonal singular values)")
    print(f"{'T':>7} {'cells':>6} {'gap/max|Q_ii|':>14} {'rel. error':>11} {'seconds':>8}")
    for temperature, cells, digits in [
        (1 / 16, 8000, 50),
        (1 / 20, 8000, 50),
        (1 / 20, 2000, 50),
        (1 / 40, 2000, 50),
        (1 / 300, 1000, 200),
    ]:
        gen = double_well_generator(temperature, cells)
        begin = time.perf_counter()
        rate = gen.relaxation_rates(1)[0]
        seconds = time.perf_counter() - begin
        exact = eigenvalue_by_bisection(*chain_parts(gen.matrix), np.zeros(cells), 1, rate, digits)
        print(
            f"1/{1 / temperature:<5.0f} {cells:>6} {rate / gen.fastest_rate:>14.1e} "
            f"{abs(rate - exact) / exact:>11.1e} {seconds:>8.3f}"
        )


def separable_2d_table():
    print("2-D U = (x^2-1)^2 + y^2 on [-2,2]x[-1.5,1.5] (reversible: Lanczos + Dirichlet-form Ritz)")
    print(f"{'T':>7} {'cells':>8} {'gap/max|Q_ii|':>14} {'rel. error':>11} {'seconds':>8}")
    for temperature, nx, ny in [(1 / 20, 160, 30), (1 / 30, 200, 30), (1 / 30, 400, 60)]:
        model = fp.Langevin(fp.Landscape(lambda x, y: (x**2 - 1) ** 2 + y**2), temperature=temperature)
        gen = fp.FokkerPlanck(model, fp.Grid([(-2.0, 2.0), (-1.5, 1.5)], [nx, ny])).generator
        begin = time.perf_counter()
        rate = gen.relaxation_rates(1)[0]
        seconds = time.perf_counter() - begin
        rows = np.arange(nx) * ny
        x_chain = sparse.csr_array(gen.matrix)[rows][:, rows]
        exact = eigenvalue_by_bisection(*chain_parts(x_chain), np.zeros(nx), 1, rate)
        print(
            f"1/{1 / temperature:<5.0f} {nx:>4}x{ny:<3} {rate / gen.fastest_rate:>14.1e} "
            f"{abs(rate - exact) / exact:>11.1e} {seconds:>8.3f}"
        )


def nonreversible_table():
    print("1-D double well (200 cells on [-2.5, 2.5]) (+) drifting 8-ring (non-reversible: Arnoldi)")
    print(f"{'T':>7} {'rel. error':>11} {'estimate':>9} {'public result':>14}")
    for temperature in (1 / 4, 1 / 8, 1 / 12, 1 / 16, 1 / 20):
        Q, exact = nonreversible_double_well(temperature)
        rate, error = _general_rates(Q, 1, killing_rates(Q), True)
        try:
            relaxation_rates(Q, 1)
            verdict = "returned"
        except RuntimeError:
            verdict = "refused"
        print(
            f"1/{1 / temperature:<5.0f} {abs(rate[0] - exact) / exact:>11.1e} {error[0] / rate[0]:>9.1e} {verdict:>14}"
        )


if __name__ == "__main__":
    birth_death_table()
    separable_2d_table()
    nonreversible_table()
