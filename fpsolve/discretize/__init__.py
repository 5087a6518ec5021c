"""Discretizations: registered schemes that turn (model, grid, boundary, t) into an operator on the seam.

``base`` holds the protocol and the registry; importing this package registers the built-in
schemes. A user scheme registers itself by subclassing :class:`Discretization` with a ``name``.
"""

from .base import Assembled, Discretization, choose, get, names, register
from . import finite_volumes  # noqa: F401  (registers "fv")
from . import kinetic  # noqa: F401  (registers "kinetic" and "kinetic-upwind")

__all__ = ["Assembled", "Discretization", "register", "get", "choose", "names"]
