"""The ``levy_escape`` task: exit times of Lévy flights from a well, against the noise scale and the
well's shape, next to the Imkeller-Pavlyukevich asymptotic and the Gaussian alpha = 2.

dX = -U'(X) dt + eps dL^alpha (``LevyLangevin``) from [exit] start in the well that is the [grid]
box (every point outside it is exterior, DESIGN.md section 1). Three tables:

* [sweep]: tau against eps for each alpha < 2, with Imkeller-Pavlyukevich
  tau_IP = alpha / (C_alpha eps^alpha (a^-alpha + b^-alpha)), a and b the distances from the
  minimum to the box faces (fpsolve.levy_theory): polynomial in 1/eps, tau / tau_IP -> 1 as eps -> 0.
* [gaussian]: alpha = 2 by the Gaussian model (Langevin at T = eps^2, the same generator
  eps^2 d^2/dx^2), against the 1-D double integral and Kramers: exponential in 1/eps^2.
* [geometry]: ``double_well(a = width, depth = depth)`` on the box [-3 width, 0], equal depth and
  different widths, then equal width and different depths, for one alpha < 2 and for alpha = 2:
  for alpha < 2 tau scales like width^alpha and hardly feels the depth; for alpha = 2 the depth
  enters as exp(depth / eps^2) and the width only through the prefactor.
* [landing] (optional): where the exit jump lands, a density over the well's exterior
  (fp.exit_locations, fpsolve.analysis.jump_exits), against one jump from the minimum.
"""

from __future__ import annotations

import numpy as np

from .. import levy_theory as theory
from ..analysis import exit_locations
from ..dynamics import Langevin
from ..grid import Grid
from ..landscapes import double_well
from ..levy import LevyLangevin
from . import levy_plots, momentum_theory
from .config import Case, CaseError, build_landscape
from .levy_common import exit_time_with_error, well_distances
from .output import CaseResult

__all__ = ["levy_escape_task"]


def levy_escape_task(case: Case, progress: bool = False, scratch=None) -> CaseResult:
    """Exit time against eps and alpha, alpha = 2 alongside, and the width/depth comparison."""
    landscape = build_landscape(case)
    if landscape.ndim != 1:
        raise case.error("landscape", "name", f"the levy_escape case is 1-D, got a {landscape.ndim}-D landscape")
    bounds, cells, start = _geometry(case)
    minimum = _minimum(landscape, start, bounds)
    distances = well_distances([minimum], bounds)[0]
    result = CaseResult()
    sweep = case.table("sweep")
    rows = []
    for alpha in (float(a) for a in sweep["alpha"]):
        if not 0 < alpha < 2:
            raise case.error(
                "sweep", "alpha", f"expected tail indices in (0, 2) ([gaussian] is alpha = 2), got {alpha}"
            )
        for scale in (float(s) for s in sweep["scale"]):
            solved = exit_time_with_error(case, LevyLangevin(landscape, alpha, scale), bounds, cells, start)
            asymptotic = theory.imkeller_pavlyukevich_exit_time(alpha, distances, scale)
            rows.append(
                dict(
                    alpha=alpha,
                    scale=scale,
                    **solved,
                    imkeller_pavlyukevich=asymptotic,
                    ratio=solved["tau"] / asymptotic,
                )
            )
    gaussian = [
        _gaussian_row(case, landscape, float(s), bounds, cells, start)
        for s in case.table("gaussian", required=False).get("scale", [])
    ]
    result.numbers.update(
        minimum=minimum,
        distances=distances,
        bounds=bounds,
        cells=cells,
        start=start,
        sweep=rows,
        gaussian=gaussian,
        rates=_fitted_exponents(rows),
    )
    result.summary.extend(_sweep_lines(rows, gaussian, result.numbers["rates"]))
    figure = levy_plots.escape_against_scale(rows, gaussian)
    result.figures["exit_time_vs_scale"] = figure
    if "landing" in case.tables:
        _landing(case, landscape, bounds, cells, start, minimum, distances, result)
    if "geometry" in case.tables:
        geometry = _geometry_rows(case, cells)
        result.numbers["geometry"] = geometry
        result.summary.extend(_geometry_lines(geometry))
        result.figures["width_not_depth"] = levy_plots.width_and_depth(geometry)
    return result


