"""Levy flights in validation: the exit-location check and references it needs beyond the closed
forms of :mod:`fpsolve.levy_theory` (Getoor's mean exit time, the Levy-OU scale, ...).

* :class:`ExitPositionLaw`: the Blumenthal-Getoor-Ray law of where the free stable process lands
  when it leaves (c - r, c + r) (density :func:`fpsolve.levy_theory.exit_location_density`), with
  its distribution function by quadrature, so that it can be binned like any other law.
* :func:`stable_density`: the symmetric alpha-stable law of scale s on a grid, as cell averages
  (exact cell masses from scipy.stats.levy_stable's distribution function; the tails beyond the
  grid are the missing mass that :func:`fpsolve.validate.densities` expects outside). With
  :func:`fpsolve.levy_theory.levy_ou_scale` it is the stationary law of the Levy-Ornstein-Uhlenbeck
  process, for checking samples.

The check :func:`exit_locations` tests where the simulator's paths left (for jump noise: where the
jump landed, beyond the boundary) against a law of exit positions, either the PDE's
(:func:`fpsolve.exit_locations`: probabilities per exterior cell, the rest beyond the grid) or a
closed form with a ``.cdf`` (1-D), by Pearson's chi-squared test on bins of equal reference mass
(:func:`fpsolve.validate.densities` on the law's cell masses, with an outside bin).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy import integrate, stats

from ..levy_theory import exit_location_density
from .checks import densities
from .report import ValidationReport

__all__ = ["ExitPositionLaw", "stable_density", "exit_locations"]


@dataclasses.dataclass(frozen=True)
class ExitPositionLaw:
    """The law of X at its first exit from (center - radius, center + radius), X_0 = start, for the
    free symmetric alpha-stable process (Blumenthal-Getoor-Ray; independent of the noise scale).
    ``pdf``, ``cdf`` and ``sf`` are vectorised; exits are by a jump, so no mass sits on the boundary."""

    alpha: float
    radius: float
    start: float
    center: float = 0.0

    def __post_init__(self):
        if not (np.isfinite(self.alpha) and 0 < self.alpha < 2):
            raise ValueError(
                f"alpha: expected a tail index in (0, 2) (at alpha = 2 the exit position is on "
                f"the boundary), got {self.alpha!r}"
            )
        self.pdf(self.center + 2 * self.radius)  # checks the start and radius (levy_theory's errors)

    def pdf(self, y):
        return exit_location_density(y, self.start, self.alpha, self.radius, self.center)

    def _beyond(self, u: float) -> float:
        """P(X - c > u) for u >= r (quadrature; Gauss-Jacobi weight for the edge singularity)."""
        x, r, a = self.start - self.center, self.radius, self.alpha
        c = math.sin(math.pi * a / 2) / math.pi * (r * r - x * x) ** (a / 2)
        if u > r:
            return self._tail(u)
        smooth = lambda v: c * (v + r) ** (-a / 2) / (v - x)  # noqa: E731  (times (v - r)^(-a/2))
        return integrate.quad(smooth, r, r + 1, weight="alg", wvar=(-a / 2, 0.0))[0] + self._tail(r + 1)

    def _tail(self, u: float) -> float:
        x, r, a = self.start - self.center, self.radius, self.alpha
        c = math.sin(math.pi * a / 2) / math.pi * (r * r - x * x) ** (a / 2)
        return integrate.quad(
            lambda v: c * (v * v - r * r) ** (-a / 2) / (v - x), u, np.inf, limit=200, epsabs=1e-13, epsrel=1e-10
        )[0]

    def _mirror(self) -> ExitPositionLaw:
        return ExitPositionLaw(self.alpha, self.radius, 2 * self.center - self.start, self.center)

    def cdf(self, y):
        """P(X <= y)."""
        y = np.atleast_1d(np.asarray(y, dtype=float))
        r, c = self.radius, self.center
        mirror = self._mirror()
        left_total = mirror._beyond(r)  # P(X < c - r), by the reflection x -> 2c - x
        out = np.empty(y.shape)
        for i, yi in np.ndenumerate(y):
            if yi - c < -r:
                out[i] = mirror._beyond(c - yi)
            elif yi - c <= r:
                out[i] = left_total
            else:
                out[i] = 1.0 - self._beyond(yi - c)
        return np.clip(out, 0.0, 1.0)

    def sf(self, y):
        return 1.0 - self.cdf(y)


def stable_density(grid, alpha: float, scale: float, loc=0.0) -> np.ndarray:
    """Cell averages on ``grid`` of the symmetric alpha-stable law of ``scale`` (independent per
    axis, centred at ``loc``; a product law in several dimensions). Normalised to the law's mass on
    the grid: ``p.sum() * grid.cell_volume`` = P(inside), the tails are the missing mass."""
    if not (np.isfinite(alpha) and 0 < alpha <= 2):
        raise ValueError(f"alpha: expected a tail index in (0, 2], got {alpha!r}")
    loc = np.broadcast_to(np.asarray(loc, dtype=float), (grid.ndim,))
    masses = []
    for k, (lo, hi) in enumerate(grid.bounds):
        edges = np.linspace(lo, hi, grid.shape[k] + 1)
        masses.append(np.diff(stats.levy_stable.cdf(edges, alpha, 0.0, loc=loc[k], scale=scale)))
    mass = masses[0]
    for m in masses[1:]:
        mass = np.multiply.outer(mass, m)
    return np.clip(mass, 0.0, None) / grid.cell_volume


def exit_locations(locations, reference, *, grid=None, alpha: float = 0.01, bins=None) -> ValidationReport:
    """Test where paths left the domain against a law of exit positions (chi-squared on bins).

    Parameters
    ----------
    locations : (n,) or (n, d) array, a simulator's ExitTimes, or a SamplesFile
        The exit positions (of the uncensored paths only, for ExitTimes and SamplesFile).
    reference : ExitLocations-like or law with ``.cdf``
        The PDE's exit law, ``fpsolve.exit_locations(...)``: ``.cells``, probabilities per exterior
        cell of its ``.grid``; what is missing from 1 (through box faces, or for jumps
        ``beyond_box``) forms one outside bin. For jump models solve it on a box larger than the
        domain (a predicate ``domain``), so that the landing law is resolved in cells: the
        chain's pointwise ``density`` is not integrable next to the domain (its Green's function
        is constant per cell) and is not used here. Or a 1-D law with a vectorised ``.cdf(y)``
        (e.g. :class:`ExitPositionLaw`), binned on ``grid``.
    grid : Grid, optional
        The cells of the test for a ``.cdf`` reference (mass beyond it forms the outside bin).
    alpha, bins : as for :func:`fpsolve.validate.densities`.
    """
    for name in ("locations", "exit_locations"):  # a simulator's ExitTimes, a SamplesFile
        if hasattr(locations, name) and hasattr(locations, "censored"):
            flags = locations.censored
            locations = np.asarray(getattr(locations, name), dtype=float)
            if flags is not None:
                locations = locations[~np.asarray(flags, dtype=bool)]
            break
    if hasattr(reference, "cells") and hasattr(reference, "grid"):
        grid = reference.grid
        law = np.clip(np.asarray(reference.cells, dtype=float), 0.0, None) / grid.cell_volume
        source = "PDE exit law per exterior cell"
    elif callable(getattr(reference, "cdf", None)):
        if grid is None or getattr(grid, "ndim", None) != 1:
            raise ValueError(
                f"grid: a reference given by its .cdf needs a 1-D grid (the cells of the test), got {grid!r}"
            )
        edges = np.linspace(*grid.bounds[0], grid.shape[0] + 1)
        law = np.clip(np.diff(np.asarray(reference.cdf(edges), dtype=float)), 0.0, None) / grid.cell_volume
        source = f"{type(reference).__name__}.cdf on the grid"
    else:
        raise ValueError(
            "reference: expected the PDE's exit law (an object with .cells and .grid, as "
            f"fpsolve.exit_locations returns) or a 1-D law with .cdf(y); got {type(reference).__name__}"
        )
    report = densities(locations, law, grid=grid, bins=bins, alpha=alpha)
    message = f"exit positions against the {source}: {report.message}"
    return dataclasses.replace(
        report, check="exit_locations", message=message, details=report.details | {"reference_source": source}
    )
