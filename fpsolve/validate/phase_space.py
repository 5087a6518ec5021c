"""Phase-space samples (theta, v) against a kinetic PDE density: the joint law and its marginals.

    report = fpsolve.validate.phase_space(samples, p, grid)     # samples (n, 2d), p on a (theta, v) grid
    report.parts["joint"], report.parts["theta"], report.parts["v"]   # one ValidationReport per law

A phase-space grid (:func:`fpsolve.phase_space_grid`) orders its axes theta_1 .. theta_d, v_1 .. v_d.
The joint law is tested by :func:`fpsolve.validate.densities` on the whole grid; the theta-marginal
(the density summed over the velocity axes times their cell widths) and the v-marginal likewise on
their own grids. Marginal tests see 1-D (or d-D) laws with many samples per bin, so they are the
sharper tests of a wrong temperature or a wrong spread; the joint test catches wrong correlations
(e.g. a phase-space current). The verdict combines the three by Bonferroni: each at alpha / 3,
p = min(1, 3 min p), so the whole report's false-alarm rate is at most alpha.
"""

from __future__ import annotations

import numpy as np

from ..grid import Grid
from .checks import densities
from .report import ValidationReport, check_alpha, fmt

__all__ = ["phase_space", "marginal_density"]

#: The laws tested, in this order.
LAWS = ("joint", "theta", "v")


def _phase_space_grid(grid):
    ndim = int(getattr(grid, "ndim", 0))
    if ndim < 2 or ndim % 2:
        raise ValueError(
            f"grid: a phase-space grid has 2 x dim(theta) axes (theta first, then v, as made by "
            f"fpsolve.phase_space_grid); this grid has {ndim} axis(es)"
        )
    return ndim // 2


def marginal_density(density, grid, axes) -> tuple:
    """``(marginal, sub_grid)``: the density of the coordinates ``axes`` (the others integrated out,
    sum times cell widths), normalised as the joint one (same total mass), on the grid of those axes."""
    density = np.asarray(density, dtype=float)
    axes = tuple(int(a) for a in axes)
    others = tuple(a for a in range(grid.ndim) if a not in axes)
    widths = [(grid.bounds[a][1] - grid.bounds[a][0]) / grid.shape[a] for a in others]
    marginal = density.sum(axis=others) * float(np.prod(widths)) if others else density
    periodic = getattr(grid, "periodic", False)
    periodic = [bool(periodic)] * grid.ndim if isinstance(periodic, (bool, np.bool_)) else list(periodic)
    names = getattr(grid, "axis_names", None)
    sub = Grid(
        [grid.bounds[a] for a in axes],
        [grid.shape[a] for a in axes],
        periodic=[periodic[a] for a in axes],
        axis_names=None if names is None else [names[a] for a in axes],
    )
    return marginal, sub


def _points(samples, ndim):
    x = np.asarray(getattr(samples, "x", samples), dtype=float)
    if x.ndim == 3:  # fpsolve.montecarlo.Samples: (m, n, 2d); one time only
        if x.shape[0] != 1:
            raise ValueError(f"samples: a Samples object with {x.shape[0]} times; pass one time slice, samples.x[i]")
        x = x[0]
    if x.ndim != 2 or x.shape[1] != ndim:
        raise ValueError(
            f"samples: expected phase-space points of shape (n, {ndim}) (theta then v) for "
            f"this grid, got shape {x.shape}"
        )
    return x


def phase_space(samples, density, grid, *, alpha=0.01, bins=None) -> ValidationReport:
    """Test phase-space samples against a kinetic PDE density: joint law, theta- and v-marginals.

    Parameters
    ----------
    samples : (n, 2d) array, or a :class:`fpsolve.montecarlo.Samples` at one time
        Points (theta_1 .. theta_d, v_1 .. v_d), e.g. ``sim.sample(...).x[i]`` or the heavy-ball
        iterates' ``Iterates.phase_space(i)``.
    density : array of grid.shape
        The PDE density, ``p.sum() * grid.cell_volume == 1`` (less if mass was absorbed).
    grid : phase-space Grid
        Axes theta first, then v (:func:`fpsolve.phase_space_grid`).
    alpha : float
        Level of the combined verdict; each of the three laws is tested at alpha / 3.
    bins : None or int
        Passed to each :func:`densities` test (None: equal-mass bins, about 2 n^(2/5) of them).

    Returns
    -------
    ValidationReport
        ``check == "phase_space"``; ``parts`` maps ``"joint"``, ``"theta"``, ``"v"`` to each law's
        report; ``details["laws"]`` holds their dicts.
    """
    alpha = check_alpha(alpha)
    d = _phase_space_grid(grid)
    x = _points(samples, 2 * d)
    level = alpha / len(LAWS)
    theta_axes, v_axes = tuple(range(d)), tuple(range(d, 2 * d))
    parts = {"joint": densities(x, density, grid=grid, bins=bins, alpha=level)}
    for name, axes in (("theta", theta_axes), ("v", v_axes)):
        marginal, sub = marginal_density(density, grid, axes)
        parts[name] = densities(x[:, list(axes)], marginal, grid=sub, bins=bins, alpha=level)
    p_value = min(1.0, len(LAWS) * min(r.p_value for r in parts.values()))
    worst = min(parts, key=lambda k: parts[k].p_value)
    passed = p_value > alpha
    laws = "; ".join(
        f"{k}: p = {fmt(r.p_value, 2)}, TV = {fmt(r.details['total_variation'], 3)}" for k, r in parts.items()
    )
    message = f"phase-space law (n = {x.shape[0]}): {laws}; Bonferroni p = {fmt(p_value, 2)} at α = {alpha:g}" + (
        "" if passed else f"; the {worst} law is off: {parts[worst].message}"
    )
    details = {
        "laws": {k: r.to_dict() for k, r in parts.items()},
        "worst": worst,
        "n": int(x.shape[0]),
        "dim_theta": d,
        "combination": "Bonferroni over the joint, theta and v laws",
    }
    return ValidationReport(
        "phase_space",
        bool(passed),
        float(p_value),
        float(parts[worst].statistic),
        alpha,
        details,
        message,
        {"axis_names": tuple(getattr(grid, "axis_names", ())) or None},
        parts=parts,
    )
