"""The fractional (Levy) discretization: alpha-stable jumps as a Markov jump generator on the cells
(registered as "fractional", chosen automatically for models with ``jumps``).

The Fokker-Planck operator of dX = b dt + eps dL^alpha (+ sqrt(2D) dW) is

    d_t p = -div(b p) + div(D grad p) - sum_j eps_j^alpha_j (-d_j^2)^(alpha_j/2) p     (per axis)
                                      - eps^alpha (-Laplacian)^(alpha/2) p              (isotropic)

Its generator Q on the cells is the sum of two Markov generators:

* the jumps (:mod:`fpsolve.discretize.fractional_weights`): the Levy measure lumped onto cells,
  second order, every rate positive; jumps that land beyond the box are killed through an
  "absorbing" face (exit problems: the whole exterior is absorbing, DESIGN.md section 1), wrap
  around a periodic axis, and are censored at a "reflecting" face (evolution and stationary laws
  on a box: mass is conserved, and the neglected rate is reported);
* the drift, the Gaussian part and the nearest-neighbour jumps, which act as a diffusion
  D_eff = w_1 h^2: the finite-volume generator of :mod:`fpsolve.discretize.fv` with
  exponentially fitted fluxes for the diffusion D + D_eff, its links along the jump axes made
  hybrid (:func:`central_where_possible`: central where the cell Peclet number is at most 2,
  upwind beyond). The whole Q is an M-matrix even without a Gaussian part.

Small grids get Q as a sparse matrix (every pair of cells stored: exact linear algebra, GTH
stationary laws); larger ones a :class:`fpsolve.operators.MatrixFree` generator whose products
are FFTs and whose Krylov solves are preconditioned by the LU of the finite-volume part plus the
near-field jumps (:func:`fpsolve.discretize.fractional_kernels.near_field`).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._warnings import warn as _warn
from ..linalg import killing_rates
from ..operators import MatrixFree
from . import fv
from .base import Assembled, Discretization
from .finite_volumes import PECLET_WARNING
from .fractional_kernels import apply_jumps, axis_kernel, isotropic_kernel, jump_matrix, near_field

__all__ = ["Fractional", "EXPLICIT_ENTRIES", "NEAR_FIELD_BAND", "CENSORED_MASS_WARNING"]

#: Grids whose jump part has at most this many stored pairs get Q as an explicit sparse matrix
#: (1-D: up to 256 cells), used as the exact preconditioner. Its LU is dense: an exit time takes
#: 0.04 s at N = 256, 0.15 s at 512 and 1 s at 1024,
#: against 0.1 s matrix-free at 2048; GTH and dense eigensolvers apply to it. Larger grids are
#: matrix-free (FFT products, O(N) memory).
EXPLICIT_ENTRIES = 256**2

#: Jumps of at most this many cells (per axis) enter the sparse preconditioner of Krylov solves,
#: by grid dimension: a wider band needs fewer GMRES iterations but its LU fills in more in 2-D
#: (mean exit time, double well, alpha 1.5: 1-D 8192 cells 0.10 s with 4, 0.25 s with 2; 2-D
#: 256^2 5.5 s with 2, 12.6 s with 4, 6.4 s with 1; measured before the near field kept Q's row
#: sums, which brought 2-D 256^2 with 2 to 1.4-1.6 s).
NEAR_FIELD_BAND = {1: 4, 2: 2, 3: 1}

#: Estimated share of the mass that censoring misplaces (:func:`_censored_mass`) above which a
#: reflecting box warns.
CENSORED_MASS_WARNING = 1e-3


class _LocalPart:
    """The model as the finite-volume assembly sees it: its drift and potential, and the
    diffusion D + D_eff (the Gaussian part plus the nearest-neighbour jumps)."""

    def __init__(self, model, d_eff: np.ndarray):
        self.model = model
        self.ndim = model.ndim
        self.d_eff = d_eff

    def drift(self, *x, t=0.0):
        return self.model.drift(*x, t=t)

    def potential(self, t=0.0):
        return self.model.potential(t)

    def diffusion(self, *x, t=0.0):
        shape = np.broadcast(*x).shape
        try:
            gaussian = np.broadcast_to(self.model.diffusion(*x, t=t), (self.ndim, self.ndim) + shape)
        except TypeError:  # a model without a Gaussian part
            gaussian = np.zeros((self.ndim, self.ndim) + shape)
        extra = np.diag(self.d_eff).reshape((self.ndim, self.ndim) + (1,) * len(shape))
        return gaussian + extra


def jump_law(model, t: float = 0.0):
    """The model's :class:`fpsolve.noise.JumpLaw` at time t (``jump_law(t)`` for schedules)."""
    return model.jump_law(t) if hasattr(model, "jump_law") else model.jumps


