"""Euler-Maruyama simulation of SDE models: states at given times and first exit times.

``simulator(model, dt, seed)`` compiles the model into a step kernel (:mod:`.compile`) and returns a
:class:`Simulator`. Paths run in parallel over ``numba.prange``; path ``p`` draws from its own
counter-based stream ``(seed, p)`` (:mod:`.rng`), so results are bitwise identical for any number of
threads and any chunking of the paths (``progress=True`` runs chunks under tqdm).

Per step (time ``t = k dt``, coefficients at the step's start)::

    x_new = step(x)                       # Euler-Maruyama, or a plug-in kernel
    x_new = walls(x_new)                  # mirror at non-periodic faces of `bounds`, wrap periodic;
                                          # phase space: v -> -v with theta (specular)
    exit if x_new is outside the domain, or (Box/HalfSpace) with the Brownian-bridge probability
        p = 1 - prod_faces [1 - exp(-2 d_old d_new / (sigma_n^2 dt))]

where ``d`` are distances to each face and ``sigma_n^2 = |S^T n|^2 = 2 D_nn`` the noise variance
along the face normal. With the bridge the exit-time bias is O(dt) (about -1.75 dt relative for
U = (x^2 - 1)^2, exit at the barrier top); a predicate domain is tested at step ends only, which
overestimates exit times by about +1.3 sqrt(dt) relative there (REFERENCES.md).

Reflection by mirroring the step end matches the PDE's reflecting (no-flux) box to first order in
sqrt(dt) near the wall; keep walls a few sqrt(2 D dt) away from where accuracy matters.

Plug-in models (phase space, Levy noise) provide their own step kernel: see :mod:`.compile`.
"""

from __future__ import annotations

import copy
import math
import types

import numpy as np
from numba import njit, prange

from ..grid import Grid
from .compile import StepKernel, compile_model
from .domains import Box, CompiledDomain, _always_inside, compile_domain
from .em_step import builtin_step
from .results import ExitTimes, Samples
from .rng import seed_stream, uniform

__all__ = ["Simulator", "simulator", "DEFAULT_MAX_STEPS"]

#: Guard against runaway requests: at most this many steps per path.
DEFAULT_MAX_STEPS = 10**9


@njit(cache=True, inline="always")
def _walls(x, lo, hi, periodic, partner):
    """Wrap periodic axes; mirror the others at the box faces. A mirrored axis ``a`` with
    ``partner[a] >= 0`` flips the sign of that coordinate too (specular walls in phase space:
    theta -> mirror, v -> -v)."""
    for a in range(x.shape[0]):
        if periodic[a]:
            width = hi[a] - lo[a]
            if x[a] < lo[a] or x[a] >= hi[a]:
                x[a] = lo[a] + (x[a] - lo[a]) % width
        else:
            mirrored = False
            if x[a] > hi[a]:
                x[a] = 2.0 * hi[a] - x[a]
                mirrored = True
            if x[a] < lo[a]:
                x[a] = 2.0 * lo[a] - x[a]
                mirrored = not mirrored
            if x[a] > hi[a]:  # a step longer than the box: clamp
                x[a] = hi[a]
            if mirrored and partner[a] >= 0:
                x[partner[a]] = -x[partner[a]]


#: Faces farther than this (in units of the exponent 2 d_old d_new / (sigma_n^2 dt)) are skipped:
#: their crossing probability is below exp(-36) = 2.3e-16 per step.
_FAR = 36.0


@njit(cache=True, inline="always")
def _crossing_probability(x_old, x_new, A, c, S, dt):
    """Brownian-bridge probability that a step from x_old to x_new (both inside) left A x < c."""
    survive = 1.0
    d = x_old.shape[0]
    for j in range(A.shape[0]):
        d_old = c[j]
        d_new = c[j]
        var = 0.0
        for i in range(d):
            d_old -= A[j, i] * x_old[i]
            d_new -= A[j, i] * x_new[i]
            proj = 0.0
            for k in range(d):
                proj += A[j, k] * S[k, i]
            var += proj * proj
        if var > 0.0:
            exponent = 2.0 * d_old * d_new / (var * dt)
            if exponent < _FAR:
                survive *= 1.0 - math.exp(-exponent)
    return 1.0 - survive


def crossing_probability_numpy(x_old, x_new, A, c, S, dt):
    """Numpy twin of the bridge test."""
    d_old, d_new = c - A @ x_old, c - A @ x_new
    var = np.sum((A @ S) ** 2, axis=1)
    exponent = 2.0 * d_old * d_new / (var * dt)
    return 1.0 - np.prod(np.where(exponent < _FAR, 1.0 - np.exp(-exponent), 1.0))


