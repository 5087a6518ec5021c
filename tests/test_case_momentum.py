"""The momentum cases (cases/momentum_exit.toml, cases/kunin_phase_space.toml): case-file schema for the
kinetic models, the closed forms they compare with, the discrete heavy ball, and parts of both cases
on coarse grids against references no PDE solver made."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import linalg

import fpsolve as fp
from fpsolve.cases import CaseError, load_case
from fpsolve.cases import momentum_theory as theory
from fpsolve.cases.config import build_grid, build_landscape, build_model, domain_predicate
from fpsolve.cases.heavy_ball import heavy_ball_exit_times, heavy_ball_samples
from fpsolve.cases.kunin import mean_decay_rate

KINETIC_CASE = """
name = "kinetic"
task = "exit_time"

[landscape]
name = "double_well"

[model]
kind = "{kind}"
{model}

[grid]
{grid}
cells = [40, 20]

[exit]
domain = "theta < 0"
start = [-1.0, 0.0]
"""
MOMENTUM = "lr = 0.1\nbatch_size = 4\nmomentum = 0.9\nnoise_scale = 2.0"
PHASE_GRID = "theta = [[-2.0, 0.5]]\nv = [[-3.0, 3.0]]"


def write(tmp_path, kind="momentum_sgd", model=MOMENTUM, grid=PHASE_GRID):
    path = tmp_path / "kinetic.toml"
    path.write_text(KINETIC_CASE.format(kind=kind, model=model, grid=grid))
    return path


def test_case_file_builds_momentum_sgd_on_a_phase_space_grid(tmp_path):
    case = load_case(write(tmp_path))
    landscape = build_landscape(case)
    model = build_model(case, landscape)
    grid = build_grid(case)
    assert isinstance(model, fp.MomentumSGD) and landscape.ndim == 1
    assert (model.lr, model.batch_size, model.momentum, model.noise_scale) == (0.1, 4.0, 0.9, 2.0)
    assert grid.axis_names == ("theta", "v") and grid.shape == (40, 20)
    inside = domain_predicate(case, "theta < 0", 2, grid=grid)
    assert inside(np.array([-0.1, 0.1]), np.zeros(2)).tolist() == [True, False]


def test_case_file_builds_underdamped_langevin(tmp_path):
    case = load_case(write(tmp_path, "underdamped_langevin", "friction = 2.0\ntemperature = 0.25"))
    model = build_model(case, build_landscape(case))
    assert isinstance(model, fp.UnderdampedLangevin) and model.parameters() == (2.0, 0.25)


@pytest.mark.parametrize(
    "kind, model, grid, message",
    [
        ("momentum_sgd", MOMENTUM, "bounds = [[-2.0, 0.5], [-3.0, 3.0]]", r"\[grid\] bounds: a momentum_sgd"),
        ("langevin", "temperature = 0.25", PHASE_GRID, r"\[grid\] theta: a phase-space grid"),
        (
            "momentum_sgd",
            MOMENTUM.replace("0.9", "1.0"),
            PHASE_GRID,
            r"\[model\] momentum: expected a number in \[0, 1\)",
        ),
        ("underdamped_langevin", "friction = 0.0\ntemperature = 0.25", PHASE_GRID, r"\[model\] friction"),
        (
            "momentum_sgd",
            MOMENTUM + "\nfriction = 1.0",
            PHASE_GRID,
            r"\[model\] friction: not a key of a 'momentum_sgd'",
        ),
        ("momentum_sgd", MOMENTUM, "theta = [[-2.0, 0.5]]", r"\[grid\] v: missing"),
    ],
)
def test_bad_kinetic_case_files_name_the_key(tmp_path, kind, model, grid, message):
    with pytest.raises(CaseError, match=message):
        case = load_case(write(tmp_path, kind, model, grid))
        build_model(case, build_landscape(case))
        build_grid(case)


def test_builtin_momentum_cases_parse():
    for name in ("momentum_exit", "kunin_phase_space"):
        case = load_case(f"cases/{name}.toml")
        assert case.task == name


def test_overdamped_exit_time_matches_the_exit_time_1d_case():
    # cases/exit_time_1d.toml documents 33.9457442877 for this double integral (REFERENCES.md),
    # computed independently there; quadrature to 1e-10 relative
    tau = theory.overdamped_exit_time(fp.landscapes.double_well(), 0.25, -2.5, 0.0, -1.0)
    assert tau == pytest.approx(33.9457442877, rel=1e-9)


def test_separatrix_action_and_rates_of_the_double_well():
    # on U = (x^2 - 1)^2 the barrier orbit has v^2 = 2 x^2 (2 - x^2): I_b = 2 int_0^sqrt2 sqrt2 x
    # sqrt(2 - x^2) dx = 8/3 exactly; Kramers' rate by hand with w0 = sqrt 8, wb = 2, dU = 1
    U = fp.landscapes.double_well()
    form = theory.langevin_form(fp.UnderdampedLangevin(U, friction=1.0, temperature=0.25))
    minimum, saddle = theory.well_and_barrier(U, -1.0, 0.0)
    assert (minimum, saddle) == (pytest.approx(-1.0, abs=1e-7), pytest.approx(0.0, abs=1e-7))
    assert theory.separatrix_action(U, form, minimum, saddle) == pytest.approx(8 / 3, rel=1e-9)
    by_hand = (np.sqrt(0.25 + 4) - 0.5) / 2 * np.sqrt(8) / (2 * np.pi) * np.exp(-4.0)
    assert theory.kramers_rate(U, form, minimum, saddle) == pytest.approx(by_hand, rel=1e-9)
    low = 1.0 * (8 / 3) / 0.25 * np.sqrt(8) / (2 * np.pi) * np.exp(-4.0)
    assert theory.energy_diffusion_rate(U, form, minimum, saddle) == pytest.approx(low, rel=1e-9)


def test_momentum_sgd_is_underdamped_langevin_at_the_effective_temperature():
    # DESIGN.md section 1: c = 2 / (lr (1 + beta)), gamma = c (1 - beta), and the theta-marginal
    # temperature lr sigma^2 / (2 B (1 - beta)); exact arithmetic, so 1e-12
    model = fp.MomentumSGD(fp.landscapes.double_well(), lr=0.1, batch_size=4, momentum=0.5, noise_scale=3.0)
    form = theory.langevin_form(model)
    c = 2 / (0.1 * 1.5)
    assert (form.potential_scale, form.friction) == (pytest.approx(c, rel=1e-12), pytest.approx(c * 0.5, rel=1e-12))
    assert form.theta_temperature == pytest.approx(0.1 * 3.0 / (2 * 4 * 0.5), rel=1e-12)


def test_heavy_ball_variance_solves_the_discrete_lyapunov_equation():
    # the AR(2) recursion x_{k+1} = (1 + beta - lr lam) x_k - beta x_{k-1} + lr xi_k as a 2x2
    # linear system: its stationary covariance from scipy's discrete Lyapunov solver
    lam, lr, beta, s2 = 3.0, 0.2, 0.8, 0.7
    A = np.array([[1 + beta - lr * lam, -beta], [1.0, 0.0]])
    Q = np.diag([lr**2 * s2, 0.0])
    exact = linalg.solve_discrete_lyapunov(A, Q)[0, 0]
    assert theory.heavy_ball_variance(lam, lr, beta, s2) == pytest.approx(exact, rel=1e-12)
    with pytest.raises(ValueError, match="lr: the heavy ball diverges"):
        theory.heavy_ball_variance(lam, 2.0, beta, s2)


def test_heavy_ball_simulator_reaches_its_exact_stationary_variance():
    # 20000 independent runs, 400 steps (relaxation ~ (1 - beta)/2 = 0.1 per step: e^-40);
    # the sample variance has relative standard error sqrt(2/n) = 1 %: 4 sigma = 4 %
    landscape = fp.Landscape(lambda x: 1.5 * x**2, grad=lambda x: np.stack([3.0 * x]), ndim=1)
    lr, beta, size, sigma2 = 0.2, 0.8, 2.0, 1.4
    samples = heavy_ball_samples(landscape, lr, beta, size, sigma2, [0.0], 20000, 400, seed=3)[0]
    exact = theory.heavy_ball_variance(3.0, lr, beta, sigma2 / size)
    assert np.var(samples, ddof=1) == pytest.approx(exact, rel=0.04)


def test_heavy_ball_exit_times_of_gradient_free_motion():
    # U = 0, momentum 0, lr 1: theta_k is a Gaussian random walk with unit steps; leaving
    # (-inf, 1) from 0 at rest. Reference: the same walk simulated directly with numpy (same law,
    # independent stream)
    flat = fp.Landscape(lambda x: 0.0 * x, grad=lambda x: np.zeros((1,) + np.shape(x)), ndim=1)
    exits = heavy_ball_exit_times(
        flat, 1.0, 0.0, 1.0, 1.0, [0.0], lambda th, v: th < 1.0, 4000, seed=5, max_steps=100_000
    )
    rng = np.random.default_rng(11)
    walk = np.cumsum(rng.standard_normal((4000, 3000)), axis=1)
    first = np.argmax(walk >= 1.0, axis=1) + 1.0
    keep = (walk >= 1.0).any(axis=1)
    direct = first[keep]
    # the walk's exit time has a heavy tail (P(T > k) ~ k^-1/2, no finite mean): compare medians.
    # Both are integers near 3 whose standard error is ~ 1 / (2 f(median) sqrt(4000)) < 0.1 step,
    # so they agree to within one step
    assert np.median(exits.times) == pytest.approx(np.median(direct), abs=1.0)


def test_prony_fit_recovers_the_rate_of_an_exact_damped_oscillation():
    t = np.linspace(0.0, 2.0, 41)
    m = np.stack([np.exp(-1.3 * t) * np.cos(4 * t + 0.2), -np.exp(-1.3 * t) * np.sin(4 * t)], axis=1)
    rate, omega = mean_decay_rate(t, m)
    assert (rate, omega) == (pytest.approx(1.3, rel=1e-9), pytest.approx(4.0, rel=1e-9))


def test_covariance_at_joins_the_stationary_covariance_smoothly():
    # both branches (Van Loan below 5 fastest decay times, the Lyapunov form beyond) against a
    # fine explicit integration of dC/dt = M C + C M^T + 2D (Euler, error O(dt) ~ 1e-4 relative)
    M = theory.linear_kinetic_drift([[0.5]], 4.0, 3.0)
    D = np.zeros((2, 2))
    D[1, 1] = 0.8
    C, dt = np.zeros((2, 2)), 5e-5
    for k in range(1, 60_001):
        C = C + dt * (M @ C + C @ M.T + 2 * D)
        if k in (10_000, 60_000):
            assert theory.covariance_at(M, [[0.8]], k * dt) == pytest.approx(C, rel=1e-3, abs=1e-9)


def _case_with(tmp_path, name: str, replace: dict):
    """A built-in case file with some lines replaced (coarser grids, fewer points), loaded."""
    text = open(f"cases/{name}.toml").read()
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return load_case(path)


def test_kunin_quadratic_variances_and_decay_rate_on_a_coarse_grid(tmp_path):
    # Kunin's closed forms (eta = 1e-2, beta = 0.9, B = 8, Sigma = sigma^2 H): the issue asks 1 %.
    # On 96^2 cells the second-order error is ~0.5 % (0.29 % measured on 128^2); the Prony-fitted
    # decay rate is off by ~0.2 % on 128^2 (0.35 % expected on 96^2): 1 % for both
    from fpsolve.cases.kunin import _quadratic_part
    from fpsolve.cases.output import CaseResult

    case = _case_with(tmp_path, "kunin_phase_space", {"cells = [128, 128]": "cells = [96, 96]"})
    result = CaseResult()
    _quadratic_part(case, result)
    numbers = result.numbers["quadratic"]
    for name, error in numbers["relative_errors"].items():
        assert abs(error) < 0.01, name
    assert numbers["decay_rate"]["kunin"] == pytest.approx(numbers["decay_rate"]["eigenvalue"], rel=1e-12)
    assert abs(numbers["decay_rate"]["relative_error"]) < 0.01


def test_stationary_phase_space_current_matches_the_ornstein_uhlenbeck_closed_form():
    # fpe.current of the kinetic scheme against J = (M x + D C^-1 x) p (Lyapunov C): the relative
    # L2 error is 0.002 on 160^2 (second order: < 0.01 on 80^2); the circulation, an integral of
    # the current, is within 0.01 % on 160^2 and 1 % on 80^2
    from fpsolve.cases.kunin import _mode_current

    spec = dict(lr=0.1, momentum=0.5, batch_size=1, noise_scale=1.0, cells=[80, 80], box_sd=6.0)
    numbers = _mode_current(spec, 1.0, 1.0)["numbers"]
    assert abs(numbers["relative_error"]) < 0.01
    assert numbers["current_relative_l2_error"] < 0.01


def test_momentum_exit_case_reaches_the_high_friction_limit_and_kramers(tmp_path):
    # a cut-down momentum_exit (one momentum, one batch size, two frictions, a small heavy-ball
    # run). References: gamma x the 1-D double integral (exact limit, approached as 1 + O(1/gamma)
    # -- 1.075 at gamma = 30 on the full grid) and Kramers' escape time at gamma = 1 (the
    # converged PDE and the Monte Carlo reference 154.8 +- 0.3 both sit within 1 % of 1/k = 155.3;
    # this grid is 2 % low, by its own Richardson estimate)
    from fpsolve.cases import run_case

    case = _case_with(
        tmp_path,
        "momentum_exit",
        {
            "momentum = [0.0, 0.5, 0.8, 0.9]": "momentum = [0.9]",
            "batch_size = [2, 4, 8, 16]": "batch_size = [4]",
            "friction = [0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0]": "friction = [1.0, 30.0]",
            "cells = [384, 256]": "cells = [192, 128]",
            "momentum = [0.5, 0.8, 0.9]": "momentum = [0.9]",
            "paths = 2000": "paths = 400",
            "batch_size = 8": "batch_size = 4",
            "lr = [0.1, 0.03, 0.01, 0.003]": "lr = [0.003]",
        },
    )
    folder, result, _ = run_case(case.path, tmp_path / "out")
    low, high = result.numbers["turnover"]
    assert high["tau"] / high["high_friction"] == pytest.approx(1.075, abs=0.02)
    assert low["tau"] * low["kramers"] ** -1 == pytest.approx(1.0, abs=0.04)
    assert abs(low["tau"] - 155.3) < 0.04 * 155.3
    (row,) = result.numbers["table"]
    assert row["resolved"] and row["tau"] > 0
    (ball,) = result.numbers["heavy_ball"]
    assert ball["pde_tau"] == row["tau"] and ball["ci99_half_width"] > 0
    # MomentumSGD at lr = 0.003, beta = 0.5 (gamma / omega_b = 5.3) against its overdamped limit
    # (1 - beta) tau_SGD(lr / (1 - beta)) (double integral): the approach is 1 + O(omega_b / gamma)
    # from above, and underdamped Langevin on the same well gives 1.25 at gamma / omega_b = 5
    (limit,) = result.numbers["overdamped_series"]
    assert 1.0 < limit["tau"] / limit["overdamped_limit"] < 1.3
    assert (folder / "exit_time_vs_momentum.png").is_file() and (folder / "kramers_turnover.png").is_file()


def test_exit_time_task_runs_on_a_phase_space_case_file(tmp_path):
    # the generic exit_time task with a momentum_sgd model and a phase-space grid: the domain is a
    # predicate in (theta, v); the exit-time field is positive inside and zero in the removed cells
    from fpsolve.cases import run_case

    grid = "theta = [[-2.0, 0.5]]\nv = [[-10.0, 10.0]]"  # theta = 0 is a cell face; the box holds v
    text = KINETIC_CASE.format(kind="momentum_sgd", model=MOMENTUM, grid=grid).replace(
        "cells = [40, 20]", "cells = [50, 30]"
    )
    path = tmp_path / "phase.toml"
    path.write_text(text)
    folder, result, _ = run_case(path, tmp_path / "out")
    tau = np.load(folder / "arrays.npz")["tau"]
    theta = np.load(folder / "arrays.npz")["center_theta"]
    assert tau.shape == (50, 30) and np.all(tau[theta < 0] > 0) and np.all(tau[theta > 0] == 0)
    assert result.numbers["mean_exit_time"] > 0 and (folder / "exit_time_and_committor.png").is_file()