def _geometry(case: Case) -> tuple:
    grid, exit_spec = case.table("grid"), case.table("exit")
    bounds = [tuple(float(v) for v in b) for b in np.asarray(grid["bounds"], dtype=float).reshape(-1, 2)]
    cells = [int(c) for c in np.atleast_1d(grid["cells"])]
    start = tuple(float(s) for s in np.atleast_1d(exit_spec["start"]))
    if len(bounds) != 1 or len(cells) != 1 or len(start) != 1:
        raise case.error(
            "grid", "bounds", "the levy_escape case is 1-D: one [low, high] pair, one cell count, one start"
        )
    if not bounds[0][0] < start[0] < bounds[0][1]:
        raise case.error("exit", "start", f"the start {start[0]} is outside the box {list(bounds[0])}")
    return bounds, cells, start


def _minimum(landscape, start, bounds) -> float:
    """The minimum of U in the box nearest to the start."""
    inside = [m[0] for m in getattr(landscape, "minima", []) or [] if bounds[0][0] < m[0] < bounds[0][1]]
    if inside:
        return float(min(inside, key=lambda m: abs(m - start[0])))
    return momentum_theory.well_and_barrier(landscape, start[0], bounds[0][1])[0]


def _gaussian_row(case, landscape, scale, bounds, cells, start) -> dict:
    """alpha = 2: Langevin at T = eps^2 with both box faces absorbing; the double integral with a
    reflecting low wall differs from it by exp(-(U(low) - U(min)) / T) relative, negligible when the
    low face is far up the well (U(-3) = 64 on the double well)."""
    temperature = scale**2
    solved = exit_time_with_error(case, Langevin(landscape, temperature=temperature), bounds, cells, start)
    low, high = bounds[0]
    exact = momentum_theory.overdamped_exit_time(landscape, temperature, low, high, start[0])
    return dict(
        alpha=2.0,
        scale=scale,
        temperature=temperature,
        **solved,
        double_integral=exact,
        relative_error=solved["tau"] / exact - 1.0,
    )


def _fitted_exponents(rows) -> dict:
    """Least-squares slope of log tau against log eps over the resolved points of each alpha
    (Imkeller-Pavlyukevich: -alpha as eps -> 0; the smallest three scales)."""
    out = {}
    for alpha in sorted({r["alpha"] for r in rows}):
        mine = sorted((r for r in rows if r["alpha"] == alpha and r["resolved"]), key=lambda r: r["scale"])[:3]
        if len(mine) >= 2:
            slope = np.polyfit(np.log([r["scale"] for r in mine]), np.log([r["tau"] for r in mine]), 1)[0]
            out[f"{alpha:g}"] = float(slope)
    return out


def _landing(case, landscape, bounds, cells, start, minimum, distances, result) -> None:
    """Where the exit jump lands (fp.exit_locations on the jump model): the landing density outside
    the well for each eps of [landing], against the small-noise limit nu(y - m) / nu(outside)
    (one jump from the minimum m). Reported: the density over that limit at the other minimum's
    side y = high + 1 and below the well at y = low - 0.5."""
    spec = case.table("landing")
    alpha = float(spec["alpha"])
    (low, high), grid = bounds[0], Grid(bounds, cells)
    y = np.concatenate([np.linspace(low - 2.0, low - 0.02, 120), np.linspace(high + 0.02, high + 3.0, 180)])
    limit = (
        theory.stable_jump_constant(alpha)
        * np.abs(y - minimum) ** (-1 - alpha)
        / theory.exit_jump_measure(alpha, distances)
    )
    probes = np.array([high + 1.0, low - 0.5])
    probe_limit = (
        theory.stable_jump_constant(alpha)
        * np.abs(probes - minimum) ** (-1 - alpha)
        / theory.exit_jump_measure(alpha, distances)
    )
    curves, rows = [], []
    for scale in (float(v) for v in spec["scale"]):
        try:
            law = exit_locations(LevyLangevin(landscape, alpha, scale), grid, domain=None, start=start)
        except (ValueError, RuntimeError) as error:
            raise CaseError(f"{case.path}: [landing] scale = {scale:g}: {error}") from error
        curves.append((scale, y, law.density(y)))
        ratio = law.density(probes) / probe_limit
        rows.append(
            dict(
                scale=scale,
                total=law.total,
                over_limit_beyond_barrier=float(ratio[0]),
                over_limit_below_well=float(ratio[1]),
            )
        )
        result.summary.append(
            f"landing (alpha = {alpha:g}, eps = {scale:g}): density / one-jump limit = "
            f"{ratio[0]:.3f} at y = {probes[0]:g}, {ratio[1]:.3f} at y = {probes[1]:g}; "
            f"total probability {law.total:.6f}"
        )
    result.numbers["landing"] = rows
    result.arrays.update(landing_y=y, landing_density=np.array([c[2] for c in curves]), landing_limit=limit)
    result.figures["landing_density"] = levy_plots.landing_density(curves, y, limit, alpha)


