"""Monotonicity of a finite-volume generator: how far it is from an M-matrix, and the limiter.

Cross-diffusion terms can give some off-diagonal rates Q_ij < 0 (a transfer between two cells
driven by a third); then densities may turn negative and stationary laws and spectra lose their
meaning. :func:`monotonicity` reports such rates; :func:`limit_negative_rates` removes them
conservatively, by routing the opposite transfer through the faces between the two cells.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["MonotonicityReport", "monotonicity", "limit_negative_rates"]


@dataclass(frozen=True)
class MonotonicityReport:
    """How far the assembled generator is from an M-matrix (non-negative off-diagonal rates).

    ``negative_links`` counts ordered cell pairs (i, j), i != j, with a negative rate Q[i, j],
    among cells where the density can matter (for gradient drift: where exp(-(V - min V)/D) is
    above exp(-potential_cutoff); everywhere otherwise);
    ``share`` is their fraction among all nonzero off-diagonal rates; ``worst`` is the most negative
    rate divided by the largest rate. A nonzero share means positivity of densities is not
    guaranteed by the scheme (it comes from cross-diffusion terms D_km, m != k).
    """

    negative_links: int
    links: int
    worst: float

    @property
    def share(self) -> float:
        return self.negative_links / self.links if self.links else 0.0

    @property
    def is_m_matrix(self) -> bool:
        return self.negative_links == 0

    def __repr__(self) -> str:
        if self.is_m_matrix:
            return "MonotonicityReport(M-matrix: all off-diagonal rates non-negative)"
        return (
            f"MonotonicityReport({self.negative_links} of {self.links} links "
            f"({100 * self.share:.2f} %) have negative rates; worst {self.worst:.3g} of the largest rate)"
        )


def monotonicity(generator: sp.csr_matrix, relevant: np.ndarray) -> MonotonicityReport:
    """Count negative rates among links whose two cells both carry non-negligible density."""
    coo = generator.tocoo()
    off = (coo.row != coo.col) & relevant[coo.row] & relevant[coo.col]
    values = coo.data[off]
    values = values[values != 0]
    largest = float(np.abs(values).max(initial=1.0))
    negative = values < -1e-10 * largest  # below that: round-off of the assembly
    worst = float(values[negative].min() / largest) if negative.any() else 0.0
    return MonotonicityReport(int(negative.sum()), int(values.size), worst)


def limit_negative_rates(grid, flux_rows, generator, face_index) -> tuple:
    """Face fluxes with every negative rate Q[i, j] = -r cancelled by a transfer i -> j at rate r;
    returns ``(flux_rows, changed)``. ``face_index(grid, k, cells, side)`` locates the faces of
    cells in the per-axis face arrays (the assembler's numbering).

    The transfer is a flux r h_k p_i through the face of i towards j along axis k (and, for a
    diagonal neighbour, the same flux on through the face of the intermediate cell along m), so
    the change is conservative and the current stays the scheme's own.
    """
    coo = generator.tocoo()
    negative = (coo.row != coo.col) & (coo.data < 0)
    if not negative.any():
        return flux_rows, False
    src, dst, rate = coo.row[negative], coo.col[negative], -coo.data[negative]
    mi = np.array(np.unravel_index(src, grid.shape))
    mj = np.array(np.unravel_index(dst, grid.shape))
    step = mj - mi
    for k, n in enumerate(grid.shape):
        if grid.periodic[k]:
            step[k] = np.where(step[k] > 1, step[k] - n, np.where(step[k] < -1, step[k] + n, step[k]))
    additions = [([], [], []) for _ in range(grid.ndim)]
    position = mi.copy()
    for k in range(grid.ndim):  # walk axis by axis from i to j, one face at a time
        moving = step[k] != 0
        if not moving.any():
            continue
        cells = np.ravel_multi_index(tuple(position[:, moving]), grid.shape)
        sign = step[k][moving]
        faces = face_index(grid, k, cells, side=1)
        low = face_index(grid, k, cells, side=0)
        faces = np.where(sign > 0, faces, low)
        if grid.periodic[k]:  # the low face of the first cell is stored as the wrap face n_k
            first = position[k, moving] == 0
            wrap = face_index(
                grid,
                k,
                np.ravel_multi_index(
                    tuple(np.where(np.arange(grid.ndim)[:, None] == k, grid.shape[k] - 1, position[:, moving])),
                    grid.shape,
                ),
                side=1,
            )
            faces = np.where((sign < 0) & first, wrap, faces)
        rows, cols, vals = additions[k]
        rows.append(faces)
        cols.append(src[moving])
        vals.append(sign * rate[moving] * grid.spacing[k])
        position[k, moving] = (position[k, moving] + sign) % grid.shape[k]
    out = []
    for k, flux in enumerate(flux_rows):
        rows, cols, vals = additions[k]
        if rows:
            extra = sp.csr_matrix(
                (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=flux.shape
            )
            flux = sp.csr_matrix(flux + extra)
        out.append(flux)
    return out, True
