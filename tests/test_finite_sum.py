"""FiniteSumLoss: derivatives, per-sample gradients, the empirical covariance, and SGD with it."""

import numpy as np
import pytest

import fpsolve.finite_sum as finite_sum
from fpsolve.dynamics import SGD
from fpsolve.finite_sum import FiniteSumLoss, make_dataset
from fpsolve.landscape import Landscape

N = 40


def _loss(kind, n=N, seed=1):
    return FiniteSumLoss.from_dataset(kind, n, seed)


def _closed_form_sample_gradients(kind, X, y, theta):
    """Per-sample gradients at one point theta, written out independently: shape (N, d)."""
    if kind == "linear_regression":
        return (X @ theta - y)[:, None] * X
    if kind == "logistic_regression":
        m = y * (X @ theta)
        return (-y / (1.0 + np.exp(m)))[:, None] * X
    a, b = theta
    x = X[:, 0]
    r = a * np.tanh(b * x) - y
    return np.column_stack([r * np.tanh(b * x), r * a * x / np.cosh(b * x) ** 2])


def _theta_grid(d):
    axes = [np.linspace(-1.5, 1.5, 5), np.linspace(-2.0, 2.5, 4), np.linspace(-0.5, 0.5, 3)][:d]
    return np.meshgrid(*axes, indexing="ij")


KINDS = ["linear_regression", "logistic_regression", "nonlinear"]


