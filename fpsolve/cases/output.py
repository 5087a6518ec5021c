"""A run's results folder, written atomically: result.json, arrays.npz and figures (.png).

Everything is first written into a hidden staging folder next to the destination, which then
replaces the destination in one rename (:func:`fpsolve._io.atomic_folder`); an interrupted run
leaves the previous results (or nothing) in place, never a half-written folder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .. import _io
from .._json import to_jsonable

__all__ = ["CaseResult", "write_results", "to_jsonable"]


@dataclass
class CaseResult:
    """What a task computed: numbers (JSON), arrays (npz), figures and a short summary."""

    numbers: dict = field(default_factory=dict)
    arrays: dict = field(default_factory=dict)
    figures: dict = field(default_factory=dict)
    summary: list = field(default_factory=list)


def write_results(out: Path, result: CaseResult, metadata: dict) -> Path:
    """Write ``result`` into the folder ``out`` atomically; returns ``out``."""
    out = Path(out)
    with _io.atomic_folder(out) as staging:
        payload = {**metadata, "numbers": result.numbers}
        _io.atomic_write_text(staging / "result.json", json.dumps(to_jsonable(payload), indent=2) + "\n")
        if result.arrays:
            _io.atomic_savez_compressed(staging / "arrays.npz", **result.arrays)
        for name, figure in result.figures.items():
            with _io.atomic_open(staging / f"{name}.png") as file:
                figure.savefig(file, format="png", dpi=120, bbox_inches="tight")
    return out
