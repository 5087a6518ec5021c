"""Finite-volume generator of an Ito diffusion: exponentially fitted (Scharfetter-Gummel) fluxes.

The Fokker-Planck equation is written in conservation form d_t p + div J = 0 with the Ito flux

    J_k = b_k p - sum_m d_m (D_km p)
        = (b_k - d_k D_kk) p - D_kk d_k p  -  sum_{m != k} d_m (D_km p).

On the face between neighbouring cells L and R along axis k (spacing h) the first part is the
Scharfetter-Gummel flux

    J = (D_f / h) [B(-Pe) p_L - B(Pe) p_R],    B(z) = z / (e^z - 1),

with face diffusion D_f = D_kk(face) and Peclet number

    Pe = -(V_R - V_L) / D_f - log(D_kk(R) / D_kk(L))     when b = -grad V (V known),
    Pe = h b_k(face) / D_f - log(D_kk(R) / D_kk(L))       otherwise.

For gradient drift with constant D this is exact at equilibrium: the discrete stationary law is
exp(-V/D) at the cell centres. When V is known, both rates of a face are multiplied by one factor
e^{-2 delta / 3}, delta the potential's curvature across the face (:func:`curvature_correction`):
it leaves the stationary law unchanged and removes the fitted flux's O(h^2) bulk error (exit times,
committors and Kramers rates become 20-100x more accurate on smooth landscapes). With state-dependent D the log term is the square-root-approximation
correction: in 1-D the stationary law is exp(-sum (V_R - V_L)/D_f) / D, the midpoint rule for
exp(-int V'/D) / D (second order). Cross terms -d_m(D_km p), m != k: where D is diagonally
dominant on the grid's scale, D splits into lattice directions and every link, axis or diagonal,
is fitted the same way (:mod:`fpsolve.discretize.fv_lattice`; all rates positive). Elsewhere they
are central differences of D_km p averaged over the two cells of the face (one-sided at walls),
which can make some rates negative (the generator is then not an M-matrix);
:class:`MonotonicityReport` says how often, and the limiter reroutes them.

Every face flux is a linear function of the cell values, J_k = F_k p, and the forward operator is
A = -sum_k Div_k F_k, so dp/dt = A p. The generator is Q = A^T: Q[i, j] >= 0 is the rate from
cell i to cell j; rows sum to zero except at absorbing box faces, where the deficit is the
killing rate. Boundaries per axis face: "reflecting" (no flux), "periodic", "absorbing"
(p = 0 on the face itself, a half-cell fitted flux: second order).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..boundary import BOUNDARIES, normalize_boundary
from . import fv_stencil as stencil
from .fv_curvature import curvature_correction, log_curvature_factor
from .fv_diagnostics import boltzmann_exponent, drift_error, relevant_peclet
from .fv_stencil import bernoulli
from .fv_stencil import along as _along
from .fv_lattice import assemble_lattice
from .fv_diffusion import cell_diffusion, has_cross_terms, require_positive_diffusion, without_roundoff_cross_terms
from .monotone import MonotonicityReport, limit_negative_rates, monotonicity

__all__ = [
    "BOUNDARIES",
    "normalize_boundary",
    "assemble",
    "FiniteVolumeOperator",
    "MonotonicityReport",
    "bernoulli",
    "curvature_correction",
]


@dataclass(frozen=True)
class FiniteVolumeOperator:
    """The assembled finite-volume discretization.

    Attributes
    ----------
    generator : scipy.sparse.csr_matrix
        Q, shape (N, N), N = grid.size, cells in C order.
    face_flux : tuple of scipy.sparse.csr_matrix
        F_k per axis, mapping cell values to fluxes on the faces of axis k; faces are indexed as an
        array of shape ``grid.shape`` with ``n_k + 1`` entries along axis k (C order).
    monotonicity : MonotonicityReport
    peclet : tuple of float
        The largest cell Peclet number |Pe| per axis over the faces that matter (see
        :func:`assemble`).
    diffusion_variation : tuple of numpy.ndarray
        Per axis, for every interior face (shaped like the ``left`` cells of that axis): the
        change of log D_kk sampled at the left centre, the face and the right centre,
        |log(D_f/D_L)| + |log(D_R/D_f)| (about h/l, l the length on which D_kk changes by a
        factor e); zero on faces whose density is negligible.
    drift_error : tuple of float
        Per axis, the largest relative error of the scheme's discrete drift over the cells that
        matter, |Pe(i + 1/2) - Pe(i - 1/2)| / 6 = h^2 |d_k b_k| / (6 D_kk) to leading order (the
        O(h^2) term of the fitted flux; transient means and covariances carry it).
    """

    generator: sp.csr_matrix
    face_flux: tuple
    monotonicity: MonotonicityReport
    peclet: tuple
    diffusion_variation: tuple = ()
    drift_error: tuple = ()


def assemble(
    model,
    grid,
    boundary="reflecting",
    t: float = 0.0,
    *,
    potential_cutoff: float = 40.0,
    limit: bool = True,
    curvature: bool = True,
    lattice: bool = True,
) -> FiniteVolumeOperator:
    """Assemble the finite-volume generator of ``model`` on ``grid`` at time ``t``.

    Parameters
    ----------
    model : fpsolve.dynamics.Model
        Provides ``drift``, ``diffusion`` and ``potential``.
    grid : fpsolve.grid.Grid
    boundary : str, sequence or dict
        See :func:`normalize_boundary`.
    t : float
        Time at which time-dependent coefficients are evaluated.
    limit : bool
        Remove negative rates (from cross diffusion) by adding, for each, the opposite transfer
        along a face path between the two cells: the generator becomes an M-matrix (densities
        stay non-negative, the stationary law and relaxation rates stay meaningful) and mass is
        conserved; consistency is lost only on those links. The returned ``monotonicity``
        report describes the scheme before limiting.
    potential_cutoff : float
        Faces and cells where the local Boltzmann weight exp(-(V - min V)/D) is below
        exp(-cutoff) are left out of the reported Peclet number and monotonicity (the density
        there is negligible).
    curvature : bool
        Apply :func:`curvature_correction` where V is known. Turn it off when D is not the
        diffusion of the law being solved for (the near field of a jump kernel, whose stationary
        law is not e^{-V/D}: there the correction would be an O(h^alpha) error, not a fix).
    lattice : bool
        With cross diffusion that is diagonally dominant on the grid's scale
        (D_kk / h_k^2 >= sum_m |D_km| / (h_k h_m) at every cell whose density matters, by the
        ``potential_cutoff`` criterion; elsewhere the cross terms are scaled down until it is),
        fit every link along the lattice
        directions of D (:mod:`fpsolve.discretize.fv_lattice`: all rates positive, second order,
        small loops balanced). False, or a tensor that is not dominant, gives the axis faces'
        fitted fluxes plus central cross differences, limited when ``limit``.

    Without cross diffusion (D diagonal everywhere) the face fluxes and Q are written directly in
    CSR form from the per-face rates (:func:`face_rates`), with no sparse products; with cross
    diffusion on the lattice directions likewise (from the per-link rates); with central cross
    differences Q = (sum_k -Div_k F_k)^T. The per-axis diagnostics (Peclet numbers, variation of
    D, drift error) describe the axis faces' resolution in every case.
    """
    bounds = normalize_boundary(grid, boundary)
    potential = model.potential(t)
    v_cell = _cell_potential(potential, grid)
    d_cell = cell_diffusion(model, grid, t)
    require_positive_diffusion(d_cell, grid)
    cross = has_cross_terms(d_cell)
    boltzmann = boltzmann_exponent(v_cell, d_cell)
    axes = [
        _axis_rates(model, grid, bounds, t, k, v_cell, d_cell, potential, boltzmann, potential_cutoff, curvature)
        for k in range(grid.ndim)
    ]
    cross = cross or any(axis.has_cross for axis in axes)
    if v_cell is not None:
        smallest = _smallest_diagonal(d_cell, grid)
        relevant = (v_cell - v_cell.min()) / smallest < potential_cutoff
    else:
        relevant = np.ones(grid.shape, dtype=bool)
    split = assemble_lattice(model, grid, bounds, t, d_cell, relevant) if cross and lattice else None
    if split is not None:
        # fitted links along the lattice directions: every rate positive by construction
        generator, flux_rows = split
        report = monotonicity(generator, relevant.ravel())
        return FiniteVolumeOperator(
            generator=generator,
            face_flux=flux_rows,
            monotonicity=report,
            peclet=tuple(axis.peclet for axis in axes),
            diffusion_variation=tuple(axis.variation for axis in axes),
            drift_error=tuple(axis.drift_error for axis in axes),
        )
    flux_rows = [_face_flux(grid, k, axis, d_cell, cross) for k, axis in enumerate(axes)]
    if cross or any(grid.periodic[k] and grid.shape[k] <= 2 for k in range(grid.ndim)):
        generator = _generator(grid, flux_rows)
        report = monotonicity(generator, relevant.ravel())
        if limit:
            flux_rows, changed = limit_negative_rates(grid, flux_rows, generator, _face_index)
            if changed:
                generator = _generator(grid, flux_rows)
    else:
        # every rate is a positive Bernoulli factor: an M-matrix by construction
        generator = _generator_from_rates(grid, axes)
        report = MonotonicityReport(0, _relevant_links(grid, relevant), 0.0)
    return FiniteVolumeOperator(
        generator=generator,
        face_flux=tuple(flux_rows),
        monotonicity=report,
        peclet=tuple(axis.peclet for axis in axes),
        diffusion_variation=tuple(axis.variation for axis in axes),
        drift_error=tuple(axis.drift_error for axis in axes),
    )


@dataclass(frozen=True)
class AxisRates:
    """The fitted rates of the faces of one axis (arrays shaped like the ``left`` cells: the grid
    with ``n_k - 1`` entries along k, or ``n_k`` on a periodic axis whose last face wraps).

    ``forward`` = D_f / h^2 B(-Pe) is the rate from L to R = L + e_k, ``backward`` = D_f / h^2 B(Pe)
    from R to L; ``killing`` = (low, high): the rate out through an absorbing box face of the
    first and last cells along k (shaped with one entry along k), or None."""

    forward: np.ndarray
    backward: np.ndarray
    killing: tuple
    peclet: float
    variation: np.ndarray
    drift_error: float
    cross: tuple = ()

    @property
    def has_cross(self) -> bool:
        return any(positive is not None for positive in self.cross)


def face_rates(model, grid, boundary="reflecting", t: float = 0.0) -> tuple:
    """Per axis, the :class:`AxisRates` of the scheme without cross diffusion: the rates the
    assembled Q and the matrix-free operator (:mod:`fpsolve.discretize.fv_matrix_free`) share.
    Raises ValueError if the model's diffusion tensor has cross terms."""
    bounds = normalize_boundary(grid, boundary)
    potential = model.potential(t)
    v_cell = _cell_potential(potential, grid)
    d_cell = cell_diffusion(model, grid, t)
    require_positive_diffusion(d_cell, grid)
    boltzmann = boltzmann_exponent(v_cell, d_cell)
    axes = tuple(
        _axis_rates(model, grid, bounds, t, k, v_cell, d_cell, potential, boltzmann, 40.0) for k in range(grid.ndim)
    )
    if has_cross_terms(d_cell) or any(axis.has_cross for axis in axes):
        raise ValueError(
            "model: its diffusion tensor has cross terms D_km (k != m), which couple diagonal "
            "neighbours: per-face rates do not describe the scheme; build the operator from the "
            "assembled generator (fv_matrix_free.from_generator)"
        )
    return axes


