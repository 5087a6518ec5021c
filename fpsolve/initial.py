"""Initial densities on a grid (Gaussian, point mass, uniform on a set, from samples) and their checks.

Every constructor returns a grid-shaped array normalised so that ``p.sum() * grid.cell_volume == 1``;
:func:`require_density` checks a density handed in by a user (shape, finite, non-negative, mass) and
:func:`as_density` also normalises it.
"""

from __future__ import annotations


import numpy as np
from scipy.special import erf

from .generator import as_mask
from .grid import Grid
from ._warnings import warn as _warn

__all__ = ["gaussian", "point_mass", "uniform", "from_samples", "as_density", "require_density"]


def gaussian(grid: Grid, mean, std) -> np.ndarray:
    """A Gaussian N(mean, diag(std^2)) integrated exactly over each cell, then normalised.

    Integrating the Gaussian over cells (rather than sampling it at centres) keeps the initial
    mass and first moments exact even when ``std`` is comparable to the cell width.
    """
    mean = _per_axis(mean, grid, "mean")
    std = _per_axis(std, grid, "std")
    if np.any(std <= 0) or not np.all(np.isfinite(std)):
        raise ValueError(f"std: expected positive standard deviations, got {tuple(std)}")
    grid.require_inside(mean, "mean")
    factors = []
    for faces, m, s, per, (lo, hi) in zip(grid.faces, mean, std, grid.periodic, grid.bounds):
        weights = np.zeros(faces.size - 1)
        images = range(-3, 4) if per else (0,)
        for image in images:  # periodic axes: add the wrapped images
            shift = image * (hi - lo)
            cdf = 0.5 * (1 + erf((faces - m - shift) / (np.sqrt(2) * s)))
            weights += np.diff(cdf)
        factors.append(weights)
    return _normalised(_outer(factors), grid, "mean/std (the Gaussian has no mass on the grid)")


def point_mass(grid: Grid, point) -> np.ndarray:
    """A point mass at ``point``, shared linearly between the 2^d nearest cell centres.

    The weights are the multilinear (cloud-in-cell) ones, so the discrete mean
    ``sum(x * p) * cell_volume`` is ``point`` exactly, and the discrete variance along axis k is
    f(1 - f) h_k^2 <= h_k^2 / 4 (f the fractional position between the two centres): a second-order
    representation. Putting all mass in the cell containing the point instead moves the mean by
    up to h/2, a first-order error every later moment inherits (2-D Ornstein-Uhlenbeck on 128^2:
    2e-2 in the mean at t = 0, 5e-3 at t = 3; tests/test_resolution.py). Between a
    non-periodic wall and the first centre there is no centre beyond the point: the mass goes to
    the first cell, and the mean is off by the distance to its centre (< h/2).
    """
    point = _per_axis(point, grid, "point")
    return grid.interpolation_weights(*point) / grid.cell_volume


def uniform(grid: Grid, where=None) -> np.ndarray:
    """Uniform density on the cells selected by ``where`` (a mask or predicate; default: all)."""
    mask = np.ones(grid.shape, dtype=bool) if where is None else as_mask(grid, where, "where")
    if not mask.any():
        raise ValueError("where: the set is empty on this grid (no cell centre satisfies it)")
    return _normalised(mask.astype(float), grid, "where")


def from_samples(grid: Grid, samples) -> np.ndarray:
    """Histogram density of samples of shape ``(n,)`` (1-D) or ``(n, d)``; samples outside raise."""
    samples = np.array(samples, dtype=float)  # a copy: periodic axes are wrapped in place below
    if samples.ndim == 1 and grid.ndim == 1:
        samples = samples[:, None]
    if samples.ndim != 2 or samples.shape[1] != grid.ndim or samples.shape[0] == 0:
        raise ValueError(f"samples: expected a non-empty array of shape (n, {grid.ndim}), got {samples.shape}")
    if not np.all(np.isfinite(samples)):
        raise ValueError("samples: contains NaN or inf")
    for k, ((lo, hi), per) in enumerate(zip(grid.bounds, grid.periodic)):
        if per:
            samples[:, k] = lo + (samples[:, k] - lo) % (hi - lo)
        elif samples[:, k].min() < lo or samples[:, k].max() > hi:
            raise ValueError(f"samples: axis {k} has samples outside [{lo:g}, {hi:g}]")
    counts, _ = np.histogramdd(samples, bins=grid.faces)
    return counts / (counts.sum() * grid.cell_volume)


