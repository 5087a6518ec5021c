"""What a case computes: each task takes a parsed Case and returns a CaseResult.

* ``evolve``: density evolution from an initial density, the stationary law and relaxation rates.
* ``batch_sizes``: where mass settles among the basins as the batch size changes (SGD models).
* ``batch_size_sweep``: exit times, stationary occupancy and spectral gap against the batch size.
* ``exit_time``: the mean exit-time field from a domain and the committor between two sets.
* ``momentum_exit``: momentum SGD's exit time against momentum and batch size, Kramers' turnover
  and the discrete heavy-ball algorithm (fpsolve.cases.momentum_exit).
* ``kunin_phase_space``: Kunin et al.'s phase-space results for heavy-ball SGD (fpsolve.cases.kunin).
* ``levy_escape``, ``sgd_vs_adam``: Lévy-flight exit times against the noise scale and the well's
  shape; LevySGD against LevyAdam (fpsolve.cases.levy_escape, fpsolve.cases.levy_sgd_adam).
* ``sharp_flat_3d``: exit times from a sharp and a flat minimum and basin occupancy against the
  batch size on a 3-D landscape under Hessian noise (fpsolve.cases.tasks_3d).
* ``locally_elastic``, ``resnet_depth_limit``: the two paper models of fpsolve.papers
  (fpsolve.cases.papers_tasks).

Every task adds discretization-error estimates of its main numbers (:func:`fpsolve.with_error`:
the grid coarsened by 2 and 4) to ``numbers["error_estimates"]`` and the summary.

The registry ``TASKS`` maps a case file's ``task`` key to its function; what each task reads
from the case file is declared in fpsolve.cases.schema.TASK_TABLES (this module sits above the
parsing layer: it imports fpsolve.cases.config, never the other way round).
"""

from __future__ import annotations

import time

import numpy as np

from . import plots
from .analysis_tasks import batch_size_sweep_task, estimate_numbers, estimate_table, exit_time_task, figure_title
from .config import Case, build_grid, build_initial, build_landscape, build_model, build_problem
from .kunin import kunin_task
from .levy_escape import levy_escape_task
from .levy_sgd_adam import sgd_vs_adam_task
from .momentum_exit import momentum_exit_task
from .output import CaseResult
from .papers_tasks import PAPER_TASKS
from .tasks_3d import sharp_flat_3d_task

__all__ = ["TASKS", "evolve_task", "batch_sizes_task"]


def _times(case: Case, table: str) -> tuple:
    spec = case.table(table)
    times = np.asarray(spec["times"], dtype=float)
    if times.ndim != 1 or times.size < 2 or np.any(np.diff(times) <= 0):
        raise case.error(table, "times", "expected an increasing list of at least two times")
    method = spec.get("method", "auto")
    return times, method


def evolve_task(case: Case, progress: bool = False, scratch=None) -> CaseResult:
    """Evolve the initial density, then compute the stationary law and relaxation rates."""
    fpe = build_problem(case)
    grid = fpe.grid
    times, method = _times(case, "evolve")
    p0 = build_initial(case, grid)
    begin = time.perf_counter()
    sol = fpe.evolve(p0, times, method=method, progress=progress)
    t_evolve = time.perf_counter() - begin
    result = CaseResult()
    means = [[float(grid.integrate(p * x)) for x in grid.mesh()] for p in sol.p]
    result.numbers.update(
        times=times,
        mass=sol.mass,
        mean=means,
        seconds_evolve=t_evolve,
        method=method,
        mass_error=float(np.abs(sol.mass - 1).max()),
    )
    result.arrays.update(t=times, p=sol.p, **{f"center_{a}": c for a, c in zip(grid.axis_names, grid.centers)})
    result.summary.append(
        f"evolved to t = {times[-1]:g} with {method} in {t_evolve:.3f} s; mass error {result.numbers['mass_error']:.2e}"
    )
    k = case.table("relaxation", required=False).get("k", 3)
    if fpe.absorbing is None and "absorbing" not in str(fpe.boundary):
        begin = time.perf_counter()
        p_inf = fpe.stationary()
        rates = fpe.relaxation_rates(k)
        result.numbers.update(
            relaxation_rates=rates,
            seconds_stationary=time.perf_counter() - begin,
            distance_to_stationary=[float(grid.integrate(np.abs(p - p_inf))) for p in sol.p],
        )
        result.arrays["stationary"] = p_inf
        result.summary.append(
            "relaxation rates "
            + ", ".join(f"{r:.4g}" for r in rates)
            + f"; L1 distance to stationary at the end {result.numbers['distance_to_stationary'][-1]:.3g}"
        )
        estimate_numbers(
            result,
            [f"relaxation_rate_{i + 1}" for i in range(len(rates))],
            lambda problem: problem.relaxation_rates(k),
            fpe,
            fine=rates,
        )
    result.figures["density"] = plots.densities(sol, result.arrays.get("stationary"), fpe.model.landscape, case.title)
    return result


