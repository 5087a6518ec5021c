"""FokkerPlanck(model, grid, boundary): evolve densities, stationary laws, currents and spectra.

The forward Fokker-Planck equation of an Ito diffusion dX = b dt + sqrt(2D) dW,

    d_t p = -div(b p) + d_i d_j (D_ij p),

is discretized by a registered scheme (:mod:`fpsolve.discretize`) into an operator Q on the grid
cells (the generator of a Markov chain for finite volumes; docs/architecture.md) and solved as
dp/dt = Q^T p. Densities are grid-shaped arrays with ``p.sum() * grid.cell_volume == 1``.
"""

from __future__ import annotations

import hashlib
import time as _time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from tqdm.auto import tqdm

from . import checkpoint as _checkpoint
from . import discretize
from . import integrate as _integrate
from . import linalg
from .boundary import normalize_boundary
from .discretize.finite_volumes import PECLET_WARNING
from .generator import Generator, as_mask
from .grid import Grid
from .initial import as_density, require_density
from .plotting import grid_image
from ._warnings import warn as _warn

__all__ = ["FokkerPlanck", "Solution", "PECLET_WARNING"]


@dataclass(frozen=True, eq=False)
class Solution:
    """A computed evolution of a density.

    Attributes
    ----------
    t : np.ndarray
        The times asked for (continuous time; for SGD models t = lr * iterations).
    p : np.ndarray
        Densities, shape ``(len(t),) + grid.shape``.
    grid : Grid
    mass : np.ndarray
        Total probability at each time (decreases only through absorption).
    method : str
        The time integrator.
    stats : dict
        Steps, factorizations and wall time of the integration; for finite-volume runs also
        ``message``, the integrator's own account (its error bound, or why it fell back to another
        method).
    """

    t: np.ndarray
    p: np.ndarray
    grid: Grid
    mass: np.ndarray
    method: str
    stats: dict = field(default_factory=dict)
    _continue: Callable | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return (
            f"Solution(t = {self.t[0]:g} .. {self.t[-1]:g} at {len(self.t)} times, grid {self.grid.shape}, "
            f"mass {self.mass[-1]:.12g} at the end, method {self.method!r})"
        )

    def __call__(self, t: float) -> np.ndarray:
        """The density at time t: stored if t is an output time, else integrated from the last
        stored time before t with the same method (exact in time for the exponential method)."""
        t = float(t)
        if not self.t[0] <= t <= self.t[-1]:
            raise ValueError(f"t: {t:g} lies outside the computed interval [{self.t[0]:g}, {self.t[-1]:g}]")
        hit = np.flatnonzero(np.isclose(self.t, t, rtol=1e-12, atol=0))
        if hit.size:
            return self.p[hit[0]]
        i = int(np.searchsorted(self.t, t) - 1)
        return self._continue(self.p[i], self.t[i], t)

    def plot(self, ax=None, times=None):
        """Plot the density at (some of) the stored times: lines in 1-D, the last time in 2-D."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        if self.grid.ndim == 1:
            idx = range(len(self.t)) if times is None else [int(np.argmin(abs(self.t - s))) for s in times]
            for i in idx:
                ax.plot(self.grid.centers[0], self.p[i], label=f"t = {self.t[i]:g}")
            ax.set_xlabel(self.grid.axis_names[0])
            ax.set_ylabel("density")
            ax.legend()
        else:
            grid_image(ax, self.grid, self.p[-1])
            ax.set_title(f"t = {self.t[-1]:g}")
        return ax


class FokkerPlanck:
    """The Fokker-Planck equation of ``model`` on ``grid``.

    Parameters
    ----------
    model : fpsolve.dynamics.Model
        Langevin, SGD or any Ito diffusion.
    grid : Grid
    boundary : str, sequence or dict
        "reflecting" (default: a closed box), "absorbing", or per axis/face; periodic grid axes
        are periodic. See :func:`fpsolve.boundary.normalize_boundary`.
    absorbing : mask or predicate, optional
        Cells removed from the state space (absorbed on arrival), e.g. ``lambda x, y: x > 0``.
    discretization : str, optional
        A registered scheme (:func:`fpsolve.discretize.names`); default the one that suits the
        model (``"fv"``, finite volumes with exponentially fitted fluxes, for diffusions).
        ``"spectral"``: Fourier pseudo-spectral on all-periodic grids, Chebyshev otherwise
        (docs/spectral.md).
    options : dict, optional
        Keyword options of the scheme, e.g. ``{"filter": 36}`` for "spectral" (its docstring).

    Attributes
    ----------
    discretization : str
        The scheme's name.
    scheme : fpsolve.discretize.Discretization
    diagnostics : dict
        The scheme's own diagnostics at t = 0. For "fv", per axis: ``peclet`` (largest cell Peclet
        number), ``diffusion_resolution`` (h/l, l the shortest length on which D_kk changes by a
        factor e; for Hessian noise at an active floor, floor / |gradient of the eigenvalue|),
        ``drift_error`` (largest relative error of the discrete drift, h^2 |d_k b_k| / (12 D_kk)
        with a potential, whose curvature correction halves the fitted flux's h^2 |d_k b_k| / (6 D_kk):
        transient means are off by about this times the distance the density travels); and
        ``monotonicity``. docs/numerics.md, "Resolution reports".

    The scheme warns when the grid is too coarse (for finite volumes: cell Peclet number above
    :data:`PECLET_WARNING` where the density is not negligible, h/l above
    :data:`fpsolve.discretize.finite_volumes.DIFFUSION_RESOLUTION_WARNING`, or cross-diffusion
    that breaks the M-matrix property).
    """

    def __init__(
        self,
        model,
        grid: Grid,
        boundary="reflecting",
        absorbing=None,
        discretization: str | None = None,
        options: dict | None = None,
    ):
        if not isinstance(grid, Grid):
            raise TypeError(f"grid: expected an fpsolve.Grid, got {type(grid).__name__}")
        if getattr(model, "ndim", None) != grid.ndim:
            raise ValueError(f"grid: the model has dimension {getattr(model, 'ndim', None)}, the grid {grid.ndim}")
        scheme = discretize.choose(model) if discretization is None else discretize.get(discretization)
        self.model = model
        self.grid = grid
        self.boundary = normalize_boundary(grid, boundary)
        self.absorbing = None if absorbing is None else as_mask(grid, absorbing, "absorbing")
        if self.absorbing is not None and self.absorbing.all():
            raise ValueError("absorbing: every cell of the grid is absorbing; nothing is left to evolve")
        landscape = getattr(model, "landscape", None)
        if landscape is not None and landscape.ndim == grid.ndim:
            # (phase-space schemes check their own force and diffusion: U lives on theta only)
            landscape.require_finite(grid)
        self.scheme = scheme(model, grid, self.boundary, **dict(options or {}))
        self.discretization = scheme.name
        if self.absorbing is not None and not getattr(self.scheme, "absorbing_cells", True):
            raise ValueError(
                f"absorbing: the {scheme.name!r} scheme on this grid cannot remove cells; "
                "use discretization='fv' for absorbing sets"
            )
        self._cache: OrderedDict = OrderedDict()
        assembled = self._assemble(0.0)
        self.diagnostics = assembled.diagnostics
        self.scheme.report(assembled)

    def __repr__(self) -> str:
        return (
            f"FokkerPlanck({self.model!r}, {self.grid!r}, boundary={self.boundary}, "
            f"discretization={self.discretization!r})"
        )

    # --- the generator --------------------------------------------------------------------------
    def _assemble(self, t: float) -> discretize.Assembled:
        key = self.model.parameters(t)
        if key not in self._cache:
            self._cache[key] = self.scheme.assemble(t)
            while len(self._cache) > 32:
                self._cache.popitem(last=False)
        return self._cache[key]

    def generator_at(self, t: float = 0.0) -> Generator:
        """The generator Q at time t (models with schedules change with t)."""
        op = self._assemble(t)
        return Generator(
            op.generator, self.grid, self.absorbing, op.face_flux, self.scheme.markov, self.scheme.generator_like
        )

    @property
    def generator(self) -> Generator:
        """The generator Q at t = 0 (see :class:`fpsolve.generator.Generator`); ``.matrix`` is Q."""
        if not hasattr(self, "_generator0"):
            self._generator0 = self.generator_at(0.0)
        return self._generator0

    def fingerprint(self, times=()) -> str:
        """A hash of everything that determines this problem's results: the operator Q itself
        (so the model's parameters, the landscape's values on the grid, the grid and the
        boundary), the absorbing set, the scheme, and the model's parameters at ``times``."""
        digest = hashlib.sha256()
        Q = self.generator.matrix
        if self.generator.matrix_free:
            probe = np.cos(np.arange(Q.shape[0], dtype=float))  # a fixed, generic vector
            parts = [Q.diagonal(), Q.matvec(probe), Q.rmatvec(probe)]
        else:
            parts = [Q.indptr, Q.indices, Q.data]
        for part in parts + [self.generator.absorbing]:
            digest.update(np.ascontiguousarray(part).tobytes())
        digest.update(
            repr(
                (
                    self.grid,
                    self.boundary,
                    self.discretization,
                    [self.model.parameters(float(s)) for s in np.ravel(times)],
                )
            ).encode()
        )
        return digest.hexdigest()

    # --- forward evolution ------------------------------------------------------------------------
    def evolve(
        self,
        p0,
        t,
        method: str = "auto",
        *,
        progress: bool = False,
        rtol: float = 1e-8,
        dt=None,
        checkpoint=None,
        schedule_step=None,
    ) -> Solution:
        """Evolve the density ``p0`` and return it at the times ``t``.

        Parameters
        ----------
        p0 : array, shape ``grid.shape``
            Initial density at time ``t[0]`` (normalised; rescaled with a warning if only its mass
            is off). Mass on absorbing cells is dropped.
        t : sequence of float
            Increasing output times, ``t[0]`` the start.
        method : {"auto", "trbdf2", "bdf2", "exponential", "cram", "explicit"}
            See :func:`fpsolve.integrate.integrate`. "auto" (default) is "exponential" for
            models without schedules on Markov schemes (one shift-and-invert Krylov space for all
            output times, one real LU, exact in time) and "trbdf2" for models with schedules and
            for schemes that are not Markov chains (the kinetic scheme). "cram" (Chebyshev
            rational approximation, 8 complex LUs per time step) is faster in 1-D but can fail
            on drift-dominated, strongly non-normal generators. Schemes with their own
            integrators (``scheme.evolve_methods``) take only those: the Fourier "spectral"
            scheme integrates with "etdrk4" ("auto") or "imex" (:mod:`fpsolve.etdrk4`).
        progress : bool
            Show a progress bar.
        rtol, dt : float
            Tolerance of the adaptive implicit methods, or a fixed step.
        schedule_step : float, optional
            For models with lr/batch-size schedules. Piecewise-constant schedules (detected from
            64 samples over the run) are followed exactly: a step lands on each switch. Smooth
            schedules are frozen on intervals of ``schedule_step`` (default: the run length / 256)
            at each interval's midpoint, the exponential midpoint rule (second order in the
            interval); give a value to force that treatment or to refine it.
        checkpoint : str or Path, optional
            A file (.npz) where the density is saved atomically after each output time. If it
            exists (an interrupted run of the same problem), the finished output times are
            loaded and the evolution resumes from the last one.
        """
        times = np.asarray(t, dtype=float).ravel()
        if times.size == 0:
            raise ValueError("t: expected at least one output time")
        if getattr(self.scheme, "evolve_methods", ()):
            return self._evolve_by_scheme(p0, times, method, progress, rtol, dt, checkpoint)
        if method == "auto":
            # shift-and-invert Krylov needs a nearly normal operator; schemes that are not Markov
            # chains (second-order kinetic transport) are strongly non-normal: L-stable TR-BDF2
            method = "exponential" if self.model.autonomous and self.scheme.markov else "trbdf2"
        p0 = as_density(p0, self.grid, "p0")
        gen = self.generator
        start = gen.restrict(p0)
        operator = gen.forward if self.model.autonomous else _ScheduleOperator(self, times, schedule_step)
        begin = _time.perf_counter()
        if checkpoint is None:
            result = _integrate.integrate(
                operator, start * self.grid.cell_volume, times, method, progress=progress, rtol=rtol, dt=dt
            )
            states, steps, factorizations = result.y, result.steps, result.factorizations
            message = result.message
        else:
            message = "checkpointed run"
            states, steps, factorizations = self._evolve_with_checkpoint(
                operator, start * self.grid.cell_volume, times, method, rtol, dt, progress, checkpoint
            )
        elapsed = _time.perf_counter() - begin
        p = np.stack([gen.extend(y) for y in states]) / self.grid.cell_volume
        self._warn_negative(p, method, rtol)
        self.scheme.check_densities(p)
        stats = {
            "steps": steps,
            "factorizations": factorizations,
            "seconds": elapsed,
            "min_density": float(p.min()),
            "message": message,  # the integrator's own account: error bound, fallbacks
        }

        def resume(p_start, t_start, t_end):
            return self.evolve(p_start, [t_start, t_end], method, rtol=rtol, dt=dt, schedule_step=schedule_step).p[-1]

        return Solution(times, p, self.grid, self.grid.integrate(p), method, stats, resume)

    def _evolve_by_scheme(self, p0, times, method, progress, rtol, dt, checkpoint) -> Solution:
        """Evolution by the scheme's own integrators (``scheme.evolve_methods``; spectral schemes)."""
        own = self.scheme.evolve_methods
        method = own[0] if method == "auto" else method
        if method not in own:
            raise ValueError(f"method: the {self.discretization!r} scheme integrates with {own}, got {method!r}")
        if checkpoint is not None:
            raise ValueError(
                f"checkpoint: the {self.discretization!r} scheme's integrators do not checkpoint; "
                "evolve in segments (sol.p[-1] as the next p0)"
            )
        p0 = as_density(p0, self.grid, "p0")
        begin = _time.perf_counter()
        p, stats = self.scheme.evolve(p0, times, method, rtol=rtol, dt=dt, progress=progress)
        stats = dict(stats, seconds=_time.perf_counter() - begin, min_density=float(p.min()))
        self._warn_negative(p, method)
        self.scheme.check_densities(p)

        def resume(p_start, t_start, t_end):
            return self.scheme.evolve(p_start, np.array([t_start, t_end]), method, rtol=rtol, dt=dt)[0][-1]

        return Solution(times, p, self.grid, self.grid.integrate(p), method, stats, resume)

    def _evolve_with_checkpoint(self, operator, start, times, method, rtol, dt, progress, path):
        """Integrate output time to output time, saving the states after each (resumable)."""
        key = _checkpoint.fingerprint(self.fingerprint(times), method, rtol, dt, times, start)
        states = _checkpoint.load(path, key) or [start]
        steps = factorizations = 0
        bar = tqdm(total=len(times) - 1, initial=len(states) - 1, desc="evolve", disable=not progress)
        with bar:
            for k in range(len(states), len(times)):
                segment = _integrate.integrate(operator, states[-1], times[k - 1 : k + 1], method, rtol=rtol, dt=dt)
                states.append(segment.y[-1])
                steps += segment.steps
                factorizations += segment.factorizations
                _checkpoint.save(path, key, states)
                bar.update(1)
        return np.asarray(states), steps, factorizations

    def _warn_negative(self, p: np.ndarray, method: str, rtol: float = 1e-8) -> None:
        """Warn when densities went negative by more than the computation can explain.

        Markov schemes: the exact flow keeps p >= 0, so an undershoot is the integrator's error or
        a failure. "exponential" (Krylov space built to relative accuracy ``rtol``) and the adaptive
        "trbdf2"/"bdf2" (local error ``rtol``) leave undershoots up to about ``rtol`` times the peak
        where the density is ~0: not a failure, not reported. Other methods: round-off, 1e-12.
        """
        low = float(p.min())
        peak = float(np.abs(p).max())
        if not self.scheme.markov:
            # a second-order linear scheme cannot preserve positivity (Godunov): small undershoots
            # are its discretization error, not a failure of the time integrator
            advice = getattr(
                self.scheme,
                "undershoot_advice",
                (
                    f"the {self.discretization!r} scheme is second order but not positivity "
                    "preserving, and the grid is too coarse for the gradients of this density; "
                    "refine the grid (the undershoot shrinks at second order)"
                ),
            )
            if low < -NON_MARKOV_NEGATIVE * peak:
                where = "stationary" if method == "stationary" else "evolve"
                _warn(f"{where}: the density undershoots to {low:.3g} ({-low / peak:.1e} of its peak): {advice}")
            return
        tolerance = max(float(rtol), 1e-12) if method in _TOLERANCE_METHODS else 1e-12
        if low < -tolerance * peak:
            _warn(
                f"evolve: the density became negative ({low:.3g}, {-low / peak:.1e} of its peak, above "
                f"the tolerance {tolerance:.0e} of method {method!r}): "
                f"{_UNDERSHOOT_CAUSE.get(method, 'the time step was too large')}; "
                f"{_safe_methods(method)} safe for this M-matrix generator "
                f"({self.discretization!r} scheme){_tighter(method)}"
            )

    # --- stationary law, currents, spectrum --------------------------------------------------------
    def stationary(self) -> np.ndarray:
        """The stationary density (normalised), from the null space of Q^T.

        Solved as a bordered system, so it is exact in a reflecting box where the naive steady
        solve is singular. Raises ValueError when anything is absorbed. Schemes with their own
        stationary solve (spectral) are deferred to.
        """
        own = getattr(self.scheme, "stationary", None)
        if own is not None:
            p = own()
            self._warn_negative(p[None], "stationary")
            return p
        return self.generator.stationary().reshape(self.grid.shape) / self.grid.cell_volume

    def current(self, p) -> tuple:
        """The scheme's own probability current for density ``p`` (for finite volumes the face
        fluxes J_k: one array per axis, shaped like the grid with ``n_k + 1`` faces along axis k,
        in probability per unit time and unit face area)."""
        p = require_density(p, self.grid, "p", allow_negative=not self.scheme.markov)
        p = np.where(self.absorbing, 0.0, p) if self.absorbing is not None else p
        return self.scheme.current(self._assemble(0.0), p)

    def relaxation_rates(self, k: int = 1, *, rtol: float = linalg.RATES_RTOL) -> np.ndarray:
        """The k smallest nonzero relaxation rates (positive, ascending), in units of 1/time,
        each certified to relative accuracy ``rtol`` for this chain or refused with RuntimeError
        (see :func:`fpsolve.linalg.relaxation_rates`)."""
        if int(k) != k or k < 1:
            raise ValueError(f"k: expected a positive integer, got {k!r}")
        return self.generator.relaxation_rates(int(k), rtol=rtol)


