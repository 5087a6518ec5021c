"""Case files: TOML -> validated objects (landscape, model, grid, boundary, initial density, domains).

A case file names what to build and what to compute::

    name = "double_well_1d"
    title = "Density evolution in the 1-D double well"
    task = "evolve"                       # what to compute (see fpsolve.cases.schema.TASK_TABLES)

    [landscape]                           # a named landscape and its parameters ...
    name = "double_well"
    # ... or an expression in the coordinates x, y, z:  expression = "(x**2 - 1)**2 + 2*y**2"

    [model]                               # "langevin" (temperature), "sgd" (lr, batch_size, noise, ...),
    kind = "langevin"                     # or in phase space "momentum_sgd" (lr, batch_size, momentum, ...)
    temperature = 0.25                    # and "underdamped_langevin" (friction, temperature); with
                                          # alpha-stable jumps "levy_langevin" (alpha, scale),
                                          # "levy_sgd" (lr, batch_size, alpha, noise_scale),
                                          # "levy_adam" (the same and preconditioner)

    [grid]                                # a box; in phase space: theta = [[-2.5, 0.5]], v = [[-3, 3]]
    bounds = [[-2.5, 2.5]]
    cells = [2000]

    [boundary]                            # optional: "reflecting" (default), "absorbing", per axis
    kind = ["reflecting", "absorbing"]

    [initial]                             # "gaussian" (mean, std), "point" (point), "uniform"
    kind = "gaussian"
    mean = [-1.0]
    std = 0.1

    [evolve]
    times = [0, 1, 5]
    method = "exponential"

:func:`load_case` checks the whole file against the schema of its task (fpsolve.cases.schema)
before anything is built; the ``build_*`` functions then make the objects, and every model of a
case is made by :func:`build_model`. Every error names the file, the table and the key.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from .._fingerprint import fingerprint
from ..boundary import normalize_boundary
from ..dynamics import SGD, Langevin
from ..grid import Grid
from ..initial import gaussian, point_mass, uniform
from ..landscape import Landscape
from ..levy import LevyAdam, LevyLangevin, LevySGD
from ..momentum import MomentumSGD, UnderdampedLangevin, phase_space_grid
from . import schema
from .expressions import expression_function
from .schema import CaseError

__all__ = [
    "Case",
    "CaseError",
    "load_case",
    "case_key",
    "build_landscape",
    "model_parameters",
    "build_model",
    "build_grid",
    "build_boundary",
    "build_initial",
    "build_problem",
    "domain_predicate",
]


@dataclass(frozen=True)
class Case:
    """A parsed and checked case file: its path, name, title, task and the raw tables."""

    path: Path
    name: str
    title: str
    task: str
    tables: dict = field(repr=False)

    def table(self, key: str, required: bool = True) -> dict:
        value = self.tables.get(key)
        if value is None:
            if required:
                raise CaseError(f"{self.path}: missing table [{key}]")
            return {}
        return value

    def error(self, table: str, key: str, what: str) -> CaseError:
        return CaseError(f"{self.path}: [{table}] {key}: {what}")


def load_case(path) -> Case:
    """Read a case file and check it against its task's schema (tables, keys and their types)."""
    path = Path(path)
    if not path.is_file():
        raise CaseError(f"{path}: no such case file")
    try:
        tables = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise CaseError(f"{path}: not valid TOML: {error}") from None
    task = schema.check_tables(path, tables)
    name = tables.get("name", path.stem)
    return Case(path, name, tables.get("title", name), task, tables)


def case_key(case: Case) -> str:
    """A hash of everything in the case that determines its results: the task and its tables
    (landscape, model, grid, boundary and the task's own); name and title do not count."""
    tables = {name: case.tables[name] for name in schema.TASK_TABLES[case.task] if name in case.tables}
    return fingerprint(case.task, json.dumps(tables, sort_keys=True))


def build_landscape(case: Case, table: str = "landscape") -> Landscape:
    """A named landscape (``name`` + parameters) or an ``expression`` in x, y, z."""
    spec = dict(case.table(table))
    if "expression" in spec:
        ndim = spec["ndim"] if "ndim" in spec else _grid_ndim(case)
        f = expression_function(case.path, table, "expression", spec["expression"], ndim)
        return Landscape(f, ndim=ndim, name=spec.get("label", spec["expression"]))
    from .. import landscapes

    factory = landscapes.available()[spec.pop("name")]
    try:
        return factory(**spec)
    except (TypeError, ValueError) as error:
        raise CaseError(f"{case.path}: [{table}] {error}") from error


def model_parameters(case: Case, overrides: dict | None = None) -> dict:
    """The [model] table with ``overrides`` (keys a task sets itself, e.g. a swept batch size)."""
    spec = {**case.table("model"), **(overrides or {})}
    kind = spec["kind"]
    keys = schema.MODEL_KINDS[kind]
    for key in overrides or {}:
        if key not in keys:
            raise case.error(
                "model", "kind", f"the task {case.task!r} sets {key}, which a {kind!r} model does not have"
            )
    for key, (_, needed) in keys.items():
        if needed and key not in spec:
            raise case.error("model", key, "missing")
    return spec


