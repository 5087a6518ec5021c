"""fpsolve: Fokker-Planck PDE solvers for SGD-like SDEs on low-dimensional loss landscapes.

The public names of DESIGN.md section 3 live here: grids, landscapes, models, the Fokker-Planck
problem and its analyses.
"""

__version__ = "0.1.0"

from .grid import Grid
from .landscape import Landscape
from .dynamics import Diffusion, Langevin, SGD
from .generator import Generator
from .initial import from_samples, gaussian, point_mass, uniform
from .problem import FokkerPlanck, Solution

__all__ = [
    "Grid", "Landscape", "Langevin", "SGD", "Diffusion", "Generator", "FokkerPlanck", "Solution",
    "gaussian", "point_mass", "uniform", "from_samples",
]
