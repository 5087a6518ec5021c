"""Sparse LU by structure and size (fpsolve.factorizations.sparse_lu), against dense LAPACK.

The orderings are chosen by size (minimum degree below factorizations.DISSECTION_SIZE and
solvers.NONSYMMETRIC_LU_SIZE, nested dissection above); the tests lower those sizes so that
small 2-D matrices, whose dense solve numpy does in milliseconds, take every path.
"""

import numpy as np
import pytest
import scipy.sparse as sp

import fpsolve as fp
from fpsolve import factorizations, solvers

# the coarse test grids resolve the density poorly (cell Peclet numbers above 4); the matrices,
# not the densities, are under test here
pytestmark = pytest.mark.filterwarnings("ignore:grid. too coarse for the noise:UserWarning")


@pytest.fixture
def dissect_everything(monkeypatch):
    """Nested dissection for every matrix, whatever its size."""
    monkeypatch.setattr(factorizations, "DISSECTION_SIZE", 0)
    monkeypatch.setattr(solvers, "NONSYMMETRIC_LU_SIZE", 0)


def fv_generator(n, temperature=0.25):
    U = fp.Landscape(lambda x, y: (x**2 - 1) ** 2 + y**2, name="double well x quadratic")
    grid = fp.Grid([(-2, 2), (-2, 2)], [n, n])
    return sp.csr_array(fp.FokkerPlanck(fp.Langevin(U, temperature=temperature), grid).generator.matrix)


def kinetic_generator(cells, temperature=0.25, friction=1.0):
    model = fp.UnderdampedLangevin(fp.landscapes.double_well(), friction=friction, temperature=temperature)
    grid = fp.phase_space_grid(theta=(-2.2, 2.2), v=(-3, 3), cells=cells)
    return sp.csr_array(fp.FokkerPlanck(model, grid).generator.matrix), grid


def backward_error(M, x, b):
    """Normwise backward error |b - M x| / (|b| + |M| |x|) in the infinity norm."""
    return np.abs(b - M @ x).max() / (np.abs(b).max() + abs(M).sum(axis=1).max() * np.abs(x).max())


def test_evolution_matrix_by_nested_dissection_matches_dense_solve(dissect_everything):
    # I - 0.5 Q^T of a 2-D finite-volume double well (the shift-and-invert Krylov step of
    # evolve): column diagonally dominant, condition ~1e2 here, so a backward-stable LU gives a
    # forward error of ~1e2 eps; 1e-12 leaves a factor 50 for the growth of round-off
    Q = fv_generator(30)
    M = sp.csc_array(sp.identity(Q.shape[0], format="csc") - 0.5 * Q.T)
    b = np.random.default_rng(0).random(M.shape[0])
    x = factorizations.sparse_lu(M)(b)
    reference = np.linalg.solve(M.toarray(), b)
    assert np.abs(x - reference).max() <= 1e-12 * np.abs(reference).max()


def test_both_orderings_agree_with_dense_on_an_exit_time_system(monkeypatch):
    # the killed sub-generator -Q restricted to x < 0 (a mean exit time: -Q_sub tau = 1) through
    # factorize(method="direct"), once with minimum degree and once with nested dissection;
    # numpy's dense LU is the reference. tau spans a factor ~60 across the domain and -Q_sub is
    # an M-matrix with condition ~1e5 (measured): forward error <= cond * backward error ~ 1e-11
    Q = fv_generator(32, temperature=0.3)
    keep = np.repeat(np.linspace(-2, 2, 33)[:-1] + 1 / 16 < 0, 32)
    A = sp.csc_array(-Q[keep][:, keep])
    ones = np.ones(A.shape[0])
    reference = np.linalg.solve(A.toarray(), ones)
    for size in (10**9, 0):
        monkeypatch.setattr(factorizations, "DISSECTION_SIZE", size)
        monkeypatch.setattr(solvers, "NONSYMMETRIC_LU_SIZE", size)
        tau = solvers.factorize(A, method="direct")(ones)
        assert np.abs(tau - reference).max() <= 1e-10 * reference.max()


