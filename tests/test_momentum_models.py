"""The kinetic models: DESIGN.md section 1's heavy-ball convention, the Langevin coefficients, bad input."""

import numpy as np
import pytest

import fpsolve as fp
from fpsolve.momentum import is_kinetic


@pytest.fixture
def quadratic():
    return fp.Landscape(lambda x: 1.5 * x**2, name="quadratic")


def test_momentum_sgd_coefficients_follow_the_heavy_ball_convention(quadratic):
    # DESIGN.md: dv = -c[(1 - beta) v + grad U] dt + c sqrt(eta / B) Sigma^(1/2) dW, c = 2 / (eta (1 + beta))
    eta, beta, B, s = 0.01, 0.9, 8.0, 0.3
    model = fp.MomentumSGD(quadratic, lr=eta, batch_size=B, momentum=beta, noise_scale=s)
    c = 2.0 / (eta * (1.0 + beta))
    theta, v = np.array([0.2, -0.7]), np.array([1.1, 0.4])
    drift = model.drift(theta, v)
    assert np.allclose(drift[0], v, rtol=1e-15)
    assert np.allclose(drift[1], -c * ((1 - beta) * v + 3.0 * theta), rtol=1e-13)
    assert model.noise_amplitude() == pytest.approx(c * np.sqrt(eta / B), rel=1e-15)
    assert model.noise_axes == (1,)
    D = model.diffusion(theta, v)
    assert np.all(D[0] == 0) and np.allclose(D[1, 1], c**2 * eta * s / (2 * B), rtol=1e-14)


def test_kunin_variances_from_the_linear_sde(quadratic):
    # The stationary covariance of the linear SDE (Lyapunov equation A C + C A^T + S = 0, solved by
    # scipy) against Kunin's closed forms Var theta = eta sigma^2 / (2 B (1 - beta)) and
    # Var v = sigma^2 lambda / (B (1 - beta^2)) for Sigma = sigma^2 H (exact: 1e-12)
    from scipy.linalg import solve_continuous_lyapunov

    lam, sigma2, eta, beta, B = 3.0, 0.5, 1e-2, 0.9, 8.0
    model = fp.MomentumSGD(quadratic, lr=eta, batch_size=B, momentum=beta, noise=lambda x: sigma2 * lam + 0 * x)
    A = np.array([[0.0, 1.0], [-model.scale * lam, -model.friction]])
    S = 2.0 * np.diag([0.0, model.velocity_diffusion(np.array(0.0))[0, 0]])
    C = solve_continuous_lyapunov(A, -S)
    assert C[0, 0] == pytest.approx(eta * sigma2 / (2 * B * (1 - beta)), rel=1e-12)
    assert C[1, 1] == pytest.approx(sigma2 * lam / (B * (1 - beta**2)), rel=1e-12)
    assert model.velocity_variance(np.array(0.3))[0] == pytest.approx(C[1, 1], rel=1e-12)


def test_underdamped_langevin_coefficients(quadratic):
    model = fp.UnderdampedLangevin(quadratic, friction=2.0, temperature=0.25)
    drift = model.drift(np.array(0.5), np.array(-1.0))
    assert drift[0] == -1.0 and drift[1] == pytest.approx(2.0 - 1.5)
    # fluctuation-dissipation: D_v = gamma T, so the Maxwellian variance is T
    assert model.velocity_diffusion(np.array(0.0))[0, 0] == pytest.approx(0.5)
    assert model.velocity_variance(np.array(0.0))[0] == pytest.approx(0.25)
    assert isinstance(model.overdamped(), fp.Langevin)


def test_overdamped_limit_of_momentum_is_sgd_with_effective_lr(quadratic):
    model = fp.MomentumSGD(quadratic, lr=0.02, batch_size=4, momentum=0.75)
    sgd = model.overdamped()
    assert sgd.lr == pytest.approx(0.08) and sgd.batch_size == 4


def test_weight_decay_adds_to_the_gradient(quadratic):
    model = fp.MomentumSGD(quadratic, lr=0.1, batch_size=2, momentum=0.5, weight_decay=0.2)
    force = model.force(np.array(1.0))
    assert force[0] == pytest.approx(-model.scale * (3.0 + 0.2))


def test_schedules_and_iterations(quadratic):
    model = fp.MomentumSGD(quadratic, lr=lambda t: 0.1 / (1 + t), batch_size=8, momentum=0.9)
    assert not model.autonomous
    assert model.friction_at(1.0) == pytest.approx(2 * 0.1 / (0.05 * 1.9))
    # t = integral of lr: iterations = integral dt / lr = int_0^1 10 (1 + t) dt = 15
    assert model.iterations(1.0) == pytest.approx(15.0, rel=1e-10)
    with pytest.raises(ValueError, match="lr_at"):  # a schedule has no single friction
        model.friction


