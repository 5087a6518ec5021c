"""Watershed basins and basin occupancy."""

import numpy as np
import pytest
from scipy import integrate

import fpsolve as fp
from fpsolve import landscapes
from fpsolve.analysis import basin_occupancy, basins


def test_double_well_basins_split_at_the_saddle_with_sharpness():
    U = landscapes.sharp_flat_double_well()
    grid = fp.Grid([(-2.0, 2.0)], [400])
    b = basins(grid, U)
    x = grid.centers[0]
    saddle = U.saddles[0][0]
    assert b.n == 2
    assert np.all(b.labels[x < saddle - grid.spacing[0]] == 0) and np.all(b.labels[x > saddle + grid.spacing[0]] == 1)
    assert b.sharpness[0] == pytest.approx([16.0], rel=1e-9) and b.sharpness[1] == pytest.approx([4.0], rel=1e-9)


def test_plateaus_drain_and_flat_minima_are_one_basin():
    grid = fp.Grid([(0.0, 1.0)], [16])
    # a flat-bottomed minimum (cells 2-4), a plateau (7-9 at 2.0) whose only way down is through
    # cell 9's lower neighbour 10 (cells 7 and 8 have no lower neighbour), a second minimum at 12
    v = np.array([3, 2, 0, 0, 0, 1, 2.5, 2, 2, 2, 1.5, 1, 0.5, 1, 2, 3], dtype=float)
    b = basins(grid, None, values=v)
    assert b.n == 2
    assert list(b.labels) == [0] * 7 + [1] * 9


def test_2d_basins_follow_the_landscape_minima_order():
    U = landscapes.muller_brown()
    grid = fp.Grid([(-1.5, 1.2), (-0.5, 2.0)], [135, 125])
    b = basins(grid, U)
    assert b.n >= 3
    for i, m in enumerate(U.minima):
        assert b.labels[grid.cell_index(*m)] == i
        assert np.all(b.sharpness[i] > 0)


def test_stationary_occupancy_matches_boltzmann_masses():
    # Stationary law exp(-U/T)/Z at the cell centres (exact for SG fluxes); basin masses against
    # quadrature of exp(-U/T) split at the saddle: equal to the midpoint-rule error, O(h^2) ~ 1e-5.
    U = landscapes.sharp_flat_double_well()
    T = 0.3
    grid = fp.Grid([(-2.2, 2.2)], [880])
    fpe = fp.FokkerPlanck(fp.Langevin(U, T), grid)
    occ = basin_occupancy(fpe.stationary(), U, grid=grid)
    s = U.saddles[0][0]
    w = lambda x: np.exp(-U(x) / T)  # noqa: E731
    left = integrate.quad(w, -2.2, s, limit=200)[0]
    right = integrate.quad(w, s, 2.2, limit=200)[0]
    assert occ.fractions[0] == pytest.approx([left / (left + right), right / (left + right)], abs=2e-3)
    assert occ.t[0] == np.inf
    sol = fpe.evolve(fp.gaussian(grid, mean=-1.0, std=0.1), [0.0, 1.0, 50.0])
    over = basin_occupancy(sol, U)
    assert over.fractions[0, 0] == pytest.approx(1.0, abs=1e-9)
    assert np.allclose(over.fractions.sum(axis=1), 1.0, atol=1e-9)
    assert over.fractions[-1, 1] > over.fractions[1, 1]
