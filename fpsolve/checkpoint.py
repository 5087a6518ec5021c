"""Checkpoints for long evolutions: finished output times saved atomically, resumed on restart.

A checkpoint file (.npz) holds the output times done so far, their states and a fingerprint of
the problem (model, grid, boundary, method, times and initial state). It is rewritten atomically
(:mod:`fpsolve._io`) after every output time, so an interrupted run leaves either the previous
checkpoint or the new one, never a half-written file.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from . import _io
from ._fingerprint import fingerprint

__all__ = ["fingerprint", "load", "save"]


def load(path, key: str) -> list:
    """The states saved so far under ``key`` (empty if there is no checkpoint yet).

    ``key`` is a :func:`fingerprint` of the problem. Raises ValueError naming ``checkpoint`` when
    the file belongs to another problem or cannot be read.
    """
    path = Path(path)
    if not path.exists():
        return []
    try:
        with np.load(path, allow_pickle=False) as data:
            saved_key, states = str(data["key"]), list(data["states"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        raise ValueError(
            f"checkpoint: {path} is unreadable ({type(error).__name__}: {error}); it is not a "
            "checkpoint fpsolve wrote, or its writing was cut short outside fpsolve. Delete it to "
            "start the evolution afresh, or give another checkpoint path"
        ) from None
    if saved_key != str(key):
        raise ValueError(
            f"checkpoint: {path} was written for a different problem (model, grid, times or "
            "initial density differ); remove it or give another path"
        )
    return states


def save(path, key: str, states) -> None:
    """Write the states atomically under ``key``."""
    _io.atomic_savez(path, key=np.array(str(key)), states=np.asarray(states))
