"""The ``kunin_phase_space`` task: Kunin et al. (arXiv 2107.09133) on the kinetic PDE of heavy-ball SGD.

* [quadratic] (a): U = lambda theta^2 / 2 with Sigma = sigma^2 H. The stationary Var theta and
  Var v against Kunin's lr sigma^2 / (2 B (1 - beta)) and sigma^2 lambda / (B (1 - beta^2)); the
  transient mean spiralling into the minimum, its decay rate fitted (Prony) against
  (1 - beta) / (lr (1 + beta)).
* [current] (b): the stationary probability current. In the (theta, v) plane of one mode, the kinetic
  PDE's own face fluxes (fpe.current) against the Ornstein-Uhlenbeck closed form (Lyapunov), with the
  circulation int (theta J_v - v J_theta). On the theta plane of U = theta.H.theta / 2 in R^2 with a
  constant Sigma that does not commute with H: int J dv = C_{v theta} C_{theta theta}^{-1} theta
  p(theta) and its circulation E[theta1 v2 - theta2 v1] = C[theta1, v2] - C[theta2, v1], against
  the 4-D kinetic equation solved by the Hermite method in v (fpsolve.hermite_2d) on three theta
  grids, with the observed order and the Richardson extrapolation.
* [modified_loss] (c) and [anomalous] (d): fpsolve.cases.kunin_more.
"""

from __future__ import annotations

import numpy as np

from ..landscape import Landscape
from ..momentum import MomentumSGD, phase_space_grid
from ..problem import FokkerPlanck
from . import momentum_plots, momentum_theory as theory
from .config import Case, CaseError
from .kunin_more import anomalous_diffusion_part, modified_loss_part
from .output import CaseResult

__all__ = ["kunin_task", "quadratic", "constant_noise", "heavy_ball_model", "moments", "mean_decay_rate"]


def kunin_task(case: Case, progress: bool = False, scratch=None) -> CaseResult:
    """All four parts of the case, each under its own key of result.json."""
    result = CaseResult()
    try:
        _quadratic_part(case, result)
        _current_part(case, result)
        modified_loss_part(case, result)
        anomalous_diffusion_part(case, result)
    except (ValueError, RuntimeError) as error:
        if isinstance(error, CaseError):
            raise
        raise CaseError(f"{case.path}: {error}") from error
    return result


def quadratic(hessian) -> Landscape:
    """U(theta) = theta.H.theta / 2 with its exact gradient and Hessian: ``hessian`` is the vector
    of curvatures of a diagonal H, or a symmetric matrix H."""
    H = np.asarray(hessian, dtype=float)
    H = np.diag(H.ravel()) if H.ndim <= 1 else H
    if H.ndim != 2 or H.shape[0] != H.shape[1] or not np.allclose(H, H.T):
        raise ValueError(
            f"hessian: expected curvatures or a symmetric square matrix, got {np.asarray(hessian).tolist()}"
        )
    d = H.shape[0]

    def hessian_at(*x):
        shape = np.broadcast(*x).shape
        return H[(...,) + (None,) * len(shape)] * np.ones(shape)

    def grad(*x):
        x = np.broadcast_arrays(*x)
        return np.stack([sum(H[k, m] * x[m] for m in range(d)) for k in range(d)])

    return Landscape(
        lambda *x: 0.5 * sum(H[k, m] * x[k] * x[m] for k in range(d) for m in range(d)),
        grad=grad,
        hessian=hessian_at,
        ndim=d,
        name=f"quadratic {', '.join(f'{v:g}' for v in np.diag(H))}"
        + ("" if np.count_nonzero(H - np.diag(np.diag(H))) == 0 else " (non-diagonal)"),
    )


def constant_noise(sigma):
    """The callable noise theta -> Sigma (a constant covariance matrix), shape ``(d, d) + shape``."""
    sigma = np.asarray(sigma, dtype=float)
    return lambda *theta: sigma[(...,) + (None,) * np.ndim(theta[0])] * np.ones(np.shape(theta[0]))