def _per_axis(law) -> tuple:
    alphas = getattr(law, "alphas", None) or (law.alpha,) * len(law.axes)
    scales = getattr(law, "scales", None) or (law.scale,) * len(law.axes)
    return tuple(float(a) for a in alphas), tuple(float(s) for s in scales)


class Fractional(Discretization):
    """Alpha-stable jumps lumped onto the cells plus finite volumes for the drift (module docstring).

    Boundaries per face (``FokkerPlanck(..., boundary=...)``): "reflecting" censors the jumps
    that would leave (mass conserved; the neglected rate is ``diagnostics["censored_rate"]``),
    "absorbing" kills them (the exterior is absorbing: exit problems), periodic grid axes wrap
    jumps around. Analyses of exit times kill at the box by default
    (:func:`fpsolve.analysis.backward.resolve`).
    """

    name = "fractional"
    markov = True
    priority = 20

    @classmethod
    def suits(cls, model) -> bool:
        return getattr(model, "jumps", None) is not None

    def __init__(self, model, grid, boundary):
        super().__init__(model, grid, boundary)
        law = getattr(model, "jumps", None)
        if law is None:
            raise ValueError(
                f"model: the fractional discretization needs a model with jumps "
                f"(LevyLangevin, LevySGD, LevyAdam); {model!r} has none: use "
                "discretization='fv'"
            )
        alphas, _ = _per_axis(law)
        for a in alphas:
            if not 0 < a <= 2:
                raise ValueError(f"alpha: expected a tail index in (0, 2], got {a!r}")
        if max(law.axes) >= grid.ndim:
            raise ValueError(f"model: jumps on axes {law.axes} for a {grid.ndim}-D grid")
        gaussian_axes = set(getattr(model, "noise_axes", ()))
        for k in range(grid.ndim):
            if k not in law.axes and k not in gaussian_axes:
                raise ValueError(
                    f"model: axis {grid.axis_names[k]!r} has neither jumps nor Gaussian noise; the "
                    "scheme needs noise on every axis (add a temperature / gaussian part)"
                )
        if law.isotropic:
            axes = tuple(law.axes)
            if len(axes) != 2 or grid.ndim != 2:
                raise ValueError(
                    "model: isotropic jumps are discretized in 2-D (two axes); use "
                    "axis-aligned jumps (isotropic=False) in other dimensions"
                )
            kinds = {kind for a in axes for kind in boundary[a]}
            if "periodic" in kinds:
                raise ValueError(
                    "grid: isotropic jumps need a non-periodic box (periodic axes "
                    "wrap the per-axis jumps only); make the grid non-periodic"
                )
            if len(kinds) != 1:
                raise ValueError(
                    f"boundary: isotropic jumps need the same kind on every face "
                    f"(all 'absorbing' or all 'reflecting'), got {sorted(kinds)}"
                )
            h0, h1 = grid.spacing[axes[0]], grid.spacing[axes[1]]
            if abs(h0 - h1) > 1e-9 * max(h0, h1):
                raise ValueError(
                    f"grid: isotropic jumps need square cells (second order rests on the lattice's "
                    f"90-degree symmetry); the spacings are {h0:.6g} and {h1:.6g}: choose the cell "
                    "counts in proportion to the box's sides"
                )

    # --- assembly --------------------------------------------------------------------------------
    def kernels(self, t: float = 0.0) -> tuple:
        """The jump kernels at time t (one per jump axis, or one isotropic kernel)."""
        law = jump_law(self.model, t)
        alphas, scales = _per_axis(law)
        if law.isotropic:
            kind = self.boundary[law.axes[0]][0]
            return (isotropic_kernel(alphas[0], scales[0], self.grid, tuple(law.axes), kind),)
        return tuple(axis_kernel(a, s, self.grid, k, self.boundary[k]) for k, a, s in zip(law.axes, alphas, scales))

    def assemble(self, t: float = 0.0) -> Assembled:
        grid = self.grid
        kernels = self.kernels(t)
        d_eff = np.zeros(grid.ndim)
        for kern in kernels:
            for axis, d in zip(kern.axes, kern.d_eff):
                d_eff[axis] += d
        # d_eff is the jump kernel's near field, not the diffusion of a Boltzmann law: no curvature
        # correction (it assumes the local part's stationary law is e^{-V/D})
        local = fv.assemble(_LocalPart(self.model, d_eff), grid, self.boundary, t, curvature=False)
        shape = grid.shape
        killed = sum(np.broadcast_to(k.killed, shape) for k in kernels)
        censored = sum(np.broadcast_to(k.censored, shape) for k in kernels)
        pairs = _stored_pairs(kernels, grid)
        jump_axes = [a for kern in kernels for a in kern.axes if any(r > 0 for r in np.ravel(kern.rates))]
        A = central_where_possible(
            sp.csr_matrix(local.generator), grid, jump_axes, self.model.diffusion if self.model.noise_axes else None, t
        )
        explicit = sp.csr_matrix(A + jump_matrix(kernels, grid)) if pairs <= EXPLICIT_ENTRIES else None
        generator = _matrix_free(A, kernels, grid, killed, explicit)
        diagnostics = {
            "peclet": local.peclet,
            "nearest_diffusion": tuple(float(d) for d in d_eff),
            "censored_rate": censored,
            "killing_rate": killed,
            "censored_mass": _censored_mass(self.model, grid, censored, t),
            "explicit": explicit is not None,
        }
        # no face fluxes: a jump process's current is not carried by the faces (the local
        # fluxes alone would misreport exits and currents)
        return Assembled(generator, None, diagnostics)

    def report(self, assembled: Assembled) -> None:
        diag = assembled.diagnostics
        mass = diag["censored_mass"]
        if mass > CENSORED_MASS_WARNING:
            rate = float(np.max(diag["censored_rate"]))
            if np.isfinite(mass):
                share = (
                    f"an estimated {mass:.2g} of the mass (the time the process would spend "
                    f"returning from beyond the box; above {CENSORED_MASS_WARNING:g}); enlarge "
                    "the box (this falls like its width^-alpha)"
                )
            else:
                share = (
                    "an unbounded share of the mass: no drift brings the process back from "
                    "the faces, so the censored process is another process; give a confining "
                    "potential, or boundary='absorbing' for the process killed at the box"
                )
            _warn(
                f"grid: the box is too small for the jump tails: jumps that would leave it are "
                f"censored (suppressed) at a rate up to {rate:.3g} per unit time, which misplaces "
                f"{share}"
            )
        law = jump_law(self.model)
        alphas, _ = _per_axis(law)
        worst = max(diag["peclet"])
        if worst > PECLET_WARNING and min(alphas) > 1:
            axis = int(np.argmax(diag["peclet"]))
            _warn(
                f"grid: too coarse for the drift: cell Peclet number h |b| / (D + D_eff) = "
                f"{worst:.3g} on axis {self.grid.axis_names[axis]} (above {PECLET_WARNING:g}; "
                f"D_eff = {diag['nearest_diffusion'][axis]:.3g} is the nearest-neighbour jump "
                "rate times h^2), so the drift flux is upwinded (first order) there; refine that "
                "axis"
            )


