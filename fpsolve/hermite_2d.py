"""Hermite spectral method in v for the kinetic Fokker-Planck equation with theta in R^2 (4-D phase space).

The 2-D analogue of :mod:`fpsolve.hermite` (Risken ch. 10): for d theta = v dt,
d v = (-gamma v + F(theta)) dt + sqrt(2 D_v) dW with a constant scalar friction gamma and a constant
*diagonal* velocity diffusion D_v = diag(D_1, D_2), the density is expanded in products of the
Hermite functions of the Maxwellian with the velocity variances v_j^2 = D_j / gamma
(u_j = v_j / v_th_j, psi_n = He_n / sqrt(n!), w the standard normal density):

    p(theta, v) = sum_{n1 + n2 < N} c_n(theta) psi_n1(u_1) psi_n2(u_2) w(u_1) w(u_2) / (v_th_1 v_th_2),

so c_(0,0) is the theta-marginal and v_th_j c_(e_j) = int v_j p dv is the theta-current integrated
over the velocities. The Ornstein-Uhlenbeck part is diagonal (rate (n1 + n2) gamma) and transport
and force couple n to n +- e_j, axis by axis (Risken's vector recurrence in each velocity):

    d_t c_n = sum_j [ -sqrt(n_j) A_j c_{n - e_j} - sqrt(n_j + 1) v_th_j d_j c_{n + e_j} ] - |n| gamma c_n,
    A_j = v_th_j d_j - F_j / v_th_j.

theta is discretized on a staggered grid, axis by axis: a mode whose index n_j is even lives at
the cell centres along theta_j, an odd one on the interior faces (a specular wall, p(v) = p(-v)
there, makes the odd modes vanish on it). d_j is the centred difference between the two
staggerings and F_j c_{n - e_j} uses the mean of the two neighbours: second order in the cell
size, mass conserved exactly (the (0, 0) rows sum to zero against the cell volume). Unlike the
1-D solver, A_j is not applied in a fitted form: F need not be a gradient in these coordinates.

A correlated velocity noise (non-diagonal Sigma) must first be rotated to its principal axes:
theta' = R^T theta, v' = R^T v with Sigma = R diag(s) R^T makes D_v diagonal and the force
R^T F(R theta'); rotation-invariant results (the circulation E[theta1 v2 - theta2 v1], for
det R = +1) are unchanged (``fpsolve.cases.kunin`` does this).

The state is a coefficient vector, not a density on grid cells: like :class:`fpsolve.hermite.
HermiteKinetic` this is a standalone solver for the stationary law and its moments and currents,
not a discretization on the seam. Units: the model's (time, theta, v = theta / time).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .grid import Grid
from .hermite import normalized_null_vector
from .momentum import is_kinetic

__all__ = ["HermiteKinetic2D", "HermiteStationary2D", "hermite_modes", "staggered_axis", "MOMENT_RTOL", "FIELD_RTOL"]

#: Relative change of the theta-marginal and of the theta-current (the fields, drawn in figures)
#: tolerated between N and N - max(2, N // 4) Hermite modes. The fields converge in N more slowly
#: than the moments: for a harmonic force the equations of the modes of degree <= 2 close on
#: themselves (the moments are those of the truncated expansion at any N >= 3, up to the theta
#: discretization), while the shape of c_(0,0) takes higher modes (measured on the case
#: kunin_phase_space (b), 48^2 theta cells: 1.3e-3 between N = 3 and 4, 2.3e-4 between 6 and 8).
FIELD_RTOL = 1e-2

#: Relative change of the moments (mean, covariance, circulation; relative to the largest
#: |covariance| entry) tolerated between N and fewer Hermite modes. Measured: 1e-7 to 2e-6
#: between N = 3 and 4 (the staggered theta differences close the degree <= 2 equations only up to
#: round-off of their summation by parts and the walls), while the theta discretization itself
#: errs by 4e-4 or more on any grid that fits in memory (64^2 theta cells, case (b)): a truncation
#: change of 1e-5 is 40 times below that.
MOMENT_RTOL = 1e-5

MOMENTS = ("mean", "covariance", "circulation")
FIELDS = ("marginal", "current")


def hermite_modes(n_hermite: int) -> list:
    """The multi-indices (n1, n2) with n1 + n2 < n_hermite, by total degree then n2 (N(N + 1)/2)."""
    return [(total - k, k) for total in range(n_hermite) for k in range(total + 1)]


def staggered_axis(n: int, h: float, periodic: bool) -> dict:
    """1-D operators between the n cell centres (parity 0) and the faces carrying odd modes
    (parity 1: the n - 1 interior faces, or all n faces of a periodic axis; face j lies between
    centres j and j + 1). ``diff[(to, frm)]`` is the centred difference d/dtheta, ``mean[(to,
    frm)]`` the mean of the two neighbours; a wall face carries 0 (odd modes vanish there)."""
    m = n if periodic else n - 1
    faces = np.arange(m)
    left, right = faces, (faces + 1) % n
    ones = np.ones(m)
    jump = sp.csr_matrix((np.r_[-ones, ones] / h, (np.r_[faces, faces], np.r_[left, right])), shape=(m, n))
    average = sp.csr_matrix((np.r_[ones, ones] / 2, (np.r_[faces, faces], np.r_[left, right])), shape=(m, n))
    return {
        "sizes": (n, m),
        "diff": {(1, 0): jump, (0, 1): (-jump.T).tocsr()},
        "mean": {(1, 0): average, (0, 1): average.T.tocsr()},
    }


@dataclass(frozen=True, eq=False)
class HermiteStationary2D:
    """The stationary law of :class:`HermiteKinetic2D`, by its moments.

    ``mean`` and ``covariance`` are over (theta1, theta2, v1, v2) (shape (4,) and (4, 4));
    ``circulation`` is E[theta1 v2 - theta2 v1] = C[theta1, v2] - C[theta2, v1];
    ``theta``: the theta cell centres per axis; ``marginal``: the theta-marginal density at the
    centres (shape (n1, n2)); ``current``: int J_theta dv = int v p dv at the centres (shape
    (2, n1, n2), the face values averaged to the centres); ``truncation_change``: the relative
    change of each of these (mean, covariance, circulation, marginal, current) with fewer Hermite
    modes (the expansion's error estimate, :meth:`HermiteKinetic2D.stationary`)."""

    mean: np.ndarray
    covariance: np.ndarray
    circulation: float
    theta: tuple
    marginal: np.ndarray
    current: np.ndarray
    truncation_change: dict

    def __repr__(self) -> str:
        return (
            f"HermiteStationary2D(circulation={self.circulation:.6g}, var_theta="
            f"{np.diag(self.covariance)[:2].round(6).tolist()}, var_v={np.diag(self.covariance)[2:].round(6).tolist()})"
        )


class HermiteKinetic2D:
    """The stationary kinetic Fokker-Planck equation of a kinetic model with theta in R^2,
    Hermite-expanded in v (module docstring for the equations).

    Parameters
    ----------
    model : UnderdampedLangevin or MomentumSGD
        dim theta = 2, constant friction, constant (theta-independent) diagonal velocity diffusion,
        no schedules.
    grid : Grid
        A 4-D phase-space grid (:func:`fpsolve.phase_space_grid`) or a 2-D grid of theta: the
        theta axes set the theta discretization (cells, walls or periodic); velocity axes are
        not used (the expansion covers all velocities).
    n_hermite : int
        N >= 3: the modes n1 + n2 < N are kept (N (N + 1) / 2 of them, each on up to n1 n2 theta
        points: N = 6 on 48^2 theta cells is 4.8e4 unknowns, a sparse LU of seconds).
    """

    def __init__(self, model, grid: Grid, n_hermite: int = 6):
        _require_supported(model, grid)
        if isinstance(n_hermite, bool) or not isinstance(n_hermite, (int, np.integer)) or n_hermite < 3:
            raise ValueError(
                f"n_hermite: expected an integer >= 3 (the modes n1 + n2 <= 2 carry the velocity "
                f"covariance), got {n_hermite!r}"
            )
        self.model, self.grid, self.n_hermite = model, grid, int(n_hermite)
        self.friction = float(model.friction_at(0.0))
        theta = [grid.centers[k] for k in range(2)]
        diffusion = model.velocity_diffusion(*np.meshgrid(*theta, indexing="ij"))
        self.thermal_velocity = np.sqrt(np.array([diffusion[0, 0].flat[0], diffusion[1, 1].flat[0]]) / self.friction)
        self.axes = [staggered_axis(grid.shape[k], grid.spacing[k], bool(grid.periodic[k])) for k in range(2)]
        self.positions = [
            (grid.centers[k], grid.centers[k][: self.axes[k]["sizes"][1]] + 0.5 * grid.spacing[k]) for k in range(2)
        ]

    def __repr__(self) -> str:
        return f"HermiteKinetic2D({self.model!r}, n_hermite={self.n_hermite}, theta cells={self.grid.shape[:2]})"

    def unknowns(self, n_hermite: int | None = None) -> int:
        """The number of coefficients c_n(theta_i) with n_hermite modes (default: this solver's)."""
        return sum(self._size(n) for n in hermite_modes(n_hermite or self.n_hermite))

    def operator(self, n_hermite: int | None = None) -> sp.csr_matrix:
        """L of d_t c = L c (modes in :func:`hermite_modes` order, each mode's theta points in C
        order over its own staggered positions)."""
        modes = hermite_modes(n_hermite or self.n_hermite)
        index = {n: i for i, n in enumerate(modes)}
        blocks = [[None] * len(modes) for _ in modes]
        for i, n in enumerate(modes):
            blocks[i][i] = sp.identity(self._size(n), format="csr") * (-(n[0] + n[1]) * self.friction)
            for j in range(2):
                step = np.eye(2, dtype=int)[j]
                lower, upper = tuple(np.subtract(n, step)), tuple(np.add(n, step))
                if n[j] >= 1:
                    blocks[i][index[lower]] = -np.sqrt(n[j]) * self._lift(n, j)
                if upper in index:
                    blocks[i][index[upper]] = -np.sqrt(n[j] + 1) * self.thermal_velocity[j] * self._along(n, j, "diff")
        return sp.bmat(blocks, format="csr")

    def stationary(self, rtol: float = MOMENT_RTOL, field_rtol: float = FIELD_RTOL) -> HermiteStationary2D:
        """The stationary law's moments and theta-current, each checked against the expansion with
        N - max(2, N // 4) modes (at least 3; with N = 3 there is nothing to compare with, and the
        result is refused unless both tolerances are inf). Refused when the mean, the covariance or the circulation change by more
        than ``rtol`` (relative to the largest |covariance| entry), or the marginal or the current
        by more than ``field_rtol`` (relative to their maxima)."""
        full = self._moments(self._stationary_vector(self.n_hermite), self.n_hermite)
        fewer = max(3, self.n_hermite - max(2, self.n_hermite // 4))
        reduced = self._moments(self._stationary_vector(fewer), fewer) if fewer < self.n_hermite else None
        scale = np.max(np.abs(full["covariance"]))
        change = {
            key: float(
                np.max(np.abs(full[key] - reduced[key])) / (scale if key in MOMENTS else np.max(np.abs(full[key])))
            )
            if reduced is not None
            else np.inf
            for key in MOMENTS + FIELDS
        }
        for key, value in change.items():
            if value > (rtol if key in MOMENTS else field_rtol):
                raise RuntimeError(
                    f"n_hermite: the stationary {key} changes by {value:.2e} (relative) between {fewer} and "
                    f"{self.n_hermite} Hermite modes; increase n_hermite"
                )
        return HermiteStationary2D(
            theta=tuple(self.positions[k][0] for k in range(2)), truncation_change=change, **full
        )

    # ----------------------------------------------------------------- internals
    def _size(self, n) -> int:
        return self.axes[0]["sizes"][n[0] % 2] * self.axes[1]["sizes"][n[1] % 2]

    def _along(self, target, j: int, kind: str) -> sp.csr_matrix:
        """The 1-D operator ``kind`` along theta_j from the other staggering to that of mode
        ``target``, the identity along the other axis."""
        to = target[j] % 2
        op = self.axes[j][kind][(to, 1 - to)]
        other = sp.identity(self.axes[1 - j]["sizes"][target[1 - j] % 2], format="csr")
        return sp.kron(op, other, format="csr") if j == 0 else sp.kron(other, op, format="csr")

    def _lift(self, n, j: int) -> sp.csr_matrix:
        """A_j = v_th_j d_j - F_j / v_th_j from mode n - e_j's points to mode n's."""
        points = np.meshgrid(self.positions[0][n[0] % 2], self.positions[1][n[1] % 2], indexing="ij")
        force = self.model.force(*points)[j].ravel()
        vt = self.thermal_velocity[j]
        return vt * self._along(n, j, "diff") - sp.diags(force / vt) @ self._along(n, j, "mean")

    def _stationary_vector(self, n_hermite: int) -> np.ndarray:
        L = self.operator(n_hermite)
        size0 = self._size((0, 0))
        volume = self.grid.spacing[0] * self.grid.spacing[1]
        # the (0, 0) rows are dependent (mass conservation: sum_i volume (L c)_(0,0),i = 0 for
        # every c); the first is replaced by the normalisation sum_i volume c_(0,0)(theta_i) = 1
        return normalized_null_vector(L, volume * np.ones(size0), f"{n_hermite} modes")

    def _moments(self, c: np.ndarray, n_hermite: int) -> dict:
        """Mean, covariance, circulation, marginal and current from the modes of total degree <= 2."""
        modes = hermite_modes(n_hermite)
        offsets = np.concatenate([[0], np.cumsum([self._size(n) for n in modes])])
        coefficient = {n: c[offsets[i] : offsets[i + 1]] for i, n in enumerate(modes) if sum(n) <= 2}
        volume = self.grid.spacing[0] * self.grid.spacing[1]
        vt = self.thermal_velocity

        def integral(n, weight=None) -> float:
            points = np.meshgrid(self.positions[0][n[0] % 2], self.positions[1][n[1] % 2], indexing="ij")
            values = coefficient[n] if weight is None else coefficient[n] * weight(*points).ravel()
            return float(volume * values.sum())

        theta = (lambda a, b: a, lambda a, b: b)
        second = np.zeros((4, 4))
        for a in range(2):
            for b in range(2):
                second[a, b] = integral((0, 0), lambda x, y: theta[a](x, y) * theta[b](x, y))
                second[a, 2 + b] = second[2 + b, a] = vt[b] * integral(tuple(np.eye(2, dtype=int)[b]), theta[a])
            second[2 + a, 2 + a] = vt[a] ** 2 * (
                integral((0, 0)) + np.sqrt(2) * integral(tuple(2 * np.eye(2, dtype=int)[a]))
            )
        second[2, 3] = second[3, 2] = vt[0] * vt[1] * integral((1, 1))
        mean = np.array(
            [integral((0, 0), theta[0]), integral((0, 0), theta[1]), vt[0] * integral((1, 0)), vt[1] * integral((0, 1))]
        )
        covariance = second - np.outer(mean, mean)
        shape = self.grid.shape[:2]
        to_centres = [self._along((0, 0), j, "mean") for j in range(2)]
        current = np.stack(
            [
                vt[0] * (to_centres[0] @ coefficient[(1, 0)]).reshape(shape),
                vt[1] * (to_centres[1] @ coefficient[(0, 1)]).reshape(shape),
            ]
        )
        return dict(
            mean=mean,
            covariance=covariance,
            circulation=float(covariance[0, 3] - covariance[1, 2]),
            marginal=coefficient[(0, 0)].reshape(shape),
            current=current,
        )


def _require_supported(model, grid) -> None:
    fv = "use FokkerPlanck(model, grid, discretization='kinetic') (finite volumes) instead"
    if not is_kinetic(model):
        raise TypeError(
            f"model: the Hermite solver needs a kinetic model (UnderdampedLangevin, MomentumSGD), "
            f"got {type(model).__name__}"
        )
    if model.dim != 2:
        raise ValueError(
            f"model: HermiteKinetic2D is for theta in R^2, got dim theta = {model.dim}; "
            f"for dim theta = 1 use fpsolve.hermite.HermiteKinetic"
        )
    if not model.autonomous:
        raise ValueError(f"model: the Hermite solver needs a constant lr, batch size, friction and temperature; {fv}")
    if not isinstance(grid, Grid) or grid.ndim not in (2, 4):
        raise ValueError(f"grid: expected a 4-D phase-space grid or a 2-D grid of theta, got {grid!r}")
    if min(grid.shape[:2]) < 4:
        raise ValueError(f"grid: expected at least 4 theta cells per axis, got {grid.shape[:2]}")
    theta = np.meshgrid(*(grid.centers[k] for k in range(2)), indexing="ij")
    diffusion = np.asarray(model.velocity_diffusion(*theta), dtype=float)
    reference = diffusion[(...,) + (0, 0)]
    if np.max(np.abs(diffusion - reference[:, :, None, None])) > 1e-12 * np.max(np.abs(reference)):
        raise ValueError(
            f"model: the velocity diffusion varies with theta (noise={getattr(model, 'noise', None)!r}); the Hermite "
            f"solver needs a constant Sigma (an isotropic or constant callable noise); {fv}"
        )
    if abs(reference[0, 1]) > 1e-12 * np.max(np.abs(reference)):
        raise ValueError(
            f"model: the velocity diffusion {reference.round(6).tolist()} is not diagonal; rotate theta to the "
            f"principal axes of Sigma (theta' = R^T theta, Sigma = R diag(s) R^T, U'(theta') = U(R theta')) first"
        )
