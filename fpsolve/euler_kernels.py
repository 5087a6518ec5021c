"""Numba kernels: a parallel CSR matrix-vector product and forward-Euler stepping y <- B y.

The explicit integrator of :mod:`fpsolve.integrate` advances dp/dt = A p with forward Euler,
p_{n+1} = (I + hA) p_n = B p_n, where A = Qᵀ is a forward operator stored in CSR form
(``indptr``, ``indices``, ``data`` as in :class:`scipy.sparse.csr_array`). For a generator Q and
h ≤ 1/max|A_ii|, every entry of B is ≥ 0 and every column of B sums to 1, so a step keeps p ≥ 0
and conserves Σp in exact arithmetic.

Every kernel is compiled with ``cache=True`` and has a plain-numpy twin (suffix ``_reference``)
that the tests compare it with on tiny inputs. Kernels do no argument checking: callers validate
at the public boundary (``fpsolve.integrate.integrate``). Arrays must be contiguous, ``indptr`` and
``indices`` integer, ``data`` and vectors float64.
"""

import numpy as np
from numba import njit, prange

__all__ = [
    "csr_matvec",
    "csr_matvec_reference",
    "euler_steps",
    "euler_steps_reference",
]


@njit(parallel=True, cache=True)
def csr_matvec(indptr, indices, data, x, out):
    """Write ``out = M @ x`` for the CSR matrix ``M = (data, indices, indptr)``; rows in parallel.

    Parameters
    ----------
    indptr, indices, data : np.ndarray
        CSR arrays of an (n, m) matrix.
    x : np.ndarray
        float64 vector of length m.
    out : np.ndarray
        float64 vector of length n, overwritten (must not alias ``x``).

    Returns
    -------
    np.ndarray
        ``out``.
    """
    n = indptr.shape[0] - 1
    for i in prange(n):
        acc = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            acc += data[k] * x[indices[k]]
        out[i] = acc
    return out


def csr_matvec_reference(indptr, indices, data, x):
    """Plain-numpy twin of :func:`csr_matvec`: returns ``M @ x`` as a new array."""
    n = len(indptr) - 1
    rows = np.repeat(np.arange(n), np.diff(indptr))
    return np.bincount(rows, weights=data * x[indices], minlength=n).astype(np.float64)


@njit(parallel=True, cache=True)
def euler_steps(indptr, indices, data, y, work, nsteps):
    """Apply the CSR matrix B = I + hA ``nsteps`` times: returns B^nsteps y.

    ``data`` holds the entries of B itself (the caller adds the identity and scales by h), so a
    step is one mat-vec. ``y`` and ``work`` are ping-pong buffers of equal length: both are
    overwritten and the result is whichever of the two holds the last iterate (returned).
    """
    n = indptr.shape[0] - 1
    src = y
    dst = work
    for _ in range(nsteps):
        for i in prange(n):
            acc = 0.0
            for k in range(indptr[i], indptr[i + 1]):
                acc += data[k] * src[indices[k]]
            dst[i] = acc
        src, dst = dst, src
    return src


def euler_steps_reference(indptr, indices, data, y, nsteps):
    """Plain-numpy twin of :func:`euler_steps` (does not modify ``y``)."""
    y = np.array(y, dtype=np.float64)
    for _ in range(nsteps):
        y = csr_matvec_reference(indptr, indices, data, y)
    return y
