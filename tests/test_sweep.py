"""Parameter sweeps: executors agree, results files resume, bad parameters are named."""

import functools
import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import fpsolve as fp

from fpsolve.studies import sweep


def model_point(batch_size, lr=0.1):
    return {"product": batch_size * lr, "inverse": 1.0 / batch_size}


def test_threads_and_dask_give_the_same_table(tmp_path):
    serial = sweep(model_point, progress=False, batch_size=[1, 2, 4, 8], lr=[0.1, 0.2])
    with ThreadPoolExecutor(2) as pool:
        threaded = sweep(model_point, executor=pool, progress=False, batch_size=[1, 2, 4, 8], lr=[0.1, 0.2])
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        dask = sweep(
            model_point, executor=client, progress=False, results=tmp_path / "d", batch_size=[1, 2, 4, 8], lr=[0.1, 0.2]
        )
    assert serial.rows == threaded.rows == dask.rows
    assert (tmp_path / "d.csv").read_text().count("\n") == 9
    assert list(serial["product"]) == [b * lr for b in (1, 2, 4, 8) for lr in (0.1, 0.2)]


def test_interrupted_sweep_resumes_without_redoing_points(tmp_path):
    calls = []
    interrupt = {"at": 4}

    def flaky(batch_size):
        calls.append(batch_size)
        if batch_size == interrupt["at"]:
            raise RuntimeError("interrupted")
        return {"value": batch_size**2}

    with pytest.raises(RuntimeError, match="interrupted"):
        sweep(flaky, results=tmp_path / "r.csv", progress=False, batch_size=[1, 2, 4, 8])
    saved = json.loads((tmp_path / "r.json").read_text())
    assert [row["batch_size"] for row in saved["rows"]] == [1, 2]
    calls.clear()
    interrupt["at"] = None  # the same function resumes: a different one would be refused (below)
    table = sweep(flaky, results=tmp_path / "r", progress=False, batch_size=[1, 2, 4, 8])
    assert calls == [4, 8]
    assert list(table["value"]) == [1, 4, 16, 64]


def scaled_point(batch_size, lr, scale=1.0):
    return {"value": scale * lr / batch_size}


def lr_first_point(lr, batch_size):
    return {"value": lr / batch_size}


class Noise:
    """An argument that says itself what determines the results."""

    def __init__(self, level):
        self.level = level

    def fingerprint(self):
        return f"Noise(level={self.level})"


def noisy_point(batch_size, noise):
    return {"value": noise.level / batch_size}


@pytest.mark.parametrize(
    "first, second, first_key, second_key",
    [
        (model_point, functools.partial(scaled_point, lr=0.1), None, None),
        (functools.partial(scaled_point, lr=0.1), functools.partial(scaled_point, lr=0.2), None, None),
        (functools.partial(lr_first_point, 0.1), functools.partial(lr_first_point, 0.2), None, None),
        (functools.partial(scaled_point, lr=0.1, scale=2.0), functools.partial(scaled_point, lr=0.1), None, None),
        (
            functools.partial(noisy_point, noise=Noise(1.0)),
            functools.partial(noisy_point, noise=Noise(2.0)),
            None,
            None,
        ),
        (model_point, model_point, {"case": "abc"}, {"case": "abd"}),
        (model_point, model_point, None, 1),
    ],
    ids=[
        "other-function",
        "partial-keyword",
        "partial-positional",
        "extra-keyword",
        "fingerprint-method",
        "key",
        "key-added",
    ],
)
def test_results_of_another_computation_are_refused(tmp_path, first, second, first_key, second_key):
    stem = tmp_path / "table"
    sweep(first, results=stem, key=first_key, progress=False, batch_size=[1, 2])
    before = (tmp_path / "table.json").read_text()
    with pytest.raises(ValueError, match="results: .*table.json belongs to a different computation.*delete"):
        sweep(second, results=stem, key=second_key, progress=False, batch_size=[1, 2, 4])
    assert (tmp_path / "table.json").read_text() == before  # nothing mixed into the old table


def test_same_partial_and_key_resume(tmp_path):
    calls = []

    def counted(batch_size, lr):
        calls.append(batch_size)
        return {"value": lr * batch_size}

    point = functools.partial(counted, lr=0.1)
    sweep(point, results=tmp_path / "t", key={"case": "abc"}, progress=False, batch_size=[1, 2])
    again = functools.partial(counted, lr=0.1)  # a new but equal partial: same fingerprint
    table = sweep(again, results=tmp_path / "t", key={"case": "abc"}, progress=False, batch_size=[1, 2, 4])
    assert calls == [1, 2, 4]  # the rerun computed only the new point
    assert list(table["value"]) == pytest.approx([0.1, 0.2, 0.4])


def test_key_must_be_json(tmp_path):
    with pytest.raises(ValueError, match="key: expected a JSON-able value"):
        sweep(model_point, results=tmp_path / "t", key=object(), progress=False, batch_size=[1])


@pytest.mark.parametrize(
    "name, content",
    [
        ("table.json", '{"parameters": ["batch_size"], "rows": [{"batch_'),  # cut short
        ("table.json", "\x00\xff garbage"),
        ("table.json", "[1, 2, 3]"),
        ("table.json", '{"parameters": ["batch_size"], "rows": [{"value": 1}]}'),
    ],
    ids=["truncated", "binary", "not-an-object", "row-without-parameter"],
)
def test_corrupt_results_file_is_named(tmp_path, name, content):
    (tmp_path / name).write_bytes(content.encode("latin-1"))
    with pytest.raises(ValueError, match=r"results: .*table.json is unreadable .*delete"):
        sweep(model_point, results=tmp_path / "table", progress=False, batch_size=[1, 2])


