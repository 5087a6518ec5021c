"""The SDE depth limit of ResNets with i.i.d. weights, and its law by a Fokker-Planck solve.

With A_k, b_k i.i.d. with entries N(0, var_A/L), N(0, var_b/L) and s = k/L, the layer increment is
sigma(z) = sigma'(0) z + sigma''(0) z^2 / 2 + O(L^{-3/2}), z = A_k h + b_k, whose conditional moments
are E z_i = 0 and E z_i z_j = (var_A |h|^2 + var_b) delta_ij / L. As L grows, h_{sL} converges in law to

    dH = sigma'(0) (dW^A H + dW^b) + (1/2) sigma''(0) d<W^A H + W^b>,

i.e. the Ito diffusion with drift b_i(H) = (1/2) sigma''(0) v(H) and diffusion matrix
D(H) = (1/2) sigma'(0)^2 v(H) I, v(H) = var_A |H|^2 + var_b (state dependent). When
sigma''(0) = 0 (tanh), Ito's formula closes the second moment:
d E|H|^2 / ds = sigma'(0)^2 d (var_A E|H|^2 + var_b), so
E|H(s)|^2 = (|h_0|^2 + var_b/var_A) exp(sigma'(0)^2 d var_A s) - var_b/var_A (:func:`second_moment_ode`);
for d = 1, tanh, var_A = 1, var_b = 0.25, h_0 = 1: E H(1)^2 = 1.25 e - 0.25 = 3.1479.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import fpsolve as fp

from .resnet_depth import Activation, activation

__all__ = ["ResNetSDELimit", "second_moment_ode"]


@dataclass(frozen=True, eq=False)
class ResNetSDELimit:
    """The depth-limit SDE of a ResNet with i.i.d. weights (module docstring), in dimension ``dim``."""

    sigma: object = "tanh"
    var_A: float = 1.0
    var_b: float = 0.25
    dim: int = 1

    def __post_init__(self):
        act = activation(self.sigma)
        if not act.smooth:
            raise ValueError(
                f"sigma: {act.name} is not twice differentiable at 0; the SDE limit needs "
                "sigma'(0) and sigma''(0): use a smooth activation such as 'tanh'"
            )
        if not (self.var_A >= 0 and self.var_b >= 0 and self.var_A + self.var_b > 0):
            raise ValueError(
                f"var_A, var_b: expected non-negative weight variances, not both 0; got {self.var_A!r}, {self.var_b!r}"
            )
        if self.dim not in (1, 2, 3):
            raise ValueError(
                f"dim: the Fokker-Planck solve supports hidden states of dimension 1 to 3, got {self.dim!r}"
            )

    @property
    def activation(self) -> Activation:
        return activation(self.sigma)

    def variance_rate(self, *h):
        """v(h) = var_A |h|^2 + var_b."""
        return self.var_A * sum(np.asarray(x, dtype=float) ** 2 for x in h) + self.var_b

    def model(self) -> fp.Diffusion:
        """The limit as an fp.Diffusion: drift (1/2) sigma''(0) v(h) per coordinate, D = (1/2) sigma'(0)^2 v(h) I."""
        act, d = self.activation, self.dim

        def drift(*h):
            v = self.variance_rate(*h)
            return np.stack([0.5 * act.curvature * v] * d)

        def diffusion(*h):
            v = 0.5 * act.slope**2 * self.variance_rate(*h)
            D = np.zeros((d, d) + np.shape(v))
            for i in range(d):
                D[i, i] = v
            return D

        return fp.Diffusion(drift, diffusion, ndim=d)

    def law(self, h0, s: float, bounds, cells, start_std: float = 0.02) -> fp.Solution:
        """The law of H(s) by a Fokker-Planck solve on the reflecting box ``bounds`` with ``cells``
        cells, from N(h0, start_std^2 I) (cell-integrated). The box must hold the law's tails: the
        reflecting walls return the mass that would leave (for d = 1, tanh, var_A = 1, a box of
        +-200 changes E H(1)^2 by less than 1e-4)."""
        grid = fp.Grid([tuple(b) for b in np.reshape(bounds, (-1, 2))], np.atleast_1d(cells).tolist())
        if grid.ndim != self.dim:
            raise ValueError(f"bounds: {grid.ndim} axes for a hidden state of dimension {self.dim}")
        problem = fp.FokkerPlanck(self.model(), grid)
        return problem.evolve(fp.gaussian(grid, mean=h0, std=start_std), [0.0, float(s)])

    def second_moment(self, h0, s: float, bounds, cells, start_std: float = 0.02) -> float:
        """E|H(s)|^2 from the Fokker-Planck law (the grid's midpoint quadrature)."""
        sol = self.law(h0, s, bounds, cells, start_std)
        grid = sol.grid
        return float(grid.integrate(sol.p[-1] * sum(x**2 for x in grid.mesh())))


def second_moment_ode(
    h0, s: float, sigma="tanh", var_A: float = 1.0, var_b: float = 0.25, start_variance: float = 0.0
) -> float:
    """E|H(s)|^2 of the SDE limit from its closed moment ODE (sigma''(0) = 0 only), starting from
    E|H(0)|^2 = |h0|^2 + start_variance (the trace of the starting covariance)."""
    act = activation(sigma)
    if not act.smooth or act.curvature != 0.0:
        raise ValueError(
            f"sigma: the second moment closes only when sigma''(0) = 0 ({act.name} has "
            f"sigma''(0) = {act.curvature:g}); use the Fokker-Planck law (ResNetSDELimit.law) instead"
        )
    h0 = np.atleast_1d(np.asarray(h0, dtype=float))
    m0 = float(h0 @ h0) + start_variance
    rate = act.slope**2 * h0.size
    if var_A == 0:
        return m0 + rate * var_b * s
    ratio = var_b / var_A
    return (m0 + ratio) * np.exp(rate * var_A * s) - ratio
