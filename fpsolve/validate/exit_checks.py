"""Exit-time checks: the simulator's exit times against the PDE's mean exit time or exit-time law.

    mean_exit_time(exit_times, reference_mean, *, censored, time_limit, reference_error)
    exit_times(exit_times, reference, *, censored, time_limit, reference_error)

The PDE's own discretization error (``reference_error``, or ``reference.error`` of an
:class:`fpsolve.Estimate`) widens the agreement interval of the mean: the null hypothesis is that
the simulator's mean lies within ``reference ± reference_error``, so z = max(0, |mean − reference|
− reference_error) / standard error. The report says how large that error is against the Monte
Carlo standard error (negligible below 1/10 of it).
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from scipy import integrate, stats

from . import statistics as st
from .report import ValidationReport, check_alpha as _check_alpha, fmt as _fmt

__all__ = ["mean_exit_time", "exit_times", "NEGLIGIBLE_REFERENCE_ERROR"]

#: A PDE error below this fraction of the Monte Carlo standard error is reported as negligible.
NEGLIGIBLE_REFERENCE_ERROR = 0.1


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
        raise ValueError(
            f"exit_times: exit times must be non-negative; {int((t < 0).sum())} are negative (min {t.min():.4g})"
        )
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
        raise ValueError(
            f"exit_times: {int((~np.isfinite(free)).sum())} uncensored exit times are infinite; flag them censored"
        )
    if time_limit is not None and (free > time_limit).any():
        raise ValueError(
            f"exit_times: {int((free > time_limit).sum())} uncensored exit times exceed time_limit = {time_limit:g}"
        )
    t = np.where(flags, time_limit if time_limit is not None else 0.0, t)
    return t, flags, time_limit


def _unpack(exit_times, censored, time_limit):
    """Accept a simulator's :class:`fpsolve.montecarlo.ExitTimes` (its times, censoring flags and
    t_max) as well as a bare array."""
    if hasattr(exit_times, "times") and hasattr(exit_times, "censored") and hasattr(exit_times, "t_max"):
        flags = np.asarray(exit_times.censored, dtype=bool)
        if censored is None:
            censored = flags
        if time_limit is None and flags.any():
            time_limit = float(exit_times.t_max)
        exit_times = exit_times.times
    return exit_times, censored, time_limit


def _at_start(reference, start, name):
    """A PDE Field of mean exit times (``.values`` on ``.grid``; phase space too) read at the paths'
    start point; any other reference unchanged."""
    if not (hasattr(reference, "values") and hasattr(reference, "grid") and callable(reference)):
        if start is not None:
            raise ValueError(
                f"start: only used with a Field reference (mean exit times on a grid); "
                f"{name} is a {type(reference).__name__}"
            )
        return reference
    ndim = int(reference.grid.ndim)
    if start is None:
        raise ValueError(
            f"start: {name} is a Field of mean exit times on a {ndim}-D grid; pass start=, "
            "the point the paths started from (in phase space (theta, v))"
        )
    point = np.asarray(start, dtype=float).reshape(-1)
    if point.shape != (ndim,):
        raise ValueError(f"start: expected a point with {ndim} coordinates for this Field, got {point.shape}")
    value = float(np.asarray(reference(*point)).reshape(-1)[0])
    if not np.isfinite(value):
        raise ValueError(f"start: the Field is not finite at {point.tolist()} (outside its grid?)")
    return value


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
        raise ValueError(
            f"reference: .survival(t) must be vectorised; for t of shape {np.shape(t)} it returned shape {s.shape}"
        )
    if not np.isfinite(s).all() or s.min() < -1e-9 or s.max() > 1 + 1e-9:
        raise ValueError("reference: .survival(t) must return probabilities in [0, 1]")
    return np.clip(s, 0.0, 1.0)


def _integral_of_survival(survival, upper):
    """∫₀^upper S(t) dt by adaptive quadrature (upper may be inf)."""
    value, _ = integrate.quad(
        lambda s: float(_survival_values(survival, np.array([s]))[0]), 0.0, upper, limit=500, epsrel=1e-10, epsabs=0.0
    )
    return float(value)


def _reference_mean(reference, name):
    """(value, where it came from) for an uncensored mean comparison."""
    if isinstance(reference, numbers.Real) or (isinstance(reference, np.ndarray) and reference.ndim == 0):
        value, source = float(reference), "number"
    elif isinstance(getattr(reference, "value", None), numbers.Real) and getattr(reference, "error", None) is not None:
        value, source = float(reference.value), "Estimate .value"  # fpsolve.with_error(...)
    elif getattr(reference, "mean", None) is not None:
        value = reference.mean() if callable(reference.mean) else reference.mean  # scipy: .mean()
        value, source = float(value), ".mean"
    elif _survival(reference) is not None:
        value, source = _integral_of_survival(reference.survival, np.inf), "∫₀^∞ S(t) dt"
    else:
        raise ValueError(
            f"{name}: expected a number, or an object with .mean or .survival(t); got {type(reference).__name__}"
        )
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name}: the PDE mean exit time must be a non-negative finite number, got {value!r}")
    return value, source


def _reference_error(reference, reference_error):
    """The PDE's error bound: ``reference_error``, else ``reference.error`` (an Estimate), else 0."""
    if reference_error is None:
        reference_error = getattr(reference, "error", None)
        if reference_error is None or np.ndim(reference_error) != 0:
            return 0.0
    if (
        isinstance(reference_error, (bool, np.bool_))
        or not isinstance(reference_error, numbers.Real)
        or not (0.0 <= float(reference_error) < np.inf)
    ):
        raise ValueError(
            f"reference_error: expected a non-negative finite number (the PDE's "
            f"discretization error, e.g. fpsolve.with_error(...).error), got {reference_error!r}"
        )
    return float(reference_error)


