"""Experiment: cross diffusion by exponentially fitted diagonal links, against fpsolve's scheme.

The 3-D cross-diffusion evolution of issue 14 (bench_forward_3d.py "nonreversible": drift
-grad U + rotation, constant D with D_xy = D_yz = 0.05, D_kk = 0.25) costs 8923 Chebyshev products
at 128^3 to t = 10 (312 s). docs/scale.md traces this to the scheme: fpsolve/discretize/fv.py fits
the axis faces exponentially to the drift but adds the cross terms -d_m(D_km p) as central
differences, so small loops of the chain are far from balance and the spectrum has imaginary parts
near its left end.

This script tests the proposed fix without touching fpsolve. The tensor is split into lattice
directions, D = sum_d a_d v_d v_d^T, v_d = h_k e_k + sign(D_km) h_m e_m with a_d = |D_km| / (h_k h_m)
for each cross pair and the axis remainders a_k = D_kk / h_k^2 - sum_m |D_km| / (h_k h_m) (which must
be >= 0: D diagonally dominant on the grid's scale). The drift is split with it through
g = D^{-1} b, sum_d a_d v_d (v_d . g) = b, so every link c -> c + v_d is a 1-D Scharfetter-Gummel
link: rates a_d B(-/+ v_d . g(midpoint)). All rates are positive (no limiter), and where g is
locally constant e^{g.x} balances every link, so loops balance to O(h^2) plus the process's own
circulation (curl of D^{-1} b).

    python benchmarks/cross_diffusion_lattice.py                 # spectra at 12^3, products at 32^3-64^3
    python benchmarks/cross_diffusion_lattice.py --cells 32 48 --no-spectrum

Prints, per grid, the Chebyshev products of the bounded series (fpsolve.chebyshev_residual, rtol
1e-10 as evolve uses) to t = 1 and 10 from the Gaussian at (-1, 0, 0), for both schemes, and the l1
distance of the two answers at t = 10 (the schemes agree to their discretization error).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import scipy.linalg
import scipy.sparse as sp

import fpsolve as fp
from bench_forward_3d import problem
from fpsolve.chebyshev_exponential import symmetrized_radius
from fpsolve.chebyshev_residual import bounded_chebyshev_expm_multiply
from fpsolve.discretize import fv_stencil as stencil
from fpsolve.discretize.fv import bernoulli


def lattice_directions(diffusion: np.ndarray, spacing) -> list:
    """[(offset in cells, coefficient a_d)] of D = sum a_d v_d v_d^T on the grid's lattice."""
    d = diffusion.shape[0]
    h = np.asarray(spacing, dtype=float)
    remainder = np.diag(diffusion) / h**2
    directions = []
    for k in range(d):
        for m in range(k + 1, d):
            if diffusion[k, m] != 0:
                offset = np.zeros(d, dtype=np.int64)
                offset[k], offset[m] = 1, int(np.sign(diffusion[k, m]))
                a = abs(diffusion[k, m]) / (h[k] * h[m])
                directions.append((offset, a))
                remainder[k] -= a
                remainder[m] -= a
    if np.any(remainder < 0):
        raise ValueError(f"diffusion: not diagonally dominant on this grid (axis remainders {remainder})")
    for k in range(d):
        offset = np.zeros(d, dtype=np.int64)
        offset[k] = 1
        directions.append((offset, remainder[k]))
    return directions


