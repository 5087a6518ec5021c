"""The verdict of a check: a frozen ``ValidationReport`` with a one-line repr, a dict and a plot."""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._json import to_jsonable


def fmt(x, digits=4):
    """A number for a human: 4 significant digits, a real minus sign."""
    return f"{x:.{digits}g}".replace("-", "−")


def check_alpha(alpha):
    if not isinstance(alpha, numbers.Real) or not (0.0 < float(alpha) < 1.0):
        raise ValueError(f"alpha: expected a level strictly between 0 and 1, got {alpha!r}")
    return float(alpha)


__all__ = ["ValidationReport"]


@dataclass(frozen=True)
class ValidationReport:
    """Whether a simulator's output agrees with the PDE, with the statistic behind the verdict.

    Attributes
    ----------
    check : str
        ``"densities"``, ``"mean_exit_time"``, ``"exit_times"``, ``"splitting"`` or
        ``"phase_space"`` (joint law and theta/v marginals, each report in ``parts``).
    passed : bool
        ``p_value > alpha``: the data give no evidence, at level α, against the PDE's answer.
        Under the null the check fails with probability at most α (its false-alarm rate).
    p_value : float
        Probability, if the simulator sampled the PDE's law exactly, of a statistic at least
        as extreme as the one observed.
    statistic : float
        The test statistic (χ², z, D, or the number of hits), described in ``details``.
    alpha : float
        The level of the test.
    details : dict
        Everything else a reader may want (estimates, standard errors, distances with their
        null scales, bins), JSON-friendly.
    message : str
        One human sentence, without the PASS/REJECT prefix.
    """

    check: str
    passed: bool
    p_value: float
    statistic: float
    alpha: float
    details: dict
    message: str
    plot_data: dict = field(default_factory=dict, repr=False, compare=False)
    parts: dict = field(default_factory=dict, repr=False, compare=False)

    def __repr__(self) -> str:
        return f"{'PASS' if self.passed else 'REJECT'}: {self.message}"

    @property
    def verdict(self) -> str:
        """``"pass"`` or ``"reject"``."""
        return "pass" if self.passed else "reject"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (infinities as the strings "inf"/"-inf", NaN as None)."""
        return to_jsonable(
            {
                "check": self.check,
                "verdict": self.verdict,
                "passed": bool(self.passed),
                "p_value": float(self.p_value),
                "statistic": float(self.statistic),
                "alpha": float(self.alpha),
                "message": self.message,
                "details": self.details,
            }
        )

    def plot(self, ax=None):
        """Draw the picture behind the verdict on ``ax`` (a new figure if None); return ``ax``.

        densities: histogram on the test's bins against the PDE density (1-D), or the standardized
        residual (O − E)/√E of each bin painted over its cells (2-D), or per bin (3-D).
        exit_times: empirical against PDE survival with the KS acceptance band (the empirical
        survival ± the test's critical distance at level α/2). mean_exit_time: the estimate's
        interval against the PDE value. splitting: the estimate's Clopper–Pearson interval against the PDE.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        draw = {
            "densities": _plot_densities,
            "exit_locations": _plot_densities,  # exit positions binned like densities (validate.levy)
            "exit_times": _plot_survival,
            "mean_exit_time": _plot_interval,
            "splitting": _plot_interval,
            "phase_space": _plot_phase_space,
        }[self.check]
        if self.check == "exit_times" and "t" not in self.plot_data:
            draw = _plot_interval  # only the mean was tested
        draw(self, ax)
        ax.set_title(f"{self.verdict.upper()} ({self.check}): p = {self.p_value:.2g} at α = {self.alpha:g}", fontsize=9)
        return ax


