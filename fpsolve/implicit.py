"""Implicit time stepping of dp/dt = A(t) p: TR-BDF2 and BDF2 on a ladder of step sizes.

Both methods are L-stable and second order and solve with I − c h A, so one sparse LU per step
size: steps are restricted to the ladder h = (t_end − t0)·2^−k, each rung factorized once and
reused (:class:`fpsolve.factorizations.Factorizations`). Steps land exactly on output times and
on the switches of a piecewise-constant operator (located by bisection on its keys). Called by
:func:`fpsolve.integrate.integrate`, which documents the methods.

Closed chains (no killing, 1ᵀA = 0) conserve 1ᵀp exactly in exact arithmetic, stage by stage.
At long times the steps grow to h|A| ~ 1e12 and the nearly singular solves err by ~ eps h |A| in
mass, both in the state and in the error estimate: the estimate then rejected every step above
h ~ rtol / (eps |A|) (67 067 steps to t = 1e11 on a 1-D double well at T = 1/24) while the mass
drifted by 3e-4. So on closed chains each step restores the mass of the state and removes the
mass of its error estimate (whose exact value is zero), along the state itself, and the error
control ignores the part of the estimate that round-off in h·A y explains (:func:`_round_off`):
668 steps to t = 1e11, mass error 1e-14.
"""

import math

import numpy as np

from fpsolve.factorizations import Factorizations

__all__ = ["run_trbdf2", "run_bdf2", "snap", "next_switch", "advance_bar"]

GAMMA = 2.0 - math.sqrt(2.0)
_D = GAMMA / 2.0  # I − _D h A is the matrix of both stages
_W_G = 1.0 / (GAMMA * (2.0 - GAMMA))  # BDF2 stage: weight of y_{n+γ}
_W_N = (1.0 - GAMMA) ** 2 / (GAMMA * (2.0 - GAMMA))  # ... and of y_n
# R(z) − e^z = C z³ + O(z⁴) for the TR-BDF2 stability function R; C = (3γ² − 4γ + 2)/(12(2 − γ)).
_ERR_C = (3 * GAMMA**2 - 4 * GAMMA + 2) / (12 * (2 - GAMMA))


def snap(h):
    """Round a special step size to 12 digits so that repeated landings share an LU."""
    return float(f"{h:.12e}")


def next_switch(op, a, b):
    """First time in (a, b] where the operator key changes (b if none); bisection on keys."""
    if op.autonomous:
        return b
    eps = 1e-6 * (b - a)
    lo, hi = a + eps, b - eps
    klo = op.key(lo)
    if op.key(hi) == klo:
        return b
    tol = 1e-12 * max(abs(a), abs(b), b - a)
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        if op.key(mid) == klo:
            lo = mid
        else:
            hi = mid
    return hi


def advance_bar(bar, dt):
    """Advance a tqdm progress bar (or None) by dt of simulated time."""
    if bar is not None:
        bar.update(float(dt))


def _keep_mass(y, y1, est=None):
    """On a closed chain: y1 rescaled to the mass of y, and the error estimate with its mass
    (zero in exact arithmetic, round-off ~ eps h|A| at long steps) removed along y1."""
    mass, new = float(y.sum()), float(y1.sum())
    if mass <= 0 or new <= 0:
        return y1, est
    y1 = y1 * (mass / new)
    return y1, (None if est is None else est - (float(est.sum()) / mass) * y1)


def _error_norm(e, y0, y1, rtol, atol, round_off=0.0):
    """(Σ|e_i| − round_off)₊ / Σ(atol + rtol·max(|y0_i|, |y1_i|)): the relative L1
    (total-variation) norm of the part of the estimate above its round-off level."""
    scale = np.sum(atol + rtol * np.maximum(np.abs(y0), np.abs(y1)))
    return float(max(np.sum(np.abs(e)) - round_off, 0.0) / scale)


def _round_off(solve, A, y, h):
    """What round-off alone puts into the error estimate of a step (L1), on a closed chain.

    The estimates are linear in h·A y filtered through solve = (I − c h A)^−1; near equilibrium
    A y is pure round-off, ~ eps |A_ii| |y_i| per entry (a few terms of size |A_ii||y_i| cancel).
    That noise, with random signs (a fixed seed: reproducible) and no mass, is filtered like the
    estimate: its slow components survive, the fast ones are damped. 8 eps covers the products
    in the estimate (TR-BDF2: three, weights summing to ~8 times 2C ≈ 0.11). Without this floor
    steps near equilibrium were rejected on round-off (h ≲ rtol / (eps |A|)). Killed chains do
    without it: there the noise model overstated the round-off of decaying states, and growing
    past the truncation error cost one rejection per step (1799 of 2481 at T = 1/16)."""
    signs = np.random.default_rng(0).choice([-1.0, 1.0], size=y.size)
    noise = 8 * np.finfo(float).eps * h * np.abs(A.diagonal()) * np.abs(y) * signs
    return float(np.abs(solve(noise - noise.sum() * y / y.sum())).sum())


def _trbdf2_step(facts, key, A, y, h):
    """One TR-BDF2 step of size h; returns (y_{n+1}, filtered local-error estimate)."""
    solve = facts.solver(key, A, 1.0, _D * h)
    f0 = A @ y
    yg = solve(y + _D * h * f0)  # trapezoidal stage to t + γh
    y1 = solve(_W_G * yg - _W_N * y)  # BDF2 stage to t + h
    fg, f1 = A @ yg, A @ y1
    raw = (2 * _ERR_C * h) * (f0 / GAMMA - fg / (GAMMA * (1 - GAMMA)) + f1 / (1 - GAMMA))
    return y1, solve(raw)


