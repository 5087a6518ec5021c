"""fpsolve.validate: false-alarm rates, power, censoring, reports, and input errors.

Every sample here is drawn exactly from a known law, so each check's null hypothesis holds (or
fails by a known amount) and its rejection rate can be compared with α. With R seeded repetitions
the number of rejections is Binomial(R, α) if the check is calibrated; ``_band`` gives the central
99.9 % interval of that count, so a calibrated check fails a band test with probability 1e-3 (and
being seeded, the outcome is fixed once it passes).
"""

import json

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from scipy import stats

import fpsolve as fp
import fpsolve.validate as validate
from fpsolve.validate import statistics as st


class Grid:
    """The duck-typed uniform cell-centred grid the checks expect."""

    def __init__(self, bounds, shape, periodic=False):
        self.bounds = tuple(tuple(b) for b in bounds)
        self.shape = tuple(shape)
        self.ndim = len(shape)
        self.periodic = periodic
        self.centers = tuple(lo + (np.arange(m) + 0.5) * (hi - lo) / m for (lo, hi), m in zip(bounds, shape))
        self.cell_volume = float(np.prod([(hi - lo) / m for (lo, hi), m in zip(bounds, shape)]))


class ExponentialLaw:
    """Exit-time law P(τ > t) = exp(−t/mean): what the PDE would hand over."""

    def __init__(self, mean, with_mean=True):
        self._mean = mean
        if with_mean:
            self.mean = mean

    def survival(self, t):
        return np.exp(-np.asarray(t, dtype=float) / self._mean)


def _gaussian_density(grid, scale=1.0):
    """N(0, scale² I) integrated over each cell with norm.cdf differences, as a density."""
    p = np.ones(())
    for (lo, hi), m in zip(grid.bounds, grid.shape):
        edges = np.linspace(lo, hi, m + 1)
        p = np.multiply.outer(p, np.diff(stats.norm.cdf(edges, scale=scale)))
    return p / (p.sum() * grid.cell_volume)  # mass beyond ±6σ (1e-9) folded in by renormalising


def _band(repetitions, rate):
    """Central 99.9 % interval of Binomial(repetitions, rate), as rejection fractions."""
    lo, hi = stats.binom.interval(0.999, repetitions, rate)
    return lo / repetitions, hi / repetitions


GRID_1D = Grid([(-6.0, 6.0)], [200])
GRID_2D = Grid([(-5.0, 5.0), (-5.0, 5.0)], [40, 40])


# --------------------------------------------------------------------------------------------
# statistics
# --------------------------------------------------------------------------------------------


def test_binomial_mean_absolute_deviation_matches_direct_sum():
    # De Moivre's closed form against the defining sum Σ pmf(k)|k − np|; agreement to round-off
    for n, p in [(10, 0.3), (1000, 0.01), (7, 0.99), (1, 0.5)]:
        k = np.arange(n + 1)
        direct = np.sum(stats.binom.pmf(k, n, p) * np.abs(k - n * p))
        assert st.binomial_mean_absolute_deviation(n, p) == pytest.approx(direct, rel=1e-10)


def test_wasserstein1_is_exact_for_a_uniform_law():
    # For U(0, 1), W₁ = ∫|F_n(x) − x| dx; scipy's distance to 10⁶ quantile midpoints of U(0, 1)
    # approximates the same integral to O(1e-6).
    rng = np.random.default_rng(3)
    x = rng.random(50)
    edges = np.linspace(0.0, 1.0, 11)
    exact = st.wasserstein1_to_histogram(x, edges, np.full(10, 0.1))
    quantiles = (np.arange(1_000_000) + 0.5) / 1_000_000
    assert exact == pytest.approx(stats.wasserstein_distance(x, quantiles), abs=2e-6)


def test_bridge_sup_law_reduces_to_kolmogorov_at_p_one():
    # sup over the whole bridge is Kolmogorov's law; just below p = 1 the series must agree with it
    # (the integrand is then a narrow Gaussian: 1e-6 absolute is quadrature accuracy)
    for x in (0.5, 1.0, 1.36, 2.0):
        assert st.bridge_sup_sf(x, 1.0) == pytest.approx(stats.kstwobign.sf(x), rel=1e-12)
        assert st.bridge_sup_sf(x, 1 - 1e-6) == pytest.approx(stats.kstwobign.sf(x), abs=1e-6)
        # a sup over less of the bridge exceeds x less often: the tail grows with p
        tails = [st.bridge_sup_sf(x, p) for p in (0.1, 0.3, 0.5, 0.7, 0.9, 1.0)]
        assert np.all(np.diff(tails) >= -1e-12)


