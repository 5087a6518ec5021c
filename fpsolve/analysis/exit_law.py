"""The law of the first exit time from a domain: survival S(t), density, quantiles, mean.

Started at cell s, the probability of still being in the domain Omega at time t is

    S(t) = e_s^T exp(t Q_OO) 1 = 1^T exp(t Q_OO^T) e_s,

the mass that survives forward evolution with absorption, and the exit-time density is
f(t) = -S'(t) = k^T p(t), the killing rates k (the row deficits of Q_OO) weighted by the
surviving mass p(t). Two exact-in-time ways are used:

* "spectral" (small sub-generators): the full eigen-decomposition Q_OO = V diag(lambda) V^-1, so
  S(t) = sum_k c_k e^{lambda_k t} with c_k = V_sk (V^-1 1)_k, and the mean is sum_k c_k / (-lambda_k).
  Reversible chains are symmetrized by diag(mu)^{1/2} first (orthogonal eigenvectors).
* "evolve" (large ones): p(t) by the shift-and-invert Krylov exponential (fpsolve.krylov: one
  real LU for all times, exact in time to ~1e-10) on a time grid, S and f at the nodes, a cubic Hermite interpolant between them
  (fourth order) and the exact exponential tail S(t_max) e^{-lambda_1 (t - t_max)} beyond.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import scipy.linalg as dense
from scipy.interpolate import CubicHermiteSpline
from scipy.optimize import brentq

from .. import integrate as _integrate
from .. import linalg
from .._warnings import warn as _warn
from ..grid import Grid
from .backward import (RESOLUTION_REFUSE, RESOLUTION_WARN, killed_generator, learning_rate,
                       left_half, resolve, start_position)

__all__ = ["exit_time_distribution", "ExitTimeLaw", "SPECTRAL_MAX_CELLS"]

#: Largest number of live cells for which the dense spectral decomposition is the default.
SPECTRAL_MAX_CELLS = 400

#: The default time window ends where exp(-lambda_1 t) = e^-TAIL_DECADES (about 1e-11).
TAIL = 25.0


@dataclass(frozen=True, eq=False)
class ExitTimeLaw:
    """The distribution of the first exit time from a domain, from one start point.

    Attributes
    ----------
    t, S : np.ndarray
        A time grid and the survival probability there (S[0] = 1).
    mean : float
        E[tau] = integral of S(t) dt, computed from the law itself (compare with
        :func:`mean_exit_time`).
    principal_rate : float
        lambda_1, the slowest decay rate of S: S(t) ~ c e^{-lambda_1 t} for large t.
    method : str
        "spectral" or "evolve".
    start : tuple
        Centre of the start cell.
    lr : float or None
        For SGD models, iterations = t / lr.
    """

    t: np.ndarray
    S: np.ndarray
    mean: float
    principal_rate: float
    method: str
    start: tuple
    lr: float | None = None
    _survival: Callable = field(default=None, repr=False)
    _density: Callable = field(default=None, repr=False)

    def __repr__(self) -> str:
        return (f"ExitTimeLaw(start {self.start}, mean {self.mean:.6g}, median {self.quantile(0.5):.6g}, "
                f"principal rate {self.principal_rate:.6g}, method {self.method!r})")

    def survival(self, t) -> np.ndarray | float:
        """S(t) = P(tau > t)."""
        return self._survival(t)

    def density(self, t) -> np.ndarray | float:
        """f(t) = -dS/dt, the exit-time density."""
        return self._density(t)

    def cdf(self, t) -> np.ndarray | float:
        """P(tau <= t) = 1 - S(t)."""
        return 1.0 - self._survival(t)

    def quantile(self, u) -> np.ndarray | float:
        """The time by which the process has left with probability u (0 <= u < 1)."""
        u_arr = np.atleast_1d(np.asarray(u, dtype=float))
        if np.any((u_arr < 0) | (u_arr >= 1)):
            raise ValueError(f"u: quantile levels must lie in [0, 1), got {u!r}")
        out = np.array([self._quantile(v) for v in u_arr])
        return float(out[0]) if np.ndim(u) == 0 else out.reshape(np.shape(u))

    def _quantile(self, u: float) -> float:
        if u == 0.0:
            return 0.0
        target = 1.0 - u
        hi = float(self.t[-1])
        while float(self._survival(hi)) > target:
            hi *= 2.0
        return brentq(lambda s: float(self._survival(s)) - target, 0.0, hi, xtol=1e-14 * hi, rtol=1e-13)

    def plot(self, ax=None, density: bool = False, iterations: bool = False):
        """S(t) (or the density) against t (or SGD iterations)."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        scale = 1.0 / self.lr if (iterations and self.lr) else 1.0
        y = self.density(self.t) if density else self.S
        ax.plot(self.t * scale, y)
        ax.set_xlabel("iterations" if scale != 1.0 else "t")
        ax.set_ylabel("exit-time density" if density else "survival P(tau > t)")
        ax.set_title(f"exit from start {self.start}, mean {self.mean:.4g}")
        return ax


