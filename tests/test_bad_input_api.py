"""Bad input to the library API (grids, models, landscapes, densities): each case is refused with a
TypeError or ValueError whose message names the argument, where it used to raise a raw numpy error
or pass silently (user review of the public API; issue 2, "Bad input")."""

import time

import numpy as np
import pytest

import fpsolve as fp
from fpsolve import landscapes
from fpsolve.initial import require_density

U = landscapes.double_well()
GRID = fp.Grid([(-2.0, 2.0)], [40])
P = fp.gaussian(GRID, mean=-1.0, std=0.3)
DATA = fp.FiniteSumLoss.from_dataset("linear_regression", n=200)  # N = 200 samples, d = 2


def _with(p, index, value):
    p = p.copy()
    p[index] = value
    return p


# --- grids -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "bounds, cells, message",
    [
        ([(-1, 1)], "many", r"cells: expected a positive integer per axis, got 'many'"),
        ([(-1, 1)], 10.5, r"cells: expected a positive integer per axis, got 10\.5"),
        ([(-1, 1)], np.nan, r"cells: expected a positive integer per axis, got nan"),
        ([(-1, 1)], True, r"cells: expected a positive integer per axis, got True"),
        ([(-1, 1)], [[10]], r"cells: expected a positive integer per axis, got \[10\]"),
        ([(-1, 1)], 2, r"cells: axis 0 needs at least 3 cells, got 2"),
        ([(-1, 1)], -5, r"cells: axis 0 needs at least 3 cells, got -5"),
        ([(1, -1)], 10, r"bounds: axis 0 is reversed or empty: lo = 1 >= hi = -1"),
        ([(0.5, 0.5)], 10, r"bounds: axis 0 is reversed or empty"),
        ([(0, np.nan)], 10, r"bounds: axis 0 has non-finite bounds"),
        ([(-np.inf, 0)], 10, r"bounds: axis 0 has non-finite bounds"),
        ([(-1e308, 1e308)], 10, r"bounds: axis 0 is too wide"),
        ([(-1, 1), (0,)], [10, 10], r"bounds: axis 1: expected a pair \(lo, hi\) of numbers, got \(0,\)"),
        ([[(-1, 1)]], 10, r"bounds: axis 0: expected a pair \(lo, hi\) of numbers, got \[\(-1, 1\)\]"),
        ([(-1, 1, 2)], 10, r"bounds: axis 0: expected a pair"),
        ([(-1, "1")], 10, r"bounds: axis 0: expected a pair \(lo, hi\) of numbers, got \(-1, '1'\)"),
        ([(-1, None)], 10, r"bounds: axis 0: expected a pair"),
        ([(False, True)], 10, r"bounds: axis 0: expected a pair"),
        (5.0, 10, r"bounds: expected a sequence of \(lo, hi\) pairs, one per axis, got 5\.0"),
        ("ab", 10, r"bounds: expected a sequence of \(lo, hi\) pairs"),
    ],
)
def test_bad_grid_arguments(bounds, cells, message):
    # always a ValueError: case files turn a ValueError from Grid into a case error
    with pytest.raises(ValueError, match=message):
        fp.Grid(bounds, cells)


@pytest.mark.parametrize("periodic", ["yes", 2, None, [True, "no"]])
def test_bad_periodic_flag(periodic):
    with pytest.raises(ValueError, match=r"periodic: expected True or False per axis"):
        fp.Grid([(-1, 1), (-1, 1)], [10, 10], periodic=periodic)


def test_good_grid_arguments_still_work():
    # one bare pair, an array of pairs, integral floats, numpy integers and 0/1 flags
    assert fp.Grid((-1, 1), 10.0).shape == (10,)
    grid = fp.Grid(np.array([[-1.0, 1.0], [0.0, 2.0]]), [np.int64(4), 5], periodic=[1, False])
    assert grid.shape == (4, 5) and grid.periodic == (True, False)


# --- models ----------------------------------------------------------------------------------------
def _sgd(**changes):
    arguments = dict(lr=0.1, batch_size=4)
    arguments.update(changes)
    return lambda: fp.SGD(U, **arguments)


