"""Deep-ResNet depth limits (Cohen, Cont, Rossier & Xu 2021, arXiv 2105.12245) against independent
references: the closed moment ODE of the SDE limit, nested Gauss-Hermite quadrature of the finite-depth
network, the exact second-moment recursion of the linear network, a DOP853 neural ODE, and seeded
Monte Carlo with confidence intervals."""

import numpy as np
import pytest

from fpsolve.papers import (
    ResNetSDELimit,
    depth_sweep,
    neural_ode_limit,
    resnet_outputs,
    scaling_exponent,
    second_moment_ode,
)

Z99 = 2.5758  # two-sided 99 % normal quantile
ITO_PREDICTION = 1.25 * np.e - 0.25  # E H(1)^2, tanh, h0 = 1, var_A = 1, var_b = 0.25


def tanh_second_moment_by_quadrature(depth, h0=1.0, var_A=1.0, var_b=0.25, nodes=60):
    """E h_L^2 of the tanh network with i.i.d. weights: given h_k, A_k h_k + b_k ~ N(0, (var_A h_k^2 +
    var_b)/L), so L nested Gauss-Hermite rules integrate it (60 nodes: converged to ~5e-6)."""
    x, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / w.sum()
    h, p = np.array([h0]), np.array([1.0])
    for _ in range(depth):
        sd = np.sqrt((var_A * h**2 + var_b) / depth)
        h = (h[:, None] + np.tanh(sd[:, None] * x[None, :])).ravel()
        p = (p[:, None] * w[None, :]).ravel()
    return float(p @ h**2)


def test_closed_moment_ode_is_the_ito_prediction():
    assert second_moment_ode(1.0, 1.0) == pytest.approx(ITO_PREDICTION, rel=1e-15)
    assert ITO_PREDICTION == pytest.approx(3.1479, abs=1e-4)
    with pytest.raises(ValueError, match="sigma''"):
        second_moment_ode(1.0, 1.0, sigma="softplus")


def test_fokker_planck_second_moment_of_the_sdelimit_1d():
    # the FP law of dH = H dW^A + dW^b (D(h) = (h^2 + 0.25)/2): box +-200, h = 0.05. Measured
    # relative errors +2.9e-4 (h = 0.05) and +2e-5 (h = 0.025); the wall at 200 moves E H^2 by 4e-5
    # (box +-300 at the same h). Tolerance 1e-3 relative: three times the measured error.
    limit = ResNetSDELimit("tanh", 1.0, 0.25, dim=1)
    value = limit.second_moment(1.0, 1.0, [(-200.0, 200.0)], 8000, start_std=0.02)
    assert value == pytest.approx(second_moment_ode(1.0, 1.0, start_variance=0.02**2), rel=1e-3)


def test_fokker_planck_second_moment_of_the_sdelimit_2d():
    # 2-D hidden state, isotropic state-dependent diffusion (var_A |h|^2 + var_b)/2: E|H(1)|^2 =
    # (|h0|^2 + var_b/var_A) e^{2 var_A} - var_b/var_A. var_A = 0.25 keeps the tails inside +-8.
    # Measured relative errors 1.2e-3 (60^2 cells) and 1.0e-3 (120^2): the box, not the grid, sets
    # them; tolerance 5e-3
    limit = ResNetSDELimit("tanh", 0.25, 0.25, dim=2)
    value = limit.second_moment([1.0, 0.0], 1.0, [(-8.0, 8.0), (-8.0, 8.0)], [120, 120], start_std=0.1)
    exact = second_moment_ode([1.0, 0.0], 1.0, var_A=0.25, var_b=0.25, start_variance=2 * 0.1**2)
    assert value == pytest.approx(exact, rel=5e-3)


@pytest.mark.parametrize("depth", [2, 3])
def test_finite_depth_monte_carlo_within_interval_of_quadrature(depth):
    n = 40000
    h = resnet_outputs(depth, n, [1.0], "tanh", seed=11)[:, 0]
    reference = tanh_second_moment_by_quadrature(depth)
    assert abs(np.mean(h**2) - reference) < Z99 * np.std(h**2, ddof=1) / np.sqrt(n)


