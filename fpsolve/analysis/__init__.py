"""Analyses on the generator Q: exit times, committors, exit-time laws, rates, basins.

Everything here talks to :class:`fpsolve.generator.Generator` (DESIGN.md section 2), never to the
discretization that made it.
"""

from .basins import Basins, Occupancy, basin_occupancy, basins
from .error_estimate import Estimate, with_error
from .exit import ExitLocations, committor, exit_locations, mean_exit_time
from .exit_law import ExitTimeLaw, exit_time_distribution
from .fields import Field
from .rates import (
    TransitionRates,
    eyring_kramers_rate,
    laplace_exit_time_1d,
    transition_rates,
    xie_escape_time,
    hessian_noise_exponent_1d,
)

__all__ = [
    "Field",
    "mean_exit_time",
    "exit_locations",
    "ExitLocations",
    "committor",
    "exit_time_distribution",
    "ExitTimeLaw",
    "transition_rates",
    "TransitionRates",
    "eyring_kramers_rate",
    "xie_escape_time",
    "laplace_exit_time_1d",
    "hessian_noise_exponent_1d",
    "basins",
    "Basins",
    "basin_occupancy",
    "Occupancy",
    "with_error",
    "Estimate",
]
