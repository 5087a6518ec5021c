"""The three walkthroughs of docs/validate.md: numbers (printed) and figures (validate_*.png).

    python docs/figures/make_validate_examples.py          # about a minute on 2 cores

1. Exit times from the left well of U = (x^2 - 1)^2 at T = 0.25 (case exit_time_1d), simulated by
   Euler-Maruyama with a predicate domain (exit tested at step ends only) at dt = 1e-2 and 1e-3,
   and with the Brownian-bridge crossing test (a HalfSpace domain) at the same steps. Each run is
   written to a samples file and refereed by ``fpsolve validate exit_time_1d --samples FILE``.
2. (same runs) the bridge test at dt = 1e-3 passes.
3. Discrete SGD with Gaussian gradient noise on U = x^2/2, x_{k+1} = x_k - lr (U'(x_k) + sigma xi_k),
   written as a plain numpy loop (the "training loop" under test), against the FP densities of
   SGD(U, lr, noise="isotropic") with and without the modified loss, in a transient (descent from
   x = 3) and at stationarity. On a quadratic every law is Gaussian, so the closed-form moments
   printed beside the Monte Carlo ones are an independent check of the whole comparison.

Everything is seeded: rerunning prints the same numbers.
"""

from __future__ import annotations

import math
import sys
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import fpsolve as fp
import fpsolve.validate as validate
from fpsolve.analysis import exit_time_distribution
from fpsolve.cases import resolve_case
from fpsolve.cases.config import build_grid, build_landscape, build_model, load_case
from fpsolve.cases.validation import domain_predicate
from fpsolve.cli import main as fpsolve_cli
from fpsolve.montecarlo import HalfSpace, simulator
from fpsolve.validate.statistics import ks_critical_value

HERE = Path(__file__).resolve().parent
ALPHA = 0.01


# ------------------------------------------------------------------------------------------------
# 1 and 2: exit times, Euler-Maruyama with and without the Brownian bridge
# ------------------------------------------------------------------------------------------------
N_PATHS = 10_000
T_MAX = 400.0  # S(400) ~ 1e-5: about 0.1 censored paths expected out of 10^4
STEPS = (1e-2, 1e-3)


def exit_time_examples(folder: Path):
    case = load_case(resolve_case("exit_time_1d"))
    spec = case.table("exit")
    model = build_model(case, build_landscape(case))
    grid = build_grid(case)
    boundary = case.tables.get("boundary", {}).get("kind", "reflecting")
    law = exit_time_distribution(
        model, grid, domain_predicate(case, spec["domain"], grid.ndim), tuple(spec["start"]), boundary=boundary
    )
    print(f"PDE ({grid.shape[0]} cells): {law}")
    print("  exact mean exit time from x = -1 (double integral, cases/exit_time_1d.toml): 33.9457442877")

    start = np.array(spec["start"], dtype=float)
    runs = {}
    for dt in STEPS:
        for bridge in (False, True):
            # The predicate is evaluated at step ends only; the HalfSpace x < 0 adds the bridge test.
            domain = HalfSpace([1.0], 0.0) if bridge else (lambda x: x < 0.0)
            sim = simulator(model, dt=dt, seed=2024, bounds=[(-2.5, 2.5)])
            tic = time.perf_counter()
            ex = sim.exit_times(start, N_PATHS, domain=domain, t_max=T_MAX)
            seconds = time.perf_counter() - tic
            name = f"em_dt{dt:g}_{'bridge' if bridge else 'endpoint'}"
            path = folder / f"{name}.npz"
            validate.save_samples(
                path,
                exit_times=ex.times,
                censored=ex.censored,
                time_limit=ex.t_max,
                metadata={
                    "simulator": f"fpsolve.montecarlo Euler-Maruyama, {'Brownian-bridge' if bridge else 'end-point'} exit test",
                    "model": "Langevin, U = (x^2 - 1)^2, T = 0.25",
                    "seed": 2024,
                    "dt": dt,
                    "case": "exit_time_1d",
                    "n_paths": N_PATHS,
                },
            )
            code = fpsolve_cli(["validate", "exit_time_1d", "--samples", str(path)])
            report = validate.exit_times(ex.times, law, censored=ex.censored, time_limit=ex.t_max, alpha=ALPHA)
            rel = ex.times.mean() / law.mean - 1
            print(
                f"  {name}: {seconds:.1f} s, {int(ex.censored.sum())} censored, mean {ex.times.mean():.3f} "
                f"({100 * rel:+.2f} % vs PDE; +1.3 sqrt(dt) = {130 * math.sqrt(dt):+.1f} %, "
                f"-1.75 dt = {-175 * dt:+.2f} %), KS D = {report.details.get('ks_statistic', float('nan')):.4f}, "
                f"p = {report.p_value:.3g}, exit code {code}"
            )
            runs[(dt, bridge)] = (ex, report, code)
    _plot_exit_times(law, runs)
    return law, runs