MODELS = {
    "langevin": Langevin,
    "sgd": SGD,
    "momentum_sgd": MomentumSGD,
    "underdamped_langevin": UnderdampedLangevin,
    "levy_langevin": LevyLangevin,
    "levy_sgd": LevySGD,
    "levy_adam": LevyAdam,
}


def build_model(case: Case, landscape: Landscape, overrides: dict | None = None):
    """The model of [model] by ``kind``: Langevin, SGD, MomentumSGD, UnderdampedLangevin, or the
    Levy-driven LevyLangevin, LevySGD, LevyAdam; ``overrides`` replaces keys (used by sweeps)."""
    spec = model_parameters(case, overrides)
    kind = spec.pop("kind")
    try:
        return MODELS[kind](landscape, **spec)
    except (TypeError, ValueError) as error:
        raise CaseError(f"{case.path}: [model] {error}") from error


def build_grid(case: Case) -> Grid:
    """The [grid]: a box (``bounds``), or a phase-space grid (``theta`` and ``v`` boxes, axes
    named theta, v; theta1, theta2, v1, v2 in 4-D) for the kinetic model kinds."""
    spec = case.table("grid")
    kinetic = case.tables.get("model", {}).get("kind") in schema.KINETIC_KINDS
    phase_space = "theta" in spec or "v" in spec
    if phase_space != kinetic:
        raise case.error(
            "grid",
            "theta" if phase_space else "bounds",
            (
                "a phase-space grid (theta, v) is for the kinetic models momentum_sgd and underdamped_langevin; "
                "give bounds"
                if phase_space
                else "a momentum_sgd or underdamped_langevin model lives in phase space: give theta = [[lo, hi]] and "
                "v = [[lo, hi]] instead of bounds"
            ),
        )
    try:
        if phase_space:
            for key in ("theta", "v"):
                if key not in spec:
                    raise case.error("grid", key, "missing: a phase-space grid needs both theta and v boxes")
            if "bounds" in spec or "periodic" in spec:
                key = "bounds" if "bounds" in spec else "periodic"
                raise case.error("grid", key, "not a key of a phase-space grid (theta, v, cells, periodic_theta)")
            return phase_space_grid(spec["theta"], spec["v"], spec["cells"], spec.get("periodic_theta", False))
        if "bounds" not in spec:
            raise case.error("grid", "bounds", "missing")
        return Grid(spec["bounds"], spec["cells"], periodic=spec.get("periodic", False))
    except ValueError as error:
        if isinstance(error, CaseError):
            raise
        raise CaseError(f"{case.path}: [grid] {error}") from error


def build_boundary(case: Case, grid: Grid) -> tuple:
    """Per-axis (low, high) boundary kinds from [boundary] kind (reflecting when absent)."""
    kind = case.table("boundary", required=False).get("kind", "reflecting")
    try:
        return normalize_boundary(grid, kind)
    except ValueError as error:
        raise case.error("boundary", "kind", str(error).removeprefix("boundary: ")) from error


def build_initial(case: Case, grid: Grid) -> np.ndarray:
    spec = case.table("initial")
    try:
        if spec["kind"] == "gaussian":
            return gaussian(grid, spec["mean"], spec["std"])
        if spec["kind"] == "point":
            return point_mass(grid, spec["point"])
        return uniform(grid)
    except ValueError as error:
        raise CaseError(f"{case.path}: [initial] {error}") from error


def build_problem(case: Case, model=None, landscape=None, grid=None):
    """The FokkerPlanck problem of the case: its model (or ``model``) on its grid and boundary."""
    from ..problem import FokkerPlanck

    landscape = landscape or build_landscape(case)
    grid = grid or build_grid(case)
    model = model or build_model(case, landscape)
    try:
        return FokkerPlanck(model, grid, boundary=build_boundary(case, grid))
    except ValueError as error:
        raise CaseError(f"{case.path}: {error}") from error


def domain_predicate(case: Case, expression, ndim: int, key: str = "domain", table: str = "exit", grid=None):
    """A predicate of the coordinates from an expression such as ``"x < 0"`` ([table] key); on a
    phase-space ``grid`` the coordinates are its axis names (``"theta < 0"``, ``"theta1 + v1 > 0"``)."""
    names = grid.axis_names if grid is not None and grid.axis_names[0].startswith("theta") else None
    return expression_function(case.path, table, key, expression, ndim, names=names)


def _grid_ndim(case: Case) -> int:
    """The dimension of the landscape's coordinates: the grid's, or theta's on a phase-space grid."""
    spec = case.table("grid")
    bounds = spec.get("theta", spec.get("bounds"))
    if bounds is None:
        raise case.error("grid", "bounds", "missing")
    return 1 if all(isinstance(b, (int, float)) for b in bounds) else len(bounds)
