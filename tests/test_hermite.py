"""The Hermite spectral method in v (Risken's vector recurrence) against closed forms, convergence
orders, the overdamped limit and the finite-volume kinetic operator."""

import numpy as np
import pytest
import scipy.linalg as la
import scipy.sparse as sp
import scipy.sparse.linalg as sla
from scipy.integrate import quad
from scipy.special import i0

import fpsolve as fp
from fpsolve.boundary import normalize_boundary
from fpsolve.hermite import HermiteKinetic, hermite_functions


def moments(solver, coefficients):
    """(E theta, E v) and the covariance from c_0, c_1, c_2 at the theta centres: E v = v_th int c_1,
    E v^2 = v_th^2 int (c_0 + sqrt(2) c_2) (u^2 = sqrt(2) psi_2 + psi_0), E theta v = v_th int theta c_1."""
    theta, h, vt = solver.grid.centers[0], solver.grid.spacing[0], solver.thermal_velocity
    c0, c1, c2 = coefficients[0], coefficients[1], coefficients[2]
    m_theta, m_v = h * np.sum(theta * c0), vt * h * np.sum(c1)
    var_theta = h * np.sum(theta**2 * c0) - m_theta**2
    var_v = vt**2 * h * np.sum(c0 + np.sqrt(2) * c2) - m_v**2
    cov = vt * h * np.sum(theta * c1) - m_theta * m_v
    return np.array([m_theta, m_v]), np.array([[var_theta, cov], [cov, var_v]])


def harmonic_rates(gamma, omega2, count):
    """n mu_1 + m mu_2 (n + m >= 1), mu the eigenvalues of the drift matrix of d(theta, v) =
    -A (theta, v) dt + noise, A = [[0, -1], [omega^2, gamma]] (Risken 10.4)."""
    mu = np.linalg.eigvals(np.array([[0.0, -1.0], [omega2, gamma]]))
    return np.array([a * mu[0] + b * mu[1] for a in range(count) for b in range(count) if a + b])


def test_hermite_functions_are_orthonormal_under_gauss_hermite_quadrature():
    # numpy's Gauss-Hermite rule (weight exp(-u^2/2)) is exact for the degree-2*39 products here
    u, w = np.polynomial.hermite_e.hermegauss(60)
    psi = hermite_functions(30, u)
    gram = (psi * (w / np.sqrt(2 * np.pi))) @ psi.T
    assert np.max(np.abs(gram - np.eye(30))) < 1e-12  # round-off of 60-term sums of O(1) products


@pytest.mark.parametrize("n_hermite", [2, 12])
def test_maxwell_boltzmann_on_the_periodic_cosine_is_exact_in_v(n_hermite):
    # exp(-(U + v^2/2)/T) / Z with Z = 2 pi I_0(A/T) sqrt(2 pi T) (closed form); Fourier in theta is
    # spectral and the Maxwellian is mode 0, so only round-off remains (1e-12 of the peak)
    T, A = 0.5, 1.0
    U = fp.landscapes.periodic_cosine(amplitude=A)
    model = fp.UnderdampedLangevin(U, friction=1.0, temperature=T)
    grid = fp.phase_space_grid((-np.pi, np.pi), (-4, 4), (33, 40), periodic_theta=True)
    p = HermiteKinetic(model, grid, n_hermite=n_hermite).stationary()
    theta, v = grid.mesh()
    exact = np.exp(-(U(theta) + v**2 / 2) / T) / (2 * np.pi * i0(A / T) * np.sqrt(2 * np.pi * T))
    assert np.max(np.abs(p - exact)) < 1e-12 * exact.max()


