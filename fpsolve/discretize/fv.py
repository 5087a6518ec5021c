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
exp(-V/D) at the cell centres. With state-dependent D the log term is the square-root-approximation
correction: in 1-D the stationary law is exp(-sum (V_R - V_L)/D_f) / D, the midpoint rule for
exp(-int V'/D) / D (second order). Cross terms -d_m(D_km p), m != k, are central differences of
D_km p averaged over the two cells of the face (one-sided at walls). They can make some rates
negative (the generator is then not an M-matrix); :class:`MonotonicityReport` says how often.

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
from .monotone import MonotonicityReport, limit_negative_rates, monotonicity

__all__ = ["BOUNDARIES", "normalize_boundary", "assemble", "FiniteVolumeOperator", "MonotonicityReport", "bernoulli"]


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


#: Smallest rate factor: B(z) underflows to 0 for z > 745, which would cut links of the chain in
#: one direction (a reducible chain with no detailed balance). Rates are floored at this value
#: instead; the density across such a face differs by more than e^700 anyway.
BERNOULLI_FLOOR = 1e-300


def bernoulli(z: np.ndarray) -> np.ndarray:
    """B(z) = z / (e^z - 1), with B(0) = 1, accurate for all real z (no overflow), floored at
    :data:`BERNOULLI_FLOOR`."""
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    small = np.abs(z) < 1e-6
    zs = z[small]
    out[small] = 1.0 - zs / 2.0 + zs * zs / 12.0
    zl = z[~small]
    with np.errstate(over="ignore"):
        out[~small] = np.where(zl > 700.0, zl * np.exp(-np.minimum(zl, 1e300)), zl / np.expm1(zl))
    return np.maximum(out, BERNOULLI_FLOOR)


def assemble(
    model, grid, boundary="reflecting", t: float = 0.0, *, potential_cutoff: float = 40.0, limit: bool = True
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
    """
    bounds = normalize_boundary(grid, boundary)
    d, n_cells = grid.ndim, grid.size
    index = np.arange(n_cells).reshape(grid.shape)
    centres = grid.mesh()
    potential = model.potential(t)
    v_cell = np.broadcast_to(potential(*centres), grid.shape) if potential is not None else None
    d_cell = _without_roundoff_cross_terms(model.diffusion(*centres, t=t))
    _require_positive_diffusion(d_cell, grid)

    flux_rows, peclets, variations, drift_errors = [], [], [], []
    boltzmann = _boltzmann_exponent(v_cell, d_cell)
    for k in range(d):
        h = grid.spacing[k]
        n = grid.shape[k]
        periodic = bounds[k][0] == "periodic"
        rows, cols, vals = [], [], []

        # interior (and periodic wrap) faces between L and R = L + e_k
        left = index if periodic else np.take(index, np.arange(n - 1), axis=k)
        right = np.roll(index, -1, axis=k) if periodic else np.take(index, np.arange(1, n), axis=k)
        face_pos = [np.broadcast_to(c, left.shape) for c in _face_coordinates(grid, k, periodic)]
        d_face = _without_roundoff_cross_terms(model.diffusion(*face_pos, t=t))
        dkk_face = d_face[k, k]
        dkk_l, dkk_r = d_cell[k, k].ravel()[left], d_cell[k, k].ravel()[right]
        use_potential = v_cell is not None and (not periodic or _periodic_along(potential, grid, k))
        if use_potential:
            dv = v_cell.ravel()[right] - v_cell.ravel()[left]
            pe = -dv / dkk_face - np.log(dkk_r / dkk_l)
        else:
            b_face = model.drift(*face_pos, t=t)[k]
            if not np.all(np.isfinite(b_face)):
                bad = np.unravel_index(int(np.argmax(~np.isfinite(b_face))), b_face.shape)
                point = tuple(round(float(c[bad]), 6) for c in face_pos)
                raise ValueError(f"drift: not finite ({b_face[bad]}) at x = {point}")
            pe = h * b_face / dkk_face - np.log(dkk_r / dkk_l)
        # face row index in the (n_k + 1)-faces array: the face on the high side of L
        face_index = _face_index(grid, k, left)
        coef = dkk_face / h
        rows += [face_index.ravel(), face_index.ravel()]
        cols += [left.ravel(), right.ravel()]
        vals += [(coef * bernoulli(-pe)).ravel(), (-coef * bernoulli(pe)).ravel()]
        peclets.append(_relevant_peclet(pe, v_cell, d_cell[k, k], left, right, potential_cutoff))
        relevant_face = np.minimum(boltzmann.ravel()[left], boltzmann.ravel()[right]) < potential_cutoff
        change = np.abs(np.log(dkk_face / dkk_l)) + np.abs(np.log(dkk_r / dkk_face))
        variations.append(np.where(relevant_face, change, 0.0))
        drift_errors.append(_drift_error(pe + np.log(dkk_r / dkk_l), relevant_face, k, periodic))

        # cross-diffusion -d_m(D_km p): the mean of one-sided differences at L and R, oriented by
        # the sign of D_km so that the diagonal neighbours along the correlation get positive rates
        # (the generator stays an M-matrix while |D_km| is below the diagonal coefficients)
        for m in range(d):
            if m == k:
                continue
            positive = d_face[k, m] > 0
            for cells, forward in ((left, ~positive), (right, positive)):
                for r, c, a in _cross_terms(grid, d_cell[k, m], cells, m, forward):
                    rows.append(face_index.ravel()[r])
                    cols.append(c)
                    vals.append(-0.5 * a)

        # absorbing box faces: p = 0 on the face, fitted flux over half a cell
        for side in (0, 1):
            if bounds[k][side] != "absorbing":
                continue
            cell = np.take(index, [0 if side == 0 else n - 1], axis=k)
            pos = [np.broadcast_to(c, cell.shape) for c in _boundary_face_coordinates(grid, k, side)]
            dkk_b = model.diffusion(*pos, t=t)[k, k]
            dkk_c = d_cell[k, k].ravel()[cell]
            sign = 1.0 if side == 1 else -1.0  # direction from the cell towards the face
            # Peclet number from the cell to the face, over half a cell
            if use_potential:
                pe_out = -(np.broadcast_to(potential(*pos), cell.shape) - v_cell.ravel()[cell]) / dkk_b
            else:
                pe_out = (h / 2) * sign * model.drift(*pos, t=t)[k] / dkk_b
            pe_out = pe_out - np.log(dkk_b / dkk_c)
            # outward flux (2 D / h) B(-Pe) p_cell, signed along +e_k
            rate = 2.0 * dkk_b / h * bernoulli(-pe_out)
            rows.append(_face_index(grid, k, cell, side=side).ravel())
            cols.append(cell.ravel())
            vals.append((sign * rate).ravel())

        n_faces = n_cells // n * (n + 1)
        flux = sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n_faces, n_cells)
        )
        flux_rows.append(flux)

    generator = _generator(grid, flux_rows)
    if v_cell is not None:
        smallest = np.min([d_cell[k, k] for k in range(d)], axis=0)
        relevant = ((v_cell - v_cell.min()) / smallest < potential_cutoff).ravel()
    else:
        relevant = np.ones(n_cells, dtype=bool)
    report = monotonicity(generator, relevant)
    if limit:
        flux_rows, changed = limit_negative_rates(grid, flux_rows, generator, _face_index)
        if changed:
            generator = _generator(grid, flux_rows)
    return FiniteVolumeOperator(
        generator=generator,
        face_flux=tuple(flux_rows),
        monotonicity=report,
        peclet=tuple(peclets),
        diffusion_variation=tuple(variations),
        drift_error=tuple(drift_errors),
    )


def _without_roundoff_cross_terms(tensor: np.ndarray, rtol: float = 1e-8) -> np.ndarray:
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


def _relevant_peclet(pe, v_cell, dkk, left, right, cutoff) -> float:
    pe = np.abs(pe)
    if v_cell is None or pe.size == 0:
        return float(pe.max(initial=0.0))
    weight = (v_cell - v_cell.min()) / dkk
    mask = np.minimum(weight.ravel()[left], weight.ravel()[right]) < cutoff
    return float(pe[mask].max(initial=0.0))


def _boltzmann_exponent(v_cell, d_cell) -> np.ndarray:
    """(V - min V) / max D_kk per cell (zero without a potential): a lower bound on the exponent
    of the stationary weight whatever D does in between (with state-dependent D the local D can
    be a floor's tiny value where the density is not small at all)."""
    if v_cell is None:
        return np.zeros(d_cell.shape[2:])
    largest = max(float(d_cell[k, k].max()) for k in range(d_cell.shape[0]))
    return (v_cell - v_cell.min()) / largest


def _drift_error(pe_drift, relevant_face, k: int, periodic: bool) -> float:
    """max |Pe_drift(i + 1/2) - Pe_drift(i - 1/2)| / 6 over cells whose two faces along k matter.

    For the fitted flux the discrete drift at cell i is -(D/h)(B(z_R) - B(z_L)) with z the face
    Peclet numbers; expanding B, it is the exact drift times 1 - (z_R + z_L)/6 + O(z^3): the
    relative error is the second difference of the Peclet number over 6 (h^2 V'' / (6 D))."""
    if periodic:
        jump = pe_drift - np.roll(pe_drift, 1, axis=k)
        both = relevant_face & np.roll(relevant_face, 1, axis=k)
    else:
        n = pe_drift.shape[k]
        jump = np.diff(pe_drift, axis=k)
        both = np.take(relevant_face, np.arange(1, n), axis=k) & np.take(relevant_face, np.arange(n - 1), axis=k)
    return float(np.abs(jump[both]).max(initial=0.0) / 6.0)


def _require_positive_diffusion(d_cell: np.ndarray, grid) -> None:
    """ValueError naming the first cell where D is not positive definite."""
    d = grid.ndim
    if d == 1:
        values = d_cell.reshape(-1)
        if not np.all(np.isfinite(values)):
            raise ValueError(f"diffusion: not finite at x = {_point(grid, int(np.argmin(np.isfinite(values))))}")
        if values.min() <= 0:
            bad = int(np.argmin(values))
            raise ValueError(
                f"diffusion: the diffusion matrix is not positive definite at x = {_point(grid, bad)}; "
                f"smallest eigenvalue {values[bad]:.3g}"
            )
        return
    moved = np.moveaxis(d_cell, (0, 1), (-2, -1)).reshape(-1, d, d)
    if not np.all(np.isfinite(moved)):
        bad = int(np.argwhere(~np.isfinite(moved).all(axis=(1, 2)))[0][0])
        raise ValueError(f"diffusion: not finite at x = {_point(grid, bad)}")
    asymmetry = np.abs(moved - np.swapaxes(moved, 1, 2)).max(axis=(1, 2))
    diagonal = np.abs(np.einsum("nii->ni", moved)).max(axis=1)
    if np.any(asymmetry > 1e-8 * diagonal):
        bad = int(np.argmax(asymmetry > 1e-8 * diagonal))
        raise ValueError(
            f"diffusion: the diffusion matrix is not symmetric at x = {_point(grid, bad)} "
            f"(|D - D^T| = {asymmetry[bad]:.3g}); a covariance must be symmetric"
        )
    smallest = np.linalg.eigvalsh(0.5 * (moved + np.swapaxes(moved, 1, 2)))[:, 0]
    if np.any(smallest <= 0):
        bad = int(np.argmin(smallest))
        raise ValueError(
            f"diffusion: the diffusion matrix is not positive definite at x = {_point(grid, bad)}; "
            f"smallest eigenvalue {smallest[bad]:.3g}"
        )


def _point(grid, flat: int) -> tuple:
    idx = np.unravel_index(flat, grid.shape)
    return tuple(round(float(c[i]), 6) for c, i in zip(grid.centers, idx))
