"""The jump part of a fractional generator on a box: Toeplitz kernels, FFT products, exits.

A jump kernel on a grid is translation invariant: the rate from cell i to cell i + k depends
on k only. Inside a non-periodic box the jump matrix T is therefore (block) Toeplitz, and its
product is a convolution, computed by FFT on a circulant embedding of twice the box (O(N log N)
time, O(N) memory); on a periodic axis it is a circulant, diagonalised by the FFT itself. Jumps
that would land beyond a face are either *killed* (the rate is killing: exit problems, where the
whole exterior is absorbing) or *censored* (the jump is suppressed: the censored process
conserves mass). The generator's jump part is J = T - diag(rate out of each cell, in-box targets
plus killed jumps); J is symmetric.

Everything here is a pure function of arrays (:func:`axis_kernel`, :func:`isotropic_kernel`
build the kernels, :func:`apply_jumps` multiplies, :func:`jump_matrix` gives the same operator as
a sparse matrix for small grids, :func:`near_field` its banded part for preconditioning).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.fft as fft
import scipy.sparse as sp
from scipy.linalg import toeplitz

from . import fractional_weights as weights

__all__ = ["JumpKernel", "axis_kernel", "isotropic_kernel", "apply_jumps", "jump_matrix", "near_field"]


@dataclass(frozen=True, eq=False)
class JumpKernel:
    """Jumps along ``axes`` of a grid of ``shape``.

    Attributes
    ----------
    axes : tuple of int
        One axis (per-axis jumps) or two (the isotropic 2-D kernel).
    rates : ndarray
        Rate of a jump by k cells, indexed by |k| per axis (shape n_a per axis a); on a periodic
        axis the rates already summed over the images.
    periodic : bool
    spectrum : ndarray
        FFT of the circulant embedding (``rfftn`` over ``axes``).
    inbox : ndarray
        Total rate from each cell to cells of the box (broadcastable to ``shape``).
    killed, censored : ndarray
        Rate from each cell of jumps beyond absorbing faces (killing) and beyond reflecting faces
        (suppressed), broadcastable to ``shape``.
    d_eff : tuple of float
        The nearest-neighbour rate as a diffusion per axis (carried by the finite-volume part).
    """

    axes: tuple
    rates: np.ndarray
    periodic: bool
    spectrum: np.ndarray
    inbox: np.ndarray
    killed: np.ndarray
    censored: np.ndarray
    d_eff: tuple


def _embedding(rates: np.ndarray, periodic: bool) -> np.ndarray:
    """First column of the circulant that contains the symmetric Toeplitz matrix of ``rates``
    (length 2n per non-periodic axis, n per periodic one), along every axis of ``rates``."""
    if periodic:
        return rates
    out = rates
    for axis in range(rates.ndim):
        n = rates.shape[axis]
        mirrored = np.flip(np.take(out, np.arange(1, n), axis=axis), axis=axis)
        zero = np.zeros_like(np.take(out, [0], axis=axis))
        out = np.concatenate([out, zero, mirrored], axis=axis)
    return out


def _broadcast_along(values: np.ndarray, axis: int, ndim: int) -> np.ndarray:
    shape = [1] * ndim
    shape[axis] = values.size
    return values.reshape(shape)


def axis_kernel(alpha: float, scale: float, grid, axis: int, faces: tuple) -> JumpKernel:
    """The 1-D kernel of eps^alpha (-d^2)^(alpha/2) along ``axis`` with ``faces`` = (low, high)
    kinds ("absorbing": jumps beyond it are killed; "reflecting": censored; "periodic").

    Non-periodic: in-box rates w_k (k >= 2) from :func:`fractional_weights.rates_1d` with the
    quadrature window ending n cells away (the node k = n is always outside the box) and the
    exact tail beyond; the rate of leaving through the low face from cell i is
    sum_{k = i+1}^{n} w_k + tail (cumulative sums, no cancellation)."""
    n, h, ndim = grid.shape[axis], grid.spacing[axis], grid.ndim
    if faces[0] == "periodic":
        w, d_eff = weights.periodic_rates_1d(alpha, scale, h, n)
        spectrum = np.real(fft.rfft(w))
        spectrum = _broadcast_along(spectrum, axis, ndim)
        total = np.full(1, w.sum())
        zero = np.zeros(1)
        return JumpKernel(
            (axis,),
            w,
            True,
            spectrum,
            _broadcast_along(total, axis, ndim),
            _broadcast_along(zero, axis, ndim),
            _broadcast_along(zero, axis, ndim),
            (d_eff,),
        )
    w, d_eff = weights.rates_1d(alpha, scale, h, n)
    tail = weights.tail_rate_1d(alpha, scale, n * h)
    beyond = np.cumsum(w[::-1])[::-1] + tail  # beyond[m] = sum_{k >= m} w_k + tail
    i = np.arange(n)
    low, high = beyond[i + 1], beyond[n - i]  # jumps leaving through the low / high face
    reach = np.cumsum(w[:n])  # reach[m] = sum_{k <= m} w_k
    inbox = reach[i] + reach[n - 1 - i]
    killed = np.zeros(n)
    censored = np.zeros(n)
    for side, out in ((0, low), (1, high)):
        target = killed if faces[side] == "absorbing" else censored
        target += out
    # the nearest-neighbour jump across a reflecting face is censored too (its rate is in d_eff)
    censored[0] += (faces[0] == "reflecting") * d_eff / h**2
    censored[-1] += (faces[1] == "reflecting") * d_eff / h**2
    rates = w[:n].copy()
    spectrum = fft.rfft(_embedding(rates, False))
    return JumpKernel(
        (axis,),
        rates,
        False,
        _broadcast_along(spectrum.real, axis, ndim),
        _broadcast_along(inbox, axis, ndim),
        _broadcast_along(killed, axis, ndim),
        _broadcast_along(censored, axis, ndim),
        (d_eff,),
    )


def isotropic_kernel(alpha: float, scale: float, grid, axes: tuple, kind: str) -> JumpKernel:
    """The isotropic kernel of eps^alpha (-Laplacian)^(alpha/2) on the two ``axes`` of a
    non-periodic box whose faces on those axes are all ``kind`` ("absorbing" or "reflecting").

    Rates from :func:`fractional_weights.rates_2d_isotropic`; the rate of leaving the box from a
    cell is the total rate over the whole lattice (window sum plus the exact tail beyond it)
    minus the in-box rate (rectangle sums of the kernel's prefix sums)."""
    a0, a1 = axes
    n0, n1 = grid.shape[a0], grid.shape[a1]
    h = (grid.spacing[a0], grid.spacing[a1])
    w, d_eff = weights.rates_2d_isotropic(alpha, scale, h, (n0 - 1, n1 - 1))
    full = np.concatenate([w[:0:-1], w], axis=0)  # offsets -(n0-1) .. n0-1
    full = np.concatenate([full[:, :0:-1], full], axis=1)
    prefix = np.zeros((full.shape[0] + 1, full.shape[1] + 1))
    prefix[1:, 1:] = full.cumsum(0).cumsum(1)
    i = np.arange(n0)[:, None]
    j = np.arange(n1)[None, :]
    # offsets a in [-i, n0-1-i] sit at rows a + n0 - 1 of ``full``
    r0, r1 = n0 - 1 - i, 2 * n0 - 1 - i
    c0, c1 = n1 - 1 - j, 2 * n1 - 1 - j
    inbox = prefix[r1, c1] - prefix[r0, c1] - prefix[r1, c0] + prefix[r0, c0]
    total = full.sum() + weights.tail_rate_2d(alpha, scale, ((n0 - 0.5) * h[0], (n1 - 0.5) * h[1]))
    out = np.maximum(total - inbox, 0.0)
    # nearest-neighbour jumps across the faces (their rates are in d_eff)
    edge = np.zeros((n0, n1))
    edge[0, :] += d_eff[0] / h[0] ** 2
    edge[-1, :] += d_eff[0] / h[0] ** 2
    edge[:, 0] += d_eff[1] / h[1] ** 2
    edge[:, -1] += d_eff[1] / h[1] ** 2
    shape = [1] * grid.ndim
    shape[a0], shape[a1] = n0, n1
    killed = out if kind == "absorbing" else np.zeros_like(out)
    censored = np.zeros_like(out) if kind == "absorbing" else out + edge
    spectrum = fft.rfftn(_embedding(w, False)).real
    spec_shape = [1] * grid.ndim
    spec_shape[a0], spec_shape[a1] = spectrum.shape
    return JumpKernel(
        tuple(axes),
        w,
        False,
        spectrum.reshape(spec_shape),
        inbox.reshape(shape),
        killed.reshape(shape),
        censored.reshape(shape),
        tuple(d_eff),
    )


def apply_jumps(kernels: tuple, f: np.ndarray) -> np.ndarray:
    """J f = sum over kernels of (T f - (inbox + killed) f) for a grid-shaped array f."""
    out = np.zeros_like(f)
    for kern in kernels:
        axes = kern.axes
        if kern.periodic:
            sizes = [f.shape[a] for a in axes]
        else:
            sizes = [2 * f.shape[a] for a in axes]
        spectral = fft.rfftn(f, s=sizes, axes=axes) * kern.spectrum
        moved = fft.irfftn(spectral, s=sizes, axes=axes)
        index = [slice(None)] * f.ndim
        for a in axes:
            index[a] = slice(0, f.shape[a])
        out += moved[tuple(index)] - (kern.inbox + kern.killed) * f
    return out


def jump_matrix(kernels: tuple, grid) -> sp.csr_matrix:
    """J as an explicit sparse matrix (small grids only: it stores every in-box pair)."""
    n = grid.size
    total = sp.csr_matrix((n, n))
    for kern in kernels:
        if len(kern.axes) == 1:
            a = kern.axes[0]
            block = _circulant(kern.rates) if kern.periodic else toeplitz(kern.rates)
            left = sp.identity(int(np.prod(grid.shape[:a])), format="csr")
            right = sp.identity(int(np.prod(grid.shape[a + 1 :])), format="csr")
            T = sp.kron(sp.kron(left, sp.csr_matrix(block)), right, format="csr")
        else:
            T = _isotropic_matrix(kern, grid)
        diag = np.broadcast_to(kern.inbox + kern.killed, grid.shape).ravel()
        total = total + T - sp.diags(diag)
    return sp.csr_matrix(total)


def _circulant(first: np.ndarray) -> np.ndarray:
    n = first.size
    idx = (np.arange(n)[None, :] - np.arange(n)[:, None]) % n
    return first[idx]


def _isotropic_matrix(kern: JumpKernel, grid) -> sp.csr_matrix:
    a0, a1 = kern.axes
    n0, n1 = grid.shape[a0], grid.shape[a1]
    if grid.ndim != 2:
        raise ValueError("grid: the isotropic kernel is implemented on 2-D grids")
    i = np.arange(n0)
    j = np.arange(n1)
    d0 = np.abs(i[:, None] - i[None, :])  # (n0, n0)
    d1 = np.abs(j[:, None] - j[None, :])  # (n1, n1)
    dense = kern.rates[d0[:, None, :, None], d1[None, :, None, :]].reshape(n0 * n1, n0 * n1)
    return sp.csr_matrix(dense)


def near_field(kernels: tuple, grid, band: int) -> sp.csr_matrix:
    """The jumps of at most ``band`` cells (per axis) with J's full diagonal and J's row sums: a
    sparse M-matrix close to J whose LU preconditions Krylov solves.

    The far in-box jumps are lumped onto the band: each row's band rates are scaled by
    (its in-box rate) / (its band rate), so the near field kills exactly what J kills. Dropping
    them instead turns them into killing of order eps^alpha (band h)^-alpha, far above the escape
    rate 1 / tau of an exit problem: the preconditioner then misses Q's slowest mode and restarted
    GMRES stalls (1-D double well, alpha 1.5, box (-3, 0) absorbing, 8192 cells: refused after
    100 restarts for eps >= 0.25; lumped, 0.07 s for eps in 0.2 .. 0.5)."""
    n = grid.size
    index = np.arange(n).reshape(grid.shape)
    rows, cols, vals = [], [], []
    diagonal = np.zeros(grid.shape)
    for kern in kernels:
        diagonal -= np.broadcast_to(kern.inbox + kern.killed, grid.shape)
        offsets = _offsets(kern, band)
        for shift, rate in offsets:
            if rate <= 0:
                continue
            src, dst = _shifted_pairs(index, grid, shift, kern.periodic)
            rows.append(src)
            cols.append(dst)
            vals.append(np.full(src.size, rate))
    inbox = -diagonal.ravel() - sum(np.broadcast_to(k.killed, grid.shape) for k in kernels).ravel()
    rows, cols, vals = (np.concatenate(a) if a else np.zeros(0, dtype=int) for a in (rows, cols, vals))
    banded = np.bincount(rows, weights=vals, minlength=n)
    scale = np.where(banded > 0, inbox / np.where(banded > 0, banded, 1.0), 0.0)
    rows = np.concatenate([rows, index.ravel()])
    cols = np.concatenate([cols, index.ravel()])
    vals = np.concatenate([vals * scale[rows[: vals.size]], diagonal.ravel()])
    return sp.csr_matrix((vals, (rows, cols)), shape=(n, n))


def _offsets(kern: JumpKernel, band: int):
    """(shift vector over the kernel's axes as a dict axis -> cells, rate) for |shift| <= band."""
    if len(kern.axes) == 1:
        a = kern.axes[0]
        n = kern.rates.size
        reach = min(band, (n - 1) // 2) if kern.periodic else min(band, n - 1)  # no shift twice
        for k in range(1, reach + 1):
            yield {a: k}, kern.rates[k]
            yield {a: -k}, kern.rates[k]
        return
    a0, a1 = kern.axes
    for k0 in range(-band, band + 1):
        for k1 in range(-band, band + 1):
            if (k0 or k1) and abs(k0) < kern.rates.shape[0] and abs(k1) < kern.rates.shape[1]:
                yield {a0: k0, a1: k1}, kern.rates[abs(k0), abs(k1)]


def _shifted_pairs(index, grid, shift: dict, periodic: bool):
    """(source cells, target cells) of all in-box moves by ``shift`` (wrapping if periodic)."""
    src = index
    dst = index
    for a, k in shift.items():
        n = grid.shape[a]
        if periodic:
            dst = np.roll(dst, -k, axis=a)
        else:
            keep = np.arange(max(0, -k), min(n, n - k))
            src = np.take(src, keep, axis=a)
            dst = np.take(dst, keep + k, axis=a)
    return src.ravel(), dst.ravel()
