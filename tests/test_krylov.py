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


def dense_stationary(A):
    """The null vector of A (= Q^T) from scipy's SVD, normalised: a reference for t -> infinity."""
    null = scipy.linalg.null_space(A.toarray())[:, 0]
    return null / null.sum()


@pytest.mark.parametrize("given", [False, True])
def test_krylov_far_beyond_the_gap_returns_the_stationary_law(given):
    A = random_forward_operator(120, seed=5)
    v = np.random.default_rng(2).random(120)
    pi = dense_stationary(A)
    gap = np.sort(-np.linalg.eigvals(A.toarray()).real)[1]
    times = np.array([0.0, 1e3 / gap, 1e8, 1e12, 1e16])
    got = expm_multiply_krylov(A, v, times, stationary=pi if given else None)
    # exp(tA)v = (1^T v) pi + O(e^{-gap t}); e^{-1000} = 0. The SVD null vector is accurate to
    # ~eps cond ~ 1e-13 relative (rates span 1e-2 .. 1e3); the deflated Krylov carries
    # (1^T v) pi with pi from stationary_distribution (a pinned LU)
    np.testing.assert_allclose(got[1:], np.outer(np.ones(4), v.sum() * pi), rtol=0, atol=1e-11 * v.sum() * pi.max())
    # mass: deflation carries the stationary part exactly; the rest has zero mass to round-off
    assert np.abs(got.sum(axis=1) - v.sum()).max() < 1e-13 * v.sum()


def test_krylov_between_short_and_long_times_matches_dense_expm():
    # times where the undeflated and deflated bands meet (gamma |A| ~ DEFLATE_ABOVE = 1e4)
    A = random_forward_operator(60, seed=11)
    v = np.random.default_rng(4).random(60)
    norm_a = 2 * np.abs(A.diagonal()).max()
    times = np.geomspace(1e2, 1e6, 7) / norm_a
    got = expm_multiply_krylov(A, v, times)
    want = np.array([scipy.linalg.expm(t * A.toarray()) @ v for t in times])
    # dense expm at t|A| <= 1e6: scaling and squaring, accurate to ~eps t|A| ~ 1e-10 relative
    assert np.abs(got - want).max() < 1e-9 * np.linalg.norm(v)


def test_krylov_non_convergence_names_another_method():
    A = random_forward_operator(80, seed=3)
    with pytest.raises(RuntimeError, match="no convergence") as info:
        expm_multiply_krylov(A, np.ones(80), np.geomspace(1e-3, 1e-2, 5), rtol=1e-14, max_dim=8)
    message = str(info.value)
    assert "trbdf2" in message and "'exponential'" not in message
