"""Boundary conditions of a box grid: per axis, a (low, high) pair of face kinds.

One parser for every caller (problems, analyses, case files): ``normalize_boundary(grid, spec)``
turns a flexible specification into ``((low, high), ...)`` with one pair per axis, each kind one of
:data:`BOUNDARIES`. Periodic grid axes are always periodic.
"""

from __future__ import annotations

__all__ = ["BOUNDARIES", "normalize_boundary"]

#: Face kinds: no flux through the face, wrap-around (periodic grid axes only), or absorption
#: on the face itself (the density vanishes on it).
BOUNDARIES = ("reflecting", "periodic", "absorbing")


def normalize_boundary(grid, boundary) -> tuple:
    """Per-axis ``(low, high)`` boundary kinds from a flexible specification.

    ``boundary`` may be one kind for every face, a sequence with one entry per axis (a kind or a
    ``(low, high)`` pair), or a dict ``{axis_index_or_name: kind_or_pair}``. Periodic grid axes are
    always periodic; "periodic" on a non-periodic grid axis is an error (make the grid periodic).
    """
    if boundary is None:
        boundary = "reflecting"
    if isinstance(boundary, str):
        spec = [boundary] * grid.ndim
    elif isinstance(boundary, dict):
        spec = ["reflecting"] * grid.ndim
        for key, value in boundary.items():
            if isinstance(key, str):
                if key not in grid.axis_names:
                    raise ValueError(f"boundary: unknown axis {key!r}; the grid's axes are {grid.axis_names}")
                axis = grid.axis_names.index(key)
            else:
                axis = int(key)
                if not -grid.ndim <= axis < grid.ndim:
                    raise ValueError(
                        f"boundary: axis {key!r} does not exist; the grid has {grid.ndim} axes {grid.axis_names}"
                    )
            spec[axis] = value
    else:
        spec = list(boundary)
        if grid.ndim == 1 and len(spec) == 2 and all(isinstance(s, str) for s in spec):
            spec = [tuple(spec)]  # a 1-D (low, high) pair
        if len(spec) != grid.ndim:
            raise ValueError(f"boundary: expected {grid.ndim} entries (one per axis), got {len(spec)}")
    out = []
    for k, entry in enumerate(spec):
        pair = (entry, entry) if isinstance(entry, str) else tuple(entry)
        if len(pair) != 2:
            raise ValueError(f"boundary: axis {k} needs a kind or a (low, high) pair, got {entry!r}")
        for kind in pair:
            if kind not in BOUNDARIES:
                raise ValueError(f"boundary: unknown kind {kind!r} on axis {k}; expected one of {BOUNDARIES}")
        if grid.periodic[k]:
            pair = ("periodic", "periodic")
        elif "periodic" in pair:
            raise ValueError(f"boundary: axis {k} is not periodic in the grid; pass periodic=True to Grid instead")
        out.append(pair)
    return tuple(out)
