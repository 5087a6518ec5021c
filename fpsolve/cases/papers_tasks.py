"""Tasks of the paper cases: ``locally_elastic`` (Zhang, Wang & Su 2021) and ``resnet_depth_limit``
(Cohen, Cont, Rossier & Xu 2021). The models live in fpsolve.papers; these tasks run them, compare
each number with its independent reference and draw the figures (fpsolve.cases.papers_plots).

fpsolve.papers (and through it the Numba Monte Carlo) is imported when a paper task runs, not when
the task registry is imported, so other cases do not pay for it."""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from ..initial import gaussian
from . import papers_plots
from .config import Case
from .output import CaseResult

__all__ = ["PAPER_TASKS", "locally_elastic_task", "resnet_depth_limit_task"]

Z99 = 2.5758  # two-sided 99 % normal quantile
START_STD = 0.02  # the FP start N(h0, 0.02^2): adds 0.02^2 e = 1.1e-3 to E H(1)^2 (in second_moment_ode)


def locally_elastic_task(case: Case, progress: bool = False, scratch=None) -> CaseResult:
    """Mode growth, the law of the separating mode three ways, separability against alpha - beta,
    the label-corruption threshold and the neural-collapse ratio over time."""
    from ..montecarlo import simulator
    from ..papers import (
        LocallyElasticSDE,
        collapse_ratio,
        corrupted_impacts,
        gaussian_law,
        mode_growth,
        separability_probability,
        separating_direction,
        separating_mode_law,
        separation_problem,
        simplex_alignment,
    )

    spec, law = case.table("model"), case.table("law")
    K, s0 = int(spec["classes"]), float(spec["margin"])
    model = LocallyElasticSDE(K, float(spec["intra"]), float(spec["inter"]), float(spec["noise"]))
    T = float(law["time"])
    x0 = s0 * K * separating_direction(K)
    w = separating_direction(K)
    result = CaseResult()
    growth = mode_growth(model, T)
    mean, cov = gaussian_law(model, T, x0)  # from the point x0 (the Monte Carlo start)
    n = int(law["paths"])
    samples = simulator(model, dt=float(law["dt"]), seed=int(law.get("seed", 0))).sample(x0, n, times=[T]).x[-1] @ w
    problem = separation_problem(model, tuple(law["bounds"]), int(law["cells"]))
    grid = problem.grid
    p0 = _narrow_start(grid, s0)
    p = problem.evolve(p0, [0.0, T]).p[-1]
    x = grid.centers[0]
    start_variance = float(grid.integrate(p0 * (x - s0) ** 2))  # the FP start's, in the exact law too
    m_s, v_s = separating_mode_law(model, T, s0, start_variance)
    fp_mean = float(grid.integrate(p * x))
    fp_var = float(grid.integrate(p * (x - fp_mean) ** 2))
    result.numbers["growth"] = {
        "time": T,
        **growth,
        "drift_eigenvalues": sorted(np.linalg.eigvals(model.drift_matrix()).real),
    }
    result.numbers["separating_mode"] = {
        "exact": {
            "mean": m_s,
            "variance": v_s,
            "start_variance": start_variance,
            "from_point_start": {"mean": float(w @ mean), "variance": float(w @ cov @ w)},
        },
        "monte_carlo": {
            "mean": float(samples.mean()),
            "variance": float(samples.var(ddof=1)),
            "paths": n,
            "mean_ci99": Z99 * float(samples.std(ddof=1)) / np.sqrt(n),
            "variance_ci99_relative": Z99 * np.sqrt(2 / (n - 1)),
        },
        "fokker_planck": {"mean": fp_mean, "variance": fp_var, "P_separable": float(grid.integrate(p * (x > 0)))},
        "P_separable": separability_probability(model, T, s0, start_variance),
    }
    result.summary.append(
        f"separating mode at t = {T:g}: exact mean {m_s:.5f} var {v_s:.5f}; Fokker-Planck "
        f"{fp_mean:.5f} / {fp_var:.5f} (both from N(s0, {start_variance:.2g})); Monte Carlo from s0 {samples.mean():.4f} ± "
        f"{result.numbers['separating_mode']['monte_carlo']['mean_ci99']:.4f} (99 %) / {samples.var(ddof=1):.4f}"
    )
    sep = case.table("separability")
    gaps, times = [float(g) for g in sep["gap"]], [float(t) for t in sep["times"]]
    beta = model.inter
    table = [
        [separability_probability(LocallyElasticSDE(K, beta + g, beta, model.noise), t, s0) for g in gaps]
        for t in times
    ]
    result.numbers["separability"] = {
        "gap": gaps,
        "times": times,
        "probability": table,
        "limit_above": [float(_limit_above(g, s0, model.noise)) for g in gaps],
    }
    fractions = [float(f) for f in case.table("corruption")["fractions"]]
    effective = [corrupted_impacts(model.intra, beta, f, K) for f in fractions]
    rates = [(intra - inter) / K for intra, inter in effective]
    result.numbers["corruption"] = {"fractions": fractions, "separating_rate": rates, "threshold": (K - 1) / K}
    col = case.table("collapse")
    col_times = [float(t) for t in col["times"]]
    ratios = collapse_ratio(model, col_times, x0, float(col["within_noise"]))
    shares = simplex_alignment(model, col_times, x0)
    result.numbers["collapse"] = {"times": col_times, "within_over_between": ratios, "simplex_share": shares}
    result.summary.append(
        f"growth factors at t = {T:g}: separating {growth['separating']:.4f}, differences "
        f"{growth['differences']:.4f}; label-corruption threshold p = {(K - 1) / K:.4f}; "
        f"collapse ratio {ratios[0]:.3g} -> {ratios[-1]:.3g}; share of the simplex mode "
        f"{shares[0]:.3g} -> {shares[-1]:.3g}"
    )
    result.figures["separability"] = papers_plots.separability(gaps, times, table, case.title)
    result.figures["collapse"] = papers_plots.collapse(col_times, ratios, shares, fractions, rates, K)
    return result


