"""Forward problems in 3-D at scale: the Chebyshev exponentials, iterative stationary laws.

References: scipy.sparse.linalg.expm_multiply (Al-Mohy & Higham's truncated Taylor series) on the
same chain; the Gibbs law exp(-U/T) at the cell centres, which the fitted scheme with constant D
and gradient drift reproduces exactly (detailed balance, docs/numerics.md); dense linear algebra
(Q^T bordered with sum pi = 1, dense LU) and sparse LU on small chains.
"""

import warnings

import numpy as np
import pytest
import scipy.linalg as dense
import scipy.sparse as sparse
import scipy.sparse.linalg as sla

import fpsolve as fp
from fpsolve import integrate as integrate_module
from fpsolve import stationary as stationary_module
from fpsolve.chebyshev_exponential import chebyshev_expm_multiply, symmetrized_radius
from fpsolve.gth import axis_orderings

CROSS_DIFFUSION = np.array([[0.25, 0.05, 0.0], [0.05, 0.25, 0.05], [0.0, 0.05, 0.25]])


def _separable(temperature=0.25):
    U = fp.Landscape(lambda x, y, z: (x**2 - 1) ** 2 + y**2 + z**2)
    return fp.Langevin(U, temperature=temperature)


def _nonreversible():
    """-grad U plus a rotation about the well in the (x, y) plane, constant cross diffusion:
    no detailed balance, neither of the continuum process nor of the chain."""

    def drift(x, y, z):
        return np.stack(np.broadcast_arrays(-4 * x * (x**2 - 1) - 0.5 * y, -2 * y + 0.5 * (x + 1), -2 * z))

    return fp.Diffusion(drift, CROSS_DIFFUSION, 3)


def _grid(n):
    return fp.Grid([(-2.0, 0.5), (-1.5, 1.5), (-1.5, 1.5)], [n, n, n])


def _gibbs(grid, temperature=0.25):
    x, y, z = grid.mesh()
    weight = np.exp(-((x**2 - 1) ** 2 + y**2 + z**2) / temperature)
    return weight / (weight.sum() * grid.cell_volume)


def _quiet(make):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # coarse test grids: Peclet and resolution reports
        return make()


@pytest.mark.parametrize("symmetric", [False, True])
def test_chebyshev_exponential_matches_expm_multiply(symmetric):
    """exp(tA) v on a 3-D chain with absorbing faces (killing) at short, medium and long times,
    against scipy's expm_multiply, on A's CSR rows or on the symmetrized S by diagonals (given
    log pi); the error bound holds in the pi-weighted norm."""
    grid = _grid(12)
    fpe = _quiet(lambda: fp.FokkerPlanck(_separable(), grid, boundary="absorbing"))
    A = sparse.csr_array(fpe.generator.matrix.T)
    v = fp.gaussian(grid, mean=(-1.0, 0.0, 0.0), std=0.3).ravel() * grid.cell_volume
    times = np.array([0.0, 1e-3, 0.3, 3.0])
    log_weight = np.log(_gibbs(grid).ravel()) if symmetric else None
    result = chebyshev_expm_multiply(A, v, times, rtol=1e-10, log_weight=log_weight)
    weight = 1.0 / np.sqrt(_gibbs(grid).ravel())  # ||w||_pi = ||Pi^(-1/2) w||_2 (pi up to a factor)
    for k, t in enumerate(times):
        reference = sla.expm_multiply(A * t, v) if t > 0 else v
        error = result.y[k] - reference
        # the theorem: ||error||_pi <= delta ||v||_pi; expm_multiply is accurate to ~1e-15
        # relative (its tolerance is double precision), far below delta = 1e-10
        assert np.linalg.norm(weight * error) <= 1.01 * result.bound[k] * np.linalg.norm(weight * v) + 1e-13
        # and in the maximum norm, as measured: 3e-12 of max v
        assert np.abs(error).max() <= 1e-10 * np.abs(v).max()
    assert result.degree < 2 * np.sqrt(symmetrized_radius(A) * times[-1] / 2 * 40)  # O(sqrt(rho t))


