"""Fourth-order interpolation of smooth cell fields (fpsolve.interpolation, Field.smooth).

References are closed-form functions sampled at the cell centres: the interpolant must reproduce
cubics exactly, converge at order 4 on a smooth function, shift the stencil away from walls and
absorbing cells (multilinear where no stencil fits), and overshoot a sharp layer by at most an
eighth of its jump.
"""

import warnings

import numpy as np
import pytest

import fpsolve as fp
from fpsolve.interpolation import cubic_interpolate


def test_cubics_are_reproduced_exactly_in_2d():
    grid = fp.Grid([(-1.0, 2.0), (0.0, 1.0)], [30, 20])
    X, Y = grid.mesh()
    f = lambda x, y: x**3 - 2 * x * y**2 + y**3 + 0.5  # noqa: E731 (degree <= 3 per axis)
    x = np.array([0.137, -0.41, 1.555])
    y = np.array([0.33, 0.5, 0.71])
    # tensor-product cubic Lagrange is exact for degree <= 3 per axis: round-off only
    np.testing.assert_allclose(cubic_interpolate(grid, f(X, Y), (x, y)), f(x, y), rtol=1e-12)


def test_fourth_order_on_a_smooth_function_where_multilinear_is_second():
    errors_cubic, errors_linear = [], []
    x = np.linspace(0.2, 2.8, 37)  # points at all positions between centres
    for n in (80, 160, 320):  # on 40 cells the 1/8 clip still binds at the peaks (order 3.5)
        grid = fp.Grid([(0.0, 3.0)], [n])
        values = np.sin(2 * grid.centers[0])
        errors_cubic.append(np.abs(cubic_interpolate(grid, values, (x,)) - np.sin(2 * x)).max())
        errors_linear.append(np.abs(grid.interpolate(values, x) - np.sin(2 * x)).max())
    cubic_order = np.log2(np.array(errors_cubic[:-1]) / errors_cubic[1:])
    linear_order = np.log2(np.array(errors_linear[:-1]) / errors_linear[1:])
    # the max error over points is a smooth function of h: orders within 0.2 of 4 and 2
    assert np.all(np.abs(cubic_order - 4) < 0.2), cubic_order
    assert np.all(np.abs(linear_order - 2) < 0.2), linear_order


def test_shifted_stencils_next_to_walls_and_invalid_cells_and_multilinear_beyond():
    grid = fp.Grid([(0.0, 1.0)], [10])
    values = np.exp(grid.centers[0])
    # x = 0.07 lies between the first two centres: the stencil is shifted off the wall, O(h^4)
    # (the centred one would need a centre at -0.05); the one-sided cubic's error bound
    # h^4 max|f^(4)| / 24 (with the node product at most 1) is 1.1e-5 for h = 0.1
    assert cubic_interpolate(grid, values, (0.07,)) == pytest.approx(np.exp(0.07), abs=1.2e-5)
    # between the last centre and the wall there is nothing to interpolate: multilinear (held)
    assert cubic_interpolate(grid, values, (0.98,)) == grid.interpolate(values, 0.98)
    # a removed (absorbing) cell inside the centred stencil of x = 0.5: shifted away from it, and
    # the removed cell's value (a boundary value, here garbage) is never read
    valid = np.ones(10, dtype=bool)
    valid[6] = False
    spoiled = values.copy()
    spoiled[6] = 1e6
    assert cubic_interpolate(grid, spoiled, (0.5,), valid=valid) == pytest.approx(np.exp(0.5), abs=1.2e-5)
    # fewer than four valid centres in a row around the point: multilinear
    valid[[3, 6]] = False
    assert cubic_interpolate(grid, spoiled, (0.5,), valid=valid) == grid.interpolate(spoiled, 0.5)


def test_overshoot_at_a_step_is_at_most_an_eighth_of_the_jump():
    grid = fp.Grid([(0.0, 1.0)], [20])
    step = (grid.centers[0] > 0.5).astype(float)
    x = np.linspace(0.2, 0.8, 61)
    out = cubic_interpolate(grid, step, (x,))
    # clipped to the stencil's range widened by 1/8 (room for a smooth extremum between samples)
    assert out.min() >= -0.125 and out.max() <= 1.125
    assert np.all(out[x < 0.35] == 0.0) and np.all(out[x > 0.65] == 1.0)  # no ringing away from it


def test_field_smooth_reads_the_exit_time_between_centres_at_the_schemes_accuracy():
    # 1-D double well, T = 1/4, exit through the barrier top x = 0 (a box face), 200 cells on
    # (-2.5, 0): tau(-0.5) multilinear errs by h^2 s (1 - s) |tau''| / 2 (about 1e-4 relative);
    # smooth() leaves the scheme's own 1e-6-level error. Reference: the double integral by quad.
    from scipy import integrate

    T, U = 0.25, lambda x: (x * x - 1) ** 2
    inner = lambda y: integrate.quad(lambda z: np.exp(-(U(z) - U(y)) / T), -2.5, y, limit=200)[0]  # noqa: E731
    exact = integrate.quad(inner, -0.5, 0.0, limit=200)[0] / T
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tau = fp.mean_exit_time(
            fp.Langevin(fp.landscapes.double_well(), T),
            fp.Grid([(-2.5, 0.0)], [200]),
            boundary=("reflecting", "absorbing"),
        )
    assert abs(tau(-0.5) / exact - 1) > 2e-5  # -0.5 lies on a face: s = 1/2, the worst case
    # what is left is the scheme's: the exit face's uniform offset h^2 / (8 T) = 7.8e-5, 2.5e-6
    # of tau (docs/numerics.md); 4e-6 leaves room for the O(h^4) terms
    assert tau.smooth(-0.5) == pytest.approx(exact, rel=4e-6)
