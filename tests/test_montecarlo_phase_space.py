"""The phase-space (BAOAB) simulator of kinetic models and the heavy ball in phase space.

References, none from an fpsolve solver:
* the harmonic phase-space process is linear: its mean and covariance at time t are the closed
  forms e^{Mt} m0 and Van Loan's block exponential (REFERENCES.md, Ornstein-Uhlenbeck); the BAOAB
  recursion on it is linear too, so its exact discrete moments (numpy matrix products) give the
  step's O(dt^2) bias exactly;
* Kunin et al. 2021's stationary variances of heavy-ball SGD (DESIGN.md section 1);
* the Maxwell-Boltzmann law e^{-(U + v^2/2)/T}, integrated over cells numerically;
* the overdamped mean exit time (Gardiner's double integral by scipy quad) for the high-friction
  limit;
* the exact stationary second moments of the discrete heavy-ball recursion with real minibatch
  noise (a 4 x 4 linear system in numpy).
Monte Carlo tolerances are Z = 4.5 standard errors: seeded runs are deterministic, and a correct
simulator fails one comparison with probability 7e-6, so a failure means a bug, not bad luck.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, linalg

import fpsolve as fp
from fpsolve.finite_sum import FiniteSumLoss
from fpsolve.montecarlo import Box, HalfSpace, simulator
from fpsolve.montecarlo.phase_space import baoab_step_numpy
from fpsolve.montecarlo.rng import normal_numpy

Z = 4.5


# ------------------------------------------------------------------------------------------------
# Linear references
# ------------------------------------------------------------------------------------------------
def ou_moments(stiffness, friction, amplitude2, m0, t):
    """Closed-form mean and covariance at t of d theta = v dt, dv = (-k theta - gamma v) dt + a dW
    from the point m0 (Van Loan: expm([[M, Q], [0, -M^T]] t))."""
    M = np.array([[0.0, 1.0], [-stiffness, -friction]])
    Q = np.diag([0.0, amplitude2])
    block = linalg.expm(np.block([[M, Q], [np.zeros((2, 2)), -M.T]]) * t)
    phi = block[:2, :2]
    return phi @ m0, block[:2, 2:] @ phi.T


def baoab_moments(stiffness_of_t, friction_of_t, amplitude_of_t, m0, dt, n_steps):
    """Exact mean and covariance of the BAOAB recursion on the linear force -k(t) theta, coefficients
    at each step's midpoint (numpy matrix products, no sampling)."""
    mean, cov = np.array(m0, dtype=float), np.zeros((2, 2))
    for k in range(n_steps):
        t = (k + 0.5) * dt
        K, g, a = stiffness_of_t(t), friction_of_t(t), amplitude_of_t(t)
        B = np.array([[1.0, 0.0], [-0.5 * dt * K, 1.0]])
        A = np.array([[1.0, 0.5 * dt], [0.0, 1.0]])
        O = np.diag([1.0, math.exp(-g * dt)])
        sd = a * math.sqrt(-math.expm1(-2 * g * dt) / (2 * g))
        P = B @ A @ O @ A @ B
        G = B @ A @ np.array([[0.0], [sd]])
        mean, cov = P @ mean, P @ cov @ P.T + G @ G.T
    return mean, cov


def assert_moments(samples, mean, cov, extra=(0.0, 0.0)):
    """MC mean and covariance within Z standard errors (Gaussian law: Var C_ij = (C_ii C_jj + C_ij^2)/n)
    plus an allowed bias ``extra`` = (on the mean, on the covariance)."""
    x = samples
    n = x.shape[0]
    se_mean = np.sqrt(np.diag(cov) / n)
    np.testing.assert_array_less(np.abs(x.mean(axis=0) - mean), Z * se_mean + extra[0])
    se_cov = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / n)
    np.testing.assert_array_less(np.abs(np.cov(x.T) - cov), Z * se_cov + extra[1])


# ------------------------------------------------------------------------------------------------
# The step
# ------------------------------------------------------------------------------------------------
def test_one_step_is_the_baoab_splitting_with_the_streams_normals():
    U = fp.landscapes.double_well()
    model = fp.UnderdampedLangevin(U, friction=0.7, temperature=0.3)
    dt, start = 0.05, np.array([-0.8, 0.4])
    x = simulator(model, dt, seed=11).sample(start, 1, times=[dt]).x[-1, 0]
    force = lambda th: -np.array([4 * th[0] * (th[0] ** 2 - 1)])  # noqa: E731
    theta, v = baoab_step_numpy(
        start[:1], start[1:], dt, force, lambda th: np.eye(1), 0.7, math.sqrt(2 * 0.7 * 0.3), normal_numpy(11, 0, 1)
    )
    # the same arithmetic in another order: agreement to a few ulps of O(1) numbers
    np.testing.assert_allclose(x, np.concatenate([theta, v]), rtol=0, atol=1e-14)