def _cell_potential(potential, grid):
    if potential is None:
        return None
    return np.broadcast_to(np.asarray(potential(*grid.mesh()), dtype=float), grid.shape)


def _smallest_diagonal(d_cell, grid):
    return np.min(np.broadcast_arrays(*[d_cell[k, k] for k in range(grid.ndim)]), axis=0)


def _axis_rates(model, grid, bounds, t, k, v_cell, d_cell, potential, boltzmann, cutoff, curvature=True) -> AxisRates:
    """The fitted rates and diagnostics of the faces of axis k (see :class:`AxisRates`)."""
    h = grid.spacing[k]
    periodic = bounds[k][0] == "periodic"
    left_shape = _along(boltzmann, k, 0, periodic).shape
    face_pos = [np.broadcast_to(c, left_shape) for c in _face_coordinates(grid, k, periodic)]
    constant = getattr(model, "constant_diffusion", False)
    if constant:
        d_face = d_cell[(slice(None), slice(None)) + (slice(0, 1),) * grid.ndim]
    else:
        d_face = without_roundoff_cross_terms(model.diffusion(*face_pos, t=t))
    dkk_face = d_face[k, k]
    dkk_l, dkk_r = _along(d_cell[k, k], k, 0, periodic), _along(d_cell[k, k], k, 1, periodic)
    log_ratio = 0.0 if constant else np.log(dkk_r / dkk_l)
    use_potential = v_cell is not None and (not periodic or _periodic_along(potential, grid, k))
    if use_potential:
        pe = -(_along(v_cell, k, 1, periodic) - _along(v_cell, k, 0, periodic)) / dkk_face - log_ratio
    else:
        b_face = np.broadcast_to(model.drift(*face_pos, t=t)[k], left_shape)
        if not np.all(np.isfinite(b_face)):
            bad = np.unravel_index(int(np.argmax(~np.isfinite(b_face))), b_face.shape)
            point = tuple(round(float(np.broadcast_to(c, b_face.shape)[bad]), 6) for c in face_pos)
            raise ValueError(f"drift: not finite ({b_face[bad]}) at x = {point}")
        pe = h * b_face / dkk_face - log_ratio
    pe = np.broadcast_to(pe, left_shape)
    rate = dkk_face / (h * h)
    correction = 0.0
    if use_potential and curvature:
        v_face = np.broadcast_to(np.asarray(potential(*face_pos), dtype=float), pe.shape)
        correction = curvature_correction(v_cell, v_face, dkk_l, dkk_face, dkk_r, k, periodic)
        rate = rate * np.exp(correction)
    forward, backward = rate * bernoulli(-pe), rate * bernoulli(pe)
    relevant_face = np.minimum(_along(boltzmann, k, 0, periodic), _along(boltzmann, k, 1, periodic)) < cutoff
    if constant:
        variation = np.zeros(pe.shape)
    else:
        change = np.abs(np.log(dkk_face / dkk_l)) + np.abs(np.log(dkk_r / dkk_face))
        variation = np.where(relevant_face, change, 0.0)
    # orientation of the cross-diffusion stencil per m != k (see _face_flux), None where D_km = 0
    cross = tuple(
        None if m == k or not np.any(d_face[k, m] != 0) else np.broadcast_to(d_face[k, m] > 0, pe.shape)
        for m in range(grid.ndim)
    )
    return AxisRates(
        forward=forward,
        backward=backward,
        killing=_absorbing_rates(model, grid, bounds, t, k, v_cell, d_cell, potential, use_potential, curvature),
        peclet=relevant_peclet(pe, v_cell, d_cell[k, k], k, periodic, cutoff),
        variation=variation,
        drift_error=drift_error(pe + log_ratio, correction, relevant_face, k, periodic),
        cross=cross,
    )


