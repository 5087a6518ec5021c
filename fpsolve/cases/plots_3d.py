"""Figures of the three-parameter case (fpsolve.cases.tasks_3d): slices and marginals of a 3-D
density, and exit times and occupancy against the batch size (matplotlib, no display needed)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["slices_and_marginals", "exit_time_and_occupancy_vs_batch_size"]

#: Decades of density shown below the largest value in the slices
DECADES = 6.0
MARKERS = {"sharp": ("^", "tab:red"), "flat": ("o", "tab:blue")}


def slices_and_marginals(grid, p, starts, names, title: str, batch_size: float):
    """Six panels of a density p on a 3-D grid: the x-y slice through the first start's z, the
    x-z slice through its y, the x-marginal; the y-z slices through each start and the y and z
    marginals of the mass on each side of the first start's basin (x below / above 0).

    The slices show log10 p over :data:`DECADES` decades on one colour scale, with colour bars;
    starts are marked (triangle: sharp, circle: flat)."""
    x, y, z = grid.centers
    logp = np.log10(np.maximum(p, np.max(p) * 10.0 ** (-DECADES - 1)))
    top = float(np.max(logp))
    levels = dict(vmin=top - DECADES, vmax=top, cmap="magma", shading="auto")
    idx = [grid.cell_index(*s) for s in starts]
    fig, axes = plt.subplots(2, 3, figsize=(14, 8.6), constrained_layout=True)
    i0 = idx[0]
    image = axes[0, 0].pcolormesh(x, y, logp[:, :, i0[2]].T, **levels)
    axes[0, 0].set(xlabel="x", ylabel="y", title=f"slice z = {z[i0[2]]:.2g}")
    axes[0, 1].pcolormesh(x, z, logp[:, i0[1], :].T, **levels)
    axes[0, 1].set(xlabel="x", ylabel="z", title=f"slice y = {y[i0[1]]:.2g}")
    for ax in axes[0, :2]:
        for s, name in zip(starts, names):
            marker, color = MARKERS.get(name, ("s", "w"))
            ax.plot(s[0], s[1] if ax is axes[0, 0] else s[2], marker, color=color, mec="w", ms=9, label=f"{name} start")
        ax.axvline(0.0, color="w", lw=0.6, ls="--")
    axes[0, 0].legend(fontsize=8, loc="upper right")
    for ax, i, s, name in zip(axes[1, :2], idx, starts, names):
        ax.pcolormesh(y, z, logp[i[0]].T, **levels)
        marker, color = MARKERS.get(name, ("s", "w"))
        ax.plot(s[1], s[2], marker, color=color, mec="w", ms=9)
        ax.set(xlabel="y", ylabel="z", title=f"slice x = {x[i[0]]:.3g} ({name} minimum)", aspect="equal")
    fig.colorbar(image, ax=list(axes[:, 1]), label="log10 density", shrink=0.9)
    _x_marginal(axes[0, 2], grid, p, starts, names)
    _transverse_marginals(axes[1, 2], grid, p, names)
    fig.suptitle(f"{title}\nstationary density at B = {batch_size:g}", fontsize=10)
    return fig


def _x_marginal(ax, grid, p, starts, names) -> None:
    x = grid.centers[0]
    marginal = p.sum(axis=(1, 2)) * grid.spacing[1] * grid.spacing[2]
    ax.semilogy(x, marginal, "k-", lw=1.5, label="p(x)")
    for s, name in zip(starts, names):
        marker, color = MARKERS.get(name, ("s", "k"))
        ax.plot(s[0], np.interp(s[0], x, marginal), marker, color=color, ms=8, label=f"{name} start")
    ax.axvline(0.0, color="0.5", lw=0.8, ls="--", label="exit plane x = 0")
    ax.set(xlabel="x", ylabel="marginal density", title="x-marginal")
    ax.legend(fontsize=8)


def _transverse_marginals(ax, grid, p, names) -> None:
    x, y, z = grid.centers
    hy, hz = grid.spacing[1], grid.spacing[2]
    for side, name in zip((x < 0, x > 0), names):
        color = MARKERS.get(name, ("s", "k"))[1]
        part = p[side]
        mass = part.sum() * grid.cell_volume
        ax.plot(y, part.sum(axis=(0, 2)) * grid.spacing[0] * hz / mass, "-", color=color, label=f"y | {name} side")
        ax.plot(z, part.sum(axis=(0, 1)) * grid.spacing[0] * hy / mass, "--", color=color, label=f"z | {name} side")
    ax.set(xlabel="y or z", ylabel="conditional marginal density", title="transverse marginals in each basin")
    ax.legend(fontsize=8)


def exit_time_and_occupancy_vs_batch_size(
    columns: dict, names, title: str, *, lr: float, reduction=None, reference=None
):
    """Left: the mean exit time from each minimum against B (log scale; iterations = t / lr on
    the right axis). Right: the stationary occupancy of each basin against B. ``reduction``:
    optional columns of the same names from the 1-D reduction, drawn dashed; ``reference``:
    optional ``{name: (batch_size, low, high)}`` intervals drawn as error bars (e.g. Monte Carlo)."""
    b = columns["batch_size"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8), constrained_layout=True)
    for name in names:
        marker, color = MARKERS.get(name, ("s", "k"))
        left.semilogy(b, columns[f"exit_time_{name}"], marker + "-", color=color, label=f"from the {name} minimum")
        right.plot(b, columns[f"occupancy_{name}"], marker + "-", color=color, label=f"{name} basin")
        if reduction is not None:
            left.semilogy(b, reduction[f"exit_time_{name}"], "--", color=color, lw=1, label=f"{name}: 1-D reduction")
            right.plot(b, reduction[f"occupancy_{name}"], "--", color=color, lw=1, label=f"{name}: 1-D reduction")
        if reference and name in reference:
            size, low, high = reference[name]
            mid = 0.5 * (low + high)
            left.errorbar([size], [mid], yerr=[[mid - low], [high - mid]], fmt="none", color="k", capsize=4)
    if reference:
        left.plot([], [], "k|", label="Monte Carlo, 99 % interval")
    left.set(xlabel="batch size B", ylabel="mean exit time t", title="mean exit time through the saddle plane")
    twin = left.secondary_yaxis("right", functions=(lambda t: t / lr, lambda k: k * lr))
    twin.set_ylabel("iterations = t / lr")
    left.legend(fontsize=8)
    right.set(xlabel="batch size B", ylabel="stationary probability", title="stationary basin occupancy", ylim=(0, 1))
    right.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    return fig
