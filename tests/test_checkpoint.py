"""Interrupted evolutions resume from their checkpoint and give the same densities."""

import numpy as np
import pytest

import fpsolve as fp
from fpsolve import checkpoint
from fpsolve import integrate as integrate_module


def problem():
    grid = fp.Grid([(-2.5, 2.5)], [300])
    fpe = fp.FokkerPlanck(fp.Langevin(fp.landscapes.double_well(), temperature=0.3), grid)
    return fpe, fp.gaussian(grid, -1.0, 0.2)


def test_interrupted_evolution_resumes_and_matches_an_uninterrupted_one(tmp_path, monkeypatch):
    fpe, p0 = problem()
    times = [0.0, 0.5, 1.0, 2.0, 4.0]
    path = tmp_path / "run.npz"
    reference = fpe.evolve(p0, times, method="exponential")

    calls = {"n": 0}
    real = integrate_module.integrate

    def interrupted(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(integrate_module, "integrate", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fpe.evolve(p0, times, method="exponential", checkpoint=path)
    monkeypatch.setattr(integrate_module, "integrate", real)
    saved = np.load(path)["states"]
    assert len(saved) == 3  # t = 0 and the two output times finished before the interrupt
    resumed = fpe.evolve(p0, times, method="exponential", checkpoint=path)
    # output-to-output exponential steps are exact in time: the same densities to ~1e-10 (Krylov)
    assert np.abs(resumed.p - reference.p).max() < 1e-9 * reference.p.max()
    assert resumed.stats["steps"] == 2  # only the two unfinished segments were integrated
    assert [p.name for p in tmp_path.iterdir()] == ["run.npz"]  # no temporary files left


def test_checkpoint_of_another_problem_is_refused(tmp_path):
    fpe, p0 = problem()
    path = tmp_path / "run.npz"
    fpe.evolve(p0, [0.0, 1.0], method="exponential", checkpoint=path)
    with pytest.raises(ValueError, match="checkpoint"):
        fpe.evolve(p0, [0.0, 2.0], method="exponential", checkpoint=path)


def _truncated(path):
    np.savez(path, key=np.array("k"), states=np.ones((2, 50)))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # cut short by a crash outside fpsolve


@pytest.mark.parametrize(
    "spoil",
    [
        lambda path: path.write_bytes(b"not a zip file at all"),
        _truncated,
        lambda path: np.savez(path, states=np.ones((2, 50))),  # an .npz without the key entry
    ],
    ids=["garbage", "truncated", "no-key"],
)
def test_unreadable_checkpoint_is_named_not_a_traceback(tmp_path, spoil):
    fpe, p0 = problem()
    path = tmp_path / "run.npz"
    spoil(path)
    with pytest.raises(ValueError, match=r"checkpoint: .*run.npz is unreadable .*Delete it"):
        fpe.evolve(p0, [0.0, 1.0], method="exponential", checkpoint=path)


def test_fingerprint_tells_apart_what_determines_a_run():
    class Model:
        def __init__(self, lr):
            self.lr = lr

        def fingerprint(self):
            return f"Model(lr={self.lr})"

    same = checkpoint.fingerprint(Model(0.1), {"method": "exponential", "rtol": 1e-8}, np.zeros(4))
    assert same == checkpoint.fingerprint(Model(0.1), {"rtol": 1e-8, "method": "exponential"}, np.zeros(4))
    assert same != checkpoint.fingerprint(Model(0.2), {"method": "exponential", "rtol": 1e-8}, np.zeros(4))
    assert same != checkpoint.fingerprint(Model(0.1), {"method": "exponential", "rtol": 1e-8}, np.zeros((2, 2)))
    assert len(same) == 32
