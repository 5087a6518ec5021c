"""4-D phase space with correlated velocity noise (Kunin's case b: Sigma not commuting with H):
the matrix-free kinetic kernels' cross-diffusion terms against the closed-form OU law.

Run:  PYTHONPATH=. python benchmarks/kinetic_cross_diffusion.py [--residual 16,32,48] [--law 12,16]

UnderdampedLangevin on U = theta^T H theta / 2, H = [[1, 0.3], [0.3, 1]], Sigma = [[1, 0.6],
[0.6, 0.5]], gamma = 1, T = 0.5. The stationary law is the Gaussian whose covariance C solves the
Lyapunov equation B C + C B^T = 2 D (scipy), with theta-plane circulation
E[theta_1 v_2 - theta_2 v_1] = C[0, 3] - C[1, 2] = -0.0688 (docs/momentum.md, case b).

1. ``--residual``: max |Q^T p| of the exact Gaussian p (peak 1, units 1/time), the truncation
   error of the kernels, with and without the cross terms, on (-3, 3)^2 x (-3.5, 3.5)^2.
2. ``--law``: the discrete stationary law by the matrix-free solver (GMRES on the pinned Q^T with
   the transposed plane preconditioner) on (-2.6, 2.6)^2 x (-3, 3)^2: circulation and variances
   against the closed form, and CPU seconds.
"""

import argparse
import dataclasses
import time
import warnings

import numpy as np
from scipy.linalg import solve_continuous_lyapunov

import fpsolve as fp
from fpsolve.boundary import normalize_boundary
from fpsolve.discretize import kinetic_kernels as kk
from fpsolve.stationary import stationary_distribution

H = np.array([[1.0, 0.3], [0.3, 1.0]])
SIGMA = np.array([[1.0, 0.6], [0.6, 0.5]])


def model():
    noise = lambda x, y: SIGMA[:, :, None, None] * np.ones((1, 1) + np.shape(x))  # noqa: E731
    return fp.UnderdampedLangevin(
        fp.Landscape(lambda x, y: 0.5 * (x**2 + 0.6 * x * y + y**2)), friction=1.0, temperature=0.5, noise=noise
    )


def covariance():
    B = np.block([[np.zeros((2, 2)), -np.eye(2)], [H, np.eye(2)]])
    D = np.zeros((4, 4))
    D[2:, 2:] = 0.5 * SIGMA  # D_v = gamma T Sigma
    return solve_continuous_lyapunov(B, 2 * D)


def coefficients(n, theta, v):
    grid = fp.phase_space_grid(theta=[theta] * 2, v=[v] * 2, cells=n)
    return grid, kk.kinetic_coefficients(grid, model(), normalize_boundary(grid, "reflecting"))


def residuals(sizes):
    C = covariance()
    print(f"{'cells':>6} {'max|Q^T p|':>12} {'without cross':>14}")
    for n in sizes:
        grid, c = coefficients(n, (-3.0, 3.0), (-3.5, 3.5))
        x = np.stack([a.ravel() for a in grid.mesh()])
        p = np.exp(-0.5 * np.sum(x * np.linalg.solve(C, x), axis=0))
        without = dataclasses.replace(c, cross=())
        print(
            f"{n:>4}^4 {np.abs(kk.apply_forward(c, p)).max():12.4g} {np.abs(kk.apply_forward(without, p)).max():14.4g}",
            flush=True,
        )


def laws(sizes):
    C = covariance()
    exact = C[0, 3] - C[1, 2]
    print(f"closed form: circulation {exact:.4f}, variances {np.round(np.diag(C), 4)}")
    for n in sizes:
        grid, c = coefficients(n, (-2.6, 2.6), (-3.0, 3.0))
        start = time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pi = stationary_distribution(kk.matrix_free_kinetic(c)).reshape(grid.shape)
        cpu = time.process_time() - start
        th1, th2, v1, v2 = grid.mesh()
        circulation = float(np.sum(pi * (th1 * v2 - th2 * v1)))
        variances = np.array([np.sum(pi * a * a) for a in (th1, th2, v1, v2)])
        print(
            f"{n}^4: circulation {circulation:.4f} ({(circulation - exact) / exact:+.1%}), variance "
            f"errors {np.round((variances - np.diag(C)) / np.diag(C), 3)}, {cpu:.1f} CPU s",
            flush=True,
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residual", default="16,32,48")
    parser.add_argument("--law", default="12,16")
    args = parser.parse_args()
    residuals([int(n) for n in args.residual.split(",") if n])
    laws([int(n) for n in args.law.split(",") if n])


if __name__ == "__main__":
    main()
