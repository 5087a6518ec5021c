"""Discretizations: registered schemes that turn (model, grid, boundary, t) into an operator on the seam.

``base`` holds the protocol and the registry; importing this package registers the built-in
schemes. A user scheme registers itself by subclassing :class:`Discretization` with a ``name``.
"""

from .base import Assembled, Discretization, choose, get, names, register
from . import finite_volumes  # noqa: F401  (registers "fv")
from . import kinetic  # noqa: F401  (registers "kinetic" and "kinetic-upwind")
from . import fractional  # noqa: F401  (registers "fractional", for models with jumps)
from . import spectral  # noqa: F401  (registers "spectral": Fourier on periodic boxes, else Chebyshev)
from . import chebyshev  # noqa: F401  (registers "chebyshev": collocation on non-periodic boxes)

__all__ = ["Assembled", "Discretization", "register", "get", "choose", "names"]
