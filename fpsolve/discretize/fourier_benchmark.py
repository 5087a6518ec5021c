"""Measurements of the Fourier scheme quoted in docs/spectral.md.

* :func:`benchmark_evolution`: a 2-D periodic evolution on n^2 modes to t = 10 (speed; also run by
  benchmarks/bench_spectral.py):
  ``python -c "from fpsolve.discretize.fourier_benchmark import benchmark_evolution as b; print(b())"``
* :func:`stationary_convergence`: the stationary law on U = cos x against e^{-U/T} / (2 pi I0(1/T)):
  ``python -c "from fpsolve.discretize.fourier_benchmark import stationary_convergence as s; print(s())"``
"""

from __future__ import annotations

import time

import numpy as np

__all__ = ["benchmark_evolution", "benchmark_problem", "stationary_convergence"]


def benchmark_problem(n: int = 256):
    """Langevin on U = cos x + cos y + 0.5 cos(x - y), T = 0.5, on the periodic box [0, 2 pi)^2 with
    n^2 cells, and the initial density N((pi, pi), 0.5^2 I): returns (problem, p0)."""
    import fpsolve as fp

    def grad(x, y):
        return np.stack(np.broadcast_arrays(-np.sin(x) - 0.5 * np.sin(x - y), -np.sin(y) + 0.5 * np.sin(x - y)))

    U = fp.Landscape(lambda x, y: np.cos(x) + np.cos(y) + 0.5 * np.cos(x - y), grad, name="cosine-2d")
    grid = fp.Grid([(0, 2 * np.pi)] * 2, [n, n], periodic=True)
    problem = fp.FokkerPlanck(fp.Langevin(U, temperature=0.5), grid, discretization="spectral")
    return problem, fp.gaussian(grid, mean=(np.pi, np.pi), std=0.5)


def benchmark_evolution(n: int = 256, t_end: float = 10.0, dt: float = 0.25, method: str = "etdrk4") -> tuple:
    """(seconds, relative L1 error, stats) of ``evolve(p0, [0, t_end], method, dt=dt)`` on
    :func:`benchmark_problem`; the error is against the same evolution with dt / 4 (for ETDRK4
    the reference's own error is 4^-4 = 1/256 of the measured one)."""
    problem, p0 = benchmark_problem(n)
    begin = time.perf_counter()
    solution = problem.evolve(p0, [0.0, t_end], method, dt=dt)
    seconds = time.perf_counter() - begin
    reference = problem.evolve(p0, [0.0, t_end], method, dt=dt / 4).p[-1]
    error = float(np.abs(solution.p[-1] - reference).sum() / np.abs(reference).sum())
    return seconds, error, solution.stats


def stationary_convergence(cells=(16, 32, 48, 64, 128), temperature: float = 0.25) -> dict:
    """{cells: max relative error} of the stationary law of Langevin(cos x, T) on [0, 2 pi)
    against the closed form's cell averages (16-node Gauss-Legendre per cell, exact to round-off)."""
    import warnings

    from scipy.special import i0

    import fpsolve as fp

    U = fp.Landscape(np.cos, lambda x: -np.sin(x), name="cosine")
    nodes, weights = np.polynomial.legendre.leggauss(16)
    errors = {}
    for n in cells:
        grid = fp.Grid([(0, 2 * np.pi)], [n], periodic=True)
        points = grid.centers[0][:, None] + 0.5 * grid.spacing[0] * nodes
        exact = np.exp(-np.cos(points) / temperature) @ (weights / 2) / (2 * np.pi * i0(1 / temperature))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # coarse grids warn about their Fourier tail
            p = fp.FokkerPlanck(fp.Langevin(U, temperature), grid, discretization="spectral").stationary()
        errors[n] = float(np.abs(p - exact).max() / exact.max())
    return errors
