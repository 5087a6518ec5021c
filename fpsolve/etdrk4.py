"""ETDRK4 for u' = Lambda u + N(u) with Lambda diagonal (Cox & Matthews 2002; Kassam & Trefethen 2005).

The stiff linear part Lambda (a diagonal Fourier symbol: mean diffusion, fractional Laplacian) is
integrated exactly by e^{h Lambda}; the rest N(u) (drift and variable diffusion, applied
pseudo-spectrally) by a fourth-order exponential Runge-Kutta scheme. The coefficients involve
phi_1(z) = (e^z - 1)/z, phi_2, phi_3, which cancel catastrophically for small |z|; Kassam and
Trefethen evaluate them as the mean of the closed form over a circle of radius 1 around z
(Cauchy's integral formula; 32 points on the circle give round-off accuracy for real z <= 0).

Step control (:func:`integrate_diagonal_split`, shared with :mod:`fpsolve.imex`): a fixed step
``dt`` (steps land on output times), or step doubling: each step of size h is also taken as two
steps of h/2; the relative difference (2-norm, the L2 norm of the density by Parseval) estimates
the local error of the coarse step and must stay below ``rtol``, while the two-half-step value,
2^p - 1 times more accurate, is kept. This is conservative on purpose: the global error then stays
below ``rtol`` (measured in tests/test_etdrk4.py), at about twice the steps of a control on the
kept value. h is only ever halved or doubled, so a handful of coefficient sets is reused for the
whole run. For speed, give a fixed ``dt``.
"""

from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

__all__ = ["CONTOUR_POINTS", "Etdrk4", "etdrk4_coefficients", "integrate_diagonal_split", "phi_functions"]

#: Points on the Kassam-Trefethen contour (a circle of radius 1 around each h Lambda): the
#: trapezoidal rule on a circle converges geometrically; 32 points reach round-off for the
#: phi-functions at real arguments (checked against mpmath in tests/test_etdrk4.py).
CONTOUR_POINTS = 32


def phi_functions(z, points: int = CONTOUR_POINTS) -> tuple:
    """(phi_1(z), phi_2(z), phi_3(z)) for real or complex z, by the contour mean.

    phi_1 = (e^z - 1)/z, phi_2 = (e^z - 1 - z)/z^2, phi_3 = (e^z - 1 - z - z^2/2)/z^3, each
    averaged over z + exp(i pi (j - 1/2) / (points / 2)), j = 1..points (no point is 0 for real z
    since the circle's points avoid the real axis).
    """
    z = np.asarray(z)
    circle = np.exp(1j * np.pi * (np.arange(1, points + 1) - 0.5) / (points / 2))
    w = z[..., None] + circle
    e = np.exp(w)
    phi1 = ((e - 1) / w).mean(axis=-1)
    phi2 = ((e - 1 - w) / w**2).mean(axis=-1)
    phi3 = ((e - 1 - w - w**2 / 2) / w**3).mean(axis=-1)
    if not np.iscomplexobj(z):
        phi1, phi2, phi3 = phi1.real, phi2.real, phi3.real
    return phi1, phi2, phi3


def etdrk4_coefficients(symbol, h: float) -> tuple:
    """Cox-Matthews coefficients (E, E2, Q, f1, f2, f3) for step h on the diagonal ``symbol``.

    E = e^{h L}, E2 = e^{h L / 2}, Q = h phi_1(h L / 2) / 2, f1 = h (phi_1 - 3 phi_2 + 4 phi_3),
    f2 = h (phi_2 - 2 phi_3), f3 = h (4 phi_3 - phi_2), all at h L. Computed on the distinct values
    of the symbol only (a Fourier symbol repeats along shells of |k|).
    """
    symbol = np.asarray(symbol)
    values, inverse = np.unique(symbol, return_inverse=True)
    z = h * values
    half1, _, _ = phi_functions(z / 2)
    phi1, phi2, phi3 = phi_functions(z)
    parts = (
        np.exp(z),
        np.exp(z / 2),
        0.5 * h * half1,
        h * (phi1 - 3 * phi2 + 4 * phi3),
        h * (phi2 - 2 * phi3),
        h * (4 * phi3 - phi2),
    )
    return tuple(part[inverse].reshape(symbol.shape) for part in parts)


