"""Analysis tasks of case files: the batch-size sweep (exit times, occupancy, spectral gap vs B)
and the exit-time field with its committor over a 2-D landscape."""

from __future__ import annotations

import numpy as np

from ..analysis import basins as find_basins
from ..analysis.studies import batch_size_study, log_tau_slope, occupancy_over_time
from ..noise import HESSIAN_FLOOR
from . import plots
from .config import Case, CaseError, build_grid, build_landscape, build_model
from .output import CaseResult

__all__ = ["batch_size_sweep_task", "exit_time_task"]


def batch_size_sweep_task(case: Case, progress: bool = False, scratch=None) -> CaseResult:
    """Exit time from each basin, stationary occupancy and spectral gap against the batch size B,
    for each noise model in [sweep] noise; occupancy over time for [sweep] occupancy_batch_sizes.

    The sweep writes its table point by point to ``scratch`` (resumable after an interruption).
    """
    landscape = build_landscape(case)
    grid = build_grid(case)
    model = case.table("model")
    sweep = case.table("sweep")
    for key in ("batch_size", "noise"):
        if key not in sweep:
            raise case.error("sweep", key, "missing")
    lr = float(model.get("lr", 1.0))
    scale = float(model.get("noise_scale", 1.0))
    floor = float(model.get("hessian_floor", HESSIAN_FLOOR))
    sizes = [float(b) for b in sweep["batch_size"]]
    noises = list(sweep["noise"])
    labels = find_basins(grid, landscape)
    if labels.n < 2:
        raise case.error("landscape", "name", "the batch-size sweep needs a landscape with two basins")
    try:
        table = batch_size_study(
            landscape, grid, lr=lr, batch_sizes=sizes, noises=noises, noise_scale=scale,
            results=None if scratch is None else scratch / "sweep", progress=progress, hessian_floor=floor,
        )
    except ValueError as error:
        raise CaseError(f"{case.path}: {error}") from error
    rows = table.rows
    result = CaseResult()
    per_noise = {}
    for noise in noises:
        mine = sorted((r for r in rows if r["noise"] == noise), key=lambda r: r["batch_size"])
        per_noise[noise] = {
            key: np.array([r[key] for r in mine], dtype=float)
            for key in mine[0] if key != "noise"
        }
    saddle = landscape.saddles[0]
    slopes = {
        noise: [log_tau_slope(landscape, m, saddle, lr=lr, noise=noise, noise_scale=scale) for m in labels.minima]
        for noise in noises
    }
    flat = int(np.argmin([np.max(s) for s in labels.sharpness]))
    result.numbers.update(
        lr=lr, noise_scale=scale, minima=labels.minima, sharpness=labels.sharpness, flat_basin=flat,
        table=rows, asymptotic_log_tau_slope=slopes,
    )
    for noise, columns in per_noise.items():
        for key, values in columns.items():
            result.arrays[f"{noise}_{key}"] = values
    t = np.asarray(sweep.get("times", [0.0, 1.0, 10.0, 100.0]), dtype=float)
    occupancy = {}
    for size in sweep.get("occupancy_batch_sizes", []):
        occ = occupancy_over_time(landscape, grid, lr=lr, batch_size=float(size), t=t,
                                  noise=sweep.get("occupancy_noise", "hessian"), noise_scale=scale,
                                  start=labels.minima[1 - flat], hessian_floor=floor)
        occupancy[float(size)] = occ.fractions
        result.arrays[f"occupancy_B{size:g}"] = occ.fractions
    result.figures["exit_time_vs_batch_size"] = plots.exit_time_vs_batch_size(per_noise, slopes, labels, lr)
    result.figures["occupancy_and_gap_vs_batch_size"] = plots.occupancy_and_gap(per_noise, flat)
    if occupancy:
        result.figures["occupancy_over_time"] = plots.occupancy_over_time(t, occupancy, flat)
    result.summary.extend(_sweep_table(per_noise, labels.n, flat))
    for noise, columns in per_noise.items():
        b = columns["batch_size"]
        result.summary.append(
            f"{noise}: exit time from the flat basin {columns[f'exit_time_{flat}'][0]:.3g} (B = {b[0]:g}) .. "
            f"{columns[f'exit_time_{flat}'][-1]:.3g} (B = {b[-1]:g}); stationary flat occupancy "
            f"{columns[f'occupancy_{flat}'][0]:.3f} .. {columns[f'occupancy_{flat}'][-1]:.3f}"
        )
    return result


