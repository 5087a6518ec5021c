"""The kinetic (Kramers) discretization of phase-space models: second-order transport in theta,
fitted fluxes in v (registered as "kinetic", chosen automatically for kinetic models).

Numerics in :mod:`fpsolve.discretize.kinetic_fluxes`; this module is what the seam sees: the checks
of the model and the phase-space grid, the assembled operator with its diagnostics (the negative
part of the operator, the velocity box, Peclet numbers), the warnings and the probability current.

Why the operator is not a Markov generator: no generator of a Markov chain on a lattice of spacing
h can be more than first-order consistent for d theta = v dt. Its rates are non-negative and its
jumps are at least h long, so the quadratic-variation rate sum_j rate_j (dtheta_j)^2 is at least
h sum_j rate_j |dtheta_j| >= h |v|: a numerical diffusion h|v|/2 d^2/dtheta^2 of order h (Godunov's
theorem is the PDE form). First-order upwind is that scheme, and it is far too diffusive at low
temperature (docs/numerics.md, "Kinetic equations"). The default transport is the linear fully
upwind second-order scheme, whose generator has small negative off-diagonal entries; it is
conservative (rows sum to zero, or to minus a killing rate at absorbing faces), which is what the
analyses that accept it check (:attr:`Kinetic.generator_like`).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.special import ndtr, ndtri

from .._warnings import warn as _warn
from ..momentum import is_kinetic
from .base import Assembled, Discretization
from .fv import _face_index, _generator
from .kinetic_fluxes import TRANSPORT_WEIGHTS, theta_flux, transport_weights, velocity_flux
from .monotone import limit_negative_rates, monotonicity

__all__ = ["Kinetic", "KineticUpwind", "KineticHamiltonian", "VELOCITY_BOX_MASS", "velocity_box_report"]

#: A velocity box that leaves more than this estimated mass of the stationary law outside
#: (:func:`velocity_box_report`) is reported: the zero-flux outer faces then push that mass back
#: in and distort the velocity law.
VELOCITY_BOX_MASS = 1e-6

#: Share of the mass in the outermost velocity cells above which an evolved density is reported
#: as reaching the velocity box (a Gaussian tail beyond ~4.5 standard deviations, the box of
#: VELOCITY_BOX_MASS, holds ~1e-6 in its last cell on resolved grids).
VELOCITY_EDGE_SHARE = 1e-5

#: The box suggested by the warning leaves at most this mass of the local Maxwellian outside.
VELOCITY_BOX_TARGET = 1e-9

#: Above this many cells, 4-D phase space (theta in R^2) is assembled matrix-free
#: (:mod:`fpsolve.discretize.kinetic_kernels`: Numba products, Krylov solves preconditioned by
#: exact plane solves): the sparse LU of the 4-D operator fills in beyond reach from ~1e4 cells
#: (25 s for 12^4), while GMRES with the plane preconditioner takes 22-36 iterations up to 48^4.
MATRIX_FREE_CELLS = 20_000

#: Relative asymmetry of a velocity box tolerated by specular walls (round-off of the bounds).
_SYMMETRY_RTOL = 1e-9


class Kinetic(Discretization):
    """Kinetic Fokker-Planck operator on phase space (theta, v): transport in theta by the fully
    upwind second-order (kappa = -1) scheme, friction and diffusion in v by fitted fluxes.

    Boundaries in theta (``boundary=`` of :class:`fpsolve.FokkerPlanck`, per face): "reflecting"
    is a specular wall (v -> -v; the velocity grid must be symmetric about 0), "absorbing" lets
    outflow leave and nothing in, periodic grid axes wrap. Velocity axes are closed (zero flux
    through the box); the box should hold the stationary velocity spread (a warning says when
    not). The operator is conservative but not an M-matrix (``markov = False``): its most negative
    off-diagonal entry relative to the diagonal is ``diagnostics["negative_rates"]``.
    """

    name = "kinetic"
    markov = False
    #: Rows sum to zero (or to minus a killing rate): eigenvalues, survival functions and
    #: linear solves keep their meaning, checked a posteriori where they are used.
    generator_like = True
    priority = 10
    transport = "second-order"
    #: None: the force is part of the fitted velocity flux; else the kappa-scheme weights with
    #: which it is transported in v (:class:`KineticHamiltonian`)
    force_weights = None

    @classmethod
    def suits(cls, model) -> bool:
        return is_kinetic(model) and cls is Kinetic

    def __init__(self, model, grid, boundary):
        super().__init__(model, grid, boundary)
        if not is_kinetic(model):
            raise ValueError(
                f"model: the kinetic discretization needs a phase-space model (MomentumSGD, "
                f"UnderdampedLangevin), got {model!r}; use discretization='fv' for diffusions"
            )
        d = model.dim
        if grid.ndim != 2 * d:
            raise ValueError(
                f"grid: a phase-space grid for a model with dim theta = {d} needs {2 * d} axes "
                f"(theta then v), got {grid.ndim}; make it with fpsolve.phase_space_grid(theta=..., "
                "v=..., cells=...)"
            )
        for k in model.velocity_axes:
            if grid.periodic[k]:
                raise ValueError(
                    f"grid: the velocity axis {grid.axis_names[k]!r} is periodic; velocities live in a "
                    "closed box (phase_space_grid makes only theta axes periodic)"
                )
        for k, v_axis in zip(model.position_axes, model.velocity_axes):
            if "reflecting" in boundary[k]:
                lo, hi = grid.bounds[v_axis]
                if abs(lo + hi) > _SYMMETRY_RTOL * (hi - lo):
                    raise ValueError(
                        f"grid: the velocity box ({lo:g}, {hi:g}) of axis {grid.axis_names[v_axis]!r} is "
                        f"not symmetric about 0, which the specular (reflecting) walls of "
                        f"{grid.axis_names[k]!r} need (v -> -v maps cells onto cells); use "
                        f"v=({-max(-lo, hi):g}, {max(-lo, hi):g}), or absorbing/periodic theta faces"
                    )

    def _coefficients(self, t: float) -> tuple:
        """(force, velocity diffusion, friction) on the theta cells at time t, checked finite."""
        grid, model = self.grid, self.model
        theta = [
            c.reshape([-1 if a == k else 1 for a in range(model.dim)]) for k, c in enumerate(grid.centers[: model.dim])
        ]
        theta_shape = grid.shape[: model.dim]
        force = np.broadcast_to(model.force(*theta, t=t), (model.dim,) + theta_shape)
        diffusion = np.broadcast_to(model.velocity_diffusion(*theta, t=t), (model.dim,) * 2 + theta_shape)
        _require_finite(force, "force", grid, theta_shape)
        _require_finite(diffusion, "velocity_diffusion", grid, theta_shape)
        return force, diffusion, float(model.friction_at(t))

    def _fluxes(self, t: float, coefficients: tuple | None = None, fitted_only: bool = False) -> list:
        """The face-flux matrices per axis (theta axes: transport; v axes: fitted fluxes, with the
        force transported separately if ``force_weights``; ``fitted_only``: v axes without it)."""
        grid, model = self.grid, self.model
        force, diffusion, gamma = coefficients or self._coefficients(t)
        weights = TRANSPORT_WEIGHTS[self.transport]
        flux = [None] * grid.ndim
        for k, v_axis in zip(model.position_axes, model.velocity_axes):
            flux[k] = theta_flux(grid, k, v_axis, self.boundary[k], weights)
            if fitted_only and self.force_weights is not None:
                flux[v_axis] = velocity_flux(grid, k, v_axis, gamma, np.zeros_like(force), diffusion)
            else:
                flux[v_axis] = velocity_flux(grid, k, v_axis, gamma, force, diffusion, self.force_weights)
        return flux

    def _matrix_free(self, t: float, diffusion):
        """The Numba matrix-free operator for large 4-D grids (with or without velocity cross
        diffusion), else None (the sparse path)."""
        if self.model.dim != 2 or self.grid.size <= MATRIX_FREE_CELLS:
            return None
        if self.force_weights is not None:
            raise ValueError(
                f"discretization: {self.name!r} has no matrix-free kernel, and a 4-D grid of {self.grid.size} "
                f"cells (> {MATRIX_FREE_CELLS}) is beyond sparse LU; use discretization='kinetic'"
            )
        from .kinetic_kernels import kinetic_coefficients, matrix_free_kinetic

        return matrix_free_kinetic(kinetic_coefficients(self.grid, self.model, self.boundary, t, self.transport))

    def assemble(self, t: float = 0.0) -> Assembled:
        grid, model = self.grid, self.model
        force, diffusion, gamma = self._coefficients(t)
        operator = self._matrix_free(t, diffusion)
        if operator is not None:
            # kappa = -1 transport: the rate to the cell two upwind is -v / (2h) against the
            # transport part 3v / (2h) of the diagonal (the bound, without the velocity part)
            negative = -1.0 / 3.0 if self.transport == "second-order" else 0.0
            return Assembled(
                operator,
                None,
                {
                    "negative_rates": negative,
                    "velocity_monotonicity": None,
                    "matrix_free": True,
                    "velocity_box": velocity_box_report(grid, model, t),
                    "velocity_peclet": _velocity_peclet(grid, model, gamma, force, diffusion),
                },
            )
        flux = self._fluxes(t, (force, diffusion, gamma))
        # the positivity report is about the fitted (friction and diffusion) part; a transported
        # force has the negative rates of the kappa scheme, like the theta transport
        fitted = flux if self.force_weights is None else self._fluxes(t, (force, diffusion, gamma), fitted_only=True)
        velocity_part = _generator_of(grid, fitted, model.velocity_axes)
        generator = _generator(grid, flux)
        if self.markov:  # upwind transport: reroute the negative cross-diffusion rates, as fv does
            flux, changed = limit_negative_rates(grid, flux, generator, _face_index)
            if changed:
                generator = _generator(grid, flux)
        diagnostics = {
            "negative_rates": negative_rate_ratio(generator),
            "velocity_monotonicity": monotonicity(velocity_part, np.ones(grid.size, dtype=bool)),
            "velocity_box": velocity_box_report(grid, model, t),
            "velocity_peclet": _velocity_peclet(grid, model, gamma, force, diffusion),
        }
        return Assembled(generator, tuple(flux), diagnostics)

    def report(self, assembled: Assembled) -> None:
        box = assembled.diagnostics["velocity_box"]
        if box["mass_outside"] > VELOCITY_BOX_MASS:
            axis = self.grid.axis_names[box["axis"]]
            _warn(
                f"grid: the velocity box cuts the stationary velocity spread: about "
                f"{box['mass_outside']:.2g} of the mass lies outside {axis} in {box['bounds']} (local "
                f"Maxwellians N(0, velocity_variance), e.g. variance {box['variance']:.3g} at theta = "
                f"{box['theta']}) and is pushed back into the box. Use {axis} in "
                f"(-{box['half_width']:.3g}, {box['half_width']:.3g}) (mass outside below "
                f"{VELOCITY_BOX_TARGET:g})"
            )
        report = assembled.diagnostics["velocity_monotonicity"]
        if report is not None and not report.is_m_matrix:
            _warn(
                f"diffusion: the velocity cross diffusion of the noise breaks positivity of the "
                f"velocity fluxes: {report}; densities may turn slightly negative where the noise "
                "is strongly correlated across velocities or the friction and force dominate the "
                "velocity diffusion over a cell (velocity Peclet numbers "
                f"{assembled.diagnostics['velocity_peclet']}); a finer velocity grid helps"
                + (
                    ""
                    if not self.markov
                    else "; those rates were rerouted through faces (first order on the rerouted links)"
                )
            )

    def check_densities(self, p) -> None:
        """Warn when evolved densities reach the velocity box: the zero-flux outer faces hold
        back what should leave the box (a transient can overshoot the stationary spread, which
        is all :func:`velocity_box_report` looks at)."""
        p = np.asarray(p)
        total = np.abs(p).sum(axis=tuple(range(1, p.ndim)))
        for v_axis in self.model.velocity_axes:
            edge = np.take(p, [0, -1], axis=v_axis + 1)
            share = np.abs(edge).sum(axis=tuple(range(1, p.ndim))) / np.maximum(total, np.finfo(float).tiny)
            worst = int(np.argmax(share))
            if share[worst] > VELOCITY_EDGE_SHARE:
                lo, hi = self.grid.bounds[v_axis]
                _warn(
                    f"grid: the density reaches the edge of the velocity box {self.grid.axis_names[v_axis]} "
                    f"in ({lo:g}, {hi:g}): the outermost velocity cells hold {share[worst]:.2g} of the "
                    f"mass at output {worst}, which the closed box holds back; widen the velocity box "
                    "(transients can spread further than the stationary law)"
                )
                return

    def current(self, assembled: Assembled, p) -> tuple:
        """The scheme's face fluxes J_a = F_a p per axis (theta axes: transport, v axes: friction,
        force and diffusion), shaped like the grid with ``n_a + 1`` faces along axis a (the wrap
        face of a periodic theta axis appears at both ends), in probability per unit time and unit
        face area."""
        fluxes = assembled.face_flux or self._fluxes(0.0)  # matrix-free: built when asked for
        out = []
        for a, flux in enumerate(fluxes):
            shape = list(self.grid.shape)
            shape[a] += 1
            j = (flux @ np.asarray(p, dtype=float).ravel()).reshape(shape)
            if self.grid.periodic[a]:
                index = [slice(None)] * self.grid.ndim
                index[a] = slice(0, 1)
                j[tuple(index)] = np.take(j, [shape[a] - 1], axis=a)
            out.append(j)
        return tuple(out)


class KineticUpwind(Kinetic):
    """First-order upwind transport in theta (``discretization="kinetic-upwind"``): a Markov
    generator (an M-matrix: negative cross-diffusion rates of correlated velocity noise are
    rerouted through faces as in finite volumes), for analyses that need rates (transition
    rates between basins). Its numerical diffusion h|v|/2 makes it inaccurate at low
    temperature (docs/numerics.md, "Kinetic equations")."""

    name = "kinetic-upwind"
    markov = True
    priority = 0
    transport = "upwind"


class KineticHamiltonian(Kinetic):
    """The kinetic operator with the Hamiltonian flow transported at second order in both
    directions (``discretization="kinetic-hamiltonian"``): v d_theta by the theta transport of
    :class:`Kinetic` (kappa = -1), F(theta) d_v by the kappa = 1/3 scheme in v; only friction and
    velocity diffusion keep the fitted flux (:mod:`fpsolve.discretize.kinetic_fluxes`).

    For low friction (the energy-diffusion regime of Kramers' turnover): the fitted flux of
    :class:`Kinetic` is first-order upwind for the force once |F| h_v exceeds the velocity
    diffusion gamma T, a numerical friction that dominates gamma there (docs/momentum.md,
    "Kramers' turnover"). kappa = 1/3 (third order, reading one cell downwind) undershoots less than
    kappa = -1 at the separatrix layer of the exit time. Not a Markov generator, no matrix-free
    kernel (4-D grids above ``MATRIX_FREE_CELLS`` are refused), not chosen automatically; the
    local Maxwellian in v at fixed theta is no longer exact (second order instead, and so is the
    Maxwell-Boltzmann law of both schemes in (theta, v))."""

    name = "kinetic-hamiltonian"
    priority = 0
    force_weights = transport_weights(1.0 / 3.0)


def negative_rate_ratio(generator) -> float:
    """The most negative off-diagonal entry of each row relative to that row's |Q_ii|, the
    smallest over rows (0 for an M-matrix). For the kappa = -1 transport it is about -1/3 of
    the transport part of the diagonal: the rate to the cell two upwind, -v / (2 h)."""
    Q = sp.csr_matrix(generator)
    rows = np.repeat(np.arange(Q.shape[0]), np.diff(Q.indptr))
    off = rows != Q.indices
    diagonal = np.abs(Q.diagonal())[rows[off]]
    ratio = Q.data[off] / np.maximum(diagonal, np.finfo(float).tiny)
    return float(min(ratio.min(initial=0.0), 0.0))


def velocity_box_report(grid, model, t: float = 0.0) -> dict:
    """How much of the stationary velocity spread falls outside the velocity box.

    Estimate: at each theta cell the local Maxwellian N(0, s^2), s^2 = ``model.velocity_variance``
    (exact for underdamped Langevin and for momentum SGD on quadratics), weighted over theta by
    exp(-(Phi - min Phi) / s^2) with Phi the potential of the force (F = -grad Phi; Phi = c U,
    c read off F and grad U), the theta-marginal of a local equilibrium. Returns the estimated
    mass outside (the worst velocity axis), the theta cell that contributes most, and the
    symmetric box whose estimated mass outside is :data:`VELOCITY_BOX_TARGET`.
    """
    d = model.dim
    theta = [c.reshape([-1 if a == k else 1 for a in range(d)]) for k, c in enumerate(grid.centers[:d])]
    variance = np.broadcast_to(model.velocity_variance(*theta, t=t), (d,) + grid.shape[:d])
    weight = _equilibrium_weight(model, theta, variance.mean(axis=0), t)
    worst = None
    for k, v_axis in enumerate(model.velocity_axes):
        lo, hi = grid.bounds[v_axis]
        s = np.sqrt(variance[k])
        outside = ndtr(lo / s) + ndtr(-hi / s)
        mass = float(np.sum(weight * outside) / np.sum(weight))
        if worst is None or mass > worst["mass_outside"]:
            i = int(np.argmax(weight * outside))
            where = np.unravel_index(i, outside.shape)
            worst = {
                "mass_outside": mass,
                "axis": v_axis,
                "bounds": (lo, hi),
                "variance": float(variance[k].flat[i]),
                "theta": tuple(round(float(grid.centers[a][where[a]]), 6) for a in range(d)),
                "half_width": _holding_half_width(weight / weight.sum(), s),
            }
    return worst


def _holding_half_width(weight, s) -> float:
    """The half-width h with sum_theta weight * P(|N(0, s^2)| > h) = VELOCITY_BOX_TARGET
    (bisection; the weights sum to one)."""
    lo, hi = 0.0, float(s.max() * -ndtri(VELOCITY_BOX_TARGET / 2))  # hi holds it at every cell
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if float(np.sum(weight * 2.0 * ndtr(-mid / s))) > VELOCITY_BOX_TARGET:
            lo = mid
        else:
            hi = mid
    return hi


def _equilibrium_weight(model, theta, variance, t) -> np.ndarray:
    """exp(-(Phi - min Phi) / s^2) on the theta cells, Phi = kappa(t) (U + w |theta|^2 / 2) the
    potential of the force F = -kappa (grad U + w theta) (:meth:`KineticModel.force_factor`)."""
    mesh = np.broadcast_arrays(*theta)
    potential = np.broadcast_to(model.landscape(*theta), variance.shape) + 0.5 * model.weight_decay * sum(
        x**2 for x in mesh
    )
    phi = model.force_factor(t) * potential
    return np.exp(-(phi - phi.min()) / variance)


def _velocity_peclet(grid, model, gamma, force, diffusion) -> tuple:
    """Per velocity axis, the largest cell Peclet number h_v |-gamma v + F| / D_kk over the box."""
    out = []
    for k, v_axis in enumerate(model.velocity_axes):
        lo, hi = grid.bounds[v_axis]
        drift = gamma * max(abs(lo), abs(hi)) + np.abs(force[k])
        out.append(float((grid.spacing[v_axis] * drift / diffusion[k, k]).max()))
    return tuple(out)


def _generator_of(grid, flux, axes) -> sp.csr_matrix:
    """The generator of the fluxes along ``axes`` only (the others set to zero)."""
    only = [f if a in axes else sp.csr_matrix(f.shape) for a, f in enumerate(flux)]
    return _generator(grid, only)


def _require_finite(values, name, grid, theta_shape) -> None:
    finite = np.isfinite(values).reshape(-1, *theta_shape).all(axis=0)
    if not finite.all():
        where = np.unravel_index(int(np.argmin(finite)), theta_shape)
        point = tuple(round(float(grid.centers[a][where[a]]), 6) for a in range(len(theta_shape)))
        raise ValueError(f"{name}: not finite at theta = {point}")
