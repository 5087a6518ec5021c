"""Tests of fpsolve.montecarlo: random streams, Euler-Maruyama moments and exit times, plug-ins,
and discrete SGD / heavy ball / Adam, each against an independent closed form."""

import math
import types

import numba
import numpy as np
import pytest
from numba import njit
from scipy import integrate, stats

import fpsolve.montecarlo as mc
from fpsolve import landscapes
from fpsolve.dynamics import SGD, Langevin
from fpsolve.grid import Grid
from fpsolve.landscape import Landscape
from fpsolve.montecarlo import rng as R
from fpsolve.montecarlo.compile import _Table, _vector_adapter, compile_model, interpolate, sqrt_abs_2x2, sqrt_abs_numpy
from fpsolve.montecarlo.em_step import _builtin_data, builtin_drift, builtin_step
from fpsolve.montecarlo.sde import _crossing_probability, crossing_probability_numpy

# ------------------------------------------------------------------------------------------------
# random numbers
# ------------------------------------------------------------------------------------------------


@njit
def _draw_bits(seed, path, n):
    rng = R.new_stream(seed, path)
    out = np.empty(n, np.uint64)
    for i in range(n):
        out[i] = R.next_u64(rng)
    return out


@njit
def _draw_normals(seed, path, n):
    rng = R.new_stream(seed, path)
    out = np.empty(n)
    for i in range(n):
        out[i] = R.normal(rng)
    return out


def test_streams_match_plain_python_twin():
    assert np.array_equal(_draw_bits(7, 3, 64), R.stream_numpy(7, 3, 64))
    # 3000 normals exercise the wedge and tail branches (2.7 % of draws leave the rectangles)
    assert np.array_equal(_draw_normals(7, 3, 3000), R.normal_numpy(7, 3, 3000))
    assert not np.array_equal(_draw_bits(7, 3, 8), _draw_bits(7, 4, 8))  # paths differ
    assert not np.array_equal(_draw_bits(8, 3, 8), _draw_bits(7, 3, 8))  # seeds differ


def test_gaussians_pass_moment_and_ks_checks():
    n = 400_000
    z = _draw_normals(1, 0, n)
    # sample moments of N(0,1): se(mean) = 1/sqrt(n), se(var) = sqrt(2/n), se(kurt) = sqrt(24/n)
    assert abs(z.mean()) < 4 / math.sqrt(n)
    assert abs(z.var() - 1) < 4 * math.sqrt(2 / n)
    assert abs(stats.kurtosis(z)) < 4 * math.sqrt(24 / n)
    assert stats.kstest(z, "norm").pvalue > 1e-4
    # the tail beyond the ziggurat base r = 3.44 has the right mass (binomial 4-sigma band)
    p = 2 * stats.norm.sf(3.442619855899)
    assert abs(np.mean(np.abs(z) > 3.442619855899) - p) < 4 * math.sqrt(p / n)


# ------------------------------------------------------------------------------------------------
# small numeric kernels vs their numpy twins
# ------------------------------------------------------------------------------------------------


def test_matrix_root_and_interpolation_match_numpy_twins():
    S = np.empty((2, 2))
    for a, b, c in [(2.0, 0.5, -1.0), (1e-4, 0.0, 3.0), (-1.0, 2.0, -1.0), (1.0, 0.0, 1.0)]:
        sqrt_abs_2x2(a, b, c, 1e-2, S)
        assert np.allclose(S, sqrt_abs_numpy(np.array([[a, b], [b, c]]), 1e-2), atol=1e-12)
    grid = Grid([(-1, 2), (0, 1)], [5, 4], periodic=[False, True])
    values = np.random.default_rng(0).standard_normal(grid.shape + (2,))
    table = _Table(grid, values)
    for x, y in [(-1.0, 0.05), (0.3, 0.99), (1.95, 0.5), (0.0, 0.0)]:
        for col in range(2):
            got = interpolate(*table.arrays(), x, y, 0.0, col)
            assert got == pytest.approx(grid.interpolate(values[..., col], x, y), abs=1e-13)


