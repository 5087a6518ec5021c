"""The stationary law of the Fourier pseudo-spectral operator: its null vector with the mass fixed.

The unknown is the resolved trigonometric polynomial (modes |m_j| <= K_j), represented by its
values on the odd "resolved grid" of 2 K_j + 1 points per axis (a bijection, no Nyquist mode). With
E the trigonometric interpolation from that grid to the cell centres, R its inverse on resolved
functions and p_bar = 1 / |box| the uniform density of mass 1, the density is p = p_bar + E q with

    A q = R L E q + mean(q) = -R L p_bar.

L's output has zero mean (every term carries i k), so mean(q) = 0 at the solution and A is
nonsingular exactly when the null space of L is one-dimensional. In Fourier coefficients c the
same system is G c + c_0 e_0 with G the Galerkin matrix of the pseudo-spectral operator: the grid
product of a coefficient b with a resolved p is the aliased convolution
(b p)^_m = sum_m' b^_{(m - m') mod n} c_m' (b^ the DFT of b over n), so
G[m, m'] = -sum_i i k_i(m) b^_i[m - m'] - sum_ij k_i(m) k_j(m) D^_ij[m - m'] + F(m) delta_mm'
is assembled directly (no operator applications). It is solved densely up to DENSE_LIMIT modes;
beyond, GMRES on the FFT-applied operator is preconditioned by a two-level inverse: the dense
solve on the modes |m_j| <= K_c (COARSE_UNKNOWNS of them at most; they hold the drift-dominated
modes) and the diagonal Fourier part (mean diffusion, fractional symbol) on the others, where
diffusion dominates. The answer is checked by its normwise backward error and refused above
STATIONARY_BACKWARD_ERROR.
"""

from __future__ import annotations

import numpy as np
import scipy.fft as sfft
import scipy.linalg as sl
import scipy.sparse.linalg as spla

from ..etdrk4 import norm

__all__ = ["COARSE_UNKNOWNS", "DENSE_LIMIT", "STATIONARY_BACKWARD_ERROR", "stationary_modes"]

#: Up to this many resolved modes the Galerkin system is solved densely (a complex LU of 600^2:
#: ~0.02 s; measured on 2-D rotational drifts, 600 for both limits was fastest of 300, 600, 1000).
DENSE_LIMIT = 600

#: Size of the coarse dense block of the two-level GMRES preconditioner.
COARSE_UNKNOWNS = 600

#: Largest accepted normwise backward error ||L p|| / (||L|| ||p||) of the stationary density.
#: Dense LU reaches ~1e-15 and GMRES is driven to 1e-13; 1e-10 leaves room for FFT round-off. The
#: relative error of the law is at most cond(L on zero-mean modes) times this.
STATIONARY_BACKWARD_ERROR = 1e-10


def resample(values, cutoff, shape) -> np.ndarray:
    """Trigonometric interpolation of grid ``values`` (leading batch axes allowed), truncated to
    the modes |m_j| <= cutoff[j], onto a grid of ``shape`` (at least 2 cutoff + 1 points per axis)."""
    d = len(shape)
    axes = tuple(range(-d, 0))
    source = sfft.fftn(values, axes=axes)
    target = np.zeros(source.shape[:-d] + tuple(shape), complex)
    index = tuple(np.r_[0 : K + 1, -K:0] for K in cutoff)
    taken = source[(Ellipsis,) + np.ix_(*index)]
    target[(Ellipsis,) + np.ix_(*index)] = taken
    return np.real(sfft.ifftn(target, axes=axes)) * (np.prod(shape) / np.prod(values.shape[-d:]))


def stationary_modes(op, volume: float) -> np.ndarray:
    """Resolved Fourier coefficients (rfftn layout) of the stationary density of ``op``
    (a :class:`fpsolve.discretize.fourier_operator.FourierOperator`) with mass 1 on a box of
    volume ``volume``."""
    resolved = tuple(2 * K + 1 for K in op.cutoff)
    n_modes = int(np.prod(resolved))
    uniform = np.full(op.shape, 1.0 / volume)
    if n_modes <= DENSE_LIMIT:
        galerkin = _galerkin(op, op.cutoff)
        rhs = -galerkin[:, 0] / volume  # L p_bar: the mean mode is the first
        galerkin[0, 0] += 1.0
        c = sl.lu_solve(sl.lu_factor(galerkin), rhs)
        q = np.real(sfft.ifftn(c.reshape(resolved))) * n_modes  # values on the resolved grid
    else:
        rhs = resample(op.forward(uniform), op.cutoff, resolved).ravel()
        q = _gmres(op, _system(op, op.cutoff), -rhs)
    p = uniform + resample(q.reshape(resolved), op.cutoff, op.shape)
    scale = float(
        np.abs(op.symbol).max() + sum(np.abs(op.drift[i]).max() * np.abs(k).max() for i, k in enumerate(op.wavenumbers))
    )
    backward_error = norm(op.forward(p)) / (scale * norm(p))
    if not backward_error <= STATIONARY_BACKWARD_ERROR:
        raise RuntimeError(
            f"stationary: the spectral null-space solve reached a backward error of {backward_error:.2g} "
            f"(limit {STATIONARY_BACKWARD_ERROR:g}, {'dense LU' if n_modes <= DENSE_LIMIT else 'GMRES'} on "
            f"{n_modes} resolved modes); the operator is too ill-conditioned or too drift-dominated "
            "at this resolution; use discretization='fv', whose stationary solve is exact by elimination"
        )
    return op.to_modes(p)


