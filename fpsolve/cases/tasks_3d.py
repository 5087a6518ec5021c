"""The three-parameter case: SGD's exit times from a sharp and a flat minimum and its basin
occupancy against the batch size, on a 3-D landscape under Hessian gradient noise.

Task ``sharp_flat_3d`` (cases/exit_time_3d.toml, tables in fpsolve.cases.schema_3d). For each
batch size B of ``[sweep] batch_size`` (one :func:`fpsolve.sweep` point each, resumable):

* ``exit_time_sharp``: the mean first time to leave ``[exit] domain`` from ``[exit] start``;
* ``exit_time_flat``: the same for ``[exit] flat_domain`` from ``[exit] flat_start``;
* ``occupancy_sharp``, ``occupancy_flat``: the stationary mass in the steepest-descent basins of
  the two minima (:func:`fpsolve.basin_occupancy` of :meth:`FokkerPlanck.stationary`).

Times are continuous times t (iterations = t / lr). At the reference batch size ``[model]
batch_size`` the stationary density is kept for the slice figure, and the four numbers get
discretization-error estimates (the grid coarsened by 2 and 4, :func:`fpsolve.with_error`).
"""

from __future__ import annotations

import functools

import numpy as np

from ..analysis import basin_occupancy, basins as find_basins, mean_exit_time
from ..dynamics import SGD
from ..noise import HESSIAN_FLOOR
from ..problem import FokkerPlanck
from ..studies.sweep import sweep
from .analysis_tasks import estimate_table
from .config import (
    Case,
    CaseError,
    build_boundary,
    build_grid,
    build_landscape,
    build_model,
    case_key,
    domain_predicate,
    model_parameters,
)
from .output import CaseResult
from .reduction_3d import reduction_refusal, transverse_reduction
from .plots_3d import exit_time_and_occupancy_vs_batch_size, slices_and_marginals

__all__ = ["sharp_flat_3d_task", "minima_point", "NAMES"]

#: The two minima, in the order of the numbers' names
NAMES = ("sharp", "flat")
COLUMNS = [f"exit_time_{n}" for n in NAMES] + [f"occupancy_{n}" for n in NAMES]


def minima_point(
    landscape, grid, *, lr, noise_scale, hessian_floor, batch_size, boundary, domains, starts, basins, laws=None
) -> dict:
    """Exit time from each minimum and stationary occupancy of each basin at one batch size.

    ``domains`` and ``starts`` list the exit domain (a predicate) and the start point of the sharp
    and the flat minimum; ``basins`` is the steepest-descent partition whose basins contain the two
    starts. Returns a dict with ``exit_time_sharp``, ``exit_time_flat`` (continuous time),
    ``exit_iterations_*`` (= exit_time / lr), ``occupancy_sharp``, ``occupancy_flat``. When
    ``laws`` is a dict, the stationary density is stored in it under ``batch_size``.
    """
    model = SGD(
        landscape, lr=lr, batch_size=batch_size, noise="hessian", noise_scale=noise_scale, hessian_floor=hessian_floor
    )
    fpe = FokkerPlanck(model, grid, boundary=boundary)
    row = {}
    for name, domain, start in zip(NAMES, domains, starts):
        tau = float(mean_exit_time(fpe, domain=domain)(*start))
        row[f"exit_time_{name}"] = tau
        row[f"exit_iterations_{name}"] = tau / lr
    p = fpe.stationary()
    fractions = basin_occupancy(p, basins).fractions[0]
    for name, start in zip(NAMES, starts):
        row[f"occupancy_{name}"] = float(fractions[basins.labels[grid.cell_index(*start)]])
    if laws is not None:
        laws[float(batch_size)] = p
    return row


