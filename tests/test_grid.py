"""Grid: geometry, integration, interpolation, periodic wrap, and bad inputs."""

import numpy as np
import pytest

import fpsolve as fp
from fpsolve.grid import Grid


def test_centres_faces_and_volume():
    grid = Grid([(-2.5, 2.5), (-1.5, 1.5)], [400, 200])
    assert grid.shape == (400, 200) and grid.ndim == 2 and grid.size == 80000
    assert grid.spacing == pytest.approx((0.0125, 0.015), rel=1e-15)
    assert grid.cell_volume == pytest.approx(0.0125 * 0.015, rel=1e-15)
    x, y = grid.centers
    assert x[0] == pytest.approx(-2.5 + 0.00625) and x[-1] == pytest.approx(2.5 - 0.00625)
    assert np.allclose(np.diff(y), 0.015, rtol=1e-12)
    fx, fy = grid.faces
    assert len(fx) == 401 and fx[0] == -2.5 and fx[-1] == 2.5
    assert np.allclose(0.5 * (fx[1:] + fx[:-1]), x, atol=1e-14)  # centres are face midpoints
    X, Y = grid.mesh()
    assert X.shape == grid.shape and np.all(X[:, 0] == x) and np.all(Y[0, :] == y)  # indexing="ij"


def test_integrate_is_the_midpoint_rule():
    grid = Grid([(0.0, 2.0), (-1.0, 1.0)], [50, 40])
    X, Y = grid.mesh()
    # exact for linear fields: integral of 3 + 2x - y over [0,2]x[-1,1] = 4*3 + 2*2*2 = 20
    assert grid.integrate(3 + 2 * X - Y) == pytest.approx(20.0, rel=1e-13)
    # x^2: the midpoint rule misses h^2/12 per unit length: integral 8/3 * 2 - 2 * (2/50)^2 / 12 * 2
    h = 2.0 / 50
    assert grid.integrate(X**2) == pytest.approx(16 / 3 - 2 * 2 * h**2 / 12, rel=1e-13)
    stacked = np.stack([np.ones(grid.shape), 2 * np.ones(grid.shape)])
    assert np.allclose(grid.integrate(stacked), [4.0, 8.0], rtol=1e-13)  # leading axes kept
    with pytest.raises(ValueError, match="values"):
        grid.integrate(np.ones((50, 41)))


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_interpolation_is_exact_for_linear_fields(ndim):
    bounds = [(-1.0, 2.0), (0.0, 1.0), (-3.0, -1.0)][:ndim]
    grid = Grid(bounds, [7, 6, 5][:ndim])
    slope = np.array([1.5, -2.0, 0.25])[:ndim]
    field = 0.3 + sum(s * m for s, m in zip(slope, grid.mesh()))
    rng = np.random.default_rng(0)
    # points between the outermost centres, where multilinear interpolation is exact
    lo = np.array([c[0] for c in grid.centers])
    hi = np.array([c[-1] for c in grid.centers])
    pts = lo[:, None] + (hi - lo)[:, None] * rng.random((ndim, 50))
    assert np.allclose(grid.interpolate(field, *pts), 0.3 + slope @ pts, atol=1e-13)
    assert isinstance(grid.interpolate(field, *pts[:, 0]), float)


def test_interpolation_holds_the_boundary_cell_value_between_centre_and_face():
    grid = Grid([(0.0, 1.0)], [4])
    values = np.array([1.0, 2.0, 3.0, 4.0])
    assert grid.interpolate(values, np.array([0.0, 0.1, 0.125])) == pytest.approx([1.0, 1.0, 1.0])
    assert grid.interpolate(values, np.array([0.875, 0.95, 1.0])) == pytest.approx([4.0, 4.0, 4.0])
    assert grid.interpolate(values, 0.5) == pytest.approx(2.5)


def test_periodic_wrap():
    grid = Grid([(0.0, 1.0)], [4], periodic=True)
    values = np.array([1.0, 2.0, 3.0, 4.0])
    # across the seam, between the last centre 0.875 and the first 0.125 (+1): linear blend of 4 and 1
    assert grid.interpolate(values, 0.0) == pytest.approx(2.5)
    assert grid.interpolate(values, 0.95) == pytest.approx(4.0 + (1.0 - 4.0) * 0.075 / 0.25)
    x = np.linspace(0.0, 1.0, 11)
    assert np.allclose(grid.interpolate(values, x + 3.0), grid.interpolate(values, x), atol=1e-12)
    assert grid.cell_index(1.1) == (0,) and grid.cell_index(-0.1) == (3,)
    assert grid.contains(17.3)
    field = np.sin(2 * np.pi * grid.centers[0])
    assert grid.interpolate(field, 0.375) == pytest.approx(field[1])


def test_cell_index_and_contains():
    grid = Grid([(0.0, 1.0), (-1.0, 1.0)], [10, 4])
    assert grid.cell_index(0.05, -0.9) == (0, 0)
    assert grid.cell_index(1.0, 1.0) == (9, 3)  # the closed upper face belongs to the last cell
    assert grid.contains(0.5, 0.0) and not grid.contains(1.2, 0.0)


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="cells"):
        Grid([(0.0, 1.0)], [2])
    with pytest.raises(ValueError, match="cells"):
        Grid([(0.0, 1.0), (0.0, 1.0)], [10, 10, 10])
    with pytest.raises(ValueError, match="bounds.*reversed"):
        Grid([(1.0, 0.0)], [10])
    with pytest.raises(ValueError, match="bounds"):
        Grid([(0.0, np.inf)], [10])
    grid = Grid([(0.0, 1.0), (0.0, 2.0)], [10, 10])
    with pytest.raises(ValueError, match="point"):
        grid.cell_index(1.5, 0.5)
    with pytest.raises(ValueError, match="points.*x = 1.5"):
        grid.interpolate(np.zeros(grid.shape), 1.5, 0.5)
    with pytest.raises(ValueError, match="values"):
        grid.interpolate(np.zeros((10, 9)), 0.5, 0.5)
    with pytest.raises(ValueError, match="start"):
        grid.require_inside((0.5, 3.0), "start")  # message names the caller's argument


def test_interpolation_weights_are_the_weights_of_interpolate():
    # One point's weights must reproduce interpolate() for any field (it is linear in the field):
    # checked on random fields, bounded and periodic axes, points between a wall and the first
    # centre; exact up to summation-order round-off (1e-13).
    rng = np.random.default_rng(3)
    grids = [
        fp.Grid([(-1, 2)], [7]),
        fp.Grid([(0, 1), (-1, 1)], [5, 4], periodic=[True, False]),
        fp.Grid([(0, 1)] * 3, [3, 4, 5]),
    ]
    for grid in grids:
        for _ in range(20):
            point = [rng.uniform(lo, hi) for lo, hi in grid.bounds]
            w = grid.interpolation_weights(*point)
            assert w.shape == grid.shape and w.min() >= 0 and w.sum() == pytest.approx(1.0, abs=1e-14)
            assert np.count_nonzero(w) <= 2**grid.ndim
            values = rng.normal(size=grid.shape)
            assert np.sum(w * values) == pytest.approx(grid.interpolate(values, *point), abs=1e-13)
    with pytest.raises(ValueError, match="point"):
        grids[0].interpolation_weights(5.0)
