"""The seam: registered discretizations, nonlocal and matrix-free generators, analyses on a problem.

References are independent of fpsolve's solvers: dense numpy linear algebra on the same chain,
and the 1-D exit-time double integral (Gardiner ch. 5).
"""

import numpy as np
import pytest
import scipy.linalg as dense
import scipy.sparse as sp
from scipy.integrate import quad

import fpsolve as fp
from fpsolve import discretize
from fpsolve.discretize import Assembled, Discretization
from fpsolve.operators import MatrixFree

T = 0.5
U = fp.landscapes.double_well()


class CentralDifferences(Discretization):
    """A toy scheme: Q f = b f' + T f'' by central differences on a reflecting 1-D box (an
    M-matrix while the cell Peclet number |b| h / T stays below 2)."""

    name = "toy-central"

    def assemble(self, t=0.0):
        grid, model = self.grid, self.model
        x, h = grid.centers[0], grid.spacing[0]
        b = model.drift(x)[0]
        D = model.diffusion(x)[0, 0]
        up, down = D / h**2 + b / (2 * h), D / h**2 - b / (2 * h)
        up[-1] = down[0] = 0.0  # reflecting walls
        Q = sp.diags([down[1:], -(up + down), up[:-1]], [-1, 0, 1], format="csr")
        return Assembled(Q)


class WrappedMatrixFree(Discretization):
    """A toy matrix-free scheme: finite volumes applied through products only."""

    name = "toy-matrix-free"

    def assemble(self, t=0.0):
        Q = discretize.get("fv")(self.model, self.grid, self.boundary).assemble(t).generator.tocsr()
        return Assembled(MatrixFree(Q.shape[0], lambda f: Q @ f, lambda p: Q.T @ p, Q.diagonal(), approximate=Q))


def _exit_time_exact(x, lo, hi, temperature):
    """tau(x) for reflection at lo, absorption at hi, D = T: (1/T) int_x^hi e^{U/T} int_lo^y e^{-U/T}."""
    inner = lambda y: quad(lambda z: np.exp(-U(z) / temperature), lo, y, epsabs=0, epsrel=1e-12)[0]  # noqa: E731
    return (
        quad(lambda y: np.exp(U(y) / temperature) * inner(y), x, hi, epsabs=0, epsrel=1e-11, points=[-1.0])[0]
        / temperature
    )


def test_registered_toy_scheme_runs_evolve_and_exit_times():
    assert "toy-central" in discretize.names() and "fv" in discretize.names()
    grid = fp.Grid([(-2.5, 0.0)], [1000])
    fpe = fp.FokkerPlanck(fp.Langevin(U, T), grid, discretization="toy-central")
    assert fpe.discretization == "toy-central"
    sol = fpe.evolve(fp.gaussian(grid, mean=-1.0, std=0.1), [0, 0.5, 2.0])
    assert sol.mass == pytest.approx(1.0, abs=1e-10)  # a closed chain conserves mass
    # the toy's exit time through the box face x = 0 ... here through the last cell: a mask
    tau = fp.mean_exit_time(fpe, domain=grid.centers[0] < grid.centers[0][-1])
    exact = _exit_time_exact(-1.0, -2.5, grid.centers[0][-1], T)
    # central differences are second order: h = 2.5e-3 gives ~1e-5 relative; 1e-4 leaves room
    assert tau(-1.0) == pytest.approx(exact, rel=1e-4)


def test_unknown_discretization_is_named():
    with pytest.raises(ValueError, match="discretization: unknown 'spectal'; registered are"):
        fp.FokkerPlanck(fp.Langevin(U, T), fp.Grid([(-2, 2)], [50]), discretization="spectal")


def test_matrix_free_problem_matches_the_sparse_one():
    # the same Q, once stored and once applied: every analysis must agree to solver tolerance
    grid = fp.Grid([(-2.0, 2.0)], [400])
    model = fp.Langevin(U, T)
    stored = fp.FokkerPlanck(model, grid)
    applied = fp.FokkerPlanck(model, grid, discretization="toy-matrix-free")
    assert applied.generator.matrix_free
    p0 = fp.gaussian(grid, mean=-1.0, std=0.2)
    a, b = stored.evolve(p0, [0, 1, 3]), applied.evolve(p0, [0, 1, 3])
    np.testing.assert_allclose(b.p, a.p, atol=1e-8 * a.p.max())  # Krylov exponential tolerance 1e-10
    np.testing.assert_allclose(applied.stationary(), stored.stationary(), rtol=1e-8)
    np.testing.assert_allclose(applied.relaxation_rates(2), stored.relaxation_rates(2), rtol=1e-8)
    domain = lambda x: x < 0  # noqa: E731
    t_stored, t_applied = (
        fp.mean_exit_time(stored, domain=domain),
        fp.mean_exit_time(applied, domain=grid.centers[0] < 0),
    )
    t_mask = fp.mean_exit_time(stored, domain=grid.centers[0] < 0)
    np.testing.assert_allclose(t_applied.values, t_mask.values, rtol=1e-8)  # GMRES to 1e-11
    assert t_stored(-1.0) == pytest.approx(_exit_time_exact(-1.0, -2.0, 0.0, T), rel=1e-4)


