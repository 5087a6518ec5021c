"""Expressions in case files: ``"(x**2 - 1)**2 + 2*y**2"`` (a landscape), ``"x < 0"`` (a domain).

One evaluator for every expression a case file holds. The text is parsed once and its syntax tree
checked against a short list of what arithmetic on coordinate arrays needs: numbers, the
coordinates x, y, z, arithmetic and comparison operators, ``&``, ``|``, ``~``, and calls of the
numpy functions in :data:`FUNCTIONS`. Anything else (attributes, subscripts, strings, lambdas,
comprehensions) is refused with a CaseError naming the file, table and key, so evaluating a case
file never runs code it was not meant to.
"""

from __future__ import annotations

import ast

import numpy as np

from .schema import CaseError

__all__ = ["FUNCTIONS", "expression_function"]

#: Names an expression may use besides the coordinates.
FUNCTIONS = {
    name: getattr(np, name)
    for name in (
        "exp",
        "log",
        "sqrt",
        "abs",
        "sin",
        "cos",
        "tan",
        "arctan",
        "sinh",
        "cosh",
        "tanh",
        "minimum",
        "maximum",
        "logical_and",
        "logical_or",
        "logical_not",
        "pi",
    )
}
COORDINATES = ("x", "y", "z")

_NODES = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Compare,
    ast.Call,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.FloorDiv,
    ast.Mod,
    ast.Pow,
    ast.USub,
    ast.UAdd,
    ast.BitAnd,
    ast.BitOr,
    ast.BitXor,
    ast.Invert,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.Eq,
    ast.NotEq,
)


def expression_function(path, table: str, key: str, text, ndim: int, names=None):
    """A function of ``ndim`` coordinate arrays (x, y, z) evaluating the expression ``text``.

    ``names`` replaces the coordinate names, e.g. ``("theta", "v")`` for a domain in phase space.
    Raises CaseError naming ``path``, ``[table]`` and ``key`` when the text is not a valid
    expression or uses anything beyond numbers, the coordinates and :data:`FUNCTIONS`.
    """
    names = COORDINATES[:ndim] if names is None else tuple(names)

    def fail(what: str) -> CaseError:
        return CaseError(f"{path}: [{table}] {key}: {what}")

    if not isinstance(text, str):
        raise fail(f"expected an expression as a string, got {text!r}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        raise fail(f"not a valid expression: {error.msg} in {text!r}") from None
    for node in ast.walk(tree):
        if not isinstance(node, _NODES):
            raise fail(
                f"{type(node).__name__} is not allowed in {text!r}; use numbers, {list(names)}, "
                f"operators and the functions {sorted(FUNCTIONS)}"
            )
        if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float)):
            raise fail(f"only numbers may appear as constants, got {node.value!r}")
        if isinstance(node, ast.Name) and node.id not in names and node.id not in FUNCTIONS:
            raise fail(f"unknown name {node.id!r}; use {list(names)} and {sorted(FUNCTIONS)}")
        if isinstance(node, ast.Call) and not _plain_call(node, names):
            raise fail(f"only plain calls of {sorted(FUNCTIONS)} are allowed, in {text!r}")
    code = compile(tree, f"<{path}: [{table}] {key}>", "eval")

    def function(*coordinates):
        return eval(code, {"__builtins__": {}}, {**FUNCTIONS, **dict(zip(names, coordinates))})

    function.__name__ = f"{table}_{key}"
    function.__doc__ = f"[{table}] {key} = {text!r}"
    return function


def _plain_call(node: ast.Call, names) -> bool:
    """A call of one of FUNCTIONS by name, without keywords (an unknown name is reported as such)."""
    if node.keywords or not isinstance(node.func, ast.Name):
        return False
    known = node.func.id in FUNCTIONS or node.func.id in names
    return not known or callable(FUNCTIONS.get(node.func.id))
