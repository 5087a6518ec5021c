"""
Monte Carlo against the PDE
===========================

Overdamped Langevin dynamics dX = −U′(X) dt + √(2T) dW in the double well U(x) = (x² − 1)² at
temperature T = 0.4, started at the left minimum x = −1. Two questions, answered twice: by the
Fokker–Planck/backward-Kolmogorov PDE on a grid, and by 4000 seeded Euler–Maruyama paths from
:func:`fpsolve.montecarlo.simulator`.

* Left: the histogram of the paths at t = 1 over the PDE density at t = 1.
* Right: the law of the exit time through the barrier top x = 0 (the survival function
  P(τ > t) from the backward equation) over the paths' empirical survival. The simulator tests
  for a Brownian-bridge crossing between step ends (``HalfSpace``), so its exits are not late.
"""

import matplotlib.pyplot as plt
import numpy as np

import fpsolve as fp
from fpsolve.montecarlo import HalfSpace, simulator

U = fp.landscapes.double_well()  # (x^2 - 1)^2
model = fp.Langevin(U, temperature=0.4)
grid = fp.Grid([(-2.5, 2.5)], [800])
fpe = fp.FokkerPlanck(model, grid)

t_snapshot = 1.0
density = fpe.evolve(fp.point_mass(grid, (-1.0,)), t=[0.0, t_snapshot]).p[-1]
law = fp.exit_time_distribution(fpe, domain=lambda x: x < 0, start=(-1.0,))

sim = simulator(model, dt=2e-3, seed=1)
samples = sim.sample((-1.0,), n_paths=4000, times=[t_snapshot])
exits = sim.exit_times((-1.0,), n_paths=4000, domain=HalfSpace([1.0], 0.0), t_max=100.0)

mean_mc = exits.times.mean()
half_width = 1.96 * exits.times.std(ddof=1) / np.sqrt(exits.n_paths)
print(f"mean exit time: PDE {law.mean:.3f}, Monte Carlo {mean_mc:.3f} ± {half_width:.3f} (95 %)")
print(f"censored paths (t > 100): {exits.censored.sum()}")

# %%
# The empirical survival of the samples is a step function; the PDE curve should run through it,
# within the Kolmogorov–Smirnov band 1.36/√n at 95 % (about 0.02 for 4000 paths).
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
left.hist(samples.x[0, :, 0], bins=60, density=True, color="0.75", label="Monte Carlo, 4000 paths")
left.plot(grid.centers[0], density, color="C0", label="Fokker–Planck")
left.axvline(-1.0, color="k", lw=0.8, ls=":", label="start x = −1")
left.set_xlim(-2.0, 1.5)
left.set_xlabel("x")
left.set_ylabel("density")
left.set_title(f"density at t = {t_snapshot:g}")
left.legend(fontsize=8)

t_sorted = np.sort(exits.times)
empirical = 1.0 - np.arange(1, len(t_sorted) + 1) / len(t_sorted)
band = 1.36 / np.sqrt(exits.n_paths)
t_plot = np.linspace(0.0, np.quantile(t_sorted, 0.995), 400)
right.fill_between(
    t_plot, law.survival(t_plot) - band, law.survival(t_plot) + band, color="C3", alpha=0.2, label="95 % KS band"
)
right.plot(t_plot, law.survival(t_plot), color="C3", label="backward equation")
right.step(t_sorted, empirical, where="post", color="k", lw=0.8, label="Monte Carlo (empirical)")
right.set_xlim(0.0, t_plot[-1])
right.set_ylim(0.0, 1.02)
right.set_xlabel("t")
right.set_ylabel("P(τ > t)")
right.set_title(f"exit through x = 0: mean τ = {law.mean:.2f} (PDE), {mean_mc:.2f} (MC)")
right.legend(fontsize=8)
fig.suptitle("Langevin, U = (x² − 1)², T = 0.4, start x = −1, dt = 2e-3")
plt.show()
