"""Studies over many problems: the batch-size study and the 2-D exit-time map.

The case runner (fpsolve/cases) calls these plain functions and writes their numbers and figures.
"""

from __future__ import annotations

import functools

import numpy as np

from ..dynamics import SGD
from ..grid import Grid
from ..noise import HESSIAN_FLOOR
from ..initial import gaussian
from ..problem import FokkerPlanck
from ..analysis.basins import Basins, basin_occupancy, basins as find_basins
from ..analysis.exit import committor, mean_exit_time
from .sweep import sweep

__all__ = ["batch_size_point", "batch_size_study", "occupancy_over_time", "exit_time_map", "log_tau_slope"]


def batch_size_point(
    landscape,
    grid: Grid,
    *,
    lr: float,
    batch_size: float,
    noise="isotropic",
    noise_scale: float = 1.0,
    boundary="reflecting",
    basins: Basins | None = None,
    spectral_gap: bool = True,
    hessian_floor: float = HESSIAN_FLOOR,
) -> dict:
    """Exit time from each basin, stationary occupancy and spectral gap of SGD at one batch size.

    Returns a dict with, for each basin i (in the order of ``landscape.minima``):
    ``exit_time_i`` (mean time to leave basin i from its minimum, continuous time),
    ``exit_iterations_i`` (= exit_time_i / lr), ``occupancy_i`` (stationary mass in basin i),
    ``sharpness_i`` (largest Hessian eigenvalue at minimum i); and ``spectral_gap`` (the smallest
    nonzero relaxation rate of Q, per unit time).
    """
    model = SGD(
        landscape, lr=lr, batch_size=batch_size, noise=noise, noise_scale=noise_scale, hessian_floor=hessian_floor
    )
    basins = basins or find_basins(grid, landscape)
    fpe = FokkerPlanck(model, grid, boundary=boundary)
    out = {}
    for i, minimum in enumerate(basins.minima):
        value = float(mean_exit_time(fpe, domain=basins.mask(i)).values[grid.cell_index(*minimum)])
        out[f"exit_time_{i}"] = value
        out[f"exit_iterations_{i}"] = value / lr
    occupancy = basin_occupancy(fpe.stationary(), basins)
    for i in range(basins.n):
        out[f"occupancy_{i}"] = float(occupancy.fractions[0, i])
        out[f"sharpness_{i}"] = float(np.max(basins.sharpness[i]))
    if spectral_gap:  # the slowest part on large 2-D grids (shift-invert Lanczos)
        out["spectral_gap"] = float(fpe.relaxation_rates(1)[0])
    return out


def batch_size_study(
    landscape,
    grid: Grid,
    *,
    lr: float,
    batch_sizes,
    noises=("isotropic", "hessian"),
    noise_scale: float = 1.0,
    boundary="reflecting",
    executor=None,
    results=None,
    progress: bool = False,
    hessian_floor: float = HESSIAN_FLOOR,
    key=None,
    on_error: str = "raise",
):
    """:func:`batch_size_point` over ``batch_sizes`` x ``noises`` with :func:`sweep` (resumable;
    ``key`` joins the fingerprint that decides whether saved rows belong to this study;
    ``on_error="nan"`` records refused points as NaN rows with a warning, see :func:`sweep`)."""
    point = functools.partial(
        batch_size_point,
        landscape,
        grid,
        lr=lr,
        noise_scale=noise_scale,
        boundary=boundary,
        basins=find_basins(grid, landscape),
        hessian_floor=hessian_floor,
    )
    return sweep(
        point,
        executor=executor,
        results=results,
        progress=progress,
        key=key,
        on_error=on_error,
        batch_size=list(batch_sizes),
        noise=list(noises),
    )


def log_tau_slope(
    landscape, minimum, saddle, *, lr: float, noise="isotropic", noise_scale: float = 1.0, s: float = 0.5
) -> float:
    """Asymptotic d log(tau) / dB: 2 dU / (lr noise_scale) for isotropic noise (Kramers with
    D = lr noise_scale / (2B)); for Hessian noise Xie et al.'s 2 dU / (lr noise_scale) (s / H_ae +
    (1 - s) / |H_se|)."""
    du = float(landscape(*saddle)) - float(landscape(*minimum))
    base = 2.0 * du / (lr * noise_scale)
    if noise == "isotropic":
        return base
    d = landscape.ndim
    h_a = np.asarray(landscape.hessian(*minimum), float).reshape(d, d)
    lam, vec = np.linalg.eigh(np.asarray(landscape.hessian(*saddle), float).reshape(d, d))
    e = vec[:, 0]
    return base * (s / float(e @ h_a @ e) + (1.0 - s) / abs(lam[0]))


def occupancy_over_time(
    landscape,
    grid: Grid,
    *,
    lr: float,
    batch_size: float,
    t,
    noise="isotropic",
    noise_scale: float = 1.0,
    start=None,
    std: float = 0.1,
    boundary="reflecting",
    hessian_floor: float = HESSIAN_FLOOR,
):
    """Basin occupancy over time of SGD started from a Gaussian at ``start`` (default: the first
    minimum) with standard deviation ``std``; returns an :class:`Occupancy`."""
    model = SGD(
        landscape, lr=lr, batch_size=batch_size, noise=noise, noise_scale=noise_scale, hessian_floor=hessian_floor
    )
    start = landscape.minima[0] if start is None else start
    fpe = FokkerPlanck(model, grid, boundary=boundary)
    sol = fpe.evolve(gaussian(grid, mean=start, std=std), t)
    return basin_occupancy(sol, find_basins(grid, landscape))


def exit_time_map(model, grid: Grid, *, domain, a, b, boundary="reflecting", moments: int = 1) -> dict:
    """The mean exit-time field from ``domain`` and the committor between ``a`` and ``b``, on one
    assembled problem: ``{"tau": Field, "committor": Field}``."""
    fpe = FokkerPlanck(model, grid, boundary=boundary)
    return {
        "tau": mean_exit_time(fpe, domain=domain, moments=moments),
        "committor": committor(fpe, a=a, b=b),
    }