def test_evolve_picks_chebyshev_on_3d_grids_and_relaxes_to_gibbs(monkeypatch):
    """FokkerPlanck.evolve ("auto" = "exponential") uses the Chebyshev series on a reversible
    3-D chain; mass is conserved to round-off, densities stay non-negative to the truncation
    bound, and at t = 40 (40 relaxation times and more: the slowest rate is ~1.6) the density is
    the Gibbs law, the chain's exact stationary law."""
    monkeypatch.setattr(integrate_module, "CHEBYSHEV_MIN_STATES", 1000)
    grid = _grid(18)  # band n^2 = 324 > 4 sqrt(n): a 3-D grid for the choice
    fpe = _quiet(lambda: fp.FokkerPlanck(_separable(), grid))
    p0 = fp.gaussian(grid, mean=(-1.2, 0.3, -0.2), std=0.2)
    sol = fpe.evolve(p0, [0.0, 0.5, 40.0])
    assert sol.stats["factorizations"] == 0 and sol.stats["steps"] > 10  # the series, no LU
    assert np.abs(sol.mass - 1.0).max() <= 1e-13
    assert sol.p.min() >= -1e-10 * sol.p.max()
    assert np.abs(sol.p[-1] - _gibbs(grid)).max() <= 1e-8 * _gibbs(grid).max()
    # the Krylov exponential (one LU) at t = 0.5 as a second, independent integrator
    monkeypatch.setattr(integrate_module, "CHEBYSHEV_MIN_STATES", 10**9)
    krylov = fpe.evolve(p0, [0.0, 0.5])
    assert np.abs(sol.p[1] - krylov.p[1]).max() <= 1e-9 * krylov.p[1].max()


def test_reversible_3d_stationary_is_the_gibbs_law():
    """The detailed-balance law of the separable 3-D chain is the Gibbs law exp(-U/T) at the cell
    centres (exact for the fitted scheme): to round-off, 1e-12 relative."""
    grid = _grid(24)
    p = _quiet(lambda: fp.FokkerPlanck(_separable(), grid)).stationary()
    assert np.abs(p - _gibbs(grid)).max() <= 1e-12 * p.max()


def test_iterative_law_of_the_reversible_chain_is_the_gibbs_law():
    """The AMG-preconditioned GMRES law (one state removed) on the same reversible chain, where
    the exact answer is known: normwise backward error 1e-13 and condition ~ max|Q_ii| / gap
    ~1e3 give ~1e-10 relative to the peak."""
    grid = _grid(20)
    Q = _quiet(lambda: fp.FokkerPlanck(_separable(), grid)).generator.matrix
    pi = stationary_module._iterative_law(stationary_module.markov_rates(Q))
    pi = pi / (pi.sum() * grid.cell_volume)
    assert np.abs(pi.reshape(grid.shape) - _gibbs(grid)).max() <= 1e-9 * pi.max()


def _count_iterative_solves(monkeypatch) -> list:
    """Send small chains the iterative way (the size and band thresholds lowered) and count."""
    monkeypatch.setattr(stationary_module, "ITERATIVE_MIN_STATES", 100)
    monkeypatch.setattr(stationary_module, "ITERATIVE_BAND", 0.0)
    calls = []
    original = stationary_module._iterative_law

    def counted(Q):
        calls.append(1)
        return original(Q)

    monkeypatch.setattr(stationary_module, "_iterative_law", counted)
    return calls


def test_nonreversible_iterative_law_matches_dense_solve(monkeypatch):
    """Cross diffusion and a rotation (no detailed balance): stationary() goes the iterative way
    (threshold lowered to this small grid) and agrees with the null space of the dense Q^T."""
    calls = _count_iterative_solves(monkeypatch)
    grid = _grid(9)
    fpe = _quiet(lambda: fp.FokkerPlanck(_nonreversible(), grid))
    Q = fpe.generator.matrix
    assert fp.linalg.log_detailed_balance(Q) is None  # not reversible
    p = fpe.stationary().ravel()
    assert calls == [1]
    bordered = Q.toarray().T
    bordered[0] = 1.0  # sum pi = 1 replaces one (redundant) balance equation
    law = dense.solve(bordered, np.eye(grid.size)[0])
    reference = law / grid.cell_volume
    # dense LU with partial pivoting: backward stable, ~1e-13 relative here (condition ~
    # max|Q_ii| / gap ~ 1e2)
    assert np.abs(p - reference).max() <= 1e-10 * reference.max()


