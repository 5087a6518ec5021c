"""Regressions found by exercising the public API as a researcher would (one test per finding).

Each test compares with an independent reference (a closed form, or the exact birth-death sum of
the discrete chain in log space) or checks that bad input gets a clear error naming the argument.
"""

import warnings

import numpy as np
import pytest
from scipy.special import logsumexp

import fpsolve as fp


def test_1d_diffusion_drift_given_as_one_array():
    # lambda x: -x (not a 1-tuple) used to be iterated over grid points: a constant drift b(x_0)
    # everywhere and a stationary variance of 15 instead of D. OU dX = -X dt + sqrt(2D) dW has
    # stationary variance D; the fitted scheme is second order, so 1e-4 at h = 0.04 is ample.
    grid = fp.Grid([(-4, 4)], [200])
    x = grid.centers[0]
    for drift in (lambda x: -x, lambda x: (-x,)):
        p = fp.FokkerPlanck(fp.Diffusion(drift, [[0.5]], ndim=1), grid).stationary()
        assert abs(grid.integrate(x * x * p) - 0.5) < 1e-4


def test_diffusion_drift_with_wrong_number_of_components_names_drift():
    grid = fp.Grid([(-1, 1), (-1, 1)], [5, 5])
    model = fp.Diffusion(lambda x, y: (-x,), np.eye(2), ndim=2)
    with pytest.raises(ValueError, match="drift: expected 2 components"):
        fp.FokkerPlanck(model, grid)


def test_non_finite_drift_is_refused_with_its_location():
    # used to give a NaN stationary density and "Factor is exactly singular" from evolve
    grid = fp.Grid([(-4, 4)], [40])
    model = fp.Diffusion(lambda x: (np.where(x > 3, np.nan, -x),), [[1.0]], ndim=1)
    with pytest.raises(ValueError, match=r"drift: not finite .* at x = \(3\.0,\)"):
        fp.FokkerPlanck(model, grid)


def test_callable_diffusion_as_scalar_field_or_constant_nested_list():
    # D(x) = 0.5 given three ways; OU stationary variance 0.5 (same tolerance as above)
    grid = fp.Grid([(-4, 4)], [200])
    x = grid.centers[0]
    for diffusion in (lambda x: 0.5 + 0 * x, lambda x: [[0.5]]):
        p = fp.FokkerPlanck(fp.Diffusion(lambda x: -x, diffusion, ndim=1), grid).stationary()
        assert abs(grid.integrate(x * x * p) - 0.5) < 1e-4
    # 2-D, a nested list mixing numbers and arrays: decoupled OU, variances 0.5 and 0.25
    grid2 = fp.Grid([(-4, 4), (-3, 3)], [60, 50])
    model = fp.Diffusion(lambda x, y: (-x, -2 * y), lambda x, y: [[0.5 + 0 * x, 0], [0, 0.5]], ndim=2)
    p = fp.FokkerPlanck(model, grid2).stationary()
    X, Y = grid2.mesh()
    assert abs(grid2.integrate(X * X * p) - 0.5) < 1e-3  # h = 0.13: second-order error ~1e-4
    assert abs(grid2.integrate(Y * Y * p) - 0.25) < 1e-3


def test_non_symmetric_noise_covariance_is_refused():
    grid = fp.Grid([(-2, 2), (-2, 2)], [10, 10])
    U = fp.Landscape(lambda x, y: x**2 + y**2)
    noise = lambda x, y: np.array([[1 + 0 * x, 0.5 + 0 * x], [0 * x, 1 + 0 * x]])  # noqa: E731
    with pytest.raises(ValueError, match="diffusion: the diffusion matrix is not symmetric"):
        fp.FokkerPlanck(fp.SGD(U, lr=0.1, batch_size=1, noise=noise), grid)


