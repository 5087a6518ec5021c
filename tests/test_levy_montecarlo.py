"""Levy Monte Carlo: Chambers-Mallows-Stuck variates and the stable-jump step kernel.

References, none produced by fpsolve: scipy.stats.levy_stable's distribution function and the
closed-form characteristic function exp(-|k|^alpha); the Laplace transform exp(-s^beta) of the
positive stable law; Getoor's mean exit time from an interval; the Levy-Ornstein-Uhlenbeck law at
time t. (The exit positions against the Blumenthal-Getoor-Ray law: tests/test_validate_levy.py.) Confidence bands: the
Dvoretzky-Kiefer-Wolfowitz inequality for distribution functions, P(sup |F_n - F| > e) <=
2 exp(-2 n e^2), and standard errors for means: for a symmetric stable Z with characteristic
function phi(k) = exp(-c |k|^alpha), Var cos(kZ) = (1 + phi(2k))/2 - phi(k)^2 <= 9/16 because
phi(2k) = phi(k)^(2^alpha) <= phi(k); a mean of n cosines has standard error <= 0.75/sqrt(n).
"""

import math

import numpy as np
import pytest
from scipy import stats

import fpsolve as fp
from fpsolve import levy_theory, validate
from fpsolve import montecarlo as mc
from fpsolve.montecarlo.em_step import _builtin_data
from fpsolve.montecarlo.levy import _builtin_minus_grad, levy_step_numpy
from fpsolve.montecarlo.levy_drift import make_drift_step
from fpsolve.montecarlo.levy_stable import draw, draw_numpy, positive_stable_numpy

FLAT = fp.landscapes.quadratic([[0.0]])
FLAT2 = fp.landscapes.quadratic([[0.0, 0.0], [0.0, 0.0]])


def cos_se(n):
    """Bound on the standard error of a mean of n cosines cos(k Z) (module docstring)."""
    return 0.75 / math.sqrt(n)


def dkw(n, p=1e-6):
    """Half-width of a DKW band that a correct sampler exceeds with probability p."""
    return math.sqrt(math.log(2 / p) / (2 * n))


# ------------------------------------------------------------------------------------------------
# the variates
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("alpha", [0.5, 1.0, 1.5, 1.9])
def test_cms_variates_follow_scipys_stable_law(alpha):
    n = 20_000
    z = np.sort(draw(3, 1, n, alpha, 0))
    points = np.linspace(-6, 6, 25)
    empirical = np.searchsorted(z, points) / n
    reference = stats.levy_stable.cdf(points, alpha, 0.0)  # scipy's S1 with beta = 0: e^{-|k|^alpha}
    assert np.max(np.abs(empirical - reference)) < dkw(n)
    for k in (0.3, 1.0, 2.5):  # the characteristic function itself, within 5 standard errors
        assert abs(np.cos(k * z).mean() - math.exp(-(k**alpha))) < 5 * cos_se(n)


def test_cms_kernel_matches_its_numpy_twin():
    # the same uniforms through the same formula: equal up to the last bits of pow/sin
    for alpha in (0.5, 1.0, 1.5, 2.0):
        np.testing.assert_allclose(draw(9, 4, 100, alpha, 0), draw_numpy(9, 4, 100, alpha), rtol=1e-13)


@pytest.mark.parametrize("alpha", [0.6, 1.5])
def test_positive_and_isotropic_stable_laws(alpha):
    # A: E exp(-s A) = exp(-s^(alpha/2)); a coordinate of the isotropic 2-D vector: exp(-|k|^alpha);
    # 5 standard errors of means of numbers in [0, 1] (sd <= 1/2)
    n = 40_000
    A = draw(4, 0, n, alpha, 1)
    for s in (0.3, 2.0):
        assert abs(np.exp(-s * A).mean() - math.exp(-(s ** (alpha / 2)))) < 5 * 0.5 / math.sqrt(n)
    z = draw(5, 0, n, alpha, 2)
    for k in (0.5, 2.0):
        assert abs(np.cos(k * z).mean() - math.exp(-(k**alpha))) < 5 * cos_se(n)
    u = np.array([2.0**-54, 0.5, 1 - 2.0**-54])  # finite at the kernel's extreme open uniforms
    assert np.all(np.isfinite(positive_stable_numpy(alpha / 2, u, np.full(3, 0.5))))


# ------------------------------------------------------------------------------------------------
# the step kernel in the simulator
# ------------------------------------------------------------------------------------------------
def test_one_step_matches_the_numpy_twin():
    model = fp.LevyLangevin(fp.landscapes.double_well(), alpha=1.3, scale=0.4)
    dt, x0 = 0.01, 0.3
    got = mc.simulator(model, dt=dt, seed=21).sample([x0], 1, [dt]).x[-1, 0, 0]
    z = draw_numpy(21, 0, 1, 1.3)
    expected = levy_step_numpy([x0], dt, lambda x: -4 * x * (x**2 - 1), [1.0], 0.0, [[0.0]], [0.4], [1.3], [0.0], z)
    assert got == pytest.approx(expected[0], rel=1e-13)


