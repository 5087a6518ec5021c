"""Chebyshev collocation: the numerical core (points, derivatives, interpolation, coefficients,
integrals) against exact polynomials and elementary functions, and the forward operator against
Ornstein-Uhlenbeck closed forms (Gaussian cell averages by erf)."""

import numpy as np
import pytest
from scipy.special import erf

import fpsolve as fp
from fpsolve.discretize.chebyshev import (
    ChebyshevBox,
    ChebyshevCollocation,
    backward_matrix,
)
from fpsolve.discretize.chebyshev_nodes import (
    chebyshev_coefficients,
    cumulative_integral,
    differentiation_matrix,
    interpolate,
    lobatto_points,
    tail_ratio,
)


def test_differentiation_is_exact_on_polynomials_and_spectral_on_smooth_functions():
    n, a, b = 12, -2.0, 1.0
    x = lobatto_points(n, a, b)
    D = differentiation_matrix(n, a, b)
    # degree n-1 polynomials are differentiated exactly (to round-off ~ eps n^2 |D| ~ 1e-12)
    p = x**11 - 3 * x**4 + x
    assert np.allclose(D @ p, 11 * x**10 - 12 * x**3 + 1, rtol=0, atol=1e-9 * np.abs(p).max())
    # e^{sin x} with 40 points: 1e-12 (measured 3e-13 at 60 points, 1.5e-9 at 20)
    n = 40
    x = lobatto_points(n, a, b)
    f = np.exp(np.sin(x))
    assert np.abs(differentiation_matrix(n, a, b) @ f - np.cos(x) * f).max() < 1e-11
    assert x[0] == a and x[-1] == b and np.all(np.diff(x) > 0)


def test_interpolation_coefficients_and_integrals():
    n, a, b = 40, -2.0, 1.0
    x = lobatto_points(n, a, b)
    f = np.exp(np.sin(x))
    points = np.array([-2.0, -1.3, 0.2, 0.999])
    # barycentric interpolation of an entire function: round-off (measured 2e-16 at 60 points)
    assert np.abs(interpolate(x, f, points) - np.exp(np.sin(points))).max() < 1e-13
    # Chebyshev coefficients of T_3 on [a, b] are exactly (0, 0, 0, 1, 0, ...)
    s = (2 * x - a - b) / (b - a)
    c = chebyshev_coefficients(4 * s**3 - 3 * s)
    assert abs(c[3] - 1) < 1e-14 and np.abs(np.delete(c, 3)).max() < 1e-14
    # the integral of the interpolant: exact for cos (an entire function) to round-off
    assert np.abs(cumulative_integral(np.cos(x), a, b) - (np.sin(x) - np.sin(a))).max() < 1e-14
    assert abs(cumulative_integral(np.cos(x), a, b, [0.5])[0] - (np.sin(0.5) - np.sin(a))) < 1e-14


def test_tail_ratio_separates_smooth_from_kinked():
    x = lobatto_points(65)
    assert tail_ratio(np.exp(x)) < 1e-14  # entire: round-off
    assert tail_ratio(np.exp(x) + 1e3) < 1e-12  # a large constant is left out
    assert 1e-4 < tail_ratio(np.abs(x)) < 1e-2  # |x|: c_k ~ 1/k^2 (measured 1.8e-3)
    assert tail_ratio(np.sign(x), with_constant=True) > 1e-3  # a jump: c_k ~ 1/k


def test_backward_operator_applies_the_generator():
    # L f = b f' + D f'' for dX = -U' dt + sqrt(2T) dW, on f = sin x: exact up to truncation
    model = fp.Langevin(fp.landscapes.double_well(), temperature=0.3)
    box = ChebyshevBox([(-2.0, 2.0)], [48])
    x = box.points[0]
    Lf = backward_matrix(model, box) @ np.sin(x)
    exact = -(4 * x**3 - 4 * x) * np.cos(x) - 0.3 * np.sin(x)
    assert np.abs(Lf - exact).max() < 1e-10 * np.abs(exact).max()  # measured 8e-13