def _absorbing_rates(model, grid, bounds, t, k, v_cell, d_cell, potential, use_potential, curvature=True) -> tuple:
    """(low, high): outward rates 2 D_b / h^2 B(-Pe_out) of the first and last cells along k
    through absorbing box faces (p = 0 on the face, a fitted flux over half a cell), or None."""
    h, n = grid.spacing[k], grid.shape[k]
    out = []
    for side in (0, 1):
        if bounds[k][side] != "absorbing":
            out.append(None)
            continue
        index = [slice(None)] * grid.ndim
        index[k] = slice(0, 1) if side == 0 else slice(n - 1, n)
        shape = list(grid.shape)
        shape[k] = 1
        pos = [np.broadcast_to(c, shape) for c in _boundary_face_coordinates(grid, k, side)]
        dkk_b = np.broadcast_to(model.diffusion(*pos, t=t)[k, k], shape)
        dkk_c = d_cell[k, k][tuple(index)]
        sign = 1.0 if side == 1 else -1.0  # direction from the cell towards the face
        v_c = None if v_cell is None else v_cell[tuple(index)]
        if use_potential:
            v_b = np.broadcast_to(potential(*pos), shape)
            pe_out = -(v_b - v_c) / dkk_b
        else:
            pe_out = (h / 2) * sign * np.broadcast_to(model.drift(*pos, t=t)[k], shape) / dkk_b
        pe_out = pe_out - np.log(dkk_b / dkk_c)
        rate = 2.0 * dkk_b / (h * h) * bernoulli(-pe_out)
        if use_potential and curvature:
            # the half link's own curvature, from V at its midpoint a quarter cell from the centre
            quarter = [np.broadcast_to(c - sign * h / 4 if m == k else c, shape) for m, c in enumerate(pos)]
            v_q = np.broadcast_to(potential(*quarter), shape)
            dkk_q = np.broadcast_to(model.diffusion(*quarter, t=t)[k, k], shape)
            rate = rate * np.exp(log_curvature_factor(v_c, v_q, v_b, dkk_c, dkk_q, dkk_b))
        out.append(rate)
    return tuple(out)


