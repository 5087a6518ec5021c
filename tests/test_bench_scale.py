"""benchmarks/bench_scale.py (issue 14, item 5): its references, its fits, and its smallest run.

The references are closed forms and LAPACK on the same chain: the 1-D double integral by quad,
the exponential of a birth-death chain by the eigendecomposition of its symmetrised form (checked
here against scipy's dense expm), and the Kronecker-sum structure that lets a product of 1-D
exponentials be the exact 3-D evolution (checked here on the assembled generator). No timing is
asserted anywhere: the quick run only has to produce finite numbers, sane errors and exponents.
"""

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.linalg import expm

import fpsolve as fp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_scale  # noqa: E402
import scale_measure  # noqa: E402
import scale_problem as sc  # noqa: E402


def test_exact_exit_time_is_the_documented_double_integral():
    # REFERENCES.md and cases/exit_time_1d.toml: 33.9457442877 for U = (x^2-1)^2, T = 1/4, from -1 to
    # 0 (reflecting at -inf; the wall at -2 changes it by ~e^-36). Both are quad to ~1e-12.
    assert sc.exact_mean_exit_time() == pytest.approx(33.9457442877, rel=1e-10)


@pytest.mark.filterwarnings("ignore:grid. too coarse")  # 4-7 cells per axis: coarse on purpose
def test_generator_is_the_kronecker_sum_of_its_axis_chains():
    # the premise of the evolution reference: for U = U_0(x) + U_1(y) + U_2(z) the 3-D chain moves
    # one axis at a time with that axis's 1-D rates; equal to round-off (rates up to ~40)
    grid = fp.Grid(list(sc.BOX), [7, 5, 4])
    Q = fp.FokkerPlanck(fp.Langevin(sc.landscape(3), sc.TEMPERATURE), grid).generator.matrix
    axes = [sc.axis_generator(k, n, b) for k, (n, b) in enumerate(zip(grid.shape, grid.bounds))]
    kron_sum = sp.kronsum(sp.kronsum(axes[2], axes[1]), axes[0])  # C order: the last axis fastest
    assert abs(Q - kron_sum).max() < 1e-12 * abs(Q).max()


@pytest.mark.parametrize("k, n", [(0, 80), (1, 50)])
def test_birth_death_exponential_matches_dense_expm(k, n):
    bounds = sc.BOX[k]
    Q = sc.axis_generator(k, n, bounds)
    p0 = fp.gaussian(fp.Grid([bounds], [n]), mean=sc.START[k], std=sc.INITIAL_STD)
    for t in (0.05, sc.EVOLVE_TIME):
        dense = expm(t * Q.toarray().T) @ p0
        ours = sc.birth_death_exponential(Q, p0, t)
        # two exact methods in double precision: both ~1e-13 from the truth (measured 1e-15 to 1e-14
        # relative in L1); the eigenvectors of a tridiagonal with spread rates lose a few digits
        assert np.abs(ours - dense).sum() < 1e-11 * np.abs(dense).sum()


def test_boltzmann_reference_is_normalised_to_the_midpoint_rule_error():
    grid = fp.Grid(list(sc.BOX[:2]), [400, 300])
    rho = sc.boltzmann_density(grid)
    # the exact density's cell-centre sum misses its integral by the midpoint rule's h^2/24 int rho''
    # (relative ~ (h^2/24) / variance ~ (0.006^2/24)/0.01 ~ 2e-5 along x)
    assert abs(rho.sum() * grid.cell_volume - 1.0) < 1e-4


def test_fit_exponent_uses_the_largest_sizes_only():
    cells = [10, 100, 1_000, 10_000, 100_000]
    seconds = [5.0, 5.0, 2e-3 * 1_000**1.5, 2e-3 * 10_000**1.5, 2e-3 * 100_000**1.5]  # flat, then N^1.5
    assert bench_scale.fit_exponent(cells, seconds, last=3) == pytest.approx(1.5, abs=1e-12)
    assert bench_scale.fit_exponent(cells[:1], seconds[:1], last=3) is None  # one point: no slope


