"""The "spectral" discretization: Fourier pseudo-spectral on periodic boxes, Chebyshev otherwise.

``FokkerPlanck(model, grid, discretization="spectral")`` on a grid whose axes are all periodic
builds :class:`FourierSpectral`: the density is a trigonometric polynomial; as everywhere in
fpsolve (finite volumes, ``fp.gaussian``) densities in and out are its cell averages, converted to
and from point values at the centres by the exact Fourier multiplier prod_j sinc(m_j / n_j). The
operator is applied pseudo-spectrally with 2/3-rule dealiasing
(:mod:`fpsolve.discretize.fourier_operator`), time integration is ETDRK4 (:mod:`fpsolve.etdrk4`) or
IMEX ARS(2,2,2) (:mod:`fpsolve.imex`) with the diagonal Fourier part (mean diffusion, fractional
symbol) as the stiff linear part, and the stationary law is the null vector of the spectral
operator with the mass fixed. On any other box the name hands over to the Chebyshev collocation
scheme (:mod:`fpsolve.discretize.chebyshev`, /work/notes/spectral_api.md).

A spectral operator is not a Markov chain: densities can undershoot zero (reported as
``stats["min_density"]``; ``options={"filter": order}`` smooths the returned densities with an
exponential filter), and analyses that need rates refuse it (``discretization='fv'``).
Smooth periodic problems converge exponentially in the number of modes; a landscape that is not
smooth and periodic on the box is refused (its Fourier tail does not decay).
"""

from __future__ import annotations

import numpy as np

from .._warnings import warn as _warn
from ..etdrk4 import Etdrk4, integrate_diagonal_split
from ..imex import ImexArs222
from ..operators import MatrixFree
from .base import Assembled, Discretization
from .fourier_operator import (
    TAIL_WARNING,
    cell_average_symbol,
    exponential_filter,
    fourier_operator,
    spectral_tail,
)
from .fourier_stationary import stationary_modes

__all__ = ["TAIL_REFUSAL", "FourierSpectral", "Spectral"]

#: Coefficients (drift, diffusion) whose Fourier tail holds more than this fraction of their
#: largest coefficient are not smooth and periodic on the box (a kink, a jump at the box's edge):
#: the spectral result would be off at this level everywhere, so the scheme refuses.
TAIL_REFUSAL = 1e-2

_ADVICE = (
    "use more cells per axis, or discretization='fv' (second order, positive) for a landscape "
    "that is not smooth and periodic on the box"
)


class Spectral(Discretization):
    """Registered as "spectral": the Fourier scheme on all-periodic grids, Chebyshev otherwise."""

    name = "spectral"
    markov = False
    generator_like = False

    def __new__(cls, model, grid, boundary, **options):
        if cls is not Spectral or all(grid.periodic):
            return super().__new__(FourierSpectral if cls is Spectral else cls)
        try:
            from .chebyshev import ChebyshevCollocation
        except ImportError:
            raise ValueError(
                f"grid: axes {[k for k, p in enumerate(grid.periodic) if not p]} are not periodic and the "
                "Chebyshev scheme is not available; make every axis periodic or use discretization='fv'"
            ) from None
        return ChebyshevCollocation(model, grid, boundary, **options)


