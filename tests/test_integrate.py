"""Time integrators against scipy.linalg.expm (a reference no fpsolve solver made)."""

import numpy as np
import pytest
import scipy.sparse as sparse
from scipy.linalg import expm

from fpsolve.integrate import IntegrationResult, integrate


def random_forward_operator(n=12, seed=0, scale=1.0):
    """A = Qᵀ for a generator Q with random positive rates on a random half of the pairs."""
    rng = np.random.default_rng(seed)
    rates = scale * rng.random((n, n)) * (rng.random((n, n)) < 0.5)
    rates += scale * np.diag(rng.random(n - 1) + 0.1, 1)  # keep it irreducible
    rates += scale * np.diag(rng.random(n - 1) + 0.1, -1)
    np.fill_diagonal(rates, 0.0)
    Q = rates - np.diag(rates.sum(axis=1))
    return sparse.csr_array(Q.T)


def initial(n, seed=1):
    p = np.random.default_rng(seed).random(n)
    return p / p.sum()


@pytest.mark.parametrize("method, bound", [("cram", 1e-12), ("exponential", 1e-10)])
def test_exponential_matches_expm(method, bound):
    A = random_forward_operator(scale=5.0)
    p0 = initial(12)
    t = [0.0, 0.01, 0.3, 2.0, 7.5]
    res = integrate(A, p0, t, method=method)
    ref = np.array([expm(s * A.toarray()) @ p0 for s in t])
    # CRAM(16,16) is uniformly within 1.6e-15 of e^z on (-inf, 0]; the spectrum of this
    # nonnormal A is mildly complex, and the complex LUs add round-off: 1e-12 relative to |p0|.
    # The Krylov exponential stops when successive dimensions agree to 1e-10 |p0|.
    np.testing.assert_allclose(res.y, ref, rtol=0, atol=bound * np.abs(p0).max())


def test_exponential_equal_increments_evolve_output_to_output():
    A = random_forward_operator(scale=5.0)
    p0 = initial(12)
    t = np.linspace(0, 2, 9)
    res = integrate(A, p0, t, method="cram")
    assert res.factorizations == 8  # one increment: 8 complex LUs, reused
    ref = expm(2 * A.toarray()) @ p0
    np.testing.assert_allclose(res.y[-1], ref, atol=1e-12 * p0.max())  # 8 steps of 1.6e-15


def test_cram_accuracy_off_the_real_axis():
    # e^{tB} for 2×2 blocks [[a, b], [-b, a]] (eigenvalues a ± ib): e^{ta}·rotation by tb.
    a = -np.logspace(-3, 3, 25)
    for slope, bound in [(0.1, 1e-14), (0.5, 1e-11)]:  # measured 2e-15 and 2.6e-12
        b = slope * np.abs(a)
        blocks = [np.array([[ai, bi], [-bi, ai]]) for ai, bi in zip(a, b)]
        A = sparse.block_diag(blocks, format="csr")
        p0 = np.tile([1.0, 0.0], len(a))
        res = integrate(A, p0, [0, 1], method="cram")
        ref = np.ravel([np.exp(ai) * np.array([np.cos(bi), -np.sin(bi)]) for ai, bi in zip(a, b)])
        assert np.abs(res.y[-1] - ref).max() < bound


def test_trbdf2_is_second_order_with_fixed_step():
    A = random_forward_operator()
    p0 = initial(12)
    ref = expm(A.toarray()) @ p0
    errors = [np.abs(integrate(A, p0, [0, 1], dt=dt).y[-1] - ref).sum() for dt in (0.1, 0.05)]
    order = np.log2(errors[0] / errors[1])
    assert 1.8 < order < 2.2, order


def test_trbdf2_adaptive_meets_rtol():
    A = random_forward_operator(scale=10.0)
    p0 = initial(12)
    t = [0, 0.1, 1.0, 3.0]
    ref = np.array([expm(s * A.toarray()) @ p0 for s in t])
    for rtol in (1e-5, 1e-8):
        res = integrate(A, p0, t, rtol=rtol)
        error = np.abs(res.y - ref).sum(axis=1).max()
        # rtol bounds each step's L1 error relative to |p|_1 = 1, and e^{tA} is an L1
        # contraction, so the global error is at most steps * rtol (rigorous if the estimate
        # is); in practice it grows like rtol^(2/3): 2x rtol at 1e-5, 23x at 1e-8 measured.
        assert error < res.steps * rtol
        assert error < 50 * rtol
        assert res.factorizations < 25  # the ladder: few rungs


def test_bdf2_adaptive_and_fixed():
    A = random_forward_operator(scale=10.0)
    p0 = initial(12)
    ref = expm(0.5 * A.toarray()) @ p0  # before equilibrium (reached near t = 2)
    res = integrate(A, p0, [0, 0.5], method="bdf2", rtol=1e-7)
    error = np.abs(res.y[-1] - ref).sum()
    assert error < res.steps * 1e-7 and error < 100 * 1e-7  # as for trbdf2; 33x measured
    errors = [np.abs(integrate(A, p0, [0, 0.5], method="bdf2", dt=dt).y[-1] - ref).sum() for dt in (0.01, 0.005)]
    assert 1.7 < np.log2(errors[0] / errors[1]) < 2.3  # second order


