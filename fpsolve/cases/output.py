"""A run's results folder, written atomically: result.json, arrays.npz and figures (.png).

Everything is first written into a hidden temporary folder next to the destination, which then
replaces the destination in one rename; an interrupted run leaves the previous results (or
nothing) in place, never a half-written folder.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

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
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        payload = {**metadata, "numbers": result.numbers}
        (staging / "result.json").write_text(json.dumps(to_jsonable(payload), indent=2) + "\n")
        if result.arrays:
            np.savez_compressed(staging / "arrays.npz", **result.arrays)
        for name, figure in result.figures.items():
            figure.savefig(staging / f"{name}.png", dpi=120, bbox_inches="tight")
        if out.exists():
            old = out.with_name(f".{out.name}.old")
            if old.exists():
                shutil.rmtree(old)
            os.replace(out, old)
            os.replace(staging, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out
