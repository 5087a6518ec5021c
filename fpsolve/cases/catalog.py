"""Where case files are found: a path, or a case by name (./cases, then the cases built into the package).

The built-in cases are package data (``fpsolve/cases/builtin/*.toml``; the checkout's top-level
``cases`` is a link to that folder), so ``fpsolve run NAME`` works from any folder after any install.
"""

from __future__ import annotations

from pathlib import Path

from .schema import CaseError

__all__ = ["cases_directories", "find_cases", "resolve_case"]


BUILTIN = Path(__file__).resolve().parent / "builtin"


def cases_directories() -> list:
    """Where cases are looked up by name: ./cases (a user's own, first), then the built-in ones."""
    found = []
    for directory in (Path.cwd() / "cases", BUILTIN):
        if directory.is_dir() and directory.resolve() not in [d.resolve() for d in found]:
            found.append(directory)
    return found


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
