"""The ``momentum_exit`` task: mean exit time of momentum SGD from a basin against momentum and batch size.

For each momentum beta and batch size B of [sweep], the kinetic PDE (``MomentumSGD`` on a phase-space
grid whose velocity box is ``velocity_box`` stationary standard deviations wide) gives the mean
exit time tau from [exit] start. Next to it, with no PDE involved (fpsolve.cases.momentum_theory):

* the overdamped limit (1 - beta) tau_SGD, tau_SGD the 1-D double integral for SGD with the
  effective lr / (1 - beta) (``MomentumSGD.overdamped``: its time is t / (1 - beta));
* Kramers' escape time 1 / k(gamma), the same model as underdamped Langevin dynamics.

[turnover] sweeps the friction of ``UnderdampedLangevin`` over decades (Kramers' turnover) against
gamma tau_overdamped (the high-friction limit), Kramers' 1 / k and the energy-diffusion 1 / k at low
friction, with the "kinetic-hamiltonian" scheme (:data:`TURNOVER_DISCRETIZATION`) and Monte Carlo
of the SDE where even that is not resolved; [heavy_ball] runs the discrete heavy-ball algorithm (fpsolve.cases.heavy_ball) at a few
momenta, with 99 % confidence intervals.
"""

from __future__ import annotations

import time

import numpy as np

from ..analysis import mean_exit_time
from ..momentum import UnderdampedLangevin, phase_space_grid
from ..problem import FokkerPlanck
from . import momentum_plots, momentum_theory as theory
from .config import Case, CaseError, build_boundary, build_landscape, build_model, build_problem, domain_predicate
from .heavy_ball import heavy_ball_exit_times
from .output import CaseResult

__all__ = ["momentum_exit_task"]

Z99 = 2.5758  # two-sided 99 % normal quantile


def momentum_exit_task(case: Case, progress: bool = False, scratch=None) -> CaseResult:
    """Exit times against (momentum, batch size), the turnover in friction and the discrete algorithm."""
    landscape = build_landscape(case)
    if landscape.ndim != 1:
        raise case.error("landscape", "name", f"the momentum_exit case needs a 1-D landscape, got dim {landscape.ndim}")
    setup = _setup(case)
    result = CaseResult()
    rows = []
    for momentum in case.table("sweep")["momentum"]:
        for size in case.table("sweep")["batch_size"]:
            model = build_model(case, landscape, {"momentum": float(momentum), "batch_size": float(size)})
            rows.append(_exit_row(case, model, landscape, setup))
    result.numbers.update(exit_point=setup["exit_at"], minimum=setup["minimum"], saddle=setup["saddle"], table=rows)
    result.summary.extend(_table_lines(rows))
    result.figures["exit_time_vs_momentum"] = momentum_plots.exit_time_table(rows)
    if "turnover" in case.tables:
        turnover = [_turnover_row(case, landscape, setup, float(g)) for g in case.table("turnover")["friction"]]
        result.numbers["turnover"] = turnover
        result.figures["kramers_turnover"] = momentum_plots.turnover(turnover, case.table("turnover")["temperature"])
        barrier = np.sqrt(abs(float(np.ravel(landscape.hessian(np.array([setup["saddle"]])))[0])))
        momentum_plots.add_turnover_ratio(result.figures["exit_time_vs_momentum"], turnover, barrier)
        result.summary.extend(_turnover_line(r) for r in turnover)
    if "overdamped" in case.tables:
        series = _overdamped_series(case, landscape, setup)
        result.numbers["overdamped_series"] = series
        momentum_plots.add_overdamped_series(result.figures["exit_time_vs_momentum"], series)
        result.summary.extend(
            f"overdamped limit, beta = {r['momentum']:g}, lr = {r['lr']:g} (gamma/w_b = "
            f"{r['friction_over_barrier_frequency']:.3g}): tau / ((1-beta) tau_SGD(lr/(1-beta))) = "
            f"{r['tau'] / r['overdamped_limit']:.4f} ± {abs(r['error']) / r['overdamped_limit']:.2g}"
            for r in series
        )
    if "heavy_ball" in case.tables:
        result.numbers["heavy_ball"] = _heavy_ball(case, landscape, setup, rows, result.summary)
        momentum_plots.add_heavy_ball(result.figures["exit_time_vs_momentum"], result.numbers["heavy_ball"])
    return result


