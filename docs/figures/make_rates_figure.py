"""Rates from the generator against Eyring-Kramers (isotropic) and Xie et al. (Hessian noise).

Run: python docs/figures/make_rates_figure.py   -> docs/figures/rates_vs_kramers.png (+ a table)
"""

import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import fpsolve as fp  # noqa: E402
from fpsolve import landscapes  # noqa: E402
from fpsolve.analysis import eyring_kramers_rate, transition_rates, xie_escape_time  # noqa: E402

warnings.filterwarnings("ignore")
U = landscapes.double_well()
grid = fp.Grid([(-2.2, 2.2)], [1760])
inv_T = np.array([1, 2, 4, 6, 8, 12, 16, 20])
pde, ek = [], []
for b in inv_T:
    r = transition_rates(fp.Langevin(U, 1.0 / b), grid)
    pde.append(r.matrix[0, 1])
    ek.append(eyring_kramers_rate(U, U.minima[0], U.saddles[0], 1.0 / b))
pde, ek = np.array(pde), np.array(ek)

Us = landscapes.sharp_flat_double_well()
B = np.array([1, 2, 3, 4, 6, 8])
lr, scale = 1.0, 8.0
hess, xie = [], []
for b in B:
    model = fp.SGD(Us, lr=lr, batch_size=b, noise="hessian", noise_scale=scale)
    r = transition_rates(model, fp.Grid([(-2.2, 2.2)], [4400]))
    hess.append(1.0 / r.matrix[0, 1])
    xie.append(xie_escape_time(Us, Us.minima[0], Us.saddles[0], lr=lr, batch_size=b, noise_scale=scale))
hess, xie = np.array(hess), np.array(xie)

print("dU/T   PDE rate        Eyring-Kramers  ratio")
for b, p, k in zip(inv_T, pde, ek):
    print(f"{b:4d}  {p:14.6e}  {k:14.6e}  {p / k:6.3f}")
print("B   PDE tau (sharp->flat)  Xie s=1/2       ratio")
for b, p, x in zip(B, hess, xie):
    print(f"{b:3d}  {p:14.6e}  {x:14.6e}  {p / x:9.3g}")

fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
a1.plot(inv_T, pde / ek, "o-")
a1.axhline(1, color="k", lw=0.5)
a1.set_xlabel("dU / T")
a1.set_ylabel("PDE rate / Eyring-Kramers")
a1.set_title("double well, isotropic noise")
a2.semilogy(B, hess, "o-", label="PDE (exact for the grid)")
a2.semilogy(B, xie, "s--", label="Xie et al., s = 1/2")
a2.set_xlabel("batch size B")
a2.set_ylabel("escape time sharp -> flat")
a2.set_title(f"sharp/flat well, Hessian noise, lr = {lr:g}, scale {scale:g}")
a2.legend()
fig.tight_layout()
out = Path(__file__).with_name("rates_vs_kramers.png")
fig.savefig(out, dpi=120)
print("wrote", out)
