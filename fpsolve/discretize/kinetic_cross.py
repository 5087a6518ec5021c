"""Velocity cross diffusion of the matrix-free kinetic operator (4-D phase space, noise
correlated across velocities): coefficients, Numba kernels and sparse triplets.

In 4-D phase space (theta in R^2) with D_v(theta) not diagonal, the v_k face flux of the kinetic
scheme also carries -D_km d_{v_m} p (m != k): the mean of one-sided differences along v_m at the
face's two cells, on the side the sign of D_km picks (backward at the low cell and forward at the
high one for D_km > 0, the reverse for D_km < 0; a difference whose neighbour lies outside the
velocity box is dropped). This is finite volumes' skew stencil (fpsolve.discretize.fv._cross_terms,
which the sparse scheme uses): conservative face fluxes, so Q stays generator-like, and second
order (tests/test_kinetic_kernels.py::test_cross_*). D_km depends on theta only, so one value per
theta cell describes it. Vectors are viewed as (theta cells, n_v1, n_v2).
"""

import numpy as np
from numba import njit, prange

#: Off-diagonal velocity diffusion below this fraction of sqrt(D_11 D_22) is round-off of zero.
CROSS_RTOL = 1e-14


def cross_coefficients(diffusion) -> tuple:
    """Per velocity axis k, D_km at the theta cells (flat) for the other axis m of a 2-D theta,
    or () when D_v is diagonal to round-off."""
    d = diffusion.shape[0]
    if d != 2 or not np.any(np.abs(diffusion[0, 1]) > CROSS_RTOL * np.sqrt(np.abs(diffusion[0, 0] * diffusion[1, 1]))):
        return ()
    return tuple(np.ascontiguousarray(diffusion[k, 1 - k], dtype=float).ravel() for k in range(2))


def cross_view(c):
    """(T, n_v1, n_v2): theta cells, then the two velocity axes (4-D phase space)."""
    return (int(np.prod(c.shape[:2])), c.shape[2], c.shape[3])


@njit(cache=True, inline="always")
def _cross_stencil(dkm, j, l, m, n_other, h_other):
    """The cross part -D_km d_{v_m} p of the v_k face between velocity cells j and j + 1 (along
    v_k), at index l along v_m: ``(ja, la, wa, jb, lb, wb, jc, lc, wc, jd, ld, wd)``, four
    (v_k index, v_m index, weight) terms J = sum w p, weights 0 where a neighbour is missing.
    D_km > 0: backward difference at the low cell, forward at the high one; else the reverse."""
    half = -0.5 * dkm / h_other
    if dkm > 0:
        low_ok, high_ok = l > 0, l < n_other - 1
        # (p[j, l] - p[j, l - 1]) at the low cell, (p[j + 1, l + 1] - p[j + 1, l]) at the high one
        return (
            j,
            l,
            half if low_ok else 0.0,
            j,
            max(l - 1, 0),
            -half if low_ok else 0.0,
            j + 1,
            min(l + 1, n_other - 1),
            half if high_ok else 0.0,
            j + 1,
            l,
            -half if high_ok else 0.0,
        )
    low_ok, high_ok = l < n_other - 1, l > 0
    # (p[j, l + 1] - p[j, l]) at the low cell, (p[j + 1, l] - p[j + 1, l - 1]) at the high one
    return (
        j,
        min(l + 1, n_other - 1),
        half if low_ok else 0.0,
        j,
        l,
        -half if low_ok else 0.0,
        j + 1,
        l,
        half if high_ok else 0.0,
        j + 1,
        max(l - 1, 0),
        -half if high_ok else 0.0,
    )


@njit(parallel=True, cache=True)
def cross_kernel(x, out, dkm, h_k, h_other, k, mode):
    """Add the cross-diffusion part of the v_k face fluxes to ``out`` (3-D views (T, n_v1, n_v2)).
    Parallel over theta cells; each writes only into its own velocity plane."""
    T, n1, n2 = x.shape
    m = n1 if k == 0 else n2
    n_other = n2 if k == 0 else n1
    for i in prange(T):
        d = dkm[i]
        if d == 0.0:
            continue
        for j in range(m - 1):
            for l in range(n_other):
                ja, la, wa, jb, lb, wb, jc, lc, wc, jd, ld, wd = _cross_stencil(d, j, l, m, n_other, h_other)
                if k == 0:  # index (v_k, v_m) = (v1, v2)
                    lo0, lo1, hi0, hi1 = j, l, j + 1, l
                    a0, a1, b0, b1, c0, c1, e0, e1 = ja, la, jb, lb, jc, lc, jd, ld
                else:  # (v_k, v_m) = (v2, v1): swap into (v1, v2)
                    lo0, lo1, hi0, hi1 = l, j, l, j + 1
                    a0, a1, b0, b1, c0, c1, e0, e1 = la, ja, lb, jb, lc, jc, ld, jd
                if mode == 0:
                    flux = (wa * x[i, a0, a1] + wb * x[i, b0, b1] + wc * x[i, c0, c1] + wd * x[i, e0, e1]) / h_k
                    out[i, lo0, lo1] -= flux
                    out[i, hi0, hi1] += flux
                elif mode == 1:
                    g = (x[i, hi0, hi1] - x[i, lo0, lo1]) / h_k
                    out[i, a0, a1] += wa * g
                    out[i, b0, b1] += wb * g
                    out[i, c0, c1] += wc * g
                    out[i, e0, e1] += wd * g
                else:
                    for c0_, c1_, w in ((a0, a1, wa), (b0, b1, wb), (c0, c1, wc), (e0, e1, wd)):
                        if c0_ == lo0 and c1_ == lo1:
                            out[i, c0_, c1_] -= w / h_k
                        if c0_ == hi0 and c1_ == hi1:
                            out[i, c0_, c1_] += w / h_k


@njit(cache=True)
def cross_triplets(index, dkm, h_k, h_other, k, rows, cols, vals, count):
    """Append the entries of the cross-diffusion part of the v_k face fluxes (mode 1 of
    :func:`cross_kernel`, entry by entry)."""
    T, n1, n2 = index.shape
    m = n1 if k == 0 else n2
    n_other = n2 if k == 0 else n1
    for i in range(T):
        d = dkm[i]
        if d == 0.0:
            continue
        for j in range(m - 1):
            for l in range(n_other):
                ja, la, wa, jb, lb, wb, jc, lc, wc, jd, ld, wd = _cross_stencil(d, j, l, m, n_other, h_other)
                if k == 0:
                    low, high = index[i, j, l], index[i, j + 1, l]
                    terms = (
                        (index[i, ja, la], wa),
                        (index[i, jb, lb], wb),
                        (index[i, jc, lc], wc),
                        (index[i, jd, ld], wd),
                    )
                else:
                    low, high = index[i, l, j], index[i, l, j + 1]
                    terms = (
                        (index[i, la, ja], wa),
                        (index[i, lb, jb], wb),
                        (index[i, lc, jc], wc),
                        (index[i, ld, jd], wd),
                    )
                for cell, w in terms:
                    if w == 0.0:
                        continue
                    for row, sign in ((high, 1.0), (low, -1.0)):
                        rows[count] = cell
                        cols[count] = row
                        vals[count] = sign * w / h_k
                        count += 1
    return count
