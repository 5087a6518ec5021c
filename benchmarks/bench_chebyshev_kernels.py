"""Time one fused Chebyshev step (product, recurrence, output accumulation, l1 norm) per storage of a
3-D generator: the kernels of fpsolve.chebyshev_residual and fpsolve.chebyshev_exponential.

    python benchmarks/bench_chebyshev_kernels.py             # 128^3, the rotating double well
    python benchmarks/bench_chebyshev_kernels.py --cells 64

prints milliseconds per step (best of --repeat), with one output time accumulated, and the load.
The operator is issue 14's non-reversible chain (bench_forward_3d.py "rotation"); the symmetric
kernel runs on the symmetrized form of the reversible "langevin" chain of the same size; the
11-diagonal kernels on the cross-diffusion chain ("nonreversible").
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import scipy.sparse as sparse

from bench_forward_3d import problem


def best_of(repeat, run) -> float:
    run()  # compile / touch the pages
    best = np.inf
    for _ in range(repeat):
        begin = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - begin)
    return 1e3 * best


def main() -> None:
    import fpsolve as fp
    from fpsolve import chebyshev_exponential as symmetric
    from fpsolve import chebyshev_residual as residual

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=128)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    model, grid = problem("rotation", args.cells)
    A = sparse.csr_array(fp.FokkerPlanck(model, grid).generator.matrix.T)
    n, scale = A.shape[0], 2.0 / residual.symmetrized_radius(A)
    v = fp.gaussian(grid, mean=(-1.0, 0.0, 0.0), std=0.2).ravel()
    c, y = np.array([1e-3]), np.zeros((1, n))
    product = residual._Product(A)
    padded, previous = np.zeros(n + 2 * product.pad), np.zeros(n)
    padded[product.pad : product.pad + n] = v
    args_ = (scale, 1.0, padded, product.pad, previous, c, y)
    timings = {
        "seven-point, row-interleaved, unrolled": lambda: residual._seven_point_chebyshev_step(
            product.offsets, product.stencil, *args_
        ),
        "stencil loop, row-interleaved": lambda: residual._stencil_chebyshev_step(
            product.offsets, product.stencil, *args_
        ),
        "CSR rows": lambda: residual._csr_chebyshev_step(A.indptr, A.indices, A.data, scale, 1.0, v, 0, previous, c, y),
        "scipy A @ v alone": lambda: A @ v,
    }
    langevin, grid = problem("langevin", args.cells)
    R = sparse.csr_array(fp.FokkerPlanck(langevin, grid).generator.matrix.T)
    form = symmetric._symmetric_form(R, v, fp.linalg.log_detailed_balance(R.T))
    if form is not None:
        step = form[0](2.0 / symmetric.symmetrized_radius(R))
        timings["symmetric, 3 upper diagonals (reversible)"] = lambda: step(v, previous, previous, 1.0, c, y)
    cross, grid = problem("nonreversible", args.cells)
    C = sparse.csr_array(fp.FokkerPlanck(cross, grid).generator.matrix.T)
    eleven = residual._Product(C)
    if eleven.banded and eleven.offsets.size == 11:
        padded11 = np.zeros(n + 2 * eleven.pad)
        padded11[eleven.pad : eleven.pad + n] = v
        args11 = (scale, 1.0, padded11, eleven.pad, previous, c, y)
        timings["cross diffusion, 11 diagonals, unrolled"] = lambda: residual._eleven_point_chebyshev_step(
            eleven.offsets, eleven.stencil, *args11
        )
        timings["cross diffusion, 11 diagonals, stencil loop"] = lambda: residual._stencil_chebyshev_step(
            eleven.offsets, eleven.stencil, *args11
        )
    load = open("/proc/loadavg").read().split()[0]
    for name, run in timings.items():
        print(f"{args.cells}^3  {name:45s} {best_of(args.repeat, run):7.1f} ms   (load {load})", flush=True)


if __name__ == "__main__":
    main()
