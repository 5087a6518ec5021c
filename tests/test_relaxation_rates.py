"""Slowest relaxation rates of strongly metastable chains against high-precision arithmetic.

The reference is the chain itself (its float off-diagonal and killing rates, taken as exact) in
mpmath: the symmetrized birth-death matrix -S, with the exact diagonal b_i + d_i + kappa_i, is
factored as L D L^T - x I in 50 to 200 digits, and the count of negative pivots (Sylvester's law of
inertia: the Sturm count) is bisected to the eigenvalue. No fpsolve solver is involved. The tests
measure the eigensolvers alone, where gaps are down to 1e-135 of the fastest rate.
"""

import numpy as np
import pytest
import scipy.sparse as sparse

import fpsolve as fp
from fpsolve.linalg import _general_rates, killing_rates, relaxation_rates
from fpsolve.operators import MatrixFree
from fpsolve.rate_accuracy import _bidiagonal_kernel, _bidiagonal_reference
from fpsolve.solvers import birth_death_parts

mpmath = pytest.importorskip("mpmath")

EPS = np.finfo(float).eps


def sturm_count(lower, upper, killing, x):
    """How many eigenvalues of the birth-death matrix -S lie below x (mp arithmetic)."""
    count, pivot = 0, None
    for i in range(len(upper)):
        diagonal = upper[i] + lower[i] + killing[i]
        coupling = upper[i - 1] * lower[i] if i > 0 else 0
        pivot = diagonal - x if i == 0 or coupling == 0 else diagonal - x - coupling / pivot
        if pivot == 0:  # an exact zero pivot: perturb below any scale that matters
            pivot = -(mpmath.mpf(10) ** (-3 * mpmath.mp.dps))
        count += pivot < 0
    return count


def eigenvalue_by_bisection(lower, upper, killing, index, guess, digits=50):
    """Eigenvalue number ``index`` (0-based, ascending) of -S, bisected from guess * (1 -+ 1e-6):
    the bracket must hold it, so the float guess is already within 1e-6; then to 1e-20."""
    mpmath.mp.dps = digits
    lower, upper, killing = ([mpmath.mpf(float(v)) for v in a] for a in (lower, upper, killing))
    lo, hi = mpmath.mpf(guess) * (1 - 1e-6), mpmath.mpf(guess) * (1 + 1e-6)
    assert sturm_count(lower, upper, killing, lo) <= index < sturm_count(lower, upper, killing, hi)
    while hi - lo > hi * mpmath.mpf(10) ** -20:
        middle = (lo + hi) / 2
        if sturm_count(lower, upper, killing, middle) <= index:
            lo = middle
        else:
            hi = middle
    return float((lo + hi) / 2)


def chain_parts(Q):
    """(lower, upper): the rates i -> i-1 and i -> i+1 of a tridiagonal Q (entries of Q, no solve)."""
    parts = birth_death_parts(Q)
    assert parts is not None, "not a birth-death chain"
    return parts


def double_well_generator(temperature, cells, bounds=(-3.0, 3.0)):
    model = fp.Langevin(fp.landscapes.double_well(), temperature=temperature)
    return fp.FokkerPlanck(model, fp.Grid([bounds], [cells])).generator


@pytest.mark.parametrize(
    "temperature, cells, digits",
    [
        (1 / 16, 1000, 50),
        (1 / 20, 1000, 50),
        (1 / 20, 4000, 50),  # issue 8: 6.5e-5 and 2.8e-3 before
        (1 / 40, 2000, 50),  # gap 1e-18 of the fastest rate
        (1 / 300, 1000, 200),  # gap 1e-135: mp needs > 135 digits to resolve it next to the zero mode
    ],
)
def test_birth_death_gap_matches_sturm_bisection(temperature, cells, digits):
    gen = double_well_generator(temperature, cells)
    rate = gen.relaxation_rates(1)[0]
    lower, upper = chain_parts(gen.matrix)
    exact = eigenvalue_by_bisection(lower, upper, np.zeros(cells), 1, rate, digits)
    # Demmel-Kahan: singular values of a bidiagonal matrix with entries accurate to a few eps
    # are found to (2n - 1) eps relative by bisection; rates are their squares: 4 n eps, the
    # bound birth_death_rates reports. It does not grow with the barrier, and only as n eps with
    # refinement (measured 7e-16 .. 9e-15, docs/numerics.md).
    assert abs(rate - exact) <= 4 * cells * EPS * exact


