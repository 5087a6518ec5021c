"""The finite-volume discretization as a registered scheme: checks, assembly, reports, current.

:func:`fpsolve.discretize.fv.assemble` is the numerics (a pure function of the model's
coefficients on the grid); this module is what the seam sees: the scheme ``"fv"`` that accepts
diffusions with noise on every axis and no jumps, warns when the grid is too coarse for the noise
(cell Peclet number) or for the diffusion coefficient (D changing on a scale below the cell, as
Hessian noise does at an active eigenvalue floor), or cross-diffusion breaks the M-matrix
property, and computes its own face fluxes.
"""

from __future__ import annotations

import numpy as np

from .._warnings import warn as _warn
from . import fv
from .base import Assembled, Discretization

__all__ = ["FiniteVolumes", "PECLET_WARNING", "DIFFUSION_RESOLUTION_WARNING", "diffusion_resolution"]

#: Cell Peclet number above which the grid is reported as too coarse for the noise: the fitted
#: fluxes stay positive and stable for any Peclet number, but the density varies by a factor
#: e^Pe across one cell, so the discretization error is no longer small.
PECLET_WARNING = 4.0

#: h / l above which the grid is reported as too coarse for the diffusion coefficient, l being
#: the shortest length on which D_kk changes by a factor e (for Hessian noise at an active floor
#: eps: l = eps / |grad lambda|, lambda the Hessian eigenvalue crossing zero). Mean exit times of
#: the 1-D double well with Hessian noise against quadrature, worst over three shifted grids for
#: floors 1e-2, 1e-1 and D = (0.2 .. 2) max(|U''|, floor) (``python tests/test_resolution.py``,
#: docs/numerics.md "Resolution reports"): up to 6.6e-2 at h/l = 1, 4.4e-3 at 0.25, 6.3e-4 at
#: 0.15, 3.5e-4 at 0.12.
DIFFUSION_RESOLUTION_WARNING = 0.15

#: Sub-intervals per cell on which D is sampled where the cell-scale samples show it varying
#: (a floor narrower than a cell can fall between the centre and face samples).
_SUBSAMPLES = 32
#: Sampled change of log D across a cell from which a face is looked at on the fine samples.
_LOOK_CLOSER = 0.02
#: At most this many faces per axis are sampled finely (the most varying ones).
_MOST_FACES = 1536


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
                "jumps (a fractional operator)"
            )
        axes = tuple(model.noise_axes)
        if axes != tuple(range(model.ndim)):
            names = [grid.axis_names[k] for k in axes]
            raise ValueError(
                f"diffusion: finite volumes need noise along every axis, and this model's noise acts "
                f"on {names} only (a degenerate diffusion, as in kinetic equations)"
            )

    def assemble(self, t: float = 0.0) -> Assembled:
        op = fv.assemble(self.model, self.grid, self.boundary, t)
        resolution = tuple(
            diffusion_resolution(self.model, self.grid, t, k, op.diffusion_variation[k]) for k in range(self.grid.ndim)
        )
        return Assembled(
            op.generator,
            op.face_flux,
            {
                "peclet": op.peclet,
                "monotonicity": op.monotonicity,
                "diffusion_resolution": resolution,
                "drift_error": op.drift_error,
            },
        )

    def report(self, assembled: Assembled) -> None:
        peclet = assembled.diagnostics["peclet"]
        worst = max(peclet)
        if worst > PECLET_WARNING:
            axis = int(np.argmax(peclet))
            _warn(
                f"grid: too coarse for the noise: cell Peclet number {worst:.3g} on axis "
                f"{self.grid.axis_names[axis]} (above {PECLET_WARNING:g}) for {self._problem()}; refine the grid "
                f"about {worst / PECLET_WARNING:.1f}x along that axis for an accurate density",
                once=True,
            )
        resolution = assembled.diagnostics["diffusion_resolution"]
        worst = max(resolution)
        if worst > DIFFUSION_RESOLUTION_WARNING:
            axis = int(np.argmax(resolution))
            factor = worst / DIFFUSION_RESOLUTION_WARNING
            # 10 % beyond the ratio: on an unresolved floor the sampled h/l is a few % low
            cells = int(np.ceil(1.1 * self.grid.shape[axis] * factor))
            hessian = getattr(self.model, "noise", None) == "hessian"
            cause = (
                (
                    " (with Hessian noise, where the eigenvalue floor is active, l = floor / "
                    "|gradient of the eigenvalue|)"
                )
                if hessian
                else ""
            )
            alternative = (", or a larger hessian_floor (l grows in proportion to it)") if hessian else ""
            _warn(
                f"grid: too coarse for the diffusion coefficient of {self._problem()}: D changes by a factor e over "
                f"l = {1 / worst:.3g} cells on axis {self.grid.axis_names[axis]}{cause}; h/l = "
                f"{worst:.3g} is above {DIFFUSION_RESOLUTION_WARNING:g}: use about {cells} cells along "
                f"that axis ({1.1 * factor:.1f}x) for results accurate to ~1e-3{alternative}",
                once=True,
            )
        report = assembled.diagnostics["monotonicity"]
        if not report.is_m_matrix:
            _warn(
                f"diffusion: cross-diffusion breaks the M-matrix property of the scheme for "
                f"{self._problem()}: {report.negative_links} of {report.links} links "
                f"({100 * report.share:.2f} %) had negative rates (worst {report.worst:.3g} of the largest "
                "rate); they were limited (rerouted through faces), which keeps densities "
                "non-negative but is first order on the limited links. The second-order scheme "
                "(fitted links along the lattice directions, all rates positive) needs D diagonally "
                "dominant on the cells, D_kk / h_k^2 >= sum_m |D_km| / (h_k h_m) wherever the density "
                "matters; in 2-D that is h_y / h_x between |D_xy| / D_xx and D_yy / |D_xy|, which a "
                "positive definite D always allows",
                once=True,
            )

    def _problem(self) -> str:
        """The model and the grid a report is about, as a phrase; with numbers fixed by them only,
        a report's text is the same on every assembly of the same problem and is said once
        (:func:`fpsolve._warnings.warn` with ``once=True``)."""
        cells = "x".join(str(n) for n in self.grid.shape)
        return f"{self.model!r} on {cells} cells"

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