def test_maxwell_boltzmann_with_specular_walls_on_the_double_well():
    # fd2 with specular walls: the law is exp(-U/T) at every centre to round-off (the fitted
    # operator is exact for it), exactly Maxwellian in v for N = 2 and N = 12; only the
    # normalisation (a midpoint sum) is off, at second order: the error ratio 128 -> 256 cells is 4
    # (measured 3.93; at 32 -> 64 the h^4 term of Euler-Maclaurin still shows: 3.08)
    T = 0.25
    U = fp.landscapes.double_well()
    model = fp.UnderdampedLangevin(U, friction=1.0, temperature=T)
    Z = quad(lambda x: np.exp(-U(x) / T), -1.6, 1.6, points=[-1, 0, 1], epsabs=0, epsrel=1e-13)[0]
    errors = []
    for cells in (128, 256):
        grid = fp.phase_space_grid((-1.6, 1.6), (-3, 3), (cells, 40))
        theta, v = grid.mesh()
        laws = [HermiteKinetic(model, grid, n_hermite=n).stationary() for n in (2, 12)]
        assert np.max(np.abs(laws[0] - laws[1])) < 1e-12 * laws[0].max()  # round-off: N changes nothing
        boltzmann = np.exp(-(U(theta) + v**2 / 2) / T)
        fitted = boltzmann * (laws[1].sum() / boltzmann.sum())
        # Maxwell-Boltzmann up to its normalisation, to the round-off of the (normwise stable) LU
        # solve: measured 2e-14 of the peak, asserted 1e-12
        assert np.max(np.abs(laws[1] - fitted)) < 1e-12 * fitted.max()
        exact = np.exp(-(U(theta) + v**2 / 2) / T) / (Z * np.sqrt(2 * np.pi * T))
        errors.append(np.max(np.abs(laws[1] - exact)) / exact.max())
    assert 3.8 < errors[0] / errors[1] < 4.2


@pytest.mark.parametrize("gamma", [3.0, 0.5])
def test_harmonic_spectrum_matches_the_drift_matrix(gamma):
    # U = theta^2/2 on a periodic box wide enough (+-12, T = 1) that the density and the slow
    # eigenfunctions vanish at its ends: the rates are n mu_1 + m mu_2 (overdamped gamma = 3: real;
    # underdamped gamma = 0.5: complex pairs); measured to 2e-15, asserted to 1e-8
    model = fp.UnderdampedLangevin(fp.landscapes.quadratic([[1.0]]), friction=gamma, temperature=1.0)
    grid = fp.phase_space_grid((-12, 12), (-6, 6), (65, 40), periodic_theta=True)
    rates = -HermiteKinetic(model, grid, n_hermite=16).eigenvalues(6)
    exact = harmonic_rates(gamma, 1.0, 8)
    for rate in rates:
        assert np.min(np.abs(exact - rate)) < 1e-8 * abs(rate)
    assert rates[0].real == pytest.approx(np.min(exact.real), rel=1e-8)  # the slowest is found


def test_risken_cosine_lowest_eigenvalue_converges_exponentially_in_n_hermite():
    # Risken ch. 11: for the cosine potential the matrix continued fraction converges exponentially
    # in the number of Hermite modes. Errors against N = 48 at N = 8, 12, 16: measured 3e-4, 6.8e-6,
    # 1.6e-7 (a factor ~40 per 4 modes); asserted: each step gains a factor 10
    model = fp.UnderdampedLangevin(fp.landscapes.periodic_cosine(), friction=1.0, temperature=0.5)
    grid = fp.phase_space_grid((-np.pi, np.pi), (-4, 4), (33, 40), periodic_theta=True)
    limit = HermiteKinetic(model, grid, n_hermite=48).eigenvalues(1)[0]
    errors = [
        abs(HermiteKinetic(model, grid, n_hermite=n)._eigenvalues(n, 1)[0] - limit) / abs(limit) for n in (8, 12, 16)
    ]
    assert errors[0] / errors[1] > 10 and errors[1] / errors[2] > 10
    assert errors[2] < 1e-6


def test_momentum_sgd_stationary_variances_match_kunin():
    # Sigma = sigma^2 H at H = lambda (noise_scale = s2 * lambda): Var theta = eta s2 / (2 B (1 - beta)),
    # Var v = s2 lambda / (B (1 - beta^2)) (DESIGN.md section 1); Fourier on a periodic box of
    # +-12 standard deviations, so only round-off remains (asserted 1e-9)
    lam, s2, eta, beta, B = 2.0, 0.5, 1e-2, 0.9, 8.0
    U = fp.landscapes.quadratic([[lam]])
    model = fp.MomentumSGD(U, lr=eta, batch_size=B, momentum=beta, noise_scale=s2 * lam)
    var_theta, var_v = eta * s2 / (2 * B * (1 - beta)), s2 * lam / (B * (1 - beta**2))
    width = 12 * np.sqrt(var_theta)
    grid = fp.phase_space_grid(
        (-width, width), (-6 * np.sqrt(var_v), 6 * np.sqrt(var_v)), (65, 40), periodic_theta=True
    )
    solver = HermiteKinetic(model, grid, n_hermite=8)
    mean, cov = moments(solver, solver.stationary_coefficients())
    assert np.max(np.abs(mean)) < 1e-12 * np.sqrt(var_v)
    assert cov[0, 0] == pytest.approx(var_theta, rel=1e-9)
    assert cov[1, 1] == pytest.approx(var_v, rel=1e-9)
    assert abs(cov[0, 1]) < 1e-9 * np.sqrt(var_theta * var_v)


