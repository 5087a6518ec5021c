"""Locally elastic SDEs (Zhang, Wang & Su 2021, arXiv 2110.05960) against independent references:
dense eigen-decompositions and matrix exponentials of the drift, the closed-form OU law of the
separating mode, seeded Monte Carlo with confidence intervals, and the Fokker-Planck solve."""

import numpy as np
import pytest
from scipy.linalg import expm
from scipy.special import ndtr

import fpsolve as fp
from fpsolve.papers import (
    LocallyElasticSDE,
    collapse_ratio,
    corrupted_impacts,
    gaussian_law,
    mode_growth,
    separability_probability,
    separating_direction,
    separating_mode_law,
    separation_problem,
    simplex_alignment,
)

Z99 = 2.5758  # two-sided 99 % normal quantile


def simplex_start(K, margin):
    """Class-mean features X_k = c u_k with separating coordinate s = margin."""
    return margin * K * separating_direction(K)


@pytest.mark.parametrize("K, alpha, beta", [(2, 1.5, 0.5), (3, 2.0, 1.0), (4, 0.5, 1.5)])
def test_mode_growth_rates_are_the_drift_eigenvalues(K, alpha, beta):
    # the dense spectrum of M = (alpha M_intra + beta M_inter)/K, computed by numpy on the K^2 matrix:
    # the separating mode X_k = u_k has eigenvalue (alpha - beta)/K, the margins' differences
    # (alpha + beta/(K-1))/K, the directions orthogonal to the u's 0
    model = LocallyElasticSDE(K, alpha, beta, 0.3)
    M = model.drift_matrix()
    v = simplex_start(K, 1.0)
    rates = mode_growth(model, 1.0)["rates"]
    assert M @ v == pytest.approx(rates[0] * v, abs=1e-13)
    eig = np.sort(np.linalg.eigvals(M).real)
    expected = np.sort([rates[0]] + [rates[1]] * (K - 1) + [0.0] * (K * K - K))
    assert eig == pytest.approx(expected, abs=1e-12)
    # and e^{M t} grows the separating mode by exp((A - B)/K) at t = 2.5
    growth = mode_growth(model, 2.5)
    assert expm(2.5 * M) @ v == pytest.approx(growth["separating"] * v, rel=1e-12)


def test_time_dependent_impacts_grow_the_mode_by_integrated_impacts():
    # alpha(t) = 1 + sin t, beta = 0.5 t: A(2) = 3 - cos 2, B(2) = 1; the mean ODE (DOP853, rtol 1e-11)
    # must reproduce exp((A - B)/K) on the separating mode to ~1e-9
    model = LocallyElasticSDE(3, lambda t: 1 + np.sin(t), lambda t: 0.5 * t, 0.2)
    v = simplex_start(3, 0.7)
    mean, _ = gaussian_law(model, 2.0, v)
    assert mean == pytest.approx(np.exp((3 - np.cos(2.0) - 1.0) / 3) * v, rel=1e-9)
    _, var_s = separating_mode_law(model, 2.0, 0.7)
    w = separating_direction(3)
    _, C = gaussian_law(model, 2.0, v)
    assert var_s == pytest.approx(w @ C @ w, rel=1e-8)  # quadrature (1e-10) against the covariance ODE


@pytest.mark.slow
def test_gaussian_law_matches_seeded_monte_carlo():
    # the exact-transition kernel samples the law without time error; 99 % intervals for the mean
    # and variance of s and one off-separating coordinate (n = 4000 paths: intervals of ~4 % / ~6 %)
    model = LocallyElasticSDE(3, 2.0, 1.0, 0.5)
    x0 = simplex_start(3, 0.3)
    n = 4000
    samples = fp.montecarlo.simulator(model, dt=0.25, seed=7).sample(x0, n, times=[2.0]).x[-1]
    mean, C = gaussian_law(model, 2.0, x0)
    for w in (separating_direction(3), np.eye(9)[4]):
        values = samples @ w
        m, var = w @ mean, w @ C @ w
        assert abs(values.mean() - m) < Z99 * np.sqrt(var / n)
        # the sample variance of a Gaussian has relative standard error sqrt(2/(n-1))
        assert abs(values.var(ddof=1) / var - 1) < Z99 * np.sqrt(2 / (n - 1))


