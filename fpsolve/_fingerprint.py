"""Fingerprints: a short hash of what determines a saved result, so a resumed run never reuses
results saved for another problem (checkpoints, sweep tables).

:func:`describe` turns a value into a stable text: numbers and strings by ``repr``, arrays by
shape, dtype and bytes, functions by their qualified name, ``functools.partial`` objects by their
function, arguments and keywords, objects with a ``fingerprint`` method or attribute by it, and
anything else by ``repr``. A ``repr`` that shows a memory address changes from one process to the
next; :func:`unstable` reports such parts so that error messages can say why a resume failed.
"""

from __future__ import annotations

import functools
import hashlib
import re

import numpy as np

__all__ = ["describe", "fingerprint", "qualified_name", "unstable"]

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def qualified_name(fn) -> str:
    """``module.qualname`` of a function or class (``type(fn)`` for other callables)."""
    target = fn if hasattr(fn, "__qualname__") else type(fn)
    return f"{getattr(target, '__module__', '?')}.{target.__qualname__}"


def describe(value) -> str:
    """A text that changes when ``value`` changes and is the same in every process."""
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes, np.generic)):
        return repr(value)
    if isinstance(value, np.ndarray):
        digest = hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest()[:16]
        return f"array({value.shape}, {value.dtype}, {digest})"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(describe(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    if isinstance(value, dict):
        items = sorted((describe(k), describe(v)) for k, v in value.items())
        return "{" + ", ".join(f"{k}: {v}" for k, v in items) + "}"
    if isinstance(value, functools.partial):
        return f"partial({describe(value.func)}, {describe(list(value.args))}, {describe(dict(value.keywords))})"
    own = getattr(value, "fingerprint", None)
    if own is not None and not isinstance(value, type):
        return str(own() if callable(own) else own)
    if hasattr(value, "__self__") and hasattr(value, "__func__"):  # a bound method
        return f"{qualified_name(value.__func__)} of {describe(value.__self__)}"
    if isinstance(value, type) or callable(value) and hasattr(value, "__qualname__"):
        return qualified_name(value)
    return repr(value)


def unstable(*parts) -> list:
    """The descriptions among ``parts`` that show a memory address (they differ in every run)."""
    return [text for text in map(describe, parts) if _ADDRESS.search(text)]


def fingerprint(*parts) -> str:
    """A short hash (32 hex digits) of the descriptions of ``parts``."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(describe(part).encode())
        digest.update(b"\0")
    return digest.hexdigest()[:32]
