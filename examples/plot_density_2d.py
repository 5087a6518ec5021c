r"""
A 2-D density over time
=======================

SGD with Hessian-shaped gradient noise on a two-dimensional double well,
U(x, y) = (x² − 1)² + 2y², started as a narrow Gaussian in the left well. The Fokker–Planck
equation is evolved exactly in time (Krylov exponential) on a finite-volume grid; each panel is the
density at one time with its own colour bar, the fifth the stationary law, and the last the
marginal density of x at every time.

Time is continuous time t = lr × iterations, so with lr = 0.5 the panel at t = 30 is SGD after
60 iterations. The density's peaks settle near x = ±0.8 rather than at the minima ±1: with
Hessian noise the diffusion :math:`D(x) \propto |H(x)|` grows away from the barrier, and the Itô
term :math:`\partial_i\partial_j(D_{ij}p)` pushes mass down the gradient of D, so the stationary
law is not :math:`e^{-U/T}`.
"""

import matplotlib.pyplot as plt
import numpy as np

import fpsolve as fp

U = fp.Landscape(lambda x, y: (x**2 - 1) ** 2 + 2 * y**2)
grid = fp.Grid([(-2.2, 2.2), (-1.2, 1.2)], [200, 100])
LR = 0.5
# D = lr |H| / (2B); |H|'s eigenvalues are floored at 3 so that D varies slowly on this grid
model = fp.SGD(U, lr=LR, batch_size=2, noise="hessian", hessian_floor=3.0)
fpe = fp.FokkerPlanck(model, grid)  # reflecting box

times = [0.0, 0.5, 3.0, 30.0]
sol = fpe.evolve(fp.gaussian(grid, mean=(-1, 0), std=0.15), t=times)
p_inf = fpe.stationary()
print(f"mass at t = {times[-1]:g}: {sol.mass[-1]:.12f}")
print(f"slowest relaxation rate: {fpe.relaxation_rates(k=1)[0]:.4f} per unit t")

# %%
# Each panel has its own colour scale: the density sharpens and spreads by orders of magnitude
# between t = 0 and the stationary law, so a shared scale would hide all but one panel.
x, y = grid.mesh()
panels = [(f"t = {t:g} ({t / LR:g} iteration{'' if t == LR else 's'})", p) for t, p in zip(sol.t, sol.p)]
panels.append(("stationary", p_inf))
fig, axes = plt.subplots(2, 3, figsize=(13, 6), constrained_layout=True)
for ax, (title, p) in zip(axes.flat, panels):
    image = ax.pcolormesh(x, y, p, shading="auto", cmap="viridis")
    fig.colorbar(image, ax=ax, label="density")
    ax.plot(-1, 0, "w+", markersize=9, label="start (−1, 0)")
    ax.set_title(title)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
axes.flat[0].legend(loc="upper right", fontsize=8)

# the last panel: the x-marginal at every time, on one axis
marginal_ax = axes.flat[-1]
dy = grid.centers[1][1] - grid.centers[1][0]
for (title, p), shade in zip(panels, np.linspace(0.15, 0.9, len(panels))):
    marginal_ax.plot(grid.centers[0], p.sum(axis=1) * dy, color=plt.cm.viridis(shade), label=title)
marginal_ax.set_xlabel("x")
marginal_ax.set_ylabel("marginal density of x")
marginal_ax.set_title("x-marginals")
marginal_ax.legend(fontsize=7)
fig.suptitle("SGD (lr = 0.5, B = 2, Hessian noise floored at 3) on (x² − 1)² + 2y²")
plt.show()