def gaussian_cells(grid, mean, std):
    f = grid.faces[0]
    return np.diff(0.5 * (1 + erf((f - mean) / (np.sqrt(2) * std)))) / grid.spacing[0]


def test_stationary_law_of_ornstein_uhlenbeck_to_1e10():
    # U = x^2/2, T = 1/2: the stationary law is N(0, 1/2); cell averages by erf. Exponential
    # convergence: measured L1 errors 8e-7 (48 points), 5e-11 (64), 1.4e-14 (96)
    model = fp.Langevin(fp.Landscape(lambda x: 0.5 * x**2, grad=lambda x: x[None] * 1.0), temperature=0.5)
    errors = []
    for n in (48, 64, 96):
        grid = fp.Grid([(-6.0, 6.0)], [n])
        fpe = fp.FokkerPlanck(model, grid, discretization="spectral")
        assert isinstance(fpe.scheme, ChebyshevCollocation)
        p = fpe.stationary()
        errors.append(np.abs(p - gaussian_cells(grid, 0.0, np.sqrt(0.5))).sum() * grid.spacing[0])
        assert abs(grid.integrate(p) - 1) < 1e-12  # cell averages of a normalised interpolant
    assert errors[-1] < 1e-10 and errors[0] / errors[1] > 100


def test_two_dimensional_stationary_law_is_the_tensor_of_the_1d_laws():
    # U = x^2/2 + y^2, T = 1/2: the law is N(0, 1/2) x N(0, 1/4). The tensor collocation with
    # zero-flux rows on all four sides (x's condition at the corners) must be as accurate as the
    # two 1-D solves with the same points (measured: 2-D 3.0e-3, 1-D 1.1e-3 + 2.2e-3)
    def law(U, grad, box, n, std):
        grid = fp.Grid([box], [n])
        p = fp.FokkerPlanck(
            fp.Langevin(fp.Landscape(U, grad), temperature=0.5), grid, discretization="spectral"
        ).stationary()
        return np.abs(p - gaussian_cells(grid, 0.0, std)).sum() * grid.spacing[0]

    ex = law(lambda x: 0.5 * x**2, lambda x: x[None] * 1.0, (-4.0, 4.0), 24, np.sqrt(0.5))
    ey = law(lambda y: y**2, lambda y: 2.0 * y[None], (-3.0, 3.0), 24, 0.5)
    U = fp.Landscape(lambda x, y: 0.5 * x**2 + y**2, lambda x, y: np.stack(np.broadcast_arrays(x, 2.0 * y)))
    grid = fp.Grid([(-4.0, 4.0), (-3.0, 3.0)], [24, 24])
    p = fp.FokkerPlanck(fp.Langevin(U, temperature=0.5), grid, discretization="spectral").stationary()
    fx = gaussian_cells(fp.Grid([(-4.0, 4.0)], [24]), 0.0, np.sqrt(0.5))
    fy = gaussian_cells(fp.Grid([(-3.0, 3.0)], [24]), 0.0, 0.5)
    error = np.abs(p - np.outer(fx, fy)).sum() * grid.cell_volume
    # L1 errors of a product add to first order: |p q - f g| <= |p - f| + |q - g| + |p - f||q - g|
    assert error < 1.5 * (ex + ey)
    assert abs(grid.integrate(p) - 1) < 1e-12


