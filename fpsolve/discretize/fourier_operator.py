"""The Fokker-Planck operator on a periodic box, applied pseudo-spectrally (Fourier collocation).

On a periodic box of lengths L_j sampled at the n_j cell centres of each axis, a density is the
trigonometric polynomial through its point values. The forward operator is applied in flux form,

    L p = -div J,    J_i = b_i p - sum_j d_j (D_ij p)     (Ito: d_t p = -div(b p) + d_i d_j (D_ij p)),

plus, for alpha-stable jumps, the diagonal fractional symbol -sum_j eps_j^alpha_j |k_j|^alpha_j
(per-axis laws) or -eps^alpha |k|^alpha (isotropic). Products with the coefficients b(x) and D(x)
are taken at the grid points (pseudo-spectral), derivatives are exact on the modes. The 2/3 rule
dealiases the products: the input density and the output are both truncated to the resolved modes
|m_j| <= K_j = (n_j - 1) // 3 (without dealiasing, K_j = (n_j - 1) // 2: the Nyquist mode is
always dropped, so first derivatives stay antisymmetric and half-cell shifts stay real).

With P the projection onto the resolved modes and d_i the (antisymmetric) spectral derivative, the
operator is the matrix L = sum_i d_i P diag(-b_i) P + sum_ij d_i d_j P diag(D_ij) P + F P (F the
fractional multiplier); its transpose, the backward generator Q = L^T, is
Q f = P[b . grad_P f + D : grad_P grad_P f] + F P f. Mass is conserved exactly: every term of
(L p)^ carries a factor i k, which vanishes on the mean mode.

Units: x in the grid's units, t in the model's time, wavenumbers k = 2 pi m / L.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.fft as sfft

__all__ = [
    "FILTER_STRENGTH",
    "TAIL_WARNING",
    "FourierOperator",
    "cell_average_symbol",
    "exponential_filter",
    "fourier_operator",
    "spectral_tail",
]

#: The outer third of the resolved band may hold at most this fraction of a field's largest
#: Fourier coefficient before the scheme warns: spectral accuracy means the tail *is* the error,
#: so a tail of 1e-6 caps what any result computed from that field can be trusted to.
TAIL_WARNING = 1e-6

#: Exponential filter sigma(eta) = exp(-FILTER_STRENGTH eta^order), eta = |m| / K per axis:
#: exp(-36) ~ 2.3e-16, so the last resolved mode is damped to round-off.
FILTER_STRENGTH = 36.0


@dataclass(frozen=True, eq=False)
class FourierOperator:
    """Pseudo-spectral forward operator on a periodic grid; arrays live on the ``rfftn`` half-grid.

    Attributes
    ----------
    shape : tuple
        Real-space (grid) shape.
    lengths : tuple
        Box lengths (periods) L_j.
    wavenumbers : tuple of arrays
        k_j = 2 pi m_j / L_j, each broadcastable to the half-grid shape.
    modes : tuple of arrays
        The integer mode numbers m_j (broadcastable).
    cutoff : tuple of int
        K_j, the largest resolved |m_j|.
    mask : np.ndarray of bool
        The resolved modes on the half-grid.
    symbol : np.ndarray
        The diagonal (linear, stiff) part Lambda(k) = -k . Dbar k + fractional(k), real, zero off
        the mask; Dbar is the spatial mean of D.
    fractional : np.ndarray
        The fractional part of ``symbol`` alone (zero without jumps).
    fractional_current : tuple of arrays
        Per axis, the symbol of the fractional part's curl-free current (see ``current_modes``).
    drift : np.ndarray
        b at the grid points, shape ``(d,) + shape``.
    diffusion : np.ndarray
        D at the grid points, shape ``(d, d) + shape``.
    varying : bool
        Whether D varies in space (then D - Dbar is applied pseudo-spectrally in the remainder).
    """

    shape: tuple
    lengths: tuple
    wavenumbers: tuple
    modes: tuple
    cutoff: tuple
    mask: np.ndarray
    symbol: np.ndarray
    fractional: np.ndarray
    fractional_current: tuple
    drift: np.ndarray
    diffusion: np.ndarray
    varying: bool

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def axes(self) -> tuple:
        return tuple(range(-self.ndim, 0))

    # --- transforms (leading batch axes allowed) ------------------------------------------------
    def to_modes(self, values) -> np.ndarray:
        """Resolved Fourier coefficients of grid values (the 2/3-rule projection P)."""
        return sfft.rfftn(values, axes=self.axes) * self.mask

    def to_values(self, modes) -> np.ndarray:
        """Grid values of half-grid Fourier coefficients."""
        return sfft.irfftn(modes, s=self.shape, axes=self.axes)

    # --- the forward operator in Fourier space ----------------------------------------------------
    def remainder(self, p_hat) -> np.ndarray:
        """N(p^) = (L p)^ - Lambda p^ for resolved coefficients p^: the drift and the variable part
        of the diffusion, applied pseudo-spectrally (the explicit part of ETDRK4 and IMEX)."""
        p = self.to_values(p_hat)
        out = np.zeros_like(p_hat)
        for i, k_i in enumerate(self.wavenumbers):
            out -= 1j * k_i * sfft.rfftn(self.drift[i] * p, axes=self.axes)
        if self.varying:
            for i in range(self.ndim):
                for j in range(i, self.ndim):
                    weight = (1.0 if i == j else 2.0) * self.wavenumbers[i] * self.wavenumbers[j]
                    out -= weight * sfft.rfftn(self.diffusion_variation[i, j] * p, axes=self.axes)
        return out * self.mask

    @cached_property
    def diffusion_variation(self) -> np.ndarray:
        """D - Dbar at the grid points (Dbar, the spatial mean, is in ``symbol``)."""
        axes = tuple(range(2, 2 + self.ndim))
        return self.diffusion - self.diffusion.mean(axis=axes, keepdims=True)

    def forward_modes(self, p_hat) -> np.ndarray:
        """(L p)^ = Lambda p^ + N(p^) for resolved coefficients."""
        return self.symbol * p_hat + self.remainder(p_hat)

    def forward(self, p) -> np.ndarray:
        """L p at the grid points (input projected on the resolved modes first)."""
        return self.to_values(self.forward_modes(self.to_modes(p)))

    def backward(self, f) -> np.ndarray:
        """Q f = L^T f = P[b . grad_P f + D : grad_P grad_P f] + F P f at the grid points."""
        f_hat = self.to_modes(f)
        total = np.zeros(np.shape(f))
        for i, k_i in enumerate(self.wavenumbers):
            total += self.drift[i] * self.to_values(1j * k_i * f_hat)
            for j in range(i, self.ndim):
                weight = 1.0 if i == j else 2.0
                second = self.to_values(-self.wavenumbers[i] * self.wavenumbers[j] * f_hat)
                total += weight * self.diffusion[i, j] * second
        return self.to_values(self.to_modes(total) + self.fractional * f_hat)

    def diagonal(self) -> np.ndarray:
        """The diagonal of the matrix L (= that of Q), exactly, by FFT.

        For circulant A and B with (real) kernels a and beta, diag(A diag(c) B)_m =
        sum_n c_n a(m - n) beta(n - m): a circular convolution of c with a(r) beta(-r). The
        projector's kernel is even, beta(-r) = beta(r).
        """
        kernel = lambda symbol: self.to_values(symbol * self.mask)  # noqa: E731
        convolve = lambda c, w: self.to_values(sfft.rfftn(c) * sfft.rfftn(w))  # noqa: E731
        projector = kernel(np.ones(self.mask.shape))
        total = np.full(self.shape, kernel(self.fractional)[(0,) * self.ndim])
        for i, k_i in enumerate(self.wavenumbers):
            total += convolve(-self.drift[i], kernel(1j * k_i) * projector)
            for j, k_j in enumerate(self.wavenumbers):
                total += convolve(self.diffusion[i, j], kernel(-k_i * k_j) * projector)
        return total

    # --- the probability current ---------------------------------------------------------------------
    def current_modes(self, p_hat) -> list:
        """Per axis, J^_i = (b_i p)^ - i sum_j k_j (D_ij p)^ + c_i p^, with c_i the symbol of the
        fractional part's curl-free current (``fractional_current``), so that -div J = L p."""
        p = self.to_values(p_hat)
        currents = []
        for i in range(self.ndim):
            flux = sfft.rfftn(self.drift[i] * p, axes=self.axes)
            for j, k_j in enumerate(self.wavenumbers):
                flux = flux - 1j * k_j * sfft.rfftn(self.diffusion[i, j] * p, axes=self.axes)
            currents.append((flux + self.fractional_current[i] * p_hat) * self.mask)
        return currents

    def current_on_faces(self, p) -> tuple:
        """J_i on the faces of axis i (``n_i + 1`` of them, the last a periodic copy of the first),
        in probability per unit time and unit face area: the trigonometric interpolant of J_i
        evaluated half a cell before each centre."""
        faces = []
        for i, flux in enumerate(self.current_modes(self.to_modes(p))):
            h = self.lengths[i] / self.shape[i]
            shifted = self.to_values(flux * np.exp(-0.5j * self.wavenumbers[i] * h))
            faces.append(np.concatenate([shifted, np.take(shifted, [0], axis=i)], axis=i))
        return tuple(faces)


