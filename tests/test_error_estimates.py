"""Error estimates on results (fpsolve.with_error): they must bracket the true discretization error.

References are closed forms or quadrature, never an fpsolve solver: the 1-D exit-time double
integral and its second moment (Gardiner ch. 5, REFERENCES.md), the Brownian exit-time series,
Ornstein-Uhlenbeck stationary variance T/k and relaxation rate k, and the double-well occupancy
by quadrature of e^{-U/T}. "Brackets" means |true error| <= estimate <= BRACKET * |true error|.
"""

import warnings

import numpy as np
import pytest
import scipy.linalg as dense
from scipy import integrate
from scipy.optimize import brentq

import fpsolve as fp
from fpsolve.analysis.error_estimate import SAFETY, richardson

#: The estimate is Roache's GCI with safety factor 1.25; in the asymptotic range it exceeds the
#: true error by that factor up to the O(h) relative size of the next error term, so 2 leaves
#: room for that term on the grids used here while still calling a 2x overestimate a failure.
BRACKET = 2.0

T_DW = 0.25
DOUBLE_WELL = fp.landscapes.double_well()


def _exit_time_moments(x0, s=0.0, r=-3.0, T=T_DW, U=DOUBLE_WELL):
    """(E tau, E tau^2) from x0 to an absorbing point s, reflecting at r: the backward equations
    T tau_n'' - U' tau_n' = -n tau_{n-1} integrated as an IVP from r (tau_n'(r) = 0) with rtol
    1e-12, the constants fixed by tau_n(s) = 0 (Gardiner ch. 5)."""

    def rhs(x, y):
        w = np.exp(-float(U(x)) / T)
        e = 1.0 / (T * w)
        g1, h1, g0, g2, h2 = y  # g1 = int w, h1 = tau_1 - tau_1(r), g0 = int w h1, h2 = tau_2 - tau_2(r) per unit c
        return [w, -e * g1, w * h1, 0.0, 0.0]

    sol = integrate.solve_ivp(rhs, (r, s), [0, 0, 0, 0, 0], rtol=1e-12, atol=1e-14, dense_output=True, method="DOP853")
    c = -sol.sol(s)[1]  # tau_1(r) such that tau_1(s) = 0

    def tau2_slope(x):
        g1, h1, g0 = sol.sol(x)[:3]
        w = np.exp(-float(U(x)) / T)
        return -2.0 / (T * w) * (c * g1 + g0)  # tau_2' = -(2/T) e^{U/T} int_r^x e^{-U/T} tau_1

    tau1 = c + sol.sol(x0)[1]
    tau2, _ = integrate.quad(lambda x: -tau2_slope(x), x0, s, epsabs=0, epsrel=1e-12, limit=200)
    return tau1, tau2


def _brackets(estimate, exact):
    true = np.abs(np.asarray(estimate.value) - exact)
    error = np.asarray(estimate.error)
    assert np.all(true <= error), (true, error)
    assert np.all(error <= BRACKET * true), (true, error)


def test_grid_coarsened_keeps_the_box():
    grid = fp.Grid([(-2.5, 2.5), (-1.0, 3.0)], [250, 200], periodic=(False, True))
    coarse = grid.coarsened(4)
    assert coarse.bounds == grid.bounds and coarse.periodic == grid.periodic
    assert coarse.cells == (62, 50)  # round(250 / 4) = 62: the spacing grows by 250/62 there
    assert grid.coarsened(2).spacing == pytest.approx(tuple(2 * h for h in grid.spacing), rel=1e-15)
    with pytest.raises(ValueError, match="factor"):
        fp.Grid([(0, 1)], [8]).coarsened(4)
    with pytest.raises(ValueError, match="factor"):
        grid.coarsened(0.5)


