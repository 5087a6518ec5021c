"""3-D backward solves by AMG-preconditioned Krylov iterations (fpsolve.iterative, fpsolve.amg).

References no fpsolve solver made: the 1-D double integral of the exit time (scipy quad; U is a
sum of one-variable terms, so y and z decouple), and SuperLU on the same small chains.
"""

import warnings

import numpy as np
import pytest
from scipy import integrate
from scipy.sparse import linalg as sla
import scipy.sparse as sp

import fpsolve as fp
from fpsolve import iterative, linalg, solvers
from fpsolve.absorb import absorb
from fpsolve.analysis.backward import killed_generator, resolve

TEMPERATURE = 0.25
BOX = [(-2.0, 0.5), (-1.5, 1.5), (-1.5, 1.5)]


def double_well_3d(n, temperature=TEMPERATURE):
    model = fp.Langevin(fp.Landscape(lambda x, y, z: (x**2 - 1) ** 2 + y**2 + z**2), temperature=temperature)
    return model, fp.Grid(BOX, (n, n, n))


def killed(model, grid):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the coarse grids' Peclet warnings
        gen, _ = killed_generator(resolve(model, grid), lambda x, y, z: x < 0)
    return gen


def exact_exit_time(x0, temperature=TEMPERATURE, left=-2.0):
    """tau(x0) = (1/T) int_{x0}^0 e^{U(y)/T} int_{left}^y e^{-U(z)/T} dz dy, reflecting at left."""
    U = lambda s: (s * s - 1.0) ** 2  # noqa: E731
    inner = lambda y: integrate.quad(lambda z: np.exp(-U(z) / temperature), left, y, epsabs=0, epsrel=1e-12)[0]  # noqa: E731
    outer = integrate.quad(lambda y: np.exp(U(y) / temperature) * inner(y), x0, 0.0, epsabs=0, epsrel=1e-11)[0]
    return outer / temperature


def lu_solve(Q, rhs, transpose=False):
    lu = sla.splu(sp.csc_matrix(Q), permc_spec="MMD_AT_PLUS_A")
    return lu.solve(rhs, trans="T" if transpose else "N")


def test_exit_time_3d_matches_double_integral():
    # 24^3: 11 520 live cells, solved iteratively by "auto". The error is the scheme's: with the
    # curvature correction no O(h^2) bulk term is left, only the cut exit links' O(h^2) term,
    # whose constant depends on where x = 0 falls in its cell: relative error x n^2 measured
    # +0.36, -0.19, +0.09, -0.14 at n = 16, 24, 32, 48 (the Scharfetter-Gummel scheme before it
    # gave -6.4 at every n). At 24 it must lie within 0.5 / 24^2 = 8.7e-4, a 2.6x margin
    model, grid = double_well_3d(24)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tau = fp.mean_exit_time(model, grid, domain=lambda x, y, z: x < 0)
    assert "BackwardSolver" in tau.info["solver"]
    exact = exact_exit_time(-1.0)
    assert exact == pytest.approx(33.9457, abs=1e-4)
    relative = tau(-1.0, 0.0, 0.0) / exact - 1.0
    assert abs(relative) < 0.5 / 24**2


def test_discretization_error_estimate_tracks_the_actual_error():
    # the estimate that sets the solver tolerance is the plain fitted flux's bulk error, Pe^2 / 12:
    # 1.5x that scheme's error 6.4 / n^2 at 32^3-128^3. With the curvature correction the error
    # at 24^3 is 3.3e-4 (test above): the estimate must bound it, and lie within 3x of the old one
    gen = killed(*double_well_3d(24))
    estimate = iterative.discretization_error_estimate(gen.sub, linalg.log_detailed_balance(gen.sub))
    assert 3.3e-4 < estimate and 6.4 / 24**2 < estimate < 3 * 6.4 / 24**2
    assert iterative.iterative_rtol(gen.sub) == iterative.RTOL_CAP  # 1e-4 x 1e-2 > 1e-6: the cap binds


@pytest.mark.parametrize("temperature", [0.25, 0.05])
def test_iterative_and_direct_agree_within_the_bound(temperature):
    # T = 0.05: barrier 20 T, tau ~ 2.5e8, the symmetrizing weights mu^{1/2} span e^-116. The
    # iterative answer must be within its own error bound of SuperLU's, and the bound <= 1e-6
    gen = killed(*double_well_3d(20, temperature))
    solver = solvers.generator_solver(gen.sub, method="amg")
    assert solver.reversible
    ones = -np.ones(gen.n_live)
    e = np.zeros(gen.n_live)
    e[gen.n_live // 2] = -1.0
    for rhs, transpose in ((ones, False), (e, True)):
        solution = solver.solve(rhs, transpose=transpose)
        reference = lu_solve(gen.sub, rhs, transpose)
        error = np.abs(solution.x - reference).max() / np.abs(reference).max()
        assert solution.error <= 1e-6
        assert error <= solution.error


def test_committor_iterative_matches_direct():
    # from x = -1.5 to x = 0.25: 14 x 20 x 20 = 5 600 live cells, above ITERATIVE_MIN
    model, grid = double_well_3d(20)
    a, b = (lambda x, y, z: x < -1.5), (lambda x, y, z: x > 0.25)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        q = fp.committor(model, grid, a=a, b=b)
        fpe = fp.FokkerPlanck(model, grid)
    assert "BackwardSolver" in q.info["solver"]
    killed_a, in_a = absorb(fpe.generator, a, name="a")
    both, in_b = absorb(killed_a, b, name="b")
    reference = both.extend(lu_solve(both.sub, -both.rates_into(in_b)))
    reference[in_b] = 1.0
    # q in [0, 1]: the bound is absolute, <= 1e-6
    assert np.abs(q.values - reference).max() <= 1e-6


def test_nonreversible_hessian_noise_iterative_matches_direct():
    # Hessian-noise SGD on a landscape with cross terms: a state-dependent full diffusion tensor
    # (cross-diffusion on the lattice directions), no detailed balance; BiCGSTAB + AMG against
    # SuperLU. The floor 1 keeps D >= 0.05: with the default 1e-2 the noise nearly vanishes at the
    # inflection points x = -1/sqrt(3), where the drift does not, and the exit time is
    # astronomically large (1-D effective barrier int U'/D_xx dx = 31.5, tau ~ 1e15: no test of a
    # solver)
    landscape = fp.Landscape(lambda x, y, z: (x**2 - 1) ** 2 + y**2 + z**2 + 0.5 * x * y + 0.3 * y * z)
    model = fp.SGD(landscape, lr=0.1, batch_size=1, noise="hessian", hessian_floor=1.0)
    gen = killed(model, fp.Grid(BOX, (16, 16, 16)))
    assert linalg.log_detailed_balance(gen.sub) is None
    solver = solvers.generator_solver(gen.sub, method="amg")
    assert not solver.reversible
    rhs = -np.ones(gen.n_live)
    solution = solver.solve(rhs)
    reference = lu_solve(gen.sub, rhs)
    assert solution.method == "bicgstab"
    assert solution.error <= 1e-6
    assert np.abs(solution.x - reference).max() / reference.max() <= solution.error


def test_refusal_when_the_krylov_iterations_stall():
    gen = killed(*double_well_3d(16))
    solver = iterative.BackwardSolver(gen.sub, log_mu=linalg.log_detailed_balance(gen.sub), maxiter=1)
    with pytest.raises(RuntimeError) as refusal:
        solver.solve(-np.ones(gen.n_live))
    message = str(refusal.value)
    assert "stalled at an error bound" in message and "(at most 1 per solve)" in message
    assert "cg, bicgstab, bicgstab with two V-cycles" in message
    # a 16^3 LU fits: the advice is the direct solve, not the method that failed
    assert "method='direct'" in message and "method='amg'" not in message


def test_refusal_names_the_grid_a_direct_solve_fits(monkeypatch):
    monkeypatch.setattr(iterative, "_available_memory", lambda: 4.0 * 2**30)
    advice = iterative.direct_size_advice(128**3)
    assert "coarsen the grid" in advice and "method='direct'" not in advice
    fits = int(advice.split("fits up to about ")[1].split()[0])
    # half of the 4 GiB available for the measured fill 6.5 n^{5/3} bytes: n = 1.3e5 cells
    assert fits == int((2.0 * 2**30 / iterative.LU_BYTES_COEFFICIENT) ** 0.6)
    assert 1.2e5 < fits < 1.4e5


def test_hierarchy_reuse_across_a_sweep():
    # two batch sizes on one grid: the second hierarchy reuses the first's aggregates and the
    # answer is unchanged (to the 1e-6 bound)
    landscape = fp.Landscape(lambda x, y, z: (x**2 - 1) ** 2 + y**2 + z**2)
    grid = fp.Grid(BOX, (20, 20, 20))
    cache = fp.HierarchyCache()
    values = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for batch in (4, 5):
            model = fp.SGD(landscape, lr=0.1, batch_size=batch, noise="isotropic", noise_scale=5.0)
            reused = fp.mean_exit_time(model, grid, domain=lambda x, y, z: x < 0, reuse=cache)
            fresh = fp.mean_exit_time(model, grid, domain=lambda x, y, z: x < 0)
            values.append((reused.values, fresh.values))
    assert (cache.hits, cache.misses) == (1, 1)
    for reused, fresh in values:
        assert np.abs(reused - fresh).max() <= 2e-6 * fresh.max()


def test_auto_chooses_by_the_stencil_and_size():
    assert solvers.prefers_iterative(killed(*double_well_3d(20)).sub)  # 6 400 unknowns, 3-D
    assert not solvers.prefers_iterative(killed(*double_well_3d(12)).sub)  # 1 152: LU is as fast
    model = fp.Langevin(fp.Landscape(lambda x, y: (x**2 - 1) ** 2 + y**2), temperature=TEMPERATURE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gen, _ = killed_generator(resolve(model, fp.Grid(BOX[:2], (150, 150))), lambda x, y: x < 0)
    assert not solvers.prefers_iterative(gen.sub)  # 2-D: band ~ sqrt(n)


def test_log_measure_kernel_matches_its_twin():
    rng = np.random.default_rng(3)
    log_mu = rng.normal(size=12) * 5
    rates = sp.random(12, 12, density=0.4, random_state=4).tocsr()
    rates = rates + rates.T  # symmetric pattern, symmetric part
    rates.setdiag(0)
    rates.eliminate_zeros()
    coo = rates.tocoo()
    Q = sp.csr_array((coo.data * np.exp(-log_mu[coo.row]), (coo.row, coo.col)), shape=(12, 12))  # mu_i Q_ij symmetric
    Q, back = linalg.reverse_rates(Q)
    compiled = linalg._log_measure_kernel(Q.indptr, Q.indices, Q.data, back, 1e-8)
    plain = linalg._log_measure_reference(Q.indptr, Q.indices, Q.data, back, 1e-8)
    assert compiled[1] and plain[1]
    np.testing.assert_allclose(compiled[0], plain[0], rtol=0, atol=1e-12)
    _, component = sp.csgraph.connected_components(Q, directed=False)
    for c in np.unique(component):  # log mu is exact up to a constant per component
        members = component == c
        shift = (log_mu[members] - compiled[0][members]).mean()
        np.testing.assert_allclose(compiled[0][members] + shift, log_mu[members], atol=1e-10)
