"""Stationary laws of metastable non-reversible chains: accuracy and balance errors (issue 8).

Run: python benchmarks/stationary_guarantee.py            (about a minute on 2 cores)

For SGD with Hessian noise on the issue's tilted double well (tests/test_stationary.py), prints
for each chain: the left-basin share from fpsolve's stationary law (GTH elimination) and from
sparse LU with iterative refinement (the old method), the balance errors of both (largest over
cells and over the cuts across either grid axis, fpsolve.balance), the time of ``stationary_distribution``, and a reference:
250-digit Gaussian elimination on small chains (largest relative error of GTH over cells above
1e-200 of the maximum), or the two-state share from mean exit times (scipy LU) on the large one.
"""

import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
warnings.simplefilter("ignore")

import test_stationary as chains  # noqa: E402
from fpsolve import stationary as stationary_module  # noqa: E402
from fpsolve.balance import balance_errors  # noqa: E402
from fpsolve.gth import axis_orderings  # noqa: E402

CASES = [
    ((22, 16), 32, "digits"),
    ((33, 24), 32, "digits"),
    ((44, 32), 16, "digits"),
    ((220, 160), 4, "exit times"),
    ((220, 160), 8, None),
]


def main():
    print(
        f"{'cells':>10} {'B':>3} {'GTH left':>12} {'LU left':>12} {'GTH balance':>30} "
        f"{'LU balance':>28} {'seconds':>8}  reference"
    )
    for cells, batch_size, reference in CASES:
        fpe = chains.sgd_problem(cells, batch_size)
        Q = stationary_module.markov_rates(fpe.generator.matrix)
        begin = time.perf_counter()
        pi = stationary_module.stationary_distribution(fpe.generator.matrix)
        seconds = time.perf_counter() - begin
        lu = stationary_module._refined_lu_law(Q)
        slabs = axis_orderings(Q)
        left = np.repeat(fpe.grid.centers[0] < 0, cells[1])
        note = ""
        if reference == "digits":
            exact = chains.exact_law(cells, batch_size)
            judged = exact > 1e-200 * exact.max()
            note = f"250 digits: max rel. error {np.max(np.abs(pi[judged] / exact[judged] - 1)):.1e}"
        elif reference == "exit times":
            note = f"two-state share {chains.two_state_left_share(fpe):.7f}"
        print(
            f"{str(cells):>10} {batch_size:>3} {pi[left].sum():>12.6g} {lu[left].sum() / lu.sum():>12.3g} "
            f"{balance_errors(Q, pi, slabs)!r:>30} {balance_errors(Q, lu, slabs)!r:>28} {seconds:>8.2f}  {note}"
        )


if __name__ == "__main__":
    main()