def test_bridge_sup_law_for_small_p_is_that_of_brownian_motion():
    # for p → 0 the bridge on [0, p] is Brownian motion of variance ≈ u, and
    # P(sup_{u ≤ p}|W(u)| > x) = 1 − Σ_k (4/π)(−1)^k/(2k+1) exp(−(2k+1)²π²p/(8x²)) (Feller);
    # the two laws differ by O(p) in variance, here 1e-3 relative
    p, x = 1e-3, 0.05
    k = np.arange(200)
    exit_prob = 1 - np.sum(
        4 / np.pi * (-1.0) ** k / (2 * k + 1) * np.exp(-((2 * k + 1) ** 2) * np.pi**2 * p / (8 * x**2))
    )
    assert st.bridge_sup_sf(x, p) == pytest.approx(exit_prob, rel=0.01)


def test_restricted_ks_null_law_matches_simulation():
    # Uniform order statistics, censored at p = 0.7 (30 % censored), n = 200, R = 4000 runs:
    # the fraction with p-value ≤ 0.05 must lie in the 99.9 % binomial band around 0.05.
    rng = np.random.default_rng(11)
    n, p, repetitions = 200, 0.7, 4000
    u = rng.random((repetitions, n))
    pvalues = np.array([st.restricted_ks_pvalue(st.restricted_ks_statistic(row[row <= p], n, p), n, p) for row in u])
    lo, hi = _band(repetitions, 0.05)
    assert lo <= np.mean(pvalues <= 0.05) <= hi


def test_mass_partition_bins_are_unions_of_cells_with_enough_mass():
    # every cell gets one label; every bin carries at least the requested minimum mass
    mass = _gaussian_density(GRID_2D) * GRID_2D.cell_volume
    labels = st.mass_partition(mass, 50, 5 / 1000)
    per_bin = np.bincount(labels.ravel(), weights=mass.ravel())
    assert labels.shape == mass.shape and labels.min() == 0
    assert per_bin.min() >= 5 / 1000
    assert per_bin.sum() == pytest.approx(1.0, rel=1e-12)


# --------------------------------------------------------------------------------------------
# densities
# --------------------------------------------------------------------------------------------


def test_densities_false_alarm_rate_1d_and_null_scales():
    # 300 exact Gaussian samples sets of n = 1000 against the cell-integrated Gaussian density.
    rng = np.random.default_rng(1)
    p = _gaussian_density(GRID_1D)
    reports = [validate.densities(rng.normal(size=1000), p, grid=GRID_1D, alpha=0.05) for _ in range(300)]
    lo, hi = _band(300, 0.05)
    assert lo <= np.mean([not r.passed for r in reports]) <= hi
    # the reported null means of TV and W₁ are the averages of the statistics under the null:
    # the mean of 300 draws must be within 4 standard errors of them
    for key in ("total_variation", "wasserstein1"):
        values = np.array([r.details[key] for r in reports])
        null_mean = reports[0].details[key + "_null_mean"]
        assert abs(values.mean() - null_mean) < 4 * values.std() / np.sqrt(values.size)
    # and the asymptotic null standard deviation of W₁ matches the spread within 15 %
    # (the sample sd of 300 draws has relative error ≈ 1/√600 ≈ 4 %; the asymptotic formula adds some)
    w1 = np.array([r.details["wasserstein1"] for r in reports])
    assert w1.std() == pytest.approx(reports[0].details["wasserstein1_null_sd"], rel=0.15)


def test_densities_false_alarm_rate_2d():
    rng = np.random.default_rng(2)
    p = _gaussian_density(GRID_2D)
    rejected = [
        not validate.densities(rng.normal(size=(1000, 2)), p, grid=GRID_2D, alpha=0.05).passed for _ in range(200)
    ]
    lo, hi = _band(200, 0.05)
    assert lo <= np.mean(rejected) <= hi


