"""The code stays clean under the lint rules configured in pyproject.toml ([tool.ruff.lint])."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing():
    ruff = shutil.which("ruff")
    command = [ruff] if ruff else [sys.executable, "-m", "ruff"]
    try:
        result = subprocess.run(
            command + ["check", "fpsolve", "tests", "benchmarks", "examples", "docs"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
    except FileNotFoundError:
        pytest.skip("ruff is not installed (it is in the test extra)")
    if result.returncode != 0 and "No module named ruff" in result.stderr:
        pytest.skip("ruff is not installed (it is in the test extra)")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_applied():
    """The code is formatted as ``ruff format`` leaves it ([tool.ruff.format]); run it to fix."""
    ruff = shutil.which("ruff")
    command = [ruff] if ruff else [sys.executable, "-m", "ruff"]
    try:
        result = subprocess.run(
            command + ["format", "--check", "fpsolve", "tests", "benchmarks", "examples", "docs"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
    except FileNotFoundError:
        pytest.skip("ruff is not installed (it is in the test extra)")
    if result.returncode != 0 and "No module named ruff" in result.stderr:
        pytest.skip("ruff is not installed (it is in the test extra)")
    assert result.returncode == 0, "run `ruff format .`:\n" + result.stdout + result.stderr
