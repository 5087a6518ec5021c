"""Case files (TOML) -> objects -> run -> a results folder with result.json, arrays and figures.

Layers, each importing only those below it: ``schema`` (what a case file may hold) and
``expressions``; ``config`` (load and check a case, build its objects) and ``catalog`` (find
case files); ``output`` and ``plots``; the task runners ``tasks`` and ``analysis_tasks``, and
``validation``; this package (``run_case``) on top.
"""

from __future__ import annotations

import glob
import platform
import shutil
import time
from pathlib import Path

from .catalog import cases_directories, find_cases, resolve_case
from .config import Case, CaseError, case_key, load_case
from .loader import LoadedCase, load
from .output import CaseResult, write_results

__all__ = [
    "Case",
    "CaseError",
    "CaseResult",
    "LoadedCase",
    "load",
    "load_case",
    "run_case",
    "find_cases",
    "resolve_case",
    "cases_directories",
]


def run_case(path, out=None, progress: bool = False) -> tuple:
    """Run a case and write its results folder; returns (folder, CaseResult, metadata).

    Partial work (a sweep's table) is kept in a hidden scratch folder next to ``out``, named by
    the case's :func:`~fpsolve.cases.config.case_key`: an interrupted run resumes, and a run of an
    edited case file starts afresh rather than reusing the old rows.
    """
    from .. import __version__
    from .tasks import TASKS

    case = load_case(resolve_case(path))
    out = Path(out) if out is not None else Path("runs") / case.name
    begin = time.perf_counter()
    scratch = out.parent / f".{out.name}.{case_key(case)[:12]}.partial"
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
    stale = f".{glob.escape(out.name)}.{'[0-9a-f]' * 12}.partial"  # ours and those of earlier edits
    for partial in out.parent.glob(stale):
        shutil.rmtree(partial, ignore_errors=True)
    return folder, result, metadata
