"""The command line prints a warning as one clean line, not Python's "file:line: UserWarning" pair."""

from fpsolve.cli import main

COARSE_CASE = """
name = "coarse"
title = "A grid too coarse for the noise"
task = "evolve"

[landscape]
name = "double_well"

[model]
kind = "langevin"
temperature = 0.02

[grid]
bounds = [[-2.5, 2.5]]
cells = [40]

[initial]
kind = "gaussian"
mean = [-1.0]
std = 0.3

[evolve]
times = [0.0, 0.1]
method = "exponential"
"""


def test_cli_warning_is_one_line(tmp_path, capsys):
    case = tmp_path / "coarse.toml"
    case.write_text(COARSE_CASE)
    assert main(["run", str(case), "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    warnings = [line for line in err.splitlines() if line.strip()]
    # h = 0.125, |U'| up to 2.5 * ... / T = 0.02: the cell Peclet number is far above the warning level
    assert any(line.startswith("fpsolve: warning: grid: too coarse") for line in warnings), err
    assert all(line.startswith("fpsolve: warning: ") for line in warnings), err
    assert "UserWarning" not in err and "sys.exit" not in err
