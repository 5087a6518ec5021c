"""Mean exit times, their moments, exit locations and committors: backward equations on Q.

For a Markov chain with generator Q on the grid cells and a domain Omega (the live cells; every
other cell, and every absorbing box face, is a cemetery), the first exit time tau from Omega has

    Q_OO tau_1 = -1,    Q_OO tau_n = -n tau_{n-1}   (tau_n = E_x[tau^n], tau_0 = 1),

the discrete backward Kolmogorov equations (Gardiner, ch. 5). Where the chain leaves Omega is
given by the Green's function G = (-Q_OO)^{-1}: the probability of leaving from the start cell s
into an exterior cell j is (G Q_{O,ext})_{sj}, into a box face the killing rate through that
face weighted by G_s. The committor q = P(hit b before a) solves Q q = 0 off a and b, with q = 0 on
a and 1 on b. Everything here talks to :class:`fpsolve.generator.Generator` only, through
:mod:`fpsolve.analysis.backward`.

Where the effective boundary is: a domain given as a predicate ends where the predicate changes
sign (:mod:`fpsolve.absorb`, second order for straight and curved boundaries); a mask ends at the
first exterior cell centre (the field is 0 there); an "absorbing" box face is the face itself
(p = 0 on the face, a half-cell fitted flux).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..absorb import absorb
from ..generator import Generator
from ..grid import Grid
from ..plotting import grid_image
from .backward import (
    backward_solve,
    killed_generator,
    learning_rate,
    no_exit_error,
    require_absorption,
    resolve,
    start_position,
)
from .chebyshev_backward import spectral_committor, spectral_mean_exit_time, spectral_target
from .fields import Field

__all__ = ["mean_exit_time", "exit_locations", "committor", "ExitLocations"]


def mean_exit_time(
    problem,
    grid: Grid | None = None,
    domain=None,
    *,
    boundary="reflecting",
    moments: int = 1,
    discretization: str | None = None,
    reuse=None,
) -> Field:
    """Mean first exit time tau(x) = E_x[inf{t : X_t not in domain}] on every cell: Q tau = -1.

    Parameters
    ----------
    problem : FokkerPlanck, Generator or model
        A problem (its operator is reused), a generator, or a time-independent model (then give
        ``grid``; a problem is built with ``boundary`` and ``discretization``).
    grid : Grid
        With a model only.
    domain : mask, predicate or None
        The cells the process lives in, e.g. ``lambda x, y: x < 0``; exterior cells are absorbing
        (tau = 0 there). A predicate's boundary is where it changes sign (second order); a mask's
        is the first exterior cell centre. None (default) means the whole box, left through its
        absorbing faces (``boundary="absorbing"``; every face along a jump axis for a model with
        jumps) or into the problem's own absorbing set; with neither, nothing would exit and the
        call is a ValueError naming ``domain``.
    boundary : str, sequence or dict
        Box faces, as for :class:`fpsolve.FokkerPlanck` ("reflecting", "absorbing", ...); with a
        model only.
    moments : int
        Number of moments E[tau^n], n = 1..moments, by the recursive solves Q tau_n = -n tau_{n-1}
        (one factorization for all).
    discretization : str, optional
        With a model only: the scheme (default: the one that suits the model).
    reuse : fpsolve.HierarchyCache, optional
        For large 3-D grids, solved by AMG-preconditioned Krylov iterations: a cache shared by the
        points of a sweep, so that operators with the same sparsity reuse the multigrid
        aggregation (``fp.HierarchyCache()``, passed to every call).

    Returns
    -------
    Field
        ``values`` (continuous time), ``moments``, ``variance`` when moments >= 2; ``tau(x)``
        interpolates. For SGD-type models ``tau.iterations`` is the same field in iterations
        (values / lr, since t = lr * iterations): ``tau.iterations(x)``, ``tau.iterations.values``.

    Raises
    ------
    ValueError
        Empty domain; no domain and no absorbing face; a domain that is never left (infinite exit
        time); moments < 1; exit times
        beyond what double precision resolves.
    """
    if int(moments) != moments or moments < 1:
        raise ValueError(f"moments: expected a positive integer, got {moments!r}")
    spectral = spectral_target(problem, grid, boundary, discretization)
    if spectral is not None:  # Chebyshev collocation: its own points, not grid cells
        if domain is None and all(kind == "reflecting" for pair in spectral[2] for kind in pair):
            raise no_exit_error()
        return spectral_mean_exit_time(spectral, domain, int(moments), learning_rate(spectral[0]))
    begin = time.perf_counter()
    target = resolve(problem, grid, boundary=boundary, discretization=discretization)
    gen, inside = killed_generator(target, domain)
    assembled = time.perf_counter()
    previous = np.ones(gen.n_live)
    out = []
    for n in range(1, int(moments) + 1):
        previous = backward_solve(gen, -n * previous, f"exit-time moment {n}", reuse=reuse)
        out.append(gen.extend(previous))
    info = {
        "cells": gen.n_live,
        "assemble_seconds": assembled - begin,
        "solve_seconds": time.perf_counter() - assembled,
        "solver": repr(gen.solver()),
    }
    return Field(out[0], target.grid, "mean exit time", learning_rate(target.model), tuple(out), inside, info)


@dataclass(frozen=True, eq=False)
class ExitLocations:
    """Where the process leaves the domain, started from one point.

    Attributes
    ----------
    cells : np.ndarray
        Grid-shaped: probability of the first step out of the domain landing in each exterior
        cell (zero inside the domain).
    faces : dict
        ``{(axis_name, "low" | "high"): array}``: probability of being absorbed through each
        cell's face on an absorbing box face (the array has the grid shape without that axis).
    start : tuple
    grid : Grid
    """

    cells: np.ndarray
    faces: dict
    start: tuple
    grid: Grid
    info: dict = field(default_factory=dict, repr=False)

    @property
    def total(self) -> float:
        """Total probability (1 up to round-off when the process surely leaves)."""
        return float(self.cells.sum() + sum(float(f.sum()) for f in self.faces.values()))

    @property
    def through_faces(self) -> float:
        """Probability of leaving through absorbing box faces."""
        return float(sum(float(f.sum()) for f in self.faces.values()))

    def __repr__(self) -> str:
        return (
            f"ExitLocations(start {self.start}, into exterior cells {self.cells.sum():.6g}, "
            f"through box faces {self.through_faces:.6g})"
        )

    def plot(self, ax=None):
        """Exit probability per exterior cell (1-D: stems; 2-D: image)."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        if self.grid.ndim == 1:
            ax.stem(self.grid.centers[0], self.cells)
            ax.set_xlabel(self.grid.axis_names[0])
        else:
            grid_image(ax, self.grid, self.cells)
        ax.set_title(f"exit location from {self.start}")
        return ax