def _mode_numbers(cutoff) -> np.ndarray:
    """Integer modes |m_j| <= K_j in FFT order of the grid of 2 K_j + 1 points, shape (M, d)."""
    axes = [np.r_[0 : K + 1, -K:0] for K in cutoff]
    return np.stack([m.ravel() for m in np.meshgrid(*axes, indexing="ij")], axis=1)


def _galerkin(op, cutoff) -> np.ndarray:
    """The complex Galerkin matrix G of the pseudo-spectral operator on the modes |m_j| <= cutoff
    (rows and columns in the FFT order of the (2 K + 1)-point grid; see the module docstring)."""
    d = op.ndim
    m = _mode_numbers(cutoff)
    k = [2 * np.pi * m[:, j] / op.lengths[j] for j in range(d)]
    difference = tuple((m[:, None, j] - m[None, :, j]) % op.shape[j] for j in range(d))
    size = float(np.prod(op.shape))
    G = np.zeros((len(m), len(m)), complex)
    for i in range(d):
        G -= (1j * k[i])[:, None] * (sfft.fftn(op.drift[i]) / size)[difference]
        for j in range(d):
            G -= (k[i] * k[j])[:, None] * (sfft.fftn(op.diffusion[i, j]) / size)[difference]
    G[np.diag_indices(len(m))] += _fractional_at(op, m)
    return G


def _fractional_at(op, m) -> np.ndarray:
    """The fractional symbol at integer modes m (M, d), read from the half-grid (even in each k_j)."""
    index = tuple(np.abs(m[:, j]) if j == op.ndim - 1 else m[:, j] for j in range(op.ndim))
    return op.fractional[index]


def _system(op, cutoff):
    """q -> R_c L E_c q + mean(q) on the grid of 2 cutoff + 1 points per axis (batched)."""
    shape = tuple(2 * K + 1 for K in cutoff)

    def apply(q):
        q = q.reshape((-1,) + shape)
        image = resample(op.forward(resample(q, cutoff, op.shape)), cutoff, shape)
        mean = q.mean(axis=tuple(range(1, 1 + len(shape))), keepdims=True)
        return (image + mean).reshape(q.shape[0], -1)

    return apply


def _gmres(op, apply, rhs):
    """GMRES with the two-level preconditioner (dense coarse modes, diagonal symbol above)."""
    d = op.ndim
    resolved = tuple(2 * K + 1 for K in op.cutoff)
    coarse_k = int((COARSE_UNKNOWNS ** (1.0 / d) - 1) // 2)
    coarse = tuple(min(K, coarse_k) for K in op.cutoff)
    coarse_modes = _mode_numbers(coarse)
    galerkin = _galerkin(op, coarse)
    galerkin[0, 0] += 1.0
    lu = sl.lu_factor(galerkin)
    m = _mode_numbers(op.cutoff)
    k = [2 * np.pi * m[:, j] / op.lengths[j] for j in range(d)]
    mean_d = op.diffusion.mean(axis=tuple(range(2, 2 + d)))
    symbol = -sum(mean_d[i, j] * k[i] * k[j] for i in range(d) for j in range(d)) + _fractional_at(op, m)
    low = np.all(np.abs(m) <= np.array(coarse), axis=1)
    inverse = np.where(low | (symbol == 0), 0.0, 1.0 / np.where(symbol == 0, 1.0, symbol))
    coarse_position = np.ravel_multi_index(tuple(coarse_modes[:, j] % resolved[j] for j in range(d)), resolved)
    n_modes = int(np.prod(resolved))

    def precondition(v):
        c = sfft.fftn(v.reshape(resolved)).ravel() / n_modes
        z = c * inverse
        z[coarse_position] = sl.lu_solve(lu, c[coarse_position])
        return np.real(sfft.ifftn(z.reshape(resolved))).ravel() * n_modes

    operator = spla.LinearOperator((n_modes, n_modes), matvec=lambda v: apply(precondition(v)).ravel(), dtype=float)
    # GMRES's true residual stalls near 1e-13 relative (FFT round-off) while its recurrence goes on
    # falling, so its flag is not the verdict: the backward-error check of the caller is
    y, _ = spla.gmres(operator, rhs, rtol=1e-12, atol=0.0, restart=100, maxiter=4)
    return precondition(y)
