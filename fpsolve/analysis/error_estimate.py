"""Discretization-error estimates on any result: the same analysis on grids coarsened by 2 and 4.

A finite-volume result v(h) on a grid of spacing h behaves as v(h) = v + C h^p + O(h^(p+1)), with
p = 2 for fpsolve's schemes (docs/numerics.md); where the O(h^2) term vanishes or is negligible
(finite-volume exit times on smooth landscapes, whose O(h^2) bulk term the curvature correction
removes) the sequence shows p = 4, which is accepted as asymptotic too (within ORDER_TOLERANCE). Solving again on the same box with spacings
h2 = r21 h1 and h3 = r32 h2 (r = 2 when the cells divide) gives the differences

    e21 = v2 - v1,    e32 = v3 - v2,

the observed order p_obs from e32 / e21 (exactly log2(e32 / e21) when r21 = r32 = 2; otherwise the
fixed point of Celik et al. 2008, J. Fluids Eng. 130, 078001, eq. 3), and, when p_obs is near the
scheme's order p (within ORDER_TOLERANCE), Roache's grid convergence index

    error = SAFETY |e21| / (r21^q - 1),    q = min(p_obs, p),   SAFETY = 1.25

(Roache 1998, Verification and Validation in Computational Science, ch. 5): the estimated
|v1 - v|, conservative by the safety factor in the asymptotic range. Outside it:

* p_obs >= MIN_ORDER = 0.75 but not near p, or an oscillating sequence whose steps do not grow
  (|e21| <= |e32|): "pre-asymptotic" (oscillation: e.g. a start within a cell or two of an exit,
  read between centres differently on each grid); when the errors e1, e2, e3 of the three grids
  have |e1| <= max(|e2|, |e3|), max(|e21|, |e32|) >= |e1|;
  the error is max(|e21|, |e32|) (at least the true error |e21| / (r^p_obs - 1) when
  r^p_obs >= 1.618, the golden ratio: p_obs >= 0.69 for r = 2), the estimate is flagged and warned about (refused with ``strict=True``);
* p_obs < MIN_ORDER, or oscillations that shrink less: "not converging"; refused (ValueError), since
  no estimate from three grids is trustworthy there;
* both differences at round-off (below ROUND_OFF times the largest |v1|): "converged", the
  error is that round-off level (spectrally accurate results, e.g. moments of a Gaussian by the
  midpoint rule, land here).

Array results are estimated elementwise (each element its own order and status) on an output
whose shape does not depend on the grid; grid-shaped arrays are refused (reduce them first, e.g.
to a moment or the values at given points).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .._warnings import warn as _warn
from ..generator import Generator
from ..grid import Grid
from ..problem import FokkerPlanck
from .fields import Field

__all__ = [
    "with_error",
    "Estimate",
    "richardson",
    "SAFETY",
    "ORDER_TOLERANCE",
    "ROUND_OFF",
    "COARSENING",
    "MIN_ORDER",
    "field_at",
]

#: Roache's safety factor for a grid convergence index from three grids with a verified order.
SAFETY = 1.25
#: The observed order must lie within this of the scheme's order for the estimate to count as
#: asymptotic (|p_obs - 2| <= 0.5 means e32 / e21 in [2.8, 5.7] for halved spacings).
ORDER_TOLERANCE = 0.5
#: Differences below ROUND_OFF * max|v1| are round-off, not discretization error (backward solves
#: are accurate to about 1e-12 relative where :mod:`fpsolve.analysis.backward` does not warn).
ROUND_OFF = 1e-9
#: Below this observed order no bound is trusted: max(|e21|, |e32|) bounds the true error
#: |e21| / (r^p - 1) only while r^p >= (1 + sqrt 5) / 2, i.e. p >= 0.69 for r = 2.
MIN_ORDER = 0.75
#: The grids: the given one, and the same box coarsened by these factors.
COARSENING = (2, 4)

_ASYMPTOTIC, _CONVERGED, _PRE, _DIVERGING = "asymptotic", "converged", "pre-asymptotic", "not converging"


@dataclass(frozen=True, eq=False)
class Estimate:
    """A result with its estimated discretization error.

    Attributes
    ----------
    value : float or np.ndarray
        The result on the given (finest) grid.
    error : float or np.ndarray
        Estimated |value - exact| (same shape as ``value``).
    order : float or np.ndarray
        The observed order of convergence (NaN where the differences are round-off or oscillate).
    values : tuple
        The results on the given grid and on the grids coarsened by 2 and 4 (finest first).
    cells : tuple
        The cells of those grids.
    extrapolated : float or np.ndarray
        The Richardson extrapolation v1 - e21 / (r21^q - 1) (what ``error`` measures against,
        up to the safety factor).
    status : str or np.ndarray of str
        "asymptotic", "converged" (differences at round-off) or "pre-asymptotic".
    scheme_order : float
        The order the scheme should show (2 for finite volumes).
    info : dict
        Seconds per grid, warnings issued on the coarse grids.
    """

    value: object
    error: object
    order: object
    values: tuple
    cells: tuple
    extrapolated: object
    status: object
    scheme_order: float = 2.0
    info: dict = field(default_factory=dict, repr=False)

    @property
    def asymptotic(self) -> bool:
        """True when every element converges at the scheme's order (or is converged to round-off)."""
        return bool(np.all(np.isin(self.status, (_ASYMPTOTIC, _CONVERGED))))

    @property
    def relative_error(self):
        """error / |value| (inf where the value is 0)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.abs(np.asarray(self.error, dtype=float)) / np.abs(np.asarray(self.value, dtype=float))
        return float(out) if out.ndim == 0 else out

    def to_dict(self) -> dict:
        """Plain numbers and lists for JSON (``result.json`` of a case)."""
        listed = lambda v: np.asarray(v).tolist()  # noqa: E731
        return {
            "value": listed(self.value),
            "error": listed(self.error),
            "order": listed(self.order),
            "extrapolated": listed(self.extrapolated),
            "status": listed(self.status),
            "values": [listed(v) for v in self.values],
            "cells": [list(c) for c in self.cells],
            "scheme_order": self.scheme_order,
            "asymptotic": self.asymptotic,
        }

    def __repr__(self) -> str:
        cells = " / ".join("x".join(str(n) for n in c) for c in self.cells)
        if np.ndim(self.value) == 0:
            return (
                f"Estimate({self.value:.10g} ± {self.error:.2g}, observed order {self.order:.2f} on "
                f"{cells} cells, {self.status})"
            )
        return (
            f"Estimate({np.size(self.value)} values, largest error {np.max(self.error):.2g}, "
            f"on {cells} cells, {'asymptotic' if self.asymptotic else 'NOT asymptotic'})"
        )


def with_error(
    analysis: Callable,
    problem,
    grid: Grid | None = None,
    *,
    at=None,
    value: Callable | None = None,
    fine=None,
    scheme_order: float = 2.0,
    strict: bool = False,
    **kwargs,
) -> Estimate:
    """Run ``analysis`` on the problem's grid and on the same box coarsened by 2 and 4; estimate
    the discretization error of its result by Richardson extrapolation (module docstring).

    Parameters
    ----------
    analysis : callable
        ``analysis(problem, **kwargs)`` for a FokkerPlanck problem, ``analysis(model, grid,
        **kwargs)`` for a model: ``fp.mean_exit_time``, ``fp.committor``,
        ``fp.exit_time_distribution``, ``fp.transition_rates``, or any function of a problem, e.g.
        ``lambda fpe: fpe.relaxation_rates(1)[0]``.
    problem : FokkerPlanck or model
        A problem is rebuilt on the coarse grids with its model, boundary and scheme; a model
        needs ``grid``. Generators cannot be rebuilt (no model), nor problems with an absorbing
        cell mask.
    grid : Grid
        With a model only.
    at : point or sequence of points, optional
        Where to evaluate a :class:`Field` result, e.g. ``at=-1.0``, ``at=(-1, 0)`` or
        ``at=[(-1, 0), (-0.5, 0)]``: by quadratic interpolation on the nearest cell centres (so
        the value may differ from ``tau(*at)``, which is multilinear, by O(h^2) within ``error``).
    value : callable, optional
        Turns the result into numbers whose shape does not depend on the grid, e.g.
        ``value=lambda law: law.quantile([0.1, 0.5, 0.9])`` or ``value=lambda q: q(0.0)``.
        Default: the result itself when it is a number or an array. A Field (the result, or
        what ``value`` returns, e.g. ``value=lambda tau: tau.moment(2)``) is evaluated at ``at``.
    fine : optional
        The analysis's result on the given grid, when already computed (saves that solve).
    scheme_order : float
        The order the scheme should show (2 for finite volumes).
    strict : bool
        Refuse (ValueError) pre-asymptotic estimates instead of warning.
    **kwargs
        Passed to ``analysis``. Domains and sets must be predicates: an array mask is tied to
        one grid and is refused.

    Returns
    -------
    Estimate
        ``value`` (on the given grid), ``error``, ``order``, ``values``, ``cells``, ...

    Raises
    ------
    ValueError
        Array masks or grid-bound objects among the arguments; a grid too small to coarsen by 4;
        results that do not converge (observed order below MIN_ORDER = 0.75, or growing
        oscillations), and with ``strict=True`` pre-asymptotic ones.
    """
    grids, run = _rebuild(problem, grid)
    _refuse_grid_bound(kwargs, grids[0])
    results, seconds, notes = [], [], []
    for k, g in enumerate(grids):
        begin = time.perf_counter()
        if k == 0 and fine is not None:
            results.append(fine)
        elif k == 0:
            results.append(run(analysis, g, kwargs))
        else:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                results.append(run(analysis, g, kwargs))
            notes += [f"{g.cells}: {w.message}" for w in caught]
        seconds.append(time.perf_counter() - begin)
    numbers = [_numbers(r, at, value) for r in results]
    shapes = {v.shape for v in numbers}
    if len(shapes) > 1:
        raise ValueError(
            f"value: the result's shape changes with the grid ({', '.join(str(v.shape) for v in numbers)}); "
            "reduce it to numbers that do not depend on the grid, e.g. value=lambda tau: tau(-1.0) or at="
        )
    spacing = [float(np.prod(g.spacing)) ** (1.0 / g.ndim) for g in grids]
    est = richardson(numbers, spacing, scheme_order)
    value1, error, order, extrapolated, status = est
    scalar = value1.ndim == 0
    shape_out = (lambda a: float(a)) if scalar else (lambda a: a)
    result = Estimate(
        shape_out(value1),
        shape_out(error),
        shape_out(order),
        tuple(shape_out(v) for v in numbers),
        tuple(g.cells for g in grids),
        shape_out(extrapolated),
        str(status) if scalar else status,
        float(scheme_order),
        {"seconds": seconds, "coarse_grid_warnings": notes},
    )
    _judge(result, strict, notes)
    return result


def richardson(values, spacings, scheme_order: float = 2.0) -> tuple:
    """Elementwise three-grid Richardson analysis (module docstring), a pure function.

    ``values`` are the results on grids of representative spacings ``spacings`` (finest first,
    h = cell_volume^(1/d)). Returns ``(v1, error, observed_order, extrapolated, status)``, arrays
    of the shape of the values (status an array of str).
    """
    v1, v2, v3 = (np.asarray(v, dtype=float) for v in values)
    h1, h2, h3 = (float(h) for h in spacings)
    if not (h1 < h2 < h3):
        raise ValueError(f"spacings: expected increasing spacings (finest first), got {spacings!r}")
    if not (np.all(np.isfinite(v1)) and np.all(np.isfinite(v2)) and np.all(np.isfinite(v3))):
        raise ValueError("values: the analysis returned non-finite numbers on one of the grids")
    r21, r32 = h2 / h1, h3 / h2
    e21, e32 = v2 - v1, v3 - v2
    floor = ROUND_OFF * max(float(np.max(np.abs(v1), initial=0.0)), np.finfo(float).tiny)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = e32 / e21
    converged = (np.abs(e21) <= floor) & (np.abs(e32) <= floor)
    monotone = (ratio > 0) & ~converged
    order = np.full(v1.shape, np.nan)
    order[monotone] = _observed_order(np.abs(ratio[monotone]), r21, r32)
    # the leading term of an even-order scheme can vanish (the curvature-corrected finite-volume
    # exit time has no O(h^2) bulk term; what is left of it sits at the boundary and is often
    # negligible): the next even order is then the asymptotic one
    next_order = 2.0 * scheme_order
    superconvergent = monotone & (np.abs(order - next_order) <= ORDER_TOLERANCE)
    ceiling = np.where(superconvergent, next_order, scheme_order)
    used = np.clip(np.where(np.isfinite(order), order, scheme_order), 1.0, ceiling)
    asymptotic = monotone & ((np.abs(order - scheme_order) <= ORDER_TOLERANCE) | superconvergent)
    pre = (monotone & ~asymptotic & (order >= MIN_ORDER)) | (~monotone & ~converged & (np.abs(e21) <= np.abs(e32)))
    gci = SAFETY * np.abs(e21) / (r21**used - 1.0)
    error = np.where(asymptotic, gci, np.maximum(np.abs(e21), np.abs(e32)))
    error = np.where(converged, floor, error)
    extrapolated = np.where(asymptotic, v1 - e21 / (r21**used - 1.0), v1)
    status = np.where(converged, _CONVERGED, np.where(asymptotic, _ASYMPTOTIC, np.where(pre, _PRE, _DIVERGING)))
    return v1, error, order, extrapolated, status


def _observed_order(ratio: np.ndarray, r21: float, r32: float) -> np.ndarray:
    """Order p with |e32 / e21| = r32^p (r21^p - 1) / (r32^p - 1) ... solved as in Celik et al.
    2008: p = (ln|e32/e21| + q(p)) / ln r21, q(p) = ln((r21^p - 1) / (r32^p - 1)); exact in one
    step when r21 = r32."""
    p = np.log(ratio) / np.log(r21)
    if abs(r21 - r32) < 1e-12:
        return p
    for _ in range(50):
        safe = np.clip(p, 1e-3, 20.0)
        q = np.log((r21**safe - 1.0) / (r32**safe - 1.0))
        p = (np.log(ratio) + q) / np.log(r21)
    return p


def _judge(est: Estimate, strict: bool, notes: list) -> None:
    """Refuse non-converging results; warn (or refuse when strict) pre-asymptotic ones."""
    status = np.atleast_1d(est.status)
    order = np.atleast_1d(est.order)
    values = np.stack([np.atleast_1d(v) for v in est.values])
    cells = " / ".join("x".join(str(n) for n in c) for c in est.cells)
    hint = f" (the coarse grids warned: {notes[0]})" if notes else ""
    for kind in (_DIVERGING, _PRE):
        bad = np.flatnonzero(status == kind)
        if not bad.size or (kind == _PRE and not strict):
            continue
        i = int(bad[0])
        where = (
            ""
            if np.ndim(est.value) == 0
            else f" element {tuple(int(j) for j in np.unravel_index(i, np.shape(est.value)))}:"
        )
        raise ValueError(
            f"grid:{where} the result is {kind} on {cells} cells (values {', '.join(f'{v:.8g}' for v in values[:, i])}, "
            f"observed order {order[i]:.2f}, expected {est.scheme_order:g}); no error estimate can be "
            f"trusted. Refine the grid{hint}"
        )
    pre = np.flatnonzero(status == _PRE)
    if pre.size:
        i = int(pre[0])
        _warn(
            f"with_error: the estimate is not asymptotic on {cells} cells (observed order "
            f"{order[i]:.2f}, expected {est.scheme_order:g}, in {pre.size} of {status.size} values); "
            f"the error {np.atleast_1d(est.error)[i]:.3g} is the largest change between the grids, "
            f"a rough bound. Refine the grid for a sharp estimate{hint}"
        )


def _rebuild(problem, grid) -> tuple:
    """The three grids and ``run(analysis, grid, kwargs)`` that calls the analysis on one of them."""
    if isinstance(problem, Generator):
        raise TypeError(
            "problem: a Generator cannot be rebuilt on a coarser grid (it has no model); "
            "pass the FokkerPlanck problem or the model and grid"
        )
    if isinstance(problem, FokkerPlanck):
        if grid is not None:
            raise ValueError("grid: the problem already has its grid; call with_error(analysis, fpe, ...)")
        if problem.absorbing is not None:
            raise ValueError(
                "problem: its absorbing set is a cell mask, which cannot be coarsened; build the "
                "problem without absorbing= and give the set as a predicate to the analysis "
                "(e.g. domain=lambda x: x < 0)"
            )
        grids = _grids(problem.grid)

        def run(analysis, g, kwargs):
            if g is problem.grid:
                return analysis(problem, **kwargs)
            coarse = FokkerPlanck(problem.model, g, boundary=problem.boundary, discretization=problem.discretization)
            return analysis(coarse, **kwargs)

        return grids, run
    if not hasattr(problem, "drift"):
        raise TypeError(f"problem: expected a FokkerPlanck problem or a model, got {type(problem).__name__}")
    if not isinstance(grid, Grid):
        raise TypeError(f"grid: a model needs a grid (fpsolve.Grid), got {type(grid).__name__}")
    return _grids(grid), lambda analysis, g, kwargs: analysis(problem, g, **kwargs)


def _grids(grid: Grid) -> list:
    try:
        return [grid] + [grid.coarsened(f) for f in COARSENING]
    except ValueError as error:
        raise ValueError(
            f"grid: {grid!r} is too small for an error estimate, which solves again "
            f"with {COARSENING[-1]} times fewer cells per axis ({error})"
        ) from None


def _refuse_grid_bound(kwargs: dict, grid: Grid) -> None:
    """Array masks and objects made on one grid (Basins, densities) cannot follow the coarsening."""
    for name, arg in kwargs.items():
        if isinstance(arg, np.ndarray) and arg.ndim >= 1 and arg.shape[-grid.ndim :] == grid.shape:
            raise ValueError(
                f"{name}: an array on the grid's cells cannot be coarsened for the error estimate; "
                f"give it as a predicate on the coordinates (e.g. {name}=lambda x: x < 0)"
            )
        if isinstance(getattr(arg, "grid", None), Grid):
            raise ValueError(
                f"{name}: {type(arg).__name__} was computed on one grid and cannot follow the "
                "coarsening; leave it out so that the analysis recomputes it on every grid"
            )


def _numbers(result, at, value) -> np.ndarray:
    """The numbers of one result: ``value(result)``, a Field at ``at``, or the result itself."""
    out = result if value is None else value(result)
    if isinstance(out, Field):
        if at is None:
            raise ValueError(
                f"at: the analysis returned a field ({out.name}); give the point(s) "
                "where to estimate it, e.g. at=-1.0 or at=(-1, 0), or value="
            )
        out = field_at(out, at)
    try:
        arr = np.asarray(out, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(
            f"value: the analysis returned a {type(result).__name__}, not numbers; pass value= a "
            "function of the result giving them, e.g. value=lambda law: law.quantile(0.5)"
        ) from None
    return arr


def field_at(field_: Field, at) -> np.ndarray:
    """The field at one point or an array of points, by fourth-order interpolation
    (:meth:`fpsolve.analysis.fields.Field.smooth`). Its O(h^4) error is negligible against the
    scheme's, whereas a multilinear interpolation errs by w (1 - w) h^2 f'' / 2, with w the point's
    position between centres changing from grid to grid, and would spoil the observed order. Next
    to the box walls and the field's domain boundary (a kink) the value is multilinear and the
    order check judges it."""
    points = np.asarray(at, dtype=float)
    ndim = field_.grid.ndim
    if ndim == 1:
        points = points[..., None]
    if points.shape[-1:] != (ndim,):
        raise ValueError(f"at: expected a point of {ndim} coordinates or an array of them, got shape {points.shape}")
    flat = points.reshape(-1, ndim)
    for point in flat:
        field_.grid.require_inside(tuple(point), "at")
    out = np.asarray(field_.smooth(*flat.T), dtype=float)
    return out.reshape(points.shape[:-1])