def test_time_dependent_kernel_matches_the_moment_odes():
    # alpha(t) = 2 + sin t: the kernel freezes M at each step's midpoint (second order, dt = 0.05:
    # ~1e-4 relative), far inside the 99 % interval of 4000 paths (~4 %)
    model = LocallyElasticSDE(3, lambda t: 2 + np.sin(t), 1.0, 0.5)
    x0 = simplex_start(3, 0.3)
    n = 4000
    values = fp.montecarlo.simulator(model, dt=0.05, seed=9).sample(x0, n, times=[2.0]).x[-1] @ separating_direction(3)
    mean, C = gaussian_law(model, 2.0, x0)
    w = separating_direction(3)
    assert abs(values.mean() - w @ mean) < Z99 * np.sqrt(w @ C @ w / n)
    assert abs(values.var(ddof=1) / (w @ C @ w) - 1) < Z99 * np.sqrt(2 / (n - 1))


def test_fokker_planck_of_the_separating_mode_matches_the_exact_law():
    # fitted finite volumes, h = 0.01, second order: mean and variance to ~1e-4 relative; 2e-3 leaves
    # room for the cell-integrated start (std 0.02, included in the exact law)
    model = LocallyElasticSDE(3, 2.0, 1.0, 0.5)
    problem = separation_problem(model, (-6.0, 6.0), 1200)
    grid = problem.grid
    sol = problem.evolve(fp.gaussian(grid, mean=0.3, std=0.02), [0.0, 2.0])
    x, p = grid.centers[0], sol.p[-1]
    mean, var = separating_mode_law(model, 2.0, 0.3, 0.02**2)
    m = grid.integrate(p * x)
    assert m == pytest.approx(mean, rel=2e-3)
    assert grid.integrate(p * (x - m) ** 2) == pytest.approx(var, rel=2e-3)
    assert grid.integrate(p * (x > 0)) == pytest.approx(separability_probability(model, 2.0, 0.3, 0.02**2), abs=2e-3)


def test_separability_transition_is_at_alpha_equal_beta_and_sharpens_with_time():
    # closed forms: P -> Phi(s0 sqrt(2 (alpha - beta)) / sigma) for alpha > beta, -> 1/2 otherwise
    K, s0, sigma = 3, 0.3, 0.5

    def prob(gap, T):
        return separability_probability(LocallyElasticSDE(K, 1.0 + gap, 1.0, sigma), T, s0)

    # alpha < beta: the initial margin is forgotten, e^{-0.1 T} s0 / sd -> 0
    assert prob(-0.3, 10.0) > prob(-0.3, 100.0) > 0.5
    assert prob(-0.3, 1000.0) == pytest.approx(0.5, abs=1e-12)
    assert prob(0.3, 1000.0) == pytest.approx(ndtr(s0 * np.sqrt(2 * 0.3) / sigma), rel=1e-12)
    # the slope at alpha = beta grows with T (like sqrt(T)): the transition sharpens
    slopes = [(prob(1e-3, T) - prob(-1e-3, T)) / 2e-3 for T in (10.0, 100.0, 1000.0)]
    assert slopes[0] < slopes[1] < slopes[2]
    # near alpha = beta, z = s0 sqrt(K/T)/sigma (1 + lambda T/2): the slope in alpha - beta grows like
    # sqrt(T); measured ratio 3.163 against sqrt(10) = 3.162 (the 5 % allows the O(1/sqrt(T)) term)
    assert slopes[2] / slopes[1] == pytest.approx(np.sqrt(10), rel=0.05)


