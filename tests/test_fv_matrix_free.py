"""Matrix-free finite-volume generators (fpsolve.discretize.fv_matrix_free) against the assembled CSR.

The references: the CSR generator assembled by sparse products of the face-flux matrices,
Q = (sum_k -Div_k F_k)^T (fv._generator, no stencil kernel involved), and direct sparse LU
(scipy.sparse.linalg.spsolve) for the preconditioned Krylov solves.
"""

import numpy as np
import pytest
import scipy.sparse as sparse
import scipy.sparse.linalg as sla

import fpsolve as fp
from fpsolve.discretize import fv
from fpsolve.discretize import fv_matrix_free as mf
from fpsolve.solvers import krylov_solver

# Products of the same rates in a different summation order: a few ulps of the largest term,
# |Q| |x| ~ max|Q_ii| max|x| (7-19 terms per row); 1e-14 leaves a factor ~20 of margin.
ROUNDOFF = 1e-14


def _landscape(d):
    names = "xyzw"[:d]
    return fp.Landscape(
        eval(f"lambda {', '.join(names)}: (x**2 - 1)**2 + " + " + ".join(f"{c}**2" for c in names[1:]) + " + 0.3*x*y")
    )


def _products_agree(operator, Q, seed=0):
    x = np.random.default_rng(seed).standard_normal(Q.shape[0])
    scale = np.abs(Q.diagonal()).max() * np.abs(x).max()
    assert np.abs(operator.matvec(x) - Q @ x).max() <= ROUNDOFF * scale
    assert np.abs(operator.rmatvec(x) - Q.T @ x).max() <= ROUNDOFF * scale
    assert np.allclose(operator.diagonal(), Q.diagonal(), rtol=ROUNDOFF, atol=0)


def _reference_generator(model, grid, boundary):
    """Q from the face fluxes by sparse products (the generic path, not the stencil kernels)."""
    op = fv.assemble(model, grid, boundary)
    return op.generator, fv._generator(grid, list(op.face_flux))


@pytest.mark.parametrize(
    "shape, periodic, boundary",
    [
        ((13, 11), (False, False), "reflecting"),
        ((13, 11), (True, False), ["periodic", "absorbing"]),
        ((9, 8, 7), (False, False, False), "absorbing"),
        ((9, 8, 7), (False, True, False), ["reflecting", "periodic", "absorbing"]),
        ((6, 5, 4, 7), (False, False, False, False), "reflecting"),
        ((6, 5, 4, 7), (True, False, False, True), ["absorbing", "reflecting", "reflecting", "periodic"]),
    ],
)
def test_matrix_free_products_match_the_assembled_generator(shape, periodic, boundary):
    d = len(shape)
    grid = fp.Grid([(-2.0, 2.0)] * d, list(shape), periodic=list(periodic))
    model = fp.Langevin(_landscape(d), temperature=0.5)
    Q, by_products = _reference_generator(model, grid, boundary)
    # the stencil-built CSR is the sparse-product generator to round-off
    assert abs(Q - by_products).max() <= ROUNDOFF * abs(Q).max()
    _products_agree(mf.from_model(model, grid, boundary), by_products)
    _products_agree(mf.from_generator(Q, grid), by_products)
    assert abs(mf.stencil_of(Q, grid).tocsr() - Q).max() == 0.0  # the same numbers, re-packed


def test_cross_diffusion_stencil_matches_the_assembled_generator():
    """Cross diffusion couples diagonal neighbours (up to 19 offsets in 3-D, limited links
    included): from_generator reads them off the CSR; from_model refuses, naming the way."""
    grid = fp.Grid([(-2.0, 0.5), (-1.5, 1.5), (-1.5, 1.5)], [9, 8, 7])
    model = fp.SGD(_landscape(3), lr=0.2, batch_size=1, noise="hessian", hessian_floor=0.5)
    Q = fv.assemble(model, grid).generator
    operator = mf.from_generator(Q, grid)
    assert len(operator.stencil.offsets) > 2 * grid.ndim  # diagonal neighbours present
    _products_agree(operator, Q)
    with pytest.raises(ValueError, match="cross terms"):
        mf.from_model(model, grid)


@pytest.mark.parametrize("cells", [None, 10])
def test_preconditioned_krylov_solve_matches_sparse_lu(cells, monkeypatch):
    """Mean exit time through absorbing box faces, Q tau = -1, by GMRES on the matrix-free
    operator (AMG V-cycle preconditioner; with AMG_MAX_CELLS = 10, Jacobi) against sparse LU."""
    if cells is not None:
        monkeypatch.setattr(mf, "AMG_MAX_CELLS", cells)
    grid = fp.Grid([(-2.0, 0.5), (-1.5, 1.5), (-1.5, 1.5)], [16, 14, 14])
    model = fp.Langevin(_landscape(3), temperature=0.5)
    operator = mf.from_model(model, grid, "absorbing")
    Q = fv.assemble(model, grid, "absorbing").generator
    reference = sla.spsolve(sparse.csc_array(Q), -np.ones(grid.size))
    tau = krylov_solver(operator)(-np.ones(grid.size))
    # the solve is judged by its normwise backward error, 1e-11 (solvers.KRYLOV_RTOL); the exit
    # times' condition number is about max tau * max|Q_ii| ~ 1e3 here: 1e-7 relative is ample
    assert np.abs(tau - reference).max() <= 1e-7 * reference.max()


def test_symmetrized_bound_contains_the_spectrum():
    """Gershgorin on the symmetrized stencil bounds the spectral radius (dense eigenvalues)."""
    grid = fp.Grid([(-2.0, 2.0), (-1.5, 1.5)], [14, 12])
    model = fp.Langevin(_landscape(2), temperature=0.3)
    operator = mf.from_model(model, grid, "absorbing")
    eigenvalues = np.linalg.eigvals(fv.assemble(model, grid, "absorbing").generator.toarray())
    assert np.abs(eigenvalues.imag).max() <= 1e-8 * np.abs(eigenvalues).max()  # reversible: real
    radius = np.abs(eigenvalues).max()
    bound = operator.stencil.symmetrized_bound()
    assert radius <= bound <= 2.0 * radius  # a bound, and not a loose one
