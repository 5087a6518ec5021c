"""Figures of the Lévy cases (levy_escape, sgd_vs_adam); matplotlib, no display needed."""

from __future__ import annotations

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["escape_against_scale", "width_and_depth", "sgd_against_adam", "landing_density"]


def escape_against_scale(rows, gaussian):
    """Left: tau against 1/eps (log-log), one colour per alpha, Imkeller-Pavlyukevich dashed, the
    Gaussian alpha = 2 with its double integral; right: tau / tau_IP against eps."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11.5, 4.4))
    alphas = sorted({r["alpha"] for r in rows})
    colors = plt.cm.viridis(np.linspace(0, 0.8, len(alphas)))
    for alpha, color in zip(alphas, colors):
        mine = sorted((r for r in rows if r["alpha"] == alpha), key=lambda r: r["scale"])
        inverse = [1 / r["scale"] for r in mine]
        left.plot(inverse, [r["imkeller_pavlyukevich"] for r in mine], "--", color=color, lw=1)
        left.plot(inverse, [r["tau"] for r in mine], "-", color=color, label=f"alpha = {alpha:g} (PDE)")
        for r in mine:
            face = color if r["resolved"] else "none"
            left.plot(1 / r["scale"], r["tau"], "o", color=color, mfc=face, ms=5)
            right.plot(r["scale"], r["ratio"], "o", color=color, mfc=face)
        right.plot(
            [r["scale"] for r in mine], [r["ratio"] for r in mine], "-", color=color, lw=1, label=f"alpha = {alpha:g}"
        )
    if gaussian:
        g = sorted(gaussian, key=lambda r: r["scale"])
        left.plot(
            [1 / r["scale"] for r in g],
            [r["tau"] for r in g],
            "s-",
            color="tab:red",
            label="alpha = 2 (Gaussian, T = eps^2)",
        )
        left.plot(
            [1 / r["scale"] for r in g],
            [r["double_integral"] for r in g],
            "k:",
            lw=1.2,
            label="alpha = 2: double integral",
        )
    left.plot([], [], "k--", lw=1, label="Imkeller-Pavlyukevich (dashed)")
    left.plot([], [], "o", color="k", mfc="none", label="unresolved grid point (hollow)")
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlabel("1 / eps")
    left.set_ylabel("mean exit time")
    left.set_title("Lévy: polynomial in 1/eps; Gaussian: exponential in 1/eps^2", fontsize=9)
    left.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
    left.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    left.set_xticks([2, 5, 10, 20])
    low = min([r["tau"] for r in rows] + [r["tau"] for r in gaussian])
    left.set_ylim(bottom=low / 30)  # room for the legend below the curves
    left.legend(fontsize=7, loc="lower right", ncol=2)
    right.axhline(1.0, color="0.5", lw=0.8)
    right.set_xscale("log")
    right.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
    right.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    right.set_xticks([0.05, 0.1, 0.2, 0.5])
    right.set_xlabel("eps")
    right.set_ylabel("tau / tau_IP")
    right.set_title("tau / Imkeller-Pavlyukevich -> 1 as eps -> 0", fontsize=9)
    right.legend(fontsize=7)
    fig.tight_layout()
    return fig


def width_and_depth(rows):
    """tau relative to the (width 1, depth 1) well: against the width at depth 1 (left), against
    the depth at width 1 (right); Lévy with its IP prediction, Gaussian with its double integral."""
    base = next(r for r in rows if r["width"] == 1.0 and r["depth"] == 1.0)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, key, fixed in ((axes[0], "width", "depth"), (axes[1], "depth", "width")):
        mine = sorted((r for r in rows if r[fixed] == 1.0), key=lambda r: r[key])
        x = [r[key] for r in mine]
        alpha = mine[0]["alpha"]
        ax.plot(
            x,
            [r["levy"]["tau"] / base["levy"]["tau"] for r in mine],
            "o-",
            color="tab:blue",
            label=f"alpha = {alpha:g}, eps = {mine[0]['scale']:g} (PDE)",
        )
        ax.plot(
            x,
            [r["imkeller_pavlyukevich"] / base["imkeller_pavlyukevich"] for r in mine],
            "--",
            color="tab:blue",
            lw=1,
            label="Imkeller-Pavlyukevich",
        )
        ax.plot(
            x,
            [r["gaussian"]["tau"] / base["gaussian"]["tau"] for r in mine],
            "s-",
            color="tab:red",
            label=f"alpha = 2, eps = {mine[0]['gaussian_scale']:g} (PDE)",
        )
        ax.plot(
            x,
            [r["double_integral"] / base["double_integral"] for r in mine],
            ":",
            color="k",
            lw=1.2,
            label="alpha = 2: double integral",
        )
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.set_xlabel(f"well {key} ({fixed} 1)")
        ax.set_ylabel("tau / tau(width 1, depth 1)")
        ax.legend(fontsize=7)
    axes[0].set_title("equal depth, different widths", fontsize=9)
    axes[1].set_title("equal width, different depths", fontsize=9)
    fig.tight_layout()
    return fig


def sgd_against_adam(rows):
    """tau of LevySGD and LevyAdam against the batch size, per dimension, with the per-axis
    Imkeller-Pavlyukevich predictions (dashed); right: tau_Adam / tau_SGD."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11.5, 4.4))
    dims = sorted({r["dim"] for r in rows})
    for dim, marker in zip(dims, "os^"):
        mine = sorted((r for r in rows if r["dim"] == dim), key=lambda r: r["batch_size"])
        b = [r["batch_size"] for r in mine]
        for name, color in (("sgd", "tab:blue"), ("adam", "tab:orange")):
            left.plot(
                b,
                [r[name]["tau"] for r in mine],
                marker + "-",
                color=color,
                label=f"{dim}-D Levy{name.upper() if name == 'sgd' else 'Adam'} (PDE)",
            )
            left.plot(b, [r[name]["imkeller_pavlyukevich"] for r in mine], "--", color=color, lw=1)
        right.plot(
            b, [r["adam"]["tau"] / r["sgd"]["tau"] for r in mine], marker + "-", color="k", label=f"{dim}-D (PDE)"
        )
        right.plot(
            b,
            [r["predicted_ratio"] for r in mine],
            marker + "--",
            color="0.5",
            mfc="none",
            label=f"{dim}-D Imkeller-Pavlyukevich",
        )
    left.plot([], [], "k--", lw=1, label="Imkeller-Pavlyukevich (dashed)")
    left.set_xscale("log", base=2)
    left.set_yscale("log")
    left.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
    left.set_xlabel("batch size B")
    left.set_ylabel("mean exit time t (= lr x iterations)")
    left.legend(fontsize=7)
    right.axhline(1.0, color="0.5", lw=0.8)
    right.set_xscale("log", base=2)
    right.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
    right.set_xlabel("batch size B")
    right.set_ylabel("tau_Adam / tau_SGD")
    right.set_title("> 1: SGD leaves the basin first", fontsize=9)
    right.legend(fontsize=7)
    fig.tight_layout()
    return fig


def landing_density(curves, limit_y, limit_density, alpha: float):
    """Where the jump that leaves the well lands (exterior of the well, log scale): the PDE's
    landing density for each eps and the small-noise limit nu(y - m) / nu(outside)."""
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    colors = plt.cm.viridis(np.linspace(0, 0.8, len(curves)))
    for (scale, y, f), color in zip(curves, colors):
        for side in (y < 0, y > 0):
            ax.plot(y[side], f[side], "-", color=color, label=f"eps = {scale:g} (PDE)" if side[0] else None)
    for side in (limit_y < 0, limit_y > 0):
        ax.plot(
            limit_y[side],
            limit_density[side],
            "k--",
            lw=1,
            label="one jump from the minimum (eps -> 0)" if side[0] else None,
        )
    ax.set_yscale("log")
    ax.set_xlabel("landing point y (outside the well)")
    ax.set_ylabel("landing density")
    ax.set_title(f"alpha = {alpha:g}: the exit lands beyond the boundary, not on it", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