def _plot_densities(report, ax):
    data = report.plot_data
    if data["ndim"] == 1:
        edges = data["bin_edges"]
        width = np.diff(edges)
        ax.stairs(data["observed"] / (data["n"] * width), edges, label="samples (per bin)", color="C0")
        ax.stairs(data["expected"] / (data["n"] * width), edges, label="PDE (per bin)", color="C1", ls="--")
        ax.plot(data["centers"], data["density"], color="C1", lw=0.8, label="PDE density")
        ax.set_xlabel("x")
        ax.set_ylabel("density")
        ax.legend(fontsize=8)
    elif data["ndim"] == 2:
        residual = data["residual"]
        cell_residual = np.where(data["labels"] >= 0, residual[np.maximum(data["labels"], 0)], np.nan)
        (x0, x1), (y0, y1) = data["bounds"]
        bound = max(3.0, float(np.nanmax(np.abs(residual))) if residual.size else 3.0)
        image = ax.imshow(
            cell_residual.T,
            origin="lower",
            extent=(x0, x1, y0, y1),
            aspect="auto",
            cmap="RdBu_r",
            vmin=-bound,
            vmax=bound,
        )
        ax.contour(data["centers"][0], data["centers"][1], data["density"].T, colors="k", linewidths=0.5)
        ax.figure.colorbar(image, ax=ax, label="(O − E)/√E per bin")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
    else:
        residual = data["residual"]
        ax.bar(np.arange(residual.size), residual, color="C0")
        ax.axhline(0, color="k", lw=0.5)
        ax.set_xlabel("bin")
        ax.set_ylabel("(O − E)/√E")


def _plot_phase_space(report, ax):
    """The joint law's picture (residuals per bin over phase space); the marginals' reports are in
    ``report.parts`` and draw with their own ``plot()``."""
    _plot_densities(report.parts["joint"], ax)
    names = report.plot_data.get("axis_names")
    if names and report.parts["joint"].plot_data.get("ndim") == 2:
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])


def _plot_survival(report, ax):
    """Survival P(τ > t) of the samples and of the PDE, with the KS acceptance band.

    The band is the empirical survival ± d, d the critical distance of the KS test inside the
    verdict (level α/2: Bonferroni over the KS and mean tests; with censoring at T, the KS test
    restricted to [0, T], band drawn up to T). The PDE law passes the KS test iff its curve stays
    inside the band. Linear axis: the KS distance is measured on it.
    """
    from .statistics import ks_critical_value

    data = report.plot_data
    t = data["t"]
    details = report.details
    level = report.alpha / 2
    half_width = ks_critical_value(details["n"], level, details.get("cdf_at_time_limit", 1.0))
    empirical = data["empirical_survival"]
    band = "censored KS on [0, T]" if details.get("n_censored") else "KS"
    ax.fill_between(
        t,
        np.clip(empirical - half_width, 0, 1),
        np.clip(empirical + half_width, 0, 1),
        step="post",
        color="C0",
        alpha=0.2,
        lw=0,
        label=f"acceptance band ± {half_width:.3g}\n({band}, level α/2 = {level:g})",
    )
    ax.step(t, empirical, where="post", label=f"samples (n = {details['n']})", color="C0")
    ax.plot(t, data["pde_survival"], label="PDE", color="C1", ls="--")
    if data.get("time_limit") is not None:
        ax.axvline(data["time_limit"], color="k", lw=0.5, ls=":", label="censoring time T")
    ax.set_ylim(0, 1.02)
    ax.set_xlim(0, 1.03 * t[-1])  # the censoring line at t[-1] stays visible
    ax.set_xlabel("t")
    ax.set_ylabel("P(τ > t)")
    ax.legend(fontsize=8, loc="upper right")  # survival falls from the top left


def _plot_interval(report, ax):
    data = report.plot_data
    lo, hi = data["interval"]
    est = data["estimate"]
    ax.errorbar([0], [est], yerr=[[est - lo], [hi - est]], fmt="o", capsize=4, label=data["interval_label"])
    ax.axhline(data["reference"], color="C1", ls="--", label="PDE")
    ax.set_xticks([])
    ax.set_ylabel(data["quantity"])
    ax.legend(fontsize=8)
