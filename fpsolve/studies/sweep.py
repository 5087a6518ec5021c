"""Parameter sweeps on any executor, with a results table written as points finish (resumable).

``sweep(fn, batch_size=[1, 2, 4], noise=["isotropic", "hessian"])`` calls ``fn(**point)`` for every
point of the Cartesian product of the parameter lists; ``fn`` returns a dict of numbers. Points run
on a ``concurrent.futures`` Executor (anything with ``.submit`` returning futures), on a
``dask.distributed.Client``, or in this process. With ``results="path/stem"`` the table is
written to ``stem.csv`` and ``stem.json`` after every finished point (atomically, see
:mod:`fpsolve._io`, so a reader never sees half a file), and a rerun skips the points already in
``stem.json``. ``stem.json`` also holds a fingerprint of what else determines the results (the
function, the arguments bound by ``functools.partial``, and the caller's ``key``): a rerun with a
different fingerprint is refused rather than mixing two computations in one table.

A point where ``fn`` refuses to answer (ValueError, RuntimeError, ArithmeticError: fpsolve's
refusals of untrustworthy results) stops the sweep by default. With ``on_error="nan"`` the sweep
warns, records the point with an ``error`` column (its other columns read NaN) and goes on; such
points are computed again by a resumed sweep.
"""

from __future__ import annotations

import csv
import functools
import inspect
import io
import itertools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import _io
from .._warnings import warn
from .._fingerprint import fingerprint, qualified_name, unstable

__all__ = ["sweep", "SweepTable"]


@dataclass(frozen=True, eq=False)
class SweepTable:
    """The results of a sweep: one row (a dict: parameters then results) per point, in grid order.

    ``table["name"]`` is a column as a numpy array; ``table.rows`` the dicts; ``table.parameters``
    the swept names; ``table.to_pandas()`` a DataFrame when pandas is installed.
    """

    rows: tuple
    parameters: tuple

    @property
    def columns(self) -> list:
        names = list(self.parameters)
        for row in self.rows:
            names += [k for k in row if k not in names]
        return names

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self.columns:
            raise KeyError(f"{name!r}: not a column; columns are {self.columns}")
        return np.array([row.get(name, np.nan) for row in self.rows])

    def to_pandas(self):
        import pandas as pd

        return pd.DataFrame(list(self.rows), columns=self.columns)

    def __repr__(self) -> str:
        cols = self.columns
        lines = ["  ".join(f"{c:>12}" for c in cols)]
        for row in self.rows:
            lines.append("  ".join(f"{_fmt(row.get(c)):>12}" for c in cols))
        return "SweepTable(\n" + "\n".join(lines) + "\n)"


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


#: Exceptions that ``on_error="nan"`` turns into NaN rows: fpsolve refuses untrustworthy results
#: with ValueError or RuntimeError (numpy's LinAlgError is a ValueError). Anything else (TypeError,
#: KeyError, ...) is a bug in the swept function and always propagates.
REFUSALS = (ValueError, RuntimeError, ArithmeticError)

ON_ERROR = ("raise", "nan")


def _call(fn, point: dict) -> dict:
    return fn(**point)


def _key(point: dict, names) -> str:
    return json.dumps([point[n] for n in names], sort_keys=True, default=str)


def _check_signature(fn, names) -> None:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return
    if any(p.kind == inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    takes = {
        n
        for n, p in params.items()
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    }
    for name in names:
        if name not in takes:
            raise ValueError(
                f"{name}: the swept function {getattr(fn, '__name__', fn)!r} takes no parameter "
                f"named {name!r}; it takes {sorted(takes)}"
            )
    for n, p in params.items():
        if (
            n not in names
            and p.default is inspect.Parameter.empty
            and p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        ):
            raise ValueError(f"{n}: the swept function needs parameter {n!r}; add it to the sweep")


def _stem(results) -> Path | None:
    if results is None:
        return None
    path = Path(results)
    if path.suffix in (".csv", ".json"):
        path = path.with_suffix("")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _save(stem: Path, table: SweepTable, computation: dict) -> None:
    payload = {"parameters": list(table.parameters), "computation": computation, "rows": list(table.rows)}
    _io.atomic_write_text(stem.with_suffix(".json"), json.dumps(payload, indent=1, default=_json_default))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=table.columns)
    writer.writeheader()
    for row in table.rows:
        writer.writerow(row)
    _io.atomic_write_text(stem.with_suffix(".csv"), buffer.getvalue())


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _computation(fn, key) -> dict:
    """What besides the swept values determines the rows: the function (with the arguments a
    ``functools.partial`` binds) and the caller's ``key``; stored in ``stem.json``."""
    try:
        key_text = json.dumps(key, sort_keys=True)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"key: expected a JSON-able value (numbers, strings, lists, dicts), got {key!r} ({error})"
        ) from None
    function = fn.func if isinstance(fn, functools.partial) else fn
    return {"function": qualified_name(function), "key": json.loads(key_text), "fingerprint": fingerprint(fn, key_text)}


