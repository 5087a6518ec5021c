"""Numba kernels of finite-volume generators on structured grids, stored as a stencil of link rates.

A generator Q on the cells of a d-dimensional grid (d <= 4, C order) whose links join each cell to
neighbours at fixed offsets o (the faces' neighbours +-e_k; with cross diffusion also the diagonal
ones +-e_k +-e_m) is stored as

    rates[s, i] = Q[i, i + offsets[s]]   (zero where the neighbour lies outside a non-periodic box),
    diagonal[i] = Q[i, i] = -(sum_s rates[s, i] + killing[i]).

From these arrays the kernels build Q in CSR form (:func:`stencil_csr`), the face-flux matrices
(:func:`face_flux_csr`), and apply Q and Q^T without a matrix (:func:`apply_generator`,
:func:`apply_transpose`): all from the same numbers, so the matrix-free operator and the CSR agree
to round-off. Shapes and offsets are padded to four axes (leading axes of length 1). Each kernel
has a plain-numpy twin in the tests (tests/test_fv_matrix_free.py: the products against the CSR).
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = [
    "BERNOULLI_FLOOR",
    "bernoulli",
    "bernoulli_into",
    "stencil_csr",
    "face_flux_csr",
    "link_face_entries",
    "apply_generator",
    "apply_transpose",
    "padded",
    "along",
]


def padded(grid_shape, periodic, offsets):
    """(shape4, periodic4, offsets4): the grid's shape, periodic flags and the (m, d) offsets
    padded with leading axes of length 1 to four axes (int64 / bool arrays for the kernels),
    the offsets sorted in increasing flat (C) order; also the permutation that sorted them."""
    d = len(grid_shape)
    if d > 4:
        raise ValueError(f"grid: the stencil kernels handle up to 4 axes, got {d}")
    shape4 = np.array((1,) * (4 - d) + tuple(grid_shape), dtype=np.int64)
    periodic4 = np.array((False,) * (4 - d) + tuple(bool(p) for p in periodic), dtype=np.bool_)
    offsets = np.asarray(offsets, dtype=np.int64).reshape(-1, d)
    offsets4 = np.zeros((offsets.shape[0], 4), dtype=np.int64)
    offsets4[:, 4 - d :] = offsets
    strides = np.array([shape4[1] * shape4[2] * shape4[3], shape4[2] * shape4[3], shape4[3], 1])
    order = np.argsort(offsets4 @ strides, kind="stable")
    return shape4, periodic4, offsets4[order], order


#: Smallest rate factor: B(z) underflows to 0 for z > 745, which would cut links of the chain in
#: one direction (a reducible chain with no detailed balance). Rates are floored at this value
#: instead; the density across such a face differs by more than e^700 anyway.
BERNOULLI_FLOOR = 1e-300


def bernoulli(z: np.ndarray) -> np.ndarray:
    """B(z) = z / (e^z - 1), with B(0) = 1, accurate for all real z (no overflow), floored at
    :data:`BERNOULLI_FLOOR`."""
    z = np.asarray(z, dtype=float)
    out = np.empty(z.shape)
    bernoulli_into(np.ascontiguousarray(z).reshape(-1), out.reshape(-1), BERNOULLI_FLOOR)
    return out


@numba.njit(cache=True)
def bernoulli_into(z, out, floor):
    """out = max(B(z), floor), B(z) = z / (e^z - 1) (series below |z| = 1e-6, z e^-z above 700)."""
    for i in range(z.size):
        x = z[i]
        if abs(x) < 1e-6:
            value = 1.0 - x / 2.0 + x * x / 12.0
        elif x > 700.0:
            value = x * math.exp(-x)
        else:
            value = x / math.expm1(x)
        out[i] = value if value > floor else floor


@numba.njit(cache=True, inline="always")
def _wrap(c, n, periodic):
    """Coordinate c on an axis of n cells: wrapped if periodic, -1 if outside a wall."""
    if c < 0 or c >= n:
        return c % n if periodic else -1
    return c


@numba.njit(cache=True, inline="always")
def _neighbour(i0, i1, i2, i3, o, shape4, periodic4):
    """Flat index of the cell (i0, i1, i2, i3) + o, or -1 outside a non-periodic box."""
    c0 = _wrap(i0 + o[0], shape4[0], periodic4[0])
    c1 = _wrap(i1 + o[1], shape4[1], periodic4[1])
    c2 = _wrap(i2 + o[2], shape4[2], periodic4[2])
    c3 = _wrap(i3 + o[3], shape4[3], periodic4[3])
    if c0 < 0 or c1 < 0 or c2 < 0 or c3 < 0:
        return -1
    return ((c0 * shape4[1] + c1) * shape4[2] + c2) * shape4[3] + c3


@numba.njit(cache=True, inline="always")
def _line_start(i0, i1, i2, o, shape4, periodic4):
    """Flat index of cell 0 of the line (i0, i1, i2) + o[:3] along the last axis, or -1 outside
    a non-periodic box."""
    c0 = _wrap(i0 + o[0], shape4[0], periodic4[0])
    c1 = _wrap(i1 + o[1], shape4[1], periodic4[1])
    c2 = _wrap(i2 + o[2], shape4[2], periodic4[2])
    if c0 < 0 or c1 < 0 or c2 < 0:
        return -1
    return ((c0 * shape4[1] + c1) * shape4[2] + c2) * shape4[3]


@numba.njit(cache=True)
def _apply(shape4, periodic4, offsets4, rates, diagonal, x, out, transpose):
    """out = Q x (transpose False) or Q^T x, line by line along the last axis: for each offset s
    the neighbours of a line form a line (shifted by o[3], wrapped or cut at its ends)."""
    n3 = shape4[3]
    periodic3 = periodic4[3]
    m = offsets4.shape[0]
    line = 0
    for i0 in range(shape4[0]):
        for i1 in range(shape4[1]):
            for i2 in range(shape4[2]):
                for i3 in range(n3):
                    out[line + i3] = diagonal[line + i3] * x[line + i3]
                for s in range(m):
                    o0, o1, o2, o3 = offsets4[s, 0], offsets4[s, 1], offsets4[s, 2], offsets4[s, 3]
                    if transpose:  # out[j] += rates[s, j - o] x[j - o]
                        o0, o1, o2, o3 = -o0, -o1, -o2, -o3
                    other = _line_start(i0, i1, i2, (o0, o1, o2), shape4, periodic4)
                    if other < 0:
                        continue
                    lo, hi = max(0, -o3), min(n3, n3 - o3)
                    if transpose:
                        for i3 in range(lo, hi):
                            out[line + i3] += rates[s, other + i3 + o3] * x[other + i3 + o3]
                    else:
                        for i3 in range(lo, hi):
                            out[line + i3] += rates[s, line + i3] * x[other + i3 + o3]
                    if periodic3 and o3 != 0:  # the ends of the line wrap around
                        for i3 in range(n3):
                            if lo <= i3 < hi:
                                continue
                            c3 = (i3 + o3) % n3
                            if transpose:
                                out[line + i3] += rates[s, other + c3] * x[other + c3]
                            else:
                                out[line + i3] += rates[s, line + i3] * x[other + c3]
                line += n3


@numba.njit(cache=True)
def apply_generator(shape4, periodic4, offsets4, rates, diagonal, f, out):
    """out = Q f: out[i] = diagonal[i] f[i] + sum_s rates[s, i] f[i + offsets[s]]."""
    _apply(shape4, periodic4, offsets4, rates, diagonal, f, out, False)


@numba.njit(cache=True)
def apply_transpose(shape4, periodic4, offsets4, rates, diagonal, p, out):
    """out = Q^T p: out[j] = diagonal[j] p[j] + sum_s rates[s, j - offsets[s]] p[j - offsets[s]]."""
    _apply(shape4, periodic4, offsets4, rates, diagonal, p, out, True)


@numba.njit(cache=True)
def stencil_csr(shape4, periodic4, offsets4, rates, diagonal):
    """(indptr, indices, data) of Q: per row the existing neighbours and the diagonal, columns
    sorted, links to the same cell (periodic axes of one or two cells) summed. Rows come out
    sorted without sorting when the offsets are in increasing flat order and no axis wraps."""
    n = rates.shape[1]
    m = offsets4.shape[0]
    n3 = shape4[3]
    wraps = periodic4[0] or periodic4[1] or periodic4[2] or periodic4[3]
    indptr = np.empty(n + 1, dtype=np.int64)
    indices = np.empty(n * (m + 1), dtype=np.int64)
    data = np.empty(n * (m + 1))
    cols = np.empty(m + 1, dtype=np.int64)
    vals = np.empty(m + 1)
    starts = np.empty(m, dtype=np.int64)
    # the diagonal's place among the offsets in flat order (offsets assumed sorted, see above)
    strides = np.array([shape4[1] * shape4[2] * n3, shape4[2] * n3, n3, 1])
    before = 0
    for s in range(m):
        if offsets4[s, 0] * strides[0] + offsets4[s, 1] * strides[1] + offsets4[s, 2] * strides[2] + offsets4[s, 3] < 0:
            before += 1
    indptr[0] = 0
    nnz = 0
    line = 0
    for i0 in range(shape4[0]):
        for i1 in range(shape4[1]):
            for i2 in range(shape4[2]):
                for s in range(m):
                    starts[s] = _line_start(i0, i1, i2, offsets4[s, :3], shape4, periodic4)
                for i3 in range(n3):
                    i = line + i3
                    count = 0
                    for s in range(m + 1):
                        if s == before:
                            cols[count], vals[count] = i, diagonal[i]
                            count += 1
                        if s == m:
                            break
                        if starts[s] < 0:
                            continue
                        c3 = _wrap(i3 + offsets4[s, 3], n3, periodic4[3])
                        if c3 < 0:
                            continue
                        cols[count], vals[count] = starts[s] + c3, rates[s, i]
                        count += 1
                    if wraps:
                        for a in range(1, count):  # insertion sort of the short row
                            c, v, b = cols[a], vals[a], a - 1
                            while b >= 0 and cols[b] > c:
                                cols[b + 1], vals[b + 1] = cols[b], vals[b]
                                b -= 1
                            cols[b + 1], vals[b + 1] = c, v
                    first = nnz
                    for a in range(count):
                        if nnz > first and cols[a] == indices[nnz - 1]:
                            data[nnz - 1] += vals[a]
                        else:
                            indices[nnz] = cols[a]
                            data[nnz] = vals[a]
                            nnz += 1
                    indptr[i + 1] = nnz
                line += n3
    return indptr, indices[:nnz].copy(), data[:nnz].copy()


@numba.njit(cache=True)
def face_flux_csr(before, n, after, periodic, h, forward, backward, kill_low, kill_high):
    """(indptr, indices, data) of the face-flux map F_k of one axis, with the grid seen as
    (before, n, after) and faces as (before, n + 1, after) (C order): on the face between
    L = (a, f - 1, b) and R = (a, f mod n, b), J = h (forward p_L - backward p_R) (``forward``,
    ``backward`` shaped (before, n - 1 or n periodic, after)); on absorbing box faces J = -h
    kill_low p at f = 0 and +h kill_high p at f = n (arrays (before, after), empty when the
    face reflects)."""
    faces = before * (n + 1) * after
    indptr = np.empty(faces + 1, dtype=np.int64)
    indices = np.empty(2 * faces, dtype=np.int64)
    data = np.empty(2 * faces)
    indptr[0] = 0
    nnz = 0
    row = 0
    low_absorbing = kill_low.size > 0
    high_absorbing = kill_high.size > 0
    for a in range(before):
        for f in range(n + 1):
            for b in range(after):
                interior = (1 <= f <= n) if periodic else (1 <= f <= n - 1)
                if interior:
                    left = (a * n + f - 1) * after + b
                    right = (a * n + f % n) * after + b
                    up = h * forward[a, f - 1, b]
                    down = -h * backward[a, f - 1, b]
                    if left < right:
                        indices[nnz], data[nnz], indices[nnz + 1], data[nnz + 1] = left, up, right, down
                    else:
                        indices[nnz], data[nnz], indices[nnz + 1], data[nnz + 1] = right, down, left, up
                    nnz += 2
                elif f == 0 and low_absorbing and not periodic:
                    indices[nnz] = (a * n) * after + b
                    data[nnz] = -h * kill_low[a, b]
                    nnz += 1
                elif f == n and high_absorbing and not periodic:
                    indices[nnz] = (a * n + n - 1) * after + b
                    data[nnz] = h * kill_high[a, b]
                    nnz += 1
                row += 1
                indptr[row] = nnz
    return indptr, indices[:nnz].copy(), data[:nnz].copy()


@numba.njit(cache=True)
def link_face_entries(shape4, periodic4, axis, offsets4, rates, h):
    """(rows, columns, values) of the face-flux map of ``axis`` (of the four padded axes) for
    transfers along links: rates[s, i] p_i from cell i to i + offsets4[s] crosses the faces of
    ``axis`` on its way, adding sign h rates[s, i] there (sign = the offset's component along the
    axis); a link that moves along two axes is split in halves over its two face paths (along
    ``axis`` first: the face of i; along the other axis first: the face of i shifted along it).
    Faces are numbered in the (n + 1)-faces array of the axis, the wrap face of a periodic axis at
    index n. Links with a zero rate (outside the box) are skipped."""
    n = rates.shape[1]
    size = shape4[axis]
    face_shape = shape4.copy()
    face_shape[axis] = size + 1
    slots = 0
    for s in range(offsets4.shape[0]):
        if offsets4[s, axis] != 0:
            slots += 2
    rows = np.empty(slots * n, dtype=np.int64)
    columns = np.empty(slots * n, dtype=np.int64)
    values = np.empty(slots * n)
    count = 0
    cell = np.empty(4, dtype=np.int64)
    middle = np.empty(4, dtype=np.int64)
    for s in range(offsets4.shape[0]):
        sign = offsets4[s, axis]
        if sign == 0:
            continue
        other = -1
        for a in range(4):
            if a != axis and offsets4[s, a] != 0:
                other = a
        weight = 1.0 if other < 0 else 0.5
        i = 0
        for i0 in range(shape4[0]):
            for i1 in range(shape4[1]):
                for i2 in range(shape4[2]):
                    for i3 in range(shape4[3]):
                        rate = rates[s, i]
                        if rate > 0.0:
                            cell[0], cell[1], cell[2], cell[3] = i0, i1, i2, i3
                            value = weight * sign * h * rate
                            rows[count] = _face_number(cell, axis, sign, face_shape, periodic4[axis])
                            columns[count], values[count] = i, value
                            count += 1
                            if other >= 0:
                                middle[0], middle[1], middle[2], middle[3] = i0, i1, i2, i3
                                middle[other] = (cell[other] + offsets4[s, other]) % shape4[other]
                                rows[count] = _face_number(middle, axis, sign, face_shape, periodic4[axis])
                                columns[count], values[count] = i, value
                                count += 1
                        i += 1
    return rows[:count].copy(), columns[:count].copy(), values[:count].copy()


@numba.njit(cache=True, inline="always")
def _face_number(cell, axis, sign, face_shape, periodic):
    """Flat index of the face of ``cell`` on its high (sign > 0) or low side along ``axis``."""
    position = cell[axis] + 1 if sign > 0 else cell[axis]
    if periodic and sign < 0 and position == 0:
        position = face_shape[axis] - 1
    index = 0
    for a in range(4):
        index = index * face_shape[a] + (position if a == axis else cell[a])
    return index


def along(array, k, part, periodic):
    """The ``left`` (part 0) or ``right`` (part 1) cells of the faces of axis k, as a view."""
    if periodic:
        return array if part == 0 else np.roll(array, -1, axis=k)
    index = [slice(None)] * array.ndim
    index[k] = slice(0, -1) if part == 0 else slice(1, None)
    return array[tuple(index)]
