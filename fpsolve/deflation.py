"""The stationary part of a closed chain, carried exactly by the exponential integrators.

A forward operator A = Q^T of a closed chain (no killing) has 1^T A = 0 and A pi = 0, so every
state splits as p = (1^T p) pi + r with 1^T r = 0, and exp(tA) p = (1^T p) pi + exp(tA) r. Both
parts are invariant under exp(tA) and under every resolvent (c I - s A)^-1, since 1^T is a left
eigenvector of them all.

Why it matters: an exponential integrator at a long time t solves with c I - s A where s |A| is
huge, a nearly singular matrix whose condition number is ~ s |A| / c. A backward-stable solve then
errs by ~ eps s |A| along the stationary law (the near-null direction): the solution's mass drifts,
rational Krylov never converges, CRAM returns a law with the wrong mass (measured: mass 0.72 at
t = 1e3 / gap on a 1-D double well at T = 1/24). Deflating the stationary part and projecting
each solve back onto 1^T r = 0 along pi removes exactly that error; what remains is the error of
pi itself (from :func:`fpsolve.stationary.stationary_distribution`: exact detailed balance for
reversible chains, a checked sparse solve otherwise).
"""

from __future__ import annotations

import numpy as np

from .linalg import killing_rates
from .stationary import stationary_distribution

__all__ = ["DEFLATE_ABOVE", "closed_chain_law", "zero_mass"]

#: Deflate when the integrator's shifted solves have s |A| above this: their mass error
#: eps s |A| (~ 2e-12 here) then approaches the Krylov tolerance 1e-10 |v| after amplification
#: by the Krylov dimension. Below it, deflation is not needed and costs a stationary solve.
DEFLATE_ABOVE = 1e4


def closed_chain_law(A):
    """The stationary law pi of the closed chain with forward operator A = Q^T (sparse or
    matrix-free), or None when A kills mass (no stationary law: the slow decay is physical) or
    the chain is reducible (several closed classes: no single law to deflate)."""
    if np.any(killing_rates(A.T) > 0):  # A's columns are Q's rows
        return None
    try:
        return stationary_distribution(A.T)
    except ValueError:  # reducible: the pinned solve is singular
        return None


def zero_mass(w, law):
    """w minus its mass along ``law``: the projection onto 1^T w = 0 that commutes with A."""
    return w - w.sum() * law