def _plot_exit_times(law, runs):
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    t = np.linspace(0, 150, 600)
    left.semilogy(t, law.survival(t), "k", lw=2, label="PDE S(t)")
    colors = {(1e-2, False): "C3", (1e-3, False): "C1", (1e-2, True): "C0", (1e-3, True): "C2"}
    for (dt, bridge), (ex, report, code) in runs.items():
        times = np.sort(ex.times)
        n = times.size
        Fn = np.arange(1, n + 1) / n
        label = f"dt = {dt:g}, {'bridge' if bridge else 'end point'}: p = {report.p_value:.2g}"
        left.semilogy(times, 1 - Fn + 1e-12, color=colors[(dt, bridge)], lw=1, label=label)
        right.plot(times, Fn - (1 - law.survival(times)), color=colors[(dt, bridge)], lw=1, label=label)
    # The band of the KS test inside the verdict: level alpha/2 (Bonferroni with the mean test);
    # censored runs use the KS test restricted to [0, T] (critical value at F(T)), the others the
    # exact uncensored one. With < 1 censored path expected the four bands agree to ~1e-6.
    band = max(
        ks_critical_value(report.details["n"], ALPHA / 2, report.details["cdf_at_time_limit"])
        for _, report, _ in runs.values()
    )
    print(f"  KS acceptance band: +-{band:.4f} (level alpha/2 = {ALPHA / 2:g}, n = {N_PATHS})")
    right.axhspan(
        -band, band, color="0.85", label=f"KS acceptance band ±{band:.4f} (level α/2 = {ALPHA / 2:g}, Bonferroni)"
    )
    right.axhline(0, color="k", lw=0.5)
    left.set(
        xlim=(0, 150),
        ylim=(1e-2, 1.1),
        xlabel="t",
        ylabel="P(τ > t)",
        title="exit from the left well, U = (x²−1)², T = 0.25, from x = −1 (exit_time_1d)",
    )
    right.set(
        xlim=(0, 150),
        xlabel="t",
        ylabel="F_n(t) − F_PDE(t)",
        title=f"empirical minus PDE law, n = {N_PATHS} paths each",
    )
    left.legend(fontsize=7)
    right.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(HERE / "validate_exit_times.png", dpi=120)
    plt.close(fig)


# ------------------------------------------------------------------------------------------------
# 3: discrete SGD against the SDE and the modified-loss SDE
# ------------------------------------------------------------------------------------------------
CURVATURE = 1.0  # U = CURVATURE x^2 / 2
LEARNING_RATES = (0.05, 0.2)  # lr * curvature: a moderate and a large step for this well
TEMPERATURE = 0.01  # T = D = lr sigma^2 / (2 B) with B = 1: sigma^2 = 2 T / lr
X0, STD0 = 3.0, 0.02
T_TRANSIENT = 1.0  # 20 or 5 iterations
N_TRANSIENT = 5_000
T_STATIONARY = 40.0  # (1 - lr)^(2 k) <= e^(-80): the start is forgotten
N_STATIONARY = 20_000


def sgd_loop(lr, n, k, seed):
    """The simulator under test: plain SGD with Gaussian gradient noise, n independent runs."""
    sigma = math.sqrt(2 * TEMPERATURE / lr)
    rng = np.random.default_rng(seed)
    x = rng.normal(X0, STD0, n)
    for _ in range(k):
        gradient = CURVATURE * x + sigma * rng.standard_normal(n)
        x = x - lr * gradient
    return x


def gaussian_moments(kind, lr, k):
    """Closed-form mean and variance after k iterations (time t = lr k) from N(X0, STD0^2).

    SGD: x_k = a x_{k-1} + lr sigma xi with a = 1 - lr lambda, so Var_k = a^2 Var_{k-1} + 2 lr T.
    SDE (OU with rate lam = lambda, or lambda (1 + lr lambda / 2) for the modified loss, and
    diffusion D = T): mean x0 e^{-lam t}, Var = std0^2 e^{-2 lam t} + T/lam (1 - e^{-2 lam t}).
    """
    t = lr * k
    if kind == "sgd":
        a = 1 - lr * CURVATURE
        return X0 * a**k, STD0**2 * a ** (2 * k) + 2 * lr * TEMPERATURE * (1 - a ** (2 * k)) / (1 - a**2)
    lam = CURVATURE * (1 + lr * CURVATURE / 2) if kind == "modified" else CURVATURE
    decay = math.exp(-lam * t)
    return X0 * decay, STD0**2 * decay**2 + TEMPERATURE / lam * (1 - decay**2)