def lattice_generator(model, grid) -> sp.csr_matrix:
    """Q of the directionally split, exponentially fitted scheme (constant D, reflecting box)."""
    d = grid.ndim
    h = np.asarray(grid.spacing, dtype=float)
    diffusion = np.asarray(model.diffusion(*[np.zeros(1)] * d)).reshape(d, d)
    inverse = np.linalg.inv(diffusion)
    index = np.indices(grid.shape)
    centres = [np.broadcast_to(c, grid.shape) for c in grid.mesh()]
    offsets, rates = [], []
    for offset, a in lattice_directions(diffusion, h):
        link = offset * h
        midpoint = [c + link[k] / 2 for k, c in enumerate(centres)]
        drift = np.stack(np.broadcast_arrays(*model.drift(*midpoint)))
        peclet = np.einsum("k,km,m...->...", link, inverse, drift)
        inside = np.ones(grid.shape, dtype=bool)
        for k in range(d):
            inside &= (index[k] + offset[k] >= 0) & (index[k] + offset[k] < grid.shape[k])
        forward = np.where(inside, a * bernoulli(-peclet), 0.0)
        back_at_source = np.where(inside, a * bernoulli(peclet), 0.0)
        backward = np.zeros(grid.shape)  # the rate from c + offset back to c, stored at c + offset
        target = tuple(slice(max(0, o), n + min(0, o)) for o, n in zip(offset, grid.shape))
        source = tuple(slice(max(0, -o), n + min(0, -o)) for o, n in zip(offset, grid.shape))
        backward[target] = back_at_source[source]
        offsets += [offset, -offset]
        rates += [forward, backward]
    rates = np.array(rates).reshape(len(offsets), -1)
    shape4, periodic4, offsets4, order = stencil.padded(grid.shape, grid.periodic, np.array(offsets))
    indptr, indices, data = stencil.stencil_csr(shape4, periodic4, offsets4, rates[order], -rates.sum(axis=0))
    return sp.csr_matrix((data, indices, indptr), shape=(grid.size, grid.size))


def schemes(n: int):
    model, grid = problem("nonreversible", n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted_axes = fp.FokkerPlanck(model, grid).generator.matrix
    return grid, {"fpsolve (fv.py)": fitted_axes, "lattice": lattice_generator(model, grid)}


def spectrum(n: int) -> None:
    _, generators = schemes(n)
    for name, Q in generators.items():
        A = Q.T.tocsr()
        rho = symmetrized_radius(A)
        eigenvalues = scipy.linalg.eigvals(A.toarray())
        left = eigenvalues[eigenvalues.real < -0.8 * rho]
        off_diagonal = (Q - sp.diags(Q.diagonal())).data
        negative = int(np.count_nonzero(off_diagonal < -1e-12 * off_diagonal.max()))  # beyond round-off
        print(
            f"{n}^3 {name:16s} negative rates {negative:5d}  min Re {eigenvalues.real.min() / rho:.3f} rho  "
            f"max |Im| {np.abs(eigenvalues.imag).max() / rho:.3f} rho, "
            f"left of -0.8 rho {np.abs(left.imag).max(initial=0.0) / rho:.3f} rho",
            flush=True,
        )


def products(n: int) -> None:
    grid, generators = schemes(n)
    p0 = np.asarray(fp.gaussian(grid, mean=(-1.0, 0.0, 0.0), std=0.2)).ravel()
    answers = {}
    for name, Q in generators.items():
        begin = time.perf_counter()
        result = bounded_chebyshev_expm_multiply(Q.T.tocsr(), p0, [1.0, 10.0], rtol=1e-10)
        seconds = time.perf_counter() - begin
        answers[name] = result.y[-1]
        print(
            f"{n}^3 {name:16s} {result.products:5d} products, {result.segments} segment(s), "
            f"growth {result.growth:.3g}, rho {result.rho:.4g}, {seconds:.2f} s",
            flush=True,
        )
    first, second = answers.values()
    print(f"{n}^3 l1 distance of the two schemes at t = 10: {np.abs(first - second).sum() / np.abs(p0).sum():.3g}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, nargs="*", default=[32, 48, 64])
    parser.add_argument("--no-spectrum", action="store_true")
    args = parser.parse_args()
    if not args.no_spectrum:
        spectrum(12)
    for n in args.cells:
        products(n)


if __name__ == "__main__":
    main()