def test_harmonic_langevin_moments_match_the_closed_form():
    k, gamma, T, t, dt = 4.0, 0.5, 0.3, 1.5, 0.05
    model = fp.UnderdampedLangevin(fp.landscapes.quadratic([[k]]), friction=gamma, temperature=T)
    m0 = np.array([1.0, -0.5])
    x = simulator(model, dt, seed=3).sample(m0, 40_000, times=[t]).x[-1]
    mean, cov = ou_moments(k, gamma, 2 * gamma * T, m0, t)
    d_mean, d_cov = baoab_moments(
        lambda s: k, lambda s: gamma, lambda s: math.sqrt(2 * gamma * T), m0, dt, round(t / dt)
    )
    # the splitting's own bias, exact for this linear process: O((omega dt)^2) = O(1e-2) relative
    bias = (np.abs(d_mean - mean).max(), np.abs(d_cov - cov).max())
    assert bias[0] < 0.02 and bias[1] < 0.02 * np.abs(cov).max()
    assert_moments(x, d_mean, d_cov)  # the kernel is the BAOAB recursion
    assert_moments(x, mean, cov, extra=bias)  # hence the SDE, up to the known bias


def test_two_parameter_phase_space_moments_match_the_closed_form():
    # theta in R^2, a coupled harmonic well: phase space is 4-D; closed form by Van Loan (4 x 4
    # blocks), BAOAB's bias exactly from its recursion
    H, gamma, T, t, dt = np.array([[2.0, 0.5], [0.5, 1.0]]), 0.7, 0.4, 1.0, 0.05
    model = fp.UnderdampedLangevin(fp.landscapes.quadratic(H), friction=gamma, temperature=T)
    m0 = np.array([0.5, -0.5, 0.0, 0.3])
    x = simulator(model, dt, seed=12).sample(m0, 40_000, times=[t]).x[-1]
    I, Z2 = np.eye(2), np.zeros((2, 2))
    M = np.block([[Z2, I], [-H, -gamma * I]])
    Q = np.block([[Z2, Z2], [Z2, 2 * gamma * T * I]])
    block = linalg.expm(np.block([[M, Q], [np.zeros((4, 4)), -M.T]]) * t)
    mean, cov = block[:4, :4] @ m0, block[:4, 4:] @ block[:4, :4].T
    B = np.block([[I, Z2], [-0.5 * dt * H, I]])
    A = np.block([[I, 0.5 * dt * I], [Z2, I]])
    O = np.block([[I, Z2], [Z2, math.exp(-gamma * dt) * I]])
    sd = math.sqrt(2 * gamma * T) * math.sqrt(-math.expm1(-2 * gamma * dt) / (2 * gamma))
    P, G = B @ A @ O @ A @ B, B @ A @ np.vstack([Z2, sd * I])
    d_mean, d_cov = m0.copy(), np.zeros((4, 4))
    for _ in range(round(t / dt)):
        d_mean, d_cov = P @ d_mean, P @ d_cov @ P.T + G @ G.T
    bias = (np.abs(d_mean - mean).max(), np.abs(d_cov - cov).max())
    assert bias[1] < 0.02 * np.abs(cov).max()
    assert_moments(x, d_mean, d_cov)
    assert_moments(x, mean, cov, extra=bias)


@pytest.mark.slow
def test_momentum_sgd_hessian_noise_reaches_kunins_stationary_variances():
    lr, beta, batch, sigma2 = 1e-2, 0.9, 8, 1.0
    model = fp.MomentumSGD(
        fp.landscapes.quadratic([[1.0]]), lr=lr, batch_size=batch, momentum=beta, noise="hessian", noise_scale=sigma2
    )
    dt, t = 0.01, 2.0  # relaxation rate gamma / 2 = 5.3: e^{-21} of the start is left at t = 2
    x = simulator(model, dt, seed=5).sample((0.0, 0.0), 40_000, times=[t]).x[-1]
    var_theta = lr * sigma2 / (2 * batch * (1 - beta))
    var_v = sigma2 * 1.0 / (batch * (1 - beta**2))
    c = 2 / (lr * (1 + beta))
    _, d_cov = baoab_moments(
        lambda s: c,
        lambda s: c * (1 - beta),
        lambda s: c * math.sqrt(lr / batch * sigma2),
        np.zeros(2),
        dt,
        round(t / dt),
    )
    kunin = np.diag([var_theta, var_v])
    bias = np.abs(d_cov - kunin)
    # BAOAB keeps the harmonic theta-variance exact; Var v is off by O((omega dt)^2), omega = 10.3
    assert bias[0, 0] < 1e-3 * var_theta and bias[1, 1] < 0.02 * var_v
    assert_moments(x, np.zeros(2), d_cov)
    assert_moments(x, np.zeros(2), kunin, extra=(0.0, bias))


