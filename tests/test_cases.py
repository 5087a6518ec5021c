"""Case files and the command line: run, list, validate, and malformed case files."""

import json
import subprocess
import sys

import numpy as np
import pytest

from fpsolve.cases import CaseError, find_cases, load_case, run_case
from fpsolve.cli import main

SMALL_CASE = """
name = "small"
title = "a small 1-D double well"
task = "evolve"

[landscape]
name = "double_well"

[model]
kind = "langevin"
temperature = 0.5

[grid]
bounds = [[-2.5, 2.5]]
cells = [200]

[initial]
kind = "gaussian"
mean = [-1.0]
std = 0.2

[evolve]
times = [0.0, 1.0, 50.0]
method = "exponential"
"""


def write_case(tmp_path, text=SMALL_CASE, name="small.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_run_writes_results_folder_with_boltzmann_end_state(tmp_path):
    folder, result, meta = run_case(write_case(tmp_path), tmp_path / "out")
    data = json.loads((folder / "result.json").read_text())
    assert data["case"] == "small" and data["fpsolve_version"]
    assert (folder / "density.png").stat().st_size > 1000
    arrays = np.load(folder / "arrays.npz")
    x = arrays["center_x"]
    boltzmann = np.exp(-((x**2 - 1) ** 2) / 0.5)
    boltzmann /= boltzmann.sum() * (x[1] - x[0])
    # the stationary array is the exact discrete equilibrium exp(-U/T) (round-off); at t = 50 the
    # slowest mode (rate 0.227 at T = 0.5, see relaxation_rates) has decayed by e^-11.4 ~ 1e-5, so
    # the evolved density matches to 1e-4 of its peak (the start differs from it at order 1)
    assert np.abs(arrays["stationary"] - boltzmann).max() < 1e-10 * boltzmann.max()
    assert np.abs(arrays["p"][-1] - boltzmann).max() < 1e-4 * boltzmann.max()
    assert np.abs(arrays["p"][0] - boltzmann).max() > 0.1 * boltzmann.max()
    assert abs(data["numbers"]["mass"][-1] - 1) < 1e-9


def test_rerun_replaces_results_atomically(tmp_path):
    out = tmp_path / "out"
    run_case(write_case(tmp_path), out)
    run_case(write_case(tmp_path), out)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == []  # no staging or backup folders left behind
    assert (out / "result.json").exists()


@pytest.mark.parametrize(
    "edit, key",
    [
        (lambda s: s.replace('kind = "langevin"', 'kind = "adam"'), "[model] kind"),
        (lambda s: s.replace("temperature = 0.5\n", ""), "[model] temperature"),
        (lambda s: s.replace('name = "double_well"', 'name = "no_such_well"'), "[landscape] name"),
        (lambda s: s.replace("cells = [200]", "cells = [2]"), "[grid]"),
        (lambda s: s.replace("times = [0.0, 1.0, 50.0]", "times = [1.0, 0.0]"), "[evolve] times"),
        (lambda s: s.replace('task = "evolve"', 'task = "dance"'), "task"),
        (lambda s: s + "\n[[[", "not valid TOML"),
    ],
)
def test_malformed_case_names_the_key(tmp_path, edit, key):
    path = write_case(tmp_path, edit(SMALL_CASE))
    with pytest.raises(CaseError, match=key.replace("[", r"\[").replace("]", r"\]")):
        run_case(path, tmp_path / "out")


def test_builtin_cases_are_listed_and_parse():
    cases = find_cases()
    assert {"double_well_1d", "sharp_flat_batch_size"} <= set(cases)
    for path in cases.values():
        load_case(path)


def test_cli_run_list_version(tmp_path, capsys):
    assert main(["run", str(write_case(tmp_path)), "--out", str(tmp_path / "cli")]) == 0
    assert "results in" in capsys.readouterr().out
    assert main(["list"]) == 0
    assert "double_well_1d" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--version"])
    assert "fpsolve 0.1.0" in capsys.readouterr().out


def test_cli_reports_bad_case_without_traceback(tmp_path, capsys):
    path = write_case(tmp_path, SMALL_CASE.replace("temperature = 0.5\n", ""))
    assert main(["run", str(path)]) == 2
    assert "[model] temperature: missing" in capsys.readouterr().err


def test_console_script_is_installed():
    out = subprocess.run([sys.executable, "-m", "fpsolve.cli", "--version"], capture_output=True, text=True)
    assert out.stdout.strip() == "fpsolve 0.1.0"


# -- a sweep case resumes after an interruption, but never with rows of an edited case ------------
SWEEP_CASE = """
name = "tiny_sweep"
task = "batch_size_sweep"

[landscape]
name = "sharp_flat_double_well"

[model]
kind = "sgd"
lr = 1.0
noise_scale = 200.0
hessian_floor = 1.0

[grid]
bounds = [[-2.5, 2.5]]
cells = [200]

[sweep]
batch_size = [4, 16, 64]
noise = ["isotropic"]
"""


@pytest.fixture
def counted_points(monkeypatch):
    """Count the sweep's point evaluations; interrupt the n-th when ``state["fail_at"] = n``."""
    import functools

    from fpsolve.cases import analysis_tasks

    real = analysis_tasks.batch_size_point
    state = {"calls": [], "fail_at": None}

    @functools.wraps(real)  # the same qualified name: the same computation for the fingerprint
    def point(*args, **kwargs):
        state["calls"].append(kwargs["batch_size"])
        if len(state["calls"]) == state["fail_at"]:
            raise RuntimeError("interrupted")
        return real(*args, **kwargs)

    monkeypatch.setattr(analysis_tasks, "batch_size_point", point)
    return state


def _interrupted_run(tmp_path, counted_points, text):
    path = write_case(tmp_path, text, "sweep.toml")
    counted_points["fail_at"] = 2
    with pytest.raises(RuntimeError, match="interrupted"):
        run_case(path, tmp_path / "out")
    (partial,) = tmp_path.glob(".out.*.partial")
    assert [r["batch_size"] for r in json.loads((partial / "sweep.json").read_text())["rows"]] == [4.0]
    counted_points.update(calls=[], fail_at=None)
    return path, partial


def test_interrupted_sweep_case_resumes_from_its_saved_rows(tmp_path, counted_points):
    path, partial = _interrupted_run(tmp_path, counted_points, SWEEP_CASE)
    folder, result, _ = run_case(path, tmp_path / "out")
    # the saved point B = 4 was not recomputed; the last two calls are the error estimate's
    # re-solves of the largest B on the grid coarsened by 2 and 4
    assert counted_points["calls"] == [16.0, 64.0, 64.0, 64.0]
    assert [row["batch_size"] for row in result.numbers["table"]] == [4.0, 16.0, 64.0]
    assert not partial.exists()  # a finished run leaves no scratch behind


def test_sweep_case_edited_after_an_interruption_recomputes_every_point(tmp_path, counted_points):
    path, stale = _interrupted_run(tmp_path, counted_points, SWEEP_CASE)
    path.write_text(SWEEP_CASE.replace("lr = 1.0", "lr = 2.0"))
    folder, result, _ = run_case(path, tmp_path / "out")
    assert counted_points["calls"][:3] == [4.0, 16.0, 64.0]  # nothing reused from the lr = 1 rows
    rows = result.numbers["table"]
    # exit_iterations = exit_time / lr: every row was computed with the edited lr = 2
    assert all(r["exit_iterations_0"] == pytest.approx(r["exit_time_0"] / 2.0) for r in rows)
    assert not stale.exists() and not list(tmp_path.glob(".out.*.partial"))


def test_sweep_task_refuses_rows_saved_for_another_version_of_the_case(tmp_path, counted_points):
    from fpsolve.cases.analysis_tasks import batch_size_sweep_task

    path, partial = _interrupted_run(tmp_path, counted_points, SWEEP_CASE)
    path.write_text(SWEEP_CASE.replace("lr = 1.0", "lr = 1.5"))
    # even handed the old scratch folder directly, the task sees the case key differ
    with pytest.raises(CaseError, match="belongs to a different computation"):
        batch_size_sweep_task(load_case(path), scratch=partial)
    assert counted_points["calls"] == []


# -- the command line: bad input is one line on stderr and exit code 2 ----------------------------
def _one_line_error(capsys):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("fpsolve: ") and "Traceback" not in err, err
    return err


def test_cli_missing_case_file_is_one_line(tmp_path, capsys):
    assert main(["run", str(tmp_path / "nowhere.toml")]) == 2
    assert "nowhere.toml: no such case file or built-in case" in _one_line_error(capsys)


def test_cli_unreadable_samples_file_is_one_line(tmp_path, capsys):
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"PK\x03\x04 but not really a zip")
    assert main(["validate", "exit_time_1d", "--samples", str(garbage)]) == 2
    assert "garbage.npz" in _one_line_error(capsys)
    assert main(["validate", "exit_time_1d", "--samples", str(tmp_path / "missing.npz")]) == 2
    assert "missing.npz" in _one_line_error(capsys)


