"""fpsolve.validate with Levy flights: exit times, exit positions and samples against closed forms.

References: Getoor's mean exit time, the Blumenthal-Getoor-Ray exit-position law, the stable law
of the Levy-Ornstein-Uhlenbeck process (scipy.stats.levy_stable), each checked here against an
independent computation first (quadrature, the Brownian and Cauchy special cases).
"""

import math
import types

import numpy as np
import pytest
from scipy import integrate, stats

import fpsolve as fp
from fpsolve import levy_theory, validate
from fpsolve import montecarlo as mc

ALPHA, START, RADIUS, DT = 1.2, 0.3125, 1.0, 1e-3  # START: a cell centre of the PDE grids below
LANDING_GRID = fp.Grid([(-5.0, 5.0)], [200])


@pytest.fixture(scope="module")
def exits():
    """6000 exits of L^1.2 (U = 0) from (-1, 1), started at 0.3125."""
    model = fp.LevyLangevin(fp.landscapes.quadratic([[0.0]]), ALPHA, 1.0)
    return mc.simulator(model, dt=DT, seed=23).exit_times([START], 6000, domain=mc.Box([(-RADIUS, RADIUS)]), t_max=50.0)


# ------------------------------------------------------------------------------------------------
# the closed forms themselves
# ------------------------------------------------------------------------------------------------
def test_exit_position_law_is_a_probability_law():
    law = validate.ExitPositionLaw(ALPHA, RADIUS, START)
    right = integrate.quad(law.pdf, 1.0, np.inf, limit=200)[0]
    left = integrate.quad(law.pdf, -np.inf, -1.0, limit=200)[0]
    assert left + right == pytest.approx(1.0, abs=1e-7)  # quad's accuracy on the edge singularity
    assert law.cdf(-1.0)[0] == pytest.approx(left, abs=1e-7)
    for y in (-3.0, 1.5, 4.0):  # the cdf's quadrature against a plain one of the density
        plain = (
            left + integrate.quad(law.pdf, 1.0, y, limit=200)[0]
            if y > 1
            else integrate.quad(law.pdf, -np.inf, y, limit=200)[0]
        )
        assert law.cdf(y)[0] == pytest.approx(plain, abs=1e-7)
    # a start right of the centre lands right more often
    assert right > 0.5


def test_stable_density_special_cases():
    grid = fp.Grid([(-3.0, 3.0)], [60])
    edges = np.linspace(-3, 3, 61)
    gauss = validate.stable_density(grid, 2.0, 0.7)  # N(0, 2 s^2)
    np.testing.assert_allclose(
        gauss * grid.cell_volume, np.diff(stats.norm.cdf(edges, scale=0.7 * math.sqrt(2))), atol=1e-7
    )  # scipy's levy_stable integrates numerically: ~1e-8 here
    cauchy = validate.stable_density(grid, 1.0, 0.7)
    np.testing.assert_allclose(cauchy * grid.cell_volume, np.diff(stats.cauchy.cdf(edges, scale=0.7)), atol=1e-7)


# ------------------------------------------------------------------------------------------------
# exit times and exit positions of the simulator, refereed
# ------------------------------------------------------------------------------------------------
def test_levy_exit_times_pass_against_getoor_and_a_wrong_reference_fails(exits):
    tau = float(levy_theory.getoor_mean_exit_time(START, ALPHA, radius=RADIUS))
    # discrete monitoring overestimates tau by about 0.8 % at dt = 1e-3 for alpha = 1.2
    # (benchmarks/levy_monitoring_bias.py), under the 1.3 % standard error of 6000 paths
    report = validate.mean_exit_time(exits, tau)
    assert report.passed, report
    assert not validate.mean_exit_time(exits, 1.1 * tau).passed  # 10 % is 7.5 standard errors
    law_free = validate.exit_times(exits, tau)
    assert law_free.passed and "law not tested" in law_free.message


def test_exit_positions_follow_blumenthal_getoor_ray(exits):
    law = validate.ExitPositionLaw(ALPHA, RADIUS, START)
    report = validate.exit_locations(exits, law, grid=LANDING_GRID)
    assert report.passed, report
    assert report.check == "exit_locations" and report.details["outside_count"] > 0  # jumps beyond +-5
    # the law for a lighter tail puts its mass next to the boundary: rejected
    assert not validate.exit_locations(exits, validate.ExitPositionLaw(1.9, RADIUS, START), grid=LANDING_GRID).passed
    # and the law for a start on the other side of the centre
    assert not validate.exit_locations(exits, validate.ExitPositionLaw(ALPHA, RADIUS, -START), grid=LANDING_GRID).passed
    import matplotlib

    matplotlib.use("Agg")
    assert report.plot() is not None


