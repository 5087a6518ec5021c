"""The tables of the paper cases (fpsolve.cases.papers_tasks): locally_elastic and resnet_depth_limit.

Imported at the end of fpsolve.cases.schema, which merges ``PAPER_TASK_TABLES`` into its
``TASK_TABLES``; it uses only the schema's types.
"""

from __future__ import annotations

from .schema import INTEGER, NUMBER, NUMBER_LIST, STRING, Table, optional, required

__all__ = ["PAPER_TASK_TABLES"]

#: cases/locally_elastic.toml (Zhang, Wang & Su 2021)
LOCALLY_ELASTIC = {
    "model": (
        Table(
            {
                "classes": required(INTEGER),
                "intra": required(NUMBER),
                "inter": required(NUMBER),
                "noise": required(NUMBER),
                "margin": required(NUMBER),
            }
        ),
        True,
    ),
    "law": (
        Table(
            {
                "time": required(NUMBER),
                "paths": required(INTEGER),
                "dt": required(NUMBER),
                "seed": optional(INTEGER),
                "bounds": required(NUMBER_LIST),
                "cells": required(INTEGER),
            }
        ),
        True,
    ),
    "separability": (Table({"gap": required(NUMBER_LIST), "times": required(NUMBER_LIST)}), True),
    "corruption": (Table({"fractions": required(NUMBER_LIST)}), True),
    "collapse": (Table({"times": required(NUMBER_LIST), "within_noise": required(NUMBER)}), True),
}

#: cases/resnet_depth_limit.toml (Cohen, Cont, Rossier & Xu 2021)
RESNET_DEPTH_LIMIT = {
    "network": (
        Table(
            {
                "activation": required(STRING),
                "h0": required(NUMBER),
                "var_A": required(NUMBER),
                "var_b": required(NUMBER),
            }
        ),
        True,
    ),
    "depths": (Table({"depths": required(NUMBER_LIST), "paths": required(INTEGER), "seed": optional(INTEGER)}), True),
    "limit": (Table({"bounds": required(NUMBER_LIST), "cells": required(INTEGER)}), True),
    "scaling": (
        Table(
            {
                "depths": required(NUMBER_LIST),
                "paths": required(INTEGER),
                "iid_exponents": required(NUMBER_LIST),
                "smooth_exponents": required(NUMBER_LIST),
            }
        ),
        False,
    ),
}

PAPER_TASK_TABLES = {"locally_elastic": LOCALLY_ELASTIC, "resnet_depth_limit": RESNET_DEPTH_LIMIT}