@pytest.mark.parametrize("absorbing", ["ends", "ends and middle"])
def test_killed_birth_death_chain_matches_sturm_bisection(absorbing):
    gen = double_well_generator(1 / 12, 600, bounds=(-2.5, 2.5))
    x = gen.grid.centers[0]
    mask = (x < -2.0) | (x > 2.1)  # killing at both ends: the rotations' carry path
    if absorbing == "ends and middle":
        mask |= np.abs(x - 0.02) < 0.05  # two pieces, each killed on both sides
    gen = gen.with_absorbing(mask)
    rates = gen.relaxation_rates(3)
    lower, upper = chain_parts(gen.sub)
    killing = gen.killing  # the rates into absorbed cells, no cancellation
    for index, rate in enumerate(rates):  # the decay rate is ~e^-108 ~ 1e-47: 100 digits
        exact = eigenvalue_by_bisection(lower, upper, killing, index, rate, digits=100)
        # as above (4 n eps), plus the killing that relaxation_rates recomputes from row sums:
        # relative error eps max|Q_ii| / kappa ~ 1e-15 here (kappa is a full link rate)
        assert abs(rate - exact) <= (4 * gen.n_live + 8) * EPS * exact


def test_bidiagonal_factor_is_a_square_root_of_the_symmetrized_generator():
    rng = np.random.default_rng(3)
    n = 9
    upper = np.append(rng.random(n - 1) + 0.1, 0.0)
    lower = np.insert(rng.random(n - 1) + 0.1, 0, 0.0)
    upper[4] = lower[5] = 0.0  # the chain splits in two
    killing = np.where(rng.random(n) < 0.4, rng.random(n), 0.0)
    killing[0] = killing[-1] = 0.5
    args = (np.sqrt(upper), np.sqrt(lower), np.sqrt(killing))
    diagonal, superdiagonal = _bidiagonal_kernel(*args)
    twin = _bidiagonal_reference(*args)
    np.testing.assert_array_equal(diagonal, twin[0])  # same operations in the same order
    np.testing.assert_array_equal(superdiagonal, twin[1])
    R = np.diag(diagonal) + np.diag(superdiagonal, 1)
    minus_S = (
        np.diag(upper + lower + killing)
        - np.diag(np.sqrt(upper[:-1] * lower[1:]), 1)
        - np.diag(np.sqrt(upper[:-1] * lower[1:]), -1)
    )
    # R^T R = Q^T Q of an orthogonal Q: round-off of a few products per entry
    np.testing.assert_allclose(R.T @ R, minus_S, rtol=0, atol=1e-14 * np.abs(minus_S).max())