def test_constant_parameters_read_as_numbers(quadratic):
    """friction and c are numbers for constant hyperparameters (issue 13: t / model.lr works);
    schedules sit behind friction_at / scale_at."""
    model = fp.MomentumSGD(quadratic, lr=0.1, batch_size=8, momentum=0.9)
    c = 2 / (0.1 * 1.9)  # DESIGN.md section 1: c = 2 / (lr (1 + beta)), gamma = c (1 - beta)
    assert model.scale == pytest.approx(c, rel=1e-14) and model.friction == pytest.approx(0.1 * c, rel=1e-14)
    assert model.friction_at(3.0) == model.friction
    langevin = fp.UnderdampedLangevin(quadratic, friction=2.0, temperature=0.5)
    assert langevin.friction == 2.0 and langevin.temperature == 0.5
    scheduled = fp.UnderdampedLangevin(quadratic, friction=lambda t: 1 + t, temperature=0.5)
    assert scheduled.friction_at(1.0) == 2.0
    with pytest.raises(ValueError, match="friction_at"):
        scheduled.friction


def test_two_parameter_model_lives_in_four_dimensions():
    U = fp.Landscape(lambda x, y: x**2 + 2 * y**2, name="bowl")
    model = fp.MomentumSGD(U, lr=0.1, batch_size=4, momentum=0.5, noise="hessian")
    assert model.ndim == 4 and model.velocity_axes == (2, 3) and is_kinetic(model)
    grid = fp.phase_space_grid([(-1, 1), (-1, 1)], [(-2, 2), (-2, 2)], 4)
    assert grid.axis_names == ("theta1", "theta2", "v1", "v2")
    sigma = model.noise_covariance(*grid.mesh())
    assert sigma.shape == (4, 4) + grid.shape and np.all(sigma[:2] == 0)
    assert np.allclose(sigma[2, 2], 2.0) and np.allclose(sigma[3, 3], 4.0)


@pytest.mark.parametrize("momentum", [1.0, -0.1, 1.5, float("nan")])
def test_momentum_outside_unit_interval_is_refused(quadratic, momentum):
    with pytest.raises(ValueError, match="momentum: expected a number in \\[0, 1\\)"):
        fp.MomentumSGD(quadratic, lr=0.1, batch_size=4, momentum=momentum)


@pytest.mark.parametrize("friction", [0.0, -1.0])
def test_non_positive_friction_is_refused(quadratic, friction):
    with pytest.raises(ValueError, match="friction"):
        fp.UnderdampedLangevin(quadratic, friction=friction, temperature=1.0)


def test_other_bad_input(quadratic):
    with pytest.raises(ValueError, match="weight_decay"):
        fp.MomentumSGD(quadratic, lr=0.1, batch_size=4, momentum=0.5, weight_decay=-1.0)
    with pytest.raises(TypeError, match="momentum"):
        fp.MomentumSGD(quadratic, lr=0.1, batch_size=4, momentum="0.9")
    with pytest.raises(ValueError, match="batch_size"):
        fp.MomentumSGD(quadratic, lr=0.1, batch_size=0.5, momentum=0.5)
    with pytest.raises(ValueError, match="v: expected one velocity box per parameter"):
        fp.phase_space_grid([(-1, 1), (-1, 1)], (-2, 2), 8)
    model = fp.UnderdampedLangevin(quadratic, friction=1.0, temperature=1.0)
    with pytest.raises(ValueError, match="phase space"):
        model.drift(np.array(0.0))


def test_empirical_noise_is_the_per_sample_gradient_covariance():
    # linear regression l_i = (x_i theta - y_i)^2 / 2 in 1-D: grad l_i = x_i r_i with r_i = x_i theta - y_i,
    # so Sigma(theta) = mean(x^2 r^2) - mean(x r)^2 (computed here with numpy, independently)
    rng = np.random.default_rng(3)
    X = rng.normal(size=(50, 1))
    y = 0.7 * X[:, 0] + 0.2 * rng.normal(size=50)
    loss = fp.FiniteSumLoss.linear_regression(X, y)
    model = fp.MomentumSGD(loss, lr=0.05, batch_size=5, momentum=0.8, noise="empirical")
    theta = 0.3
    g = X[:, 0] * (X[:, 0] * theta - y)
    assert model.velocity_covariance(np.array(theta))[0, 0] == pytest.approx(np.mean(g**2) - np.mean(g) ** 2, rel=1e-10)
    with pytest.raises(ValueError, match="batch_size"):
        fp.MomentumSGD(loss, lr=0.05, batch_size=80, momentum=0.8, noise="empirical")
