"""Named landscapes: critical points, equal depths, closed forms, numba, and derivatives vs differences."""

import math

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fpsolve import landscapes as L
from fpsolve.landscape import Landscape

CASES = {
    "double_well": L.double_well(),
    "double_well_scaled": L.double_well(a=1.5, depth=2.0),
    "tilted_double_well": L.tilted_double_well(),
    "tilted_double_well_negative": L.tilted_double_well(-0.6),
    "sharp_flat_double_well": L.sharp_flat_double_well(),
    "sharp_flat_double_well_30_2": L.sharp_flat_double_well(30.0, 2.0),
    "double_well_2d": L.double_well_2d(),
    "separable_2d": L.separable_2d(),
    "rotated_double_well": L.rotated_double_well(),
    "rotated_double_well_1rad": L.rotated_double_well(1.0, stiffness=5.0),
    "sharp_flat_2d": L.sharp_flat_2d(),
    "sharp_flat_2d_other": L.sharp_flat_2d(3.0, 0.3, 0.8),
    "muller_brown": L.muller_brown(),
    "quadratic_1d": L.quadratic(2.0, [0.5]),
    "quadratic_2d_saddle": L.quadratic([[1.0, 2.0], [2.0, -1.0]], [0.3, -0.2]),
    "quadratic_3d": L.quadratic([[3.0, 1.0, 0.5], [1.0, 2.0, 0.2], [0.5, 0.2, 1.0]], [0.1, 0.2, -0.3]),
    "periodic_cosine_1d": L.periodic_cosine(),
    "periodic_cosine_2d": L.periodic_cosine(0.5, 2.0, ndim=2),
    "periodic_cosine_3d": L.periodic_cosine(2.0, 3.0, ndim=3),
}
EQUAL_DEPTH = [
    "double_well",
    "double_well_scaled",
    "sharp_flat_double_well",
    "sharp_flat_double_well_30_2",
    "double_well_2d",
    "separable_2d",
    "rotated_double_well",
    "rotated_double_well_1rad",
    "sharp_flat_2d",
    "sharp_flat_2d_other",
]


def _points(U, n=150, seed=0):
    """Random points in a box around the landscape's critical points."""
    rng = np.random.default_rng(seed)
    if U.name == "muller_brown":
        lo, hi = np.array([-1.5, -0.5]), np.array([1.2, 2.0])
    else:
        lo, hi = -2.0 * np.ones(U.ndim), 2.0 * np.ones(U.ndim)
    return lo[:, None] + (hi - lo)[:, None] * rng.random((U.ndim, n))


def _hessian_at(U, point):
    return U.hessian(*point).reshape(U.ndim, U.ndim)


@pytest.mark.parametrize("key", CASES)
def test_gradient_vanishes_at_critical_points(key):
    U = CASES[key]
    assert U.minima or U.saddles
    for point in U.minima + U.saddles:
        # Newton stops at round-off: |grad U| ~ eps * |H| * |x|; |H| reaches ~4e3 for Muller-Brown.
        scale = max(1.0, np.abs(_hessian_at(U, point)).max())
        assert np.abs(U.grad(*point)).max() <= 1e-13 * scale + 1e-14
        assert np.abs(U.grad(*point)).max() <= 1e-10


@pytest.mark.parametrize("key", CASES)
def test_hessian_signature_at_critical_points(key):
    U = CASES[key]
    for point in U.minima:
        assert np.all(np.linalg.eigvalsh(_hessian_at(U, point)) > 0), point
    for point in U.saddles:
        eig = np.linalg.eigvalsh(_hessian_at(U, point))
        assert np.sum(eig < 0) == 1 and np.all(eig != 0), (point, eig)


@pytest.mark.parametrize("key", EQUAL_DEPTH)
def test_claimed_equal_depths(key):
    U = CASES[key]
    depths = [float(U(*m)) for m in U.minima]
    assert len(depths) == 2
    # exact zeros for the polynomial wells; calibrated by Brent + Newton to ~eps for sharp_flat_2d
    assert abs(depths[0] - depths[1]) <= 1e-12


@pytest.mark.parametrize("key", CASES)
def test_numba_compiles_f_and_grad_and_agrees_with_numpy(key):
    U = CASES[key]
    f, grad = numba.njit(U.f), numba.njit(U.grad_function)
    pts = _points(U, n=5)
    for p in pts.T:
        p = tuple(float(c) for c in p)
        # identical arithmetic; only libm vs numpy exp/cos may differ by an ulp or so
        assert f(*p) == pytest.approx(float(U(*p)), rel=1e-13, abs=1e-13)
        assert np.allclose(np.array(grad(*p)), U.grad(*p), rtol=1e-13, atol=1e-12)


