"""The law of the first exit time from a domain: survival S(t), density, quantiles, moments.

Started at x, the probability of still being in the domain Omega at time t is, on the grid chain,

    S(t) = sum_s w_s e_s^T exp(t Q_OO) 1 = 1^T exp(t Q_OO^T) w,

with w the multilinear interpolation weights of x over the cells: the same weights by which
:func:`fpsolve.mean_exit_time` interpolates tau(x), so the law's mean is the interpolated mean
exit time (weights on absorbed cells are an atom of the law at t = 0). The exit-time density is
f(t) = -S'(t) = k . p(t), the killing rates k weighted by the surviving mass p(t).

Two ways, both checked:

* "evolve" (the default): p(t) stepped octave by octave on a time grid that refines itself where
  S bends, a cubic Hermite interpolant between nodes with a measured error below 1e-9, and an
  exponential tail once the surviving mass is quasi-stationary, tested with the exact remaining
  moments from the backward equations (:mod:`fpsolve.analysis.survival`).
* "spectral" (reversible chains only): S(t) = sum_k c_k e^{lambda_k t} from the symmetrized
  eigen-decomposition diag(mu)^{1/2} Q diag(mu)^{-1/2}. Its coefficients cancel when the
  stationary weights mu vary by many orders over the domain (drift-dominated problems, a start
  high above the exit); the a-priori bound eps * n * sum_j sqrt(mu_j / mu_s) on that cancellation
  is checked and the method refused above SPECTRAL_CANCELLATION.

Conservative operators that are not Markov chains (the kinetic scheme's second-order transport)
take the "evolve" way too; their survival function is checked to be non-increasing
(:data:`fpsolve.analysis.survival.RISE_WARN`, :data:`~fpsolve.analysis.survival.RISE_REFUSE`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np
import scipy.linalg as dense
from scipy.interpolate import CubicHermiteSpline
from scipy.optimize import brentq
from scipy.special import logsumexp

from .. import linalg
from ..grid import Grid
from .backward import backward_solve, killed_generator, learning_rate, resolve, start_position
from .._warnings import warn as _warn
from .survival import RISE_REFUSE, RISE_WARN, largest_rise, survival_nodes

__all__ = ["exit_time_distribution", "ExitTimeLaw", "start_weights", "SPECTRAL_CANCELLATION"]

#: Refuse the spectral method when its a-priori cancellation bound, or the relative round-off of
#: its slowest eigenvalue, exceeds this; "evolve" has neither.
SPECTRAL_CANCELLATION = 1e-9

#: The default table ``law.t`` reaches S = _TABLE_END (the exponential tail is sampled).
_TABLE_END = 1e-12

#: Gauss-Legendre nodes on [0, 1] for moments of the piecewise cubic S (3 points: exact for t S).
_GAUSS_X, _GAUSS_W = np.polynomial.legendre.leggauss(3)
_GAUSS_X, _GAUSS_W = 0.5 * (_GAUSS_X + 1.0), 0.5 * _GAUSS_W


@dataclass(frozen=True, eq=False)
class ExitTimeLaw:
    """The distribution of the first exit time from a domain, from one start point.

    Attributes
    ----------
    t, S : np.ndarray
        The time grid the law was computed on (it adapts to the law: fine where S bends) and the
        survival probability there; S(t) = 1 for t < 0 and S[0] = S(0) = P(tau > 0).
    mean : float
        E[tau] = integral of S(t) dt, from the law itself (it equals :func:`mean_exit_time`
        interpolated at the start, to ~1e-8 relative; docs/exit_times.md).
    principal_rate : float
        The decay rate of the tail, S(t) ~ c e^{-rate t} beyond ``t[-1]``: the slowest exit rate
        lambda_1 once the surviving mass is quasi-stationary.
    method : str
        "spectral" or "evolve".
    start : tuple
        The start point.
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
    _moment2: float = field(default=np.nan, repr=False)

    def __repr__(self) -> str:
        return (
            f"ExitTimeLaw(start {self.start}, mean {self.mean:.6g}, median {self.quantile(0.5):.6g}, "
            f"principal rate {self.principal_rate:.6g}, method {self.method!r})"
        )

    def survival(self, t) -> np.ndarray | float:
        """S(t) = P(tau > t); 1 for t < 0."""
        return self._evaluate(self._survival, t, 1.0)

    def density(self, t) -> np.ndarray | float:
        """f(t) = -dS/dt, the exit-time density (its continuous part; 0 for t < 0)."""
        return self._evaluate(self._density, t, 0.0)

    def cdf(self, t) -> np.ndarray | float:
        """P(tau <= t) = 1 - S(t)."""
        return 1.0 - self.survival(t)

    def moment(self, n: int) -> float:
        """E[tau^n] for n = 1 or 2: n times the integral of t^(n-1) S(t)."""
        if n == 1:
            return self.mean
        if n == 2:
            return self._moment2
        raise ValueError(
            f"n: moments 1 and 2 are available, got {n!r}; use mean_exit_time(..., moments=n) for higher ones"
        )

    @staticmethod
    def _evaluate(function, t, before_zero):
        time = np.asarray(t, dtype=float)
        if not np.all(np.isfinite(time)):
            raise ValueError(f"t: expected finite times, got {t!r}")
        out = np.where(time < 0, before_zero, function(np.maximum(time, 0.0)))
        return float(out) if out.ndim == 0 else out

    def quantile(self, u) -> np.ndarray | float:
        """The time by which the process has left with probability u (0 <= u < 1)."""
        u_arr = np.atleast_1d(np.asarray(u, dtype=float))
        if np.any(~((u_arr >= 0) & (u_arr < 1))):
            raise ValueError(f"u: quantile levels must lie in [0, 1), got {u!r}")
        out = np.array([self._quantile(v) for v in u_arr])
        return float(out[0]) if np.ndim(u) == 0 else out.reshape(np.shape(u))

    def _quantile(self, u: float) -> float:
        target = 1.0 - u
        if float(self.S[0]) <= target:
            return 0.0  # within the atom at t = 0 (weights of the start on absorbed cells)
        upper = np.flatnonzero(self.S <= target)
        hi = float(self.t[upper[0]]) if upper.size else float(self.t[-1])
        while float(self.survival(hi)) > target:
            hi *= 2.0
        return brentq(lambda s: float(self.survival(s)) - target, 0.0, hi, xtol=1e-14 * hi, rtol=1e-13)

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