def _initial_step(op, y, t0, span, rtol, atol):
    """Hairer's starting step 0.01‖y‖/‖f‖ in the weighted norm, capped by the span."""
    _, A = op(t0)
    f = A @ y
    scale = atol + rtol * np.abs(y)
    d0, d1 = np.sqrt(np.mean((y / scale) ** 2)), np.sqrt(np.mean((f / scale) ** 2))
    return span if d1 <= 1e-300 else min(span, 0.01 * d0 / d1)


def _rung(h, span):
    """Largest ladder step span·2^−k (k ≥ 0) not above h."""
    k = max(0, math.ceil(math.log2(span / h) - 1e-12))
    return math.ldexp(span, -k)


def _plan_step(tn, t_out, rung, op):
    """Step size and landing time for the next attempt: a rung, or a special step landing on
    the next output time or operator switch (split in two equal halves when 1 < r/rung < 2)."""
    target = next_switch(op, tn, min(t_out, tn + 2 * rung))
    target = t_out if target >= t_out else target
    r = target - tn
    if rung >= r * (1 - 1e-12):
        return snap(r), target
    if 2 * rung > r:
        return snap(r / 2), None
    return rung, None


def _start(op, p0, t, rtol, atol, dt):
    """What every implicit driver starts from: an LU cache, the span, the output array with p0,
    the state and the first rung of the step ladder (or the fixed step)."""
    span = t[-1] - t[0]
    out = np.empty((len(t), len(p0)))
    out[0] = y = p0.copy()
    rung = dt if dt is not None else (_rung(_initial_step(op, y, t[0], span, rtol, atol), span) if span > 0 else 0)
    return Factorizations(), span, out, y, rung


def run_trbdf2(op, p0, t, rtol, atol, dt, bar, closed=False):
    """TR-BDF2 over the output times t (ladder-adaptive, or fixed dt); ``closed``: the chain
    kills no mass, which each step then keeps exactly (module docstring)."""
    facts, span, out, y, rung = _start(op, p0, t, rtol, atol, dt)
    tn, steps, rejected = t[0], 0, 0
    h_min = span * 2.0**-60
    for k in range(1, len(t)):
        while tn < t[k]:
            h, land = _plan_step(tn, t[k], rung, op)
            key, A = op(tn + h / 2)
            y1, est = _trbdf2_step(facts, key, A, y, h)
            if closed:
                y1, est = _keep_mass(y, y1, est)
            if dt is None:
                floor = _round_off(facts.solver(key, A, 1.0, _D * h), A, y1, h) if closed else 0.0
                err = _error_norm(est, y, y1, rtol, atol, floor)
                if err > 1 and h > h_min:
                    rejected += 1
                    rung = _rung(h * max(0.2, 0.9 * err ** (-1 / 3)), span)
                    continue
                grow = 4.0 if err == 0 else min(4.0, max(0.2, 0.9 * err ** (-1 / 3)))
                rung = _rung(h * grow, span) if land is None else max(rung, _rung(h * grow, span))
            tnew = land if land is not None else tn + h
            advance_bar(bar, tnew - tn)
            y, tn, steps = y1, tnew, steps + 1
        out[k] = y
    msg = f"{steps} steps ({rejected} rejected), {facts.count} LU factorizations" + (
        "" if dt is None else f", fixed dt = {dt:g}"
    )
    return out, steps, facts.count, msg


def run_bdf2(op, p0, t, rtol, atol, dt, bar, closed=False):
    """BDF2 with constant step on each run; one TR-BDF2 step (re)starts each run; ``closed`` as
    for :func:`run_trbdf2`.

    y_{n+1} − (2/3)hA y_{n+1} = (4/3)y_n − (1/3)y_{n−1}. Error by Milne's device against the
    quadratic extrapolation of the last three values: est = (2/11)(y_{n+1} − y_pred).
    """
    facts, span, out, y, rung = _start(op, p0, t, rtol, atol, dt)
    tn, steps, rejected = t[0], 0, 0
    history = []  # previous values at the current step size
    h_prev = None
    for k in range(1, len(t)):
        while tn < t[k]:
            h, land = _plan_step(tn, t[k], rung, op)
            key, A = op(tn + h / 2)
            if h != h_prev:
                history = []
            estimated = dt is None and len(history) >= 2
            if not history:  # second-order (re)start by TR-BDF2
                y1, _ = _trbdf2_step(facts, key, A, y, h)
            else:
                y1 = facts.solver(key, A, 1.0, 2 * h / 3)((4 * y - history[-1]) / 3)
            if closed:
                y1, _ = _keep_mass(y, y1)
            err = 0.0
            if estimated:
                pred = 3 * y - 3 * history[-1] + history[-2]
                floor = _round_off(facts.solver(key, A, 1.0, 2 * h / 3), A, y1, h) if closed else 0.0
                err = _error_norm((2 / 11) * (y1 - pred), y, y1, rtol, atol, floor)
            if estimated and err > 1:
                rejected += 1
                rung, h_prev, history = _rung(h * max(0.2, 0.9 * err ** (-1 / 3)), span), None, []
                continue
            history = (history + [y])[-2:]
            h_prev = h
            if estimated:
                grow = 4.0 if err == 0 else min(4.0, max(0.2, 0.9 * err ** (-1 / 3)))
                # change rung only when the estimate asks for at least a factor 2
                if grow >= 2 or grow < 1:
                    rung = _rung(h * grow, span) if land is None else max(rung, _rung(h * grow, span))
            tnew = land if land is not None else tn + h
            advance_bar(bar, tnew - tn)
            y, tn, steps = y1, tnew, steps + 1
        out[k] = y
    msg = f"{steps} steps ({rejected} rejected), {facts.count} LU factorizations"
    return out, steps, facts.count, msg
