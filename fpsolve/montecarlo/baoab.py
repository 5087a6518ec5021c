"""The pieces of one BAOAB step in phase space (theta, v) of dimension 2d, as cached Numba kernels.

One step of length h (Leimkuhler & Matthews 2013), coefficients from a per-step table row
``[f, e^{-gamma h}, a sqrt((1 - e^{-2 gamma h}) / (2 gamma)), w]``:

    kick   v += (h/2) f (g(theta) - w theta)       g = -grad U (B)
    drift  theta += (h/2) v                          (A)
    ou     v = e^{-gamma h} v + sd R(theta) xi       exact Ornstein-Uhlenbeck step, theta frozen (O)
    drift, kick.

:mod:`.phase_space` strings them together around the model's force and noise root; the built-in
polynomial landscapes with constant noise run ``em_step.builtin_kinetic_step`` (the force as data),
which the disk-cached generic step of :mod:`.em_step` calls, so those models compile nothing per
process.
The state holds theta in ``x[:d]`` and v in ``x[d:]``.
"""

from __future__ import annotations

import math

from numba import njit

from .rng import normal

__all__ = ["coefficients", "kick", "drift", "ou_step", "theta_of"]


@njit(cache=True, inline="always")
def coefficients(table, t, dt):
    """The row of the (rows, 4) table for the step starting at t (one row when autonomous)."""
    k = 0
    if table.shape[0] > 1:
        k = min(int(t / dt + 0.5), table.shape[0] - 1)
    return table[k, 0], table[k, 1], table[k, 2], table[k, 3]


@njit(cache=True, inline="always")
def kick(x, g, f, w, half, d):
    """B: v += half f (g - w theta), g the zero-padded 3-tuple -grad U(theta)."""
    for i in range(d):
        x[d + i] += half * f * (g[i] - w * x[i])


@njit(cache=True, inline="always")
def drift(x, half, d):
    """A: theta += half v."""
    for i in range(d):
        x[i] += half * x[d + i]


@njit(cache=True, inline="always")
def ou_step(x, root, decay, sd, dt, rng, S, d):
    """O: v = decay v + sd root xi, with ``root`` = Sigma(theta)^(1/2) (a (d, d) view of S's first
    block). Leaves in S the factor whose S S^T dt is the step's covariance: ``sd / sqrt(dt) root`` in
    the velocity block, zeros elsewhere (theta has no noise: the bridge test skips its faces)."""
    z0 = normal(rng)
    z1 = normal(rng) if d > 1 else 0.0
    z2 = normal(rng) if d > 2 else 0.0
    for i in range(d):
        noise = root[i, 0] * z0
        if d > 1:
            noise += root[i, 1] * z1
        if d > 2:
            noise += root[i, 2] * z2
        x[d + i] = decay * x[d + i] + sd * noise
    per_sqrt_dt = sd / math.sqrt(dt)
    for i in range(d):
        for j in range(d):
            S[d + i, d + j] = per_sqrt_dt * root[i, j]
    for i in range(d):
        for j in range(d):
            S[i, j] = 0.0
            S[i, d + j] = 0.0
            S[d + i, j] = 0.0


@njit(cache=True, inline="always")
def theta_of(x, d):
    """(theta_1, theta_2, theta_3), zero-padded, from the phase-space state."""
    return x[0], x[1] if d > 1 else 0.0, x[2] if d > 2 else 0.0
