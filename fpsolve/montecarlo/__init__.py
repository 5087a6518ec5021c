"""Reference Monte Carlo for fpsolve's models: Euler-Maruyama paths and discrete optimisers.

Public names::

    sim = simulator(model, dt=1e-3, seed=0, domain=None, bounds=None)   # Simulator
    sim.sample(x0, n_paths, times)            -> Samples (times, x[(m, n_paths, d)], alive)
    sim.exit_times(x0, n_paths, domain, t_max) -> ExitTimes (times, censored, locations, ...)
    Box([(lo, hi), ...]), HalfSpace(normal, offset)   # domains with exact bridge crossing tests
    sgd(loss, lr, batch_size, n_steps, ...), adam(...) -> Iterates     # discrete algorithms
    sgd(..., momentum=beta, velocities=True).phase_space(i)           # heavy ball as (theta, v)
    StepKernel, register_step_kernel                 # plug in models with their own step

Paths draw from counter-based streams keyed by (seed, path index): results are identical for any
number of threads. Any :class:`fpsolve.dynamics.Model` without jumps runs by Euler-Maruyama from
its own drift, noise amplitude and noise covariance; kinetic models (``MomentumSGD``,
``UnderdampedLangevin``) by the BAOAB splitting in phase space (``phase_space``, with specular walls in
theta). Levy models (``LevyLangevin``, ``LevySGD``, ``LevyAdam``) by Euler steps with exact
Chambers-Mallows-Stuck stable jumps (``levy``, ``levy_stable``; exits where the jump lands).
See ``sde`` (simulation), ``compile`` (models ->
Numba kernels, plug-ins), ``noise_root`` (the noise factor Sigma^(1/2)), ``tables`` (tabulated
functions), ``rng`` (random numbers), ``discrete`` (SGD, heavy ball, Adam on a FiniteSumLoss).
"""

from .compile import StepKernel, compile_model, register_step_kernel
from .domains import Box, HalfSpace
from .results import ExitTimes, Iterates, Samples
from .sde import Simulator, simulator
from .phase_space import kinetic_step_kernel  # registers the BAOAB kernel for kinetic models
from .levy import levy_step_kernel  # registers the stable-jump kernel for Levy models

__all__ = [
    "simulator",
    "Simulator",
    "Samples",
    "ExitTimes",
    "Iterates",
    "Box",
    "HalfSpace",
    "StepKernel",
    "register_step_kernel",
    "compile_model",
    "kinetic_step_kernel",
    "levy_step_kernel",
]

try:  # discrete algorithms (import lazily tolerated while FiniteSumLoss is being written)
    from .discrete import adam, sgd  # noqa: F401

    __all__ += ["sgd", "adam"]
except ImportError:  # pragma: no cover
    pass
