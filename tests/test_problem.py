"""FokkerPlanck against closed forms: a non-commuting 2-D Ornstein-Uhlenbeck process (transient
moments by Van Loan's block exponential, stationary covariance by the Lyapunov equation, the
stationary current -Q Sigma^-1 x p), Boltzmann laws, a state-dependent diffusion, schedules, and
mass/positivity on random landscapes (hypothesis). References: REFERENCES.md."""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from scipy import integrate as quad
from scipy.linalg import expm, solve_continuous_lyapunov

import fpsolve as fp

# --- the 2-D Ornstein-Uhlenbeck process dX = -AX dt + sqrt(2D) dW, A symmetric, AD != DA ---------
A = np.array([[1.0, 0.5], [0.5, 2.0]])
D = np.array([[0.5, 0.15], [0.15, 0.3]])
SIGMA = solve_continuous_lyapunov(A, 2 * D)  # A S + S A^T = 2 D
Q_OU = A @ SIGMA - D  # antisymmetric, nonzero because A and D do not commute
BOX = [(-4.0, 4.0), (-2.5, 2.5)]  # > 5.8 stationary standard deviations on each axis


def ou_model():
    return fp.Diffusion(
        lambda x, y: (-(A[0, 0] * x + A[0, 1] * y), -(A[1, 0] * x + A[1, 1] * y)),
        D,
        ndim=2,
        potential=lambda x, y: 0.5 * (A[0, 0] * x * x + 2 * A[0, 1] * x * y + A[1, 1] * y * y),
    )


def ou_problem(n):
    grid = fp.Grid(BOX, [n, n])
    with warnings.catch_warnings():
        # at 32^2 a few far-tail faces (density < 1e-8 of the peak) lose the M-matrix property
        warnings.simplefilter("ignore", UserWarning)
        return fp.FokkerPlanck(ou_model(), grid)


def moments(grid, p):
    """Mean and covariance of a cell density by the midpoint rule (no fpsolve solver involved)."""
    x, y = grid.mesh()
    v = grid.cell_volume
    m = np.array([np.sum(x * p), np.sum(y * p)]) * v
    second = np.array([[np.sum(x * x * p), np.sum(x * y * p)], [np.sum(x * y * p), np.sum(y * y * p)]]) * v
    return m, second - np.outer(m, m)


def ou_closed_form(m0, c0, t):
    """Mean e^{-At} m0 and covariance e^{-At} C0 e^{-A^T t} + int_0^t e^{-As} 2D e^{-A^T s} ds,
    the integral by Van Loan's block exponential expm([[-A, 2D], [0, A^T]] t)."""
    e = expm(-A * t)
    block = expm(np.block([[-A, 2 * D], [np.zeros((2, 2)), A.T]]) * t)
    return e @ m0, e @ c0 @ e.T + block[:2, 2:] @ e.T


def test_ou_matrices_do_not_commute():
    assert np.abs(A @ D - D @ A).max() > 0.1
    assert abs(Q_OU[0, 1]) > 0.05 and np.allclose(Q_OU, -Q_OU.T, atol=1e-14)


def test_ou_transient_moments_match_van_loan_second_order():
    t = 0.4
    errors = []
    for n in (32, 64):
        fpe = ou_problem(n)
        p0 = fp.gaussian(fpe.grid, mean=(1.0, -0.5), std=0.3)
        # start the closed form from the discrete initial moments: the remaining error is the
        # operator's discretization error, not the representation of the initial Gaussian
        m0, c0 = moments(fpe.grid, p0)
        sol = fpe.evolve(p0, [0.0, t], method="exponential")  # exact in time
        m1, c1 = moments(fpe.grid, sol.p[-1])
        m_ref, c_ref = ou_closed_form(m0, c0, t)
        errors.append(max(np.abs(m1 - m_ref).max(), np.abs(c1 - c_ref).max()))
    # measured: 4.8e-3 at 32^2 and 1.2e-3 at 64^2 (ratio 3.98): second order, O(h^2) with h = 0.25
    assert errors[1] < 2e-3
    order = np.log2(errors[0] / errors[1])
    assert 1.7 < order < 2.3, f"observed order {order:.2f}, errors {errors}"