def test_flat_landscape_increments_are_exactly_stable_isotropic_and_per_axis():
    # U = 0: X_t - X_0 = eps L_t exactly, E cos(k . X_t) = exp(-t psi(k)); a diagonal k tells the
    # isotropic law (|k|^alpha) from the per-axis one (|k1|^alpha + |k2|^alpha): at k = (1, 1),
    # alpha = 1.2, t = 0.5, eps = 0.8 they are 0.560 and 0.465, 18 standard errors apart
    n, t, eps, alpha = 20_000, 0.5, 0.8, 1.2
    for isotropic in (True, False):
        model = fp.LevyLangevin(FLAT2, alpha, eps, isotropic=isotropic)
        x = mc.simulator(model, dt=0.05, seed=2).sample([0.0, 0.0], n, [t]).x[-1]
        for k in ([1.0, 1.0], [2.0, 0.0]):
            psi = model.jumps.symbol(*np.array(k))
            assert abs(np.cos(x @ np.array(k)).mean() - math.exp(-t * psi)) < 5 * cos_se(n)


def test_learning_rate_schedule_sets_the_jump_scale_per_step():
    # LevySGD with lr(t) = 0.1 / (1 + t) and U = 0: the step k draws scale eps(k h) h^(1/alpha), so
    # X_t is stable with scale^alpha = sum_k eps(k h)^alpha h exactly (no drift, exact increments)
    alpha, h, t, n = 1.5, 0.05, 2.0, 20_000
    model = fp.LevySGD(FLAT, lr=lambda s: 0.1 / (1 + s), batch_size=4, alpha=alpha)
    x = mc.simulator(model, dt=h, seed=9).sample([0.0], n, [t]).x[-1, :, 0]
    scale_alpha = sum(model.jump_law(k * h).scale ** alpha * h for k in range(round(t / h)))
    constant = model.jump_law(0.0).scale ** alpha * t  # what ignoring the schedule would give
    for k in (1.5, 3.0):
        expected = math.exp(-scale_alpha * k**alpha)
        assert abs(np.cos(k * x).mean() - expected) < 5 * cos_se(n)
    # the schedule matters here: the constant-lr law differs by 19 standard errors at k = 3
    assert abs(math.exp(-constant * 3.0**alpha) - math.exp(-scale_alpha * 3.0**alpha)) > 15 * cos_se(n)


def test_levy_ou_law_at_time_t():
    # dX = -lam X dt + eps dL: X_t is stable, centre x0 e^{-lam t}, scale
    # eps ((1 - e^{-alpha lam t}) / (alpha lam))^(1/alpha) -> eps (alpha lam)^(-1/alpha) (stationary).
    # Euler with step h makes the scale eps h^(1/alpha) (sum_k (1 - lam h)^(alpha k))^(1/alpha):
    # 0.34 % larger here; that shifts the characteristic function by < 0.002, under the 5 se = 0.0375
    # band, which still catches a 15 % error in the scale (0.063 at k = 3)
    lam, eps, alpha, n, t, h = 1.0, 0.6, 1.5, 10_000, 4.0, 0.02
    model = fp.LevyLangevin(fp.landscapes.quadratic([[lam]]), alpha, eps)
    x = mc.simulator(model, dt=h, seed=5).sample([1.0], n, [t]).x[-1, :, 0]
    scale = eps * ((1 - math.exp(-alpha * lam * t)) / (alpha * lam)) ** (1 / alpha)
    centre = math.exp(-lam * t)
    for k in (1.0, 3.0):
        assert abs(np.cos(k * (x - centre)).mean() - math.exp(-((scale * k) ** alpha))) < 5 * cos_se(n)
    quartiles = stats.levy_stable.ppf([0.25, 0.75], alpha, 0.0, loc=centre, scale=scale)
    inside = np.mean((x > quartiles[0]) & (x < quartiles[1]))
    assert abs(inside - 0.5) < 5 * 0.5 / math.sqrt(n)


