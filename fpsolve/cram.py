"""exp(dt A) y by the Chebyshev rational approximation of order 16 (CRAM).

CRAM is the best uniform rational approximation to e^z on (-inf, 0]; in Pusa's incomplete
partial-fraction form (Nucl. Sci. Eng. 182:297, 2016) it costs 8 complex sparse LUs per distinct
time increment. Accurate to ~1e-14 while the spectrum *and pseudospectrum* of dt A stay near the
negative real axis; drift-dominated (strongly non-normal) generators can break it badly, where the
shift-and-invert Krylov exponential (fpsolve.krylov) does not. On closed chains at long times
(dt |A| above fpsolve.deflation.DEFLATE_ABOVE) the stationary part is deflated: without it the
nearly singular solves lost 28 % of the mass at t = 1e3 / gap on a 1-D double well at T = 1/24.
"""

import numpy as np
import scipy.sparse as sparse

from .deflation import DEFLATE_ABOVE, closed_chain_law, zero_mass
from .factorizations import Factorizations

__all__ = ["cram_apply", "run_cram"]

# CRAM order 16, incomplete-partial-fraction form (Pusa 2016, Table; as used by OpenMC):
# e^z ≈ α0 ∏_j (1 + α_j/(z − θ_j) + conj(α_j)/(z − conj(θ_j))). Measured max |r(z) − e^z|:
# 1.6e-15 on (−∞, 0]; 2e-15 on the sector |Im z| ≤ 0.1|Re z|, 2.6e-12 on |Im z| ≤ 0.5|Re z|;
# 1e-11 on the strip |Im z| ≤ 1 (tests/test_integrate.py checks these numbers).
_CRAM_ALPHA = np.array(
    [
        +5.464930576870210e3 - 3.797983575308356e4j,
        +9.045112476907548e1 - 1.115537522430261e3j,
        +2.344818070467641e2 - 4.228020157070496e2j,
        +9.453304067358312e1 - 2.951294291446048e2j,
        +7.283792954673409e2 - 1.205646080220011e5j,
        +3.648229059594851e1 - 1.155509621409682e2j,
        +2.547321630156819e1 - 2.639500283021502e1j,
        +2.394538338734709e1 - 5.650522971778156e0j,
    ]
)
_CRAM_THETA = np.array(
    [
        +3.509103608414918 + 8.436198985884374j,
        +5.948152268951177 + 3.587457362018322j,
        -5.264971343442647 + 16.22022147316793j,
        +1.419375897185666 + 10.92536348449672j,
        +6.416177699099435 + 1.194122393370139j,
        +4.993174737717997 + 5.996881713603942j,
        -1.413928462488886 + 13.49772569889275j,
        -10.84391707869699 + 19.27744616718165j,
    ]
)
_CRAM_ALPHA0 = 2.124853710495224e-16


def cram_apply(facts, A, dt, y, law=None):
    """exp(dt·A) y ≈ α0 ∏_j (I + 2 Re α_j (dt·A − θ_j I)^−1) y, the factors applied in turn.

    With ``law`` (the stationary law of a closed chain) the stationary part of y is carried
    exactly and the factors act on the zero-mass rest, projected back onto zero mass after each
    factor (every factor keeps 1ᵀy = 0 exactly; the round-off of its nearly singular solve at
    large dt|A| does not): see :mod:`fpsolve.deflation`.
    """
    y = y.astype(float, copy=True)
    mass = 0.0
    if law is not None:
        mass = float(y.sum())
        y = zero_mass(y, law)
    for j, (alpha, theta) in enumerate(zip(_CRAM_ALPHA, _CRAM_THETA)):
        solve = facts.solver((None, j), A, complex(-theta), -dt)  # (dt A − θ I)
        y = y + 2.0 * np.real(alpha * solve(y.astype(complex)))
        if law is not None:
            y = zero_mass(y, law)
    return _CRAM_ALPHA0 * y + (0.0 if law is None else mass * law)


def run_cram(op, p0, t, bar, snap, advance_bar):
    """CRAM at the output times t: output to output when the increments repeat (LUs reused),
    else from t[0]; ``snap`` rounds increments, ``advance_bar`` updates a progress bar."""
    _, A = op(t[0])
    A = sparse.csc_array(A)
    incs = [snap(d) for d in np.diff(t)]
    stepwise = len(set(incs)) < len(incs)  # equal increments: evolve output to output
    facts = Factorizations(maxsize=8 * max(1, len(set(incs))) if stepwise else 8)
    norm_a = 2.0 * float(np.abs(A.diagonal()).max(initial=0.0))
    law = closed_chain_law(A) if (t[-1] - t[0]) * norm_a > DEFLATE_ABOVE else None
    out = np.empty((len(t), len(p0)))
    out[0] = p0
    for k in range(1, len(t)):
        if stepwise:
            out[k] = cram_apply(facts, A, incs[k - 1], out[k - 1], law)
        else:
            out[k] = cram_apply(facts, A, t[k] - t[0], p0, law)
        advance_bar(bar, t[k] - t[k - 1])
    how = "output to output" if stepwise else "from t[0]"
    msg = f"CRAM(16,16) evaluated {len(t) - 1} times {how}, {facts.count} complex LUs"
    return out, len(t) - 1, facts.count, msg