def _unreadable(path: Path, stem: Path, why: str) -> ValueError:
    return ValueError(
        f"results: {path} is unreadable ({why}); delete {stem.with_suffix('.json')} and "
        f"{stem.with_suffix('.csv')} to start the sweep afresh, or choose another results stem"
    )


def _check_csv(path: Path, stem: Path, names) -> None:
    """The .csv beside a readable .json is rewritten from it, but must be a table of this sweep
    (a .csv that lags the .json by a point, after a crash between the two writes, is fine)."""
    try:
        header = next(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))), [])
    except (UnicodeDecodeError, csv.Error) as error:
        raise _unreadable(path, stem, f"not a CSV table: {error}") from None
    if header[: len(names)] != list(names):
        raise _unreadable(path, stem, f"its columns start with {header[: len(names)]}, not the swept {list(names)}")


def _read_saved(stem: Path, names, computation: dict, fn) -> list:
    """The rows saved under ``stem`` by this same computation (empty when there are none).

    Raises ValueError naming ``results`` when the files are unreadable, hold a sweep over other
    parameters, or were written by a different computation.
    """
    path, csv_path = stem.with_suffix(".json"), stem.with_suffix(".csv")
    if not path.exists():
        if csv_path.exists():
            raise ValueError(
                f"results: {csv_path} exists but {path.name} does not, so the sweep cannot tell "
                "which points it holds; delete or move the .csv, or choose another results stem"
            )
        return []
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _unreadable(path, stem, f"not valid JSON: {error}") from None
    if csv_path.exists():
        _check_csv(csv_path, stem, names)
    if not (
        isinstance(saved, dict)
        and isinstance(saved.get("parameters"), list)
        and isinstance(saved.get("rows"), list)
        and all(isinstance(r, dict) and set(saved["parameters"]) <= set(r) for r in saved["rows"])
    ):
        raise _unreadable(path, stem, "expected an object with a list of parameters and a list of rows")
    if saved["parameters"] != list(names):
        raise ValueError(
            f"results: {path} holds a sweep over {saved['parameters']}, not {list(names)}; use another results path"
        )
    theirs = saved.get("computation") or {}
    if theirs.get("fingerprint") != computation["fingerprint"]:
        hint = ""
        if unstable(fn):
            hint = (
                " (this function's description shows a memory address, which changes every "
                "run: give its arguments a fingerprint() method or pass key=)"
            )
        raise ValueError(
            f"results: {path} belongs to a different computation: it was written by "
            f"{theirs.get('function', 'an older fpsolve without a fingerprint')} with key "
            f"{theirs.get('key')!r}, this sweep runs {computation['function']} with key "
            f"{computation['key']!r}, and their fingerprints differ{hint}. Its rows are not reused; "
            f"delete {path.name} and {csv_path.name} to start afresh, or choose another results stem"
        )
    return saved["rows"]


def _is_dask(executor) -> bool:
    return type(executor).__module__.split(".")[0] == "distributed"


