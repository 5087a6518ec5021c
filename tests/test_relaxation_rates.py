"""Slowest relaxation rates of strongly metastable chains against 60-digit arithmetic (mpmath).

For a closed reversible chain fpsolve deflates the known stationary law and runs shift-inverted
Lanczos on the symmetrized generator. The reference is the same float matrix diagonalised in
60-digit arithmetic, so the test measures the eigensolver alone, where gaps are 1e9 times
smaller than the fastest rates.
"""

import numpy as np
import pytest

import fpsolve as fp

mpmath = pytest.importorskip("mpmath")


def symmetrized_spectrum_60_digits(Q):
    """Eigenvalues of S_ij = sqrt(Q_ij Q_ji), S_ii = -sum_j Q_ij, in 60-digit arithmetic.

    The diagonal is recomputed from the float off-diagonal rates, so the reference generator is
    exactly conservative (its zero mode is exactly 0); sorted by modulus.
    """
    mpmath.mp.dps = 60
    dense = Q.toarray()
    n = dense.shape[0]
    S = mpmath.matrix(n, n)
    for i in range(n):
        for j in (i - 1, i + 1):
            if 0 <= j < n and dense[i, j] > 0:
                S[i, j] = mpmath.sqrt(mpmath.mpf(dense[i, j]) * mpmath.mpf(dense[j, i]))
                S[i, i] -= mpmath.mpf(dense[i, j])
    values = mpmath.eigsy(S, eigvals_only=True)
    return sorted((-v for v in values), key=abs)


# the grid is deliberately coarse (Peclet warning): the eigensolver is tested on the float
# generator itself, whatever its discretization error
@pytest.mark.filterwarnings("ignore:grid. too coarse")
@pytest.mark.parametrize("temperature", [0.1, 0.05])
def test_tiny_spectral_gap_matches_high_precision(temperature):
    model = fp.Langevin(fp.landscapes.double_well(), temperature=temperature)
    fpe = fp.FokkerPlanck(model, fp.Grid([(-2.0, 2.0)], [48]))
    rates = fpe.relaxation_rates(2)
    reference = symmetrized_spectrum_60_digits(fpe.generator.matrix)
    assert abs(reference[0]) < 1e-40  # the stationary law
    gap, second = float(reference[1]), float(reference[2])
    # the gap is e^-1/T-small (4e-9 at T = 0.05) against rates ~1e3 on this grid; deflation keeps
    # it to round-off relative accuracy: 1e-6 leaves room for the Lanczos tolerance
    assert rates[0] == pytest.approx(gap, rel=1e-6)
    assert rates[1] == pytest.approx(second, rel=1e-9)