def test_hessian_callable_may_mix_numbers_and_arrays():
    # [[12 x^2 - 4, 0], [0, 4]] used to crash in np.asarray; compare with the closed form
    U = fp.Landscape(lambda x, y: (x**2 - 1) ** 2 + 2 * y**2, hessian=lambda x, y: [[12 * x**2 - 4, 0], [0, 4]])
    x, y = np.array([0.0, 1.0, 2.0]), np.array([0.5, 0.0, -1.0])
    h = U.hessian(x, y)
    assert h.shape == (2, 2, 3)
    np.testing.assert_array_equal(h[0, 0], 12 * x**2 - 4)
    np.testing.assert_array_equal(h[1, 1], 4.0)
    np.testing.assert_array_equal(h[0, 1], 0.0)


def test_boundary_dict_with_unknown_axis_names_the_axes():
    grid = fp.Grid([(-3, 3), (-4, 4)], [12, 16], axis_names=("theta", "v"))
    model = fp.Langevin(fp.Landscape(lambda th, v: th**2 + v**2), temperature=2.0)
    with pytest.raises(ValueError, match=r"boundary: unknown axis 'x'; the grid's axes are \('theta', 'v'\)"):
        fp.FokkerPlanck(model, grid, boundary={"x": "absorbing"})
    with pytest.raises(ValueError, match="boundary: axis 5 does not exist"):
        fp.FokkerPlanck(model, grid, boundary={5: "absorbing"})
    fpe = fp.FokkerPlanck(model, grid, boundary={"v": ("reflecting", "absorbing")})
    assert fpe.boundary == (("reflecting", "reflecting"), ("reflecting", "absorbing"))


def test_absorbing_predicate_of_wrong_shape_names_the_argument():
    grid = fp.Grid([(-2, 2)], [20])
    model = fp.Langevin(fp.Landscape(lambda x: x**2), temperature=1.0)
    with pytest.raises(ValueError, match=r"absorbing: the predicate returned shape \(7,\)"):
        fp.FokkerPlanck(model, grid, absorbing=lambda x: np.zeros(7, dtype=bool))


def test_from_samples_does_not_modify_the_callers_array():
    grid = fp.Grid([(-2, 2)], [40], periodic=True)
    samples = np.array([1.9, 2.5, -3.0, 0.1])
    p = fp.from_samples(grid, samples)
    np.testing.assert_array_equal(samples, [1.9, 2.5, -3.0, 0.1])
    # wrapped: 2.5 -> -1.5 and -3.0 -> 1.0; each sample carries 1/4 of the mass
    assert p[grid.cell_index(-1.5)] * grid.cell_volume == pytest.approx(0.25)
    assert p[grid.cell_index(1.0)] * grid.cell_volume == pytest.approx(0.25)


def test_exit_time_law_from_a_one_cell_domain():
    # a domain of one cell (no links inside) used to crash in the detailed-balance check
    # (spectral) and ask for k in [1, 0] (evolve). Exact: exponential law with rate -Q_ii.
    grid = fp.Grid([(-2, 2)], [40])
    model = fp.Langevin(fp.Landscape(lambda x: (x**2 - 1) ** 2), temperature=0.4)
    i = grid.cell_index(-0.95)[0]
    domain = np.zeros(grid.shape, dtype=bool)  # a mask: the cell centred at -0.95, nothing finer
    domain[i] = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # coarse-grid Peclet warning
        rate = -fp.FokkerPlanck(model, grid).generator.matrix[i, i]
        for method in ("spectral", "evolve"):
            law = fp.exit_time_distribution(model, grid, domain=domain, start=-0.95, method=method)
            assert law.principal_rate == pytest.approx(rate, rel=1e-12)
            # spectral is exact; evolve interpolates S between nodes (documented ~1e-8)
            assert law.mean == pytest.approx(1 / rate, rel=1e-6)


def _exact_exit_times(model, grid):
    """Mean exit time from x < 0 of the 1-D grid chain by the birth-death sum in log space
    (no linear solve): tau_i = sum_{j >= i} (sum_{k <= j} pi_k) / (pi_j q_{j, j+1})."""
    Q = fp.FokkerPlanck(model, grid).generator.matrix.tocsr()
    n = int(np.sum(grid.centers[0] < 0))
    up = np.array([Q[i, i + 1] for i in range(n)])
    down = np.array([Q[i, i - 1] for i in range(1, n)])
    log_pi = np.concatenate([[0.0], np.cumsum(np.log(up[:-1]) - np.log(down))])
    terms = np.logaddexp.accumulate(log_pi) - log_pi - np.log(up)
    return np.exp([logsumexp(terms[i:]) for i in range(n)])


