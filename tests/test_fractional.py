"""The fractional Laplacian scheme in 1-D against closed forms (discretize/fractional*.py).

References (none made by fpsolve): Getoor's mean exit time of a symmetric stable process from an
interval, Dyda's (-Delta)^(alpha/2) (1 - x^2)_+^(alpha/2) = Gamma(1 + alpha), the fractional
Laplacian of a Gaussian (1F1 formula, checked against the Fourier integral by scipy quad), the
Levy-Ornstein-Uhlenbeck stable law (scipy.stats.levy_stable), Chechkin's Cauchy density in a
quartic well, hat integrals of the Levy measure by scipy quad, the continuum symbol |xi|^alpha.
"""

import math
import warnings

import numpy as np
import pytest
from scipy import integrate, special, stats

import fpsolve as fp
from fpsolve.discretize import fractional_weights as weights

FLAT = fp.Landscape(lambda x: 0.0 * x, grad=lambda x: np.zeros((1,) + np.shape(x)), name="flat")


def quartic():
    return fp.Landscape(lambda x: x**4 / 4, grad=lambda x: np.asarray(x, dtype=float)[None] ** 3, name="quartic")


def generator(alpha, n, box=(-1.0, 1.0), boundary="absorbing", landscape=FLAT, scale=1.0):
    grid = fp.Grid([box], [n])
    fpe = fp.FokkerPlanck(fp.LevyLangevin(landscape, alpha=alpha, scale=scale), grid, boundary=boundary)
    return grid, fpe


def test_rates_are_the_levy_measure_lumped_by_hats():
    # w_k = c int hat_k(y) y^(1-alpha) dy / k^2 (h = 1): scipy quad of the same integral
    alpha = 1.3
    w, d_eff = weights.rates_1d(alpha, 1.0, 1.0, 40)
    c = weights.levy_constant(1, alpha)
    for k in (2, 3, 17, 39):
        hat = integrate.quad(lambda y: (1 - abs(y - k)) * y ** (1 - alpha), k - 1, k + 1, epsabs=1e-14)[0]
        assert w[k] == pytest.approx(c * hat / k**2, rel=1e-12)
    half = integrate.quad(lambda y: (y - 39) * y ** (1 - alpha), 39, 40)[0]
    assert w[40] == pytest.approx(c * half / 40**2, rel=1e-12)
    near = (
        integrate.quad(lambda y: (1 - y) * y ** (1 - alpha), 0, 1)[0]
        + integrate.quad(lambda y: (1 - abs(y - 1)) * y ** (1 - alpha), 0, 2)[0]
    )
    assert d_eff == pytest.approx(c * near, rel=1e-12)
    assert np.all(w[2:] > 0)
    # c_{1,1} = 1/pi; the Gaussian limit alpha -> 2 of the nearest rate is D = scale^2
    assert weights.levy_constant(1, 1.0) == pytest.approx(1 / math.pi, rel=1e-15)
    assert weights.rates_1d(2.0 - 1e-9, 0.7, 0.01, 8)[1] == pytest.approx(0.49, rel=1e-6)


def test_generator_is_markov_with_killing_equal_to_the_exterior_rate():
    grid, fpe = generator(1.5, 64)
    Q = fpe.generator.matrix.toarray()
    off = Q - np.diag(np.diag(Q))
    assert off.min() >= 0
    killing = fpe.generator.matrix.killing
    # rows sum to minus the declared killing (round-off of sums of ~64 rates of size ~h^-alpha)
    np.testing.assert_allclose(Q.sum(axis=1), -killing, rtol=1e-10, atol=1e-10 * np.abs(Q).max())
    # from the centre the exterior is two half-lines at distance 1: 2 c / (alpha 1^alpha) up to
    # the lumping of the last cell (a cell-size effect, 2 % at 64 cells)
    centre = killing[31:33].mean()
    assert centre == pytest.approx(2 * weights.levy_constant(1, 1.5) / 1.5, rel=0.03)


@pytest.mark.parametrize("alpha", [0.5, 0.8, 1.2, 1.5, 1.9])
def test_mean_exit_time_matches_getoor(alpha):
    # tau(x) = (1 - x^2)^(alpha/2) / Gamma(1 + alpha) on (-1, 1), eps = 1 (REFERENCES.md). The
    # solution is only Hoelder alpha/2 at the boundary: the interior error is first order
    # (measured 1.7e-3 .. 3.3e-3 relative at 64 cells, halving per refinement), so 256 cells
    # give < 1e-3; we assert 2e-3 at the centre and 5e-3 on |x| < 0.5
    grid, fpe = generator(alpha, 256)
    tau = fp.mean_exit_time(fpe, domain=None)
    x = grid.centers[0]
    exact = (1 - x**2) ** (alpha / 2) / math.gamma(1 + alpha)
    assert tau(0.0) == pytest.approx(1 / math.gamma(1 + alpha), rel=2e-3)
    inner = np.abs(x) < 0.5
    assert np.max(np.abs(tau.values[inner] - exact[inner]) / exact[inner]) < 5e-3