def _mean_z(t, flags, time_limit, reference, name, reference_error=None):
    """z-test of the (restricted) mean against the interval reference ± reference_error; returns a
    dict of numbers and labels."""
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
    error = _reference_error(reference, reference_error)
    estimate = float(t.mean())
    se = float(t.std(ddof=1) / np.sqrt(n))
    # the nearest point of [ref - error, ref + error]: the PDE is trusted only to within its error
    nearest = min(max(estimate, ref - error), ref + error)
    if se > 0:
        z, p = st.z_test(estimate, se, nearest)
    else:
        z, p = (0.0, 1.0) if estimate == nearest else (math.copysign(np.inf, estimate - nearest), 0.0)
    ratio = error / se if se > 0 else (0.0 if error == 0 else np.inf)
    note = ""
    if ratio >= NEGLIGIBLE_REFERENCE_ERROR:
        note = (
            f"; the PDE's discretization error ±{_fmt(error, 2)} ({_fmt(ratio, 2)} standard errors) "
            "widens the agreement interval"
        )
    return {
        "estimate": estimate,
        "standard_error": se,
        "reference": ref,
        "reference_source": source,
        "reference_error": error,
        "reference_error_in_standard_errors": ratio,
        "z": z,
        "p_value": p,
        "quantity": quantity,
        "n": n,
        "n_censored": int(flags.sum()),
        "note": note,
    }


def mean_exit_time(
    exit_times, reference_mean, *, censored=None, time_limit=None, alpha=0.01, reference_error=None, start=None
):
    """z-test of the simulator's mean exit time against the PDE's: z = (τ̄ − τ_PDE)/(s/√n).

    ``reference_mean`` is a number, or an object with ``.mean`` and/or ``.survival(t)``. With
    type-I censoring (paths still inside at ``time_limit`` T, flagged by ``censored`` or recorded
    as ≥ T), the mean of min(τ, T) is compared with ∫₀^T S(t) dt, which needs ``.survival``; with
    a bare number a censored sample raises ValueError. The normal approximation to τ̄ needs n of
    a few tens at least (exit times are near-exponential, skewness 2).

    ``reference_error`` (default ``reference_mean.error`` when it is an :class:`fpsolve.Estimate`,
    else 0) is the PDE's own discretization error: the test is against the nearest point of
    reference ± reference_error (module docstring), and the message reports the error when it is
    not negligible (at least 1/10 of the standard error).

    ``exit_times`` may be a simulator's :class:`fpsolve.montecarlo.ExitTimes` (its censoring flags
    and t_max are used). ``reference_mean`` may be a Field of mean exit times (``fp.mean_exit_time``
    on any grid, phase space included) with ``start=`` the paths' start point, where it is read.
    """
    alpha = _check_alpha(alpha)
    exit_times, censored, time_limit = _unpack(exit_times, censored, time_limit)
    reference_mean = _at_start(reference_mean, start, "reference_mean")
    t, flags, time_limit = _exit_data(exit_times, censored, time_limit)
    m = _mean_z(t, flags, time_limit, reference_mean, "reference_mean", reference_error)
    passed = m["p_value"] > alpha
    message = (
        f"{m['quantity']} {_fmt(m['estimate'])} ± {_fmt(m['standard_error'], 2)} (n = {m['n']}"
        f"{', ' + str(m['n_censored']) + ' censored' if m['n_censored'] else ''}) vs PDE {_fmt(m['reference'], 6)}; "
        f"z = {_fmt(m['z'], 2)}, p = {_fmt(m['p_value'], 2)} at α = {alpha:g}{m['note']}"
    )
    details = {k: v for k, v in m.items() if k not in ("p_value", "note")} | {"time_limit": time_limit}
    half = stats.norm.isf(alpha / 2) * m["standard_error"]
    plot_data = {
        "estimate": m["estimate"],
        "interval": (m["estimate"] - half, m["estimate"] + half),
        "interval_label": f"simulator, {100 * (1 - alpha):g} % interval",
        "reference": m["reference"],
        "reference_error": m["reference_error"],
        "quantity": m["quantity"],
    }
    return ValidationReport("mean_exit_time", bool(passed), m["p_value"], m["z"], alpha, details, message, plot_data)