def hybrid_factor(z: np.ndarray) -> np.ndarray:
    """phi(z) = max(-z, 1 - z/2, 0): the rate factor of the hybrid (central / upwind) flux against
    a link's Peclet number z, in place of the fitted flux's B(z) = z / (e^z - 1). Both satisfy
    phi(-z) - phi(z) = z (the exact drift); phi's symmetric part is exactly 1 for |z| <= 2 (central
    differences, no added diffusion), B's is (z/2) coth(z/2) = 1 + z^2/12 + ..."""
    return np.maximum(np.maximum(-z, 1.0 - z / 2.0), 0.0)


def central_where_possible(A, grid, axes, diffusion, t: float):
    """The finite-volume generator ``A`` (fitted fluxes for D + D_eff) with the nearest-neighbour
    links along the jump ``axes`` turned into hybrid ones (:func:`hybrid_factor`).

    With fitted fluxes the drift's error is h^2 b^2 / (12 (D + D_eff)) f'', and D_eff ~ h^(2-alpha):
    order alpha, not 2. Central differences are exact to O(h^2) and stay an M-matrix while the
    cell Peclet number z = h b / (D + D_eff) is at most 2; beyond, the hybrid flux is upwind (first
    order, as any monotone drift flux must be; the jumps keep the chain irreducible). Each link's
    z and D / h^2 are read off its two fitted rates (r / l = e^z, r = (D/h^2) B(-z)); row sums, and
    so the killing, are kept. Left as it is with a Gaussian cross-diffusion (links then carry cross
    terms) and on axes without jumps (at alpha = 2 the scheme stays the Gaussian chain)."""
    if not axes:
        return A
    if diffusion is not None and grid.ndim > 1:
        tensor = diffusion(*grid.mesh(), t=t)
        if any(np.any(tensor[k, m] != 0) for k in range(grid.ndim) for m in range(grid.ndim) if k != m):
            return A
    index = np.arange(grid.size).reshape(grid.shape)
    rows, cols, deltas = [], [], []
    for k in axes:
        shifted = np.roll(index, -1, axis=k)
        left, right = index, shifted
        if not grid.periodic[k]:
            keep = [slice(None)] * grid.ndim
            keep[k] = slice(0, grid.shape[k] - 1)
            left, right = left[tuple(keep)], right[tuple(keep)]
        left, right = left.ravel(), right.ravel()
        up = np.asarray(A[left, right]).ravel()
        down = np.asarray(A[right, left]).ravel()
        z = np.log(up / down)
        scale = up / fv.bernoulli(-z)
        new_up, new_down = scale * hybrid_factor(-z), scale * hybrid_factor(z)
        rows += [left, right]
        cols += [right, left]
        deltas += [new_up - up, new_down - down]
    rows, cols, deltas = np.concatenate(rows), np.concatenate(cols), np.concatenate(deltas)
    change = sp.csr_matrix((deltas, (rows, cols)), shape=A.shape)
    row_change = np.bincount(rows, weights=deltas, minlength=A.shape[0])
    return sp.csr_matrix(A + change - sp.diags(row_change))