@pytest.mark.parametrize("kind", KINDS)
def test_gradient_and_hessian_match_finite_differences(kind):
    U = _loss(kind)
    theta = _theta_grid(U.ndim)
    fd = Landscape(U.f, ndim=U.ndim)  # differences of the mean loss alone
    fd_grad = Landscape(U.f, U.grad_function, ndim=U.ndim)  # differences of the analytic gradient
    g, h = U.grad(*theta), U.hessian(*theta)
    # fourth-order differences, |U| and its derivatives are O(1-10) here: truncation + round-off ~1e-11
    assert np.allclose(fd.grad(*theta), g, rtol=1e-8, atol=1e-8)
    assert np.allclose(fd_grad.hessian(*theta), h, rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("kind", KINDS)
def test_per_sample_gradients_and_covariance_match_explicit_loop(kind):
    U = _loss(kind)
    X, y = U.data
    theta = _theta_grid(U.ndim)
    per_sample = U.per_sample_gradients(*theta)
    sigma = U.gradient_covariance(*theta)
    assert per_sample.shape == (N, U.ndim) + theta[0].shape
    assert sigma.shape == (U.ndim, U.ndim) + theta[0].shape
    for index in np.ndindex(theta[0].shape):
        point = np.array([t[index] for t in theta])
        G = _closed_form_sample_gradients(kind, X, y, point)
        mean = G.mean(axis=0)
        second = sum(np.outer(g, g) for g in G) / N
        # the same sums in another order: agreement to a few ulps of |g|^2
        assert np.allclose(per_sample[(slice(None), slice(None)) + index], G, rtol=1e-12, atol=1e-13)
        assert np.allclose(U.grad(*point), mean, rtol=1e-12, atol=1e-13)
        assert np.allclose(
            sigma[(slice(None), slice(None)) + index], second - np.outer(mean, mean), rtol=1e-10, atol=1e-12
        )


@pytest.mark.parametrize("kind", KINDS)
def test_chunked_sums_equal_one_shot_sums(kind, monkeypatch):
    U = _loss(kind)
    theta = _theta_grid(U.ndim)
    reference = (U(*theta), U.grad(*theta), U.hessian(*theta), U.gradient_covariance(*theta))
    monkeypatch.setattr(finite_sum, "_CHUNK_ELEMENTS", 7 * theta[0].size)  # chunks of 7 samples, last partial
    assert len(list(U._chunks(theta[0].shape))) == -(-N // 7)
    chunked = (U(*theta), U.grad(*theta), U.hessian(*theta), U.gradient_covariance(*theta))
    for a, b in zip(reference, chunked):
        assert np.allclose(a, b, rtol=1e-13, atol=1e-14)  # summation order only


@pytest.mark.parametrize("kind", KINDS)
def test_covariance_is_positive_semidefinite(kind):
    U = _loss(kind)
    theta = np.meshgrid(np.linspace(-4, 4, 21), np.linspace(-4, 4, 21), np.linspace(-1, 1, 3), indexing="ij")[: U.ndim]
    sigma = U.gradient_covariance(*theta)
    eig = np.linalg.eigvalsh(np.moveaxis(sigma, (0, 1), (-2, -1)))
    scale = np.abs(eig).max(axis=-1, keepdims=True)
    assert np.all(eig >= -1e-13 * scale)  # centred sum of outer products: PSD up to round-off
    assert np.allclose(sigma, np.swapaxes(sigma, 0, 1))


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_linear_regression_minimiser_is_least_squares_solution(ndim):
    X, y = make_dataset("linear_regression", 30, seed=2, ndim=ndim)
    U = FiniteSumLoss.linear_regression(X, y)
    solution = np.linalg.lstsq(X, y, rcond=None)[0]
    assert np.allclose(U.minima[0], solution, rtol=1e-13, atol=1e-14)
    assert np.abs(U.grad(*solution)).max() < 1e-13  # normal equations hold to round-off
    assert np.allclose(U.hessian(*solution), X.T @ X / len(y), rtol=1e-13)
    # U is quadratic: U(theta) - U(theta*) = (theta - theta*)^T (X^T X / 2N) (theta - theta*)
    step = np.linspace(0.1, 0.3, ndim)
    expected = step @ (X.T @ X / (2 * len(y))) @ step
    assert float(U(*(solution + step)) - U(*solution)) == pytest.approx(expected, rel=1e-10)


def test_logistic_regression_is_stable_and_has_a_minimum():
    U = _loss("logistic_regression", n=60)
    X, y = U.data
    assert len(U.minima) == 1
    assert np.abs(U.grad(*U.minima[0])).max() < 1e-14
    assert np.all(np.linalg.eigvalsh(U.hessian(*U.minima[0])) > 0)
    big = np.array([800.0, -600.0])  # exp(margin) overflows in a naive formula
    assert np.isfinite(U(*big)) and np.all(np.isfinite(U.grad(*big)))
    m = y * (X @ big)
    # log(1 + e^-m) = max(0, -m) + log1p(e^-|m|), exact; the two forms agree to round-off
    assert float(U(*big)) == pytest.approx(np.mean(np.maximum(0.0, -m) + np.log1p(np.exp(-np.abs(m)))), rel=1e-13)
    with pytest.raises(ValueError, match="y"):
        FiniteSumLoss.logistic_regression(X, np.where(y > 0, 1.0, 0.0))


def test_nonlinear_model_minima_and_saddle():
    U = _loss("nonlinear", n=60)
    X, y = U.data
    (a, b), mirror = U.minima
    assert mirror == (-a, -b)
    assert float(U(a, b)) == pytest.approx(float(U(-a, -b)), abs=1e-15)  # exact symmetry
    assert abs(a - 1.0) < 0.2 and abs(b - 2.0) < 1.0  # near the generating (1, 2), noise 0.2
    for point in U.minima:
        assert np.abs(U.grad(*point)).max() < 1e-12
        assert np.all(np.linalg.eigvalsh(U.hessian(*point)) > 0)
    m = np.mean(X[:, 0] * y)
    assert U.saddles == [(0.0, 0.0)]
    assert np.allclose(U.hessian(0.0, 0.0), [[0.0, -m], [-m, 0.0]], atol=1e-15)


def test_minibatch_gradient_is_the_mean_over_the_batch():
    U = _loss("nonlinear")
    X, y = U.data
    theta = np.array([0.7, -1.3])
    indices = np.array([3, 3, 11, 0, 39])
    G = _closed_form_sample_gradients("nonlinear", X, y, theta)
    assert np.allclose(U.minibatch_gradient(theta, indices), G[indices].mean(axis=0), rtol=1e-13)
    assert np.allclose(U.minibatch_gradient(theta, np.arange(N)), U.grad(*theta), rtol=1e-12)
    with pytest.raises(ValueError, match="theta"):
        U.minibatch_gradient([0.1], [0])
    with pytest.raises(ValueError, match="indices"):
        U.minibatch_gradient(theta, [])


def test_generic_constructor_with_user_functions():
    X, y = make_dataset("linear_regression", 25, seed=4, ndim=1)

    # mean absolute-ish smooth loss sqrt(1 + r^2): user functions follow the broadcasting convention
    def loss(theta, x, y):
        return np.sqrt(1.0 + (theta[0] * x[0] - y) ** 2)

    def grad(theta, x, y):
        r = theta[0] * x[0] - y
        return [r * x[0] / np.sqrt(1.0 + r * r)]

    U = FiniteSumLoss(loss, grad, (X, y), 1, name="pseudo_huber")
    t = np.linspace(-2, 2, 9)
    expected = np.array([np.mean(np.sqrt(1 + (ti * X[:, 0] - y) ** 2)) for ti in t])
    assert np.allclose(U(t), expected, rtol=1e-14)
    assert np.allclose(U.hessian(t), Landscape(U.f, ndim=1).hessian(t), rtol=1e-6)  # FD of grad vs FD of f
    assert U.n_samples == 25 and U.data[0].shape == (25, 1)


def test_make_dataset_is_seeded_and_checks_kind():
    a, b = make_dataset("nonlinear", 10, seed=7), make_dataset("nonlinear", 10, seed=7)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[1], make_dataset("nonlinear", 10, seed=8)[1])
    with pytest.raises(ValueError, match="kind"):
        make_dataset("mnist", 10, 0)
    with pytest.raises(ValueError, match="data"):
        FiniteSumLoss.linear_regression(np.ones((3, 2)), np.ones(4))


def test_sgd_with_empirical_noise():
    U = _loss("logistic_regression")
    lr, batch_size = 0.05, 4
    model = SGD(U, lr=lr, batch_size=batch_size, noise="empirical")
    theta = _theta_grid(2)
    D = model.diffusion(*theta)
    assert np.allclose(D, lr * U.gradient_covariance(*theta) / (2 * batch_size), rtol=1e-14)
    assert np.allclose(model.drift(*theta), -U.grad(*theta))
    with pytest.raises(ValueError, match="noise"):
        SGD(Landscape(lambda x, y: x * x + y * y), lr=lr, batch_size=batch_size, noise="empirical")
