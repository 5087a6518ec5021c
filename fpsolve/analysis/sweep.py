"""Parameter sweeps on any executor, with a results table written as points finish (resumable).

``sweep(fn, batch_size=[1, 2, 4], noise=["isotropic", "hessian"])`` calls ``fn(**point)`` for every
point of the Cartesian product of the parameter lists; ``fn`` returns a dict of numbers. Points run
on a ``concurrent.futures`` Executor (anything with ``.submit`` returning futures), on a
``dask.distributed.Client``, or in this process. With ``results="path/stem"`` the table is
written to ``stem.csv`` and ``stem.json`` after every finished point (temp file + os.replace, so a
reader never sees half a file), and a rerun skips the points already in ``stem.json``.
"""

from __future__ import annotations

import csv
import inspect
import io
import itertools
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

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
    takes = {n for n, p in params.items() if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                                         inspect.Parameter.KEYWORD_ONLY)}
    for name in names:
        if name not in takes:
            raise ValueError(
                f"{name}: the swept function {getattr(fn, '__name__', fn)!r} takes no parameter "
                f"named {name!r}; it takes {sorted(takes)}"
            )
    for n, p in params.items():
        if n not in names and p.default is inspect.Parameter.empty and p.kind in (
                inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY):
            raise ValueError(f"{n}: the swept function needs parameter {n!r}; add it to the sweep")


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _stem(results) -> Path | None:
    if results is None:
        return None
    path = Path(results)
    if path.suffix in (".csv", ".json"):
        path = path.with_suffix("")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _save(stem: Path, table: SweepTable) -> None:
    payload = {"parameters": list(table.parameters), "rows": list(table.rows)}
    _write_atomic(stem.with_suffix(".json"), json.dumps(payload, indent=1, default=_json_default))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=table.columns)
    writer.writeheader()
    for row in table.rows:
        writer.writerow(row)
    _write_atomic(stem.with_suffix(".csv"), buffer.getvalue())


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _is_dask(executor) -> bool:
    return type(executor).__module__.split(".")[0] == "distributed"


def sweep(fn, executor=None, results=None, progress: bool = True, **parameter_grid) -> SweepTable:
    """Evaluate ``fn`` on the Cartesian product of ``parameter_grid``.

    Parameters
    ----------
    fn : callable
        ``fn(**point) -> dict`` of numbers (or strings). It must accept every swept name.
    executor : concurrent.futures.Executor, dask.distributed.Client or None
        Where points run (None: one after another here).
    results : str or Path, optional
        Stem of the results files (``.csv`` and ``.json`` are added; an extension is replaced).
        Existing rows in the ``.json`` are kept and their points skipped (resume).
    progress : bool
        A tqdm progress bar over points.
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
    _check_signature(fn, names)
    points = [dict(zip(names, combo)) for combo in itertools.product(*values)]
    stem = _stem(results)
    done = {}
    if stem is not None and stem.with_suffix(".json").exists():
        saved = json.loads(stem.with_suffix(".json").read_text())
        if list(saved.get("parameters", [])) != list(names):
            raise ValueError(
                f"results: {stem.with_suffix('.json')} holds a sweep over {saved.get('parameters')}, "
                f"not {list(names)}; use another results path"
            )
        for row in saved["rows"]:
            done[_key(row, names)] = row
    todo = [p for p in points if _key(p, names) not in done]

    def table() -> SweepTable:
        rows = [done[_key(p, names)] for p in points if _key(p, names) in done]
        return SweepTable(tuple(rows), names)

    def finish(point, result) -> None:
        if not isinstance(result, dict):
            raise TypeError(f"fn: must return a dict of numbers, got {type(result).__name__} at {point}")
        row = dict(point)
        row.update({k: (v.item() if isinstance(v, np.generic) else v) for k, v in result.items()})
        done[_key(point, names)] = row
        if stem is not None:
            _save(stem, table())

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(points), initial=len(points) - len(todo), desc="sweep", unit="point")
    try:
        if executor is None:
            for point in todo:
                finish(point, fn(**point))
                if bar is not None:
                    bar.update(1)
        else:
            futures = {}
            for point in todo:
                future = executor.submit(_call, fn, point)
                futures[future] = point
            if _is_dask(executor):
                from distributed import as_completed
            else:
                from concurrent.futures import as_completed
            try:
                for future in as_completed(list(futures)):
                    finish(futures[future], future.result())
                    if bar is not None:
                        bar.update(1)
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
    finally:
        if bar is not None:
            bar.close()
    return table()
