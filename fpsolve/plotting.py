"""Small plotting helpers shared by result objects (matplotlib is imported lazily by callers)."""

from __future__ import annotations

import numpy as np

__all__ = ["grid_image"]


def grid_image(ax, grid, values, *, reduce: str = "sum", **kwargs):
    """Draw a field on the first two axes of ``grid`` as an image; returns the AxesImage.

    Axes beyond the second are summed (``reduce="sum"``, for densities and probabilities) or
    averaged (``reduce="mean"``, for fields such as exit times). ``kwargs`` go to ``imshow``.
    """
    values = np.asarray(values, dtype=float)
    flat = values.reshape(values.shape[:2] + (-1,))
    image = flat.sum(axis=-1) if reduce == "sum" else flat.mean(axis=-1)
    (x0, x1), (y0, y1) = grid.bounds[0], grid.bounds[1]
    drawn = ax.imshow(image.T, origin="lower", extent=(x0, x1, y0, y1), aspect="auto", **kwargs)
    ax.set_xlabel(grid.axis_names[0])
    ax.set_ylabel(grid.axis_names[1])
    return drawn
