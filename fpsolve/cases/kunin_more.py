"""Parts (c) and (d) of the ``kunin_phase_space`` task (fpsolve.cases.kunin).

* [modified_loss] (c): on the [landscape] (1-D, not quadratic), for each lr at a fixed theta-temperature
  T_eff = lr sigma^2 / (2 B (1 - beta)) (sigma^2 set from it): the stationary theta-marginal of the
  kinetic PDE, of the discrete heavy-ball algorithm (fpsolve.cases.heavy_ball, many independent runs),
  the Gibbs law e^{-U / T_eff} and the modified-loss law e^{-U_hat / T_eff},
  U_hat = U - lr |U'|^2 / (4 (1 + beta)) (fpsolve.cases.momentum_theory.heavy_ball_modified_loss).
* [anomalous] (d): a quadratic with ``modes`` Hessian eigenvalues lambda_k = lambda_max k^(-alpha) and
  Sigma = sigma^2 H; from rest at the minimum, E |theta_t - theta_0|^2 = sum_k Var theta_k(t) from the
  closed-form moments of each mode's 2-D phase-space OU process (Van Loan), the exponent c of
  E |.|^2 ~ t^c fitted over [fit_window], against 1 / alpha; the kinetic PDE evolves the modes
  ``pde_modes`` as a check of the per-mode closed form.
"""

from __future__ import annotations

import numpy as np

from ..momentum import MomentumSGD, phase_space_grid
from ..problem import FokkerPlanck
from . import momentum_plots, momentum_theory as theory
from .config import build_landscape
from .heavy_ball import heavy_ball_samples

__all__ = ["modified_loss_part", "anomalous_diffusion_part"]


def _normalised(values, h):
    """Values scaled to a density on cells of width h."""
    return values / (values.sum() * h)


def modified_loss_part(case, result) -> None:
    spec = case.table("modified_loss")
    landscape = build_landscape(case)
    if landscape.ndim != 1:
        raise case.error("landscape", "name", "the modified-loss part needs a 1-D landscape")
    beta, size, temperature = float(spec["momentum"]), float(spec["batch_size"]), float(spec["temperature"])
    theta_box = tuple(np.asarray(spec["theta"], dtype=float).ravel())
    cells = tuple(np.atleast_1d(spec["cells"]).astype(int))
    rows, curves = [], {}
    for k, lr in enumerate(float(v) for v in spec["lr"]):
        sigma2 = 2 * size * (1 - beta) * temperature / lr
        model = MomentumSGD(landscape, lr=lr, batch_size=size, momentum=beta, noise_scale=sigma2)
        sd_v = float(np.sqrt(np.max(model.velocity_variance(np.array([0.0])))))
        grid = phase_space_grid(theta_box, (-7 * sd_v, 7 * sd_v), cells)
        fpe = FokkerPlanck(model, grid)
        pde = fpe.stationary().sum(axis=1) * grid.spacing[1]
        x, h = grid.centers[0], grid.spacing[0]
        gibbs = _normalised(np.exp(-(landscape(x) - landscape(x).min()) / temperature), h)
        modified_values = theory.heavy_ball_modified_loss(landscape, lr, beta)(x)
        modified = _normalised(np.exp(-(modified_values - modified_values.min()) / temperature), h)
        samples = heavy_ball_samples(
            landscape,
            lr,
            beta,
            size,
            sigma2,
            [x[np.argmax(gibbs)]],
            int(spec["paths"]),
            int(spec["steps"]),
            seed=int(spec.get("seed", 0)) + k,
        )[0]
        counts = np.histogram(samples, bins=grid.faces[0])[0]
        algorithm = counts / (samples.size * h)
        outside = 1.0 - counts.sum() / samples.size
        rows.append(_marginal_row(lr, sigma2, x, h, pde, gibbs, modified, algorithm, samples, outside))
        curves[f"lr = {lr:g} (lr x max U'' = {lr * _max_curvature(landscape, x, gibbs):.3g})"] = {
            "kinetic PDE (SDE)": (x, pde, "-"),
            "e^{-U/T}": (x, gibbs, "--"),
            "e^{-U_hat/T}, modified loss": (x, modified, ":"),
            f"heavy-ball algorithm ({samples.size} runs)": (x, algorithm, "."),
        }
        result.summary.append(
            f"(c) lr = {lr:g}: L1 distance to e^(-U/T): PDE {rows[-1]['l1']['pde_gibbs']:.3g}, algorithm "
            f"{rows[-1]['l1']['algorithm_gibbs']:.3g}; algorithm to e^(-U_hat/T) {rows[-1]['l1']['algorithm_modified']:.3g} "
            f"(sampling noise {rows[-1]['l1']['sampling_noise']:.3g}); Var theta: algorithm {rows[-1]['var']['algorithm']:.4g} "
            f"± {rows[-1]['var']['algorithm_se']:.2g}, Gibbs {rows[-1]['var']['gibbs']:.4g}, modified {rows[-1]['var']['modified']:.4g}"
        )
    result.numbers["modified_loss"] = dict(temperature=temperature, momentum=beta, batch_size=size, rows=rows)
    result.figures["kunin_modified_loss"] = momentum_plots.marginals(
        curves, f"stationary theta-marginal, T_eff = {temperature:g}, beta = {beta:g}, B = {size:g}"
    )


