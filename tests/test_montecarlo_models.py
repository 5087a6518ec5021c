"""Monte Carlo of models it has never heard of: the Euler-Maruyama step takes the drift, the noise
amplitude c(t) and the covariance Sigma(x) (2 D = c^2 Sigma) from the model itself.

Reference: a linear SDE dX = -A X dt + c Sigma^(1/2) dW started at x0 is Gaussian with mean
e^{-A t} x0 and covariance P(t) = int_0^t e^{-A s} Q e^{-A^T s} ds, Q = c^2 Sigma, which Van Loan's
block exponential gives: expm([[A, Q], [0, -A^T]] t) = [[., F^{-1} P], [0, F^T]] with F = e^{-A t}.
"""

import math

import numpy as np
import pytest
from scipy import linalg

import fpsolve.montecarlo as mc
from fpsolve.dynamics import Langevin, Model
from fpsolve.landscape import Landscape
from fpsolve.montecarlo.compile import compile_model
from fpsolve.montecarlo.rng import new_stream
from fpsolve.noise import JumpLaw


def ou_law(A, Q, x0, t):
    """Mean and covariance at time t of dX = -A X dt + Q^(1/2) dW, X_0 = x0 (Van Loan)."""
    d = len(x0)
    block = np.block([[A, Q], [np.zeros((d, d)), -A.T]]) * t
    E = linalg.expm(block)
    F = E[d:, d:].T
    return F @ x0, F @ E[:d, d:]


def euler_maruyama_law(A, Q, x0, dt, n_steps):
    """Mean and covariance of the Euler-Maruyama chain x <- (I - A dt) x + sqrt(dt) Q^(1/2) xi."""
    B = np.eye(len(x0)) - A * dt
    mean, cov = np.asarray(x0, float), np.zeros((len(x0), len(x0)))
    for _ in range(n_steps):
        mean, cov = B @ mean, B @ cov @ B.T + dt * Q
    return mean, cov


def assert_gaussian_moments(x, mean, cov, mean_em, cov_em):
    """Sample mean and covariance within 4 standard errors of the SDE's, widened by the Euler-
    Maruyama chain's own (exactly known) O(dt) bias.

    For n Gaussian samples, Var(mean_i) = P_ii / n and Var(cov_ij) = (P_ij^2 + P_ii P_jj) / (n - 1);
    4 standard errors on 5 statistics fail a correct simulator with probability ~3e-4 (and the seed
    is fixed).
    """
    n = len(x)
    se_mean = np.sqrt(np.diag(cov) / n)
    se_cov = np.sqrt((cov**2 + np.outer(np.diag(cov), np.diag(cov))) / (n - 1))
    assert np.all(np.abs(x.mean(axis=0) - mean) < 4 * se_mean + np.abs(mean_em - mean))
    assert np.all(np.abs(np.cov(x.T) - cov) < 4 * se_cov + np.abs(cov_em - cov))


# ------------------------------------------------------------------------------------------------
# a user's model: only ndim, drift, noise_amplitude, noise_covariance
# ------------------------------------------------------------------------------------------------
A_OU = np.array([[1.0, 0.8], [-0.4, 1.5]])  # not symmetric: a drift that is not a gradient
SIGMA_OU = np.array([[1.0, 0.3], [0.3, 0.5]])
C_OU = 0.7


class LinearOU(Model):
    """dX = -A X dt + c Sigma^(1/2) dW, written by a user who knows nothing of the simulator."""

    ndim = 2

    def drift(self, x, y, t=0.0):
        return -np.einsum("ij,j...->i...", A_OU, np.stack(np.broadcast_arrays(x, y)))

    def noise_amplitude(self, t=0.0):
        return C_OU

    def noise_covariance(self, x, y):
        shape = np.broadcast(x, y).shape
        return np.broadcast_to(SIGMA_OU.reshape(2, 2, *[1] * len(shape)), (2, 2) + shape).copy()


BOX = [(-4.0, 4.0), (-4.0, 4.0)]  # > 9 stationary standard deviations: the walls are never met


def test_user_model_noise_factor_is_amplitude_times_covariance_root():
    # the step's noise factor S satisfies S S^T = c^2 Sigma = 2 D (tabulated constant field:
    # interpolation weights sum to one, so only rounding, ~1e-16, separates them)
    kernel = compile_model(LinearOU(), 1e-2, bounds=BOX)
    S = np.zeros((2, 2))
    kernel.step(np.array([0.3, -0.2]), 0.0, 1e-2, new_stream(0, 0), kernel.parameters(1, 1e-2), S)
    assert np.allclose(S @ S.T, C_OU**2 * SIGMA_OU, rtol=0, atol=1e-13)
    assert np.allclose(S, S.T, rtol=0, atol=1e-14)  # the symmetric root
    assert any("tabulated" in note for note in kernel.notes)  # drift and root are Python: tabulated


@pytest.mark.slow
def test_user_model_moments_match_van_loan():
    x0, t, dt, n = np.array([1.0, -0.5]), 1.0, 1e-2, 20_000
    res = mc.simulator(LinearOU(), dt=dt, seed=7, bounds=BOX).sample(x0, n, [t])
    assert res.alive.all()
    Q = C_OU**2 * SIGMA_OU
    mean, cov = ou_law(A_OU, Q, x0, t)
    mean_em, cov_em = euler_maruyama_law(A_OU, Q, x0, dt, round(t / dt))
    assert_gaussian_moments(res.x[-1], mean, cov, mean_em, cov_em)