def heavy_ball_model(landscape, spec: dict, noise="hessian") -> MomentumSGD:
    """MomentumSGD of a [part] table's lr, batch_size, momentum and noise_scale (sigma^2)."""
    return MomentumSGD(
        landscape,
        lr=spec["lr"],
        batch_size=spec["batch_size"],
        momentum=spec["momentum"],
        noise=noise,
        noise_scale=spec["noise_scale"],
    )


def moments(grid, p) -> tuple:
    """(mean, covariance) of a phase-space density over the grid's axes (cell-centre quadrature)."""
    mesh = [np.broadcast_to(x, grid.shape) for x in grid.mesh()]
    mass = grid.integrate(p)
    mean = np.array([grid.integrate(p * x) for x in mesh]) / mass
    cov = (
        np.array([[grid.integrate(p * (x - mx) * (y - my)) for y, my in zip(mesh, mean)] for x, mx in zip(mesh, mean)])
        / mass
    )
    return mean, cov


def mean_decay_rate(t, mean) -> tuple:
    """(decay rate, angular frequency) of a damped oscillation sampled at equal times: Prony's
    method, the two-term recurrence m_{k+2} = a m_{k+1} + b m_k fitted by least squares over both
    components, whose characteristic roots are exp((-rate +- i omega) dt)."""
    t = np.asarray(t, dtype=float)
    dt = np.diff(t)
    if not np.allclose(dt, dt[0], rtol=1e-9):
        raise ValueError("t: the decay-rate fit needs equally spaced times")
    m = np.asarray(mean, dtype=float)
    rows = np.concatenate([np.stack([m[1:-1, j], m[:-2, j]], axis=1) for j in range(m.shape[1])])
    rhs = np.concatenate([m[2:, j] for j in range(m.shape[1])])
    (a, b), *_ = np.linalg.lstsq(rows, rhs, rcond=None)
    roots = np.roots([1.0, -a, -b]).astype(complex)
    root = roots[np.argmax(np.abs(roots))]
    return float(-np.log(np.abs(root)) / dt[0]), float(abs(np.angle(root)) / dt[0])


def _box(sd, box_sd: float) -> list:
    return [(-box_sd * s, box_sd * s) for s in sd]


def _quadratic_part(case: Case, result: CaseResult) -> None:
    from ..initial import gaussian

    spec = case.table("quadratic")
    lam, beta, lr, size, sigma2 = (float(spec[k]) for k in ("curvature", "momentum", "lr", "batch_size", "noise_scale"))
    model = heavy_ball_model(quadratic([lam]), spec)
    kunin = {"var_theta": lr * sigma2 / (2 * size * (1 - beta)), "var_v": sigma2 * lam / (size * (1 - beta**2))}
    box = float(spec.get("box_sd", 7.0))
    grid = phase_space_grid(*_box(np.sqrt([kunin["var_theta"], kunin["var_v"]]), box), spec["cells"])
    fpe = FokkerPlanck(model, grid)
    _, cov = moments(grid, fpe.stationary())
    variances = {
        "var_theta": {"pde": float(cov[0, 0]), "kunin": kunin["var_theta"]},
        "var_v": {"pde": float(cov[1, 1]), "kunin": kunin["var_v"]},
    }
    start = np.asarray(spec["start"], dtype=float)
    spread = 0.5 * np.sqrt([kunin["var_theta"], kunin["var_v"]])
    t = np.linspace(0.0, float(spec["t_end"]), 49)
    # TR-BDF2 (the kinetic operator is too non-normal for the Krylov exponential): rtol 1e-6 moves
    # the fitted rate by less than 0.01 % against 1e-9 (200^2 cells: 5.25885 vs 5.25885) and is 7x faster
    sol = fpe.evolve(gaussian(grid, start, spread), t, method="trbdf2", rtol=1e-6)
    mean = np.array([moments(grid, p)[0] for p in sol.p])
    rate, omega = mean_decay_rate(t, mean)
    predicted = (1 - beta) / (lr * (1 + beta))
    M = theory.linear_kinetic_drift([[lam]], model.scale, model.friction)
    exact = -np.linalg.eigvals(M).real.min()
    result.numbers["quadratic"] = dict(
        variances=variances,
        relative_errors={k: v["pde"] / v["kunin"] - 1 for k, v in variances.items()},
        decay_rate=dict(fitted=rate, kunin=predicted, eigenvalue=float(exact), relative_error=rate / predicted - 1),
        angular_frequency=dict(fitted=omega, exact=float(np.abs(np.linalg.eigvals(M).imag).max())),
        cells=list(grid.cells),
        velocity_box=list(grid.bounds[1]),
    )
    result.arrays.update(quadratic_t=t, quadratic_mean=mean)
    result.figures["kunin_quadratic"] = momentum_plots.spiral(t, mean, rate, predicted, variances)
    result.summary.append(
        f"(a) quadratic: Var theta {cov[0, 0]:.5g} (Kunin {kunin['var_theta']:.5g}, {cov[0, 0] / kunin['var_theta'] - 1:+.2%}), "
        f"Var v {cov[1, 1]:.5g} (Kunin {kunin['var_v']:.5g}, {cov[1, 1] / kunin['var_v'] - 1:+.2%}); mean decay rate "
        f"{rate:.5g} vs (1-beta)/(lr(1+beta)) = {predicted:.5g} ({rate / predicted - 1:+.2%})"
    )


