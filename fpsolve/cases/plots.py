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
    fig, axes = _panel_grid(len(sol.t))
    for ax, p, t in zip(axes, sol.p, sol.t):
        _image(ax, grid, p, landscape, fig)
        ax.set_title(f"t = {t:g}")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def occupancy(times, occupancy, sizes, basins, title: str = ""):
    """Basin occupancy over time, one colour per batch size, one line style per basin."""
    fig, ax = plt.subplots(figsize=(7, 4.2))
    colors = plt.cm.plasma(np.linspace(0, 0.85, len(sizes)))
    styles = ["-", "--", ":", "-."]
    for occ, size, c in zip(occupancy, sizes, colors):
        for b in range(occ.shape[1]):
            ax.plot(times, occ[:, b], styles[b % 4], color=c, label=f"B = {size:g}, basin {b}" if b < 2 else None)
    ax.set_xscale("symlog", linthresh=max(times[1], 1e-3))
    ax.set_xlabel("t (iterations = t / lr)")
    ax.set_ylabel("probability in basin")
    desc = "; ".join(
        f"basin {i}: min at ({', '.join(f'{c:.2f}' for c in m)}), Hessian eig {', '.join(f'{e:.2g}' for e in s)}"
        for i, (m, s) in enumerate(zip(basins.minima, basins.sharpness))
    )
    ax.set_title(desc, fontsize=7)
    ax.legend(fontsize=7, ncol=2)
    if title:
        fig.suptitle(title, fontsize=10)
        fig.tight_layout()
    return fig