class Etdrk4:
    """One ETDRK4 step u -> u(t + h) for u' = symbol * u + remainder(u), coefficients cached per h.

    Parameters
    ----------
    symbol : array
        The diagonal linear part (same shape as u).
    remainder : callable
        u -> N(u) (a pure function).
    """

    order = 4

    def __init__(self, symbol, remainder):
        self.symbol = np.asarray(symbol)
        self.remainder = remainder
        self._cache: dict = {}
        self.evaluations = 0

    def coefficients(self, h: float) -> tuple:
        if h not in self._cache:
            if len(self._cache) > 8:
                self._cache.pop(next(iter(self._cache)))
            self._cache[h] = etdrk4_coefficients(self.symbol, h)
        return self._cache[h]

    def __call__(self, u, h: float):
        E, E2, Q, f1, f2, f3 = self.coefficients(h)
        N = self.remainder
        Nu = N(u)
        a = E2 * u + Q * Nu
        Na = N(a)
        b = E2 * u + Q * Na
        Nb = N(b)
        c = E2 * a + Q * (2 * Nb - Nu)
        Nc = N(c)
        self.evaluations += 4
        return E * u + f1 * Nu + 2 * f2 * (Na + Nb) + f3 * Nc


def integrate_diagonal_split(
    step, u0, times, *, dt=None, rtol: float = 1e-8, progress: bool = False, max_steps: int = 1_000_000
) -> tuple:
    """Integrate with a one-step method ``step(u, h)`` (``step.order`` its order) to the output times.

    Parameters
    ----------
    step : callable with attribute ``order``
        :class:`Etdrk4` or :class:`fpsolve.imex.ImexArs222`.
    u0 : array
        State at ``times[0]``.
    times : array
        Increasing output times.
    dt : float, optional
        Fixed step: each output interval is cut into ceil(interval / dt) equal steps (no error
        control). Default: step doubling with local error below ``rtol``.
    rtol : float
        Local relative error per step (step doubling).
    max_steps : int
        Refuse (RuntimeError) rather than take more accepted steps than this.

    Returns
    -------
    states : list of arrays, one per output time
    stats : dict with ``steps`` (accepted), ``rejected``, ``smallest_step``
    """
    times = np.asarray(times, dtype=float)
    if dt is not None and not (np.isfinite(dt) and dt > 0):
        raise ValueError(f"dt: expected a positive step, got {dt!r}")
    if not rtol > 0:
        raise ValueError(f"rtol: expected a positive tolerance, got {rtol!r}")
    states, u = [u0], u0
    steps = rejected = 0
    smallest = np.inf
    h = None if dt is None else float(dt)
    for k in tqdm(range(1, len(times)), desc="evolve", disable=not progress):
        interval = times[k] - times[k - 1]
        if dt is not None:
            count = max(1, int(np.ceil(interval / dt - 1e-9)))
            for _ in range(count):
                u = step(u, interval / count)
            steps += count
            smallest = min(smallest, interval / count)
        else:
            u, h, taken, refused = _doubling(step, u, interval, h or interval / 16, rtol, max_steps - steps)
            steps, rejected = steps + taken, rejected + refused
            smallest = min(smallest, h)
        states.append(u)
    return states, {"steps": steps, "rejected": rejected, "smallest_step": float(smallest)}


def norm(u) -> float:
    """The 2-norm by ufuncs: numpy's BLAS dot (np.linalg.norm) stalls for tens of milliseconds per
    call when the cores are oversubscribed (measured 44 ms on a 32^3 array at load 13)."""
    u = np.asarray(u)
    squares = u.real**2 + u.imag**2 if np.iscomplexobj(u) else u**2
    return float(np.sqrt(squares.sum()))


def _doubling(step, u, interval: float, h: float, rtol: float, budget: int) -> tuple:
    """Cover ``interval`` by steps of h (halved on rejection, doubled when the error is 2^(p+1)
    times below rtol, so that the doubled step should pass); the last step is shortened to land on
    the end. Returns (u, h, taken, refused)."""
    done, taken, refused = 0.0, 0, 0
    grow = 2.0 ** (step.order + 1)
    while interval - done > 1e-12 * interval:
        size = min(h, interval - done)
        coarse = step(u, size)
        fine = step(step(u, size / 2), size / 2)
        scale = max(norm(fine), 1e-300)
        error = norm(fine - coarse) / scale
        if not np.isfinite(error) or error > rtol:
            refused += 1
            h = size / 2
            if h < 1e-14 * interval or refused > 60:
                raise RuntimeError(
                    f"rtol: the step fell to {h:.3g} without meeting rtol = {rtol:g} (error "
                    f"{error:.3g}); the problem is too stiff for the explicit part of this scheme "
                    "at this resolution: refine the grid, or use discretization='fv'"
                )
            continue
        u, done, taken = fine, done + size, taken + 1
        if taken > budget:
            raise RuntimeError(f"max_steps: more than {budget} steps; give a larger dt or rtol")
        if size == h and error * grow < rtol:
            h *= 2
    return u, h, taken, refused
