"""Figures for case results (matplotlib, no display needed)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..plotting import grid_image  # noqa: E402

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
    grid_image(ax, grid, p, cmap="magma")
    if landscape is not None and grid.ndim == 2 and landscape.ndim == 2:  # not on a phase-space grid
        X, Y = grid.mesh()
        ax.contour(X, Y, landscape(X, Y), levels=15, colors="w", linewidths=0.4, alpha=0.6)


def exit_time_vs_batch_size(per_noise: dict, slopes: dict, basins, lr: float):
    """log tau against B for each basin and noise model, with the asymptotic slopes overlaid."""
    fig, axes = plt.subplots(1, len(per_noise), figsize=(5.5 * len(per_noise), 4.2), squeeze=False)
    for ax, (noise, columns) in zip(axes[0], per_noise.items()):
        b = columns["batch_size"]
        for i in range(basins.n):
            tau = columns.get(f"exit_time_{i}")
            if tau is None:
                continue
            label = f"basin {i} (max Hessian eig {np.max(basins.sharpness[i]):.3g})"
            (line,) = ax.plot(b, tau, "o-", ms=4, label=label)
            slope = slopes[noise][i]
            upper = b >= b[-1] / 8  # the asymptote is a large-B statement: draw it there only
            ax.plot(b[upper], tau[-1] * np.exp(slope * (b[upper] - b[-1])), "--", color=line.get_color(), lw=1.5,
                    label=f"asymptote d log tau/dB = {slope:.3g}")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_ylim(bottom=max(ax.get_ylim()[0], 1e-3 * np.nanmin([columns[f"exit_time_{i}"].min() for i in range(basins.n)])),
                    top=10 * np.nanmax([columns[f"exit_time_{i}"].max() for i in range(basins.n)]))
        ax.set_xlabel("batch size B")
        ax.set_ylabel(f"mean exit time (t = {lr:g} x iterations)")
        ax.set_title(f"{noise} noise")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def occupancy_and_gap(per_noise: dict, flat: int):
    """Stationary occupancy of the flat basin and the spectral gap against B."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for noise, columns in per_noise.items():
        b = columns["batch_size"]
        left.plot(b, columns[f"occupancy_{flat}"], "o-", ms=4, label=f"{noise} noise")
        if "spectral_gap" in columns:
            right.plot(b, columns["spectral_gap"], "o-", ms=4, label=f"{noise} noise")
    left.set_xscale("log", base=2)
    left.set_xlabel("batch size B")
    left.set_ylabel("stationary probability of the flat basin")
    left.legend()
    right.set_xscale("log", base=2)
    right.set_yscale("log")
    right.set_xlabel("batch size B")
    right.set_ylabel("spectral gap (slowest relaxation rate, 1/t)")
    right.legend()
    fig.tight_layout()
    return fig


def occupancy_over_time(t, occupancy: dict, flat: int):
    """Probability of the flat basin over time, one line per batch size."""
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for size, fractions in occupancy.items():
        ax.plot(t, fractions[:, flat], "o-", ms=3, label=f"B = {size:g}")
    ax.set_xscale("symlog", linthresh=max(float(t[1]), 1e-3))
    ax.set_xlabel("t (= lr x iterations)")
    ax.set_ylabel("probability in the flat basin")
    ax.set_title("start: Gaussian in the sharp minimum; Hessian noise")
    ax.legend()
    return fig


def exit_time_and_committor(grid, tau, q, landscape):
    """2-D: log10 of the mean exit-time field, and the committor with its q = 1/2 line."""
    panels = 1 if q is None else 2
    fig, axes = plt.subplots(1, panels, figsize=(5.5 * panels, 4.2), squeeze=False)
    (x0, x1), (y0, y1) = grid.bounds[:2]
    X, Y = grid.mesh()
    outside = np.asarray(tau) <= 0  # absorbed cells (tau = 0) are left blank, not log10(0)
    shown = np.log10(np.where(outside, 1.0, tau))
    image = axes[0, 0].imshow(np.ma.masked_where(outside, shown).T, origin="lower", extent=(x0, x1, y0, y1),
                              aspect="auto", cmap="viridis")
    fig.colorbar(image, ax=axes[0, 0], label="log10 mean exit time")
    axes[0, 0].set_title("mean exit time from the domain")
    if q is not None:
        image = axes[0, 1].imshow(q.T, origin="lower", extent=(x0, x1, y0, y1), aspect="auto", cmap="coolwarm",
                                  vmin=0, vmax=1)
        fig.colorbar(image, ax=axes[0, 1], label="committor q = P(hit b before a)")
        axes[0, 1].contour(X, Y, q, levels=[0.5], colors="k", linewidths=1.0)
        axes[0, 1].set_title("committor (black: q = 1/2)")
    for ax in axes[0]:
        if landscape.ndim == 2:  # a phase-space grid (theta, v) has a 1-D landscape: no contours
            ax.contour(X, Y, landscape(X, Y), levels=20, colors="w", linewidths=0.4, alpha=0.6)
        ax.set_xlabel(grid.axis_names[0])
        ax.set_ylabel(grid.axis_names[1])
    fig.tight_layout()
    return fig


def exit_time_1d(grid, tau, law, landscape):
    """1-D: the mean exit time over x (with the landscape), and the survival function."""
    panels = 1 if law is None else 2
    fig, axes = plt.subplots(1, panels, figsize=(5.5 * panels, 4.0), squeeze=False)
    x = grid.centers[0]
    axes[0, 0].semilogy(x, np.where(tau.values > 0, tau.values, np.nan))
    axes[0, 0].set_xlabel(grid.axis_names[0])
    axes[0, 0].set_ylabel("mean exit time")
    twin = axes[0, 0].twinx()
    twin.plot(x, landscape(x), color="0.6", lw=0.8)
    twin.set_ylabel("U(x)", color="0.5")
    if law is not None:
        axes[0, 1].plot(law.t, law.S)
        axes[0, 1].set_yscale("log")
        axes[0, 1].set_xlabel("t")
        axes[0, 1].set_ylabel("survival P(exit time > t)")
        axes[0, 1].set_title(f"mean {law.mean:.4g}, median {law.quantile(0.5):.4g}")
    fig.tight_layout()
    return fig
