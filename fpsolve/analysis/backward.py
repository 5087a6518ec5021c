"""The backward problem of every analysis: a generator killed outside a domain, and one checked solve.

Analyses take what the user has: a :class:`fpsolve.FokkerPlanck` problem (its operator is reused,
never assembled again), a :class:`fpsolve.Generator`, or a model and a grid (a problem is built
once). :func:`resolve` turns any of these into a :class:`Target`; :func:`killed_generator` removes
the cells outside a domain (absorbing them); :func:`backward_solve` solves Q_OO x = rhs and
refuses answers that double precision cannot resolve. Every exit time, committor, exit law and
rate in fpsolve goes through these three, so every caller gets the same checks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from .._warnings import warn as _warn
from ..absorb import absorb
from ..boundary import normalize_boundary
from ..generator import Generator
from ..grid import Grid
from ..problem import FokkerPlanck

__all__ = [
    "Target",
    "resolve",
    "killed_generator",
    "backward_solve",
    "start_position",
    "learning_rate",
    "no_exit_error",
    "RESOLUTION_REFUSE",
    "RESOLUTION_WARN",
]

#: Refuse backward solutions whose condition estimate eps * max|Q_ii| * max|x| exceeds this, and
#: warn above RESOLUTION_WARN. Measured on the 1-D and 2-D double well against the exact discrete
#: (birth-death, log-domain) solution: relative errors are about 1/50 of the estimate (2e-4 at
#: 1e-2, 1 % at 0.4, 16 % at 40), and positive garbage (too small by 1e6) follows beyond it.
RESOLUTION_REFUSE = 1.0
RESOLUTION_WARN = 1e-2


def learning_rate(model) -> float | None:
    """lr of an SGD-type model at t = 0 (t = lr * iterations), else None. Backward analyses refuse
    schedules (:func:`resolve`), so this is the model's constant lr."""
    lr_at = getattr(model, "lr_at", None)
    return None if lr_at is None else float(lr_at(0.0))


@dataclass(frozen=True, eq=False)
class Target:
    """What an analysis works on: the generator (with the problem's own absorbing set), its grid,
    and the model when known (for the learning rate and the landscape)."""

    generator: Generator
    grid: Grid
    model: object = None


def resolve(problem, grid=None, *, boundary="reflecting", discretization=None) -> Target:
    """A :class:`Target` from a FokkerPlanck problem, a Generator, or a model and a grid.

    A problem or a generator already fixes the boundary and the scheme: giving ``boundary`` or
    ``discretization`` again is an error (say them when building the problem).
    """
    if isinstance(problem, (FokkerPlanck, Generator)):
        if grid is not None:
            raise ValueError(
                "grid: the problem already has its grid; pass the domain by keyword, e.g. "
                "mean_exit_time(fpe, domain=lambda x: x < 0)"
            )
        if _given(boundary) or discretization is not None:
            raise ValueError(
                "boundary, discretization: the problem already fixes them; give them to "
                "FokkerPlanck(model, grid, boundary=..., discretization=...) instead"
            )
    if isinstance(problem, FokkerPlanck):
        if not getattr(problem.model, "autonomous", True):
            raise ValueError(
                "problem: the model has an lr or batch_size schedule; backward analyses "
                "need time-independent coefficients"
            )
        problem = _killed_at_the_box(problem)
        return Target(problem.generator, problem.grid, problem.model)
    if isinstance(problem, Generator):
        return Target(problem, problem.grid, None)
    if not hasattr(problem, "drift"):
        raise TypeError(f"problem: expected a FokkerPlanck, a Generator or a model, got {type(problem).__name__}")
    if not isinstance(grid, Grid):
        raise TypeError(f"grid: a model needs a grid (fpsolve.Grid), got {type(grid).__name__}")
    if not getattr(problem, "autonomous", True):
        raise ValueError(
            "model: exit times need time-independent coefficients; the model has an lr or batch_size schedule"
        )
    if getattr(problem, "jumps", None) is not None:
        # a jump out of the box is an exit (DESIGN.md section 1)
        boundary = _exit_boundary(problem, grid, normalize_boundary(grid, boundary))
    fpe = FokkerPlanck(problem, grid, boundary=boundary, discretization=discretization)
    return Target(fpe.generator, grid, problem)


def _given(boundary) -> bool:
    return not (isinstance(boundary, str) and boundary == "reflecting")


