"""Warnings that point at the user's code, not at fpsolve's internals.

Python shows a ``UserWarning`` once per text *and source line* (the "default" action). Facts
about a problem (the grid is too coarse for this model, cross-diffusion was limited) would then
repeat each time a script builds the same problem from another line (``FokkerPlanck(model, grid)``
and then ``mean_exit_time(model, grid)``). ``warn(..., once=True)`` says such a fact once per
text in the calling module, whatever the line: the text must then name what it is about (the
model and the grid) and carry only numbers fixed by them.
"""

from __future__ import annotations

import os
import re
import sys
import warnings

_PACKAGE = os.path.dirname(os.path.abspath(__file__))

__all__ = ["warn"]


def warn(message: str, category=UserWarning, *, once: bool = False) -> None:
    """Issue ``message`` attributed to the first caller outside the fpsolve package.

    A warning raised deep inside (the Peclet number of a grid built by ``mean_exit_time``, say)
    then shows the user's line, whatever the call depth.

    ``once=True``: the same text is shown once per calling module, from whichever line, while
    the warning filters stay as they were (``warnings.catch_warnings``, ``simplefilter`` or
    pytest reset it, like Python's own registry); an ``"always"`` filter still shows every call.
    The mark lives in that module's ``__warningregistry__`` (Python's own per-module record of
    shown warnings) under the source line 0, which no real line uses.
    """
    level, frame = 2, sys._getframe(1)  # stacklevel 2 is the caller of this function
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame = frame.f_back
        level += 1
    once = once and frame is not None and _action(message, category, frame) != "always"
    key, filters = (message, category, 0), tuple(warnings.filters)
    if once and frame.f_globals.get("__warningregistry__", {}).get(key) == filters:
        return
    warnings.warn(message, category, stacklevel=level)
    if once:  # marked after warning: Python clears a registry whose filters version is stale
        frame.f_globals.setdefault("__warningregistry__", {})[key] = filters


def _action(message: str, category, frame) -> str:
    """The action of the first warning filter that matches (as ``warnings.warn_explicit`` finds it)."""
    module = frame.f_globals.get("__name__", "<string>")
    for action, text, kind, module_pattern, line in warnings.filters:
        if (
            _matches(text, message)
            and issubclass(category, kind)
            and _matches(module_pattern, module)
            and line in (0, frame.f_lineno)
        ):
            return action
    return warnings.defaultaction


def _matches(pattern, text: str) -> bool:
    """A filter's message or module pattern (None, a string or a compiled regex) against ``text``."""
    if pattern is None:
        return True
    return bool((re.compile(pattern) if isinstance(pattern, str) else pattern).match(text))