def test_densities_rejects_a_ten_percent_wrong_noise_scale():
    # n = 20 000 samples with σ = 1.1 against σ = 1: χ² noncentrality ≈ 500 on ~100 df, so the
    # rejection probability at α = 0.01 is 1 to many digits; all 3 seeds must reject.
    rng = np.random.default_rng(4)
    p = _gaussian_density(GRID_1D)
    for _ in range(3):
        report = validate.densities(1.1 * rng.normal(size=20_000), p, grid=GRID_1D)
        assert not report.passed and report.verdict == "reject"
    p2 = _gaussian_density(GRID_2D)
    assert not validate.densities(1.1 * rng.normal(size=(20_000, 2)), p2, grid=GRID_2D).passed


def test_densities_sees_mass_moved_between_symmetric_wells():
    # bimodal, symmetric reference; samples put 55 % in the right mode instead of 50 %. Level-set
    # bins could not see this; spatial bins must (z ≈ 0.05·2·√20000 ≈ 14 on the two halves).
    grid = Grid([(-6.0, 6.0)], [300])
    edges = np.linspace(-6, 6, 301)
    cell = 0.5 * np.diff(stats.norm.cdf(edges, loc=-2, scale=0.5)) + 0.5 * np.diff(
        stats.norm.cdf(edges, loc=2, scale=0.5)
    )
    p = cell / (cell.sum() * grid.cell_volume)
    rng = np.random.default_rng(5)
    right = rng.random(20_000) < 0.55
    x = np.where(right, 2, -2) + 0.5 * rng.normal(size=20_000)
    assert not validate.densities(x, p, grid=grid).passed


def test_samples_outside_a_mass_conserving_grid_reject_at_once():
    # the PDE puts no mass outside the grid, so one sample there is impossible under the null
    p = _gaussian_density(GRID_1D)
    x = np.append(np.random.default_rng(6).normal(size=999), 7.0)
    report = validate.densities(x, p, grid=GRID_1D)
    assert not report.passed and report.p_value == 0.0
    assert "outside the grid" in report.message


def test_absorbed_mass_is_expected_outside_the_grid():
    # the density keeps 80 % of the mass; 20 % of the simulated paths were absorbed and are
    # recorded outside the grid. The outside bin expects them: seeded, passes (fails w.p. α).
    p = 0.8 * _gaussian_density(GRID_1D)
    rng = np.random.default_rng(7)
    x = np.where(rng.random(5000) < 0.8, rng.normal(size=5000), 100.0)
    report = validate.densities(x, p, grid=GRID_1D)
    assert report.passed
    assert report.details["outside_expected"] == pytest.approx(1000.0)
    assert report.details["wasserstein1_conditional_on_grid"]


def test_densities_periodic_grid_wraps_samples():
    # on a periodic axis a sample at hi + 0.5 is the point lo + 0.5, inside the grid
    grid = Grid([(0.0, 1.0)], [10], periodic=True)
    x = np.random.default_rng(8).random(500)
    x[:50] += 1.0
    assert validate.densities(x, np.ones(10), grid=grid, alpha=0.01).details["outside_count"] == 0


def test_user_bins_label_array():
    # two user bins: left and right halves; Gaussian samples split ≈ evenly
    p = _gaussian_density(GRID_1D)
    labels = (GRID_1D.centers[0] > 0).astype(int)
    report = validate.densities(np.random.default_rng(9).normal(size=2000), p, grid=GRID_1D, bins=labels)
    assert report.details["n_bins"] == 2 and report.details["df"] == 1


# --------------------------------------------------------------------------------------------
# exit times
# --------------------------------------------------------------------------------------------


def test_mean_exit_time_false_alarm_rate():
    # exponential exit times, n = 500: the z-test's normal approximation is good to ~0.005 in rate
    rng = np.random.default_rng(21)
    rejected = [not validate.mean_exit_time(rng.exponential(3.0, 500), 3.0, alpha=0.05).passed for _ in range(400)]
    lo, hi = _band(400, 0.05)
    assert lo <= np.mean(rejected) <= hi


def test_exit_times_false_alarm_rate_uncensored():
    # KS alone is calibrated (exact scipy law); the Bonferroni verdict over KS and mean rejects
    # with probability between α/2 and α, so its count must lie between the two bands' ends.
    rng = np.random.default_rng(22)
    law = ExponentialLaw(3.0)
    reports = [validate.exit_times(rng.exponential(3.0, 300), law, alpha=0.05) for _ in range(400)]
    lo, hi = _band(400, 0.05)
    assert lo <= np.mean([r.details["ks_p_value"] <= 0.05 for r in reports]) <= hi
    combined = np.mean([not r.passed for r in reports])
    assert _band(400, 0.025)[0] <= combined <= hi