def test_learning_rate_schedule_moments_match_the_moment_equations():
    lr_of_t = lambda t: 0.02 / (1.0 + t)  # noqa: E731
    beta, batch = 0.8, 4
    model = fp.MomentumSGD(fp.landscapes.quadratic([[1.0]]), lr=lr_of_t, batch_size=batch, momentum=beta)
    dt, t, m0 = 0.005, 1.0, np.array([0.5, 0.0])
    x = simulator(model, dt, seed=9).sample(m0, 40_000, times=[t]).x[-1]
    c = lambda s: 2 / (lr_of_t(s) * (1 + beta))  # noqa: E731

    def moments(s, y):  # d m = M m, d C = M C + C M^T + diag(0, a^2) (isotropic Sigma = 1)
        M = np.array([[0.0, 1.0], [-c(s), -c(s) * (1 - beta)]])
        C = y[2:].reshape(2, 2)
        dC = M @ C + C @ M.T + np.diag([0.0, c(s) ** 2 * lr_of_t(s) / batch])
        return np.concatenate([M @ y[:2], dC.ravel()])

    y = integrate.solve_ivp(moments, (0, t), np.concatenate([m0, np.zeros(4)]), rtol=1e-11, atol=1e-13).y[:, -1]
    mean, cov = y[:2], y[2:].reshape(2, 2)
    d_mean, d_cov = baoab_moments(
        c, lambda s: c(s) * (1 - beta), lambda s: c(s) * math.sqrt(lr_of_t(s) / batch), m0, dt, round(t / dt)
    )
    bias = (np.abs(d_mean - mean).max(), np.abs(d_cov - cov).max())
    assert bias[1] < 0.01 * np.abs(cov).max()  # midpoint coefficients: second order in dt
    assert_moments(x, d_mean, d_cov)
    assert_moments(x, mean, cov, extra=bias)


# ------------------------------------------------------------------------------------------------
# Laws, walls, exits
# ------------------------------------------------------------------------------------------------
def maxwell_boltzmann_cells(grid, U, T, refine=8):
    """Cell averages of e^{-(U + v^2/2)/T} / Z on a (theta, v) grid (midpoint rule on a grid refined
    ``refine`` times; error O((h / refine)^2) ~ 1e-6 relative), normalised on the grid."""
    (a, b), (c, d) = grid.bounds
    nt, nv = grid.shape
    th = a + (np.arange(nt * refine) + 0.5) * (b - a) / (nt * refine)
    v = c + (np.arange(nv * refine) + 0.5) * (d - c) / (nv * refine)
    pt = np.exp(-U(th) / T).reshape(nt, refine).mean(axis=1)
    pv = np.exp(-(v**2) / (2 * T)).reshape(nv, refine).mean(axis=1)
    p = np.outer(pt, pv)
    return p / (p.sum() * grid.cell_volume)


def sample_maxwell_boltzmann(U, T, n, rng, lo=-2.5, hi=2.5):
    """Exact draws: theta by inverse CDF of e^{-U/T} on [lo, hi] (10^5-node table), v ~ N(0, T)."""
    th = np.linspace(lo, hi, 100_001)
    cdf = integrate.cumulative_trapezoid(np.exp(-U(th) / T), th, initial=0.0)
    theta = np.interp(rng.uniform(0, cdf[-1], n), cdf, th)
    return np.stack([theta, rng.normal(0.0, math.sqrt(T), n)], axis=1)


