"""The Numba CSR kernels against their plain-numpy twins and scipy on tiny matrices."""

import numpy as np
import scipy.sparse as sparse

from fpsolve import euler_kernels as kernels


def _random_csr(n, m, density, seed):
    rng = np.random.default_rng(seed)
    M = sparse.random_array((n, m), density=density, rng=rng, format="csr")
    M.sort_indices()
    return M


def test_csr_matvec_matches_numpy_twin_and_scipy():
    for seed, (n, m) in enumerate([(1, 1), (7, 5), (40, 40), (33, 60)]):
        M = _random_csr(n, m, 0.3, seed)
        x = np.random.default_rng(100 + seed).standard_normal(m)
        out = kernels.csr_matvec(M.indptr, M.indices, M.data, x, np.empty(n))
        twin = kernels.csr_matvec_reference(M.indptr, M.indices, M.data, x)
        # Same products summed in the same order (kernel) or by bincount (twin): round-off only.
        np.testing.assert_allclose(out, twin, rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(out, M @ x, rtol=1e-13, atol=1e-14)


def test_csr_matvec_handles_empty_rows():
    M = sparse.csr_array(np.array([[0.0, 0.0], [2.0, 3.0]]))
    out = kernels.csr_matvec(M.indptr, M.indices, M.data, np.array([1.0, 1.0]), np.empty(2))
    np.testing.assert_array_equal(out, [0.0, 5.0])  # exact small integers


def test_euler_steps_matches_numpy_twin():
    M = _random_csr(25, 25, 0.2, 7)
    M.data *= 0.1
    y0 = np.random.default_rng(3).random(25)
    for nsteps in (0, 1, 2, 5):
        y, work = y0.copy(), np.empty(25)
        out = kernels.euler_steps(M.indptr, M.indices, M.data, y, work, nsteps)
        np.testing.assert_allclose(
            out, kernels.euler_steps_reference(M.indptr, M.indices, M.data, y0, nsteps), rtol=1e-13, atol=1e-15
        )
