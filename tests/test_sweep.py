"""Parameter sweeps: executors agree, results files resume, bad parameters are named."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from fpsolve.analysis import sweep


def model_point(batch_size, lr=0.1):
    return {"product": batch_size * lr, "inverse": 1.0 / batch_size}


def test_threads_and_dask_give_the_same_table(tmp_path):
    serial = sweep(model_point, progress=False, batch_size=[1, 2, 4, 8], lr=[0.1, 0.2])
    with ThreadPoolExecutor(2) as pool:
        threaded = sweep(model_point, executor=pool, progress=False, batch_size=[1, 2, 4, 8], lr=[0.1, 0.2])
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        dask = sweep(model_point, executor=client, progress=False, results=tmp_path / "d",
                     batch_size=[1, 2, 4, 8], lr=[0.1, 0.2])
    assert serial.rows == threaded.rows == dask.rows
    assert (tmp_path / "d.csv").read_text().count("\n") == 9
    assert list(serial["product"]) == [b * lr for b in (1, 2, 4, 8) for lr in (0.1, 0.2)]


def test_interrupted_sweep_resumes_without_redoing_points(tmp_path):
    calls = []

    def flaky(batch_size, fail=True):
        calls.append(batch_size)
        if batch_size == 4 and fail:
            raise RuntimeError("interrupted")
        return {"value": batch_size ** 2}

    with pytest.raises(RuntimeError, match="interrupted"):
        sweep(flaky, results=tmp_path / "r.csv", progress=False, batch_size=[1, 2, 4, 8])
    saved = json.loads((tmp_path / "r.json").read_text())
    assert [row["batch_size"] for row in saved["rows"]] == [1, 2]
    calls.clear()
    table = sweep(lambda batch_size: flaky(batch_size, fail=False), results=tmp_path / "r",
                  progress=False, batch_size=[1, 2, 4, 8])
    assert calls == [4, 8]
    assert list(table["value"]) == [1, 4, 16, 64]


def test_unknown_parameter_is_named():
    with pytest.raises(ValueError, match="momentum"):
        sweep(model_point, progress=False, batch_size=[1], momentum=[0.9])
