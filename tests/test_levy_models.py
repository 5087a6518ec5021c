"""Levy-driven models (fpsolve.levy) and their jump law (fpsolve.noise.JumpLaw).

References: the SGD/Langevin models at alpha = 2 (the stable law with symbol k^2 is N(0, 2)), the
stability property of alpha-stable sums (the scale of a sum of n i.i.d. laws of scale s is
s n^(1/alpha)), and scipy.stats.levy_stable's own sampler for the LevySGD scale.
"""

import json

import numpy as np
import pytest
from scipy import stats

import fpsolve as fp
from fpsolve.levy import LevyAdam, LevyLangevin, LevySGD, stable_sgd_scale
from fpsolve.noise import JumpLaw

U1 = fp.landscapes.double_well()
U2 = fp.Landscape(lambda x, y: (x**2 - 1) ** 2 + 2 * y**2 + 0.3 * x * y, name="coupled")
GRID2 = fp.Grid([(-2, 2), (-1.5, 1.5)], [9, 7])


# ------------------------------------------------------------------------------------------------
# JumpLaw
# ------------------------------------------------------------------------------------------------
def test_jump_law_per_axis_values_and_broadcast_scalars():
    law = JumpLaw([1.5, 1.2], [0.1, 0.2], axes=(0, 1))
    assert law.alphas == (1.5, 1.2) and law.scales == (0.1, 0.2)
    assert law.alpha == (1.5, 1.2) and law.scale == (0.1, 0.2)
    one = JumpLaw(1.5, 0.3, axes=(0, 2))
    assert one.alphas == (1.5, 1.5) and one.scales == (0.3, 0.3) and one.alpha == 1.5
    assert isinstance(one.alphas, tuple) and one.axes == (0, 2)
    assert JumpLaw(1.5, 0.3, axes=(0, 1), isotropic=True).alphas == (1.5, 1.5)


def test_jump_law_symbol_is_the_log_characteristic_function():
    # axis-aligned: sum_j |s_j k_j|^alpha_j; isotropic: |s k|^alpha (exact arithmetic identities)
    law = JumpLaw([1.5, 0.8], [0.1, 0.2], axes=(0, 1))
    k = (np.array([0.5, -3.0]), np.array([2.0, 1.0]))
    expected = np.abs(0.1 * k[0]) ** 1.5 + np.abs(0.2 * k[1]) ** 0.8
    np.testing.assert_allclose(law.symbol(*k), expected, rtol=1e-14)
    iso = JumpLaw(1.5, 0.1, axes=(0, 1), isotropic=True)
    np.testing.assert_allclose(iso.symbol(*k), (0.1 * np.hypot(*k)) ** 1.5, rtol=1e-14)
    # alpha = 1 is the Cauchy law: its characteristic function exp(-s|k|) (scipy's cauchy has
    # the same scale convention: density s / (pi (s^2 + x^2)))
    cauchy = JumpLaw(1.0, 0.4, axes=(0,))
    x = np.linspace(-400, 400, 2_000_001)
    cf = np.trapezoid(stats.cauchy.pdf(x, scale=0.4) * np.cos(1.7 * x), x)
    # tolerance: the truncated tails beyond |x| = 400 weigh 2 s / (pi 400) = 6.4e-4
    assert cf == pytest.approx(np.exp(-cauchy.symbol(np.array(1.7))), abs=1e-3)


def test_gaussian_jump_law_is_a_diffusion_of_scale_squared():
    law = JumpLaw(2.0, [0.3, 0.5], axes=(1, 2))
    np.testing.assert_array_equal(law.gaussian_diffusion(3), np.diag([0.0, 0.09, 0.25]))
    with pytest.raises(ValueError, match="^alpha: the jumps are Gaussian only when alpha = 2"):
        JumpLaw(1.9, 0.3, axes=(0,)).gaussian_diffusion(1)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(alpha=0.0, scale=1.0, axes=(0,)), "^alpha: expected a tail index in \\(0, 2\\]"),
        (dict(alpha=2.5, scale=1.0, axes=(0,)), "^alpha: expected a tail index in \\(0, 2\\]"),
        (dict(alpha=[1.5, np.nan], scale=1.0, axes=(0, 1)), "^alpha: expected a tail index"),
        (dict(alpha=1.5, scale=0.0, axes=(0,)), "^scale: expected a positive noise scale"),
        (dict(alpha=1.5, scale=[1.0, -1.0], axes=(0, 1)), "^scale: expected a positive noise scale"),
        (dict(alpha=[1.5, 1.2, 1.1], scale=1.0, axes=(0, 1)), "^alpha: expected one value per axis \\(2\\)"),
        (dict(alpha=1.5, scale=1.0, axes=(0, 0)), "^axes: expected distinct"),
        (dict(alpha=[1.5, 1.2], scale=1.0, axes=(0, 1), isotropic=True), "^isotropic: a rotation-invariant"),
    ],
)
def test_jump_law_refuses_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        JumpLaw(**kwargs)


