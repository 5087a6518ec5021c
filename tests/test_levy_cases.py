"""The Lévy cases (levy_escape, sgd_vs_adam) on small grids, each number against an independent
reference: Getoor's closed form at U = 0, the Imkeller-Pavlyukevich trend as eps -> 0, the 1-D
double integral at alpha = 2, and the exact time change between LevyAdam and LevySGD in 1-D.
Also: sweep over (alpha, eps, B) and basin occupancy work for Lévy models.
"""

import json
import math

import numpy as np
import pytest

import fpsolve as fp
from fpsolve import levy_theory as lt
from fpsolve.cases import load_case, run_case
from fpsolve.cases.levy_common import exit_time_with_error

FLAT = fp.Landscape(lambda x: 0.0 * x, lambda x: (0.0 * x,), ndim=1, name="flat")

# The small grids here upwind the drift far up the walls, where pure jump noise gives no local
# diffusion (the scheme warns); every number below is held against an independent reference instead.
pytestmark = pytest.mark.filterwarnings("ignore:grid. too coarse for the drift:UserWarning")

SMALL_ESCAPE = """
name = "levy_escape_small"
task = "levy_escape"
[landscape]
name = "double_well"
[grid]
bounds = [[-3.0, 0.0]]
cells = [768]
[exit]
start = [-1.0]
[sweep]
alpha = [1.5]
scale = [0.4, 0.2, 0.1]
[gaussian]
scale = [0.6, 0.45]
[geometry]
alpha = 1.5
scale = 0.15
gaussian_scale = 0.5
widths = [1.0, 2.0]
depths = [1.0, 2.0]
"""

SMALL_SGD_ADAM = """
name = "sgd_vs_adam_small"
task = "sgd_vs_adam"
[model]
lr = 0.1
alpha = 1.5
[landscape]
name = "double_well"
[one_d]
bounds = [[-3.0, 0.0]]
cells = [512]
start = [-1.0]
noise_scale = 1.0
preconditioner = [2.0]
[landscape_2d]
name = "double_well_2d"
[two_d]
bounds = [[-2.5, 0.0], [-1.5, 1.5]]
cells = [48, 48]
start = [-1.0, 0.0]
noise_scale = [1.0, 0.25]
preconditioner = [4.0, 1.0]
[sweep]
batch_size = [8]
"""


def _run(tmp_path, text, name):
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    folder, result, _ = run_case(path, out=tmp_path / name)
    saved = json.loads((folder / "result.json").read_text())
    return result, saved, folder


def test_case_machinery_reproduces_getoor_at_u_zero(tmp_path):
    """U = 0 on the box (-1, 1) from x = 0.25 (a cell centre): the case's solve (box = domain, both
    grids) against Getoor's (1 - x^2)^(alpha/2) / (Gamma(1+alpha) eps^alpha). 1 % at 1000 cells
    (the scheme's measured error near the middle is ~0.3 %, docs/levy.md "Numerics")."""
    path = tmp_path / "c.toml"
    path.write_text(SMALL_ESCAPE)
    case = load_case(path)
    for alpha in (0.8, 1.5):
        solved = exit_time_with_error(case, fp.LevyLangevin(FLAT, alpha, 0.5), [(-1.0, 1.0)], [1000], (0.25,))
        exact = lt.getoor_mean_exit_time(0.25, alpha, scale=0.5)
        assert solved["tau"] == pytest.approx(exact, rel=0.01)
        assert abs(solved["tau"] - exact) <= 2 * abs(solved["error"]) + 1e-3 * exact  # the error bar is honest