def test_getoor_observed_order_is_one_in_the_interior():
    # interior errors at 64, 128, 256 cells; order log2(e_n / e_2n) measured 0.99-1.00 (alpha 1.2)
    errors = []
    for n in (64, 128, 256):
        grid, fpe = generator(1.2, n)
        x = grid.centers[0]
        exact = (1 - x**2) ** 0.6 / math.gamma(2.2)
        inner = np.abs(x) < 0.5
        errors.append(np.max(np.abs(fp.mean_exit_time(fpe, domain=None).values - exact)[inner]))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all((orders > 0.9) & (orders < 1.1))


@pytest.mark.parametrize("alpha, order", [(0.5, 1.25), (1.0, 1.5), (1.5, 1.75)])
def test_dyda_fractional_laplacian_of_the_boundary_profile(alpha, order):
    # (-Delta)^(alpha/2) (1 - x^2)_+^(alpha/2) = Gamma(1 + alpha) on (-1, 1) (Dyda 2012): the
    # scheme's residual on |x| <= 1/2 converges at order 1 + alpha/2 (the profile is Hoelder
    # alpha/2 at the boundary; measured 1.25, 1.50, 1.73 from 256 to 512 cells)
    errors = []
    for n in (128, 256, 512):
        grid, fpe = generator(alpha, n)
        x = grid.centers[0]
        applied = -fpe.generator.matrix.matvec((1 - x**2) ** (alpha / 2))
        inner = np.abs(x) <= 0.5
        errors.append(np.max(np.abs(applied[inner] / math.gamma(1 + alpha) - 1)))
    assert errors[-1] < 1e-4
    observed = math.log2(errors[-2] / errors[-1])
    assert observed == pytest.approx(order, abs=0.1)


def _gaussian_reference(alpha, x):
    return (
        2 ** (alpha / 2)
        * math.gamma((1 + alpha) / 2)
        / math.gamma(0.5)
        * special.hyp1f1((1 + alpha) / 2, 0.5, -(x**2) / 2)
    )


@pytest.mark.parametrize("alpha", [0.5, 1.0, 1.5, 1.9])
def test_fractional_laplacian_of_a_gaussian_is_second_order(alpha):
    # the 1F1 closed form, checked here against the Fourier integral (1/pi) int k^alpha
    # e^(-k^2/2) sqrt(2 pi) cos(k x) dk; on (-10, 10) the Gaussian is 2e-22 at the faces. Orders
    # measured 1.97-2.3 (alpha 0.5, 1.5, 1.9) and 3.0 (alpha 1) between 320 and 640 cells
    fourier = integrate.quad(
        lambda k: k**alpha * np.exp(-k * k / 2) * math.sqrt(2 * math.pi) / math.pi, 0, np.inf, weight="cos", wvar=1.3
    )[0]
    assert _gaussian_reference(alpha, 1.3) == pytest.approx(fourier, rel=1e-9, abs=1e-12)
    errors = []
    for n in (320, 640):
        grid, fpe = generator(alpha, n, box=(-10, 10))
        x = grid.centers[0]
        applied = -fpe.generator.matrix.matvec(np.exp(-(x**2) / 2))
        errors.append(np.max(np.abs(applied - _gaussian_reference(alpha, x))))
    assert errors[-1] < 2e-4
    assert math.log2(errors[0] / errors[1]) > 1.9


@pytest.mark.parametrize("alpha", [1.2, 1.5])
def test_periodic_symbol_approaches_the_continuum_symbol(alpha):
    # eigenvalues of the circulant (FFT of its first row) against eps^alpha |xi|^alpha for the
    # lowest modes: second order in h (the interpolation error of psi), relative error at
    # xi h = 2 pi / 64 below 1e-3 and dropping 4x per halving of h
    eps = 0.8
    errors = []
    for n in (64, 128):
        h = 2 * np.pi / n
        sigma = weights.symbol_1d(alpha, eps, h, n)
        xi = 2 * np.pi * np.fft.fftfreq(n, h)
        errors.append(abs(sigma[1] / (eps * abs(xi[1])) ** alpha - 1) + abs(sigma[4] / (eps * abs(xi[4])) ** alpha - 1))
    assert errors[1] < 1e-3
    assert errors[0] / errors[1] > 3.5  # measured 5.1 (alpha 1.2)
    # the periodic generator is that circulant: a Fourier mode is an eigenvector
    grid = fp.Grid([(0, 2 * np.pi)], [64], periodic=True)
    Q = fp.FokkerPlanck(fp.LevyLangevin(FLAT, alpha=alpha, scale=eps), grid).generator.matrix
    mode = np.cos(3 * grid.centers[0])
    sigma = weights.symbol_1d(alpha, eps, 2 * np.pi / 64, 64)[3]
    np.testing.assert_allclose(Q.matvec(mode), -sigma * mode, atol=1e-12 * sigma)


