"""Engine benchmarks of issue 2: the 1-D and 2-D double-well problems against peers and a minimal
Scharfetter-Gummel solver; cold start and 512^2 memory. Prints one table of times, L1 errors and
ratios.

    python benchmarks/bench_engine.py [--peers fipy,pypde,fplanck] [--skip-memory]

Accuracy is the L1 error against a 4x-refined fpsolve reference (exponential method, exact in
time), the refined density interpolated at the coarse cell centres (2x-refined in 2-D).
"""

import argparse
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

warnings.simplefilter("ignore")

D, T_END, LO, HI, N = 0.25, 5.0, -2.5, 2.5, 2000


def dU(x):
    return 4 * x * (x**2 - 1)


def gaussian_cells(faces, mean=-1.0, std=0.1):
    from scipy.special import erf

    cdf = 0.5 * (1 + erf((faces - mean) / (np.sqrt(2) * std)))
    w = np.diff(cdf)
    return w / (w.sum() * (faces[1] - faces[0]))


def coarsen(p, factor, ndim=1):
    """The refined density at the coarse cell centres (linear interpolation between the two fine
    cells around each centre): second-order finite-volume values are point values at centres.
    (Averaging the refined density over each coarse cell instead adds the h^2 p''/24 difference
    between cell averages and centre values: 7.1e-6 instead of 1.7e-6 in 1-D at 2000 cells.)"""
    for axis in range(ndim):
        shape = list(p.shape)
        shape[axis : axis + 1] = [shape[axis] // factor, factor]
        blocks = p.reshape(shape)
        middle = [factor // 2 - 1, factor // 2]
        p = np.take(blocks, middle, axis=axis + 1).mean(axis=axis + 1)
    return p


def timed(f, repeat=3):
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t0)
    return best, out


# --- the minimal hand-written baseline: SG fluxes, Crank-Nicolson, one splu -----------------------
def minimal_sg(n=N, dt=0.01):
    h = (HI - LO) / n
    x = LO + (np.arange(n) + 0.5) * h
    U = (x**2 - 1) ** 2
    pe = -(U[1:] - U[:-1]) / D
    B = lambda z: np.where(np.abs(z) < 1e-8, 1 - z / 2, z / np.expm1(np.where(z == 0, 1, z)))
    a, b = D / h**2 * B(-pe), D / h**2 * B(pe)  # flux L->R: a p_L - b p_R
    main = np.zeros(n)
    main[:-1] -= a
    main[1:] -= b
    A = sp.diags([main, b, a], [0, 1, -1], format="csc")
    I = sp.identity(n, format="csc")
    lu = splu(sp.csc_matrix(I - 0.5 * dt * A))
    E = sp.csr_matrix(I + 0.5 * dt * A)
    p = gaussian_cells(np.linspace(LO, HI, n + 1))
    for _ in range(int(round(T_END / dt))):
        p = lu.solve(E @ p)
    return p


# --- fpsolve --------------------------------------------------------------------------------------
def fpsolve_1d(n=N, method="trbdf2", **kw):
    import fpsolve as fp

    grid = fp.Grid([(LO, HI)], [n])
    fpe = fp.FokkerPlanck(fp.Langevin(fp.Landscape(lambda x: (x**2 - 1) ** 2, grad=lambda x: [dU(x)]), D), grid)
    p0 = fp.gaussian(grid, mean=-1.0, std=0.1)
    return fpe.evolve(p0, [0.0, T_END], method=method, **kw).p[-1]


def fpsolve_2d(n=200, method="trbdf2", **kw):
    import fpsolve as fp

    U = fp.Landscape(lambda x, y: (x**2 - 1) ** 2 + 2 * y**2, grad=lambda x, y: [dU(x), 4 * y])
    grid = fp.Grid([(-2.5, 2.5), (-1.5, 1.5)], [n, n])
    fpe = fp.FokkerPlanck(fp.Langevin(U, D), grid)
    p0 = fp.gaussian(grid, mean=(-1.0, 0.0), std=0.1)
    return fpe.evolve(p0, [0.0, 2.0], method=method, **kw).p[-1]


# --- peers ---------------------------------------------------------------------------------------
def fipy_1d(n=N, dt=0.01):
    import fipy

    h = (HI - LO) / n
    mesh = fipy.Grid1D(dx=h, nx=n) + (LO,)
    phi = fipy.CellVariable(mesh=mesh, value=gaussian_cells(np.linspace(LO, HI, n + 1)))
    xf = mesh.faceCenters[0]
    b = fipy.FaceVariable(mesh=mesh, rank=1, value=np.array([-dU(np.asarray(xf))]))
    eq = fipy.TransientTerm() == fipy.DiffusionTerm(coeff=D) - fipy.ExponentialConvectionTerm(coeff=b)
    for _ in range(int(round(T_END / dt))):
        eq.solve(var=phi, dt=dt)
    return np.array(phi.value)


def pypde_1d(n=N):
    import pde

    grid = pde.CartesianGrid([(LO, HI)], [n])
    state = pde.ScalarField(grid, gaussian_cells(np.linspace(LO, HI, n + 1)))
    eq = pde.PDE({"p": f"d_dx(p * 4 * x * (x**2 - 1) + {D} * d_dx(p))"}, bc={"derivative": 0})
    res = eq.solve(state, t_range=T_END, dt=1e-6, adaptive=True, tracker=None)
    return res.data


def fplanck_1d(n=N, steps=500):
    np.product = np.prod  # fplanck 0.2.2 uses np.product, removed in NumPy 2
    import fplanck

    k = fplanck.k  # SI: D = k T / drag, drift = F / drag
    h = (HI - LO) / n
    sim = fplanck.fokker_planck(
        temperature=D / k,
        drag=1.0,
        extent=[HI - LO],
        resolution=h,
        potential=lambda x: (x**2 - 1) ** 2,
        boundary=fplanck.boundary.reflecting,
    )
    # fplanck's grid is centred on 0 (extent [-2.5, 2.5]); it takes the initial law as a callable
    p = sim.propagate_interval(lambda x: np.exp(-((x + 1.0) ** 2) / (2 * 0.01)), T_END, Nsteps=steps)[1][-1]
    p = p / p.sum()
    return p / h  # per-cell probabilities to a density


def subprocess_seconds(code):
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=600)
    return out.stdout.strip() or out.stderr.strip()[-300:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--peers", default="fipy,pypde,fplanck")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--skip-2d", action="store_true")
    args = ap.parse_args()
    peers = [p for p in args.peers.split(",") if p]
    rows = []
    h = (HI - LO) / N
    ref = coarsen(fpsolve_1d(4 * N, "exponential"), 4)
    l1 = lambda p: float(np.abs(p - ref).sum() * h)

    t_min, p = timed(minimal_sg)
    rows.append(("1-D minimal SG (CN dt=0.01, one splu)", t_min, l1(p), abs(p.sum() * h - 1)))
    for method, kw in (("trbdf2", {}), ("trbdf2", {"rtol": 1e-6}), ("exponential", {}), ("cram", {})):
        t, p = timed(lambda: fpsolve_1d(N, method, **kw))
        rows.append((f"1-D fpsolve {method} {kw or ''}".strip(), t, l1(p), abs(p.sum() * h - 1)))
    if "fipy" in peers:
        for dt in (0.01,):
            t, p = timed(lambda: fipy_1d(N, dt), repeat=1)
            rows.append((f"1-D FiPy exponential scheme, implicit Euler dt={dt}", t, l1(p), abs(p.sum() * h - 1)))
    if "pypde" in peers:
        t, p = timed(lambda: pypde_1d(N), repeat=1)
        rows.append(("1-D py-pde nested flux form (incl. compile)", t, l1(p), abs(p.sum() * h - 1)))
    if "fplanck" in peers:
        try:
            t, p = timed(lambda: fplanck_1d(N), repeat=1)
        except Exception as error:  # report, do not hide, a peer that fails
            print("fplanck failed:", repr(error)[:200])
            t, p = np.nan, np.full(N, np.nan)
        rows.append(("1-D fplanck 0.2.2 (500 intervals)", t, l1(p), abs(p.sum() * h - 1)))

    h2 = (5.0 / 200) * (3.0 / 200)
    ref2 = None if args.skip_2d else coarsen(fpsolve_2d(400, "exponential"), 2, ndim=2)
    for method in () if args.skip_2d else ("trbdf2", "exponential"):
        t, p = timed(lambda: fpsolve_2d(200, method), repeat=1)
        rows.append(
            (f"2-D 200^2 fpsolve {method} to t=2", t, float(np.abs(p - ref2).sum() * h2), abs(p.sum() * h2 - 1))
        )

    cold = subprocess_seconds("""
        import time; t0 = time.perf_counter()
        import fpsolve as fp
        g = fp.Grid([(-2.5, 2.5)], [2000])
        fpe = fp.FokkerPlanck(fp.Langevin(fp.Landscape(lambda x: (x**2 - 1)**2), 0.25), g)
        fpe.evolve(fp.gaussian(g, mean=-1.0, std=0.1), [0, 5.0])
        print(f"{time.perf_counter() - t0:.3f}")""")
    rows.append(
        (
            "cold start: import + first 1-D solve (subprocess)",
            float(cold) if cold.replace(".", "").isdigit() else np.nan,
            np.nan,
            np.nan,
        )
    )
    if not args.skip_memory:
        mem = subprocess_seconds("""
            import resource, time, warnings; warnings.simplefilter("ignore")
            import fpsolve as fp
            U = fp.Landscape(lambda x, y: (x**2 - 1)**2 + 2*y**2)
            g = fp.Grid([(-2.5, 2.5), (-1.5, 1.5)], [512, 512])
            t0 = time.perf_counter()
            fp.FokkerPlanck(fp.Langevin(U, 0.25), g).evolve(fp.gaussian(g, mean=(-1, 0), std=0.1), [0, 2.0])
            print(f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.3f} {time.perf_counter() - t0:.2f}")""")
        print("512^2 evolve to t=2 (default method, exponential): peak RSS GiB, seconds:", mem)

    base = rows[0][1]
    print(f"\n{'run':58s} {'seconds':>9s} {'L1 error':>10s} {'|mass-1|':>9s} {'t/minimal':>9s}")
    for name, t, err, dm in rows:
        print(f"{name:58s} {t:9.3f} {err:10.2e} {dm:9.1e} {t / base:9.2f}")


if __name__ == "__main__":
    main()
