"""fpsolve.levy_theory against quadrature (mpmath, scipy) and the equations the closed forms solve.

No PDE solver is involved: every closed form is checked against a numerical integral of its
definition, or against the equation it solves written in Fourier space.
"""

import mpmath as mp
import numpy as np
import pytest
from scipy import integrate

from fpsolve import levy_theory as lt

ALPHAS = [0.5, 1.0, 1.5, 1.9]


def _smoothed(alpha):
    """y = t^p with p = 1/(2 - alpha): int_0^1 g(y) y^(-1-alpha) dy for g(y) ~ y^2 becomes the
    integral of a bounded function of t (tanh-sinh then converges to full precision)."""
    p = 1 / (2 - mp.mpf(alpha))
    return lambda g: mp.quad(lambda t: g(t**p) * t ** (-p * (1 + alpha)) * p * t ** (p - 1), [0, 1])


@pytest.mark.parametrize("alpha", ALPHAS)
def test_jump_constant_gives_the_symbol(alpha):
    """int (1 - cos ky) c_alpha / |y|^(1+alpha) dy = |k|^alpha (the symbol of DESIGN.md section 1),
    by mpmath quadrature: [0, 1] by tanh-sinh (after y = t^p), [1, inf) by the oscillatory quadrature."""
    k = 1.7
    mp.mp.dps = 20
    near = _smoothed(alpha)(lambda y: 2 * mp.sin(k * y / 2) ** 2)
    far = 1 / mp.mpf(alpha) - mp.quadosc(lambda y: mp.cos(k * y) * y ** (-1 - alpha), [1, mp.inf], omega=k)
    symbol = 2 * lt.stable_jump_constant(alpha) * float(near + far)
    assert symbol == pytest.approx(k**alpha, rel=1e-12)  # both integrals converge to ~1e-16
    # the Imkeller-Pavlyukevich constant is the same number, by another formula
    assert lt.imkeller_pavlyukevich_constant(alpha) == pytest.approx(lt.stable_jump_constant(alpha), rel=1e-13)


@pytest.mark.parametrize("alpha", [1.2, 1.9])
def test_two_dimensional_jump_constant_gives_the_symbol(alpha):
    """In 2-D, int (1 - cos(k.y)) c_{2,alpha} |y|^(-2-alpha) dy = 2 pi c int_0^inf (1 - J0(k r))
    r^(-1-alpha) dr = |k|^alpha, by mpmath quadrature (1 - J0(x) = (x^2/4) 1F2(1; 2, 2; -x^2/4)
    without cancellation; the tail between the zeros of J0)."""
    k = 1.3
    mp.mp.dps = 20
    near = _smoothed(alpha)(lambda r: (k * r) ** 2 / 4 * mp.hyp1f2(1, 2, 2, -((k * r) ** 2) / 4))
    far = 1 / mp.mpf(alpha) - mp.quadosc(
        lambda r: mp.besselj(0, k * r) * r ** (-1 - alpha), [1, mp.inf], zeros=lambda n: mp.besseljzero(0, n) / k
    )
    symbol = 2 * np.pi * lt.stable_jump_constant(alpha, dim=2) * float(near + far)
    assert symbol == pytest.approx(k**alpha, rel=1e-12)  # measured ~1e-16


def _fractional_laplacian(u, x, alpha, breaks):
    """(-Delta)^(alpha/2) u(x) = c_alpha int_0^inf (2u(x) - u(x+y) - u(x-y)) y^(-1-alpha) dy by
    mpmath: below y0 = 1e-4 the Taylor series -u2 y^(1-alpha) - u4 y^(3-alpha) / 12 (u2, u4 the
    derivatives of u at x) integrated exactly (next term O(y0^(6-alpha)) ~ 1e-17), above it
    tanh-sinh split where u is not smooth; u vanishes beyond the last break."""
    c = lt.stable_jump_constant(alpha)
    y0 = mp.mpf("1e-4")
    second, fourth = mp.diff(u, x, 2), mp.diff(u, x, 4)
    near = -(second * y0 ** (2 - alpha) / (2 - alpha) + fourth / 12 * y0 ** (4 - alpha) / (4 - alpha))
    f = lambda y: (2 * u(x) - u(x + y) - u(x - y)) * y ** (-1 - alpha)
    inner = mp.quad(f, [y0] + breaks)
    tail = 2 * u(x) * mp.mpf(breaks[-1]) ** (-alpha) / alpha  # u(x +- y) = 0 beyond the breaks
    return c * float(near + inner + tail)


