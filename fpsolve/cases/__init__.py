"""Case files (TOML) -> objects -> run -> a results folder with result.json, arrays and figures."""

from __future__ import annotations

import platform
import shutil
import time
from pathlib import Path

from .config import Case, CaseError, load_case
from .output import CaseResult, write_results

__all__ = ["Case", "CaseError", "CaseResult", "load_case", "run_case", "find_cases", "resolve_case"]


def cases_directories() -> list:
    """Where built-in cases live: ./cases, then the cases folder of the source checkout."""
    here = Path(__file__).resolve().parents[2] / "cases"
    return [d for d in (Path.cwd() / "cases", here) if d.is_dir()]


def find_cases() -> dict:
    """Built-in case files by name (first found wins)."""
    found = {}
    for directory in cases_directories():
        for path in sorted(directory.glob("*.toml")):
            found.setdefault(path.stem, path)
    return found


def resolve_case(name_or_path) -> Path:
    """A case path, or the built-in case of that name."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    cases = find_cases()
    if str(name_or_path) in cases:
        return cases[str(name_or_path)]
    raise CaseError(f"{name_or_path}: no such case file or built-in case; `fpsolve list` shows the cases")


def run_case(path, out=None, progress: bool = False) -> tuple:
    """Run a case and write its results folder; returns (folder, CaseResult, metadata)."""
    from .. import __version__
    from .tasks import TASKS

    case = load_case(resolve_case(path))
    out = Path(out) if out is not None else Path("runs") / case.name
    begin = time.perf_counter()
    # a scratch folder next to the results keeps partial work (sweep tables) across interruptions
    scratch = out.parent / f".{out.name}.partial"
    scratch.mkdir(parents=True, exist_ok=True)
    result = TASKS[case.task](case, progress=progress, scratch=scratch)
    metadata = {
        "case": case.name,
        "title": case.title,
        "task": case.task,
        "case_file": str(case.path),
        "parameters": case.tables,
        "fpsolve_version": __version__,
        "python": platform.python_version(),
        "seconds": time.perf_counter() - begin,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    folder = write_results(out, result, metadata)
    shutil.rmtree(scratch, ignore_errors=True)
    return folder, result, metadata