def test_bridge_probability_matches_numpy_twin_and_formula():
    A, c = np.array([[1.0, 0.0], [0.0, -1.0]]), np.array([0.0, 1.0])
    S = np.array([[0.5, 0.1], [0.1, 0.3]])
    x0, x1 = np.array([-0.05, 0.2]), np.array([-0.02, -0.9])
    p = _crossing_probability(x0, x1, A, c, S, 0.01)
    assert p == pytest.approx(crossing_probability_numpy(x0, x1, A, c, S, 0.01), rel=1e-14)
    # one face: exp(-2 d0 d1 / (sigma_n^2 dt)) with sigma_n^2 = (S S^T)_00 = 0.26
    p1 = _crossing_probability(x0, x1, A[:1], c[:1], S, 0.01)
    assert p1 == pytest.approx(math.exp(-2 * 0.05 * 0.02 / (0.26 * 0.01)), rel=1e-14)


def test_hessian_noise_factor_is_scaled_root_of_abs_hessian():
    # U = (x^2 - 1)^2 + x y + y^2: indefinite Hessian near x = 0
    U = Landscape(lambda x, y: (x * x - 1) ** 2 + x * y + y * y, grad=lambda x, y: (4 * x * (x * x - 1) + y, x + 2 * y))
    model = SGD(U, lr=0.1, batch_size=4, noise="hessian", noise_scale=2.0)
    kernel = compile_model(model, 1e-3)
    S = np.zeros((2, 2))
    x = np.array([0.1, -0.3])
    kernel.step(x.copy(), 0.0, 1e-3, R.new_stream(0, 0), kernel.parameters(1, 1e-3), S)
    H = U.hessian(0.1, -0.3)  # finite differences in numpy vs in-kernel differences of the jitted grad
    expected = math.sqrt(0.1 / 4) * math.sqrt(2.0) * sqrt_abs_numpy(H, 1e-2)
    assert np.allclose(S, expected, rtol=1e-7)  # FD Hessians agree to ~1e-10


def test_tabulated_drift_when_the_gradient_cannot_be_compiled():
    # no grad_function: the drift -U' is tabulated on the box (Landscape's numpy finite differences)
    U = Landscape(lambda x: np.cosh(x) + 0.5 * x**2)
    kernel = compile_model(Langevin(U, temperature=0.3), 1e-3, bounds=[(-2.0, 2.0)])
    assert kernel.notes and "tabulated" in kernel.notes[0]
    dt, x = 1e-3, 0.731
    state, S = np.array([x]), np.zeros((1, 1))
    kernel.step(state, 0.0, dt, R.new_stream(4, 9), kernel.parameters(1, dt), S)
    xi = R.normal_numpy(4, 9, 1)[0]  # the Gaussian the step drew (twin stream)
    drift = (state[0] - x - S[0, 0] * math.sqrt(dt) * xi) / dt
    assert S[0, 0] == pytest.approx(math.sqrt(0.6), rel=1e-14)
    # linear interpolation on 4096 cells of width h ~ 1e-3: error <= h^2/8 max|U^(3)| ~ 5e-7
    assert drift == pytest.approx(-(math.sinh(x) + x), abs=2e-6)


def _twin(U):
    """U with a copy of its gradient defined "elsewhere": compiled per model, not run as data."""
    g = U.grad_function
    copy = types.FunctionType(g.__code__, g.__globals__, "grad", g.__defaults__, g.__closure__)
    copy.__module__ = __name__
    return Landscape(U.f, grad=copy, ndim=U.ndim)