@pytest.mark.filterwarnings("ignore:grid. too coarse")
def test_2d_reversible_rates_match_the_separable_1d_references():
    # U = f(x) + g(y), isotropic noise: the 2-D chain's x-links are the same at every y (to 5e-14),
    # so its rates are sums of the x-chain's and the y-chain's: the slowest is the x gap, 1.7e-13
    # of the fastest rate, then the y-gap and the x-gap + y-gap, a pair 1e-13 apart.
    model = fp.Langevin(fp.Landscape(lambda x, y: (x**2 - 1) ** 2 + y**2), temperature=1 / 30)
    nx, ny = 200, 30
    gen = fp.FokkerPlanck(model, fp.Grid([(-2.0, 2.0), (-1.5, 1.5)], [nx, ny])).generator
    rates = gen.relaxation_rates(3)
    Q = sparse.csr_array(gen.matrix)
    x_chain = Q[np.arange(nx) * ny][:, np.arange(nx) * ny]
    y_chain = Q[:ny][:, :ny]
    gap_x = eigenvalue_by_bisection(*chain_parts(x_chain), np.zeros(nx), 1, rates[0])
    gap_y = eigenvalue_by_bisection(*chain_parts(y_chain), np.zeros(ny), 1, rates[1])
    # measured 2e-15 .. 7e-15; the rates are separable to 5e-14, which bounds what is asserted
    np.testing.assert_allclose(rates, [gap_x, gap_y, gap_x + gap_y], rtol=1e-12)


def cycle_with_drift(n, forward, backward):
    """A non-reversible ring: rate ``forward`` to i + 1 and ``backward`` to i - 1 (mod n)."""
    i = np.arange(n)
    Q = sparse.csr_array(
        (np.r_[np.full(n, forward), np.full(n, backward)], (np.r_[i, i], np.r_[(i + 1) % n, (i - 1) % n])), shape=(n, n)
    )
    return sparse.csr_array(Q - sparse.diags_array(Q.sum(axis=1)))


def nonreversible_double_well(temperature, cells=200):
    """The 1-D double-well chain times a drifting ring (Kronecker sum): non-reversible, and its
    slowest rate is exactly the 1-D gap (the ring's rates are 4 (1 - cos(2 pi m / 8)) >= 1.17)."""
    x_chain = sparse.csr_array(double_well_generator(temperature, cells, (-2.5, 2.5)).matrix)
    Q = sparse.csr_array(sparse.kronsum(cycle_with_drift(8, 3.0, 1.0), x_chain))
    exact = eigenvalue_by_bisection(*chain_parts(x_chain), np.zeros(cells), 1, relaxation_rates(x_chain, 1)[0])
    return Q, exact


@pytest.mark.filterwarnings("ignore:grid. too coarse")  # the float chain is the subject, not its discretization error
def test_nonreversible_error_estimate_brackets_the_true_error():
    for temperature in (1 / 4, 1 / 8, 1 / 12, 1 / 16, 1 / 20):
        Q, exact = nonreversible_double_well(temperature)
        rate, error = _general_rates(Q, 1, killing_rates(Q), True)
        # kappa(lambda) |r|, with the residual's own round-off, is a first-order bound: measured
        # 100 to 1000 times the true error (1.5e-12 .. 4.1e-6 relative here)
        assert abs(rate[0] - exact) <= error[0]
    assert abs(rate[0] - exact) > 1e-6 * exact  # at T = 1/20 refusing is necessary, not prudish


@pytest.mark.filterwarnings("ignore:grid. too coarse")  # the float chain is the subject, not its discretization error
def test_nonreversible_rates_are_returned_when_certified_and_refused_otherwise():
    Q, exact = nonreversible_double_well(1 / 8)
    assert relaxation_rates(Q, 1)[0] == pytest.approx(exact, rel=1e-6)  # measured 2e-11
    Q, exact = nonreversible_double_well(1 / 20)
    with pytest.raises(RuntimeError, match="relaxation_rates: rate 1 .* above rtol = 1e-06.*mean_exit_time"):
        relaxation_rates(Q, 1)


def test_matrix_free_rates_are_certified():
    Q, exact = nonreversible_double_well(1 / 8, cells=500)  # 4000 states: not densified

    def wrap(Q):
        return MatrixFree(Q.shape[0], lambda f: Q @ f, lambda p: Q.T @ p, Q.diagonal(), approximate=Q)

    assert relaxation_rates(wrap(Q), 1)[0] == pytest.approx(exact, rel=1e-6)  # measured 4e-11
    Q, _ = nonreversible_double_well(1 / 16, cells=500)
    with pytest.raises(RuntimeError, match="matrix-free"):
        relaxation_rates(wrap(Q), 1)


