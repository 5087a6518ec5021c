"""The iterative stationary law of non-reversible 3-D chains (fpsolve.stationary_iterative).

References: the null vector of the same chain's dense Qᵀ (LAPACK LU with partial pivoting on the
system with Σπ = 1 replacing one balance equation, backward stable), the Gibbs law e^{-U/T} at
the cell centres (exact for the fitted scheme of a gradient drift), and numpy's dense solves for
the compiled GMRES pieces.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sparse

import fpsolve as fp
from fpsolve import stationary as stationary_module
from fpsolve import stationary_iterative as iterative
from fpsolve.gth import axis_orderings

CROSS_DIFFUSION = np.array([[0.25, 0.05, 0.0], [0.05, 0.25, 0.05], [0.0, 0.05, 0.25]])


def _rotation(strength=0.5, noise=0.25):
    """Issue 14's rotation model: -grad U of U = (x^2-1)^2 + y^2 + z^2 plus a divergence-free
    rotation about the wells, isotropic noise (no detailed balance)."""

    def drift(x, y, z):
        return np.stack(np.broadcast_arrays(-4 * x * (x**2 - 1) - strength * y, -2 * y + strength * (x**2 - 1), -2 * z))

    return fp.Diffusion(drift, noise * np.eye(3), 3)


def _cross_diffusion():
    def drift(x, y, z):
        return np.stack(np.broadcast_arrays(-4 * x * (x**2 - 1) - 0.5 * y, -2 * y + 0.5 * (x + 1), -2 * z))

    return fp.Diffusion(drift, CROSS_DIFFUSION, 3)


def _chain(model, n):
    grid = fp.Grid([(-2, 2), (-1.5, 1.5), (-1.5, 1.5)], [n] * 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # coarse-grid Peclet warnings: the chain is what is tested
        Q = fp.FokkerPlanck(model, grid).generator.matrix
    return stationary_module.markov_rates(Q), grid


def _dense_law(Q):
    """π from the dense bordered system: Qᵀπ = 0 with its first equation replaced by Σπ = 1, and
    one step of iterative refinement with the residual in long double (it moves the law by up to
    2e-12 of the peak at the high barrier, where the chain's condition is ~1e5)."""
    bordered = Q.toarray().T
    bordered[0] = 1.0
    rhs = np.eye(Q.shape[0])[0]
    law = np.linalg.solve(bordered, rhs)
    residual = rhs.astype(np.longdouble) - bordered.astype(np.longdouble) @ law.astype(np.longdouble)
    return law + np.linalg.solve(bordered, residual.astype(float))


@pytest.mark.parametrize(
    "model",
    [_rotation(), _rotation(strength=3.0), _rotation(noise=0.08), _cross_diffusion()],
    ids=["rotation", "strong rotation", "high barrier", "cross diffusion"],
)
def test_iterative_law_matches_dense_null_vector(model):
    """The pinned GMRES law against the dense LU null vector of the same 12^3 chain. The dense
    solve is refined to ~1e-16 normwise; the iterative one aims at a normwise backward error of
    1e-15. Measured differences: 4e-15 (rotation), 2.5e-11 at the high barrier (U/T = 12.5
    between the wells, the chain's condition ~1e5), 1e-10 asserted."""
    Q, _ = _chain(model, 12)
    assert fp.linalg.log_detailed_balance(Q) is None  # not reversible
    pi = iterative.iterative_law(Q)
    reference = _dense_law(Q)
    pi = pi / pi.sum()
    assert np.abs(pi - reference).max() <= 1e-10 * reference.max()
    error = iterative.iterative_balance_errors(Q, pi, axis_orderings(Q))
    assert error.cells <= iterative.ITERATIVE_CELL_RTOL and error.cuts <= iterative.ITERATIVE_CUT_RTOL


def test_stationary_goes_the_iterative_way_and_matches_sparse_lu(monkeypatch):
    """Through stationary(): with the size threshold lowered the 16^3 rotation chain is solved by
    the iterative law (counted), and agrees with the sparse LU law of fpsolve.stationary with
    refinement (SuperLU, backward stable; both ~1e-13 normwise, condition ~1e3): 1e-10 of the peak."""
    monkeypatch.setattr(stationary_module, "ITERATIVE_MIN_STATES", 1000)
    monkeypatch.setattr(stationary_module, "ITERATIVE_BAND", 0.0)  # 16^3: band 256 = 4 sqrt(n)
    calls = []
    original = stationary_module._iterative_law
    monkeypatch.setattr(stationary_module, "_iterative_law", lambda Q: calls.append(1) or original(Q))
    Q, grid = _chain(_rotation(), 16)
    pi = stationary_module.stationary_distribution(Q)
    assert calls == [1]
    lu = stationary_module._refined_lu_law(Q)
    lu = lu / lu.sum()
    assert np.abs(pi - lu).max() <= 1e-10 * lu.max()


def test_gradient_potential_of_a_reversible_chain_is_the_gibbs_law():
    """For a gradient drift the link ratios are exactly those of the Gibbs law at the cell centres
    (fitted scheme), so the least-squares potential is -U/T up to the CG tolerance 1e-6 relative
    residual (times the Laplacian's condition ~ 4 n^2 / pi^2 ~ 60 at 12^3): 1e-3 asserted on the
    cells above 1e-6 of the peak, against a range of 40 in φ."""
    U = fp.Landscape(lambda x, y, z: (x**2 - 1) ** 2 + y**2 + z**2)
    grid = fp.Grid([(-2, 2), (-1.5, 1.5), (-1.5, 1.5)], [12] * 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fpe = fp.FokkerPlanck(fp.Langevin(U, temperature=0.25), grid)
    phi = iterative.gradient_potential(fpe.generator.matrix)
    x, y, z = np.meshgrid(*grid.centers, indexing="ij")
    exact = -((x**2 - 1) ** 2 + y**2 + z**2).ravel() / 0.25
    exact -= exact.max()
    heavy = exact >= np.log(1e-6)
    assert np.ptp(phi) > 20
    assert np.abs(phi - exact)[heavy].max() <= 1e-3


def test_reducible_chain_is_refused():
    """Two disjoint copies of the rotation chain have two closed classes and no unique law: the
    pinned solve would balance one copy alone (the Krylov space never leaves it), so the
    iterative law refuses it (None). A transient state (nothing flows in) is not a closed class."""
    Q, _ = _chain(_rotation(), 10)
    twice = sparse.csr_array(sparse.block_diag([Q, Q]))
    assert iterative.closed_classes(twice) == 2 and iterative.closed_classes(Q) == 1
    assert iterative.iterative_law(twice) is None
    transient = sparse.lil_array(Q.copy())
    transient[:, 0] = 0.0  # no rate into state 0
    transient[0, 0] = -transient[[0], :].sum()
    assert iterative.closed_classes(sparse.csr_array(transient)) == 1


def test_a_law_failing_the_balance_check_is_never_returned(monkeypatch):
    """A law with 1 % of the mass moved between the wells balances most cells but not the cuts
    through the barrier: the check rejects it and the next method's law (exact) is returned."""
    monkeypatch.setattr(stationary_module, "ITERATIVE_MIN_STATES", 1000)
    monkeypatch.setattr(stationary_module, "ITERATIVE_BAND", 0.0)
    Q, grid = _chain(_rotation(), 12)
    reference = _dense_law(Q)
    left = (np.arange(Q.shape[0]) // 144) < 6  # x < 0: the first 6 of 12 slabs along x
    wrong = np.where(left, 1.01 * reference, 0.99 * reference)
    error = iterative.iterative_balance_errors(Q, wrong, axis_orderings(Q))
    assert error.cuts > 1e3 * iterative.ITERATIVE_CUT_RTOL
    calls = []
    monkeypatch.setattr(stationary_module, "_iterative_law", lambda Q: calls.append(1) or wrong)
    pi = stationary_module.stationary_distribution(Q)
    assert calls == [1]
    # the fallback (GTH or sparse LU) is accurate to ~1e-13 here (condition ~1e2)
    assert np.abs(pi - reference).max() <= 1e-10 * reference.max()


def test_gmres_cycle_solves_a_nonsymmetric_system():
    """One GMRES cycle with as many steps as unknowns solves any non-singular system exactly in
    exact arithmetic; on a 30 x 30 convection-diffusion matrix (condition ~1e2) to ~1e-13 of
    numpy's LU solution, 1e-10 asserted. With a Jacobi preconditioner the answer is the same."""
    rng = np.random.default_rng(7)
    A = sparse.diags_array([-1.3 * np.ones(29), 2.5 * np.ones(30), -0.7 * np.ones(29)], offsets=[-1, 0, 1])
    A = sparse.csr_array(A + sparse.random_array((30, 30), density=0.05, rng=rng))
    b = rng.standard_normal(30)
    exact = np.linalg.solve(A.toarray(), b)
    for precondition in (lambda r: r.copy(), lambda r: r / A.diagonal()):
        x = iterative.gmres_cycle(A, b, precondition, 30, 1e-15 * np.linalg.norm(b))
        assert np.abs(x - exact).max() <= 1e-10 * np.abs(exact).max()


def test_compiled_kernels_match_their_numpy_twins():
    """Gram-Schmidt against numpy: w - V_kᵀ(V_k w) twice (orthonormal rows), coefficients and norm."""
    rng = np.random.default_rng(3)
    basis = np.linalg.qr(rng.standard_normal((50, 6)))[0].T.copy()
    w = rng.standard_normal(50)
    expected = w - basis[:4].T @ (basis[:4] @ w)
    coefficients = np.zeros(5)
    norm = iterative._orthogonalize(basis, 3, w, coefficients)
    assert np.allclose(w, expected, atol=1e-14) and np.isclose(norm, np.linalg.norm(expected))
    assert np.abs(basis[:4] @ w).max() <= 1e-15
    # nearly in the span: the first pass cancels most of w, the second restores orthogonality
    w = basis[:4].T @ np.array([1.0, -2.0, 3.0, 0.5]) + 1e-9 * basis[5]
    norm = iterative._orthogonalize(basis, 3, w, np.zeros(5))
    assert np.isclose(norm, 1e-9, rtol=1e-6) and np.abs(basis[:4] @ w).max() <= 1e-15 * 1e-9 * 1e3
    out = np.empty(50)
    iterative._combine(basis, np.array([0.5, -2.0, 1.5]), out)
    assert np.allclose(out, basis[:3].T @ np.array([0.5, -2.0, 1.5]), atol=1e-14)


def test_refused_iterative_law_with_no_direct_fallback_names_the_grid_that_fits(monkeypatch):
    """When the iterative law is refused and a sparse LU of the chain would not fit in memory, the
    solve stops with the size advice instead of starting a factorization it cannot finish (memory
    faked to 1 MiB; the iterative law forced to fail)."""
    from fpsolve import iterative as iterative_solvers

    monkeypatch.setattr(stationary_module, "ITERATIVE_MIN_STATES", 1000)
    monkeypatch.setattr(stationary_module, "ITERATIVE_BAND", 0.0)
    monkeypatch.setattr(stationary_module, "_iterative_law", lambda Q: None)
    monkeypatch.setattr(iterative_solvers, "_available_memory", lambda: 2.0**20)
    lu_calls = []
    monkeypatch.setattr(stationary_module, "_refined_lu_law", lambda *a, **k: lu_calls.append(1))
    Q, _ = _chain(_rotation(), 12)
    with pytest.raises(ValueError, match=r"iterative stationary law .* refused .* coarsen the grid"):
        stationary_module.stationary_distribution(Q)
    assert lu_calls == []