def _sweep_table(per_noise: dict, n_basins: int, flat: int) -> list:
    """Lines of a table: batch size, exit time from each basin, flat occupancy, spectral gap."""
    head = f"{'noise':>9s} {'B':>6s} " + " ".join(f"{'tau_' + str(i):>10s}" for i in range(n_basins))
    head += f" {'P(flat)':>8s} {'gap':>10s}"
    lines = [head]
    for noise, columns in per_noise.items():
        for row in range(len(columns["batch_size"])):
            taus = " ".join(f"{columns[f'exit_time_{i}'][row]:10.4g}" for i in range(n_basins))
            gap = columns.get("spectral_gap", np.full(row + 1, np.nan))[row]
            lines.append(f"{noise:>9s} {columns['batch_size'][row]:6g} {taus} "
                         f"{columns[f'occupancy_{flat}'][row]:8.4f} {gap:10.4g}")
    return lines


def exit_time_task(case: Case, progress: bool = False, scratch=None) -> CaseResult:
    """The mean exit-time field (with its second moment) from [exit] domain, the exit-time law
    from [exit] start, and, when [exit] a and b are given, the committor between them."""
    from ..analysis import committor, exit_time_distribution, mean_exit_time
    from .validation import domain_predicate

    landscape = build_landscape(case)
    grid = build_grid(case)
    model = build_model(case, landscape)
    spec = case.table("exit")
    if "domain" not in spec:
        raise case.error("exit", "domain", "missing (an expression in x, y such as \"x < 0\")")
    boundary = case.tables.get("boundary", {}).get("kind", "reflecting")
    domain = domain_predicate(case, spec["domain"], grid.ndim)
    result = CaseResult()
    try:
        tau = mean_exit_time(model, grid, domain, boundary=boundary, moments=int(spec.get("moments", 2)))
        q = None
        if "a" in spec and "b" in spec:
            q = committor(model, grid, a=domain_predicate(case, spec["a"], grid.ndim),
                          b=domain_predicate(case, spec["b"], grid.ndim), boundary=boundary)
        law = None
        if "start" in spec:
            law = exit_time_distribution(model, grid, domain, tuple(spec["start"]), boundary=boundary)
    except ValueError as error:
        raise CaseError(f"{case.path}: {error}") from error
    result.arrays.update(tau=tau.values, **{f"center_{a}": c for a, c in zip(grid.axis_names, grid.centers)})
    if q is not None:
        result.arrays["committor"] = q.values
    result.numbers["max_mean_exit_time"] = float(np.max(tau.values))
    if law is not None:
        start = tuple(float(c) for c in spec["start"])
        result.numbers.update(
            start=start, mean_exit_time=tau(*start), exit_time_std=float(np.sqrt(max(tau.variance.ravel()[
                np.ravel_multi_index(grid.cell_index(*start), grid.shape)], 0.0))) if len(tau.moments) > 1 else None,
            median_exit_time=float(law.quantile(0.5)), law_mean=law.mean,
        )
        result.arrays.update(law_t=law.t, law_survival=law.S)
        line = f"mean exit time from {start}: {tau(*start):.6g} (median {law.quantile(0.5):.4g})"
        if q is not None:
            result.numbers["committor_at_start"] = q(*start)
            line += f"; committor there {q(*start):.4f}"
        result.summary.append(line)
    if grid.ndim == 2:
        result.figures["exit_time_and_committor"] = plots.exit_time_and_committor(
            grid, tau.values, None if q is None else q.values, landscape)
    else:
        result.figures["exit_time"] = plots.exit_time_1d(grid, tau, law, landscape)
    return result