def _face_flux(grid, k: int, axis: AxisRates, d_cell, cross: bool) -> sp.csr_matrix:
    """F_k, faces of axis k x cells, in CSR form: J = h (forward p_L - backward p_R) on interior
    faces, +-h killing p_cell on absorbing box faces; plus the cross terms when ``cross``."""
    h, n = grid.spacing[k], grid.shape[k]
    before, after = int(np.prod(grid.shape[:k])), int(np.prod(grid.shape[k + 1 :]))
    periodic = grid.periodic[k]

    def as3(array, length):
        return np.ascontiguousarray(np.broadcast_to(array, axis.forward.shape), dtype=float).reshape(
            before, length, after
        )

    def boundary(rate):
        return np.zeros((0, 0)) if rate is None else np.ascontiguousarray(rate, dtype=float).reshape(before, after)

    length = n if periodic else n - 1
    indptr, indices, data = stencil.face_flux_csr(
        before,
        n,
        after,
        periodic,
        h,
        as3(axis.forward, length),
        as3(axis.backward, length),
        boundary(axis.killing[0]),
        boundary(axis.killing[1]),
    )
    flux = sp.csr_matrix((data, indices, indptr), shape=(before * (n + 1) * after, grid.size))
    if periodic and n == 1:
        flux.sum_duplicates()  # the wrap face joins the only cell to itself
    if not cross:
        return flux
    index = np.arange(grid.size).reshape(grid.shape)
    left, right = _along(index, k, 0, periodic), _along(index, k, 1, periodic)
    rows, columns, values = [], [], []
    face_index = _face_index(grid, k, left.ravel()).reshape(left.shape)
    for m in range(grid.ndim):
        if m == k:
            continue
        # -d_m(D_km p): the mean of one-sided differences at L and R, oriented by the sign of D_km
        # so that the diagonal neighbours along the correlation get positive rates (the generator
        # stays an M-matrix while |D_km| is below the diagonal coefficients)
        positive = axis.cross[m] if axis.cross[m] is not None else np.zeros(left.shape, dtype=bool)
        for cells, forward in ((left, ~positive), (right, positive)):
            for r, c, a in _cross_terms(grid, np.asarray(d_cell[k, m]), cells, m, forward):
                rows.append(face_index.ravel()[r])
                columns.append(c)
                values.append(-0.5 * a)
    extra = sp.csr_matrix((np.concatenate(values), (np.concatenate(rows), np.concatenate(columns))), shape=flux.shape)
    return sp.csr_matrix(flux + extra)


