r"""
Exit time and occupancy against batch size
==========================================

SGD with Hessian-shaped gradient noise, :math:`D(x) = \eta s\,|U''(x)|/(2B)` with learning rate
:math:`\eta = 0.1` and :math:`s = 200`, on a 1-D double well whose two
minima are equally deep but unequally curved (U″ = 16 at the sharp minimum x = −1, 4 at the flat
one x = +1; :func:`fpsolve.landscapes.sharp_flat_double_well`). :func:`fpsolve.sweep` runs one
small Fokker–Planck problem per batch size and collects:

* the mean exit time from the sharp basin, started at its minimum (backward equation), in
  iterations = t / lr. Xie et al. (2021) predict log τ linear in B for Hessian noise;
* the mass in the flat basin at t = 20 (after 200 iterations) and at stationarity, starting from a
  uniform density.

Smaller batches mean more noise: the sharp minimum is left sooner. At stationarity the flat
minimum holds most of the mass for every batch size (Dai & Zhu 2021), but with large batches the
density needs far longer than 200 iterations to get there.
"""

import matplotlib.pyplot as plt
import numpy as np

import fpsolve as fp

LR = 0.1
T_OCCUPANCY = 20.0
NOISE_SCALE = 200.0
U = fp.landscapes.sharp_flat_double_well(kappa_sharp=16.0, kappa_flat=4.0)
grid = fp.Grid([(-2.5, 2.5)], [1600])
SADDLE = -0.208455  # the barrier top between the two basins (docstring of U)
basins = fp.basins(grid, U)
flat = int(np.argmax([m[0] for m in basins.minima]))  # the basin whose minimum is at x = +1


def point(batch_size):
    """Exit time (iterations) from the sharp basin and flat-basin mass, for one batch size."""
    # Sigma = NOISE_SCALE |H|, |H| floored at 1; near a minimum SGD sees a temperature lr NOISE_SCALE / (2B)
    model = fp.SGD(U, lr=LR, batch_size=batch_size, noise="hessian", noise_scale=NOISE_SCALE, hessian_floor=1.0)
    fpe = fp.FokkerPlanck(model, grid)
    tau = fp.mean_exit_time(fpe, domain=lambda x: x < SADDLE)
    sol = fpe.evolve(fp.uniform(grid), t=[0.0, T_OCCUPANCY])
    over_time = fp.basin_occupancy(sol, basins)
    stationary = fp.basin_occupancy(fpe.stationary(), basins, grid=grid)
    return {
        "exit_iterations": tau(-1.0) / LR,
        "flat_mass_t": over_time.fractions[-1, flat],
        "flat_mass_stationary": stationary.fractions[-1, flat],
    }


table = fp.sweep(point, batch_size=[16, 32, 64, 128, 256, 512], progress=False)
print(table)

# %%
# Left: the exit time grows exponentially with the batch size (a straight line on a log axis).
# Right: the flat basin's share of the mass, after 200 iterations and at stationarity.
B = table["batch_size"]
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
left.semilogy(B, table["exit_iterations"], "o-")
left.set_xscale("log", base=2)
left.set_xlabel("batch size B")
left.set_ylabel("mean exit time from the sharp minimum (iterations)")
left.set_title("exit from x = −1 through the saddle")
right.plot(B, table["flat_mass_t"], "o-", label=f"t = {T_OCCUPANCY:g} ({T_OCCUPANCY / LR:g} iterations)")
right.plot(B, table["flat_mass_stationary"], "s--", label="stationary")
right.axhline(0.5, color="k", lw=0.8, ls=":", label="equal share")
right.set_xscale("log", base=2)
right.set_ylim(0.0, 1.0)
right.set_xlabel("batch size B")
right.set_ylabel("mass in the flat basin")
right.set_title("occupancy of the flat minimum (start: uniform)")
right.legend(fontsize=8)
fig.suptitle("SGD, lr = 0.1, Hessian noise (s = 200, floor 1), sharp (U″ = 16) vs flat (U″ = 4) minimum")
plt.show()