def test_ornstein_uhlenbeck_evolution_matches_closed_form():
    # mean m0 e^{-t}, variance s0^2 e^{-2t} + T (1 - e^{-2t}); the start enters on the cells and is
    # carried to the points by third-order histopolation, which sets the error (measured L1 6e-4
    # at t = 0 and 3e-5 at t = 2 with 96 points; it decays as the density smooths out)
    model = fp.Langevin(fp.Landscape(lambda x: 0.5 * x**2, grad=lambda x: x[None] * 1.0), temperature=0.5)
    grid = fp.Grid([(-6.0, 6.0)], [96])
    fpe = fp.FokkerPlanck(model, grid, discretization="spectral")
    m0, s0 = 1.0, 0.3
    sol = fpe.evolve(gaussian_cells(grid, m0, s0), [0.0, 0.5, 2.0])
    for k, t in enumerate(sol.t):
        exact = gaussian_cells(grid, m0 * np.exp(-t), np.sqrt(s0**2 * np.exp(-2 * t) + 0.5 * (1 - np.exp(-2 * t))))
        error = np.abs(sol.p[k] - exact).sum() * grid.spacing[0]
        assert error < (1e-3 if t == 0 else 1e-4)
    assert np.abs(sol.mass - 1).max() < 1e-4  # the start's transfer; the evolution keeps it


def test_absorbing_face_loses_mass_at_the_exact_rate():
    # U = 0, T = 1 on [0, 1], both faces absorbing: p(x, t) = sum_k c_k e^{-(k pi)^2 t} sin(k pi x);
    # from the first mode alone the mass decays exactly as e^{-pi^2 t}
    model = fp.Langevin(fp.Landscape(lambda x: 0.0 * x, grad=lambda x: 0.0 * x[None]), temperature=1.0)
    grid = fp.Grid([(0.0, 1.0)], [40])
    fpe = fp.FokkerPlanck(model, grid, boundary="absorbing", discretization="spectral")
    f = grid.faces[0]
    p0 = -np.diff(np.cos(np.pi * f)) / (np.pi * grid.spacing[0]) * np.pi / 2  # averages of (pi/2) sin
    sol = fpe.evolve(p0, [0.0, 0.1, 0.3])
    # measured 8e-7 relative at t = 0: the start's third-order transfer to the points
    assert np.allclose(sol.mass, np.exp(-(np.pi**2) * sol.t), rtol=1e-5)
    # the decay itself is spectral: mass(0.3)/mass(0.1) = e^{-0.2 pi^2} to 1.2e-10 (the transfer's
    # error sits in faster modes, decayed by e^{-3 pi^2 0.1} ~ 0.05 at t = 0.1)
    assert abs(sol.mass[2] / sol.mass[1] / np.exp(-0.2 * np.pi**2) - 1) < 1e-8


def test_growing_modes_and_bad_setups_are_refused():
    model = fp.Langevin(fp.Landscape(lambda x: 0.5 * x**2, grad=lambda x: x[None] * 1.0), temperature=0.5)
    grid = fp.Grid([(-6.0, 6.0)], [32])  # too few points: the zero mode grows at 1.2e-3
    fpe = fp.FokkerPlanck(model, grid, discretization="spectral")
    with pytest.raises(ValueError, match="growing mode"):
        fpe.evolve(gaussian_cells(grid, 1.0, 0.3), [0.0, 2.0])
    with pytest.raises(ValueError, match="options"):
        fp.FokkerPlanck(model, grid, discretization="chebyshev", options={"filter": 36})
    with pytest.raises(ValueError, match="at most"):
        fp.FokkerPlanck(model, fp.Grid([(-6.0, 6.0)], [5000]), discretization="spectral")
    with pytest.raises(ValueError, match="non-periodic"):
        model2 = fp.Langevin(fp.Landscape(lambda x, y: np.cos(x) + y**2), temperature=0.5)
        fp.FokkerPlanck(
            model2, fp.Grid([(0, 2 * np.pi), (-2, 2)], [16, 16], periodic=[True, False]), discretization="spectral"
        )
    with pytest.raises(ValueError, match="stationary law needs every box face reflecting"):
        fp.FokkerPlanck(
            model, fp.Grid([(-6.0, 6.0)], [64]), boundary="absorbing", discretization="spectral"
        ).stationary()
    levy = fp.LevyLangevin(fp.Landscape(lambda x: 0.5 * x**2), alpha=1.5, scale=0.5)
    with pytest.raises(ValueError, match="jump"):
        fp.FokkerPlanck(levy, fp.Grid([(-6.0, 6.0)], [64]), discretization="chebyshev")