def sgd_examples():
    U = fp.Landscape(
        lambda x: 0.5 * CURVATURE * x**2, lambda x: (CURVATURE * x,), lambda x: [[CURVATURE + 0 * x]], name="quadratic"
    )
    grid = fp.Grid([(-1.0, 4.0)], [3000])
    p0 = fp.gaussian(grid, mean=(X0,), std=STD0)
    x = grid.centers[0]
    samples, densities, reports = {}, {}, {}
    print(
        f"\nSGD on U = x^2/2 with Gaussian gradient noise, T = lr sigma^2 / 2 = {TEMPERATURE}, "
        f"start N({X0}, {STD0}^2); PDE on {grid.shape[0]} cells"
    )
    for lr in LEARNING_RATES:
        steps = {"transient": round(T_TRANSIENT / lr), "stationary": round(T_STATIONARY / lr)}
        samples[(lr, "transient")] = sgd_loop(lr, N_TRANSIENT, steps["transient"], seed=7)
        samples[(lr, "stationary")] = sgd_loop(lr, N_STATIONARY, steps["stationary"], seed=8)
        for modified in (False, True):
            model = fp.SGD(
                U, lr=lr, batch_size=1, noise="isotropic", noise_scale=2 * TEMPERATURE / lr, modified_loss=modified
            )
            fpe = fp.FokkerPlanck(model, grid)
            name = "modified" if modified else "sde"
            # trbdf2 (or "exponential"), not "cram": the rational CRAM approximation loses
            # positivity on this drift-dominated (strongly non-normal) generator
            densities[(lr, "transient", name)] = fpe.evolve(p0, [0.0, T_TRANSIENT], method="trbdf2", rtol=1e-10).p[-1]
            densities[(lr, "stationary", name)] = fpe.stationary()
            for when in ("transient", "stationary"):
                reports[(lr, when, name)] = validate.densities(
                    samples[(lr, when)], densities[(lr, when, name)], grid=grid, alpha=ALPHA
                )
        for when in ("transient", "stationary"):
            xs, k = samples[(lr, when)], steps[when]
            print(
                f"  lr = {lr}, {when} (k = {k}, t = {lr * k:g}), n = {xs.size}: "
                f"Monte Carlo mean {xs.mean():.4f}, var {xs.var(ddof=1):.5f}"
            )
            for kind in ("sgd", "sde", "modified"):
                m, v = gaussian_moments(kind, lr, k)
                line = f"    closed form {kind:8s}: mean {m:.4f}, var {v:.5f}"
                if kind != "sgd":
                    pde = densities[(lr, when, kind)]
                    pm = (pde * x).sum() * grid.cell_volume
                    pv = (pde * (x - pm) ** 2).sum() * grid.cell_volume
                    r = reports[(lr, when, kind)]
                    line += (
                        f" | PDE mean {pm:.4f}, var {pv:.5f} | chi2 = {r.statistic:.1f} on "
                        f"{r.details['df']} df, p = {r.p_value:.3g}, TV = {r.details['total_variation']:.4f} "
                        f"(null mean {r.details['total_variation_null_mean']:.4f}) -> {r.verdict.upper()}"
                    )
                print(line)
    _plot_sgd(grid, samples, densities, reports)
    return reports


def _plot_sgd(grid, samples, densities, reports):
    x = grid.centers[0]
    fig, axes = plt.subplots(len(LEARNING_RATES), 2, figsize=(11, 3.6 * len(LEARNING_RATES)))
    for row, lr in zip(axes, LEARNING_RATES):
        for ax, when, window in zip(row, ("transient", "stationary"), ((0.6, 1.5), (-0.45, 0.45))):
            ax.hist(
                samples[(lr, when)],
                bins=60,
                range=window,
                density=True,
                color="0.75",
                label=f"discrete SGD, n = {samples[(lr, when)].size}",
            )
            for name, color, label in (("sde", "C3", "SDE"), ("modified", "C0", "SDE, modified loss")):
                r = reports[(lr, when, name)]
                ax.plot(x, densities[(lr, when, name)], color=color, label=f"{label}: p = {r.p_value:.2g}")
            ax.set(xlim=window, xlabel="x", ylabel="density")
            ax.legend(fontsize=8)
        row[0].set_title(f"lr = {lr}: t = {T_TRANSIENT:g} ({round(T_TRANSIENT / lr)} steps) from x = {X0}")
        row[1].set_title(f"lr = {lr}: stationary")
    fig.tight_layout()
    fig.savefig(HERE / "validate_sgd.png", dpi=120)
    plt.close(fig)


def main() -> int:
    tic = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        exit_time_examples(Path(folder))
    sgd_examples()
    print(f"\ndone in {time.perf_counter() - tic:.0f} s; figures in {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
