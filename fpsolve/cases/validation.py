"""``fpsolve validate CASE --samples FILE.npz``: a simulator's output against the case's PDE.

The samples file (docs/validate_format.md) carries either samples at given times, started from
the case's initial density at t = 0, or first exit times from the case's domain, started at the
case's ``[exit] start``. Densities at several times are tested together: each time at level
alpha/m (Bonferroni), so the false-alarm rate of the whole verdict is at most alpha.

For a model with alpha-stable jumps (levy_langevin, levy_sgd, levy_adam) the domain's whole
exterior is absorbing (the box's faces included, DESIGN.md section 1), and a file that also
carries ``exit_locations`` has its landing points tested against the PDE's landing law
(:func:`fpsolve.exit_locations` on the case's box widened by its own width on each side, so
that the law is resolved in cells out there), each of the two tests at level alpha/2.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from ..momentum import is_kinetic
from ..validate import ValidationReport, densities, exit_times, load_samples, phase_space
from .catalog import resolve_case
from .config import CaseError, build_initial, build_problem, domain_predicate, load_case
from .output import CaseResult, write_results

__all__ = ["validate_case", "domain_predicate"]


def validate_case(case_name, samples_path, *, alpha: float = 0.01, out=None) -> ValidationReport:
    """Validate the samples file ``samples_path`` against the case ``case_name`` (a path or a
    built-in name); write the report and its figure to ``out`` when given."""
    case = load_case(resolve_case(case_name))
    try:
        data = load_samples(samples_path)
    except (ValueError, OSError) as error:
        raise CaseError(f"{samples_path}: {error}") from error
    if str(data.metadata.get("case")) != case.name:
        raise CaseError(
            f"{samples_path}: metadata case is {data.metadata.get('case')!r}, but the samples are "
            f"validated against case {case.name!r}"
        )
    if data.exit_times is not None:
        report = _exit_times(case, data, alpha)
    elif data.samples is not None:
        report = _densities(case, data, alpha)
    else:
        raise CaseError(f"{samples_path}: holds neither samples nor exit times")
    if out is not None:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        report.plot(ax)
        result = CaseResult(numbers=report.to_dict(), figures={"validation": fig})
        write_results(Path(out), result, {"case": case.name, "samples": str(samples_path), "simulator": data.metadata})
    return report


def _densities(case, data, alpha: float) -> ValidationReport:
    fpe = build_problem(case)
    grid, model = fpe.grid, fpe.model
    times = np.atleast_1d(np.asarray(data.times, dtype=float))
    if times.min() < 0:
        raise CaseError("samples file: times must be non-negative (t = 0 is the case's initial density)")
    samples = np.asarray(data.samples)
    if samples.shape[0] != times.size:
        raise CaseError(f"samples file: samples has {samples.shape[0]} time slices but times has {times.size}")
    grid_times = np.unique(np.concatenate([[0.0], times]))
    sol = fpe.evolve(build_initial(case, grid), grid_times)  # "auto": exact in time where it can be
    level = alpha / times.size
    # phase-space samples: the joint law and the theta- and v-marginals (each at level / 3)
    check = phase_space if is_kinetic(model) else densities
    # a second-order scheme that is not a Markov chain undershoots slightly where the density is
    # negligible (evolve warns above 1e-3 of the peak): the reference is its non-negative part
    reference = sol if fpe.scheme.markov else (lambda t: _non_negative_part(sol(t)))
    reports = [check(samples[i], reference(t), grid=grid, alpha=level) for i, t in enumerate(times)]
    worst = min(reports, key=lambda r: r.p_value)
    p_value = min(1.0, worst.p_value * times.size)
    passed = all(r.passed for r in reports)
    message = (
        f"densities at {times.size} time(s), each at level {level:.3g} (Bonferroni); "
        f"worst at t = {times[reports.index(worst)]:g}: {worst.message}"
    )
    return ValidationReport(
        "densities",
        passed,
        p_value,
        worst.statistic,
        alpha,
        {"per_time": [dict(t=float(t), **r.to_dict()) for t, r in zip(times, reports)]},
        message,
        worst.plot_data,
    )


def _exit_times(case, data, alpha: float) -> ValidationReport:
    from ..analysis import exit_time_distribution, with_error

    spec = case.table("exit")
    if "start" not in spec:
        raise case.error("exit", "start", "missing: an exit-time validation starts the law at [exit] start")
    fpe = build_problem(case)
    domain = domain_predicate(case, spec["domain"], fpe.grid.ndim, grid=fpe.grid)
    start = tuple(np.atleast_1d(spec["start"]))
    law = exit_time_distribution(fpe, domain=domain, start=start)
    try:
        # the PDE mean's own discretization error (Richardson on grids coarsened by 2 and 4)
        # widens the agreement interval of the mean test when it is not negligible
        error = with_error(
            exit_time_distribution, fpe, domain=domain, start=start, value=lambda result: result.mean, fine=law
        ).error
    except ValueError:
        error = None  # not estimable (e.g. a grid too small to coarsen): the plain comparison
    jumps = getattr(fpe.model, "jumps", None) is not None and data.exit_locations is not None
    level = alpha / 2 if jumps else alpha
    times = exit_times(
        data.exit_times, law, censored=data.censored, time_limit=data.time_limit, alpha=level, reference_error=error
    )
    if not jumps:
        return times
    landing = _landing_points(case, fpe, domain, start, data, level)
    passed = times.passed and landing.passed
    p_value = min(1.0, 2 * min(times.p_value, landing.p_value))
    message = (
        f"exit times and landing points, each at level {level:.3g} (Bonferroni): "
        f"times: {times.message}; landing points: {landing.message}"
    )
    details = {**times.details, "landing_points": landing.to_dict()}
    return dataclasses.replace(
        times,
        passed=passed,
        p_value=p_value,
        alpha=alpha,
        details=details,
        message=message,
        parts={"exit_times": times, "exit_locations": landing},
    )


#: The PDE's landing law is solved on the case's box widened by this many box widths on each side
#: of every axis (same cell size); landings beyond form the outside bin of the test.
LANDING_MARGIN = 1


def _landing_points(case, fpe, domain, start, data, alpha: float):
    """Where the paths' exit jumps landed, against the PDE's landing law on a widened box."""
    from ..analysis import exit_locations
    from ..grid import Grid
    from ..validate import exit_locations as check_landings

    grid = fpe.grid
    if any(grid.periodic):
        raise CaseError(f"{case.path}: [grid] periodic: exit positions of jumps need a non-periodic box")
    bounds = [(lo - LANDING_MARGIN * (hi - lo), hi + LANDING_MARGIN * (hi - lo)) for lo, hi in grid.bounds]
    wide = Grid(bounds, [(2 * LANDING_MARGIN + 1) * n for n in grid.shape])
    box = grid.bounds

    def inside(*x):  # the case's domain within the case's box: beyond the box is exterior too
        keep = np.asarray(domain(*x), dtype=bool)
        for xi, (lo, hi) in zip(x, box):
            keep = keep & (xi > lo) & (xi < hi)
        return keep

    reference = exit_locations(fpe.model, wide, domain=inside, start=start)
    locations = np.asarray(data.exit_locations, dtype=float)
    if data.censored is not None:
        locations = locations[~np.asarray(data.censored, dtype=bool)]
    return check_landings(locations, reference, alpha=alpha)


def _non_negative_part(p: np.ndarray) -> np.ndarray:
    """p with its negative undershoot set to zero, rescaled to p's own total mass."""
    clipped = np.maximum(p, 0.0)
    return clipped * (p.sum() / clipped.sum())
