"""SDE models: drift and diffusion against hand formulas, Hessian-noise floor, schedules, bad inputs."""

import numpy as np
import pytest

from fpsolve import landscapes
from fpsolve.dynamics import SGD, Diffusion, Langevin
from fpsolve.landscape import Landscape
from fpsolve.noise import HESSIAN_FLOOR

U2 = landscapes.double_well_2d()  # (x^2 - 1)^2 + 2 y^2
X = np.array([-1.3, -0.4, 0.0, 0.2, 1.1])
Y = np.array([0.5, -0.2, 0.0, 0.3, -1.0])


def _hand_gradient(x, y):
    return np.array([4 * x * (x * x - 1), 4 * y])


def _hand_hessian(x, y):
    return np.array([[12 * x * x - 4, 0 * x], [0 * x, 4 + 0 * x]])


def test_langevin_drift_and_diffusion():
    model = Langevin(U2, temperature=0.3)
    assert np.allclose(model.drift(X, Y), -_hand_gradient(X, Y), rtol=1e-15)
    D = model.diffusion(X, Y)
    assert D.shape == (2, 2, 5)
    assert np.allclose(D, 0.3 * np.eye(2)[:, :, None])
    assert model.potential() is U2


def test_sgd_isotropic_diffusion_is_lr_sigma_over_2b():
    lr, B, s = 0.1, 16, 0.7
    model = SGD(U2, lr=lr, batch_size=B, noise="isotropic", noise_scale=s)
    assert np.allclose(model.diffusion(X, Y), lr * s * np.eye(2)[:, :, None] / (2 * B), rtol=1e-15)
    assert np.allclose(model.drift(X, Y), -_hand_gradient(X, Y))
    assert model.iterations(2.0) == pytest.approx(2.0 / lr)  # t = lr * iterations


def test_sgd_hessian_noise_is_absolute_hessian():
    lr, B = 0.05, 8
    model = SGD(U2, lr=lr, batch_size=B, noise="hessian")
    D = model.diffusion(X, Y)
    for k in range(len(X)):
        H = _hand_hessian(X[k], Y[k])
        w, V = np.linalg.eigh(H)
        expected = V @ np.diag(np.maximum(np.abs(w), HESSIAN_FLOOR)) @ V.T
        assert np.allclose(D[:, :, k], lr * expected / (2 * B), rtol=1e-13, atol=1e-16)


def test_hessian_noise_is_floored_and_positive_definite_at_saddles_and_inflections():
    # rotated double well: at the saddle H = R^T diag(-4, 4) R, so |H| = 4 I exactly
    U = landscapes.rotated_double_well(np.pi / 6, stiffness=2.0)
    model = SGD(U, lr=0.1, batch_size=4, noise="hessian")
    D = model.diffusion(0.0, 0.0)
    assert np.allclose(D, 0.1 * 4.0 * np.eye(2) / 8, rtol=1e-13)
    # 1-D double well at the inflection point x = 1/sqrt(3): U'' = 0, so D = lr * floor / (2B)
    U1 = landscapes.double_well()
    floor = 1e-3
    model = SGD(U1, lr=0.2, batch_size=5, noise="hessian", hessian_floor=floor)
    assert model.diffusion(1 / np.sqrt(3))[0, 0] == pytest.approx(0.2 * floor / 10, rel=1e-9)
    x = np.linspace(-2, 2, 401)
    assert np.all(model.diffusion(x)[0, 0] >= 0.2 * floor / 10 * (1 - 1e-12))
    # 2-D: eigenvalues of D stay >= lr * floor / (2B) everywhere on a grid through the saddle
    model = SGD(U, lr=0.1, batch_size=4, noise="hessian")
    gx, gy = np.meshgrid(np.linspace(-1.5, 1.5, 31), np.linspace(-1.5, 1.5, 31), indexing="ij")
    eig = np.linalg.eigvalsh(np.moveaxis(model.diffusion(gx, gy), (0, 1), (-2, -1)))
    assert eig.min() >= 0.1 * HESSIAN_FLOOR / 8 * (1 - 1e-9)


