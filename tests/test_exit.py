"""Mean exit times, committors and exit locations against closed forms and seeded Monte Carlo."""

import numpy as np
import pytest
from scipy import integrate

import fpsolve as fp
from fpsolve import landscapes
from fpsolve.analysis import committor, exit_locations, mean_exit_time

U = fp.Landscape(lambda x: (x * x - 1) ** 2, lambda x: (4 * x * (x * x - 1),), ndim=1)


def _quad(f, a, b):
    points = [p for p in (-1.0, 0.0, 1.0) if a < p < b]
    return integrate.quad(f, a, b, points=points or None, limit=400, epsabs=0, epsrel=1e-13)[0]


def exact_reflect_absorb(x, r, s, T):
    """tau(x) = (1/T) int_x^s e^{U(y)/T} int_r^y e^{-U(z)/T} dz dy (Gardiner ch. 5), reflecting
    at r, absorbing at s."""
    inner = lambda y: _quad(lambda z: np.exp(-(U(z) - U(y)) / T), r, y)  # noqa: E731
    return _quad(inner, x, s) / T


@pytest.mark.parametrize("T", [0.5, 0.25, 0.125])
def test_exit_time_matches_double_integral_second_order(T):
    # Reflecting at -2.5, absorbing box face at 0 (the face carries p = 0: second order). Grids
    # refined by 3 share cell centres; the start x0 is one, so no interpolation error enters.
    errors = []
    x0 = fp.Grid([(-2.5, 0.0)], [1500]).centers[0][900]  # -0.99917
    exact = exact_reflect_absorb(x0, -2.5, 0.0, T)
    for n in (1500, 4500):
        grid = fp.Grid([(-2.5, 0.0)], [n])
        tau = mean_exit_time(fp.Langevin(U, T), grid, None, boundary=("reflecting", "absorbing"))
        errors.append(abs(tau.values[grid.cell_index(x0)] / exact - 1))
    order = np.log(errors[0] / errors[1]) / np.log(3)
    # at least second order: the curvature-corrected fitted flux has no O(h^2) bulk term, what is
    # left is the half-cell exit face's O(h^2) (orders 2.0 at T = 0.5 and 0.25; at T = 0.125 the
    # face term is negligible and the order is 3.9: errors 5.2e-9, 7.5e-11)
    assert order >= 1.9, (errors, order)
    assert errors[1] <= 1e-6, errors  # 1e-6 reached on the finest grid


def test_exit_time_both_ends_absorbing():
    # tau(x) = (1/T)[pi_b(x) int_a^b G - int_a^x G], G(y) = int_a^y e^{(U(y)-U(z))/T} dz; both box
    # faces absorbing. Second order: 4e-6 expected at n = 2000 from the measured constant.
    T, a, b, x0 = 0.5, -1.8, 1.2, -1.0
    G = lambda y: _quad(lambda z: np.exp((U(y) - U(z)) / T), a, y)  # noqa: E731
    pi_b = _quad(lambda y: np.exp(U(y) / T), a, x0) / _quad(lambda y: np.exp(U(y) / T), a, b)
    exact = (pi_b * _quad(G, a, b) - _quad(G, a, x0)) / T
    grid = fp.Grid([(a, b)], [2000])  # h = 1.5e-3; x0 = -1.0 is a face: interpolate (O(h^2))
    tau = mean_exit_time(fp.Langevin(U, T), grid, None, boundary="absorbing", moments=2)
    assert tau(x0) == pytest.approx(exact, rel=2e-5)
    assert np.all(tau.variance[1:-1] > 0)


def test_hessian_noise_exit_time_matches_scale_function():
    # SGD with Hessian noise: D(x) = lr U''(x) / (2B) (U'' > 1.8 on the domain, so the floor is
    # inactive and D is smooth). tau(x) = int_x^s s'(y) int_r^y m(z) dz dy with
    # s' = exp(int U'/D), m = 1/(D s').
    lr, B, r, s = 0.5, 2.0, -2.2, -0.7
    D = lambda x: lr * (12 * x * x - 4) / (2 * B)  # noqa: E731
    phi = lambda x: _quad(lambda y: 4 * y * (y * y - 1) / D(y), -1.0, x)  # noqa: E731
    x0 = fp.Grid([(r, s)], [500]).centers[0][200]  # a centre of both grids (refined by 3)
    inner = lambda y: _quad(lambda z: np.exp(phi(y) - phi(z)) / D(z), r, y)  # noqa: E731
    exact = _quad(inner, x0, s)
    model = fp.SGD(U, lr=lr, batch_size=B, noise="hessian")
    errors = []
    for n in (500, 1500):
        grid = fp.Grid([(r, s)], [n])
        tau = mean_exit_time(model, grid, None, boundary=("reflecting", "absorbing"))
        errors.append(abs(tau.values[grid.cell_index(x0)] / exact - 1))
        assert tau.iterations.values[grid.cell_index(x0)] == pytest.approx(tau.values[grid.cell_index(x0)] / lr)
    assert errors[1] < 1e-5, errors  # square-root-approximation fluxes: second order
    assert 1.9 <= np.log(errors[0] / errors[1]) / np.log(3) <= 2.1, errors