def exit_locations(
    problem,
    grid: Grid | None = None,
    domain=None,
    start=None,
    *,
    boundary="reflecting",
    discretization: str | None = None,
) -> ExitLocations:
    """The distribution of where the process leaves ``domain`` when started at ``start``.

    ``problem``, ``grid``, ``domain``, ``boundary`` and ``discretization`` as for
    :func:`mean_exit_time`. One transposed solve gives the Green's function row
    g = e_s^T (-Q_OO)^{-1} (the expected time spent in each cell before exit); the exit
    probability into exterior cell j is sum_i g_i Q_ij, and through an absorbing box face the
    face's killing rate weighted by g.

    For a model with alpha-stable jumps (alpha < 2) the process leaves by a jump that lands
    anywhere outside: the result is then a :class:`fpsolve.analysis.jump_exits.JumpExitLocations`
    (exterior cells of the box, the probability of landing beyond it, and the landing density).
    """
    target = resolve(problem, grid, boundary=boundary, discretization=discretization)
    from .jump_exits import has_jumps, jump_exit_locations  # it builds on this module

    if has_jumps(target.model):
        return jump_exit_locations(target, domain, start)
    gen, _, point, green = green_function_row(target, domain, start)
    cells = gen.outflow(green)
    faces = _face_exits(gen, green)
    return ExitLocations(cells, faces, point, target.grid, {"green_sum": float(green.sum())})