def test_modified_loss_drift_is_minus_gradient_of_modified_potential():
    lr = 0.1
    U = landscapes.muller_brown()
    model = SGD(U, lr=lr, batch_size=1, modified_loss=True)
    modified = Landscape(lambda x, y: U(x, y) + 0.25 * lr * np.sum(U.grad(x, y) ** 2, axis=0))
    x, y = np.array([-0.5, 0.0, 0.4]), np.array([1.2, 0.5, 0.1])
    drift = model.drift(x, y)
    # fourth-order differences of a function with |grad| ~ 1e4 here: relative accuracy ~1e-9
    assert np.allclose(drift, -modified.grad(x, y), rtol=1e-7, atol=1e-7 * np.abs(drift).max())
    assert np.allclose(model.potential()(x, y), modified(x, y), rtol=1e-14)


def test_schedules_give_time_dependent_diffusion():
    lr = lambda t: 0.1 / (1 + t)  # noqa: E731
    batch_size = lambda t: 4 + 2 * t  # noqa: E731
    model = SGD(U2, lr=lr, batch_size=batch_size, noise="isotropic", noise_scale=0.5)
    assert not model.autonomous
    for t in (0.0, 0.5, 3.0):
        expected = lr(t) * 0.5 * np.eye(2) / (2 * batch_size(t))
        assert np.allclose(model.diffusion(0.3, 0.1, t=t), expected, rtol=1e-14)
        assert model.parameters(t) == (lr(t), batch_size(t))
    # iterations = integral of dt / lr(t) = (t + t^2 / 2) / 0.1; quad is accurate to ~1e-12 here
    assert model.iterations(2.0) == pytest.approx((2.0 + 2.0) / 0.1, rel=1e-10)
    bad = SGD(U2, lr=lambda t: 0.1 - t, batch_size=4)
    with pytest.raises(ValueError, match="lr"):
        bad.diffusion(0.0, 0.0, t=1.0)


def test_callable_noise_scalar_field_is_a_multiple_of_identity():
    model = SGD(U2, lr=0.2, batch_size=2, noise=lambda x, y: 1 + x * x, noise_scale=3.0)
    D = model.diffusion(X, Y)
    assert np.allclose(D, 0.2 * 3.0 * (1 + X * X) * np.eye(2)[:, :, None] / 4, rtol=1e-14)


def test_ornstein_uhlenbeck_diffusion_model():
    A = np.array([[1.0, 0.5], [0.0, 2.0]])
    model = Diffusion(
        lambda x, y: (-(A[0, 0] * x + A[0, 1] * y), -(A[1, 0] * x + A[1, 1] * y)),
        np.array([[0.5, 0.1], [0.1, 0.3]]),
        ndim=2,
    )
    assert np.allclose(model.drift(X, Y), -(A @ np.vstack([X, Y])))
    assert model.diffusion(X, Y).shape == (2, 2, 5) and model.constant_diffusion


@pytest.mark.parametrize(
    "build, name",
    [
        (lambda: Langevin(U2, temperature=0.0), "temperature"),
        (lambda: Langevin(U2, temperature=-1.0), "temperature"),
        (lambda: SGD(U2, lr=0.0, batch_size=4), "lr"),
        (lambda: SGD(U2, lr=-0.1, batch_size=4), "lr"),
        (lambda: SGD(U2, lr=0.1, batch_size=0), "batch_size"),
        (lambda: SGD(U2, lr=0.1, batch_size=4, noise="gaussian"), "noise"),
        (lambda: SGD(U2, lr=0.1, batch_size=4, noise="empirical"), "noise"),
        (lambda: SGD(U2, lr=0.1, batch_size=4, noise_scale=0.0), "noise_scale"),
        (lambda: SGD(U2, lr=0.1, batch_size=4, noise="hessian", hessian_floor=0.0), "floor"),
        (lambda: Diffusion(lambda x, y: (x, y), [[1.0, 2.0], [2.0, 1.0]], ndim=2), "diffusion"),
    ],
)
def test_bad_inputs_raise_value_error_naming_the_argument(build, name):
    with pytest.raises(ValueError, match=name):
        build()


def test_non_landscape_is_a_type_error():
    with pytest.raises(TypeError, match="landscape"):
        SGD(lambda x: x * x, lr=0.1, batch_size=1)
