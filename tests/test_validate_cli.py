"""``fpsolve validate CASE --samples FILE``: end to end, from a samples file to an exit code.

The samples here come from no simulator. Exit times are drawn from the PDE's own exit-time law by
inverse-CDF sampling (``law.quantile`` of seeded uniforms), densities from the PDE's own
piecewise-constant density (a cell chosen with its mass, then a uniform point in it). Under that
null the command must pass (exit code 0) except with probability alpha = 0.01; being seeded, the
outcome is fixed once it passes. What is tested is the plumbing (file -> case -> PDE -> check ->
exit code) and the statistics, not a simulator. Clearly wrong laws must be rejected (exit code 3)
and malformed files refused (exit code 2) with a message naming what is wrong.
"""

import json
import re

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from fpsolve.analysis import exit_time_distribution
from fpsolve.cases import resolve_case
from fpsolve.cases.config import build_grid, build_initial, build_landscape, build_model, load_case
from fpsolve.cases.validation import domain_predicate
from fpsolve.cli import main
from fpsolve.problem import FokkerPlanck
from fpsolve.validate import save_samples

N = 2000


def _metadata(case, **extra):
    return {
        "simulator": "inverse-CDF sampler of the PDE law",
        "model": "exact",
        "seed": 0,
        "dt": None,
        "case": case,
        **extra,
    }


@pytest.fixture(scope="module")
def exit_law():
    """The PDE exit-time law of the built-in case exit_time_1d, built as the command builds it."""
    case = load_case(resolve_case("exit_time_1d"))
    spec = case.table("exit")
    grid = build_grid(case)
    model = build_model(case, build_landscape(case))
    return exit_time_distribution(
        model,
        grid,
        domain_predicate(case, spec["domain"], grid.ndim),
        tuple(spec["start"]),
        boundary=case.tables["boundary"]["kind"],
    )


@pytest.fixture(scope="module")
def exact_exit_times(exit_law):
    u = np.random.default_rng(20240601).uniform(size=N)
    return exit_law.quantile(u)