def _geometry_rows(case, cells) -> list:
    """double_well(a = width, depth) on [-3 width, 0] from -width: equal depth, then equal width."""
    spec = case.table("geometry")
    alpha, scale, gaussian_scale = float(spec["alpha"]), float(spec["scale"]), float(spec["gaussian_scale"])
    shapes = [(float(w), 1.0) for w in spec["widths"]] + [(1.0, float(d)) for d in spec["depths"] if float(d) != 1.0]
    rows = []
    for width, depth in shapes:
        landscape = double_well(a=width, depth=depth)
        bounds, start = [(-3.0 * width, 0.0)], (-width,)
        levy = exit_time_with_error(case, LevyLangevin(landscape, alpha, scale), bounds, cells, start)
        gauss = exit_time_with_error(case, Langevin(landscape, temperature=gaussian_scale**2), bounds, cells, start)
        rows.append(
            dict(
                width=width,
                depth=depth,
                alpha=alpha,
                scale=scale,
                gaussian_scale=gaussian_scale,
                levy=levy,
                gaussian=gauss,
                imkeller_pavlyukevich=theory.imkeller_pavlyukevich_exit_time(alpha, (2 * width, width), scale),
                double_integral=momentum_theory.overdamped_exit_time(
                    landscape, gaussian_scale**2, bounds[0][0], 0.0, start[0]
                ),
            )
        )
    return rows


def _sweep_lines(rows, gaussian, rates) -> list:
    lines = [f"{'alpha':>5s} {'eps':>6s} {'tau (PDE)':>11s} {'grid error':>10s} {'tau_IP':>11s} {'tau/tau_IP':>10s}"]
    for r in rows:
        lines.append(
            f"{r['alpha']:5g} {r['scale']:6g} {r['tau']:11.5g} {abs(r['error']) / r['tau']:10.2%} "
            f"{r['imkeller_pavlyukevich']:11.5g} {r['ratio']:10.4f}"
            + ("" if r["resolved"] else "  UNRESOLVED (refine the grid)")
        )
    for alpha, slope in rates.items():
        lines.append(
            f"alpha = {alpha}: d log tau / d log eps = {slope:.3f} at the smallest scales "
            f"(Imkeller-Pavlyukevich: {-float(alpha):g})"
        )
    for r in gaussian:
        lines.append(
            f"alpha = 2 (Gaussian, T = eps^2 = {r['temperature']:g}): tau = {r['tau']:.6g}, "
            f"double integral {r['double_integral']:.6g} ({r['relative_error']:+.2e})"
        )
    return lines


def _geometry_lines(rows) -> list:
    base = next(r for r in rows if r["width"] == 1.0 and r["depth"] == 1.0)
    lines = []
    for r in rows:
        lines.append(
            f"width {r['width']:g}, depth {r['depth']:g}: alpha = {r['alpha']:g}: tau = {r['levy']['tau']:.5g} "
            f"(x {r['levy']['tau'] / base['levy']['tau']:.3g}; IP x {r['imkeller_pavlyukevich'] / base['imkeller_pavlyukevich']:.3g}); "
            f"alpha = 2: tau = {r['gaussian']['tau']:.5g} (x {r['gaussian']['tau'] / base['gaussian']['tau']:.3g})"
        )
    return lines
