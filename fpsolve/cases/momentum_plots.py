"""Figures of the momentum cases (momentum_exit, kunin_phase_space); matplotlib, no display needed."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = [
    "exit_time_table",
    "add_heavy_ball",
    "add_turnover_ratio",
    "add_overdamped_series",
    "turnover",
    "spiral",
    "current_streamplot",
    "marginals",
    "anomalous_diffusion",
]


def exit_time_table(rows):
    """Left: tau against B, one line per momentum, with the overdamped limit (dashed) and Kramers
    (dotted); right: tau over its overdamped limit against gamma / omega_b."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11.5, 4.4))
    momenta = sorted({r["momentum"] for r in rows})
    colors = plt.cm.viridis(np.linspace(0, 0.85, len(momenta)))
    for beta, color in zip(momenta, colors):
        mine = sorted((r for r in rows if r["momentum"] == beta), key=lambda r: r["batch_size"])
        b = [r["batch_size"] for r in mine]
        left.plot(b, [r["tau"] for r in mine], "-", color=color, label=f"beta = {beta:g} (kinetic PDE)")
        left.plot(b, [r["overdamped_limit"] for r in mine], "--", color=color, lw=1)
        left.plot(b, [r["kramers"] for r in mine], ":", color=color, lw=1.2)
        for r in mine:  # unresolved points (no converging error bar) hollow
            face = color if r["resolved"] else "none"
            left.plot(r["batch_size"], r["tau"], "o", color=color, mfc=face)
            right.plot(
                r["friction_over_barrier_frequency"], r["tau"] / r["overdamped_limit"], "o", color=color, mfc=face
            )
        right.plot([], [], "o", color=color, label=f"beta = {beta:g}")
    left.plot([], [], "o", color="k", mfc="none", label="unresolved on this grid (hollow)")
    left.plot([], [], "k--", lw=1, label="overdamped limit (1 - beta) tau_SGD(lr / (1 - beta))")
    left.plot([], [], "k:", lw=1.2, label="Kramers 1 / k(gamma)")
    left.set_xscale("log", base=2)
    left.set_yscale("log")
    left.set_xlabel("batch size B")
    left.set_ylabel("mean exit time t (= lr x iterations)")
    left.legend(fontsize=7)
    right.axhline(1.0, color="0.5", lw=0.8)
    right.set_xscale("log")
    right.set_xlabel("friction / barrier frequency  gamma / omega_b")
    right.set_ylabel("tau / overdamped limit")
    right.set_title("high friction: tau -> (1 - beta) tau_SGD(lr / (1 - beta))", fontsize=9)
    right.legend(fontsize=7)
    fig.tight_layout()
    return fig


def add_turnover_ratio(fig, rows, barrier_frequency: float) -> None:
    """Underdamped Langevin's tau / (gamma tau_overdamped) against gamma / omega_b on the ratio panel."""
    ax = fig.axes[1]
    tau = np.array([_best_tau(r) for r in rows], dtype=float)
    ax.plot(
        [r["friction"] / barrier_frequency for r in rows],
        [t / r["high_friction"] for t, r in zip(tau, rows)],
        "k-",
        lw=0.8,
        label="underdamped Langevin (turnover; Monte Carlo where the grid is unresolved)",
    )
    ax.set_yscale("log")
    ax.legend(fontsize=7)


def _best_tau(row) -> float:
    """A turnover point's exit time: the PDE's where resolved, else the Monte Carlo mean (NaN if neither)."""
    if row["resolved"] or "monte_carlo" not in row:
        return np.nan if row["tau"] is None else row["tau"]
    return row["monte_carlo"]["mean"]


def add_overdamped_series(fig, rows) -> None:
    """MomentumSGD at a shrinking lr (fixed T_eff) on the ratio panel: the approach to 1."""
    ax = fig.axes[1]
    ax.errorbar(
        [r["friction_over_barrier_frequency"] for r in rows],
        [r["tau"] / r["overdamped_limit"] for r in rows],
        yerr=[abs(r["error"]) / r["overdamped_limit"] for r in rows],
        fmt="D-",
        color="crimson",
        ms=4,
        label=f"beta = {rows[0]['momentum']:g}, lr = {rows[0]['lr']:g} .. {rows[-1]['lr']:g} at fixed T_eff",
    )
    ax.legend(fontsize=7)