@pytest.mark.parametrize(
    "build, error, message",
    [
        (lambda: fp.Langevin(U, "hot"), TypeError, r"temperature: expected a positive number, got 'hot'"),
        (lambda: fp.Langevin(U, True), TypeError, r"temperature: expected a positive number, got True"),
        (lambda: fp.Langevin(U, None), TypeError, r"temperature: expected a positive number, got None"),
        (lambda: fp.Langevin(U, [1.0]), TypeError, r"temperature: expected a positive number, got \[1\.0\]"),
        (lambda: fp.Langevin(U, np.nan), ValueError, r"temperature: expected a positive number, got nan"),
        (lambda: fp.Langevin(U, np.inf), ValueError, r"temperature: expected a positive number, got inf"),
        (lambda: fp.Langevin(U, 0), ValueError, r"temperature: expected a positive number, got 0\.0"),
        (lambda: fp.Langevin(U, -0.5), ValueError, r"temperature: expected a positive number, got -0\.5"),
        (
            _sgd(lr=[0.1, 0.2]),
            TypeError,
            r"lr: expected a positive number or a schedule lr\(t\) \(a callable\), got \[0\.1, 0\.2\]",
        ),
        (_sgd(lr="0.1"), TypeError, r"lr: expected a positive number or a schedule"),
        (_sgd(lr=False), TypeError, r"lr: expected a positive number or a schedule"),
        (_sgd(lr=np.nan), ValueError, r"lr: expected a positive number, got nan"),
        (_sgd(lr=-np.inf), ValueError, r"lr: expected a positive number, got -inf"),
        (_sgd(lr=0.0), ValueError, r"lr: expected a positive number, got 0\.0"),
        (_sgd(batch_size=True), TypeError, r"batch_size: expected a positive number or a schedule"),
        (_sgd(batch_size=np.inf), ValueError, r"batch_size: expected a positive number, got inf"),
        (_sgd(batch_size=0), ValueError, r"batch_size: expected a positive number, got 0\.0"),
        (_sgd(batch_size=-4), ValueError, r"batch_size: expected a positive number, got -4\.0"),
        (
            _sgd(batch_size=0.5),
            ValueError,
            r"batch_size: expected B >= 1 \(a batch holds at least one sample\), got 0\.5",
        ),
        (_sgd(noise_scale="big"), TypeError, r"noise_scale: expected a positive number, got 'big'"),
        (_sgd(noise_scale=np.nan), ValueError, r"noise_scale: expected a positive number, got nan"),
        (_sgd(noise_scale=0.0), ValueError, r"noise_scale: expected a positive number, got 0\.0"),
        (_sgd(noise_scale=True), TypeError, r"noise_scale: expected a positive number, got True"),
        (
            _sgd(noise="hessian", hessian_floor=-1e-2),
            ValueError,
            r"hessian_floor: expected a positive number, got -0\.01",
        ),
        (
            _sgd(noise="hessian", hessian_floor=np.inf),
            ValueError,
            r"hessian_floor: expected a positive number, got inf",
        ),
        (_sgd(noise="hessian", hessian_floor=0), ValueError, r"hessian_floor: expected a positive number, got 0\.0"),
        (_sgd(hessian_floor=False), TypeError, r"hessian_floor: expected a positive number, got False"),
        (_sgd(modified_loss="yes"), TypeError, r"modified_loss: expected True or False, got 'yes'"),
        (
            lambda: fp.SGD(DATA, lr=0.1, batch_size=500, noise="empirical"),
            ValueError,
            r"batch_size: 500 exceeds the dataset size N = 200 of the FiniteSumLoss",
        ),
    ],
)
def test_bad_model_arguments(build, error, message):
    with pytest.raises(error, match=message):
        build()


