"""What both Lévy cases share: one mean exit time with its grid-error bar, and the well's geometry.

A Lévy exit problem lives on a box that *is* the domain: every point outside it is exterior
(DESIGN.md section 1), so the box faces are absorbing for the jumps and for the drift. The mean
exit time from the start is solved on the case's grid and on the grid with half the cells; their
difference is the error bar (no convergence order is assumed: near the walls the solution is only
Hölder(alpha/2), docs/levy.md "Numerics").
"""

from __future__ import annotations

import time

import numpy as np

from ..analysis import mean_exit_time
from ..grid import Grid
from .config import CaseError

__all__ = ["RESOLVED", "exit_time_with_error", "well_distances"]

#: A point whose grid-error bar |tau_N - tau_{N/2}| exceeds this fraction of tau is reported as
#: unresolved (and drawn hollow)
RESOLVED = 0.02


def exit_time_with_error(case, model, bounds, cells, start) -> dict:
    """tau at ``start`` on the box ``bounds`` with ``cells`` cells per axis, and on half of them.

    Returns tau, error = tau_N - tau_{N/2}, resolved (|error| <= RESOLVED tau), the solve's
    seconds on the fine grid, and the two values. A refusal by the solver (exit times beyond what
    double precision resolves) is a CaseError naming the model, so a case never reports garbage.
    """
    values, seconds = [], 0.0
    for n in (np.asarray(cells, dtype=int), np.asarray(cells, dtype=int) // 2):
        grid = Grid([tuple(b) for b in bounds], [int(c) for c in n])
        begin = time.perf_counter()
        try:
            tau = mean_exit_time(model, grid, domain=None, boundary="absorbing")
        except (ValueError, RuntimeError) as error:
            raise CaseError(f"{case.path}: {model!r} on {list(n)} cells: {error}") from error
        if not seconds:
            seconds = time.perf_counter() - begin
        values.append(float(tau(*start)))
    error = values[0] - values[1]
    return dict(
        tau=values[0], error=error, resolved=bool(abs(error) <= RESOLVED * values[0]), values=values, seconds=seconds
    )


def well_distances(minimum, bounds) -> list:
    """(distance to the low face, distance to the high face) of the minimum along each axis."""
    pairs = []
    for m, (low, high) in zip(np.atleast_1d(minimum), bounds):
        if not low < m < high:
            raise ValueError(f"the minimum {m} is not inside the box [{low}, {high}]")
        pairs.append((float(m - low), float(high - m)))
    return pairs