def test_builtin_landscapes_run_as_data_bitwise_like_their_compiled_gradients():
    # built-in polynomial landscapes run the cached generic step with the drift as data; it must
    # reproduce the compiled gradient (the per-model path, as for user functions) bitwise
    cases = [
        landscapes.double_well(a=1.3, depth=0.7),
        landscapes.tilted_double_well(0.3),
        landscapes.double_well_2d(1.7),
        landscapes.rotated_double_well(0.4, 2.5),
        landscapes.quadratic([[1.7]], [0.3]),
        landscapes.quadratic([[2, 0.3], [0.3, 1]], [0.1, -0.2]),
        landscapes.quadratic([[2, 0.3, -0.1], [0.3, 1, 0.2], [-0.1, 0.2, 1.5]], [0.1, -0.2, 0.3]),
    ]
    points = np.random.default_rng(0).uniform(-2, 2, (50, 3))
    for U in cases:
        d = U.ndim
        p = _builtin_data(U.grad_function, d)
        compiled = _vector_adapter(_twin(U).grad_function, d, -1.0)
        assert p is not None and _builtin_data(_twin(U).grad_function, d) is None
        for x in points:
            x = np.where(np.arange(3) < d, x, 0.0)
            assert builtin_drift(p, d, *x) == compiled(*x)
    # whole steps (time-dependent SGD coefficients, 2-D noise) agree bitwise too
    U = landscapes.rotated_double_well(0.4, 2.5)
    fast, slow = (compile_model(SGD(L, lr=lambda t: 0.1 / (1 + t), batch_size=4), 1e-2) for L in (U, _twin(U)))
    assert fast.step is builtin_step and slow.step is not builtin_step
    states = []
    for kernel in (fast, slow):
        state, S, rng = np.array([0.3, -0.8]), np.zeros((2, 2)), R.new_stream(1, 2)
        for k in range(5):
            kernel.step(state, k * 1e-2, 1e-2, rng, kernel.parameters(5, 1e-2), S)
        states.append(state)
    assert np.array_equal(states[0], states[1])


# ------------------------------------------------------------------------------------------------
# Euler-Maruyama: OU moments, exit time, censoring, reproducibility
# ------------------------------------------------------------------------------------------------
LAM, TEMP = 1.5, 0.4


def test_ou_moments_match_closed_form():
    # Langevin in U = lam x^2 / 2 (a built-in landscape: the cached generic kernel) is the OU
    # process dx = -lam x dt + sqrt(2 T) dW
    model = Langevin(landscapes.quadratic([[LAM]]), temperature=TEMP)
    dt, t, n, x0 = 1e-2, 1.0, 40_000, 1.0
    res = mc.simulator(model, dt=dt, seed=5).sample([x0], n, [0.5, t])
    x = res.x[-1, :, 0]
    # closed forms (REFERENCES.md, OU): mean e^{-lam t} x0, variance T/lam (1 - e^{-2 lam t})
    mean, var = math.exp(-LAM * t) * x0, TEMP / LAM * (1 - math.exp(-2 * LAM * t))
    # EM is exactly an AR(1) with a = 1 - lam dt: its bias vs the SDE is known in closed form
    a, k = 1 - LAM * dt, round(t / dt)
    mean_em, var_em = a**k * x0, 2 * TEMP * dt * (1 - a ** (2 * k)) / (1 - a * a)
    se_mean, se_var = math.sqrt(var / n), var * math.sqrt(2 / (n - 1))
    assert abs(x.mean() - mean) < 4 * se_mean + abs(mean_em - mean)
    assert abs(x.var(ddof=1) - var) < 4 * se_var + abs(var_em - var)
    assert abs(x.mean() - mean_em) < 4 * se_mean and abs(x.var(ddof=1) - var_em) < 4 * se_var


def _exact_exit_time(T=0.25, r=-2.5, s=0.0, x=-1.0):
    """tau(x) = (1/T) int_x^s e^{U(y)/T} int_r^y e^{-U(z)/T} dz dy (Gardiner ch. 5)."""
    U = lambda z: (z * z - 1) ** 2  # noqa: E731
    inner = lambda y: integrate.quad(
        lambda z: math.exp(-U(z) / T),
        r,
        y,
        points=[-1.0] if y > -1 else None,  # noqa: E731
        epsabs=0,
        epsrel=1e-12,
        limit=200,
    )[0]
    return integrate.quad(lambda y: math.exp(U(y) / T) * inner(y), x, s, epsabs=0, epsrel=1e-11)[0] / T


QUARTIC = landscapes.double_well()  # (x^2 - 1)^2


@pytest.fixture(scope="module")
def quartic_sim():
    return mc.simulator(Langevin(QUARTIC, temperature=0.25), dt=2e-3, seed=11, bounds=[(-2.5, 2.5)])


def test_exit_time_matches_double_integral(quartic_sim):
    exact = _exact_exit_time()
    assert exact == pytest.approx(33.9457442877, rel=1e-9)
    ex = quartic_sim.exit_times([-1.0], 4000, mc.Box([(-np.inf, 0.0)]), t_max=3000.0)
    assert not ex.censored.any()
    # with the Brownian-bridge test the bias is O(dt): about -1.75 dt relative (REFERENCES.md),
    # i.e. -0.35 % here, far below the 4-standard-error band (~6 %)
    bias = -1.75 * quartic_sim.dt * exact
    assert abs(ex.mean - (exact + bias)) < 4 * ex.standard_error
    # exits are detected at the step end next to the barrier: one step is ~sqrt(2 T dt) = 0.03
    assert np.all(np.abs(ex.locations[:, 0]) < 0.2)


