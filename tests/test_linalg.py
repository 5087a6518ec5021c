"""Stationary laws, relaxation rates and solves against closed forms and dense numpy."""

import numpy as np
import pytest
import scipy.sparse as sparse

from fpsolve.linalg import factorize, is_reversible, relaxation_rates, solve
from fpsolve.stationary import stationary_distribution


def birth_death(U, temperature, c=1.0):
    """Rates r(i→i+1) = c e^{-(U_{i+1}-U_i)/2T}, r(i+1→i) = c e^{+(U_{i+1}-U_i)/2T}."""
    dU = np.diff(U)
    up, down = c * np.exp(-dU / (2 * temperature)), c * np.exp(dU / (2 * temperature))
    Q = sparse.diags_array([up, down], offsets=[1, -1]).tocsr()
    return sparse.csr_array(Q - sparse.diags_array(np.asarray(Q.sum(axis=1)).ravel()))


def test_stationary_law_is_boltzmann_across_30_orders_of_magnitude():
    x = np.linspace(-2.2, 2.2, 400)
    U, T = x**4 - x**2, 0.25  # U/T spans 0..75: pi spans ~33 decades
    pi = stationary_distribution(birth_death(U, T))
    exact = np.exp(-(U - U.min()) / T)
    exact /= exact.sum()
    assert exact.min() < 1e-30
    keep = exact > 1e-200
    # detailed balance holds exactly for these rates; the elimination is towards the heaviest
    # cell, so each ratio pi_{i+1}/pi_i carries O(eps) error: ~400 eps accumulated at most.
    np.testing.assert_allclose(pi[keep], exact[keep], rtol=1e-10)


def test_stationary_law_of_random_generator_matches_dense_null_vector():
    rng = np.random.default_rng(4)
    R = rng.random((20, 20))
    np.fill_diagonal(R, 0)
    Q = R - np.diag(R.sum(axis=1))
    w, V = np.linalg.eig(Q.T)
    v = np.real(V[:, np.argmin(np.abs(w))])
    np.testing.assert_allclose(
        stationary_distribution(sparse.csr_array(Q)), v / v.sum(), rtol=1e-12
    )  # a well-conditioned 20x20 problem
    assert not is_reversible(sparse.csr_array(Q))


def test_killing_has_no_stationary_law():
    Q = birth_death(np.zeros(10), 1.0).tolil()
    Q[0, 0] -= 1.0
    with pytest.raises(ValueError, match="^Q:.*no stationary"):
        stationary_distribution(sparse.csr_array(Q))


@pytest.mark.parametrize("reversible", [None, False])
def test_relaxation_rates_of_reflecting_path(reversible):
    N, c = 300, 2.0
    Q = birth_death(np.zeros(N), 1.0, c=c)
    m = np.arange(1, 5)
    exact = 2 * c * (1 - np.cos(np.pi * m / N))  # eigenvalues of the reflecting path, m ≥ 1
    assert reversible is not None or is_reversible(Q)
    # shift-invert Lanczos/Arnoldi converge to ~eps relative to the shift-inverted spectrum
    np.testing.assert_allclose(relaxation_rates(Q, 4, reversible=reversible), exact, rtol=1e-9)


def test_relaxation_rates_of_random_generator_match_dense_eig():
    rng = np.random.default_rng(5)
    R = rng.random((30, 30)) * (rng.random((30, 30)) < 0.3) + np.diag(np.ones(29), 1)
    np.fill_diagonal(R, 0)
    Q = R - np.diag(R.sum(axis=1))
    rates = np.sort(-np.linalg.eigvals(Q).real)[1:4]
    np.testing.assert_allclose(relaxation_rates(sparse.csr_array(Q), 3), rates, rtol=1e-9)
    Q[0, 0] -= 0.5  # killing: the zero eigenvalue disappears
    rates = np.sort(-np.linalg.eigvals(Q).real)[:3]
    np.testing.assert_allclose(relaxation_rates(sparse.csr_array(Q), 3), rates, rtol=1e-9)


def test_mean_exit_time_of_symmetric_walk():
    N, c = 400, 3.0  # states 1..N-1 live, 0 and N absorbing
    Q = birth_death(np.zeros(N + 1), 1.0, c=c)[1:N, 1:N]
    i = np.arange(1, N)
    exact = i * (N - i) / (2 * c)  # tau_i for rate c each way
    tau = solve(Q, -np.ones(N - 1))
    np.testing.assert_allclose(tau, exact, rtol=1e-9)  # cond(Q_sub) ~ N²: 1e-11 here
    np.testing.assert_allclose(factorize(Q)(-np.ones(N - 1)), exact, rtol=1e-9)
    pytest.importorskip("pyamg")
    np.testing.assert_allclose(solve(Q, -np.ones(N - 1), method="amg"), exact, rtol=1e-8)