@njit(cache=True, inline="always")
def _outside(x, A, c):
    for j in range(A.shape[0]):
        s = 0.0
        for i in range(x.shape[0]):
            s += A[j, i] * x[i]
        if s >= c[j]:
            return True
    return False


@njit(cache=True, inline="always")
def _crossing_probability_fixed(x_old, x_new, A, c, inv_var_dt):
    """The bridge test with the per-face ``1 / (sigma_n^2 dt)`` precomputed (constant noise)."""
    survive = 1.0
    d = x_old.shape[0]
    for j in range(A.shape[0]):
        d_old = c[j]
        d_new = c[j]
        for i in range(d):
            d_old -= A[j, i] * x_old[i]
            d_new -= A[j, i] * x_new[i]
        exponent = 2.0 * d_old * d_new * inv_var_dt[j]
        if exponent < _FAR:
            survive *= 1.0 - math.exp(-exponent)
    return 1.0 - survive


@njit(cache=True)
def _inverse_face_variances(A, S, dt):
    """``1 / (|S^T n_j|^2 dt)`` per face (``inf`` where the noise has no component along n_j)."""
    out = np.empty(A.shape[0])
    d = S.shape[0]
    for j in range(A.shape[0]):
        var = 0.0
        for i in range(d):
            proj = 0.0
            for k in range(d):
                proj += A[j, k] * S[k, i]
            var += proj * proj
        out[j] = 1.0 / (var * dt) if var > 0.0 else np.inf
    return out


_DRIVERS: dict = {}

#: Parallelise the prange over paths only: converting the per-path array statements into nested
#: parfors would only slow the compilation down.
_PRANGE_ONLY = {
    "prange": True,
    "comprehension": False,
    "setitem": False,
    "numpy": False,
    "reduction": False,
    "inplace_binop": False,
    "stencil": False,
    "fusion": False,
}


#: The step and predicate that ``_run_paths`` calls: the cached built-in pair here; per-model
#: copies of the function rebind them (see ``_driver``).
_STEP, _INSIDE = builtin_step, _always_inside


def _run_paths(
    x0,
    seed,
    offset,
    dt,
    n_max,
    params,
    record,
    use_domain,
    A,
    c,
    bridge,
    fixed_noise,
    inv_var_dt,
    lo,
    hi,
    periodic,
    partner,
    out_x,
    out_step,
    out_loc,
):
    n, d = x0.shape
    n_rec = record.shape[0]
    test_bridge = use_domain and bridge and A.shape[0] > 0
    for p in prange(n):
        rng = np.empty(2, dtype=np.uint64)
        seed_stream(rng, seed, offset + p)
        x = np.empty(d)
        x_old = np.empty(d)
        S = np.empty((d, d))
        for i in range(d):
            x[i] = x0[p, i]
            for j in range(d):
                S[i, j] = 0.0
        r = 0
        while r < n_rec and record[r] == 0:
            for i in range(d):
                out_x[r, p, i] = x[i]
            r += 1
        exit_step = -1
        k = 0
        while k < n_max:
            for i in range(d):
                x_old[i] = x[i]
            _STEP(x, k * dt, dt, rng, params, S)
            _walls(x, lo, hi, periodic, partner)
            k += 1
            if use_domain:
                if _outside(x, A, c) or not _INSIDE(x):
                    exit_step = k
                    break
                if test_bridge:
                    if fixed_noise:
                        crossing = _crossing_probability_fixed(x_old, x, A, c, inv_var_dt)
                    else:
                        crossing = _crossing_probability(x_old, x, A, c, S, dt)
                    if crossing > 0.0 and uniform(rng) < crossing:
                        exit_step = k
                        break
            while r < n_rec and record[r] == k:
                for i in range(d):
                    out_x[r, p, i] = x[i]
                r += 1
        while r < n_rec:
            for i in range(d):
                out_x[r, p, i] = np.nan
            r += 1
        out_step[p] = exit_step
        for i in range(d):
            out_loc[p, i] = x[i]


_cached_run = njit(parallel=_PRANGE_ONLY, cache=True)(_run_paths)


