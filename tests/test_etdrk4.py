"""ETDRK4 (Cox-Matthews with Kassam-Trefethen phi-functions) and IMEX ARS(2,2,2): orders, stiffness, control.

References: mpmath's high-precision phi-functions; the dense matrix exponential (scipy expm) of a
small linear system u' = Lambda u + A u with Lambda diagonal and stiff, A a non-diagonal coupling
(the Galerkin matrix of a drift on the circle, written out here).
"""

import mpmath
import numpy as np
import pytest
import scipy.linalg as sl

import fpsolve as fp
from fpsolve.etdrk4 import Etdrk4, integrate_diagonal_split, phi_functions
from fpsolve.imex import ImexArs222


def phi_mp(z, j):
    """phi_j(z) = sum_k z^k / (k + j)! in 40 digits."""
    mpmath.mp.dps = 40
    z = mpmath.mpc(z)
    if abs(z) < 1:
        return complex(mpmath.nsum(lambda k: z**k / mpmath.factorial(k + j), [0, mpmath.inf]))
    tail = sum(z**k / mpmath.factorial(k) for k in range(j))
    return complex((mpmath.exp(z) - tail) / z**j)


@pytest.mark.parametrize("z", [-1e-12, -1e-6, -0.3, -1.0, -7.5, -300.0, -1e5, 0.7, 2.0 + 3.0j])
def test_phi_functions_match_mpmath(z):
    values = phi_functions(np.array([z]))
    for j, value in enumerate(values, start=1):
        exact = phi_mp(z, j)
        # the contour mean is exact up to geometric trapezoid error (~1e-30 with 32 points) and
        # round-off of e^w / w^3 on the unit circle around z: a few ulps of max(1, |e^z|)
        assert abs(value[0] - exact) <= 1e-14 * max(abs(exact), 1.0)


def circle_system(modes=12, kappa=1.5, temperature=0.2):
    """u' = Lambda u + A u for the Fourier modes of d_t p = d_x(kappa sin x p) + T p'' (U = -kappa cos x):
    Lambda = -T m^2 (diagonal, stiff), A tridiagonal with entries -/+ kappa m / 2 (the drift)."""
    m = np.arange(-modes, modes + 1)
    Lambda = -temperature * m.astype(float) ** 2
    A = np.zeros((m.size, m.size))
    for i, mm in enumerate(m):
        if i > 0:
            A[i, i - 1] = kappa * mm / 2
        if i < m.size - 1:
            A[i, i + 1] = -kappa * mm / 2
    u0 = np.exp(-0.1 * m.astype(float) ** 2) * np.exp(-1j * 2.0 * m)  # a Gaussian bump at x = 2
    return Lambda, A, u0


def fixed_step_errors(stepper_class, steps_list, t=2.0, stiff=False):
    Lambda, A, u0 = circle_system()
    if stiff:  # modes |m| > 6 damped at rates 1e4 (m/6)^2: up to 4e4, with h |Lambda| up to 1.6e4
        m = np.arange(-12, 13)
        Lambda = np.where(np.abs(m) > 6, -1e4 * (m / 6.0) ** 2, Lambda)
    exact = sl.expm((np.diag(Lambda) + A) * t) @ u0
    errors = []
    for steps in steps_list:
        stepper = stepper_class(Lambda, lambda u: A @ u)
        states, stats = integrate_diagonal_split(stepper, u0, [0.0, t], dt=t / steps)
        assert stats["steps"] == steps
        errors.append(np.abs(states[-1] - exact).max())
    return np.array(errors)


def test_etdrk4_is_fourth_order():
    errors = fixed_step_errors(Etdrk4, [10, 20, 40, 80])
    orders = np.log2(errors[:-1] / errors[1:])
    # measured about 4 in each halving; 3.7..4.5 allows the pre-asymptotic first pair
    assert np.all(orders > 3.7) and np.all(orders < 4.5), orders


def test_imex_is_second_order():
    errors = fixed_step_errors(ImexArs222, [20, 40, 80, 160])
    orders = np.log2(errors[:-1] / errors[1:])
    assert np.all(orders > 1.85) and np.all(orders < 2.3), orders


@pytest.mark.parametrize("stepper_class, tolerance", [(Etdrk4, 1e-3), (ImexArs222, 3e-2)])
def test_stiff_linear_part_needs_no_small_steps(stepper_class, tolerance):
    # fast modes with h |Lambda| up to 8e3 at 10 steps: ETDRK4 integrates them exactly, IMEX
    # L-stably; an explicit scheme would need h < 5e-5. The error stays at the coarse-step level of
    # the drift coupling (measured 2.7e-4 ETDRK4, 1.1e-2 IMEX, |u| ~ 1), and still converges
    errors = fixed_step_errors(stepper_class, [10, 20], stiff=True)
    assert np.isfinite(errors).all() and errors[0] < tolerance and errors[1] < errors[0] / 3


def test_step_doubling_meets_the_tolerance():
    Lambda, A, u0 = circle_system()
    times = [0.0, 0.5, 2.0]
    exact = [sl.expm((np.diag(Lambda) + A) * t) @ u0 for t in times]
    for rtol in (1e-6, 1e-9):
        states, stats = integrate_diagonal_split(Etdrk4(Lambda, lambda u: A @ u), u0, times, rtol=rtol)
        error = max(np.abs(s - e).max() / np.abs(e).max() for s, e in zip(states, exact))
        # each accepted step's local error is below rtol, and the accepted value is the finer
        # (two half steps) one, 16 times more accurate: the global error stays below rtol
        assert error < rtol, (rtol, error, stats)


def test_bad_steps_are_refused():
    Lambda, A, u0 = circle_system()
    with pytest.raises(ValueError, match="dt: expected a positive step"):
        integrate_diagonal_split(Etdrk4(Lambda, lambda u: A @ u), u0, [0, 1], dt=-0.1)
    with pytest.raises(RuntimeError, match="max_steps"):
        integrate_diagonal_split(Etdrk4(Lambda, lambda u: A @ u), u0, [0, 100.0], rtol=1e-12, max_steps=5)


def test_fourth_order_through_the_public_api():
    # the Fourier scheme with fixed steps: halving dt divides the error by ~16
    U = fp.Landscape(lambda x: np.cos(x), lambda x: -np.sin(x), name="cosine")
    grid = fp.Grid([(0.0, 2 * np.pi)], [64], periodic=True)  # p0's tail ~1e-9 at |m| = 14..21
    fpe = fp.FokkerPlanck(fp.Langevin(U, temperature=0.3), grid, discretization="spectral")
    x = grid.centers[0]
    p0 = np.exp(np.cos(x - 2.0) / 0.25)
    p0 /= p0.sum() * grid.cell_volume
    reference = fpe.evolve(p0, [0, 1.0], dt=1.0 / 256).p[-1]
    errors = [np.abs(fpe.evolve(p0, [0, 1.0], dt=1.0 / n).p[-1] - reference).max() for n in (8, 16, 32)]
    orders = np.log2(np.array(errors[:-1]) / errors[1:])
    assert np.all(orders > 3.6) and np.all(orders < 4.6), orders