def exit_times(exit_times, reference, *, censored=None, time_limit=None, alpha=0.01, reference_error=None, start=None):
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
    is the mean z-test, and its message says so. ``reference_error`` bounds the PDE mean's
    discretization error and widens the mean test as in :func:`mean_exit_time`; the KS test
    compares laws at the resolution of 1/sqrt(n) and is left as it is. ``exit_times`` and
    ``start`` as in :func:`mean_exit_time` (a Field reference is a mean only: its law is not tested).
    """
    alpha = _check_alpha(alpha)
    exit_times, censored, time_limit = _unpack(exit_times, censored, time_limit)
    reference = _at_start(reference, start, "reference")
    survival = _survival(reference)
    t, flags, time_limit = _exit_data(exit_times, censored, time_limit)
    if survival is None:
        # only a mean to compare with (DESIGN's `exit_times(samples, tau_or_law)`): say so, test it
        report = mean_exit_time(
            t, reference, censored=flags, time_limit=time_limit, alpha=alpha, reference_error=reference_error
        )
        note = "exit-time law not tested (the reference has no .survival(t)); "
        return ValidationReport(
            "exit_times",
            report.passed,
            report.p_value,
            report.statistic,
            alpha,
            report.details | {"law_tested": False},
            note + report.message,
            report.plot_data,
        )
    n = t.size
    u = 1.0 - _survival_values(survival, t[~flags])
    if flags.any():
        p_limit = 1.0 - float(_survival_values(survival, np.array([time_limit]))[0])
        d = st.restricted_ks_statistic(u, n, p_limit)
        p_ks = st.restricted_ks_pvalue(d, n, p_limit)
        ks_method = (
            f"KS restricted to [0, T], F(T) = {p_limit:.4g}: sup of a Brownian bridge on [0, F(T)], Stephens finite-n"
        )
    else:
        p_limit = 1.0
        result = stats.ks_1samp(u, stats.uniform.cdf)
        d, p_ks = float(result.statistic), float(result.pvalue)
        ks_method = "one-sample KS (scipy.stats.ks_1samp)"
    m = _mean_z(t, flags, time_limit, reference, "reference", reference_error)
    p_value = min(1.0, 2 * min(p_ks, m["p_value"]))
    passed = p_value > alpha
    message = (
        f"exit-time law: KS D = {_fmt(d, 3)} (p = {_fmt(p_ks, 2)}), {m['quantity']} {_fmt(m['estimate'])} ± "
        f"{_fmt(m['standard_error'], 2)} vs PDE {_fmt(m['reference'], 6)} (z = {_fmt(m['z'], 2)}, p = {_fmt(m['p_value'], 2)}); "
        f"n = {n}{', ' + str(int(flags.sum())) + ' censored at T = ' + _fmt(time_limit) if flags.any() else ''}; "
        f"Bonferroni p = {_fmt(p_value, 2)} at α = {alpha:g}{m['note']}"
    )
    details = {
        "ks_statistic": d,
        "ks_p_value": p_ks,
        "ks_method": ks_method,
        "cdf_at_time_limit": p_limit,
        "mean_estimate": m["estimate"],
        "mean_standard_error": m["standard_error"],
        "mean_reference": m["reference"],
        "mean_reference_source": m["reference_source"],
        "mean_z": m["z"],
        "mean_p_value": m["p_value"],
        "mean_reference_error": m["reference_error"],
        "mean_reference_error_in_standard_errors": m["reference_error_in_standard_errors"],
        "combination": "Bonferroni over KS and mean",
        "n": n,
        "n_censored": int(flags.sum()),
        "time_limit": time_limit,
        "law_tested": True,
    }
    t_max = time_limit if time_limit is not None else float(np.max(t))
    grid_t = np.linspace(0.0, t_max, 400)
    ordered = np.sort(t[~flags])
    plot_data = {
        "t": grid_t,
        "empirical_survival": 1.0 - np.searchsorted(ordered, grid_t, side="right") / n,
        "pde_survival": _survival_values(survival, grid_t),
        "time_limit": time_limit,
    }
    return ValidationReport("exit_times", bool(passed), float(p_value), float(d), alpha, details, message, plot_data)