def test_linear_network_monte_carlo_within_interval_of_exact_recursion():
    # identity activation: E h_{k+1}^2 = E h_k^2 + (var_A E h_k^2 + var_b)/L exactly, so
    # E h_L^2 = (1 + 0.25)(1 + 1/L)^L - 0.25; it tends to the Ito value at rate 1/L
    n = 40000
    rows = depth_sweep([3, 10, 100], n, [1.0], "identity", seed=5)
    for L, m, se in zip(rows["depth"], rows["second_moment"], rows["second_moment_se"]):
        assert abs(m - (1.25 * (1 + 1 / L) ** L - 0.25)) < Z99 * se
    gaps = [ITO_PREDICTION - (1.25 * (1 + 1 / L) ** L - 0.25) for L in (100, 1000, 10000)]
    assert scaling_exponent([100, 1000, 10000], gaps) == pytest.approx(-1.0, abs=0.01)


def test_tanh_network_approaches_the_sde_limit():
    # at L = 300 the tanh network's E h_L^2 is below the limit by its saturation bias (tanh^2 z < z^2;
    # measured 0.24 +- 0.10 with 10^5 networks, docs/papers.md): within the 99 % CI + 0.35 of
    # 1.25e - 0.25, and above L = 10
    n = 20000
    rows = depth_sweep([10, 300], n, [1.0], "tanh", seed=2)
    m10, m300 = rows["second_moment"]
    assert abs(m300 - ITO_PREDICTION) < Z99 * rows["second_moment_se"][1] + 0.35
    assert m10 < m300


def test_smooth_weights_converge_to_the_neural_ode_at_rate_one():
    Abar = lambda s: np.array([[np.cos(3 * s), 0.5], [-0.5, np.sin(2 * s)]])
    bbar = lambda s: np.array([1.0 - s, 0.3])
    H1 = neural_ode_limit([1.0, -0.5], "tanh", Abar, bbar)
    errors = [
        np.linalg.norm(resnet_outputs(L, 1, [1.0, -0.5], "tanh", "smooth", smooth_A=Abar, smooth_b=bbar)[0] - H1)
        for L in (50, 100, 200, 400)
    ]
    # Euler-like layer map plus the O(L^-2) per layer of tanh's cubic term: first order
    assert scaling_exponent([50, 100, 200, 400], errors) == pytest.approx(-1.0, abs=0.05)


@pytest.mark.parametrize("weights, beta, expected", [("iid", 0.75, -0.5), ("iid", 1.0, -1.0), ("smooth", 1.5, -1.0)])
def test_displacement_scaling_exponents(weights, beta, expected):
    # E|h_L - h_0|^2 ~ L^{2 gamma}, gamma = 1/2 - beta (i.i.d.) or 1 - beta (smooth), while the weights
    # are small: fitted over L = 30 .. 1000 the slope is within 0.05 of 2 gamma
    options = (
        {"smooth_A": lambda s: np.array([[1.0]]), "smooth_b": lambda s: np.array([0.5])} if weights == "smooth" else {}
    )
    rows = depth_sweep(
        [30, 100, 300, 1000], 2000 if weights == "iid" else 1, [1.0], "tanh", weights, weight_exponent=beta, **options
    )
    assert scaling_exponent(rows["depth"], rows["displacement"]) == pytest.approx(expected, abs=0.05)


def test_non_smooth_activation_has_no_sde_limit():
    with pytest.raises(ValueError, match="relu"):
        ResNetSDELimit("relu")
    with pytest.raises(ValueError, match="activation"):
        resnet_outputs(3, 10, [1.0], "gelu")


def test_ito_drift_of_a_curved_activation_against_euler_maruyama():
    # softplus - log 2: sigma'(0) = 1/2, sigma''(0) = 1/4, so the limit has the Ito drift
    # (1/8)(var_A H^2 + var_b). Reference: plain-numpy Euler-Maruyama of that SDE (20000 paths,
    # ds = 2e-3, weak order 1: bias ~1e-3), 99 % interval + 3e-3 for the bias; FP grid error ~1e-4
    limit = ResNetSDELimit("softplus", 1.0, 0.25, dim=1)
    sol = limit.law(1.0, 1.0, [(-100.0, 100.0)], 4000, start_std=0.02)
    grid, p = sol.grid, sol.p[-1]
    x = grid.centers[0]
    fp_mean = grid.integrate(p * x)
    rng = np.random.default_rng(4)
    n, steps = 20000, 500
    h = 1.0 + 0.02 * rng.standard_normal(n)
    ds = 1.0 / steps
    for _ in range(steps):
        v = h**2 + 0.25
        h = h + 0.125 * v * ds + 0.5 * np.sqrt(v * ds) * rng.standard_normal(n)
    assert abs(fp_mean - h.mean()) < Z99 * h.std(ddof=1) / np.sqrt(n) + 3e-3
    assert fp_mean > 1.0 + 0.125 * 1.25 * 0.9  # the drift pushes the mean up by ~ (1/8) E v