#: Undershoot (relative to the peak) above which evolving with a non-Markov scheme warns: 1e-3
#: of the peak is below what a density plot shows and what marginals and moments feel at the
#: scheme's accuracy on resolved grids.
NON_MARKOV_NEGATIVE = 1e-3


class _ScheduleOperator:
    """The forward operator of a model with schedules, as ``operator(t) -> (key, A)`` for
    :func:`fpsolve.integrate.integrate`, with a cheap ``key(t)``.

    Piecewise-constant schedules: the key is the model's parameters at t (steps land on the
    switches). Smooth schedules: the parameters are frozen on intervals of ``step`` at the
    interval midpoints, so keys change only at interval ends.
    """

    def __init__(self, problem: FokkerPlanck, times: np.ndarray, step=None):
        self.problem = problem
        self.start = float(times[0])
        if step is None:
            samples = np.linspace(times[0], times[-1], 64)
            distinct = len({problem.model.parameters(s) for s in samples})
            step = (times[-1] - times[0]) / 256 if distinct > 16 else None
        elif not step > 0:
            raise ValueError(f"schedule_step: expected a positive time, got {step!r}")
        self.step = step

    def _time(self, t: float) -> float:
        if self.step is None:
            return t
        return self.start + (np.floor((t - self.start) / self.step) + 0.5) * self.step

    def key(self, t: float):
        return self.problem.model.parameters(self._time(t))

    def __call__(self, t: float):
        s = self._time(t)
        return self.problem.model.parameters(s), self.problem.generator_at(s).forward


#: Methods whose error is controlled by ``rtol`` (Krylov accuracy, adaptive local error).
_TOLERANCE_METHODS = ("exponential", "trbdf2", "bdf2")

#: Why each integrator can leave negative densities on an M-matrix generator.
_UNDERSHOOT_CAUSE = {
    "exponential": "the Krylov approximation of the exponential missed its tolerance",
    "cram": "the operator is too non-normal for a rational approximation on the real axis",
    "explicit": "the time step is above the explicit scheme's positivity limit",
}


def _tighter(method: str) -> str:
    """Advice for a method whose error follows ``rtol``: a smaller one shrinks the undershoot."""
    return "; or a smaller rtol" if method in _TOLERANCE_METHODS else ""


def _safe_methods(method: str) -> str:
    """The positivity-preserving integrators other than the one in use, as a phrase."""
    others = [f"method {m!r}" for m in ("exponential", "trbdf2") if m != method]
    return " or ".join(others) + (" is" if len(others) == 1 else " are")
