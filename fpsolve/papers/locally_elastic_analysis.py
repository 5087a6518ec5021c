"""The linear analysis of the locally elastic SDEs: modes, separability, label corruption, collapse.

With s = w . x the separating coordinate (:func:`fpsolve.papers.separating_direction`, each class's
margin along its own direction u_k, averaged over classes), w^T M(t) = ((alpha - beta)/K) w^T: s
obeys the scalar Ornstein-Uhlenbeck equation

    ds = ((alpha(t) - beta(t)) / K) s dt + (sigma / sqrt(K)) dB,

so its mean grows by exp((A - B)/K) with A = int alpha, B = int beta: the separating mode grows
exactly when the intra-class impact beats the inter-class impact. The margins' differences
(y_j - y_k with y_k = u_k . X_k / |u_k|) grow by exp((A + B/(K - 1))/K). Derivations: docs/papers.md.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import quad
from scipy.special import ndtr

import fpsolve as fp

from .locally_elastic import (
    MAX_LOG_GROWTH,
    LocallyElasticSDE,
    gaussian_law,
    separating_direction,
)

__all__ = [
    "collapse_ratio",
    "corrupted_impacts",
    "mode_growth",
    "separability_probability",
    "separating_mode_law",
    "separation_problem",
    "simplex_alignment",
]


def mode_growth(model: LocallyElasticSDE, t: float) -> dict:
    """Growth factors of the mean at time t: ``separating`` exp((A - B)/K) (the mode X_k = c u_k) and
    ``differences`` exp((A + B/(K - 1))/K) (the margins' differences), with A, B the integrated
    impacts; ``rates`` the corresponding (alpha - beta)/K and (alpha + beta/(K-1))/K at t."""
    K = model.n_classes
    A, B = model.integrated_impacts(t)
    alpha, beta = model.impacts(t)
    return {
        "separating": float(np.exp((A - B) / K)),
        "differences": float(np.exp((A + B / (K - 1)) / K)),
        "rates": ((alpha - beta) / K, (alpha + beta / (K - 1)) / K),
    }


def separating_mode_law(model: LocallyElasticSDE, t: float, s0: float, var0: float = 0.0) -> tuple:
    """(mean, variance) of the separating coordinate s(t) from s(0) ~ N(s0, var0) (closed form).

    mean = s0 e^{L(t)}, variance = var0 e^{2 L(t)} + (sigma^2/K) int_0^t e^{2 (L(t) - L(u))} du with
    L = (A - B)/K; for constant impacts the integral is (e^{2 lambda t} - 1)/(2 lambda), lambda = L/t.
    """
    K = model.n_classes
    A, B = model.integrated_impacts(t)
    L = (A - B) / K
    if L > MAX_LOG_GROWTH:
        raise ValueError(
            f"t: the separating mode's law overflows double precision at t = {t:g} (growth "
            f"exp({L:.4g})); use a shorter time, or separability_probability, which stays finite"
        )
    if model.constant:
        rate = (float(model.intra) - float(model.inter)) / K
        spread = t if rate == 0 else np.expm1(2 * rate * t) / (2 * rate)
    else:

        def weight(u):
            Au, Bu = model.integrated_impacts(u)
            return np.exp(2 * (L - (Au - Bu) / K))

        spread = quad(weight, 0.0, t, epsabs=0.0, epsrel=1e-10, limit=200)[0]
    return s0 * np.exp(L), var0 * np.exp(2 * L) + model.noise**2 / K * spread


def separability_probability(model: LocallyElasticSDE, t: float, s0: float, var0: float = 0.0) -> float:
    """P(s(t) > 0): the probability that the class-mean features are on the separating side of the
    simplex classifier (the average margin along the classes' own directions is positive) at t.

    P = Phi(s0 / sqrt(var0 + (sigma^2/K) int_0^t e^{-2 L(u)} du)), L = (A - B)/K: the mean and the
    spread are both scaled back to time 0, so the ratio stays finite however large the growth.
    From s0 > 0 it tends to Phi(s0 sqrt(2 (alpha - beta)) / sigma) as t grows when alpha > beta, and
    to 1/2 (the sign is forgotten: a coin flip) when alpha <= beta.
    """
    if not s0 > 0:
        raise ValueError(f"s0: expected an initial margin s0 > 0 (the question is whether it survives), got {s0!r}")
    K = model.n_classes
    if model.constant:
        rate = (float(model.intra) - float(model.inter)) / K
        with np.errstate(over="ignore"):
            spread = t if rate == 0 else -np.expm1(-2 * rate * t) / (2 * rate)
    else:

        def weight(u):
            Au, Bu = model.integrated_impacts(u)
            return np.exp(-2 * (Au - Bu) / K)

        spread = quad(weight, 0.0, t, epsabs=0.0, epsrel=1e-10, limit=200)[0]
    return float(ndtr(s0 / np.sqrt(var0 + model.noise**2 / K * spread)))


def corrupted_impacts(intra: float, inter: float, corruption: float, n_classes: int) -> tuple:
    """Effective (alpha', beta') when a fraction p of the labels is replaced by a uniformly chosen
    other class.

    The samples labelled k are a fraction 1 - p of true class k and p/(K-1) of each other class, so
    the impact of the label-k group on class-k features is alpha' = (1 - p) alpha + p beta and on
    class-j features beta' = (p/(K-1)) alpha + (1 - p/(K-1)) beta. Hence
    alpha' - beta' = (alpha - beta)(1 - K p/(K - 1)): the separating mode stops growing at the
    threshold p = (K - 1)/K, where a label carries no information about the class.
    """
    if not 0.0 <= corruption <= 1.0:
        raise ValueError(f"corruption: expected a fraction p in [0, 1], got {corruption!r}")
    if n_classes < 2:
        raise ValueError(f"n_classes: expected K >= 2, got {n_classes!r}")
    p, K = float(corruption), int(n_classes)
    return (1 - p) * intra + p * inter, p / (K - 1) * intra + (1 - p / (K - 1)) * inter


def collapse_ratio(model: LocallyElasticSDE, times, mean0, within_noise: float, within0: float = 0.0) -> np.ndarray:
    """Neural-collapse measure: within-class over between-class variance, E[W(t)] / E[B(t)].

    Every sample of class k feels the same drift (a function of the class means), so a sample's
    deviation from its class mean is driftless: W(t) = K (within0^2 + within_noise^2 t) is the trace
    of the within-class covariance (within_noise: a single sample's noise amplitude).
    B(t) = (1/K) sum_k |X_k - mean_j X_j|^2 is the between-class variance of the class means, whose
    expectation is |centred mean|^2 / K + tr(centred covariance) / K from the exact law.
    """
    K = model.n_classes
    centring = np.kron(np.eye(K) - 1.0 / K, np.eye(K))  # x -> (X_k - mean_j X_j)_k
    ratios = []
    for t in np.atleast_1d(np.asarray(times, dtype=float)):
        m, C = gaussian_law(model, t, mean0)
        between = (np.sum((centring @ m) ** 2) + np.trace(centring @ C @ centring.T)) / K
        if not between > 0:
            raise ValueError(
                f"mean0: the class means coincide and carry no noise at t = {t:g}; the "
                "between-class variance is 0 and the ratio undefined; start at t > 0"
            )
        ratios.append(K * (within0**2 + within_noise**2 * t) / between)
    return np.array(ratios)


def simplex_alignment(model: LocallyElasticSDE, times, mean0) -> np.ndarray:
    """The share of the between-class spread that lies along the simplex mode X_k = c u_k:
    E[(v . x)^2] / E[|x_c|^2], v the unit vector of that mode, x_c the class means minus their average.

    It tends to 1 when the class means collapse onto a simplex (the geometry of neural collapse) and
    to 0 when the margins' differences outgrow it: the separating mode grows at (alpha - beta)/K, the
    differences at (alpha + beta/(K-1))/K, so for beta > 0 the share decays at long times even when
    alpha > beta, like exp(-2 beta t/(K - 1)) (derived in docs/papers.md).
    """
    K = model.n_classes
    v = separating_direction(K)
    v = v / np.linalg.norm(v)
    centring = np.kron(np.eye(K) - 1.0 / K, np.eye(K))
    shares = []
    for t in np.atleast_1d(np.asarray(times, dtype=float)):
        m, C = gaussian_law(model, t, mean0)
        along = (v @ m) ** 2 + v @ C @ v
        total = np.sum((centring @ m) ** 2) + np.trace(centring @ C @ centring.T)
        shares.append(along / total)
    return np.array(shares)


def separation_problem(model: LocallyElasticSDE, bounds: tuple, cells: int) -> fp.FokkerPlanck:
    """The Fokker-Planck problem of the separating coordinate s on a reflecting interval:
    ds = lambda s dt + (sigma/sqrt(K)) dW, lambda = (alpha - beta)/K (constant impacts only), an
    fp.Diffusion with potential -lambda s^2/2 so the fitted fluxes are exact at equilibrium."""
    if not model.constant:
        raise ValueError(
            "model: the separation problem needs constant impacts (an autonomous drift); "
            "use separating_mode_law or gaussian_law for time-dependent alpha(t), beta(t)"
        )
    K = model.n_classes
    rate = (float(model.intra) - float(model.inter)) / K
    D = model.noise**2 / (2 * K)
    sde = fp.Diffusion(lambda s: rate * s, [[D]], ndim=1, potential=lambda s: -0.5 * rate * s**2)
    return fp.FokkerPlanck(sde, fp.Grid([tuple(bounds)], [int(cells)]))
