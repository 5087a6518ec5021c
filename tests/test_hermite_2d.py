"""The Hermite method in v for theta in R^2 (fpsolve.hermite_2d) against the Lyapunov closed form of the
harmonic kinetic process, the Maxwell-Boltzmann law by quadrature, its convergence order and refusals."""

import numpy as np
import pytest
from scipy import linalg

import fpsolve as fp
from fpsolve.cases.kunin import constant_noise, quadratic
from fpsolve.hermite_2d import HermiteKinetic2D, hermite_modes

HESSIAN = np.array([[1.0, 0.3], [0.3, 1.0]])
SIGMA = np.diag([1.0, 0.4])  # diagonal, and not commuting with HESSIAN: a circulating stationary law


def heavy_ball(hessian=HESSIAN, sigma=SIGMA):
    return fp.MomentumSGD(quadratic(hessian), lr=0.1, batch_size=1, momentum=0.5, noise=constant_noise(sigma))


def lyapunov_covariance(model, hessian=HESSIAN):
    """C of x = (theta, v), dx = M x dt + sqrt(2 D) dW: M C + C M^T + 2 D = 0 (scipy, no fpsolve solver)."""
    M = np.block([[np.zeros((2, 2)), np.eye(2)], [-model.scale * hessian, -model.friction * np.eye(2)]])
    D = np.zeros((4, 4))
    D[2:, 2:] = model.velocity_diffusion(np.zeros(1), np.zeros(1))[:, :, 0]
    return linalg.solve_continuous_lyapunov(M, -2.0 * D)


def theta_grid(C, cells, box_sd=5.0):
    half = box_sd * np.sqrt(np.diag(C)[:2])
    return fp.Grid([(-half[0], half[0]), (-half[1], half[1])], [cells, cells])


def test_modes_are_the_multi_indices_of_total_degree_below_n():
    assert hermite_modes(3) == [(0, 0), (1, 0), (0, 1), (2, 0), (1, 1), (0, 2)]
    assert len(hermite_modes(7)) == 7 * 8 // 2


def test_mass_is_conserved_by_the_operator():
    # the (0, 0) mode is the theta-marginal: sum_i volume (L c)_(0,0),i = 0 for every c, i.e. the
    # columns of the (0, 0) rows sum to zero (round-off of O(1e3) entries: 1e-9 of the largest)
    model = heavy_ball()
    solver = HermiteKinetic2D(model, theta_grid(lyapunov_covariance(model), 10), n_hermite=5)
    L = solver.operator()
    size = solver.unknowns(1)
    column_sums = np.asarray(L[:size].sum(axis=0)).ravel()
    assert np.max(np.abs(column_sums)) < 1e-12 * abs(L).max()


def test_circulation_converges_at_second_order_to_the_lyapunov_closed_form():
    # E[theta1 v2 - theta2 v1] = C[theta1, v2] - C[theta2, v1] (Lyapunov, scipy). The staggered
    # theta differences are second order: on 12, 16, 24 cells the observed order must be 2 within
    # 0.2 (measured 1.97), and the Richardson extrapolation with it within 0.5 % of the closed form
    # (measured 0.1 %; the finest grid alone errs by 4.2 %, 12^2 by 17 %)
    model = heavy_ball()
    C = lyapunov_covariance(model)
    closed = C[0, 3] - C[1, 2]
    assert abs(closed) > 0.03  # a non-trivial circulation: H and Sigma do not commute
    cells = [12, 16, 24]
    values = [HermiteKinetic2D(model, theta_grid(C, n), n_hermite=4).stationary(field_rtol=np.inf) for n in cells]
    circulation = [s.circulation for s in values]
    from fpsolve.cases.kunin import _richardson

    order, extrapolated = _richardson(cells, circulation)
    assert abs(order - 2.0) < 0.2
    assert abs(extrapolated / closed - 1) < 5e-3
    assert abs(circulation[-1] / closed - 1) < 0.06  # O(h^2) at h = 0.42 sd
    # the whole covariance converges with it: 24^2 within 0.5 % of its largest entry (measured 0.37 %)
    assert np.max(np.abs(values[-1].covariance - C)) < 5e-3 * np.abs(C).max()