def test_ou_stationary_covariance_matches_lyapunov_second_order():
    errors = []
    for n in (32, 64):
        fpe = ou_problem(n)
        p = fpe.stationary()
        m, c = moments(fpe.grid, p)
        assert np.abs(m).max() < 1e-10  # symmetric problem: mean zero to round-off
        errors.append(np.abs(c - SIGMA).max())
    # measured 2.8e-3 and 7.0e-4 (ratio 4.0)
    assert errors[1] < 1e-3
    assert 1.7 < np.log2(errors[0] / errors[1]) < 2.3


def test_ou_stationary_current_matches_minus_Q_inverse_sigma_x_p():
    circulations, field_errors = [], []
    for n in (32, 64):
        fpe = ou_problem(n)
        grid = fpe.grid
        p = fpe.stationary()
        jx, jy = fpe.current(p)
        assert jx.shape == (n + 1, n) and jy.shape == (n, n + 1)
        # reflecting walls: no flux through the box faces
        assert np.abs(jx[[0, -1]]).max() == 0 and np.abs(jy[:, [0, -1]]).max() == 0
        jx_c, jy_c = 0.5 * (jx[:-1] + jx[1:]), 0.5 * (jy[:, :-1] + jy[:, 1:])
        x, y = grid.mesh()
        v = grid.cell_volume
        # <x J_y - y J_x> = 2 Q_12 for J = -Q Sigma^-1 x p (REFERENCES.md)
        circulations.append(abs(np.sum(x * jy_c - y * jx_c) * v - 2 * Q_OU[0, 1]))
        xs = np.array([x, y])
        p_exact = np.exp(-0.5 * np.einsum("i...,ij,j...->...", xs, np.linalg.inv(SIGMA), xs))
        p_exact /= 2 * np.pi * np.sqrt(np.linalg.det(SIGMA))
        j_ref = -np.einsum("ij,j...->i...", Q_OU @ np.linalg.inv(SIGMA), xs) * p_exact
        field_errors.append(
            (np.abs(jx_c - j_ref[0]).sum() + np.abs(jy_c - j_ref[1]).sum())
            / (np.abs(j_ref[0]).sum() + np.abs(j_ref[1]).sum())
        )
    # measured: circulation error 2.5e-3 / 6.3e-4 of 2 Q_12 = -0.167; relative L1 of the current
    # field 7.5e-2 / 1.9e-2 (face-to-centre averaging is itself O(h^2)); both ratios ~4
    assert circulations[1] < 1.5e-3 and field_errors[1] < 0.03
    assert 1.7 < np.log2(circulations[0] / circulations[1]) < 2.3
    assert 1.7 < np.log2(field_errors[0] / field_errors[1]) < 2.3


# --- Boltzmann laws: exact discrete equilibrium ---------------------------------------------------
def _boltzmann(grid, U, T):
    w = np.exp(-(grid.evaluate(U) - grid.evaluate(U).min()) / T)
    return w / (w.sum() * grid.cell_volume)


@pytest.mark.parametrize(
    "bounds, cells, periodic, f",
    [
        ([(-2.5, 2.5)], [200], False, lambda x: (x**2 - 1) ** 2 + 0.3 * x),
        ([(0, 2 * np.pi)], [128], True, lambda x: np.cos(x) + 0.5 * np.sin(2 * x)),
        ([(-2.5, 2.5), (-2, 2)], [60, 50], False, lambda x, y: (x**2 - 1) ** 2 + 2 * y**2 + 0.5 * x * y),
        ([(0, 2 * np.pi), (0, 2 * np.pi)], [40, 36], True, lambda x, y: np.cos(x) * np.sin(y) + 0.3 * np.cos(2 * y)),
    ],
    ids=["1d-reflecting", "1d-periodic", "2d-reflecting", "2d-periodic"],
)
def test_stationary_density_is_boltzmann_to_round_off(bounds, cells, periodic, f):
    grid = fp.Grid(bounds, cells, periodic=periodic)
    T = 0.4
    fpe = fp.FokkerPlanck(fp.Langevin(fp.Landscape(f), temperature=T), grid)
    p = fpe.stationary()
    ref = _boltzmann(grid, f, T)
    # exact in exact arithmetic (SG fluxes vanish on e^{-U/T}); round-off of a sparse solve with
    # condition number ~ max/min of e^{-U/T} (<= e^{16} here) times eps: 1e-8 relative to the peak
    assert np.abs(p - ref).max() <= 1e-9 * ref.max()