@pytest.mark.parametrize(
    "changes, error, message",
    [
        (
            dict(batch_size=lambda t: 1.0 - t),
            ValueError,
            r"batch_size: the schedule gave 0\.5 at t = 0\.5: expected B >= 1",
        ),
        (dict(lr=lambda t: "fast"), TypeError, r"lr: the schedule returned 'fast' at t = 0\.5; expected a number"),
        (dict(lr=lambda t: np.nan), ValueError, r"lr: the schedule gave nan at t = 0\.5: expected a positive number"),
    ],
)
def test_bad_schedule_values_are_refused_when_asked_for(changes, error, message):
    model = _sgd(**changes)()  # a schedule is a function of t: checked at the times it is asked for
    with pytest.raises(error, match=message):
        model.diffusion(0.0, t=0.5)


def test_batch_size_schedule_beyond_the_dataset_is_refused():
    model = fp.SGD(DATA, lr=0.1, batch_size=lambda t: 100 + 1000 * t, noise="empirical")
    assert model.noise_amplitude(0.0) == pytest.approx(np.sqrt(0.1 / 100), rel=1e-15)
    with pytest.raises(
        ValueError,
        match=r"batch_size: the schedule gave 1100\.0 at t = 1: 1100 exceeds "
        r"the dataset size N = 200 of the FiniteSumLoss",
    ):
        model.noise_amplitude(1.0)


def test_batch_sizes_that_are_valid_still_work():
    # B = N with empirical noise, B = 1, and B > N when the noise is not drawn from the dataset
    assert fp.SGD(DATA, lr=0.1, batch_size=200, noise="empirical").batch_size == 200.0
    assert fp.SGD(U, lr=0.1, batch_size=1).batch_size == 1.0
    assert fp.SGD(DATA, lr=0.1, batch_size=500, noise="isotropic").batch_size == 500.0
    assert fp.SGD(U, lr=np.float32(0.1), batch_size=np.int64(8)).parameters() == (pytest.approx(0.1), 8.0)


# --- landscapes ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "use",
    [
        lambda V: V(np.linspace(-1, 1, 5)),
        lambda V: V(0.5),
        lambda V: V.grad(0.5),
        lambda V: fp.FokkerPlanck(fp.Langevin(V, temperature=1.0), GRID),
        lambda V: fp.basins(GRID, V),
    ],
    ids=["array", "point", "grad", "FokkerPlanck", "basins"],
)
def test_complex_landscape_is_refused_when_first_evaluated(use):
    V = fp.Landscape(lambda x: x**2 + 1j)
    with pytest.raises(
        ValueError,
        match=r"landscape '<lambda>': U is complex-valued \(.*\+1j at x = \(.*\); "
        r"expected real values",
    ):
        use(V)


