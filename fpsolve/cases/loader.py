"""``fpsolve.cases.load(NAME)``: a case's objects in Python, so nobody rebuilds a case by hand.

A case file holds a landscape, a model, a grid, a boundary and a task's own tables (an initial
density, an exit domain, committor sets, a sweep). :func:`load` returns them built, exactly as
``fpsolve run`` and ``fpsolve validate`` build them, together with the reference results the
referee uses (the exit-time law from the case's start) and the case's full run.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from .catalog import resolve_case
from .config import (
    Case,
    CaseError,
    build_boundary,
    build_grid,
    build_initial,
    build_landscape,
    build_model,
    build_problem,
    domain_predicate,
    load_case,
)

__all__ = ["LoadedCase", "load"]


def load(name_or_path) -> "LoadedCase":
    """The case ``name_or_path`` (a built-in name such as ``"exit_time_1d"`` or a .toml path).

    Examples
    --------
    >>> import fpsolve as fp
    >>> case = fp.cases.load("exit_time_1d")
    >>> case.model, case.grid, case.domain        # doctest: +SKIP
    >>> case.exit_time_law().mean                  # the referee's law, from [exit] start
    """
    return LoadedCase(load_case(resolve_case(name_or_path)))


@dataclass(frozen=True)
class LoadedCase:
    """A parsed case with its objects built on first use.

    Attributes
    ----------
    case : fpsolve.cases.Case
        The parsed file (``case.tables`` holds the raw TOML tables).
    landscape, model, grid, boundary
        As ``fpsolve run`` builds them.
    problem : fpsolve.FokkerPlanck
        The model on the grid with the case's boundary.
    initial : ndarray or None
        The ``[initial]`` density on the grid (normalised), if the case has one.
    domain : callable or None
        The ``[exit] domain`` predicate of the coordinates (True inside), if any.
    start : tuple or None
        The ``[exit] start`` point, if any.
    sets : tuple of two callables or None
        The committor's sets a and b (``[exit] a``, ``b``), if any.
    """

    case: Case

    @property
    def name(self) -> str:
        return self.case.name

    @property
    def title(self) -> str:
        return self.case.title

    @cached_property
    def landscape(self):
        return build_landscape(self.case)

    @cached_property
    def model(self):
        if "model" not in self.case.tables:
            raise CaseError(f"{self.case.path}: the case has no [model] table (task {self.case.task!r})")
        return build_model(self.case, self.landscape)

    @cached_property
    def grid(self):
        return build_grid(self.case)

    @cached_property
    def boundary(self) -> tuple:
        return build_boundary(self.case, self.grid)

    @cached_property
    def problem(self):
        return build_problem(self.case, self.model, self.landscape, self.grid)

    @cached_property
    def initial(self) -> np.ndarray | None:
        return build_initial(self.case, self.grid) if "initial" in self.case.tables else None

    @cached_property
    def domain(self):
        spec = self.case.table("exit", required=False)
        return domain_predicate(self.case, spec["domain"], self.grid.ndim, grid=self.grid) if "domain" in spec else None

    @cached_property
    def start(self) -> tuple | None:
        spec = self.case.table("exit", required=False)
        return tuple(float(c) for c in np.atleast_1d(spec["start"])) if "start" in spec else None

    @cached_property
    def sets(self) -> tuple | None:
        spec = self.case.table("exit", required=False)
        if "a" not in spec or "b" not in spec:
            return None
        return tuple(
            domain_predicate(self.case, spec[key], self.grid.ndim, key=key, grid=self.grid) for key in ("a", "b")
        )

    def exit_time_law(self):
        """The exit-time law from ``[exit] start`` out of ``[exit] domain`` (what ``fpsolve validate``
        compares a simulator's exit times with): an :class:`fpsolve.analysis.ExitTimeDistribution`."""
        from ..analysis import exit_time_distribution

        if self.domain is None or self.start is None:
            raise CaseError(
                f"{self.case.path}: exit_time_law needs [exit] domain and start; this case "
                f"(task {self.case.task!r}) has {sorted(self.case.table('exit', required=False))}"
            )
        return exit_time_distribution(self.problem, domain=self.domain, start=self.start)

    def run(self, out=None, progress: bool = False):
        """Run the case's task; returns its :class:`fpsolve.cases.CaseResult` (numbers, arrays,
        figures). With ``out`` the results folder is written too, as ``fpsolve run`` does."""
        if out is not None:
            from . import run_case

            return run_case(self.case.path, out, progress=progress)[1]
        import tempfile

        from .tasks import TASKS

        with tempfile.TemporaryDirectory() as scratch:
            return TASKS[self.case.task](self.case, progress=progress, scratch=Path(scratch))
