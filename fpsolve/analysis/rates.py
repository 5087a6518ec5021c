"""Transition rates between basins, from the generator, and the asymptotic formulas they test.

The slowest relaxation rates of Q (its eigenvalues nearest 0) measure how fast mass equilibrates
between basins. :func:`transition_rates` turns the generator into a Markov state model on the
basins (a core-set model): around each minimum a core (the basin's cells within a fraction of its
barrier above the minimum); from minimum i, with all other cores absorbing, the mean first passage
time tau_i (Q tau = -1) and the splitting probabilities h_ij into each core j (Q h = 0, h = 1 on
core j) give the rates K_ij = h_ij / tau_i. The nonzero eigenvalues of K approximate the slowest
relaxation rates of Q when the basins are metastable; both are reported.

Asymptotics to compare with (docs/exit_times.md):

* Eyring-Kramers (D = T I): k = |lambda_-| / (2 pi) sqrt(det H_min / |det H_s|) exp(-dU / T).
* Xie et al. 2021 (arXiv 2002.03495), Hessian noise D = lr H / (2 B):
  tau = 2 pi prod_{i != e} sqrt(H_si / H_ai) / |H_se| exp[(2 B dU / lr)(s / H_ae + (1 - s) / |H_se|)],
  with e the escape direction and s in (0, 1) a path-dependent constant.
* 1-D Laplace asymptotics for any D(x): tau = 2 pi sqrt(D_s / D_a) / sqrt(H_a |H_s|) exp(Phi_s - Phi_a),
  Phi = int U' / D (exact exponent; Xie's bracket approximates it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import integrate as quad

from ..grid import Grid
from .backward import backward_solve, learning_rate, resolve
from .basins import Basins, basins as find_basins

__all__ = [
    "transition_rates",
    "TransitionRates",
    "eyring_kramers_rate",
    "xie_escape_time",
    "laplace_exit_time_1d",
    "hessian_noise_exponent_1d",
]


@dataclass(frozen=True, eq=False)
class TransitionRates:
    """Rates between basins and the slowest relaxation rates.

    Attributes
    ----------
    relaxation : np.ndarray
        The smallest nonzero relaxation rates of Q (ascending), ``n_basins - 1`` of them or as asked.
    matrix : np.ndarray
        K, shape (n, n): K[i, j] the rate from basin i to basin j (i != j), rows summing to 0.
    exit_times : np.ndarray
        tau_i: mean first passage time from minimum i into any other core.
    splitting : np.ndarray
        h[i, j]: probability that from minimum i core j is the first other core reached.
    basins : Basins
    lr : float or None
        Learning rate of SGD models (rates per iteration = rates * lr).
    """

    relaxation: np.ndarray
    matrix: np.ndarray
    exit_times: np.ndarray
    splitting: np.ndarray
    basins: Basins
    lr: float | None = None
    cores: np.ndarray = field(default=None, repr=False)

    @property
    def msm_rates(self) -> np.ndarray:
        """The nonzero relaxation rates of the basin model K (compare with ``relaxation``)."""
        lam = np.sort(-np.linalg.eigvals(self.matrix).real)
        return lam[1:]

    def __repr__(self) -> str:
        return (
            f"TransitionRates({self.basins.n} basins, relaxation {np.round(self.relaxation, 8).tolist()}, "
            f"basin model {np.round(self.msm_rates, 8).tolist()})"
        )


def transition_rates(
    problem,
    grid: Grid | None = None,
    *,
    boundary="reflecting",
    basins=None,
    core: float = 0.25,
    k: int | None = None,
    discretization: str | None = None,
) -> TransitionRates:
    """The slowest relaxation rates of a problem and the basin-to-basin rates.

    Parameters
    ----------
    problem : FokkerPlanck, Generator or model
        As for :func:`fpsolve.mean_exit_time`; the model needs a ``landscape`` (else pass ``basins``).
    grid : Grid
        With a model only.
    boundary, discretization : with a model only (reflecting by default; the chain must be closed
        for relaxation rates)
    basins : Basins, optional
        Default: the steepest-descent basins of ``model.landscape``.
    core : float
        A core is the part of a basin within ``core`` times its barrier (lowest U on its border
        minus U at its minimum) above the minimum.
    k : int, optional
        Number of relaxation rates (default n_basins - 1, at least 1).
    """
    if not 0 < core < 1:
        raise ValueError(f"core: expected a fraction in (0, 1), got {core!r}")
    target = resolve(problem, grid, boundary=boundary, discretization=discretization)
    gen, grid, landscape = target.generator, target.grid, getattr(target.model, "landscape", None)
    gen.require_markov("transition rates")
    if landscape is None:
        raise ValueError(
            "problem: transition rates need the model's landscape to define cores "
            "around the minima; pass a FokkerPlanck problem or a model with a landscape"
        )
    if basins is None:
        basins = find_basins(grid, landscape)
    n = basins.n
    if n < 2:
        raise ValueError("basins: the landscape has a single basin on this grid; there are no transitions")
    cores = _cores(grid, basins, np.broadcast_to(landscape(*grid.mesh()), grid.shape), core)
    K = np.zeros((n, n))
    h = np.zeros((n, n))
    taus = np.zeros(n)
    for i in range(n):
        g = gen.with_absorbing(np.isin(cores, [j for j in range(n) if j != i]))
        s = g.live_position(grid.cell_index(*basins.minima[i]))
        taus[i] = backward_solve(g, -np.ones(g.n_live), "mean first passage time")[s]
        for j in range(n):
            if j == i:
                continue
            h[i, j] = backward_solve(g, -g.rates_into(cores == j), "splitting probability")[s]
            K[i, j] = h[i, j] / taus[i]
        K[i, i] = -K[i].sum()
    relaxation = gen.relaxation_rates(k or max(n - 1, 1))
    return TransitionRates(relaxation, K, taus, h, basins, learning_rate(target.model), cores)


def _cores(grid: Grid, basins: Basins, u: np.ndarray, fraction: float) -> np.ndarray:
    """Grid-shaped core label (basin index, -1 outside every core)."""
    labels = basins.labels
    border = np.zeros(grid.shape, dtype=bool)
    for axis in range(grid.ndim):
        differ = np.diff(labels, axis=axis) != 0
        lo = [slice(None)] * grid.ndim
        hi = [slice(None)] * grid.ndim
        lo[axis], hi[axis] = slice(0, -1), slice(1, None)
        border[tuple(lo)] |= differ
        border[tuple(hi)] |= differ
    out = np.full(grid.shape, -1)
    for i, m in enumerate(basins.minima):
        mask = labels == i
        bottom = u[grid.cell_index(*m)]
        edge = u[mask & border]
        barrier = (edge.min() if edge.size else u[mask].max()) - bottom
        core = mask & (u <= bottom + fraction * barrier)
        core[grid.cell_index(*m)] = True
        out[core] = i
    return out


# --- asymptotic formulas -----------------------------------------------------------------------
def _hessian(landscape, point) -> np.ndarray:
    d = landscape.ndim
    return np.asarray(landscape.hessian(*point), dtype=float).reshape(d, d)


def eyring_kramers_rate(landscape, minimum, saddle, temperature: float) -> float:
    """Eyring-Kramers rate k = |lambda_-| / (2 pi) sqrt(det H_min / |det H_s|) exp(-dU / T).

    The rate of leaving the basin of ``minimum`` through ``saddle`` for dX = -grad U dt +
    sqrt(2 T) dW, to leading order as T -> 0 (1/k is the mean time to reach the next minimum).
    """
    h_min, h_s = _hessian(landscape, minimum), _hessian(landscape, saddle)
    lam = np.linalg.eigvalsh(h_s)
    if not (lam[0] < 0 and np.all(lam[1:] > 0)):
        raise ValueError(f"saddle: the Hessian at {tuple(saddle)} has eigenvalues {lam}; expected one negative")
    du = float(landscape(*saddle)) - float(landscape(*minimum))
    prefactor = abs(lam[0]) / (2 * np.pi) * np.sqrt(np.linalg.det(h_min) / abs(np.linalg.det(h_s)))
    return float(prefactor * np.exp(-du / temperature))


def xie_escape_time(
    landscape, minimum, saddle, *, lr: float, batch_size: float, noise_scale: float = 1.0, s: float = 0.5
) -> float:
    """Xie et al. 2021 (arXiv 2002.03495, Thm 3.2) mean escape time under Hessian noise.

    For D = lr * noise_scale * H / (2 B) (DESIGN.md convention):
    tau = 2 pi prod_{i != e} sqrt(H_si / H_ai) / |H_se| exp[(2 B dU / (lr noise_scale)) (s / H_ae + (1 - s) / |H_se|)].
    The escape direction e is the unstable eigenvector at the saddle; H_ae is the curvature of
    the minimum along it. Returns continuous time (iterations = tau / lr).
    """
    h_a, h_s = _hessian(landscape, minimum), _hessian(landscape, saddle)
    lam_s, vec_s = np.linalg.eigh(h_s)
    e = vec_s[:, 0]
    h_se = abs(lam_s[0])
    h_ae = float(e @ h_a @ e)
    du = float(landscape(*saddle)) - float(landscape(*minimum))
    rest_s, rest_a = lam_s[1:], np.linalg.eigvalsh(h_a)
    rest_a = np.delete(rest_a, np.argmin(np.abs(rest_a - h_ae))) if rest_a.size > 1 else rest_a[:0]
    product = float(np.prod(np.sqrt(rest_s / rest_a))) if rest_s.size else 1.0
    exponent = 2.0 * batch_size * du / (lr * noise_scale) * (s / h_ae + (1.0 - s) / h_se)
    return float(2 * np.pi * product / h_se * np.exp(exponent))


def hessian_noise_exponent_1d(
    landscape,
    minimum: float,
    saddle: float,
    *,
    lr: float,
    batch_size: float,
    noise_scale: float = 1.0,
    floor: float = 1e-2,
) -> float:
    """Phi_s - Phi_a = int_a^s U'(x) / D(x) dx with D = lr noise_scale max(|U''|, floor) / (2 B).

    The exact exponent of the 1-D exit time under Hessian noise (Xie's bracket approximates
    int U'/|U''| by dU (s / H_a + (1 - s) / |H_s|)).
    """
    a, b = float(np.ravel(minimum)[0]), float(np.ravel(saddle)[0])
    c = lr * noise_scale / (2.0 * batch_size)

    def integrand(x):
        g = float(np.ravel(landscape.grad(x))[0])
        hh = float(np.ravel(landscape.hessian(x))[0])
        return g / (c * max(abs(hh), floor))

    value, _ = quad.quad(integrand, min(a, b), max(a, b), limit=400)
    return value if b > a else -value


def laplace_exit_time_1d(landscape, minimum: float, saddle: float, diffusion) -> float:
    """Generalized 1-D Kramers: tau = 2 pi sqrt(D_s / D_a) / sqrt(H_a |H_s|) exp(Phi_s - Phi_a).

    ``diffusion`` is D(x) (a callable of a float). Leading-order Laplace asymptotics of the exact
    double integral for dX = -U' dt + sqrt(2 D(X)) dW; 1/k, the mean time to the other well.
    """
    a, b = float(np.ravel(minimum)[0]), float(np.ravel(saddle)[0])
    grad = lambda x: float(np.ravel(landscape.grad(x))[0])  # noqa: E731
    phi, _ = quad.quad(lambda x: grad(x) / diffusion(x), min(a, b), max(a, b), limit=400)
    phi = phi if b > a else -phi
    h_a = float(np.ravel(landscape.hessian(a))[0])
    h_s = abs(float(np.ravel(landscape.hessian(b))[0]))
    return float(2 * np.pi * np.sqrt(diffusion(b) / diffusion(a)) / np.sqrt(h_a * h_s) * np.exp(phi))