def _max_curvature(landscape, x, density) -> float:
    """The largest U'' where the stationary density is above 1e-3 of its peak."""
    held = density > 1e-3 * density.max()
    return float(np.max(np.ravel(landscape.hessian(x[held]))))


def _marginal_row(lr, sigma2, x, h, pde, gibbs, modified, algorithm, samples, outside) -> dict:
    def var(density):
        mean = np.sum(x * density) * h
        return float(np.sum((x - mean) ** 2 * density) * h)

    n = samples.size
    # the expected L1 distance of a histogram of n exact samples from its law: sum over cells of
    # E|N_i/n - p_i| / h * h ~ sum sqrt(2 p_i (1 - p_i) / (pi n)) (normal approximation per cell)
    prob = gibbs * h
    noise = float(np.sum(np.sqrt(2 * prob * (1 - prob) / (np.pi * n))))
    l1 = lambda a, b: float(np.sum(np.abs(a - b)) * h)
    sample_var = float(np.var(samples, ddof=1))
    return dict(
        lr=lr,
        noise_scale=sigma2,
        outside_box=float(outside),
        l1=dict(
            pde_gibbs=l1(pde, gibbs),
            algorithm_gibbs=l1(algorithm, gibbs),
            algorithm_modified=l1(algorithm, modified),
            pde_modified=l1(pde, modified),
            sampling_noise=noise,
        ),
        var=dict(
            pde=var(pde),
            gibbs=var(gibbs),
            modified=var(modified),
            algorithm=sample_var,
            algorithm_se=sample_var * np.sqrt(2.0 / (n - 1)),
        ),
    )