def exit_time_distribution(
    problem,
    grid: Grid | None = None,
    domain=None,
    start=None,
    *,
    t=None,
    boundary="reflecting",
    method: str = "auto",
    discretization: str | None = None,
) -> ExitTimeLaw:
    """The law of the first exit time from ``domain`` started at ``start``.

    Parameters
    ----------
    problem, grid, domain, boundary, discretization
        As for :func:`mean_exit_time` (a FokkerPlanck problem, a Generator, or a model and a grid).
    start : float or sequence
        The start point (its cell must lie in the domain). It is interpolated over the
        neighbouring cells exactly as ``mean_exit_time(...)(start)`` interpolates.
    t : sequence of float, optional
        Times at which to tabulate S (``law.t``, ``law.S``); default the adaptive time grid the
        law was computed on. ``law.survival(t)`` is accurate at any t either way.
    method : {"auto", "spectral", "evolve"}
        "auto" is "evolve". "spectral" needs a reversible chain and is refused when its
        eigen-expansion would cancel (module docstring).

    Raises
    ------
    ValueError
        A bad argument; a law that double precision cannot resolve (the same criterion as
        :func:`mean_exit_time`); "spectral" on a chain where it is inaccurate.
    """
    if method not in ("auto", "spectral", "evolve"):
        raise ValueError(f"method: expected 'auto', 'spectral' or 'evolve', got {method!r}")
    if t is not None:
        t = np.asarray(t, dtype=float).ravel()
        if t.size < 2 or t[0] != 0.0 or np.any(np.diff(t) <= 0) or not np.all(np.isfinite(t)):
            raise ValueError("t: expected finite increasing times starting at 0")
    target = resolve(problem, grid, boundary=boundary, discretization=discretization)
    target.generator.require_generator_like("exit-time laws")
    gen, _ = killed_generator(target, domain)
    start_position(gen, start)  # the start's cell must be live: clear errors naming `start`
    point = tuple(float(x) for x in np.atleast_1d(np.asarray(start, dtype=float)).ravel())
    weights = start_weights(gen, point)
    u1 = backward_solve(gen, -np.ones(gen.n_live), "exit-time law's mean")
    u2 = backward_solve(gen, -2.0 * u1, "exit-time law's second moment")
    lr = learning_rate(target.model)
    if method == "spectral":
        law = _spectral(gen, weights, point, lr)
    else:
        law = _evolve(gen, weights, u1, u2, point, lr)
    return law if t is None else replace(law, t=t, S=law.survival(t))


def start_weights(gen, point: tuple) -> np.ndarray:
    """Multilinear interpolation weights of ``point`` over the live cells of ``gen``
    (:meth:`fpsolve.grid.Grid.interpolation_weights`, the weights of ``Grid.interpolate``, so the
    law starts where :func:`mean_exit_time` is read). Weights on absorbed cells are dropped (the
    law's atom at t = 0)."""
    return gen.grid.interpolation_weights(*point).ravel()[gen.live]


