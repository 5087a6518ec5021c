"""Time and peak memory against the number of cells (issue 14, item 5): 1-D, 2-D and 3-D mean exit
times, evolution and stationary laws, with FiPy in 3-D and Monte Carlo side by side.

Run:  python benchmarks/bench_scale.py [--sizes-1d 1000,10000,...] [--sizes-2d 64,128,...]
          [--sizes-3d 24,32,...,128] [--fipy-sizes 16,24,32,48] [--tasks exit,evolve,stationary]
          [--skip-fipy] [--skip-mc] [--figure docs/figures/scale_time_memory.png] [--json out.json]
      python benchmarks/bench_scale.py --quick      # the smallest configuration (tests)

Problem (benchmarks/scale_problem.py): U = (x^2 - 1)^2 + y^2 + z^2 (its first 1, 2 or 3 terms),
Langevin at T = 1/4 on (-2, 0.5) x (-1.5, 1.5)^2, n cells per axis, reflecting faces. Tasks, each
the public call with the problem's construction included, and the error printed:

- exit: ``fp.mean_exit_time(model, grid, domain=x < 0)`` at (-1, 0, 0), against the 1-D double
  integral 33.9457 (the coordinates decouple; scipy quad);
- evolve: ``FokkerPlanck(model, grid).evolve(p0, [0, 10])`` from a Gaussian at (-1, 0, 0), against
  the exact exponential of the same chain (a Kronecker sum of 1-D chains: the solver's error);
- stationary: ``FokkerPlanck(model, grid).stationary()`` against the Boltzmann density.

Peers, 3-D exit time only: FiPy (the backward equation, steady, on its own grid with the exit face
at x = 0) and fpsolve's Monte Carlo to +-1 % at 95 % (cost extrapolated from a pilot).

Each measurement runs in a subprocess of its own (benchmarks/scale_measure.py): warm-up on a
tiny grid (Numba caches, first-call costs), then the public call, best of --repeat wall times (a
run longer than REPEAT_LIMIT_S = 20 s is not repeated), with the CPU seconds of that run. The peak memory is the child's own ``getrusage(RUSAGE_SELF).ru_maxrss`` read right after the timed
call (before the reference is computed); ``RUSAGE_CHILDREN`` in the parent would be the largest of
all children so far, so a small size after a big one would inherit the big one's peak. "above
baseline" subtracts the child's peak before the timed call (interpreter, libraries, warm-up).
Isolation: fresh interpreters (``--isolation spawn``, the default) or forks of this process
(``fork``, --quick's default: the parent warms the tasks up once and each fork inherits that, ~1 s
less per child; Linux starts a fork's peak counter afresh at its current, inherited pages).

Exponents: least squares of log(seconds) and log(MiB above baseline) on log(cells) over the
--fit-last largest sizes of each line (memory only where it rose by >= MEMORY_FLOOR_MIB).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np

from scale_measure import in_subprocess
from scale_problem import BOX, TASKS, TEMPERATURE, exact_mean_exit_time, run_task

MEMORY_FLOOR_MIB = 4.0  # below this the RSS rise is allocator noise, not the problem's arrays
DEFAULTS = {"1": "1000,10000,100000,1000000", "2": "64,128,256,512,1024", "3": "24,32,48,64,96,128"}
QUICK = {"1": "500,1000", "2": "24,32", "3": "10,12", "fipy": "10", "mc_pilot": 200, "mc_dt": 1e-2}


# ---------------------------------------------------------------------------------------------
# Rows, fits, the table and the figure (parent process)
# ---------------------------------------------------------------------------------------------
@dataclass
class Row:
    line: str  # e.g. "3-D exit", "FiPy 3-D exit"
    n: int  # cells per axis
    cells: int
    result: dict = field(default_factory=dict)

    @property
    def ok(self):
        return "failed" not in self.result

    @property
    def above_baseline(self):
        return self.result["peak_mib"] - self.result["baseline_mib"]


def fit_exponent(cells, values, last):
    """Least-squares slope of log(values) on log(cells) over the ``last`` largest sizes, or None
    with fewer than two points."""
    pairs = sorted(zip(cells, values))[-last:]
    if len(pairs) < 2 or len({c for c, _ in pairs}) < 2:
        return None
    x, y = np.log([c for c, _ in pairs]), np.log([v for _, v in pairs])
    return float(np.polyfit(x, y, 1)[0])


def line_exponents(rows, last):
    """{line: (time exponent, memory exponent)} over the successful rows of each line."""
    out = {}
    for line in dict.fromkeys(r.line for r in rows):
        good = [r for r in rows if r.line == line and r.ok and r.result["runs"] and r.result["seconds"] > 0]
        memory = [r for r in good if r.above_baseline >= MEMORY_FLOOR_MIB]
        out[line] = (
            fit_exponent([r.cells for r in good], [r.result["seconds"] for r in good], last),
            fit_exponent([r.cells for r in memory], [r.above_baseline for r in memory], last),
        )
    return out


def fmt(value, spec):
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, spec)


def print_table(rows, exponents, last):
    print(f"\n{'line':16s} {'n':>8s} {'cells':>10s} {'seconds':>9s} {'CPU s':>8s} {'runs':>4s} {'peak MiB':>9s} "
          f"{'+MiB':>8s} {'value':>14s} {'error':>9s}  error is")  # fmt: skip
    for r in rows:
        if not r.ok:
            print(f"{r.line:16s} {r.n:8d} {r.cells:10d}  failed: {r.result['failed']}")
            continue
        q = r.result
        print(f"{r.line:16s} {r.n:8d} {r.cells:10d} {q['seconds']:9.3f} {q['cpu_s']:8.2f} {q['runs']:4d} {q['peak_mib']:9.1f} "
              f"{fmt(r.above_baseline, '8.1f')} {q['value']:14.8g} {fmt(q['error'], '9.2e')}  {q['error_kind']}")  # fmt: skip
    print(
        f"\nfitted exponents (least squares on the {last} largest sizes): seconds ~ cells^a, MiB above baseline ~ cells^b"
    )
    for line, (a, b) in exponents.items():
        print(f"  {line:22s} a = {fmt(a, '5.2f')}   b = {fmt(b, '5.2f')}")


def time_to_accuracy(rows, target, time_exponent):
    """fpsolve's seconds for a 3-D exit time within ``target`` (relative): the smallest measured grid
    that reaches it, else extrapolated from the two largest grids with their observed order of
    convergence and the fitted time exponent. Returns (cells per axis, seconds, how)."""
    rows = sorted(rows, key=lambda r: r.n)
    for r in rows:
        if abs(r.result["error"]) <= target:
            return r.n, r.result["seconds"], "measured"
    if len(rows) < 2 or time_exponent is None:
        return None, None, "not reached"
    (n1, e1), (n2, e2) = ((r.n, abs(r.result["error"])) for r in rows[-2:])
    order = math.log(e1 / e2) / math.log(n2 / n1)
    if not order > 0.5:
        return None, None, f"not reached (observed order {order:.2f})"
    n = n2 * (e2 / target) ** (1 / order)
    return n, rows[-1].result["seconds"] * (n / n2) ** (3 * time_exponent), f"extrapolated, order {order:.2f}"


def print_comparison(rows, exponents, mc):
    """3-D mean exit time: fpsolve, FiPy and Monte Carlo, at equal cells and at equal accuracy."""
    ours = {r.n: r for r in rows if r.line == "3-D exit" and r.ok}
    fipy = {r.n: r for r in rows if r.line.startswith("FiPy") and r.ok}
    print(f"\n3-D mean exit time from (-1, 0, 0), exact {exact_mean_exit_time():.9f} (1-D double integral, quad)")
    print(f"{'n':>5s} {'cells':>9s} {'fpsolve s':>10s} {'fpsolve err':>12s} {'FiPy s':>9s} {'FiPy err':>10s} "
          f"{'FiPy/fpsolve':>12s}")  # fmt: skip
    for n in sorted(set(ours) | set(fipy)):
        a, b = ours.get(n), fipy.get(n)
        ta, tb = (a.result["seconds"] if a else None), (b.result["seconds"] if b else None)
        print(f"{n:5d} {n**3:9d} {fmt(ta, '10.3f')} {fmt(a and a.result['error'], '12.2e')} {fmt(tb, '9.3f')} "
              f"{fmt(b and b.result['error'], '10.2e')} {fmt(ta and tb and tb / ta, '12.2f')}")  # fmt: skip
    if not ours:
        return
    a = exponents.get("3-D exit", (None, None))[0]
    for n, r in sorted(fipy.items()):
        m, t, how = time_to_accuracy(ours.values(), abs(r.result["error"]), a)
        ratio = f"fpsolve/FiPy = {t / r.result['seconds']:.3g}" if t else ""
        print(f"  equal accuracy: FiPy {n}^3 ({r.result['error']:+.1e}, {r.result['seconds']:.3f} s); fpsolve "
              f"needs {fmt(m, '.0f')}^3: {fmt(t, '.3g')} s ({how}) {ratio}")  # fmt: skip
    if mc is None or "failed" in mc:
        print(f"Monte Carlo: {'skipped' if mc is None else mc['failed']}")
        return
    print(f"Monte Carlo (fpsolve.montecarlo, dt = {mc['dt']:g}, Brownian-bridge exit test; bias about -1.75 dt "
          f"relative = {-1.75 * mc['dt']:.2%}): pilot {mc['paths']} paths in {mc['pilot_s']:.2f} s (compile "
          f"{mc['compile_s']:.1f} s, excluded), mean {mc['value']:.3f} +- {mc['half_width_95']:.1%} (95 %), "
          f"error {mc['error']:+.2%}, CV {mc['cv']:.3f};\n  +-1 % at 95 % needs (1.96 CV / 0.01)^2 = "
          f"{mc['paths_needed']} paths: {mc['seconds']:.1f} s, EXTRAPOLATED linearly from the pilot")  # fmt: skip
    m, t, how = time_to_accuracy(ours.values(), 0.01, a)
    if t:
        print(
            f"  fpsolve within 1 %: {fmt(m, '.0f')}^3 in {t:.3g} s ({how}): Monte Carlo / fpsolve = {mc['seconds'] / t:.3g}"
        )


def plot(rows, exponents, mc, path):
    """Three panels: seconds and MiB against cells (log-log, fitted exponents in the legend), and
    the 3-D exit time's |error| against seconds for fpsolve, FiPy and Monte Carlo."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_t, ax_m, ax_e) = plt.subplots(1, 3, figsize=(17, 7), constrained_layout=True)
    colours, styles = {"exit": "C0", "evolve": "C1", "stationary": "C2"}, {"1": ":", "2": "--", "3": "-"}
    for line, (a, b) in exponents.items():
        good = [r for r in rows if r.line == line and r.ok]
        if not good:
            continue
        peer, task, dim = line.startswith("FiPy"), line.split()[-1], line.split()[-2][0]
        style = dict(color="C3" if peer else colours[task], ls="-." if peer else styles[dim], marker="o", ms=3)
        ax_t.loglog(
            [r.cells for r in good], [r.result["seconds"] for r in good], label=f"{line} (a = {fmt(a, '.2f')})", **style
        )
        memory = [(r.cells, r.above_baseline) for r in good if r.above_baseline >= MEMORY_FLOOR_MIB]
        if memory:
            ax_m.loglog(*zip(*memory), label=f"{line} (b = {fmt(b, '.2f')})", **style)
        if task == "exit" and dim == "3":
            label = "FiPy (self-adjoint form, PCG)" if peer else "fpsolve"
            ax_e.loglog(
                [r.result["seconds"] for r in good], [abs(r.result["error"]) for r in good], label=label, **style
            )
            for r in good:
                ax_e.annotate(f"{r.n}³", (r.result["seconds"], abs(r.result["error"])), fontsize=7)
    if mc and "failed" not in mc:
        ax_t.axhline(
            mc["seconds"], color="k", ls=(0, (1, 3)), label="Monte Carlo 3-D exit, ±1 % at 95 % (extrapolated)"
        )
        ax_e.loglog([mc["seconds"]], [0.01], "k*", ms=10, label="Monte Carlo, ±1 % at 95 % (extrapolated)")
    ax_t.set(xlabel="cells", ylabel="wall seconds (best of runs)", title="time ~ cells^a (fit on the largest sizes)")
    ax_m.set(xlabel="cells", ylabel="peak RSS above baseline (MiB)", title="memory ~ cells^b")
    ax_e.set(
        xlabel="wall seconds", ylabel="|relative error| of τ(−1, 0, 0)", title="3-D mean exit time: error against time"
    )
    for ax in (ax_t, ax_m, ax_e):  # legends under the panels: the data fill the corners
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2)
    fig.suptitle(
        "U = (x²−1)² + y² + z², T = 1/4: mean exit time, evolution to t = 10, stationary law (1-D ···, 2-D --, 3-D —)"
    )
    fig.savefig(path, dpi=110)
    plt.close(fig)