# --- state-dependent diffusion: Hessian noise on a convex quartic ---------------------------------
def test_state_dependent_diffusion_stationary_density_second_order():
    """SGD with noise="hessian" on U = x^2/2 + x^4/4 (H = 1 + 3x^2 > 0, so |H| is smooth):
    D(x) = lr (1 + 3x^2) / (2B), stationary p proportional to exp(-int U'/D) / D (REFERENCES.md)."""
    U = fp.Landscape(lambda x: 0.5 * x**2 + 0.25 * x**4, grad=lambda x: [x + x**3])
    lr, B = 0.5, 1.0
    D = lambda x: lr * (1 + 3 * x**2) / (2 * B)
    lo, hi = -3.0, 3.0

    def reference(x):
        phi = np.array([quad.quad(lambda s: (s + s**3) / D(s), 0.0, xi, epsabs=1e-13)[0] for xi in x])
        return np.exp(-phi) / D(x)

    z = quad.quad(lambda x: reference(np.array([x]))[0], lo, hi, epsabs=1e-13, points=[0.0])[0]
    errors = []
    for n in (50, 100):
        grid = fp.Grid([(lo, hi)], [n])
        fpe = fp.FokkerPlanck(fp.SGD(U, lr=lr, batch_size=B, noise="hessian"), grid)
        p = fpe.stationary()
        ref = reference(grid.centers[0]) / z
        errors.append(np.abs(p - ref).sum() * grid.cell_volume)
    # measured L1 errors 1.34e-3 and 3.32e-4 (then 8.3e-5 at 200 cells): second order, from the
    # midpoint rule of int U'/D in the SQRA Peclet numbers
    assert errors[1] < 5e-4
    assert 1.8 < np.log2(errors[0] / errors[1]) < 2.2


# --- schedules ------------------------------------------------------------------------------------
def test_piecewise_constant_lr_equals_composition_of_autonomous_evolutions():
    U = fp.Landscape(lambda x: (x**2 - 1) ** 2)
    grid = fp.Grid([(-2.5, 2.5)], [160])
    # D = lr * noise_scale / (2 B) = 0.4, then 0.2 (cell Peclet number below 4 where p matters)
    lr = lambda t: 0.4 if t < 0.7 else 0.2
    model = fp.SGD(U, lr=lr, batch_size=lambda t: 1.0, noise="isotropic", noise_scale=2.0)
    p0 = fp.gaussian(grid, mean=-1.0, std=0.2)
    scheduled = fp.FokkerPlanck(model, grid).evolve(p0, [0.0, 0.7, 1.5], method="trbdf2", rtol=1e-9)
    first = fp.FokkerPlanck(fp.SGD(U, lr=0.4, batch_size=1.0, noise_scale=2.0), grid)
    second = fp.FokkerPlanck(fp.SGD(U, lr=0.2, batch_size=1.0, noise_scale=2.0), grid)
    p1 = first.evolve(p0, [0.0, 0.7], method="exponential").p[-1]
    p2 = second.evolve(p1, [0.7, 1.5], method="exponential").p[-1]
    # the reference is exact in time (CRAM, ~1e-14); trbdf2 at rtol 1e-9 lands on the switch and
    # its global L1 error accumulates local errors of ~rtol over its steps: measured 1e-8 to 3e-8
    assert np.abs(scheduled.p[1] - p1).sum() * grid.cell_volume < 1e-7
    assert np.abs(scheduled.p[2] - p2).sum() * grid.cell_volume < 1e-7
    # and the switch matters: without it the result differs by far more
    p_no_switch = first.evolve(p0, [0.0, 1.5], method="exponential").p[-1]
    assert np.abs(p_no_switch - p2).sum() * grid.cell_volume > 1e-2