# ------------------------------------------------------------------------------------------------
# alpha = 2 agrees with the Gaussian models
# ------------------------------------------------------------------------------------------------
def test_levy_langevin_at_alpha_two_is_langevin():
    # the stable noise eps dL^2 is N(0, 2 eps^2 dt): Langevin at temperature T + eps^2
    model = LevyLangevin(U2, alpha=2.0, scale=0.4, temperature=0.1)
    reference = fp.Langevin(U2, temperature=0.1 + 0.16)
    x = GRID2.mesh()
    np.testing.assert_array_equal(model.drift(*x), reference.drift(*x))
    np.testing.assert_allclose(model.gaussian_equivalent_diffusion(), reference.diffusion(0.0, 0.0), rtol=1e-15)
    np.testing.assert_allclose(model.diffusion(*x), fp.Langevin(U2, temperature=0.1).diffusion(*x), rtol=1e-15)


@pytest.mark.parametrize("lr, batch_size, s", [(0.1, 16, 1.0), (0.03, 1, 0.35)])
def test_levy_sgd_at_alpha_two_is_isotropic_sgd(lr, batch_size, s):
    # convention: per-sample noise s L_1 ~ N(0, 2 s^2), so SGD's sigma^2 = 2 s^2: D = lr s^2 / B
    model = LevySGD(U2, lr=lr, batch_size=batch_size, alpha=2.0, noise_scale=s)
    sgd = fp.SGD(U2, lr=lr, batch_size=batch_size, noise="isotropic", noise_scale=2 * s**2)
    x = GRID2.mesh()
    np.testing.assert_array_equal(model.drift(*x), sgd.drift(*x))
    D = model.gaussian_equivalent_diffusion()
    np.testing.assert_allclose(D[:, :, None, None] * np.ones(GRID2.shape), sgd.diffusion(*x), rtol=1e-14)
    # a Gaussian part adds SGD's own diffusion for sigma^2 = gaussian_scale
    both = LevySGD(U2, lr=lr, batch_size=batch_size, alpha=2.0, noise_scale=s, gaussian_scale=0.5)
    np.testing.assert_allclose(
        both.gaussian_equivalent_diffusion(),
        fp.SGD(U2, lr, batch_size, noise_scale=2 * s**2 + 0.5).diffusion(0.0, 0.0),
        rtol=1e-14,
    )


def test_levy_adam_at_alpha_two_is_preconditioned_sgd():
    q = np.array([2.0, 0.5])
    model = LevyAdam(U2, lr=0.1, batch_size=4, alpha=2.0, preconditioner=q, noise_scale=0.7)
    x = GRID2.mesh()
    np.testing.assert_allclose(model.drift(*x), -U2.grad(*x) / q[:, None, None], rtol=1e-15)
    # D = Q^-1 D_SGD Q^-1 with D_SGD = lr s^2 / B
    np.testing.assert_allclose(model.gaussian_equivalent_diffusion(), np.diag(0.1 * 0.49 / 4 / q**2), rtol=1e-14)


# ------------------------------------------------------------------------------------------------
# LevySGD's scale from the learning rate and the batch size
# ------------------------------------------------------------------------------------------------
def test_levy_sgd_scale_matches_summed_minibatch_noise():
    # Reference: scipy's stable sampler. k = 8 SGD steps of lr times the mean of B = 4 per-sample
    # noises of scale s; their sum over t = k lr must be stable with scale eps t^(1/alpha). Checked
    # through the empirical characteristic function E cos(w X) at two w, within 5 standard errors
    # (Var cos(wX) = (1 + phi(2w))/2 - phi(w)^2 <= 9/16 for a symmetric stable X); n = 20000 paths.
    alpha, s, lr, B, k, n = 1.5, 0.8, 0.05, 4, 8, 20_000
    rng = np.random.default_rng(7)
    g = stats.levy_stable.rvs(alpha, 0.0, scale=s, size=(n, k, B), random_state=rng)
    X = (lr * g.mean(axis=2)).sum(axis=1)
    eps = LevySGD(U1, lr=lr, batch_size=B, alpha=alpha, noise_scale=s).jumps.scale
    assert eps == pytest.approx(s * (lr / B) ** ((alpha - 1) / alpha), rel=1e-14)
    t = k * lr
    for w in (1.0, 3.0):
        empirical = np.cos(w * X).mean()
        assert abs(empirical - np.exp(-t * abs(eps * w) ** alpha)) < 5 * 0.75 / np.sqrt(n)


def test_per_coordinate_tail_indices():
    model = LevySGD(U2, lr=0.1, batch_size=8, alpha=[1.2, 1.8], noise_scale=[1.0, 0.5])
    law = model.jumps
    assert law.alphas == (1.2, 1.8) and law.axes == (0, 1) and not law.isotropic
    np.testing.assert_allclose(law.scales, [(0.1 / 8) ** (0.2 / 1.2), 0.5 * (0.1 / 8) ** (0.8 / 1.8)], rtol=1e-14)
    np.testing.assert_allclose(law.scales, stable_sgd_scale([1.0, 0.5], 0.1, 8, [1.2, 1.8]), rtol=1e-15)
    iso = LevySGD(U2, lr=0.1, batch_size=8, alpha=1.5, isotropic=True)
    assert iso.jumps.isotropic and iso.jumps.scales == (iso.jumps.scale,) * 2