def _narrow_start(grid, s0):
    """N(s0, (2h)^2) integrated over the cells: as close to a point start as the grid resolves."""
    return gaussian(grid, mean=s0, std=2 * grid.spacing[0])


def _limit_above(gap, s0, sigma):
    """The T -> infinity separability Phi(s0 sqrt(2 (alpha - beta)) / sigma), or 1/2 when alpha <= beta."""
    return ndtr(s0 * np.sqrt(2 * gap) / sigma) if gap > 0 else 0.5


def resnet_depth_limit_task(case: Case, progress: bool = False, scratch=None) -> CaseResult:
    """E H(1)^2 of the SDE limit by Fokker-Planck against its moment ODE; E h_L^2 and the KS distance
    of the finite-depth law to the limit over depths; the scaling exponents of [scaling]."""
    from ..papers import (
        ResNetSDELimit,
        resnet_outputs,
        scaling_exponent,
        second_moment_ode,
    )

    net, dep, lim = case.table("network"), case.table("depths"), case.table("limit")
    act, h0 = net["activation"], float(net["h0"])
    var_A, var_b = float(net["var_A"]), float(net["var_b"])
    limit = ResNetSDELimit(act, var_A, var_b, dim=1)
    bounds, cells = (float(lim["bounds"][0]), float(lim["bounds"][1])), int(lim["cells"])
    start_std = START_STD
    sol = limit.law(h0, 1.0, [bounds], cells, start_std=start_std)
    grid, p = sol.grid, sol.p[-1]
    x = grid.centers[0]
    second = float(grid.integrate(p * x**2))
    result = CaseResult()
    result.numbers["second_moment_limit"] = second
    try:
        result.numbers["second_moment_ode"] = second_moment_ode(h0, 1.0, act, var_A, var_b, start_std**2)
        result.numbers["ito_prediction"] = second_moment_ode(h0, 1.0, act, var_A, var_b)
    except ValueError:
        pass
    cdf_faces = np.concatenate([[0.0], np.cumsum(p * grid.spacing[0])])
    n, seed = int(dep["paths"]), int(dep.get("seed", 0))
    table = []
    for L in [int(L) for L in dep["depths"]]:
        h = resnet_outputs(L, n, [h0], act, var_A=var_A, var_b=var_b, seed=seed + L)[:, 0]
        sq = h**2
        ks = float(np.max(np.abs(np.arange(1, n + 1) / n - np.interp(np.sort(h), grid.faces[0], cdf_faces))))
        table.append(
            {
                "depth": L,
                "second_moment": float(sq.mean()),
                "ci99": Z99 * float(sq.std(ddof=1)) / np.sqrt(n),
                "ks_distance": ks,
            }
        )
    result.numbers["second_moment_by_depth"] = table
    result.numbers["ks_noise_floor"] = 1.63 / np.sqrt(n)  # 99 % quantile of sqrt(n) KS under H0
    resolved = [r for r in table if second - r["second_moment"] > 3 * r["ci99"] / Z99]
    if len(resolved) >= 2:
        result.numbers["bias_rate"] = scaling_exponent(
            [r["depth"] for r in resolved], [second - r["second_moment"] for r in resolved]
        )
        result.summary.append(
            f"E H(1)^2 - E h_L^2 ~ L^{result.numbers['bias_rate']:.2f} over the depths where it is resolved"
        )
    above = [r for r in table if r["ks_distance"] > 2 * result.numbers["ks_noise_floor"]]
    if len(above) >= 2:
        result.numbers["ks_rate"] = scaling_exponent([r["depth"] for r in above], [r["ks_distance"] for r in above])
        result.summary.append(f"KS distance ~ L^{result.numbers['ks_rate']:.2f} above twice the Monte Carlo floor")
    result.summary.append(
        f"E H(1)^2 of the SDE limit (Fokker-Planck) {second:.5f}; moment ODE "
        f"{result.numbers.get('second_moment_ode', float('nan')):.5f}"
    )
    result.summary.extend(
        f"L = {r['depth']}: E h_L^2 = {r['second_moment']:.4f} ± {r['ci99']:.4f} (99 %), KS {r['ks_distance']:.4f}"
        for r in table
    )
    if "scaling" in case.tables:
        result.numbers["scaling"] = _scaling(case.table("scaling"), h0, act)
        result.summary.extend(
            f"{s['weights']} beta = {s['beta']:g}: fitted exponent of E|h_L - h_0|^2 "
            f"{s['fitted']:.3f} (small-weight theory {s['predicted']:.3f}): {s['regime']}"
            for s in result.numbers["scaling"]
        )
    result.figures["depth_limit"] = papers_plots.depth_limit(table, second, x, p, case.title)
    return result