class FourierSpectral(Spectral):
    """Fourier pseudo-spectral scheme on a periodic box (see the module docstring).

    Parameters
    ----------
    model, grid, boundary
        As for every :class:`fpsolve.discretize.Discretization`; every grid axis periodic.
    dealias : bool
        2/3 rule (default True): products are formed from the modes |m_j| <= (n_j - 1) // 3 and
        truncated back to them. False keeps |m_j| <= (n_j - 1) // 2 (aliasing of the products with
        the coefficients is then not removed).
    filter : int, optional
        Order of an exponential filter exp(-36 (|m|/K)^order) applied to returned densities
        (evolve, stationary): it damps the Gibbs oscillations of an unresolved tail. It changes a
        mode at half the cutoff by about 36 * 2^-order (5e-10 for order 36, 5.5e-4 for 16).

    Both are given as ``FokkerPlanck(..., discretization="spectral", options={...})``.
    """

    name = ""  # registered through Spectral only
    absorbing_cells = False
    evolve_methods = ("etdrk4", "imex")
    undershoot_advice = (
        "a Fourier density cannot stay positive where it nearly vanishes (the "
        "Gibbs oscillations of its unresolved tail); use more cells per axis or "
        "discretization='fv' (positive); an exponential filter "
        "(options={'filter': order}) damps the oscillations but does not remove "
        "them (docs/spectral.md)"
    )

    def __init__(self, model, grid, boundary, dealias: bool = True, filter=None):
        super().__init__(model, grid, boundary)
        if not all(grid.periodic):
            raise ValueError(f"grid: the Fourier scheme needs every axis periodic; got periodic={grid.periodic}")
        if filter is not None and not (int(filter) == filter and filter >= 2 and filter % 2 == 0):
            raise ValueError(f"filter: expected an even filter order >= 2 (e.g. 36), got {filter!r}")
        if min(grid.cells) < 4:
            raise ValueError(f"grid: the Fourier scheme needs at least 4 cells per axis, got {grid.cells}")
        self.dealias = bool(dealias)
        self.filter = None if filter is None else int(filter)
        self.operator = self._operator(0.0)
        self._averaging = cell_average_symbol(self.operator)
        self._require_noise()

    # --- building the operator ---------------------------------------------------------------------
    def _operator(self, t: float):
        mesh = self.grid.mesh()
        model = self.model
        drift = np.broadcast_to(model.drift(*mesh, t=t), (self.grid.ndim,) + self.grid.shape)
        if tuple(model.noise_axes):
            diffusion = model.diffusion(*mesh, t=t)
        else:
            diffusion = np.zeros((self.grid.ndim,) * 2 + self.grid.shape)
        law = model.jump_law(t) if hasattr(model, "jump_law") else getattr(model, "jumps", None)
        jumps = None if law is None else (law.alphas, law.scales, tuple(law.axes), law.isotropic)
        lengths = [hi - lo for lo, hi in self.grid.bounds]
        return fourier_operator(lengths, drift, diffusion, jumps, self.dealias)

    def _require_noise(self) -> None:
        op = self.operator
        d = self.grid.ndim
        mean = op.diffusion.mean(axis=tuple(range(2, 2 + d)))
        law = getattr(self.model, "jumps", None)
        jump_axes = () if law is None else tuple(law.axes)
        quiet = [k for k in range(d) if not mean[k, k] > 0 and k not in jump_axes]
        if quiet:
            raise ValueError(
                f"model: the Fourier scheme needs noise on every axis (diffusion or jumps); axes {quiet} "
                "have none, so the stationary law and the step control are undefined there; use "
                "discretization='fv' or 'kinetic' for degenerate noise"
            )
        eigen = np.linalg.eigvalsh(np.moveaxis(op.diffusion, (0, 1), (-2, -1)))
        if eigen.min() < -1e-12 * max(eigen.max(), 1e-300):
            raise ValueError(
                f"model: the diffusion is not positive semi-definite (smallest eigenvalue {eigen.min():.3g})"
            )

    def coefficient_tail(self, op=None) -> float:
        """Largest Fourier tail (outer third of the band and beyond) of the drift and diffusion."""
        op = self.operator if op is None else op
        fields = [op.drift[i] for i in range(op.ndim)]
        if op.varying:
            fields += [op.diffusion[i, j] for i in range(op.ndim) for j in range(i, op.ndim)]
        tails = []
        for values in fields:
            modes = np.fft.rfftn(values)
            # a constant field has no tail: measure against the largest non-mean coefficient
            modes.flat[0] = 0.0
            tails.append(
                spectral_tail(modes, op, resolved_only=False)
                if np.abs(modes).max() > 1e-12 * max(np.abs(values).max(), 1e-300)
                else 0.0
            )
        return max(tails)

    def assemble(self, t: float = 0.0) -> Assembled:
        op = self.operator if t == 0.0 or self.model.autonomous else self._operator(t)
        tail = self.coefficient_tail(op)
        if tail > TAIL_REFUSAL:
            raise ValueError(
                f"grid: the drift or diffusion is not resolved by {self.grid.cells} Fourier modes: the outer "
                f"third of the band (and beyond) holds {tail:.1e} of its largest coefficient; {_ADVICE}"
            )
        shape = self.grid.shape
        # Q acts on point values at the centres (the collocation operator); densities on the
        # public side are cell averages, converted by the scheme's own evolve/stationary/current
        matrix = _FourierMatrix(
            self.grid.size,
            lambda f: op.backward(f.reshape(shape)).ravel(),
            lambda p: op.forward(p.reshape(shape)).ravel(),
            op.diagonal().ravel(),
        )
        diagnostics = {
            "modes": tuple(shape),
            "cutoff": op.cutoff,
            "dealias": self.dealias,
            "coefficient_tail": tail,
            "filter": self.filter,
        }
        return Assembled(matrix, None, diagnostics)

    def report(self, assembled: Assembled) -> None:
        tail = assembled.diagnostics["coefficient_tail"]
        if tail > TAIL_WARNING:
            _warn(
                f"grid: the drift or diffusion is under-resolved by {self.grid.cells} Fourier modes: the "
                f"outer third of the band holds {tail:.1e} of the largest coefficient, which bounds "
                f"the accuracy of every result; {_ADVICE}"
            )

    # --- what the problem defers to the scheme ---------------------------------------------------
    def evolve(self, p0, times, method: str = "etdrk4", *, rtol: float = 1e-8, dt=None, progress=False):
        """Densities at ``times`` from ``p0`` (see :meth:`fpsolve.FokkerPlanck.evolve`): ETDRK4
        (fourth order) or IMEX ARS(2,2,2) (second order) on the resolved Fourier coefficients, with
        step doubling to local relative error ``rtol`` or a fixed step ``dt``."""
        if not self.model.autonomous:
            raise ValueError(
                "model: the Fourier scheme integrates models without lr/batch-size schedules; "
                "use discretization='fv' for scheduled models"
            )
        if method not in self.evolve_methods:
            raise ValueError(f"method: the Fourier scheme integrates with {self.evolve_methods}, got {method!r}")
        op = self.operator
        start = self._point_modes(p0)
        initial_tail = spectral_tail(np.fft.rfftn(p0), op, resolved_only=False)
        if initial_tail > TAIL_WARNING:
            _warn(
                f"p0: the initial density is under-resolved: the outer third of its Fourier band (and "
                f"beyond) holds {initial_tail:.1e} of its largest coefficient; it is projected on the "
                "resolved modes, which changes it at that level; use more cells per axis or a wider p0"
            )
        stepper = (Etdrk4 if method == "etdrk4" else ImexArs222)(op.symbol, op.remainder)
        states, stats = integrate_diagonal_split(stepper, start, times, dt=dt, rtol=rtol, progress=progress)
        p = np.stack([self._values(s) for s in states])
        stats.update(
            remainder_evaluations=stepper.evaluations,
            initial_tail=initial_tail,
            final_tail=spectral_tail(states[-1], op),
        )
        return p, stats

    def stationary(self) -> np.ndarray:
        """The stationary density: the null vector of the spectral operator with mass 1
        (:func:`fpsolve.discretize.fourier_stationary.stationary_modes`)."""
        op = self.operator
        volume = float(np.prod([hi - lo for lo, hi in self.grid.bounds]))
        modes = stationary_modes(op, volume)
        tail = spectral_tail(modes, op)
        if tail > TAIL_WARNING:
            _warn(
                f"stationary: the stationary density is under-resolved: the outer third of its Fourier band "
                f"holds {tail:.1e} of its largest coefficient; {_ADVICE}"
            )
        return self._values(modes)

    def check_densities(self, p) -> None:
        tail = spectral_tail(self._point_modes(p[-1]), self.operator)
        if tail > TAIL_WARNING:
            _warn(
                f"evolve: the density is under-resolved at t_end: the outer third of its Fourier band holds "
                f"{tail:.1e} of its largest coefficient; {_ADVICE}"
            )

    def current(self, assembled: Assembled, p) -> tuple:
        """The pseudo-spectral current J_i = b_i p - sum_j d_j (D_ij p) (+ the fractional part's
        curl-free current), point values on the ``n_i + 1`` faces of axis i (the last repeats the
        first), for the density with cell averages ``p``."""
        return self.operator.current_on_faces(self.operator.to_values(self._point_modes(p)))

    def _point_modes(self, averages) -> np.ndarray:
        """Resolved Fourier coefficients of the point values of a density given by cell averages."""
        return self.operator.to_modes(averages) / np.where(self.operator.mask, self._averaging, 1.0)

    def _values(self, modes) -> np.ndarray:
        """Cell averages of the density with point-value coefficients ``modes`` (filtered if asked)."""
        if self.filter is not None:
            modes = modes * exponential_filter(self.operator, self.filter)
        return self.operator.to_values(modes * self._averaging)


class _FourierMatrix(MatrixFree):
    """The spectral generator on the seam; it has no cells to remove."""

    def restrict(self, keep):
        raise ValueError(
            "absorbing: a Fourier spectral operator cannot remove cells (absorbing sets, exit domains, "
            "committors): it is not a Markov chain on the cells; use discretization='fv'"
        )
