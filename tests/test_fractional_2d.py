"""The fractional scheme in 2-D: per-axis sums of 1-D operators and the isotropic operator.

References: the fractional Laplacian of a Gaussian in 2-D (1F1 closed form, checked against a
Hankel-transform quadrature by scipy), Getoor's mean exit time from the unit disc, the product
structure of independent coordinates (exit through x < 0 equals the 1-D exit time), and the
Kronecker sum of 1-D operators.
"""

import math
import warnings

import numpy as np
import pytest
from scipy import integrate, special

import fpsolve as fp
from fpsolve.dynamics import Model
from fpsolve.noise import JumpLaw

FLAT2 = fp.Landscape(
    lambda x, y: 0.0 * (x + y), grad=lambda x, y: np.zeros((2,) + np.broadcast(x, y).shape), name="flat2"
)


def _gaussian_2d(alpha, r):
    """(-Laplacian)^(alpha/2) exp(-|x|^2/2) in 2-D: 2^(alpha/2) Gamma(1 + alpha/2) 1F1(1 + alpha/2; 1; -r^2/2)."""
    return 2 ** (alpha / 2) * math.gamma(1 + alpha / 2) * special.hyp1f1(1 + alpha / 2, 1.0, -(r**2) / 2)


@pytest.mark.parametrize("alpha", [0.8, 1.5])
def test_isotropic_fractional_laplacian_of_a_gaussian(alpha):
    # reference checked against the Hankel transform int k^(1+alpha) e^(-k^2/2) J0(k r) dk. On
    # square cells the lattice's 90-degree symmetry integrates the direction-dependent part of
    # psi exactly: second order, max errors on r < 3 measured 2.4e-2, 5.7e-3, 1.3e-3 (alpha 1.5)
    # and 4.8e-3, 1.1e-3, 2.4e-4 (alpha 0.8) at h = 0.4, 0.2, 0.1
    hankel = integrate.quad(lambda k: k ** (1 + alpha) * np.exp(-k * k / 2) * special.j0(k * 0.7), 0, 40)[0]
    assert _gaussian_2d(alpha, 0.7) == pytest.approx(hankel, rel=1e-8)
    model = fp.LevyLangevin(FLAT2, alpha=alpha, scale=1.0, isotropic=True)
    errors = []
    for n in (40, 80):
        grid = fp.Grid([(-8, 8), (-8, 8)], [n, n])
        Q = fp.FokkerPlanck(model, grid, boundary="absorbing").generator.matrix
        x, y = grid.mesh()
        r = np.sqrt(x**2 + y**2)
        applied = -Q.matvec(np.exp(-(r.ravel() ** 2) / 2)).reshape(grid.shape)
        near = r < 3
        errors.append(np.max(np.abs(applied - _gaussian_2d(alpha, r))[near]))
    assert errors[-1] < 1e-2
    assert math.log2(errors[0] / errors[1]) > 1.9


def test_isotropic_exit_time_from_the_disc_matches_getoor():
    # tau(0) = Gamma(d/2) / (2^alpha Gamma(1 + alpha/2) Gamma((d + alpha)/2)) for the unit ball
    # (d = 2). The disc is a staircase of whole cells (matrix-free absorbing sets): first order,
    # measured 3.5e-2, 2.1e-2, 8.8e-3 relative at 32, 64, 128 cells across (-1.5, 1.5)
    alpha = 1.5
    model = fp.LevyLangevin(FLAT2, alpha=alpha, scale=1.0, isotropic=True)
    grid = fp.Grid([(-1.5, 1.5), (-1.5, 1.5)], [64, 64])
    tau = fp.mean_exit_time(model, grid, domain=lambda x, y: x**2 + y**2 < 1)
    exact = math.gamma(1.0) / (2**alpha * math.gamma(1 + alpha / 2) * math.gamma(1 + alpha / 2))
    assert tau(0.0, 0.0) == pytest.approx(exact, rel=3e-2)


