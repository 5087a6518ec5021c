"""The samples file: one .npz that carries a simulator's output and how it was made.

Entries (all optional except ``metadata``, but at least one of ``samples`` and ``exit_times``):

    samples         (n,) or (n, d) states at one time, or (m, n) / (m, n, d) at the m ``times``
    times           (m,) the times of the samples, non-decreasing, ≥ 0 (requires samples)
    exit_times      (n,) first exit times, ≥ 0; censored entries hold time_limit
    censored        (n,) bool, True where the path had not exited by time_limit
    time_limit      () the common censoring time T > 0 (type-I censoring); required with censored
    exit_locations  (n,) or (n, d) where each path left (NaN allowed only in censored rows)
    metadata        () JSON string: simulator, model, seed, dt, case (required), anything else
    format_version  () integer, currently 1

Writes are atomic (:mod:`fpsolve._io`: a temporary file renamed into place); reads validate every
entry and raise ValueError naming the entry and what was expected. See docs/validate_format.md.
"""

from __future__ import annotations

import json
import numbers
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._io import atomic_savez

__all__ = ["SamplesFile", "save_samples", "load_samples", "REQUIRED_METADATA", "FORMAT_VERSION"]

FORMAT_VERSION = 1
REQUIRED_METADATA = ("simulator", "model", "seed", "dt", "case")
_ARRAYS = ("samples", "times", "exit_times", "censored", "time_limit", "exit_locations")


@dataclass(frozen=True)
class SamplesFile:
    """The validated content of a samples file (arrays are None when absent)."""

    samples: np.ndarray | None
    times: np.ndarray | None
    exit_times: np.ndarray | None
    censored: np.ndarray | None
    time_limit: float | None
    exit_locations: np.ndarray | None
    metadata: dict
    path: str | None = None

    def __repr__(self) -> str:
        parts = []
        if self.samples is not None:
            parts.append(f"samples {self.samples.shape}")
        if self.times is not None:
            parts.append(f"{self.times.size} times")
        if self.exit_times is not None:
            n_cens = 0 if self.censored is None else int(self.censored.sum())
            parts.append(f"{self.exit_times.size} exit times ({n_cens} censored)")
        return f"SamplesFile({', '.join(parts)}; case={self.metadata.get('case')!r}, simulator={self.metadata.get('simulator')!r})"


def _finite(name, a, allow_nan_rows=None):
    bad = ~np.isfinite(a)
    if allow_nan_rows is not None:
        rows = bad.reshape(bad.shape[0], -1).any(axis=1) if bad.ndim > 1 else bad
        bad_rows = rows & ~allow_nan_rows
        if bad_rows.any():
            raise ValueError(f"{name}: {int(bad_rows.sum())} rows hold NaN or inf outside the censored rows")
    elif bad.any():
        raise ValueError(f"{name}: expected finite numbers; {int(bad.sum())} entries are NaN or inf")


def _check_metadata(metadata):
    if not isinstance(metadata, dict):
        raise ValueError(
            f"metadata: expected a dict with keys {', '.join(REQUIRED_METADATA)}, got {type(metadata).__name__}"
        )
    missing = [k for k in REQUIRED_METADATA if k not in metadata]
    if missing:
        raise ValueError(
            f"metadata: missing required key(s) {', '.join(missing)} (required: {', '.join(REQUIRED_METADATA)})"
        )
    for key in ("simulator", "model", "case"):
        if not isinstance(metadata[key], str) or not metadata[key]:
            raise ValueError(f"metadata: {key!r} must be a non-empty string, got {metadata[key]!r}")
    dt = metadata["dt"]
    if dt is not None and (isinstance(dt, bool) or not isinstance(dt, numbers.Real) or not 0 < dt < np.inf):
        raise ValueError(f"metadata: 'dt' must be the positive time step (or None for an exact sampler), got {dt!r}")
    try:
        text = json.dumps(metadata)
    except (TypeError, ValueError) as err:
        raise ValueError(f"metadata: must be JSON-serialisable ({err})") from None
    return json.loads(text)