def test_quick_run_gives_finite_times_memory_errors_and_exponents(tmp_path):
    out, figure = tmp_path / "scale.json", tmp_path / "scale.png"
    command = [sys.executable, str(ROOT / "benchmarks" / "bench_scale.py"), "--quick", "--skip-mc"]
    with_fipy = importlib.util.find_spec("fipy") is not None  # a test extra: the FiPy row needs it
    command += [] if with_fipy else ["--skip-fipy"]
    done = subprocess.run(command + ["--json", str(out), "--figure", str(figure)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    payload = json.loads(out.read_text())
    rows = payload["rows"]
    expected = {f"{d}-D {t}" for d in (1, 2, 3) for t in sc.TASKS} | ({"FiPy 3-D exit"} if with_fipy else set())
    assert {r["line"] for r in rows} == expected
    for row in rows:
        q = row["result"]
        assert "failed" not in q, (row["line"], row["n"], q)
        assert q["seconds"] > 0 and math.isfinite(q["seconds"])
        assert math.isfinite(q["peak_mib"]) and q["peak_mib"] >= q["baseline_mib"] > 0
        assert q["error"] is not None and math.isfinite(q["error"])
        kind = row["line"].split()[-1]
        if kind == "exit":
            # second order in the cells: measured -6.4e-6 (1-D, 1000), -6.1e-3 (2-D, 32^2), -4.0e-2
            # (3-D, 12^3, h_x = 0.21) and FiPy +7.8e-4 (10^3 with the exit on a face); 10 % bounds a
            # grid this coarse and still catches a wrong problem (tau off by a factor)
            assert abs(q["error"]) < 0.1
        elif kind == "evolve":
            # the default evolution is exact in time up to its rtol 1e-8 (measured <= 3e-11 in L1)
            assert q["error"] < 1e-6 and abs(q["value"] - 1) < 1e-9
        else:
            # the FV law is e^{-U/T} at the centres normalised by the midpoint sum: L1 error = the
            # midpoint rule's O(h^2), measured 3.3e-7 (1-D, 1000) to 2.3e-3 (3-D, 12^3)
            assert q["error"] < 1e-2 and abs(q["value"] - 1) < 1e-9
    for line, (time_exponent, memory_exponent) in payload["exponents"].items():
        if line.startswith("FiPy"):
            continue  # one FiPy size in --quick: no slope
        assert math.isfinite(time_exponent), line
        assert memory_exponent is None or math.isfinite(memory_exponent), line
    assert figure.stat().st_size > 10_000
    assert "fitted exponents" in done.stdout and "3-D mean exit time" in done.stdout


@pytest.mark.slow
def test_monte_carlo_pilot_and_its_extrapolation():
    mc = scale_measure.monte_carlo(paths=200, dt=1e-2)
    # paths for a +-1 % 95 % interval and the linear extrapolation of the pilot's time
    assert mc["paths_needed"] == math.ceil((1.96 * mc["cv"] / 0.01) ** 2)
    assert mc["seconds"] == pytest.approx(mc["pilot_s"] * mc["paths_needed"] / 200, rel=1e-12)
    # exit times are near exponential (CV ~ 1); the seeded pilot's mean lies within 3 standard errors
    # of the exact tau shifted by the bridge test's bias (-1.75 dt relative, REFERENCES.md)
    assert 0.8 < mc["cv"] < 1.2
    exact = sc.exact_mean_exit_time() * (1 - 1.75 * 1e-2)
    assert abs(mc["value"] - exact) < 3 * mc["cv"] * exact / math.sqrt(200)


def test_face_weight_chain_converges_at_second_order_to_the_double_integral():
    # the comparison chain of docs/scale.md (FiPy's self-adjoint scheme in 1-D, solved densely):
    # measured errors 3.14e-5, 7.85e-6, 1.96e-6 at 50, 100, 200 cells; second order means each
    # halving of h divides the error by 4 (3.9-4.1 allows the O(h^4) remainder)
    errors = [sc.face_weight_exit_time(n) / sc.exact_mean_exit_time() - 1 for n in (50, 100, 200)]
    assert abs(errors[0]) < 1e-4
    for coarse, fine in zip(errors, errors[1:]):
        assert 3.9 < coarse / fine < 4.1