def test_ordering_follows_size_and_structure(monkeypatch):
    # below the sizes SuperLU's own minimum-degree solve is returned; above, the checked
    # nested-dissection solver (a closure that verifies every solve's backward error)
    Q = fv_generator(12)
    M = sp.csc_array(sp.identity(Q.shape[0], format="csc") - 0.5 * Q.T)
    assert factorizations.sparse_lu(M).__name__ == "solve"  # SuperLU.solve
    monkeypatch.setattr(factorizations, "DISSECTION_SIZE", 100)
    monkeypatch.setattr(solvers, "NONSYMMETRIC_LU_SIZE", 100)
    assert factorizations.sparse_lu(M).__name__ == "solver"
    monkeypatch.setattr(factorizations, "DISSECTION_SIZE", 10**9)
    assert factorizations.sparse_lu(M).__name__ == "solve"  # symmetric structure, below the size
    kinetic, _ = kinetic_generator((14, 12))
    A = sp.csc_array(sp.identity(kinetic.shape[0], format="csc") - 0.5 * kinetic.T)
    assert factorizations.sparse_lu(A).__name__ == "solver"  # nonsymmetric: dissected from 100


def test_drift_dominated_kinetic_matrix_matches_dense_solve(dissect_everything):
    # the 2-D kinetic operator is structurally nonsymmetric (upwind transport in theta) and not
    # an M-matrix (second-order transport has negative rates); at friction 0.05 and T = 0.05
    # transport dominates the velocity diffusion by ~50 per cell. I - 2 Q^T, condition ~1e4
    # (measured 3e3): forward error ~cond * eps * growth; 1e-10 leaves 1e2 for growth under
    # threshold pivoting
    Q, _ = kinetic_generator((40, 36), temperature=0.05, friction=0.05)
    M = sp.csc_array(sp.identity(Q.shape[0], format="csc") - 2.0 * Q.T)
    assert solvers._structurally_symmetric(M) is False
    b = np.random.default_rng(1).standard_normal(M.shape[0])
    x = factorizations.sparse_lu(M)(b)
    reference = np.linalg.solve(M.toarray(), b)
    assert np.abs(x - reference).max() <= 1e-10 * np.abs(reference).max()
    assert backward_error(M, x, b) <= 1e-15


def test_pinned_kinetic_stationary_system_matches_dense(dissect_everything):
    # the system fpsolve.stationary solves for the kinetic law: Q^T with equation j replaced by
    # pi_j = 1, through the ordering the stationary path passes (a dissection of Q, not of the
    # pinned matrix); reference: dense LU. The law spans ~1e-30..1 across the velocity box, so
    # it is compared on the cells above 1e-8 of its peak, relative to the peak (normwise
    # backward error eps times the pinned system's condition ~1e6 here: 1e-9 is safe)
    Q, _ = kinetic_generator((40, 36))
    j = 40 * 36 // 2 + 18
    M = sp.csr_array(Q.T, copy=True)
    M.data[M.indptr[j] : M.indptr[j + 1]] = 0.0
    M = sp.csc_array(M + sp.csr_array(([1.0], ([j], [j])), shape=M.shape))
    rhs = np.zeros(M.shape[0])
    rhs[j] = 1.0
    pi = solvers.factorize(M, method="direct", ordering=solvers.nested_dissection(Q))(rhs)
    reference = np.linalg.solve(M.toarray(), rhs)
    heavy = reference >= 1e-8 * reference.max()
    assert np.abs(pi - reference)[heavy].max() <= 1e-9 * reference.max()


def test_near_singular_system_is_solved_backward_stably(dissect_everything):
    # I - s Q^T with s = 1e10: Q^T has the stationary law as null vector, so the matrix is
    # within ~1e-10 of singular (condition ~1e12, measured): the forward error may reach
    # 1e-4, but the backward error of each solve must stay at round-off (1e-14 allows the
    # ~n^(1/2) eps growth of an LU of this size) and the stationary direction dominates the
    # answer as it does numpy's: their directions agree to cond * eps
    Q = fv_generator(24)
    M = sp.csc_array(sp.identity(Q.shape[0], format="csc") - 1e10 * Q.T)
    b = np.random.default_rng(2).random(M.shape[0])
    x = factorizations.sparse_lu(M)(b)
    assert backward_error(M, x, b) <= 1e-14
    reference = np.linalg.solve(M.toarray(), b)
    cosine = x @ reference / (np.linalg.norm(x) * np.linalg.norm(reference))
    assert cosine >= 1 - 1e-6


def test_singular_matrix_is_refused_naming_the_matrix(dissect_everything):
    # I - Q^T with the equation of one cell emptied: exactly singular (a zero row), which the LU
    # meets as a zero pivot; the refusal names the matrix
    Q = fv_generator(16)
    M = sp.csr_array(sp.identity(Q.shape[0], format="csr") - Q.T)
    M.data[M.indptr[40] : M.indptr[41]] = 0.0
    with pytest.raises(ValueError, match="M: the matrix is singular"):
        factorizations.sparse_lu(sp.csc_array(M))
