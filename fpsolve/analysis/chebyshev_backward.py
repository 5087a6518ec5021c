"""Mean exit times, their moments and committors by Chebyshev collocation (spectral accuracy).

``fp.mean_exit_time(model, grid, domain, discretization="spectral")`` on a non-periodic box comes
here (so does a ``FokkerPlanck`` built with that scheme). How the grid is read: the grid gives the
box and, per axis, the number of Chebyshev-Gauss-Lobatto points (``grid.cells``). The points are
placed on each component of the domain, between the box walls and the points where the predicate
changes sign (:mod:`fpsolve.discretize.chebyshev_domain`, to round-off). What comes back: a
:class:`SpectralField`, the usual :class:`~fpsolve.analysis.fields.Field` whose ``values`` are the
polynomial interpolant at the grid's cell centres (barycentric interpolation, spectrally accurate)
and whose call ``tau(x)`` evaluates the interpolant anywhere; ``field.info["nodes"]`` holds the
points and the values there. In 1-D the backward equation is solved in first-order form for f'
(:func:`fpsolve.discretize.chebyshev.solve_backward_1d`), in 2-D by tensor collocation.

Accuracy is checked a posteriori three ways: the decay of the solution's Chebyshev coefficients
(:func:`fpsolve.discretize.chebyshev_nodes.tail_ratio`), that of the drift and diffusion at the
points (a kink or a narrow feature of the landscape), and the change against a second solve on
about 7n/8 points per axis (which also catches round-off: high barriers). Above
:data:`TAIL_WARN` the result comes with a warning, above :data:`TAIL_REFUSE` it is refused.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .._warnings import warn as _warn
from ..boundary import normalize_boundary
from ..discretize.chebyshev import (
    ChebyshevBox,
    ChebyshevCollocation,
    solve_backward,
    solve_backward_1d,
)
from ..discretize.chebyshev_domain import edge_kinds, intervals, rectangle
from ..discretize.chebyshev_nodes import tail_ratio
from ..grid import Grid
from .fields import Field

__all__ = [
    "TAIL_REFUSE",
    "TAIL_WARN",
    "SpectralField",
    "spectral_committor",
    "spectral_mean_exit_time",
    "spectral_target",
]

#: Relative size of the last Chebyshev coefficients, or of the change between the solves on n and
#: about 7n/8 points per axis, above which a solution is reported as not resolved to spectral
#: accuracy. Both overestimate the error (double well: tail 7.6e-8 and change 1.5e-7 at 40
#: points for an error of 1.4e-9; at 56 points 1e-9 and 1.8e-9 for 2e-12).
TAIL_WARN = 1e-8
#: ... and above which it is refused: errors of a percent (a kink at 64 points: change 3e-2 for
#: an error of 2e-3; dU/T = 40: an error of 93 %, lost to round-off with a clean tail).
TAIL_REFUSE = 1e-2
#: Predicates are sampled at this many points per collocation point before bisecting.
_SAMPLES_PER_NODE = 8


@dataclass(frozen=True, eq=False, repr=False)
class SpectralField(Field):
    """A :class:`Field` from Chebyshev collocation: ``values`` at the cell centres, and a call
    that evaluates the polynomial interpolant (not the multilinear one) at any point.

    ``info["pieces"]`` is a tuple of ``(ChebyshevBox, node values per moment)``, one per
    component of the domain; outside every component the field takes ``info["outside"](x)``.
    """

    def __call__(self, *x):
        if len(x) == 1 and self.grid.ndim > 1 and np.ndim(x[0]) == 1 and len(x[0]) == self.grid.ndim:
            x = tuple(x[0])
        return _evaluate(self.info, 0, x, self.grid)

    def smooth(self, *x):
        """The polynomial interpolant, as the call: already spectrally accurate."""
        return self(*x)

    def moment(self, n: int) -> SpectralField:
        base = Field.moment(self, n)
        return SpectralField(base.values, self.grid, base.name, None, (), self.domain, {**self.info, "moment": n - 1})


def _evaluate(info, moment, x, grid: Grid):
    coords = np.broadcast_arrays(*[np.asarray(c, dtype=float) for c in x])
    grid.require_inside(tuple(float(np.min(c)) for c in coords), "point")
    grid.require_inside(tuple(float(np.max(c)) for c in coords), "point")
    moment = info.get("moment", moment)
    shape = coords[0].shape
    coords = [c.ravel() for c in coords]
    out = np.asarray(info["outside"](*coords), dtype=float) * np.ones(coords[0].shape)
    for box, values in info["pieces"]:
        inside = np.ones(coords[0].shape, dtype=bool)
        for c, (lo, hi) in zip(coords, box.bounds):
            inside &= (c >= lo) & (c <= hi)
        if inside.any():
            out[inside] = box.interpolate(values[moment], *[c[inside] for c in coords])
    return float(out[0]) if shape == () else out.reshape(shape)


def spectral_target(problem, grid, boundary, discretization):
    """``(model, grid, faces)`` when the backward problem is for Chebyshev collocation, else None.

    That is: a model with ``discretization`` "spectral" (or "chebyshev") on a grid with a
    non-periodic axis, or a FokkerPlanck problem whose scheme is the Chebyshev collocation.
    """
    scheme = getattr(problem, "scheme", None)
    if isinstance(scheme, ChebyshevCollocation):
        if grid is not None or discretization is not None:
            raise ValueError("grid, discretization: the problem already fixes them")
        if problem.absorbing is not None:
            raise ValueError(
                "absorbing: Chebyshev collocation has no absorbing cells; give the "
                "exit domain as a predicate (domain=...)"
            )
        return problem.model, problem.grid, problem.boundary
    if discretization not in ("spectral", "chebyshev") or not isinstance(grid, Grid):
        return None
    if all(grid.periodic):
        return None  # Fourier: the generic path, which refuses domains on periodic spectral grids
    if any(grid.periodic):
        raise ValueError(
            "grid: Chebyshev collocation needs every axis non-periodic (mixed "
            "periodic boxes are not supported); use discretization='fv'"
        )
    ChebyshevCollocation.require_model(problem, grid)
    return problem, grid, normalize_boundary(grid, boundary)


def _pieces(grid: Grid, faces, domain):
    """``[(bounds, kinds), ...]``: the components of ``domain`` with the kinds of their edges."""
    if domain is None:
        return [(grid.bounds, faces)]
    if not callable(domain):
        raise ValueError(
            "domain: spectral collocation needs the domain as a predicate (its boundary "
            "is found to round-off), e.g. lambda x: x < 0; a mask only knows cells "
            "(use discretization='fv' with masks)"
        )
    samples = _SAMPLES_PER_NODE * max(grid.cells) + 1
    if grid.ndim == 1:
        parts = [((part,)) for part in intervals(domain, *grid.bounds[0], samples)]
    elif grid.ndim == 2:
        parts = [rectangle(domain, grid.bounds, samples)]
    else:
        raise ValueError("grid: spectral exit times support 1-D and 2-D boxes; use discretization='fv'")
    if not parts:
        raise ValueError("domain: no point of the box satisfies it; the domain is empty")
    return [(bounds, edge_kinds(bounds, grid.bounds, faces)) for bounds in parts]


def _solve(model, grid, bounds, kinds, rhs, values_at=None):
    """Solve on ``grid.cells`` points and again on about 1/8 fewer per axis; the difference of the
    two (the coarser interpolated at the finer points, relative to the largest value) estimates
    the error of the coarser one and so bounds the finer one's. It catches what the coefficient
    tail cannot: a solution drowned in round-off (a barrier dU/T ~ 40 returns garbage with a
    clean tail)."""
    if all(k == "reflecting" for pair in kinds for k in pair):
        raise ValueError(
            "domain: nothing is ever absorbed (the domain reaches every box wall and no box face "
            "is absorbing), so the exit time is infinite; give a smaller domain or "
            "boundary='absorbing'"
        )
    box, sols, info = _solve_on(model, bounds, grid.cells, kinds, rhs, values_at)
    fewer = tuple(max(4, n - max(2, n // 8)) for n in grid.cells)
    coarse_box, coarse, _ = _solve_on(model, bounds, fewer, kinds, rhs, values_at)
    estimate = 0.0
    for fine, rough in zip(sols, coarse):
        scale = float(np.abs(fine).max(initial=0.0)) or 1.0
        estimate = max(estimate, float(np.abs(coarse_box.on_tensor(rough, box.points) - fine).max()) / scale)
    info["error_estimate"] = estimate
    return box, sols, info


def _solve_on(model, bounds, nodes, kinds, rhs, values_at):
    box = ChebyshevBox(bounds, nodes)
    info_coefficients = _coefficient_tail(model, box)
    if box.ndim == 1:
        ends = (0.0, 0.0) if values_at is None else tuple(values_at(*(np.array([p]),))[0] for p in box.bounds[0])
        sols, info = solve_backward_1d(model, box, kinds, rhs, ends)
    else:
        given = None if values_at is None else values_at(*[c.ravel() for c in box.mesh()])
        sols, info = solve_backward(model, box, kinds, rhs, given)
    info["coefficient_tail"] = info_coefficients
    return box, sols, info


def _coefficient_tail(model, box: ChebyshevBox) -> float:
    """The worst tail ratio of the drift and diffusion on the points, relative to their size: a
    kink in the landscape makes the drift jump, and collocation then converges only
    algebraically (about 1/n for a jump) however smooth the solution looks."""
    x = box.mesh()
    parts = list(np.asarray(model.drift(*x), dtype=float).reshape(box.ndim, *box.nodes))
    D = np.asarray(model.diffusion(*x), dtype=float).reshape(box.ndim, box.ndim, *box.nodes)
    parts += [D[k, l] for k in range(box.ndim) for l in range(box.ndim)]
    return max(tail_ratio(part, with_constant=True) for part in parts)


def _check(sols, what: str, info: dict, solve_info: dict) -> float:
    coefficient_tail, estimate = solve_info["coefficient_tail"], solve_info["error_estimate"]
    tail = max(tail_ratio(s) for s in sols)
    if not all(np.all(np.isfinite(s)) for s in sols) or tail > TAIL_REFUSE:
        raise ValueError(
            f"grid: the {what} is not resolved by the Chebyshev points (its last coefficients are "
            f"{tail:.1e} of the largest): a thin boundary layer, a kink in the landscape or a high "
            "Peclet number; give more cells (points) per axis, or use discretization='fv'"
        )
    if coefficient_tail > TAIL_REFUSE:
        raise ValueError(
            f"model: the drift or diffusion is not resolved by the Chebyshev points (its last "
            f"coefficients are {coefficient_tail:.1e} of its size: a kink, a jump or a feature "
            "narrower than the point spacing), so collocation cannot be trusted (errors of a "
            "percent and more, or a feature missed entirely); use discretization='fv'"
        )
    if estimate > TAIL_REFUSE:
        raise ValueError(
            f"grid: the {what} changes by {estimate:.1e} (relative) between {tuple(sols[0].shape)} "
            "points and 1/8 fewer: it is not resolved, or lost to round-off (a barrier dU/T beyond "
            "~25 makes the collocation's round-off ~eps e^{dU/T}); give more points if it is not "
            "resolved, else use discretization='fv', whose Markov-chain solve has no such floor"
        )
    if coefficient_tail > TAIL_WARN:
        _warn(
            f"{what}: not resolved to spectral accuracy: the drift or diffusion is not smooth on "
            f"the Chebyshev points (last coefficients {coefficient_tail:.1e} of the largest; a kink "
            "in the landscape), and collocation then converges only algebraically, with errors of "
            f"about that size (the solve on 1/8 fewer points differs by {estimate:.1e}); use "
            "discretization='fv'"
        )
    elif max(tail, estimate) > TAIL_WARN:
        _warn(
            f"{what}: not resolved to spectral accuracy (last Chebyshev coefficients {tail:.1e} of "
            f"the largest; the solve on 1/8 fewer points differs by {estimate:.1e}): expect errors "
            "up to about that size; add points (cells), or use discretization='fv' (round-off "
            "grows like eps e^{dU/T} with the barrier, so points do not help beyond dU/T ~ 20)"
        )
    info["tail"] = max(info.get("tail", 0.0), tail)
    info["coefficient_tail"] = max(info.get("coefficient_tail", 0.0), coefficient_tail)
    info["error_estimate"] = max(info.get("error_estimate", 0.0), estimate)
    return tail


def _at_centres(grid, pieces, outside, n_values):
    mesh = grid.mesh()
    out = [np.asarray(outside(*mesh), dtype=float) * np.ones(grid.shape) for _ in range(n_values)]
    inside = np.zeros(grid.shape, dtype=bool)
    for box, sols in pieces:
        mask = np.ones(grid.shape, dtype=bool)
        for c, (lo, hi) in zip(mesh, box.bounds):
            mask &= (c >= lo) & (c <= hi)
        inside |= mask
        for m in range(n_values):
            out[m][mask] = box.interpolate(sols[m], *[c[mask] for c in mesh])
    return out, inside


def spectral_mean_exit_time(target, domain, moments: int, lr) -> SpectralField:
    """E_x[tau^n], n = 1..moments: L tau_n = -n tau_{n-1} (tau_0 = 1), tau_n = 0 on the exits,
    co-normal derivative zero on reflecting walls; one LU per domain component."""
    model, grid, faces = target
    begin = time.perf_counter()
    pieces, info = [], {"nodes": [], "condition": 0.0, "residual": 0.0}

    def rhs(m, previous):
        if m >= moments:
            return None
        return -(m + 1) * (1.0 if previous is None else previous)

    for bounds, kinds in _pieces(grid, faces, domain):
        box, sols, solve_info = _solve(model, grid, bounds, kinds, rhs)
        _check(sols, "mean exit time", info, solve_info)
        pieces.append((box, sols))
        info["nodes"].append((box.points, sols))
        info["condition"] = max(info["condition"], solve_info["condition"])
        info["residual"] = max(info["residual"], solve_info["residual"])
    out, inside = _at_centres(grid, pieces, lambda *x: 0.0, moments)
    info.update(
        pieces=tuple(pieces),
        outside=lambda *x: 0.0,
        cells=int(np.prod(grid.cells)) * len(pieces),
        solve_seconds=time.perf_counter() - begin,
        discretization="chebyshev",
    )
    return SpectralField(out[0], grid, "mean exit time", lr, tuple(out), inside, info)


def spectral_committor(target, a, b) -> SpectralField:
    """q = P(hit b before a): L q = 0 between the sets, q = 0 on a's edges, 1 on b's; an absorbing
    box wall counts as neither (q = 0 there), a reflecting one has zero co-normal derivative."""
    model, grid, faces = target
    for name, s in (("a", a), ("b", b)):
        if not callable(s):
            raise ValueError(
                f"{name}: spectral collocation needs the target sets as predicates "
                "(e.g. a=lambda x: x < -1); use discretization='fv' with masks"
            )
    begin = time.perf_counter()
    mesh = grid.mesh()
    overlap = np.asarray(a(*mesh), dtype=bool) & np.asarray(b(*mesh), dtype=bool)
    if overlap.any():
        raise ValueError(f"a, b: the target sets overlap (at {int(overlap.sum())} cell centres)")

    def outside(*x):
        return np.where(np.asarray(b(*x), dtype=bool), 1.0, 0.0)

    between = lambda *x: ~(np.asarray(a(*x), dtype=bool) | np.asarray(b(*x), dtype=bool))
    pieces, info = [], {"nodes": [], "condition": 0.0, "residual": 0.0}
    for bounds, kinds in _pieces(grid, faces, between):
        # an edge inside the box borders a or b: q takes that set's value there (read just outside)
        values_at = _edge_values(bounds, grid, outside)
        box, sols, solve_info = _solve(model, grid, bounds, kinds, lambda m, p: 0.0 if m == 0 else None, values_at)
        _check(sols, "committor", info, solve_info)
        pieces.append((box, sols))
        info["nodes"].append((box.points, sols))
        info["condition"] = max(info["condition"], solve_info["condition"])
    out, inside = _at_centres(grid, pieces, outside, 1)
    info.update(pieces=tuple(pieces), outside=outside, seconds=time.perf_counter() - begin, discretization="chebyshev")
    return SpectralField(out[0], grid, "committor", None, (), inside, info)


def _edge_values(bounds, grid, outside):
    """q on the edges of a component: the value of the set just beyond each inner edge (1 in b,
    0 in a); on absorbing box walls 0."""

    def values_at(*x):
        x = [np.asarray(c, dtype=float).copy() for c in x]
        for k, ((lo, hi), (box_lo, box_hi)) in enumerate(zip(bounds, grid.bounds)):
            step = 1e-9 * (box_hi - box_lo)
            x[k] = np.where(
                (x[k] == lo) & (lo > box_lo), lo - step, np.where((x[k] == hi) & (hi < box_hi), hi + step, x[k])
            )
        return np.asarray(outside(*x), dtype=float) * np.ones(x[0].shape)

    return values_at
