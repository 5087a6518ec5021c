"""Warnings a person can read (issue 13): a scheme's report on a problem is said once per (model,
grid), whatever line builds the problem; the undershoot warning follows the integrator's tolerance
and never recommends the method in use."""

import warnings

import numpy as np
import pytest

import fpsolve as fp

# a 2-D Ornstein-Uhlenbeck process with correlated noise, on cells 6x longer in x than in y: D is
# not diagonally dominant on the grid's scale (D_xx / h_x^2 < |D_xy| / (h_x h_y)), so the scheme
# falls back on central cross differences, whose negative rates are reported
A = np.array([[1.0, 0.5], [0.5, 2.0]])
D = np.array([[0.5, 0.15], [0.15, 0.3]])


def correlated_ou():
    return fp.Diffusion(
        lambda x, y: (-(A[0, 0] * x + A[0, 1] * y), -(A[1, 0] * x + A[1, 1] * y)),
        D,
        ndim=2,
        potential=lambda x, y: 0.5 * (A[0, 0] * x * x + 2 * A[0, 1] * x * y + A[1, 1] * y * y),
    )


GRID = fp.Grid([(-4.0, 4.0), (-2.5, 2.5)], [22, 80])


def cross_diffusion_messages(record):
    return [str(w.message) for w in record if "cross-diffusion" in str(w.message)]


def test_cross_diffusion_text_is_fixed_by_model_and_grid():
    # the root cause of the repeats: the text must be the same on every assembly of the same
    # problem (Python dedups by text), and name the model and grid it is about
    model = correlated_ou()
    texts = []
    for _ in range(2):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            fp.FokkerPlanck(model, GRID)
        texts += cross_diffusion_messages(record)
    assert len(texts) == 2 and texts[0] == texts[1]
    assert "22x80 cells" in texts[0] and repr(model) in texts[0]


def test_cross_diffusion_is_said_once_from_different_lines():
    model = correlated_ou()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("default")
        # filters of this test's own: a mark left by another test under other filters is void
        warnings.filterwarnings("default", message="said once from different lines")
        problem = fp.FokkerPlanck(model, GRID)
        fp.FokkerPlanck(model, GRID, absorbing=lambda x, y: x > 1.0)  # another line, same problem
        fp.mean_exit_time(problem, domain=lambda x, y: x < 1.0)
        assert len(cross_diffusion_messages(record)) == 1
        fp.FokkerPlanck(model, fp.Grid([(-4.0, 4.0), (-2.5, 2.5)], [24, 84]))  # another grid: said again
    messages = cross_diffusion_messages(record)
    assert len(messages) == 2 and "24x84 cells" in messages[1]


def test_always_filter_still_shows_every_report():
    model = correlated_ou()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        fp.FokkerPlanck(model, GRID)
        fp.FokkerPlanck(model, GRID)
    assert len(cross_diffusion_messages(record)) == 2


def test_pytest_warns_sees_a_report_already_said_in_this_module():
    # pytest.warns resets the filters ("always"): the once-mark must not hide the warning from it
    model = correlated_ou()
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        with warnings.catch_warnings(record=True):
            fp.FokkerPlanck(model, GRID)
        with pytest.warns(UserWarning, match="cross-diffusion"):
            fp.FokkerPlanck(model, GRID)


def undershooting_density(problem, relative):
    """A normalised density of the problem's grid whose minimum is -relative x its peak."""
    p = fp.gaussian(problem.grid, mean=-1.0, std=0.3)
    p[0] = -relative * p.max()
    return p[None]


@pytest.fixture(scope="module")
def double_well():
    return fp.FokkerPlanck(fp.Langevin(fp.landscapes.double_well(), temperature=0.3), fp.Grid([(-2.5, 2.5)], [200]))


def test_undershoot_within_the_krylov_tolerance_is_not_a_failure(double_well):
    # the case's -4.6e-11 came from the Krylov space built to rtol = 1e-8: at most ~rtol x peak
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        double_well._warn_negative(undershooting_density(double_well, 1e-9), "exponential", 1e-8)
        double_well._warn_negative(undershooting_density(double_well, 1e-5), "trbdf2", 1e-4)
    with pytest.warns(UserWarning, match="tolerance 1e-08 of method 'exponential'"):
        double_well._warn_negative(undershooting_density(double_well, 1e-6), "exponential", 1e-8)
    with pytest.warns(UserWarning, match="method 'cram'"):  # no tolerance of its own: round-off
        double_well._warn_negative(undershooting_density(double_well, 1e-9), "cram", 1e-8)


@pytest.mark.parametrize("method", ["exponential", "trbdf2", "cram"])
def test_undershoot_advice_never_recommends_the_method_in_use(double_well, method):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        double_well._warn_negative(undershooting_density(double_well, 1e-3), method, 1e-8)
    (message,) = [str(w.message) for w in record]
    advice = message.split("; ", 1)[1]  # what the user is told to do
    assert f"method {method!r}" not in advice
    assert " safe for " in advice


def test_fv_grid_reports_are_said_once_per_problem():
    # Peclet and D-resolution reports carry only numbers fixed by (model, grid) too
    model = fp.SGD(fp.landscapes.sharp_flat_2d(), lr=0.5, batch_size=16, noise="hessian", hessian_floor=1.0)
    grid = fp.Grid([(-2.2, 2.2), (-1.6, 1.6)], [44, 32])
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("default")
        warnings.filterwarnings("default", message="fv grid reports once")  # this test's own filters
        fp.FokkerPlanck(model, grid)
        first = [str(w.message) for w in record]
        fp.FokkerPlanck(model, grid)
    assert any("too coarse for the noise" in m for m in first)
    assert any("too coarse for the diffusion coefficient" in m for m in first)
    assert [str(w.message) for w in record] == first