def _evolve(gen, weights, u1, u2, point, lr) -> ExitTimeLaw:
    nodes = survival_nodes(gen, weights, u1, u2)
    t, S, f, rate = nodes.t, nodes.S, nodes.f, nodes.tail_rate
    _require_non_increasing(t, S, gen)
    spline = CubicHermiteSpline(t, S, -f)
    slope = spline.derivative()
    t_end, s_end = float(t[-1]), float(S[-1])

    def survival(time):
        inside = np.clip(spline(np.minimum(time, t_end)), 0.0, 1.0)
        return np.where(time <= t_end, inside, s_end * np.exp(-rate * np.maximum(time - t_end, 0.0)))

    def density(time):
        return np.where(
            time <= t_end, -slope(np.minimum(time, t_end)), rate * s_end * np.exp(-rate * np.maximum(time - t_end, 0.0))
        )

    length = np.diff(t)
    at = t[:-1, None] + length[:, None] * _GAUSS_X  # 3 Gauss points per interval: exact for t S
    first = float(spline.integrate(0.0, t_end))
    second = float(np.sum(length * ((2.0 * at * spline(at)) @ _GAUSS_W)))
    mu1, mu2 = nodes.tail_moments
    # the tail S(t_end) e^{-r (t - t_end)} with r = S / mu1 integrates to mu1 exactly
    mean = first + s_end / rate if rate > 0 else first
    moment2 = second + 2.0 * (t_end * s_end / rate + s_end / rate**2) if rate > 0 else second
    if rate > 0 and s_end > _TABLE_END:  # tabulate the exponential tail too, down to S = 1e-12
        tail = t_end + np.geomspace(1e-3, np.log(s_end / _TABLE_END), 100) / rate
        t, S = np.concatenate([t, tail]), np.concatenate([S, survival(tail)])
    return ExitTimeLaw(t, S, mean, rate, "evolve", point, lr, survival, density, moment2)


def _spectral(gen, weights, point, lr) -> ExitTimeLaw:
    Q = gen.sub.tosparse() if gen.matrix_free else gen.sub
    log_mu = linalg.log_detailed_balance(Q)
    if log_mu is None:
        raise ValueError(
            "method: 'spectral' needs a reversible chain (detailed balance), and this one is not; use method='evolve'"
        )
    live = np.flatnonzero(weights > 0)
    log_ratio = 0.5 * (log_mu[None, :] - log_mu[live, None])  # log sqrt(mu_j / mu_s)
    log_bound = np.log(np.finfo(float).eps * Q.shape[0]) + logsumexp(log_ratio, b=weights[live, None])
    if log_bound > np.log(SPECTRAL_CANCELLATION):
        raise ValueError(
            f"method: the spectral expansion of this law cancels (error bound "
            f"{np.exp(min(log_bound, 700.0)):.2g}: the stationary weights grow by up to "
            f"e^{2 * log_ratio.max():.0f} from the start, e.g. strong drift toward the exit); "
            "use method='evolve'"
        )
    sym = linalg.symmetrized(Q).toarray()
    lam, vec = dense.eigh(0.5 * (sym + sym.T))
    rate = float(np.min(-lam))
    _require_resolved_rate(rate, gen)
    # S(t) = sum_s w_s sum_j sqrt(mu_j / mu_s) [exp(t sym)]_sj
    shift = log_mu[live].min()  # both factors stay below the (checked) cancellation bound
    left = (weights[live] * np.exp(-0.5 * (log_mu[live] - shift))) @ vec[live]
    right = vec.T @ np.exp(0.5 * (log_mu - shift))
    coef = left * right

    def survival(time):
        return np.clip(np.exp(np.multiply.outer(time, lam)) @ coef, 0.0, 1.0)

    def density(time):
        return np.exp(np.multiply.outer(time, lam)) @ (-lam * coef)

    t_end = np.log(max(np.abs(coef).sum(), 1.0) / _TABLE_END) / rate
    t = np.concatenate([[0.0], np.geomspace(1e-3 / gen.fastest_rate, t_end, 800)])
    mean = float(np.sum(coef / -lam))
    moment2 = float(np.sum(2.0 * coef / lam**2))
    return ExitTimeLaw(t, survival(t), mean, rate, "spectral", point, lr, survival, density, moment2)


def _require_non_increasing(t, S, gen) -> None:
    """A survival function that rises (a non-Markov operator pushing negative mass out) is
    refused above RISE_REFUSE and reported above RISE_WARN (:mod:`fpsolve.analysis.survival`)."""
    rise, when = largest_rise(t, S)
    if rise <= RISE_WARN:
        return
    message = (
        f"the survival function rises by {rise:.2g} near t = {when:.3g}: the operator is not "
        "a Markov generator and pushes negative mass out of the domain there (a start or a "
        "domain boundary the grid does not resolve); refine the grid"
    )
    if rise > RISE_REFUSE:
        raise ValueError(f"grid: {message}; the law is not trustworthy beyond {RISE_REFUSE:g}")
    _warn(f"exit_time_distribution: {message} (the law is off by about that much)")


def _require_resolved_rate(rate: float, gen) -> None:
    """Refuse a spectral law whose slowest rate the dense eigensolver cannot give to
    SPECTRAL_CANCELLATION: its absolute round-off eps * max|Q_ii| is relative to rate."""
    estimate = np.finfo(float).eps * gen.fastest_rate / rate if rate > 0 else np.inf
    if estimate > SPECTRAL_CANCELLATION:
        raise ValueError(
            f"method: the slowest exit rate {rate:.3g} is within {estimate:.1g} (relative) of the "
            f"round-off of the fastest rate {gen.fastest_rate:.3g} in a dense eigensolver, so "
            "method='spectral' cannot give the law to 1e-9; use method='evolve'"
        )