def stencil_rates(grid, axes) -> tuple:
    """(offsets, rates, killing) of the generator without cross terms: offsets ``(2d, d)`` (+e_k,
    then -e_k, per axis), ``rates[s, i] = Q[i, i + offsets[s]]`` (zero towards a wall),
    ``killing[i]`` the rate out through absorbing box faces (:mod:`fpsolve.discretize.fv_stencil`)."""
    d = grid.ndim
    offsets = np.zeros((2 * d, d), dtype=np.int64)
    rates = np.zeros((2 * d,) + grid.shape)
    killing = np.zeros(grid.shape)
    for k, axis in enumerate(axes):
        periodic = grid.periodic[k]
        offsets[2 * k, k], offsets[2 * k + 1, k] = 1, -1
        _along(rates[2 * k], k, 0, periodic)[...] = axis.forward
        if periodic:
            rates[2 * k + 1] = np.roll(np.broadcast_to(axis.backward, grid.shape), 1, axis=k)
        else:
            _along(rates[2 * k + 1], k, 1, False)[...] = axis.backward
        for side, rate in enumerate(axis.killing):
            if rate is not None:
                cell = [slice(None)] * d
                cell[k] = slice(0, 1) if side == 0 else slice(grid.shape[k] - 1, grid.shape[k])
                killing[tuple(cell)] += rate
    return offsets, rates.reshape(2 * d, -1), killing.ravel()


