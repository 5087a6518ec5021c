"""Analyses on the generator Q: exit times, committors, exit-time laws, rates, basins, sweeps.

Everything here talks to :class:`fpsolve.generator.Generator` (DESIGN.md section 2), never to the
discretization that made it.
"""

from .basins import Basins, Occupancy, basin_occupancy, basins
from .exit import ExitLocations, committor, exit_locations, mean_exit_time
from .exit_law import ExitTimeLaw, exit_time_distribution
from .fields import Field
from .rates import (TransitionRates, eyring_kramers_rate, laplace_exit_time_1d, transition_rates,
                    xie_escape_time, hessian_noise_exponent_1d)
from .studies import batch_size_point, batch_size_study, exit_time_map, log_tau_slope, occupancy_over_time
from .sweep import SweepTable, sweep

__all__ = [
    "Field", "mean_exit_time", "exit_locations", "ExitLocations", "committor",
    "exit_time_distribution", "ExitTimeLaw", "transition_rates", "TransitionRates",
    "eyring_kramers_rate", "xie_escape_time", "laplace_exit_time_1d", "hessian_noise_exponent_1d",
    "basins", "Basins", "basin_occupancy", "Occupancy", "sweep", "SweepTable",
    "batch_size_point", "batch_size_study", "occupancy_over_time", "exit_time_map", "log_tau_slope",
]
