"""The diffusion tensor of a finite-volume scheme at the cell centres: evaluated, cleaned, checked.

Used by :mod:`fpsolve.discretize.fv`: a constant diffusion (``model.constant_diffusion``) is
evaluated and checked once and broadcast; round-off cross terms of a diagonal tensor are removed
(they would make the chain irreversible); a tensor that is not symmetric positive definite at some
cell is refused with the cell named. A diagonal tensor is checked by its diagonal only.
"""

from __future__ import annotations

import numpy as np

__all__ = ["cell_diffusion", "without_roundoff_cross_terms", "has_cross_terms", "require_positive_diffusion"]


def without_roundoff_cross_terms(tensor: np.ndarray, rtol: float = 1e-8) -> np.ndarray:
    """Zero the off-diagonal entries D_km with |D_km| <= rtol sqrt(D_kk D_mm).

    A diagonal tensor computed through an eigendecomposition or a finite-difference Hessian
    (Hessian noise |H|; FD Hessians are accurate to ~1e-10) carries spurious off-diagonal entries
    of that size; kept, they would make the chain irreversible (no detailed balance, no deflated
    spectra) and produce tiny negative rates. Correlations below 1e-8 are physically negligible.
    """
    d = tensor.shape[0]
    if d == 1:
        return tensor
    tensor = np.array(tensor, dtype=float)
    diagonal = np.sqrt(np.abs(np.einsum("ii...->i...", tensor)))
    for k in range(d):
        for m in range(d):
            if k != m:
                small = np.abs(tensor[k, m]) <= rtol * diagonal[k] * diagonal[m]
                tensor[k, m] = np.where(small, 0.0, tensor[k, m])
    return tensor


def cell_diffusion(model, grid, t):
    """D at the cell centres, shape (d, d) + grid.shape (a read-only broadcast view when the model
    declares a constant diffusion), with round-off cross terms removed."""
    if getattr(model, "constant_diffusion", False):
        one = [np.asarray(c[:1]).reshape((1,) * grid.ndim) for c in grid.centers]
        value = without_roundoff_cross_terms(np.asarray(model.diffusion(*one, t=t), dtype=float))
        return np.broadcast_to(value.reshape(value.shape[:2] + (1,) * grid.ndim), value.shape[:2] + grid.shape)
    return without_roundoff_cross_terms(model.diffusion(*grid.mesh(), t=t))


def has_cross_terms(tensor) -> bool:
    d = tensor.shape[0]
    return any(np.any(tensor[k, m] != 0) for k in range(d) for m in range(d) if k != m)


def require_positive_diffusion(d_cell: np.ndarray, grid) -> None:
    """ValueError naming the first cell where D is not positive definite."""
    d = grid.ndim
    if all(stride == 0 for stride in d_cell.strides[2:]):  # constant: one tensor to check
        d_cell = np.ascontiguousarray(d_cell[(slice(None), slice(None)) + (slice(0, 1),) * d])
        grid_shape = (1,) * d
    else:
        grid_shape = grid.shape
    if not has_cross_terms(d_cell):
        diagonal = np.stack([np.broadcast_to(d_cell[k, k], grid_shape) for k in range(d)])
        if not np.all(np.isfinite(diagonal)):
            bad = int(np.argmax(~np.isfinite(diagonal).all(axis=0).ravel()))
            raise ValueError(f"diffusion: not finite at x = {point(grid, bad)}")
        smallest = diagonal.min(axis=0).ravel()
        if smallest.min() <= 0:
            bad = int(np.argmin(smallest))
            raise ValueError(
                f"diffusion: the diffusion matrix is not positive definite at x = {point(grid, bad)}; "
                f"smallest eigenvalue {smallest[bad]:.3g}"
            )
        return
    moved = np.moveaxis(d_cell, (0, 1), (-2, -1)).reshape(-1, d, d)
    if not np.all(np.isfinite(moved)):
        bad = int(np.argwhere(~np.isfinite(moved).all(axis=(1, 2)))[0][0])
        raise ValueError(f"diffusion: not finite at x = {point(grid, bad)}")
    asymmetry = np.abs(moved - np.swapaxes(moved, 1, 2)).max(axis=(1, 2))
    diagonal = np.abs(np.einsum("nii->ni", moved)).max(axis=1)
    if np.any(asymmetry > 1e-8 * diagonal):
        bad = int(np.argmax(asymmetry > 1e-8 * diagonal))
        raise ValueError(
            f"diffusion: the diffusion matrix is not symmetric at x = {point(grid, bad)} "
            f"(|D - D^T| = {asymmetry[bad]:.3g}); a covariance must be symmetric"
        )
    smallest = np.linalg.eigvalsh(0.5 * (moved + np.swapaxes(moved, 1, 2)))[:, 0]
    if np.any(smallest <= 0):
        bad = int(np.argmin(smallest))
        raise ValueError(
            f"diffusion: the diffusion matrix is not positive definite at x = {point(grid, bad)}; "
            f"smallest eigenvalue {smallest[bad]:.3g}"
        )


def point(grid, flat: int) -> tuple:
    idx = np.unravel_index(flat, grid.shape)
    return tuple(round(float(c[i]), 6) for c, i in zip(grid.centers, idx))
