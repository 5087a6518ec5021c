"""The paper cases run end to end (on reduced settings) and report numbers that match their references."""

import json

import numpy as np
import pytest

from fpsolve.cases import find_cases, load_case, run_case


def reduced(tmp_path, name, replacements):
    text = find_cases()[name].read_text()
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


def test_paper_cases_are_listed_and_parse():
    cases = find_cases()
    for name in ("locally_elastic", "resnet_depth_limit"):
        assert load_case(cases[name]).task == name


def test_resnet_case_reports_the_limit_and_the_depth_table(tmp_path):
    path = reduced(
        tmp_path,
        "resnet_depth_limit",
        [("depths = [3, 10, 30, 100, 300, 1000]", "depths = [3, 10]"), ("paths = 100000", "paths = 20000")],
    )
    path.write_text(path.read_text().split("\n[scaling]\n")[0])  # the optional table of exponent sweeps
    folder, _, _ = run_case(path, tmp_path / "out")
    numbers = json.loads((folder / "result.json").read_text())["numbers"]
    # FP on h = 0.05, box +-200: 1.3e-4 relative from the ODE with the same N(1, 0.02^2) start;
    # the Ito prediction 1.25e - 0.25 differs from it by 0.02^2 e = 1.1e-3 (the start's variance)
    assert numbers["second_moment_limit"] == pytest.approx(numbers["second_moment_ode"], rel=1e-3)
    assert numbers["second_moment_limit"] == pytest.approx(1.25 * np.e - 0.25, rel=2e-3)
    rows = numbers["second_moment_by_depth"]
    assert [r["depth"] for r in rows] == [3, 10]
    assert rows[0]["ks_distance"] > rows[1]["ks_distance"]  # the finite-depth law approaches the limit


def test_locally_elastic_case_agrees_three_ways(tmp_path):
    path = reduced(
        tmp_path,
        "locally_elastic",
        [("paths = 20000", "paths = 2000"), ("times = [1.0, 10.0, 100.0, 1000.0]", "times = [10.0, 1000.0]")],
    )
    folder, _, _ = run_case(path, tmp_path / "out")
    numbers = json.loads((folder / "result.json").read_text())["numbers"]
    mode = numbers["separating_mode"]
    # FP (h = 0.0025, second order) against the closed form from the same start: measured 6e-5 (mean)
    # and 9e-4 (variance) relative, 4x less than at h = 0.005; tolerances 1e-3 and 3e-3
    assert mode["fokker_planck"]["mean"] == pytest.approx(mode["exact"]["mean"], rel=1e-3)
    assert mode["fokker_planck"]["variance"] == pytest.approx(mode["exact"]["variance"], rel=3e-3)
    mc, point = mode["monte_carlo"], mode["exact"]["from_point_start"]
    assert abs(mc["mean"] - point["mean"]) < mc["mean_ci99"]
    assert abs(mc["variance"] / point["variance"] - 1) < mc["variance_ci99_relative"]
    sep = numbers["separability"]
    gaps, long_run = np.array(sep["gap"]), np.array(sep["probability"][-1])
    # alpha - beta <= -0.1: the margin is forgotten, s0 e^{(alpha - beta) T/K} / sd < 1e-14 at T = 1000
    assert long_run[gaps <= -0.1] == pytest.approx(0.5, abs=1e-12)
    assert np.all(long_run[gaps > 0] > 0.5)
    corruption = numbers["corruption"]
    rates = np.array(corruption["separating_rate"])
    fractions = np.array(corruption["fractions"])
    assert np.all(rates[fractions < 0.66] > 0) and np.all(rates[fractions > 0.67] < 0)
