"""The Chebyshev exponential with the l1 residual bound (fpsolve.chebyshev_residual), for
non-reversible chains.

References: scipy.sparse.linalg.expm_multiply (Al-Mohy & Higham: scaling and squaring of a
truncated Taylor series, accurate to about 1e-15 relative, far below the 1e-10 bounds tested) on
the same chain; mpmath quadrature for the Bessel integrals; numpy products for the kernels. The
bound is an inequality in exact arithmetic: each test checks measured error <= bound.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sparse
import scipy.sparse.linalg as sla

import fpsolve as fp
from fpsolve import chebyshev_residual as residual
from fpsolve.discretize import fv
from fpsolve.chebyshev_residual import bessel_integrals, bounded_chebyshev_expm_multiply


def _quiet(make):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # coarse test grids: Peclet and resolution reports
        return make()


def _rotating_double_well(n):
    """Issue 14's non-reversible problem: -grad U plus (-0.5 y, 0.5 (x^2 - 1), 0), D = 0.25 I."""

    def drift(x, y, z):
        return np.stack(np.broadcast_arrays(-4 * x * (x**2 - 1) - 0.5 * y, -2 * y + 0.5 * (x**2 - 1), -2 * z))

    grid = fp.Grid([(-2.0, 2.0), (-1.5, 1.5), (-1.5, 1.5)], [n, n, n])
    fpe = _quiet(lambda: fp.FokkerPlanck(fp.Diffusion(drift, 0.25 * np.eye(3), 3), grid))
    v = fp.gaussian(grid, mean=(-1.0, 0.0, 0.0), std=0.2).ravel() * grid.cell_volume
    return sparse.csr_array(fpe.generator.matrix.T), v


def _cross_diffusion_chain(n, lattice=True):
    """The rotation about the well with constant cross diffusion (bench_forward_3d.py
    "nonreversible"): 11 diagonals. With ``lattice`` the links are fitted along the lattice
    directions (fpsolve's scheme); without, the cross terms are central differences (limited): then
    eigenvalues near -rho have imaginary parts ~0.07 rho (grid-scale non-normality of the cross
    links), so ||T_k(B) v|| grows and the time axis is split."""

    def drift(x, y, z):
        return np.stack(np.broadcast_arrays(-4 * x * (x**2 - 1) - 0.5 * y, -2 * y + 0.5 * (x + 1), -2 * z))

    diffusion = np.array([[0.25, 0.05, 0.0], [0.05, 0.25, 0.05], [0.0, 0.05, 0.25]])
    grid = fp.Grid([(-2.0, 0.5), (-1.5, 1.5), (-1.5, 1.5)], [n, n, n])
    Q = _quiet(lambda: fv.assemble(fp.Diffusion(drift, diffusion, 3), grid, lattice=lattice).generator)
    v = fp.gaussian(grid, mean=(-1.0, 0.0, 0.0), std=0.2).ravel() * grid.cell_volume
    return sparse.csr_array(Q.T), v


def _vortex(omega, diffusion, n, boundary="reflecting"):
    """A 2-D Ornstein-Uhlenbeck vortex, drift (-x - omega y, -y + omega x): rotation omega against
    relaxation at rate 1; strongly non-normal for omega >> 1 (the rotation's eigenvalues i omega m
    lie far from the real axis)."""

    def drift(x, y):
        return np.stack(np.broadcast_arrays(-x - omega * y, -y + omega * x))

    grid = fp.Grid([(-2.0, 2.0), (-2.0, 2.0)], [n, n])
    fpe = _quiet(lambda: fp.FokkerPlanck(fp.Diffusion(drift, diffusion * np.eye(2), 2), grid, boundary=boundary))
    v = fp.gaussian(grid, mean=(1.0, 0.0), std=0.3).ravel() * grid.cell_volume
    return sparse.csr_array(fpe.generator.matrix.T), v


def _l1_errors(A, v, times, y):
    return np.array([np.abs(y[k] - sla.expm_multiply(A * t, v)).sum() for k, t in enumerate(times)])