def test_censoring_is_recorded_not_dropped(quartic_sim):
    ex = quartic_sim.exit_times([-1.0], 500, mc.Box([(-np.inf, 0.0)]), t_max=5.0)
    # P(tau > 5) ~ exp(-5/34) ~ 0.86: most paths are censored, all are kept
    assert ex.times.shape == (500,) and ex.censored.sum() > 300
    assert np.all(ex.times[ex.censored] == ex.t_max) and np.all(ex.times[~ex.censored] <= ex.t_max)
    with pytest.warns(RuntimeWarning, match="censored"):
        ex.mean


def test_same_seed_same_paths_for_any_thread_count(quartic_sim):
    box = mc.Box([(-np.inf, 0.0)])
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = quartic_sim.exit_times([-1.0], 64, box, t_max=20.0)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = quartic_sim.exit_times([-1.0], 64, box, t_max=20.0)
    finally:
        numba.set_num_threads(old)
    assert np.array_equal(one.times, two.times) and np.array_equal(one.locations, two.locations)
    other = quartic_sim.with_seed(12)  # same compiled kernel, different seed
    assert not np.array_equal(other.exit_times([-1.0], 64, box, t_max=20.0).locations, one.locations)


# ------------------------------------------------------------------------------------------------
# plug-in step kernels: an Ornstein-Uhlenbeck process in phase space (x, v)
# ------------------------------------------------------------------------------------------------
GAMMA, OMEGA2, KT = 1.0, 2.0, 0.5


@njit
def _kinetic_ou_step(state, t, dt, rng, params, S):
    gamma, omega2, temp = params[0], params[1], params[2]
    sigma = math.sqrt(2.0 * gamma * temp)
    # semi-implicit (symplectic) Euler: v first, then x with the new v
    state[1] += (-gamma * state[1] - omega2 * state[0]) * dt + sigma * math.sqrt(dt) * R.normal(rng)
    state[0] += state[1] * dt
    S[0, 0], S[0, 1], S[1, 0], S[1, 1] = 0.0, 0.0, 0.0, sigma


class KineticOU:
    """dx = v dt, dv = -(gamma v + omega^2 x) dt + sqrt(2 gamma T) dW (a plug-in model)."""

    ndim = 2

    def step_kernel(self, dt):
        return mc.StepKernel(step=_kinetic_ou_step, state_dim=2, params=np.array([GAMMA, OMEGA2, KT]))


@pytest.mark.slow
def test_plugin_phase_space_ou_reaches_maxwell_boltzmann():
    n, dt = 4000, 1e-2
    res = mc.simulator(KineticOU(), dt=dt, seed=2).sample([1.0, 0.0], n, [30.0])
    x, v = res.x[-1, :, 0], res.x[-1, :, 1]
    # stationary law exp(-(omega^2 x^2 / 2 + v^2 / 2) / T): Var x = T / omega^2, Var v = T; after
    # t = 30 the memory of the start is ~e^{-15}. Semi-implicit Euler's O(dt) bias in the variances
    # is ~gamma dt / 2 = 0.5 %, small against 4 standard errors (4 sqrt(2/n) = 9 %).
    for sample, var in ((x, KT / OMEGA2), (v, KT)):
        assert abs(sample.var(ddof=1) - var) < 4 * var * math.sqrt(2 / (n - 1)) + 0.01 * var
        assert abs(sample.mean()) < 4 * math.sqrt(var / n)


# ------------------------------------------------------------------------------------------------
# discrete algorithms on a FiniteSumLoss
# ------------------------------------------------------------------------------------------------
fs = pytest.importorskip("fpsolve.finite_sum")


def _location_loss(n=200, seed=0):
    """l_i = (theta - y_i)^2 / 2: H = 1 and the minibatch noise ybar - ybar_B does not depend on theta."""
    y = np.random.default_rng(seed).standard_normal(n)
    return fs.FiniteSumLoss.linear_regression(np.ones((n, 1)), y), y


