"""Evolution far beyond the slowest relaxation time (issue 8, finding 3).

References no fpsolve solver made: the Gibbs density e^{-U/T}/Z integrated over each cell by
10-point Gauss-Legendre quadrature (the discretisation's error is then O(h^2), checked by its
order); the slowest decay rate of the chain itself from its mean exit times, computed as sums of
positive terms (the birth-death formula, no cancellation), averaged over the quasi-stationary law
(dense scipy eigenvector), for which the exit time is exactly exponential with rate 1/tau.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.linalg import eigh_tridiagonal

import fpsolve as fp
from fpsolve.integrate import integrate
from fpsolve.operators import MatrixFree

TILTED = fp.Landscape(lambda x: (x**2 - 1) ** 2 + 0.1 * x, grad=lambda x: (4 * x * (x**2 - 1) + 0.1,))


def gibbs_cell_masses(potential, temperature, edges):
    """int over each cell of e^{-(U - min U)/T}, normalised: 10-point Gauss-Legendre per cell."""
    nodes, weights = np.polynomial.legendre.leggauss(10)
    a, b = edges[:-1, None], edges[1:, None]
    points = (a + b) / 2 + (b - a) / 2 * nodes
    values = potential(points)
    mass = ((b - a)[:, 0] / 2) * (np.exp(-(values - values.min()) / temperature) @ weights)
    return mass / mass.sum()


def killed_chain_slow_rate(Q):
    """lambda_1 of a birth-death chain on states 0..k-1, reflecting at 0, killed from k-1 at rate
    -(row sum): 1 / (nu . tau), tau_i = sum_{j>=i} (sum_{l<=j} pi_l) / (pi_j u_j) (positive terms),
    nu the quasi-stationary law (eigenvector of the symmetrised chain)."""
    Q = Q.toarray()
    up = np.append(np.diag(Q, 1), -Q[-1].sum())
    down = np.diag(Q, -1)
    log_pi = np.concatenate([[0.0], np.cumsum(np.log(up[:-1]) - np.log(down))])
    log_pi -= log_pi.max()
    # in log space: pi spans e^{-900} .. 1 at T = 1/32
    tau = np.cumsum(np.exp(np.logaddexp.accumulate(log_pi) - log_pi - np.log(up))[::-1])[::-1]
    pi = np.exp(log_pi)
    k = len(up)
    _, vector = eigh_tridiagonal(np.diag(Q), np.sqrt(np.diag(Q, 1) * down), select="i", select_range=(k - 1, k - 1))
    nu = np.abs(vector[:, 0]) * np.sqrt(pi)
    return 1.0 / (nu @ tau / nu.sum())


def test_tilted_double_well_reaches_the_gibbs_law_far_beyond_the_gap():
    # T = 1/24: the slowest rate is ~4e-10, so t = 1e13 and 1e16 are ~4e3 and ~4e6 relaxation
    # times. Before deflation the default method failed or returned a law off by ~1e-4.
    T = 1 / 24
    errors = []
    for n in (400, 800):
        grid = fp.Grid([(-2.5, 2.5)], [n])
        fpe = fp.FokkerPlanck(fp.Langevin(TILTED, T), grid)
        sol = fpe.evolve(fp.gaussian(grid, mean=-1.0, std=0.1), [0, 1e13, 1e16])
        masses = sol.p * grid.cell_volume
        # a closed chain: exp(tA) conserves the sum; deflation carries it exactly (round-off)
        assert np.abs(sol.mass - 1).max() < 1e-14
        assert masses.min() > -1e-15
        # at 4e3 and 4e6 relaxation times nothing but the stationary law is left (e^{-4000})
        assert np.abs(masses[1] - masses[2]).sum() < 1e-14
        reference = gibbs_cell_masses(TILTED, T, np.linspace(-2.5, 2.5, n + 1))
        errors.append(np.abs(masses[2] - reference).sum())
    # the fitted scheme's equilibrium is e^{-U/T} at cell centres: the midpoint rule, O(h^2).
    # Measured 1.24e-3 and 3.1e-4 (the curvature term h^2 |p''|/24 of the narrow wells)
    assert errors[0] < 2e-3
    assert 3.8 < errors[0] / errors[1] < 4.2  # second order


def test_2d_double_well_default_method_at_long_times():
    # the reproducer: T = 1/12, gap ~1.1e-5; t = 1e5 (~1/gap) and 1e8 (~1e3/gap) raised
    # "no convergence ... use method='exponential'" with the default method
    U = fp.landscapes.double_well_2d()
    T = 1 / 12
    errors = []
    for n in (48, 96):
        grid = fp.Grid([(-2.5, 2.5), (-2.0, 2.0)], [n, n])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the coarse grid's Peclet warning
            fpe = fp.FokkerPlanck(fp.Langevin(U, T), grid)
        sol = fpe.evolve(fp.gaussian(grid, mean=(-1.0, 0.0), std=0.2), [0, 1e5, 1e8])
        assert np.abs(sol.mass - 1).max() < 1e-14
        # separable: the Gibbs cell masses are products of 1-D ones
        mx = gibbs_cell_masses(lambda x: (x**2 - 1) ** 2, T, np.linspace(-2.5, 2.5, n + 1))
        my = gibbs_cell_masses(lambda y: 2 * y**2, T, np.linspace(-2.0, 2.0, n + 1))
        reference = np.outer(mx, my)
        masses = sol.p * grid.cell_volume
        errors.append(np.abs(masses[2] - reference).sum())
        # at t = 1e5 ~ 1/gap the left basin still holds more than half the mass, as e^{-gap t}
        # says: left - right = e^{-1.1} ~ 0.33 (loosely: the gap is known only to a few %)
        imbalance = masses[1][: n // 2].sum() - masses[1][n // 2 :].sum()
        assert 0.25 < imbalance < 0.42
    # O(h^2) against the cell integrals: measured 2.8e-2 and 7.0e-3
    assert 3.5 < errors[0] / errors[1] < 4.5


def test_matrix_free_operator_far_beyond_the_gap():
    U = fp.landscapes.double_well_2d()
    grid = fp.Grid([(-2.5, 2.5), (-2.0, 2.0)], [32, 32])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        Q = sp.csr_array(fp.FokkerPlanck(fp.Langevin(U, 1 / 12), grid).generator.matrix)
    free = MatrixFree(Q.shape[0], lambda f: Q @ f, lambda p: Q.T @ p, Q.diagonal(), approximate=Q)
    p0 = fp.gaussian(grid, mean=(-1.0, 0.0), std=0.3).ravel()
    p0 /= p0.sum()
    times = [0, 1.0, 1e4, 1e8]
    got = integrate(free.T, p0, times, "exponential").y
    want = integrate(Q.T.tocsr(), p0, times, "exponential").y
    # the GMRES inner solves stop at backward error 1e-11 (solvers.KRYLOV_RTOL); the mass error
    # they make at gamma |A| ~ 1e10 is projected away: both paths agree to ~1e-11
    assert np.abs(got - want).max() < 1e-9
    assert np.abs(got.sum(axis=1) - 1).max() < 1e-14
    # against the stationary law from dense linear algebra on the same chain
    # (the equation of a heavy cell, the left minimum's, replaced by pi_j = 1)
    j = int(np.argmax(p0))
    dense = Q.toarray().T
    dense[j] = 0.0
    dense[j, j] = 1.0
    rhs = np.zeros(len(p0))
    rhs[j] = 1.0
    pi = np.linalg.solve(dense, rhs)
    assert np.abs(got[-1] - pi / pi.sum()).sum() < 1e-10


@pytest.mark.parametrize(
    "temperature, bound",
    [
        # bound: the measured rate error (7e-9, 5e-8) is far below eps |A| / lambda_1 (1.8e-7,
        # 9.6e-6), the worst a normwise backward-stable solve can do; we assert the latter
        (1 / 12, 2e-7),
        (1 / 16, 1e-5),
    ],
)
def test_survival_decays_at_the_chain_exact_slowest_rate(temperature, bound):
    grid = fp.Grid([(-2.5, 2.5)], [400])
    gen = fp.FokkerPlanck(fp.Langevin(fp.landscapes.double_well(), temperature), grid).generator
    killed = gen.with_absorbing(grid.centers[0] > 0)
    rate = killed_chain_slow_rate(sp.csr_array(killed.sub))
    p0 = killed.restrict(fp.gaussian(grid, mean=-1.0, std=0.1)) * grid.cell_volume
    times = np.array([0.0, 3.0, 10.0, 30.0]) / rate
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # accurate: no round-off warning expected here
        survival = integrate(killed.forward, p0, times, "exponential").y.sum(axis=1)
    # after the in-well relaxation (rates ~8) only the slowest mode is left: S ~ c e^{-lambda t}
    measured = np.log(survival[1:-1] / survival[2:]) / np.diff(times[1:]) / rate - 1
    assert np.abs(measured).max() < bound
    assert survival[-1] == pytest.approx(survival[1] * np.exp(-27.0), rel=30 * bound)


def test_survival_at_the_edge_of_double_precision_warns_and_beyond_it_refuses():
    grid = fp.Grid([(-2.5, 2.5)], [400])
    for temperature in (1 / 24, 1 / 32):
        gen = fp.FokkerPlanck(fp.Langevin(fp.landscapes.double_well(), temperature), grid).generator
        killed = gen.with_absorbing(grid.centers[0] > 0)
        p0 = killed.restrict(fp.gaussian(grid, mean=-1.0, std=0.1)) * grid.cell_volume
        rate = killed_chain_slow_rate(sp.csr_array(killed.sub))
        times = np.array([0.0, 1.0, 3.0]) / rate
        if temperature == 1 / 24:
            # lambda_1 = 6.4e-11, eps |A| = 2e-12: the floor is a few per cent; the Krylov
            # results stagnate at ~1e-4 and say so
            with pytest.warns(RuntimeWarning, match="determined by double precision only to about"):
                survival = integrate(killed.forward, p0, times, "exponential").y.sum(axis=1)
            measured = np.log(survival[1] / survival[2]) / (times[2] - times[1]) / rate - 1
            assert abs(measured) < 2.8e-2  # eps |A| / lambda_1; measured 2e-5 .. 2e-4
        else:
            # lambda_1 ~ 1e-14 is below eps |A| = 2e-12: nothing is determined; refused, and
            # the message does not send the user back to the method in use
            with pytest.raises(RuntimeError, match="not determined in double precision") as info:
                integrate(killed.forward, p0, times, "exponential")
            assert "exponential" not in str(info.value)


def test_symmetric_double_well_balances_at_the_exact_slowest_rate():
    # the left-minus-right mass of a symmetric chain is the survival of the half chain killed at
    # twice the centre link's rate (the odd modes): it decays exactly at that chain's lambda_1
    T = 1 / 16
    grid = fp.Grid([(-2.5, 2.5)], [400])
    fpe = fp.FokkerPlanck(fp.Langevin(fp.landscapes.double_well(), T), grid)
    Q = sp.csr_array(fpe.generator.matrix)
    half = sp.lil_array(Q[:200, :200])
    half[199, 199] = -half[199, 198] - 2 * Q[199, 200]
    rate = killed_chain_slow_rate(sp.csr_array(half))
    times = np.array([0.0, 2.0, 5.0, 1e3]) / rate
    sol = fpe.evolve(fp.gaussian(grid, mean=-1.0, std=0.1), times)
    masses = sol.p * grid.cell_volume
    imbalance = masses[:, :200].sum(axis=1) - masses[:, 200:].sum(axis=1)
    measured = np.log(imbalance[1] / imbalance[2]) / (times[2] - times[1]) / rate - 1
    assert abs(measured) < 1e-5  # eps |A| / lambda_1 = 9.2e-6 bounds it; measured 1.4e-7
    assert abs(imbalance[3]) < 1e-14  # e^{-1000}: balanced to round-off (1.4e-15 measured)
    assert np.abs(sol.mass - 1).max() < 1e-14


@pytest.mark.parametrize("method", ["cram", "trbdf2", "bdf2"])
def test_other_methods_keep_mass_and_reach_equilibrium_at_long_times(method):
    # before: CRAM lost 28 % of the mass at t = 1.5e13 (its complex solves at t|A| ~ 1e16);
    # TR-BDF2 drifted 3e-4 and needed 67 067 steps to t = 1e11 (estimates of round-off rejected
    # every step above h ~ rtol / (eps |A|)); BDF2 took 63 s
    T = 1 / 24
    grid = fp.Grid([(-2.5, 2.5)], [400])
    fpe = fp.FokkerPlanck(fp.Langevin(TILTED, T), grid)
    p0 = fp.gaussian(grid, mean=-1.0, std=0.1)
    sol = fpe.evolve(p0, [0, 1e11, 1e13], method=method)
    assert np.abs(sol.mass - 1).max() < 1e-13
    assert sol.stats["steps"] < 3000
    reference = fpe.evolve(p0, [0, 1e11, 1e13]).p * grid.cell_volume
    difference = np.abs(sol.p * grid.cell_volume - reference).sum(axis=1)
    # CRAM is exact in time (1e-15 uniform on the negative axis) and deflated like Krylov; the
    # implicit methods converge to the fixed point of their LU-perturbed step, off the exact law
    # by up to eps |A| / gap ~ 1e-2 in the basin balance (measured 1e-4 on this chain)
    assert difference[-1] < (1e-12 if method == "cram" else 1e-3)
