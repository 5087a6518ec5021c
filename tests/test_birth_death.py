"""1-D exit times at any barrier height: the cancellation-free birth-death solve against the
exact discrete formula evaluated in 50-digit arithmetic (mpmath)."""

import numpy as np
import pytest

import fpsolve as fp
from fpsolve.solvers import _birth_death_kernel, _birth_death_reference

mpmath = pytest.importorskip("mpmath")


def exact_discrete_exit_time(Q, start):
    """tau_i = sum_{j >= i} (sum_{m <= j} pi_m) / (pi_j r_j) for a chain reflecting at cell 0 and
    killed only from the last cell (r_j = rate j -> j+1, or the killing rate for the last cell),
    pi_{j+1} / pi_j = Q[j, j+1] / Q[j+1, j] (detailed balance), in 50-digit arithmetic."""
    mpmath.mp.dps = 50
    dense = Q.toarray()
    n = dense.shape[0]
    up = [mpmath.mpf(dense[j, j + 1]) for j in range(n - 1)]
    down = [mpmath.mpf(dense[j + 1, j]) for j in range(n - 1)]
    kill = -(mpmath.mpf(dense[n - 1, n - 1]) + down[-1])  # the last row's deficit
    pi = [mpmath.mpf(1)]
    for j in range(n - 1):
        pi.append(pi[-1] * up[j] / down[j])
    rates = up + [kill]
    cumulative, total = [], mpmath.mpf(0)
    for j in range(n):
        total += pi[j]
        cumulative.append(total)
    return float(mpmath.fsum(cumulative[j] / (pi[j] * rates[j]) for j in range(start, n)))


@pytest.mark.parametrize("temperature", [0.25, 0.04, 0.02])
def test_exit_time_is_exact_for_the_discrete_chain_at_any_barrier(temperature):
    # dU/T = 4, 25 and 50: a general LU loses all accuracy beyond ~30 (exit times ~1e21 against
    # rates ~1e4); the elimination without cancellation keeps ~n eps relative error
    model = fp.Langevin(fp.landscapes.double_well(), temperature=temperature)
    grid = fp.Grid([(-2.0, 0.0)], [200])
    tau = fp.mean_exit_time(model, grid, None, boundary=("reflecting", "absorbing"))
    Q = fp.FokkerPlanck(model, grid, boundary=("reflecting", "absorbing")).generator.matrix
    start = grid.cell_index(-1.0)[0]
    assert tau.values[start] == pytest.approx(exact_discrete_exit_time(Q, start), rel=1e-11)


def test_birth_death_kernel_matches_its_python_twin():
    rng = np.random.default_rng(3)
    n = 50
    lower, upper = rng.random(n) * 10, rng.random(n) * 10
    lower[0] = upper[-1] = 0.0
    killing = np.zeros(n)
    killing[[0, -1]] = rng.random(2)
    rhs = rng.random(n)
    np.testing.assert_array_equal(
        _birth_death_kernel(lower, upper, killing, rhs), _birth_death_reference(lower, upper, killing, rhs)
    )
    # and it solves the system: (-Q) x = rhs with (-Q)_ii = l_i + u_i + k_i
    x = _birth_death_kernel(lower, upper, killing, rhs)
    residual = (lower + upper + killing) * x - upper * np.append(x[1:], 0) - lower * np.insert(x[:-1], 0, 0)
    assert np.abs(residual - rhs).max() < 1e-12 * np.abs(rhs).max() * 100
