"""Symmetric alpha-stable random variates in Numba kernels (Chambers-Mallows-Stuck).

Normalisation as in DESIGN.md section 1: a standard variate Z has E exp(i k Z) = exp(-|k|^alpha),
0 < alpha <= 2 (alpha = 2 is N(0, 2), alpha = 1 the standard Cauchy law).

* ``symmetric_stable(rng, alpha)``: Chambers, Mallows & Stuck (1976) with V uniform on
  (-pi/2, pi/2) and W standard exponential,

      Z = sin(alpha V) / cos(V)^(1/alpha) * (cos((1 - alpha) V) / W)^((1 - alpha) / alpha),

  and Z = tan V at alpha = 1 (the limit of the same formula).
* ``positive_stable(rng, beta)``: the one-sided law with Laplace transform E exp(-s A) =
  exp(-s^beta), 0 < beta < 1, by Kanter's (1975) representation with U uniform on (0, pi),

      A = sin(beta U) / sin(U)^(1/beta) * (sin((1 - beta) U) / W)^((1 - beta) / beta).

* ``isotropic_radius(rng, alpha)``: the rotation-invariant law on R^d with
  E exp(i k . Z) = exp(-|k|^alpha), as the sub-Gaussian vector Z = (2 A)^(1/2) G with A positive
  (alpha/2)-stable (above) and G standard normal in R^d: E exp(i k . Z) = E exp(-A |k|^2) =
  exp(-|k|^alpha).

Uniforms are drawn in the open interval (0, 1) (53 random bits plus half an ulp), so V never hits
+-pi/2 and W is never 0: every variate is finite. The plain-numpy twins (``*_numpy``) apply the same
formulas to given uniforms; :func:`draw_numpy` reproduces the kernels' draws bit for bit.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .rng import _PyStream, next_u64, normal, seed_stream

__all__ = [
    "symmetric_stable",
    "positive_stable",
    "isotropic_radius",
    "open_uniform",
    "draw",
    "symmetric_stable_numpy",
    "positive_stable_numpy",
    "draw_numpy",
]

_U11 = np.uint64(11)
_TWO_M53 = 2.0**-53


@njit(cache=True, inline="always")
def open_uniform(rng):
    """A uniform double in the open interval (0, 1): (k + 1/2) 2^-53 for 53 random bits k."""
    return (np.float64(np.int64(next_u64(rng) >> _U11)) + 0.5) * _TWO_M53


@njit(cache=True, inline="always")
def _cms(alpha, u, e):
    """The CMS formula for V = pi (u - 1/2), W = -log(e)."""
    v = math.pi * (u - 0.5)
    w = -math.log(e)
    if alpha == 1.0:
        return math.tan(v)
    return (
        math.sin(alpha * v)
        / math.cos(v) ** (1.0 / alpha)
        * (math.cos((1.0 - alpha) * v) / w) ** ((1.0 - alpha) / alpha)
    )


@njit(cache=True, inline="always")
def _kanter(beta, u, e):
    """Kanter's formula for U = pi u, W = -log(e)."""
    a = math.pi * u
    w = -math.log(e)
    return math.sin(beta * a) / math.sin(a) ** (1.0 / beta) * (math.sin((1.0 - beta) * a) / w) ** ((1.0 - beta) / beta)


@njit(cache=True, inline="always")
def symmetric_stable(rng, alpha):
    """A standard symmetric alpha-stable variate (E exp(i k Z) = exp(-|k|^alpha))."""
    u = open_uniform(rng)
    e = open_uniform(rng)
    return _cms(alpha, u, e)


@njit(cache=True, inline="always")
def positive_stable(rng, beta):
    """A positive beta-stable variate with E exp(-s A) = exp(-s^beta), 0 < beta < 1."""
    u = open_uniform(rng)
    e = open_uniform(rng)
    return _kanter(beta, u, e)


@njit(cache=True, inline="always")
def isotropic_radius(rng, alpha):
    """(2 A)^(1/2) with A positive (alpha/2)-stable (sqrt 2 at alpha = 2): times d independent
    standard normals it is a rotation-invariant alpha-stable vector, E e^{ik.Z} = e^{-|k|^alpha}."""
    return math.sqrt(2.0) if alpha == 2.0 else math.sqrt(2.0 * positive_stable(rng, 0.5 * alpha))


@njit(cache=True)
def draw(seed, path, n, alpha, kind):
    """n variates of stream (seed, path): ``kind`` 0 symmetric alpha-stable, 1 positive
    (alpha/2)-stable, 2 the first coordinate of 2-D isotropic vectors (for tests)."""
    rng = np.empty(2, dtype=np.uint64)
    seed_stream(rng, seed, path)
    out = np.empty(n)
    for k in range(n):
        if kind == 0:
            out[k] = symmetric_stable(rng, alpha)
        elif kind == 1:
            out[k] = positive_stable(rng, 0.5 * alpha)
        else:
            out[k] = isotropic_radius(rng, alpha) * normal(rng)
            normal(rng)  # the second coordinate of the 2-D vector
    return out


# --- plain-numpy twins ---------------------------------------------------------------------------
def symmetric_stable_numpy(alpha: float, u, e) -> np.ndarray:
    """The CMS formula on arrays of open uniforms ``u`` (for V) and ``e`` (for W = -log e)."""
    v, w = np.pi * (np.asarray(u) - 0.5), -np.log(e)
    if alpha == 1.0:
        return np.tan(v)
    return np.sin(alpha * v) / np.cos(v) ** (1 / alpha) * (np.cos((1 - alpha) * v) / w) ** ((1 - alpha) / alpha)


def positive_stable_numpy(beta: float, u, e) -> np.ndarray:
    """Kanter's formula on arrays of open uniforms."""
    a, w = np.pi * np.asarray(u), -np.log(e)
    return np.sin(beta * a) / np.sin(a) ** (1 / beta) * (np.sin((1 - beta) * a) / w) ** ((1 - beta) / beta)


def draw_numpy(seed: int, path: int, n: int, alpha: float) -> np.ndarray:
    """The first n symmetric alpha-stable variates of stream (seed, path), in plain Python."""
    s = _PyStream(int(seed), int(path))
    uniforms = np.array([((s.u64() >> 11) + 0.5) * _TWO_M53 for _ in range(2 * n)])
    return symmetric_stable_numpy(alpha, uniforms[0::2], uniforms[1::2])