@pytest.mark.parametrize(
    "build, message",
    [
        (
            lambda: fp.Landscape(lambda x: x**2, grad=lambda x: 3 * x),
            r"grad: the analytic gradient contradicts f at x = \(-?0\.\d+,\): grad gives \(.*\), "
            r"central differences of f give \(.*\)",
        ),
        (
            lambda: fp.Landscape(lambda x, y: x**2 + x * y, grad=lambda x, y: (2 * x, x)),
            r"grad: the analytic gradient contradicts f at x = \(.*, .*\)",
        ),
        (
            lambda: fp.Landscape(lambda x: x**2, grad=lambda x: 2 * x, hessian=lambda x: 3 + 0 * x),
            r"hessian: the analytic Hessian contradicts f at x = .*: hessian gives \[\[3\]\], "
            r"central differences of f give \[\[2\]\]",
        ),
        (
            lambda: fp.Landscape(lambda x, y: x**2 * y, hessian=lambda x, y: [[2 * y, x], [x, 0 * x]]),
            r"hessian: the analytic Hessian contradicts f",
        ),
        (lambda: fp.Landscape(lambda x: x**2, grad=lambda x: 2 * x + 1j), r"grad: the gradient is complex-valued"),
        (
            lambda: fp.FiniteSumLoss(
                lambda th, x, y: 0.5 * (th[0] * x[0] - y) ** 2,
                lambda th, x, y: [2 * (th[0] * x[0] - y) * x[0]],  # twice too big
                (DATA.data[0][:, 0], DATA.data[1]),
                ndim=1,
            ),
            r"per_sample_grad: the analytic gradient contradicts per_sample_loss at x = \(.*\): per_sample_grad gives",
        ),
    ],
    ids=["1d-grad", "2d-grad", "hessian-with-grad", "hessian-without-grad", "complex-grad", "finite-sum"],
)
def test_analytic_derivatives_that_contradict_f_are_refused(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_derivatives_of_a_landscape_undefined_on_the_unit_box_are_checked_on_the_grid():
    # sqrt(x - 2) is NaN on [-1, 1]: nothing to compare at construction; the first grid checks
    V = fp.Landscape(lambda x: np.sqrt(x - 2), grad=lambda x: 1 / np.sqrt(x - 2))  # wrong: 1/(2 sqrt)
    with pytest.raises(ValueError, match=r"grad: the analytic gradient contradicts f at x = \(\d\.\d+,\)"):
        fp.FokkerPlanck(fp.Langevin(V, temperature=1.0), fp.Grid([(3.0, 5.0)], [20]))
    good = fp.Landscape(lambda x: np.sqrt(x - 2), grad=lambda x: 0.5 / np.sqrt(x - 2))
    fp.FokkerPlanck(fp.Langevin(good, temperature=1.0), fp.Grid([(3.0, 5.0)], [20]))


def _library():
    yield from (factory() for name, factory in landscapes.available().items() if name != "quadratic")
    yield landscapes.double_well(a=0.1, depth=5.0)
    yield landscapes.tilted_double_well(-1.5)
    yield landscapes.sharp_flat_double_well(1000.0, 1.0)
    yield landscapes.rotated_double_well(1.0, 50.0)
    yield landscapes.sharp_flat_2d(5.0, 0.1, 0.9, 3.0)
    yield landscapes.quadratic([[1.0, 0.5, 0.0], [0.5, 2.0, 0.1], [0.0, 0.1, 3.0]], [1.0, 2.0, 3.0])
    yield landscapes.quadratic(np.diag([1e-6, 1e6]))
    yield landscapes.periodic_cosine(2.0, 0.05, ndim=2)  # 20 periods per unit: FD error ~1e-5
    yield landscapes.periodic_cosine(ndim=3)
    for kind in fp.finite_sum.DATASET_KINDS:
        yield fp.FiniteSumLoss.from_dataset(kind, n=200)


@pytest.mark.parametrize("V", list(_library()), ids=lambda V: V.name)
def test_correct_analytic_derivatives_pass_the_check_everywhere(V):
    # the constructor checked [-1, 1]^d; here 500 seeded points in a box four times wider
    # (Mueller-Brown: its usual box) must pass too: the tolerance covers the difference error
    rng = np.random.default_rng(7)
    box = [(-1.5, 1.2), (-0.5, 2.0)] if V.name == "muller_brown" else [(-4.0, 4.0)] * V.ndim
    points = [rng.uniform(lo, hi, 500) for lo, hi in box]
    assert V.check_derivatives(*points) == 500


def test_the_derivative_check_is_cheap():
    # one vectorised call of f (6 shifts per axis and the point itself, 5 points) and one of grad
    calls = {"f": 0, "points": 0, "grad": 0}

    def f(x, y):
        calls["f"] += 1
        calls["points"] += np.size(x)
        return (x * x - 1) ** 2 + y * y

    def grad(x, y):
        calls["grad"] += 1
        return 4 * x * (x * x - 1), 2 * y

    fp.Landscape(f, grad)
    assert calls == {"f": 2, "points": 5 + 5 * 6 * 2, "grad": 1}
    # and in time: well under a millisecond per construction for a library landscape (measured
    # ~0.2 ms for double_well on a laptop; 5 ms leaves room for a loaded CI machine)
    start = time.perf_counter()
    for _ in range(20):
        landscapes.double_well()
    assert (time.perf_counter() - start) / 20 < 5e-3


# --- densities -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "p, error, message",
    [
        (_with(P, 7, np.nan), ValueError, r"p: the density contains NaN or inf \(nan at x = \(-1\.25,\)\)"),
        (_with(P, 7, np.inf), ValueError, r"p: the density contains NaN or inf"),
        (_with(P, 7, -1e-3), ValueError, r"p: the density is negative \(-0\.001\) at x = \(-1\.25,\)"),
        (P[:-1], ValueError, r"p: expected an array of shape \(40,\) \(the grid\), got \(39,\)"),
        (P.reshape(4, 10), ValueError, r"p: expected an array of shape \(40,\)"),
        ([[1.0, 2.0], [3.0]], ValueError, r"p: expected an array of shape \(40,\) \(the grid\), got a ragged"),
        (P + 0j, ValueError, r"p: the density is complex-valued"),
        (np.array(["a"] * 40), TypeError, r"p: expected a numeric array of shape \(40,\)"),
    ],
    ids=["nan", "inf", "negative", "short", "2d", "ragged", "complex", "strings"],
)
def test_basin_occupancy_refuses_a_bad_density(p, error, message):
    with pytest.raises(error, match=message):
        fp.basin_occupancy(p, U, grid=GRID)


