r"""
Sharp and flat minima in three parameters
=========================================

The built-in case ``exit_time_3d`` (``fpsolve run exit_time_3d``): SGD with Hessian gradient noise,
:math:`D = \eta\,|H(x)|/(2B)` with the eigenvalues of :math:`|H|` floored at 30, on

.. math:: U(x, y, z) = (x^2 - 1)^2 + \tfrac12 (40 - 20\tanh x)\, y^2 + \tfrac12 (30 - 10\tanh x)\, z^2 .

The two minima (∓1, 0, 0) are equally deep and equally curved along x; the sharp one has the
larger transverse curvatures (55.2, 37.6 against 24.8, 22.4). Off the axis H is not diagonal, so
D has cross terms and the chain is not reversible. Here the case runs on a coarse 21 × 17 × 17
grid to stay quick (the case's own grid is 39 × 33 × 33): the mean exit time from each minimum
through the saddle plane x = 0 against the batch size, next to the transverse-averaged 1-D
reduction (:mod:`fpsolve.cases.reduction_3d`), and a slice of the stationary density.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np

import fpsolve as fp
from fpsolve.cases.reduction_3d import transverse_reduction

case = fp.cases.load("exit_time_3d")
grid = fp.Grid(case.grid.bounds, [21, 17, 17])  # coarse: the grid warns, and we know
sizes = [16, 24, 32, 40]
starts = {"sharp": (-1.0, 0.0, 0.0), "flat": (1.0, 0.0, 0.0)}
domains = {"sharp": lambda x, y, z: x < 0, "flat": lambda x, y, z: x > 0}

taus = {name: [] for name in starts}
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for size in sizes:
        model = fp.SGD(case.landscape, lr=0.5, batch_size=size, noise="hessian", hessian_floor=30.0)
        fpe = fp.FokkerPlanck(model, grid)
        for name in starts:
            taus[name].append(fp.mean_exit_time(fpe, domain=domains[name])(*starts[name]))
        if size == 16:
            p = fpe.stationary()
reduced = [
    transverse_reduction(
        case.landscape, lr=0.5, batch_size=b, floor=30.0, x_bounds=grid.bounds[0], plane=0.0, starts=(-1.0, 1.0)
    )
    for b in sizes
]

# %%
# Left: exit times grow exponentially with B, the flat minimum is left later; the 1-D reduction
# (dashed) is the small-noise limit. Right: the stationary density at B = 16 in the plane z = 0.
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
for name, color, key in (("sharp", "tab:red", "exit_time_low"), ("flat", "tab:blue", "exit_time_high")):
    left.semilogy(sizes, taus[name], "o-", color=color, label=f"3-D, from the {name} minimum")
    left.semilogy(sizes, [getattr(r, key) for r in reduced], "--", color=color, label=f"1-D reduction, {name}")
left.set(xlabel="batch size B", ylabel="mean exit time t (iterations = t / 0.5)", title="exit through x = 0")
left.legend(fontsize=8)
x, y, z = grid.centers
image = right.pcolormesh(x, y, np.log10(p[:, :, len(z) // 2]).T, vmin=np.log10(p.max()) - 5, cmap="magma")
for name, marker in (("sharp", "^"), ("flat", "o")):
    right.plot(starts[name][0], starts[name][1], marker, color="w", ms=9, label=f"{name} minimum")
right.set(xlabel="x", ylabel="y", title="log10 stationary density, z = 0, B = 16")
right.legend(fontsize=8)
fig.colorbar(image, ax=right, label="log10 p")
fig.suptitle("SGD, lr = 0.5, Hessian noise (floor 30), 21 x 17 x 17 cells")
plt.show()
