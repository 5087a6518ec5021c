"""Transition rates against Eyring-Kramers with its known finite-temperature corrections."""

import pytest

import fpsolve as fp
from fpsolve import landscapes
from fpsolve.analysis import eyring_kramers_rate, transition_rates


def test_double_well_rates_approach_kramers_as_temperature_drops():
    # U = (x^2 - 1)^2: the exact rate differs from Kramers by 25 % at dU/T = 2, 6 % at 8
    # (REFERENCES.md); the basin model's rate must approach Kramers monotonically, and the
    # relaxation rate of a symmetric double well is ~2k.
    U = landscapes.double_well()
    ratios = []
    for T in (0.5, 0.25, 0.125):
        grid = fp.Grid([(-2.2, 2.2)], [880])
        r = transition_rates(fp.Langevin(U, T), grid)
        k = eyring_kramers_rate(U, U.minima[0], U.saddles[0], T)
        ratios.append(r.matrix[0, 1] / k)
        assert r.matrix[0, 1] == pytest.approx(
            r.matrix[1, 0], rel=1e-3
        )  # symmetric well (start cells at +-1 differ by h/2)
        assert r.msm_rates[0] == pytest.approx(r.relaxation[0], rel=0.1)
    assert abs(1 - ratios[2]) < 0.07  # dU/T = 8
    assert abs(1 - ratios[0]) > abs(1 - ratios[1]) > abs(1 - ratios[2])


def test_2d_eyring_kramers_prefactor():
    # Rotated double well, T = 0.15 (dU/T = 6.7): Eyring-Kramers within its O(T) correction (~10 %).
    U = landscapes.rotated_double_well()
    grid = fp.Grid([(-2.0, 2.0), (-2.0, 2.0)], [100, 100])
    r = transition_rates(fp.Langevin(U, 0.15), grid)
    k = eyring_kramers_rate(U, U.minima[0], U.saddles[0], 0.15)
    assert r.matrix[0, 1] / k == pytest.approx(1.0, abs=0.12)