def _setup(case: Case) -> dict:
    """Grid, start and exit geometry shared by every point; the exit point and the well's minimum
    and saddle for the closed forms."""
    grid_spec, exit_spec = case.table("grid"), case.table("exit")
    theta = np.asarray(grid_spec["theta"], dtype=float).reshape(-1, 2)
    if theta.shape[0] != 1:
        raise case.error("grid", "theta", "the momentum_exit case is 1-D in theta: give one [low, high] pair")
    start = tuple(float(s) for s in np.atleast_1d(exit_spec["start"]))
    if len(start) != 2:
        raise case.error("exit", "start", f"expected a phase-space point [theta, v], got {list(start)}")
    cells = np.atleast_1d(grid_spec["cells"]).astype(int)
    probe = phase_space_grid(tuple(theta[0]), (-1.0, 1.0), tuple(cells) if cells.size == 2 else (int(cells[0]),) * 2)
    domain = domain_predicate(case, exit_spec["domain"], 2, grid=probe)
    exit_at = _exit_point(case, domain, start, theta[0])
    faces = theta[0, 0] + np.arange(probe.cells[0] + 1) * probe.spacing[0]
    on_face = bool(np.min(np.abs(faces - exit_at)) < 1e-6 * probe.spacing[0])
    landscape = build_landscape(case)
    minimum, saddle = theory.well_and_barrier(landscape, start[0], exit_at)
    return dict(
        theta=tuple(theta[0]),
        cells=tuple(probe.cells),
        start=start,
        domain=domain,
        exit_at=exit_at,
        on_face=on_face,
        minimum=minimum,
        saddle=saddle,
        box=float(grid_spec.get("velocity_box", 6.0)),
    )


def _exit_point(case, domain, start, theta) -> float:
    """Where the domain ends to the right of the start along v = 0 (bisection on the predicate)."""
    line = np.linspace(start[0], theta[1], 4001)
    inside = np.asarray(domain(line, np.zeros_like(line)), dtype=bool)
    if not inside[0]:
        raise case.error("exit", "start", f"the start {start} is outside the domain")
    if inside.all():
        raise case.error(
            "exit",
            "domain",
            f"the domain does not end between the start and theta = {theta[1]:g}; the grid must extend past the exit",
        )
    hi = int(np.argmin(inside))
    a, b = line[hi - 1], line[hi]
    for _ in range(60):
        mid = 0.5 * (a + b)
        a, b = (mid, b) if bool(domain(np.array([mid]), np.zeros(1))[0]) else (a, mid)
    return float(0.5 * (a + b))


#: A point whose Richardson error estimate exceeds this fraction of tau is reported as unresolved
RESOLVED = 0.05


#: Ratios (tau_4h - tau_2h) / (tau_2h - tau_h) accepted as asymptotic: observed orders 1.5 to 4.5
#: (the kinetic scheme shows 2.8 to 4.1 on resolved grids, docs/numerics.md "Kinetic equations")
ASYMPTOTIC_RATIOS = (2.0**1.5, 2.0**4.5)


#: The turnover's scheme: the Hamiltonian flow transported at second order in theta and in v, only
#: friction and velocity diffusion fitted (fpsolve.discretize.kinetic.KineticHamiltonian). With the
#: default "kinetic" scheme the force is upwinded in v once |F| h_v > gamma T, a numerical friction
#: that left gamma <= 0.3 unresolved on 384 x 256 cells (docs/momentum.md, "Kramers' turnover").
TURNOVER_DISCRETIZATION = "kinetic-hamiltonian"

#: Where a grid of a turnover point is refused (its exit time undershoots at the separatrix layer,
#: which thins as gamma falls), the three grids move one level finer, up to this many cells:
#: (768, 512) takes 15 s at load 10 on the 2-core machine (gamma = 0.1: the check on 768, 384, 192;
#: gamma = 0.03: 384 and 192 are refused, so 768 gives a single unchecked value next to Monte Carlo).
TURNOVER_FINEST_CELLS = (768, 512)


