"""The finite-volume generator (discretize/fv.py): rate-matrix properties, killing at absorbing
faces, the monotonicity report for cross-diffusion, and measured convergence orders in space and
time against closed forms."""

import numpy as np
import pytest

import fpsolve as fp
from fpsolve.discretize import fv


def _langevin(f, T):
    return fp.Langevin(fp.Landscape(f), temperature=T)


# --- the Bernoulli function B(z) = z / (e^z - 1) ---------------------------------------------------
def test_bernoulli_identities_and_extremes():
    z = np.array([-800.0, -30.0, -1.0, -1e-7, 0.0, 1e-7, 1.0, 30.0, 800.0])
    b = fv.bernoulli(z)
    assert np.all(np.isfinite(b)) and np.all(b >= 0)
    # B(-z) - B(z) = z exactly in real arithmetic; the series branch near 0 is accurate to z^3
    assert np.allclose(fv.bernoulli(-z) - b, z, rtol=1e-14, atol=1e-15)
    assert fv.bernoulli(np.array([0.0]))[0] == 1.0
    assert np.isclose(fv.bernoulli(np.array([1.0]))[0], 1.0 / (np.e - 1.0), rtol=1e-15)


# --- rate-matrix properties ------------------------------------------------------------------------
@pytest.mark.parametrize("periodic", [False, True])
def test_generator_is_a_rate_matrix_in_a_closed_box(periodic):
    grid = fp.Grid([(0, 2 * np.pi), (0, 2 * np.pi)], [30, 24], periodic=periodic)
    model = _langevin(lambda x, y: np.cos(x) + 0.5 * np.sin(x + y), 0.7)
    Q = fp.FokkerPlanck(model, grid).generator.matrix.tocoo()
    off = Q.row != Q.col
    assert Q.data[off].min() >= 0.0  # non-negative rates
    scale = np.abs(Q.diagonal()).max()
    # zero row sums up to the round-off of adding a handful of rates of size `scale`
    assert np.abs(np.asarray(Q.sum(axis=1))).max() <= 1e-13 * scale
    # rates only between face neighbours: 4 per cell without cross-diffusion
    assert off.sum() <= 4 * grid.size


def test_killing_only_at_absorbing_faces():
    grid = fp.Grid([(-2, 2), (-1, 1)], [40, 20])
    model = _langevin(lambda x, y: (x**2 - 1) ** 2 + y**2, 0.5)
    fpe = fp.FokkerPlanck(model, grid, boundary={"x": ("reflecting", "absorbing")})
    gen = fpe.generator
    rows = -np.asarray(gen.matrix.sum(axis=1)).reshape(grid.shape)
    scale = np.abs(gen.matrix.diagonal()).max()
    assert gen.has_killing
    assert np.abs(rows[:-1]).max() <= 1e-13 * scale  # no killing away from the face x = 2
    # every cell next to the absorbing face is killed at a positive rate, ~ 2 D / h^2 B(-Pe)
    assert np.all(rows[-1] > 0.1 * fpe.model.temperature / grid.spacing[0] ** 2)
    off = gen.matrix.tocoo()
    assert off.data[off.row != off.col].min() >= 0.0


def test_absorbing_face_mass_decreases_monotonically():
    grid = fp.Grid([(-1, 1)], [60])
    fpe = fp.FokkerPlanck(_langevin(lambda x: 0 * x, 0.5), grid, boundary="absorbing")
    sol = fpe.evolve(fp.gaussian(grid, mean=0.0, std=0.2), np.linspace(0, 1, 6), method="exponential")
    assert np.all(np.diff(sol.mass) < 0) and sol.p.min() >= -1e-14 * sol.p.max()
    # pure diffusion on (-1, 1) with D = 1/2, absorbing walls: the survival decays at the rate of
    # the first Dirichlet eigenvalue D (pi/2)^2 (the density relaxes onto the first mode quickly)
    rate = -np.log(sol.mass[-1] / sol.mass[-2]) / 0.2
    assert rate == pytest.approx(0.5 * (np.pi / 2) ** 2, rel=2e-3)  # O(h^2): measured 5.3e-4 at h = 1/30


