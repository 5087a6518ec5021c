"""Case files are checked against their task's schema: every bad input is refused with a message
that names the file, the table and the key; expressions, boundaries and models have one parser each."""

import subprocess
import sys

import numpy as np
import pytest

from fpsolve.cases import CaseError, load_case, run_case
from fpsolve.cases.config import build_boundary, build_grid, build_landscape, case_key, domain_predicate
from fpsolve.cases.expressions import expression_function
from fpsolve.cases.schema import TASK_TABLES
from fpsolve.cases.tasks import TASKS

EVOLVE = """
name = "small"
title = "a small 1-D double well"
task = "evolve"

[landscape]
name = "double_well"

[model]
kind = "langevin"
temperature = 0.5

[grid]
bounds = [[-2.5, 2.5]]
cells = [200]

[initial]
kind = "gaussian"
mean = [-1.0]
std = 0.2

[evolve]
times = [0.0, 1.0]
method = "exponential"
"""

EXIT = """
name = "small_exit"
task = "exit_time"

[landscape]
name = "double_well"

[model]
kind = "langevin"
temperature = 0.25

[grid]
bounds = [[-2.5, 0.0]]
cells = [100]

[boundary]
kind = ["reflecting", "absorbing"]

[exit]
domain = "x < 1"
start = [-1.0]
"""

SWEEP = """
name = "tiny_sweep"
task = "batch_size_sweep"

[landscape]
name = "sharp_flat_double_well"

[model]
kind = "sgd"
lr = 1.0
noise_scale = 200.0
hessian_floor = 1.0

[grid]
bounds = [[-2.5, 2.5]]
cells = [200]

[sweep]
batch_size = [4, 16, 64]
noise = ["isotropic"]
"""


def edit(base, old, new):
    assert old in base, old
    return base.replace(old, new)