def test_nonreversible_stationary_agrees_with_long_time_evolution(monkeypatch):
    """The iterative law of the non-reversible chain against the density evolved to t = 60 by
    the shift-and-invert Krylov exponential (an independent integrator, one LU): the slowest
    relaxation rate of this chain is ~0.9, so at t = 60 the transient is below 1e-20."""
    calls = _count_iterative_solves(monkeypatch)
    grid = _grid(14)
    fpe = _quiet(lambda: fp.FokkerPlanck(_nonreversible(), grid))
    p = fpe.stationary()
    assert calls == [1]
    Q = stationary_module.markov_rates(fpe.generator.matrix)
    error = stationary_module.iterative_balance_errors(Q, p.ravel(), axis_orderings(Q))
    assert error.cells <= stationary_module.ITERATIVE_CELL_RTOL
    sol = fpe.evolve(fp.gaussian(grid, mean=(-1.0, 0.0, 0.0), std=0.3), [0.0, 60.0])
    # the Krylov exponential's accuracy (~1e-10 of |p0|) bounds the difference
    assert np.abs(sol.p[-1] - p).max() <= 1e-8 * p.max()


def test_nonreversible_chain_evolves_by_the_bounded_series(monkeypatch):
    """Complex eigenvalues would void the symmetrized series' bound: a non-reversible 3-D chain
    (rotation and cross diffusion) gets the series on A itself with its l1 residual bound
    (fpsolve.chebyshev_residual), no LU; the density agrees with scipy's expm_multiply to the bound
    (BOUNDED_CHEBYSHEV_RTOL = 1e-8 of the mass in l1, plus at most half of it of round-off), mass is
    conserved to round-off, and no density goes negative beyond the bound."""
    monkeypatch.setattr(integrate_module, "CHEBYSHEV_MIN_STATES", 100)
    grid = _grid(17)  # band 17^2 > 4 sqrt(17^3): a 3-D grid for the choice
    fpe = _quiet(lambda: fp.FokkerPlanck(_nonreversible(), grid))
    A = sparse.csr_array(fpe.generator.matrix.T)
    assert integrate_module._chebyshev_suits(A) is None and integrate_module._series_suits(A)
    assert (
        integrate_module._chebyshev_suits(
            sparse.csr_array(_quiet(lambda: fp.FokkerPlanck(_separable(), grid)).generator.matrix.T)
        )
        is not None
    )
    p0 = fp.gaussian(grid, mean=(-1.0, 0.0, 0.0), std=0.3)
    sol = fpe.evolve(p0, [0.0, 0.5, 5.0])
    assert sol.stats["factorizations"] == 0 and sol.stats["steps"] > 10  # the series, no LU
    assert np.abs(sol.mass - 1.0).max() <= 1e-13
    cell = grid.cell_volume
    for k, t in enumerate([0.5, 5.0], start=1):
        reference = sla.expm_multiply(t * A, p0.ravel() * cell)
        # l1 error of the probabilities <= 1.5 rtol (truncation and round-off) plus the mass
        # restoration (<= the same)
        assert np.abs(sol.p[k].ravel() * cell - reference).sum() <= 3 * integrate_module.BOUNDED_CHEBYSHEV_RTOL
    assert sol.p.min() >= -3 * integrate_module.BOUNDED_CHEBYSHEV_RTOL / cell


def test_refused_series_falls_back_to_krylov(monkeypatch):
    """Where the bounded series refuses (here forced: any growth counts as too much), "exponential"
    takes the shift-and-invert Krylov space and says so."""
    from fpsolve import chebyshev_residual

    monkeypatch.setattr(integrate_module, "CHEBYSHEV_MIN_STATES", 100)
    monkeypatch.setattr(chebyshev_residual, "MAX_GROWTH", 0.5)
    monkeypatch.setattr(integrate_module, "BOUNDED_CHEBYSHEV_RTOL", 1e-16)  # no round-off allowance either
    grid = _grid(17)
    fpe = _quiet(lambda: fp.FokkerPlanck(_nonreversible(), grid))
    A = sparse.csr_array(fpe.generator.matrix.T)
    p0 = fp.gaussian(grid, mean=(-1.0, 0.0, 0.0), std=0.3).ravel() * grid.cell_volume
    result = integrate_module.integrate(A, p0, [0.0, 0.5], method="exponential")
    assert "Krylov" in result.message and "refused" in result.message
    # the Krylov exponential's accuracy, ~1e-10 of |p0|
    assert np.abs(result.y[-1] - sla.expm_multiply(0.5 * A, p0)).max() <= 1e-9 * p0.max()