def test_levy_ornstein_uhlenbeck_stationary_law_is_stable():
    # U = x^2/2: the law is symmetric alpha-stable with scale eps (alpha lambda)^(-1/alpha)
    # (scipy's levy_stable, parametrisation S1 with beta = 0, is the symmetric law
    # exp(-|scale k|^alpha)). Box (-240, 240): censoring misplaces 6.2e-4 of the mass (the
    # scheme's estimate, which is what remains): max errors on |x| < 3 measured 2.1e-3, 9.1e-4,
    # 6.3e-4 at h = 0.2, 0.1, 0.05 (on (-960, 960): 1.7e-3, 5.3e-4, 1.9e-4)
    alpha, eps = 1.5, 1.0
    grid, fpe = generator(
        alpha, 9600, box=(-240, 240), boundary="reflecting", landscape=fp.landscapes.quadratic([[1.0]]), scale=eps
    )
    p = fpe.stationary()
    x = grid.centers[0]
    inner = np.abs(x) < 3  # (scipy's levy_stable pdf costs ~2 ms a point)
    exact = stats.levy_stable.pdf(x[inner], alpha, 0.0, scale=eps * alpha ** (-1 / alpha))
    assert np.max(np.abs(p[inner] - exact)) / exact.max() < 1e-3
    assert grid.integrate(p) == pytest.approx(1.0, abs=1e-12)


def test_chechkin_cauchy_density_in_a_quartic_well():
    # alpha = 1, U = x^4/4, eps = 0.5: p = c^3 / (pi (c^4 - c^2 x^2 + x^4)), c = eps^(1/3)
    # (Chechkin et al. 2002). The drift is upwinded where h |b| > 2 D_eff (alpha = 1: D_eff ~ h,
    # so the cell Peclet number does not fall with h): first order, measured 2.2e-2, 1.3e-2,
    # 8.4e-3 at h = 0.1, 0.05, 0.025 on (-100, 100), where censoring misplaces 2.5e-3
    eps = 0.5
    with pytest.warns(UserWarning, match="too small for the jump tails"):  # 2.5e-3 > 1e-3
        grid, fpe = generator(1.0, 8000, box=(-100, 100), boundary="reflecting", landscape=quartic(), scale=eps)
    p = fpe.stationary()
    x = grid.centers[0]
    c = eps ** (1 / 3)
    exact = c**3 / (np.pi * (c**4 - c**2 * x**2 + x**4))
    assert np.max(np.abs(p - exact)) / exact.max() < 1e-2
    assert fpe.diagnostics["censored_mass"] == pytest.approx(2.5e-3, rel=0.2)


