"""Figures for case results (matplotlib, no display needed)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["densities", "occupancy", "stationary_panels"]


def densities(sol, stationary=None, landscape=None, title: str = ""):
    """1-D: density snapshots over the landscape; 2-D: one panel per output time."""
    grid = sol.grid
    if grid.ndim == 1:
        fig, ax = plt.subplots(figsize=(7, 4.2))
        x = grid.centers[0]
        colors = plt.cm.viridis(np.linspace(0, 0.9, len(sol.t)))
        for p, t, c in zip(sol.p, sol.t, colors):
            ax.plot(x, p, color=c, label=f"t = {t:g}")
        if stationary is not None:
            ax.plot(x, stationary, "k--", lw=1.2, label="stationary")
        ax.set_xlabel(grid.axis_names[0])
        ax.set_ylabel("density p(x, t)")
        if landscape is not None:
            twin = ax.twinx()
            twin.plot(x, landscape(x), color="0.6", lw=0.8)
            twin.set_ylabel("U(x)", color="0.5")
        ax.legend(fontsize=8, loc="upper right")
        ax.set_title(title)
        return fig
    n = len(sol.t)
    fig, axes = plt.subplots(1, n, figsize=(3.2 * n, 3.0), squeeze=False)
    for ax, p, t in zip(axes[0], sol.p, sol.t):
        _image(ax, grid, p, landscape)
        ax.set_title(f"t = {t:g}")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def occupancy(times, occupancy, sizes, basins):
    """Basin occupancy over time, one colour per batch size, one line style per basin."""
    fig, ax = plt.subplots(figsize=(7, 4.2))
    colors = plt.cm.plasma(np.linspace(0, 0.85, len(sizes)))
    styles = ["-", "--", ":", "-."]
    for occ, size, c in zip(occupancy, sizes, colors):
        for b in range(occ.shape[1]):
            ax.plot(times, occ[:, b], styles[b % 4], color=c, label=f"B = {size:g}, basin {b}" if b < 2 else None)
    ax.set_xscale("symlog", linthresh=max(times[1], 1e-3))
    ax.set_xlabel("t (= lr x iterations)")
    ax.set_ylabel("probability in basin")
    desc = "; ".join(
        f"basin {i}: min at ({', '.join(f'{c:.2f}' for c in m)}), Hessian eig {', '.join(f'{e:.2g}' for e in s)}"
        for i, (m, s) in enumerate(zip(basins.minima, basins.sharpness))
    )
    ax.set_title(desc, fontsize=7)
    ax.legend(fontsize=7, ncol=2)
    return fig


def stationary_panels(grid, stationary, sizes, landscape):
    n = len(sizes)
    fig, axes = plt.subplots(1, n, figsize=(3.2 * n, 3.0), squeeze=False)
    for ax, p, size in zip(axes[0], stationary, sizes):
        _image(ax, grid, p, landscape)
        ax.set_title(f"stationary, B = {size:g}")
    fig.tight_layout()
    return fig


def _image(ax, grid, p, landscape):
    (x0, x1), (y0, y1) = grid.bounds[:2]
    if grid.ndim > 2:
        p = p.sum(axis=tuple(range(2, grid.ndim)))
    ax.imshow(p.T, origin="lower", extent=(x0, x1, y0, y1), aspect="auto", cmap="magma")
    if landscape is not None and grid.ndim == 2:
        X, Y = grid.mesh()
        ax.contour(X, Y, landscape(X, Y), levels=15, colors="w", linewidths=0.4, alpha=0.6)
    ax.set_xlabel(grid.axis_names[0])
    ax.set_ylabel(grid.axis_names[1])
