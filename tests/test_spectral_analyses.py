"""Mean exit times, their moments and committors by Chebyshev collocation, against references that no
fpsolve solver made: the 1-D double integral (Gardiner ch. 5, REFERENCES.md) by mpmath quadrature,
the iterated integrals of the second moment by composite Simpson quadrature on 2e5 points, the
committor's closed-form integral, and 2-D decoupled landscapes against the 1-D formula."""

import functools
import warnings

import mpmath
import numpy as np
import pytest
from scipy.integrate import cumulative_simpson, quad

import fpsolve as fp

T = 0.5
BOX = (-2.5, 2.5)


def double_well(x):
    return (x**2 - 1) ** 2


@functools.cache
def exit_time_reference(x0, temperature, a=BOX[0], s=0.0, U=double_well, breaks=(-1.0,)):
    """tau(x0) = (1/T) int_x0^s e^{U(y)/T} int_a^y e^{-U(z)/T} dz dy, reflecting at a, exit at s,
    by nested adaptive quadrature (scipy quad at epsrel 1e-13, break points at the critical
    points of U; it agrees with mpmath at 30 digits to 2e-15 on the double well at T = 0.5)."""

    def split(lo, hi):
        return [b for b in breaks if lo < b < hi] or None

    def inner(y):
        return quad(lambda z: np.exp(-U(z) / temperature), a, y, points=split(a, y), epsabs=0, epsrel=1e-13, limit=200)[
            0
        ]

    outer = quad(
        lambda y: np.exp(U(y) / temperature) * inner(y), x0, s, points=split(x0, s), epsabs=0, epsrel=1e-13, limit=200
    )[0]
    return outer / temperature


def test_reference_quadrature_agrees_with_mpmath():
    # the reference itself, against 30-digit mpmath quadrature at one point
    mpmath.mp.dps = 30
    inner = lambda y: mpmath.quad(lambda z: mpmath.exp(-double_well(z) / T), [BOX[0], -1, y])
    exact = mpmath.quad(lambda y: mpmath.exp(double_well(y) / T) * inner(y), [-0.5, 0]) / T
    assert abs(exit_time_reference(-0.5, T) / float(exact) - 1) < 1e-12


def moments_reference(temperature, a=BOX[0], s=0.0, points=200_001):
    """tau_1, tau_2 on a fine uniform grid of [a, s] from the iterated integrals
    tau_n(x) = (n/T) int_x^s e^{U(y)/T} int_a^y e^{-U(z)/T} tau_{n-1}(z) dz dy (tau_0 = 1),
    by cumulative Simpson quadrature (fourth order; h = 1.25e-5 gives ~1e-13)."""
    x = np.linspace(a, s, points)
    # shift U by its minimum on the interval so that neither exponential overflows
    u = double_well(x) / temperature
    previous, out = np.ones_like(x), []
    for n in (1, 2):
        w = cumulative_simpson(np.exp(-u) * previous, x=x, initial=0.0)
        outer = cumulative_simpson(np.exp(u) * w, x=x, initial=0.0)
        previous = n / temperature * (outer[-1] - outer)
        out.append(previous)
    return x, out


@pytest.fixture(scope="module")
def model():
    return fp.Langevin(fp.landscapes.double_well(), temperature=T)


def test_exit_time_matches_double_integral_to_1e10(model):
    grid = fp.Grid([BOX], [96])
    tau = fp.mean_exit_time(model, grid, lambda x: x < 0, discretization="spectral")
    for x0 in (-2.0, -1.0, -0.3):
        reference = exit_time_reference(x0, T)
        # the target: 1e-10 relative (measured 3e-15 at 96 points)
        assert abs(tau(x0) / reference - 1) < 1e-10
    # the values at the cell centres are the same interpolant, 0 beyond the exit point
    x = grid.centers[0]
    assert np.all(tau.values[x > 0] == 0.0)
    assert abs(tau.values[10] / tau(x[10]) - 1) < 1e-14


def test_exit_time_converges_exponentially(model):
    reference = exit_time_reference(-1.0, T)
    errors, tails = [], []
    for n in (16, 32, 48, 64):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the coarse ones warn that they are not resolved
            tau = fp.mean_exit_time(model, fp.Grid([BOX], [n]), lambda x: x < 0, discretization="spectral")
        errors.append(abs(tau(-1.0) / reference - 1))
        tails.append(tau.info["tail"])
    # measured errors 1.1e-4, 1.9e-7, 1.3e-9, 2.5e-12: each 16 more points gain a factor > 100
    # (geometric in n: exponential convergence; an order-p method would gain 2^p, 1.5^p, 1.3^p)
    gains = np.array(errors[:-1]) / np.array(errors[1:])
    assert np.all(gains > 100), errors
    # the coefficient tail falls geometrically too (3e-5, 7e-7, 9e-9, 8e-11) and bounds the error
    assert np.all(np.array(tails[:-1]) / np.array(tails[1:]) > 40)
    assert np.all(np.array(errors) < np.array(tails) * 10)


