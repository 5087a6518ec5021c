"""What a case file may contain: for each task, its tables, and for each table its keys and their types.

The schema is data, read top to bottom like a case file. :func:`check_tables` holds a parsed TOML
document against it and raises :class:`CaseError` naming the file, the table and the key for an
unknown table, an unknown or misplaced key, a missing required key, or a value of the wrong type
(``cells = "200"`` is "expected integers, got the string '200'"). Values within the right type
(positive temperatures, increasing times, at least 3 cells) are checked where the objects are
built (fpsolve.cases.config), by the constructors that own those rules.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from numbers import Real

__all__ = ["CaseError", "TASK_TABLES", "check_tables"]


class CaseError(ValueError):
    """A malformed case file; the message names the file, the table and the key."""


@dataclass(frozen=True)
class Type:
    """A value type of a case file: its name in messages and a test."""

    name: str
    test: object = field(repr=False)

    def accepts(self, value) -> bool:
        return bool(self.test(value))


def _number(v) -> bool:
    return isinstance(v, Real) and not isinstance(v, bool)


def _integer(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _list_of(test, allow_one: bool = False):
    return lambda v: (allow_one and test(v)) or (isinstance(v, list) and len(v) > 0 and all(map(test, v)))


def _pair(v) -> bool:
    return isinstance(v, list) and len(v) == 2 and all(map(_number, v))


def _boundary_entry(v) -> bool:
    return isinstance(v, str) or (isinstance(v, list) and len(v) == 2 and all(isinstance(s, str) for s in v))


NUMBER = Type("a number", _number)
INTEGER = Type("an integer", _integer)
STRING = Type("a string", lambda v: isinstance(v, str))
BOOLEAN = Type("a boolean (true or false)", lambda v: isinstance(v, bool))
NUMBER_LIST = Type("a list of numbers", _list_of(_number))
NUMBERS = Type("a number or a list of numbers", _list_of(_number, allow_one=True))
INTEGERS = Type("integers", _list_of(_integer, allow_one=True))
BOOLEANS = Type("a boolean or a list of booleans", _list_of(lambda v: isinstance(v, bool), allow_one=True))
STRINGS = Type("a string or a list of strings", _list_of(lambda v: isinstance(v, str), allow_one=True))
BOUNDS = Type("a list of [low, high] pairs of numbers", lambda v: _pair(v) or _list_of(_pair)(v))
BOUNDARY_KIND = Type(
    "a kind, a list with one kind or [low, high] pair per axis, or a table {axis = kind}",
    lambda v: (
        _boundary_entry(v)
        or _list_of(_boundary_entry)(v)
        or (isinstance(v, dict) and all(map(_boundary_entry, v.values())))
    ),
)
ANY = Type("any value", lambda v: True)


@dataclass(frozen=True)
class Table:
    """The keys of a table: ``keys`` maps a key to (type, required); a table with ``kinds`` takes a
    ``kind`` key whose value selects more keys. ``swept`` names keys the task sets itself."""

    keys: dict = field(default_factory=dict)
    kinds: dict | None = None
    swept: dict = field(default_factory=dict)


def required(type_: Type) -> tuple:
    return (type_, True)


def optional(type_: Type) -> tuple:
    return (type_, False)


LANGEVIN = {"temperature": required(NUMBER)}
SGD = {
    "lr": required(NUMBER),
    "batch_size": required(NUMBER),
    "noise": optional(STRING),
    "noise_scale": optional(NUMBER),
    "modified_loss": optional(BOOLEAN),
    "hessian_floor": optional(NUMBER),
}
NOISE = {"noise": optional(STRING), "noise_scale": optional(NUMBER), "hessian_floor": optional(NUMBER)}
#: Kinetic (phase-space) models, fpsolve.momentum: heavy-ball SGD and underdamped Langevin dynamics
MOMENTUM_SGD = {
    "lr": required(NUMBER),
    "batch_size": required(NUMBER),
    "momentum": required(NUMBER),
    "weight_decay": optional(NUMBER),
    **NOISE,
}
UNDERDAMPED_LANGEVIN = {"friction": required(NUMBER), "temperature": required(NUMBER), **NOISE}
#: Levy-driven models, fpsolve.levy (alpha-stable jumps; per-axis values as lists)
LEVY_LANGEVIN = {
    "alpha": required(NUMBERS),
    "scale": required(NUMBERS),
    "temperature": optional(NUMBER),
    "isotropic": optional(BOOLEAN),
}
LEVY_SGD = {
    "lr": required(NUMBER),
    "batch_size": required(NUMBER),
    "alpha": required(NUMBERS),
    "noise_scale": optional(NUMBERS),
    "gaussian_scale": optional(NUMBER),
    "isotropic": optional(BOOLEAN),
}
LEVY_ADAM = {**{k: v for k, v in LEVY_SGD.items() if k != "isotropic"}, "preconditioner": required(NUMBERS)}
MODEL_KINDS = {
    "langevin": LANGEVIN,
    "sgd": SGD,
    "momentum_sgd": MOMENTUM_SGD,
    "underdamped_langevin": UNDERDAMPED_LANGEVIN,
    "levy_langevin": LEVY_LANGEVIN,
    "levy_sgd": LEVY_SGD,
    "levy_adam": LEVY_ADAM,
}
KINETIC_KINDS = ("momentum_sgd", "underdamped_langevin")
MODEL = Table(kinds=MODEL_KINDS)
#: A box grid (``bounds``), or a phase-space grid (``theta`` and ``v`` boxes, axes named theta, v);
#: config.build_grid asks for exactly one of the two forms.
GRID = Table(
    {
        "bounds": optional(BOUNDS),
        "cells": required(INTEGERS),
        "periodic": optional(BOOLEANS),
        "theta": optional(BOUNDS),
        "v": optional(BOUNDS),
        "periodic_theta": optional(BOOLEANS),
    }
)
INITIAL = Table(
    kinds={
        "gaussian": {"mean": required(NUMBERS), "std": required(NUMBERS)},
        "point": {"point": required(NUMBERS)},
        "uniform": {},
    }
)
EVOLVE = Table({"times": required(NUMBER_LIST), "method": optional(STRING)})
BOUNDARY = Table({"kind": required(BOUNDARY_KIND)})
RELAXATION = Table({"k": optional(INTEGER)})
EXIT = Table(
    {
        "domain": required(STRING),
        "a": optional(STRING),
        "b": optional(STRING),
        "start": optional(NUMBERS),
        "moments": optional(INTEGER),
    }
)
LANDSCAPE = "landscape"  # checked against the named factory's signature, see _check_landscape
SYMMETRIC_2X2 = Type(
    "a 2x2 matrix [[a, b], [b, c]]", lambda v: isinstance(v, list) and len(v) == 2 and all(map(_pair, v))
)
HEAVY_BALL = {
    "lr": required(NUMBER),
    "momentum": required(NUMBER),
    "batch_size": required(NUMBER),
    "noise_scale": required(NUMBER),
}

#: Tables of the momentum cases (fpsolve.cases.momentum_exit, fpsolve.cases.kunin)
MOMENTUM_EXIT = {
    "landscape": (LANDSCAPE, True),
    "model": (
        Table(
            kinds={"momentum_sgd": {k: MOMENTUM_SGD[k] for k in ("lr", "noise_scale")}},
            swept={"momentum": "[sweep] momentum", "batch_size": "[sweep] batch_size"},
        ),
        True,
    ),
    "grid": (Table({"theta": required(BOUNDS), "cells": required(INTEGERS), "velocity_box": optional(NUMBER)}), True),
    "exit": (Table({"domain": required(STRING), "start": required(NUMBERS)}), True),
    "sweep": (Table({"momentum": required(NUMBER_LIST), "batch_size": required(NUMBER_LIST)}), True),
    "turnover": (
        Table(
            {
                "friction": required(NUMBER_LIST),
                "temperature": required(NUMBER),
                "cells": optional(INTEGERS),
                "monte_carlo_paths": optional(INTEGER),
                "monte_carlo_dt": optional(NUMBER),
            }
        ),
        False,
    ),
    "overdamped": (
        Table(
            {
                "momentum": required(NUMBER),
                "lr": required(NUMBER_LIST),
                "batch_size": required(NUMBER),
                "temperature": required(NUMBER),
            }
        ),
        False,
    ),
    "heavy_ball": (
        Table(
            {
                "momentum": required(NUMBER_LIST),
                "batch_size": required(NUMBER),
                "paths": required(INTEGER),
                "seed": optional(INTEGER),
                "max_steps": optional(INTEGER),
            }
        ),
        False,
    ),
}
KUNIN = {
    "landscape": (LANDSCAPE, True),
    "quadratic": (
        Table(
            {
                "curvature": required(NUMBER),
                **HEAVY_BALL,
                "cells": required(INTEGERS),
                "box_sd": optional(NUMBER),
                "start": required(NUMBERS),
                "t_end": required(NUMBER),
            }
        ),
        True,
    ),
    "current": (
        Table(
            {
                "hessian": required(NUMBER_LIST),
                "noise_covariance": required(SYMMETRIC_2X2),
                **HEAVY_BALL,
                "cells": required(INTEGERS),
                "box_sd": optional(NUMBER),
            }
        ),
        True,
    ),
    "modified_loss": (
        Table(
            {
                "lr": required(NUMBER_LIST),
                "momentum": required(NUMBER),
                "batch_size": required(NUMBER),
                "temperature": required(NUMBER),
                "theta": required(BOUNDS),
                "cells": required(INTEGERS),
                "paths": required(INTEGER),
                "steps": required(INTEGER),
                "seed": optional(INTEGER),
            }
        ),
        True,
    ),
    "anomalous": (
        Table(
            {
                "modes": required(INTEGER),
                "curvature_max": required(NUMBER),
                "spectrum_exponent": required(NUMBER),
                **HEAVY_BALL,
                "times": required(NUMBER_LIST),
                "fit_window": required(NUMBER_LIST),
                "pde_modes": optional(INTEGERS),
                "cells": optional(INTEGERS),
            }
        ),
        True,
    ),
}

#: Per task: table name -> (table schema, required). A table not listed is an error.
TASK_TABLES = {
    "evolve": {
        "landscape": (LANDSCAPE, True),
        "model": (MODEL, True),
        "grid": (GRID, True),
        "boundary": (BOUNDARY, False),
        "initial": (INITIAL, True),
        "evolve": (EVOLVE, True),
        "relaxation": (RELAXATION, False),
    },
    "batch_sizes": {
        "landscape": (LANDSCAPE, True),
        "grid": (GRID, True),
        "boundary": (BOUNDARY, False),
        "model": (
            Table(
                kinds={"sgd": {k: v for k, v in SGD.items() if k != "batch_size"}},
                swept={"batch_size": "[sweep] batch_size"},
            ),
            True,
        ),
        "initial": (INITIAL, True),
        "evolve": (EVOLVE, True),
        "sweep": (Table({"batch_size": required(NUMBER_LIST)}), True),
    },
    "batch_size_sweep": {
        "landscape": (LANDSCAPE, True),
        "grid": (GRID, True),
        "boundary": (BOUNDARY, False),
        "model": (
            Table(
                kinds={"sgd": {k: SGD[k] for k in ("lr", "noise_scale", "hessian_floor")}},
                swept={"batch_size": "[sweep] batch_size", "noise": "[sweep] noise"},
            ),
            True,
        ),
        "sweep": (
            Table(
                {
                    "batch_size": required(NUMBER_LIST),
                    "noise": required(STRINGS),
                    "occupancy_batch_sizes": optional(NUMBER_LIST),
                    "occupancy_noise": optional(STRING),
                    "times": optional(NUMBER_LIST),
                }
            ),
            True,
        ),
    },
    "exit_time": {
        "landscape": (LANDSCAPE, True),
        "model": (MODEL, True),
        "grid": (GRID, True),
        "boundary": (BOUNDARY, False),
        "exit": (EXIT, True),
    },
    "momentum_exit": MOMENTUM_EXIT,
    "kunin_phase_space": KUNIN,
}
TOP_LEVEL = {"name": STRING, "title": STRING, "task": STRING}

from .papers_schema import PAPER_TASK_TABLES  # noqa: E402  (the paper cases: fpsolve.cases.papers_tasks)

TASK_TABLES.update(PAPER_TASK_TABLES)

from .levy_schema import LEVY_TASK_TABLES  # noqa: E402  (levy_escape, sgd_vs_adam)

TASK_TABLES.update(LEVY_TASK_TABLES)

from .schema_3d import THREE_D_TASK_TABLES  # noqa: E402  (sharp_flat_3d: cases/exit_time_3d.toml)

TASK_TABLES.update(THREE_D_TASK_TABLES)


def check_tables(path, tables: dict) -> str:
    """Check a parsed case file against the schema of its task; returns the task name."""
    for key, type_ in TOP_LEVEL.items():
        if key in tables:
            _check_type(path, None, key, tables[key], type_)
    task = tables.get("task", "evolve")
    if task not in TASK_TABLES:
        raise CaseError(f"{path}: task: unknown {task!r}; expected one of {sorted(TASK_TABLES)}")
    schema = TASK_TABLES[task]
    for name, value in tables.items():
        if name in TOP_LEVEL:
            continue
        if name not in schema:
            where, what = (f"[{name}]", "table") if isinstance(value, dict) else (name, "top-level key")
            raise CaseError(
                f"{path}: {where}: unknown {what} for task {task!r}; it reads the tables "
                f"{', '.join(f'[{t}]' for t in schema)} and the keys {', '.join(TOP_LEVEL)}"
            )
        if not isinstance(value, dict):
            raise CaseError(f"{path}: [{name}] must be a table, got {_shown(value)}")
    for name, (table, needed) in schema.items():
        if name not in tables:
            if needed:
                raise CaseError(f"{path}: missing table [{name}] (task {task!r} needs it)")
            continue
        if table == LANDSCAPE:
            _check_landscape(path, tables[name])
        else:
            _check_table(path, name, tables[name], table, task)
    return task


def _check_table(path, name: str, spec: dict, table: Table, task: str) -> None:
    keys = dict(table.keys)
    if table.kinds is not None:
        kind = spec.get("kind")
        if kind is None:
            raise CaseError(f"{path}: [{name}] kind: missing; expected one of {sorted(table.kinds)}")
        _check_type(path, name, "kind", kind, STRING)
        if kind not in table.kinds:
            raise CaseError(
                f"{path}: [{name}] kind: expected one of {sorted(table.kinds)} for task {task!r}, got {kind!r}"
            )
        keys.update(table.kinds[kind])
        keys["kind"] = required(STRING)
    for key, value in spec.items():
        if key in table.swept:
            raise CaseError(
                f"{path}: [{name}] {key}: set by {table.swept[key]} in a {task!r} case; remove it from [{name}]"
            )
        if key not in keys:
            raise CaseError(f"{path}: [{name}] {key}: {_unknown(name, key, keys, table, spec)}")
        _check_type(path, name, key, value, keys[key][0])
    for key, (_, needed) in keys.items():
        if needed and key not in spec:
            raise CaseError(f"{path}: [{name}] {key}: missing")


def _unknown(name: str, key: str, keys: dict, table: Table, spec: dict) -> str:
    allowed = sorted(keys)
    if table.kinds is not None:
        owners = [k for k, ks in table.kinds.items() if key in ks]
        if owners:
            return f"not a key of a {spec['kind']!r} {name} (it takes {allowed}); {key} belongs to kind = {owners[0]!r}"
    return f"unknown key; expected one of {allowed}"


def _check_landscape(path, spec: dict) -> None:
    if "expression" in spec:
        if "name" in spec:
            raise CaseError(f"{path}: [landscape] expression: give either name or expression, not both")
        keys = {"expression": STRING, "ndim": INTEGER, "label": STRING}
    else:
        if "name" not in spec:
            raise CaseError(f"{path}: [landscape] name: missing; give a named landscape or an expression")
        _check_type(path, "landscape", "name", spec["name"], STRING)
        from .. import landscapes

        factories = landscapes.available()
        if spec["name"] not in factories:
            raise CaseError(
                f"{path}: [landscape] name: unknown landscape {spec['name']!r}; expected one of {sorted(factories)}"
            )
        keys = {"name": STRING, **_parameters(factories[spec["name"]])}
    for key, value in spec.items():
        if key not in keys:
            what = (
                f"not a parameter of landscape {spec['name']!r}"
                if "name" in spec
                else "unknown key for an expression landscape"
            )
            raise CaseError(f"{path}: [landscape] {key}: {what}; expected one of {sorted(keys)}")
        _check_type(path, "landscape", key, value, keys[key])


def _parameters(factory) -> dict:
    """A landscape factory's keyword parameters and their types (from the annotations)."""
    types = {"float": NUMBER, float: NUMBER, "int": INTEGER, int: INTEGER}
    return {
        n: types.get(p.annotation, ANY)
        for n, p in inspect.signature(factory).parameters.items()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }


def _check_type(path, table, key: str, value, type_: Type) -> None:
    if not type_.accepts(value):
        where = f"[{table}] {key}" if table else key
        raise CaseError(f"{path}: {where}: expected {type_.name}, got {_shown(value)}")


def _shown(value) -> str:
    """How a TOML value is named in a message: the string '200', the boolean true, the number 3."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, Real):
        return f"the number {value!r}"
    if isinstance(value, list):
        text = repr(value)
        return f"the list {text if len(text) < 60 else text[:57] + '...'}"
    if isinstance(value, dict):
        return "a table"
    return f"a {type(value).__name__}"