def test_committor_matches_closed_form():
    # Targets given as predicates end where the predicate changes sign, xa = -1 and xb = 1 (not
    # at the first target cell centre): q(x) = int_xa^x e^{U/T} / int_xa^xb e^{U/T} (Gardiner
    # ch. 5). The grid's faces avoid +-1 (h = 4/810), so the cut-link placement is exercised.
    T = 0.3
    grid = fp.Grid([(-2.0, 2.0)], [810])
    q = committor(fp.Langevin(U, T), grid, a=lambda x: x < -1, b=lambda x: x > 1)
    xa, xb = -1.0, 1.0
    norm = _quad(lambda y: np.exp(U(y) / T), xa, xb)
    for x0 in grid.centers[0][[250, 405, 560]]:  # x = -0.76, 0.0025, 0.77
        exact = _quad(lambda y: np.exp(U(y) / T), xa, x0) / norm
        assert q.values[grid.cell_index(x0)] == pytest.approx(exact, rel=2e-4)


def test_decoupled_2d_equals_1d():
    # U = f(x) + g(y), isotropic noise, exit through x = 0: the 2-D discrete solution is the 1-D
    # one exactly (the y-part of Q annihilates functions of x alone); only round-off differs.
    U2 = landscapes.double_well_2d(stiffness=2.0)
    xs, ys = (-2.5, 0.0), (-1.5, 1.5)
    grid1, grid2 = fp.Grid([xs], [200]), fp.Grid([xs, ys], [200, 60])
    t1 = mean_exit_time(fp.Langevin(U, 0.3), grid1, None, boundary=("reflecting", "absorbing"))
    t2 = mean_exit_time(fp.Langevin(U2, 0.3), grid2, None, boundary={"x": ("reflecting", "absorbing")})
    rel = np.abs(t2.values / t1.values[:, None] - 1).max()
    assert rel < 1e-10, rel  # measured ~1e-13


def test_rotated_double_well_matches_monte_carlo():
    # Rotated double well (its axes are not the exit line x = 0, so nothing decouples), T = 0.5,
    # start at the minimum. Euler-Maruyama with a Brownian-bridge crossing test (bias O(dt)):
    # with dt = 1e-3 the bias is ~1e-3 relative, far inside the 4-sigma band of 4000 paths (~6 %).
    T = 0.5
    Ur = landscapes.rotated_double_well()
    start = Ur.minima[0]
    grid = fp.Grid([(-2.5, 2.5), (-2.5, 2.5)], [201, 201])  # a column of centres on x = 0
    tau = mean_exit_time(fp.Langevin(Ur, T), grid, lambda x, y: x < -1e-12)
    pde = tau(*start)
    rng = np.random.default_rng(20240607)
    n, dt = 4000, 1e-3
    x = np.full(n, start[0])
    y = np.full(n, start[1])
    times = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    t = 0.0
    while alive.any() and t < 200:
        idx = np.flatnonzero(alive)
        gx, gy = Ur.grad(x[idx], y[idx])
        nx = x[idx] - gx * dt + np.sqrt(2 * T * dt) * rng.standard_normal(idx.size)
        ny = y[idx] - gy * dt + np.sqrt(2 * T * dt) * rng.standard_normal(idx.size)
        t += dt
        crossed = nx >= 0
        both = ~crossed
        p_bridge = np.exp(-x[idx][both] * nx[both] / (T * dt))  # P(max > 0 | both ends < 0)
        crossed[both] = rng.random(both.sum()) < p_bridge
        x[idx], y[idx] = nx, ny
        times[idx[crossed]] = t
        alive[idx[crossed]] = False
    mc, se = times.mean(), times.std() / np.sqrt(n)
    assert abs(pde - mc) < 4 * se, (pde, mc, se)


def test_exit_locations_sum_to_one_and_split_like_committor():
    # Leaving (-1.5, 0.5) from -1: through the left exterior cells or the right ones; the right
    # share is the committor of the right set against the left one.
    model, grid = fp.Langevin(U, 0.4), fp.Grid([(-2.0, 2.0)], [400])
    domain = lambda x: (x > -1.5) & (x < 0.5)  # noqa: E731
    loc = exit_locations(model, grid, domain, start=-0.995)
    assert loc.total == pytest.approx(1.0, abs=1e-10)
    right = loc.cells[grid.centers[0] > 0].sum()
    q = committor(model, grid, a=lambda x: x <= -1.5, b=lambda x: x >= 0.5)
    assert right == pytest.approx(q.values[grid.cell_index(-0.995)], rel=1e-9)
    faces = exit_locations(model, fp.Grid([(-1.5, 0.5)], [200]), None, start=-0.995, boundary="absorbing")
    assert faces.total == pytest.approx(1.0, abs=1e-10) and faces.through_faces == pytest.approx(1.0)


def test_bad_input_is_named():
    model, grid = fp.Langevin(U, 0.3), fp.Grid([(-2.0, 2.0)], [100])
    with pytest.raises(ValueError, match="domain: .*empty"):
        mean_exit_time(model, grid, lambda x: x > 5)
    with pytest.raises(ValueError, match="infinite"):
        mean_exit_time(model, grid, lambda x: x < 10)
    with pytest.raises(ValueError, match="infinite"):  # an island with no way out: U only pushes in
        mean_exit_time(model, grid, None)
    with pytest.raises(ValueError, match="start"):
        exit_locations(model, grid, lambda x: x < 0, start=0.5)
    with pytest.raises(ValueError, match="start"):
        exit_locations(model, grid, lambda x: x < 0, start=-3.0)