def test_second_moment_matches_iterated_integrals(model):
    grid = fp.Grid([BOX], [96])
    tau = fp.mean_exit_time(model, grid, lambda x: x < 0, discretization="spectral", moments=2)
    x, (tau1, tau2) = moments_reference(T)
    for x0 in (-2.2, -1.0, -0.5):
        i = np.searchsorted(x, x0)
        # Simpson on 2e5 points is accurate to ~1e-12 (it reproduces tau_1 from mpmath to 4e-14)
        assert abs(tau.moment(1)(x[i]) / tau1[i] - 1) < 1e-10
        assert abs(tau.moment(2)(x[i]) / tau2[i] - 1) < 1e-10
    # exit times are close to exponential: Var ~ tau^2 (here 0.91 tau^2 at the minimum)
    i = np.argmin(abs(grid.centers[0] + 1))
    assert 0.8 < tau.variance[i] / tau.values[i] ** 2 < 1.0


def test_committor_matches_closed_form(model):
    grid = fp.Grid([BOX], [80])
    q = fp.committor(model, grid, a=lambda x: x < -1, b=lambda x: x > 1, discretization="spectral")

    def s(x):  # int_{-1}^x e^{U/T}
        return quad(lambda y: np.exp(double_well(y) / T), -1, x, epsabs=0, epsrel=1e-13)[0]

    total = s(1.0)
    for x0 in (-0.9, -0.2, 0.0, 0.6):
        # scipy quad at epsrel 1e-13 on a smooth integrand; the committor is O(1) here
        assert abs(q(x0) - s(x0) / total) < 1e-11
    centres = grid.centers[0]
    assert np.all(q.values[centres < -1] == 0.0) and np.all(q.values[centres > 1] == 1.0)
    # 2-D, decoupled: q(x, y) is the 1-D committor for every y (reflecting walls in y)
    model2 = fp.Langevin(fp.Landscape(lambda x, y: (x**2 - 1) ** 2 + 2 * y**2), temperature=T)
    q2 = fp.committor(
        model2,
        fp.Grid([BOX, (-1.5, 1.5)], [48, 8]),
        a=lambda x, y: x < -1,
        b=lambda x, y: x > 1,
        discretization="spectral",
    )
    for x0, y0 in ((-0.2, 0.0), (0.6, 1.3)):
        assert abs(q2(x0, y0) - s(x0) / total) < 1e-10  # 48 points on [-1, 1] (measured 1e-13)


def test_two_dimensional_decoupled_exit_time_equals_1d(model):
    U = fp.Landscape(lambda x, y: (x**2 - 1) ** 2 + 2 * y**2)
    model2 = fp.Langevin(U, temperature=T)
    grid = fp.Grid([BOX, (-1.5, 1.5)], [56, 8])
    tau = fp.mean_exit_time(model2, grid, lambda x, y: x < 0, discretization="spectral")
    reference = exit_time_reference(-1.0, T)
    for y in (-1.2, 0.0, 0.7):
        # U = f(x) + g(y): the exit time through x = 0 is the 1-D one (REFERENCES.md); the tensor
        # collocation with 56 points in x gives the 1-D accuracy at 56 points, ~1e-10
        assert abs(tau(-1.0, y) / reference - 1) < 1e-8
    # a rectangle inside the box: exits on x = 0 and on y = +-1 (absorbing sides), reflecting at
    # x = -2.5. Where reflecting and absorbing sides meet the solution has corner singularities,
    # so convergence is algebraic there (the check warns); the y-exits can only shorten tau
    with pytest.warns(UserWarning, match="not resolved to spectral accuracy"):
        box = fp.mean_exit_time(
            model2,
            fp.Grid([BOX, (-1.5, 1.5)], [32, 20]),
            lambda x, y: (x < 0) & (np.abs(y) < 1),
            discretization="spectral",
        )
    # the edges x = 0 and y = +-1 found by bisection to round-off of the box size
    assert np.allclose(box.info["pieces"][0][0].bounds, ((-2.5, 0.0), (-1.0, 1.0)), rtol=0, atol=1e-15)
    assert 0 < box(-1.0, 0.0) < 0.7 * tau(-1.0, 0.0)
    assert box(-1.0, 0.999) < 0.01 * box(-1.0, 0.0)