def _nonlocal_chain(n, seed):
    """A random chain with jumps of every length (a dense rate matrix), rows summing to zero."""
    rng = np.random.default_rng(seed)
    rates = rng.exponential(1.0, (n, n)) / (1.0 + np.abs(np.subtract.outer(np.arange(n), np.arange(n))))
    np.fill_diagonal(rates, 0.0)
    return rates - np.diag(rates.sum(axis=1))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nonlocal_chain_matches_dense_linear_algebra(seed):
    # a 1-D grid but not a birth-death chain: the fast path must be chosen from the matrix
    n = 60
    Q = _nonlocal_chain(n, seed)
    grid = fp.Grid([(0.0, 1.0)], [n])
    absorbing = np.zeros(n, dtype=bool)
    absorbing[[5, 40]] = True
    live = ~absorbing
    exact_tau = np.linalg.solve(Q[np.ix_(live, live)], -np.ones(live.sum()))
    null = dense.null_space(Q.T)[:, 0]
    exact_pi = null / null.sum()
    exact_gap = np.sort(-np.linalg.eigvals(Q).real)[1]
    for operator in (sp.csr_matrix(Q), MatrixFree(n, lambda f: Q @ f, lambda p: Q.T @ p, np.diag(Q))):
        gen = fp.Generator(operator, grid, absorbing)
        np.testing.assert_allclose(gen.solve(-np.ones(gen.n_live)), exact_tau, rtol=1e-9)
        closed = fp.Generator(operator, grid)
        np.testing.assert_allclose(closed.stationary(), exact_pi, rtol=1e-9)
        assert closed.relaxation_rates(1)[0] == pytest.approx(exact_gap, rel=1e-9)


def test_large_matrix_free_nonlocal_operator_uses_krylov_paths(monkeypatch):
    # a Toeplitz jump kernel |i - j|^-2 applied by FFT (O(N log N), never stored) plus a drift
    # towards the centre; N above linalg.DENSE_MAX (lowered here to keep the test fast), so the
    # stationary law, the slowest rate and the backward solve go through preconditioned Krylov
    # methods. Reference: the same matrix, dense.
    monkeypatch.setattr(fp.linalg, "DENSE_MAX", 200)
    n = 400
    k = np.arange(1, n, dtype=float)
    kernel = np.concatenate([[0.0], 1.0 / k**2])
    x = np.linspace(-1, 1, n)
    drift_up = np.where(x < 0, 1.0, 0.0) * 5.0
    drift_down = np.where(x > 0, 1.0, 0.0) * 5.0
    size = 2 * n
    spectrum = np.fft.rfft(np.concatenate([kernel, [0.0], kernel[1:][::-1]]))

    def jumps(f):  # sum_j kernel[|i - j|] f_j by circulant embedding
        return np.fft.irfft(spectrum * np.fft.rfft(f, size), size)[:n]

    up = np.append(drift_up[:-1], 0.0)
    down = np.insert(drift_down[1:], 0, 0.0)
    out_rate = jumps(np.ones(n)) + up + down

    def matvec(f):
        return jumps(f) + up * np.append(f[1:], 0.0) + down * np.insert(f[:-1], 0, 0.0) - out_rate * f

    def rmatvec(p):
        return jumps(p) + np.insert((up * p)[:-1], 0, 0.0) + np.append((down * p)[1:], 0.0) - out_rate * p

    # preconditioner: the near field with the far jumps lumped onto the neighbours, so that it is
    # itself a generator (rows summing to zero, the same near-null mode as Q)
    tail = np.concatenate([[0.0], np.cumsum(kernel[1:])])  # tail[i] = sum_{k=1..i} k^-2
    to_left, to_right = tail[np.arange(n)], tail[n - 1 - np.arange(n)]
    near = sp.diags([(to_left + down)[1:], -out_rate, (to_right + up)[:-1]], [-1, 0, 1], format="csr")
    operator = MatrixFree(n, matvec, rmatvec, -out_rate, approximate=near)
    Q = operator.toarray()
    assert np.allclose(Q.sum(axis=1), 0.0, atol=1e-9)
    grid = fp.Grid([(-1.0, 1.0)], [n])
    gen = fp.Generator(operator, grid)
    pinned = Q.T.copy()
    pinned[0] = 0.0
    pinned[0, 0] = 1.0
    rhs = np.zeros(n)
    rhs[0] = 1.0
    exact_pi = np.linalg.solve(pinned, rhs)
    np.testing.assert_allclose(gen.stationary(), exact_pi / exact_pi.sum(), rtol=1e-7)
    absorbing = np.abs(x) > 0.9
    killed = fp.Generator(operator, grid, absorbing)
    live = ~absorbing
    exact_tau = np.linalg.solve(Q[np.ix_(live, live)], -np.ones(live.sum()))
    np.testing.assert_allclose(killed.solve(-np.ones(killed.n_live)), exact_tau, rtol=1e-8)
    # the slowest rate by shift-invert Arnoldi on the dense matrix (dense LU), against the
    # matrix-free shift-invert with GMRES inner solves. The lumped near field preconditions the
    # nearly singular shifted solves of a |k|^-2 kernel poorly (thousands of iterations), so the
    # eigensolver's machinery is checked here with the exact matrix as the preconditioner.
    gen = fp.Generator(MatrixFree(n, matvec, rmatvec, -out_rate, approximate=sp.csr_array(Q)), grid)
    from scipy.sparse.linalg import LinearOperator, eigs

    sigma = 1e-6
    lu = dense.lu_factor(Q - sigma * np.eye(n))
    inverse = LinearOperator((n, n), matvec=lambda v: dense.lu_solve(lu, v), dtype=float)
    lam = eigs(
        LinearOperator((n, n), matvec=lambda v: Q @ v, dtype=float),
        k=2,
        sigma=sigma,
        OPinv=inverse,
        which="LM",
        return_eigenvectors=False,
    )
    exact_gap = np.sort(-lam.real)[1]
    assert gen.relaxation_rates(1)[0] == pytest.approx(exact_gap, rel=1e-7)