def _scaling(spec, h0, act) -> list:
    """Fitted exponents of E|h_L - h_0|^2 over depths, and the regime they indicate."""
    from ..papers import depth_sweep, scaling_exponent

    depths = [int(L) for L in spec["depths"]]
    rows = []
    for weights, key, critical in (("iid", "iid_exponents", 0.5), ("smooth", "smooth_exponents", 1.0)):
        for beta in spec[key]:
            options = (
                {"smooth_A": lambda s: np.array([[np.cos(2 * np.pi * s)]]), "smooth_b": lambda s: np.array([0.5])}
                if weights == "smooth"
                else {}
            )
            sweep = depth_sweep(
                depths,
                int(spec["paths"]) if weights == "iid" else 1,
                [h0],
                act,
                weights,
                weight_exponent=float(beta),
                **options,
            )
            fitted = scaling_exponent(depths, sweep["displacement"])
            regime = (
                ("limit: " + ("neural ODE" if weights == "smooth" else "SDE"))
                if abs(fitted) < 0.25
                else ("trivial (identity) limit" if fitted < 0 else "neither: no limit, the state grows with depth")
            )
            rows.append(
                {
                    "weights": weights,
                    "beta": float(beta),
                    "fitted": fitted,
                    "predicted": 2 * (critical - float(beta)),
                    "regime": regime,
                }
            )
    return rows


PAPER_TASKS = {"locally_elastic": locally_elastic_task, "resnet_depth_limit": resnet_depth_limit_task}