def test_state_dependent_diffusion_matches_scale_and_speed_formula():
    # dX = b dt + sqrt(2 D(X)) dW with b = -x^3 + x (not a gradient of U/D), D = 0.3 (1 + 0.5 sin x):
    # tau(x) = int_x^s s'(y) int_a^y m(z) dz dy, s' = exp(-int_a^y b/D), m = 1/(D s')
    # (REFERENCES.md, "Scale and speed"), by nested scipy quad at epsrel 1e-12
    def b(x):
        return -(x**3) + x

    def D(x):
        return 0.3 * (1 + 0.5 * np.sin(x))

    model = fp.Diffusion(lambda x: b(x), lambda x: D(x)[None, None], ndim=1)
    a, s = -2.0, 0.5

    def log_scale(y):
        return -quad(lambda z: b(z) / D(z), a, y, epsabs=0, epsrel=1e-13)[0]

    def outer(y):
        inner = quad(lambda z: np.exp(log_scale(y) - log_scale(z)) / D(z), a, y, epsabs=0, epsrel=1e-12)[0]
        return inner

    reference = quad(outer, -1.0, s, epsabs=0, epsrel=1e-12)[0]
    tau = fp.mean_exit_time(model, fp.Grid([(a, 2.0)], [64]), lambda x: x < s, discretization="spectral")
    assert abs(tau(-1.0) / reference - 1) < 1e-10  # measured 1.2e-15 with 64 points, 1.5e-13 with 48


def test_domain_boundary_is_found_to_round_off(model):
    # the predicate's sign change at x = 0.3 is bisected to adjacent doubles: the collocation
    # points end there, not at a cell centre or face
    grid = fp.Grid([BOX], [80])
    tau = fp.mean_exit_time(model, grid, lambda x: x < 0.3, discretization="spectral")
    ((bounds,),) = [box.bounds for box, _ in tau.info["pieces"]]
    assert bounds[0] == -2.5 and abs(bounds[1] - 0.3) < 1e-15
    assert abs(tau(-1.0) / exit_time_reference(-1.0, T, s=0.3) - 1) < 1e-10


def test_high_barrier_reaches_round_off_floor():
    # dU/T = 20: the exact tau(-1) = 2.748e8. The 1-D solve (first-order form for tau') reaches
    # 1.3e-8 at 128 points; 1e-10 is not reached: the round-off floor is ~eps e^{dU/T} / 10
    # (docs/spectral.md), while dU/T = 10 gives 2e-12
    model = fp.Langevin(fp.landscapes.double_well(), temperature=0.05)
    tau = fp.mean_exit_time(model, fp.Grid([BOX], [128]), lambda x: x < 0, discretization="spectral")
    assert abs(tau(-1.0) / exit_time_reference(-1.0, 0.05) - 1) < 5e-8
    model10 = fp.Langevin(fp.landscapes.double_well(), temperature=0.1)
    tau10 = fp.mean_exit_time(model10, fp.Grid([BOX], [96]), lambda x: x < 0, discretization="spectral")
    assert abs(tau10(-1.0) / exit_time_reference(-1.0, 0.1) - 1) < 2e-11


def test_start_next_to_the_exit(model):
    # the interpolant near the absorbing end: tau(x) ~ tau'(0) |x| is resolved to relative 1e-8
    # even 1e-6 from the exit (the points cluster at the ends; measured 2e-11 at -1e-6)
    grid = fp.Grid([BOX], [96])
    tau = fp.mean_exit_time(model, grid, lambda x: x < 0, discretization="spectral")
    for x0 in (-1e-3, -1e-6):
        assert abs(tau(x0) / exit_time_reference(x0, T) - 1) < 1e-8