def stationary_panels(grid, stationary, sizes, landscape, title: str = ""):
    """The stationary density for each batch size, one panel (with its colour bar) per size."""
    fig, axes = _panel_grid(len(sizes))
    for ax, p, size in zip(axes, stationary, sizes):
        _image(ax, grid, p, landscape, fig)
        ax.set_title(f"stationary, B = {size:g}")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _panel_grid(n: int, columns: int = 3):
    """Figure and a flat list of ``n`` axes, at most ``columns`` per row (unused ones hidden)."""
    rows = -(-n // columns)
    cols = min(n, columns)
    fig, axes = plt.subplots(rows, cols, figsize=(4.0 * cols, 3.3 * rows), squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def _image(ax, grid, p, landscape, fig=None):
    drawn = grid_image(ax, grid, p, cmap="magma")
    if fig is not None:
        fig.colorbar(drawn, ax=ax, label="density")
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
            ax.plot(
                b[upper],
                tau[-1] * np.exp(slope * (b[upper] - b[-1])),
                ":",
                color=line.get_color(),
                lw=1.5,
                label=f"large-B slope d log tau/dB = {slope:.3g}, through the last point",
            )
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_ylim(
            bottom=max(ax.get_ylim()[0], 1e-3 * np.nanmin([columns[f"exit_time_{i}"].min() for i in range(basins.n)])),
            top=10 * np.nanmax([columns[f"exit_time_{i}"].max() for i in range(basins.n)]),
        )
        ax.set_xlabel("batch size B")
        ax.set_ylabel(f"mean exit time t (iterations = t / lr, lr = {lr:g})")
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
    ax.set_xlabel("t (iterations = t / lr)")
    ax.set_ylabel("probability in the flat basin")
    ax.set_title("start: Gaussian in the sharp minimum; Hessian noise")
    ax.legend()
    return fig


def exit_time_and_committor(grid, tau, q, landscape, *, start=None, sets=None, title: str = ""):
    """2-D: the mean exit-time field (linear colour: it is nearly flat in a basin and falls to 0 in a
    boundary layer, which a log scale would blow up) with the domain's edge, and the committor with
    its q = 1/2 line and the sets a (q = 0) and b (q = 1) outlined. ``start`` is marked."""
    panels = 1 if q is None else 2
    fig, axes = plt.subplots(1, panels, figsize=(5.6 * panels, 4.4), squeeze=False)
    (x0, x1), (y0, y1) = grid.bounds[:2]
    X, Y = grid.mesh()
    tau = np.asarray(tau)
    outside = tau <= 0  # absorbed cells (tau = 0): blank
    image = axes[0, 0].imshow(
        np.ma.masked_where(outside, tau).T,
        origin="lower",
        extent=(x0, x1, y0, y1),
        aspect="auto",
        cmap="viridis",
        vmin=0.0,
    )
    fig.colorbar(image, ax=axes[0, 0], label="mean exit time (units of t)")
    axes[0, 0].contour(X, Y, outside.astype(float), levels=[0.5], colors="k", linewidths=1.2)
    axes[0, 0].set_title("mean exit time (black: edge of the domain)", fontsize=10)
    if q is not None:
        image = axes[0, 1].imshow(
            np.asarray(q).T, origin="lower", extent=(x0, x1, y0, y1), aspect="auto", cmap="coolwarm", vmin=0, vmax=1
        )
        fig.colorbar(image, ax=axes[0, 1], label="committor q = P(hit b before a)")
        axes[0, 1].contour(X, Y, q, levels=[0.5], colors="k", linewidths=1.0)
        for name, mask in zip("ab", sets if sets is not None else ()):
            inside = np.asarray(mask(X, Y), dtype=float)
            axes[0, 1].contour(X, Y, inside, levels=[0.5], colors="k", linewidths=1.6, linestyles="--")
            where = np.argwhere(inside > 0.5)
            if where.size:
                i, j = where.mean(axis=0).round().astype(int)
                axes[0, 1].annotate(
                    name, (X[i, j], Y[i, j]), xytext=(8, 8), textcoords="offset points", fontsize=11, fontweight="bold"
                )
        axes[0, 1].set_title("committor (solid: q = 1/2; dashed: sets a, b)", fontsize=10)
    for ax in axes[0]:
        if landscape.ndim == 2:  # a phase-space grid (theta, v) has a 1-D landscape: no contours
            ax.contour(X, Y, landscape(X, Y), levels=20, colors="w", linewidths=0.4, alpha=0.6)
        if start is not None:
            ax.plot(*start[:2], marker="*", ms=12, color="w", mec="k", ls="none", label="start")
        ax.set_xlabel(grid.axis_names[0])
        ax.set_ylabel(grid.axis_names[1])
    if start is not None:
        axes[0, 0].legend(loc="upper right", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def exit_time_1d(grid, tau, law, landscape, *, start=None, title: str = ""):
    """1-D: the mean exit time over x (with the landscape), and the survival function down to 1e-4
    (further out it is the slowest mode's exponential tail, a straight line on this scale)."""
    panels = 1 if law is None else 2
    fig, axes = plt.subplots(1, panels, figsize=(5.6 * panels, 4.1), squeeze=False)
    x = grid.centers[0]
    axes[0, 0].semilogy(x, np.where(tau.values > 0, tau.values, np.nan))
    axes[0, 0].set_xlabel(grid.axis_names[0])
    axes[0, 0].set_ylabel("mean exit time (units of t)")
    if start is not None:
        axes[0, 0].plot(
            start[0], tau(*start), marker="*", ms=12, color="C3", ls="none", label=f"start, tau = {tau(*start):.4g}"
        )
        axes[0, 0].legend(loc="lower left", fontsize=8)
    twin = axes[0, 0].twinx()
    twin.plot(x, landscape(x), color="0.6", lw=0.8)
    twin.set_ylabel("U(x)", color="0.5")
    if law is not None:
        n = int(np.sum(law.S >= 1e-4)) + 1  # S decreases: up to the first point below 1e-4
        axes[0, 1].plot(law.t[:n], law.S[:n])
        axes[0, 1].set_yscale("log")
        axes[0, 1].set_ylim(1e-4, 1.5)
        axes[0, 1].set_xlabel("t")
        axes[0, 1].set_ylabel("survival P(exit time > t)")
        axes[0, 1].set_title(f"from the start: mean {law.mean:.4g}, median {law.quantile(0.5):.4g}", fontsize=10)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig
