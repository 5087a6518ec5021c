"""The matrix-free kinetic operator and its plane preconditioner, against independent references:
the kinetic scheme's own sparse assembly (fpsolve.discretize.kinetic_fluxes, another code path),
dense numpy linear algebra on the same small chains, and the exact decoupling of separable
landscapes (the 4-D exit time of theta_1 equals the 2-D one)."""

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as sla

import fpsolve as fp
from fpsolve import solvers
from fpsolve.boundary import normalize_boundary
from fpsolve.discretize import kinetic_kernels as kk
from fpsolve.discretize.kinetic import Kinetic, KineticUpwind
from fpsolve.discretize.kinetic_planes import _plane_coefficients, _plane_systems, _Planes, plane_preconditioner
from fpsolve.generator import Generator

# Kernels and the scheme's sparse matrix add the same terms in other orders: entries agree to a
# few ulps of the largest rate (measured 2e-16 to 8e-16); 1e-13 is the brief's bound.
RTOL = 1e-13


def double_well_1d(temperature=0.25, friction=1.0):
    return fp.UnderdampedLangevin(fp.Landscape(lambda x: (x**2 - 1) ** 2), friction=friction, temperature=temperature)


def landscape_2d(coupling):
    return fp.Landscape(lambda x, y: (x**2 - 1) ** 2 + y**2 + coupling * x * y)


def scheme_matrix(model, grid, boundary, cls=Kinetic):
    return cls(model, grid, normalize_boundary(grid, boundary)).assemble().generator.toarray()


def coefficients(model, grid, boundary, transport="second-order"):
    return kk.kinetic_coefficients(grid, model, normalize_boundary(grid, boundary), transport=transport)


CASES_2D = [
    ("reflecting", False),
    ("absorbing", False),
    ([("absorbing", "reflecting"), "reflecting"], False),
    ("reflecting", True),  # periodic theta, odd velocity count: a v = 0 cell row
]
CASES_4D = [
    "reflecting",
    "absorbing",
    [("reflecting", "absorbing"), ("absorbing", "reflecting"), "reflecting", "reflecting"],
]


@pytest.mark.parametrize("boundary, periodic", CASES_2D)
@pytest.mark.parametrize("cls", [Kinetic, KineticUpwind])
def test_kernels_equal_the_scheme_matrix_in_2d(boundary, periodic, cls):
    grid = fp.phase_space_grid(theta=(-2, 2), v=(-3, 3), cells=(9, 7 if periodic else 8), periodic_theta=periodic)
    model = double_well_1d()
    Q = scheme_matrix(model, grid, boundary, cls)
    c = coefficients(model, grid, boundary, cls.transport)
    x = np.random.default_rng(0).standard_normal(grid.size)
    scale = np.abs(Q).max()
    assert np.abs(kk.apply_backward(c, x) - Q @ x).max() <= RTOL * scale * np.abs(x).sum()
    assert np.abs(kk.apply_forward(c, x) - Q.T @ x).max() <= RTOL * scale * np.abs(x).sum()
    assert np.abs(kk.kinetic_diagonal(c) - np.diag(Q)).max() <= RTOL * scale
    assert np.abs(kk.sparse_kinetic(c).toarray() - Q).max() <= RTOL * scale


@pytest.mark.parametrize("boundary", CASES_4D)
def test_kernels_equal_the_scheme_matrix_in_4d(boundary):
    grid = fp.phase_space_grid(theta=[(-2, 2), (-1.5, 1.5)], v=[(-3, 3), (-2.5, 2.5)], cells=(6, 5, 4, 6))
    for model in (
        fp.UnderdampedLangevin(landscape_2d(0.3), friction=0.7, temperature=0.3),
        fp.MomentumSGD(landscape_2d(0.3), lr=0.1, batch_size=4, momentum=0.9),
    ):
        Q = scheme_matrix(model, grid, boundary)
        c = coefficients(model, grid, boundary)
        x = np.random.default_rng(1).standard_normal(grid.size)
        scale = np.abs(Q).max() * np.abs(x).sum()
        assert np.abs(kk.apply_backward(c, x) - Q @ x).max() <= RTOL * scale
        assert np.abs(kk.apply_forward(c, x) - Q.T @ x).max() <= RTOL * scale
        assert np.abs(kk.kinetic_diagonal(c) - np.diag(Q)).max() <= RTOL * np.abs(Q).max()
        assert np.abs(kk.sparse_kinetic(c).toarray() - Q).max() <= RTOL * np.abs(Q).max()


def test_mass_is_conserved_by_the_forward_kernel_with_specular_walls():
    # Q^T p sums to zero for a closed box (specular walls, zero-flux velocity faces): the
    # column sums of a conservative operator vanish to round-off of the largest rate
    grid = fp.phase_space_grid(theta=[(-2, 2), (-1.5, 1.5)], v=[(-3, 3)] * 2, cells=(7, 6, 8, 6))
    c = coefficients(fp.UnderdampedLangevin(landscape_2d(0.3), 1.0, 0.25), grid, "reflecting")
    p = np.random.default_rng(2).random(grid.size)
    assert abs(kk.apply_forward(c, p).sum()) <= 1e-13 * np.abs(kk.kinetic_diagonal(c)).max() * p.sum()


def correlated_noise(sigma):
    """A constant gradient-noise covariance Sigma (2 x 2) for 2-D theta."""
    sigma = np.asarray(sigma, dtype=float)
    return lambda x, y: sigma[:, :, None, None] * np.ones((1, 1) + np.shape(x))


CROSS_MODELS = [
    lambda: fp.UnderdampedLangevin(landscape_2d(0.5), friction=1.0, temperature=0.25, noise="hessian"),
    lambda: fp.UnderdampedLangevin(landscape_2d(0.3), 0.7, 0.3, noise=correlated_noise([[1.0, 0.6], [0.6, 0.5]])),
    lambda: fp.MomentumSGD(
        landscape_2d(0.3), lr=0.1, batch_size=4, momentum=0.9, noise=correlated_noise([[0.5, -0.4], [-0.4, 1.0]])
    ),
]


@pytest.mark.parametrize("boundary", CASES_4D)
def test_cross_diffusion_kernels_equal_the_scheme_matrix(boundary):
    # correlated velocity noise (Hessian noise with D_km(theta) of either sign, constant Sigma
    # with D_km > 0 and < 0): the kernels and their triplets against the scheme's sparse matrix,
    # whose cross terms come from finite volumes' one-sided stencil (fv._cross_terms), another
    # code path; odd sizes so that no axis is mistaken for another
    grid = fp.phase_space_grid(theta=[(-2, 2), (-1.5, 1.5)], v=[(-3, 3), (-2.5, 2.5)], cells=(6, 5, 7, 6))
    for make in CROSS_MODELS:
        model = make()
        Q = scheme_matrix(model, grid, boundary)
        c = coefficients(model, grid, boundary)
        assert len(c.cross) == 2
        x = np.random.default_rng(1).standard_normal(grid.size)
        scale = np.abs(Q).max() * np.abs(x).sum()
        assert np.abs(kk.apply_backward(c, x) - Q @ x).max() <= RTOL * scale
        assert np.abs(kk.apply_forward(c, x) - Q.T @ x).max() <= RTOL * scale
        assert np.abs(kk.kinetic_diagonal(c) - np.diag(Q)).max() <= RTOL * np.abs(Q).max()
        assert np.abs(kk.sparse_kinetic(c).toarray() - Q).max() <= RTOL * np.abs(Q).max()
        if boundary == "reflecting":  # closed box: conservative, columns of Q^T sum to zero
            p = np.random.default_rng(2).random(grid.size)
            assert abs(kk.apply_forward(c, p).sum()) <= 1e-13 * np.abs(Q).max() * p.sum()


def test_cross_diffusion_kernels_are_consistent_with_the_ornstein_uhlenbeck_law():
    # U = theta^T H theta / 2 with Sigma not commuting with H (Kunin's case b): the stationary
    # law is the Gaussian p whose covariance solves the Lyapunov equation B C + C B^T = 2 D
    # (scipy, closed form), with a nonzero theta-plane circulation C[0, 3] - C[1, 2] = -0.0688.
    # Q^T p (p's peak 1, units 1/time) is the truncation error of the matrix-free kernels:
    # measured 0.626, 0.267, 0.125 at 16^4, 32^4, 48^4 (order 1.2, then 1.9) and 0.431, 0.210 at
    # 24^4, 36^4 (order 1.77); without the cross terms it tends to a constant (3.06, 4.32, 4.68),
    # the missing D_12 d^2 p / dv_1 dv_2. Asserted: order above 1.5 and a residual 10 times
    # below that of the kernels without cross terms
    import dataclasses

    from scipy.linalg import solve_continuous_lyapunov

    H, sigma = np.array([[1.0, 0.3], [0.3, 1.0]]), np.array([[1.0, 0.6], [0.6, 0.5]])
    model = fp.UnderdampedLangevin(
        fp.Landscape(lambda x, y: 0.5 * (x**2 + 0.6 * x * y + y**2)),
        friction=1.0,
        temperature=0.5,
        noise=correlated_noise(sigma),
    )
    B = np.block([[np.zeros((2, 2)), -np.eye(2)], [H, np.eye(2)]])
    D = np.zeros((4, 4))
    D[2:, 2:] = 0.5 * sigma  # D_v = gamma T Sigma
    C = solve_continuous_lyapunov(B, 2 * D)
    assert C[0, 3] - C[1, 2] < -0.05  # a circulating law: the case this test is about
    residuals = []
    for n in (24, 36):
        grid = fp.phase_space_grid(theta=[(-3.0, 3.0)] * 2, v=[(-3.5, 3.5)] * 2, cells=n)
        c = coefficients(model, grid, "reflecting")
        x = np.stack([a.ravel() for a in grid.mesh()])
        p = np.exp(-0.5 * np.sum(x * np.linalg.solve(C, x), axis=0))
        residuals.append(np.abs(kk.apply_forward(c, p)).max())
    without_cross = np.abs(kk.apply_forward(dataclasses.replace(c, cross=()), p)).max()
    assert np.log(residuals[0] / residuals[1]) / np.log(36 / 24) > 1.5
    assert without_cross > 10 * residuals[1]


def test_cross_diffusion_exit_time_by_gmres_equals_sparse_lu():
    # correlated velocity noise in 4-D: GMRES with the plane preconditioner (which leaves the
    # cross terms out) on the matrix-free operator, against SuperLU on the scheme's own sparse
    # matrix restricted to the live cells; backward error 1e-11 times the condition estimate
    # (~1e4) as in the coupled test above
    n = 8
    _, grid, _, live = exit_problem(n, 0.3)
    model = CROSS_MODELS[1]()
    c = coefficients(model, grid, "reflecting")
    gen = Generator(kk.matrix_free_kinetic(c), grid, ~live, markov=False)
    Q = sp.csr_matrix(scheme_matrix(model, grid, "reflecting"))
    keep = live.ravel()
    reference = sla.spsolve(sp.csc_matrix(Q[keep][:, keep]), -np.ones(keep.sum()))
    assert np.abs(gen.solve(-np.ones(gen.n_live)) - reference).max() <= 1e-6 * np.abs(reference).max()


def exit_problem(n, coupling, theta2_cells=None):
    """4-D double well in theta_1 (exit where theta_1 > 0) with theta_2 harmonic: grid, coefficients
    and the live mask."""
    model = fp.UnderdampedLangevin(landscape_2d(coupling), friction=1.0, temperature=0.25)
    grid = fp.phase_space_grid(theta=[(-2.2, 0.6), (-2.0, 2.0)], v=[(-3, 3)] * 2, cells=(n, theta2_cells or n, n, n))
    live = np.broadcast_to((grid.centers[0] < 0)[:, None, None, None], grid.shape)
    return model, grid, coefficients(model, grid, "reflecting"), np.array(live)


def test_plane_solves_equal_dense_solves_of_each_plane():
    # every plane of (s I - Q_k) restricted to its live cells, solved by numpy's dense LU
    model, grid, c, live = exit_problem(6, 0.3, theta2_cells=5)
    x = np.random.default_rng(3).standard_normal(grid.size) * live.ravel()
    n1, n2, m1, m2 = grid.shape
    for k, transpose in ((0, False), (1, False), (0, True)):
        planes = _Planes(_plane_systems(c, live, k, transpose), 2.5)
        out = np.zeros(grid.size)
        planes.solve(x, out)
        x4, out4, live4 = x.reshape(grid.shape), out.reshape(grid.shape), live
        for other in range(grid.shape[1 - k]):
            for r in range(m2 if k == 0 else m1):
                if k == 0:
                    mask, b, got = (
                        live4[:, other, :, r].ravel(),
                        x4[:, other, :, r].ravel(),
                        out4[:, other, :, r].ravel(),
                    )
                else:
                    mask, b, got = (
                        live4[other, :, r, :].ravel(),
                        x4[other, :, r, :].ravel(),
                        out4[other, :, r, :].ravel(),
                    )
                if not mask.any():
                    continue
                Q = kk.sparse_kinetic(_plane_coefficients(c, k, other)).toarray()[np.ix_(mask, mask)]
                A = 2.5 * np.eye(mask.sum()) - Q
                expected = np.linalg.solve(A.T if transpose else A, b[mask])
                # plane LUs are well conditioned (shift 2.5 against rates up to ~60): 1e-12
                assert np.allclose(got[mask], expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())
                assert np.all(got[~mask] == 0)


def killed_generator(n, coupling):
    model, grid, c, live = exit_problem(n, coupling)
    return Generator(kk.matrix_free_kinetic(c), grid, ~live, markov=False), c, live


def test_separable_exit_time_in_4d_equals_the_2d_one():
    # For U = f(x) + g(y) the kinetic operator is a Kronecker sum and the exit through theta_1 = 0
    # does not depend on (theta_2, v_2): the 4-D tau equals the 2-D tau on the same (theta_1, v_1)
    # grid, solved here by sparse LU. GMRES stops at backward error 1e-11; the condition of the
    # exit problem (eps * max|Q_ii| * max tau ~ 1e-11 relative per 1e-16 of backward error) leaves
    # about 1e-7 relative in tau.
    n = 12
    gen, c, live = killed_generator(n, 0.0)
    tau4 = gen.extend(gen.solve(-np.ones(gen.n_live)))
    model_2d = double_well_1d()
    grid_2d = fp.phase_space_grid(theta=(-2.2, 0.6), v=(-3, 3), cells=(n, n))
    Q2 = sp.csr_matrix(scheme_matrix(model_2d, grid_2d, "reflecting"))
    keep = np.broadcast_to((grid_2d.centers[0] < 0)[:, None], grid_2d.shape).ravel()
    tau2 = np.zeros(grid_2d.size)
    tau2[keep] = sla.spsolve(sp.csc_matrix(Q2[keep][:, keep]), -np.ones(keep.sum()))
    tau2 = tau2.reshape(grid_2d.shape)
    expected = np.broadcast_to(tau2[:, None, :, None], tau4.shape)
    assert np.abs(tau4 - expected).max() <= 1e-7 * tau2.max()


def test_coupled_exit_time_equals_sparse_lu_and_the_transpose_too():
    # non-separable (coupling 0.3 x y) and non-reversible: the reference is SuperLU on the
    # scheme's own sparse 4-D matrix restricted to the live cells
    n = 8
    gen, c, live = killed_generator(n, 0.3)
    model, grid, _, _ = exit_problem(n, 0.3)
    Q = sp.csr_matrix(scheme_matrix(model, grid, "reflecting"))
    keep = live.ravel()
    A = sp.csc_matrix(Q[keep][:, keep])
    b = np.random.default_rng(4).random(keep.sum())
    for solve, reference in ((gen.solve, sla.spsolve(A, -b)), (gen.solve_transpose, sla.spsolve(A.T.tocsc(), -b))):
        x = solve(-b)
        # backward error 1e-11 times the condition estimate (max|Q_ii| max|x| / max|b| ~ 1e4)
        assert np.abs(x - reference).max() <= 1e-6 * np.abs(reference).max()


def test_mean_exit_time_through_the_public_api_with_a_matrix_free_generator():
    n = 10
    model, grid, c, live = exit_problem(n, 0.0)
    gen = Generator(kk.matrix_free_kinetic(c), grid, markov=False)
    tau = fp.mean_exit_time(gen, domain=lambda t1, t2, v1, v2: t1 < 0)
    # the 2-D reference, as in the separable test
    grid_2d = fp.phase_space_grid(theta=(-2.2, 0.6), v=(-3, 3), cells=(n, n))
    Q2 = sp.csr_matrix(scheme_matrix(double_well_1d(), grid_2d, "reflecting"))
    keep = np.broadcast_to((grid_2d.centers[0] < 0)[:, None], grid_2d.shape).ravel()
    tau2 = sla.spsolve(sp.csc_matrix(Q2[keep][:, keep]), -np.ones(keep.sum()))
    got = tau.values[:, n // 2, :, n // 2][np.broadcast_to((grid.centers[0] < 0)[:, None], (n, n))]
    assert np.abs(got - tau2).max() <= 1e-7 * tau2.max()


def test_shifted_solves_use_the_plane_preconditioner():
    # (c I - s Q) x = b, the system of implicit steps, against SuperLU
    n = 8
    model, grid, c, live = exit_problem(n, 0.3)
    op = kk.matrix_free_kinetic(c)
    Q = kk.sparse_kinetic(c)
    b = np.random.default_rng(5).standard_normal(grid.size)
    for shift, step in ((1.0, 0.5), (1.0, 50.0)):
        x = solvers.shifted_solver(op, shift, step)(b)
        reference = sla.spsolve(sp.csc_matrix(shift * sp.identity(grid.size) - step * Q), b)
        assert np.abs(x - reference).max() <= 1e-8 * np.abs(reference).max()


def test_preconditioner_is_needed_and_a_stalled_solve_is_refused(monkeypatch):
    # with too few Krylov cycles the solve must be refused, not returned
    gen, c, live = killed_generator(12, 0.3)
    monkeypatch.setattr(solvers, "KRYLOV_CYCLES", 1)
    monkeypatch.setattr(solvers, "KRYLOV_RESTART", 3)
    with pytest.raises(ValueError, match="backward error") as error:
        gen.solve(-np.ones(gen.n_live))
    assert "MatrixFree(approximate" not in str(error.value)  # never the option in use


def test_plane_preconditioner_refuses_2d_phase_space():
    grid = fp.phase_space_grid(theta=(-2, 2), v=(-3, 3), cells=(8, 8))
    with pytest.raises(ValueError, match="4-D phase space"):
        plane_preconditioner(coefficients(double_well_1d(), grid, "reflecting"))


def test_nested_dissection_lu_of_a_kinetic_matrix_equals_dense_lu():
    # the 2-D kinetic exit matrix is structurally nonsymmetric (upwind transport): from
    # NONSYMMETRIC_LU_SIZE unknowns factorize orders it by nested dissection, factors it with
    # threshold pivoting and checks every solve; numpy's dense LU
    # on the same (small) matrix is the reference (condition ~1e4 here: 1e-10 relative)
    grid = fp.phase_space_grid(theta=(-2.2, 0.2), v=(-3, 3), cells=(24, 20))
    Q = sp.csr_matrix(scheme_matrix(double_well_1d(), grid, "reflecting"))
    keep = np.broadcast_to((grid.centers[0] < 0)[:, None], grid.shape).ravel()
    A = Q[keep][:, keep]
    assert not solvers._structurally_symmetric(sp.csc_array(A))
    b = -np.ones(A.shape[0])
    x = solvers._nonsymmetric_lu_solver(sp.csc_array(A))(b)
    reference = np.linalg.solve(A.toarray(), b)
    assert np.abs(x - reference).max() <= 1e-10 * np.abs(reference).max()


def test_nonsymmetric_lu_pivots_where_the_diagonal_is_zero():
    # a structurally nonsymmetric matrix with zero diagonal entries needs pivoting (dense LU
    # with partial pivoting as the reference): the forward error is at most the condition number
    # times the backward error, ~1e-16 times the pivot growth; 1e-12 leaves 1e4 for growth
    rng = np.random.default_rng(6)
    n = 60
    A = sp.random(n, n, density=0.08, random_state=rng, format="lil")
    A.setdiag(np.where(np.arange(n) % 3 == 0, 0.0, 1.0))
    A = sp.csc_array(A + sp.eye(n, k=1) - 4 * sp.eye(n, k=-2))
    assert not solvers._structurally_symmetric(A)
    b = rng.standard_normal(n)
    reference = np.linalg.solve(A.toarray(), b)
    assert np.abs(solvers._nonsymmetric_lu_solver(A)(b) - reference).max() <= 1e-12 * np.abs(
        reference
    ).max() * np.linalg.cond(A.toarray())


def test_nested_dissection_is_a_permutation_that_cuts_the_fill_of_a_grid():
    # 5-point Laplacian on an 80 x 80 grid: in natural (banded) order the LU fills the band,
    # measured 1.0e6 entries; nested dissection needs O(n log n), measured 4.5e5
    side = 80
    lap = sp.diags([-1, -1, 4, -1, -1], [-side, -1, 0, 1, side], shape=(side**2,) * 2, format="lil", dtype=float)
    for i in range(1, side):
        lap[i * side, i * side - 1] = lap[i * side - 1, i * side] = 0.0
    lap = sp.csc_array(lap)
    order = solvers.nested_dissection(lap)
    assert np.array_equal(np.sort(order), np.arange(side**2))
    natural = sla.splu(lap, permc_spec="NATURAL", diag_pivot_thresh=0.0)
    dissected = sla.splu(sp.csc_array(lap[order][:, order]), permc_spec="NATURAL", diag_pivot_thresh=0.0)
    assert dissected.L.nnz + dissected.U.nnz < 0.5 * (natural.L.nnz + natural.U.nnz)


def test_nested_dissection_kernel_matches_its_python_twin_on_awkward_graphs():
    # the compiled kernel against its plain-Python twin (same algorithm, interpreted): a random
    # graph with two components and isolated nodes, a star (whose middle level is its last:
    # the separator cannot be pruned) and a path; each order must be a permutation
    from fpsolve import orderings

    rng = np.random.default_rng(3)
    blocks = [sp.random(150, 150, density=0.03, random_state=rng) for _ in range(2)]
    random_graph = sp.block_diag(blocks + [sp.csr_array((5, 5))], format="csr")
    star = sp.csr_array((np.ones(199), (np.zeros(199, dtype=int), np.arange(1, 200))), shape=(200, 200))
    path = sp.diags([np.ones(299)], [1], shape=(300, 300), format="csr")
    for M in (random_graph, star, path):
        graph = sp.csr_array(abs(M) + abs(M.T))
        indptr, indices = graph.indptr.astype(np.int64), graph.indices.astype(np.int64)
        compiled = orderings._dissect_kernel(indptr, indices, 8)
        interpreted = orderings._dissect_reference(indptr, indices, 8)
        assert np.array_equal(compiled, interpreted)
        assert np.array_equal(np.sort(orderings.nested_dissection(M, leaf=8)), np.arange(M.shape[0]))


def test_nested_dissection_separates_a_path_into_halves():
    # on a path 0-1-...-(n-1) nested dissection must put the middle node last: it separates the
    # two halves, which are ordered before it (George's construction, checked by hand)
    from fpsolve import orderings

    n = 9
    path = sp.diags([np.ones(n - 1)], [1], shape=(n, n), format="csr")
    order = orderings.nested_dissection(path, leaf=2)
    assert order[-1] == 4
    assert set(order[:4]) | set(order[4:8]) == set(range(9)) - {4}
    assert {int(order[0]), int(order[1]), int(order[2]), int(order[3])} in ({0, 1, 2, 3}, {5, 6, 7, 8})


def test_four_d_stationary_law_with_cross_diffusion_is_matrix_free():
    # the stationary law of the matrix-free 4-D operator with correlated velocity noise (GMRES on
    # the pinned Q^T, preconditioned by the transposed plane solves) against scipy's SuperLU of
    # the same Q^T (its sparse assembly) pinned at the same state; unequal sizes, 3136 cells
    # (above linalg.DENSE_MAX, so the matrix-free path is taken). Measured agreement 6.4e-11 on
    # the cells above 1e-5 of the peak (8 x 7 x 9 x 8 cells); GMRES stops at backward error
    # 1e-11, and 1e-8 allows a condition number of 1e3 for the pinned system
    import warnings

    from fpsolve.stationary import stationary_distribution

    model = CROSS_MODELS[1]()
    grid = fp.phase_space_grid(theta=[(-2.2, 2.2), (-2.0, 2.0)], v=[(-2.4, 2.4)] * 2, cells=(8, 7, 8, 7))
    c = coefficients(model, grid, "reflecting")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "stationary: the law of this operator")
        pi = stationary_distribution(kk.matrix_free_kinetic(c))
    Q = sp.csr_matrix(kk.sparse_kinetic(c))
    j = int(np.argmin(Q.diagonal()))
    pinned = sp.lil_matrix(Q.T)
    pinned[j, :] = 0.0
    pinned[j, j] = 1.0
    reference = sla.spsolve(sp.csc_matrix(pinned), np.eye(grid.size)[j])
    reference = np.maximum(reference, 0.0) / np.maximum(reference, 0.0).sum()
    judged = reference >= 1e-5 * reference.max()
    assert np.max(np.abs(pi - reference)[judged] / reference[judged]) <= 1e-8