def batch_sizes_task(case: Case, progress: bool = False, scratch=None) -> CaseResult:
    """For each batch size in [sweep] batch_size: evolve, then the basin occupancy over time and
    at stationarity (basins by steepest descent, see fpsolve.analysis.basins), the stationary
    occupancy with its discretization-error estimate."""
    from ..analysis import basin_occupancy, basins as find_basins

    landscape = build_landscape(case)
    grid = build_grid(case)
    sizes = [float(b) for b in case.table("sweep")["batch_size"]]
    times, method = _times(case, "evolve")
    labels = find_basins(grid, landscape)
    result = CaseResult()
    occupancy, stationary, rates, estimates = [], [], [], {}
    for size in sizes:
        fpe = build_problem(case, build_model(case, landscape, {"batch_size": size}), landscape, grid)
        sol = fpe.evolve(build_initial(case, grid), times, method=method, progress=progress)
        occupancy.append(_occupancy(sol.p, labels.labels, grid))
        p_inf = fpe.stationary()
        stationary.append(p_inf)
        try:
            rates.append(fpe.relaxation_rates(1)[0])
        except ValueError as error:  # a gap below round-off: say so rather than fail the case
            rates.append(float("nan"))
            result.summary.append(f"B = {size:g}: spectral gap not resolved ({error})")
        result.summary.append(
            f"B = {size:g}: stationary occupancy "
            + ", ".join(f"{f:.3f}" for f in _occupancy(p_inf[None], labels.labels, grid)[0])
            + f"; spectral gap {rates[-1]:.4g}"
        )
        table, line = estimate_table(
            [f"stationary_occupancy_{i}" for i in range(labels.n)],
            lambda problem: basin_occupancy(problem.stationary(), landscape, grid=problem.grid).fractions[0],
            fpe,
            fine=_occupancy(p_inf[None], labels.labels, grid)[0],
        )
        estimates[f"{size:g}"] = table
        result.summary.append(f"B = {size:g}: {line}")
    occupancy = np.array(occupancy)
    final = np.array([_occupancy(p[None], labels.labels, grid)[0] for p in stationary])
    result.numbers.update(
        batch_sizes=sizes,
        times=times,
        minima=labels.minima,
        sharpness=labels.sharpness,
        occupancy=occupancy,
        stationary_occupancy=final,
        spectral_gap=rates,
        error_estimates={"by_batch_size": estimates},
    )
    result.arrays.update(
        t=times, batch_sizes=np.array(sizes), occupancy=occupancy, stationary=np.array(stationary), labels=labels.labels
    )
    result.figures["occupancy"] = plots.occupancy(times, occupancy, sizes, labels, figure_title(case))
    result.figures["stationary"] = plots.stationary_panels(grid, stationary, sizes, landscape, figure_title(case))
    return result


def _occupancy(p: np.ndarray, labels: np.ndarray, grid) -> np.ndarray:
    """Mass in each basin, shape (len(p), n_basins)."""
    n = int(labels.max()) + 1
    flat = p.reshape(len(p), -1) * grid.cell_volume
    return np.stack([np.bincount(labels.ravel(), weights=row, minlength=n) for row in flat])


TASKS = {
    "evolve": evolve_task,
    "batch_sizes": batch_sizes_task,
    "batch_size_sweep": batch_size_sweep_task,
    "exit_time": exit_time_task,
    "momentum_exit": momentum_exit_task,
    "kunin_phase_space": kunin_task,
    "levy_escape": levy_escape_task,  # docs/levy.md
    "sgd_vs_adam": sgd_vs_adam_task,
    **PAPER_TASKS,  # locally_elastic, resnet_depth_limit (docs/papers.md)
    "sharp_flat_3d": sharp_flat_3d_task,  # cases/exit_time_3d.toml (docs/scale.md)
}
