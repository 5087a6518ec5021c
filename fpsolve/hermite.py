"""Hermite spectral method in v for the kinetic Fokker-Planck equation (Risken ch. 10, Brinkman 1956).

For d theta = v dt, d v = (-gamma v + F(theta)) dt + sqrt(2 D_v) dW with constant gamma and D_v,
the phase-space density is expanded in the Hermite functions of the Maxwellian with the velocity
variance v_th^2 = D_v / gamma (u = v / v_th, w(u) = exp(-u^2/2) / sqrt(2 pi)):

    p(theta, v, t) = (1 / v_th) sum_{n < N} c_n(theta, t) psi_n(u) w(u),   psi_n = He_n / sqrt(n!),

so c_0 is the theta-marginal and c_n = int p psi_n(v / v_th) dv. The Ornstein-Uhlenbeck part in v
is diagonal (rate n gamma); transport and force couple n to n +- 1 (Risken's vector recurrence):

    d_t c_n = -sqrt(n) A c_{n-1} - sqrt(n + 1) v_th d_theta c_{n+1} - n gamma c_n,
    A = v_th d_theta - F / v_th = v_th exp(-Phi / v_th^2) d_theta exp(Phi / v_th^2),  Phi' = -F.

theta is discretized by

* ``"fd2"``: second-order finite differences on a staggered grid: even modes at the cell centres,
  odd modes on the faces. ``A`` is applied in its fitted form exp(-Phi/T) D exp(Phi/T) (T = v_th^2)
  with Phi integrated from F by Gauss-Legendre over half cells, so the discrete stationary law of a
  gradient force is exp(-Phi / T) at the centres to round-off (the Maxwell-Boltzmann law; only its
  normalisation, a midpoint sum, carries an O(h^2) error). For a gradient force the operator is
  skew in the exp(Phi / T)-weighted inner product apart from the friction: no mode grows. A specular wall
  (p(wall, v) = p(wall, -v)) makes the odd coefficients vanish there: the wall faces carry no
  odd unknowns.
* ``"fourier"`` (periodic theta only, an odd number of cells): Fourier collocation in Risken's
  symmetrized unknowns exp(Phi / 2T) c_n, spectral in theta and exactly skew apart from the
  friction (:func:`fpsolve.hermite_operator.theta_blocks`). A non-periodic force (a harmonic well)
  may be put on a periodic box wide enough that the density vanishes at its ends.

The state is a vector of coefficients, not a density on grid cells, and the operator is not the
generator of a Markov chain: this solver is not a registered discretization on the seam. It is a
standalone object whose results come back as arrays on a phase-space grid (point values at the
cell centres), for comparison with ``FokkerPlanck(model, grid, discretization="kinetic")``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse import linalg as sla
from scipy.special import ndtr

from ._warnings import warn
from .boundary import normalize_boundary
from .grid import Grid
from .hermite_operator import assemble_operator, hermite_functions, theta_blocks
from .momentum import is_kinetic

__all__ = ["HermiteKinetic", "HermiteSolution", "hermite_functions", "TRUNCATION_RTOL"]

#: Results are compared with those of the operator truncated to fewer Hermite modes (N - max(2,
#: N // 4)); a relative change above this means the expansion has not converged in N and the
#: result is refused. The expansion converges exponentially in N when it converges (a change of
#: 1e-6 then means the result itself is good to far better than that).
TRUNCATION_RTOL = 1e-6

#: Relative residual |L c| / (|L| |c|) accepted for a stationary solve or an eigenpair; round-off
#: of a sparse LU solve of these operators gives 1e-15 to 1e-13 (measured in tests/test_hermite.py).
RESIDUAL_RTOL = 1e-9

#: Relative L1 error tolerated when an initial law is represented by the Hermite modes (and, for
#: fd2, by odd modes on the faces): beyond it the evolution would start from another law.
PROJECTION_RTOL = 1e-3

#: Maxwellian mass outside the velocity box above which densities on the grid warn.
VELOCITY_BOX_WARNING = 1e-6

THETA_SCHEMES = ("fd2", "fourier")


@dataclass(frozen=True, eq=False)
class HermiteSolution:
    """Evolution by the Hermite solver: ``t`` (the times asked for), ``p`` (densities on the grid,
    point values at cell centres, shape ``(len(t),) + grid.shape``), ``coefficients`` (c_n(theta)
    at the theta cell centres, shape ``(len(t), n_hermite, n_theta)``) and ``marginal`` (c_0, the
    theta-marginal density, shape ``(len(t), n_theta)``)."""

    t: np.ndarray
    p: np.ndarray
    coefficients: np.ndarray

    @property
    def marginal(self) -> np.ndarray:
        return self.coefficients[:, 0, :]

    def __repr__(self) -> str:
        return f"HermiteSolution(t={self.t.tolist()}, n_hermite={self.coefficients.shape[1]})"


class HermiteKinetic:
    """The kinetic Fokker-Planck equation of a 1-D kinetic model, Hermite-expanded in v.

    Parameters
    ----------
    model : UnderdampedLangevin or MomentumSGD
        With constant friction gamma and isotropic (theta-independent) velocity diffusion D_v, and
        1-D theta (2-D phase space).
    grid : Grid
        A phase-space grid (:func:`fpsolve.phase_space_grid`): the theta axis sets the theta
        discretization (cells, periodic or walls); the v axis only says where densities are
        evaluated (the expansion itself covers all velocities).
    n_hermite : int
        Number N >= 2 of Hermite modes in v.
    theta_scheme : {"auto", "fd2", "fourier"}
        "auto" is "fourier" on a periodic theta axis, else "fd2".
    boundary : str
        "reflecting" (specular walls in theta, v -> -v; the only wall a Hermite expansion can
        impose). Absorbing walls or sets need half-range conditions: use the finite-volume
        scheme, ``FokkerPlanck(model, grid, discretization="kinetic")``.

    Times are the model's times; rates are 1/time.
    """

    def __init__(
        self, model, grid: Grid, n_hermite: int = 32, theta_scheme: str = "auto", boundary="reflecting", absorbing=None
    ):
        _require_supported(model, grid, boundary, absorbing)
        if isinstance(n_hermite, bool) or not isinstance(n_hermite, (int, np.integer)) or n_hermite < 2:
            raise ValueError(
                f"n_hermite: expected an integer >= 2 (N = 2 holds the Maxwellian and its equation), got {n_hermite!r}"
            )
        periodic = bool(grid.periodic[0])
        if theta_scheme == "auto":
            theta_scheme = "fourier" if periodic else "fd2"
        if theta_scheme not in THETA_SCHEMES:
            raise ValueError(f"theta_scheme: expected 'auto' or one of {THETA_SCHEMES}, got {theta_scheme!r}")
        if theta_scheme == "fourier" and not periodic:
            raise ValueError(
                "theta_scheme: 'fourier' needs a periodic theta axis (phase_space_grid("
                "..., periodic_theta=True)); for specular walls use theta_scheme='fd2'"
            )
        if theta_scheme == "fourier" and grid.shape[0] % 2 == 0:
            raise ValueError(
                f"grid: theta_scheme 'fourier' needs an odd number of theta cells (an even "
                f"count leaves the Nyquist mode undetermined); got {grid.shape[0]}, use "
                f"{grid.shape[0] + 1} or theta_scheme='fd2'"
            )
        self.model, self.grid = model, grid
        self.n_hermite = int(n_hermite)
        self.theta_scheme = theta_scheme
        self.periodic = periodic
        self.friction = float(model.friction_at(0.0))
        theta = grid.centers[0]
        self.velocity_diffusion = float(model.velocity_diffusion(theta[:1])[0, 0].ravel()[0])
        self.thermal_velocity = float(np.sqrt(self.velocity_diffusion / self.friction))
        blocks = theta_blocks(model, grid, theta_scheme, self.thermal_velocity)
        self._sizes = [blocks["sizes"][n % 2] for n in range(self.n_hermite)]
        self._offsets = np.concatenate([[0], np.cumsum(self._sizes)])
        self._odd_to_centres = blocks["odd_to_centres"]
        self._centres_to_odd = blocks["centres_to_odd"]
        self._scale = blocks["scale"]
        self.operator = assemble_operator(blocks, self.n_hermite, self.friction, self.thermal_velocity)
        self.diagnostics = {
            "cell_peclet": blocks["peclet"],
            "thermal_velocity": self.thermal_velocity,
            "unknowns": int(self._offsets[-1]),
        }

    def __repr__(self) -> str:
        return (
            f"HermiteKinetic({self.model!r}, n_hermite={self.n_hermite}, theta_scheme="
            f"{self.theta_scheme!r}, n_theta={self.grid.shape[0]})"
        )

    # ----------------------------------------------------------------- stationary law
    def stationary_coefficients(self, rtol: float = TRUNCATION_RTOL) -> np.ndarray:
        """The stationary c_n(theta) at the theta cell centres, shape ``(n_hermite, n_theta)``,
        with sum_i c_0(theta_i) h = 1 (c_0 is the theta-marginal). Refused when c_0 changes by
        more than ``rtol`` (relative to its maximum) with fewer Hermite modes."""
        full = self._stationary_vector(self.n_hermite)
        fewer = _fewer_modes(self.n_hermite)
        reduced = self._stationary_vector(fewer)
        marginal = full[: self._offsets[1]]
        change = np.max(np.abs(marginal - reduced[: self._offsets[1]])) / np.max(np.abs(marginal))
        if change > rtol:
            raise RuntimeError(
                f"n_hermite: the stationary marginal changes by {change:.2e} (relative) between "
                f"{fewer} and {self.n_hermite} Hermite modes; increase n_hermite"
            )
        return self._at_centres(full)

    def stationary_marginal(self, rtol: float = TRUNCATION_RTOL) -> np.ndarray:
        """The stationary theta-marginal c_0 at the theta cell centres (sum c_0 h = 1)."""
        return self.stationary_coefficients(rtol)[0]

    def stationary(self, rtol: float = TRUNCATION_RTOL) -> np.ndarray:
        """The stationary phase-space density at the grid's cell centres, shape ``grid.shape``."""
        return self.density(self.stationary_coefficients(rtol))

    def _stationary_vector(self, n_modes: int) -> np.ndarray:
        size = self._offsets[n_modes]
        # the mode-0 rows are dependent (fd2: mass conservation, sum_i h (L c)_{0,i} = 0 for every
        # c; fourier: to spectral accuracy); one is replaced by the normalisation sum_i h c_0(theta_i) = 1
        weights = self.grid.spacing[0] * self._scale[0] * np.ones(self._offsets[1])
        c = normalized_null_vector(self.operator[:size, :size], weights, f"{n_modes} modes")
        marginal = self._scale[0] * c[: self._offsets[1]]
        if marginal.min() < -RESIDUAL_RTOL * marginal.max():
            raise RuntimeError(
                f"stationary: the theta-marginal goes negative ({marginal.min():.2e} against "
                f"a maximum {marginal.max():.2e}); refine the theta grid"
            )
        return c

    # ----------------------------------------------------------------- spectrum
    def eigenvalues(self, k: int = 1, rtol: float = TRUNCATION_RTOL) -> np.ndarray:
        """The k eigenvalues lambda of the operator (d_t c = L c) with the smallest decay -Re lambda,
        the stationary 0 excluded, complex, sorted by -Re lambda then |Im lambda|.

        Found by shift-invert Arnoldi next to 0 (eigenvalues nearest 0 in modulus: with large
        imaginary parts a slower-decaying mode can rank behind; 2k + 6 are computed). Refused when
        they change by more than ``rtol`` (relative) with fewer Hermite modes, N - max(2, N // 4):
        that change is about the error of the smaller expansion, so a bound on this one's."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k: expected a positive integer, got {k!r}")
        full = self._eigenvalues(self.n_hermite, k)
        fewer = _fewer_modes(self.n_hermite)
        reduced = self._eigenvalues(fewer, k + 2)
        for value in full:
            change = np.min(np.abs(reduced - value)) / abs(value)
            if change > rtol:
                raise RuntimeError(
                    f"n_hermite: the eigenvalue {value:.6g} changes by {change:.1e} (relative) "
                    f"between {fewer} and {self.n_hermite} Hermite modes; increase n_hermite"
                )
        return full

    def relaxation_rates(self, k: int = 1, rtol: float = TRUNCATION_RTOL) -> np.ndarray:
        """-Re lambda of :meth:`eigenvalues` (a complex pair appears twice), positive, 1/time."""
        return -self.eigenvalues(k, rtol).real

    def _eigenvalues(self, n_modes: int, k: int) -> np.ndarray:
        size = self._offsets[n_modes]
        L = self.operator[:size, :size].tocsc()
        wanted = min(2 * k + 6, size - 2)
        if wanted < k + 1:
            raise ValueError(f"k: the operator with {n_modes} modes has only {size} unknowns")
        # a shift just right of 0 keeps L - shift nonsingular; eigenvalues near 0 keep an absolute
        # accuracy of about eps |shift| + eps |L| / separation
        shift = 1e-9 * sla.norm(L, 1)
        values, vectors = sla.eigs(L, k=wanted, sigma=shift, which="LM")
        order = np.argsort(np.abs(values))
        zero = values[order[0]]
        if abs(zero) > 1e-10 * sla.norm(L, 1):
            raise RuntimeError(f"eigenvalues: no stationary eigenvalue 0 found (nearest {zero:.3g})")
        rest = order[1:][np.lexsort((np.abs(values[order[1:]].imag), -values[order[1:]].real))][:k]
        for value, vector in zip(values[rest], vectors[:, rest].T):
            residual = np.linalg.norm(L @ vector - value * vector) / np.linalg.norm(vector)
            if residual > RESIDUAL_RTOL * sla.norm(L, 1):
                raise RuntimeError(
                    f"eigenvalues: the eigenpair at {value:.6g} has a relative residual "
                    f"{residual / sla.norm(L, 1):.1e}; it cannot be trusted"
                )
        return values[rest]

    # ----------------------------------------------------------------- evolution
    def evolve(self, p0, t) -> HermiteSolution:
        """Evolve the density ``p0`` (point values on the grid, shape ``grid.shape``) to the times
        ``t`` (non-decreasing, from 0) by the exact exponential of the linear ODE dc/dt = L c
        (scipy's expm_multiply). The initial law is projected on the Hermite modes; a projection
        that misses more than :data:`PROJECTION_RTOL` of it (relative L1 on the grid) is refused,
        and so is a result whose mass sum_i c_0 h has drifted by more than 1e-8 (relative)."""
        times = np.atleast_1d(np.asarray(t, dtype=float))
        if times.ndim != 1 or np.any(np.diff(times) < 0) or times[0] < 0 or not np.all(np.isfinite(times)):
            raise ValueError(f"t: expected finite non-decreasing times >= 0, got {t!r}")
        c = self.project(p0)
        out, now = [], 0.0
        for time in times:
            if time > now:
                c = sla.expm_multiply(self.operator * (time - now), c)
                now = time
            out.append(self._at_centres(c))
        coefficients = np.array(out)
        mass = coefficients[:, 0, :].sum(axis=1) * self.grid.spacing[0]
        if np.max(np.abs(mass - mass[0])) > 1e-8 * abs(mass[0]):
            raise RuntimeError(
                f"evolve: the mass drifted from {mass[0]:.12g} to {mass[-1]:.12g}; the "
                f"theta grid does not resolve the solution, refine it"
            )
        return HermiteSolution(times, np.array([self.density(x) for x in coefficients]), coefficients)

    def project(self, p0) -> np.ndarray:
        """The coefficient vector c_n = int p0(theta, v) psi_n(v / v_th) dv (midpoint rule in v)."""
        p0 = np.asarray(p0, dtype=float)
        if p0.shape != self.grid.shape or not np.all(np.isfinite(p0)):
            raise ValueError(f"p0: expected finite values of shape {self.grid.shape}, got {p0.shape}")
        v, dv = self.grid.centers[1], self.grid.spacing[1]
        psi = hermite_functions(self.n_hermite, v / self.thermal_velocity)
        centres = (p0 @ psi.T).T * dv
        scale = np.abs(p0).sum()
        missed = np.abs(self.density(centres, warn_box=False) - p0).sum() / scale
        if missed > PROJECTION_RTOL:
            raise ValueError(
                f"p0: {self.n_hermite} Hermite modes miss {missed:.1e} of the initial law "
                f"(relative L1); widen the velocity box (p0 must vanish at its ends), "
                f"increase n_hermite, or start from a law in v closer to N(0, v_th^2)"
            )
        parts = [
            centres[n] / self._scale[0] if n % 2 == 0 else self._centres_to_odd @ centres[n] / self._scale[1]
            for n in range(self.n_hermite)
        ]
        vector = np.concatenate(parts)
        staggered = np.abs(self.density(self._at_centres(vector), warn_box=False) - p0).sum() / scale
        if staggered > PROJECTION_RTOL:
            raise ValueError(
                f"p0: moving the odd Hermite modes to the cell faces changes the initial "
                f"law by {staggered:.1e} (relative L1; at a specular wall the odd modes "
                f"vanish); refine the theta grid, or start from a law wider in theta and "
                f"symmetric in v at the walls"
            )
        return vector

    def density(self, coefficients, warn_box: bool = True) -> np.ndarray:
        """p(theta_i, v_j) from c_n(theta_i) (shape ``(n_hermite, n_theta)``), point values at the
        grid's cell centres, shape ``grid.shape``."""
        v = self.grid.centers[1] / self.thermal_velocity
        weighted = hermite_functions(self.n_hermite, v) * np.exp(-0.5 * v**2) / np.sqrt(2 * np.pi)
        if warn_box:
            lo, hi = self.grid.bounds[1]
            outside = ndtr(lo / self.thermal_velocity) + ndtr(-hi / self.thermal_velocity)
            if outside > VELOCITY_BOX_WARNING:
                warn(
                    f"grid: the velocity box [{lo:g}, {hi:g}] leaves out {outside:.1e} of the "
                    f"Maxwellian (v_th = {self.thermal_velocity:.4g}); widen the v axis"
                )
        return np.asarray(coefficients).T @ weighted / self.thermal_velocity

    def _at_centres(self, c: np.ndarray) -> np.ndarray:
        modes = [c[self._offsets[n] : self._offsets[n + 1]] for n in range(self.n_hermite)]
        return np.array(
            [
                m * self._scale[0] if n % 2 == 0 else self._odd_to_centres @ (m * self._scale[1])
                for n, m in enumerate(modes)
            ]
        )


def _fewer_modes(n: int) -> int:
    return max(2, n - max(2, n // 4))


def _require_supported(model, grid, boundary, absorbing) -> None:
    fv = "use FokkerPlanck(model, grid, discretization='kinetic') (finite volumes) instead"
    if not is_kinetic(model):
        raise TypeError(
            f"model: the Hermite solver needs a kinetic model (UnderdampedLangevin, "
            f"MomentumSGD), got {type(model).__name__}"
        )
    if model.dim != 1:
        raise ValueError(
            f"model: HermiteKinetic supports 1-D theta (2-D phase space), got dim theta = {model.dim}; for "
            f"theta in R^2 use fpsolve.hermite_2d.HermiteKinetic2D (stationary laws), or {fv}"
        )
    if not getattr(model, "constant_diffusion", False) or not model.autonomous:
        raise ValueError(
            "model: the Hermite solver needs constant friction and isotropic, "
            "theta-independent velocity diffusion (noise='isotropic', no lr/batch/"
            f"friction/temperature schedules); {fv}"
        )
    if not isinstance(grid, Grid) or grid.ndim != 2:
        raise ValueError(f"grid: expected a 2-D phase-space grid (phase_space_grid), got {grid!r}")
    if grid.periodic[1]:
        raise ValueError("grid: the velocity axis must not be periodic (phase_space_grid never makes it so)")
    kinds = sum(normalize_boundary(grid, boundary), ())
    if absorbing is not None or "absorbing" in kinds:
        raise ValueError(
            "boundary: absorbing walls or sets need half-range (inflow) conditions that a "
            f"Hermite expansion in v cannot impose; {fv}"
        )


def normalized_null_vector(L, weights, what: str) -> np.ndarray:
    """The solution c of L c = 0 with sum_i weights_i c_i = 1, for a Hermite operator L whose
    first row (a mode-0 row, dependent on the others by mass conservation) is replaced by the
    normalisation; refused (RuntimeError) when L is singular beyond that or the solve leaves a
    relative residual above :data:`RESIDUAL_RTOL`. ``weights`` act on the first len(weights)
    coefficients (the mode-0 block); ``what`` names the truncation in messages."""
    A = sp.lil_matrix(L)
    A[0, :] = 0.0
    A[0, : len(weights)] = weights
    rhs = np.zeros(L.shape[0])
    rhs[0] = 1.0
    try:
        c = sla.splu(sp.csc_matrix(A)).solve(rhs)
    except RuntimeError as error:
        raise RuntimeError(
            f"stationary: the Hermite operator with {what} is singular ({error}); the stationary law is not unique"
        ) from None
    residual = np.max(np.abs(L @ c))
    scale = sla.norm(L, np.inf) * np.max(np.abs(c))
    if not np.all(np.isfinite(c)) or residual > RESIDUAL_RTOL * scale:
        raise RuntimeError(
            f"stationary: the solve left a relative residual {residual / scale:.1e} > {RESIDUAL_RTOL:g}; "
            f"refine the theta grid or change n_hermite"
        )
    return c
