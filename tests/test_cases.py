"""Case files and the command line: run, list, validate, and malformed case files."""

import json
import subprocess
import sys
from pathlib import Path

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
