"""Analysis tasks of case files: the batch-size sweep (exit times, occupancy, spectral gap vs B)
and the exit-time field with its committor over a 2-D landscape."""

from __future__ import annotations

import functools

import numpy as np

from ..analysis import basins as find_basins, with_error
from ..analysis.error_estimate import field_at
from ..studies.batch_size import batch_size_point, log_tau_slope, occupancy_over_time
from ..studies.sweep import sweep
from ..dynamics import SGD
from ..noise import HESSIAN_FLOOR
from ..problem import FokkerPlanck
from . import plots
from .config import (
    Case,
    CaseError,
    build_boundary,
    build_grid,
    build_landscape,
    build_model,
    build_problem,
    case_key,
    domain_predicate,
    model_parameters,
)
from .output import CaseResult

__all__ = ["batch_size_sweep_task", "exit_time_task", "estimate_numbers", "estimate_table"]


def batch_size_sweep_task(case: Case, progress: bool = False, scratch=None) -> CaseResult:
    """Exit time from each basin, stationary occupancy and spectral gap against the batch size B,
    for each noise model in [sweep] noise; occupancy over time for [sweep] occupancy_batch_sizes.

    The sweep writes its table point by point to ``scratch`` (resumable after an interruption);
    the table carries :func:`~fpsolve.cases.config.case_key`, so rows saved for an earlier version
    of the case file are never reused.
    """
    landscape = build_landscape(case)
    grid = build_grid(case)
    boundary = build_boundary(case, grid)
    sweep_spec = case.table("sweep")
    sizes = [float(b) for b in sweep_spec["batch_size"]]
    noises = [sweep_spec["noise"]] if isinstance(sweep_spec["noise"], str) else list(sweep_spec["noise"])
    lr, scale, floor = _swept_model(case, landscape, sizes, noises)
    labels = find_basins(grid, landscape)
    if labels.n < 2:
        raise case.error("landscape", "name", "the batch-size sweep needs a landscape with two basins")
    point = functools.partial(
        batch_size_point,
        landscape,
        grid,
        lr=lr,
        noise_scale=scale,
        boundary=boundary,
        basins=labels,
        hessian_floor=floor,
    )
    try:
        table = sweep(
            point,
            results=None if scratch is None else scratch / "sweep",
            progress=progress,
            key=case_key(case),
            batch_size=sizes,
            noise=noises,
        )
    except ValueError as error:
        raise CaseError(f"{case.path}: {error}") from error
    rows = table.rows
    result = CaseResult()
    per_noise = {}
    for noise in noises:
        mine = sorted((r for r in rows if r["noise"] == noise), key=lambda r: r["batch_size"])
        per_noise[noise] = {key: np.array([r[key] for r in mine], dtype=float) for key in mine[0] if key != "noise"}
    saddle = landscape.saddles[0]
    slopes = {
        noise: [log_tau_slope(landscape, m, saddle, lr=lr, noise=noise, noise_scale=scale) for m in labels.minima]
        for noise in noises
    }
    flat = int(np.argmin([np.max(s) for s in labels.sharpness]))
    result.numbers.update(
        lr=lr,
        noise_scale=scale,
        minima=labels.minima,
        sharpness=labels.sharpness,
        flat_basin=flat,
        table=rows,
        asymptotic_log_tau_slope=slopes,
    )
    for noise, columns in per_noise.items():
        for key, values in columns.items():
            result.arrays[f"{noise}_{key}"] = values
    t = np.asarray(sweep_spec.get("times", [0.0, 1.0, 10.0, 100.0]), dtype=float)
    occupancy = {}
    for size in sweep_spec.get("occupancy_batch_sizes", []):
        occ = occupancy_over_time(
            landscape,
            grid,
            lr=lr,
            batch_size=float(size),
            t=t,
            noise=sweep_spec.get("occupancy_noise", "hessian"),
            noise_scale=scale,
            start=labels.minima[1 - flat],
            boundary=boundary,
            hessian_floor=floor,
        )
        occupancy[float(size)] = occ.fractions
        result.arrays[f"occupancy_B{size:g}"] = occ.fractions
    result.figures["exit_time_vs_batch_size"] = plots.exit_time_vs_batch_size(per_noise, slopes, labels, lr)
    result.figures["occupancy_and_gap_vs_batch_size"] = plots.occupancy_and_gap(per_noise, flat)
    if occupancy:
        result.figures["occupancy_over_time"] = plots.occupancy_over_time(t, occupancy, flat)
    result.summary.extend(_sweep_table(per_noise, labels.n, flat))
    result.numbers["error_estimates"] = _sweep_estimates(result, per_noise, landscape, grid, boundary, lr, scale, floor)
    for noise, columns in per_noise.items():
        b = columns["batch_size"]
        result.summary.append(
            f"{noise}: exit time from the flat basin {columns[f'exit_time_{flat}'][0]:.3g} (B = {b[0]:g}) .. "
            f"{columns[f'exit_time_{flat}'][-1]:.3g} (B = {b[-1]:g}); stationary flat occupancy "
            f"{columns[f'occupancy_{flat}'][0]:.3f} .. {columns[f'occupancy_{flat}'][-1]:.3f}"
        )
    return result