def test_exit_positions_against_a_pde_style_exit_law(exits, tmp_path):
    # the PDE's exit_locations gives probabilities per exterior cell (0 inside the domain); the
    # remainder (jumps beyond the grid) is the outside bin. Built here from the closed form.
    law = validate.ExitPositionLaw(ALPHA, RADIUS, START)
    edges = np.linspace(-5, 5, 201)
    cells = np.diff(law.cdf(edges))
    pde_like = types.SimpleNamespace(cells=cells, grid=LANDING_GRID)
    # through the samples file, as `fpsolve validate` reads it
    path = tmp_path / "levy_exits.npz"
    validate.save_samples(
        path,
        exit_times=exits.times,
        censored=exits.censored,
        time_limit=exits.t_max,
        exit_locations=exits.locations,
        metadata={
            "simulator": "fpsolve.montecarlo",
            "model": "LevyLangevin alpha=1.2",
            "seed": 23,
            "dt": DT,
            "case": "getoor",
        },
    )
    data = validate.load_samples(path)
    report = validate.exit_locations(data, pde_like)
    assert report.passed, report
    assert report.details["n"] == int((~exits.censored).sum())


def test_levy_exits_refereed_against_the_fractional_pde(exits):
    # the same Monte Carlo run against the PDE (fractional scheme, the interval as an absorbing
    # box): the mean exit time as a Field read at the start, and the landing density of
    # fp.exit_locations binned on the landing grid. The PDE itself is checked against Getoor here
    # (0.05 % at 512 cells), so a failure would be the referee's, not the reference's.
    model = fp.LevyLangevin(fp.landscapes.quadratic([[0.0]]), ALPHA, 1.0)
    grid = fp.Grid([(-RADIUS, RADIUS)], [512])
    tau = fp.mean_exit_time(model, grid, domain=None)
    assert tau(START) == pytest.approx(float(levy_theory.getoor_mean_exit_time(START, ALPHA)), rel=2e-3)
    report = validate.mean_exit_time(exits, tau, start=[START])
    assert report.passed, report
    # the landing law: solved on a box 5 times wider than the domain, whose exterior cells then
    # carry the landing probabilities (the jumps beyond +-5 form the outside bin)
    wide = fp.Grid([(-5.0, 5.0)], [400])
    inside = lambda x: np.abs(x) < RADIUS  # noqa: E731
    landing = fp.exit_locations(model, wide, domain=inside, start=START)
    report = validate.exit_locations(exits, landing)
    assert report.passed, report
    assert not validate.exit_locations(exits, fp.exit_locations(model, wide, domain=inside, start=-START)).passed


def test_levy_ou_samples_pass_against_the_stable_law():
    # dX = -X dt + 0.6 dL^1.5 from 0, sampled at t = 6: stable, scale 0.6 (1.5)^(-1/1.5) up to
    # a factor (1 - e^{-9})^(2/3) = 1 - 8e-5, and Euler's 0.33 % larger scale at h = 0.02: a shift
    # of the cell masses far below what 8000 samples resolve (chi-squared bins of ~100 samples)
    lam, eps, alpha = 1.0, 0.6, 1.5
    model = fp.LevyLangevin(fp.landscapes.quadratic([[lam]]), alpha, eps)
    x = mc.simulator(model, dt=0.02, seed=8).sample([0.0], 8000, [6.0]).x[-1]
    grid = fp.Grid([(-4.0, 4.0)], [160])
    scale = levy_theory.levy_ou_scale(alpha, eps, lam)
    report = validate.densities(x, validate.stable_density(grid, alpha, scale), grid=grid)
    assert report.passed, report
    assert report.details["outside_count"] > 0  # heavy tails beyond the grid, expected there
    assert not validate.densities(x, validate.stable_density(grid, alpha, 1.25 * scale), grid=grid).passed


# ------------------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------------------
def test_levy_validation_refuses_bad_input(exits):
    law = validate.ExitPositionLaw(ALPHA, RADIUS, START)
    with pytest.raises(ValueError, match="^grid: a reference given by its .cdf needs a 1-D grid"):
        validate.exit_locations(exits, law)
    with pytest.raises(ValueError, match="^reference: expected the PDE's exit law"):
        validate.exit_locations(exits, 0.5, grid=LANDING_GRID)
    with pytest.raises(ValueError, match="^x: the start 1.5 is not inside"):
        validate.ExitPositionLaw(ALPHA, RADIUS, 1.5)
    with pytest.raises(ValueError, match="^alpha: expected a tail index in \\(0, 2\\) \\(at alpha = 2"):
        validate.ExitPositionLaw(2.0, RADIUS, 0.0)
    with pytest.raises(ValueError, match="^alpha: expected a tail index in \\(0, 2\\]"):
        validate.stable_density(LANDING_GRID, 2.5, 1.0)