def test_gap_below_the_double_range_is_refused():
    gen = double_well_generator(1 / 800, 2000, bounds=(-2.0, 2.0))  # gap ~e^-800 ~ 1e-348
    with pytest.raises(ValueError, match="below 1e-290"):
        gen.relaxation_rates(1)


@pytest.mark.filterwarnings("ignore:grid. too coarse")  # the float chain is the subject, not its discretization error
def test_bad_arguments_are_refused():
    Q, _ = nonreversible_double_well(1 / 4, cells=20)
    with pytest.raises(ValueError, match="^reversible: Q violates detailed balance"):
        relaxation_rates(Q, 1, reversible=True)
    with pytest.raises(ValueError, match="^rtol:"):
        relaxation_rates(Q, 1, rtol=0.0)
    with pytest.raises(ValueError, match="^k:"):
        relaxation_rates(Q, Q.shape[0])


def test_problem_passes_rtol_through_to_the_certified_rates():
    # the refusal message suggests a looser rtol=: the problem and generator must accept it.
    # Reference: the 1-D chain's rates come from the bidiagonal route, certified to 4 n eps, so
    # both tolerances return the same numbers; an invalid rtol is named.
    fpe = fp.FokkerPlanck(fp.Langevin(fp.landscapes.double_well(), temperature=0.25), fp.Grid([(-3, 3)], [400]))
    strict, loose = fpe.relaxation_rates(2), fpe.relaxation_rates(2, rtol=1e-3)
    np.testing.assert_allclose(loose, strict, rtol=1e-12)
    with pytest.raises(ValueError, match="rtol"):
        fpe.relaxation_rates(2, rtol=2.0)


def test_generator_uses_exact_killing_not_row_sums():
    # A birth-death chain with fast internal rates (~1e4) absorbed through one slow link (1e-9):
    # the live chain's row deficit 1e-9 sits below the round-off of its row sums (eps*2e4 ~ 4e-12
    # per row, and the killing threshold 1e-12*|Q_ii| = 2e-8), so killing recovered from row sums
    # is lost and the chain would look closed. The Generator passes its exact rates into the
    # absorbing cell. Reference: the smallest eigenvalue of the symmetrized killed chain in 40-digit
    # mpmath (no fpsolve solver); tolerance 1e-9, far above the bidiagonal route's ~n eps bound.
    mpmath = pytest.importorskip("mpmath")
    rng = np.random.default_rng(5)
    n = 40
    up, down = rng.uniform(5e3, 1e4, n), rng.uniform(5e3, 1e4, n)
    up[-1], down[0] = 1e-9, 0.0  # the last live cell leaks into the absorbing cell n
    Q = sparse.diags_array(
        [np.append(down[1:], 1e4), np.append(-(up + down), -1e4), up], offsets=[-1, 0, 1], shape=(n + 1, n + 1)
    ).tolil()
    Q[n, n - 1], Q[n, n] = 1e4, -1e4  # the absorbing cell's own row (removed by the mask)
    grid = fp.Grid([(0.0, 1.0)], [n + 1])
    absorbing = np.arange(n + 1) == n
    gen = fp.Generator(sparse.csr_array(Q), grid, absorbing)
    mpmath.mp.dps = 40
    S = mpmath.matrix(n, n)
    for i in range(n):
        S[i, i] = mpmath.mpf(up[i]) + mpmath.mpf(down[i])
        if i + 1 < n:
            S[i, i + 1] = S[i + 1, i] = -mpmath.sqrt(mpmath.mpf(up[i]) * mpmath.mpf(down[i + 1]))
    exact = float(min(mpmath.eigsy(S, eigvals_only=True)))
    assert gen.relaxation_rates(1)[0] == pytest.approx(exact, rel=1e-9)
