"""The finite-volume discretization as a registered scheme: checks, assembly, reports, current.

:func:`fpsolve.discretize.fv.assemble` is the numerics (a pure function of the model's
coefficients on the grid); this module is what the seam sees: the scheme ``"fv"`` that accepts
diffusions with noise on every axis and no jumps, warns when the grid is too coarse for the noise
or cross-diffusion breaks the M-matrix property, and computes its own face fluxes.
"""

from __future__ import annotations

import numpy as np

from .._warnings import warn as _warn
from . import fv
from .base import Assembled, Discretization

__all__ = ["FiniteVolumes", "PECLET_WARNING"]

#: Cell Peclet number above which the grid is reported as too coarse for the noise: the fitted
#: fluxes stay positive and stable for any Peclet number, but the density varies by a factor
#: e^Pe across one cell, so the discretization error is no longer small.
PECLET_WARNING = 4.0


class FiniteVolumes(Discretization):
    """Finite volumes with exponentially fitted (Scharfetter-Gummel) fluxes (:mod:`fpsolve.discretize.fv`).

    A Markov generator (an M-matrix after limiting), exact discrete equilibrium e^{-V/D} for
    gradient drift, second order. Needs a diffusion tensor that is positive definite everywhere
    (noise on every axis) and no jumps.
    """

    name = "fv"
    markov = True
    priority = 0

    @classmethod
    def suits(cls, model) -> bool:
        return getattr(model, "jumps", None) is None and tuple(model.noise_axes) == tuple(range(model.ndim))

    def __init__(self, model, grid, boundary):
        super().__init__(model, grid, boundary)
        if getattr(model, "jumps", None) is not None:
            raise ValueError(
                "model: finite volumes discretize Gaussian noise only; this model has alpha-stable "
                "jumps (a fractional operator)")
        axes = tuple(model.noise_axes)
        if axes != tuple(range(model.ndim)):
            names = [grid.axis_names[k] for k in axes]
            raise ValueError(
                f"diffusion: finite volumes need noise along every axis, and this model's noise acts "
                f"on {names} only (a degenerate diffusion, as in kinetic equations)")

    def assemble(self, t: float = 0.0) -> Assembled:
        op = fv.assemble(self.model, self.grid, self.boundary, t)
        return Assembled(op.generator, op.face_flux,
                         {"peclet": op.peclet, "monotonicity": op.monotonicity})

    def report(self, assembled: Assembled) -> None:
        peclet = assembled.diagnostics["peclet"]
        worst = max(peclet)
        if worst > PECLET_WARNING:
            axis = int(np.argmax(peclet))
            _warn(
                f"grid: too coarse for the noise: cell Peclet number {worst:.3g} on axis "
                f"{self.grid.axis_names[axis]} (above {PECLET_WARNING:g}); refine the grid "
                f"about {worst / PECLET_WARNING:.1f}x along that axis for an accurate density")
        report = assembled.diagnostics["monotonicity"]
        if not report.is_m_matrix:
            _warn(
                f"diffusion: cross-diffusion breaks the M-matrix property of the scheme: "
                f"{report}; those rates were limited (rerouted through faces), which keeps "
                "densities non-negative but is first order on the limited links")

    def current(self, assembled: Assembled, p) -> tuple:
        """Face fluxes J_k = F_k p per axis, shaped like the grid with ``n_k + 1`` faces along
        axis k (the wrap face of a periodic axis appears at both ends)."""
        grid = self.grid
        out = []
        for k, flux in enumerate(assembled.face_flux):
            shape = list(grid.shape)
            shape[k] += 1
            j = (flux @ p.ravel()).reshape(shape)
            if grid.periodic[k]:
                last = np.take(j, [shape[k] - 1], axis=k)
                index = [slice(None)] * grid.ndim
                index[k] = slice(0, 1)
                j[tuple(index)] = last
            out.append(j)
        return tuple(out)
