"""Atomic file writes: a reader sees the old file or the new one, never half of either.

Every writer in fpsolve (checkpoints, sweep tables, samples files, results folders) goes through
these functions. A file is written to a temporary file in the destination's folder, flushed and
synced to disk, then renamed over the destination with ``os.replace`` (atomic on POSIX and
Windows when both lie on one file system); on any failure the temporary file is removed and the
destination is left as it was. :func:`atomic_folder` does the same for a whole folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np

__all__ = [
    "atomic_open",
    "atomic_write_bytes",
    "atomic_write_text",
    "atomic_savez",
    "atomic_savez_compressed",
    "atomic_folder",
]


@contextmanager
def atomic_open(path):
    """A binary file handle whose content replaces ``path`` when the block ends without error."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def atomic_write_bytes(path, data: bytes) -> Path:
    """Replace the file ``path`` by ``data``; returns the path."""
    with atomic_open(path) as file:
        file.write(data)
    return Path(path)


def atomic_write_text(path, text: str, encoding: str = "utf-8") -> Path:
    """Replace the file ``path`` by ``text`` (line endings written as given); returns the path."""
    return atomic_write_bytes(path, text.encode(encoding))


def atomic_savez(path, /, **arrays) -> Path:
    """``np.savez`` to exactly ``path`` (no ``.npz`` appended), atomically; returns the path."""
    with atomic_open(path) as file:
        np.savez(file, **arrays)
    return Path(path)


def atomic_savez_compressed(path, /, **arrays) -> Path:
    """``np.savez_compressed`` to exactly ``path``, atomically; returns the path."""
    with atomic_open(path) as file:
        np.savez_compressed(file, **arrays)
    return Path(path)


@contextmanager
def atomic_folder(path):
    """A fresh staging folder whose content replaces the folder ``path`` when the block ends.

    The staging folder is hidden, next to ``path``. An existing ``path`` is first renamed aside,
    then the staging folder renamed into place, then the old one removed: an interruption leaves
    the previous folder (or the backup next to it), never a half-written one. On failure the
    staging folder is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        yield staging
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            if old.exists():
                shutil.rmtree(old)
            os.replace(path, old)
            os.replace(staging, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable where the platform allows it (POSIX)."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)