@pytest.mark.parametrize("alpha, x0", [(1.5, 0.0), (0.8, 0.0), (1.5, 0.9)])
def test_exit_time_from_an_interval_matches_getoor(alpha, x0):
    # Getoor: tau(x) = (r^2 - x^2)^(alpha/2) / (Gamma(1 + alpha) eps^alpha), U = 0. The increments
    # are exact; discrete monitoring misses out-and-back excursions within a step, which
    # overestimates tau: benchmarks/levy_monitoring_bias.py measures from x = 0 a relative bias of
    # about 1.1-1.6 (eps dt^(1/alpha) / r) for alpha in [1.2, 1.8] (+1.1 % at alpha = 1.5, dt = 1e-3;
    # +0.2 % at alpha = 0.8). The band: 4 standard errors of n = 6000 paths (about 1.1 % each) plus
    # that bias, bounded by 1.6 dt^(1/alpha) tau.
    r, eps, n, dt = 1.0, 1.0, 6000, 1e-3
    tau = (r * r - x0 * x0) ** (alpha / 2) / (math.gamma(1 + alpha) * eps**alpha)
    sim = mc.simulator(fp.LevyLangevin(FLAT, alpha, eps), dt=dt, seed=13)
    run = sim.exit_times([x0], n, domain=mc.Box([(-r, r)]), t_max=60 * tau)
    assert not run.censored.any()
    se = run.times.std(ddof=1) / math.sqrt(n)
    assert abs(run.times.mean() - tau) < 4 * se + 1.6 * dt ** (1 / alpha) * tau
    # exits happen where the jump lands, beyond the boundary, never on it
    assert np.all(np.abs(run.locations[:, 0]) > r)


def test_bounds_censor_jumps_and_runs_are_reproducible():
    model = fp.LevyLangevin(fp.landscapes.double_well(), alpha=0.7, scale=0.5)
    sim = mc.simulator(model, dt=1e-2, seed=3, bounds=[(-2.0, 2.0)])
    a = sim.sample([0.0], 2000, [1.0, 2.0])
    assert np.all(np.abs(a.x) <= 2.0)  # censored jumps, mirrored Euler steps: never outside
    assert any("censored" in note for note in sim.notes)
    b = mc.simulator(model, dt=1e-2, seed=3, bounds=[(-2.0, 2.0)]).sample([0.0], 2000, [1.0, 2.0])
    np.testing.assert_array_equal(a.x, b.x)
    c = sim.with_seed(4).sample([0.0], 2000, [1.0, 2.0])
    assert not np.array_equal(a.x, c.x)


# ------------------------------------------------------------------------------------------------
# where explicit Euler breaks: far jumps on a steep landscape
# ------------------------------------------------------------------------------------------------
def test_far_jumps_take_the_drift_implicit_step():
    # on U = (x^2 - 1)^2 explicit Euler from x = 1e10 with h = 1e-3 overflows; the drift-implicit
    # step solves y + 4 h y (y^2 - 1) = x (numpy's cubic roots as the reference)
    data = _builtin_data(fp.landscapes.double_well().grad_function, 1)
    params = (
        np.zeros((1, 2)),
        data,
        np.zeros((1, 1)),
        np.array([1.5]),
        np.array([1.0]),
        np.array([-np.inf]),
        np.array([np.inf]),
        False,
    )
    step = make_drift_step(_builtin_minus_grad)
    h, x = 1e-3, 1e10
    for _ in range(4):
        state = np.array([x])
        step(state, h, params)
        roots = np.roots([4 * h, 0.0, 1 - 4 * h, -x])
        expected = roots[np.abs(roots.imag) < 1e-9 * abs(roots).max()].real.max()
        assert state[0] == pytest.approx(expected, rel=1e-10)
        x = state[0]
    assert abs(x) < 20  # back within four steps (module docstring of levy_drift)
    near = np.array([0.5])  # where explicit Euler is stable it is taken, bit for bit
    step(near, h, params)
    assert near[0] == 0.5 + h * (-4 * 0.5 * (0.25 - 1))


def test_cauchy_flight_in_a_quartic_well_matches_chechkin():
    # alpha = 1, U = x^4/4, eps = 1: p = c^3 / (pi (c^4 - c^2 x^2 + x^4)), c = eps^(1/3) (Chechkin
    # et al. 2002). Cauchy jumps beyond |x| = 4 make explicit Euler unstable at h = 1e-2 (h U'' > 0.5)
    # and happen about 0.16 % of the steps: without the drift-implicit step paths overflow to NaN.
    # Euler's O(h) bias (about 1 %) is far below what 4000 samples resolve on chi-squared bins.
    # double_well(a, depth = a^4 / 4) is (x^2 - a^2)^2 / 4: with a = 1e-4 it is x^4/4 up to a
    # drift change of 1e-8 x, and it runs on the shared step of the built-in landscapes
    a = 1e-4
    quartic = fp.landscapes.double_well(a=a, depth=a**4 / 4)
    assert quartic.grad(np.array(2.0))[0] == pytest.approx(8.0, rel=1e-8)
    model = fp.LevyLangevin(quartic, alpha=1.0, scale=1.0)
    x = mc.simulator(model, dt=1e-2, seed=31).sample([0.0], 4000, [6.0]).x[-1]
    assert np.isfinite(x).all()
    grid = fp.Grid([(-6.0, 6.0)], [240])
    fine = np.linspace(-6, 6, 240 * 20 + 1)
    cell_mean = levy_theory.chechkin_density(0.5 * (fine[1:] + fine[:-1]), 1.0).reshape(240, 20).mean(axis=1)
    report = validate.densities(x, cell_mean, grid=grid)
    assert report.passed, report
