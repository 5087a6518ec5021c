"""The command line: ``fpsolve run CASE [--out DIR]``, ``fpsolve list``, ``fpsolve validate``.

Exit codes: 0 success, 1 nothing to do, 2 bad input (a malformed case or samples file, a missing
file, a results file of another computation: one line on stderr, no traceback), 3 a validation
that rejects, 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
import warnings

__all__ = ["main"]


def main(argv=None) -> int:
    from . import __version__

    parser = argparse.ArgumentParser(prog="fpsolve", description="Fokker-Planck solvers for SGD-like SDEs")
    parser.add_argument("--version", action="version", version=f"fpsolve {__version__}")
    commands = parser.add_subparsers(dest="command")
    run = commands.add_parser("run", help="run a case file (or a built-in case by name)")
    run.add_argument("case", help="path to a case .toml, or the name of a built-in case")
    run.add_argument("--out", help="results folder (default runs/<case name>)")
    run.add_argument("--progress", action="store_true", help="show progress bars")
    commands.add_parser("list", help="list the built-in cases")
    validate = commands.add_parser("validate", help="check a simulator's samples against the PDE")
    validate.add_argument("case", help="the case the samples simulate")
    validate.add_argument("--samples", required=True, help="an .npz samples file (see docs/validate.md)")
    validate.add_argument("--alpha", type=float, default=0.01, help="significance level (default 0.01)")
    validate.add_argument("--out", help="folder for the report and its figure")
    args = parser.parse_args(argv)

    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        return _dispatch(parser, args)


def _dispatch(parser, args) -> int:
    try:
        if args.command == "run":
            return _run(args)
        if args.command == "list":
            return _list()
        if args.command == "validate":
            return _validate(args)
    except (ValueError, OSError) as error:  # CaseError is a ValueError; FileNotFoundError an OSError
        print(f"fpsolve: {_one_line(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fpsolve: interrupted; no results were written", file=sys.stderr)
        return 130
    parser.print_help()
    return 1


def _run(args) -> int:
    from .cases import run_case

    folder, result, metadata = run_case(args.case, args.out, progress=args.progress)
    print(f"{metadata['title']} ({metadata['case']}, task {metadata['task']}) in {metadata['seconds']:.2f} s")
    for line in result.summary:
        print(f"  {line}")
    print(f"results in {folder}/ (result.json, arrays.npz, " + ", ".join(f"{n}.png" for n in result.figures) + ")")
    return 0


def _list() -> int:
    from .cases import find_cases, load_case

    cases = find_cases()
    if not cases:
        print("no cases found (looked in ./cases and the package's built-in cases)")
        return 1
    width = max(len(n) for n in cases)
    broken = 0
    for name, path in cases.items():
        try:
            title = load_case(path).title
        except ValueError as error:
            print(f"fpsolve: {_one_line(error)}", file=sys.stderr)
            broken += 1
            continue
        print(f"{name:<{width}}  {title}")
    return 2 if broken else 0


def _validate(args) -> int:
    from .cases.validation import validate_case

    report = validate_case(args.case, args.samples, alpha=args.alpha, out=args.out)
    print(report)
    return 0 if report.passed else 3


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Print a warning as one clean line on stderr ("fpsolve: warning: ..."), without the source
    line of the ``fpsolve`` script that Python would otherwise quote."""
    print(f"fpsolve: warning: {_one_line(message)}", file=sys.stderr if file is None else file)


def _one_line(error: BaseException) -> str:
    """An error's message on one line (TOML and numpy messages may span several)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return "; ".join(lines) or type(error).__name__


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
