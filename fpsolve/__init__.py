"""fpsolve: Fokker-Planck PDE solvers for SGD-like SDEs on low-dimensional loss landscapes.

The public names of DESIGN.md section 3 live here: grids, landscapes, models, the Fokker-Planck
problem and its analyses.
"""

__version__ = "0.1.0"

from .grid import Grid
from .landscape import Landscape
from .dynamics import Diffusion, Langevin, SGD
from .momentum import MomentumSGD, UnderdampedLangevin, phase_space_grid
from .levy import LevyAdam, LevyLangevin, LevySGD
from .hermite import HermiteKinetic
from .hermite_2d import HermiteKinetic2D
from .generator import Generator
from .amg import HierarchyCache
from .initial import from_samples, gaussian, point_mass, uniform
from .problem import FokkerPlanck, Solution
from . import landscapes
from .finite_sum import FiniteSumLoss
from .analysis import (
    Field,
    basin_occupancy,
    basins,
    committor,
    exit_locations,
    exit_time_distribution,
    mean_exit_time,
    transition_rates,
)
from .studies import sweep
from .analysis import Estimate, with_error
from . import discretize  # noqa: F401  (the registry: fpsolve.discretize.names(), register)

__all__ = [
    "Grid",
    "Landscape",
    "Langevin",
    "SGD",
    "Diffusion",
    "MomentumSGD",
    "UnderdampedLangevin",
    "LevyLangevin",
    "LevySGD",
    "LevyAdam",
    "phase_space_grid",
    "HermiteKinetic",
    "HermiteKinetic2D",
    "Generator",
    "HierarchyCache",
    "FokkerPlanck",
    "Solution",
    "gaussian",
    "point_mass",
    "uniform",
    "from_samples",
    "landscapes",
    "FiniteSumLoss",
    "validate",
    "montecarlo",
    "cases",
    "Field",
    "mean_exit_time",
    "committor",
    "exit_locations",
    "exit_time_distribution",
    "transition_rates",
    "basins",
    "basin_occupancy",
    "sweep",
    "with_error",
    "Estimate",
]


def __getattr__(name):
    # the Monte Carlo simulators (Numba kernels) and the statistics of validate (scipy.stats) are
    # slow to import: load them only when asked for
    if name in ("montecarlo", "validate", "cases"):
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'fpsolve' has no attribute {name!r}")
