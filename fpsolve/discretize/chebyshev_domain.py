"""Where a predicate domain ends, to round-off: the boxes that Chebyshev collocation solves on.

Finite volumes place a predicate's boundary on the links it cuts (second order). A spectral solve
needs the boundary itself: its collocation points live on the sub-box between the box walls and
the points where the predicate changes sign. Predicates are sampled on a fine mesh (``samples``
points per axis, so a component narrower than the sample spacing is not seen) and every sign change
is then bisected to adjacent floating-point numbers.

* 1-D: a domain is any union of intervals; each component is solved on its own.
* 2-D: a domain must be one rectangle aligned with the axes (a half-plane ``x < 0``, a strip
  ``abs(y) < 1``, a box); anything else is refused (use ``discretization="fv"``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["edge_kinds", "intervals", "rectangle", "sign_change"]


def sign_change(inside_at, left: float, right: float) -> float:
    """The point between ``left`` and ``right`` where the boolean function ``inside_at`` changes
    value, bisected until the two ends are adjacent doubles or within one ulp of the bracket's
    size apart (a change at 0 is then found to ~1e-16 |right - left|, not to denormals)."""
    value_left = bool(inside_at(left))
    floor = np.finfo(float).eps * max(abs(left), abs(right))
    for _ in range(200):
        middle = 0.5 * (left + right)
        if middle in (left, right) or abs(right - left) <= floor:
            break
        if bool(inside_at(middle)) == value_left:
            left = middle
        else:
            right = middle
    return 0.5 * (left + right)


def intervals(predicate, lo: float, hi: float, samples: int) -> list:
    """The components ``[(left, right), ...]`` of {x in [lo, hi] : predicate(x)} in 1-D.

    Ends that are box walls are exactly ``lo`` or ``hi``; the others are the predicate's sign
    changes, to round-off.
    """
    x = np.linspace(lo, hi, samples)
    inside = np.asarray(predicate(x), dtype=bool)
    if inside.shape != x.shape:
        raise ValueError(
            f"domain: the predicate returned shape {inside.shape} for {x.shape} points; "
            "it must work elementwise on arrays, e.g. lambda x: x < 0"
        )

    def at(point):
        return bool(np.asarray(predicate(np.array([point])), dtype=bool)[0])

    out, start = [], None
    for i in range(samples):
        if inside[i] and start is None:
            start = lo if i == 0 else sign_change(at, x[i - 1], x[i])
        if start is not None and (i == samples - 1 or not inside[i + 1]):
            end = hi if i == samples - 1 else sign_change(at, x[i], x[i + 1])
            out.append((start, end))
            start = None
    return out


def rectangle(predicate, bounds, samples: int) -> tuple:
    """The rectangle ``((x0, x1), (y0, y1))`` that the 2-D predicate describes.

    ValueError when the sampled set is empty or not a single axis-aligned rectangle, or when its
    edges, bisected along several lines across it, do not agree to 1e-12 of the box.
    """
    axes = [np.linspace(lo, hi, samples) for lo, hi in bounds]
    mesh = np.meshgrid(*axes, indexing="ij")
    inside = np.asarray(predicate(*mesh), dtype=bool)
    if inside.shape != mesh[0].shape:
        raise ValueError("domain: the predicate must work elementwise on coordinate arrays, e.g. lambda x, y: x < 0")
    if not inside.any():
        raise ValueError("domain: no point of the box satisfies it; the domain is empty")
    rows = np.flatnonzero(inside.any(axis=1))
    cols = np.flatnonzero(inside.any(axis=0))
    box = np.zeros_like(inside)
    box[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1] = True
    if not np.array_equal(box, inside):
        raise ValueError(
            "domain: spectral collocation in 2-D needs a rectangle aligned with the axes (e.g. "
            "lambda x, y: x < 0, or a box); this domain is not one. Use discretization='fv' for "
            "general domains"
        )
    edges = []
    for k, (index, (lo, hi)) in enumerate(zip((rows, cols), bounds)):
        other = 1 - k
        span = (axes[other][(cols, rows)[k][0]], axes[other][(cols, rows)[k][-1]])
        pair = []
        for side, i in ((0, index[0]), (1, index[-1])):
            if (side == 0 and i == 0) or (side == 1 and i == samples - 1):
                pair.append(lo if side == 0 else hi)
                continue
            neighbour = axes[k][i - 1] if side == 0 else axes[k][i + 1]
            roots = []
            for across in np.linspace(span[0], span[1], 5):

                def at(t, across=across, k=k, other=other):
                    point = [None, None]
                    point[k], point[other] = np.array([t]), np.array([across])
                    return bool(np.asarray(predicate(*point), dtype=bool)[0])

                roots.append(sign_change(at, neighbour, axes[k][i]))
            if np.ptp(roots) > 1e-12 * (hi - lo):
                raise ValueError(
                    f"domain: its edge across axis {k} is not straight (it moves by "
                    f"{np.ptp(roots):.3g}); spectral collocation in 2-D needs an axis-aligned "
                    "rectangle. Use discretization='fv' for general domains"
                )
            pair.append(float(np.median(roots)))
        edges.append(tuple(pair))
    return tuple(edges)


def edge_kinds(component_bounds, box_bounds, wall_kinds) -> tuple:
    """Per axis, the ``(low, high)`` kinds of a component: a box wall keeps the box's kind
    (``wall_kinds``), an edge inside the box is an exit ("absorbing")."""
    out = []
    for (lo, hi), (box_lo, box_hi), (kind_lo, kind_hi) in zip(component_bounds, box_bounds, wall_kinds):
        out.append((kind_lo if lo == box_lo else "absorbing", kind_hi if hi == box_hi else "absorbing"))
    return tuple(out)
