"""`fpsolve validate` on a phase-space case: exit times and phase-space densities of the
BAOAB simulator against the kinetic PDE (the command's own law), and a wrong simulator rejected."""

import numpy as np
import pytest

import fpsolve as fp
from fpsolve.cli import main
from fpsolve.montecarlo import HalfSpace
from fpsolve.validate import save_samples

# T = 0.5 (dU/T = 2) keeps exits short (tau ~ 12) so that Monte Carlo and the PDE law are cheap
EXIT_CASE = """
name = "kinetic_exit_small"
title = "underdamped Langevin exit, small"
task = "exit_time"
[landscape]
name = "double_well"
[model]
kind = "underdamped_langevin"
friction = 1.0
temperature = 0.5
[grid]
theta = [[-2.5, 0.0]]
v = [[-4.0, 4.0]]
cells = [80, 128]
[boundary]
kind = [["reflecting", "absorbing"], "reflecting"]
[exit]
domain = "theta < 1"
start = [-1.0, 0.0]
"""

DENSITY_CASE = """
name = "kinetic_density_small"
title = "underdamped Langevin density, small"
task = "evolve"
[landscape]
name = "double_well"
[model]
kind = "underdamped_langevin"
friction = 1.0
temperature = 0.5
[grid]
theta = [[-2.5, 2.5]]
v = [[-4.0, 4.0]]
cells = [100, 80]
[initial]
kind = "gaussian"
mean = [-1.0, 0.0]
std = 0.25
[evolve]
times = [0.0, 1.0]
"""

N = 2000


def _metadata(case):
    return {"simulator": "fpsolve BAOAB", "model": "UnderdampedLangevin", "seed": 3, "dt": 0.01, "case": case}


def _model():
    return fp.UnderdampedLangevin(fp.landscapes.double_well(), friction=1.0, temperature=0.5)


def _validate(capsys, *args):
    code = main(["validate", *map(str, args)])
    return code, capsys.readouterr().out


@pytest.mark.slow
def test_simulated_phase_space_exit_times_pass_and_slowed_ones_fail(tmp_path, capsys):
    case = tmp_path / "kinetic_exit_small.toml"
    case.write_text(EXIT_CASE)
    # BAOAB at dt = 0.01: weak bias ~C dt^2 (0.03 % at T = 0.25, docs/validate.md), far below the
    # 2.2 % standard error of 2000 paths; the 80 x 128 grid's error (~0.5 %) is below it too
    sim = fp.montecarlo.simulator(_model(), dt=0.01, seed=3)
    exits = sim.exit_times((-1.0, 0.0), N, domain=HalfSpace((1.0, 0.0), 0.0), t_max=400.0)
    assert not exits.censored.any()
    good = tmp_path / "good.npz"
    save_samples(good, exit_times=exits.times, metadata=_metadata("kinetic_exit_small"))
    code, out = _validate(capsys, case, "--samples", good)
    assert code == 0, out  # false alarm with probability <= alpha = 0.01 (fixed seed)
    slow = tmp_path / "slow.npz"
    save_samples(slow, exit_times=1.3 * exits.times, metadata=_metadata("kinetic_exit_small"))
    code, out = _validate(capsys, case, "--samples", slow)
    assert code == 3, out  # a 30 % shift is ~13 standard errors


@pytest.mark.slow
def test_simulated_phase_space_samples_pass_and_a_wrong_temperature_fails(tmp_path, capsys):
    case = tmp_path / "kinetic_density_small.toml"
    case.write_text(DENSITY_CASE)
    rng = np.random.default_rng(5)
    starts = np.column_stack([rng.normal(-1.0, 0.25, N), rng.normal(0.0, 0.25, N)])
    samples = fp.montecarlo.simulator(_model(), dt=0.01, seed=5).sample(starts, times=[1.0]).x
    good = tmp_path / "good.npz"
    save_samples(good, samples=samples, times=[1.0], metadata=_metadata("kinetic_density_small"))
    code, out = _validate(capsys, case, "--samples", good)
    assert code == 0, out
    assert "theta" in out or "joint" in out or out.startswith("PASS")
    hot = fp.UnderdampedLangevin(fp.landscapes.double_well(), friction=1.0, temperature=1.0)
    wrong = fp.montecarlo.simulator(hot, dt=0.01, seed=5).sample(starts, times=[1.0]).x
    bad = tmp_path / "bad.npz"
    save_samples(bad, samples=wrong, times=[1.0], metadata=_metadata("kinetic_density_small"))
    code, out = _validate(capsys, case, "--samples", bad)
    assert code == 3, out  # twice the temperature: the v-spread is sqrt(2) wider at t = 1
