r"""
Momentum SGD in phase space
===========================

Heavy-ball SGD, θₖ₊₁ = θₖ − η g + β(θₖ − θₖ₋₁), is a kinetic SDE in the phase space (θ, v) with
t = η × iterations (:class:`fpsolve.MomentumSGD`; the convention is in :doc:`../momentum`). Its
density obeys the kinetic Fokker–Planck equation: transport along dθ = v dt, friction and noise
in v only. On a quadratic U = λθ²/2 with gradient noise Σ = σ²H, Kunin et al. (2021) give the
stationary variances in closed form,

.. math::

    \operatorname{Var}\theta = \frac{\eta\sigma^2}{2B(1-\beta)}, \qquad
    \operatorname{Var}v = \frac{\sigma^2\lambda}{B(1-\beta^2)},

so momentum widens the spread in θ by 1/(1 − β). This example computes the stationary law of the
kinetic equation on a (θ, v) grid from :func:`fpsolve.phase_space_grid` for two momenta, and
compares its variances with the closed form. The kinetic scheme is second order: at β = 0.9 the
error of Var θ is 12 %, 3 % and 1.3 % on 64², 128² and 192² cells.
"""

import matplotlib.pyplot as plt
import numpy as np

import fpsolve as fp

LR, BATCH, SIGMA2, CURVATURE = 0.1, 1, 1.0, 4.0
U = fp.landscapes.quadratic([[CURVATURE]])

results = []
for beta in (0.5, 0.9):
    var_theta = LR * SIGMA2 / (2 * BATCH * (1 - beta))
    var_v = SIGMA2 * CURVATURE / (BATCH * (1 - beta**2))
    model = fp.MomentumSGD(U, lr=LR, batch_size=BATCH, momentum=beta, noise="hessian", noise_scale=SIGMA2)
    # boxes of +- 6 standard deviations of the stationary law in each direction
    grid = fp.phase_space_grid(
        theta=(-6 * np.sqrt(var_theta), 6 * np.sqrt(var_theta)),
        v=(-6 * np.sqrt(var_v), 6 * np.sqrt(var_v)),
        cells=(192, 192),
    )
    p = fp.FokkerPlanck(model, grid).stationary()  # the "kinetic" scheme, reflecting walls
    theta, v = grid.centers
    mass = p * grid.cell_volume
    measured = ((mass.sum(axis=1) * theta**2).sum(), (mass.sum(axis=0) * v**2).sum())
    print(
        f"beta = {beta}: Var theta {measured[0]:.4f} (closed form {var_theta:.4f}), "
        f"Var v {measured[1]:.3f} (closed form {var_v:.3f})"
    )
    results.append((beta, grid, p, measured, (var_theta, var_v)))

# %%
# Each panel: the stationary density in (θ, v) with its colour bar, and the ellipse
# θ²/Var θ + v²/Var v = 4 of the closed-form Gaussian (two standard deviations) in white.
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
angle = np.linspace(0, 2 * np.pi, 200)
for ax, (beta, grid, p, measured, exact) in zip(axes, results):
    theta, v = grid.centers
    image = ax.pcolormesh(theta, v, np.clip(p, 0.0, None).T, shading="auto", cmap="magma")
    fig.colorbar(image, ax=ax, label="stationary density")
    ax.plot(2 * np.sqrt(exact[0]) * np.cos(angle), 2 * np.sqrt(exact[1]) * np.sin(angle), "w--", lw=1)
    ax.set_title(f"β = {beta}: Var θ = {measured[0]:.3f} (Kunin {exact[0]:.3f})")
    ax.set_xlabel("θ")
    ax.set_ylabel("v")
fig.suptitle(f"heavy-ball SGD on U = {CURVATURE:g}θ²/2, η = {LR:g}, B = {BATCH}, Σ = σ²H with σ² = {SIGMA2:g}")
plt.show()
