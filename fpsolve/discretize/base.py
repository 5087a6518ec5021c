"""The discretization protocol and its registry: (model, grid, boundary, t) -> an operator on the seam.

A discretization is a class with a ``name`` that subclasses :class:`Discretization`; defining it
registers it (no switch to edit anywhere). ``FokkerPlanck(model, grid, discretization=NAME)``
looks the name up here, and without a name takes the registered scheme that
:meth:`Discretization.suits` the model best. What a scheme promises:

* ``__init__(model, grid, boundary)`` checks that it can discretize the model on the grid (its
  own checks: finite volumes refuse a diffusion that is not positive definite on the axes they
  diffuse along) and raises ValueError naming the argument otherwise;
* ``assemble(t)`` returns an :class:`Assembled`: the generator Q over all grid cells (sparse or
  :class:`fpsolve.operators.MatrixFree`), the scheme's own face fluxes if it has them, and its
  diagnostics;
* ``report(assembled)`` warns about what the diagnostics say (a grid too coarse for the noise);
* ``current(assembled, p)`` returns the scheme's own probability current for a density.

Everything downstream (evolution, stationary laws, exit times, rates) works on the Generator made
from ``assembled.generator`` and never asks which scheme made it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

__all__ = ["Assembled", "Discretization", "register", "get", "choose", "names"]

_REGISTRY: dict = {}


@dataclass(frozen=True, eq=False)
class Assembled:
    """What a discretization hands to the seam at one time t.

    Attributes
    ----------
    generator : scipy.sparse matrix or MatrixFree
        Q over all grid cells (C order).
    face_flux : tuple of sparse matrices or None
        Per axis, cell densities -> the scheme's fluxes on the faces of that axis (``n_k + 1``
        faces along axis k), when the scheme is a finite-volume one.
    diagnostics : dict
        The scheme's own numbers (Peclet numbers, monotonicity, ...), for reports and results.
    """

    generator: object
    face_flux: tuple | None = None
    diagnostics: dict = field(default_factory=dict)


class Discretization:
    """Base class of discretizations; a subclass with a ``name`` registers itself.

    Attributes
    ----------
    name : str
        The registry key (``FokkerPlanck(..., discretization=name)``).
    markov : bool
        Whether the operator is the generator of a Markov chain (non-negative rates). Analyses
        that need rates (relaxation rates, exit-time laws from rates) refuse others.
    generator_like : bool or None
        For schemes that are not Markov: whether the operator is still a conservative generator
        (rows summing to zero or to minus a killing rate), so that eigenvalues and survival
        functions keep their meaning (checked a posteriori). None: decided from the matrix
        (:class:`fpsolve.generator.Generator`).
    priority : int
        Among schemes that suit a model, the highest priority is chosen by default.
    """

    name: ClassVar[str] = ""
    markov: ClassVar[bool] = True
    generator_like: ClassVar[bool | None] = None
    priority: ClassVar[int] = 0

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.name:
            register(cls)

    def __init__(self, model, grid, boundary):
        self.model = model
        self.grid = grid
        self.boundary = boundary

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"

    @classmethod
    def suits(cls, model) -> bool:
        """Whether this scheme is a default choice for ``model``."""
        return False

    def assemble(self, t: float = 0.0) -> Assembled:
        raise TypeError(f"{type(self).__name__} does not define assemble(t)")

    def report(self, assembled: Assembled) -> None:
        """Warn about the diagnostics of an assembled operator (nothing by default)."""

    def check_densities(self, p) -> None:
        """Warn about evolved densities ``p`` (shape ``(times,) + grid.shape``) that the scheme
        cannot represent well (nothing by default; the kinetic scheme checks its velocity box)."""

    def current(self, assembled: Assembled, p) -> tuple:
        raise ValueError(f"current: the {self.name!r} discretization does not define a probability current")


def register(cls):
    """Register a :class:`Discretization` subclass under ``cls.name`` (also usable as a decorator).
    A later registration under the same name replaces the earlier one."""
    if not (isinstance(cls, type) and issubclass(cls, Discretization) and cls.name):
        raise TypeError("register: expected a Discretization subclass with a non-empty name")
    _REGISTRY[cls.name] = cls
    return cls


def names() -> tuple:
    """The registered discretization names."""
    return tuple(_REGISTRY)


def get(name: str):
    """The discretization class registered as ``name``."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(f"discretization: unknown {name!r}; registered are {names()}") from None


def choose(model):
    """The registered scheme that suits ``model``, the highest priority first."""
    suitable = [cls for cls in _REGISTRY.values() if cls.suits(model)]
    if not suitable:
        raise ValueError(
            f"model: no registered discretization handles {model!r} (jumps "
            f"{getattr(model, 'jumps', None)!r}, noise on axes {getattr(model, 'noise_axes', None)}); "
            f"registered are {names()}"
        )
    return max(suitable, key=lambda cls: cls.priority)