@pytest.mark.parametrize("key", CASES)
def test_analytic_derivatives_match_finite_difference_fallback(key):
    U = CASES[key]
    pts = _points(U)
    value, g, h = U(*pts), U.grad(*pts), U.hessian(*pts)
    from_f = Landscape(U.f, ndim=U.ndim)
    from_grad = Landscape(U.f, U.grad_function, ndim=U.ndim)
    # Fourth-order differences with h ~ eps^(1/5) = 7e-4: truncation h^4 / l^4 with length scale
    # l >= 0.2 (Muller-Brown's c = -10 term) is <= 1e-10, round-off eps |U| / h ~ 3e-13 |U|.
    scale_g = np.maximum(1.0, np.maximum(np.abs(value), np.abs(g).max(axis=0)))
    assert np.all(np.abs(from_f.grad(*pts) - g).max(axis=0) <= 1e-8 * scale_g)
    scale_h = np.maximum(1.0, np.maximum(np.abs(h).max(axis=(0, 1)), np.abs(g).max(axis=0)))
    assert np.all(np.abs(from_grad.hessian(*pts) - h).max(axis=(0, 1)) <= 1e-8 * scale_h)
    # From f alone (h ~ eps^(1/6), round-off eps |U| / h^2 ~ 5e-11 |U|, truncation ~1e-7 for l = 0.2).
    scale_f = np.maximum(scale_h, np.abs(value))
    assert np.all(np.abs(from_f.hessian(*pts) - h).max(axis=(0, 1)) <= 1e-6 * scale_f)


@pytest.mark.parametrize("key", CASES)
def test_landscape_broadcasts_over_grids(key):
    U = CASES[key]
    axes = [np.linspace(-1.0, 1.0, 4 + k).reshape((-1,) + (1,) * (U.ndim - 1 - k)) for k in range(U.ndim)]
    shape = np.broadcast(*axes).shape
    assert U(*axes).shape == shape
    assert U.grad(*axes).shape == (U.ndim,) + shape
    assert U.hessian(*axes).shape == (U.ndim, U.ndim) + shape


# --- closed forms --------------------------------------------------------------------------------
def test_double_well_closed_form():
    a, depth = 1.5, 2.0
    U = L.double_well(a=a, depth=depth)
    assert U.minima == [(-a,), (a,)] and U.saddles == [(0.0,)]
    assert float(U(0.0)) == pytest.approx(depth, rel=1e-15)  # barrier = depth
    assert _hessian_at(U, (a,))[0, 0] == pytest.approx(8 * depth / a**2, rel=1e-14)
    assert float(U(0.7)) == pytest.approx(depth * (0.49 - a * a) ** 2 / a**4, rel=1e-14)


@pytest.mark.parametrize("tilt", [0.25, -0.6, 1.2])
def test_tilted_double_well_roots_solve_the_cubic(tilt):
    U = L.tilted_double_well(tilt)
    roots = sorted([m[0] for m in U.minima] + [s[0] for s in U.saddles])
    # companion-matrix roots of 4x^3 - 4x + tilt, accurate to ~1e-15 for these well-separated roots
    reference = np.sort(np.roots([4.0, 0.0, -4.0, tilt]).real)
    assert np.allclose(roots, reference, atol=1e-12)
    assert roots[1] == U.saddles[0][0]


def test_tilted_double_well_rejects_one_well():
    with pytest.raises(ValueError, match="tilt"):
        L.tilted_double_well(1.6)


@pytest.mark.parametrize("kappa_sharp, kappa_flat", [(16.0, 4.0), (30.0, 2.0), (5.0, 4.0)])
def test_sharp_flat_double_well_curvatures_and_critical_points(kappa_sharp, kappa_flat):
    U = L.sharp_flat_double_well(kappa_sharp, kappa_flat)
    assert _hessian_at(U, (-1.0,))[0, 0] == pytest.approx(kappa_sharp, rel=1e-14)
    assert _hessian_at(U, (1.0,))[0, 0] == pytest.approx(kappa_flat, rel=1e-14)
    # exactly two minima and one saddle: U' changes sign three times on a fine grid
    x = np.linspace(-6.0, 6.0, 120001)
    dU = U.grad(x)[0]
    assert np.count_nonzero(np.diff(np.sign(dU[dU != 0])) != 0) == 3


def test_rotated_double_well_saddle_hessian_is_not_diagonal():
    angle, k = math.pi / 6, 2.0
    U = L.rotated_double_well(angle, stiffness=k)
    H = _hessian_at(U, (0.0, 0.0))
    R = np.array([[math.cos(angle), math.sin(angle)], [-math.sin(angle), math.cos(angle)]])
    assert np.allclose(H, R.T @ np.diag([-4.0, 2 * k]) @ R, rtol=0, atol=1e-14)
    assert abs(H[0, 1]) > 1.0
    assert np.allclose(U.minima, [(-math.cos(angle), -math.sin(angle)), (math.cos(angle), math.sin(angle))])


