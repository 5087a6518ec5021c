"""Referee a Monte Carlo simulator against the PDE: statistical checks with a verdict at level α::

    report = fpsolve.validate.densities(samples, p, grid=grid)
    report = fpsolve.validate.mean_exit_time(exit_times, tau_pde)     # or an fp.with_error Estimate,
                                                                       # or reference_error=...
    report = fpsolve.validate.exit_times(exit_times, law, censored=flags, time_limit=T)
    report = fpsolve.validate.splitting(hits_b, n, q_pde)
    report = fpsolve.validate.phase_space(samples, p, grid)          # (theta, v): joint + marginals
    report = fpsolve.validate.exit_locations(exit_times, exit_law)    # where paths left (Levy: landed)
    fpsolve.validate.ExitPositionLaw, stable_density    # Levy references (and fpsolve.levy_theory)
    report.passed, report.p_value, report.plot(), report.to_dict()

Samples travel between a simulator and these checks in the .npz format of ``samples_file``
(``save_samples`` / ``load_samples``), described in docs/validate_format.md.
"""

from .checks import densities, exit_times, mean_exit_time, splitting
from .levy import ExitPositionLaw, exit_locations, stable_density
from .phase_space import marginal_density, phase_space
from .report import ValidationReport
from .samples_file import SamplesFile, load_samples, save_samples

__all__ = [
    "densities",
    "mean_exit_time",
    "exit_times",
    "splitting",
    "phase_space",
    "marginal_density",
    "ValidationReport",
    "SamplesFile",
    "save_samples",
    "load_samples",
    "exit_locations",
    "ExitPositionLaw",
    "stable_density",
]