# --- cross-diffusion and the M-matrix property ---------------------------------------------------
def test_strong_cross_diffusion_is_reported_and_warns():
    # constant D with D_12 close to D_11 = D_22, on cells 5x longer in x than in y: the oriented
    # cross stencil needs D_11/h_x^2 >= |D_12|/(h_x h_y), which fails (1/0.04 < 0.9/0.008)
    model = fp.Diffusion(lambda x, y: (-x, -y), [[1.0, 0.9], [0.9, 1.0]], ndim=2)
    grid = fp.Grid([(-2, 2), (-2, 2)], [20, 100])
    with pytest.warns(UserWarning, match="M-matrix"):
        fpe = fp.FokkerPlanck(model, grid)
    report = fpe.diagnostics["monotonicity"]
    assert not report.is_m_matrix and 0.0 < report.share < 1.0 and report.worst < 0
    # the report describes the raw scheme: the share is a direct count of its negative rates
    raw = fv.assemble(model, grid, limit=False).generator.tocoo()
    rates = raw.data[(raw.row != raw.col) & (raw.data != 0)]
    assert report.negative_links == int((rates < 0).sum()) and report.links == rates.size
    # the generator that is used is limited back to a rate matrix (fv.assemble(limit=True)):
    # off-diagonals >= 0 up to the round-off of the cancellation (measured -7e-15 of 1250),
    # row sums zero
    Q = fpe.generator.matrix.tocoo()
    scale = np.abs(Q.diagonal()).max()
    assert Q.data[Q.row != Q.col].min() >= -1e-14 * scale
    assert np.abs(np.asarray(Q.sum(axis=1))).max() <= 1e-13 * scale
    # and the same tensor on square cells is an M-matrix (|D_12| < D_11 h_y / h_x = 1)
    square = fp.FokkerPlanck(model, fp.Grid([(-2, 2), (-2, 2)], [40, 40]))
    assert square.diagnostics["monotonicity"].is_m_matrix


# --- convergence orders ----------------------------------------------------------------------------
def _ou_1d_exact(x, t, m0, s0, T):
    """Langevin on U = x^2/2 from N(m0, s0^2): N(m0 e^-t, s0^2 e^-2t + T (1 - e^-2t))."""
    m = m0 * np.exp(-t)
    v = s0**2 * np.exp(-2 * t) + T * (1 - np.exp(-2 * t))
    return np.exp(-((x - m) ** 2) / (2 * v)) / np.sqrt(2 * np.pi * v)


def test_spatial_convergence_is_second_order_against_closed_form():
    T, m0, s0, t = 0.3, 1.0, 0.3, 0.5
    errors = []
    for n in (40, 80, 160):
        grid = fp.Grid([(-3.5, 3.5)], [n])
        fpe = fp.FokkerPlanck(_langevin(lambda x: 0.5 * x**2, T), grid)
        sol = fpe.evolve(fp.gaussian(grid, mean=m0, std=s0), [0.0, t], method="exponential")
        exact = _ou_1d_exact(grid.centers[0], t, m0, s0, T)
        errors.append(np.abs(sol.p[-1] - exact).sum() * grid.cell_volume)
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    # measured L1 errors 1.32e-2, 3.28e-3, 8.19e-4 (orders 2.01, 2.00)
    assert errors[-1] < 1.2e-3
    assert np.all((orders > 1.85) & (orders < 2.15)), (errors, orders)


def test_time_convergence_of_trbdf2_is_second_order():
    grid = fp.Grid([(-2.5, 2.5)], [200])
    fpe = fp.FokkerPlanck(_langevin(lambda x: (x**2 - 1) ** 2, 0.5), grid)
    p0 = fp.gaussian(grid, mean=-1.0, std=0.2)
    exact_in_time = fpe.evolve(p0, [0.0, 1.0], method="exponential").p[-1]
    errors = []
    for dt in (0.04, 0.02, 0.01):
        p = fpe.evolve(p0, [0.0, 1.0], method="trbdf2", dt=dt).p[-1]
        errors.append(np.abs(p - exact_in_time).sum() * grid.cell_volume)
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    # the exponential reference is exact in time to ~1e-14 on the same grid, far below these
    # errors (measured 2.5e-5, 6.2e-6, 1.6e-6); TR-BDF2 is second order
    assert np.all((orders > 1.8) & (orders < 2.2)), (errors, orders)


def test_absorbing_boundary_is_second_order():
    """Pure diffusion (D = 1) on (0, 1), reflecting at 0 and absorbing at 1: the slowest decay
    rate is the first eigenvalue of -d^2/dx^2 with u'(0) = 0, u(1) = 0, namely (pi/2)^2."""
    rates = []
    for n in (20, 40, 80):
        grid = fp.Grid([(0, 1)], [n])
        fpe = fp.FokkerPlanck(_langevin(lambda x: 0 * x, 1.0), grid, boundary=[("reflecting", "absorbing")])
        rates.append(fpe.relaxation_rates(1)[0])
    errors = np.abs(np.array(rates) - (np.pi / 2) ** 2)
    orders = np.log2(errors[:-1] / errors[1:])
    # the half-cell fitted flux to p = 0 on the face is second order (fv.py docstring):
    # measured errors 1.27e-3, 3.17e-4, 7.93e-5
    assert np.all((orders > 1.8) & (orders < 2.2)), (errors, orders)
