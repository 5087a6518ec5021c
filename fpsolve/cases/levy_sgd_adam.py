"""The ``sgd_vs_adam`` task: the same basin under LevySGD and LevyAdam, in 1-D and 2-D.

Both optimizers see per-coordinate alpha-stable gradient noise (Zhou et al., arXiv 2010.05627):
one sample's noise has scale s_j along axis j, a batch of B averages it, and in the time
t = lr x iterations the jump scale is eps_j = s_j (lr / B)^((alpha - 1) / alpha) (fpsolve.levy).
Adam with a frozen diagonal preconditioner q has the drift -grad U / q_j and the jump scale
eps_j / q_j. The basin is the [one_d] / [two_d] box (every point outside it is exterior). For
each batch size the PDE gives tau for both from the start, next to the per-axis
Imkeller-Pavlyukevich time 1 / sum_j (eps_j^alpha C_alpha / alpha)(a_j^-alpha + b_j^-alpha),
a_j, b_j the distances from the minimum to the box faces along axis j (fpsolve.levy_theory).
With q_j > 1 along the axes that carry the noise, Adam's jumps are shorter and it stays longer:
tau_Adam / tau_SGD -> sum_j eps_j^alpha m_j / sum_j (eps_j / q_j)^alpha m_j as eps -> 0.
"""

from __future__ import annotations

import numpy as np

from .. import levy_theory as theory
from ..levy import LevyAdam, LevySGD
from . import levy_plots
from .config import Case, build_landscape
from .levy_common import exit_time_with_error, well_distances
from .output import CaseResult

__all__ = ["sgd_vs_adam_task"]

PARTS = (("one_d", "landscape"), ("two_d", "landscape_2d"))


def sgd_vs_adam_task(case: Case, progress: bool = False, scratch=None) -> CaseResult:
    """tau of LevySGD and LevyAdam against the batch size, in each dimension the case gives."""
    model_spec = case.table("model")
    lr, alpha = float(model_spec["lr"]), float(model_spec["alpha"])
    sizes = [float(b) for b in case.table("sweep")["batch_size"]]
    result = CaseResult()
    rows = []
    for part, landscape_table in PARTS:
        if part not in case.tables:
            continue
        setup = _setup(case, part, landscape_table)
        for size in sizes:
            rows.append(_row(case, setup, lr, alpha, size))
    if not rows:
        raise case.error("one_d", "bounds", "give [one_d] and/or [two_d]: the basins to compare")
    result.numbers.update(lr=lr, alpha=alpha, table=rows)
    result.summary.extend(_lines(rows))
    result.figures["sgd_vs_adam"] = levy_plots.sgd_against_adam(rows)
    return result


def _setup(case: Case, part: str, landscape_table: str) -> dict:
    spec = case.table(part)
    landscape = build_landscape(case, landscape_table)
    d = landscape.ndim
    bounds = [tuple(float(v) for v in b) for b in np.asarray(spec["bounds"], dtype=float).reshape(-1, 2)]
    cells = [int(c) for c in np.atleast_1d(spec["cells"])]
    start = tuple(float(s) for s in np.atleast_1d(spec["start"]))
    noise = [float(s) for s in np.atleast_1d(spec.get("noise_scale", 1.0))]
    q = [float(v) for v in np.atleast_1d(spec["preconditioner"])]
    for key, value in (("bounds", bounds), ("cells", cells), ("start", start), ("preconditioner", q)):
        if len(value) != d:
            raise case.error(
                part, key, f"expected {d} entries for the {d}-D landscape [{landscape_table}], got {len(value)}"
            )
    if len(noise) not in (1, d):
        raise case.error(part, "noise_scale", f"expected one scale or {d}, got {len(noise)}")
    minima = [m for m in landscape.minima if all(lo < c < hi for c, (lo, hi) in zip(m, bounds))]
    if not minima:
        raise case.error(part, "bounds", "the box holds no minimum of the landscape: it is not a basin")
    minimum = min(minima, key=lambda m: float(np.sum((np.asarray(m) - start) ** 2)))
    return dict(
        part=part,
        landscape=landscape,
        bounds=bounds,
        cells=cells,
        start=start,
        noise_scale=noise if len(noise) == d else noise * d,
        preconditioner=q,
        minimum=tuple(float(c) for c in minimum),
        distances=well_distances(minimum, bounds),
    )


def _optimizer(case, setup, lr, alpha, size, kind: str) -> dict:
    if kind == "sgd":
        model = LevySGD(setup["landscape"], lr, size, alpha, noise_scale=_one(setup["noise_scale"]))
    else:
        model = LevyAdam(
            setup["landscape"], lr, size, alpha, setup["preconditioner"], noise_scale=_one(setup["noise_scale"])
        )
    solved = exit_time_with_error(case, model, setup["bounds"], setup["cells"], setup["start"])
    jumps = model.jumps
    asymptotic = theory.imkeller_pavlyukevich_exit_time(list(jumps.alphas), setup["distances"], list(jumps.scales))
    return dict(
        **solved, iterations=solved["tau"] / lr, jump_scales=list(jumps.scales), imkeller_pavlyukevich=asymptotic
    )


def _one(values: list):
    """A scalar when every axis shares the value (LevySGD takes a float or one per axis)."""
    return values[0] if len(set(values)) == 1 else list(values)


def _row(case, setup, lr, alpha, size) -> dict:
    sgd = _optimizer(case, setup, lr, alpha, size, "sgd")
    adam = _optimizer(case, setup, lr, alpha, size, "adam")
    return dict(
        dim=len(setup["bounds"]),
        batch_size=size,
        minimum=setup["minimum"],
        distances=setup["distances"],
        preconditioner=setup["preconditioner"],
        sgd=sgd,
        adam=adam,
        ratio=adam["tau"] / sgd["tau"],
        predicted_ratio=adam["imkeller_pavlyukevich"] / sgd["imkeller_pavlyukevich"],
    )


def _lines(rows) -> list:
    lines = [
        f"{'dim':>3s} {'B':>5s} {'tau_SGD':>10s} {'tau_Adam':>10s} {'Adam/SGD':>9s} {'IP ratio':>9s} "
        f"{'SGD iterations':>14s} {'grid errors':>14s}"
    ]
    for r in rows:
        errors = f"{abs(r['sgd']['error']) / r['sgd']['tau']:.1%}/{abs(r['adam']['error']) / r['adam']['tau']:.1%}"
        flag = "" if r["sgd"]["resolved"] and r["adam"]["resolved"] else "  UNRESOLVED (refine the grid)"
        lines.append(
            f"{r['dim']:3d} {r['batch_size']:5g} {r['sgd']['tau']:10.5g} {r['adam']['tau']:10.5g} "
            f"{r['ratio']:9.3f} {r['predicted_ratio']:9.3f} {r['sgd']['iterations']:14.5g} {errors:>14s}{flag}"
        )
    first = {"SGD" if r["ratio"] > 1 else "Adam" for r in rows}
    lines.append(
        f"{' and '.join(sorted(first))} leaves the basin first "
        f"(tau_Adam / tau_SGD from {min(r['ratio'] for r in rows):.3g} to {max(r['ratio'] for r in rows):.3g})"
    )
    return lines