def test_per_sample_gradients_match_numpy_twin():
    X, y = fs.make_dataset("nonlinear", n=5, seed=1)
    from fpsolve.montecarlo.discrete import _builtin_gradient, sample_gradient_numpy

    out = np.empty(2)
    for kind, code in (("nonlinear", 2),):
        _builtin_gradient(code, np.array([0.7, -1.3]), X[2], y[2], out)
        assert np.allclose(out, sample_gradient_numpy(kind, [0.7, -1.3], X[2], y[2]), rtol=1e-13)
    L = fs.FiniteSumLoss.nonlinear(X, y)
    assert np.allclose(L.minibatch_gradient([0.7, -1.3], [2]), out, rtol=1e-12)


def test_sgd_stationary_variance_matches_discrete_formula():
    loss, y = _location_loss()
    s2, lr, B, n = y.var(), 0.2, 4, 4000
    it = mc.sgd(loss, lr=lr, batch_size=B, n_steps=300, theta0=[0.0], n_runs=n, seed=3)
    # theta_{k+1} - ybar = (1 - lr)(theta_k - ybar) + lr xi_k, Var xi = s2 / B (with replacement):
    # the AR(1) stationary variance lr s2 / (B (2 - lr)) (the SDE gives lr s2 / (2B), 11 % lower).
    # After 300 steps the start is forgotten ((0.8)^600). 4-sigma band for a variance estimate.
    exact = lr * s2 / (B * (2 - lr))
    assert abs(it.theta[-1, :, 0].var(ddof=1) - exact) < 4 * exact * math.sqrt(2 / (n - 1))
    assert abs(it.theta[-1, :, 0].var() - lr * s2 / (2 * B)) > 0.05 * exact  # resolves the O(lr) term
    # heavy ball: AR(2) theta_{k+1} = a1 theta_k + a2 theta_{k-1} + lr xi, a1 = 1 + beta - lr, a2 = -beta
    beta = 0.5
    hb = mc.sgd(loss, lr=lr, batch_size=B, n_steps=300, theta0=[0.0], n_runs=n, seed=4, momentum=beta)
    a1, a2 = 1 + beta - lr, -beta
    exact_hb = (1 - a2) / ((1 + a2) * ((1 - a2) ** 2 - a1**2)) * lr**2 * s2 / B
    assert abs(hb.theta[-1, :, 0].var(ddof=1) - exact_hb) < 4 * exact_hb * math.sqrt(2 / (n - 1))


def test_sgd_without_replacement_and_exit_times():
    loss, y = _location_loss()
    # full-batch epochs without replacement: B = N gives the exact gradient, theta -> ybar geometrically
    it = mc.sgd(loss, lr=0.5, batch_size=len(y), n_steps=60, theta0=[3.0], n_runs=3, seed=0, replacement=False)
    assert np.allclose(it.theta[-1, :, 0], y.mean(), atol=1e-12)
    # exits: deterministic full-batch path from 3 towards ybar ~ 0 crosses theta < 1 at a known k
    ex = mc.sgd(
        loss,
        lr=0.5,
        batch_size=len(y),
        n_steps=60,
        theta0=[3.0],
        n_runs=2,
        seed=0,
        replacement=False,
        domain=mc.Box([(1.0, np.inf)]),
    ).exits
    k = next(k for k in range(1, 60) if y.mean() + (3.0 - y.mean()) * 0.5**k <= 1.0)
    assert np.all(ex.iterations == k) and np.allclose(ex.times, 0.5 * k) and not ex.censored.any()


def test_adam_converges_on_least_squares():
    X, y = fs.make_dataset("linear_regression", n=100, seed=2, ndim=2)
    loss = fs.FiniteSumLoss.linear_regression(X, y)
    theta_star = np.linalg.lstsq(X, y, rcond=None)[0]
    it = mc.adam(
        loss,
        lr=0.01,
        batch_size=100,
        n_steps=3000,
        theta0=[2.0, 2.0],
        n_runs=2,
        seed=0,
        replacement=False,
        record=[0, 3000],
    )
    # full-batch Adam with a constant lr settles within O(lr) of the minimiser (steps are <= lr)
    assert np.max(np.abs(it.theta[-1] - theta_star)) < 0.01
    assert np.linalg.norm(it.theta[0, 0] - theta_star) > 1.0
