"""Shift-and-invert Krylov exp(tA)v against scipy.linalg.expm (dense, independent)."""

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse as sp

from fpsolve.integrate import integrate
from fpsolve.krylov import expm_multiply_krylov


def random_forward_operator(n, seed, killing=0.0):
    """A = Q^T for a random sparse generator (nearest-neighbour chain plus random long jumps)."""
    rng = np.random.default_rng(seed)
    rates = sp.random(n, n, density=0.05, random_state=rng, data_rvs=lambda k: rng.exponential(1.0, k)).tolil()
    for i in range(n - 1):  # keep it irreducible and stiff: fast and slow neighbours
        rates[i, i + 1] = 10 ** rng.uniform(-2, 3)
        rates[i + 1, i] = 10 ** rng.uniform(-2, 3)
    rates.setdiag(0)
    q = sp.csr_matrix(rates)
    q = q - sp.diags(np.asarray(q.sum(axis=1)).ravel() + killing * (np.arange(n) == 0))
    return sp.csr_matrix(q.T)


@pytest.mark.parametrize("killing", [0.0, 5.0])
def test_krylov_matches_dense_expm_over_five_decades_of_time(killing):
    A = random_forward_operator(80, seed=3, killing=killing)
    v = np.random.default_rng(0).random(80)
    times = np.concatenate([[0.0], np.geomspace(1e-3, 1e2, 16)])
    got = expm_multiply_krylov(A, v, times, rtol=1e-12)
    dense = A.toarray()
    want = np.array([scipy.linalg.expm(t * dense) @ v for t in times])
    # the dimension grows until successive approximations agree to rtol |v|; the dense expm is
    # accurate to ~1e-13 relative on this matrix (norm ~1e3), so 1e-10 |v| is a safe bound
    assert np.abs(got - want).max() < 1e-10 * np.linalg.norm(v)


def test_krylov_method_of_integrate_conserves_mass_of_a_closed_chain():
    A = random_forward_operator(200, seed=7)
    p0 = np.zeros(200)
    p0[0] = 1.0
    result = integrate(A, p0, np.linspace(0, 50, 11), method="exponential")
    # column sums of A vanish, so exp(tA) conserves the sum exactly; Krylov to ~rtol (1e-10)
    assert np.abs(result.y.sum(axis=1) - 1).max() < 1e-9


def test_krylov_rejects_negative_times():
    with pytest.raises(ValueError, match="times"):
        expm_multiply_krylov(random_forward_operator(10, 0), np.ones(10), [-1.0, 1.0])
