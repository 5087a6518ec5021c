"""The problem of benchmarks/bench_scale.py and its references that no fpsolve solver made.

U = (x^2 - 1)^2 + y^2 + z^2 (its first 1, 2 or 3 terms), Langevin at T = 1/4 on the box
(-2, 0.5) x (-1.5, 1.5)^2, n cells per axis, reflecting faces. U is a sum of one-variable terms,
so the finite-volume generator is the Kronecker sum of its 1-D chains (tests/test_bench_scale.py
checks it) and every reference factorises over the axes:

- mean exit time from x < 0 read at (-1, 0, 0): the 1-D double integral
  tau(x0) = (1/T) int_{x0}^0 e^{U(y)/T} int_{-2}^y e^{-U(z)/T} dz dy (nested scipy quad), 33.9457;
- the density at t = 10 from a cell-integrated Gaussian at (-1, 0, 0), std 0.2: the outer product
  of exp(t Q_k^T) p0_k over the axes, each 1-D birth-death chain exponentiated through the
  eigendecomposition of its symmetrised tridiagonal form (LAPACK), the error of the solver on the
  same chain, not the discretization's;
- the stationary law: the Boltzmann density e^{-U/T}/Z at the cell centres, Z by quad.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import integrate, linalg

TEMPERATURE = 0.25
BOX = ((-2.0, 0.5), (-1.5, 1.5), (-1.5, 1.5))
START = (-1.0, 0.0, 0.0)
EVOLVE_TIME, INITIAL_STD = 10.0, 0.2
TASKS = ("exit", "evolve", "stationary")
#: cells per axis up to which the evolution reference is computed (eigenvectors: 8 n^2 bytes)
EIGEN_REFERENCE_MAX = 4096
DOMAINS = {1: lambda x: x < 0, 2: lambda x, y: x < 0, 3: lambda x, y, z: x < 0}


def axis_potential(k):
    """U_k, the k-th term of U: (s^2 - 1)^2 for the first axis, s^2 for the others."""
    return (lambda s: (s * s - 1.0) ** 2) if k == 0 else (lambda s: s * s)


def axis_gradient(k):
    return (lambda s: (4.0 * s * (s * s - 1.0),)) if k == 0 else (lambda s: (2.0 * s,))


def landscape(dim):
    """U in ``dim`` variables with its exact gradient."""
    import fpsolve as fp

    if dim == 1:
        return fp.Landscape(axis_potential(0), axis_gradient(0), ndim=1)
    if dim == 2:
        return fp.Landscape(lambda x, y: (x * x - 1) ** 2 + y * y, lambda x, y: (4 * x * (x * x - 1), 2 * y), ndim=2)
    return fp.Landscape(
        lambda x, y, z: (x * x - 1) ** 2 + y * y + z * z, lambda x, y, z: (4 * x * (x * x - 1), 2 * y, 2 * z), ndim=3
    )


def make_grid(dim, n):
    import fpsolve as fp

    return fp.Grid(list(BOX[:dim]), [n] * dim)


def run_task(task, dim, n):
    """The public call that bench_scale times: problem construction (assembly) included."""
    import fpsolve as fp

    model, grid = fp.Langevin(landscape(dim), TEMPERATURE), make_grid(dim, n)
    if task == "exit":
        return fp.mean_exit_time(model, grid, domain=DOMAINS[dim])
    problem = fp.FokkerPlanck(model, grid)
    if task == "stationary":
        return problem.stationary()
    return problem.evolve(fp.gaussian(grid, mean=START[:dim], std=INITIAL_STD), [0.0, EVOLVE_TIME]).p[-1]


# ---------------------------------------------------------------------------------------------
# References
# ---------------------------------------------------------------------------------------------
def exact_mean_exit_time(x0=-1.0, left=-2.0, exit_at=0.0, temperature=TEMPERATURE):
    """The 1-D double integral (REFERENCES.md) with a reflecting wall at ``left``, by nested quad
    (relative accuracy ~1e-12; the wall at -2 instead of -inf changes it by ~e^{-36})."""
    U = axis_potential(0)

    def inner(y):
        return integrate.quad(lambda z: math.exp(-U(z) / temperature), left, y, epsabs=0, epsrel=1e-13)[0]

    outer = integrate.quad(lambda y: math.exp(U(y) / temperature) * inner(y), x0, exit_at, epsabs=0, epsrel=1e-13)
    return outer[0] / temperature


def outer_product(factors):
    out = factors[0]
    for factor in factors[1:]:
        out = np.multiply.outer(out, factor)
    return out


def boltzmann_density(grid):
    """e^{-U/T}/Z at the cell centres, Z = prod_k int e^{-U_k/T} over the box (quad)."""
    factors = []
    for k, (centres, (lo, hi)) in enumerate(zip(grid.centers, grid.bounds)):
        U = axis_potential(k)
        Z = integrate.quad(lambda s: math.exp(-U(s) / TEMPERATURE), lo, hi, epsabs=0, epsrel=1e-13)[0]
        factors.append(np.exp(-U(centres) / TEMPERATURE) / Z)
    return outer_product(factors)


def birth_death_exponential(Q, p0, t):
    """exp(t Q^T) p0 for a tridiagonal generator Q (sparse or dense: a reversible birth-death chain).

    Detailed balance pi_i Q_ij = pi_j Q_ji makes S = Pi^{1/2} Q Pi^{-1/2} symmetric, with
    diagonal Q_ii and off-diagonal sqrt(Q_{i,i+1} Q_{i+1,i}); with S = V diag(l) V^T,
    exp(t Q^T) p0 = Pi^{1/2} V e^{t l} V^T Pi^{-1/2} p0 (pi in log space, scaled to max 1)."""
    up, down, diagonal = Q.diagonal(1), Q.diagonal(-1), Q.diagonal(0)
    log_pi = np.concatenate([[0.0], np.cumsum(np.log(up) - np.log(down))])
    root_pi = np.exp(0.5 * (log_pi - log_pi.max()))
    values, vectors = linalg.eigh_tridiagonal(diagonal, np.sqrt(up * down))
    return root_pi * (vectors @ (np.exp(t * values) * (vectors.T @ (p0 / root_pi))))


def axis_generator(k, n, bounds):
    """The sparse 1-D finite-volume generator of axis k (fpsolve's scheme: the chain under test)."""
    import fpsolve as fp

    axis_landscape = fp.Landscape(axis_potential(k), axis_gradient(k), ndim=1)
    problem = fp.FokkerPlanck(fp.Langevin(axis_landscape, TEMPERATURE), fp.Grid([bounds], [n]))
    return problem.generator.matrix


def evolution_reference(grid, t=EVOLVE_TIME):
    """The exact exp(t Q^T) p0 of the separable chain, or None above EIGEN_REFERENCE_MAX cells per axis."""
    import fpsolve as fp

    if max(grid.shape) > EIGEN_REFERENCE_MAX:
        return None
    factors = []
    for k, (n, bounds) in enumerate(zip(grid.shape, grid.bounds)):
        p0 = fp.gaussian(fp.Grid([bounds], [n]), mean=START[k], std=INITIAL_STD)
        factors.append(birth_death_exponential(axis_generator(k, n, bounds), p0, t))
    return outer_product(factors)


def accuracy(task, dim, n, out):
    """(the value reported, its error against the reference, what the error is)."""
    grid = make_grid(dim, n)
    if task == "exit":
        tau = float(out(*START[:dim]))
        return tau, tau / exact_mean_exit_time() - 1.0, "relative error of tau(-1, 0, 0)"
    mass = float(out.sum() * grid.cell_volume)
    reference = boltzmann_density(grid) if task == "stationary" else evolution_reference(grid)
    if reference is None:
        return mass, None, f"no reference above {EIGEN_REFERENCE_MAX} cells per axis"
    what = "L1 vs the Boltzmann density" if task == "stationary" else "L1 vs the exact exponential of the same chain"
    return mass, float(np.abs(out - reference).sum() * grid.cell_volume), what


def face_weight_exit_time(n, x0=-1.0):
    """tau(x0) on n cells of (-2, 0), exit face x = 0, by the chain with Boltzmann face weights,
    rate i -> j = (T/h^2) e^{-(U_face - U_i)/T}: FiPy's self-adjoint discretization in 1-D, solved
    densely (tau = 0 on the face: a ghost cell with tau = -tau_last). For comparison with fpsolve's
    Scharfetter-Gummel chain on the same cells (docs/scale.md)."""
    U, h = axis_potential(0), 2.0 / n
    centres = -2.0 + (np.arange(n) + 0.5) * h
    faces = -2.0 + np.arange(1, n + 1) * h
    up = TEMPERATURE / h**2 * np.exp(-(U(faces) - U(centres)) / TEMPERATURE)  # towards +x (last: to the exit)
    down = TEMPERATURE / h**2 * np.exp(-(U(faces[:-1]) - U(centres[1:])) / TEMPERATURE)
    Q = np.diag(up[:-1], 1) + np.diag(down, -1)
    Q -= np.diag(Q.sum(axis=1))
    Q[-1, -1] -= 2.0 * up[-1]  # (tau_ghost - tau_last) with tau_ghost = -tau_last
    tau = np.linalg.solve(Q, -np.ones(n))
    return float(np.interp(x0, centres, tau))


def rate_comparison(sizes=(50, 100, 200)):
    """Relative errors of tau(-1) in 1-D on (-2, 0), exit face x = 0: fpsolve (curvature-corrected fitted flux,
    absorbing face) against the face-weight chain of :func:`face_weight_exit_time`."""
    import fpsolve as fp

    exact, model = exact_mean_exit_time(), fp.Langevin(landscape(1), TEMPERATURE)
    rows = []
    for n in sizes:
        grid = fp.Grid([(-2.0, 0.0)], [n])
        ours = fp.mean_exit_time(model, grid, boundary=("reflecting", "absorbing"))(-1.0)
        rows.append((n, ours / exact - 1.0, face_weight_exit_time(n) / exact - 1.0))
    return rows