@pytest.mark.parametrize("alpha", [0.5, 1.2, 1.8])
def test_getoor_solves_the_exterior_problem(alpha):
    """Getoor's tau = (1 - x^2)^(alpha/2) / Gamma(1 + alpha) solves (-Delta)^(alpha/2) tau = 1 in
    (-1, 1) with tau = 0 outside: the singular integral by mpmath at interior points."""
    mp.mp.dps = 25
    gamma = mp.gamma(1 + alpha)
    tau = lambda z: (1 - z**2) ** (mp.mpf(alpha) / 2) / gamma if abs(z) < 1 else mp.mpf(0)
    for x in (0.0, 0.3, -0.7):
        assert float(tau(mp.mpf(x))) == pytest.approx(lt.getoor_mean_exit_time(x, alpha), rel=1e-14)
        value = _fractional_laplacian(tau, mp.mpf(x), alpha, sorted({1 - abs(x), 1 + abs(x)}))
        assert value == pytest.approx(1.0, rel=1e-12)  # measured ~1e-16 with 25 digits


def test_getoor_scaling_and_the_gaussian_limit():
    """Scaling tau(r, eps) = (r / eps)^alpha tau(1, 1); at alpha = 2 Brownian motion with D = eps^2:
    (r^2 - |x|^2) / (2 d D), in 1-D and 2-D (exact, so round-off tolerances)."""
    assert lt.getoor_mean_exit_time(0.6, 1.3, scale=0.5, radius=2.0) == pytest.approx(
        (2.0 / 0.5) ** 1.3 * lt.getoor_mean_exit_time(0.3, 1.3), rel=1e-13
    )
    assert lt.getoor_mean_exit_time(0.4, 2.0, scale=0.5) == pytest.approx((1 - 0.16) / (2 * 0.25), rel=1e-13)
    x = np.array([[0.3, -0.2]])
    assert lt.getoor_mean_exit_time(x, 2.0, scale=0.5, center=[0, 0])[0] == pytest.approx(
        (1 - 0.13) / (4 * 0.25), rel=1e-13
    )
    assert lt.getoor_mean_exit_time(1.5, 1.2) == 0.0


@pytest.mark.parametrize("alpha", [0.5, 1.2, 1.8])
@pytest.mark.parametrize("x", [0.0, 0.5, -0.8])
def test_exit_location_density_is_a_law_with_mean_x_and_the_ikeda_watanabe_tail(alpha, x):
    """Blumenthal-Getoor-Ray: the landing density integrates to 1 (scipy quad); for alpha > 1 the
    stable process is a martingale and E X_tau = x (optional stopping); far away
    f(y) ~ c_alpha |y|^(-1-alpha) E_x tau (Ikeda-Watanabe with Getoor's tau).

    Near the walls f = (y^2 - 1)^(-alpha/2) g(y) with g smooth: quad integrates g against the
    algebraic weight |y -+ 1|^(-alpha/2); beyond |y| = 3, y = 3 s^(-1/alpha) maps the tail
    y^(-1-alpha) onto a bounded integrand on (0, 1]."""
    f = lambda y: lt.exit_location_density(y, x, alpha)
    smooth = lambda y: f(y) * np.abs(y * y - 1) ** (alpha / 2) / np.abs(y + np.sign(y)) ** (alpha / 2)
    check = np.array([1.01, 1.5, 2.9])
    assert smooth(check) == pytest.approx(
        np.sin(np.pi * alpha / 2) / np.pi * ((1 - x * x) / (check + 1)) ** (alpha / 2) / np.abs(check - x), rel=1e-12
    )

    def moment(power):
        # quad evaluates at the walls, where f itself is 0: take g's limit (g is smooth there)
        near = lambda y: y**power * smooth(np.sign(y) * max(abs(y), 1 + 1e-13))
        right = integrate.quad(near, 1, 3, weight="alg", wvar=(-alpha / 2, 0))[0]
        left = integrate.quad(near, -3, -1, weight="alg", wvar=(0, -alpha / 2))[0]
        tail = lambda s, sign: (lambda y: y**power * f(y) * 3 / alpha * s ** (-1 - 1 / alpha))(
            sign * 3 * s ** (-1 / alpha)
        )
        far = integrate.quad(tail, 0, 1, args=(1,))[0] + integrate.quad(tail, 0, 1, args=(-1,))[0]
        return left + right + far

    assert moment(0) == pytest.approx(1.0, abs=1e-9)  # measured within 1e-12
    if alpha > 1:
        assert moment(1) == pytest.approx(x, abs=1e-6)  # the y^(-alpha) tail of y f(y): measured 1e-8
    y = 1e5
    tail = lt.stable_jump_constant(alpha) * y ** (-1 - alpha) * lt.getoor_mean_exit_time(x, alpha)
    assert f(y) == pytest.approx(tail, rel=1e-4)  # the next term is O(x / y) = O(1e-5)