def _stored_pairs(kernels, grid) -> int:
    """Entries an explicit jump matrix would store."""
    total = 0
    for kern in kernels:
        cells_along = int(np.prod([grid.shape[a] for a in kern.axes]))
        total += grid.size * cells_along
    return total


def _matrix_free(A, kernels, grid, killed, explicit=None) -> MatrixFree:
    """Q = A + J with J applied by FFT; the preconditioner's matrix is A plus J's near field, or
    on small grids the ``explicit`` Q itself (then every Krylov solve is one exact LU solve).

    Q is matrix-free even when it is small: on a matrix-free Q the seam's predicate boundaries
    (:func:`fpsolve.absorb.absorb`) remove whole cells, which for lumped jumps puts the boundary
    on the face between the last kept and the first removed cell (on a sparse Q they would move
    the nearest-neighbour links to the predicate's crossing, a half-local treatment). The near
    field keeps J's row sums (:func:`fractional_kernels.near_field`); small operators are
    densified by :mod:`fpsolve.krylov` for time integration."""
    shape = grid.shape
    diagonal = A.diagonal() - sum(np.broadcast_to(k.inbox + k.killed, shape) for k in kernels).ravel()
    AT = sp.csr_matrix(A.T)
    if explicit is not None:
        explicit_t = sp.csr_matrix(explicit.T)
        local_killing = killing_rates(A)
        return MatrixFree(
            grid.size,
            lambda f: explicit @ f,
            lambda p: explicit_t @ p,
            explicit.diagonal(),
            approximate=explicit,
            killing=local_killing + np.asarray(killed).ravel(),
        )

    def matvec(f):
        return A @ f + apply_jumps(kernels, f.reshape(shape)).ravel()

    def rmatvec(p):
        return AT @ p + apply_jumps(kernels, p.reshape(shape)).ravel()  # J is symmetric

    approximate = A + near_field(kernels, grid, NEAR_FIELD_BAND.get(grid.ndim, 1))
    local_killing = killing_rates(A)
    return MatrixFree(
        grid.size,
        matvec,
        rmatvec,
        diagonal,
        approximate=approximate,
        killing=local_killing + np.asarray(killed).ravel(),
    )


