"""Cross diffusion: the lattice directions (fpsolve's scheme) against central cross differences.

The 3-D cross-diffusion evolution of issue 14 (bench_forward_3d.py "nonreversible": drift
-grad U + rotation, constant D with D_xy = D_yz = 0.05, D_kk = 0.25) cost 8923 Chebyshev products
at 128^3 to t = 10 (312 s) when the axis faces were fitted exponentially and the cross terms
-d_m(D_km p) were central differences (limited where negative): small loops of that chain are far
from balance and its spectrum has imaginary parts near its left end (docs/scale.md).

fpsolve now splits the tensor into lattice directions, D = sum_d a_d v_d v_d^T, and fits every
link c -> c + v_d exponentially to the drift split through g = D^{-1} b
(fpsolve/discretize/fv_lattice.py; fv.assemble(..., lattice=False) keeps the central differences).
This script compares the two schemes' spectra and Chebyshev costs:

    python benchmarks/cross_diffusion_lattice.py                 # spectra at 12^3, products at 32^3-64^3
    python benchmarks/cross_diffusion_lattice.py --cells 32 48 --no-spectrum

Prints, per grid, the Chebyshev products of the bounded series (fpsolve.chebyshev_residual, rtol
as evolve uses unless --rtol) to t = 1 and 10 from the Gaussian at (-1, 0, 0), for both schemes, and the l1
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
from fpsolve.discretize import fv
from fpsolve.integrate import BOUNDED_CHEBYSHEV_RTOL


def schemes(n: int):
    model, grid = problem("nonreversible", n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        central = fv.assemble(model, grid, lattice=False).generator
        lattice = fv.assemble(model, grid).generator
    return grid, {"central (limited)": central, "lattice": lattice}


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


def products(n: int, rtol: float) -> None:
    grid, generators = schemes(n)
    p0 = np.asarray(fp.gaussian(grid, mean=(-1.0, 0.0, 0.0), std=0.2)).ravel()
    answers = {}
    for name, Q in generators.items():
        begin = time.perf_counter()
        result = bounded_chebyshev_expm_multiply(Q.T.tocsr(), p0, [1.0, 10.0], rtol=rtol)
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
    parser.add_argument("--rtol", type=float, default=BOUNDED_CHEBYSHEV_RTOL, help="l1 bound (default: evolve's)")
    args = parser.parse_args()
    if not args.no_spectrum:
        spectrum(12)
    for n in args.cells:
        products(n, args.rtol)


if __name__ == "__main__":
    main()
