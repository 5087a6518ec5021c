"""The discrete heavy-ball algorithm itself, with Gaussian minibatch-gradient noise, for the momentum cases.

    theta_{k+1} = theta_k - lr (grad U(theta_k) + xi_k) + momentum (theta_k - theta_{k-1}),

xi_k ~ N(0, noise_scale / batch_size) independently per coordinate and step (isotropic gradient
noise of covariance Sigma / B, Sigma = noise_scale I), theta_{-1} = theta_0 (start at rest). Time
is t = k lr and the velocity v_k = (theta_k - theta_{k-1}) / lr (DESIGN.md section 1), so the
results compare directly with ``MomentumSGD``'s SDE and its kinetic PDE. Paths are advanced
together as numpy arrays (a seeded ``numpy.random.Generator``); the SDE is *not* simulated here:
the difference between this algorithm and the SDE at finite lr is what the cases measure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["HeavyBallExits", "heavy_ball_exit_times", "heavy_ball_samples"]


@dataclass(frozen=True)
class HeavyBallExits:
    """First exit times t = k lr of the paths that left, the number still inside at ``t_max``."""

    times: np.ndarray
    censored: int
    t_max: float

    @property
    def mean(self) -> float:
        return float(np.mean(self.times))

    @property
    def standard_error(self) -> float:
        return float(np.std(self.times, ddof=1) / np.sqrt(self.times.size))


def _step(landscape, theta, previous, lr, momentum, noise_std, rng):
    noise = noise_std * rng.standard_normal(theta.shape)
    gradient = np.asarray(landscape.grad(*theta)).reshape(theta.shape)
    return theta - lr * (gradient + noise) + momentum * (theta - previous)


def _check(lr, momentum, batch_size, noise_scale, n_paths) -> None:
    if not (lr > 0 and 0 <= momentum < 1 and batch_size >= 1 and noise_scale > 0 and n_paths >= 2):
        raise ValueError(
            f"heavy ball: expected lr > 0, momentum in [0, 1), batch_size >= 1, noise_scale > 0 "
            f"and at least 2 paths; got lr={lr}, momentum={momentum}, batch_size={batch_size}, "
            f"noise_scale={noise_scale}, paths={n_paths}"
        )


def heavy_ball_exit_times(
    landscape,
    lr: float,
    momentum: float,
    batch_size: float,
    noise_scale: float,
    start,
    domain,
    n_paths: int,
    seed: int = 0,
    max_steps: int = 10**6,
) -> HeavyBallExits:
    """Exit times of ``n_paths`` heavy-ball runs from ``start`` (theta at rest) out of ``domain``,
    a predicate of (theta..., v...) arrays; a run leaves at the first k with domain false.

    Raises RuntimeError when more than 1 % of the runs are still inside after ``max_steps``
    (a mean of the others would be biased low): raise max_steps."""
    _check(lr, momentum, batch_size, noise_scale, n_paths)
    rng = np.random.default_rng(seed)
    d = landscape.ndim
    theta = np.tile(np.asarray(start, dtype=float)[:d, None], (1, n_paths))
    previous = theta.copy()
    index = np.arange(n_paths)
    exits = np.full(n_paths, np.nan)
    noise_std = np.sqrt(noise_scale / batch_size)
    for k in range(1, max_steps + 1):
        theta, previous = _step(landscape, theta, previous, lr, momentum, noise_std, rng), theta
        inside = np.asarray(domain(*theta, *((theta - previous) / lr)), dtype=bool).reshape(-1)
        if not inside.all():
            exits[index[~inside]] = k * lr
            theta, previous, index = theta[:, inside], previous[:, inside], index[inside]
            if index.size == 0:
                break
    if index.size > 0.01 * n_paths:
        raise RuntimeError(
            f"max_steps: {index.size} of {n_paths} heavy-ball runs are still inside after "
            f"{max_steps} steps (t = {max_steps * lr:g}); raise max_steps"
        )
    return HeavyBallExits(exits[np.isfinite(exits)], int(index.size), max_steps * lr)


def heavy_ball_samples(
    landscape,
    lr: float,
    momentum: float,
    batch_size: float,
    noise_scale: float,
    start,
    n_paths: int,
    n_steps: int,
    seed: int = 0,
) -> np.ndarray:
    """theta after ``n_steps`` heavy-ball steps of ``n_paths`` independent runs from ``start`` at
    rest, shape (dim, n_paths): samples of the algorithm's law at t = n_steps lr (its stationary
    law once n_steps lr is many relaxation times)."""
    _check(lr, momentum, batch_size, noise_scale, n_paths)
    rng = np.random.default_rng(seed)
    d = landscape.ndim
    theta = np.tile(np.asarray(start, dtype=float)[:d, None], (1, n_paths))
    previous = theta.copy()
    noise_std = np.sqrt(noise_scale / batch_size)
    for _ in range(n_steps):
        theta, previous = _step(landscape, theta, previous, lr, momentum, noise_std, rng), theta
    if not np.all(np.isfinite(theta)):
        raise RuntimeError(f"lr: the heavy ball diverged (lr = {lr:g}, momentum = {momentum:g}); lower lr")
    return theta
