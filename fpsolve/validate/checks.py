"""Public checks: does a simulator's output agree with the PDE's answer, at level α?

Each check validates its input once, computes a statistic from ``statistics.py`` and returns a
``ValidationReport``. Under the null hypothesis (the simulator samples the PDE's law exactly) a
check rejects with probability at most α; ``docs/validate_format.md`` explains each statistic.

    densities(samples, reference, *, grid, bins=None, alpha=0.01)        χ² on coarse bins, TV, W₁
    mean_exit_time(exit_times, reference_mean, *, censored, time_limit)  z-test of the (restricted) mean
    exit_times(exit_times, reference, *, censored, time_limit)           KS (restricted if censored) + mean
    splitting(hits_b, n, reference_probability)                          exact binomial test

The exit-time checks live in ``exit_checks.py`` and are re-exported here.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from scipy import stats

from . import statistics as st
from .report import ValidationReport, check_alpha as _check_alpha, fmt as _fmt
from .exit_checks import exit_times, mean_exit_time

__all__ = ["densities", "mean_exit_time", "exit_times", "splitting"]

_MASS_TOL = 1e-6  # |total mass − 1| below this counts as "no mass lost" (round-off of a solver)
_MIN_EXPECTED = 5.0  # no automatic bin is expected to hold fewer samples (Cochran's rule)


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
            details.update(
                wasserstein1=w1,
                wasserstein1_null_mean=w1_mean,
                wasserstein1_null_sd=w1_sd,
                wasserstein1_conditional_on_grid=bool(lost_mass > 0),
            )
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
    return ValidationReport(
        "densities", bool(p_value > alpha), float(p_value), float(chi2), alpha, details, message, plot_data
    )


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
    details = {
        "hits_b": hits,
        "n": n,
        "estimate": estimate,
        "standard_error": se,
        "reference": q,
        "confidence_interval": [float(ci.low), float(ci.high)],
        "confidence_level": 1 - alpha,
    }
    plot_data = {
        "estimate": estimate,
        "interval": (float(ci.low), float(ci.high)),
        "interval_label": f"simulator, {100 * (1 - alpha):g} % Clopper–Pearson",
        "reference": q,
        "quantity": "P(hit B before A)",
    }
    return ValidationReport(
        "splitting", bool(p_value > alpha), p_value, float(hits), alpha, details, message, plot_data
    )
