"""The Hermite-expanded kinetic operator: theta discretizations and Risken's block-tridiagonal matrix.

Pure functions for :mod:`fpsolve.hermite` (the solver object, conventions and references are in its
docstring). Unknowns are ordered mode by mode (n = 0 .. N - 1), each mode's theta points in order;
with ``"fd2"`` even modes live at the theta cell centres and odd modes on the interior faces (all
faces if periodic), with ``"fourier"`` every mode lives at the centres.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["hermite_functions", "theta_blocks", "assemble_operator"]


def hermite_functions(n_modes: int, u) -> np.ndarray:
    """psi_n(u) = He_n(u) / sqrt(n!) for n < n_modes, shape ``(n_modes,) + u.shape``.

    Orthonormal for the standard Gaussian weight w(u): int psi_n psi_m w du = delta_nm. Computed by
    the three-term recurrence u psi_n = sqrt(n + 1) psi_{n+1} + sqrt(n) psi_{n-1}."""
    u = np.asarray(u, dtype=float)
    out = np.empty((n_modes,) + u.shape)
    out[0] = 1.0
    if n_modes > 1:
        out[1] = u
    for n in range(1, n_modes - 1):
        out[n + 1] = (u * out[n] - np.sqrt(n) * out[n - 1]) / np.sqrt(n + 1)
    return out


def theta_blocks(model, grid, scheme: str, v_th: float) -> dict:
    """The theta operators between the points of even and odd modes, as sparse matrices.

    ``lift[a]`` applies A = v_th d_theta - F / v_th (to the points of parity a from the other
    parity's); ``grad[a]`` applies d_theta. ``scale[a]`` is s with c = s * (unknowns) at the points
    of parity a (1 for fd2). Parity 0 = centres; parity 1 = faces (fd2) or centres (fourier)."""
    if scheme == "fourier":
        return _fourier_blocks(model, grid, v_th)
    theta, h = grid.centers[0], grid.spacing[0]
    n, T = theta.size, v_th**2
    left = np.arange(n) if grid.periodic[0] else np.arange(n - 1)  # face j lies between left j and j + 1
    right, m = (left + 1) % n, left.size
    faces = np.arange(m)
    force = model.force(np.r_[theta, theta[left] + 0.5 * h])[0]
    G = sp.csr_matrix((np.r_[-np.ones(m), np.ones(m)] / h, (np.r_[faces, faces], np.r_[left, right])), shape=(m, n))
    # (Phi(centre) - Phi(face)) / T over the half cells on each side of face j, Phi' = -F
    to_left = _integral(model, grid, theta[left], 0.5 * h) / T
    to_right = -_integral(model, grid, theta[left] + 0.5 * h, 0.5 * h) / T
    # fitted A = v_th exp(-Phi / T) d_theta exp(Phi / T): centres -> face j, and faces -> centre i
    # (the right face j = i weighs exp(-to_left_j), the left face j = i - 1 weighs exp(-to_right_j))
    lift_c2f = (v_th / h) * sp.csr_matrix(
        (np.r_[-np.exp(to_left), np.exp(to_right)], (np.r_[faces, faces], np.r_[left, right])), shape=(m, n)
    )
    lift_f2c = (v_th / h) * sp.csr_matrix(
        (np.r_[np.exp(-to_left), -np.exp(-to_right)], (np.r_[left, right], np.r_[faces, faces])), shape=(n, m)
    )
    return {
        "sizes": (n, m),
        "lift": {1: lift_c2f, 0: lift_f2c},
        "grad": {1: G, 0: -G.T.tocsr()},
        "odd_to_centres": _midpoint_interpolation(n, m, grid.periodic[0], to_faces=False),
        "centres_to_odd": _midpoint_interpolation(n, m, grid.periodic[0], to_faces=True),
        "scale": (np.ones(n), np.ones(m)),
        "peclet": float(np.max(np.abs(force)) * h / T),
    }


def _midpoint_interpolation(n: int, m: int, periodic: bool, to_faces: bool) -> sp.csr_matrix:
    """Interpolation between the n cell centres and the m odd-mode faces at the midpoints between
    them: cubic, (-1, 9, 9, -1) / 16 (fourth order), centred where the four neighbours exist, else
    one-sided (5, 15, -5, 1) / 16 from the wall. On a specular wall the odd modes are 0, a known
    value that the stencils towards the centres use.

    Face j (of ``m``) lies between centres j and j + 1 (mod n if periodic); in the index of all
    n + 1 faces of a walled box it is face j + 1, the walls being faces 0 and n."""
    rows, cols, vals = [], [], []
    targets = m if to_faces else n
    sources = n if to_faces else (m if periodic else n + 1)
    for t in range(targets):
        # source index just left of the target: centre j for face j; face i - 1 (periodic) or
        # wall-inclusive face i for centre i
        base = t if (to_faces or not periodic) else t - 1
        stencil, weights = [base - 1, base, base + 1, base + 2], [-1 / 16, 9 / 16, 9 / 16, -1 / 16]
        if not periodic and stencil[0] < 0:
            stencil, weights = [base, base + 1, base + 2, base + 3], [5 / 16, 15 / 16, -5 / 16, 1 / 16]
        elif not periodic and stencil[-1] >= sources:
            stencil, weights = [base + 1, base, base - 1, base - 2], [5 / 16, 15 / 16, -5 / 16, 1 / 16]
        for s, w in zip(stencil, weights):
            s = s % sources if periodic else s
            if not to_faces and not periodic:
                if s in (0, n):
                    continue  # a wall face: the odd modes vanish there
                s -= 1
            rows.append(t)
            cols.append(s)
            vals.append(w)
    return sp.csr_matrix((vals, (rows, cols)), shape=(targets, m if not to_faces else n))


def _fourier_blocks(model, grid, v_th: float) -> dict:
    """Fourier collocation in Risken's symmetrized unknowns c_n = exp(-Phi / 2T) b_n (T = v_th^2),
    with Phi' = -(F - mean F) periodic (a tilted force keeps its mean f = mean F apart):

        d_t b_n = -sqrt(n) v_th (D - F~/2T - f/T) b_{n-1} - sqrt(n + 1) v_th (D + F~/2T) b_{n+1}
                  - n gamma b_n,   F~ = F - f.

    D is antisymmetric, so without tilt the transport blocks are exactly skew (L + L^T =
    diag(-2 n gamma)): every eigenvalue has Re <= 0 and evolution is stable whatever F, a
    non-periodic F on a wide periodic box included. Phi (Gauss-Legendre integration of F from the
    first point) only converts b_n to c_n."""
    theta, h = grid.centers[0], grid.spacing[0]
    n, T = theta.size, v_th**2
    D = sp.csr_matrix(_fourier_derivative(n, grid.bounds[0][1] - grid.bounds[0][0]))
    cell_integrals = _integral(model, grid, theta, h)
    tilt = cell_integrals.sum() / (n * h)
    half_force = sp.diags((model.force(theta)[0] - tilt) / (2 * T))
    phi = np.r_[0.0, -np.cumsum(cell_integrals[:-1] - tilt * h)] / T
    exponent = -0.5 * (phi - phi.min())
    if -exponent.min() > 600:
        raise ValueError(
            f"grid: exp(Phi / 2T) spans exp({-exponent.min():.0f}) over the theta box, beyond "
            f"double precision; narrow the theta box or use theta_scheme='fd2'"
        )
    lift = v_th * (D - half_force - sp.identity(n) * (tilt / T))
    eye = sp.identity(n, format="csr")
    return {
        "sizes": (n, n),
        "lift": {1: lift, 0: lift},
        "grad": {1: D + half_force, 0: D + half_force},
        "odd_to_centres": eye,
        "centres_to_odd": eye,
        "scale": (np.exp(exponent), np.exp(exponent)),
        "peclet": float(np.max(np.abs(model.force(theta)[0])) * h / T),
    }


#: Gauss-Legendre nodes and weights on [0, 1] for integrating the force over (half) cells: exact
#: for polynomials of degree 15, so round-off for any smooth F on a grid that resolves it.
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(8)
_NODES, _WEIGHTS = 0.5 * (_NODES + 1.0), 0.5 * _WEIGHTS


def _integral(model, grid, start, length: float) -> np.ndarray:
    """int_start^{start + length} F(theta) dtheta for each start, F taken at positions wrapped into
    the theta box on a periodic axis (the force the periodic problem sees)."""
    points = start[:, None] + length * _NODES[None, :]
    if grid.periodic[0]:
        lo, hi = grid.bounds[0]
        points = lo + np.mod(points - lo, hi - lo)
    return length * (model.force(points)[0] @ _WEIGHTS)


def _fourier_derivative(n: int, period: float) -> np.ndarray:
    """The Fourier collocation derivative on n equispaced points of one period (Nyquist mode
    dropped for even n, so the matrix is real and its columns sum to zero)."""
    k = 2 * np.pi / period * np.fft.fftfreq(n, d=1.0 / n)
    if n % 2 == 0:
        k[n // 2] = 0.0
    return np.real(np.fft.ifft(1j * k[:, None] * np.fft.fft(np.eye(n), axis=0), axis=0))


def assemble_operator(blocks: dict, n_modes: int, gamma: float, v_th: float) -> sp.csr_matrix:
    """The block-tridiagonal operator L of d_t c = L c, modes in order, each mode's theta points
    in order (Risken's vector recurrence)."""
    rows = [[None] * n_modes for _ in range(n_modes)]
    for n in range(n_modes):
        size = blocks["sizes"][n % 2]
        rows[n][n] = sp.identity(size, format="csr") * (-n * gamma)
        if n >= 1:
            rows[n][n - 1] = -np.sqrt(n) * blocks["lift"][n % 2]
        if n + 1 < n_modes:
            rows[n][n + 1] = -np.sqrt(n + 1) * v_th * blocks["grad"][n % 2]
    return sp.bmat(rows, format="csr")