def _validate(samples, times, exit_times, censored, time_limit, exit_locations, metadata):
    """Check shapes and values; return normalised arrays (float, bool) in a SamplesFile."""
    metadata = _check_metadata(metadata)
    if samples is None and exit_times is None:
        raise ValueError("samples/exit_times: a samples file needs at least one of them")
    if samples is not None:
        samples = np.asarray(samples, dtype=float)
        if times is None:
            if samples.ndim not in (1, 2):
                raise ValueError(
                    f"samples: expected shape (n,) or (n, d) (or pass times= for (m, n[, d])), got {samples.shape}"
                )
        else:
            times = np.asarray(times, dtype=float)
            if times.ndim != 1 or times.size == 0:
                raise ValueError(f"times: expected a non-empty 1-D array, got shape {times.shape}")
            _finite("times", times)
            if (times < 0).any() or (np.diff(times) < 0).any():
                raise ValueError("times: expected non-negative, non-decreasing times")
            if samples.ndim not in (2, 3) or samples.shape[0] != times.size:
                raise ValueError(
                    f"samples: with {times.size} times expected shape ({times.size}, n) or ({times.size}, n, d), got {samples.shape}"
                )
        if samples.size == 0:
            raise ValueError("samples: the sample array is empty")
        if samples.ndim == 2 + (times is not None) and not 1 <= samples.shape[-1] <= 6:
            raise ValueError(f"samples: the last axis is the dimension d (1 to 6), got {samples.shape[-1]}")
        _finite("samples", samples)
    elif times is not None:
        raise ValueError("times: given without samples")

    if exit_times is not None:
        exit_times = np.asarray(exit_times, dtype=float)
        if exit_times.ndim != 1 or exit_times.size == 0:
            raise ValueError(f"exit_times: expected a non-empty 1-D array, got shape {exit_times.shape}")
        _finite("exit_times", exit_times)
        if (exit_times < 0).any():
            raise ValueError(f"exit_times: expected non-negative times; {int((exit_times < 0).sum())} are negative")
        n = exit_times.size
        if censored is not None:
            censored = np.asarray(censored)
            if censored.shape != (n,):
                raise ValueError(f"censored: expected shape ({n},) matching exit_times, got {censored.shape}")
            if censored.dtype != bool:
                if not np.isin(censored, (0, 1)).all():
                    raise ValueError("censored: expected booleans")
                censored = censored.astype(bool)
            if time_limit is None:
                raise ValueError("time_limit: required when censored flags are given (the common censoring time)")
        if time_limit is not None:
            time_limit = np.asarray(time_limit, dtype=float)
            if time_limit.shape != () or not 0 < float(time_limit) < np.inf:
                raise ValueError(f"time_limit: expected a positive finite scalar, got {time_limit!r}")
            time_limit = float(time_limit)
            if censored is None:
                censored = exit_times >= time_limit
            if not np.allclose(exit_times[censored], time_limit, rtol=1e-12, atol=0):
                raise ValueError(f"exit_times: censored entries must hold time_limit = {time_limit:g}")
            if (exit_times[~censored] > time_limit).any():
                raise ValueError(f"exit_times: uncensored exit times must not exceed time_limit = {time_limit:g}")
        if exit_locations is not None:
            exit_locations = np.asarray(exit_locations, dtype=float)
            if exit_locations.ndim not in (1, 2) or exit_locations.shape[0] != n:
                raise ValueError(f"exit_locations: expected shape ({n},) or ({n}, d), got {exit_locations.shape}")
            _finite(
                "exit_locations",
                exit_locations,
                allow_nan_rows=censored if censored is not None else np.zeros(n, dtype=bool),
            )
    else:
        for name, value in (("censored", censored), ("time_limit", time_limit), ("exit_locations", exit_locations)):
            if value is not None:
                raise ValueError(f"{name}: given without exit_times")
    return SamplesFile(samples, times, exit_times, censored, time_limit, exit_locations, metadata)


def save_samples(
    path,
    *,
    samples=None,
    times=None,
    exit_times=None,
    censored=None,
    time_limit=None,
    exit_locations=None,
    metadata: dict,
):
    """Validate and write a samples file atomically; return the validated ``SamplesFile``.

    ``metadata`` must hold ``simulator`` (name and version), ``model`` (a short description of
    the SDE), ``seed``, ``dt`` (None for an exact sampler) and ``case`` (the case it simulates).
    """
    content = _validate(samples, times, exit_times, censored, time_limit, exit_locations, metadata)
    path = Path(path)
    if path.suffix != ".npz":
        raise ValueError(f"path: expected a file name ending in .npz, got {str(path)!r}")
    arrays = {name: getattr(content, name) for name in _ARRAYS if getattr(content, name) is not None}
    arrays["metadata"] = np.array(json.dumps(content.metadata))
    arrays["format_version"] = np.array(FORMAT_VERSION)
    atomic_savez(path, **arrays)
    return SamplesFile(**{**content.__dict__, "path": str(path)})


def load_samples(path) -> SamplesFile:
    """Read and validate a samples file; ValueError names the entry that is wrong."""
    try:
        with np.load(path, allow_pickle=False) as data:
            entries = {name: data[name] for name in data.files}
    except (ValueError, EOFError, zipfile.BadZipFile) as error:
        raise ValueError(
            f"{path}: unreadable as a samples file ({error}); write it with "
            "fpsolve.validate.save_samples or np.savez (docs/validate_format.md)"
        ) from None
    unknown = sorted(set(entries) - set(_ARRAYS) - {"metadata", "format_version"})
    if unknown:
        raise ValueError(
            f"{path}: unknown entries {', '.join(unknown)} (expected some of {', '.join(_ARRAYS)}, metadata)"
        )
    if "metadata" not in entries:
        raise ValueError(f"metadata: {path} has no metadata entry")
    version = int(entries.get("format_version", FORMAT_VERSION))
    if version != FORMAT_VERSION:
        raise ValueError(f"format_version: this fpsolve reads version {FORMAT_VERSION}, the file is version {version}")
    try:
        metadata = json.loads(str(entries["metadata"]))
    except json.JSONDecodeError as err:
        raise ValueError(f"metadata: not valid JSON ({err})") from None
    time_limit = entries.get("time_limit")
    content = _validate(
        entries.get("samples"),
        entries.get("times"),
        entries.get("exit_times"),
        entries.get("censored"),
        None if time_limit is None else float(time_limit),
        entries.get("exit_locations"),
        metadata,
    )
    return SamplesFile(**{**content.__dict__, "path": str(path)})