def _solve_tau(case, model, landscape, setup, discretization=None, finest=None) -> dict:
    """tau at the start on a grid whose velocity box is setup['box'] stationary sd wide, and on the
    grids with half and a quarter of the cells per axis: the Richardson estimate
    (tau_h - tau_2h) / 3 of the second-order scheme's error. ``resolved`` is False when it exceeds
    RESOLVED of tau, or when the three values do not converge at an observed order in
    ASYMPTOTIC_RATIOS (a two-grid estimate can be small while both grids are far off: at
    dU/T = 20 an O(h^2) error in the effective barrier is multiplied by 20 in tau).

    ``finest`` (turnover): a grid refused as too coarse is not an error; if a grid is refused and
    twice the cells fit in ``finest``, the three grids are (2 cells, cells, cells / 2), which is
    the check if those two held, else an unresolved value of the finest grid alone (refused grids
    are None in ``values``)."""
    sd = float(np.sqrt(np.max(model.velocity_variance(np.array([setup["minimum"]])))))
    begin = time.perf_counter()

    def tau_on(cells, required: bool) -> float:
        grid = phase_space_grid(setup["theta"], (-setup["box"] * sd, setup["box"] * sd), cells)
        try:
            fpe = (
                build_problem(case, model, landscape, grid)
                if discretization is None
                else FokkerPlanck(model, grid, boundary=build_boundary(case, grid), discretization=discretization)
            )
            return float(mean_exit_time(fpe, domain=setup["domain"])(*setup["start"]))
        except ValueError as error:
            if required and finest is None:
                raise CaseError(f"{case.path}: {model!r} on {cells} cells: {error}") from error
            return float("nan")  # too coarse for this point: not asymptotic

    cells = tuple(setup["cells"])
    levels = [cells, tuple(n // 2 for n in cells), tuple(n // 4 for n in cells)]
    values = [tau_on(levels[0], True), tau_on(levels[1], True)]
    values.append(tau_on(levels[2], False) if np.all(np.isfinite(values)) else float("nan"))
    finer = tuple(2 * n for n in cells)
    if finest is not None and not np.isfinite(values[2]) and all(a <= b for a, b in zip(finer, finest)):
        # one level finer: a three-grid check if the full and half grids held, else a single value
        levels, values = [finer] + levels[:2], [tau_on(finer, False)] + values[:2]
    error = (values[0] - values[1]) / 3.0
    change = values[1] - values[0]
    ratio = (values[2] - values[1]) / change if change != 0 and np.isfinite(values[2]) else np.inf
    # three values within RESOLVED / 10 of each other need no asymptotic order (their spread is
    # the error bar); larger changes must shrink at an order in ASYMPTOTIC_RATIOS
    spread = np.nanmax(values) - np.nanmin(values) if np.all(np.isfinite(values)) else np.inf
    asymptotic = bool(ASYMPTOTIC_RATIOS[0] <= ratio <= ASYMPTOTIC_RATIOS[1]) or spread <= 0.1 * RESOLVED * abs(
        values[0]
    )
    resolved = bool(np.isfinite(values[0]) and abs(error) <= RESOLVED * values[0] and asymptotic)
    return dict(
        tau=values[0] if np.isfinite(values[0]) else None,
        error=(error if asymptotic else max(abs(change), abs(error))) if np.isfinite(error) else None,
        resolved=resolved,
        asymptotic=asymptotic,
        values=[v if np.isfinite(v) else None for v in values],
        cells=[[int(n) for n in c] for c in levels],
        discretization=discretization or "kinetic",
        seconds=time.perf_counter() - begin,
    )


def _exit_row(case, model, landscape, setup) -> dict:
    solved = _solve_tau(case, model, landscape, setup)
    tau = solved["tau"]
    form = theory.langevin_form(model)
    overdamped = theory.overdamped_exit_time(
        landscape, form.theta_temperature, setup["theta"][0], setup["exit_at"], setup["start"][0]
    )
    kramers = theory.kramers_rate(landscape, form, setup["minimum"], setup["saddle"])
    barrier_frequency = np.sqrt(
        form.potential_scale * abs(float(np.ravel(landscape.hessian(np.array([setup["saddle"]])))[0]))
    )
    return dict(
        momentum=model.momentum,
        batch_size=model.batch_size,
        **solved,
        iterations=tau / model.lr,
        theta_temperature=form.theta_temperature,
        friction=form.friction,
        friction_over_barrier_frequency=form.friction / barrier_frequency,
        overdamped_limit=(1.0 - model.momentum) * overdamped,
        kramers=1.0 / kramers,
    )


def _overdamped_series(case, landscape, setup) -> list:
    """MomentumSGD at one momentum and a shrinking lr at a fixed theta-temperature T_eff (noise_scale
    = 2 B (1 - beta) T_eff / lr): the friction over the barrier frequency grows like lr^(-1/2) and
    tau / ((1 - beta) tau_SGD(lr / (1 - beta))) must tend to 1."""
    spec = case.table("overdamped")
    beta, size, temperature = float(spec["momentum"]), float(spec["batch_size"]), float(spec["temperature"])
    rows = []
    for lr in (float(v) for v in spec["lr"]):
        model = build_model(
            case,
            landscape,
            {"momentum": beta, "batch_size": size, "lr": lr, "noise_scale": 2 * size * (1 - beta) * temperature / lr},
        )
        rows.append({"lr": lr, **_exit_row(case, model, landscape, setup)})
    return rows


def _turnover_row(case, landscape, setup, friction: float) -> dict:
    spec = case.table("turnover")
    model = UnderdampedLangevin(landscape, friction=friction, temperature=spec["temperature"])
    cells = tuple(np.atleast_1d(spec.get("cells", setup["cells"])).astype(int))
    solved = _solve_tau(
        case,
        model,
        landscape,
        {**setup, "cells": cells if len(cells) == 2 else cells * 2},
        discretization=TURNOVER_DISCRETIZATION,
        finest=TURNOVER_FINEST_CELLS,
    )
    form = theory.langevin_form(model)
    overdamped = theory.overdamped_exit_time(
        landscape, form.temperature, setup["theta"][0], setup["exit_at"], setup["start"][0]
    )
    kramers = 1.0 / theory.kramers_rate(landscape, form, setup["minimum"], setup["saddle"])
    energy_diffusion = 1.0 / theory.energy_diffusion_rate(landscape, form, setup["minimum"], setup["saddle"])
    if not solved["resolved"] and "monte_carlo_paths" in spec:
        # BAOAB needs friction x dt <= 0.5 (the simulator refuses more): 0.25 keeps its bias < 1 %
        dt = min(float(spec.get("monte_carlo_dt", 0.01)), 0.25 / friction)
        t_max = 40.0 * max(solved["tau"] or 0.0, kramers, energy_diffusion)
        solved["monte_carlo"] = _monte_carlo_tau(model, setup, int(spec["monte_carlo_paths"]), dt, t_max)
    return dict(
        friction=friction,
        **solved,
        high_friction=friction * overdamped,
        kramers=kramers,
        energy_diffusion=energy_diffusion,
        action_over_temperature=friction
        * theory.separatrix_action(landscape, form, setup["minimum"], setup["saddle"])
        / form.temperature,
    )


def _monte_carlo_tau(model, setup, n_paths: int, dt: float, t_max: float) -> dict:
    """The SDE's mean exit time by the phase-space Monte Carlo referee (fp.montecarlo, BAOAB
    splitting, exit tested at step ends: an O(dt) bias), with its 99 % half-width; where the PDE
    grid does not resolve the point (low friction), this is the number to read."""
    from ..montecarlo import simulator
    from ..montecarlo.domains import HalfSpace

    # the case's domain as the simulator's half-space theta < exit point (the turnover's exit is a
    # theta threshold; the expression itself cannot be compiled for the simulator's kernel)
    domain = HalfSpace((1.0, 0.0), setup["exit_at"])
    exits = simulator(model, dt=dt, seed=1).exit_times(
        setup["start"], n_paths=n_paths, domain=domain, t_max=max(t_max, 1000.0)
    )
    if exits.censored.any():
        raise RuntimeError(
            f"[turnover] monte_carlo_paths: {int(exits.censored.sum())} paths still inside at t = {exits.t_max:g}"
        )
    times = np.asarray(exits.times, dtype=float)
    return dict(
        mean=float(times.mean()),
        ci99_half_width=float(Z99 * times.std(ddof=1) / np.sqrt(times.size)),
        paths=n_paths,
        dt=dt,
    )


def _heavy_ball(case, landscape, setup, rows, summary) -> list:
    spec = case.table("heavy_ball")
    size = float(spec["batch_size"])
    out = []
    for k, momentum in enumerate(spec["momentum"]):
        model = build_model(case, landscape, {"momentum": float(momentum), "batch_size": size})
        known = [r for r in rows if r["momentum"] == model.momentum and r["batch_size"] == size]
        tau_pde = known[0]["tau"] if known else _solve_tau(case, model, landscape, setup)["tau"]
        lr = model.lr
        try:
            exits = heavy_ball_exit_times(
                landscape,
                lr,
                model.momentum,
                size,
                model.noise_scale,
                setup["start"],
                setup["domain"],
                int(spec["paths"]),
                seed=int(spec.get("seed", 0)) + k,
                max_steps=int(spec.get("max_steps", 200_000)),
            )
        except (RuntimeError, ValueError) as error:
            raise CaseError(f"{case.path}: [heavy_ball] {error}") from error
        half = Z99 * exits.standard_error
        out.append(
            dict(
                momentum=model.momentum,
                batch_size=size,
                lr=lr,
                paths=int(exits.times.size),
                mean=exits.mean,
                ci99_half_width=half,
                pde_tau=tau_pde,
                relative_deviation=exits.mean / tau_pde - 1.0,
            )
        )
        summary.append(
            f"heavy ball beta = {model.momentum:g}, B = {size:g}: tau = {exits.mean:.4g} ± {half:.2g} "
            f"(99 %, {exits.times.size} runs) vs the SDE's {tau_pde:.4g} ({exits.mean / tau_pde - 1:+.1%})"
        )
    return out


def _turnover_line(r) -> str:
    mc = r.get("monte_carlo")
    monte_carlo = (
        f"; Monte Carlo {mc['mean']:.5g} ± {mc['ci99_half_width']:.2g} (99 %, {mc['paths']} paths, dt = {mc['dt']:g})"
        if mc
        else ""
    )
    if r["tau"] is None:
        return f"turnover gamma = {r['friction']:g}: kinetic PDE refused on {r['cells'][0]} cells (too coarse){monte_carlo}"
    tau = r["tau"] if r["resolved"] or not mc else mc["mean"]
    error = f" ± {abs(r['error']):.2g}" if r["error"] is not None else ""
    return (
        f"turnover gamma = {r['friction']:g}: tau = {r['tau']:.5g}{error} ({r['discretization']}, {r['cells'][0]} cells)"
        f"{'' if r['resolved'] else ' UNRESOLVED (refine the grid)'}; tau / (gamma tau_overdamped) = "
        f"{tau / r['high_friction']:.3f}, tau k_Kramers = {tau / r['kramers']:.3f}, "
        f"tau k_energy-diffusion = {tau / r['energy_diffusion']:.3f}" + monte_carlo
    )


def _table_lines(rows) -> list:
    head = (
        f"{'beta':>5s} {'B':>5s} {'T_eff':>7s} {'gamma/w_b':>9s} {'tau (PDE)':>11s} {'error':>8s} "
        f"{'iterations':>11s} {'(1-b)tau_SGD':>12s} {'1/k_Kramers':>11s}"
    )
    lines = [head]
    for r in rows:
        lines.append(
            f"{r['momentum']:5g} {r['batch_size']:5g} {r['theta_temperature']:7.3f} "
            f"{r['friction_over_barrier_frequency']:9.3f} {r['tau']:11.5g} {abs(r['error']):8.2g} "
            f"{r['iterations']:11.4g} {r['overdamped_limit']:12.5g} {r['kramers']:11.5g}"
            + ("" if r["resolved"] else "  UNRESOLVED (refine the grid)")
        )
    return lines
