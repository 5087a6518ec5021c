"""Checkpoints for long evolutions: finished output times saved atomically, resumed on restart.

A checkpoint file (.npz) holds the output times done so far, their states and a fingerprint of
the problem (model, grid, boundary, method, times and initial state). It is rewritten with a
temporary file and ``os.replace`` after every output time, so an interrupted run leaves either
the previous checkpoint or the new one, never a half-written file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["fingerprint", "load", "save"]


def fingerprint(*parts) -> str:
    """A short hash of the problem: reprs of objects and the bytes of arrays."""
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            digest.update(np.ascontiguousarray(part).tobytes())
        else:
            digest.update(repr(part).encode())
    return digest.hexdigest()[:32]


def load(path, key: str) -> list:
    """The states saved so far under ``key`` (empty if there is no checkpoint yet).

    Raises ValueError naming ``checkpoint`` when the file belongs to another problem.
    """
    path = Path(path)
    if not path.exists():
        return []
    with np.load(path) as data:
        if str(data["key"]) != key:
            raise ValueError(
                f"checkpoint: {path} was written for a different problem (model, grid, times or "
                "initial density differ); remove it or give another path"
            )
        return list(data["states"])


def save(path, key: str, states) -> None:
    """Write the states atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".npz", dir=path.parent)
    os.close(handle)
    try:
        np.savez(temporary, key=np.array(key), states=np.asarray(states))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
