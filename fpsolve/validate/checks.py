"""Public checks: does a simulator's output agree with the PDE's answer, at level α?

Each check validates its input once, computes a statistic from ``statistics.py`` and returns a
``ValidationReport``. Under the null hypothesis (the simulator samples the PDE's law exactly) a
check rejects with probability at most α; ``docs/validate_format.md`` explains each statistic.

    densities(samples, reference, *, grid, bins=None, alpha=0.01)        χ² on coarse bins, TV, W₁
    mean_exit_time(exit_times, reference_mean, *, censored, time_limit)  z-test of the (restricted) mean
    exit_times(exit_times, reference, *, censored, time_limit)           KS (restricted if censored) + mean
    splitting(hits_b, n, reference_probability)                          exact binomial test
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from scipy import integrate, stats

from . import statistics as st
from .report import ValidationReport

__all__ = ["densities", "mean_exit_time", "exit_times", "splitting"]

_MASS_TOL = 1e-6  # |total mass − 1| below this counts as "no mass lost" (round-off of a solver)
_MIN_EXPECTED = 5.0  # no automatic bin is expected to hold fewer samples (Cochran's rule)


def _fmt(x, digits=4):
    """A number for a human: 4 significant digits, a real minus sign."""
    return f"{x:.{digits}g}".replace("-", "−")


def _check_alpha(alpha):
    if not isinstance(alpha, numbers.Real) or not (0.0 < float(alpha) < 1.0):
        raise ValueError(f"alpha: expected a level strictly between 0 and 1, got {alpha!r}")
    return float(alpha)


# --------------------------------------------------------------------------------------------
# densities
# --------------------------------------------------------------------------------------------


def _check_grid(grid):
    if grid is None:
        raise ValueError(
            "grid: densities needs the grid on which `reference` lives (an object with .ndim, "
            ".shape, .bounds, .centers and .cell_volume), got None"
        )
    missing = [a for a in ("ndim", "shape", "bounds", "centers", "cell_volume") if not hasattr(grid, a)]
    if missing:
        raise ValueError(f"grid: expected a grid object; it lacks the attribute(s) {', '.join(missing)}")
    periodic = getattr(grid, "periodic", False)
    if isinstance(periodic, (bool, np.bool_)):
        periodic = [bool(periodic)] * int(grid.ndim)
    return tuple(int(m) for m in grid.shape), [tuple(map(float, b)) for b in grid.bounds], list(periodic)


def _check_density(reference, shape, cell_volume):
    p = np.asarray(reference, dtype=float)
    if p.shape != shape:
        raise ValueError(f"reference: expected a density array of the grid's shape {shape}, got shape {p.shape}")
    if not np.all(np.isfinite(p)):
        raise ValueError(f"reference: the density has {int(np.sum(~np.isfinite(p)))} NaN or infinite values")
    if p.min() < -1e-12 * max(p.max(), 0.0) - 1e-300:
        raise ValueError(f"reference: the density must be non-negative; its minimum is {p.min():.3g}")
    mass = np.clip(p, 0.0, None) * float(cell_volume)
    total = float(mass.sum())
    if total > 1 + _MASS_TOL:
        raise ValueError(
            f"reference: expected a density with p.sum() * grid.cell_volume == 1 (or less, if mass "
            f"was absorbed); its total mass is {total:.8g}"
        )
    if total <= 0:
        raise ValueError("reference: the density carries no mass on the grid")
    if total >= 1 - _MASS_TOL:
        return mass / total, 0.0
    return mass, 1.0 - total


def _as_points(samples, ndim):
    x = np.asarray(samples, dtype=float)
    if x.ndim == 1 and ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != ndim:
        expected = "(n,) or (n, 1)" if ndim == 1 else f"(n, {ndim})"
        raise ValueError(f"samples: expected an array of shape {expected} for a {ndim}-D grid, got shape {x.shape}")
    if x.shape[0] == 0:
        raise ValueError("samples: the sample array is empty")
    bad = ~np.isfinite(x).all(axis=1)
    if bad.any():
        raise ValueError(f"samples: {int(bad.sum())} samples contain NaN or inf (first at row {int(np.argmax(bad))})")
    return x


def _bin_labels(bins, cell_mass, n):
    if bins is None or isinstance(bins, numbers.Integral):
        if bins is None:
            k = max(2, min(math.ceil(2 * n**0.4), n // 10))  # Mann–Wald/Moore 2n^{2/5}, ≥ 10 per bin
        else:
            if bins < 2:
                raise ValueError(f"bins: expected at least 2 bins, got {bins}")
            k = int(bins)
        labels = st.mass_partition(cell_mass, k, _MIN_EXPECTED / n)
        return labels, "auto" if bins is None else f"{k} requested"
    labels = np.asarray(bins)
    if labels.shape != cell_mass.shape or not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0:
        raise ValueError(
            f"bins: expected None, a number of bins, or a non-negative integer label array of the "
            f"grid's shape {cell_mass.shape}; got {labels.dtype} array of shape {labels.shape}"
        )
    _, inverse = np.unique(labels, return_inverse=True)
    return inverse.reshape(labels.shape), "user labels"


def densities(samples, reference, *, grid=None, bins=None, alpha=0.01):
    """Test whether samples follow the PDE density ``reference`` on ``grid`` (Pearson χ²).

    Parameters
    ----------
    samples : array, shape (n,) or (n, d)
        Simulated states at one time, d = grid.ndim.
    reference : array of grid.shape
        The PDE density, normalised so that ``p.sum() * grid.cell_volume == 1``; a smaller total
        means mass was absorbed, and that missing mass is expected *outside* the grid.
    grid : object with ``.ndim, .shape, .bounds, .centers, .cell_volume`` (``.periodic`` optional)
        Uniform cell-centred grid.
    bins : None, int, or integer array of grid.shape
        None: about 2n^{2/5} bins of equal PDE mass, at least 5 expected samples each (tails merge
        into the outer bins). An int asks for that many. An array labels each cell with its bin.
    alpha : float
        Level of the test.

    The PDE's mass is integrated over exactly the bins that count the samples, so coarse bins add
    no discretization bias: the test compares the two laws on the σ-algebra of the bins.
    Samples outside the grid fall in an "outside" bin whose expected mass is the mass the density
    lost; if it lost none, any sample outside is an immediate rejection (p = 0).
    """
    alpha = _check_alpha(alpha)
    shape, bounds, periodic = _check_grid(grid)
    ndim = len(shape)
    cell_mass, lost_mass = _check_density(reference, shape, grid.cell_volume)
    x = _as_points(samples, ndim)
    n = x.shape[0]
    if n < 10:
        raise ValueError(f"samples: a χ² test needs at least 10 samples, got {n}")

    flat = st.cell_index(x, bounds, shape, periodic)
    inside = flat >= 0
    labels, binning = _bin_labels(bins, cell_mass, n)
    n_bins = int(labels.max()) + 1
    flat_labels = labels.ravel()
    observed = np.bincount(flat_labels[flat[inside]], minlength=n_bins).astype(float)
    expected = n * np.bincount(flat_labels, weights=cell_mass.ravel(), minlength=n_bins)
    n_outside = int((~inside).sum())
    all_observed = np.append(observed, n_outside)
    all_expected = np.append(expected, n * lost_mass)

    chi2, df, p_value = st.pearson_chi2(all_observed, all_expected)
    if df < 1:
        raise ValueError(f"samples: with n = {n} the PDE law cannot be split into two bins of ≥ 5 expected samples")
    tv = st.total_variation(all_observed, all_expected / n)
    tv_null = st.total_variation_null_mean(n, all_expected / n)
    details = {
        "n": n,
        "n_bins": n_bins,
        "binning": binning,
        "df": df,
        "chi2": chi2,
        "min_expected": float(expected[expected > 0].min()) if np.any(expected > 0) else 0.0,
        "mass_on_grid": 1.0 - lost_mass,
        "outside_count": n_outside,
        "outside_expected": n * lost_mass,
        "total_variation": tv,
        "total_variation_null_mean": tv_null,
    }

    summary = f"TV = {_fmt(tv, 3)} (null mean {_fmt(tv_null, 3)})"
    if ndim == 1 and not periodic[0]:
        lo, hi = bounds[0]
        edges = np.linspace(lo, hi, shape[0] + 1)
        use = x[:, 0] if lost_mass == 0 else x[inside, 0]
        if use.size:
            w1 = st.wasserstein1_to_histogram(use, edges, cell_mass)
            w1_mean, w1_sd = st.wasserstein1_null_scale(use.size, edges, cell_mass)
            details.update(wasserstein1=w1, wasserstein1_null_mean=w1_mean, wasserstein1_null_sd=w1_sd,
                           wasserstein1_conditional_on_grid=bool(lost_mass > 0))
            summary += f", W₁ = {_fmt(w1, 3)} (null {_fmt(w1_mean, 3)} ± {_fmt(w1_sd, 2)})"

    impossible = np.flatnonzero((all_expected == 0) & (all_observed > 0))
    if impossible.size and impossible[-1] == n_bins:
        message = (
            f"{n_outside} of {n} samples lie outside the grid {bounds}, where the PDE density "
            f"(total mass {1 - lost_mass:.6g} on the grid, none lost) puts no mass; {summary}"
        )
    elif impossible.size:
        message = (
            f"{int(all_observed[impossible].sum())} of {n} samples fall in {impossible.size} bin(s) "
            f"where the PDE density is zero; {summary}"
        )
    else:
        message = (
            f"density χ² = {_fmt(chi2)} on {df} df, p = {_fmt(p_value, 2)} at α = {alpha:g} "
            f"(n = {n}, {n_bins} bins{', outside bin' if lost_mass > 0 else ''}); {summary}"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        residual = np.where(expected > 0, (observed - expected) / np.sqrt(expected), 0.0)
    centers = tuple(np.asarray(c, dtype=float) for c in grid.centers)
    plot_data = {
        "ndim": ndim,
        "n": n,
        "observed": observed,
        "expected": expected,
        "residual": residual,
        "labels": labels,
        "bounds": bounds,
        "centers": centers[0] if ndim == 1 else centers,
        "density": cell_mass / float(grid.cell_volume),
    }
    if ndim == 1:
        # each cell carries its bin's count shared equally, so count / (n · cell width) draws the
        # bin's average density over the bin, whether or not the bin is contiguous
        lo, hi = bounds[0]
        cells_per_bin = np.bincount(labels, minlength=n_bins)
        plot_data["bin_edges"] = np.linspace(lo, hi, shape[0] + 1)
        plot_data["observed"] = observed[labels] / cells_per_bin[labels]
        plot_data["expected"] = expected[labels] / cells_per_bin[labels]
    return ValidationReport("densities", bool(p_value > alpha), float(p_value), float(chi2), alpha,
                            details, message, plot_data)


# --------------------------------------------------------------------------------------------
# exit times
# --------------------------------------------------------------------------------------------


def _exit_data(exit_times, censored, time_limit):
    """Validated (times, censored flags, time limit or None); censored times set to the limit."""
    t = np.asarray(exit_times, dtype=float)
    if t.ndim != 1:
        raise ValueError(f"exit_times: expected a 1-D array of exit times, got shape {t.shape}")
    if t.size == 0:
        raise ValueError("exit_times: the array of exit times is empty")
    if np.isnan(t).any():
        raise ValueError(f"exit_times: {int(np.isnan(t).sum())} exit times are NaN")
    if (t < 0).any():
        raise ValueError(f"exit_times: exit times must be non-negative; {int((t < 0).sum())} are negative (min {t.min():.4g})")
    if time_limit is not None:
        if not isinstance(time_limit, numbers.Real) or not (0 < float(time_limit) < np.inf):
            raise ValueError(f"time_limit: expected a positive finite number, got {time_limit!r}")
        time_limit = float(time_limit)
    if censored is None:
        flags = np.zeros(t.shape, dtype=bool) if time_limit is None else t >= time_limit
    else:
        flags = np.asarray(censored)
        if flags.shape != t.shape:
            raise ValueError(f"censored: expected one flag per exit time, shape {t.shape}, got shape {flags.shape}")
        if flags.dtype != bool:
            if not np.isin(flags, (0, 1)).all():
                raise ValueError("censored: expected booleans (True where the path had not exited by time_limit)")
            flags = flags.astype(bool)
        if flags.any() and time_limit is None:
            recorded = np.unique(t[flags])
            if recorded.size != 1 or not np.isfinite(recorded[0]):
                raise ValueError(
                    "time_limit: censored exit times must share one finite censoring time (type-I "
                    f"censoring); pass time_limit=, the recorded values range over [{recorded.min():.4g}, {recorded.max():.4g}]"
                )
            time_limit = float(recorded[0])
    if flags.any():
        early = t[flags] < time_limit * (1 - 1e-12)
        if early.any():
            raise ValueError(
                f"censored: {int(early.sum())} censored exit times are recorded before time_limit = "
                f"{time_limit:g}; only type-I censoring at one common time limit is supported"
            )
    free = t[~flags]
    if not np.isfinite(free).all():
        raise ValueError(f"exit_times: {int((~np.isfinite(free)).sum())} uncensored exit times are infinite; flag them censored")
    if time_limit is not None and (free > time_limit).any():
        raise ValueError(
            f"exit_times: {int((free > time_limit).sum())} uncensored exit times exceed time_limit = {time_limit:g}"
        )
    t = np.where(flags, time_limit if time_limit is not None else 0.0, t)
    return t, flags, time_limit


def _survival(reference):
    """The vectorised S(t): ``.survival``, or ``.sf`` (a frozen scipy.stats distribution)."""
    for name in ("survival", "sf"):
        survival = getattr(reference, name, None)
        if callable(survival):
            return survival
    return None


def _survival_values(survival, t):
    s = np.asarray(survival(np.asarray(t, dtype=float)), dtype=float)
    if s.shape != np.shape(t):
        raise ValueError(f"reference: .survival(t) must be vectorised; for t of shape {np.shape(t)} it returned shape {s.shape}")
    if not np.isfinite(s).all() or s.min() < -1e-9 or s.max() > 1 + 1e-9:
        raise ValueError("reference: .survival(t) must return probabilities in [0, 1]")
    return np.clip(s, 0.0, 1.0)


def _integral_of_survival(survival, upper):
    """∫₀^upper S(t) dt by adaptive quadrature (upper may be inf)."""
    value, _ = integrate.quad(lambda s: float(_survival_values(survival, np.array([s]))[0]), 0.0, upper,
                              limit=500, epsrel=1e-10, epsabs=0.0)
    return float(value)


def _reference_mean(reference, name):
    """(value, where it came from) for an uncensored mean comparison."""
    if isinstance(reference, numbers.Real) or (isinstance(reference, np.ndarray) and reference.ndim == 0):
        value, source = float(reference), "number"
    elif getattr(reference, "mean", None) is not None:
        value = reference.mean() if callable(reference.mean) else reference.mean  # scipy: .mean()
        value, source = float(value), ".mean"
    elif _survival(reference) is not None:
        value, source = _integral_of_survival(reference.survival, np.inf), "∫₀^∞ S(t) dt"
    else:
        raise ValueError(f"{name}: expected a number, or an object with .mean or .survival(t); got {type(reference).__name__}")
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name}: the PDE mean exit time must be a non-negative finite number, got {value!r}")
    return value, source


def _mean_z(t, flags, time_limit, reference, name):
    """z-test of the (restricted) mean; returns a dict of numbers and labels."""
    n = t.size
    if n < 2:
        raise ValueError("exit_times: a standard error needs at least 2 exit times")
    if flags.any():
        survival = _survival(reference)
        if survival is None:
            raise ValueError(
                f"{name}: {int(flags.sum())} of {n} exit times are censored at time_limit = {time_limit:g}. "
                "The mean of a censored sample estimates the restricted mean E[min(τ, T)], not the PDE's "
                "mean E[τ], so it cannot be compared with a PDE mean alone. Pass an object with "
                ".survival(t) (the PDE's exit-time law) to compare E[min(τ, T)] with ∫₀^T S(t) dt, or "
                "simulate until every path has exited."
            )
        ref, source = _integral_of_survival(survival, time_limit), "∫₀^T S(t) dt"
        quantity = f"restricted mean exit time E[min(τ, {_fmt(time_limit)})]"
    else:
        ref, source = _reference_mean(reference, name)
        quantity = "mean exit time"
    estimate = float(t.mean())
    se = float(t.std(ddof=1) / np.sqrt(n))
    if se > 0:
        z, p = st.z_test(estimate, se, ref)
    else:
        z, p = (0.0, 1.0) if estimate == ref else (math.copysign(np.inf, estimate - ref), 0.0)
    return {"estimate": estimate, "standard_error": se, "reference": ref, "reference_source": source,
            "z": z, "p_value": p, "quantity": quantity, "n": n, "n_censored": int(flags.sum())}


def mean_exit_time(exit_times, reference_mean, *, censored=None, time_limit=None, alpha=0.01):
    """z-test of the simulator's mean exit time against the PDE's: z = (τ̄ − τ_PDE)/(s/√n).

    ``reference_mean`` is a number, or an object with ``.mean`` and/or ``.survival(t)``. With
    type-I censoring (paths still inside at ``time_limit`` T, flagged by ``censored`` or recorded
    as ≥ T), the mean of min(τ, T) is compared with ∫₀^T S(t) dt, which needs ``.survival``; with
    a bare number a censored sample raises ValueError. The normal approximation to τ̄ needs n of
    a few tens at least (exit times are near-exponential, skewness 2).
    """
    alpha = _check_alpha(alpha)
    t, flags, time_limit = _exit_data(exit_times, censored, time_limit)
    m = _mean_z(t, flags, time_limit, reference_mean, "reference_mean")
    passed = m["p_value"] > alpha
    message = (
        f"{m['quantity']} {_fmt(m['estimate'])} ± {_fmt(m['standard_error'], 2)} (n = {m['n']}"
        f"{', ' + str(m['n_censored']) + ' censored' if m['n_censored'] else ''}) vs PDE {_fmt(m['reference'], 6)}; "
        f"z = {_fmt(m['z'], 2)}, p = {_fmt(m['p_value'], 2)} at α = {alpha:g}"
    )
    details = {k: v for k, v in m.items() if k != "p_value"} | {"time_limit": time_limit}
    half = stats.norm.isf(alpha / 2) * m["standard_error"]
    plot_data = {"estimate": m["estimate"], "interval": (m["estimate"] - half, m["estimate"] + half),
                 "interval_label": f"simulator, {100 * (1 - alpha):g} % interval", "reference": m["reference"],
                 "quantity": m["quantity"]}
    return ValidationReport("mean_exit_time", bool(passed), m["p_value"], m["z"], alpha, details, message, plot_data)


def exit_times(exit_times, reference, *, censored=None, time_limit=None, alpha=0.01):
    """Test the law of exit times against the PDE's survival function S(t) = P(τ > t).

    Two tests, combined by Bonferroni (verdict at α overall, each at α/2, p = min(1, 2 min p)):

    - Kolmogorov–Smirnov of F = 1 − S. Uncensored: scipy's exact one-sample KS. Type-I censored at
      T: D = sup_{t ≤ T} |F_n(t) − F(t)| (F_n is known exactly there), whose null law is that of
      sup_{u ≤ F(T)} |B(u)|/√n for a Brownian bridge B, computed by ``statistics.bridge_sup_sf``
      with Stephens' finite-n correction.
    - the z-test of the mean (of min(τ, T) against ∫₀^T S when censored), as in ``mean_exit_time``.

    ``reference`` should have a vectorised ``.survival(t)`` (or ``.sf``, e.g. a frozen
    scipy.stats law); ``.mean`` is used when present. F must be continuous (no atom at t = 0).
    Given only a number (or an object with only ``.mean``), the law cannot be tested: the report
    is the mean z-test, and its message says so.
    """
    alpha = _check_alpha(alpha)
    survival = _survival(reference)
    t, flags, time_limit = _exit_data(exit_times, censored, time_limit)
    if survival is None:
        # only a mean to compare with (DESIGN's `exit_times(samples, tau_or_law)`): say so, test it
        report = mean_exit_time(t, reference, censored=flags, time_limit=time_limit, alpha=alpha)
        note = "exit-time law not tested (the reference has no .survival(t)); "
        return ValidationReport("exit_times", report.passed, report.p_value, report.statistic, alpha,
                                report.details | {"law_tested": False}, note + report.message, report.plot_data)
    n = t.size
    u = 1.0 - _survival_values(survival, t[~flags])
    if flags.any():
        p_limit = 1.0 - float(_survival_values(survival, np.array([time_limit]))[0])
        d = st.restricted_ks_statistic(u, n, p_limit)
        p_ks = st.restricted_ks_pvalue(d, n, p_limit)
        ks_method = f"KS restricted to [0, T], F(T) = {p_limit:.4g}: sup of a Brownian bridge on [0, F(T)], Stephens finite-n"
    else:
        p_limit = 1.0
        result = stats.ks_1samp(u, stats.uniform.cdf)
        d, p_ks = float(result.statistic), float(result.pvalue)
        ks_method = "one-sample KS (scipy.stats.ks_1samp)"
    m = _mean_z(t, flags, time_limit, reference, "reference")
    p_value = min(1.0, 2 * min(p_ks, m["p_value"]))
    passed = p_value > alpha
    message = (
        f"exit-time law: KS D = {_fmt(d, 3)} (p = {_fmt(p_ks, 2)}), {m['quantity']} {_fmt(m['estimate'])} ± "
        f"{_fmt(m['standard_error'], 2)} vs PDE {_fmt(m['reference'], 6)} (z = {_fmt(m['z'], 2)}, p = {_fmt(m['p_value'], 2)}); "
        f"n = {n}{', ' + str(int(flags.sum())) + ' censored at T = ' + _fmt(time_limit) if flags.any() else ''}; "
        f"Bonferroni p = {_fmt(p_value, 2)} at α = {alpha:g}"
    )
    details = {"ks_statistic": d, "ks_p_value": p_ks, "ks_method": ks_method, "cdf_at_time_limit": p_limit,
               "mean_estimate": m["estimate"], "mean_standard_error": m["standard_error"],
               "mean_reference": m["reference"], "mean_reference_source": m["reference_source"],
               "mean_z": m["z"], "mean_p_value": m["p_value"], "combination": "Bonferroni over KS and mean",
               "n": n, "n_censored": int(flags.sum()), "time_limit": time_limit, "law_tested": True}
    t_max = time_limit if time_limit is not None else float(np.max(t))
    grid_t = np.linspace(0.0, t_max, 400)
    ordered = np.sort(t[~flags])
    plot_data = {"t": grid_t, "empirical_survival": 1.0 - np.searchsorted(ordered, grid_t, side="right") / n,
                 "pde_survival": _survival_values(survival, grid_t), "time_limit": time_limit}
    return ValidationReport("exit_times", bool(passed), float(p_value), float(d), alpha, details, message, plot_data)


# --------------------------------------------------------------------------------------------
# splitting probabilities
# --------------------------------------------------------------------------------------------


def _count(value, name):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or value != int(value):
        raise ValueError(f"{name}: expected a whole number, got {value!r}")
    return int(value)


def splitting(hits_b, n, reference_probability, *, alpha=0.01):
    """Exact two-sided binomial test of hits_b successes in n paths against the PDE's probability.

    ``hits_b`` paths out of ``n`` reached B before A; ``reference_probability`` is the committor
    q(x₀) from the PDE. The test is exact (``scipy.stats.binomtest``); being discrete, its
    false-alarm rate is at most α.
    """
    alpha = _check_alpha(alpha)
    n = _count(n, "n")
    hits = _count(hits_b, "hits_b")
    if n < 1:
        raise ValueError(f"n: expected at least one path, got {n}")
    if not 0 <= hits <= n:
        raise ValueError(f"hits_b: expected a count between 0 and n = {n}, got {hits}")
    if not isinstance(reference_probability, numbers.Real) or not 0.0 <= float(reference_probability) <= 1.0:
        raise ValueError(f"reference_probability: expected a probability in [0, 1], got {reference_probability!r}")
    q = float(reference_probability)
    result = stats.binomtest(hits, n, q)
    ci = result.proportion_ci(confidence_level=1 - alpha, method="exact")
    estimate = hits / n
    se = math.sqrt(estimate * (1 - estimate) / n)
    p_value = float(result.pvalue)
    message = (
        f"splitting probability {_fmt(estimate)} ± {_fmt(se, 2)} ({hits} of n = {n}) vs PDE {_fmt(q, 6)}; "
        f"exact binomial p = {_fmt(p_value, 2)} at α = {alpha:g}"
    )
    details = {"hits_b": hits, "n": n, "estimate": estimate, "standard_error": se, "reference": q,
               "confidence_interval": [float(ci.low), float(ci.high)], "confidence_level": 1 - alpha}
    plot_data = {"estimate": estimate, "interval": (float(ci.low), float(ci.high)),
                 "interval_label": f"simulator, {100 * (1 - alpha):g} % Clopper–Pearson", "reference": q,
                 "quantity": "P(hit B before A)"}
    return ValidationReport("splitting", bool(p_value > alpha), p_value, float(hits), alpha, details, message, plot_data)