def test_alpha_two_is_the_gaussian_finite_volume_law():
    # alpha = 2: E exp(ik L) = exp(-k^2) is N(0, 2): D = eps^2, the "fv" scheme with T = eps^2 is
    # the same chain (round-off); alpha = 1.99 differs by O(2 - alpha) (measured 5.7e-3)
    U = fp.landscapes.double_well()
    grid = fp.Grid([(-2.5, 2.5)], [400])
    gaussian = fp.FokkerPlanck(fp.Langevin(U, temperature=0.36), grid).stationary()
    for alpha, tolerance in ((2.0, 1e-10), (1.99, 1e-2)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # alpha < 2 in this small box: censoring warning
            levy = fp.FokkerPlanck(fp.LevyLangevin(U, alpha=alpha, scale=0.6), grid).stationary()
        assert np.max(np.abs(levy - gaussian)) / gaussian.max() < tolerance


def test_censored_box_conserves_mass_and_reports_the_neglected_rate():
    # reflecting faces censor: mass is conserved by evolution (round-off), and the censored rate
    # from the centre of (-L, L) is the exterior's 2 c eps^alpha L^-alpha / alpha up to lumping
    with pytest.warns(UserWarning, match="too small for the jump tails"):
        grid, fpe = generator(
            1.5, 128, box=(-3, 3), boundary="reflecting", landscape=fp.landscapes.quadratic([[1.0]]), scale=0.5
        )
    sol = fpe.evolve(fp.gaussian(grid, mean=1.0, std=0.3), t=[0.0, 0.5])
    assert abs(sol.mass[-1] - 1) < 1e-9
    assert sol.p.min() >= -1e-12 * sol.p.max()
    rate = fpe.diagnostics["censored_rate"][63:65].mean()
    exterior = 2 * weights.levy_constant(1, 1.5) * 0.5**1.5 * 3.0**-1.5 / 1.5
    assert rate == pytest.approx(exterior, rel=0.02)


def test_exit_problems_kill_at_the_box_by_default():
    # the same exit time from (model, grid), from a censored problem and from an absorbing one
    model = fp.LevyLangevin(fp.landscapes.double_well(), alpha=1.5, scale=0.5)
    grid = fp.Grid([(-3, 3)], [300])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        censored = fp.FokkerPlanck(model, grid)
    absorbing = fp.FokkerPlanck(model, grid, boundary="absorbing")
    values = [fp.mean_exit_time(p, domain=lambda x: x < 0)(-1.0) for p in (censored, absorbing)]
    values.append(fp.mean_exit_time(model, grid, domain=lambda x: x < 0)(-1.0))
    assert values[0] == values[1] == values[2]


def test_matrix_free_and_explicit_generators_agree():
    # 1-D grids up to 256 cells carry the explicit sparse Q as the exact preconditioner; both
    # products are the same operator (FFT round-off)
    grid, fpe = generator(1.2, 256, landscape=fp.landscapes.double_well(), box=(-2, 2))
    Q = fpe.generator.matrix
    f = np.cos(3 * grid.centers[0])
    np.testing.assert_allclose(Q.matvec(f), Q.approximate @ f, atol=1e-11 * np.abs(Q.diagonal()).max())


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="alpha"):
        fp.LevyLangevin(FLAT, alpha=2.5, scale=1.0)
    with pytest.raises(ValueError, match="alpha"):
        fp.LevyLangevin(FLAT, alpha=0.0, scale=1.0)
    periodic = fp.Grid([(0, 1)], [32], periodic=True)
    with pytest.raises(ValueError, match="periodic"):
        fp.mean_exit_time(fp.LevyLangevin(FLAT, alpha=1.5, scale=1.0), periodic, domain=lambda x: x < 0.5)
    with pytest.warns(UserWarning, match="too small for the jump tails"):
        generator(1.0, 64, box=(-2, 2), boundary="reflecting", landscape=fp.landscapes.quadratic([[1.0]]))
    with pytest.warns(UserWarning, match="too coarse for the drift"):
        generator(1.5, 32, box=(-3, 3), boundary="absorbing", landscape=fp.landscapes.double_well(), scale=0.2)
    with pytest.raises(ValueError, match="jumps"):
        fp.FokkerPlanck(fp.Langevin(FLAT, temperature=1.0), fp.Grid([(-1, 1)], [16]), discretization="fractional")


def test_analyses_run_unchanged_on_the_jump_generator():
    # the exit-time law's mean is the mean exit time (two different computations on the same
    # chain: an evolved survival function against one backward solve; the law's adaptive time
    # grid is accurate to ~1e-4 relative), the committor lies in [0, 1] and is symmetric on a
    # symmetric problem up to the exterior (a jump out of the box hits neither set), and basin
    # occupancies sum to the mass
    model = fp.LevyLangevin(fp.landscapes.double_well(), alpha=1.5, scale=0.5)
    grid = fp.Grid([(-3, 3)], [120])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a coarse grid (Peclet 8.7) and a small box (censoring)
        tau = fp.mean_exit_time(model, grid, domain=lambda x: x < 0)
        law = fp.exit_time_distribution(model, grid, domain=lambda x: x < 0, start=-1.0)
        q = fp.committor(model, grid, a=lambda x: x < -1, b=lambda x: x > 1)
        sol = fp.FokkerPlanck(model, grid).evolve(fp.gaussian(grid, mean=-1.0, std=0.2), t=[0.0, 1.0])
    assert law.mean == pytest.approx(tau(-1.0), rel=1e-3)
    assert 0 <= q.values.min() and q.values.max() <= 1
    np.testing.assert_allclose(q.values + q.values[::-1], q.values[0] + q.values[-1], atol=0.05)
    occupancy = fp.basin_occupancy(sol)
    np.testing.assert_allclose(np.sum(occupancy.fractions, axis=1), sol.mass, atol=1e-9)
