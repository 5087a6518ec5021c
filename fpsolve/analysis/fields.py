"""Fields on a grid returned by the backward analyses: mean exit times, their moments, committors.

A :class:`Field` is a grid-shaped array of cell-centre values with its grid; calling it
interpolates (multilinear, :meth:`fpsolve.grid.Grid.interpolate`). Exit-time fields of SGD-type
models also come in SGD iterations: ``tau.iterations`` is the same kind of field, with values
tau / lr (continuous time t = lr * iterations, DESIGN.md section 1), so ``tau.iterations(x)``
interpolates and ``tau.iterations.values`` is the array.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..grid import Grid
from ..interpolation import cubic_interpolate
from ..plotting import grid_image

__all__ = ["Field", "RescaledField"]


@dataclass(frozen=True, eq=False)
class Field:
    """Values at the cell centres of a grid.

    Attributes
    ----------
    values : np.ndarray
        Shape ``grid.shape``.
    grid : Grid
    name : str
        What the values are ("mean exit time", "committor", ...).
    lr : float or None
        Learning rate of an SGD model (continuous time t = lr * iterations), else None.
    moments : tuple of np.ndarray
        For exit times: ``moments[n - 1]`` is E[tau^n], grid-shaped (``moments[0] is values``).
    domain : np.ndarray of bool or None
        The cells where the field was solved for (the complement holds boundary values).
    info : dict
        Sizes and timings of the solve.
    """

    values: np.ndarray
    grid: Grid
    name: str = "field"
    lr: float | None = None
    moments: tuple = ()
    domain: np.ndarray | None = field(default=None, repr=False)
    info: dict = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        inside = self.values if self.domain is None else self.values[self.domain]
        lo, hi = (float(inside.min()), float(inside.max())) if inside.size else (np.nan, np.nan)
        extra = f", moments 1..{len(self.moments)}" if len(self.moments) > 1 else ""
        return f"Field({self.name!r} on {self.grid!r}, range [{lo:.6g}, {hi:.6g}]{extra})"

    def __call__(self, *x):
        """Interpolate at a point (or arrays of points), one coordinate per axis: ``tau(-1.0)``.

        Multilinear, with the same weights as a law started at that point
        (:meth:`fpsolve.grid.Grid.interpolation_weights`), so ``tau(x)`` equals the mean of
        ``exit_time_distribution(..., start=x)``. Its error, h^2 s (1 - s) |f''| / 2 per axis (s the
        point's place between two centres), can exceed the scheme's own on smooth landscapes; the
        fourth-order value is :meth:`smooth`."""
        if len(x) == 1 and self.grid.ndim > 1 and np.ndim(x[0]) == 1 and len(x[0]) == self.grid.ndim:
            x = tuple(x[0])
        return self.grid.interpolate(self.values, *x)

    def smooth(self, *x):
        """Fourth-order interpolation at a point (or arrays of points): tensor-product cubic
        Lagrange through the 4^d surrounding centres, clipped to their range, where that stencil
        lies in the solved domain; multilinear next to the box walls and the absorbing set
        (:func:`fpsolve.interpolation.cubic_interpolate`). Use it to read a smooth field between
        centres, e.g. tau.smooth(-0.5): on 200 cells of the 1-D double well at T = 1/4 its error is
        6.6e-6 against 1.6e-4 for ``tau(-0.5)``."""
        if len(x) == 1 and self.grid.ndim > 1 and np.ndim(x[0]) == 1 and len(x[0]) == self.grid.ndim:
            x = tuple(x[0])
        return cubic_interpolate(self.grid, self.values, x, valid=self.domain)

    @property
    def iterations(self) -> RescaledField:
        """The field in SGD iterations: values / lr, since continuous time t = lr * iterations.

        A Field like this one: ``tau.iterations(x)`` interpolates exactly as ``tau(x) / lr``,
        ``tau.iterations.values`` is the array and ``tau.iterations.moments[n - 1]`` is
        E[tau^n] / lr^n. Exit times of SGD-type models only (``lr`` is set).
        """
        if self.lr is None:
            raise ValueError(
                f"iterations: the model of this {self.name} has no learning rate (not an SGD-type "
                "model), so there are no iterations to count; the values are in continuous time"
            )
        factor = 1.0 / self.lr
        moments = tuple(m * factor**n for n, m in enumerate(self.moments, start=1))
        return RescaledField(
            self.values * factor,
            self.grid,
            f"{self.name} in iterations",
            None,
            moments,
            self.domain,
            self.info,
            source=self,
            factor=factor,
        )

    def moment(self, n: int) -> Field:
        """E[tau^n] as a Field (n = 1 .. len(moments))."""
        if not 1 <= n <= len(self.moments):
            raise ValueError(f"n: moments 1..{len(self.moments)} were computed, got {n}; pass moments={n}")
        return Field(self.moments[n - 1], self.grid, f"{self.name} moment {n}", None, (), self.domain)

    @property
    def variance(self) -> np.ndarray:
        """Var tau = E[tau^2] - E[tau]^2 (needs ``moments >= 2``)."""
        if len(self.moments) < 2:
            raise AttributeError("variance: compute the field with moments=2 or more")
        return self.moments[1] - self.moments[0] ** 2

    def plot(self, ax=None, log: bool = False, **kwargs):
        """Line plot in 1-D, image (first two axes, other axes averaged) in 2-D and above."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        values = np.log10(np.maximum(self.values, 1e-300)) if log else self.values
        label = f"log10 {self.name}" if log else self.name
        if self.grid.ndim == 1:
            ax.plot(self.grid.centers[0], values, **kwargs)
            ax.set_xlabel(self.grid.axis_names[0])
            ax.set_ylabel(label)
        else:
            im = grid_image(ax, self.grid, values, reduce="mean", **kwargs)
            ax.figure.colorbar(im, ax=ax, label=label)
        return ax


@dataclass(frozen=True, eq=False, repr=False)
class RescaledField(Field):
    """``factor`` times another field: its values and moments scaled (moment n by factor^n), and a
    call that evaluates the source field's own interpolant (multilinear, or a spectral
    polynomial) times the factor. ``Field.iterations`` returns one (factor 1 / lr)."""

    source: Field | None = None
    factor: float = 1.0

    def __call__(self, *x):
        return self.factor * self.source(*x)

    def smooth(self, *x):
        return self.factor * self.source.smooth(*x)

    def moment(self, n: int) -> RescaledField:
        base = self.source.moment(n)
        scale = self.factor**n
        return RescaledField(
            base.values * scale,
            self.grid,
            f"{base.name} in iterations",
            None,
            (),
            self.domain,
            source=base,
            factor=scale,
        )