def _current_part(case: Case, result: CaseResult) -> None:
    """The stationary currents: in the (theta, v) plane of one mode, the kinetic PDE's face fluxes
    against the closed form J = (M x + D C^{-1} x) p; on the theta plane of the 2-D quadratic with a
    Sigma that does not commute with H, the 4-D kinetic equation by the Hermite method in v
    (:func:`_theta_plane`) against the closed form of int J dv and of its circulation."""
    spec = case.table("current")
    curvatures = np.asarray(spec["hessian"], dtype=float)
    if curvatures.shape != (2,) or np.any(curvatures <= 0):
        raise case.error("current", "hessian", "expected two positive curvatures [lambda1, lambda2]")
    sigma = np.asarray(spec["noise_covariance"], dtype=float)
    if not np.allclose(sigma, sigma.T) or np.linalg.eigvalsh(sigma).min() <= 0:
        raise case.error("current", "noise_covariance", "expected a symmetric positive definite 2x2 matrix")
    plane = _theta_plane(spec, np.diag(curvatures), sigma)
    mode = _mode_current(spec, curvatures[0], sigma[0, 0])
    result.numbers["current"] = dict(theta_plane=plane["numbers"], mode_plane=mode["numbers"])
    result.arrays.update(
        current_theta_plane_theta1=plane["field"][0],
        current_theta_plane_theta2=plane["field"][1],
        current_theta_plane_closed_form_theta1=plane["closed_field"][0],
        current_theta_plane_closed_form_theta2=plane["closed_field"][1],
        current_mode_theta=mode["j"][0],
        current_mode_v=mode["j"][1],
    )
    result.figures["kunin_current"] = momentum_plots.current_streamplot(mode, plane)
    n, t = mode["numbers"], plane["numbers"]
    result.summary.append(
        f"(b) stationary current in (theta, v), curvature {curvatures[0]:g}: circulation E[theta J_v - v J_theta] "
        f"{n['pde']:.5g} (closed form {n['closed_form']:.5g}, {n['relative_error']:+.2%}), relative L2 error of J "
        f"{n['current_relative_l2_error']:.3g} on {'x'.join(map(str, n['cells']))} cells"
    )
    result.summary.append(
        f"(b) theta plane, |H Sigma - Sigma H| = {t['commutator_max']:.3g}: E[theta1 v2 - theta2 v1] by the 4-D kinetic "
        f"equation (Hermite in v, N = {t['n_hermite']}) {t['pde']:.5g} on {t['theta_cells'][-1]}^2 theta cells "
        f"({t['relative_error']:+.2%}), Richardson {t['richardson']:.5g} ({t['richardson_relative_error']:+.3%}, "
        f"observed order {t['observed_order']:.2f}); closed form {t['closed_form']:.5g}"
    )