def sharp_flat_3d_task(case: Case, progress: bool = False, scratch=None) -> CaseResult:
    """Exit times from the sharp and the flat minimum and the stationary basin occupancy against
    the batch size; slices and marginals of the stationary density at the reference batch size."""
    landscape, grid, boundary, reference, floor = _problem_of(case)
    exits = case.table("exit")
    domains = [domain_predicate(case, exits[key], 3, key=key, grid=grid) for key in ("domain", "flat_domain")]
    starts = [_point(case, exits[key], key, grid) for key in ("start", "flat_start")]
    basins = _basins_of(case, grid, landscape, starts)
    laws = {}
    point = functools.partial(
        minima_point,
        landscape,
        grid,
        lr=reference.lr,
        noise_scale=reference.noise_scale,
        hessian_floor=floor,
        boundary=boundary,
        domains=domains,
        starts=starts,
        basins=basins,
        laws=laws,
    )
    b_ref = float(reference.batch_size)
    try:
        sizes = [float(b) for b in case.table("sweep")["batch_size"]]
        table = sweep(
            point,
            results=None if scratch is None else scratch / "sweep",
            progress=progress,
            key=case_key(case),
            batch_size=sizes,
        )
        if b_ref not in laws:  # not swept, or resumed from a saved row
            laws[b_ref] = FokkerPlanck(reference, grid, boundary=boundary).stationary()
    except ValueError as error:
        raise CaseError(f"{case.path}: {error}") from error
    rows = sorted(table.rows, key=lambda r: r["batch_size"])
    columns = {key: np.array([r[key] for r in rows], dtype=float) for key in ["batch_size"] + COLUMNS}
    result = CaseResult()
    result.numbers.update(
        lr=reference.lr,
        reference_batch_size=b_ref,
        starts=starts,
        minima=basins.minima,
        sharpness=basins.sharpness,
        table=rows,
    )
    refusal = reduction_refusal(landscape, grid.bounds, starts)
    reduction = None if refusal else _reduction(landscape, reference, floor, grid, domains[0], starts, columns)
    if reduction is None:
        result.summary.append(f"no 1-D reduction: {refusal}")
    else:
        result.numbers.update(
            exit_plane=reduction.pop("plane"),
            transverse_reduction=reduction,
            relative_difference_to_reduction={key: columns[key] / reduction[key] - 1.0 for key in COLUMNS[:2]},
        )
    result.arrays.update(
        columns, stationary=laws[b_ref], **{f"center_{a}": c for a, c in zip(grid.axis_names, grid.centers)}
    )
    result.summary.extend(_summary_table(columns, reduction))
    if case.table("sweep").get("error_estimate", True):
        _add_error_estimates(result, reference, grid, boundary, columns, domains, starts, landscape, floor)
    title = _title(case, landscape, reference, floor)
    result.figures["slices"] = slices_and_marginals(grid, laws[b_ref], starts, NAMES, title, b_ref)
    result.figures["exit_time_and_occupancy_vs_batch_size"] = exit_time_and_occupancy_vs_batch_size(
        columns, NAMES, title, lr=reference.lr, reduction=reduction
    )
    return result


def _problem_of(case: Case) -> tuple:
    """(landscape, grid, boundary, reference model, Hessian floor) of the case, checked: a 3-D
    grid and Hessian noise."""
    landscape = build_landscape(case)
    grid = build_grid(case)
    if grid.ndim != 3:
        raise case.error("grid", "bounds", f"the sharp_flat_3d task is three-dimensional; got {grid.ndim} axes")
    reference = build_model(case, landscape)  # checks [model] like any case's model
    spec = model_parameters(case)
    if spec.get("noise", "isotropic") != "hessian":
        raise case.error(
            "model",
            "noise",
            f'the sharp_flat_3d task studies Hessian noise: set noise = "hessian" (got {spec.get("noise")!r})',
        )
    return landscape, grid, build_boundary(case, grid), reference, float(spec.get("hessian_floor", HESSIAN_FLOOR))


def _reduction(landscape, model, floor, grid, domain, starts, columns) -> dict:
    """The numbers of the transverse-averaged 1-D reduction at each swept B, named like the
    columns, and the exit plane (found on the segment between the starts)."""
    plane = _exit_plane(domain, starts)
    reduced = [
        transverse_reduction(
            landscape,
            lr=model.lr,
            batch_size=b,
            noise_scale=model.noise_scale,
            floor=floor,
            x_bounds=grid.bounds[0],
            plane=plane,
            starts=(starts[0][0], starts[1][0]),
        )
        for b in columns["batch_size"]
    ]
    return {
        "exit_time_sharp": np.array([r.exit_time_low for r in reduced]),
        "exit_time_flat": np.array([r.exit_time_high for r in reduced]),
        "occupancy_sharp": np.array([r.occupancy_low for r in reduced]),
        "occupancy_flat": np.array([r.occupancy_high for r in reduced]),
        "plane": plane,
    }