def test_high_barrier_exit_times_are_exact_in_1d_and_the_law_is_refused():
    U = fp.Landscape(lambda x: (x**2 - 1) ** 2)
    grid = fp.Grid([(-2, 2)], [200])
    i = grid.cell_index(-1.0)
    left = grid.centers[0] < 0  # a mask: the chain of _exact_exit_times, absorbed at the first cell x > 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        # dU/T = 20 and 40: 1-D chains are solved without cancellation (linalg.solve_birth_death),
        # so the exit time matches the exact sum to round-off (a general LU returned 8.2e14 where
        # the chain's exit time is 1.4e17 at dU/T = 40)
        for temperature in (0.05, 0.025):
            model = fp.Langevin(U, temperature=temperature)
            exact = _exact_exit_times(model, grid)
            assert fp.mean_exit_time(model, grid, left).values[i] == pytest.approx(exact[i[0]], rel=1e-9)
        law = fp.exit_time_distribution(fp.Langevin(U, temperature=0.05), grid, left, start=-1.0)
        assert law.mean == pytest.approx(_exact_exit_times(fp.Langevin(U, 0.05), grid)[i[0]], rel=1e-5)
        # dU/T = 40: the law switches to its exact quasi-stationary tail once the surviving mass
        # is a single exponential (backward moments), so its mean is the exact sum too; 1e-9 as above
        cold = fp.Langevin(U, temperature=0.025)
        law = fp.exit_time_distribution(cold, grid, left, start=-1.0)
        assert law.mean == pytest.approx(_exact_exit_times(cold, grid)[i[0]], rel=1e-9)
        # dU/T = 1000: the spectral law used to crash on overflowing Boltzmann weights
        with pytest.raises(ValueError, match="not resolved in double precision"):
            fp.exit_time_distribution(fp.Langevin(U, temperature=1e-3), grid, left, start=-1.0)


def test_high_barrier_exit_times_in_2d_warn_then_are_refused():
    # U = (x^2 - 1)^2 + y^2 decouples: the exit time through x = 0 equals the 1-D value on the same
    # x-grid (exact at the discrete level), which the 1-D birth-death solve gives to round-off
    U2 = fp.Landscape(lambda x, y: (x**2 - 1) ** 2 + y**2)
    U1 = fp.Landscape(lambda x: (x**2 - 1) ** 2)
    grid2 = fp.Grid([(-2, 2), (-1.5, 1.5)], [200, 30])
    grid1 = fp.Grid([(-2, 2)], [200])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        reference = fp.mean_exit_time(fp.Langevin(U1, 0.04), grid1, domain=lambda x: x < 0)(-1.0)
    # dU/T = 25: condition estimate ~1e-2 (relative error measured ~1e-4): a warning, a number
    with pytest.warns(UserWarning, match="near the limit of double precision"):
        tau = fp.mean_exit_time(fp.Langevin(U2, 0.04), grid2, domain=lambda x, y: x < 0)
    assert tau(-1.0, 0.0) == pytest.approx(reference, rel=2e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(ValueError, match="not resolved in double precision"):
            fp.mean_exit_time(fp.Langevin(U2, 0.025), grid2, domain=lambda x, y: x < 0)  # dU/T = 40


def test_simulator_exit_times_checks_every_start_against_the_domain():
    # only the first of an (n, d) array of starts was checked: starts outside the domain got an
    # exit time of one step dt and silently biased the mean
    model = fp.Langevin(fp.Landscape(lambda x: (x**2 - 1) ** 2), temperature=0.25)
    sim = fp.montecarlo.simulator(model, dt=1e-3, seed=1, bounds=[(-2.5, 2.5)])
    starts = np.array([[-1.0], [0.5], [-1.2]])
    with pytest.raises(ValueError, match=r"x0: the start \[0.5\] lies outside the domain"):
        sim.exit_times(starts, domain=fp.montecarlo.HalfSpace([1.0], 0.0), t_max=1.0)