def _censored_mass(model, grid, censored, t: float) -> float:
    """Estimated share of the mass that censoring misplaces: the censored rate r at the cell where
    the potential is lowest (the box centre without one) times the time T the drift takes to bring
    a jump that left the box back from the face to the core of the law.

    The true process spends about r T of its time on those returns, on in-box cells between
    the face and the core that the censored process never visits that way. Along each jump axis
    T is the drift time int dx / |b_k| from the face to the core, the distance d from the
    minimum where |b_k| d^(alpha-1) = eps^alpha / alpha (the alpha-stable law's scale for a
    linear drift). Measured against the exact laws (docs/numerics.md): Levy-OU alpha = 1, L = 240:
    estimate 1.5e-2, error of the centre density 1.4e-2; Chechkin's quartic well, L = 8: 3.1e-2
    against 3.6e-2. Infinite without a confining drift (censoring then defines the process)."""
    if not np.any(censored):
        return 0.0
    potential = model.potential(t)
    if potential is not None:
        values = np.broadcast_to(potential(*grid.mesh()), grid.shape)
        cell = np.unravel_index(int(np.argmin(values)), grid.shape)
    else:
        cell = tuple(n // 2 for n in grid.shape)
    rate = float(np.broadcast_to(censored, grid.shape)[cell])
    law = jump_law(model, t)
    alphas, scales = _per_axis(law)
    slowest = 0.0
    for axis, alpha, scale in zip(law.axes, alphas, scales):
        line = [np.array([c[i]]) for c, i in zip(grid.centers, cell)]
        line[axis] = grid.centers[axis]
        drift = np.abs(np.broadcast_to(model.drift(*line, t=t)[axis], grid.centers[axis].shape))
        centre = grid.centers[axis][cell[axis]]
        for side in (slice(cell[axis] + 1, None), slice(None, cell[axis])):
            d = np.abs(grid.centers[axis][side] - centre)
            b = drift[side]
            core = b * d ** (alpha - 1.0) >= scale**alpha / alpha
            if not core.any():
                return float("inf")
            beyond = d >= d[core].min()
            if np.any(b[beyond] <= 0):
                return float("inf")
            slowest = max(slowest, float(np.sum(grid.spacing[axis] / b[beyond])))
    return rate * slowest