def test_levy_escape_case_small(tmp_path):
    """The levy_escape task on a small grid (768 cells). Measured: tau / tau_IP = 0.782 / 0.899 /
    0.952 at eps = 0.4 / 0.2 / 0.1 (the gap halves with eps), slope d log tau / d log eps = -1.64
    over these scales (-alpha = -1.5 in the limit); alpha = 2 matches the double integral to 2e-5;
    doubling the width multiplies tau by 2.76 for alpha = 1.5 (IP: 2^1.5 = 2.83) and doubling the
    depth by 1.03, while for alpha = 2 doubling the depth multiplies tau by 25.8 (the double
    integral's ratio; e^(1/T) = e^4 times the curvature prefactor). Tolerances: twice the measured
    distances."""
    result, saved, folder = _run(tmp_path, SMALL_ESCAPE, "escape")
    rows = sorted(result.numbers["sweep"], key=lambda r: -r["scale"])
    gaps = [abs(r["ratio"] - 1) for r in rows]
    assert gaps[2] < gaps[1] < gaps[0], gaps
    assert gaps[2] < 0.1, gaps
    slope = result.numbers["rates"]["1.5"]
    assert -1.5 - 0.3 < slope < -1.5
    for r in result.numbers["gaussian"]:
        assert abs(r["relative_error"]) < 2e-4  # second-order FV at 768 cells: 2e-5 measured
    geometry = {(r["width"], r["depth"]): r for r in result.numbers["geometry"]}
    base = geometry[(1.0, 1.0)]
    wide = geometry[(2.0, 1.0)]["levy"]["tau"] / base["levy"]["tau"]
    deep = geometry[(1.0, 2.0)]["levy"]["tau"] / base["levy"]["tau"]
    assert wide == pytest.approx(2**1.5, rel=0.06)
    assert abs(deep - 1) < 0.06 and wide > 2 * deep
    gauss_deep = geometry[(1.0, 2.0)]["gaussian"]["tau"] / base["gaussian"]["tau"]
    assert gauss_deep > math.e**2
    assert gauss_deep == pytest.approx(geometry[(1.0, 2.0)]["double_integral"] / base["double_integral"], rel=1e-3)
    assert (folder / "exit_time_vs_scale.png").is_file() and (folder / "width_not_depth.png").is_file()
    assert saved["numbers"]["sweep"][0]["alpha"] == 1.5


def test_sgd_vs_adam_case_small(tmp_path):
    """The sgd_vs_adam task. In 1-D, LevyAdam (drift -U'/q, jumps eps/q) run in the time s = t/q is
    the Lévy flight with jump scale eps q^(1/alpha - 1), so tau_Adam = q tau(eps q^(1/alpha - 1))
    exactly (same grid: to the solver's tolerance). SGD leaves first in 1-D and 2-D; measured
    tau_Adam / tau_SGD = 2.91 (1-D) and 5.45 (2-D) against the per-axis Imkeller-Pavlyukevich
    ratios 2.83 and 5.11 at eps = 0.23 (B = 8), 3 % and 7 % apart: asserted within 12 %."""
    result, _, folder = _run(tmp_path, SMALL_SGD_ADAM, "sgd_adam")
    rows = {r["dim"]: r for r in result.numbers["table"]}
    for r in rows.values():
        assert r["ratio"] > 1.0  # SGD escapes first
        assert r["ratio"] == pytest.approx(r["predicted_ratio"], rel=0.12)
    one = rows[1]
    alpha, q, lr, size = 1.5, 2.0, 0.1, 8.0
    eps = (lr / size) ** ((alpha - 1) / alpha)
    sgd = fp.LevyLangevin(fp.landscapes.double_well(), alpha, eps * q ** (1 / alpha - 1))
    rescaled = fp.mean_exit_time(sgd, fp.Grid([(-3.0, 0.0)], [512]), domain=None)(-1.0)
    assert one["adam"]["tau"] == pytest.approx(q * rescaled, rel=1e-6)  # Krylov/LU tolerance
    assert (folder / "sgd_vs_adam.png").is_file()


