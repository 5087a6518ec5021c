"""Test statistics and their null laws, as pure functions of arrays.

Nothing here knows about grids, reports or files: every function takes arrays and numbers and
returns arrays and numbers, so each can be checked on tiny inputs. ``checks.py`` validates user
input once and composes these into verdicts.

Contents
--------
- binning: ``cell_index`` (points → flat cell index, −1 outside), ``mass_partition`` (a
  k-d partition of grid cells into bins of about equal reference mass);
- the χ² goodness of fit ``pearson_chi2``;
- total variation between binned laws and its exact null mean ``total_variation_null_mean``
  (from De Moivre's mean absolute deviation of a binomial);
- Wasserstein-1 between samples and a piecewise-constant density on a 1-D grid, exact, with its
  null mean and asymptotic null standard deviation;
- the Kolmogorov–Smirnov statistic restricted to [0, p] (type-I censoring) and the tail of
  sup_{u ≤ p} |B(u)| for a Brownian bridge B, and its critical value (the half-width of the
  acceptance band drawn around the empirical CDF);
- the two-sided z-test.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import optimize, special, stats

__all__ = [
    "cell_index",
    "mass_partition",
    "pearson_chi2",
    "binomial_mean_absolute_deviation",
    "total_variation",
    "total_variation_null_mean",
    "wasserstein1_to_histogram",
    "wasserstein1_null_scale",
    "restricted_ks_statistic",
    "bridge_sup_sf",
    "restricted_ks_pvalue",
    "ks_critical_value",
    "z_test",
]


# --------------------------------------------------------------------------------------------
# Binning
# --------------------------------------------------------------------------------------------


def cell_index(points, bounds, shape, periodic=None):
    """Flat (C-order) index of the uniform cell that holds each point, −1 outside the box.

    ``points`` has shape (n, d); ``bounds`` is one (lo, hi) pair per axis; ``shape`` the number
    of cells per axis. A point on the upper face ``hi`` belongs to the last cell. Periodic axes
    (``periodic[a]`` true) wrap points into [lo, hi) first, so nothing is outside along them.
    """
    points = np.asarray(points, dtype=float)
    n, d = points.shape
    periodic = [False] * d if periodic is None else list(periodic)
    multi = []
    outside = np.zeros(n, dtype=bool)
    for a in range(d):
        lo, hi = bounds[a]
        m = shape[a]
        x = points[:, a]
        if periodic[a]:
            x = lo + np.mod(x - lo, hi - lo)
        else:
            outside |= (x < lo) | (x > hi)
        i = np.floor((x - lo) / (hi - lo) * m).astype(np.int64)
        multi.append(np.clip(i, 0, m - 1))
    flat = np.ravel_multi_index(tuple(multi), tuple(shape))
    flat[outside] = -1
    return flat


def mass_partition(cell_mass, n_bins, min_mass):
    """Partition grid cells into boxes of about equal mass by recursive cuts (a k-d tree).

    A box that should hold ``k`` bins is cut, across its axis of widest mass spread, at the cell
    face where the cumulative mass crosses ``floor(k/2)/k`` of the box's mass; each side then
    holds its share of the bins. A box is not cut when a side would carry less than ``min_mass``
    or when it is a single cell. Bins are therefore rectangular unions of grid cells, contiguous
    in space (so a mass shift between two symmetric wells is seen), fixed by the reference alone
    (so the χ² null law holds), and their tails merge into the outermost bins.

    Returns an integer label array of ``cell_mass.shape`` with labels 0 .. n_labels − 1.
    """
    cell_mass = np.asarray(cell_mass, dtype=float)
    labels = np.zeros(cell_mass.shape, dtype=np.int64)
    count = [0]

    def spread(marginal):
        # number of cells between the 5 % and 95 % quantiles of the box's marginal mass
        c = np.cumsum(marginal)
        if c[-1] <= 0:
            return 0
        return int(np.searchsorted(c, 0.95 * c[-1]) - np.searchsorted(c, 0.05 * c[-1]))

    def split(box, k):
        block = cell_mass[box]
        total = block.sum()
        best = None
        if k >= 2:
            order = sorted(
                range(block.ndim),
                key=lambda a: -spread(block.sum(axis=tuple(b for b in range(block.ndim) if b != a))),
            )
            for axis in order:
                if block.shape[axis] < 2:
                    continue
                marginal = block.sum(axis=tuple(b for b in range(block.ndim) if b != axis))
                c = np.cumsum(marginal)
                k_left = k // 2
                cut = int(np.searchsorted(c, total * k_left / k)) + 1
                cut = min(max(cut, 1), block.shape[axis] - 1)
                # step the cut back if that lands closer to the target share
                if cut > 1 and abs(c[cut - 2] - total * k_left / k) < abs(c[cut - 1] - total * k_left / k):
                    cut -= 1
                left, right = c[cut - 1], total - c[cut - 1]
                if left >= min_mass and right >= min_mass:
                    best = (axis, cut, left)
                    break
        if best is None:
            labels[box] = count[0]
            count[0] += 1
            return
        axis, cut, left = best
        start = box[axis].start
        left_box = list(box)
        right_box = list(box)
        left_box[axis] = slice(start, start + cut)
        right_box[axis] = slice(start + cut, box[axis].stop)
        k_left = min(max(int(round(k * left / total)), 1), k - 1)
        split(tuple(left_box), k_left)
        split(tuple(right_box), k - k_left)

    split(tuple(slice(0, m) for m in cell_mass.shape), int(max(n_bins, 1)))
    return labels


# --------------------------------------------------------------------------------------------
# χ² and total variation
# --------------------------------------------------------------------------------------------


def pearson_chi2(observed, expected):
    """Pearson's χ² = Σ (O − E)²/E over bins with E > 0; df = (#bins with E > 0) − 1.

    Returns ``(statistic, df, p_value)``. A bin with E = 0 and O > 0 makes the statistic infinite
    and the p-value 0 (the reference law gives that event probability zero). No parameters are
    estimated from the samples, so no further degrees of freedom are lost.
    """
    observed = np.asarray(observed, dtype=float)
    expected = np.asarray(expected, dtype=float)
    live = expected > 0
    if np.any(observed[~live] > 0):
        return np.inf, int(live.sum()) - 1, 0.0
    stat = float(np.sum((observed[live] - expected[live]) ** 2 / expected[live]))
    df = int(live.sum()) - 1
    p = float(stats.chi2.sf(stat, df)) if df > 0 else 1.0
    return stat, df, p


def binomial_mean_absolute_deviation(n, p):
    """E|X − np| for X ~ Binomial(n, p), exactly (De Moivre): 2ν C(n, ν) p^ν q^(n−ν+1), ν = ⌊np⌋+1."""
    p = np.asarray(p, dtype=float)
    q = 1.0 - p
    nu = np.floor(n * p) + 1.0
    inside = (p > 0) & (p < 1)
    ps = np.where(inside, p, 0.5)
    qs = np.where(inside, q, 0.5)
    nus = np.where(inside, np.minimum(nu, n), 1.0)
    log_mad = (
        np.log(2.0 * nus)
        + special.gammaln(n + 1.0)
        - special.gammaln(nus + 1.0)
        - special.gammaln(n - nus + 1.0)
        + nus * np.log(ps)
        + (n - nus + 1.0) * np.log(qs)
    )
    return np.where(inside, np.exp(log_mad), 0.0)


def total_variation(observed, probabilities):
    """½ Σ |O/n − π| between the empirical binned law and the reference bin probabilities."""
    observed = np.asarray(observed, dtype=float)
    n = observed.sum()
    return 0.5 * float(np.sum(np.abs(observed / n - np.asarray(probabilities, dtype=float))))


def total_variation_null_mean(n, probabilities):
    """E[TV] when the n samples do follow the reference: ½ Σ E|O_j − nπ_j| / n, exactly."""
    probabilities = np.asarray(probabilities, dtype=float)
    return 0.5 * float(np.sum(binomial_mean_absolute_deviation(n, probabilities))) / n


# --------------------------------------------------------------------------------------------
# Wasserstein-1 in one dimension
# --------------------------------------------------------------------------------------------


def _abs_integral(c, a, b, length):
    """∫ over an interval of length L of |c − f| where f runs linearly from a to b."""
    da, db = a - c, b - c
    same = da * db >= 0
    mean_abs = np.abs(0.5 * (da + db))
    denom = np.where(same, 1.0, np.abs(db - da))
    crossing = 0.5 * (da * da + db * db) / denom
    return length * np.where(same, mean_abs, crossing)


def wasserstein1_to_histogram(samples, edges, cell_prob):
    """W₁ = ∫ |F_n − F| dx between 1-D samples and the law with piecewise-constant density.

    ``edges`` are the m + 1 cell faces, ``cell_prob`` the m cell probabilities summing to 1, so
    F is piecewise linear. Exact: between consecutive breakpoints (faces and samples) F_n is
    constant and F linear, and ∫|c − linear| has a closed form. Samples outside the faces count
    with F = 0 below and F = 1 above.
    """
    x = np.sort(np.asarray(samples, dtype=float))
    n = x.size
    edges = np.asarray(edges, dtype=float)
    cdf_edges = np.concatenate([[0.0], np.cumsum(cell_prob)])
    cdf_edges /= cdf_edges[-1]
    points = np.union1d(edges, x)
    cdf = np.interp(points, edges, cdf_edges, left=0.0, right=1.0)
    emp = np.searchsorted(x, points[:-1], side="right") / n  # F_n on [points[i], points[i+1])
    return float(np.sum(_abs_integral(emp, cdf[:-1], cdf[1:], np.diff(points))))


def wasserstein1_null_scale(n, edges, cell_prob, nodes_per_cell=4, max_nodes=200):
    """Mean and standard deviation of W₁ when n samples follow the piecewise-constant law.

    Mean: E W₁ = ∫ E|F_n(x) − F(x)| dx = ∫ MAD(n, F(x))/n dx, with the exact binomial mean
    absolute deviation, by Gauss–Legendre quadrature in each cell. Standard deviation: from the
    limit √n W₁ → ∫ |B(F(x))| dx, B a Brownian bridge, whose variance is
    ∫∫ Cov(|B(F(x))|, |B(F(y))|) dx dy with E|XY| = (2/π) σ_x σ_y (√(1−ρ²) + ρ arcsin ρ) for
    centred jointly normal X, Y; on at most ``max_nodes`` midpoints.
    """
    edges = np.asarray(edges, dtype=float)
    prob = np.asarray(cell_prob, dtype=float) / np.sum(cell_prob)
    cdf_edges = np.concatenate([[0.0], np.cumsum(prob)])
    g, w = _gauss_legendre(nodes_per_cell)
    h = np.diff(edges)
    x = (edges[:-1, None] + 0.5 * h[:, None] * (g[None, :] + 1.0)).ravel()
    wx = (0.5 * h[:, None] * w[None, :]).ravel()
    F = np.interp(x, edges, cdf_edges)
    mean = float(np.sum(wx * binomial_mean_absolute_deviation(n, F))) / n

    # variance on a coarser set of midpoints where 0 < F < 1
    lo = np.searchsorted(cdf_edges, 1e-12) - 1
    hi = np.searchsorted(cdf_edges, 1 - 1e-12)
    a, b = edges[max(lo, 0)], edges[min(hi, edges.size - 1)]
    m = max_nodes
    y = a + (np.arange(m) + 0.5) * (b - a) / m
    wy = (b - a) / m
    Fy = np.interp(y, edges, cdf_edges)
    s = np.minimum.outer(Fy, Fy)
    t = np.maximum.outer(Fy, Fy)
    cov = s * (1 - t)
    sd = np.sqrt(Fy * (1 - Fy))
    denom = np.outer(sd, sd)
    rho = np.divide(cov, denom, out=np.zeros_like(cov), where=denom > 0)
    rho = np.clip(rho, -1.0, 1.0)
    e_abs_prod = (2 / np.pi) * denom * (np.sqrt(1 - rho**2) + rho * np.arcsin(rho))
    e_abs = np.sqrt(2 / np.pi) * sd
    var = float(np.sum(e_abs_prod - np.outer(e_abs, e_abs))) * wy * wy
    return mean, float(np.sqrt(max(var, 0.0) / n))


# --------------------------------------------------------------------------------------------
# Kolmogorov–Smirnov restricted to [0, p] (type-I censoring)
# --------------------------------------------------------------------------------------------


def restricted_ks_statistic(u_observed, n, p):
    """D = sup_{u ≤ p} |G_n(u) − u| from the uncensored values u_i = F(τ_i) ≤ p.

    ``n`` counts all samples, censored or not; the n − K censored ones are only known to exceed
    p, which is all G_n on [0, p] needs. The sup is attained at an order statistic or at u = p.
    """
    u = np.sort(np.asarray(u_observed, dtype=float))
    k = u.size
    d = abs(k / n - p)
    if k:
        i = np.arange(1, k + 1)
        d = max(d, float(np.max(i / n - u)), float(np.max(u - (i - 1) / n)))
    return float(d)


@lru_cache(maxsize=8)
def _gauss_legendre(nodes):
    return np.polynomial.legendre.leggauss(nodes)


def bridge_sup_sf(x, p, nodes=200):
    """P(sup_{0 ≤ u ≤ p} |B(u)| > x) for a standard Brownian bridge B on [0, 1].

    Condition on B(p) = y ~ N(0, p(1 − p)): on [0, p] the bridge is then a Brownian bridge of
    duration p from 0 to y, which stays in (−x, x) with probability (method of images)
    Σ_k [exp(−(16k²x² − 8kxy)/(2p)) − exp(−2x(2k+1)((2k+1)x − y)/p)]. Integrate over y by
    Gauss–Legendre (terms below e^{−40} dropped). At p = 1 this is Kolmogorov's law (``scipy.stats.kstwobign``).
    """
    x = float(x)
    if x <= 0:
        return 1.0
    if p >= 1 - 1e-12:
        return float(stats.kstwobign.sf(x))
    if p <= 0:
        return 0.0
    sd = np.sqrt(p * (1 - p))
    half = min(x, 12 * sd)
    g, w = _gauss_legendre(nodes)
    y, w = half * g, half * w
    # image terms decay like exp(−8k²x²/p): keep those above e^{−40}
    terms = int(min(np.ceil(np.sqrt(40 * p / (8 * x * x))) + 1, 200))
    k = np.arange(-terms, terms + 1)[:, None]
    stay = np.exp(-(16 * k**2 * x**2 - 8 * k * x * y) / (2 * p)) - np.exp(
        -2 * x * (2 * k + 1) * ((2 * k + 1) * x - y) / p
    )
    stay = np.clip(stay.sum(axis=0), 0.0, 1.0)
    inside = float(np.sum(w * stats.norm.pdf(y, scale=sd) * stay))
    return float(min(max(1.0 - inside, 0.0), 1.0))


def restricted_ks_pvalue(d, n, p):
    """Null tail P(D ≥ d) of the KS statistic restricted to [0, p], n samples.

    Asymptotic law of √n D (``bridge_sup_sf``) evaluated at Stephens' (1970) finite-n argument
    d (√n + 0.12 + 0.11/√n), which makes the full KS (p = 1) accurate to about 1e-3 for n ≥ 5;
    checked for p < 1 against a seeded simulation in the tests.
    """
    sn = np.sqrt(n)
    return bridge_sup_sf(d * (sn + 0.12 + 0.11 / sn), p)


def ks_critical_value(n, level, p=1.0):
    """The KS distance d at which the test used by ``validate.exit_times`` has p-value ``level``.

    The law F passes at that level iff sup_{u ≤ p} |F_n − F| < d, i.e. F stays inside the band
    F_n ± d on [0, p]. Uncensored (p = 1): the exact null law of scipy's ``kstwo`` (that of
    ``scipy.stats.ks_1samp``). Censored (p < 1): the root of ``restricted_ks_pvalue(d, n, p) =
    level``, which decreases in d from 1 at d = 0.
    """
    if p >= 1 - 1e-12:
        return float(stats.kstwo.isf(level, n))
    if restricted_ks_pvalue(1.0, n, p) >= level:
        return 1.0  # so few samples that no distance is significant at this level
    return float(optimize.brentq(lambda d: restricted_ks_pvalue(d, n, p) - level, 1e-12, 1.0, xtol=1e-10))


def z_test(estimate, standard_error, reference):
    """Two-sided z-test: z = (estimate − reference)/se, p = 2Φ(−|z|)."""
    z = (estimate - reference) / standard_error
    return float(z), float(2 * stats.norm.sf(abs(z)))