# ------------------------------------------------------------------------------------------------
# degenerate noise: a kinetic-like linear system with noise on the velocity only
# ------------------------------------------------------------------------------------------------
GAMMA, OMEGA2, KT = 1.0, 2.0, 0.5
A_KIN = np.array([[0.0, -1.0], [OMEGA2, GAMMA]])  # dx = v dt, dv = -(omega^2 x + gamma v) dt + ...


class KineticLinear(Model):
    """(x, v) with dv carrying all the noise, sqrt(2 gamma T) dW: Sigma = diag(0, 1), rank one."""

    ndim = 2
    noise_axes = (1,)

    def __init__(self, constant: bool):
        self.constant_diffusion = constant  # False: the (constant) field is tabulated instead

    def drift(self, x, v, t=0.0):
        return np.stack(np.broadcast_arrays(v, -OMEGA2 * x - GAMMA * v))

    def noise_amplitude(self, t=0.0):
        return math.sqrt(2 * GAMMA * KT)

    def noise_covariance(self, x, v):
        shape = np.broadcast(x, v).shape
        sigma = np.zeros((2, 2) + shape)
        sigma[1, 1] = 1.0
        return sigma


def test_van_loan_reference_reaches_maxwell_boltzmann():
    # the reference itself: at long times the covariance solves the Lyapunov equation, whose
    # solution here is Var x = T / omega^2, Var v = T, Cov = 0 (memory e^{-gamma t / 2} = e^{-30})
    _, cov = ou_law(A_KIN, np.diag([0.0, 2 * GAMMA * KT]), np.zeros(2), 60.0)
    assert np.allclose(cov, np.diag([KT / OMEGA2, KT]), rtol=0, atol=1e-12)


@pytest.mark.parametrize("constant", [True, False], ids=["constant-root", "tabulated-root"])
def test_degenerate_noise_leaves_position_to_the_drift(constant):
    # the symmetric root of diag(0, 1) has a zero first row: no noise reaches x (exact for the
    # constant root; the tabulated one comes from a batched eigh, zero to rounding, ~1e-16)
    dt, state = 1e-2, np.array([0.4, -0.3])
    kernel = compile_model(KineticLinear(constant), dt, bounds=BOX)
    S = np.zeros((2, 2))
    kernel.step(state, 0.0, dt, new_stream(0, 0), kernel.parameters(1, dt), S)
    assert np.all(np.abs(S[0]) <= 1e-14) and np.all(np.abs(S[:, 0]) <= 1e-14)
    assert S[1, 1] == pytest.approx(math.sqrt(2 * GAMMA * KT), rel=1e-14)
    assert state[0] == pytest.approx(0.4 - 0.3 * dt, rel=1e-14)  # x moved by v dt only


@pytest.mark.slow
def test_degenerate_noise_moments_match_van_loan():
    x0, t, dt, n = np.array([1.0, 0.0]), 2.0, 1e-2, 20_000
    res = mc.simulator(KineticLinear(constant=True), dt=dt, seed=3, bounds=BOX).sample(x0, n, [t])
    assert res.alive.all()
    Q = np.diag([0.0, 2 * GAMMA * KT])
    mean, cov = ou_law(A_KIN, Q, x0, t)
    mean_em, cov_em = euler_maruyama_law(A_KIN, Q, x0, dt, round(t / dt))
    assert_gaussian_moments(res.x[-1], mean, cov, mean_em, cov_em)


# ------------------------------------------------------------------------------------------------
# what the simulator refuses, and whose amplitude it uses
# ------------------------------------------------------------------------------------------------
class JumpingOU(LinearOU):
    jumps = JumpLaw(alpha=1.5, scale=0.1, axes=(0, 1))


class NotPSD(LinearOU):
    def noise_covariance(self, x, y):
        return -super().noise_covariance(x, y)


def test_models_with_jumps_are_refused():
    with pytest.raises(
        ValueError, match="^model: the Euler-Maruyama simulator draws Gaussian noise; this model has alpha-stable jumps"
    ):
        mc.simulator(JumpingOU(), dt=1e-2, bounds=BOX)


class Annealed(LinearOU):
    autonomous = False


def test_time_dependent_user_models_are_refused():
    # the drift of a user's model is tabulated once, at t = 0: a non-autonomous one needs a plug-in
    with pytest.raises(ValueError, match="^model: Annealed is not autonomous"):
        mc.simulator(Annealed(), dt=1e-2, bounds=BOX)


def test_covariance_that_is_not_positive_semidefinite_is_refused():
    with pytest.raises(ValueError, match="^model: the noise covariance is not positive semi-definite at x"):
        mc.simulator(NotPSD(), dt=1e-2, bounds=BOX)


def test_the_step_uses_the_models_noise_amplitude():
    # a Langevin model whose amplitude says 3 sqrt(2 T): the simulator believes the model, not the
    # temperature it might have read (exact: both sides are the same correctly rounded products)
    class Louder(Langevin):
        def noise_amplitude(self, t=0.0):
            return 3.0 * super().noise_amplitude(t)

    U = Landscape(lambda x: 0.5 * x * x, grad=lambda x: x)
    kernel = compile_model(Louder(U, temperature=0.5), 1e-2)
    assert kernel.noise_factor[0, 0] == 3.0 * math.sqrt(2 * 0.5)