def fourier_operator(lengths, drift, diffusion, jumps=None, dealias: bool = True) -> FourierOperator:
    """Build the operator from coefficient samples on a periodic grid.

    Parameters
    ----------
    lengths : sequence of float
        Box lengths L_j (the period along each axis).
    drift : array, shape ``(d,) + shape``
        b at the grid points.
    diffusion : array, shape ``(d, d) + shape``
        D at the grid points (zeros for pure jump noise).
    jumps : tuple or None
        ``(alphas, scales, axes, isotropic)`` of alpha-stable jumps (per-axis tuples; an isotropic
        law has one alpha and one scale), or None.
    dealias : bool
        2/3 rule (default) or keep every mode but the Nyquist one.
    """
    drift = np.asarray(drift, dtype=float)
    shape = drift.shape[1:]
    d = len(shape)
    half = shape[:-1] + (shape[-1] // 2 + 1,)
    modes, wavenumbers = [], []
    for j, (n, length) in enumerate(zip(shape, lengths)):
        m = sfft.rfftfreq(n, 1.0 / n) if j == d - 1 else sfft.fftfreq(n, 1.0 / n)
        m = np.round(m).reshape([-1 if a == j else 1 for a in range(d)])
        modes.append(m)
        wavenumbers.append(2 * np.pi / float(length) * m)
    cutoff = tuple((n - 1) // (3 if dealias else 2) for n in shape)
    mask = np.ones(half, dtype=bool)
    for m, K in zip(modes, cutoff):
        mask &= np.abs(m) <= K
    diffusion = np.asarray(diffusion, dtype=float)
    mean = diffusion.mean(axis=tuple(range(2, 2 + d)))
    varying = bool(
        np.abs(diffusion - mean.reshape((d, d) + (1,) * d)).max(initial=0.0) > 1e-14 * max(np.abs(mean).max(), 1e-300)
    )
    fractional, fractional_current = _fractional(wavenumbers, jumps, half)
    symbol = -sum(mean[i, j] * wavenumbers[i] * wavenumbers[j] for i in range(d) for j in range(d))
    symbol = (symbol + fractional) * mask
    return FourierOperator(
        tuple(shape),
        tuple(float(x) for x in lengths),
        tuple(wavenumbers),
        tuple(modes),
        cutoff,
        mask,
        np.broadcast_to(symbol, half).astype(float),
        fractional * mask,
        tuple(c * mask for c in fractional_current),
        drift,
        diffusion,
        varying,
    )


def _fractional(wavenumbers, jumps, half) -> tuple:
    """The fractional symbol and, per axis, the symbol c_i of its curl-free current
    (J^_i = c_i p^ with -i sum_i k_i c_i = symbol)."""
    d = len(wavenumbers)
    zero = np.zeros(half)
    if jumps is None:
        return zero, tuple(zero for _ in range(d))
    alphas, scales, axes, isotropic = jumps
    if isotropic:
        k2 = sum(np.broadcast_to(wavenumbers[a], half) ** 2 for a in axes)
        symbol = -(scales[0] ** alphas[0]) * k2 ** (alphas[0] / 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(k2 > 0, symbol / np.where(k2 > 0, k2, 1.0), 0.0)
        current = tuple(1j * wavenumbers[i] * ratio if i in axes else zero for i in range(d))
        return symbol, current
    symbol = zero.copy()
    current = []
    for i in range(d):
        if i not in axes:
            current.append(zero)
            continue
        alpha, scale = alphas[axes.index(i)], scales[axes.index(i)]
        k = np.broadcast_to(wavenumbers[i], half)
        part = -(scale**alpha) * np.abs(k) ** alpha
        symbol = symbol + part
        with np.errstate(divide="ignore", invalid="ignore"):
            current.append(np.where(k != 0, 1j * k * part / np.where(k != 0, k * k, 1.0), 0.0))
    return symbol, tuple(current)


def spectral_tail(modes_array, operator: FourierOperator, resolved_only: bool = True) -> float:
    """The largest |coefficient| in the outer third of the resolved band (max_j |m_j| / K_j > 2/3;
    with ``resolved_only=False`` also every unresolved mode) over the largest |coefficient|.

    A smooth field's coefficients decay exponentially, so this is about the accuracy a result
    built from the field can have (0 for a band-limited field)."""
    modes_array = np.abs(np.asarray(modes_array))
    peak = modes_array.max(initial=0.0)
    if peak == 0:
        return 0.0
    outer = np.zeros(operator.mask.shape, dtype=bool)
    for m, K in zip(operator.modes, operator.cutoff):
        outer |= np.abs(m) > (2.0 / 3.0) * K
    if resolved_only:
        outer &= operator.mask
    else:
        outer |= ~operator.mask
    return float(modes_array[..., outer].max(initial=0.0) / peak)


def exponential_filter(operator: FourierOperator, order: int) -> np.ndarray:
    """sigma = prod_j exp(-FILTER_STRENGTH (|m_j| / K_j)^order) on the half-grid (Vandeven's
    exponential filter, per axis). A mode at eta = |m| / K changes by about FILTER_STRENGTH
    eta^order relative: 36 * 2^-36 ~ 5e-10 at half the cutoff for order 36, 5.5e-4 for order 16."""
    sigma = np.ones(operator.mask.shape)
    for m, K in zip(operator.modes, operator.cutoff):
        sigma = sigma * np.exp(-FILTER_STRENGTH * (np.abs(m) / max(K, 1)) ** order)
    return sigma * operator.mask


def cell_average_symbol(operator: FourierOperator) -> np.ndarray:
    """The Fourier multiplier from point values to cell averages: the mean of e^{i k x} over a
    cell of width h = L / n centred at x is e^{i k x} sin(k h / 2) / (k h / 2), with k h / 2 = pi m / n.
    At least sinc(1/3) = 0.83 on the 2/3-rule band, so it is safely inverted there."""
    symbol = np.ones(operator.mask.shape)
    for m, n in zip(operator.modes, operator.shape):
        symbol = symbol * np.sinc(m / n)
    return symbol