def test_censored_exit_times_false_alarm_rate():
    # censored at T with S(T) = 0.3 (30 % censored): restricted KS and restricted mean calibrated
    rng = np.random.default_rng(23)
    mean = 3.0
    time_limit = -mean * np.log(0.3)
    law = ExponentialLaw(mean, with_mean=False)
    reports, mean_reports = [], []
    for _ in range(300):
        tau = rng.exponential(mean, 400)
        censored = tau >= time_limit
        recorded = np.where(censored, time_limit, tau)
        reports.append(validate.exit_times(recorded, law, censored=censored, time_limit=time_limit, alpha=0.05))
        mean_reports.append(
            validate.mean_exit_time(recorded, law, censored=censored, time_limit=time_limit, alpha=0.05)
        )
    lo, hi = _band(300, 0.05)
    assert 0.2 < np.mean([r.details["n_censored"] for r in reports]) / 400 < 0.4
    assert lo <= np.mean([r.details["ks_p_value"] <= 0.05 for r in reports]) <= hi
    assert lo <= np.mean([not r.passed for r in mean_reports]) <= hi
    assert _band(300, 0.025)[0] <= np.mean([not r.passed for r in reports]) <= hi
    # the restricted mean reference is ∫₀^T e^{−t/m} dt = m(1 − e^{−T/m}) = 0.7 m
    assert mean_reports[0].details["reference"] == pytest.approx(0.7 * mean, rel=1e-8)


def test_exit_times_reject_a_ten_percent_wrong_mean():
    # n = 20 000 exponential times with mean 1.1 against 1: z ≈ 0.1·√20000/1.1 ≈ 13; certain rejection
    rng = np.random.default_rng(24)
    tau = rng.exponential(1.1, 20_000)
    assert not validate.mean_exit_time(tau, 1.0).passed
    assert not validate.exit_times(tau, ExponentialLaw(1.0)).passed
    censored = tau >= 1.2
    recorded = np.where(censored, 1.2, tau)
    assert not validate.exit_times(recorded, ExponentialLaw(1.0), censored=censored, time_limit=1.2).passed


def test_censored_sample_with_only_a_mean_is_refused():
    tau = np.array([0.5, 1.0, 2.0, 2.0])
    with pytest.raises(ValueError, match="censored.*restricted mean"):
        validate.mean_exit_time(tau, 1.0, censored=[False, False, True, True], time_limit=2.0)
    with pytest.raises(ValueError, match="censored.*restricted mean"):
        validate.exit_times(tau, 1.0, censored=[False, False, True, True], time_limit=2.0)


def test_exit_times_with_only_a_mean_tests_the_mean_and_says_so():
    # DESIGN's exit_times(samples, tau_or_law): a number cannot test the law, only the mean
    tau = np.random.default_rng(25).exponential(2.0, 1000)
    report = validate.exit_times(tau, 2.0)
    assert report.details["law_tested"] is False and "law not tested" in report.message
    assert report.p_value == validate.mean_exit_time(tau, 2.0).p_value


def test_scipy_frozen_law_is_a_reference():
    # .sf and .mean() of a frozen scipy distribution serve as survival function and mean
    tau = np.random.default_rng(26).exponential(2.0, 1000)
    report = validate.exit_times(tau, stats.expon(scale=2.0))
    assert report.details["law_tested"] and report.details["mean_reference"] == pytest.approx(2.0)


def test_time_limit_alone_infers_censoring():
    # recorded times equal to the time limit are the censored ones
    tau = np.array([0.5, 1.0, 2.0, 2.0, 0.1])
    report = validate.mean_exit_time(tau, ExponentialLaw(1.0), time_limit=2.0)
    assert report.details["n_censored"] == 2


# --------------------------------------------------------------------------------------------
# splitting
# --------------------------------------------------------------------------------------------


def test_splitting_false_alarm_rate_is_at_most_alpha():
    # the exact binomial test is conservative (discrete): rate ≤ α up to the band's upper end
    rng = np.random.default_rng(31)
    hits = rng.binomial(500, 0.3, size=400)
    rejected = [not validate.splitting(int(k), 500, 0.3, alpha=0.05).passed for k in hits]
    assert np.mean(rejected) <= _band(400, 0.05)[1]