def _exit_boundary(model, grid: Grid, boundary: tuple) -> tuple:
    """``boundary`` with both faces of every axis the model jumps along absorbing (jumps that
    would leave the box are exits, not censored); periodic jump axes are refused."""
    axes = tuple(model.jumps.axes)
    if any(grid.periodic[k] for k in axes):
        raise ValueError(
            "grid: exit problems of models with jumps need the box's whole exterior absorbing, and "
            "a periodic axis has no exterior (jumps wrap around); use a non-periodic grid"
        )
    return tuple(("absorbing", "absorbing") if k in axes else pair for k, pair in enumerate(boundary))


def _killed_at_the_box(problem: FokkerPlanck) -> FokkerPlanck:
    """For a model with jumps, the same problem with absorbing faces on its jump axes: reflecting
    faces censor the jumps that would leave, while in an exit problem they are exits (one more
    assembly when the problem was built with censored faces)."""
    if getattr(problem.model, "jumps", None) is None:
        return problem
    boundary = _exit_boundary(problem.model, problem.grid, problem.boundary)
    if boundary == problem.boundary:
        return problem
    return FokkerPlanck(
        problem.model,
        problem.grid,
        boundary=boundary,
        absorbing=problem.absorbing,
        discretization=problem.discretization,
    )


def killed_generator(target: Target, domain, name: str = "domain") -> tuple:
    """The target's generator killed outside ``domain``: ``(Generator, inside_mask)``.

    ``domain`` is a mask, a predicate on the coordinates, or None: the whole box, left through its
    absorbing faces (for a model with jumps every face along a jump axis is absorbing, see
    :func:`resolve`) or into the problem's own absorbing set. There is no hidden default domain:
    None with nothing absorbing is a ValueError naming ``domain``. A predicate's boundary is placed
    where it changes sign (:func:`fpsolve.absorb.absorb`). Raises ValueError for an empty domain
    and for a domain from some part of which nothing is ever absorbed (infinite exit time).
    """
    gen = target.generator
    if domain is None:
        if not gen.has_killing:
            raise no_exit_error(name)
        inside = np.ones(target.grid.shape, dtype=bool)
        killed = gen
    else:
        killed, outside = absorb(gen, domain, name=name, complement=True)
        inside = ~outside
    inside &= ~gen.absorbing
    if not inside.any():
        raise ValueError(f"{name}: no cell centre of the grid satisfies it; the domain is empty")
    require_absorption(killed)
    return killed, inside


def no_exit_error(name: str = "domain") -> ValueError:
    """The refusal of ``domain=None`` on a box that nothing leaves (no absorbing face, no
    absorbing set): there is no default domain to fall back on."""
    return ValueError(
        f"{name}: none was given, so the process lives in the whole box, and no box face is "
        "absorbing: nothing would ever exit (the exit time is infinite). Give the domain it lives "
        f"in, e.g. {name}=lambda x: x < 0 (lambda x, y: ... in 2-D), or absorbing box faces "
        "(boundary='absorbing' with a model and a grid, FokkerPlanck(..., boundary='absorbing') "
        "for a problem)"
    )


def require_absorption(gen: Generator) -> None:
    """ValueError when some live cells can never reach a cemetery (their exit time is infinite)."""
    if not gen.has_killing:
        raise ValueError(
            "domain: nothing is ever absorbed (the domain covers the whole box and no box face is "
            "absorbing), so the exit time is infinite; give a smaller domain or boundary='absorbing'"
        )
    if gen.matrix_free or not gen.markov:
        return  # nonlocal operators reach every cell in one jump; spectral ones have no graph
    n = gen.n_live
    killing = np.flatnonzero(gen.killing > 1e-12 * gen.fastest_rate)
    # edges j -> i whenever i can jump to j (the pattern of Q^T: Q's compressed columns, positive
    # rates only): search backwards from a virtual cemetery node n, whose edges lead to the
    # killed cells. Built without a COO round trip (2.9 s -> 0.6 s at 1.7e6 cells)
    columns = sp.csc_matrix(gen.sub)
    positive = (columns.data > 0).astype(float)
    indptr = np.append(columns.indptr, columns.indptr[-1] + killing.size)
    indices = np.concatenate([columns.indices, killing.astype(columns.indices.dtype)])
    weights = np.concatenate([positive, np.ones(killing.size)])
    graph = sp.csr_matrix((weights, indices, indptr), shape=(n + 1, n + 1))
    graph.eliminate_zeros()
    reached = csgraph.breadth_first_order(graph, n, directed=True, return_predecessors=False)
    if reached.size < n + 1:
        hit = np.ones(n + 1, dtype=bool)
        hit[reached] = False
        cell = np.flatnonzero(gen.live)[np.flatnonzero(hit[:n])[0]]
        point = tuple(round(float(c[i]), 6) for c, i in zip(gen.grid.centers, np.unravel_index(cell, gen.grid.shape)))
        raise ValueError(
            f"domain: from {int(hit[:n].sum())} cells (e.g. x = {point}) the process can never leave "
            "the domain, so the exit time is infinite there; make the domain connected to its exterior"
        )


