r"""
Deep ResNets as an SDE: the depth limit of E H(1)²
==================================================

A residual network :math:`h_{k+1} = h_k + \tanh(A_k h_k + b_k)` with i.i.d. weights of variance
1/L (:math:`A_k`) and 0.25/L (:math:`b_k`) converges, as the depth L grows, to the Itô diffusion
:math:`dH = H\,dW^A + dW^b` in the layer "time" s = k/L (Cohen, Cont, Rossier & Xu 2021;
:mod:`fpsolve.papers`, docs/papers.md). Itô's formula closes its second moment:
:math:`m' = m + 0.25`, so from :math:`h_0 = 1`

.. math:: E\,H(s)^2 = 1.25\,e^{s} - 0.25, \qquad E\,H(1)^2 = 1.25\,e - 0.25 = 3.1479.

* left: E H(s)² from the Fokker–Planck law of the limit SDE (:class:`fpsolve.papers.ResNetSDELimit`,
  8000 cells on (−200, 200), started from N(1, 0.02²)) against that closed form (with the start's
  variance 0.02² added to m(0)), and E h_L² of 20000 finite networks of depth 4, 32 and 256 at s = 1
  (Monte Carlo, 99 % intervals, drawn side by side). They approach the limit slowly, about like
  :math:`L^{-0.4}`: networks whose state grows large saturate tanh (docs/papers.md);
* right: the law of H(1), Fokker–Planck density against a histogram of depth-256 networks.
"""

import matplotlib.pyplot as plt
import numpy as np

import fpsolve as fp
from fpsolve.papers import ResNetSDELimit, resnet_outputs

limit = ResNetSDELimit(sigma="tanh", var_A=1.0, var_b=0.25, dim=1)
grid = fp.Grid([(-200.0, 200.0)], [8000])
START_STD = 0.02
layer_times = np.linspace(0.0, 1.0, 6)
sol = fp.FokkerPlanck(limit.model(), grid).evolve(fp.gaussian(grid, mean=1.0, std=START_STD), layer_times)
x = grid.centers[0]
fp_moment = np.array([grid.integrate(p * x**2) for p in sol.p])
closed_form = (1.0 + START_STD**2 + 0.25) * np.exp(layer_times) - 0.25
print(
    f"E H(1)^2: Fokker-Planck {fp_moment[-1]:.5f}, closed form from N(1, 0.02^2) {closed_form[-1]:.5f}, "
    f"from h0 = 1: 1.25 e - 0.25 = {1.25 * np.e - 0.25:.5f}"
)
print(f"max relative error of the FP moments over s: {np.max(np.abs(fp_moment / closed_form - 1)):.1e}")

N_NETWORKS = 20_000
# E H(1)^2 of finite networks, with a 99 % interval (2.576 standard errors)
finite = {}
for depth in (4, 32, 256):
    h = resnet_outputs(depth, N_NETWORKS, [1.0], seed=depth)[:, 0]
    finite[depth] = (np.mean(h**2), 2.576 * np.std(h**2, ddof=1) / np.sqrt(N_NETWORKS), h)
    print(f"depth {depth:3d}: E h_L^2 = {finite[depth][0]:.4f} +- {finite[depth][1]:.4f} (99 %)")

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
s_fine = np.linspace(0, 1, 200)
left.plot(s_fine, 1.25 * np.exp(s_fine) - 0.25, "k", lw=1, label=r"Itô: $1.25e^s - 0.25$")
left.plot(layer_times, fp_moment, "o", color="C1", label="Fokker–Planck law of the SDE limit")
for depth, color in zip((4, 32, 256), ("C2", "C3", "C4")):
    mean, half, _ = finite[depth]
    left.errorbar(
        [1.0 + 0.012 * np.log2(depth / 4) / 3],
        [mean],
        yerr=[half],
        fmt="s",
        color=color,
        capsize=3,
        ms=4,
        label=f"{N_NETWORKS} ResNets of depth L = {depth}, 99 %",
    )
left.set(
    xlabel="layer time s = k / L", ylabel=r"$E\,H(s)^2$", title=r"tanh ResNet, $h_0 = 1$, var$_A$ = 1, var$_b$ = 0.25"
)
left.legend(fontsize=8)

deepest = finite[256][2]
window = (-4.0, 8.0)
right.hist(deepest, bins=120, range=window, density=True, color="0.75", label=f"ResNets of depth 256, n = {N_NETWORKS}")
right.plot(x, sol.p[-1], color="C1", label="Fokker–Planck density of H(1)")
right.set(xlim=window, xlabel="H(1)", ylabel="density", title="law of the output at s = 1")
right.legend(fontsize=8)
fig.tight_layout()
plt.show()
