"""The exit-time law: survival against a closed form, its mean against the mean exit time."""

import numpy as np
import pytest
from scipy.special import erf

import fpsolve as fp
from fpsolve.analysis import exit_time_distribution, mean_exit_time

U = fp.Landscape(lambda x: (x * x - 1) ** 2, lambda x: (4 * x * (x * x - 1),), ndim=1)


@pytest.mark.parametrize("method", ["spectral", "evolve"])
def test_ou_survival_matches_reflection_principle(method):
    # OU dX = -theta X dt + sqrt(2D) dW hitting its mean 0 from x0 > 0: by symmetry of the law
    # about 0, P(tau > t) = 1 - 2 P(X_t < 0) = erf(x0 e^{-theta t} / sqrt(2 v(t))),
    # v(t) = (D/theta)(1 - e^{-2 theta t}). Absorbing box face at 0, reflecting wall at 6 (12 sd
    # away: its effect is below 1e-30). Discretization O(h^2): 4.3e-5 at h = 0.015, 1.1e-5 at 0.0075.
    theta, D = 1.0, 0.5
    Uo = fp.Landscape(lambda x: 0.5 * theta * x * x, lambda x: (theta * x,), ndim=1)
    grid = fp.Grid([(0.0, 6.0)], [400])
    law = exit_time_distribution(fp.Langevin(Uo, D), grid, None, start=1.0,
                                 boundary=("absorbing", "reflecting"), method=method)
    x0 = law.start[0]
    t = np.array([0.05, 0.2, 0.5, 1.0, 2.0, 4.0])
    v = (D / theta) * (1 - np.exp(-2 * theta * t))
    exact = erf(x0 * np.exp(-theta * t) / np.sqrt(2 * v))
    assert np.abs(law.survival(t) - exact).max() < 1e-4
    assert law.survival(law.quantile(0.3)) == pytest.approx(0.7, abs=1e-10)
    dens = law.density(1.0)
    h = 1e-4
    assert dens == pytest.approx((law.survival(1 - h) - law.survival(1 + h)) / (2 * h), rel=1e-5)


@pytest.mark.parametrize("method,n", [("spectral", 300), ("evolve", 1000)])
def test_law_mean_equals_mean_exit_time(method, n):
    # Same generator, two computations: the integral of S(t) from the law and Q tau = -1.
    # Spectral: exact up to round-off. Evolve: Hermite quadrature of S on the default time grid,
    # measured 2e-8 relative.
    grid = fp.Grid([(-2.5, 0.0)], [n])
    model = fp.Langevin(U, 0.25)
    law = exit_time_distribution(model, grid, None, start=-1.0, boundary=("reflecting", "absorbing"), method=method)
    tau = mean_exit_time(model, grid, None, boundary=("reflecting", "absorbing"))
    assert law.mean == pytest.approx(tau.values[grid.cell_index(-1.0)], rel=1e-9 if method == "spectral" else 1e-6)
    assert law.S[0] == pytest.approx(1.0) and np.all(np.diff(law.S) <= 1e-12)