def backward_solve(gen: Generator, rhs, what: str = "exit time", transpose: bool = False, reuse=None) -> np.ndarray:
    """Solve Q_OO x = rhs (or its transpose) for a right-hand side of one sign, and check it.

    (-Q_OO)^{-1} of an M-matrix is non-negative, so x has one sign: values of the other sign or
    non-finite ones mean the solve lost all accuracy. The generator's error estimate
    (:meth:`fpsolve.generator.Generator.solve_with_error`: entrywise accurate for birth-death
    chains, eps max|Q_ii| max|x| otherwise, plus the a-posteriori bound of an iterative solve)
    decides between refusing (above :data:`RESOLUTION_REFUSE`) and warning (above
    :data:`RESOLUTION_WARN`). ``reuse``: an :class:`fpsolve.amg.HierarchyCache` for the AMG
    hierarchy of a large 3-D chain (the points of a sweep share it).
    """
    x, estimate = gen.solve_with_error(rhs, transpose=transpose, reuse=reuse)
    scale = float(np.abs(x).max(initial=0.0))
    sign = -1.0 if np.sum(rhs) > 0 else 1.0  # Q x = rhs with Q_OO negative definite in effect
    wrong_sign = (sign * x).min(initial=0.0) < -1e-8 * scale
    if np.all(np.isfinite(x)) and wrong_sign and not gen.markov and (sign * x).max(initial=0.0) <= 0.5 * scale:
        raise ValueError(
            f"domain: the {what} came out with the wrong sign nearly everywhere (largest value of "
            f"the right sign {max((sign * x).max(initial=0.0), 0.0):.3g}, of the wrong sign {scale:.3g}): the "
            "grid is far too coarse for this second-order scheme (refine it), or the operator "
            "restricted to the domain is (nearly) singular (check that the domain's exterior or an "
            "absorbing face is reachable from the start)"
        )
    if np.all(np.isfinite(x)) and wrong_sign and not gen.markov and estimate <= RESOLUTION_REFUSE:
        # a scheme that is not an M-matrix (second-order kinetic transport) has no sign guarantee:
        # an undershoot here is its discretization error on an under-resolved grid, not round-off
        raise ValueError(
            f"grid: the {what} has values of the wrong sign (down to {-(sign * x).min():.3g} against "
            f"{scale:.3g}) from this second-order, not positivity-preserving scheme: the grid is too "
            "coarse for the solution's boundary layers; refine it (about 2x per axis), or put the "
            "domain boundary on cell faces"
        )
    if not np.all(np.isfinite(x)) or wrong_sign or estimate > RESOLUTION_REFUSE:
        raise ValueError(
            f"domain: the {what} is not resolved in double precision (values up to {scale:.3g} "
            f"against the fastest rate {gen.fastest_rate:.3g} of the grid: the linear solve lost "
            "all accuracy). The barrier is too high for the noise (dU/D beyond ~30 on 2-D and "
            "3-D grids); raise the noise (smaller batch size, larger lr) or lower the barrier"
        )
    if estimate > RESOLUTION_WARN:
        _warn(
            f"{what}: values up to {scale:.3g} are near the limit of double precision for this "
            f"grid; expect relative errors up to about {estimate:.0e} (dU/D is close to ~30)"
        )
    return x


def start_position(gen: Generator, start, name: str = "start") -> tuple:
    """``(position, cell_centre)``: the position of the cell containing ``start`` among the live
    cells of ``gen``, and that cell's centre; ValueError naming ``start`` when it lies outside
    the grid or outside the domain."""
    grid = gen.grid
    if start is None:
        raise ValueError(f"{name}: give the starting point, e.g. {name}=-1.0 or {name}=(-1, 0)")
    point = tuple(np.atleast_1d(np.asarray(start, dtype=float)).ravel())
    if len(point) != grid.ndim:
        raise ValueError(f"{name}: expected {grid.ndim} coordinates, got {len(point)}")
    grid.require_inside(point, name)
    index = grid.cell_index(*point)
    if gen.absorbing[index]:
        raise ValueError(f"{name}: {point} lies outside the domain (its cell is absorbing)")
    centre = tuple(float(c[i]) for c, i in zip(grid.centers, index))
    return gen.live_position(index), centre