def test_evolution_matches_the_ornstein_uhlenbeck_mean_and_covariance():
    # dx = -A x dt + sqrt(2 D) dW from a Gaussian: mean exp(-A t) m0, covariance by Van Loan's block
    # exponential (REFERENCES.md), both by scipy.linalg.expm. Measured 5e-14; asserted 1e-10
    gamma, T = 1.0, 1.0
    model = fp.UnderdampedLangevin(fp.landscapes.quadratic([[1.0]]), friction=gamma, temperature=T)
    grid = fp.phase_space_grid((-12, 12), (-8, 8), (65, 80), periodic_theta=True)
    solver = HermiteKinetic(model, grid, n_hermite=16)
    theta, v = grid.mesh()
    m0, S0 = np.array([1.0, 0.5]), np.diag([0.5**2, 0.8**2])
    p0 = np.exp(-0.5 * ((theta - m0[0]) ** 2 / S0[0, 0] + (v - m0[1]) ** 2 / S0[1, 1]))
    p0 /= 2 * np.pi * np.sqrt(np.linalg.det(S0))
    sol = solver.evolve(p0, [0.5, 2.0])
    A, D = np.array([[0.0, -1.0], [1.0, gamma]]), np.diag([0.0, gamma * T])
    for t, c in zip(sol.t, sol.coefficients):
        E = la.expm(-A * t)
        block = la.expm(np.block([[-A, 2 * D], [np.zeros((2, 2)), A.T]]) * t)
        mean, cov = moments(solver, c)
        assert np.max(np.abs(mean - E @ m0)) < 1e-10
        assert np.max(np.abs(cov - (E @ S0 @ E.T + block[:2, 2:] @ E.T))) < 1e-10


def test_long_evolution_from_next_to_a_wall_relaxes_at_the_slowest_rate():
    # double well, specular walls at +-1.6, start 0.25 from the wall; mass conserved (fd2 telescopes:
    # round-off, 1e-12); the distance to the stationary law, exp(-U/T) (closed form) at the centres,
    # decays between t = 30 and t = 50 as exp(-20 lambda_1), with lambda_1 from the eigen-solve
    # (the next rate is ~10 lambda_1, so its share is < 1e-7 at t = 30: asserted 1e-4)
    T = 0.5
    U = fp.landscapes.double_well()
    model = fp.UnderdampedLangevin(U, friction=1.0, temperature=T)
    grid = fp.phase_space_grid((-1.6, 1.6), (-6, 6), (48, 64))
    solver = HermiteKinetic(model, grid, n_hermite=32)
    theta, v = grid.mesh()
    p0 = np.exp(-0.5 * ((theta - 1.35) ** 2 / 0.15**2 + v**2 / 0.7**2))
    p0 /= p0.sum() * grid.cell_volume
    sol = solver.evolve(p0, [0.0, 30.0, 50.0])
    h = grid.spacing[0]
    assert np.allclose(sol.marginal.sum(axis=1) * h, sol.marginal[0].sum() * h, rtol=1e-12, atol=0)
    boltzmann = np.exp(-U(grid.centers[0]) / T)
    boltzmann /= boltzmann.sum() * h
    distance = [np.sum(np.abs(m - boltzmann)) * h for m in sol.marginal[1:]]
    rate = solver.relaxation_rates(1, rtol=1e-5)[0]
    assert distance[1] / distance[0] == pytest.approx(np.exp(-20 * rate), rel=1e-4)