def green_function_row(target, domain, start) -> tuple:
    """``(killed generator, inside mask, start cell centre, g)``: the Green's function row
    g = e_s^T (-Q_OO)^{-1} of the chain killed outside ``domain`` (one transposed solve), g_i the
    expected time spent in live cell i before the exit when started in the cell of ``start``."""
    gen, inside = killed_generator(target, domain)
    s, point = start_position(gen, start)
    e = np.zeros(gen.n_live)
    e[s] = 1.0
    green = backward_solve(gen, -e, "Green's function", transpose=True)  # Q_OO^T g = -e_s
    return gen, inside, point, green


def _face_exits(gen: Generator, green: np.ndarray) -> dict:
    """Absorption through box faces, from the scheme's face fluxes (rate = outward flux / h)."""
    grid = gen.grid
    out = {}
    if gen.face_flux is None:
        return out
    density = gen.extend(green).ravel()
    for k, flux in enumerate(gen.face_flux):
        if grid.periodic[k]:
            continue
        shape_f = list(grid.shape)
        shape_f[k] += 1
        j = (flux @ density).reshape(shape_f)
        for side, name in ((0, "low"), (1, "high")):
            face = np.take(j, 0 if side == 0 else shape_f[k] - 1, axis=k)
            outward = (-face if side == 0 else face) / grid.spacing[k]
            if np.any(outward != 0):
                out[(grid.axis_names[k], name)] = np.maximum(outward, 0.0)
    return out


def committor(
    problem,
    grid: Grid | None = None,
    a=None,
    b=None,
    *,
    boundary="reflecting",
    discretization: str | None = None,
    reuse=None,
) -> Field:
    """The committor q(x) = P_x(hit b before a): Q q = 0 off a and b, q = 0 on a, q = 1 on b.

    Parameters
    ----------
    problem, grid, boundary, discretization, reuse
        As for :func:`mean_exit_time`.
    a, b : mask or predicate
        The two target sets (disjoint, non-empty), e.g. ``a=lambda x: x < -1, b=lambda x: x > 1``.
        A predicate's boundary is where it changes sign (second order), a mask's the first cell
        centre inside it. Mass killed at an absorbing box face counts as hitting neither set.
    """
    if a is None or b is None:
        raise ValueError("a, b: give both target sets, e.g. a=lambda x: x < -1, b=lambda x: x > 1")
    spectral = spectral_target(problem, grid, boundary, discretization)
    if spectral is not None:  # Chebyshev collocation: its own points, not grid cells
        return spectral_committor(spectral, a, b)
    begin = time.perf_counter()
    target = resolve(problem, grid, boundary=boundary, discretization=discretization)
    gen = target.generator
    killed_a, in_a = absorb(gen, a, name="a")
    killed, in_b = absorb(killed_a, b, name="b")
    for name, mask in (("a", in_a), ("b", in_b)):
        if not mask.any():
            raise ValueError(f"{name}: no cell centre of the grid satisfies it; the set is empty")
    overlap = np.asarray(b(*target.grid.mesh()) if callable(b) else b, dtype=bool) & in_a
    if overlap.any():
        raise ValueError(f"a, b: the target sets overlap in {int(overlap.sum())} cells")
    require_absorption(killed)
    rhs = -killed.rates_into(in_b)
    assembled = time.perf_counter()
    q = killed.extend(backward_solve(killed, rhs, "committor", reuse=reuse))
    q[in_b] = 1.0
    inside = ~(in_a | in_b | gen.absorbing)
    end = time.perf_counter()
    info = {
        "cells": killed.n_live,
        "seconds": end - begin,
        "assemble_seconds": assembled - begin,
        "solve_seconds": end - assembled,
        "solver": repr(killed.solver()),
    }
    return Field(q, target.grid, "committor", None, (), inside, info)
