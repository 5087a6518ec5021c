"""The tables of the three-parameter case (fpsolve.cases.tasks_3d, cases/exit_time_3d.toml).

Imported at the end of fpsolve.cases.schema, which merges ``THREE_D_TASK_TABLES`` into its
``TASK_TABLES``; it uses only the schema's types.
"""

from __future__ import annotations

from .schema import BOOLEAN, BOUNDS, INTEGERS, MODEL_KINDS, NUMBER_LIST, NUMBERS, STRING, Table, optional, required

__all__ = ["THREE_D_TASK_TABLES"]

LANDSCAPE = "landscape"  # the schema's marker for a landscape table (checked against the factory)

#: cases/exit_time_3d.toml: SGD with Hessian noise on a 3-D landscape with a sharp and a flat
#: minimum. [model] batch_size is the reference batch size (what fp.cases.load builds, what the
#: slice figure shows and the discretization error is estimated at); [sweep] batch_size the sweep,
#: error_estimate = false skips the Richardson estimate (default true).
SHARP_FLAT_3D = {
    "landscape": (LANDSCAPE, True),
    "model": (Table(kinds={"sgd": MODEL_KINDS["sgd"]}), True),
    "grid": (Table({"bounds": required(BOUNDS), "cells": required(INTEGERS)}), True),
    "exit": (
        Table(
            {
                "domain": required(STRING),
                "start": required(NUMBERS),
                "flat_domain": required(STRING),
                "flat_start": required(NUMBERS),
            }
        ),
        True,
    ),
    "sweep": (Table({"batch_size": required(NUMBER_LIST), "error_estimate": optional(BOOLEAN)}), True),
}

THREE_D_TASK_TABLES = {"sharp_flat_3d": SHARP_FLAT_3D}