@pytest.mark.parametrize("z", [0.5, 30.0, 900.0])
def test_bessel_integrals_match_quadrature(z):
    """J_k(z) = int_0^z e^-u I_k(u) du against mpmath quadrature (30 digits), from the bulk to the
    far tail (1e-30 of J_0) where the bound is evaluated."""
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    top = int(np.sqrt(2 * z * 70)) + 5
    values = bessel_integrals(z, top)
    breaks = [0, z / 2, 0.8 * z, 0.9 * z, 0.95 * z, 0.98 * z, z]  # the tail's integrand is steep near z
    for k in sorted({0, 1, 2, top // 3, top // 2, top}):
        exact = float(mpmath.quad(lambda u: mpmath.exp(-u) * mpmath.besseli(k, u), breaks))
        # the downward recurrence loses at most a few digits (errors grow linearly): 1e-10 relative
        assert values[k] == pytest.approx(exact, rel=1e-10, abs=1e-300)


def test_bound_holds_on_the_rotating_double_well_to_long_times():
    """Issue 14's non-reversible chain on 12^3 cells, from t = 1e-3 to t = 30 (about 30 relaxation
    times; the slowest rate is ~1): measured l1 error <= the bound <= 1e-10 of the mass (plus the
    round-off estimate eps m max ||T_k v||, here ~1e-13)."""
    A, v = _rotating_double_well(12)
    times = np.array([0.0, 1e-3, 0.3, 3.0, 30.0])
    result = bounded_chebyshev_expm_multiply(A, v, times, rtol=1e-10)
    errors = _l1_errors(A, v, times, result.y)
    assert np.all(errors <= result.bound * v.sum())
    assert np.all(result.bound <= 1.1e-10)
    assert result.segments == 1  # this mild rotation needs no splitting
    assert np.abs(result.y[-1].sum() - v.sum()) <= 1e-10 * v.sum()  # mass, to the bound


def test_bound_holds_with_cross_diffusion_in_segments():
    """Central cross differences on 12^3 cells to t = 10 (about 10 relaxation times): the
    11-diagonal kernel, ||T_k v|| growing past 1e3 within one full-length polynomial so the time
    axis is split (at checkpoints or by shorter segments); the measured l1 error against
    expm_multiply stays below the summed bound, itself below 1e-10 of the mass plus the round-off
    estimate (1.5e-10 in all)."""
    A, v = _cross_diffusion_chain(12, lattice=False)
    assert residual._Product(A).offsets.size == 11
    times = np.array([0.5, 10.0])
    result = bounded_chebyshev_expm_multiply(A, v, times, rtol=1e-10)
    assert result.segments > 1
    errors = _l1_errors(A, v, times, result.y)
    assert np.all(errors <= result.bound * v.sum())
    assert np.all(result.bound <= 1.5e-10)


def test_lattice_cross_diffusion_needs_one_segment():
    """The same process with its links fitted along the lattice directions (fpsolve's scheme): the
    small loops of the chain balance, the spectrum stays near the real axis and one polynomial
    reaches t = 10 with ||T_k v|| below 1e3, in fewer products than the split series of central
    cross differences; the bound holds against expm_multiply."""
    A, v = _cross_diffusion_chain(12)
    assert residual._Product(A).offsets.size == 11
    times = np.array([0.5, 10.0])
    result = bounded_chebyshev_expm_multiply(A, v, times, rtol=1e-10)
    central = bounded_chebyshev_expm_multiply(*_cross_diffusion_chain(12, lattice=False), times, rtol=1e-10)
    assert result.segments == 1 and result.products < central.products
    errors = _l1_errors(A, v, times, result.y)
    assert np.all(errors <= result.bound * v.sum())
    assert np.all(result.bound <= 1.1e-10)


def test_growth_stops_at_a_checkpoint_and_keeps_its_products():
    """A segment whose ||T_k v|| passes MAX_GROWTH after a checkpoint has converged stops there
    (the products are kept, no restart): with the growth limit lowered to 30 the series on the
    central cross-difference chain stops at checkpoints and still meets its bound against
    expm_multiply at every time."""
    A, v = _cross_diffusion_chain(12, lattice=False)
    times = np.array([0.5, 3.0, 10.0])
    stops = []
    segment = residual._segment

    def recording(*args, **kwargs):
        outcome = segment(*args, **kwargs)
        stops.append(outcome.stopped)
        return outcome

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(residual, "MAX_GROWTH", 30.0)
        patch.setattr(residual, "_segment", recording)
        result = bounded_chebyshev_expm_multiply(A, v, times, rtol=1e-10)
    assert any(stops)
    errors = _l1_errors(A, v, times, result.y)
    assert np.all(errors <= result.bound * v.sum())
    assert np.all(result.bound <= 1.1e-10)


@pytest.mark.parametrize("scale", [0.8, 3.0])
def test_bound_holds_for_any_interval(scale):
    """The bound needs no spectral information: an interval too short (0.8 rho: the fastest modes
    lie outside it, where T_k grows, so the time axis is split) or too long (3 rho) costs
    products, the bound still holds."""
    A, v = _rotating_double_well(10)
    rho = scale * residual.symmetrized_radius(A)
    times = np.array([0.2, 5.0])
    result = bounded_chebyshev_expm_multiply(A, v, times, rtol=1e-9, rho=rho)
    errors = _l1_errors(A, v, times, result.y)
    assert np.all(errors <= result.bound * v.sum())
    assert np.all(result.bound <= 1.1e-9)


def test_bound_holds_for_a_strong_rotation_in_many_segments():
    """A vortex rotating 5 times faster than it relaxes (cell Peclet up to 1.5): ||T_k(B) v|| grows
    within tens of degrees, so the time axis is split into hundreds of short segments whose bounds
    add; to t = 20 (20 relaxation times) the measured error stays below the summed bound."""
    A, v = _vortex(omega=5.0, diffusion=1.0, n=24)
    times = np.array([0.5, 20.0])
    result = bounded_chebyshev_expm_multiply(A, v, times, rtol=1e-10)
    assert result.segments > 10
    errors = _l1_errors(A, v, times, result.y)
    assert np.all(errors <= result.bound * v.sum())
    assert np.all(result.bound <= 1.1e-10)


def test_bound_holds_with_absorbing_faces():
    """Killing (absorbing faces): exp(tA) loses mass but stays an l1 contraction, so the bound holds."""
    A, v = _vortex(omega=1.0, diffusion=0.5, n=20, boundary="absorbing")
    times = np.array([0.1, 2.0])
    result = bounded_chebyshev_expm_multiply(A, v, times, rtol=1e-10)
    errors = _l1_errors(A, v, times, result.y)
    assert np.all(errors <= result.bound * v.sum())
    assert result.y[-1].sum() < 0.9 * v.sum()  # mass was lost through the faces


def test_drift_dominated_rotation_is_refused():
    """Rotation 5 against diffusion 0.5 on 24^2 cells (cell Peclet up to 2.4): ||T_k v|| grows by
    1e3 within 25 degrees even on the shortest segments; refused, naming what to do instead."""
    A, v = _vortex(omega=5.0, diffusion=0.5, n=24)
    with pytest.raises(RuntimeError, match="trbdf2"):
        bounded_chebyshev_expm_multiply(A, v, [10.0])


def test_negative_rates_are_refused():
    """An operator with a clearly negative off-diagonal rate is not a Markov chain: exp(tA) may
    grow in l1, the bound would be void."""
    A, v = _vortex(omega=1.0, diffusion=0.5, n=8)
    A = A.tolil()
    A[1, 0] -= 50.0
    A[0, 0] += 50.0  # column sum still zero, one rate negative
    with pytest.raises(RuntimeError, match="not a Markov chain"):
        bounded_chebyshev_expm_multiply(sparse.csr_array(A), v, [1.0])


def test_invalid_arguments_are_refused():
    A, v = _vortex(omega=1.0, diffusion=0.5, n=6)
    with pytest.raises(ValueError, match="times"):
        bounded_chebyshev_expm_multiply(A, v, [-1.0])
    with pytest.raises(ValueError, match="rtol"):
        bounded_chebyshev_expm_multiply(A, v, [1.0], rtol=0.0)


@pytest.mark.parametrize("kind", ["seven_point", "eleven_point", "stencil", "csr"])
def test_fused_step_matches_numpy(kind):
    """The Numba step against its numpy twin: out = half (2 (u + s M u) - previous), y += c u,
    ||out||_1; on the 7-point 3-D stencil, the 11-diagonal one of cross diffusion, a 5-point 2-D
    one, and irregular CSR rows."""
    rng = np.random.default_rng(3)
    if kind == "seven_point":
        M, _ = _rotating_double_well(6)
    elif kind == "eleven_point":
        M, _ = _cross_diffusion_chain(6)
    elif kind == "stencil":
        M, _ = _vortex(omega=1.0, diffusion=0.5, n=7)
    else:
        M = sparse.random_array((300, 300), density=0.2, rng=rng, format="csr")
    product = residual._Product(sparse.csr_array(M))
    assert product.banded == (kind != "csr")
    if kind in ("seven_point", "eleven_point"):
        assert product.offsets.size == {"seven_point": 7, "eleven_point": 11}[kind]
    n, pad = M.shape[0], product.pad
    u, previous = rng.standard_normal(n), rng.standard_normal(n)
    padded = np.zeros(n + 2 * pad)
    padded[pad : pad + n] = u
    c, y = np.array([0.3, 0.0]), np.ones((2, n))
    expected = 0.7 * (2.0 * (u + 0.01 * (M @ u)) - previous)
    out = previous.copy()
    norm = product(0.01, padded, out, 0.7, c, y)
    assert np.allclose(out, expected, rtol=1e-13, atol=1e-13)
    assert norm == pytest.approx(np.abs(expected).sum(), rel=1e-13)
    assert np.allclose(y[0], 1.0 + 0.3 * u, rtol=1e-15) and np.all(y[1] == 1.0)