def test_label_corruption_threshold_is_k_minus_one_over_k():
    for K in (2, 3, 10):
        a, b = corrupted_impacts(2.0, 0.5, (K - 1) / K, K)
        assert a == pytest.approx(b, abs=1e-14)
        a, b = corrupted_impacts(2.0, 0.5, 0.5 * (K - 1) / K, K)
        assert a - b == pytest.approx(1.5 * 0.5, rel=1e-14)  # (alpha - beta)(1 - K p/(K-1))
    with pytest.raises(ValueError, match="corruption"):
        corrupted_impacts(2.0, 0.5, 1.5, 3)


def test_neural_collapse_ratio_against_monte_carlo_and_its_decay():
    # within-class spread grows like t, the between-class spread like e^{2 (alpha + beta/(K-1)) t / K}:
    # the ratio falls once the modes take over. Monte Carlo of the class means (n = 4000): 99 % interval
    model = LocallyElasticSDE(3, 2.0, 1.0, 0.5)
    x0 = simplex_start(3, 0.3)
    ratios = collapse_ratio(model, [1.0, 4.0, 8.0], x0, within_noise=0.5)
    assert ratios[2] < ratios[1] < ratios[0]
    n = 4000
    X = fp.montecarlo.simulator(model, dt=0.5, seed=3).sample(x0, n, times=[4.0]).x[-1].reshape(n, 3, 3)
    between = ((X - X.mean(axis=1, keepdims=True)) ** 2).sum(axis=2).mean(axis=1)
    expected = 3 * 0.25 * 4.0 / ratios[1]
    assert abs(between.mean() - expected) < Z99 * between.std(ddof=1) / np.sqrt(n)


def test_simplex_share_decays_at_the_gap_between_the_mode_rates():
    # the margins' differences outgrow the separating mode by beta/(K-1) per unit time, so its share of
    # the between-class spread falls like exp(-2 beta t/(K-1)) once both are exponential (t >> K/alpha);
    # with beta < 0 the simplex mode is the fastest and its share tends to 1
    x0 = simplex_start(3, 0.3)
    share = simplex_alignment(LocallyElasticSDE(3, 2.0, 1.0, 0.15), [16.0, 32.0], x0)
    assert np.log(share[1] / share[0]) == pytest.approx(-2 * 1.0 / 2 * 16.0, rel=1e-3)
    assert simplex_alignment(LocallyElasticSDE(3, 2.0, -0.5, 0.15), [32.0], x0)[0] == pytest.approx(1.0, abs=1e-6)


def test_bad_input_is_refused_with_the_argument_named():
    with pytest.raises(ValueError, match="n_classes"):
        LocallyElasticSDE(1, 1.0, 0.0, 0.5)
    with pytest.raises(ValueError, match="noise"):
        LocallyElasticSDE(3, 1.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="s0"):
        separability_probability(LocallyElasticSDE(3, 1.0, 0.0, 0.5), 1.0, 0.0)
    with pytest.raises(ValueError, match="overflows"):  # e^{(2 + 1/2) 1e4 / 3} is beyond double precision
        gaussian_law(LocallyElasticSDE(3, 2.0, 1.0, 0.5), 1e4, simplex_start(3, 0.3))
    with pytest.raises(ValueError, match="overflows"):
        separating_mode_law(LocallyElasticSDE(3, 2.0, 1.0, 0.5), 1e4, 0.3)
    # the probability itself stays finite at such times: the long-time limit, not NaN
    assert separability_probability(LocallyElasticSDE(3, 2.0, 1.0, 0.5), 1e4, 0.3) == pytest.approx(
        ndtr(0.3 * np.sqrt(2.0) / 0.5), rel=1e-12
    )
    with pytest.raises(ValueError, match="constant impacts"):
        separation_problem(LocallyElasticSDE(3, lambda t: t, 0.0, 0.5), (-1, 1), 10)