@pytest.mark.parametrize(
    "error",
    [
        ValueError("results: x.json is unreadable\n(line 2)"),
        FileNotFoundError(2, "No such file", "x.npz"),
        PermissionError(13, "Permission denied", "runs/x"),
    ],
    ids=["value-error", "file-not-found", "permission"],
)
def test_cli_errors_of_any_input_kind_exit_2(tmp_path, capsys, monkeypatch, error):
    import fpsolve.cases

    def failing(*args, **kwargs):
        raise error

    monkeypatch.setattr(fpsolve.cases, "run_case", failing)
    assert main(["run", "whatever"]) == 2
    assert "x" in _one_line_error(capsys)


def test_cli_list_names_a_broken_case_and_lists_the_rest(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "broken.toml").write_text(SMALL_CASE.replace("cells = [200]", 'cells = "200"'))
    assert main(["list"]) == 2
    out = capsys.readouterr()
    assert "double_well_1d" in out.out and "broken" not in out.out
    assert "broken.toml: [grid] cells: expected integers, got the string '200'" in out.err


def test_console_reports_bad_case_in_one_line(tmp_path):
    path = write_case(tmp_path, SMALL_CASE.replace("temperature = 0.5", "temprature = 0.5"))
    run = subprocess.run([sys.executable, "-m", "fpsolve.cli", "run", str(path)], capture_output=True, text=True)
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
    assert "[model] temprature: unknown key" in run.stderr


