"""Analysis tasks of case files: the batch-size sweep (exit times, occupancy, spectral gap vs B)
and the exit-time field with its committor over a 2-D landscape."""

from __future__ import annotations

import numpy as np

from ..analysis import basins as find_basins
from ..analysis.studies import batch_size_study, exit_time_map, log_tau_slope, occupancy_over_time
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
    for noise, columns in per_noise.items():
        b = columns["batch_size"]
        result.summary.append(
            f"{noise}: exit time from the flat basin {columns[f'exit_time_{flat}'][0]:.3g} (B = {b[0]:g}) .. "
            f"{columns[f'exit_time_{flat}'][-1]:.3g} (B = {b[-1]:g}); stationary flat occupancy "
            f"{columns[f'occupancy_{flat}'][0]:.3f} .. {columns[f'occupancy_{flat}'][-1]:.3f}"
        )
    return result


def exit_time_task(case: Case, progress: bool = False, scratch=None) -> CaseResult:
    """The mean exit-time field from [exit] domain and the committor between [exit] a and b."""
    from .validation import domain_predicate

    landscape = build_landscape(case)
    grid = build_grid(case)
    model = build_model(case, landscape)
    spec = case.table("exit")
    for key in ("domain", "a", "b"):
        if key not in spec:
            raise case.error("exit", key, "missing (an expression in x, y such as \"x < 0\")")
    preds = {key: domain_predicate(case, spec[key], grid.ndim) for key in ("domain", "a", "b")}
    try:
        fields = exit_time_map(model, grid, domain=preds["domain"], a=preds["a"], b=preds["b"],
                               moments=int(spec.get("moments", 2)))
    except ValueError as error:
        raise CaseError(f"{case.path}: {error}") from error
    tau, q = fields["tau"], fields["committor"]
    result = CaseResult()
    result.arrays.update(tau=tau.values, committor=q.values, **{f"center_{a}": c for a, c in zip(grid.axis_names, grid.centers)})
    if "start" in spec:
        start = tuple(float(c) for c in spec["start"])
        second = tau.moment(2) if len(tau.moments) > 1 else None
        result.numbers.update(start=start, mean_exit_time=tau(*start), committor_at_start=q(*start))
        if second is not None:
            result.numbers["exit_time_std"] = float(np.sqrt(max(second(*start) - tau(*start) ** 2, 0.0)))
        result.summary.append(f"mean exit time from {start}: {tau(*start):.6g}; committor there {q(*start):.4f}")
    result.numbers["max_mean_exit_time"] = float(np.max(tau.values))
    result.figures["exit_time_and_committor"] = plots.exit_time_and_committor(grid, tau.values, q.values, landscape)
    return result