def test_basin_occupancy_refuses_a_solution_with_nan():
    fpe = fp.FokkerPlanck(fp.Langevin(U, temperature=0.5), GRID)
    sol = fpe.evolve(P, [0.0, 0.5, 1.0])
    sol.p[1, 3] = np.nan
    with pytest.raises(ValueError, match=r"sol\.p\[1\] \(t = 0\.5\): the density contains NaN or inf"):
        fp.basin_occupancy(sol, U)


def test_basin_occupancy_refuses_basins_of_another_grid_or_type():
    other = fp.basins(fp.Grid([(-2.0, 2.0)], [50]), U)
    with pytest.raises(ValueError, match=r"basins: computed on Grid\(\[-2, 2\], cells=\(50,\)"):
        fp.basin_occupancy(P, other, grid=GRID)
    with pytest.raises(TypeError, match=r"basins: expected a Basins, a Landscape, a model or None, got int"):
        fp.basin_occupancy(P, 3, grid=GRID)


def test_require_density_checks_and_returns_the_array():
    assert require_density(P, GRID, normalised=True) is P  # float input: no copy
    tiny = _with(P, 0, -1e-13 * P.max())  # a round-off negative is kept, not refused
    assert require_density(tiny, GRID)[0] == tiny[0]
    ints = require_density(np.ones(40, dtype=int), GRID)
    assert ints.dtype == float
    with pytest.raises(
        ValueError, match=r"p0: the density has mass 2; expected 1 \(p\.sum\(\) \* grid\.cell_volume\) within 1e-6"
    ):
        require_density(2 * P, GRID, name="p0", normalised=True)
    require_density(P * (1 + 5e-7), GRID, normalised=True)  # within 1e-6: accepted


# --- landscape factories ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "build, error, message",
    [
        (lambda: landscapes.double_well(a="1"), TypeError, r"a: expected a positive number, got '1'"),
        (lambda: landscapes.double_well(depth=True), TypeError, r"depth: expected a positive number, got True"),
        (lambda: landscapes.tilted_double_well("x"), TypeError, r"tilt: expected a number, got 'x'"),
        (lambda: landscapes.rotated_double_well(np.nan), ValueError, r"angle: expected a finite number, got nan"),
        (lambda: landscapes.quadratic("a"), TypeError, r"hessian: expected an array of numbers, got 'a'"),
        (lambda: landscapes.quadratic([[1, 2], [3]]), ValueError, r"hessian: expected a rectangular array"),
        (lambda: landscapes.quadratic([[1.0]], center="x"), TypeError, r"center: expected an array of numbers"),
        (lambda: landscapes.periodic_cosine(ndim=2.5), ValueError, r"ndim: expected 1, 2 or 3, got 2\.5"),
    ],
)
def test_bad_landscape_factory_arguments(build, error, message):
    with pytest.raises(error, match=message):
        build()
