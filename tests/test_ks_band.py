"""The KS acceptance band of the exit-time referee (issue 13): the critical distance against seeded
Monte Carlo of the null law, the band against the verdict, and the band in the report's figure."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

import fpsolve.validate as validate
from fpsolve.validate.statistics import ks_critical_value


class Exponential:
    """The exponential law of mean ``mean``: S(t) = exp(-t / mean)."""

    def __init__(self, mean):
        self.mean = mean

    def survival(self, t):
        return np.exp(-np.asarray(t, dtype=float) / self.mean)


def null_restricted_ks(rng, repeats, n, p):
    """sup_{u <= p} |G_n(u) - u| for ``repeats`` sets of n uniform samples (exact, vectorised)."""
    u = np.sort(rng.random((repeats, n)), axis=1)
    i = np.arange(1, n + 1)
    inside = u <= p
    upper = np.where(inside, i / n - u, 0.0).max(axis=1)
    lower = np.where(inside, u - (i - 1) / n, 0.0).max(axis=1)
    at_p = np.abs(inside.sum(axis=1) / n - p)
    return np.maximum(np.maximum(upper, lower), at_p)


@pytest.mark.parametrize("n, p", [(200, 0.5), (60, 1.0)])
def test_critical_value_has_its_level_under_the_null(n, p):
    # seeded Monte Carlo of the null law: the rejection rate at the critical value is the level.
    # 4000 repeats: binomial sd sqrt(0.05 * 0.95 / 4000) = 0.0034; 4 sd plus the 3e-3 error of
    # Stephens' finite-n correction (restricted_ks_pvalue's docstring) -> 0.017
    level = 0.05
    d = ks_critical_value(n, level, p)
    statistics = null_restricted_ks(np.random.default_rng(13), 4000, n, p)
    assert abs(np.mean(statistics >= d) - level) < 0.017


@pytest.mark.parametrize("censor", [None, 3.0])
@pytest.mark.parametrize("mean", [2.0, 2.4])
def test_pde_law_inside_the_band_is_the_ks_verdict(censor, mean):
    # the band half-width is the KS distance with p-value alpha/2 (the level of the KS test
    # inside the Bonferroni verdict): D < d_crit exactly when the KS p-value exceeds alpha/2
    rng = np.random.default_rng(7)
    tau = rng.exponential(mean, 2000)
    if censor is None:
        report = validate.exit_times(tau, Exponential(2.0), alpha=0.01)
    else:
        report = validate.exit_times(np.minimum(tau, censor), Exponential(2.0), time_limit=censor, alpha=0.01)
    details = report.details
    d_crit = ks_critical_value(details["n"], report.alpha / 2, details["cdf_at_time_limit"])
    assert (details["ks_statistic"] < d_crit) == (details["ks_p_value"] > report.alpha / 2)
    # 20 % longer exit times are outside the band at n = 2000 (sup |F_2.4 - F_2| = 0.067 > 0.039);
    # the true law is inside it (this seeded draw: KS p = 0.56 and 0.54)
    assert (details["ks_statistic"] > d_crit) == (mean == 2.4)


def test_report_figure_draws_the_band_of_the_test_used():
    rng = np.random.default_rng(3)
    tau = rng.exponential(2.0, 1000)
    for report, kind in (
        (validate.exit_times(tau, Exponential(2.0)), "(KS,"),
        (validate.exit_times(np.minimum(tau, 3.0), Exponential(2.0), time_limit=3.0), "(censored KS on [0, T],"),
    ):
        ax = report.plot()
        labels = ax.get_legend_handles_labels()[1]
        band = [label for label in labels if label.startswith("acceptance band")]
        assert len(band) == 1 and kind in band[0] and "α/2 = 0.005" in band[0]
        d_crit = ks_critical_value(1000, 0.005, report.details["cdf_at_time_limit"])
        assert f"± {d_crit:.3g}" in band[0]
        assert ax.get_ylim() == (0.0, 1.02)  # linear: the axis on which the KS distance is measured
        plt.close(ax.figure)
