"""The exit-time law against closed forms, against the same chain's dense matrix exponential, and
its mean and second moment against the backward equations on seeded random problems."""

import contextlib
import warnings

import numpy as np
import pytest
from scipy.linalg import expm
from scipy.special import erf, log_ndtr, ndtr

import fpsolve as fp
from fpsolve.analysis import exit_time_distribution, mean_exit_time
from fpsolve.analysis.backward import killed_generator, resolve

U = fp.Landscape(lambda x: (x * x - 1) ** 2, lambda x: (4 * x * (x * x - 1),), ndim=1)
FLAT = fp.Landscape(lambda x: 0.0 * x, lambda x: (np.zeros_like(x),), ndim=1)
SLOPE = fp.Landscape(lambda x: x, lambda x: (np.ones_like(x),), ndim=1)


@contextlib.contextmanager
def quiet():
    """Silence the coarse-grid Peclet warnings of deliberately small grids."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


def dense_survival(model, grid, domain, start, times, boundary="reflecting"):
    """S(t) = w . expm(t Q_OO) 1 by scipy's dense expm on the same chain, w the linear
    interpolation weights of a 1-D start between its two neighbouring cell centres."""
    gen, _ = killed_generator(resolve(model, grid, boundary=boundary), domain)
    Q = gen.sub.toarray()
    x = grid.centers[0][gen.live]
    right = np.searchsorted(x, start)
    theta = (start - x[right - 1]) / (x[right] - x[right - 1])
    w = np.zeros(x.size)
    w[right - 1], w[right] = 1 - theta, theta
    return np.array([w @ expm(t * Q) @ np.ones(x.size) for t in np.atleast_1d(times)])


@pytest.mark.parametrize("method", ["spectral", "evolve"])
def test_ou_survival_matches_reflection_principle(method):
    # OU dX = -theta X dt + sqrt(2D) dW hitting its mean 0 from x0 > 0: by symmetry of the law
    # about 0, P(tau > t) = 1 - 2 P(X_t < 0) = erf(x0 e^{-theta t} / sqrt(2 v(t))),
    # v(t) = (D/theta)(1 - e^{-2 theta t}). Absorbing box face at 0, reflecting wall at 6 (12 sd
    # away: its effect is below 1e-30). Discretization O(h^2): 4.3e-5 at h = 0.015.
    theta, D = 1.0, 0.5
    Uo = fp.Landscape(lambda x: 0.5 * theta * x * x, lambda x: (theta * x,), ndim=1)
    grid = fp.Grid([(0.0, 6.0)], [400])
    law = exit_time_distribution(
        fp.Langevin(Uo, D), grid, None, start=1.0, boundary=("absorbing", "reflecting"), method=method
    )
    t = np.array([0.05, 0.2, 0.5, 1.0, 2.0, 4.0])
    v = (D / theta) * (1 - np.exp(-2 * theta * t))
    exact = erf(1.0 * np.exp(-theta * t) / np.sqrt(2 * v))
    assert np.abs(law.survival(t) - exact).max() < 1e-4
    assert law.survival(law.quantile(0.3)) == pytest.approx(0.7, abs=1e-10)
    h = 1e-4  # central difference: truncation h^2 S''' ~ 1e-8, far below rel 1e-5
    assert law.density(1.0) == pytest.approx((law.survival(1 - h) - law.survival(1 + h)) / (2 * h), rel=1e-5)


def test_brownian_survival_is_second_order_in_space_and_exact_in_time():
    # Brownian motion (D = 1/2) in (0, 1), both faces absorbing, from x0 = 0.3 (between cell
    # centres: interpolated). Method of images / Fourier series (Carslaw & Jaeger):
    # S(t) = sum_n (2 / (n pi)) (1 - (-1)^n) sin(n pi x0) e^{-D (n pi)^2 t}; mean x0 (1 - x0) / (2D).
    n = np.arange(1, 400)
    t = np.linspace(1e-3, 1.5, 2000)
    exact = (
        (2 / (n * np.pi)) * (1 - (-1.0) ** n) * np.sin(n * np.pi * 0.3) * np.exp(-0.5 * (n * np.pi) ** 2 * t[:, None])
    ).sum(axis=1)
    errors = []
    for cells in (100, 200):
        grid = fp.Grid([(0.0, 1.0)], [cells])
        model = fp.Langevin(FLAT, 0.5)
        law = exit_time_distribution(model, grid, None, start=0.3, boundary="absorbing")
        errors.append(np.abs(law.survival(t) - exact).max())
        # the time error alone, against the same chain's dense expm: the old fixed time grid left
        # 6.7e-5 here whatever the grid; now the Krylov nodes (~1e-10) and the Hermite
        # interpolation (refined to 1e-9) set it. Measured 2.9e-10.
        ts = np.linspace(0.002, 1.0, 12)
        same_chain = dense_survival(model, grid, None, 0.3, ts, boundary="absorbing")
        assert np.abs(law.survival(ts) - same_chain).max() < 3e-9
        # the start is interpolated exactly as mean_exit_time interpolates it (it was snapped to a
        # cell centre: 1 % off at 100 cells); measured 4e-10 relative
        tau = mean_exit_time(model, grid, None, boundary="absorbing")
        assert law.mean == pytest.approx(tau(0.3), rel=1e-8)
        assert law.mean == pytest.approx(0.3 * 0.7, rel=1e-8)  # linear interpolation of a parabola sampled exactly
    # space error second order: measured 1.37e-4 -> 3.43e-5 (ratio 4.00)
    assert errors[0] < 2e-4 and 3.6 < errors[0] / errors[1] < 4.4


def inverse_gaussian_survival(t, distance, speed, D):
    """P(tau > t) for Brownian motion with drift -speed toward a point at ``distance``:
    inverse Gaussian with mean m = distance / speed and shape lam = distance^2 / (2 D)."""
    m, lam = distance / speed, distance**2 / (2 * D)
    root = np.sqrt(lam / t)
    cdf = ndtr(root * (t / m - 1)) + np.exp(2 * lam / m + log_ndtr(-root * (t / m + 1)))
    return 1 - cdf


def test_drift_dominated_law_matches_the_inverse_gaussian():
    # U = x, T = 0.01, exit through x = 0 from x = 2: drift -1 over distance 2 (Peclet 200).
    # The old default (dense eigen-decomposition) returned mean -3.1e26 and S(1.5) = 1.9e10 on
    # 300 cells; the evolve method ended its time grid at 25 / lambda_1 = 1 (lambda_1 = v^2/4D of
    # this non-normal chain, not the exit rate 1/2) and returned mean 1.04 on 1000 cells.
    # The wall at 3 lies 1 upstream: its effect is e^{-v * 1 / D} = e^{-100}.
    t = np.linspace(1.0, 3.5, 500)
    exact = inverse_gaussian_survival(t, 2.0, 1.0, 0.01)
    errors = []
    for cells in (300, 600):
        model, grid = fp.Langevin(SLOPE, 0.01), fp.Grid([(-0.5, 3.0)], [cells])
        law = exit_time_distribution(model, grid, domain=lambda x: x > 0, start=2.0)
        errors.append(np.abs(law.survival(t) - exact).max())
        assert 0.0 <= law.survival(1.5) <= 1.0
        # the law's mean is the chain's mean exit time (measured 3e-11 relative) ...
        tau = mean_exit_time(model, grid, domain=lambda x: x > 0)
        assert law.mean == pytest.approx(tau(2.0), rel=1e-8)
    # ... which is 2 up to the space discretization: measured 1.44e-3 and 2.7e-4
    assert law.mean == pytest.approx(2.0, abs=5e-4)
    # sup|dS| second order in h: measured 1.34e-2, 3.43e-3 (ratio 3.9; 9.2e-4 and 2.3e-4 at 1200
    # and 2400 cells). The density peaks at t = 2 with width 0.2: a time shift of 1e-3 moves S by 2e-3
    assert errors[1] < 4e-3 and 3.5 < errors[0] / errors[1] < 4.5
    # the spectral expansion cancels here (sqrt of stationary-weight ratios up to e^100): refused
    with pytest.raises(ValueError, match="method: the spectral expansion .* use method='evolve'"):
        exit_time_distribution(
            fp.Langevin(SLOPE, 0.01),
            fp.Grid([(-0.5, 3.0)], [300]),
            domain=lambda x: x > 0,
            start=2.0,
            method="spectral",
        )


def test_start_next_to_the_exit_matches_dense_expm():
    # double well at T = 0.1, domain x < 0, start -0.02 (two cells from the exit at h = 0.01):
    # most paths leave within ~x^2 / 2T = 2e-3, the rest fall into the well and take ~1e3. The old
    # evolve default put its first node at 25 / lambda_1 / 8000 and returned median 21.6.
    grid = fp.Grid([(-3.0, 1.0)], [400])
    model = fp.Langevin(U, 0.1)
    law = exit_time_distribution(model, grid, lambda x: x < 0, start=-0.02)
    median = law.quantile(0.5)
    assert 1e-3 < median < 1e-2
    times = np.array([1e-5, 1e-4, median, 0.05, 1.0, 100.0, 2000.0])
    reference = dense_survival(model, grid, lambda x: x < 0, -0.02, times)
    # node values carry the Krylov error (~1e-10 per octave), the interpolant 1e-9
    assert np.abs(law.survival(times) - reference).max() < 3e-9
    tau = mean_exit_time(model, grid, lambda x: x < 0)
    assert law.mean == pytest.approx(tau(-0.02), rel=1e-8)


def test_metastable_law_at_long_times():
    # T = 1/24 on 400 cells (dU/T = 24): the tail e^{-lambda_1 t} reaches t ~ 1e12, where the
    # Krylov exponential from t = 0 did not converge. The law now steps octave by octave and
    # switches to the exact exponential tail once the surviving mass is quasi-stationary.
    # Reference: the backward solves for E[tau] and E[tau^2].
    grid = fp.Grid([(-2.5, 1.5)], [400])
    model = fp.Langevin(U, 1 / 24)
    with quiet():
        law = exit_time_distribution(model, grid, lambda x: x < 0, start=-1.0)
        tau = mean_exit_time(model, grid, lambda x: x < 0, moments=2)
    # the tail rate is mu0 / mu1 of the quasi-stationary mass, lambda_1 of the chain. From a start
    # in the well tau(x) = 1 / lambda_1 + O(t_relax) with t_relax ~ 1 and tau ~ 1.5e10, so
    # lambda_1 tau = 1 to ~1e-10. (Dense eigenvalues are no reference here: their round-off
    # eps max|Q_ii| / lambda_1 is 3e-3.)
    assert law.principal_rate * tau(-1.0) == pytest.approx(1.0, rel=1e-8)
    assert law.mean == pytest.approx(tau(-1.0), rel=1e-8)
    assert law.moment(2) == pytest.approx(tau.moment(2)(-1.0), rel=1e-7)
    assert law.survival(law.mean) == pytest.approx(np.exp(-1.0), rel=1e-6)  # exponential to ~t_relax / tau


def test_law_survives_where_the_mean_exit_time_does_and_is_refused_where_it_is():
    # 1-D chains are solved without cancellation, and the law takes its tail from those exact
    # moments: at dU/T = 40 the mean matches the exact birth-death sum in log space
    # tau_i = sum_{j >= i} (sum_{k <= j} pi_k) / (pi_j q_{j, j+1}).
    grid = fp.Grid([(-2.0, 2.0)], [200])
    left = grid.centers[0] < 0  # a mask: absorbed at the first cell centre x > 0
    model = fp.Langevin(U, 0.025)
    with quiet():
        Q = fp.FokkerPlanck(model, grid).generator.matrix.tocsr()
        law = exit_time_distribution(model, grid, left, start=-0.99)
    n = int(left.sum())
    up = np.array([Q[i, i + 1] for i in range(n)])
    down = np.array([Q[i, i - 1] for i in range(1, n)])
    log_pi = np.concatenate([[0.0], np.cumsum(np.log(up[:-1]) - np.log(down))])
    terms = np.logaddexp.accumulate(log_pi) - log_pi - np.log(up)
    i = grid.cell_index(-0.99)[0]
    exact = np.exp(np.logaddexp.reduce(terms[i:]))
    assert law.mean == pytest.approx(exact, rel=1e-9)  # measured 1e-15
    # where the backward solve is refused, so is the law (2-D sparse LU at dU/T = 40)
    U2 = fp.Landscape(lambda x, y: (x**2 - 1) ** 2 + y**2)
    with quiet(), pytest.raises(ValueError, match="not resolved in double precision"):
        exit_time_distribution(
            fp.Langevin(U2, 0.025),
            fp.Grid([(-2, 2), (-1.5, 1.5)], [200, 30]),
            domain=lambda x, y: x < 0,
            start=(-1.0, 0.0),
        )
    # dU/T = 1000: whatever mean_exit_time answers, the law answers the same
    cold = fp.Langevin(U, 1e-3)
    with quiet(), pytest.raises(ValueError) as from_mean:
        mean_exit_time(cold, grid, domain=lambda x: x < 0)
    with quiet(), pytest.raises(ValueError) as from_law:
        exit_time_distribution(cold, grid, domain=lambda x: x < 0, start=-1.0)
    assert str(from_law.value) == str(from_mean.value)


# --- seeded random problems ------------------------------------------------------------------


def random_landscape(ndim, rng):
    """U = a |x|^2 / 2 + sum_i h_i exp(-|x - c_i|^2 / (2 w_i^2)) and its gradient."""
    k = rng.integers(1, 4)
    c, h = rng.uniform(-1.2, 1.2, size=(k, ndim)), rng.uniform(-1.0, 1.5, size=k)
    w, a = rng.uniform(0.3, 0.8, size=k), rng.uniform(0.5, 2.0)

    def bumps(x):
        return [hi * np.exp(-sum((xj - cj) ** 2 for xj, cj in zip(x, ci)) / (2 * wi**2)) for ci, hi, wi in zip(c, h, w)]

    def potential(*x):
        return 0.5 * a * sum(xj**2 for xj in x) + sum(bumps(x))

    def grad(*x):
        return tuple(
            a * xj - sum(e * (xj - ci[j]) / wi**2 for e, ci, wi in zip(bumps(x), c, w)) for j, xj in enumerate(x)
        )

    return potential, grad


def random_problem(rng):
    """A model, grid, domain and start: 1-D or 2-D, T in [0.08, 1], a half-space or a disc,
    reversible (Langevin) or not (2-D, a rotation added to the drift)."""
    ndim = int(rng.integers(1, 3))
    potential, grad = random_landscape(ndim, rng)
    T = float(10 ** rng.uniform(np.log10(0.08), 0.0))
    cells = [int(rng.integers(120, 300))] if ndim == 1 else [int(rng.integers(20, 32))] * 2
    grid = fp.Grid([(-2.5, 2.5)] * ndim, cells)
    if ndim == 2 and rng.random() < 0.5:
        omega = rng.uniform(0.5, 2.0)
        model = fp.Diffusion(
            lambda x, y: np.array([-grad(x, y)[0] - omega * y, -grad(x, y)[1] + omega * x]), T * np.eye(2), 2
        )
    else:
        model = fp.Langevin(fp.Landscape(potential, grad, ndim=ndim), T)
    if rng.random() < 0.5:
        normal = rng.normal(size=ndim)
        normal, offset = normal / np.linalg.norm(normal), rng.uniform(-0.5, 1.5)
        domain = lambda *x: sum(n * xj for n, xj in zip(normal, x)) < offset  # noqa: E731
    else:
        centre, radius = rng.uniform(-0.5, 0.5, size=ndim), rng.uniform(0.8, 1.8)
        domain = lambda *x: sum((xj - cj) ** 2 for xj, cj in zip(x, centre)) < radius**2  # noqa: E731
    inside = np.asarray(domain(*grid.mesh()))
    while True:
        start = tuple(rng.uniform(-2.4, 2.4, size=ndim))
        if domain(*start) and inside[grid.cell_index(*start)]:
            return model, grid, domain, start


def law_moment_deviations(count, seed):
    """Worst relative deviations (mean, second moment) of the law from the backward solves over
    ``count`` random problems; docs/exit_times.md quotes
    ``python -c "import sys; sys.path.insert(0, 'tests'); import test_exit_law as t; print(t.law_moment_deviations(100, 2026))"``.
    """
    rng = np.random.default_rng(seed)
    worst = np.zeros(2)
    with quiet():
        for _ in range(count):
            model, grid, domain, start = random_problem(rng)
            law = exit_time_distribution(model, grid, domain, start=start)
            tau = mean_exit_time(model, grid, domain, moments=2)
            # node values carry the Krylov error (~1e-10): S is non-increasing to that accuracy
            assert law.S[0] <= 1.0 + 1e-12 and np.all(np.diff(law.S) <= 1e-9)
            deviation = [law.mean / tau(*start) - 1, law.moment(2) / tau.moment(2)(*start) - 1]
            worst = np.maximum(worst, np.abs(deviation))
    return worst


@pytest.mark.parametrize("seed", range(4))
def test_law_moments_equal_backward_moments_on_random_problems(seed):
    # mean_exit_time is trusted (second order, tested against quadrature); the law's integral of
    # S and of 2 t S must reproduce E[tau] and E[tau^2] (Q u2 = -2 u1) interpolated at the same
    # start. Before: off by more than 1e-3 in 10 of 61 such problems, at worst by a factor 48.
    # Measured over 100 problems (law_moment_deviations(100, 2026)): worst relative deviation
    # 1.6e-9 for the mean and 2.3e-8 for the second moment, from the Krylov node errors (~1e-10)
    # and the Hermite interpolation (below 1e-9 absolute on S); tolerances 30x and 20x that.
    worst_mean, worst_second = law_moment_deviations(5, 1000 + seed)
    assert worst_mean < 5e-8 and worst_second < 5e-7


def test_non_reversible_law_matches_dense_expm_and_spectral_is_refused():
    # a 2-D drift with a rotation: no detailed balance. Reference: the same chain's dense expm.
    potential, grad = random_landscape(2, np.random.default_rng(7))
    model = fp.Diffusion(
        lambda x, y: np.array([-grad(x, y)[0] - 1.5 * y, -grad(x, y)[1] + 1.5 * x]), 0.3 * np.eye(2), 2
    )
    grid = fp.Grid([(-2.5, 2.5)] * 2, [16, 16])
    disc = lambda x, y: x**2 + y**2 < 1.5**2  # noqa: E731
    start = tuple(grid.centers[k][5] for k in range(2))  # a cell centre: weight 1 on one cell
    with quiet():
        law = exit_time_distribution(model, grid, disc, start=start)
        gen, _ = killed_generator(resolve(model, grid), disc)
        with pytest.raises(ValueError, match="reversible .* use method='evolve'"):
            exit_time_distribution(model, grid, disc, start=start, method="spectral")
    e = np.zeros(gen.n_live)
    e[gen.live_position((5, 5))] = 1.0
    times = np.array([0.01, 0.1, 0.5, 2.0, 10.0])
    reference = np.array([e @ expm(t * gen.sub.toarray()) @ np.ones(gen.n_live) for t in times])
    assert np.abs(law.survival(times) - reference).max() < 3e-9


def test_spectral_agrees_with_evolve_where_it_is_accepted():
    # reversible, moderate weights: both methods are exact in time on the same chain
    grid = fp.Grid([(-2.5, 0.0)], [300])
    model = fp.Langevin(U, 0.25)
    laws = [
        exit_time_distribution(model, grid, None, start=-1.0, boundary=("reflecting", "absorbing"), method=m)
        for m in ("spectral", "evolve")
    ]
    t = np.geomspace(1e-3, 300, 50)
    assert np.abs(laws[0].survival(t) - laws[1].survival(t)).max() < 3e-9
    assert laws[0].mean == pytest.approx(laws[1].mean, rel=1e-8)
    assert laws[0].moment(2) == pytest.approx(laws[1].moment(2), rel=1e-7)
    # dU/T = 20: lambda_1 ~ 1e-7 against a dense eigensolver's round-off eps max|Q_ii| ~ 1e-13,
    # 1e-6 relative: spectral is refused, evolve takes the tail from the exact backward moments
    cold = fp.Langevin(U, 0.05)
    with quiet(), pytest.raises(ValueError, match="method='spectral' cannot .* use method='evolve'"):
        exit_time_distribution(cold, grid, None, start=-1.0, boundary=("reflecting", "absorbing"), method="spectral")
    with quiet():
        law = exit_time_distribution(cold, grid, None, start=-1.0, boundary=("reflecting", "absorbing"))
        tau = mean_exit_time(cold, grid, None, boundary=("reflecting", "absorbing"))
    assert law.mean == pytest.approx(tau(-1.0), rel=1e-8)


def test_survival_before_zero_and_bad_times():
    grid = fp.Grid([(-2.5, 0.0)], [200])
    law = exit_time_distribution(fp.Langevin(U, 0.25), grid, None, start=-1.0, boundary=("reflecting", "absorbing"))
    assert law.survival(-5.0) == 1.0 and law.density(-5.0) == 0.0 and law.cdf(-1.0) == 0.0
    np.testing.assert_array_equal(law.survival(np.array([-1.0, -1e-9])), [1.0, 1.0])
    assert law.quantile(0.0) == 0.0
    for bad in (np.nan, np.inf, [0.0, np.nan]):
        with pytest.raises(ValueError, match="t: expected finite times"):
            law.survival(bad)
    with pytest.raises(ValueError, match="u: quantile levels"):
        law.quantile(np.nan)
    with pytest.raises(ValueError, match="n: moments 1 and 2"):
        law.moment(3)
    with pytest.raises(ValueError, match="t: expected finite increasing times"):
        exit_time_distribution(
            fp.Langevin(U, 0.25), grid, None, start=-1.0, boundary=("reflecting", "absorbing"), t=[0.0, np.inf]
        )
    table = exit_time_distribution(
        fp.Langevin(U, 0.25), grid, None, start=-1.0, boundary=("reflecting", "absorbing"), t=[0.0, 1.0, 10.0]
    )
    np.testing.assert_allclose(table.S, law.survival([0.0, 1.0, 10.0]), atol=1e-12)