def test_double_well_keeps_the_maxwell_boltzmann_law():
    T = 0.5
    U = lambda x: (x**2 - 1) ** 2  # noqa: E731
    model = fp.UnderdampedLangevin(fp.landscapes.double_well(), friction=1.0, temperature=T)
    starts = sample_maxwell_boltzmann(U, T, 20_000, np.random.default_rng(1))
    x = simulator(model, 0.02, seed=2).sample(starts, times=[4.0]).x[-1]
    grid = fp.phase_space_grid((-2.5, 2.5), (-4.0, 4.0), (100, 80))
    report = fp.validate.phase_space(x, maxwell_boltzmann_cells(grid, U, T), grid)
    assert report.passed, report
    # the marginals are the sharp tests: a 20 % temperature error is visible in both
    wrong = fp.validate.phase_space(x, maxwell_boltzmann_cells(grid, U, 1.2 * T), grid)
    assert not wrong.parts["theta"].passed and not wrong.parts["v"].passed


def test_walls_in_theta_are_specular():
    # nearly ballistic (friction 1e-6, T 1e-10): from theta 1.4 at speed 1 the wall at 1.5 is hit
    # after 0.1 and the particle comes back: theta = 1.4, v = -1 at t = 0.2
    model = fp.UnderdampedLangevin(fp.landscapes.quadratic([[0.0]]), friction=1e-6, temperature=1e-10)
    box = fp.phase_space_grid((-1.5, 1.5), (-5.0, 5.0), (30, 10))
    x = simulator(model, 0.05, seed=0, bounds=box).sample((1.4, 1.0), 4, times=[0.2]).x[-1]
    np.testing.assert_allclose(x, np.tile([1.4, -1.0], (4, 1)), atol=1e-6)


def test_specular_walls_keep_the_truncated_maxwell_boltzmann_law():
    # harmonic well cut by walls at +-1 (26 % of the mass of N(0, T = 0.5) lies beyond): a mirror
    # of theta alone would pile mass at the walls; specular reflection keeps the truncated law
    T = 0.5
    U = lambda x: 0.5 * x**2  # noqa: E731
    model = fp.UnderdampedLangevin(fp.landscapes.quadratic([[1.0]]), friction=0.5, temperature=T)
    grid = fp.phase_space_grid((-1.0, 1.0), (-4.0, 4.0), (40, 40))
    starts = sample_maxwell_boltzmann(U, T, 20_000, np.random.default_rng(4), lo=-1.0, hi=1.0)
    x = simulator(model, 0.02, seed=6, bounds=grid).sample(starts, times=[4.0]).x[-1]
    report = fp.validate.phase_space(x, maxwell_boltzmann_cells(grid, U, T), grid)
    assert report.passed, report


def overdamped_exit_time(U, T, start, end, left=-4.0):
    """Gardiner's double integral: (1/T) int_start^end e^{U(y)/T} int_left^y e^{-U(z)/T} dz dy."""
    inner = lambda y: integrate.quad(lambda z: math.exp(-U(z) / T), left, y, points=[-1.0] if y > -1 else None)[0]  # noqa: E731
    return integrate.quad(lambda y: math.exp(U(y) / T) * inner(y), start, end, points=[0.0], limit=200)[0] / T


@pytest.mark.slow
def test_high_friction_exit_time_is_friction_times_the_overdamped_one():
    gamma, T = 20.0, 1.0
    U = lambda x: (x**2 - 1) ** 2  # noqa: E731
    model = fp.UnderdampedLangevin(fp.landscapes.double_well(), friction=gamma, temperature=T)
    # friction dt = 0.2 keeps BAOAB's dynamics within 0.5 % (MAX_FRICTION_STEP's table)
    exits = simulator(model, 0.01, seed=8).exit_times((-1.0, 0.0), 8_000, HalfSpace((1.0, 0.0), 1.0), t_max=1e5)
    # the Smoluchowski limit with its two leading corrections: the absorbing point moves out by the
    # Milne extrapolation length 1.0326 sqrt(T) / gamma (Hagan, Doering & Levermore 1989: +2.4 %
    # here), and barrier recrossings slow the escape by Kramers' factor
    # kappa = gamma (sqrt(gamma^2/4 + omega_b^2) - gamma/2) / omega_b^2 = 0.990 (omega_b^2 = 4)
    milne = 1.0326 * math.sqrt(T) / gamma
    kappa = gamma * (math.sqrt(gamma**2 / 4 + 4.0) - gamma / 2) / 4.0
    reference = gamma * overdamped_exit_time(U, T, -1.0, 1.0 + milne) / kappa
    plain = gamma * overdamped_exit_time(U, T, -1.0, 1.0)
    assert reference / plain - 1 > 0.03  # the corrections matter at this friction...
    # ...and what they leave is O(U''/gamma^2) <= 8/400 = 2 %, + 0.5 % BAOAB, + Z standard errors
    assert abs(exits.mean - reference) < Z * exits.standard_error + 0.025 * reference