def test_splitting_power_and_repr():
    # 0.33 vs 0.30 with n = 20 000: z ≈ 0.03/√(0.21/20000) ≈ 9
    report = validate.splitting(6600, 20_000, 0.30)
    assert not report.passed
    assert repr(report).startswith("REJECT: splitting probability 0.33")


# --------------------------------------------------------------------------------------------
# reports
# --------------------------------------------------------------------------------------------


def test_report_repr_dict_and_plots(tmp_path):
    rng = np.random.default_rng(41)
    tau = rng.exponential(2.0, 1000)
    reports = [
        validate.mean_exit_time(tau, 2.0),
        validate.exit_times(tau, 2.0),
        validate.exit_times(np.minimum(tau, 3.0), ExponentialLaw(2.0), time_limit=3.0),
        validate.splitting(300, 1000, 0.3),
        validate.densities(rng.normal(size=1000), _gaussian_density(GRID_1D), grid=GRID_1D),
        validate.densities(rng.normal(size=(1000, 2)), _gaussian_density(GRID_2D), grid=GRID_2D),
        validate.densities(
            rng.normal(size=(2000, 3)),
            _gaussian_density(Grid([(-5, 5)] * 3, [12] * 3)),
            grid=Grid([(-5, 5)] * 3, [12] * 3),
        ),
    ]
    for report in reports:
        assert repr(report).startswith(("PASS: ", "REJECT: "))
        assert report.verdict == ("pass" if report.passed else "reject")
        as_json = json.loads(json.dumps(report.to_dict()))  # must survive a JSON round trip
        assert as_json["check"] == report.check and as_json["p_value"] == pytest.approx(report.p_value)
        ax = report.plot()
        assert ax.has_data()
        ax.figure.savefig(tmp_path / f"{report.check}.png")
        matplotlib.pyplot.close(ax.figure)
    assert "mean exit time" in repr(reports[0]) and "(n = 1000)" in repr(reports[0])


# --------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, match",
    [
        (
            lambda: validate.densities(np.zeros((100, 2)), np.ones(200) / 12, grid=GRID_1D),
            "samples: expected an array of shape",
        ),
        (lambda: validate.densities([0.0, np.nan] * 10, np.ones(200) / 12, grid=GRID_1D), "samples: .*NaN"),
        (lambda: validate.densities(np.zeros(0), np.ones(200) / 12, grid=GRID_1D), "samples: .*empty"),
        (lambda: validate.densities(np.zeros(100), np.ones(100), grid=GRID_1D), "reference: expected a density array"),
        (lambda: validate.densities(np.zeros(100), np.ones(200), grid=GRID_1D), "reference: .*total mass"),
        (lambda: validate.densities(np.zeros(100), np.ones(200) / 12), "grid: "),
        (lambda: validate.densities(np.zeros(100), np.ones(200) / 12, grid=GRID_1D, alpha=1.5), "alpha: "),
        (lambda: validate.mean_exit_time([1.0, -2.0], 1.0), "exit_times: .*negative"),
        (lambda: validate.mean_exit_time([1.0, np.nan], 1.0), "exit_times: .*NaN"),
        (lambda: validate.mean_exit_time([], 1.0), "exit_times: .*empty"),
        (lambda: validate.mean_exit_time([1.0, 2.0], 1.0, censored=[True]), "censored: expected one flag"),
        (lambda: validate.mean_exit_time([1.0, 2.0], 1.0, alpha=0.0), "alpha: "),
        (
            lambda: validate.exit_times([1.0, 5.0], ExponentialLaw(1.0), censored=[False, False], time_limit=2.0),
            "exceed time_limit",
        ),
        (
            lambda: validate.exit_times([1.0, 1.5], ExponentialLaw(1.0), censored=[False, True], time_limit=2.0),
            "type-I",
        ),
        (lambda: validate.splitting(11, 10, 0.5), "hits_b: "),
        (lambda: validate.splitting(1, 10, 1.5), "reference_probability: "),
        (lambda: validate.splitting(1.5, 10, 0.5), "hits_b: "),
    ],
)
def test_bad_input_raises_a_named_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --------------------------------------------------------------------------------------------
# samples file
# --------------------------------------------------------------------------------------------

METADATA = {
    "simulator": "exact numpy sampler",
    "model": "exponential exit times, mean 3",
    "seed": 7,
    "dt": None,
    "case": "test_case",
}


