"""Result objects of Monte Carlo runs: sampled states, first exit times, discrete iterates.

All are frozen dataclasses of arrays with a short ``repr``. Continuous times are in the model's time
unit (for SGD models t = lr x iterations); discrete runs also carry iteration counts.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Samples", "ExitTimes", "Iterates"]


@dataclass(frozen=True, eq=False)
class Samples:
    """States of ``n_paths`` simulated paths at the requested times.

    Attributes
    ----------
    times : (m,) array
        The times asked for (each a whole number of steps ``dt``).
    x : (m, n_paths, d) array
        The states; NaN after a path left the absorbing domain (if the simulator had one).
    alive : (m, n_paths) bool array
        Whether each path was still inside the domain at each time (all True without a domain).
    n_paths, dt, seed : the run's parameters.
    """

    times: np.ndarray
    x: np.ndarray
    alive: np.ndarray
    n_paths: int
    dt: float
    seed: int

    def __repr__(self) -> str:
        return (
            f"Samples(times={len(self.times)} in [{self.times[0]:g}, {self.times[-1]:g}], "
            f"n_paths={self.n_paths}, d={self.x.shape[-1]}, dt={self.dt:g}, seed={self.seed})"
        )

    def mean(self) -> np.ndarray:
        """Mean over surviving paths, shape (m, d)."""
        return np.nanmean(self.x, axis=1)

    def covariance(self) -> np.ndarray:
        """Covariance over surviving paths (ddof = 1), shape (m, d, d)."""
        out = []
        for xt in self.x:
            xt = xt[~np.isnan(xt).any(axis=1)]
            out.append(np.atleast_2d(np.cov(xt.T, ddof=1)))
        return np.array(out)


@dataclass(frozen=True, eq=False)
class ExitTimes:
    """First exit times of ``n_paths`` paths from a domain, censored at ``t_max``.

    Attributes
    ----------
    times : (n_paths,) array
        Time of the first step end at which the exit was detected (step-end state outside the
        domain, or a Brownian-bridge crossing during the step); ``t_max`` for censored paths.
    censored : (n_paths,) bool array
        True where the path was still inside at ``t_max`` (never dropped).
    locations : (n_paths, d) array
        State at the detected exit (the step-end state; with a bridge crossing it may lie just
        inside); the state at ``t_max`` for censored paths.
    n_paths, dt, seed, t_max : the run's parameters.
    iterations : (n_paths,) int array or None
        For discrete algorithms: the exit iteration (``t = lr * k`` for constant lr).
    """

    times: np.ndarray
    censored: np.ndarray
    locations: np.ndarray
    n_paths: int
    dt: float
    seed: int
    t_max: float
    iterations: np.ndarray | None = field(default=None)

    def __repr__(self) -> str:
        return (
            f"ExitTimes(n_paths={self.n_paths}, mean={np.mean(self.times):.6g}, "
            f"se={self._se():.3g}, censored={int(self.censored.sum())}, dt={self.dt:g}, "
            f"t_max={self.t_max:g})"
        )

    @property
    def censored_fraction(self) -> float:
        return float(np.mean(self.censored))

    def _warn_censored(self, what: str) -> None:
        if self.censored.any():
            warnings.warn(
                f"ExitTimes.{what}: {int(self.censored.sum())} of {self.n_paths} paths are censored at "
                f"t_max = {self.t_max:g}; the value is biased low (censored times count as t_max). "
                "Increase t_max.",
                RuntimeWarning,
                stacklevel=3,
            )

    def _se(self) -> float:
        return float(np.std(self.times, ddof=1) / np.sqrt(self.n_paths)) if self.n_paths > 1 else np.nan

    @property
    def mean(self) -> float:
        """Sample mean of the exit times (warns when some paths are censored: a lower bound then)."""
        self._warn_censored("mean")
        return float(np.mean(self.times))

    @property
    def standard_error(self) -> float:
        """s / sqrt(n), the standard error of ``mean`` (warns when some paths are censored)."""
        self._warn_censored("standard_error")
        return self._se()

    def confidence_interval(self, z: float = 1.96) -> tuple:
        """``mean -/+ z * standard_error`` (normal approximation; n of a few hundred or more)."""
        m, s = self.mean, self.standard_error
        return (m - z * s, m + z * s)

    def survival(self, t) -> np.ndarray:
        """Empirical P(exit time > t); exact (not biased) for t <= t_max even with censoring."""
        t = np.asarray(t, dtype=float)
        return np.mean(self.times[None, :] > t.reshape(-1, 1), axis=1).reshape(t.shape)


@dataclass(frozen=True, eq=False)
class Iterates:
    """Iterates of ``n_runs`` independent runs of a discrete optimiser.

    Attributes
    ----------
    iterations : (m,) int array
        The iteration counts k at which the parameters were recorded (k = 0 is the start).
    times : (m,) array
        Continuous time t = lr * k (the SDE time, DESIGN.md section 1).
    theta : (m, n_runs, p) array
        The parameters.
    exits : ExitTimes or None
        First exits from the domain, when one was given.
    algorithm : str
        E.g. ``"sgd"``, ``"heavy-ball"``, ``"adam"``.
    seed : int
    velocity : (m, n_runs, p) array or None
        Heavy-ball velocities v_k = (theta_k - theta_{k-1}) / lr (``sgd(..., velocities=True)``).
    """

    iterations: np.ndarray
    times: np.ndarray
    theta: np.ndarray
    exits: ExitTimes | None
    algorithm: str
    seed: int
    velocity: np.ndarray | None = field(default=None)

    def phase_space(self, index: int = -1) -> np.ndarray:
        """Points (theta, v), shape (n_runs, 2p), at the ``index``-th recorded iteration (time
        ``times[index]``): the heavy ball in the phase space of :class:`fpsolve.MomentumSGD`."""
        if self.velocity is None:
            raise ValueError("index: these iterates carry no velocities; run sgd(..., velocities=True)")
        return np.concatenate([self.theta[index], self.velocity[index]], axis=-1)

    def __repr__(self) -> str:
        return (
            f"Iterates({self.algorithm}, records={len(self.iterations)} up to k = "
            f"{int(self.iterations[-1])}, n_runs={self.theta.shape[1]}, p={self.theta.shape[2]})"
        )