def diffusion_resolution(model, grid, t: float, k: int, variation: np.ndarray) -> float:
    """h_k / l: the largest change of log D_kk across one cell along axis k, l the length on which
    D_kk changes by a factor e.

    ``variation`` holds the change sampled at the two centres and the face of every interior face
    (:attr:`fpsolve.discretize.fv.FiniteVolumeOperator.diffusion_variation`). Faces where it
    exceeds a small threshold, and their neighbours along k (a floor narrower than a cell can sit
    between the samples of one face, never of its neighbours too), are sampled again on
    ``_SUBSAMPLES`` sub-intervals: there the largest sub-interval change times ``_SUBSAMPLES`` is
    h / l (low by at most (h/l) / ``_SUBSAMPLES`` relative: the secant over one sub-interval).
    Only the ``_MOST_FACES / 3`` most varying faces and their neighbours are resampled. The result
    is a lower bound when l is below h / ``_SUBSAMPLES``.
    """
    variation = np.asarray(variation, dtype=float)
    if variation.size == 0 or getattr(model, "constant_diffusion", False):
        return float(variation.max(initial=0.0))
    near = variation > _LOOK_CLOSER
    most = _MOST_FACES // 3  # the most varying faces; with their neighbours, at most _MOST_FACES
    if near.sum() > most:
        near = variation >= np.partition(variation.ravel(), -most)[-most]
    index = [slice(None)] * near.ndim
    shifted = [slice(None)] * near.ndim
    index[k], shifted[k] = slice(1, None), slice(None, -1)
    grown = near.copy()
    grown[tuple(index)] |= near[tuple(shifted)]
    grown[tuple(shifted)] |= near[tuple(index)]
    if grid.periodic[k]:  # the first and last faces are neighbours across the wrap
        first, last = [slice(None)] * near.ndim, [slice(None)] * near.ndim
        first[k], last[k] = slice(0, 1), slice(-1, None)
        grown[tuple(first)] |= near[tuple(last)]
        grown[tuple(last)] |= near[tuple(first)]
    faces = np.flatnonzero(grown.ravel())
    if faces.size == 0:
        return float(variation.max(initial=0.0))
    left = np.unravel_index(faces, variation.shape)  # the left cell of each face (same index)
    steps = np.arange(_SUBSAMPLES + 1) / _SUBSAMPLES
    coords = []
    for m, centres in enumerate(grid.centers):
        c = centres[left[m]][:, None]
        along = c + steps[None, :] * grid.spacing[k]
        coords.append(along if m == k else np.broadcast_to(c, along.shape))
    dkk = model.diffusion(*coords, t=t)[k, k]
    fine = _SUBSAMPLES * np.abs(np.diff(np.log(dkk), axis=-1)).max()
    return float(max(variation.max(initial=0.0), fine))