def sizes(text):
    return [int(float(s)) for s in text.split(",") if s.strip()]


def parse(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smallest configuration (tests): tiny sizes, small MC pilot")
    ap.add_argument("--sizes-1d", help=f"cells, comma-separated (default {DEFAULTS['1']})")
    ap.add_argument("--sizes-2d", help=f"cells per axis (default {DEFAULTS['2']})")
    ap.add_argument("--sizes-3d", help=f"cells per axis (default {DEFAULTS['3']})")
    ap.add_argument("--fipy-sizes", help="FiPy 3-D cells per axis (default 16,24,32,48)")
    ap.add_argument("--tasks", default=",".join(TASKS), help="subset of exit,evolve,stationary")
    ap.add_argument("--dims", default="1,2,3")
    ap.add_argument("--repeat", type=int, help="best of this many runs (default 3; --quick 1)")
    ap.add_argument("--fit-last", type=int, help="sizes per line in the fits (default 3; --quick 2)")
    ap.add_argument("--mc-paths", type=int, help="Monte Carlo pilot paths (default 2000)")
    ap.add_argument("--mc-dt", type=float, help="Monte Carlo time step (default 1e-3)")
    ap.add_argument("--skip-fipy", action="store_true")
    ap.add_argument("--skip-mc", action="store_true")
    ap.add_argument(
        "--isolation", choices=("spawn", "fork"), help="fresh interpreters or forks (default spawn; --quick fork)"
    )
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per measurement")
    ap.add_argument("--figure", help="figure path (default docs/figures/scale_time_memory.png; --quick: none)")
    ap.add_argument("--json", help="write the rows and exponents here")
    args = ap.parse_args(argv)
    preset = QUICK if args.quick else {**DEFAULTS, "fipy": "16,24,32,48", "mc_pilot": 2000, "mc_dt": 1e-3}
    for dim in "123":
        name = f"sizes_{dim}d"
        setattr(args, name, sizes(getattr(args, name) or preset[dim]))
    args.fipy_sizes = sizes(args.fipy_sizes or preset["fipy"])
    args.repeat = args.repeat or (1 if args.quick else 3)
    args.fit_last = args.fit_last or (2 if args.quick else 3)
    args.mc_paths, args.mc_dt = args.mc_paths or preset["mc_pilot"], args.mc_dt or preset["mc_dt"]
    args.isolation = args.isolation or ("fork" if args.quick else "spawn")
    if args.figure is None and not args.quick:
        from pathlib import Path

        args.figure = str(Path(__file__).resolve().parents[1] / "docs" / "figures" / "scale_time_memory.png")
    args.tasks, args.dims = args.tasks.split(","), [int(d) for d in args.dims.split(",")]
    unknown = set(args.tasks) - set(TASKS)
    if unknown:
        ap.error(f"--tasks: unknown {sorted(unknown)}; choose from {', '.join(TASKS)}")
    return args


def measure_line(line, jobs, args):
    """Measure a line's sizes in ascending order; after a failure the larger sizes are skipped."""
    rows, failed = [], None
    for n, cells, job in jobs:
        result = {"failed": f"skipped: {failed}"} if failed else in_subprocess(job, args.isolation, args.timeout)
        failed = failed or (None if "failed" not in result else f"n = {n} failed")
        rows.append(Row(line, n, cells, result))
        q = result
        note = (
            q["failed"]
            if "failed" in q
            else f"{q['seconds']:.3f} s, peak {q['peak_mib']:.0f} MiB, error {fmt(q['error'], '.2e')}"
        )
        print(f"  {line:18s} n = {n:<8d} {note}", flush=True)
    return rows


def warm_parent(args):
    """fork isolation: run each task once on a tiny grid here, so that every fork inherits the
    loaded Numba caches and lazy imports. Numba's parallel kernels run on its fork-safe workqueue
    thread pool in this mode (set before Numba is imported); should another pool have started
    anyway (OpenMP is not fork-safe), measure in fresh interpreters instead."""
    warnings.simplefilter("ignore")
    for dim in args.dims:
        for task in args.tasks:
            run_task(task, dim, 16 if dim == 1 else 6)
    import numba
    from numba.np.ufunc import parallel

    if getattr(parallel, "_is_initialized", False) and numba.threading_layer() != "workqueue":
        print(f"  the warm-up started Numba's {numba.threading_layer()} pool, not fork-safe: isolation spawn")
        args.isolation = "spawn"


def main(argv=None):
    args = parse(argv)
    if args.isolation == "fork":
        if "numba" not in sys.modules:
            os.environ.setdefault("NUMBA_THREADING_LAYER", "workqueue")
        warm_parent(args)
    print(f"bench_scale: T = {TEMPERATURE}, box {BOX}, isolation {args.isolation}, repeat {args.repeat}; "
          f"exact tau(-1) = {exact_mean_exit_time():.10f}", flush=True)  # fmt: skip
    rows = []
    for dim in args.dims:
        for task in args.tasks:
            ns = getattr(args, f"sizes_{dim}d")
            jobs = [(n, n**dim, ("measure", (task, dim, n, args.repeat))) for n in sorted(ns)]
            rows += measure_line(f"{dim}-D {task}", jobs, args)
    if not args.skip_fipy:
        jobs = [(n, n**3, ("fipy", (n,))) for n in sorted(args.fipy_sizes)]
        rows += measure_line("FiPy 3-D exit", jobs, args)
    mc = None if args.skip_mc else in_subprocess(("mc", (args.mc_paths, args.mc_dt)), args.isolation, args.timeout)
    exponents = line_exponents(rows, args.fit_last)
    print_table(rows, exponents, args.fit_last)
    print_comparison(rows, exponents, mc)
    if args.figure:
        plot(rows, exponents, mc, args.figure)
        print(f"\nfigure: {args.figure}")
    if args.json:
        with open(args.json, "w") as f:
            payload = {"rows": [asdict(r) for r in rows], "exponents": exponents, "monte_carlo": mc}
            json.dump(payload, f, indent=1, default=float)
    return rows, exponents, mc


if __name__ == "__main__":
    main(sys.argv[1:])