def exit_time_distribution(problem, grid: Grid | None = None, domain=left_half, start=None, *, t=None,
                           boundary="reflecting", method: str = "auto",
                           discretization: str | None = None) -> ExitTimeLaw:
    """The law of the first exit time from ``domain`` started at ``start``.

    Parameters
    ----------
    problem, grid, domain, boundary, discretization
        As for :func:`mean_exit_time` (a FokkerPlanck problem, a Generator, or a model and a grid).
    start : float or sequence
        The start point (must lie in the domain).
    t : sequence of float, optional
        Times at which to tabulate S (``law.t``, ``law.S``); default a grid up to
        25 / lambda_1 (S ~ 1e-11 there).
    method : {"auto", "spectral", "evolve"}
        "auto" is "spectral" up to :data:`SPECTRAL_MAX_CELLS` live cells, else "evolve".
    """
    if method not in ("auto", "spectral", "evolve"):
        raise ValueError(f"method: expected 'auto', 'spectral' or 'evolve', got {method!r}")
    target = resolve(problem, grid, boundary=boundary, discretization=discretization)
    target.generator.require_markov("exit-time laws")
    gen, _ = killed_generator(target, domain)
    s, point = start_position(gen, start)
    if method == "auto":
        method = "spectral" if gen.n_live <= SPECTRAL_MAX_CELLS else "evolve"
    if t is not None:
        t = np.asarray(t, dtype=float).ravel()
        if t.size < 2 or t[0] != 0.0 or np.any(np.diff(t) <= 0):
            raise ValueError("t: expected increasing times starting at 0")
    make = _spectral if method == "spectral" else _evolve
    return make(gen, s, t, point, learning_rate(target.model))


def _require_resolved_rate(rate: float, gen) -> None:
    """Refuse (or warn about) a principal rate near the round-off of the generator's entries, the
    criterion of :func:`fpsolve.analysis.exit._require_resolved` with tau ~ 1 / rate."""
    fastest = gen.fastest_rate
    estimate = np.finfo(float).eps * fastest / rate if rate > 0 else np.inf
    if estimate > RESOLUTION_REFUSE:
        raise ValueError(
            f"domain: the exit-time law is not resolved in double precision (principal rate "
            f"{rate:.3g} against the fastest rate {fastest:.3g} of the grid: it is lost in "
            "round-off). The barrier is too high for the noise (dU/D beyond ~30); raise the "
            "noise (smaller batch size, larger lr) or lower the barrier"
        )
    if estimate > RESOLUTION_WARN:
        _warn(
            f"exit_time_distribution: the principal rate {rate:.3g} is near the round-off of the "
            f"fastest rate {fastest:.3g} of the grid; expect relative errors up to about "
            f"{estimate:.0e} (dU/D is close to ~30)")


def _spectral(gen, s, t, point, lr) -> ExitTimeLaw:
    Q = gen.sub.tosparse() if gen.matrix_free else gen.sub
    log_mu = linalg.log_detailed_balance(Q)
    if log_mu is not None:
        sym = linalg.symmetrized(Q).toarray()  # diag(mu)^(1/2) Q diag(mu)^(-1/2), entry by entry
        lam, vec = dense.eigh(0.5 * (sym + sym.T))
        coef = vec[s] * (vec.T @ np.exp(0.5 * (log_mu - log_mu[s])))
    else:
        lam, vec = dense.eig(Q.toarray())
        coef = vec[s] * dense.solve(vec, np.ones(Q.shape[0]))
    rate = float(np.min(-lam.real))
    _require_resolved_rate(rate, gen)

    def survival(time):
        time = np.asarray(time, dtype=float)
        out = np.real(np.exp(np.multiply.outer(time, lam)) @ coef)
        return float(out) if out.ndim == 0 else out

    def density(time):
        time = np.asarray(time, dtype=float)
        out = np.real(np.exp(np.multiply.outer(time, lam)) @ (-lam * coef))
        return float(out) if out.ndim == 0 else out

    mean = float(np.real(np.sum(coef / -lam)))
    if t is None:
        t = np.linspace(0.0, TAIL / rate, 401)
    return ExitTimeLaw(t, np.clip(survival(t), 0.0, 1.0), mean, rate, "spectral", point, lr, survival, density)


def _evolve(gen, s, t, point, lr) -> ExitTimeLaw:
    rate = float(gen.relaxation_rates(1)[0])
    _require_resolved_rate(rate, gen)
    if t is None:
        coarse = TAIL / rate / 400.0
        fine = coarse / 20.0
        t = np.concatenate([np.arange(41) * fine, 2.0 * coarse + np.arange(1, 399) * coarse])
    p0 = np.zeros(gen.n_live)
    p0[s] = 1.0
    y = _integrate.integrate(gen.forward, p0, t, "exponential").y
    S = y.sum(axis=1)
    f = y @ gen.killing
    spline = CubicHermiteSpline(t, S, -f)
    t_end, s_end = float(t[-1]), float(S[-1])

    def survival(time):
        time = np.asarray(time, dtype=float)
        out = np.where(time <= t_end, spline(np.minimum(time, t_end)),
                       s_end * np.exp(-rate * np.maximum(time - t_end, 0.0)))
        out = np.clip(out, 0.0, 1.0)  # the cubic Hermite spline overshoots 1 by ~1e-6 where S is flat
        return float(out) if out.ndim == 0 else out

    def density(time):
        time = np.asarray(time, dtype=float)
        out = np.where(time <= t_end, -spline.derivative()(np.minimum(time, t_end)),
                       rate * s_end * np.exp(-rate * np.maximum(time - t_end, 0.0)))
        return float(out) if out.ndim == 0 else out

    mean = float(spline.integrate(0.0, t_end)) + s_end / rate
    return ExitTimeLaw(t, S, mean, rate, "evolve", point, lr, survival, density)
