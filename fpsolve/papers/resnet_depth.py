"""Deep residual networks at finite depth (Cohen, Cont, Rossier & Xu 2021): h_{k+1} = h_k + sigma(A_k h_k + b_k).

Layers k = 0 .. L-1 with hidden states h_k in R^d, depth L; "time" s = k/L in [0, 1]. Two weight
families:

* smooth: A_k = L^{-beta} Abar(k/L), b_k = L^{-beta} bbar(k/L) for smooth Abar, bbar. At beta = 1 the
  hidden state converges to the neural ODE H' = sigma'(0) (Abar(s) H + bbar(s)) (:func:`neural_ode_limit`),
  at rate 1/L; beta > 1 gives the identity, beta < 1 no limit.
* i.i.d.: A_k, b_k with independent N(0, var_A L^{-2 beta}), N(0, var_b L^{-2 beta}) entries. At
  beta = 1/2 the hidden state converges in law to the SDE of :mod:`.resnet_limit`; beta > 1/2 gives
  the identity, beta < 1/2 no limit.

The displacement |h_L - h_0| scales like L^{gamma}, gamma = 1 - beta (smooth) or 1/2 - beta (i.i.d.)
while the weights are small; :func:`depth_sweep` measures it over depths and :func:`scaling_exponent`
fits gamma: gamma = 0 is a non-trivial limit, gamma < 0 the trivial one, gamma > 0 none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "activation",
    "depth_sweep",
    "neural_ode_limit",
    "resnet_outputs",
    "scaling_exponent",
]


@dataclass(frozen=True)
class Activation:
    """An activation sigma with its derivatives at 0 (they set the depth limits); ``smooth`` is False
    when sigma is not twice differentiable at 0 (then no SDE limit of the i.i.d. regime exists here)."""

    name: str
    function: Callable
    slope: float  # sigma'(0)
    curvature: float  # sigma''(0)
    smooth: bool = True


ACTIVATIONS = {
    "tanh": Activation("tanh", np.tanh, 1.0, 0.0),
    "identity": Activation("identity", lambda x: x, 1.0, 0.0),
    # softplus shifted to vanish at 0: sigma'(0) = 1/2, sigma''(0) = 1/4 (an Ito drift in the SDE limit)
    "softplus": Activation("softplus", lambda x: np.logaddexp(0.0, x) - np.log(2.0), 0.5, 0.25),
    "relu": Activation("relu", lambda x: np.maximum(x, 0.0), float("nan"), float("nan"), smooth=False),
}


def activation(name_or_activation) -> Activation:
    """An :class:`Activation` by name ("tanh", "identity", "softplus", "relu"), or the one given."""
    if isinstance(name_or_activation, Activation):
        return name_or_activation
    if name_or_activation not in ACTIVATIONS:
        raise ValueError(
            f"activation: unknown {name_or_activation!r}; expected one of {sorted(ACTIVATIONS)} "
            "or an fpsolve.papers.Activation"
        )
    return ACTIVATIONS[name_or_activation]


def _start(h0, n_paths: int) -> np.ndarray:
    h0 = np.atleast_1d(np.asarray(h0, dtype=float))
    if h0.ndim == 1:
        return np.tile(h0, (n_paths, 1))
    if h0.shape[0] != n_paths:
        raise ValueError(f"h0: {h0.shape[0]} starting states for n_paths = {n_paths}")
    return h0.copy()


def resnet_outputs(
    depth: int,
    n_paths: int,
    h0,
    sigma="tanh",
    weights: str = "iid",
    *,
    weight_exponent: float | None = None,
    var_A: float = 1.0,
    var_b: float = 0.25,
    smooth_A: Callable | None = None,
    smooth_b: Callable | None = None,
    seed: int = 0,
) -> np.ndarray:
    """h_L for ``n_paths`` independent networks (i.i.d. weights) or starts (smooth weights).

    Parameters
    ----------
    depth : int
        L >= 1.
    h0 : (d,) array, or (n_paths, d)
        Input hidden state(s).
    weights : {"iid", "smooth"}
        i.i.d. Gaussian weights with entry variances var_A L^{-2 beta}, var_b L^{-2 beta}, or
        A_k = L^{-beta} smooth_A(k/L) ((d, d) array), b_k = L^{-beta} smooth_b(k/L) ((d,) array).
    weight_exponent : float, optional
        beta; default 1/2 for i.i.d. weights (the SDE regime) and 1 for smooth ones (the ODE regime).
    seed : int
        Seed of numpy's PCG64 generator (the weights of every layer and network).

    Returns
    -------
    (n_paths, d) array of h_L.
    """
    if not (isinstance(depth, (int, np.integer)) and depth >= 1):
        raise ValueError(f"depth: expected an integer L >= 1, got {depth!r}")
    act = activation(sigma)
    h = _start(h0, n_paths)
    d = h.shape[1]
    rng = np.random.default_rng(seed)
    if weights == "iid":
        beta = 0.5 if weight_exponent is None else float(weight_exponent)
        scale_A, scale_b = np.sqrt(var_A) * depth**-beta, np.sqrt(var_b) * depth**-beta
        for _ in range(depth):
            A = rng.standard_normal((n_paths, d, d)) * scale_A
            b = rng.standard_normal((n_paths, d)) * scale_b
            h = h + act.function(np.einsum("nij,nj->ni", A, h) + b)
    elif weights == "smooth":
        if smooth_A is None or smooth_b is None:
            raise ValueError("smooth_A, smooth_b: smooth weights need both functions s -> Abar(s), bbar(s) on [0, 1]")
        beta = 1.0 if weight_exponent is None else float(weight_exponent)
        for k in range(depth):
            A = np.asarray(smooth_A(k / depth), dtype=float).reshape(d, d) * depth**-beta
            b = np.asarray(smooth_b(k / depth), dtype=float).reshape(d) * depth**-beta
            h = h + act.function(h @ A.T + b)
    else:
        raise ValueError(f"weights: expected 'iid' or 'smooth', got {weights!r}")
    return h


def depth_sweep(depths, n_paths: int, h0, sigma="tanh", weights: str = "iid", seed: int = 0, **options) -> dict:
    """For each depth L: the mean square displacement E|h_L - h_0|^2, E|h_L|^2 and their standard
    errors over ``n_paths`` networks (seed + L per depth, so depths are independent samples)."""
    rows = {"depth": [], "second_moment": [], "second_moment_se": [], "displacement": [], "displacement_se": []}
    start = _start(h0, n_paths)
    for L in depths:
        h = resnet_outputs(int(L), n_paths, start, sigma, weights, seed=seed + int(L), **options)
        sq = np.sum(h**2, axis=1)
        disp = np.sum((h - start) ** 2, axis=1)
        rows["depth"].append(int(L))
        rows["second_moment"].append(float(sq.mean()))
        rows["second_moment_se"].append(float(sq.std(ddof=1) / np.sqrt(n_paths)) if n_paths > 1 else 0.0)
        rows["displacement"].append(float(disp.mean()))
        rows["displacement_se"].append(float(disp.std(ddof=1) / np.sqrt(n_paths)) if n_paths > 1 else 0.0)
    return rows


def scaling_exponent(depths, values) -> float:
    """The least-squares slope of log(values) against log(depths): values ~ L^slope."""
    depths, values = np.asarray(depths, dtype=float), np.asarray(values, dtype=float)
    if depths.size < 2 or np.any(depths <= 0) or np.any(values <= 0) or not np.all(np.isfinite(values)):
        raise ValueError(
            "values: a scaling exponent needs at least two depths and positive finite values "
            f"(got depths {depths.tolist()}, values {values.tolist()})"
        )
    return float(np.polyfit(np.log(depths), np.log(values), 1)[0])


def neural_ode_limit(h0, sigma, smooth_A: Callable, smooth_b: Callable, s_end: float = 1.0) -> np.ndarray:
    """H(s_end) of the neural ODE H' = sigma'(0) (Abar(s) H + bbar(s)), H(0) = h0 (DOP853, rtol 1e-12):
    the depth limit of smooth weights at beta = 1."""
    act = activation(sigma)
    if not act.smooth:
        raise ValueError(
            f"sigma: {act.name} is not differentiable at 0, so the neural ODE limit (which "
            "needs sigma'(0)) does not exist; use a smooth activation such as 'tanh'"
        )
    h0 = np.atleast_1d(np.asarray(h0, dtype=float))
    d = h0.size

    def rhs(s, H):
        return act.slope * (
            np.asarray(smooth_A(s), dtype=float).reshape(d, d) @ H + np.asarray(smooth_b(s), dtype=float).reshape(d)
        )

    out = solve_ivp(rhs, (0.0, s_end), h0, method="DOP853", rtol=1e-12, atol=1e-14)
    if not out.success:
        raise RuntimeError(f"neural_ode_limit: the ODE solve failed ({out.message})")
    return out.y[:, -1]