def _discrete_local_minima(U, xs, ys):
    X, Y = np.meshgrid(xs, ys, indexing="ij")
    V = U(X, Y)
    inner = V[1:-1, 1:-1]
    is_min = np.ones(inner.shape, bool)
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            if dx or dy:
                is_min &= inner < V[1 + dx : V.shape[0] - 1 + dx, 1 + dy : V.shape[1] - 1 + dy]
    return np.column_stack([X[1:-1, 1:-1][is_min], Y[1:-1, 1:-1][is_min]])


def test_sharp_flat_2d_has_exactly_the_listed_minima():
    U = CASES["sharp_flat_2d"]
    found = _discrete_local_minima(U, np.linspace(-3, 3, 601), np.linspace(-3, 3, 601))
    assert len(found) == 2
    assert np.allclose(sorted(found[:, 0]), [m[0] for m in U.minima], atol=0.01)  # grid step 0.01
    sharp, flat = (np.linalg.eigvalsh(_hessian_at(U, m)) for m in U.minima)
    assert sharp.min() > 4 * flat.max()  # one sharp, one flat
    assert U.parameters["flat_amplitude"] == pytest.approx(1.9599114, rel=1e-6)


def test_muller_brown_matches_literature():
    U = CASES["muller_brown"]
    # Muller & Brown (1979) and the later literature quote 3 decimals
    minima = [(-0.558, 1.442, -146.700), (0.623, 0.028, -108.167), (-0.050, 0.467, -80.768)]
    saddles = [(-0.822, 0.624, -40.665), (0.212, 0.293, -72.249)]
    for listed, reference in ((U.minima, minima), (U.saddles, saddles)):
        for point, (x, y, value) in zip(listed, reference):
            assert point == pytest.approx((x, y), abs=1e-3)
            assert float(U(*point)) == pytest.approx(value, abs=1e-3)
    found = _discrete_local_minima(U, np.linspace(-1.5, 1.2, 541), np.linspace(-0.5, 2.0, 501))
    assert len(found) == 3


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-3, 3), min_size=9, max_size=9), st.lists(st.floats(-2, 2), min_size=6, max_size=6))
def test_quadratic_matches_matrix_formula(entries, xs):
    A = np.array(entries).reshape(3, 3)
    H = A + A.T
    c = np.array([0.1, -0.2, 0.3])
    U = L.quadratic(H, c)
    x = np.array(xs).reshape(3, 2)
    u = x - c[:, None]
    assert np.allclose(U(*x), 0.5 * np.einsum("in,ij,jn->n", u, H, u), atol=1e-12)
    assert np.allclose(U.grad(*x), H @ u, atol=1e-12)
    eig = np.linalg.eigvalsh(H)
    if np.all(eig > 1e-9):
        assert U.minima == [tuple(c)]
    if np.sum(eig < -1e-9) == 1 and np.all(np.abs(eig) > 1e-9):
        assert U.saddles == [tuple(c)]


def test_quadratic_rejects_bad_matrices():
    with pytest.raises(ValueError, match="hessian"):
        L.quadratic([[1.0, 2.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="hessian"):
        L.quadratic(np.eye(4))
    with pytest.raises(ValueError, match="center"):
        L.quadratic(np.eye(2), [1.0])


def test_periodic_cosine_barrier_and_period():
    A, P = 2.0, 3.0
    U = L.periodic_cosine(A, P, ndim=2)
    assert float(U(*U.saddles[0]) - U(*U.minima[0])) == pytest.approx(2 * A, rel=1e-15)
    x = np.linspace(-2, 2, 7)
    assert np.allclose(U(x + P, x - 2 * P), U(x, x), atol=1e-13)
    with pytest.raises(ValueError, match="ndim"):
        L.periodic_cosine(ndim=4)


def test_available_builds_every_name():
    factories = L.available()
    assert set(factories) >= {
        "double_well",
        "tilted_double_well",
        "sharp_flat_double_well",
        "sharp_flat_2d",
        "rotated_double_well",
        "muller_brown",
        "quadratic",
        "periodic_cosine",
        "double_well_2d",
        "separable_2d",
    }
    for name, factory in factories.items():
        U = factory(hessian=[[1.0]]) if name == "quadratic" else factory()
        assert isinstance(U, Landscape) and U.name == name


def test_bad_parameters_name_the_argument():
    with pytest.raises(ValueError, match="a:"):
        L.double_well(a=-1.0)
    with pytest.raises(ValueError, match="kappa_flat"):
        L.sharp_flat_double_well(kappa_flat=0.0)
    with pytest.raises(ValueError, match="flat_width"):
        L.sharp_flat_2d(sharp_width=0.5, flat_width=0.4)