def test_tilted_washboard_current_tends_to_the_overdamped_closed_form():
    # Non-reversible: U = -cos theta - f theta on a periodic theta, a stationary current. For large
    # friction gamma J -> J_od (Stratonovich's closed form, scipy quad), with a correction
    # ~ -0.38 / gamma^2 (measured -3.75e-3 at gamma = 10, -9.47e-4 at 20, -2.37e-4 at 40): the
    # deviation must fall by 4 (+-3 %) per doubling of gamma and stay below 0.5 / gamma^2
    f, T, L = 0.5, 1.0, 2 * np.pi
    psi = lambda x: -np.cos(x) - f * x  # noqa: E731
    inner = lambda x: quad(lambda y: np.exp(psi(y) / T), x, x + L, epsabs=0, epsrel=1e-12)[0]  # noqa: E731
    J_od = (
        T * (1 - np.exp(-f * L / T)) / quad(lambda x: np.exp(-psi(x) / T) * inner(x), 0, L, epsabs=0, epsrel=1e-12)[0]
    )
    U = fp.Landscape(psi, grad=lambda x: (np.sin(x) - f,), ndim=1, name="tilted cosine")
    grid = fp.phase_space_grid((-np.pi, np.pi), (-5, 5), (33, 40), periodic_theta=True)
    deviations = []
    for gamma in (10.0, 20.0, 40.0):
        model = fp.UnderdampedLangevin(U, friction=gamma, temperature=T)
        solver = HermiteKinetic(model, grid, n_hermite=12)
        current = solver.thermal_velocity * solver.stationary_coefficients()[1]
        assert np.ptp(current) < 1e-12 * current.mean()  # the current is constant in theta
        deviations.append(gamma * current.mean() / J_od - 1)
        assert abs(deviations[-1]) < 0.5 / gamma**2
    assert deviations[0] / deviations[1] == pytest.approx(4, rel=0.03)
    assert deviations[1] / deviations[2] == pytest.approx(4, rel=0.03)


# ------------------------------------------------------------------ against the finite-volume scheme
def finite_volume(model, grid):
    """The 'kinetic' scheme's operator Q (fpsolve.discretize registry), its stationary law and
    slowest eigenvalue by scipy (sparse LU with a normalisation row; shift-invert ARPACK)."""
    scheme = fp.discretize.get("kinetic")(model, grid, normalize_boundary(grid, "reflecting"))
    Q = sp.csr_matrix(scheme.assemble().generator)
    A = Q.T.tolil()
    A[0, :] = grid.cell_volume
    rhs = np.zeros(grid.size)
    rhs[0] = 1.0
    p = sla.spsolve(A.tocsc(), rhs).reshape(grid.shape)
    values = sla.eigs(Q.T.tocsc(), k=6, sigma=1e-9, which="LM", return_eigenvectors=False)
    values = values[np.argsort(np.abs(values))][1:]
    return p, values[np.lexsort((np.abs(values.imag), -values.real))][0]


def test_finite_volumes_converge_to_the_hermite_law_and_rate_at_second_order():
    # periodic cosine, gamma = 1, T = 0.5: Hermite-Fourier is converged to 1e-10 (tests above). The
    # FV errors of the theta-marginal and of the slowest eigenvalue fall by 4 from 48^2 to 96^2
    # (measured 4.08 and 4.13; asserted 3.3 to 5)
    model = fp.UnderdampedLangevin(fp.landscapes.periodic_cosine(), friction=1.0, temperature=0.5)
    reference = HermiteKinetic(
        model, fp.phase_space_grid((-np.pi, np.pi), (-4, 4), (33, 40), periodic_theta=True), n_hermite=32
    )
    slowest = reference.eigenvalues(1)[0]
    law_errors, rate_errors = [], []
    for cells in (48, 96):
        grid = fp.phase_space_grid((-np.pi, np.pi), (-3.6, 3.6), (cells, cells), periodic_theta=True)
        p, value = finite_volume(model, grid)
        hermite = HermiteKinetic(model, grid, n_hermite=8, theta_scheme="fd2").stationary()
        law_errors.append(np.max(np.abs(p - hermite)) / hermite.max())
        rate_errors.append(min(abs(value - slowest), abs(value - np.conj(slowest))) / abs(slowest))
    assert 3.3 < law_errors[0] / law_errors[1] < 5
    assert 3.3 < rate_errors[0] / rate_errors[1] < 5
    assert rate_errors[1] < 2e-3  # measured 8.8e-4


def test_finite_volumes_converge_to_the_hermite_marginal_with_specular_walls():
    # double well with specular walls, T = 0.25: the FV theta-marginal against Hermite fd2 (exact
    # exp(-U/T) at the centres) falls by ~4 from 48^2 to 96^2 (measured 0.052 -> 0.0136: 3.86)
    T = 0.25
    model = fp.UnderdampedLangevin(fp.landscapes.double_well(), friction=1.0, temperature=T)
    errors = []
    for cells in (48, 96):
        grid = fp.phase_space_grid((-1.6, 1.6), (-2.5, 2.5), (cells, cells))
        p, _ = finite_volume(model, grid)
        marginal = p.sum(axis=1) * grid.spacing[1]
        hermite = HermiteKinetic(model, grid, n_hermite=4).stationary_marginal()
        errors.append(np.max(np.abs(marginal - hermite)) / hermite.max())
    assert 3.3 < errors[0] / errors[1] < 5


