"""Cross diffusion on the lattice directions (fpsolve.discretize.fv_lattice).

References: the Gaussian stationary law of an Ornstein-Uhlenbeck process with correlated noise
(covariance from the Lyapunov equation A S + S A^T = 2 D, scipy.linalg), the Boltzmann law e^{-V}
of a drift b = div D - D grad V with state-dependent cross diffusion (zero flux in closed form), the
first Dirichlet eigenvalue D_xx (pi / L)^2 of a strip (the y-independent mode of a periodic axis
is an exact eigenfunction whatever D_xy), and the divergence of the face fluxes against the
generator (exact identities of the scheme).
"""

import warnings

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse as sp

import fpsolve as fp
from fpsolve.discretize import fv
from fpsolve.discretize.fv_lattice import lattice_directions

OU_DRIFT = np.array([[1.0, 0.3], [-0.2, 1.5]])  # non-normal, non-symmetric: a rotating OU process
OU_DIFFUSION = np.array([[0.5, 0.15], [0.15, 0.4]])


def _ou():
    A = OU_DRIFT
    return fp.Diffusion(lambda x, y: (-(A[0, 0] * x + A[0, 1] * y), -(A[1, 0] * x + A[1, 1] * y)), OU_DIFFUSION, 2)


def _state_dependent_diffusion(x, y):
    """Cross diffusion changing sign along y (both diagonal directions), dominant on square cells:
    D_xx - |D_xy| >= 0.3, D_yy - |D_xy| >= 0.1."""
    dxy = 0.3 * np.sin(y) + 0 * x
    return np.array([[0.6 + 0.2 * np.tanh(x) + 0 * y, dxy], [dxy, 0.5 + 0.1 * np.cos(x) + 0 * y]])


def _reversible_state_dependent():
    """b = div D - D grad V with V = (x^2 + y^2) / 2 + 0.3 x y: the Ito flux b p - div(D p)
    vanishes for p = e^{-V}, which is therefore the stationary law."""

    def drift(x, y):
        D = _state_dependent_diffusion(x, y)
        div = np.stack(np.broadcast_arrays(0.2 / np.cosh(x) ** 2 + 0.3 * np.cos(y), 0 * x + 0 * y))
        grad = np.stack(np.broadcast_arrays(x + 0.3 * y, y + 0.3 * x))
        return div - np.einsum("km...,m...->k...", D, grad)

    return fp.Diffusion(drift, _state_dependent_diffusion, 2), lambda x, y: 0.5 * (x**2 + y**2) + 0.3 * x * y


def _orders(errors):
    errors = np.asarray(errors)
    return np.log2(errors[:-1] / errors[1:])


def test_ou_stationary_law_with_correlated_noise_is_second_order():
    """The stationary law of dX = -A X dt + sqrt(2D) dW (A non-normal, D correlated) is the
    Gaussian with covariance S, A S + S A^T = 2 D: L1 errors of the discrete law measured 1.03e-3,
    2.5e-4, 6.3e-5 at 24^2, 48^2, 96^2 (orders 2.03, 2.00)."""
    S = scipy.linalg.solve_continuous_lyapunov(OU_DRIFT, 2 * OU_DIFFUSION)
    inverse = np.linalg.inv(S)
    errors = []
    for n in (24, 48, 96):
        grid = fp.Grid([(-4, 4), (-4, 4)], [n, n])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # 24^2: cell Peclet 5 near the walls, where p ~ 1e-9
            fpe = fp.FokkerPlanck(_ou(), grid)
        assert fpe.diagnostics["monotonicity"].is_m_matrix
        p = np.asarray(fpe.stationary()).reshape(grid.shape)
        r = np.stack(np.broadcast_arrays(*grid.mesh()))
        exact = np.exp(-0.5 * np.einsum("i...,ij,j...->...", r, inverse, r)) / (2 * np.pi * np.sqrt(np.linalg.det(S)))
        errors.append(np.abs(p - exact).sum() * grid.cell_volume)
    orders = _orders(errors)
    assert errors[-1] < 1e-4
    assert np.all((orders > 1.85) & (orders < 2.15)), (errors, orders)


def test_state_dependent_cross_diffusion_keeps_the_boltzmann_law_to_second_order():
    """b = div D - D grad V with D(x, y) state-dependent and D_xy changing sign: the law e^{-V} is
    stationary. The scheme fits the drift at link midpoints and D at the cells, so the discrete law
    converges at second order (measured L1 errors 8.1e-3, 2.1e-3, 5.2e-4: orders 1.98, 1.99)."""
    model, potential = _reversible_state_dependent()
    errors = []
    for n in (20, 40, 80):
        grid = fp.Grid([(-4, 4), (-4, 4)], [n, n])
        directions = lattice_directions(fv.cell_diffusion(model, grid, 0.0), grid.spacing)
        assert len(directions) == 4  # both diagonals (D_xy changes sign) and the two axes
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fpe = fp.FokkerPlanck(model, grid)
        p = np.asarray(fpe.stationary()).reshape(grid.shape)
        exact = np.exp(-potential(*grid.mesh()))
        exact /= exact.sum() * grid.cell_volume
        errors.append(np.abs(p - exact).sum() * grid.cell_volume)
    orders = _orders(errors)
    assert np.all((orders > 1.8) & (orders < 2.2)), (errors, orders)