def test_exit_location_density_by_seeded_monte_carlo():
    """The free stable process (alpha = 1.5) from x = 0.4 in (-1, 1): the probability of landing
    beyond y = 2, P = int_2^inf f = 0.0583, against Chambers-Mallows-Stuck increments dt^(1/alpha) S
    (exact in law; only the monitoring at step ends is approximate: a path that jumps out and back
    within a step is missed). Measured with 40000 paths: P = 0.0615 at dt = 2e-3, 0.0590 at 5e-4,
    0.0597 at 1e-4 (99.9 % half-width 0.004): the shift at dt = 1e-3 is below 0.004."""
    alpha, x = 1.5, 0.4
    exact = integrate.quad(lambda y: lt.exit_location_density(y, x, alpha), 2, np.inf)[0]
    rng = np.random.default_rng(7)
    n, dt = 16000, 1e-3
    pos = np.full(n, x)
    landing = np.full(n, np.nan)
    alive = np.arange(n)
    while alive.size:
        v = rng.uniform(-np.pi / 2, np.pi / 2, alive.size)
        w = rng.exponential(1.0, alive.size)
        s = np.sin(alpha * v) / np.cos(v) ** (1 / alpha) * (np.cos((1 - alpha) * v) / w) ** ((1 - alpha) / alpha)
        pos[alive] += dt ** (1 / alpha) * s
        out = np.abs(pos[alive]) >= 1
        landing[alive[out]] = pos[alive[out]]
        alive = alive[~out]
    p = np.mean(landing > 2)
    assert exact == pytest.approx(0.0583, abs=1e-4)
    half = 3.29 * np.sqrt(p * (1 - p) / n)  # 99.9 % binomial interval
    assert abs(p - exact) < half + 0.004, (p, exact, half)


@pytest.mark.parametrize("alpha", [0.8, 1.5])
def test_exit_jump_measure_is_the_levy_measure_of_the_exterior(alpha):
    """nu(y outside (-a, b)) by quadrature of eps^alpha c_alpha |y|^(-1-alpha); per-axis noise adds
    the axes, each with its own alpha and scale; an infinite distance contributes nothing."""
    a, b, eps = 0.7, 1.9, 0.3
    density = lambda y: eps**alpha * lt.stable_jump_constant(alpha) * abs(y) ** (-1 - alpha)
    quadrature = integrate.quad(density, b, np.inf)[0] + integrate.quad(density, -np.inf, -a)[0]
    assert lt.exit_jump_measure(alpha, (a, b), eps) == pytest.approx(quadrature, rel=1e-9)
    assert lt.imkeller_pavlyukevich_exit_time(alpha, (a, b), eps) == pytest.approx(1 / quadrature, rel=1e-9)
    one_sided = integrate.quad(density, b, np.inf)[0]
    assert lt.exit_jump_measure(alpha, (np.inf, b), eps) == pytest.approx(one_sided, rel=1e-9)
    second = lt.exit_jump_measure(1.2, (1.0, 1.0), 0.5)
    both = lt.exit_jump_measure([alpha, 1.2], [(a, b), (1.0, 1.0)], [eps, 0.5])
    assert both == pytest.approx(quadrature + second, rel=1e-12)


def test_exit_jump_measure_width_not_depth():
    """Zhou et al.'s statement in the closed form: doubling the width divides the rate by 2^alpha;
    the scale enters as eps^alpha (polynomial in 1/eps)."""
    alpha = 1.5
    narrow = lt.imkeller_pavlyukevich_exit_time(alpha, (1.0, 1.0), 0.2)
    assert lt.imkeller_pavlyukevich_exit_time(alpha, (2.0, 2.0), 0.2) == pytest.approx(2**alpha * narrow, rel=1e-13)
    assert lt.imkeller_pavlyukevich_exit_time(alpha, (1.0, 1.0), 0.1) == pytest.approx(2**alpha * narrow, rel=1e-13)


@pytest.mark.parametrize("alpha", [0.8, 1.5, 2.0])
def test_levy_ou_density_is_the_fourier_inverse_of_the_stationary_characteristic_function(alpha):
    """dX = -lambda X dt + eps dL: in Fourier the stationary equation is lambda k phi' = -eps^alpha
    |k|^alpha phi, so phi = exp(-eps^alpha |k|^alpha / (alpha lambda)); its inverse transform
    (1/pi) int_0^inf cos(kx) phi(k) dk by quad against scipy's levy_stable density."""
    eps, lam = 0.6, 2.5
    phi = lambda k: np.exp(-(eps**alpha) * k**alpha / (alpha * lam))
    for x in (0.0, 0.4, 1.7):
        inverse = integrate.quad(lambda k: np.cos(k * x) * phi(k), 0, np.inf, limit=400)[0] / np.pi
        # scipy's levy_stable pdf is itself a numerical integral, accurate to ~1e-7 here
        assert lt.levy_ou_stationary_density(x, alpha, eps, lam) == pytest.approx(inverse, rel=1e-5)
    sigma = lt.levy_ou_scale(alpha, eps, lam)
    assert np.exp(-((sigma * 1.3) ** alpha)) == pytest.approx(phi(1.3), rel=1e-13)


