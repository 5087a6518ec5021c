"""A built wheel ships the cases: `fpsolve list` and `fpsolve run NAME` work outside the clone."""

import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_ships_the_builtin_cases(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(wheels)],
        check=True,
        cwd=tmp_path,
    )
    (wheel,) = wheels.glob("fpsolve-*.whl")
    env_dir = tmp_path / "env"
    # the environment sees this interpreter's numpy/scipy/numba, but fpsolve only from the wheel
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
        check=True,
        cwd=tmp_path,
    )
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    where = subprocess.run(
        [str(python), "-c", "import fpsolve; print(fpsolve.__file__)"],
        check=True,
        cwd=outside,
        capture_output=True,
        text=True,
    ).stdout
    assert str(env_dir) in where, f"fpsolve imported from {where!r}, not from the wheel"
    listed = subprocess.run([str(env_dir / "bin" / "fpsolve"), "list"], cwd=outside, capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr
    assert "exit_time_1d" in listed.stdout and "double_well_1d" in listed.stdout
    run = subprocess.run(
        [str(env_dir / "bin" / "fpsolve"), "run", "double_well_1d", "--out", "out"],
        cwd=outside,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert (outside / "out" / "result.json").is_file()
