"""Make docs/figures/convergence.png: measured L1 errors in space (1-D OU transient vs the closed
form, exponential method) and in time (TR-BDF2 with fixed dt vs the exponential method).

    python docs/figures/make_convergence_figure.py
"""

from pathlib import Path
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np

import fpsolve as fp

warnings.simplefilter("ignore")


def space():
    T, m0, s0, t = 0.3, 1.0, 0.3, 0.5
    hs, errors = [], []
    for n in (20, 40, 80, 160, 320):
        grid = fp.Grid([(-3.5, 3.5)], [n])
        fpe = fp.FokkerPlanck(fp.Langevin(fp.Landscape(lambda x: 0.5 * x**2), T), grid)
        p = fpe.evolve(fp.gaussian(grid, mean=m0, std=s0), [0.0, t], method="exponential").p[-1]
        m, v = m0 * np.exp(-t), s0**2 * np.exp(-2 * t) + T * (1 - np.exp(-2 * t))
        exact = np.exp(-((grid.centers[0] - m) ** 2) / (2 * v)) / np.sqrt(2 * np.pi * v)
        hs.append(grid.spacing[0])
        errors.append(np.abs(p - exact).sum() * grid.cell_volume)
    return np.array(hs), np.array(errors)


def time_():
    grid = fp.Grid([(-2.5, 2.5)], [200])
    fpe = fp.FokkerPlanck(fp.Langevin(fp.Landscape(lambda x: (x**2 - 1) ** 2), 0.5), grid)
    p0 = fp.gaussian(grid, mean=-1.0, std=0.2)
    ref = fpe.evolve(p0, [0.0, 1.0], method="exponential").p[-1]
    dts = np.array([0.08, 0.04, 0.02, 0.01, 0.005])
    errors = [
        np.abs(fpe.evolve(p0, [0.0, 1.0], method="trbdf2", dt=dt).p[-1] - ref).sum() * grid.cell_volume for dt in dts
    ]
    return dts, np.array(errors)


def main():
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for ax, (x, e), label in zip(axes, (space(), time_()), ("cell width h", "time step dt (TR-BDF2)")):
        ax.loglog(x, e, "o-", label="measured L1 error")
        ax.loglog(x, e[-1] * (x / x[-1]) ** 2, "k--", label="slope 2")
        order = np.log2(e[:-1] / e[1:])
        ax.set_title(f"observed orders {', '.join(f'{o:.2f}' for o in order)}", fontsize=9)
        ax.set_xlabel(label)
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.legend()
    axes[0].set_ylabel("L1 error")
    fig.tight_layout()
    out = Path(__file__).with_name("convergence.png")
    fig.savefig(out, dpi=120)
    print(out)


if __name__ == "__main__":
    main()
