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


def test_readme_levy_and_spectral_example_runs_and_matches_its_comments():
    from scipy.integrate import quad

    code = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)[2]
    namespace = {"fp": __import__("fpsolve")}
    exec(compile(code, str(README), "exec"), namespace)
    # 25.81: the quoted digits; the scheme's own accuracy is checked against Getoor's closed form
    # and the Imkeller-Pavlyukevich asymptotic in tests/test_fractional.py and tests/test_levy_cases.py
    assert namespace["tau"](-1.0) == pytest.approx(25.81, abs=6e-3)
    # the Chebyshev value against the exact double integral (reflecting at -2.5, absorbing at 0,
    # T = 0.5): spectral accuracy, 1e-10 relative (docs/spectral.md)
    U, T = (lambda x: (x * x - 1.0) ** 2), 0.5
    inner = lambda y: quad(lambda z: __import__("math").exp(-(U(z) - U(y)) / T), -2.5, y, epsabs=0, epsrel=1e-13)[0]  # noqa: E731
    exact = quad(inner, -1.0, 0.0, epsabs=0, epsrel=1e-13, limit=200)[0] / T
    assert namespace["tau_s"](-1.0) == pytest.approx(exact, rel=1e-10)
    assert namespace["tau_s"](-1.0) == pytest.approx(4.606539613, abs=1e-9)
