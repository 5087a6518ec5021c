"""fpsolve.validate on phase space (theta, v): joint law, marginals, exit times, the samples file.

References are exact samplers (numpy): Maxwell-Boltzmann draws by inverse CDF of e^{-U/T} and a
Gaussian velocity, Gaussian phase-space laws, exponential exit times. Every check runs at level
alpha = 0.01 with a fixed seed, so a verdict is deterministic; "passes" means the exact law is not
rejected, "fails" that a law off by the stated amount is.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

import fpsolve as fp
from fpsolve.analysis.fields import Field
from fpsolve.montecarlo import ExitTimes


def double_well(x):
    return (x**2 - 1) ** 2


def maxwell_boltzmann_cells(grid, U, T, refine=8):
    """Cell averages of e^{-(U(theta) + |v|^2/2)/T} (midpoint rule on a grid ``refine`` times finer,
    O((h/refine)^2) ~ 1e-6 relative), normalised on the grid; 1 or 2 parameters (separable)."""
    d = grid.ndim // 2
    factors = []
    for a in range(grid.ndim):
        lo, hi = grid.bounds[a]
        n = grid.shape[a]
        s = lo + (np.arange(n * refine) + 0.5) * (hi - lo) / (n * refine)
        f = np.exp(-(U(s) if a < d else 0.5 * s**2) / T)
        factors.append(f.reshape(n, refine).mean(axis=1))
    p = factors[0]
    for f in factors[1:]:
        p = np.multiply.outer(p, f)
    return p / (p.sum() * grid.cell_volume)


def maxwell_boltzmann_samples(U, T, n, seed, lo=-2.5, hi=2.5):
    rng = np.random.default_rng(seed)
    th = np.linspace(lo, hi, 100_001)
    cdf = integrate.cumulative_trapezoid(np.exp(-U(th) / T), th, initial=0.0)
    theta = np.interp(rng.uniform(0, cdf[-1], n), cdf, th)
    return np.stack([theta, rng.normal(0.0, math.sqrt(T), n)], axis=1)


GRID = fp.phase_space_grid((-2.5, 2.5), (-3.0, 3.0), (100, 60))


def test_exact_maxwell_boltzmann_samples_pass_and_report_every_law():
    x = maxwell_boltzmann_samples(double_well, 0.4, 20_000, seed=1)
    report = fp.validate.phase_space(x, maxwell_boltzmann_cells(GRID, double_well, 0.4), GRID)
    assert report.passed, report
    assert report.check == "phase_space" and set(report.parts) == {"joint", "theta", "v"}
    assert all(part.passed for part in report.parts.values())
    assert set(report.to_dict()["details"]["laws"]) == {"joint", "theta", "v"}
    # each law is tested at alpha / 3 (Bonferroni), so the combined p is 3 x the smallest
    assert report.p_value == pytest.approx(min(1.0, 3 * min(p.p_value for p in report.parts.values())))


def test_a_wrong_temperature_is_rejected_in_the_marginals():
    # samples at T = 0.4 against the law at T = 0.48 (20 % hotter)
    x = maxwell_boltzmann_samples(double_well, 0.4, 20_000, seed=2)
    report = fp.validate.phase_space(x, maxwell_boltzmann_cells(GRID, double_well, 0.48), GRID)
    assert not report.passed
    assert not report.parts["theta"].passed and not report.parts["v"].passed
    assert "off" in report.message


def test_a_wrong_correlation_is_caught_by_the_joint_law_only():
    # exact marginals N(0, 1) each, but theta and v correlated (rho = 0.3): a phase-space current
    rng = np.random.default_rng(3)
    z = rng.normal(size=(20_000, 2))
    x = np.stack([z[:, 0], 0.3 * z[:, 0] + math.sqrt(1 - 0.09) * z[:, 1]], axis=1)
    grid = fp.phase_space_grid((-5.0, 5.0), (-5.0, 5.0), (50, 50))
    report = fp.validate.phase_space(x, maxwell_boltzmann_cells(grid, lambda s: 0.5 * s**2, 1.0), grid)
    assert report.parts["theta"].passed and report.parts["v"].passed
    assert not report.parts["joint"].passed and not report.passed


def test_four_dimensional_phase_space_has_two_dimensional_marginals():
    # theta in R^2: harmonic well, T = 1, all four coordinates independent N(0, 1)
    grid = fp.phase_space_grid([(-4.0, 4.0)] * 2, [(-4.0, 4.0)] * 2, 10)
    p = maxwell_boltzmann_cells(grid, lambda s: 0.5 * s**2, 1.0)
    x = np.random.default_rng(4).normal(size=(20_100, 4))
    x = x[np.all(np.abs(x) < 4.0, axis=1)][:20_000]  # the law truncated to the grid, exactly
    report = fp.validate.phase_space(x, p, grid)
    assert report.passed, report
    assert report.parts["theta"].details["n_bins"] > 2
    marginal, sub = fp.validate.marginal_density(p, grid, (2, 3))
    assert sub.shape == (10, 10) and sub.axis_names == ("v1", "v2")
    assert marginal.sum() * sub.cell_volume == pytest.approx(1.0, rel=1e-12)
    # a too-narrow velocity law (Var v = 0.64, T off by 36 %) is rejected
    x[:, 2:] *= 0.8
    assert not fp.validate.phase_space(x, p, grid).parts["v"].passed


def test_phase_space_input_is_checked():
    p = maxwell_boltzmann_cells(GRID, double_well, 0.4)
    with pytest.raises(ValueError, match=r"samples: expected phase-space points of shape \(n, 2\)"):
        fp.validate.phase_space(np.zeros((100, 3)), p, GRID)
    with pytest.raises(ValueError, match="grid: a phase-space grid has 2 x dim"):
        fp.validate.phase_space(np.zeros((100, 3)), np.ones((4, 4, 4)) / 64, fp.Grid([(0, 1)] * 3, 4))


def test_phase_space_samples_travel_through_the_samples_file(tmp_path):
    x = maxwell_boltzmann_samples(double_well, 0.4, 5_000, seed=5)
    path = tmp_path / "phase.npz"
    fp.validate.save_samples(
        path,
        samples=x[None],
        times=[2.0],
        metadata={
            "simulator": "fpsolve BAOAB",
            "model": "UnderdampedLangevin(double_well, 1, 0.4)",
            "seed": 5,
            "dt": 0.01,
            "case": "kinetic",
        },
    )
    data = fp.validate.load_samples(path)
    assert data.samples.shape == (1, 5_000, 2)
    report = fp.validate.phase_space(data.samples[0], maxwell_boltzmann_cells(GRID, double_well, 0.4), GRID)
    assert report.passed, report


def test_phase_space_report_plots(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    x = maxwell_boltzmann_samples(double_well, 0.4, 2_000, seed=6)
    report = fp.validate.phase_space(x, maxwell_boltzmann_cells(GRID, double_well, 0.4), GRID)
    ax = report.plot()
    assert ax.get_xlabel() == "theta" and ax.get_ylabel() == "v"


# ------------------------------------------------------------------------------------------------
# Exit times in phase space
# ------------------------------------------------------------------------------------------------
def exponential_exits(mean, n, seed, t_max=None):
    t = np.random.default_rng(seed).exponential(mean, n)
    censored = np.zeros(n, dtype=bool) if t_max is None else t >= t_max
    if t_max is not None:
        t = np.minimum(t, t_max)
    return ExitTimes(
        times=t,
        censored=censored,
        locations=np.zeros((n, 2)),
        n_paths=n,
        dt=0.01,
        seed=seed,
        t_max=np.inf if t_max is None else t_max,
    )


def test_mean_exit_time_reads_a_phase_space_field_at_the_start():
    grid = fp.phase_space_grid((-2.0, 0.0), (-3.0, 3.0), (40, 30))
    theta, v = grid.mesh()
    tau = Field(150.0 + 5.0 * theta + 2.0 * v, grid, "mean exit time")  # linear: exact interpolation
    exits = exponential_exits(145.0 + 1.0, 4_000, seed=7)  # tau(-1, 0.5) = 146
    report = fp.validate.mean_exit_time(exits, tau, start=(-1.0, 0.5))
    assert report.passed, report
    assert report.details["reference"] == pytest.approx(146.0, rel=1e-12)
    wrong = fp.validate.mean_exit_time(exponential_exits(160.0, 4_000, seed=7), tau, start=(-1.0, 0.5))
    assert not wrong.passed  # 9.6 % off, 6 standard errors
    with pytest.raises(ValueError, match="start: reference_mean is a Field"):
        fp.validate.mean_exit_time(exits, tau)
    with pytest.raises(ValueError, match="start: expected a point with 2 coordinates"):
        fp.validate.mean_exit_time(exits, tau, start=(-1.0,))
    with pytest.raises(ValueError, match="start: only used with a Field"):
        fp.validate.mean_exit_time(exits, 146.0, start=(-1.0, 0.5))


def test_exit_checks_take_a_simulators_censored_exit_times():
    # censoring at t_max = 200 is read from the ExitTimes object; the law E(146) has a survival
    exits = exponential_exits(146.0, 4_000, seed=8, t_max=200.0)
    assert exits.censored.any()
    law = type("Law", (), {"survival": staticmethod(lambda t: np.exp(-np.asarray(t) / 146.0))})()
    report = fp.validate.exit_times(exits, law)
    assert report.passed, report
    assert report.details["n_censored"] == int(exits.censored.sum()) and report.details["time_limit"] == 200.0