def test_large_friction_steps_are_refused():
    model = fp.UnderdampedLangevin(fp.landscapes.double_well(), friction=40.0, temperature=0.5)
    with pytest.raises(ValueError, match=r"dt: friction x dt = 2.*take dt <= 0.0125"):
        simulator(model, 0.05, seed=0).sample((-1.0, 0.0), 10, times=[1.0])


@pytest.mark.slow
def test_exit_domains_in_phase_space_agree_exactly():
    # theta carries no noise: no Brownian-bridge test along it, so a half-space, a box and a
    # predicate all test theta at step ends and give the same exits path by path
    model = fp.UnderdampedLangevin(fp.landscapes.double_well(), friction=1.0, temperature=0.5)
    sim = simulator(model, 0.05, seed=4)
    runs = [
        sim.exit_times((-1.0, 0.0), 400, domain, t_max=1e4).times
        for domain in (
            HalfSpace((1.0, 0.0), 0.0),
            Box([(-np.inf, 0.0), (-np.inf, np.inf)]),
            lambda theta, v: theta < 0.0,
        )
    ]
    assert np.isfinite(runs[0]).all() and runs[0].min() > 0
    np.testing.assert_array_equal(runs[0], runs[1])
    np.testing.assert_array_equal(runs[0], runs[2])


def regression_data():
    rng = np.random.default_rng(0)
    x = rng.normal(0.0, 1.0, 64)
    return x, 2.0 * x + 0.5 * rng.normal(size=64)


@pytest.mark.slow
def test_empirical_noise_matches_the_exact_stationary_moments_of_the_sde():
    # least squares: Sigma(theta) = Var_i(x_i^2 theta - x_i y_i) = s2 theta^2 + s1 theta + s0 exactly,
    # so the SDE's second moments close: Var theta = a^2 Sigma(theta*) / (2 gamma c lambda - a^2 s2),
    # Var v = c lambda Var theta (moment equations of d theta = v dt, dv = -gamma v - c lambda
    # (theta - theta*) + a Sigma^(1/2) dW; with s2 = 0 this is Kunin's formula)
    x, y = regression_data()
    lr, beta, batch = 0.05, 0.9, 4
    model = fp.MomentumSGD(
        FiniteSumLoss.linear_regression(x[:, None], y), lr=lr, batch_size=batch, momentum=beta, noise="empirical"
    )
    with pytest.raises(ValueError, match="bounds=Grid"):  # functions numba cannot compile need a box
        simulator(model, 0.01, seed=0)
    box = fp.phase_space_grid((1.0, 3.0), (-5.0, 5.0), (50, 50))  # +-9 standard deviations
    sim = simulator(model, 0.01, seed=1, bounds=box)
    assert any("force tabulated" in note for note in sim.notes)
    assert any("noise Sigma^(1/2) tabulated" in note for note in sim.notes)
    h, b = x**2, x * y
    lam, theta_star = h.mean(), b.mean() / h.mean()
    s2, s1, s0 = h.var(), -2 * np.mean((h - h.mean()) * (b - b.mean())), b.var()
    c = 2 / (lr * (1 + beta))
    gamma, a2 = c * (1 - beta), c**2 * lr / batch
    var_theta = a2 * (s2 * theta_star**2 + s1 * theta_star + s0) / (2 * gamma * c * lam - a2 * s2)
    var_v = c * lam * var_theta
    # relaxation rate gamma / 2 = 1.05: e^{-12.6} of the start is left at t = 12; BAOAB at
    # omega dt = 0.046 is within 0.3 % (exact recursion, as above), far below Z se = 6 %; the
    # tables interpolate a linear force exactly and Sigma to h^2 s2 / 4 = 1e-4 of it
    points = sim.sample((theta_star, 0.0), 10_000, times=[12.0]).x[-1]
    assert_moments(
        points,
        np.array([theta_star, 0.0]),
        np.diag([var_theta, var_v]),
        extra=(0.0, 0.003 * np.diag([var_theta, var_v])),
    )


def test_a_kinetic_model_with_another_force_law_is_refused():
    class Pushed(fp.UnderdampedLangevin):
        def force(self, *theta, t=0.0):
            return super().force(*theta, t=t) + 1.0

    model = Pushed(fp.landscapes.double_well(), friction=1.0, temperature=0.5)
    with pytest.raises(ValueError, match="register_step_kernel"):
        simulator(model, 0.01)