def _validate(capsys, *args):
    code = main(["validate", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_exact_exit_times_pass(tmp_path, capsys, exact_exit_times, exit_law):
    # The case's mean exit time from x = -1 is 33.9457442877 by the double integral (REFERENCES.md);
    # the law the command builds must be that one (grid error 1e-6 relative; the law starts from
    # the interpolation weights of mean_exit_time), so the samples are centred on the independent
    # value within 3 SE.
    assert exit_law.mean == pytest.approx(33.9457442877, rel=1e-5)
    assert abs(exact_exit_times.mean() - 33.9457442877) < 3 * exact_exit_times.std() / np.sqrt(N)
    path = tmp_path / "exact.npz"
    save_samples(path, exit_times=exact_exit_times, metadata=_metadata("exit_time_1d"))
    code, out, _ = _validate(capsys, "exit_time_1d", "--samples", path)
    assert code == 0, out  # false alarm with probability <= alpha = 0.01 (fixed by the seed)
    assert out.startswith("PASS")


def test_exact_censored_exit_times_pass_and_write_report(tmp_path, capsys, exact_exit_times):
    # Type-I censoring at T = 40 (about 0.3 of the paths): the restricted KS and restricted mean
    # are exact under the null, so the verdict is a pass except with probability alpha.
    limit = 40.0
    censored = exact_exit_times >= limit
    assert 0.2 < censored.mean() < 0.4  # S(40) ~ 0.3 for this law: censoring is really exercised
    path = tmp_path / "censored.npz"
    save_samples(
        path,
        exit_times=np.minimum(exact_exit_times, limit),
        censored=censored,
        time_limit=limit,
        metadata=_metadata("exit_time_1d"),
    )
    out_dir = tmp_path / "report"
    code, out, _ = _validate(capsys, "exit_time_1d", "--samples", path, "--out", out_dir)
    assert code == 0, out
    result = json.loads((out_dir / "result.json").read_text())
    assert json.dumps(result).count('"verdict": "pass"') == 1
    # the verdict used the PDE mean's Richardson error bar (of E[tau], a bound for the restricted
    # mean too, whose error is smaller): the law's mean is 33.945744284 on 2500, 1250 and 625
    # cells alike, 3.5e-9 from the double integral 33.9457442877, so the estimate is the
    # round-off floor 1e-9 x mean = 3.4e-8 ("converged"); it must bound the true error
    errors = re.findall(r'"mean_reference_error": ([0-9.e+-]+)', json.dumps(result))
    assert errors and 3.5e-9 <= max(map(float, errors)) <= 1e-6
    assert (out_dir / "validation.png").is_file()


def test_exit_times_scaled_by_1_3_are_rejected(tmp_path, capsys, exact_exit_times):
    # Scaling by 1.3 moves the mean by 30 % while its standard error is ~1/sqrt(2000) = 2.2 %:
    # z ~ 13, and the KS distance ~0.07 against a 1 % critical value 1.63/sqrt(2000) = 0.036.
    # The chance of a pass is far below 1e-10.
    path = tmp_path / "slow.npz"
    save_samples(path, exit_times=1.3 * exact_exit_times, metadata=_metadata("exit_time_1d"))
    code, out, _ = _validate(capsys, "exit_time_1d", "--samples", path)
    assert code == 3, out
    assert out.startswith("REJECT")


# -- densities: a small double-well case written for the test ------------------------------------
DENSITY_CASE = """
name = "small_density"
title = "Double well, few cells, one time"
task = "evolve"

[landscape]
name = "double_well"

[model]
kind = "langevin"
temperature = 0.25

[grid]
bounds = [[-2.5, 2.5]]
cells = [250]

[initial]
kind = "gaussian"
mean = [-1.0]
std = 0.2

[evolve]
times = [0.0, 0.3]
"""


def _pde_density(case_path, t):
    """The case's density at t, as the command computes it (its exactness is not what is tested)."""
    case = load_case(case_path)
    grid = build_grid(case)
    fpe = FokkerPlanck(build_model(case, build_landscape(case)), grid)
    return grid, fpe.evolve(build_initial(case, grid), [0.0, t], method="trbdf2", rtol=1e-10).p[-1]


def _sample_cells(grid, p, n, rng):
    """Exact samples of the piecewise-constant density p: a cell by its mass, then uniform inside."""
    mass = p * grid.cell_volume
    cells = rng.choice(p.size, size=n, p=mass / mass.sum())
    ((lo, hi),) = grid.bounds
    width = (hi - lo) / p.size
    return lo + (cells + rng.uniform(size=n)) * width


def test_exact_density_samples_pass_and_wrong_time_is_rejected(tmp_path, capsys):
    case_path = tmp_path / "small_density.toml"
    case_path.write_text(DENSITY_CASE)
    grid, p = _pde_density(case_path, 0.3)
    rng = np.random.default_rng(11)
    good = tmp_path / "good.npz"
    save_samples(
        good, samples=_sample_cells(grid, p, N, rng)[None, :], times=[0.3], metadata=_metadata("small_density")
    )
    code, out, _ = _validate(capsys, case_path, "--samples", good)
    assert code == 0, out  # exact samples: false alarm with probability <= alpha (seeded)

    # A "simulator" that never moved: samples of the initial N(-1, 0.2^2) reported as t = 0.3. By
    # t = 0.3 the PDE density has mean -0.948 and std 0.206 (computed once, trbdf2 and CRAM agree
    # to 1e-7): a shift of 0.26 std, so with n = 2000 the chi2 noncentrality is ~ n * 0.26^2 ~ 130
    # on ~41 df, against a 1 % critical value of ~64: rejected with probability ~1.
    stale = tmp_path / "stale.npz"
    save_samples(stale, samples=rng.normal(-1.0, 0.2, N)[None, :], times=[0.3], metadata=_metadata("small_density"))
    code, out, _ = _validate(capsys, case_path, "--samples", stale)
    assert code == 3, out


# -- bad input: exit code 2 with a message that names the problem -------------------------------
def test_samples_of_another_case_are_refused(tmp_path, capsys, exact_exit_times):
    path = tmp_path / "other.npz"
    save_samples(path, exit_times=exact_exit_times, metadata=_metadata("double_well_1d"))
    code, _, err = _validate(capsys, "exit_time_1d", "--samples", path)
    assert code == 2
    assert "double_well_1d" in err and "exit_time_1d" in err


def test_missing_metadata_key_is_named(tmp_path, capsys, exact_exit_times):
    metadata = _metadata("exit_time_1d")
    del metadata["seed"]
    path = tmp_path / "no_seed.npz"
    np.savez(path, exit_times=exact_exit_times, metadata=json.dumps(metadata), format_version=1)
    code, _, err = _validate(capsys, "exit_time_1d", "--samples", path)
    assert code == 2
    assert "metadata" in err and "seed" in err


def test_nan_exit_times_are_refused(tmp_path, capsys, exact_exit_times):
    times = exact_exit_times.copy()
    times[[3, 17]] = np.nan
    path = tmp_path / "nan.npz"
    np.savez(path, exit_times=times, metadata=json.dumps(_metadata("exit_time_1d")), format_version=1)
    code, _, err = _validate(capsys, "exit_time_1d", "--samples", path)
    assert code == 2
    assert "exit_times" in err and "NaN" in err and "2 entries" in err


def test_nan_density_samples_are_refused(tmp_path, capsys):
    case_path = tmp_path / "small_density.toml"
    case_path.write_text(DENSITY_CASE)
    samples = np.random.default_rng(0).normal(-1.0, 0.2, (1, 100))
    samples[0, 5] = np.nan
    path = tmp_path / "nan_samples.npz"
    np.savez(path, samples=samples, times=[0.3], metadata=json.dumps(_metadata("small_density")), format_version=1)
    code, _, err = _validate(capsys, case_path, "--samples", path)
    assert code == 2
    assert "samples" in err and "NaN" in err