def test_kink_converges_algebraically_and_warns():
    # U = |x| (a kink at 0 inside the domain): the drift jumps there, and collocation converges
    # only algebraically (about 1/n) although tau itself is C^1; the drift's own Chebyshev
    # coefficients (decaying like 1/k) show it: the solve warns, and refuses when that tail, or
    # the change between the solves on n and 7n/8 points, exceeds a percent
    U = fp.Landscape(lambda x: np.abs(x), grad=lambda x: np.sign(x)[None])
    model = fp.Langevin(U, temperature=0.5)
    a, s = -3.0, 1.0
    reference = exit_time_reference(-0.5, 0.5, a=a, s=s, U=abs, breaks=(0.0,))
    for n in (192, 384):
        with pytest.warns(UserWarning, match="drift or diffusion is not smooth"):
            tau = fp.mean_exit_time(model, fp.Grid([(a, 3.0)], [n]), lambda x: x < s, discretization="spectral")
        error = abs(tau(-0.5) / reference - 1)
        # measured 1.0e-2 at 192 points and 5.1e-3 at 384 (about 1/n): nowhere near spectral
        # accuracy, and of the size the warning announces (drift tail 9.6e-3, 4.8e-3)
        assert 1e-4 < error < 5 * tau.info["coefficient_tail"]
    for n in (96, 256):
        # 96: the drift's tail is 1.9e-2; 256: the solve on 224 points differs by 2.4e-2
        with pytest.raises(ValueError, match="discretization='fv'"):
            fp.mean_exit_time(model, fp.Grid([(a, 3.0)], [n]), lambda x: x < s, discretization="spectral")


def test_feature_narrower_than_the_points_is_refused():
    # a step U = 3 tanh(x / 0.01) inside the domain: 32 points on [-1, 1] see the drift spike at
    # most once; the answer would be 99.5 % off, and the drift's coefficient tail (1.5) refuses it
    U = fp.Landscape(lambda x: 3 * np.tanh(x / 0.01), lambda x: (300 / np.cosh(x / 0.01) ** 2)[None])
    model = fp.Langevin(U, temperature=1.0)
    with pytest.raises(ValueError, match="not resolved"):
        fp.mean_exit_time(model, fp.Grid([(-1.0, 1.5)], [32]), lambda x: x < 1, discretization="spectral")


def test_rate_matrix_analyses_refuse_naming_fv(model):
    grid = fp.Grid([BOX], [64])
    with pytest.raises(ValueError, match="discretization='fv'"):
        fp.exit_time_distribution(model, grid, domain=lambda x: x < 0, start=-1.0, discretization="spectral")
    with pytest.raises(ValueError, match="discretization='fv'"):
        fp.FokkerPlanck(model, grid, discretization="spectral").relaxation_rates(2)
    with pytest.raises(ValueError, match="discretization='fv'"):
        fp.exit_locations(model, grid, lambda x: x < 0, start=-1.0, discretization="spectral")


def test_bad_domains_are_refused(model):
    grid = fp.Grid([BOX], [64])
    with pytest.raises(ValueError, match="predicate"):
        fp.mean_exit_time(model, grid, grid.centers[0] < 0, discretization="spectral")
    with pytest.raises(ValueError, match="infinite"):
        fp.mean_exit_time(model, grid, lambda x: x < 10, discretization="spectral")
    with pytest.raises(ValueError, match="empty"):
        fp.mean_exit_time(model, grid, lambda x: x > 10, discretization="spectral")
    with pytest.raises(ValueError, match="overlap"):
        fp.committor(model, grid, a=lambda x: x < 0, b=lambda x: x > -1, discretization="spectral")
    model2 = fp.Langevin(fp.Landscape(lambda x, y: x**2 + y**2), temperature=T)
    grid2 = fp.Grid([(-2, 2), (-2, 2)], [16, 16])
    with pytest.raises(ValueError, match="rectangle"):
        fp.mean_exit_time(model2, grid2, lambda x, y: x**2 + y**2 < 1, discretization="spectral")
    with pytest.raises(ValueError, match="at most"):
        fp.mean_exit_time(model2, fp.Grid([(-2, 2), (-2, 2)], [80, 80]), lambda x, y: x < 0, discretization="spectral")


def test_problem_route_and_disconnected_domain(model):
    # a FokkerPlanck built with "spectral" on a non-periodic box reuses the same solver; a 1-D
    # domain of two components is solved on each (|x| > 1: exits at -1 and at +1)
    grid = fp.Grid([BOX], [64])
    fpe = fp.FokkerPlanck(model, grid, discretization="spectral")
    tau = fp.mean_exit_time(fpe, domain=lambda x: np.abs(x) > 1)
    assert len(tau.info["pieces"]) == 2
    left = exit_time_reference(-2.0, T, s=-1.0, breaks=())
    assert abs(tau(-2.0) / left - 1) < 1e-10 and abs(tau(2.0) / left - 1) < 1e-10  # symmetric U
    assert tau(0.0) == 0.0
