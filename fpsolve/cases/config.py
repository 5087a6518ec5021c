"""Case files: TOML -> validated objects (landscape, model, grid, boundary, initial density).

A case file names what to build and what to compute::

    name = "double_well_1d"
    title = "Density evolution in the 1-D double well"
    task = "evolve"                       # what to compute (see fpsolve.cases.tasks.TASKS)

    [landscape]                           # a named landscape and its parameters ...
    name = "double_well"
    # ... or an expression in the coordinates x, y, z:  expression = "(x**2 - 1)**2 + 2*y**2"

    [model]                               # "langevin" (temperature) or "sgd" (lr, batch_size, noise, ...)
    kind = "langevin"
    temperature = 0.25

    [grid]
    bounds = [[-2.5, 2.5]]
    cells = [2000]

    [initial]                             # "gaussian" (mean, std), "point" (point), "uniform"
    kind = "gaussian"
    mean = [-1.0]
    std = 0.1

    [evolve]
    times = [0, 1, 5]
    method = "exponential"

Every error names the file, the table and the key.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from ..dynamics import SGD, Langevin
from ..grid import Grid
from ..initial import gaussian, point_mass, uniform
from ..landscape import Landscape

__all__ = ["Case", "CaseError", "load_case", "build_landscape", "build_model", "build_grid", "build_initial"]


class CaseError(ValueError):
    """A malformed case file; the message names the file and the key."""


@dataclass(frozen=True)
class Case:
    """A parsed case file: its path, name, title, task and the raw tables."""

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
        if not isinstance(value, dict):
            raise CaseError(f"{self.path}: [{key}] must be a table, got {type(value).__name__}")
        return value

    def error(self, table: str, key: str, what: str) -> CaseError:
        return CaseError(f"{self.path}: [{table}] {key}: {what}")


def load_case(path) -> Case:
    """Read and check a case file's top level (name, task, tables)."""
    path = Path(path)
    if not path.is_file():
        raise CaseError(f"{path}: no such case file")
    try:
        tables = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise CaseError(f"{path}: not valid TOML: {error}") from error
    from .tasks import TASKS  # the registry of what a case can compute

    task = tables.get("task", "evolve")
    if task not in TASKS:
        raise CaseError(f"{path}: task: unknown {task!r}; expected one of {sorted(TASKS)}")
    name = str(tables.get("name", path.stem))
    return Case(path, name, str(tables.get("title", name)), task, tables)


def build_landscape(case: Case, table: str = "landscape") -> Landscape:
    """A named landscape (``name`` + parameters) or an ``expression`` in x, y, z."""
    spec = dict(case.table(table))
    if "expression" in spec:
        return _expression_landscape(case, table, spec)
    if "name" not in spec:
        raise case.error(table, "name", "missing; give a named landscape or an expression")
    from .. import landscapes

    factories = landscapes.available()
    name = spec.pop("name")
    if name not in factories:
        raise case.error(table, "name", f"unknown landscape {name!r}; expected one of {sorted(factories)}")
    try:
        return factories[name](**spec)
    except TypeError as error:
        raise case.error(table, name, f"bad parameters: {error}") from error


def build_model(case: Case, landscape: Landscape, overrides: dict | None = None):
    """A Langevin or SGD model from [model]; ``overrides`` replaces keys (used by sweeps)."""
    spec = dict(case.table("model"))
    spec.update(overrides or {})
    kind = spec.pop("kind", None)
    try:
        if kind == "langevin":
            _require(case, "model", spec, ["temperature"])
            return Langevin(landscape, temperature=float(spec["temperature"]))
        if kind == "sgd":
            _require(case, "model", spec, ["lr", "batch_size"])
            allowed = {"lr", "batch_size", "noise", "noise_scale", "modified_loss", "hessian_floor"}
            unknown = set(spec) - allowed
            if unknown:
                raise case.error("model", sorted(unknown)[0], f"unknown key for an SGD model; expected {sorted(allowed)}")
            return SGD(landscape, **spec)
    except CaseError:
        raise
    except (TypeError, ValueError) as error:
        raise CaseError(f"{case.path}: [model] {error}") from error
    raise case.error("model", "kind", f"expected 'langevin' or 'sgd', got {kind!r}")


def build_grid(case: Case) -> Grid:
    spec = case.table("grid")
    _require(case, "grid", spec, ["bounds", "cells"])
    try:
        return Grid(spec["bounds"], spec["cells"], periodic=spec.get("periodic", False))
    except ValueError as error:
        raise CaseError(f"{case.path}: [grid] {error}") from error


def build_initial(case: Case, grid: Grid) -> np.ndarray:
    spec = case.table("initial")
    kind = spec.get("kind")
    try:
        if kind == "gaussian":
            _require(case, "initial", spec, ["mean", "std"])
            return gaussian(grid, spec["mean"], spec["std"])
        if kind == "point":
            _require(case, "initial", spec, ["point"])
            return point_mass(grid, spec["point"])
        if kind == "uniform":
            return uniform(grid)
    except ValueError as error:
        raise CaseError(f"{case.path}: [initial] {error}") from error
    raise case.error("initial", "kind", f"expected 'gaussian', 'point' or 'uniform', got {kind!r}")


def _require(case: Case, table: str, spec: dict, keys) -> None:
    for key in keys:
        if key not in spec:
            raise case.error(table, key, "missing")


_SAFE = {name: getattr(np, name) for name in ("exp", "log", "sin", "cos", "tanh", "sqrt", "abs", "pi", "arctan", "cosh", "sinh")}


def _expression_landscape(case: Case, table: str, spec: dict) -> Landscape:
    expression = str(spec["expression"])
    ndim = int(spec.get("ndim", len(case.table("grid").get("cells", [0]))))
    names = ("x", "y", "z")[:ndim]
    try:
        code = compile(expression, f"<{case.path}: [{table}] expression>", "eval")
    except SyntaxError as error:
        raise case.error(table, "expression", f"not a valid expression: {error}") from error
    unknown = set(code.co_names) - set(names) - set(_SAFE)
    if unknown:
        raise case.error(table, "expression", f"unknown names {sorted(unknown)}; use {list(names)} and {sorted(_SAFE)}")

    def f(*x):
        return eval(code, {"__builtins__": {}}, {**_SAFE, **dict(zip(names, x))})

    return Landscape(f, ndim=ndim, name=spec.get("label", expression))