def sweep(
    fn, executor=None, results=None, progress: bool = True, key=None, on_error: str = "raise", **parameter_grid
) -> SweepTable:
    """Evaluate ``fn`` on the Cartesian product of ``parameter_grid``.

    Parameters
    ----------
    fn : callable
        ``fn(**point) -> dict`` of numbers (or strings). It must accept every swept name.
    executor : concurrent.futures.Executor, dask.distributed.Client or None
        Where points run (None: one after another here).
    results : str or Path, optional
        Stem of the results files (``.csv`` and ``.json`` are added; an extension is replaced).
        Existing rows in the ``.json`` are kept and their points skipped (resume), provided the
        file was written by the same computation (see ``key``); otherwise ValueError.
    progress : bool
        A tqdm progress bar over points.
    key : JSON-able, optional
        Anything else that determines the results (a hash of the inputs, a version): stored with
        the fingerprint of ``fn`` (its qualified name and, for a ``functools.partial``, its bound
        arguments) in ``stem.json``; a resume with a different fingerprint is refused.
    on_error : {"raise", "nan"}
        What a point whose ``fn`` raises a refusal (ValueError, RuntimeError, ArithmeticError)
        does: ``"raise"`` (default) stops the sweep as described below; ``"nan"`` warns and
        records the point's row with an ``error`` column holding the message, so that its result
        columns read NaN (``table["gap"]``). Rows with an error are saved but not reused: a
        resumed sweep computes them again. Other exceptions always propagate.
    **parameter_grid : sequence
        One list of values per parameter name.

    Returns
    -------
    SweepTable
        Rows in grid order. If ``fn`` raises on some point, the finished points are saved, the
        pending ones cancelled and the exception re-raised; rerunning resumes.
    """
    if not callable(fn):
        raise TypeError(f"fn: expected a callable, got {type(fn).__name__}")
    if not (isinstance(on_error, str) and on_error in ON_ERROR):
        raise ValueError(f"on_error: expected one of {ON_ERROR}, got {on_error!r}")
    names, points = _points(parameter_grid)
    _check_signature(fn, names)
    stem = _stem(results)
    computation = _computation(fn, key)
    done = {}
    if stem is not None:
        for row in _read_saved(stem, names, computation, fn):
            if "error" not in row:  # failed points are computed again
                done[_key(row, names)] = row
    todo = [p for p in points if _key(p, names) not in done]

    def table() -> SweepTable:
        rows = [done[_key(p, names)] for p in points if _key(p, names) in done]
        return SweepTable(tuple(rows), names)

    def everything() -> SweepTable:  # the files keep saved points outside this grid as well
        wanted = {_key(p, names) for p in points}
        return SweepTable(table().rows + tuple(r for k, r in done.items() if k not in wanted), names)

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(points), initial=len(points) - len(todo), desc="sweep", unit="point")

    def finish(point, result) -> None:
        if not isinstance(result, dict):
            raise TypeError(f"fn: must return a dict of numbers, got {type(result).__name__} at {point}")
        row = dict(point)
        row.update({k: (v.item() if isinstance(v, np.generic) else v) for k, v in result.items()})
        done[_key(point, names)] = row
        if stem is not None:
            _save(stem, everything(), computation)
        if bar is not None:
            bar.update(1)

    def fail(point, error) -> None:
        if on_error == "raise" or not isinstance(error, REFUSALS):
            raise error
        message = f"{type(error).__name__}: {error}"
        warn(f"sweep: the point {point} gave no result and is recorded as NaN ({message})")
        finish(point, {"error": message})

    try:
        _evaluate(fn, executor, todo, finish, fail)
    finally:
        if bar is not None:
            bar.close()
    return table()


def _points(parameter_grid: dict) -> tuple:
    """The swept names and the points of their Cartesian product (dicts, in grid order)."""
    if not parameter_grid:
        raise ValueError("parameter_grid: give at least one parameter, e.g. batch_size=[1, 2, 4]")
    names = tuple(parameter_grid)
    values = []
    for name in names:
        seq = parameter_grid[name]
        seq = [seq] if isinstance(seq, (str, bytes)) or np.ndim(seq) == 0 else list(seq)
        if not seq:
            raise ValueError(f"{name}: the list of values is empty")
        values.append([v.item() if isinstance(v, np.generic) else v for v in seq])
    return names, [dict(zip(names, combo)) for combo in itertools.product(*values)]


def _evaluate(fn, executor, todo, finish, fail) -> None:
    """``fn(**point)`` for every point, here or on ``executor``, each result handed to ``finish``
    as it arrives, each exception to ``fail`` (which re-raises it or records the point); when an
    error propagates the pending points are cancelled."""
    if executor is None:
        for point in todo:
            try:
                result = fn(**point)
            except Exception as error:  # noqa: BLE001 -- fail() re-raises all but refusals
                fail(point, error)
            else:
                finish(point, result)
        return
    futures = {executor.submit(_call, fn, point): point for point in todo}
    if _is_dask(executor):
        from distributed import as_completed
    else:
        from concurrent.futures import as_completed
    try:
        for future in as_completed(list(futures)):
            try:
                result = future.result()
            except Exception as error:  # noqa: BLE001 -- fail() re-raises all but refusals
                fail(futures[future], error)
            else:
                finish(futures[future], result)
    except BaseException:
        for future in futures:
            future.cancel()
        raise