def test_explicit_euler_conserves_mass_keeps_positivity_and_is_first_order():
    A = random_forward_operator(n=30, scale=5.0)
    p0 = np.zeros(30)
    p0[3] = 1.0  # a point mass: zeros elsewhere
    T = 0.1
    res = integrate(A, p0, [0, 0.03, T], method="explicit")
    assert np.abs(res.y.sum(axis=1) - 1).max() < 1e-12  # columns of I + hA sum to 1
    assert res.y.min() >= 0.0  # entries of I + hA are >= 0
    exact = expm(T * A.toarray()) @ p0
    h = 0.9 / np.abs(A.diagonal()).max()
    errors = []
    for dt in (h / 8, h / 16):
        error = integrate(A, p0, [0, T], method="explicit", dt=dt).y[-1] - exact
        # (I + hA)^n = e^{TA}(I - (hT/2)A² + O(h²)): the leading error term, to 10%
        leading = -(dt * T / 2) * (A @ (A @ exact))
        assert np.abs(error - leading).sum() < 0.1 * np.abs(leading).sum()
        errors.append(np.abs(error).sum())
    assert 0.9 < np.log2(errors[0] / errors[1]) < 1.1  # first order


def test_schedule_matches_product_of_exponentials():
    A0 = random_forward_operator(scale=3.0)
    p0 = initial(12)
    switch = 0.37  # not an output time

    def operator(t):
        s = 1.0 if t < switch else 3.0
        return s, s * A0

    t = [0.0, 0.5, 1.0]
    E = lambda s: expm(s * A0.toarray())  # noqa: E731
    ref = [p0, E(3 * 0.13) @ E(switch) @ p0, E(3 * 0.63) @ E(switch) @ p0]
    res = integrate(operator, p0, t, rtol=1e-9)
    # The switch is located by bisection on the keys and landed on, so the error is that of
    # the autonomous case (<= 50 rtol, test_trbdf2_adaptive_meets_rtol); 22x measured.
    assert np.abs(res.y - np.array(ref)).sum(axis=1).max() < 50 * 1e-9
    exp_res = integrate(operator, p0, t, method="explicit")
    # first order with h = 0.9/max|A_ii| ~ 0.02: error ~ (h/2) T |A²p| ~ 1e-2 (see above)
    assert np.abs(exp_res.y - np.array(ref)).sum(axis=1).max() < 3e-2
    with pytest.raises(ValueError, match="method.*trbdf2"):
        integrate(operator, p0, t, method="exponential")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(method="rk4"), "method.*trbdf2"),
        (dict(t=[0, 1, 1]), "^t:"),
        (dict(p0=np.ones(5)), "^p0:"),
        (dict(p0=np.full(12, np.nan)), "^p0:"),
        (dict(dt=-1.0), "^dt:"),
    ],
)
def test_bad_input_raises_a_sentence(kwargs, match):
    args = dict(operator=random_forward_operator(), p0=initial(12), t=[0, 1])
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        integrate(**args)


def test_result_is_readable_and_inputs_untouched():
    A = random_forward_operator()
    p0 = initial(12)
    keep = p0.copy()
    res = integrate(A, p0, [0, 1, 2])
    assert isinstance(res, IntegrationResult) and res.y.shape == (3, 12)
    assert "trbdf2" in repr(res) and "steps=" in repr(res)
    np.testing.assert_array_equal(p0, keep)


def test_keyboard_interrupt_propagates():
    A = random_forward_operator()

    def operator(t):
        if t > 0.5:
            raise KeyboardInterrupt
        return 0, A

    with pytest.raises(KeyboardInterrupt):
        integrate(operator, initial(12), [0, 1])


@pytest.mark.parametrize("method", ["trbdf2", "bdf2", "cram", "exponential"])
def test_long_times_reach_the_null_vector_with_exact_mass(method):
    # t = 1e10 is ~1e10 relaxation times of this chain (gap ~ 1): only (1^T p0) pi is left.
    # Reference: the null vector of A by dense SVD (scipy), accurate to ~1e-15 here.
    from scipy.linalg import null_space

    A = random_forward_operator(scale=5.0)
    p0 = initial(12)
    pi = null_space(A.toarray())[:, 0]
    pi /= pi.sum()
    res = integrate(A, p0, [0, 1.0, 1e10], method=method)
    assert np.abs(res.y.sum(axis=1) - 1).max() < 1e-14  # mass kept to round-off
    # the implicit methods reach the fixed point of their step, the null vector of A up to
    # round-off (cond ~ 10 here); the exponential ones deflate it exactly
    np.testing.assert_allclose(res.y[-1], pi, rtol=0, atol=1e-13)
    # once the error estimate is at round-off level the ladder grows up to 4x per step: the nine
    # decades after t = 10 cost a few dozen steps (measured 15 and 28; the transient ~700, 1200)
    to_ten = integrate(A, p0, [0, 1.0, 10.0], method=method)
    assert res.steps - to_ten.steps < 100