# (case text, what the message must contain: the table and key, and for types what was wrong)
BAD_CASES = {
    "misspelt-key": (edit(EVOLVE, "temperature = 0.5", "temprature = 0.5"), "[model] temprature: unknown key"),
    "lr-for-langevin": (
        edit(EVOLVE, "temperature = 0.5", "temperature = 0.5\nlr = 0.1"),
        "[model] lr: not a key of a 'langevin' model",
    ),
    "boolean-lr": (edit(SWEEP, "lr = 1.0", "lr = true"), "[model] lr: expected a number, got the boolean true"),
    "string-cells": (
        edit(EVOLVE, "cells = [200]", 'cells = "200"'),
        "[grid] cells: expected integers, got the string '200'",
    ),
    "string-temperature": (
        edit(EVOLVE, "temperature = 0.5", 'temperature = "0.5"'),
        "[model] temperature: expected a number, got the string '0.5'",
    ),
    "unknown-table": (edit(EVOLVE, "[grid]", "[grd]"), "[grd]: unknown table for task 'evolve'"),
    "table-of-another-task": (EVOLVE + '\n[exit]\ndomain = "x < 0"\n', "[exit]: unknown table"),
    "unknown-top-level-key": ('titel = "typo"\n' + EVOLVE, "titel: unknown top-level key"),
    "number-name": (edit(EVOLVE, 'name = "small"', "name = 3"), "name: expected a string, got the number 3"),
    "missing-table": (
        edit(EVOLVE, '[evolve]\ntimes = [0.0, 1.0]\nmethod = "exponential"\n', ""),
        "missing table [evolve]",
    ),
    "bounds-not-pairs": (
        edit(EVOLVE, "bounds = [[-2.5, 2.5]]", "bounds = [[-2.5]]"),
        "[grid] bounds: expected a list of [low, high] pairs",
    ),
    "string-periodic": (
        edit(EVOLVE, "cells = [200]", 'cells = [200]\nperiodic = "no"'),
        "[grid] periodic: expected a boolean",
    ),
    "kind-of-another-initial": (
        edit(EVOLVE, "std = 0.2", "std = 0.2\npoint = [0.0]"),
        "[initial] point: not a key of a 'gaussian' initial",
    ),
    "misspelt-std": (edit(EVOLVE, "std = 0.2", "sigma = 0.2"), "[initial] sigma: unknown key"),
    "string-times": (
        edit(EVOLVE, "times = [0.0, 1.0]", 'times = "0, 1"'),
        "[evolve] times: expected a list of numbers, got the string '0, 1'",
    ),
    "misspelt-method": (edit(EVOLVE, "method =", "methd ="), "[evolve] methd: unknown key"),
    "fractional-k": (EVOLVE + "\n[relaxation]\nk = 2.5\n", "[relaxation] k: expected an integer, got the number 2.5"),
    "landscape-parameter": (
        edit(EVOLVE, 'name = "double_well"', 'name = "double_well"\ndepht = 2.0'),
        "[landscape] depht: not a parameter of landscape 'double_well'",
    ),
    "landscape-parameter-type": (
        edit(EVOLVE, 'name = "double_well"', 'name = "double_well"\ndepth = "deep"'),
        "[landscape] depth: expected a number, got the string 'deep'",
    ),
    "name-and-expression": (
        edit(EVOLVE, 'name = "double_well"', 'name = "double_well"\nexpression = "x**2"'),
        "[landscape] expression: give either name or expression",
    ),
    "expression-attribute": (
        edit(EVOLVE, 'name = "double_well"', 'expression = "x.__class__"'),
        "[landscape] expression: Attribute is not allowed",
    ),
    "expression-unknown-name": (
        edit(EVOLVE, 'name = "double_well"', 'expression = "open(x)"'),
        "[landscape] expression: unknown name 'open'",
    ),
    "model-kind-type": (edit(EVOLVE, 'kind = "langevin"', "kind = 3"), "[model] kind: expected a string"),
    "model-kind-missing": (edit(EVOLVE, 'kind = "langevin"\n', ""), "[model] kind: missing"),
    "boundary-kind-unknown": (
        edit(EXIT, '["reflecting", "absorbing"]', '"sticky"'),
        "[boundary] kind: unknown kind 'sticky'",
    ),
    "boundary-kind-type": (
        edit(EXIT, 'kind = ["reflecting", "absorbing"]', "kind = 3"),
        "[boundary] kind: expected a kind",
    ),
    "boundary-misspelt": (
        edit(EXIT, 'kind = ["reflecting", "absorbing"]', 'knd = "absorbing"'),
        "[boundary] knd: unknown key",
    ),
    "boundary-periodic-on-box": (
        edit(EXIT, '["reflecting", "absorbing"]', '"periodic"'),
        "[boundary] kind: axis 0 is not periodic",
    ),
    "domain-attribute": (
        edit(EXIT, 'domain = "x < 1"', 'domain = "x.__class__"'),
        "[exit] domain: Attribute is not allowed",
    ),
    "committor-half": (edit(EXIT, "start = [-1.0]", 'start = [-1.0]\na = "x < -1.5"'), "[exit] b: missing"),
    "sweep-model-kind": (
        edit(SWEEP, 'kind = "sgd"\nlr = 1.0', 'kind = "langevin"\ntemperature = 1.0'),
        "[model] kind: expected one of ['sgd'] for task 'batch_size_sweep'",
    ),
    "sweep-model-misspelt": (
        edit(SWEEP, "noise_scale = 200.0", "noise_scal = 200.0"),
        "[model] noise_scal: unknown key",
    ),
    "sweep-model-unsupported": (
        edit(SWEEP, "lr = 1.0", "lr = 1.0\nmodified_loss = true"),
        "[model] modified_loss: unknown key",
    ),
    "sweep-model-swept-key": (
        edit(SWEEP, "lr = 1.0", "lr = 1.0\nbatch_size = 4"),
        "[model] batch_size: set by [sweep] batch_size",
    ),
    "sweep-noise-unknown": (edit(SWEEP, '["isotropic"]', '["hessain"]'), "noise: unknown noise model 'hessain'"),
    "sweep-noise-type": (edit(SWEEP, '["isotropic"]', "[1, 2]"), "[sweep] noise: expected a string or a list"),
    "sgd-missing-batch-size": (
        edit(EVOLVE, 'kind = "langevin"\ntemperature = 0.5', 'kind = "sgd"\nlr = 0.1'),
        "[model] batch_size: missing",
    ),
}