def test_chechkin_density_solves_the_stationary_equation_in_fourier_space():
    """alpha = 1, U = x^4/4: the stationary equation d/dx(x^3 p) - eps (-Delta)^(1/2) p = 0 reads
    k phi''' = eps |k| phi in Fourier space; its symmetric decaying solution with phi(0) = 1 and
    phi'(0) = 0 (finite variance) is phi = (2/sqrt 3) e^(-ck/2) cos(sqrt(3) ck/2 - pi/6), c = eps^(1/3).
    The closed-form density's Fourier transform (quad) must be that phi."""
    eps = 0.7
    c = eps ** (1 / 3)
    phi = lambda k: 2 / np.sqrt(3) * np.exp(-c * k / 2) * np.cos(np.sqrt(3) * c * k / 2 - np.pi / 6)
    k = 0.9
    third = (phi(k + 2e-3) - 3 * phi(k + 1e-3) + 3 * phi(k) - phi(k - 1e-3)) / 1e-9
    assert third == pytest.approx(eps * phi(k + 0.5e-3), rel=1e-4)  # phi''' = eps phi; the centred difference
    # (about k + h/2) errs by O(h^2) ~ 1e-6 and round-off by 1e-16 / h^3 ~ 1e-7
    for k in (0.0, 0.3, 1.0, 2.5):
        transform = 2 * integrate.quad(lambda x: np.cos(k * x) * lt.chechkin_density(x, eps), 0, np.inf, limit=400)[0]
        assert transform == pytest.approx(phi(k), abs=1e-8)  # quad ~1e-10


@pytest.mark.parametrize("bad", [0.0, -1.0, 2.5, float("nan")])
def test_bad_tail_index_is_refused(bad):
    with pytest.raises(ValueError, match="alpha"):
        lt.stable_jump_constant(bad)
    with pytest.raises(ValueError, match="alpha"):
        lt.getoor_mean_exit_time(0.0, bad)


def test_gaussian_alpha_is_refused_where_there_are_no_jumps():
    with pytest.raises(ValueError, match="Gaussian"):
        lt.imkeller_pavlyukevich_exit_time(2.0, (1.0, 1.0))
    with pytest.raises(ValueError, match="distances"):
        lt.exit_jump_measure(1.5, (0.0, 1.0))
    with pytest.raises(ValueError, match="x: the start"):
        lt.exit_location_density(2.0, 1.0, 1.5)


@pytest.mark.parametrize("alpha", [0.7, 1.5])
def test_two_dimensional_exit_location_density(alpha):
    """The d = 2 landing density from the centre of the unit disk: a probability law (polar quad,
    the (r^2 - 1)^(-alpha/2) wall singularity by quad's algebraic weight) and, from an off-centre
    start, the Ikeda-Watanabe tail c_{2,alpha} |y|^(-2-alpha) E_x tau with Getoor's 2-D time."""
    f = lambda r: lt.exit_location_density(np.array([r, 0.0]), [0.0, 0.0], alpha, center=[0.0, 0.0])
    g = lambda r: 2 * np.pi * r * f(r) * (r - 1) ** (alpha / 2)  # smooth at the wall r = 1
    smooth = lambda r: g(max(r, 1 + 1e-13))  # quad samples the wall itself, where f = 0: g's limit
    near = integrate.quad(smooth, 1, 3, weight="alg", wvar=(-alpha / 2, 0))[0]
    far = integrate.quad(
        lambda s: 2 * np.pi * (3 * s ** (-1 / alpha)) * f(3 * s ** (-1 / alpha)) * 3 / alpha * s ** (-1 - 1 / alpha),
        0,
        1,
    )[0]  # r = 3 s^(-1/alpha)
    assert near + far == pytest.approx(1.0, abs=1e-8)  # measured ~1e-12
    x = np.array([0.3, -0.4])
    y = np.array([2e4, 1e4])
    tail = (
        lt.stable_jump_constant(alpha, dim=2)
        * np.linalg.norm(y) ** (-2 - alpha)
        * lt.getoor_mean_exit_time(x, alpha, center=[0.0, 0.0])
    )
    assert lt.exit_location_density(y, x, alpha, center=[0.0, 0.0]) == pytest.approx(tail, rel=1e-3)  # O(|x|/|y|)