def anomalous_diffusion_part(case, result) -> None:
    spec = case.table("anomalous")
    n, alpha, lam_max = int(spec["modes"]), float(spec["spectrum_exponent"]), float(spec["curvature_max"])
    lr, beta, size, sigma2 = (float(spec[k]) for k in ("lr", "momentum", "batch_size", "noise_scale"))
    lams = lam_max * np.arange(1, n + 1, dtype=float) ** (-alpha)
    c = 2.0 / (lr * (1 + beta))
    t_lo, t_hi = (float(v) for v in spec["times"])
    t = np.geomspace(t_lo, t_hi, 61)
    per_mode = np.array([[_mode_variance(lam, c, lr, beta, size, sigma2, s) for s in t] for lam in lams])
    msd = per_mode.sum(axis=0)
    lo, hi = (float(v) for v in spec["fit_window"])
    window = (t >= lo) & (t <= hi)
    exponent, prefactor = theory.power_law_exponent(t[window], msd[window])
    fit = dict(exponent=exponent, prefactor=prefactor, predicted=1.0 / alpha, t_min=lo, t_max=hi)
    checks = [
        _pde_mode_check(spec, int(k), float(lams[int(k)]), c, lr, beta, size, sigma2)
        for k in np.atleast_1d(spec.get("pde_modes", []))
    ]
    result.numbers["anomalous"] = dict(
        curvatures=lams,
        fit=fit,
        stationary_var_per_mode=lr * sigma2 / (2 * size * (1 - beta)),
        pde_checks=[{k: v for k, v in ch.items() if k not in ("t", "pde", "closed_form")} for ch in checks],
    )
    result.arrays.update(anomalous_t=t, anomalous_msd=msd)
    result.figures["kunin_anomalous_diffusion"] = momentum_plots.anomalous_diffusion(t, msd, fit, checks)
    line = (
        f"(d) {n} modes lambda_k = {lam_max:g} k^-{alpha:g}: E|theta_t - theta_0|^2 ~ t^c with c = {exponent:.3f} "
        f"on t in [{lo:g}, {hi:g}] (1/alpha = {1 / alpha:.3f})"
    )
    for ch in checks:
        line += f"; PDE mode lambda = {ch['curvature']:.3g}: max relative error of Var theta(t) {ch['max_relative_error']:.2g}"
    result.summary.append(line)


def _mode_variance(lam, c, lr, beta, size, sigma2, t, initial=None) -> float:
    """Var theta(t) of one mode (curvature lam, Sigma = sigma2 lam) of the heavy-ball SDE."""
    M = theory.linear_kinetic_drift([[lam]], c, c * (1 - beta))
    Dv = 0.5 * c**2 * lr / size * sigma2 * lam
    return float(theory.covariance_at(M, [[Dv]], t, initial)[0, 0])


def _pde_mode_check(spec, index, lam, c, lr, beta, size, sigma2) -> dict:
    """The kinetic PDE of one mode from a narrow Gaussian at rest at the minimum: Var theta(t)
    against the closed form from the same initial covariance."""
    from ..initial import gaussian
    from .kunin import moments, quadratic

    model = MomentumSGD(quadratic([lam]), lr=lr, batch_size=size, momentum=beta, noise="hessian", noise_scale=sigma2)
    var_theta = lr * sigma2 / (2 * size * (1 - beta))
    var_v = sigma2 * lam / (size * (1 - beta**2))
    grid = phase_space_grid(
        (-7 * np.sqrt(var_theta), 7 * np.sqrt(var_theta)),
        (-7 * np.sqrt(var_v), 7 * np.sqrt(var_v)),
        tuple(np.atleast_1d(spec.get("cells", [100, 100])).astype(int)),
    )
    std = 0.25 * np.sqrt([var_theta, var_v])
    M = theory.linear_kinetic_drift([[lam]], c, c * (1 - beta))
    slowest = float(np.min(-np.linalg.eigvals(M).real))  # the slowest decay rate of the mean
    t = np.linspace(0.0, 3.0 / slowest, 16)
    sol = FokkerPlanck(model, grid).evolve(gaussian(grid, (0.0, 0.0), std), t, method="trbdf2", rtol=1e-6)
    pde = np.array([moments(grid, p)[1][0, 0] for p in sol.p])
    exact = np.array([_mode_variance(lam, c, lr, beta, size, sigma2, s, np.diag(std**2)) for s in t])
    return dict(
        mode=index,
        curvature=lam,
        t=t[1:],
        pde=pde[1:],
        closed_form=exact[1:],
        max_relative_error=float(np.max(np.abs(pde[1:] / exact[1:] - 1))),
        cells=list(grid.cells),
    )