#: Negative values a density may carry, relative to its maximum: the exact-in-time integrators
#: are accurate to ~1e-10 of the norm, so their outputs carry negatives of that size.
NEGATIVE_TOLERANCE = 1e-9


def require_density(
    p, grid: Grid, name: str = "p", normalised: bool = False, allow_negative: bool = False
) -> np.ndarray:
    """Check that ``p`` is a density on ``grid`` and return it as a float array.

    A density has the grid's shape, is finite and non-negative (negatives down to
    :data:`NEGATIVE_TOLERANCE` times its maximum, the accuracy of fpsolve's exact-in-time
    integrators, are tolerated and kept; ``allow_negative=True`` accepts any sign, for the densities
    of schemes that do not preserve positivity); with ``normalised=True`` its mass
    ``p.sum() * grid.cell_volume`` must also be 1 within ``1e-6``. Raises ValueError naming
    ``name`` otherwise (TypeError when ``p`` is not numeric). The array itself is returned when it
    already is a float array: do not modify it.
    """
    try:
        p = np.asarray(p)
    except ValueError:  # a ragged nested sequence
        raise ValueError(f"{name}: expected an array of shape {grid.shape} (the grid), got a ragged sequence") from None
    if np.iscomplexobj(p):
        raise ValueError(f"{name}: the density is complex-valued; expected real values")
    if p.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected a numeric array of shape {grid.shape}, got dtype {p.dtype}")
    p = p.astype(float, copy=False)
    if p.shape != grid.shape:
        raise ValueError(f"{name}: expected an array of shape {grid.shape} (the grid), got {p.shape}")
    if not np.all(np.isfinite(p)):
        where = np.unravel_index(int(np.argmax(~np.isfinite(p))), grid.shape)
        raise ValueError(f"{name}: the density contains NaN or inf ({p[where]} at x = {_point(grid, where)})")
    peak = float(np.abs(p).max(initial=0.0))
    if not allow_negative and p.min(initial=0.0) < -NEGATIVE_TOLERANCE * max(peak, 1e-300):
        where = np.unravel_index(int(np.argmin(p)), grid.shape)
        raise ValueError(f"{name}: the density is negative ({p.min():.3g}) at x = {_point(grid, where)}")
    if normalised:
        mass = float(p.sum() * grid.cell_volume)
        if not abs(mass - 1.0) <= 1e-6:
            raise ValueError(
                f"{name}: the density has mass {mass:.9g}; expected 1 (p.sum() * grid.cell_volume) within 1e-6"
            )
    return p


def as_density(p, grid: Grid, name: str = "p0", *, rtol: float = 1e-9) -> np.ndarray:
    """Check a density: grid shape, finite, non-negative, positive mass; normalise with a warning.

    Raises ValueError naming ``name`` for what :func:`require_density` refuses, or zero mass. When
    only the mass differs from 1 (by more than ``rtol``) the density is rescaled and a warning says
    by how much. Returns a new array (round-off negatives set to zero).
    """
    p = np.maximum(np.array(require_density(p, grid, name), dtype=float), 0.0)
    mass = float(p.sum() * grid.cell_volume)
    if mass <= 0:
        raise ValueError(f"{name}: the density has zero mass")
    if abs(mass - 1.0) > rtol:
        _warn(f"{name}: the density had mass {mass:.6g}; normalised to 1")
        p /= mass
    return p


def _point(grid: Grid, index) -> tuple:
    return tuple(round(float(c[i]), 6) for c, i in zip(grid.centers, index))


def _normalised(weights: np.ndarray, grid: Grid, name: str) -> np.ndarray:
    total = weights.sum()
    if not total > 0:
        raise ValueError(f"{name}")
    return weights / (total * grid.cell_volume)


def _outer(factors) -> np.ndarray:
    out = factors[0]
    for f in factors[1:]:
        out = np.multiply.outer(out, f)
    return out


def _per_axis(value, grid: Grid, name: str) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(value, dtype=float))
    if arr.size == 1 and grid.ndim > 1 and name == "std":
        arr = np.full(grid.ndim, arr[0])
    if arr.shape != (grid.ndim,):
        raise ValueError(f"{name}: expected {grid.ndim} values (one per axis), got {np.shape(value)}")
    return arr