def test_per_axis_operator_is_the_kronecker_sum_of_one_dimensional_operators():
    # axis-aligned jumps with their own alpha and scale per axis: Q = Q_x (x) I + I (x) Q_y
    alphas, scales = (1.3, 0.7), (0.8, 1.2)
    grid = fp.Grid([(-1, 1), (-2, 2)], [48, 40])
    Q = fp.FokkerPlanck(fp.LevyLangevin(FLAT2, alpha=alphas, scale=scales), grid, boundary="absorbing").generator.matrix
    flat = fp.Landscape(lambda x: 0.0 * x, grad=lambda x: np.zeros((1,) + np.shape(x)), name="flat")
    ones = []
    for k in range(2):
        g = fp.Grid([grid.bounds[k]], [grid.shape[k]])
        ones.append(
            fp.FokkerPlanck(
                fp.LevyLangevin(flat, alpha=alphas[k], scale=scales[k]), g, boundary="absorbing"
            ).generator.matrix.toarray()
        )
    kron_sum = np.kron(ones[0], np.eye(40)) + np.kron(np.eye(48), ones[1])
    f = np.random.default_rng(1).standard_normal(grid.size)
    np.testing.assert_allclose(Q.matvec(f), kron_sum @ f, atol=1e-11 * np.abs(kron_sum).max())
    np.testing.assert_allclose(Q.killing, -kron_sum.sum(axis=1), rtol=1e-9, atol=1e-9 * np.abs(kron_sum).max())


class _JumpsAlongX(Model):
    """dX = -U'(X) dt + eps dL (jumps along x only), dY = -Y dt + sqrt(2 T) dW."""

    ndim = 2

    def __init__(self, alpha, scale, temperature):
        self.jumps = JumpLaw(alpha, scale, (0,))
        self.temperature = temperature

    @property
    def noise_axes(self):
        return (1,)

    def drift(self, *x, t=0.0):
        x, y = np.broadcast_arrays(*x)
        return np.stack([-4 * x * (x**2 - 1), -y])

    def diffusion(self, *x, t=0.0):
        d = np.zeros((2, 2) + np.broadcast(*x).shape)
        d[1, 1] = self.temperature
        return d

    def potential(self, t=0.0):
        return lambda x, y: (x**2 - 1) ** 2 + y**2 / 2


def test_decoupled_coordinates_exit_as_in_one_dimension():
    # jumps along x only, an independent Gaussian y: the exit time through x = 0 is the 1-D
    # exit time of the x-process (REFERENCES.md, decoupled landscapes); the 2-D chain is the
    # product chain, so they agree to the Krylov tolerance (1e-11 backward error, ~1e-9 in tau).
    # Only the x faces kill: the y faces of a Gaussian axis stay reflecting in exit problems.
    model = _JumpsAlongX(1.5, 0.5, 0.3)
    grid = fp.Grid([(-3, 3), (-2, 2)], [96, 24])
    one = fp.LevyLangevin(fp.landscapes.double_well(), alpha=1.5, scale=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the steep walls at |x| = 3 exceed the Peclet warning
        tau2 = fp.mean_exit_time(model, grid, domain=lambda x, y: x < 0)
        tau1 = fp.mean_exit_time(one, fp.Grid([(-3, 3)], [96]), domain=lambda x: x < 0)
    np.testing.assert_allclose(tau2.values[:48], np.repeat(tau1.values[:48, None], 24, axis=1), rtol=1e-7)


def test_isotropic_needs_square_cells_and_one_face_kind():
    model = fp.LevyLangevin(FLAT2, alpha=1.5, scale=1.0, isotropic=True)
    with pytest.raises(ValueError, match="square cells"):
        fp.FokkerPlanck(model, fp.Grid([(-1, 1), (-1, 1)], [32, 16]))
    with pytest.raises(ValueError, match="same kind"):
        fp.FokkerPlanck(model, fp.Grid([(-1, 1), (-1, 1)], [16, 16]), boundary=["absorbing", "reflecting"])
    with pytest.raises(ValueError, match="non-periodic"):
        fp.FokkerPlanck(model, fp.Grid([(-1, 1), (-1, 1)], [16, 16], periodic=True))


def test_per_axis_stationary_law_and_evolution_conserve_mass():
    # censored box: mass conserved to round-off, the law non-negative, and symmetric for a
    # symmetric landscape (x -> -x)
    model = fp.LevyLangevin(fp.landscapes.double_well_2d(), alpha=1.6, scale=0.6)
    grid = fp.Grid([(-2.5, 2.5), (-2, 2)], [40, 32])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a small box: the censoring warning
        fpe = fp.FokkerPlanck(model, grid)
    p = fpe.stationary()
    assert grid.integrate(p) == pytest.approx(1.0, abs=1e-12)
    assert p.min() >= 0
    np.testing.assert_allclose(p, p[::-1], rtol=1e-6, atol=1e-9 * p.max())
    sol = fpe.evolve(fp.gaussian(grid, mean=(-1, 0), std=0.3), t=[0, 0.2])
    assert abs(sol.mass[-1] - 1) < 1e-9