def test_absorbing_faces_cut_the_diagonal_links_at_second_order():
    """Pure diffusion with D_xy != 0 on (0, 2) x (0, 1), absorbing in x, periodic in y: the
    y-independent mode sin(pi x / 2) is exact, so the slowest decay rate is D_xx (pi / 2)^2. The
    diagonal links that leave through the absorbing faces are half links; relative errors measured
    3.2e-3, 8.0e-4, 2.0e-4 (second order, like the axis faces alone)."""
    model = fp.Diffusion(lambda x, y: (0 * x, 0 * y), OU_DIFFUSION, 2)
    exact = OU_DIFFUSION[0, 0] * (np.pi / 2) ** 2
    errors = []
    for n in (16, 32, 64):
        grid = fp.Grid([(0, 2), (0, 1)], [n, n // 2], periodic=[False, True])
        fpe = fp.FokkerPlanck(model, grid, boundary=["absorbing", "periodic"])
        errors.append(abs(fpe.relaxation_rates(1)[0] - exact) / exact)
    orders = _orders(errors)
    assert errors[-1] < 3e-4
    assert np.all((orders > 1.9) & (orders < 2.1)), (errors, orders)


def _grids_and_boundaries():
    model2 = _ou()
    model3 = fp.Diffusion(
        lambda x, y, z: (-x + 0.5 * y, -y - 0.5 * x, -z),
        lambda x, y, z: np.array(
            [
                [0.5 + 0.1 * np.tanh(x) + 0 * y, -0.1 + 0 * x, 0 * x],
                [-0.1 + 0 * x, 0.5 + 0 * x, 0.12 + 0.02 * np.sin(z)],
                [0 * x, 0.12 + 0.02 * np.sin(z), 0.4 + 0 * x],
            ]
        ),
        3,
    )
    square = fp.Grid([(-3, 3), (-3, 3)], [24, 20])
    box = fp.Grid([(-2, 2)] * 3, [10, 9, 8])
    return [
        (model2, square, "reflecting"),
        (model2, square, "absorbing"),
        (model2, square, [("absorbing", "reflecting"), ("reflecting", "absorbing")]),
        (model2, fp.Grid([(-3, 3), (-3, 3)], [24, 20], periodic=[True, False]), ["periodic", "absorbing"]),
        (model3, box, "reflecting"),
        (model3, box, "absorbing"),
        (
            model3,
            fp.Grid([(-2, 2)] * 3, [10, 9, 8], periodic=[False, True, False]),
            ["reflecting", "periodic", "absorbing"],
        ),
    ]


@pytest.mark.parametrize("case", range(7))
def test_face_fluxes_are_the_schemes_current_and_rates_are_positive(case):
    """-sum_k Div_k F_k = Q^T exactly (to round-off, 1e-14 of max |Q|), every off-diagonal rate is
    positive, rows sum to zero away from absorbing faces and to minus the killing rate at them,
    and the killing equals the outward flux through the box faces: 2-D and 3-D, constant and
    state-dependent D (3-D: D_xy < 0 and D_yz > 0 varying), reflecting, absorbing, mixed and
    periodic faces."""
    model, grid, boundary = _grids_and_boundaries()[case]
    op = fv.assemble(model, grid, boundary)
    Q = op.generator
    assert op.monotonicity.is_m_matrix
    forward = sum(fv._negative_divergence(grid, k) @ op.face_flux[k] for k in range(grid.ndim))
    scale = abs(Q).max()
    assert abs(forward - Q.T).max() <= 1e-14 * scale
    off = (Q - sp.diags(Q.diagonal())).tocoo()
    assert off.data.min() > 0
    killing = -np.asarray(Q.sum(axis=1)).ravel()
    assert killing.min() >= -1e-13 * scale
    # the outward flux of a density through the box faces is the mass it loses by killing
    p = np.random.default_rng(case).random(grid.size)
    outflow = 0.0
    for k, flux in enumerate(op.face_flux):
        if grid.periodic[k]:
            continue
        shape = list(grid.shape)
        shape[k] += 1
        j = (flux @ p).reshape(shape)
        area = grid.cell_volume / grid.spacing[k]
        outflow += area * (np.take(j, -1, axis=k).sum() - np.take(j, 0, axis=k).sum())
    assert outflow == pytest.approx((killing * p).sum() * grid.cell_volume, rel=1e-12, abs=1e-12 * scale)


def test_tensors_not_dominant_on_the_grid_fall_back_to_central_differences():
    """D_xy = 0.9 with D_xx = D_yy = 1 on cells 5x longer in x than in y: D_xx / h_x^2 < |D_xy| /
    (h_x h_y), so no lattice split exists; the central cross differences are used, limited (the
    test of fv.py checks their report)."""
    D = np.array([[1.0, 0.9], [0.9, 1.0]])
    grid = fp.Grid([(-2, 2), (-2, 2)], [20, 100])
    assert lattice_directions(np.broadcast_to(D.reshape(2, 2, 1, 1), (2, 2) + grid.shape), grid.spacing) is None
    square = fp.Grid([(-2, 2), (-2, 2)], [40, 40])
    split = lattice_directions(D.reshape(2, 2, 1, 1), square.spacing)
    h = square.spacing[0]
    # D = sum a_d v_d v_d^T: one diagonal (D_xy > 0) and the two axis remainders
    total = sum(np.outer(s.offset * h, s.offset * h) * float(np.ravel(s.coefficient)[0]) for s in split)
    np.testing.assert_allclose(total, D, rtol=1e-14)