# ------------------------------------------------------------------ refusals
@pytest.fixture
def langevin():
    return fp.UnderdampedLangevin(fp.landscapes.double_well(), friction=1.0, temperature=0.5)


@pytest.fixture
def walls():
    return fp.phase_space_grid((-1.6, 1.6), (-4, 4), (32, 32))


def test_absorbing_walls_and_sets_are_refused_naming_the_kinetic_scheme(langevin, walls):
    for kwargs in (
        {"boundary": "absorbing"},
        {"boundary": {"theta": ("reflecting", "absorbing")}},
        {"absorbing": lambda theta, v: theta > 0},
    ):
        with pytest.raises(ValueError, match="half-range.*discretization='kinetic'"):
            HermiteKinetic(langevin, walls, **kwargs)


def test_unsupported_models_are_refused(walls):
    U = fp.landscapes.double_well()
    with pytest.raises(TypeError, match="kinetic model"):
        HermiteKinetic(fp.Langevin(U, temperature=0.5), walls)
    with pytest.raises(ValueError, match="isotropic"):
        HermiteKinetic(fp.MomentumSGD(U, lr=0.1, batch_size=4, momentum=0.9, noise="hessian"), walls)
    with pytest.raises(ValueError, match="schedules"):
        HermiteKinetic(fp.UnderdampedLangevin(U, friction=1.0, temperature=lambda t: 0.5), walls)
    planar = fp.UnderdampedLangevin(fp.landscapes.double_well_2d(), friction=1.0, temperature=0.5)
    grid4 = fp.phase_space_grid([(-2, 2), (-2, 2)], [(-3, 3), (-3, 3)], 4)
    with pytest.raises(ValueError, match="1-D theta"):
        HermiteKinetic(planar, grid4)


def test_bad_arguments_are_refused(langevin, walls):
    with pytest.raises(ValueError, match="n_hermite"):
        HermiteKinetic(langevin, walls, n_hermite=1)
    with pytest.raises(ValueError, match="periodic theta axis.*'fd2'"):
        HermiteKinetic(langevin, walls, theta_scheme="fourier")
    even = fp.phase_space_grid((-np.pi, np.pi), (-4, 4), (32, 32), periodic_theta=True)
    with pytest.raises(ValueError, match="odd number of theta cells.*use 33"):
        HermiteKinetic(langevin, even, theta_scheme="fourier")
    with pytest.raises(ValueError, match="theta_scheme"):
        HermiteKinetic(langevin, walls, theta_scheme="chebyshev")
    with pytest.raises(ValueError, match="positive integer"):
        HermiteKinetic(langevin, walls, n_hermite=8).eigenvalues(0)


def test_low_friction_with_too_few_modes_is_refused():
    # at gamma = 0.1 the expansion converges slowly (error 2.8e-3 at N = 16 against N = 80)
    model = fp.UnderdampedLangevin(fp.landscapes.periodic_cosine(), friction=0.1, temperature=0.5)
    grid = fp.phase_space_grid((-np.pi, np.pi), (-4, 4), (33, 32), periodic_theta=True)
    with pytest.raises(RuntimeError, match="increase n_hermite"):
        HermiteKinetic(model, grid, n_hermite=16).eigenvalues(1)


def test_initial_laws_the_modes_cannot_hold_are_refused(langevin):
    grid = fp.phase_space_grid((-1.6, 1.6), (-4, 4), (48, 64))
    solver = HermiteKinetic(langevin, grid, n_hermite=16)
    theta, v = grid.mesh()
    narrow_in_v = np.exp(-0.5 * (theta**2 / 0.3**2 + (v - 1) ** 2 / 0.05**2))
    with pytest.raises(ValueError, match="p0: 16 Hermite modes miss"):
        solver.evolve(narrow_in_v, [1.0])
    drifting_into_the_wall = np.exp(-0.5 * ((theta - 1.5) ** 2 / 0.2**2 + (v - 0.5) ** 2 / 0.7**2))
    with pytest.raises(ValueError, match="specular wall"):
        solver.evolve(drifting_into_the_wall, [1.0])


def test_a_velocity_box_that_cuts_the_maxwellian_warns_with_the_mass(langevin):
    grid = fp.phase_space_grid((-1.6, 1.6), (-1.5, 1.5), (32, 32))  # v_th = 0.71: 2.1 v_th
    with pytest.warns(UserWarning, match=r"leaves out 3\.4e-02 of the Maxwellian"):
        HermiteKinetic(langevin, grid, n_hermite=4).stationary()