# --- mass and positivity on random landscapes -----------------------------------------------------
@st.composite
def random_problem(draw):
    """A random confining polynomial (1-D) or random Fourier landscape (2-D periodic) with a
    temperature that keeps the cell Peclet number |U'| h / T moderate (below about 4)."""
    if draw(st.booleans()):
        c = draw(st.lists(st.floats(-1, 1), min_size=3, max_size=3))
        f = lambda x: 0.25 * x**4 + c[0] * x**3 / 3 + c[1] * x**2 + c[2] * x
        grid = fp.Grid([(-2.5, 2.5)], [80])
    else:
        a = draw(st.lists(st.floats(-1, 1), min_size=4, max_size=4))
        f = lambda x, y: a[0] * np.cos(x) + a[1] * np.sin(y) + a[2] * np.cos(x + y) + a[3] * np.sin(2 * x - y)
        grid = fp.Grid([(0, 2 * np.pi), (0, 2 * np.pi)], [24, 24], periodic=True)
    T = draw(st.floats(0.3, 1.5))
    return fp.Landscape(f), grid, T


@pytest.mark.parametrize("method", ["trbdf2", "exponential", "explicit"])
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=random_problem(), seed=st.integers(0, 2**16))
def test_mass_conserved_and_density_positive_on_random_landscapes(method, problem, seed):
    U, grid, T = problem
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no Peclet or monotonicity warning is expected here
        fpe = fp.FokkerPlanck(fp.Langevin(U, temperature=T), grid)
        rng = np.random.default_rng(seed)
        p0 = rng.random(grid.shape) ** 4  # rough, with near-zero cells
        p0 /= p0.sum() * grid.cell_volume
        sol = fpe.evolve(p0, [0.0, 0.02, 0.1], method=method)
    # the generator's columns of A = Q^T sum to zero to round-off; each solve or Euler step
    # preserves sum(p) to ~N eps, over at most a few hundred steps: 1e-12
    assert np.abs(sol.mass - 1.0).max() <= 1e-12
    # M-matrix generator: exact flows and these integrators keep p >= 0 up to round-off
    assert sol.p.min() >= -1e-14 * sol.p.max()


def test_solution_called_between_output_times_continues_exactly():
    # sol(t) between stored times integrates on from the last stored density; with the exact
    # exponential it must equal a run that stores t itself (Krylov accuracy ~1e-10 |p|)
    grid = fp.Grid([(-2.5, 2.5)], [300])
    fpe = fp.FokkerPlanck(fp.Langevin(fp.landscapes.double_well(), temperature=0.3), grid)
    p0 = fp.gaussian(grid, -1.0, 0.2)
    coarse = fpe.evolve(p0, [0.0, 1.0, 3.0])
    direct = fpe.evolve(p0, [0.0, 1.7]).p[-1]
    assert np.abs(coarse(1.7) - direct).max() < 1e-9 * direct.max()
    assert np.array_equal(coarse(1.0), coarse.p[1])
    with pytest.raises(ValueError, match="t: "):
        coarse(5.0)


def test_relaxation_rate_of_ornstein_uhlenbeck_is_its_stiffness():
    # dX = -k X dt + sqrt(2T) dW has eigenvalues 0, k, 2k, ... independent of T (Hermite
    # functions); the scheme is second order, 1e-3 relative at h = 0.02 on [-4, 4]
    grid = fp.Grid([(-4.0, 4.0)], [400])
    fpe = fp.FokkerPlanck(fp.Langevin(fp.landscapes.quadratic([[1.5]]), temperature=0.5), grid)
    rates = fpe.relaxation_rates(3)
    np.testing.assert_allclose(rates, [1.5, 3.0, 4.5], rtol=1e-3)