@pytest.mark.parametrize("rtol", [1e-6, 1e-12])
def test_chebyshev_degree_meets_its_bound(rtol):
    """The truncation bound sum_{k > m} 2 I_k(z) e^-z against mpmath's Bessel functions."""
    mpmath = pytest.importorskip("mpmath")
    from fpsolve.chebyshev_exponential import chebyshev_degree

    z = 250.0
    m, bound = chebyshev_degree(z, rtol)
    mpmath.mp.dps = 30
    tail = lambda start: float(  # noqa: E731
        mpmath.nsum(lambda k: 2 * mpmath.besseli(k, z) * mpmath.exp(-z), [start, mpmath.inf])
    )
    assert tail(m + 1) <= rtol < tail(m)  # the smallest degree that meets rtol
    assert bound == pytest.approx(tail(m + 1), rel=1e-6)


def test_chebyshev_is_accurate_in_the_maximum_norm_from_the_top_of_a_high_barrier():
    """A start on the saddle of a barrier of 20 T: the pi-norm bound alone allows max-norm errors
    e^10 times larger in the wells (measured 4e-9 of max v with delta = 1e-10); given log pi, the
    degree is raised until the error is below rtol max|v| in the maximum norm (measured 1e-14)."""
    U = fp.Landscape(lambda x, y, z: (x**2 - 1) ** 2 + y**2 + z**2)
    grid = fp.Grid([(-2.0, 2.0), (-1.5, 1.5), (-1.5, 1.5)], [20, 12, 12])
    fpe = _quiet(lambda: fp.FokkerPlanck(fp.Langevin(U, temperature=0.05), grid))
    A = sparse.csr_array(fpe.generator.matrix.T)
    v = fp.gaussian(grid, mean=(0.0, 0.0, 0.0), std=0.15).ravel() * grid.cell_volume
    log_weight = fp.linalg.log_detailed_balance(A.T)
    for t in (0.5, 5.0):
        reference = sla.expm_multiply(A * t, v)
        result = chebyshev_expm_multiply(A, v, [t], rtol=1e-10, log_weight=log_weight)
        assert np.abs(result.y[0] - reference).max() <= 1e-10 * np.abs(v).max()


def test_nonreversible_evolution_on_a_large_3d_grid_solves_iteratively(monkeypatch):
    """Above ITERATIVE_MIN unknowns the shift-and-invert Krylov exponential of a non-reversible
    3-D chain solves (I - gamma Q^T) by AMG-preconditioned Krylov instead of a sparse LU (whose
    fill grows like n^{5/3}); the density agrees with scipy's expm_multiply of the same generator
    (an independent algorithm: scaling and squaring of a truncated Taylor series) to the
    exponential's own tolerance (~1e-10 of |p0|) plus the iterative solves' residual 1e-10."""
    from fpsolve import solvers

    monkeypatch.setattr(solvers, "ITERATIVE_MIN", 2_000)
    used = []
    amg = solvers._amg_solver
    monkeypatch.setattr(solvers, "_amg_solver", lambda M, rtol: used.append(M.shape[0]) or amg(M, rtol))
    grid = _grid(14)  # 2744 unknowns
    fpe = _quiet(lambda: fp.FokkerPlanck(_nonreversible(), grid))
    p0 = fp.gaussian(grid, mean=(-1.0, 0.0, 0.0), std=0.3)
    sol = fpe.evolve(p0, [0.0, 0.5])
    assert used and used[0] == grid.size
    cell = np.prod(grid.spacing)
    reference = sla.expm_multiply(0.5 * sparse.csr_array(fpe.generator.matrix).T, p0.ravel() * cell) / cell
    assert np.abs(sol.p[-1].ravel() - reference).max() <= 1e-8 * p0.max()
