r"""
Heavy-tailed (Lévy) gradient noise
==================================

Gradient noise in deep learning is often heavy-tailed. :class:`fpsolve.LevyLangevin` replaces the
Brownian motion by an α-stable Lévy process,
:math:`dX = -U'(X)\,dt + \varepsilon\, dL^\alpha` with :math:`E\,e^{ikL_1} = e^{-|k|^\alpha}`; its
Fokker–Planck equation carries the fractional Laplacian,
:math:`\partial_t p = \partial_x(pU') - \varepsilon^\alpha(-\Delta)^{\alpha/2}p`, which fpsolve
discretizes by the "fractional" scheme (chosen automatically for models with jumps).

In the double well :math:`U(x) = (x^2 - 1)^2`:

* left: the stationary density for α = 1.5 has power-law tails, :math:`\propto |x|^{-(\alpha+3)}`
  in this quartic well (Chechkin et al. 2002: a jump lands far out at a rate
  :math:`\propto |x|^{-1-\alpha}`, and the drift :math:`-U' \propto x^3` brings it back), while
  Brownian noise of the same scale (α = 2, :math:`D = \varepsilon^2`) has tails
  :math:`\propto e^{-U/\varepsilon^2}`;
* right: the mean time to leave the left well (−4, 0) from x = −1, against the noise scale. With
  Brownian noise it grows like :math:`e^{\Delta U/\varepsilon^2}`; with Lévy noise only
  polynomially, like :math:`\varepsilon^{-\alpha}`, because a single jump suffices. The dashed
  line is Imkeller & Pavlyukevich's small-noise law
  :math:`\tau \approx 1/(\varepsilon^\alpha\, \nu(\text{jumps out of the well}))` with
  :math:`\nu(dy) = c_\alpha |y|^{-1-\alpha} dy` and
  :math:`c_\alpha = \Gamma(1+\alpha)\sin(\pi\alpha/2)/\pi`.
"""

import math

import matplotlib.pyplot as plt
import numpy as np

import fpsolve as fp

U = fp.landscapes.double_well()
ALPHA, SCALE = 1.5, 0.4

# stationary laws. Reflecting faces suppress the jumps that would leave the box, so the Lévy box
# is wide (the mass this misplaces falls like its width^-alpha; fpsolve warns above 1e-3)
wide = fp.Grid([(-64.0, 64.0)], [12800])
p_levy = fp.FokkerPlanck(fp.LevyLangevin(U, alpha=ALPHA, scale=SCALE), wide).stationary()
narrow = fp.Grid([(-3.0, 3.0)], [600])
p_gauss = fp.FokkerPlanck(fp.Langevin(U, temperature=SCALE**2), narrow).stationary()

# mean exit times from the well (-4, 0); a jump past either end is an exit
grid = fp.Grid([(-4.0, 4.0)], [2000])


def in_well(x):
    """The exit domain: the left well, x < 0 (with the box's left face at -4)."""
    return x < 0


scales = np.geomspace(0.1, 0.5, 7)
tau_levy = [fp.mean_exit_time(fp.LevyLangevin(U, alpha=ALPHA, scale=s), grid, domain=in_well)(-1.0) for s in scales]
gauss_scales = scales[scales**2 >= 1 / 25]  # Brownian exits up to dU / D = 25
tau_gauss = [fp.mean_exit_time(fp.Langevin(U, temperature=s**2), grid, domain=in_well)(-1.0) for s in gauss_scales]

c_alpha = math.gamma(1 + ALPHA) * math.sin(math.pi * ALPHA / 2) / math.pi
jumps_out = c_alpha / ALPHA * (1.0**-ALPHA + 3.0**-ALPHA)  # from x = -1 past 0 or past -4
tau_asymptote = 1.0 / (scales**ALPHA * jumps_out)
for s, t, a in zip(scales, tau_levy, tau_asymptote):
    print(f"scale {s:.3f}: Levy tau = {t:9.3f}, Imkeller-Pavlyukevich {a:9.3f}")

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
x, shown = wide.centers[0], (wide.centers[0] > 1.0) & (wide.centers[0] < 40.0)
left.loglog(x[shown], p_levy[shown], label=f"Lévy, α = {ALPHA:g}")
x_gauss = narrow.centers[0]
left.loglog(x_gauss[x_gauss > 1.0], p_gauss[x_gauss > 1.0], label="Brownian (α = 2)")
reference = p_levy[np.searchsorted(x, 8.0)] * (x[shown] / 8.0) ** -(ALPHA + 3)
left.loglog(x[shown], reference, "k:", lw=1, label=r"$\propto x^{-(\alpha+3)}$")
left.set_ylim(1e-10, 3.0)
left.set_xlabel("x (right tail)")
left.set_ylabel("stationary density")
left.set_title(f"stationary law, scale ε = {SCALE:g}")
left.legend(fontsize=8)
right.loglog(1 / scales, tau_levy, "o-", label=f"Lévy, α = {ALPHA:g}")
right.loglog(1 / scales, tau_asymptote, "k--", lw=1, label=r"Imkeller–Pavlyukevich, $\propto \varepsilon^{-\alpha}$")
right.loglog(1 / gauss_scales, tau_gauss, "s-", label=r"Brownian, $\propto e^{\Delta U/\varepsilon^2}$")
right.set_xlabel("1 / ε")
right.set_ylabel("mean exit time from x = −1")
right.set_title("leaving the well (−4, 0)")
right.legend(fontsize=8)
fig.suptitle("Langevin dynamics in U = (x² − 1)² with α-stable and with Brownian noise")
plt.show()
