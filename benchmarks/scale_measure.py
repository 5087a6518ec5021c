"""What benchmarks/bench_scale.py runs in a child process: one timed fpsolve call, FiPy's 3-D exit
time, fpsolve's Monte Carlo pilot, and the process isolation around them.

Peak memory is the child's own ``getrusage(RUSAGE_SELF).ru_maxrss``, read right after the timed
call and before any reference is computed (``RUSAGE_CHILDREN`` in the parent would report the
largest child so far). Every function returns a dict of plain numbers; a failure is reported as
``{"failed": reason}`` with the library's own message.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import resource
import time
import warnings

import numpy as np

from scale_problem import BOX, START, TEMPERATURE, accuracy, exact_mean_exit_time, landscape, run_task

REPEAT_LIMIT_S = 20.0  # a run this long is timed once: best-of-3 matters only for short runs


def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def clock():
    """(wall seconds, CPU seconds of this process summed over its threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return time.perf_counter(), usage.ru_utime + usage.ru_stime


def measure(task, dim, n, repeat):
    """Time ``run_task(task, dim, n)`` (best of ``repeat``), its peak memory, and its error."""
    warnings.simplefilter("ignore")  # the coarse-grid Peclet warnings: the error column says it
    run_task(task, dim, 16 if dim == 1 else 6)  # warm-up: Numba caches, first-call costs
    baseline = peak_mib()
    runs, out = [], None  # (wall, CPU) seconds
    while len(runs) < repeat and (not runs or runs[-1][0] < REPEAT_LIMIT_S):
        out = None  # the previous run's result is not part of this run's peak
        wall, cpu = clock()
        out = run_task(task, dim, n)
        runs.append(tuple(np.subtract(clock(), (wall, cpu))))
    peak = peak_mib()
    value, error, error_kind = accuracy(task, dim, n, out)
    seconds, cpu_s = min(runs)
    return dict(seconds=seconds, cpu_s=cpu_s, runs=len(runs), peak_mib=peak, baseline_mib=baseline, value=value,
                error=error, error_kind=error_kind)  # fmt: skip


def fipy_exit_time(n):
    """FiPy 4 on a Grid3D of n^3 cells over its natural box (-2, 0) x (-1.5, 1.5)^2, the exit face
    x = 0 a Dirichlet face: the backward equation in self-adjoint form,
    div(T e^{-U/T} grad tau) + e^{-U/T} = 0, no flux elsewhere, PCG with Jacobi to 1e-10
    (FiPy's scipy LU is 1.6x slower at 32^3; unpreconditioned PCG 40x)."""
    import fipy
    from scipy.interpolate import RegularGridInterpolator

    box = ((-2.0, 0.0),) + BOX[1:]
    h = [(hi - lo) / n for lo, hi in box]
    U = lambda x, y, z: (x * x - 1) ** 2 + y * y + z * z  # noqa: E731
    baseline, (start, start_cpu) = peak_mib(), clock()
    mesh = fipy.Grid3D(dx=h[0], dy=h[1], dz=h[2], nx=n, ny=n, nz=n) + [[lo] for lo, _ in box]
    faces, cells = [np.asarray(c) for c in mesh.faceCenters], [np.asarray(c) for c in mesh.cellCenters]
    weight_faces = fipy.FaceVariable(mesh=mesh, value=TEMPERATURE * np.exp(-U(*faces) / TEMPERATURE))
    weight_cells = fipy.CellVariable(mesh=mesh, value=np.exp(-U(*cells) / TEMPERATURE))
    tau = fipy.CellVariable(mesh=mesh, value=0.0)
    tau.constrain(0.0, where=mesh.facesRight)
    solver = fipy.LinearPCGSolver(tolerance=1e-10, iterations=50_000, precon=fipy.solvers.scipy.JacobiPreconditioner())
    (fipy.DiffusionTerm(coeff=weight_faces) + weight_cells == 0).solve(var=tau, solver=solver)
    (seconds, cpu_s), peak = np.subtract(clock(), (start, start_cpu)), peak_mib()
    values = np.asarray(tau.value).reshape(n, n, n).T  # FiPy orders x fastest
    centres = [lo + (np.arange(n) + 0.5) * hk for (lo, _), hk in zip(box, h)]
    value = float(RegularGridInterpolator(centres, values)(np.array([START]))[0])
    return dict(seconds=float(seconds), cpu_s=float(cpu_s), runs=1, peak_mib=peak, baseline_mib=baseline, value=value,
                error=value / exact_mean_exit_time() - 1.0, error_kind="relative error of tau(-1, 0, 0)")  # fmt: skip


def monte_carlo(paths, dt):
    """fpsolve.montecarlo (Euler-Maruyama, Brownian-bridge test on the plane x = 0) from (-1, 0, 0):
    a pilot of ``paths`` paths; the paths for a 95 % interval of +-1 % are (1.96 CV / 0.01)^2 and
    their time is extrapolated linearly from the pilot (compile time excluded, reported)."""
    import fpsolve as fp
    from fpsolve.montecarlo import HalfSpace, simulator

    model, plane = fp.Langevin(landscape(3), TEMPERATURE), HalfSpace([1.0, 0.0, 0.0], 0.0)
    t_max = 40 * exact_mean_exit_time()  # exits are ~exponential: P(censored) ~ e^-40
    baseline, start = peak_mib(), time.perf_counter()
    sim = simulator(model, dt=dt, seed=1)
    sim.exit_times(START, 8, plane, t_max=t_max)
    compile_s = time.perf_counter() - start
    start = time.perf_counter()
    result = sim.exit_times(START, paths, plane, t_max=t_max)
    pilot_s = time.perf_counter() - start
    if result.censored.any():
        raise RuntimeError(f"monte carlo: {result.censored.sum()} paths censored at t_max = {t_max:g}")
    mean, cv = float(result.times.mean()), float(result.times.std(ddof=1) / result.times.mean())
    needed = math.ceil((1.96 * cv / 0.01) ** 2)
    return dict(seconds=pilot_s * needed / paths, runs=1, peak_mib=peak_mib(), baseline_mib=baseline,
                value=mean, error=mean / exact_mean_exit_time() - 1.0, error_kind="pilot mean, relative error",
                paths=paths, paths_needed=needed, pilot_s=pilot_s, compile_s=compile_s, cv=cv, dt=dt,
                half_width_95=1.96 * cv / math.sqrt(paths))  # fmt: skip


def _child(connection, job):
    try:
        kind, args = job
        result = {"measure": measure, "fipy": fipy_exit_time, "mc": monte_carlo}[kind](*args)
    except Exception as exc:  # reported in the table: the row failed, with the library's reason
        result = {"failed": f"{type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}"}
    connection.send(result)
    connection.close()


def in_subprocess(job, isolation, timeout):
    """Run ``job`` in a fresh process; a child over ``timeout`` seconds is terminated."""
    context = mp.get_context(isolation)
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(send, job))
    child.start()
    send.close()
    try:
        result = receive.recv() if receive.poll(timeout) else {"failed": f"timeout after {timeout:g} s"}
    except EOFError:  # the child died without a word (out of memory: the kernel's OOM killer)
        child.join()
        result = {"failed": f"the child process died (exit code {child.exitcode})"}
    child.join(5)
    if child.is_alive():
        child.terminate()
        child.join()
    return result