@pytest.mark.parametrize("cells", [400, 800, 1000])
def test_exit_time_estimate_brackets_double_integral(cells):
    # With curvature-corrected rates and Shortley-Weller rows at the cut exit links the exit time
    # converges at order 4 here (the exit x = 0 lies on a face of the 1000-, 800-, 500-, 400- and
    # 200-cell grids and on a centre of the 250- and 100-cell ones: the order does not depend on
    # it any more). On 800 / 400 / 200 cells all three points are asymptotic at orders 3.95, 4.01,
    # 3.99 and the estimates bracket; the coarser sequences are flagged (the 100-cell grid's Peclet
    # number 4.1 at x = -0.5; orders 5.1 and 3.5 on 1000 / 500 / 250) and their bounds still hold.
    model = fp.Langevin(DOUBLE_WELL, temperature=T_DW)
    grid = fp.Grid([(-3.0, 1.0)], [cells])
    points = [-1.0, -1.3, -0.5]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the pre-asymptotic sequences warn
        est = fp.with_error(fp.mean_exit_time, model, grid, domain=lambda x: x < 0, at=points)
    exact = [_exit_time_moments(x)[0] for x in points]
    assert est.cells == ((cells,), (cells // 2,), (cells // 4,))
    assert np.all(np.abs(np.asarray(est.value) - exact) <= est.error)
    assert np.all(np.abs(np.asarray(est.value) / exact - 1) < 2e-7)  # measured <= 6e-8 (x = -0.5, 400 cells)
    if cells == 800:
        assert est.asymptotic and np.all(np.abs(est.order - 4) < 0.1)
        _brackets(est, exact)


def test_second_moment_estimate_brackets_quadrature():
    # on 600 / 300 / 150 cells the exit x = 0 is a face of the two finer grids and a centre of the
    # coarsest: the Shortley-Weller rows at the cut links make that irrelevant (order 2.05)
    fpe = fp.FokkerPlanck(fp.Langevin(DOUBLE_WELL, temperature=T_DW), fp.Grid([(-3.0, 1.0)], [600]))
    est = fp.with_error(
        fp.mean_exit_time, fpe, domain=lambda x: x < 0, moments=2, value=lambda tau: tau.moment(2), at=-1.2
    )
    _brackets(est, _exit_time_moments(-1.2)[1])


def test_exit_time_2d_rotated_line_brackets_1d_value():
    # U(x, y) = f(u) + g(v) in rotated coordinates with isotropic noise: the exit time through the
    # line u = 0 is the 1-D value of f (REFERENCES.md, decoupled landscapes): 33.9457442877
    c, s = np.sqrt(3) / 2, 0.5
    model = fp.Langevin(fp.landscapes.rotated_double_well(), temperature=0.25)
    grid = fp.Grid([(-2.5, 2.5), (-2.0, 2.0)], [200, 160])
    est = fp.with_error(fp.mean_exit_time, model, grid, domain=lambda x, y: c * x + s * y < 0, at=(-c, -s))
    _brackets(est, _exit_time_moments(-1.0)[0])  # the box walls are where e^{-U/T} < 1e-20


def test_quantiles_of_the_exit_law_bracket_the_brownian_series():
    # Brownian motion (U = 0, T = 1) in (0, 1), both faces absorbing, from 1/2:
    # S(t) = sum_{k odd} 4/(k pi) sin(k pi / 2) exp(-k^2 pi^2 t)
    k = np.arange(1, 200, 2)
    survival = lambda t: float(np.sum(4 / (k * np.pi) * np.sin(k * np.pi / 2) * np.exp(-((k * np.pi) ** 2) * t)))
    levels = [0.1, 0.5, 0.9, 0.9999]  # the last one deep in the long-time tail
    exact = [brentq(lambda t: survival(t) - (1 - u), 1e-4, 10.0, xtol=1e-15, rtol=1e-14) for u in levels]
    model = fp.Langevin(fp.Landscape(lambda x: 0.0 * x, grad=lambda x: 0.0 * x), temperature=1.0)
    est = fp.with_error(
        fp.exit_time_distribution,
        model,
        fp.Grid([(0.0, 1.0)], [160]),
        domain=None,
        start=0.5,
        boundary="absorbing",
        value=lambda law: law.quantile(levels),
    )
    _brackets(est, exact)


def test_ou_stationary_variance_and_rate_bracket_closed_forms():
    # dX = -k X dt + sqrt(2T) dW reflected in [-L, L]: the stationary law is a Gaussian of variance
    # s^2 = T/k truncated to the box, Var = s^2 [1 - 2 a phi(a) / (2 Phi(a) - 1)], a = L / s. A box
    # of 1.5 s keeps the density away from 0 at the walls, so the midpoint rule is second order
    # (on a wide box it is spectrally accurate: the estimate then says "converged", checked below).
    k, T, L = 1.0, 0.5, 1.0
    a = L / np.sqrt(T / k)
    phi, Phi = np.exp(-(a**2) / 2) / np.sqrt(2 * np.pi), 0.5 * (1 + __import__("math").erf(a / np.sqrt(2)))
    exact = T / k * (1 - 2 * a * phi / (2 * Phi - 1))
    model = fp.Langevin(fp.Landscape(lambda x: 0.5 * k * x**2), temperature=T)
    second_moment = lambda f: f.grid.integrate(f.stationary() * f.grid.centers[0] ** 2)
    _brackets(fp.with_error(second_moment, fp.FokkerPlanck(model, fp.Grid([(-L, L)], [80]))), exact)
    wide = fp.with_error(second_moment, fp.FokkerPlanck(model, fp.Grid([(-6.0, 6.0)], [200])))
    assert wide.status == "converged" and abs(wide.value - T / k) <= wide.error <= 1e-9

    def slowest_rate(problem):  # dense eigenvalues of the chain (scipy), not fpsolve's rate solver
        Q = problem.generator.matrix.toarray()
        return np.sort(-dense.eigvals(Q).real)[1]

    # on [-6, 6] the slowest rate of the reflected OU process is k to 1e-20
    _brackets(fp.with_error(slowest_rate, fp.FokkerPlanck(model, fp.Grid([(-6.0, 6.0)], [200]))), k)


def test_double_well_occupancy_brackets_boltzmann_quadrature():
    # U = (x^2 - 1)^2 + x^3 / 2 has its saddle at x = 0 (a cell face on all three grids) and wells
    # of different depth; the stationary share of the left basin is a ratio of integrals of
    # e^{-U/T}. The walls at +-1.5 carry density with U' != 0 there, so the midpoint rule errs at
    # O(h^2) (with walls far in the tails the h^2 terms vanish, U'(0) = 0 at the saddle, and the
    # occupancy converges at order 4, the next even order: asymptotic, with a bound that holds).
    T = 0.5
    U = fp.Landscape(lambda x: (x**2 - 1) ** 2 + 0.5 * x**3)
    w = lambda x: np.exp(-float(U(x)) / T)
    model = fp.Langevin(U, temperature=T)
    occupancy = lambda f: fp.basin_occupancy(f.stationary(), U, grid=f.grid).fractions[0]
    for wall, asymptotic in ((1.5, True), (2.5, False)):
        left = integrate.quad(w, -wall, 0.0, epsabs=0, epsrel=1e-13)[0]
        share = left / (left + integrate.quad(w, 0.0, wall, epsabs=0, epsrel=1e-13)[0])
        fpe = fp.FokkerPlanck(model, fp.Grid([(-wall, wall)], [200]))
        est = fp.with_error(occupancy, fpe)
        if asymptotic:
            _brackets(est, [share, 1 - share])
        else:
            # order 4, the next even order, is accepted as asymptotic: the estimate uses it
            assert est.asymptotic and np.all(est.order > 3.5)
            assert np.all(np.abs(est.value - [share, 1 - share]) <= est.error)


def test_high_barrier_exit_time_brackets_double_integral():
    # dU/T = 24: tau ~ 1.5e10; the estimate stays asymptotic and brackets (relative error 1.2e-4)
    T = 1 / 24
    est = fp.with_error(
        fp.mean_exit_time,
        fp.Langevin(DOUBLE_WELL, temperature=T),
        fp.Grid([(-2.2, 1.0)], [800]),
        domain=lambda x: x < 0,
        at=-1.0,
    )
    assert est.status == "asymptotic"
    _brackets(est, _exit_time_moments(-1.0, r=-2.2, T=T)[0])


def test_non_reversible_stationary_moment_brackets_closed_form():
    # dX = (-x - w y, -y + w x) dt + sqrt(2T) dW: the rotation is divergence-free and orthogonal to
    # the gradient, so the stationary law stays N(0, T I) (E|X|^2 = 2T) while the chain has no
    # detailed balance; the box [-5, 5]^2 truncates the law by e^{-25} only
    T, w = 0.5, 2.0
    model = fp.Diffusion(lambda x, y: np.stack([-x - w * y, -y + w * x]), T * np.eye(2), 2)
    fpe = fp.FokkerPlanck(model, fp.Grid([(-5.0, 5.0), (-5.0, 5.0)], [80, 80]))
    radius2 = lambda f: f.grid.integrate(f.stationary() * sum(c**2 for c in f.grid.mesh()))
    _brackets(fp.with_error(radius2, fpe), 2 * T)


@pytest.mark.parametrize("start", [-0.02, -0.005])
def test_start_next_to_the_exit_is_flagged_with_a_bound_that_holds(start):
    # within a cell or two of the boundary (coarsest cell 0.04) the interpolated value converges
    # irregularly: the estimate must say so, and its bound must still hold
    model = fp.Langevin(DOUBLE_WELL, temperature=T_DW)
    with pytest.warns(UserWarning, match="not asymptotic"):
        est = fp.with_error(fp.mean_exit_time, model, fp.Grid([(-3.0, 1.0)], [400]), domain=lambda x: x < 0, at=start)
    assert est.status == "pre-asymptotic"
    assert abs(est.value - _exit_time_moments(start)[0]) <= est.error


def test_drift_dominated_exit_time_is_exact_and_says_so():
    # U = x, T = 0.01, exit through x = 0 from 2: tau = 2.00 up to e^{-200}, cell Peclet numbers up
    # to 4.7 on the coarsest grid. The fitted flux is exact for a constant drift, and the cut exit
    # link's drift-aware Shortley-Weller row (absorb._shortley_weller_scale) makes the boundary
    # cell exact too: all three grids give 2 to 1e-11 (a former first-order offset theta (1 -
    # theta) h / (2 v) at the boundary cell made it 3.4e-4 on 300 cells), so "converged"
    model = fp.Langevin(fp.Landscape(lambda x: x, grad=lambda x: np.ones_like(x)), 0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the coarsest grid's Peclet warning
        est = fp.with_error(fp.mean_exit_time, model, fp.Grid([(-0.5, 3.0)], [300]), domain=lambda x: x > 0, at=2.0)
    assert est.status == "converged"
    assert abs(est.value - 2.0) <= min(est.error, 1e-11)


def test_richardson_on_exact_power_laws():
    # v(h) = 1 + C h^2 exactly: order 2, extrapolation exact, error SAFETY * true error
    h = np.array([0.01, 0.02, 0.04])
    v1, error, order, extrapolated, status = richardson(1 + 3.0 * h**2, h)
    assert order == pytest.approx(2.0, abs=1e-9) and extrapolated == pytest.approx(1.0, abs=1e-12)
    assert error == pytest.approx(SAFETY * 3.0 * h[0] ** 2, rel=1e-9) and status == "asymptotic"
    # unequal ratios (cells not divisible by 4): the Celik et al. fixed point recovers the order
    h = np.array([1 / 250, 1 / 125, 1 / 62])
    _, _, order, extrapolated, _ = richardson(2 - 0.7 * h**2.2, h)
    assert order == pytest.approx(2.2, abs=1e-8)


def test_first_order_results_are_flagged_with_a_bound_that_holds():
    # a first-order error v(h) = 1 + h: observed order 1, not the scheme's 2 -> warned, and the
    # error (the largest change between the grids, 2h) still bounds the true error h
    h = np.array([0.01, 0.02, 0.04])
    _, error, order, _, status = richardson(1 + h, h)
    assert status == "pre-asymptotic" and order == pytest.approx(1.0) and error >= h[0]
    fpe = fp.FokkerPlanck(fp.Langevin(DOUBLE_WELL, temperature=T_DW), fp.Grid([(-3.0, 1.0)], [200]))
    first_order = lambda f: 1.0 + f.grid.spacing[0]
    with pytest.warns(UserWarning, match="not asymptotic"):
        est = fp.with_error(first_order, fpe)
    assert not est.asymptotic and est.error >= abs(est.value - 1.0)
    with pytest.raises(ValueError, match="pre-asymptotic"):
        fp.with_error(first_order, fpe, strict=True)


def test_results_that_do_not_converge_are_refused():
    fpe = fp.FokkerPlanck(fp.Langevin(DOUBLE_WELL, temperature=T_DW), fp.Grid([(-3.0, 1.0)], [200]))
    noisy = lambda f: 1.0 + 1e-3 * np.sin(f.grid.cells[0])  # no convergence at all
    with pytest.raises(ValueError, match="not converging.*Refine the grid"):
        fp.with_error(noisy, fpe)


def test_inputs_that_cannot_be_coarsened_are_refused():
    model = fp.Langevin(DOUBLE_WELL, temperature=T_DW)
    grid = fp.Grid([(-3.0, 1.0)], [200])
    mask = grid.centers[0] < 0
    with pytest.raises(ValueError, match="domain: an array"):
        fp.with_error(fp.mean_exit_time, model, grid, domain=mask, at=-1.0)
    fpe = fp.FokkerPlanck(model, grid)
    with pytest.raises(TypeError, match="Generator"):
        fp.with_error(fp.mean_exit_time, fpe.generator, domain=lambda x: x < 0, at=-1.0)
    with pytest.raises(ValueError, match="absorbing"):
        fp.with_error(fp.mean_exit_time, fp.FokkerPlanck(model, grid, absorbing=~mask), domain=None, at=-1.0)
    with pytest.raises(ValueError, match="too small"):
        fp.with_error(fp.mean_exit_time, model, fp.Grid([(-3.0, 1.0)], [10]), domain=lambda x: x < 0, at=-1.0)
    with pytest.raises(ValueError, match="value: the result's shape changes"):
        fp.with_error(lambda f: f.stationary(), fpe)
    with pytest.raises(ValueError, match="at: the analysis returned a field"):
        fp.with_error(fp.mean_exit_time, fpe, domain=lambda x: x < 0)
    with pytest.raises(ValueError, match="basins: Basins was computed on one grid"):
        fp.with_error(fp.transition_rates, fpe, basins=fp.basins(grid, DOUBLE_WELL))


def test_estimate_reads_like_a_result():
    fpe = fp.FokkerPlanck(fp.Langevin(DOUBLE_WELL, temperature=T_DW), fp.Grid([(-3.0, 1.0)], [400]))
    fine = fp.mean_exit_time(fpe, domain=lambda x: x < 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the coarse grids' Peclet warnings are recorded, not shown
        est = fp.with_error(fp.mean_exit_time, fpe, domain=lambda x: x < 0, at=-1.0, fine=fine)
    assert "±" in repr(est) and "asymptotic" in repr(est)
    record = est.to_dict()
    assert record["cells"] == [[400], [200], [100]] and record["asymptotic"] is True
    assert est.relative_error == pytest.approx(est.error / est.value)