def test_csv_without_json_is_not_overwritten(tmp_path):
    (tmp_path / "table.csv").write_text("batch_size,value\n1,3\n")
    with pytest.raises(ValueError, match=r"results: .*table.csv exists but table.json does not"):
        sweep(model_point, results=tmp_path / "table", progress=False, batch_size=[1, 2])
    assert (tmp_path / "table.csv").read_text() == "batch_size,value\n1,3\n"


def test_results_files_are_written_without_leftovers(tmp_path):
    sweep(model_point, results=tmp_path / "sub" / "t", progress=False, batch_size=[1, 2])
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["t.csv", "t.json"]
    saved = json.loads((tmp_path / "sub" / "t.json").read_text())
    assert saved["computation"]["function"] == "test_sweep.model_point"


def test_unknown_parameter_is_named():
    with pytest.raises(ValueError, match="momentum"):
        sweep(model_point, progress=False, batch_size=[1], momentum=[0.9])


def test_corrupt_csv_beside_a_good_json_is_named(tmp_path):
    sweep(model_point, results=tmp_path / "table", progress=False, batch_size=[1, 2])
    (tmp_path / "table.csv").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ValueError, match=r"results: .*table.csv is unreadable .*delete"):
        sweep(model_point, results=tmp_path / "table", progress=False, batch_size=[1, 2, 4])
    (tmp_path / "table.csv").write_text("momentum,value\n0.9,1\n")
    with pytest.raises(ValueError, match=r"results: .*table.csv is unreadable .*columns start with \['momentum'\]"):
        sweep(model_point, results=tmp_path / "table", progress=False, batch_size=[1, 2, 4])


def test_resuming_on_a_smaller_grid_keeps_the_other_saved_points(tmp_path):
    sweep(model_point, results=tmp_path / "t", progress=False, batch_size=[1, 2, 4])
    table = sweep(model_point, results=tmp_path / "t", progress=False, batch_size=[2, 8])
    assert list(table["batch_size"]) == [2, 8]  # the returned table is this grid's
    saved = json.loads((tmp_path / "t.json").read_text())
    assert sorted(row["batch_size"] for row in saved["rows"]) == [1, 2, 4, 8]  # nothing dropped
    assert (tmp_path / "t.csv").read_text().count("\n") == 5


GAP_CALLS = []


def gap_point(temperature):
    """The double well's spectral gap; at T = 1/800 it is ~e^-800, below double range: refused."""
    import fpsolve as fp

    GAP_CALLS.append(temperature)
    model = fp.Langevin(fp.landscapes.double_well(), temperature=temperature)
    return {"gap": float(fp.FokkerPlanck(model, fp.Grid([(-2.0, 2.0)], [400])).relaxation_rates(1)[0])}


@pytest.mark.filterwarnings("ignore:grid. too coarse")
def test_refused_points_become_nan_with_a_warning_only_when_asked(tmp_path):
    with pytest.raises(ValueError, match="below 1e-290"):  # default: the refusal stops the sweep
        sweep(gap_point, progress=False, temperature=[0.25, 1 / 800])
    with pytest.warns(UserWarning, match=r"sweep: the point \{'temperature': 0.00125\} gave no result"):
        table = sweep(gap_point, progress=False, on_error="nan", results=tmp_path / "g", temperature=[0.25, 1 / 800])
    assert table["gap"][0] == gap_point(0.25)["gap"] and np.isnan(table["gap"][1])
    assert np.isnan(table["gap"]).sum() == 1
    assert "below 1e-290" in table["error"][1]
    GAP_CALLS.clear()
    with pytest.warns(UserWarning, match="gave no result"):
        sweep(gap_point, progress=False, on_error="nan", results=tmp_path / "g", temperature=[0.25, 1 / 800])
    assert GAP_CALLS == [1 / 800]  # the failed point is computed again on resume


def test_bugs_propagate_even_with_nan_and_bad_on_error_is_named():
    def broken(batch_size):
        return {"value": batch_size["oops"]}  # TypeError: a bug, never turned into NaN

    with pytest.raises(TypeError):
        sweep(broken, progress=False, on_error="nan", batch_size=[1, 2])
    with pytest.raises(ValueError, match="^on_error: expected one of"):
        sweep(model_point, progress=False, on_error="ignore", batch_size=[1])


@pytest.mark.filterwarnings("ignore:grid. too coarse")
def test_batch_size_study_passes_on_error_through():
    # a batch size below 1 is refused by SGD (ValueError): with on_error="nan" the study records
    # that point as NaN and keeps the others, which are the plain batch_size_point values
    from fpsolve.studies import batch_size_study
    from fpsolve.studies.batch_size import batch_size_point

    U, grid = fp.landscapes.double_well(), fp.Grid([(-2.0, 2.0)], [120])
    with pytest.warns(UserWarning, match="gave no result"):
        table = batch_size_study(U, grid, lr=0.1, batch_sizes=[0.5, 8], noises=["isotropic"], on_error="nan")
    alone = batch_size_point(U, grid, lr=0.1, batch_size=8, noise="isotropic")
    assert np.isnan(table["exit_time_0"][0]) and table["exit_time_0"][1] == alone["exit_time_0"]
