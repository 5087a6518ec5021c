"""fp.cases.load: a case's objects and the referee's reference law, without rebuilding it by hand."""

import numpy as np
import pytest
from scipy.integrate import quad

import fpsolve as fp
from fpsolve.cases import CaseError


def _exact_exit_time(x0, wall, edge, T):
    """tau(x0) for dX = -U' dt + sqrt(2T) dW, reflecting at ``wall``, absorbing at ``edge``:
    (1/T) int_x0^edge e^{U(y)/T} int_wall^y e^{-U(z)/T} dz dy, U = (x^2 - 1)^2."""
    U = lambda x: (x * x - 1.0) ** 2  # noqa: E731
    inner = lambda y: quad(lambda z: np.exp(-(U(z) - U(y)) / T), wall, y, epsabs=0, epsrel=1e-12)[0]  # noqa: E731
    return quad(inner, x0, edge, epsabs=0, epsrel=1e-11, limit=200)[0] / T


def test_load_builds_the_case_objects_and_the_referee_law():
    case = fp.cases.load("exit_time_1d")
    assert case.name == "exit_time_1d"
    assert isinstance(case.model, fp.Langevin) and case.grid.ndim == 1
    assert case.start == (-1.0,)
    assert case.domain(np.array([-1.0]))[0]  # the whole box; the exit is the absorbing face x = 0
    assert case.boundary == (("reflecting", "absorbing"),)
    law = case.exit_time_law()
    ((wall, edge),) = case.grid.bounds
    exact = _exact_exit_time(-1.0, wall, edge, case.model.temperature)
    # second-order finite volumes on 2500 cells (h = 1e-3): the relative error is ~1e-6; 1e-4 leaves
    # room for the exit-time law's own quadrature of its survival function
    assert law.mean == pytest.approx(exact, rel=1e-4)


def test_load_refuses_what_a_case_does_not_have():
    case = fp.cases.load("double_well_1d")  # an evolution case: no [exit] table
    assert case.initial is not None and case.grid.integrate(case.initial) == pytest.approx(1.0)
    with pytest.raises(CaseError, match=r"exit_time_law needs \[exit\] domain and start"):
        case.exit_time_law()
    with pytest.raises(CaseError, match="no such case file or built-in case"):
        fp.cases.load("no_such_case")