@pytest.mark.parametrize("text, expected", BAD_CASES.values(), ids=BAD_CASES.keys())
def test_bad_case_file_is_refused_naming_file_table_and_key(tmp_path, text, expected):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(CaseError) as caught:
        run_case(path, tmp_path / "out")
    message = str(caught.value)
    assert message.startswith(str(path)), message
    assert expected in message, message
    assert not (tmp_path / "out").exists()  # refused before anything was written


def test_every_task_has_a_schema_and_a_runner():
    assert set(TASKS) == set(TASK_TABLES)


def test_configuration_does_not_import_the_task_runners():
    code = "import sys, fpsolve.cases.config; print(sorted(m for m in sys.modules if m.startswith('fpsolve.cases.')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    for runner in ("tasks", "analysis_tasks", "validation"):
        assert f"fpsolve.cases.{runner}'" not in out, out


def test_boundary_is_parsed_once_per_axis(tmp_path):
    path = tmp_path / "exit.toml"
    path.write_text(EXIT)
    case = load_case(path)
    assert build_boundary(case, build_grid(case)) == (("reflecting", "absorbing"),)
    path.write_text(edit(EXIT, 'kind = ["reflecting", "absorbing"]', 'kind = { x = "absorbing" }'))
    case = load_case(path)
    assert build_boundary(case, build_grid(case)) == (("absorbing", "absorbing"),)
    path.write_text(edit(EXIT, '[boundary]\nkind = ["reflecting", "absorbing"]\n', ""))
    case = load_case(path)
    assert build_boundary(case, build_grid(case)) == (("reflecting", "reflecting"),)


def test_expression_landscape_and_domain_evaluate_on_arrays(tmp_path):
    path = tmp_path / "expr.toml"
    path.write_text(edit(EVOLVE, 'name = "double_well"', 'expression = "(x**2 - 1)**2 + 0.1 * exp(-x**2)"'))
    case = load_case(path)
    landscape = build_landscape(case)
    x = np.linspace(-2, 2, 9)
    assert np.allclose(landscape(x), (x**2 - 1) ** 2 + 0.1 * np.exp(-(x**2)))
    inside = domain_predicate(case, "logical_and(x < 0, abs(x) > 0.5) | (x > 1.5)", 1)
    assert list(inside(x)) == list(((x < 0) & (np.abs(x) > 0.5)) | (x > 1.5))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("[c for c in x]", "ListComp is not allowed"),
        ("lambda: x", "Lambda is not allowed"),
        ("(lambda: 1)()", "only plain calls"),
        ("x['a']", "Subscript is not allowed"),
        ("x < 'a'", "only numbers may appear as constants"),
        ("exp(x, out=x)", "only plain calls"),
        ("x(1)", "only plain calls"),
        ("x <", "not a valid expression"),
        ("y > 0", "unknown name 'y'"),
    ],
)
def test_expression_evaluator_refuses_anything_but_arithmetic(text, expected):
    with pytest.raises(CaseError, match="case.toml: \\[exit\\] domain: ") as caught:
        expression_function("case.toml", "exit", "domain", text, ndim=1)
    assert expected in str(caught.value)


def test_case_key_follows_what_determines_results(tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text(SWEEP)
    key = case_key(load_case(path))
    path.write_text(edit(SWEEP, 'name = "tiny_sweep"', 'name = "renamed"\ntitle = "another title"'))
    assert case_key(load_case(path)) == key  # name and title do not change a number
    for old, new in [
        ("lr = 1.0", "lr = 2.0"),
        ("cells = [200]", "cells = [201]"),
        ("[4, 16, 64]", "[4, 16]"),
        ("noise_scale = 200.0", "noise_scale = 100.0"),
    ]:
        path.write_text(edit(SWEEP, old, new))
        assert case_key(load_case(path)) != key, new
