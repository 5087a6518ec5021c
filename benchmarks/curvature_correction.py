"""What the curvature correction of the finite-volume rates buys (docs/numerics.md, "Curvature correction").

Runs the plain fitted (Scharfetter-Gummel) scheme and the corrected one side by side, both through
``fpsolve.discretize.fv.assemble`` (``curvature=False`` / ``True``), against references that no
fpsolve solver made:

- 1-D double well U = (x^2 - 1)^2, mean exit time from x = -1 through an absorbing face at
  b = 0 (the barrier top), -0.5 (on the slope) or 0.5 (beyond the barrier), reflecting at -2:
  the double integral by nested scipy quad;
- the Kramers rate, the second eigenvalue of the generator on (-2, 2), against the corrected
  scheme on 12 800 cells (its error there is below 1e-8 relative, fourth-order in the bulk);
- 3-D U = (x^2 - 1)^2 + y^2 + z^2, exit from x < 0 read at (-1, 0, 0): the 1-D double integral
  33.9457442877 (the extra coordinates decouple);
- 2-D rotated double well (fp.landscapes.rotated_double_well, minima at +-(cos 30, sin 30)), exit
  through the line through the saddle normal to its unstable direction: the same 1-D value. Here
  the potential is not aligned with the grid, and the plain scheme is the more accurate one.

    python benchmarks/curvature_correction.py            # 1-D tables (a few seconds)
    python benchmarks/curvature_correction.py --3d       # adds 16^3 ... 48^3 (about 10 s)
    python benchmarks/curvature_correction.py --2d       # adds the rotated 2-D well (about 30 s)
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as sla
from scipy import integrate, linalg

import fpsolve as fp
from fpsolve.discretize import fv

U = fp.landscapes.double_well()


def exact_exit_time(temperature, exit_at, x0=-1.0, left=-2.0):
    """(1/T) int_{x0}^{b} e^{U(y)/T} int_{left}^{y} e^{-U(z)/T} dz dy, by nested quad."""

    def inner(y):
        return integrate.quad(lambda z: np.exp(-(float(U(z)) - float(U(y))) / temperature), left, y, limit=200)[0]

    return integrate.quad(inner, x0, exit_at, limit=200)[0] / temperature


def exit_time(temperature, exit_at, n, curvature, x0=-1.0, left=-2.0):
    """tau(x0) of the assembled chain on n cells of (left, exit_at), absorbing at exit_at (a sparse
    solve of Q tau = -1), read by cubic interpolation between centres."""
    grid = fp.Grid([(left, exit_at)], [n])
    model = fp.Langevin(U, temperature)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Q = fv.assemble(model, grid, ("reflecting", "absorbing"), curvature=curvature).generator
    tau = sla.spsolve(sp.csc_matrix(Q), -np.ones(n))
    from fpsolve.interpolation import cubic_interpolate

    return float(cubic_interpolate(grid, tau, (x0,)))


def kramers_rate(temperature, n, curvature):
    """The second eigenvalue of the reversible chain on n cells of (-2, 2) (LAPACK on the
    symmetrised tridiagonal form)."""
    grid = fp.Grid([(-2.0, 2.0)], [n])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Q = sp.csr_matrix(fv.assemble(fp.Langevin(U, temperature), grid, curvature=curvature).generator)
    up, down = Q.diagonal(1), Q.diagonal(-1)
    values = linalg.eigvalsh_tridiagonal(Q.diagonal(), np.sqrt(up * down))
    return float(np.sort(-values)[1])


def one_d_tables(cells=(50, 100, 200)):
    print("mean exit time from x = -1, relative error (plain fitted flux | curvature-corrected)")
    for temperature in (0.25, 0.1):
        for exit_at in (0.0, -0.5, 0.5):
            exact = exact_exit_time(temperature, exit_at)
            plain = [exit_time(temperature, exit_at, n, False) / exact - 1 for n in cells]
            fixed = [exit_time(temperature, exit_at, n, True) / exact - 1 for n in cells]
            print(
                f"  T = {temperature:<5} b = {exit_at:+.1f} tau = {exact:10.5g}  "
                + " ".join(f"{e:+.2e}" for e in plain)
                + " | "
                + " ".join(f"{e:+.2e}" for e in fixed)
            )
    print("Kramers rate (second eigenvalue) on (-2, 2), relative error (plain | corrected)")
    for temperature in (0.25, 0.1):
        reference = kramers_rate(temperature, 12800, True)
        plain = [kramers_rate(temperature, n, False) / reference - 1 for n in cells]
        fixed = [kramers_rate(temperature, n, True) / reference - 1 for n in cells]
        print(
            f"  T = {temperature:<5} rate = {reference:.6g}  "
            + " ".join(f"{e:+.2e}" for e in plain)
            + " | "
            + " ".join(f"{e:+.2e}" for e in fixed)
        )


def three_d_table(sizes=(16, 24, 32, 48)):
    exact = exact_exit_time(0.25, 0.0)
    landscape = fp.Landscape(lambda x, y, z: (x * x - 1) ** 2 + y * y + z * z)
    print("3-D exit from x < 0 at (-1, 0, 0), box (-2, 0.5) x (-1.5, 1.5)^2, relative error and x n^2")
    for n in sizes:
        grid = fp.Grid([(-2.0, 0.5), (-1.5, 1.5), (-1.5, 1.5)], [n] * 3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tau = fp.mean_exit_time(fp.Langevin(landscape, 0.25), grid, domain=lambda x, y, z: x < 0)
        error = tau.smooth(-1.0, 0.0, 0.0) / exact - 1
        print(f"  {n:4d}^3  {error:+.3e}  {error * n * n:+.3f}")


def rotated_table(sizes=(125, 250, 500)):
    """Both schemes on the rotated 2-D double well (fv.assemble swapped for the plain run)."""
    import functools

    exact = exact_exit_time(0.25, 0.0)
    c, s = np.sqrt(3) / 2, 0.5
    model = fp.Langevin(fp.landscapes.rotated_double_well(), temperature=0.25)
    original = fv.assemble
    print("2-D rotated double well, exit through the saddle line, relative error of tau(minimum)")
    for curvature in (False, True):
        fv.assemble = functools.partial(original, curvature=curvature)
        try:
            errors = []
            for n in sizes:
                grid = fp.Grid([(-2.5, 2.5), (-2.0, 2.0)], [n, int(0.8 * n)])
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    tau = fp.mean_exit_time(model, grid, domain=lambda x, y: c * x + s * y < 0)
                errors.append(tau.smooth(-c, -s) / exact - 1)
        finally:
            fv.assemble = original
        label = "corrected" if curvature else "plain    "
        print(f"  {label} " + " ".join(f"{n}x{int(0.8 * n)}: {e:+.2e}" for n, e in zip(sizes, errors)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--3d", dest="three_d", action="store_true", help="also the 3-D exit time")
    parser.add_argument("--2d", dest="two_d", action="store_true", help="also the rotated 2-D double well")
    args = parser.parse_args()
    one_d_tables()
    if args.three_d:
        three_d_table()
    if args.two_d:
        rotated_table()


if __name__ == "__main__":
    main()