def test_levy_sgd_schedules_change_the_jump_law():
    model = LevySGD(U1, lr=lambda t: 0.1 / (1 + t), batch_size=4, alpha=1.5)
    assert not model.autonomous
    assert model.parameters(1.0) == (0.05, 4.0)
    assert model.jump_law(1.0).scale == pytest.approx((0.05 / 4) ** (1 / 3), rel=1e-14)
    assert model.jumps == model.jump_law(0.0)
    # t = integral of lr: iterations(t) = integral dt / lr(t) = 10 (t + t^2 / 2)
    assert model.iterations(2.0) == pytest.approx(40.0, rel=1e-10)


# ------------------------------------------------------------------------------------------------
# LevyAdam's preconditioner, the Gaussian part, descriptions
# ------------------------------------------------------------------------------------------------
def test_levy_adam_scales_jumps_by_the_inverse_preconditioner():
    calls = []

    def preconditioner(U):
        calls.append(U)
        return np.sqrt(np.abs(np.diag(U.hessian(1.0, 0.0))))  # |diag H| at the minimum, ^(1/2)

    model = LevyAdam(U2, lr=0.1, batch_size=4, alpha=[1.5, 1.3], preconditioner=preconditioner)
    sgd = LevySGD(U2, lr=0.1, batch_size=4, alpha=[1.5, 1.3])
    q = np.sqrt(np.abs(np.diag(U2.hessian(1.0, 0.0))))
    assert len(calls) == 1  # evaluated once, at construction
    np.testing.assert_allclose(model.jumps.scales, np.array(sgd.jumps.scales) / q, rtol=1e-14)
    np.testing.assert_allclose(model.preconditioner, q, rtol=1e-15)
    assert model.potential() is None  # -Q^-1 grad U is no gradient for unequal q_j
    flat = LevyAdam(U1, lr=0.1, batch_size=4, alpha=1.5, preconditioner=[2.0])
    x = np.linspace(-2, 2, 9)
    # one dimension: -U'/q is the gradient of U/q (U = (x^2 - 1)^2, U' = 4x(x^2 - 1))
    np.testing.assert_allclose(flat.drift(x)[0], -4 * x * (x**2 - 1) / 2.0, rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(flat.potential()(x), (x**2 - 1) ** 2 / 2.0, rtol=1e-15)


def test_pure_jump_models_declare_no_gaussian_part():
    for model in (LevyLangevin(U2, 1.5, 0.2), LevySGD(U2, 0.1, 4, 1.5), LevyAdam(U2, 0.1, 4, 1.5, [1.0, 2.0])):
        assert model.gaussian is False and model.noise_axes == ()
        assert model.noise_amplitude(0.0) == 0.0
        np.testing.assert_array_equal(model.diffusion(*GRID2.mesh()), 0.0)
        json.dumps(model.describe())
    warm = LevyLangevin(U2, 1.5, 0.2, temperature=0.3)
    assert warm.gaussian and warm.noise_axes == (0, 1)
    np.testing.assert_allclose(warm.diffusion(0.0, 0.0), 0.3 * np.eye(2), rtol=1e-15)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: LevyLangevin(U1, alpha=2.1, scale=0.3), "^alpha: expected a tail index in \\(0, 2\\]"),
        (lambda: LevyLangevin(U1, alpha=1.5, scale=-0.3), "^scale: expected a positive noise scale"),
        (lambda: LevyLangevin(U1, alpha=1.5, scale=0.3, temperature=-1), "^temperature: expected a non-negative"),
        (lambda: LevyLangevin(U2, alpha=[1.5, 1.2], scale=0.3, isotropic=True), "^isotropic: a rotation-invariant"),
        (lambda: LevySGD(U1, 0.1, 4, alpha=0.0), "^alpha: expected a tail index in \\(0, 2\\]"),
        (lambda: LevySGD(U1, 0.1, 4, alpha=1.5, noise_scale=0), "^noise_scale: expected positive numbers"),
        (lambda: LevySGD(U1, 0.1, 0.5, alpha=1.5), "^batch_size: expected B >= 1"),
        (lambda: LevySGD(U1, 0.1, 4, alpha=1.5, gaussian_scale=-1), "^gaussian_scale: expected a non-negative"),
        (lambda: LevySGD(U2, 0.1, 4, alpha=[1.5, 1.1], isotropic=True), "^isotropic: a rotation-invariant"),
        (lambda: LevyAdam(U2, 0.1, 4, 1.5, preconditioner=[1.0, 0.0]), "^preconditioner: expected positive"),
        (lambda: LevyAdam(U2, 0.1, 4, 1.5, preconditioner=2.0), "^preconditioner: expected 2 positive numbers"),
        (lambda: LevyAdam(U2, 0.1, 4, 1.5, preconditioner=[1.0, 2.0, 3.0]), "^preconditioner: expected one value"),
    ],
)
def test_levy_models_refuse_bad_input(make, message):
    with pytest.raises(ValueError, match=message):
        make()
