"""IMEX Runge-Kutta ARS(2,2,2) for u' = Lambda u + N(u) with Lambda diagonal (Ascher, Ruuth & Spiteri 1997).

The alternative to :mod:`fpsolve.etdrk4`: the diagonal stiff part is implicit (L-stable, stiffly
accurate SDIRK with gamma = 1 - 1/sqrt(2)), the rest explicit; second order. Each implicit stage is
a division by 1 - gamma h Lambda (diagonal in Fourier). Cheaper per step than ETDRK4 (two
evaluations of N instead of four) but second order only; useful when Lambda is not diagonal-exact
(a future variable-coefficient implicit part) or as a cross-check of ETDRK4.

Tableaux (implicit / explicit), c = (0, gamma, 1):
    [0 0 0; 0 gamma 0; 0 1-gamma gamma],   [0 0 0; gamma 0 0; delta 1-delta 0],
with delta = 1 - 1/(2 gamma); the last stage is the new value. Step control: shared with ETDRK4,
:func:`fpsolve.etdrk4.integrate_diagonal_split`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ImexArs222"]

GAMMA = 1.0 - 1.0 / np.sqrt(2.0)
DELTA = 1.0 - 1.0 / (2.0 * GAMMA)


class ImexArs222:
    """One ARS(2,2,2) step u -> u(t + h) for u' = symbol * u + remainder(u).

    Parameters
    ----------
    symbol : array
        The diagonal linear part (non-positive real part for stability of the implicit stages).
    remainder : callable
        u -> N(u).
    """

    order = 2

    def __init__(self, symbol, remainder):
        self.symbol = np.asarray(symbol)
        self.remainder = remainder
        self.evaluations = 0

    def __call__(self, u, h: float):
        solve = 1.0 / (1.0 - GAMMA * h * self.symbol)
        N1 = self.remainder(u)
        U2 = solve * (u + h * GAMMA * N1)
        N2 = self.remainder(U2)
        K2 = self.symbol * U2
        self.evaluations += 2
        return solve * (u + h * ((1 - GAMMA) * K2 + DELTA * N1 + (1 - DELTA) * N2))
