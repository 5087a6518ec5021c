"""Where case files are found: a path, or a built-in case by name (./cases, then the checkout's cases/)."""

from __future__ import annotations

from pathlib import Path

from .schema import CaseError

__all__ = ["cases_directories", "find_cases", "resolve_case"]


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
