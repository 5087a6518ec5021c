"""The README's Python example runs and prints what it says (the README's promise)."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs_and_matches_its_comments():
    code = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)[0]
    namespace = {}
    exec(compile(code, str(README), "exec"), namespace)
    # the numbers quoted in the README's comments (3-4 digits, as printed there)
    assert namespace["rates"][0] == pytest.approx(0.0294, rel=2e-3)
    # 34.24: the 1-D exit time of the decoupled x-motion is 34.0208 (scale-speed double
    # integral); the 0.6 % is this example grid's discretization error, 3e-4 at 800 x 60 cells
    assert namespace["tau"](-1, 0) == pytest.approx(34.24, rel=1e-3)
    assert namespace["tau"](-1, 0) == pytest.approx(34.0208, rel=1e-2)
    assert namespace["law"].mean == pytest.approx(34.24, rel=1e-2)  # the law starts in the cell of (-1, 0)
    assert namespace["sol"].mass[-1] == pytest.approx(1.0, abs=1e-12)


def test_readme_momentum_example_runs_and_matches_its_comment():
    code = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)[1]
    namespace = {"fp": __import__("fpsolve")}
    exec(compile(code, str(README), "exec"), namespace)
    # 54.80 on 400 x 600 cells; 53.92 on 200 x 300: at the scheme's measured order ~3 the
    # 400 x 600 value is within ~0.2 % of the converged one (docs/numerics.md, kinetic equations)
    assert namespace["tau"](-1, 0) == pytest.approx(54.80, rel=1e-3)