def add_heavy_ball(fig, points) -> None:
    """The discrete heavy-ball algorithm's mean exit times with 99 % intervals on the left panel."""
    ax = fig.axes[0]
    for k, p in enumerate(points):
        ax.errorbar(
            [p["batch_size"] * 1.06],
            [p["mean"]],
            yerr=[[p["ci99_half_width"]], [p["ci99_half_width"]]],
            fmt="s",
            color="crimson",
            ms=5,
            capsize=3,
            label="discrete heavy ball (99 % CI)" if k == 0 else None,
        )
    ax.legend(fontsize=7)


def turnover(rows, temperature: float):
    """Kramers' turnover: tau against gamma with the high-friction limit, Kramers and energy diffusion."""
    fig, ax = plt.subplots(figsize=(6.8, 4.6))
    g = np.array([r["friction"] for r in rows])
    best = np.array([_best_tau(r) for r in rows], dtype=float)  # the PDE where resolved, else Monte Carlo
    ax.plot(g, best, "-", color="k", lw=0.8)
    good = np.array([r["resolved"] for r in rows])
    ax.errorbar(
        g[good],
        [r["tau"] for r, k in zip(rows, good) if k],
        yerr=[abs(r["error"]) for r, k in zip(rows, good) if k],
        fmt="o",
        color="k",
        label="kinetic PDE (Richardson error bar)",
    )
    shown = ~good & np.array([r["tau"] is not None for r in rows])
    if shown.any():
        ax.plot(
            g[shown],
            [r["tau"] for r, k in zip(rows, shown) if k],
            "o",
            mfc="none",
            color="k",
            label="kinetic PDE, unresolved (error > 5 % or no three-grid check)",
        )
    mc = [(r["friction"], r["monte_carlo"]) for r in rows if "monte_carlo" in r]
    if mc:
        ax.errorbar(
            [f for f, _ in mc],
            [m["mean"] for _, m in mc],
            yerr=[m["ci99_half_width"] for _, m in mc],
            fmt="s",
            color="crimson",
            ms=5,
            capsize=3,
            label="Monte Carlo of the SDE (99 % CI)",
        )
    ax.plot(g, [r["high_friction"] for r in rows], "--", label="gamma x tau_overdamped (high friction)")
    ax.plot(g, [r["kramers"] for r in rows], ":", lw=1.5, label="1 / k_Kramers (escape time, moderate friction)")
    low = g <= g[np.nanargmin(best)]
    ax.plot(
        g[low],
        [r["energy_diffusion"] for r, keep in zip(rows, low) if keep],
        "-.",
        label="1 / k_energy diffusion (low friction)",
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    tau = np.array([r["tau"] for r in rows])
    ax.set_ylim(tau.min() / 3, max([tau.max()] + [m["mean"] for _, m in mc]) * 3)
    ax.set_xlabel("friction gamma")
    ax.set_ylabel("mean exit time from (-1, 0) to theta = 0")
    ax.set_title(f"underdamped Langevin, double well, T = {temperature:g}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def spiral(t, mean, fitted_rate: float, predicted_rate: float, variances: dict):
    """The transient mean in (theta, v) and its decay; the stationary variances against Kunin's."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.3))
    left.plot(mean[:, 0], mean[:, 1], "-", color="C0")
    left.plot(mean[0, 0], mean[0, 1], "o", color="C0")
    left.set_xlabel("E theta")
    left.set_ylabel("E v")
    left.set_title("mean spiralling into the minimum (kinetic PDE)")
    norm = np.sqrt(
        mean[:, 0] ** 2 + (mean[:, 1] / max(np.abs(mean[:, 1]).max(), 1e-300) * np.abs(mean[:, 0]).max()) ** 2
    )
    right.semilogy(t, np.abs(mean[:, 0]) + 1e-300, color="C0", label="|E theta(t)|")
    right.semilogy(
        t,
        norm[0] * np.exp(-predicted_rate * t),
        "k--",
        label=f"exp(-(1-beta) t / (lr (1+beta))), rate {predicted_rate:.4g}",
    )
    right.set_xlabel("t")
    right.set_title(
        f"fitted decay rate {fitted_rate:.4g}; "
        + ", ".join(f"{k} {v['pde']:.4g} (Kunin {v['kunin']:.4g})" for k, v in variances.items()),
        fontsize=8,
    )
    right.legend(fontsize=8)
    fig.tight_layout()
    return fig


def current_streamplot(mode: dict, plane: dict):
    """Stationary currents. Left pair: the (theta, v) plane of one mode, kinetic PDE and closed
    form. Right pair: int J dv on the theta plane of the non-commuting 2-D quadratic, in the frame
    of Sigma's principal axes, by the 4-D kinetic equation (Hermite in v) and in closed form."""
    fig, axes = plt.subplots(1, 4, figsize=(20, 4.6))
    grid = mode["grid"]
    for ax, (a, b), title in zip(
        axes[:2], (mode["j"], mode["exact"]), ("kinetic PDE: fpe.current(p)", "Ornstein-Uhlenbeck closed form")
    ):
        _stream(ax, grid.centers[0], grid.centers[1], a, b)
        ax.set_xlabel("theta")
        ax.set_ylabel("v")
        ax.set_title(
            f"{title}\ncirculation {mode['numbers']['pde' if 'PDE' in title else 'closed_form']:.4g}", fontsize=9
        )
    n = plane["numbers"]
    titles = (
        f"theta plane, 4-D kinetic PDE (Hermite in v, {n['field_cells']}^2 cells)\nE[theta1 v2 - theta2 v1] = "
        f"{n['pde']:.4g} ({n['theta_cells'][-1]}^2), Richardson {n['richardson']:.4g}",
        f"theta plane, closed form (Sigma not commuting with H)\nE[theta1 v2 - theta2 v1] = {n['closed_form']:.4g}",
    )
    for ax, (a, b), title in zip(axes[2:], (plane["field"], plane["closed_field"]), titles):
        _stream(ax, plane["theta"][0], plane["theta"][1], a, b)
        ax.set_xlabel("theta1' (principal axes of Sigma)")
        ax.set_ylabel("theta2'")
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def _stream(ax, x, y, u, v) -> None:
    speed = np.hypot(u, v)
    ax.streamplot(x, y, u.T, v.T, color=speed.T, cmap="magma_r", density=1.1, linewidth=0.9)


def marginals(curves: dict, title: str):
    """Stationary theta-marginals, one panel per learning rate: each curve a label -> density."""
    fig, axes = plt.subplots(1, len(curves), figsize=(5.5 * len(curves), 4.2), squeeze=False)
    for ax, (panel, lines) in zip(axes[0], curves.items()):
        for label, (x, y, style) in lines.items():
            ax.plot(x, y, style, label=label, lw=1.2, ms=3)
        ax.set_xlabel("theta")
        ax.set_ylabel("stationary density of theta")
        ax.set_title(panel, fontsize=9)
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def anomalous_diffusion(t, msd, fit: dict, pde_checks: list):
    """E |theta_t - theta_0|^2 over time (closed form per mode, summed), the fitted power law, and
    the PDE's Var theta(t) for single modes against their closed forms."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.3))
    left.loglog(t, msd, "k-", label="sum over modes (closed-form OU moments)")
    window = (t >= fit["t_min"]) & (t <= fit["t_max"])
    left.loglog(
        t[window],
        fit["prefactor"] * t[window] ** fit["exponent"],
        "r--",
        label=f"fit t^c, c = {fit['exponent']:.3f} (predicted {fit['predicted']:.3f})",
    )
    left.set_xlabel("t")
    left.set_ylabel("E |theta_t - theta_0|^2")
    left.legend(fontsize=8)
    for check in pde_checks:
        (line,) = right.loglog(check["t"], check["closed_form"], "-", label=f"mode lambda = {check['curvature']:.3g}")
        right.loglog(check["t"], check["pde"], "o", color=line.get_color(), ms=4)
    right.set_xlabel("t")
    right.set_ylabel("Var theta(t) of one mode")
    right.set_title("kinetic PDE (dots) against the closed form (lines)", fontsize=9)
    if pde_checks:
        right.legend(fontsize=8)
    fig.tight_layout()
    return fig