def _generator_from_rates(grid, axes) -> sp.csr_matrix:
    """Q in CSR form from per-face rates (no cross terms), by :func:`fv_stencil.stencil_csr`."""
    offsets, rates, killing = stencil_rates(grid, axes)
    diagonal = -(rates.sum(axis=0) + killing)
    shape4, periodic4, offsets4, order = stencil.padded(grid.shape, grid.periodic, offsets)
    indptr, indices, data = stencil.stencil_csr(shape4, periodic4, offsets4, rates[order], diagonal)
    return sp.csr_matrix((data, indices, indptr), shape=(grid.size, grid.size))


def _relevant_links(grid, relevant) -> int:
    """Ordered pairs of face neighbours that both carry non-negligible density."""
    links = 0
    for k in range(grid.ndim):
        periodic = grid.periodic[k]
        links += 2 * int(np.count_nonzero(_along(relevant, k, 0, periodic) & _along(relevant, k, 1, periodic)))
    return links


def _generator(grid, flux_rows) -> sp.csr_matrix:
    """Q = (sum_k -Div_k F_k)^T."""
    forward = sum(_negative_divergence(grid, k) @ flux_rows[k] for k in range(grid.ndim))
    generator = sp.csr_matrix(forward.T)
    generator.sum_duplicates()
    generator.eliminate_zeros()
    return generator