def test_underdamped_langevin_is_maxwell_boltzmann_by_quadrature():
    # UnderdampedLangevin: the law exp(-(U + |v|^2/2) / T): velocity covariance T I, no correlation of
    # theta and v, no circulation, theta-marginal exp(-U/T) / Z (Z and the moments by a 400^2
    # midpoint quadrature of the exact density, independent of the solver). The theta scheme is
    # second order and not fitted in 2-D, so on 32^2 cells of a non-quadratic, non-separable U:
    # Var theta within 2.5 % (measured -1.5 % and -1.1 %), the marginal within 1.5 % of its peak
    # (measured 0.6 %), Var v within 1e-3 (5e-5), the theta-v covariances and the circulation below
    # 1e-3 (9e-5, 1.8e-4). Truncation: N = 4 against 3 changes the moments by 1.4e-4, a hundred times
    # below the theta error tested here (rtol = 1e-3); the current field is ~0, so not compared.
    T = 0.5
    U = fp.Landscape(lambda a, b: a**4 / 4 + a**2 / 4 + b**2 / 2 + 0.3 * a * b, ndim=2)
    model = fp.UnderdampedLangevin(U, friction=1.0, temperature=T)
    box = [(-2.5, 2.5), (-2.5, 2.5)]
    stat = HermiteKinetic2D(model, fp.Grid(box, [32, 32]), n_hermite=4).stationary(rtol=1e-3, field_rtol=np.inf)
    fine = fp.Grid(box, [400, 400])
    a, b = fine.mesh()
    weight = np.exp(-U(a, b) / T)
    Z = weight.sum() * fine.cell_volume
    var = [np.sum(x * x * weight) * fine.cell_volume / Z for x in (a, b)]
    assert np.allclose(np.diag(stat.covariance)[:2], var, rtol=2.5e-2)
    assert np.allclose(np.diag(stat.covariance)[2:], T, rtol=1e-3)
    assert np.max(np.abs(stat.covariance[:2, 2:])) < 1e-3
    assert abs(stat.circulation) < 1e-3
    ta, tb = np.meshgrid(*stat.theta, indexing="ij")
    exact = np.exp(-U(ta, tb) / T) / Z
    assert np.max(np.abs(stat.marginal - exact)) < 1.5e-2 * exact.max()


def test_refusals_name_the_argument():
    model = heavy_ball()
    C = lyapunov_covariance(model)
    grid = theta_grid(C, 8)
    with pytest.raises(ValueError, match="n_hermite"):
        HermiteKinetic2D(model, grid, n_hermite=2)
    with pytest.raises(ValueError, match="not diagonal; rotate theta"):
        HermiteKinetic2D(heavy_ball(sigma=[[1.0, 0.6], [0.6, 1.0]]), grid)
    quartic = fp.Landscape(lambda a, b: a**4 + b**4, ndim=2)
    with pytest.raises(ValueError, match="varies with theta"):
        HermiteKinetic2D(fp.MomentumSGD(quartic, lr=0.1, batch_size=1, momentum=0.5, noise="hessian"), grid)
    one_d = fp.UnderdampedLangevin(fp.landscapes.double_well(), friction=1.0, temperature=0.5)
    with pytest.raises(ValueError, match="HermiteKinetic"):
        HermiteKinetic2D(one_d, fp.phase_space_grid((-2, 2), (-3, 3), (16, 16)))
    with pytest.raises(TypeError, match="kinetic model"):
        HermiteKinetic2D(fp.Langevin(quadratic(HESSIAN), temperature=1.0), grid)
    # a truncation that has not converged is refused, naming n_hermite (not a default in use)
    with pytest.raises(RuntimeError, match="increase n_hermite"):
        HermiteKinetic2D(model, grid, n_hermite=4).stationary(field_rtol=1e-6)