#: The theta-plane solve of part (b): the 4-D kinetic equation by the Hermite method in v on three
#: theta grids of +- box_sd stationary sd (observed order, Richardson); n_hermite = 4 is checked
#: against 3 for the moments (they close at degree <= 2 for a quadratic, up to the theta scheme);
#: the drawn field int J dv takes field_hermite = 6 modes on field_cells^2 (its change from N = 4
#: is about 2 %, below what a streamplot shows). Measured on the case: the circulation errs by
#: -3.4 %, -1.9 %, -0.85 % on 24^2, 32^2, 48^2, observed order 2.00, Richardson -8e-6 (relative).
THETA_PLANE = dict(theta_cells=(24, 32, 48), box_sd=5.0, n_hermite=4, field_cells=24, field_hermite=6)


def _theta_plane(spec: dict, hessian, sigma) -> dict:
    """E[theta1 v2 - theta2 v1] and int J_theta dv of U = theta.H.theta / 2 in R^2 with a constant
    Sigma, by the Hermite method in v (fpsolve.hermite_2d) in the frame of Sigma's principal axes
    (theta' = R^T theta, det R = 1: the circulation is unchanged and D_v is diagonal there), on the
    theta grids of ``theta_cells`` (+- ``theta_box_sd`` stationary sd): the finest value, the
    observed order of the three and the Richardson extrapolation, against the Lyapunov closed form.
    The field for the figure comes from ``field_cells`` theta cells with ``field_hermite`` modes
    (settings: :data:`THETA_PLANE`)."""
    from ..grid import Grid
    from ..hermite_2d import HermiteKinetic2D

    variances, R = np.linalg.eigh(sigma)
    R[:, 1] *= np.sign(np.linalg.det(R))  # a proper rotation
    model = heavy_ball_model(quadratic(R.T @ hessian @ R), spec, noise=constant_noise(np.diag(variances)))
    M = theory.linear_kinetic_drift(R.T @ hessian @ R, model.scale, model.friction)
    C = theory.stationary_covariance(M, model.velocity_diffusion(np.zeros(1), np.zeros(1))[:, :, 0])
    closed = float(C[0, 3] - C[1, 2])
    half = THETA_PLANE["box_sd"] * np.sqrt(np.diag(C)[:2])
    cells = list(THETA_PLANE["theta_cells"])
    n_hermite = THETA_PLANE["n_hermite"]

    def solve(n: int, modes: int, **rtol):
        grid = Grid([(-half[0], half[0]), (-half[1], half[1])], [n, n], axis_names=("theta1'", "theta2'"))
        return HermiteKinetic2D(model, grid, n_hermite=modes).stationary(**rtol)

    # the moments are checked against fewer modes to MOMENT_RTOL; the fields, not used here, are not
    circulations = [solve(n, n_hermite, field_rtol=np.inf).circulation for n in cells]
    order, extrapolated = _richardson(cells, circulations)
    # the drawn field: 5 % (relative to its maximum) between N - 2 and N modes is below what a
    # streamplot shows; measured 2.1 % at N = 6 on 32^2 cells
    field = solve(THETA_PLANE["field_cells"], THETA_PLANE["field_hermite"], field_rtol=0.05)
    t1, t2 = np.meshgrid(*field.theta, indexing="ij")
    closed_field = np.stack(_projected_current(C, t1, t2))
    error = np.sqrt(
        sum(np.sum((a - b) ** 2) for a, b in zip(field.current, closed_field)) / np.sum(np.square(closed_field))
    )
    numbers = dict(
        closed_form=closed,
        pde=circulations[-1],
        relative_error=circulations[-1] / closed - 1,
        circulations=circulations,
        theta_cells=cells,
        observed_order=order,
        richardson=extrapolated,
        richardson_relative_error=extrapolated / closed - 1,
        n_hermite=n_hermite,
        field_relative_l2_error=float(error),
        field_cells=THETA_PLANE["field_cells"],
        field_truncation_change=field.truncation_change["current"],
        commutator_max=float(np.abs(hessian @ sigma - sigma @ hessian).max()),
        frame=R.tolist(),
    )
    return dict(numbers=numbers, theta=field.theta, field=field.current, closed_field=closed_field)


