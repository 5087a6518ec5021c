"""
Validating your own simulator
=============================

You have written a simulator — here, twenty lines of NumPy Euler–Maruyama for overdamped
Langevin dynamics dX = −U′(X) dt + √(2T) dW in U(x) = (x² − 1)², T = 0.4 — and want to know
whether it samples the law it claims to. :mod:`fpsolve.validate` answers with a hypothesis test
against the PDE: "the simulator samples exactly the PDE's law", rejected at level α = 0.01.

Two versions of the same simulator measure the time to cross the barrier top x = 0 from x = −1.
The naive one tests for an exit only at the end of each step: a path that crosses 0 and comes back
within a step is missed, so its exits are late by about 1.3√dt relative. The corrected one also
draws the Brownian-bridge crossing probability exp(−2 d₀ d₁ / (2T dt)) between step ends.
"""

import matplotlib.pyplot as plt
import numpy as np

import fpsolve as fp
import fpsolve.validate

TEMPERATURE, DT, N_PATHS, T_MAX = 0.4, 1e-2, 4000, 100.0


def my_simulator(bridge: bool, seed: int = 0):
    """Exit times from x < 0 of Euler-Maruyama paths started at x = -1 (censored at T_MAX)."""
    rng = np.random.default_rng(seed)
    x = np.full(N_PATHS, -1.0)
    exit_time = np.full(N_PATHS, T_MAX)
    alive = np.ones(N_PATHS, dtype=bool)
    for step in range(1, round(T_MAX / DT) + 1):
        xa = x[alive]
        new = xa - 4 * xa * (xa**2 - 1) * DT + np.sqrt(2 * TEMPERATURE * DT) * rng.standard_normal(xa.size)
        crossed = new >= 0
        if bridge:  # P(a Brownian bridge from xa to new touches 0) when both are below 0
            p_touch = np.exp(-2 * xa * new / (2 * TEMPERATURE * DT))
            crossed |= rng.random(xa.size) < np.where(crossed, 1.0, p_touch)
        index = np.flatnonzero(alive)
        exit_time[index[crossed]] = step * DT
        alive[index[crossed]] = False
        x[index] = new
        if not alive.any():
            break
    return exit_time, alive


# the PDE's exit-time law: backward equation on a fine grid, absorbing where x >= 0
grid = fp.Grid([(-2.5, 0.5)], [1200])
model = fp.Langevin(fp.landscapes.double_well(), temperature=TEMPERATURE)
law = fp.exit_time_distribution(fp.FokkerPlanck(model, grid), domain=lambda x: x < 0, start=(-1.0,))

reports = {}
for name, bridge in [("end-point test", False), ("Brownian bridge", True)]:
    times, censored = my_simulator(bridge)
    reports[name] = fpsolve.validate.exit_times(times, law, censored=censored, time_limit=T_MAX)
    print(f"{name}: {reports[name].message}")

# %%
# Each report draws the picture behind its verdict: the empirical survival of the simulator's
# exit times against the PDE's. The end-point simulator's exits are systematically late.
fig, axes = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
for ax, (name, report) in zip(axes, reports.items()):
    report.plot(ax=ax)
    verdict = "PASS" if report.passed else "REJECT"
    ax.set_title(f"{name}: {verdict} (p = {report.p_value:.2g})")
fig.suptitle(
    f"Euler–Maruyama, dt = {DT:g}, {N_PATHS} paths, U = (x² − 1)², T = {TEMPERATURE:g}, start x = −1, exit at x = 0"
)
plt.show()