def _sweep_estimates(result, per_noise: dict, landscape, grid, boundary, lr, scale, floor) -> dict:
    """Discretization-error estimates of the sweep's numbers at the largest batch size of each
    noise (the highest barrier): the point recomputed on the grid coarsened by 2 and 4."""
    out = {}
    for noise, columns in per_noise.items():
        size = float(columns["batch_size"][-1])
        names = [key for key in columns if key.startswith(("exit_time_", "occupancy_")) or key == "spectral_gap"]
        model = SGD(landscape, lr=lr, batch_size=size, noise=noise, noise_scale=scale, hessian_floor=floor)

        def point(problem, size=size, noise=noise):
            return batch_size_point(
                landscape,
                problem.grid,
                lr=lr,
                batch_size=size,
                noise=noise,
                noise_scale=scale,
                boundary=problem.boundary,
                hessian_floor=floor,
            )

        table, line = estimate_table(
            names,
            point,
            FokkerPlanck(model, grid, boundary=boundary),
            value=lambda row, names=names: [row[k] for k in names],
            fine={k: float(columns[k][-1]) for k in names},
        )
        out[f"{noise}, B = {size:g}"] = table
        result.summary.append(f"{noise}, B = {size:g}: {line}")
    return out


def _swept_model(case: Case, landscape, sizes: list, noises: list) -> tuple:
    """(lr, noise_scale, hessian_floor) of the swept SGD model, after every swept model has been
    built by build_model like the model of any case (so bad values fail before the long part)."""
    for noise in noises:
        build_model(case, landscape, {"batch_size": sizes[0], "noise": noise})
    model = model_parameters(case, {"batch_size": sizes[0], "noise": noises[0]})
    return (float(model["lr"]), float(model.get("noise_scale", 1.0)), float(model.get("hessian_floor", HESSIAN_FLOOR)))


def _sweep_table(per_noise: dict, n_basins: int, flat: int) -> list:
    """Lines of a table: batch size, exit time from each basin, flat occupancy, spectral gap."""
    head = f"{'noise':>9s} {'B':>6s} " + " ".join(f"{'tau_' + str(i):>10s}" for i in range(n_basins))
    head += f" {'P(flat)':>8s} {'gap':>10s}"
    lines = [head]
    for noise, columns in per_noise.items():
        for row in range(len(columns["batch_size"])):
            taus = " ".join(f"{columns[f'exit_time_{i}'][row]:10.4g}" for i in range(n_basins))
            gap = columns.get("spectral_gap", np.full(row + 1, np.nan))[row]
            lines.append(
                f"{noise:>9s} {columns['batch_size'][row]:6g} {taus} "
                f"{columns[f'occupancy_{flat}'][row]:8.4f} {gap:10.4g}"
            )
    return lines


def figure_title(case: Case) -> str:
    """The case's title with its model's parameters, for figure headings."""
    model = case.tables.get("model", {})
    parameters = ", ".join(
        f"{key} = {value:g}" if isinstance(value, (int, float)) else f"{key} = {value}"
        for key, value in model.items()
        if key != "kind"
    )
    return f"{case.title}\n{model.get('kind', '')}: {parameters}" if model else case.title