def _richardson(cells, values) -> tuple:
    """(observed order p, extrapolated value) from values on three grids of n1 < n2 < n3 cells per
    axis, h ~ 1/n: p solves (v1 - v2) / (v2 - v3) = (n1^-p - n2^-p) / (n2^-p - n3^-p) (bisection on
    p in [0.5, 6]); refused when the values do not converge monotonically at such an order."""
    h = 1.0 / np.asarray(cells, dtype=float)
    v = np.asarray(values, dtype=float)
    ratio = (v[0] - v[1]) / (v[1] - v[2]) if v[1] != v[2] else np.inf

    def excess(p):
        return (h[0] ** p - h[1] ** p) / (h[1] ** p - h[2] ** p) - ratio

    if not np.isfinite(ratio) or excess(0.5) * excess(6.0) > 0:
        raise RuntimeError(
            f"THETA_PLANE theta_cells: the circulations {v.tolist()} on {list(cells)} cells do not converge at an order "
            f"between 0.5 and 6; refine theta_cells"
        )
    lo, hi = 0.5, 6.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if excess(lo) * excess(mid) > 0 else (lo, mid)
    p = 0.5 * (lo + hi)
    return p, float(v[2] + (v[2] - v[1]) / ((h[1] / h[2]) ** p - 1.0))


def _mode_current(spec: dict, curvature: float, noise: float) -> dict:
    """One mode (U = curvature theta^2 / 2, Sigma = noise): the kinetic PDE's stationary current at
    cell centres (mean of the two faces) against J = (M x + D C^{-1} x) p, and the circulation
    int (theta J_v - v J_theta) = (B C)_{21} - (B C)_{12}, B = M + D C^{-1}."""
    model = heavy_ball_model(
        quadratic([curvature]), {**spec, "noise_scale": spec["noise_scale"] * noise}, noise="isotropic"
    )
    M = theory.linear_kinetic_drift([[curvature]], model.scale, model.friction)
    D = np.diag([0.0, float(model.velocity_diffusion(np.zeros(1))[0, 0, 0])])
    C = theory.stationary_covariance(M, D[1:, 1:])
    B = M + D @ np.linalg.inv(C)
    box = float(spec.get("box_sd", 6.0))
    grid = phase_space_grid(*_box(np.sqrt(np.diag(C)), box), tuple(np.atleast_1d(spec["cells"]).astype(int)))
    fpe = FokkerPlanck(model, grid)
    p = fpe.stationary()
    faces = fpe.current(p)
    j = (0.5 * (faces[0][1:] + faces[0][:-1]), 0.5 * (faces[1][:, 1:] + faces[1][:, :-1]))
    theta, v = np.broadcast_arrays(*grid.mesh())
    gauss = np.exp(-0.5 * np.einsum("i...,ij,j...->...", np.stack([theta, v]), np.linalg.inv(C), np.stack([theta, v])))
    gauss /= 2 * np.pi * np.sqrt(np.linalg.det(C))
    exact = (B[0, 0] * theta + B[0, 1] * v) * gauss, (B[1, 0] * theta + B[1, 1] * v) * gauss
    error = float(np.sqrt(sum(np.sum((a - b) ** 2) for a, b in zip(j, exact)) / sum(np.sum(b**2) for b in exact)))
    circulation = float(grid.integrate(theta * j[1] - v * j[0]))
    closed = float((B @ C)[1, 0] - (B @ C)[0, 1])
    numbers = dict(
        curvature=curvature,
        pde=circulation,
        closed_form=closed,
        relative_error=circulation / closed - 1,
        current_relative_l2_error=error,
        cells=list(grid.cells),
    )
    return dict(numbers=numbers, grid=grid, j=j, exact=exact)


def _projected_current(C, t1, t2) -> tuple:
    """int J_theta dv = C_{v theta} C_{theta theta}^{-1} theta p(theta) for the Gaussian law N(0, C)."""
    Ctt = C[:2, :2]
    K = C[2:, :2] @ np.linalg.inv(Ctt)
    inv = np.linalg.inv(Ctt)
    quad = inv[0, 0] * t1**2 + 2 * inv[0, 1] * t1 * t2 + inv[1, 1] * t2**2
    density = np.exp(-0.5 * quad) / (2 * np.pi * np.sqrt(np.linalg.det(Ctt)))
    return (K[0, 0] * t1 + K[0, 1] * t2) * density, (K[1, 0] * t1 + K[1, 1] * t2) * density