def test_imkeller_pavlyukevich_is_approached_as_eps_falls():
    """The small-noise limit: on the left well (-3, 0) of the double well (alpha = 1.5),
    tau / tau_IP - 1 shrinks with eps like eps^p. Measured: gaps 0.101 / 0.048 / 0.023 at
    eps = 0.2 / 0.1 / 0.05, p = 1.06, the same to 3 digits on 1024 and 2048 cells (so the trend is
    the SDE's, not the grid's); the case levy_escape measures p ~ 1 for alpha = 1.2 and 1.8 too.
    (An O(eps) correction is what jumps that land short of the barrier top, where the drift
    vanishes, and finish the exit with a second jump would give: a heuristic.) Asserted: 0.8 < p < 1.3 and a gap below 0.035 at eps = 0.05.
    1024 cells keep >= 5 cells per stable scale at eps = 0.05."""
    alpha = 1.5
    U = fp.landscapes.double_well()
    grid = fp.Grid([(-3.0, 0.0)], [1024])
    scales = np.array([0.2, 0.1, 0.05])
    gaps = []
    for eps in scales:
        tau = fp.mean_exit_time(fp.LevyLangevin(U, alpha, eps), grid, domain=None)(-1.0)
        gaps.append(abs(tau / lt.imkeller_pavlyukevich_exit_time(alpha, (2.0, 1.0), eps) - 1))
    p = np.polyfit(np.log(scales), np.log(gaps), 1)[0]
    assert 0.8 < p < 1.3, (gaps, p)
    assert gaps[-1] < 0.035, gaps


def test_sweep_and_basin_occupancy_for_levy_models():
    """fp.sweep over the tail index alpha, the per-sample noise scale s (eps = s (lr/B)^((alpha-1)/alpha))
    and the batch size B with LevySGD exit times. At small noise tau ~ eps^-alpha (Imkeller-Pavlyukevich),
    so tau(B = 16) / tau(B = 4) -> 4^(alpha-1) and tau(s = 1) / tau(s = 0.5) -> 2^-alpha. Measured:
    1.59 / 2.85 against 1.52 / 2.64 (alpha = 1.3 / 1.7, s = 1) and 0.372 to 0.381 / 0.282 to 0.295
    against 0.406 / 0.308: within 5 to 9 % (the O(eps) correction at eps = 0.12 to 0.43): asserted
    within 15 %. Basin occupancy of a Lévy evolution: mass is conserved (censored box, which warns
    that it misplaces the mass the jump tails would carry outside) and starts in the left basin."""
    U = fp.landscapes.double_well()
    grid = fp.Grid([(-3.0, 0.0)], [384])

    def point(alpha, noise_scale, batch_size):
        model = fp.LevySGD(U, lr=0.1, batch_size=batch_size, alpha=alpha, noise_scale=noise_scale)
        return {"tau": float(fp.mean_exit_time(model, grid, domain=None)(-1.0))}

    table = fp.sweep(point, alpha=[1.3, 1.7], noise_scale=[0.5, 1.0], batch_size=[4, 16], progress=False)
    assert len(table.rows) == 8
    for alpha in (1.3, 1.7):
        tau = {(r["noise_scale"], r["batch_size"]): r["tau"] for r in table.rows if r["alpha"] == alpha}
        assert tau[1.0, 16] / tau[1.0, 4] == pytest.approx(4 ** (alpha - 1), rel=0.15)
        for size in (4, 16):
            assert tau[1.0, size] / tau[0.5, size] == pytest.approx(2**-alpha, rel=0.15)
    model = fp.LevyLangevin(U, 1.5, 0.3)
    box = fp.Grid([(-4.0, 4.0)], [640])
    with pytest.warns(UserWarning, match="too small for the jump tails"):  # the censored box says so
        sol = fp.FokkerPlanck(model, box).evolve(fp.gaussian(box, mean=-1.0, std=0.1), t=[0.0, 2.0])
    occ = fp.basin_occupancy(sol, U)
    assert occ.fractions.sum(axis=1) == pytest.approx(np.ones(2), abs=1e-6)
    assert occ.fractions[0].max() > 0.99