def exit_time_task(case: Case, progress: bool = False, scratch=None) -> CaseResult:
    """The mean exit-time field (with its second moment) from [exit] domain, the exit-time law
    from [exit] start, and, when [exit] a and b are given, the committor between them. The numbers
    at the start carry discretization-error estimates (the same analyses on the grid coarsened by
    2 and 4, :func:`fpsolve.with_error`)."""
    landscape = build_landscape(case)
    grid = build_grid(case)
    spec = case.table("exit")
    domain = domain_predicate(case, spec["domain"], grid.ndim, grid=grid)
    if ("a" in spec) != ("b" in spec):
        missing = "b" if "a" in spec else "a"
        raise case.error("exit", missing, "missing: the committor needs both sets a and b")
    start = tuple(float(c) for c in np.atleast_1d(spec["start"])) if "start" in spec else None
    sets = None
    if "a" in spec and "b" in spec:
        sets = (
            domain_predicate(case, spec["a"], grid.ndim, key="a", grid=grid),
            domain_predicate(case, spec["b"], grid.ndim, key="b", grid=grid),
        )
    analyses = functools.partial(
        _exit_analyses, domain=domain, sets=sets, start=start, moments=int(spec.get("moments", 2))
    )
    result = CaseResult()
    try:
        fpe = build_problem(case, build_model(case, landscape), landscape, grid)  # assembled once
        tau, q, law = fine = analyses(fpe)
    except ValueError as error:
        raise CaseError(f"{case.path}: {error}") from error
    result.arrays.update(tau=tau.values, **{f"center_{a}": c for a, c in zip(grid.axis_names, grid.centers)})
    if q is not None:
        result.arrays["committor"] = q.values
    result.numbers["max_mean_exit_time"] = float(np.max(tau.values))
    if law is not None:
        result.numbers.update(
            start=start,
            mean_exit_time=tau(*start),
            exit_time_std=float(
                np.sqrt(max(tau.variance.ravel()[np.ravel_multi_index(grid.cell_index(*start), grid.shape)], 0.0))
            )
            if len(tau.moments) > 1
            else None,
            median_exit_time=float(law.quantile(0.5)),
            law_mean=law.mean,
        )
        result.arrays.update(law_t=law.t, law_survival=law.S)
        line = f"mean exit time from {start}: {tau(*start):.6g} (median {law.quantile(0.5):.4g})"
        if q is not None:
            result.numbers["committor_at_start"] = q(*start)
            line += f"; committor there {q(*start):.4f}"
        result.summary.append(line)
        names = ["mean_exit_time", "median_exit_time"] + (["committor_at_start"] if q is not None else [])
        estimate_numbers(result, names, analyses, fpe, fine=fine, value=functools.partial(_exit_numbers, start=start))
    if grid.ndim == 2:
        result.figures["exit_time_and_committor"] = plots.exit_time_and_committor(
            grid,
            tau.values,
            None if q is None else q.values,
            landscape,
            start=start,
            sets=sets,
            title=figure_title(case),
        )
    else:
        result.figures["exit_time"] = plots.exit_time_1d(
            grid, tau, law, landscape, start=start, title=figure_title(case)
        )
    return result


def _exit_analyses(fpe, *, domain, sets, start, moments) -> tuple:
    """(tau, committor or None, exit-time law or None) on one problem."""
    from ..analysis import committor, exit_time_distribution, mean_exit_time

    tau = mean_exit_time(fpe, domain=domain, moments=moments)
    q = None if sets is None else committor(fpe, a=sets[0], b=sets[1])
    law = None if start is None else exit_time_distribution(fpe, domain=domain, start=start)
    return tau, q, law


def _exit_numbers(analyses: tuple, *, start) -> list:
    """The numbers at the start whose errors are estimated: tau, the law's median, the committor."""
    tau, q, law = analyses
    numbers = [float(np.squeeze(field_at(tau, start))), float(law.quantile(0.5))]
    return numbers + ([float(np.squeeze(field_at(q, start)))] if q is not None else [])


def estimate_numbers(result: CaseResult, names: list, analysis, problem, **kwargs) -> None:
    """Add discretization-error estimates of the numbers ``names`` (what ``analysis`` and
    ``value`` give on a problem) to ``result``: ``numbers["error_estimates"]`` and a summary line.
    ``kwargs`` go to :func:`fpsolve.with_error`."""
    table, line = estimate_table(names, analysis, problem, **kwargs)
    result.numbers["error_estimates"] = table
    result.summary.append(line)


def estimate_table(names: list, analysis, problem, **kwargs) -> tuple:
    """``(table, line)``: per name the value, error, observed order and status of
    :func:`fpsolve.with_error`, and one line for the summary.

    A refused estimate (the results do not converge on the coarsened grids) is reported, not
    raised: the case's numbers stay, marked as having no trustworthy error bar.
    """
    try:
        est = with_error(analysis, problem, **kwargs)
    except ValueError as error:
        message = str(error)
        for i, name in enumerate(names):  # name the number instead of its position
            message = message.replace(f"grid: element ({i},):", f"{name}:")
        return {"refused": message}, f"no discretization-error estimate: {message.split('; ')[0]}"
    value, error, order = (np.atleast_1d(np.asarray(a, dtype=float)) for a in (est.value, est.error, est.order))
    status = np.atleast_1d(est.status)
    table = {
        name: {"value": float(value[i]), "error": float(error[i]), "order": float(order[i]), "status": str(status[i])}
        for i, name in enumerate(names)
    }
    cells = " / ".join("x".join(str(n) for n in c) for c in est.cells)
    line = f"discretization error (Richardson on {cells} cells): " + "; ".join(
        f"{name} {row['value']:.8g} ± {row['error']:.2g} (order {row['order']:.2f}, {row['status']})"
        for name, row in table.items()
    )
    return table | {"cells": [list(c) for c in est.cells], "asymptotic": est.asymptotic}, line