@functools.lru_cache(maxsize=32)
def _negative_divergence(grid, k: int) -> sp.csr_matrix:
    """-Div_k: faces of axis k -> cells, -(J_high - J_low) / h, faces shaped n_k + 1 along k."""
    n, h = grid.shape[k], grid.spacing[k]
    shape_f = list(grid.shape)
    shape_f[k] = n + 1
    faces = np.arange(int(np.prod(shape_f))).reshape(shape_f)
    low = np.take(faces, np.arange(n), axis=k).ravel()
    high = np.take(faces, np.arange(1, n + 1), axis=k).ravel()
    cells = np.arange(grid.size)
    data = np.concatenate([np.full(grid.size, 1.0 / h), np.full(grid.size, -1.0 / h)])
    div = sp.csr_matrix(
        (data, (np.concatenate([cells, cells]), np.concatenate([high, low]))),
        shape=(grid.size, faces.size),
    )
    if grid.periodic[k]:
        # the face at index 0 is the wrap face stored at index n: route the low flux of the first
        # cells to it
        wrap = sp.identity(faces.size, format="lil")
        first = np.take(faces, [0], axis=k).ravel()
        last = np.take(faces, [n], axis=k).ravel()
        wrap[first, first] = 0.0
        wrap[first, last] = 1.0
        div = div @ wrap.tocsr()
    return -div


def _face_index(grid, k: int, cells: np.ndarray, side: int = 1) -> np.ndarray:
    """Index (in the (n_k + 1)-faces array) of the high (side=1) or low (side=0) face of cells."""
    n = grid.shape[k]
    shape_f = list(grid.shape)
    shape_f[k] = n + 1
    multi = np.unravel_index(cells, grid.shape)
    multi = list(multi)
    multi[k] = multi[k] + side
    return np.ravel_multi_index(multi, shape_f)


def _face_coordinates(grid, k: int, periodic: bool):
    """Coordinates of the faces between L and L + e_k, broadcastable to the L array."""
    coords = []
    for m, c in enumerate(grid.centers):
        shape = [1] * grid.ndim
        if m == k:
            vals = c + grid.spacing[k] / 2
            if not periodic:
                vals = vals[:-1]
        else:
            vals = c
        shape[m] = vals.size
        coords.append(vals.reshape(shape))
    return coords


def _boundary_face_coordinates(grid, k: int, side: int):
    coords = []
    for m, c in enumerate(grid.centers):
        shape = [1] * grid.ndim
        vals = np.array([grid.bounds[k][side]]) if m == k else c
        shape[m] = vals.size
        coords.append(vals.reshape(shape))
    return coords


def _cross_terms(grid, dkm_cell, cells, m, forward):
    """Terms of the m-derivative of q = D_km p at ``cells``: yields (positions, columns, coefficients).

    One-sided differences, (q(+) - q) / h_m where ``forward`` else (q - q(-)) / h_m. At a
    non-periodic wall where the chosen neighbour is missing the difference is dropped: this keeps
    the rates non-negative (flipping the side would not) at a first-order error confined to the
    cells along the wall.
    """
    n, h = grid.shape[m], grid.spacing[m]
    multi = list(np.unravel_index(cells.ravel(), grid.shape))
    forward = np.broadcast_to(forward, cells.shape).ravel()
    keep = np.ones(cells.size, dtype=bool)
    if not grid.periodic[m]:
        keep = np.where(forward, multi[m] < n - 1, multi[m] > 0)
    other = list(multi)
    other[m] = (multi[m] + np.where(forward, 1, -1)) % n
    own_idx = np.ravel_multi_index(multi, grid.shape)
    other_idx = np.ravel_multi_index(other, grid.shape)
    sign = np.where(forward, 1.0, -1.0) * keep
    dkm = dkm_cell.ravel()
    pos = np.arange(cells.size)
    yield pos, other_idx, sign * dkm[other_idx] / h
    yield pos, own_idx, -sign * dkm[own_idx] / h


def _periodic_along(potential, grid, k: int) -> bool:
    """Whether V takes equal values on the two faces of periodic axis k (else use the drift)."""
    lo = _boundary_face_coordinates(grid, k, 0)
    hi = _boundary_face_coordinates(grid, k, 1)
    v_lo, v_hi = np.asarray(potential(*lo), float), np.asarray(potential(*hi), float)
    scale = max(1.0, float(np.max(np.abs(v_lo))))
    return bool(np.allclose(v_lo, v_hi, rtol=0, atol=1e-10 * scale))