def _driver(step, inside):
    """The parallel path loop ``_run_paths`` for one (step, predicate) pair.

    It runs paths ``offset .. offset + len(x0) - 1``. ``inv_var_dt`` holds the bridge test's
    per-face factors when the noise factor is constant (``fixed_noise``); otherwise they are
    computed from ``S`` at every step. The built-in pair (polynomial landscapes as data, no
    predicate) uses the copy cached on disk; any other pair gets a copy of the function whose
    globals ``_STEP``, ``_INSIDE`` are rebound, compiled once per process (a closure over user
    functions cannot be cached across processes).
    """
    if step is builtin_step and inside is _always_inside:
        return _cached_run
    key = (step, inside)
    if key not in _DRIVERS:
        scope = dict(globals(), _STEP=step, _INSIDE=inside)
        copy_ = types.FunctionType(_run_paths.__code__, scope, "_run_paths")
        _DRIVERS[key] = njit(parallel=_PRANGE_ONLY)(copy_)
    return _DRIVERS[key]


class Simulator:
    """Monte Carlo simulator of one model with a fixed step ``dt`` and seed.

    Parameters
    ----------
    model : Model
        Any :class:`fpsolve.dynamics.Model` without jumps (Euler-Maruyama from its drift,
        ``noise_amplitude`` and ``noise_covariance``), or any model with a step kernel.
    dt : float
        Time step (continuous time; for SGD models one SGD iteration is ``lr`` of time).
    seed : int
        Seed; path p uses stream (seed, p).
    domain : Box, HalfSpace or predicate, optional
        Default domain: ``sample`` kills paths that leave it (NaN afterwards) and ``exit_times``
        uses it when none is given.
    bounds : Grid or sequence of (lo, hi), optional
        Reflecting box (periodic axes of a Grid wrap), as in the PDE's default no-flux box.
    tabulate : Grid, optional
        Grid on which to tabulate functions that numba cannot compile.
    max_steps : int
        Refuse runs longer than this many steps per path.
    """

    def __init__(self, model, dt, seed=0, domain=None, bounds=None, tabulate=None, max_steps=DEFAULT_MAX_STEPS):
        if not (np.isfinite(dt) and dt > 0):
            raise ValueError(f"dt: expected a positive time step, got {dt!r}")
        self.model, self.dt, self.seed = model, float(dt), int(seed)
        self.max_steps = int(max_steps)
        self.kernel: StepKernel = compile_model(model, dt, bounds=bounds, tabulate=tabulate)
        d = self.kernel.state_dim
        self.state_dim = d
        self.lo, self.hi = np.full(d, -np.inf), np.full(d, np.inf)
        self.periodic = np.zeros(d, dtype=np.bool_)
        if bounds is not None:
            grid = bounds if isinstance(bounds, Grid) else Grid(bounds, 3)
            if grid.ndim != d:
                raise ValueError(f"bounds: {grid.ndim} axes for a state of dimension {d}")
            self.lo[:] = [lo for lo, _ in grid.bounds]
            self.hi[:] = [hi for _, hi in grid.bounds]
            self.periodic[:] = grid.periodic
        partner = self.kernel.reflect_partner
        self.partner = np.full(d, -1, dtype=np.int64) if partner is None else np.asarray(partner, dtype=np.int64)
        self.domain = domain
        self.notes = self.kernel.notes

    def __repr__(self):
        return f"Simulator({self.model!r}, dt={self.dt:g}, seed={self.seed})"

    def with_seed(self, seed: int) -> "Simulator":
        """A copy with another seed that shares the compiled kernels (no recompilation)."""
        other = copy.copy(self)
        other.seed = int(seed)
        return other

    # -- helpers ---------------------------------------------------------------------------------
    def _starts(self, x0, n_paths):
        d = self.state_dim
        x0 = np.asarray(x0, dtype=float)
        if x0.ndim == 2:
            if x0.shape[1] != d or (n_paths is not None and x0.shape[0] != n_paths):
                raise ValueError(f"x0: expected shape ({n_paths}, {d}), got {x0.shape}")
            starts = np.ascontiguousarray(x0)
        else:
            x0 = x0.reshape(-1)
            if x0.shape != (d,):
                raise ValueError(f"x0: expected a point with {d} coordinates, got {x0.shape}")
            if n_paths is None or int(n_paths) < 1:
                raise ValueError(f"n_paths: expected a positive integer, got {n_paths!r}")
            starts = np.repeat(x0[None, :], int(n_paths), axis=0)
        outside = np.any(((starts < self.lo) | (starts > self.hi)) & ~self.periodic, axis=1)
        if outside.any():
            raise ValueError(f"x0: start {starts[outside][0]} lies outside the box {self.lo}..{self.hi}")
        return starts

    def _domain(self, domain) -> CompiledDomain | None:
        domain = self.domain if domain is None else domain
        return None if domain is None else compile_domain(domain, self.state_dim)

    def _run(self, starts, n_max, record, domain: CompiledDomain | None, progress):
        if n_max > self.max_steps:
            raise ValueError(f"the run needs {n_max} steps per path, more than max_steps = {self.max_steps}")
        n, d = starts.shape
        params = self.kernel.parameters(n_max, self.dt)
        use = domain is not None
        A = domain.A if use else np.zeros((0, d))
        c = domain.c if use else np.zeros(0)
        inside = domain.predicate if use else compile_domain(Box([(-np.inf, np.inf)] * d), d).predicate
        run = _driver(self.kernel.step, inside)
        out_x = np.empty((len(record), n, d))
        out_step = np.empty(n, dtype=np.int64)
        out_loc = np.empty((n, d))
        noise = self.kernel.noise_factor
        fixed = noise is not None and A.shape[0] > 0
        inv_var_dt = _inverse_face_variances(A, noise, self.dt) if fixed else np.zeros(A.shape[0])

        chunks = np.array_split(np.arange(n), min(n, 20)) if progress else [np.arange(n)]
        if progress:
            from tqdm.auto import tqdm

            chunks = tqdm(chunks, desc="paths", unit="chunk")
        for chunk in chunks:
            if len(chunk) == 0:
                continue
            a, b = chunk[0], chunk[-1] + 1
            run(
                starts[a:b],
                self.seed,
                a,
                self.dt,
                n_max,
                params,
                record,
                use,
                A,
                c,
                self.kernel.bridge,
                fixed,
                inv_var_dt,
                self.lo,
                self.hi,
                self.periodic,
                self.partner,
                out_x[:, a:b],
                out_step[a:b],
                out_loc[a:b],
            )
        return out_x, out_step, out_loc

    # -- public ----------------------------------------------------------------------------------
    def sample(self, x0, n_paths=None, times=(1.0,), progress=False) -> Samples:
        """States at ``times`` (each rounded to a whole number of steps; relative mismatch > 1e-9
        raises). ``x0`` is a point or an ``(n_paths, d)`` array of starts."""
        starts = self._starts(x0, n_paths)
        times = np.atleast_1d(np.asarray(times, dtype=float))
        if np.any(np.diff(times) < 0) or np.any(times < 0):
            raise ValueError("times: expected non-negative times in increasing order")
        steps = np.rint(times / self.dt).astype(np.int64)
        if np.any(np.abs(steps * self.dt - times) > 1e-9 * np.maximum(times, self.dt)):
            raise ValueError(f"times: every time must be a multiple of dt = {self.dt:g}")
        x, _, _ = self._run(starts, int(steps[-1]), steps, self._domain(None), progress)
        alive = ~np.isnan(x).any(axis=2)
        return Samples(times=times, x=x, alive=alive, n_paths=len(starts), dt=self.dt, seed=self.seed)

    def exit_times(self, x0, n_paths=None, domain=None, t_max=None, progress=False) -> ExitTimes:
        """First exit times from ``domain`` (Box, HalfSpace or predicate), censored at ``t_max``."""
        starts = self._starts(x0, n_paths)
        cd = self._domain(domain)
        if cd is None:
            raise ValueError("domain: exit_times needs a domain (Box, HalfSpace or predicate)")
        if t_max is None or not t_max > 0:
            raise ValueError(f"t_max: expected a positive time limit, got {t_max!r}")
        for p in np.unique(starts, axis=0):  # every distinct start, not only the first
            if np.any(cd.A @ p >= cd.c) or not cd.predicate(p):
                raise ValueError(f"x0: the start {p} lies outside the domain")
        n_max = int(math.ceil(t_max / self.dt - 1e-9))
        _, step, loc = self._run(starts, n_max, np.zeros(0, dtype=np.int64), cd, progress)
        censored = step < 0
        times = np.where(censored, n_max * self.dt, step * self.dt)
        return ExitTimes(
            times=times,
            censored=censored,
            locations=loc,
            n_paths=len(starts),
            dt=self.dt,
            seed=self.seed,
            t_max=n_max * self.dt,
        )


def simulator(model, dt=1e-3, seed=0, domain=None, bounds=None, **options) -> Simulator:
    """Build a :class:`Simulator` (see its docstring)."""
    return Simulator(model, dt, seed=seed, domain=domain, bounds=bounds, **options)
