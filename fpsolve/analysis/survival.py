"""Survival of a killed chain on a time grid that adapts to the law: S(t) = 1^T exp(t Q_OO^T) w.

The surviving mass p(t) = exp(t A) w, A = Q_OO^T, is stepped from node to node (never from 0
to a long time), segment by segment: the segment [a, a + L] is covered by equal steps, all
evaluated from p(a) with one shift-and-invert Krylov space (:func:`fpsolve.integrate.integrate`,
method "exponential", exact in time to ~1e-10 relative to |p(a)|). At every node the law is
known exactly, S = sum(p) and f = -S' = k . p (k the killing rates), and between nodes a cubic
Hermite interpolant is used. Its error is measured, not assumed: the interpolant through the
even nodes alone is compared with S at the odd nodes; a segment is accepted when that defect
is below 16 * tolerance (the error falls by 2^4 = 16 when the step is halved), and the defect,
which scales as step^4, sets the next step as in an ODE solver. The time grid is thus fine
exactly where S bends (the peak of the density, a start next to the exit) and coarse elsewhere
(L grows to MAX_GROWTH a where nothing happens).

The stepping stops once the surviving mass is quasi-stationary. With u1 = E.[tau] and
u2 = E.[tau^2] from the backward equations (Q u1 = -1, Q u2 = -2 u1, the trusted solves of
:mod:`fpsolve.analysis.backward`), the moments of the remaining law are exact:

    mu0 = S(t) = 1 . p,   mu1 = int_t^inf S = p . u1,   mu2 = int_t^inf (s - t) S(s) ds = p . u2 / 2,

and kappa = mu0 mu2 / mu1^2 - 1 vanishes exactly when the rest of the law is one exponential
(for S = a e^{-l1 s} + b e^{-l2 s}, kappa = (b/a)(1 - l1/l2)^2 to first order). Beyond the last
node t_q, S(t) = S(t_q) e^{-r (t - t_q)} with r = mu0 / mu1, which keeps the law's mean equal
to the chain's mean exit time whatever the tail, and leaves an absolute error about
kappa * S(t_q) / (1 - l1/l2)^2 elsewhere. Metastable problems reach this after a few
relaxation times inside the well, however long the exit itself takes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import integrate as _integrate

__all__ = [
    "SurvivalNodes",
    "survival_nodes",
    "hermite_midpoint",
    "largest_rise",
    "INTERPOLATION_TOL",
    "TAIL_TOL",
    "RISE_WARN",
    "RISE_REFUSE",
]

#: Target for the cubic Hermite interpolation error of S between nodes (absolute; S is a
#: probability). Node values themselves carry the Krylov error, ~1e-10.
INTERPOLATION_TOL = 1e-9

#: Stop stepping when kappa * S(t_q) (the absolute error of the exponential tail, up to the
#: factor 1 / (1 - l1/l2)^2) is below this at two consecutive segment ends, or when S < TAIL_TOL.
TAIL_TOL = 1e-11

#: A segment has between MIN_STEPS and TARGET_STEPS double steps (16 to 64 nodes): its
#: densities are held in memory, and each output time costs a small exponential.
MIN_STEPS = 8
TARGET_STEPS = 32

#: Segments grow to at most [a, (1 + MAX_GROWTH) a]; the Hermite check guards every one.
MAX_GROWTH = 16.0

#: Segments beyond which the mass is declared never to become quasi-stationary (> 2^400 t_min).
MAX_SEGMENTS = 400

#: A survival function must not increase. A Markov chain's S rises only by its Krylov error
#: (~1e-10). A conservative generator with negative off-diagonal entries (the kinetic scheme's
#: second-order transport) can push negative mass out of the domain for a while: S rises by the
#: mass of that spurious negative exit flux (a point start is a delta function, which the scheme
#: resolves with oscillations). Measured on the double well at T = 0.5, gamma = 1, from (-1, 0):
#: 1.1e-4, 1.7e-5, 5.2e-7 on 20x40, 40x80 and 80x160 cells (theta x v; O(h^2) and faster), 2e-3
#: to 4e-3 on 16x24 grids. A rise above RISE_WARN warns (the law's cdf is off by about that much
#: near the rise); one above RISE_REFUSE is refused: the law's density is then negative on more
#: than 1 % of the probability, and its quantiles are not those of any distribution.
RISE_WARN = 1e-4
RISE_REFUSE = 1e-2


@dataclass(frozen=True)
class SurvivalNodes:
    """S and f = -S' at the nodes t (t[0] = 0), and the exponential tail beyond t[-1].

    ``tail_rate`` r: S(t) = S[-1] e^{-r (t - t[-1])} for t > t[-1]; ``tail_kappa``: the
    quasi-stationarity defect kappa at t[-1] (0 for an exact exponential); ``tail_moments``:
    (mu1, mu2) of the remaining law at t[-1], from the backward solutions.
    """

    t: np.ndarray
    S: np.ndarray
    f: np.ndarray
    tail_rate: float
    tail_kappa: float
    tail_moments: tuple


def hermite_midpoint(S0, S1, f0, f1, length):
    """The cubic Hermite interpolant of S (slopes -f) at the midpoint of an interval."""
    return 0.5 * (S0 + S1) - 0.125 * length * (f0 - f1)


def survival_nodes(
    gen, weights: np.ndarray, u1: np.ndarray, u2: np.ndarray, tolerance: float = INTERPOLATION_TOL
) -> SurvivalNodes:
    """The adaptive node table of S(t) = 1^T exp(t Q_OO^T) w for the live-cell weights w >= 0.

    ``u1``, ``u2``: the first two exit-time moments on the live cells (Q u1 = -1, Q u2 = -2 u1).
    The step (node spacing) is controlled like an ODE step: the Hermite defect of a segment,
    which scales as step^4, sets the next step; segments [a, a + L] hold up to
    :func:`_max_nodes` equal steps with L <= MAX_GROWTH a, so quiet stretches cost one Krylov
    space each. Raises RuntimeError when the step falls below 1e-12 of t, or when the mass has
    not become quasi-stationary after MAX_SEGMENTS segments.
    """
    killing, forward = gen.killing, gen.forward
    p = np.asarray(weights, dtype=float)
    # the first segment [0, t_min] resolves the fastest way out of the start's own cells
    around = np.flatnonzero(p)
    fastest = max(float(np.abs(gen.diagonal[around]).max()), float(p @ killing) / float(p.sum()))
    t_min = 1e-3 / fastest
    ts, Ss, fs = [0.0], [float(p.sum())], [float(p @ killing)]
    start, step, settled = 0.0, t_min / (2 * MIN_STEPS), 0
    for _ in range(MAX_SEGMENTS):
        length = t_min if start == 0.0 else min(MAX_GROWTH * start, 2 * TARGET_STEPS * step)
        nodes = 2 * max(MIN_STEPS, int(np.ceil(length / (2 * step) - 1e-9)))
        taus = length * np.arange(1, nodes + 1) / nodes
        P = _integrate.integrate(forward, p, np.concatenate([[0.0], taus]), "exponential").y[1:]
        S, f = P.sum(axis=1), P @ killing
        error = _hermite_defect(Ss[-1], fs[-1], S, f, 2 * taus[0])
        # the defect of the coarse interpolant ~ (2 step)^4: the fine one errs ~16 times less
        factor = 0.8 * (16.0 * tolerance / max(error, 1e-300)) ** 0.25
        if error > 16.0 * tolerance:
            step = taus[0] * max(factor, 0.1)
            if step < 1e-12 * max(start, t_min):
                raise RuntimeError(
                    f"exit_time_distribution: the survival function bends too sharply near "
                    f"t = {start:.3g} to be interpolated to {tolerance:g} (Hermite defect "
                    f"{error:.2g} at steps of {taus[0]:.2g})"
                )
            continue
        ts.extend(start + taus), Ss.extend(S), fs.extend(f)
        p, start, step = P[-1], start + length, taus[0] * min(factor, MAX_GROWTH)
        mu0, mu1, mu2 = float(p.sum()), float(p @ u1), 0.5 * float(p @ u2)
        kappa = mu0 * (mu2 / mu1) / mu1 - 1.0 if mu1 > 0 else np.inf
        settled = settled + 1 if abs(kappa) * mu0 <= TAIL_TOL else 0
        if settled >= 2 or (mu0 <= TAIL_TOL and mu1 > 0):
            rate = mu0 / mu1 if mu0 > 0 else float(fs[-1] / max(Ss[-1], 1e-300))
            return SurvivalNodes(np.array(ts), np.array(Ss), np.array(fs), rate, kappa, (mu1, mu2))
    raise RuntimeError(
        f"exit_time_distribution: the surviving mass is not quasi-stationary after t = {start:.3g} "
        f"(kappa = {kappa:.3g}, S = {mu0:.3g}); the chain has no single slowest exit mode that "
        "double precision resolves"
    )


def _hermite_defect(S_start, f_start, S, f, coarse):
    """max |H - S| at the odd nodes, H the cubic Hermite interpolant through the start and the
    even nodes (spacing ``coarse``); the interpolant through all nodes errs ~16 times less."""
    S_even = np.concatenate([[S_start], S[1::2]])
    f_even = np.concatenate([[f_start], f[1::2]])
    predicted = hermite_midpoint(S_even[:-1], S_even[1:], f_even[:-1], f_even[1:], coarse)
    return float(np.abs(predicted - S[0::2]).max())


def largest_rise(t: np.ndarray, S: np.ndarray) -> tuple:
    """``(rise, time)``: the largest increase max_t [S(t) - min_{s <= t} S(s)] of a survival
    function tabulated at the nodes ``t``, and the node where it peaks (0 for a non-increasing S)."""
    rise = S - np.minimum.accumulate(S)
    i = int(np.argmax(rise))
    return float(rise[i]), float(t[i])
