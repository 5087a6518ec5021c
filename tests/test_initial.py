"""Initial densities: exact cell integrals of a Gaussian (erf), point masses, uniform sets,
histograms of samples, and the checks of as_density."""

import numpy as np
import pytest
from scipy.special import erf

import fpsolve as fp
from fpsolve.initial import as_density


def _mass(grid, p):
    return p.sum() * grid.cell_volume


def test_gaussian_is_the_exact_cell_integral():
    grid = fp.Grid([(-1.0, 2.0)], [30])
    m, s = 0.4, 0.05  # narrower than a cell (h = 0.1)
    p = fp.gaussian(grid, mean=m, std=s)
    faces = grid.faces[0]
    cdf = 0.5 * (1 + erf((faces - m) / (np.sqrt(2) * s)))
    exact = np.diff(cdf) / (cdf[-1] - cdf[0]) / grid.spacing[0]
    assert np.allclose(p, exact, rtol=1e-13, atol=1e-13 * exact.max())
    assert _mass(grid, p) == pytest.approx(1.0, abs=1e-14)
    # the mean of the cell integrals at the centres is exact for a Gaussian centred on a face;
    # here m is a centre, so by symmetry the discrete mean is m to round-off
    assert np.sum(grid.centers[0] * p) * grid.cell_volume == pytest.approx(m, abs=1e-14)


def test_gaussian_2d_is_a_product_and_periodic_images_wrap():
    grid = fp.Grid([(0, 1), (0, 2)], [20, 10], periodic=[True, False])
    p = fp.gaussian(grid, mean=(0.02, 1.0), std=(0.1, 0.3))
    assert _mass(grid, p) == pytest.approx(1.0, abs=1e-14)
    marginal_x = p.sum(axis=1) * grid.spacing[1]
    # wrapping: the mass that a Gaussian at 0.02 puts below 0 appears in the last cells; the two
    # cells adjacent across the periodic face carry the exact integrals over (-0.05, 0) and (0, 0.05)
    lo = 0.5 * (1 + erf((np.array([-0.05, 0.0, 0.05]) - 0.02) / (np.sqrt(2) * 0.1)))
    assert marginal_x[-1] * 0.05 == pytest.approx(lo[1] - lo[0], rel=1e-6)
    assert marginal_x[0] * 0.05 == pytest.approx(lo[2] - lo[1], rel=1e-6)
    assert np.allclose(p / p.sum(), np.multiply.outer(p.sum(1), p.sum(0)) / p.sum() ** 2, atol=1e-15)


def test_point_mass_uniform_and_samples():
    grid = fp.Grid([(-1, 1), (-1, 1)], [8, 8])
    p = fp.point_mass(grid, (0.3, -0.6))
    # the mass is shared by the 2^d nearest cell centres (multilinear weights), so the discrete
    # mean is the point itself, exactly
    assert _mass(grid, p) == pytest.approx(1.0) and 1 <= np.count_nonzero(p) <= 4
    x, y = grid.mesh()
    mean = [np.sum(c * p) * grid.cell_volume for c in (x, y)]
    assert mean == pytest.approx([0.3, -0.6], abs=1e-14)
    u = fp.uniform(grid, lambda x, y: x**2 + y**2 < 0.5)
    assert _mass(grid, u) == pytest.approx(1.0) and len(np.unique(u[u > 0])) == 1
    x, y = grid.mesh()
    assert np.all(u[x**2 + y**2 >= 0.5] == 0)
    samples = np.array([[0.1, 0.1], [0.1, 0.12], [-0.9, 0.9], [0.99, -0.99]])
    h = fp.from_samples(grid, samples)
    assert _mass(grid, h) == pytest.approx(1.0)
    assert h[grid.cell_index(0.1, 0.1)] == pytest.approx(0.5 / grid.cell_volume)


def test_as_density_passes_good_input_unchanged_and_clips_round_off():
    grid = fp.Grid([(0, 1)], [10])
    p = np.ones(10)
    p[3] = -1e-15  # round-off sized negative value: accepted and clipped
    with pytest.warns(UserWarning, match="mass"):
        q = as_density(p, grid)
    assert q.min() == 0 and _mass(grid, q) == pytest.approx(1.0, abs=1e-14)
    good = np.ones(10)
    assert np.array_equal(as_density(good, grid), good)