EXIT_CASE = """
name = "exit_small"
title = "exit from the left well"
task = "exit_time"

[landscape]
name = "double_well"

[model]
kind = "langevin"
temperature = 0.25

[grid]
bounds = [[-2.5, 0.0]]
cells = [800]

[boundary]
kind = ["reflecting", "absorbing"]

[exit]
domain = "x < 1"
start = [-1.0]
moments = 2
"""


def test_exit_case_saves_an_error_estimate_that_brackets_the_double_integral(tmp_path):
    # the exact mean exit time from -1 (REFERENCES.md double integral, cases/exit_time_1d.toml):
    # 33.9457442877; the case's estimate must bound its error (Roache's GCI, factor 1.25 when
    # asymptotic: within a factor 2 of the true error, tests/test_error_estimates.py)
    folder, result, _ = run_case(write_case(tmp_path, EXIT_CASE, "exit.toml"), tmp_path / "out")
    saved = json.loads((folder / "result.json").read_text())["numbers"]["error_estimates"]
    row = saved["mean_exit_time"]
    true = abs(row["value"] - 33.9457442877)
    assert row["status"] == "asymptotic" and true <= row["error"] <= 2 * true
    assert saved["cells"] == [[800], [400], [200]] and "median_exit_time" in saved
    assert any("discretization error" in line and "±" in line for line in result.summary)


def test_evolve_case_estimates_its_relaxation_rates(tmp_path):
    folder, result, _ = run_case(write_case(tmp_path), tmp_path / "out")
    saved = json.loads((folder / "result.json").read_text())["numbers"]["error_estimates"]
    assert saved["relaxation_rate_1"]["status"] in ("asymptotic", "pre-asymptotic")
    assert saved["relaxation_rate_1"]["error"] < 1e-2 * saved["relaxation_rate_1"]["value"]


def test_a_refused_error_estimate_is_reported_not_raised():
    # a number that does not converge under coarsening (a stand-in for the sharp/flat occupancy at
    # B <= 4, which oscillates on 176x128 / 88x64 / 44x32 cells): the case keeps its numbers and
    # says that no error bar can be trusted
    import fpsolve as fp
    from fpsolve.cases.analysis_tasks import estimate_table

    fpe = fp.FokkerPlanck(fp.Langevin(fp.landscapes.double_well(), temperature=0.5), fp.Grid([(-2.5, 2.5)], [200]))
    table, line = estimate_table(["noise"], lambda f: 1.0 + 1e-3 * np.sin(f.grid.cells[0]), fpe)
    assert "not converging" in table["refused"] and line.startswith("no discretization-error estimate")
