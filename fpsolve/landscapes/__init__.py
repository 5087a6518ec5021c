"""A library of named test landscapes with analytic gradients, Hessians and known critical points.

Every factory returns an :class:`fpsolve.landscape.Landscape` whose ``f`` and ``grad_function`` are
plain arithmetic (``+ - * / **``, ``np.exp``, ``np.cos``, ``np.tanh``) so that ``numba.njit`` compiles
them for scalar float arguments (the Monte Carlo simulators do) while they still broadcast over numpy
arrays. ``grad_function`` returns a tuple of partial derivatives, one per coordinate. Critical points
(``minima``, ``saddles``; a saddle has exactly one negative Hessian eigenvalue, in 1-D it is the local
maximum between two wells) are exact or refined by Newton's method from a close guess to round-off.
Each landscape also carries ``parameters``, a dict of its defining numbers (including calibrated ones).

``available()`` maps names to factories; case files use ``landscape = {name = "double_well", ...}``.
See docs/landscapes.md for the table of formulas, critical points and barrier heights.
"""

from __future__ import annotations

from .classic import muller_brown, periodic_cosine, quadratic
from .wells import (
    double_well,
    double_well_2d,
    rotated_double_well,
    separable_2d,
    sharp_flat_2d,
    sharp_flat_double_well,
    tilted_double_well,
)

__all__ = [
    "available",
    "double_well",
    "double_well_2d",
    "muller_brown",
    "periodic_cosine",
    "quadratic",
    "rotated_double_well",
    "separable_2d",
    "sharp_flat_2d",
    "sharp_flat_double_well",
    "tilted_double_well",
]


def available() -> dict:
    """Named landscape factories: name -> ``callable(**parameters)`` -> Landscape."""
    return {
        "double_well": double_well,
        "tilted_double_well": tilted_double_well,
        "sharp_flat_double_well": sharp_flat_double_well,
        "double_well_2d": double_well_2d,
        "separable_2d": separable_2d,
        "rotated_double_well": rotated_double_well,
        "sharp_flat_2d": sharp_flat_2d,
        "muller_brown": muller_brown,
        "quadratic": quadratic,
        "periodic_cosine": periodic_cosine,
    }