def _add_error_estimates(result, model, grid, boundary, columns, domains, starts, landscape, floor) -> None:
    """Discretization-error estimates of the four numbers at the reference batch size (the grid
    coarsened by 2 and 4); a refused estimate is reported, not raised."""
    b_ref = float(model.batch_size)
    sizes = columns["batch_size"].tolist()
    estimates, line = estimate_table(
        COLUMNS,
        functools.partial(_numbers_on, domains=domains, starts=starts, landscape=landscape, floor=floor),
        FokkerPlanck(model, grid, boundary=boundary),
        fine=[float(columns[key][sizes.index(b_ref)]) for key in COLUMNS] if b_ref in sizes else None,
    )
    result.numbers["error_estimates"] = {f"B = {b_ref:g}": estimates}
    result.summary.append(f"B = {b_ref:g}: {line}")


def _title(case: Case, landscape, model, floor: float) -> str:
    """The case's title with the landscape, the model's parameters and the grid."""
    cells = " x ".join(str(n) for n in build_grid(case).cells)
    return (
        f"{case.title}\nU = {landscape.name}\nSGD, lr = {model.lr:g}, noise_scale = {model.noise_scale:g}, "
        f"Hessian noise floored at {floor:g}; {cells} cells"
    )


def _numbers_on(problem, *, domains, starts, landscape, floor) -> list:
    """The four numbers of a sweep point on ``problem`` (any grid): for the error estimates."""
    row = minima_point(
        landscape,
        problem.grid,
        lr=problem.model.lr,
        noise_scale=problem.model.noise_scale,
        hessian_floor=floor,
        batch_size=problem.model.batch_size,
        boundary=problem.boundary,
        domains=domains,
        starts=starts,
        basins=find_basins(problem.grid, landscape),
    )
    return [row[key] for key in COLUMNS]


def _point(case: Case, value, key: str, grid) -> tuple:
    """A start point of [exit]: three coordinates inside the grid's box."""
    point = tuple(float(c) for c in np.atleast_1d(value))
    inside = len(point) == grid.ndim and all(lo < c < hi for c, (lo, hi) in zip(point, grid.bounds))
    if not inside:
        raise case.error("exit", key, f"expected a point with {grid.ndim} coordinates inside the box {grid.bounds}")
    return point


def _basins_of(case: Case, grid, landscape, starts):
    """The steepest-descent basins; the two starts must lie in two different ones."""
    basins = find_basins(grid, landscape)
    labels = [int(basins.labels[grid.cell_index(*s)]) for s in starts]
    if labels[0] == labels[1]:
        raise case.error(
            "exit",
            "flat_start",
            f"start and flat_start lie in the same basin (of the minimum near {basins.minima[labels[0]]}); "
            "put flat_start in the other minimum's basin",
        )
    return basins


def _summary_table(columns: dict, reduction: dict | None) -> list:
    """Lines of a table: batch size, exit time from each minimum, stationary occupancy of the flat
    basin, each with the transverse-averaged 1-D reduction's value in brackets (NaN without it)."""
    if reduction is None:
        reduction = {key: np.full(len(columns["batch_size"]), np.nan) for key in COLUMNS}
    lines = [f"{'B':>6s} {'tau_sharp [1-D]':>22s} {'tau_flat [1-D]':>22s} {'P(flat) [1-D]':>17s}"]
    for i, b in enumerate(columns["batch_size"]):
        cells = [f"{columns[key][i]:10.5g} [{reduction[key][i]:9.5g}]" for key in ("exit_time_sharp", "exit_time_flat")]
        flat = f"{columns['occupancy_flat'][i]:7.4f} [{reduction['occupancy_flat'][i]:7.4f}]"
        lines.append(f"{b:6g} {cells[0]:>22s} {cells[1]:>22s} {flat:>17s}")
    return lines


def _exit_plane(domain, starts, steps: int = 60) -> float:
    """The x where ``domain`` ends on the segment from the first start (inside) to the second
    (outside), by bisection: the exit plane of the 1-D reduction."""
    a, b = np.asarray(starts[0], dtype=float), np.asarray(starts[1], dtype=float)
    low, high = 0.0, 1.0
    for _ in range(steps):
        mid = 0.5 * (low + high)
        point = a + mid * (b - a)
        if bool(np.asarray(domain(*(np.array([c]) for c in point)))[0]):
            low = mid
        else:
            high = mid
    return float(a[0] + 0.5 * (low + high) * (b[0] - a[0]))
