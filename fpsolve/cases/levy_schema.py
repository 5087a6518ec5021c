"""The tables of the Lévy cases (fpsolve.cases.levy_escape, fpsolve.cases.levy_sgd_adam).

Imported at the end of fpsolve.cases.schema, which merges ``LEVY_TASK_TABLES`` into its
``TASK_TABLES``; it uses only the schema's types.
"""

from __future__ import annotations

from .schema import BOUNDS, INTEGERS, NUMBER, NUMBER_LIST, NUMBERS, Table, optional, required

__all__ = ["LEVY_TASK_TABLES"]

LANDSCAPE = "landscape"  # the schema's marker for a landscape table (checked against the factory)
BOX = {"bounds": required(BOUNDS), "cells": required(INTEGERS)}

#: cases/levy_escape.toml: LevyLangevin exit times against eps and alpha; the well's width and depth
LEVY_ESCAPE = {
    "landscape": (LANDSCAPE, True),
    "grid": (Table(BOX), True),
    "exit": (Table({"start": required(NUMBERS)}), True),
    "sweep": (Table({"alpha": required(NUMBER_LIST), "scale": required(NUMBER_LIST)}), True),
    "gaussian": (Table({"scale": required(NUMBER_LIST)}), False),
    "geometry": (
        Table(
            {
                "alpha": required(NUMBER),
                "scale": required(NUMBER),
                "gaussian_scale": required(NUMBER),
                "widths": required(NUMBER_LIST),
                "depths": required(NUMBER_LIST),
            }
        ),
        False,
    ),
    "landing": (Table({"alpha": required(NUMBER), "scale": required(NUMBER_LIST)}), False),
}

_BASIN = {**BOX, "start": required(NUMBERS), "noise_scale": optional(NUMBERS), "preconditioner": required(NUMBERS)}

#: cases/sgd_vs_adam.toml: the same basin under LevySGD and LevyAdam, 1-D and 2-D
SGD_VS_ADAM = {
    "landscape": (LANDSCAPE, False),
    "landscape_2d": (LANDSCAPE, False),
    "model": (Table({"lr": required(NUMBER), "alpha": required(NUMBER)}), True),
    "one_d": (Table(_BASIN), False),
    "two_d": (Table(_BASIN), False),
    "sweep": (Table({"batch_size": required(NUMBER_LIST)}), True),
}

LEVY_TASK_TABLES = {"levy_escape": LEVY_ESCAPE, "sgd_vs_adam": SGD_VS_ADAM}