# ------------------------------------------------------------------------------------------------
# The discrete heavy ball in phase space
# ------------------------------------------------------------------------------------------------
def heavy_ball_stationary(x, y, lr, beta, batch):
    """Exact stationary (mean, Var theta, Var v) of the heavy ball on 1-D least squares with
    minibatches drawn with replacement: z = (theta_k, theta_{k-1}), z' = M z + e with
    M = [[1 + beta - lr h, -beta], [1, 0]], e = (lr b, 0), h = mean x_i^2, b = mean x_i y_i over the
    batch; the second moments solve a 4 x 4 linear system."""
    hi, bi = x**2, x * y
    Eh, Eb = hi.mean(), bi.mean()
    Ehh = Eh**2 + hi.var() / batch
    Ehb = Eh * Eb + np.mean((hi - Eh) * (bi - Eb)) / batch
    Ebb = Eb**2 + bi.var() / batch
    M0, E = np.array([[1 + beta, -beta], [1.0, 0.0]]), np.diag([1.0, 0.0])
    mean = np.full(2, Eb / Eh)
    op = np.kron(M0, M0) - lr * Eh * (np.kron(M0, E) + np.kron(E, M0)) + lr**2 * Ehh * np.kron(E, E)
    e1 = np.array([1.0, 0.0])
    cross = lr * (np.outer(M0 @ mean * Eb - lr * Ehb * E @ mean, e1))
    rhs = cross + cross.T + lr**2 * Ebb * np.outer(e1, e1)
    S = np.linalg.solve(np.eye(4) - op, rhs.ravel()).reshape(2, 2)
    cov = S - np.outer(mean, mean)
    return mean[0], cov[0, 0], (cov[0, 0] - 2 * cov[0, 1] + cov[1, 1]) / lr**2


def test_heavy_ball_phase_space_matches_its_exact_stationary_law():
    x, y = regression_data()
    loss = FiniteSumLoss.linear_regression(x[:, None], y)
    lr, beta, batch = 0.05, 0.9, 4
    it = fp.montecarlo.sgd(
        loss, lr, batch, 800, theta0=[0.0], n_runs=20_000, seed=3, momentum=beta, record=[0, 800], velocities=True
    )
    points = it.phase_space(-1)
    assert points.shape == (20_000, 2) and np.all(it.velocity[0] == 0.0)
    mean, var_theta, var_v = heavy_ball_stationary(x, y, lr, beta, batch)
    for values, m, var in ((points[:, 0], mean, var_theta), (points[:, 1], 0.0, var_v)):
        # se of a variance from the sample fourth moment (the law is not Gaussian: multiplicative noise)
        se = math.sqrt(np.mean((values - values.mean()) ** 4) - values.var() ** 2) / math.sqrt(len(values))
        assert abs(values.var() - var) < Z * se
        assert abs(values.mean() - m) < Z * math.sqrt(var / len(values))
    # the SDE of MomentumSGD(noise="empirical") (exact stationary moments, previous test) is within
    # 1.2 % of the algorithm at lr lambda / (1 - beta) = 0.42 (0.22 % at lr = 0.01, 0.04 % at 0.002:
    # the deviation is proportional to lr); Kunin's formula with Sigma frozen at the minimum misses
    # the noise's growth away from it and is 10.3 % low, which the runs resolve
    h, b = x**2, x * y
    lam, theta_star = h.mean(), b.mean() / h.mean()
    s2, s1, s0 = h.var(), -2 * np.mean((h - h.mean()) * (b - b.mean())), b.var()
    c = 2 / (lr * (1 + beta))
    a2, sigma_star = c**2 * lr / batch, s2 * theta_star**2 + s1 * theta_star + s0
    sde_theta = a2 * sigma_star / (2 * c * (1 - beta) * c * lam - a2 * s2)
    kunin_theta = lr * sigma_star / (2 * batch * (1 - beta) * lam)
    assert var_theta / sde_theta == pytest.approx(1.0121, abs=1e-4)
    assert var_v / (c * lam * sde_theta) == pytest.approx(1.0121, abs=1e-4)
    assert var_theta / kunin_theta == pytest.approx(1.1029, abs=1e-4)
    values = points[:, 0]
    se = math.sqrt(np.mean((values - values.mean()) ** 4) - values.var() ** 2) / math.sqrt(len(values))
    measured = values.var() / kunin_theta - 1
    assert abs(measured - 0.1029) < Z * se / kunin_theta and measured > 3 * se / kunin_theta