def test_samples_file_round_trip(tmp_path):
    rng = np.random.default_rng(51)
    tau = rng.exponential(3.0, 100)
    censored = tau >= 5.0
    recorded = np.where(censored, 5.0, tau)
    locations = np.where(censored[:, None], np.nan, rng.normal(size=(100, 2)))
    path = tmp_path / "run" / "samples.npz"
    validate.save_samples(
        path,
        samples=rng.normal(size=(3, 50, 2)),
        times=[0.0, 1.0, 2.0],
        exit_times=recorded,
        censored=censored,
        time_limit=5.0,
        exit_locations=locations,
        metadata=METADATA,
    )
    loaded = validate.load_samples(path)
    assert loaded.samples.shape == (3, 50, 2)
    np.testing.assert_array_equal(loaded.exit_times, recorded)
    np.testing.assert_array_equal(loaded.censored, censored)
    assert loaded.time_limit == 5.0 and loaded.metadata == METADATA
    assert [p.name for p in path.parent.iterdir()] == ["samples.npz"]  # no temp file left behind
    # the loaded arrays feed the checks directly
    report = validate.exit_times(
        loaded.exit_times, ExponentialLaw(3.0), censored=loaded.censored, time_limit=loaded.time_limit
    )
    assert report.details["n_censored"] == int(censored.sum())


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(samples=np.zeros((10, 2, 2))), "samples: expected shape"),
        (dict(samples=np.array([0.0, np.inf])), "samples: .*NaN or inf"),
        (dict(exit_times=np.array([1.0, -1.0])), "exit_times: .*negative"),
        (dict(exit_times=np.array([1.0, 2.0]), censored=np.array([True])), "censored: expected shape"),
        (dict(exit_times=np.array([1.0, 2.0]), censored=np.array([False, True])), "time_limit: required"),
        (dict(samples=np.zeros(4), times=[0.0, 1.0]), "samples: with 2 times"),
        (dict(), "samples/exit_times"),
    ],
)
def test_samples_file_rejects_bad_arrays(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        validate.save_samples(tmp_path / "s.npz", metadata=METADATA, **kwargs)


def test_samples_file_requires_metadata_keys(tmp_path):
    with pytest.raises(ValueError, match="metadata: missing required key.*dt"):
        validate.save_samples(
            tmp_path / "s.npz", samples=np.zeros(3), metadata={k: v for k, v in METADATA.items() if k != "dt"}
        )
    # a file written by hand with bad content is caught on load, naming the entry
    np.savez(tmp_path / "bad.npz", samples=np.array([1.0, np.nan]), metadata=np.array(json.dumps(METADATA)))
    with pytest.raises(ValueError, match="samples: "):
        validate.load_samples(tmp_path / "bad.npz")
    np.savez(tmp_path / "nometa.npz", samples=np.zeros(3))
    with pytest.raises(ValueError, match="metadata: "):
        validate.load_samples(tmp_path / "nometa.npz")


def test_pde_reference_error_widens_the_mean_test_and_is_reported():
    # exponential exit times of mean 1 (seeded): the sample mean is 1 +- 0.01 (n = 10^4). A PDE
    # reference 1.05 is off by 5 standard errors -> rejected; with its own error bound 0.05
    # (an Estimate from fpsolve.with_error) the interval [1.00, 1.10] contains the truth -> passes,
    # and the message says the PDE error is not negligible (5 standard errors).
    from fpsolve.analysis.error_estimate import Estimate

    times = np.random.default_rng(7).exponential(1.0, 10_000)
    assert not fp.validate.mean_exit_time(times, 1.05).passed
    widened = fp.validate.mean_exit_time(times, 1.05, reference_error=0.05)
    assert widened.passed and "widens the agreement interval" in widened.message
    assert widened.details["reference_error_in_standard_errors"] == pytest.approx(5.0, rel=0.05)
    estimate = Estimate(1.05, 0.05, 2.0, (1.05, 1.2, 1.6), ((400,), (200,), (100,)), 1.0, "asymptotic")
    assert fp.validate.exit_times(times, estimate).passed
    # a negligible error (below 1/10 of the standard error) changes nothing and is not mentioned
    tight = fp.validate.mean_exit_time(times, float(times.mean()) + 0.02, reference_error=1e-4)
    assert "widens" not in tight.message
    with pytest.raises(ValueError, match="reference_error"):
        fp.validate.mean_exit_time(times, 1.0, reference_error=-1.0)
