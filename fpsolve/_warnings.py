"""Warnings that point at the user's code, not at fpsolve's internals."""

from __future__ import annotations

import os
import sys
import warnings

_PACKAGE = os.path.dirname(os.path.abspath(__file__))

__all__ = ["warn"]


def warn(message: str, category=UserWarning) -> None:
    """Issue ``message`` attributed to the first caller outside the fpsolve package.

    A warning raised deep inside (the Peclet number of a grid built by ``mean_exit_time``, say)
    then shows the user's line, whatever the call depth.
    """
    level, frame = 2, sys._getframe(1)  # stacklevel 2 is the caller of this function
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)
