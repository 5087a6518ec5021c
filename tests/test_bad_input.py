"""Engine-level bad input: each error is a ValueError whose message names the argument
(issue 2, "Bad input"); warnings for a too-coarse grid and a mass-only initial density."""

import warnings

import numpy as np
import pytest

import fpsolve as fp

GRID = fp.Grid([(-2.0, 2.0)], [40])
U = fp.Landscape(lambda x: (x**2 - 1) ** 2)


@pytest.mark.parametrize(
    "f",
    [lambda x: np.log(x + 1.0), lambda x: np.where(x > 1.5, np.inf, x**2)],
    ids=["nan", "inf"],
)
def test_landscape_not_finite_on_grid(f):
    with pytest.raises(ValueError, match=r"landscape .* not finite .* at x = \("):
        fp.FokkerPlanck(fp.Langevin(fp.Landscape(f), temperature=1.0), GRID)


def test_diffusion_not_positive_definite_says_where():
    model = fp.SGD(U, lr=0.1, batch_size=1, noise=lambda x: 1.0 - x**2)  # negative for |x| > 1
    with pytest.raises(
        ValueError, match=r"diffusion: .*not positive definite at x = \(-?1\.95,\); smallest eigenvalue"
    ):
        fp.FokkerPlanck(model, GRID)
    # a 2-D tensor field that loses definiteness off the diagonal
    tensor = lambda x, y: np.array([[np.ones_like(x), 0.5 + x], [0.5 + x, np.ones_like(x)]])
    model2 = fp.Diffusion(lambda x, y: (-x, -y), tensor, ndim=2)
    with pytest.raises(ValueError, match=r"diffusion: .*not positive definite at x = \("):
        fp.FokkerPlanck(model2, fp.Grid([(-1, 1), (-1, 1)], [10, 10]))


def test_constant_diffusion_not_positive_definite():
    with pytest.raises(ValueError, match="diffusion"):
        fp.Diffusion(lambda x, y: (-x, -y), [[1.0, 2.0], [2.0, 1.0]], ndim=2)


@pytest.mark.parametrize(
    "p0, message",
    [
        (np.where(np.arange(40) == 7, -1.0, 1.0), r"p0: the density is negative .* at x = \("),
        (np.where(np.arange(40) == 7, np.nan, 1.0), r"p0: .*NaN or inf"),
        (np.where(np.arange(40) == 7, np.inf, 1.0), r"p0: .*NaN or inf"),
        (np.zeros(40), r"p0: .*zero mass"),
        (np.ones(39), r"p0: expected an array of shape"),
    ],
    ids=["negative", "nan", "inf", "zero-mass", "shape"],
)
def test_bad_initial_density(p0, message):
    fpe = fp.FokkerPlanck(fp.Langevin(U, temperature=1.0), GRID)
    with pytest.raises(ValueError, match=message):
        fpe.evolve(p0, [0.0, 0.1])


def test_initial_density_with_wrong_mass_is_normalised_with_a_warning():
    fpe = fp.FokkerPlanck(fp.Langevin(U, temperature=1.0), GRID)
    p0 = 3.0 * fp.gaussian(GRID, mean=0.0, std=0.3)
    with pytest.warns(UserWarning, match=r"p0: the density had mass 3; normalised to 1"):
        sol = fpe.evolve(p0, [0.0, 0.1])
    assert sol.mass[0] == pytest.approx(1.0, abs=1e-14)


@pytest.mark.parametrize(
    "bounds, cells, message",
    [
        ([(-1, 1)], [2], "cells: axis 0 needs at least 3 cells"),
        ([(-1, 1), (0, 1)], [10, 1], "cells: axis 1 needs at least 3 cells"),
        ([(1, -1)], [10], "bounds: axis 0 is reversed"),
        ([(0, 0)], [10], "bounds: axis 0 is reversed or empty"),
        ([(0, np.inf)], [10], "bounds: axis 0 has non-finite bounds"),
    ],
)
def test_bad_grid(bounds, cells, message):
    with pytest.raises(ValueError, match=message):
        fp.Grid(bounds, cells)


def test_start_point_outside_the_grid():
    with pytest.raises(ValueError, match=r"mean: \(3\.0,\) lies outside the grid"):
        fp.gaussian(GRID, mean=3.0, std=0.1)
    with pytest.raises(ValueError, match="point: .* lies outside the grid"):
        fp.point_mass(GRID, -2.5)
    with pytest.raises(ValueError, match="samples: axis 0 has samples outside"):
        fp.from_samples(GRID, [0.0, 5.0])


def test_domain_outside_the_grid():
    with pytest.raises(ValueError, match="where: the set is empty on this grid"):
        fp.uniform(GRID, lambda x: x > 10)
    with pytest.raises(ValueError, match="absorbing: every cell of the grid is absorbing"):
        fp.FokkerPlanck(fp.Langevin(U, temperature=1.0), GRID, absorbing=lambda x: x > -10)
    with pytest.raises(ValueError, match="absorbing: expected a boolean mask of shape"):
        fp.FokkerPlanck(fp.Langevin(U, temperature=1.0), GRID, absorbing=np.zeros(7, bool))


def test_grid_too_coarse_for_the_noise_warns_with_the_peclet_number():
    # T = 0.02 on h = 0.1: |U'| h / T reaches ~20 inside the wells' Boltzmann support
    with pytest.warns(UserWarning, match=r"grid: too coarse for the noise: cell Peclet number [0-9.]+ on axis x"):
        fp.FokkerPlanck(fp.Langevin(U, temperature=0.02), GRID)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fp.FokkerPlanck(fp.Langevin(U, temperature=0.5), GRID)  # Pe <= 4: silent


def test_unknown_noise_model_method_boundary():
    with pytest.raises(ValueError, match="noise: unknown noise model 'hessain'"):
        fp.SGD(U, lr=0.1, batch_size=1, noise="hessain")
    fpe = fp.FokkerPlanck(fp.Langevin(U, temperature=1.0), GRID)
    with pytest.raises(ValueError, match="method: unknown integrator 'rk45'"):
        fpe.evolve(fp.gaussian(GRID, mean=0.0, std=0.3), [0.0, 0.1], method="rk45")
    with pytest.raises(ValueError, match="boundary: unknown kind 'sticky'"):
        fp.FokkerPlanck(fp.Langevin(U, temperature=1.0), GRID, boundary="sticky")
    with pytest.raises(ValueError, match="boundary: axis 0 is not periodic in the grid"):
        fp.FokkerPlanck(fp.Langevin(U, temperature=1.0), GRID, boundary="periodic")
    with pytest.raises(ValueError, match="discretization: unknown"):
        fp.FokkerPlanck(fp.Langevin(U, temperature=1.0), GRID, discretization="fd")


def test_bad_model_parameters():
    with pytest.raises(ValueError, match="temperature: expected a positive number"):
        fp.Langevin(U, temperature=-1.0)
    with pytest.raises(ValueError, match="lr: expected a positive number"):
        fp.SGD(U, lr=0.0, batch_size=1)
    with pytest.raises(ValueError, match="noise_scale"):
        fp.SGD(U, lr=0.1, batch_size=1, noise_scale=-2.0)
    model = fp.SGD(U, lr=lambda t: 0.1 if t < 0.2 else -0.1, batch_size=1)  # negative after t = 0.2
    fpe = fp.FokkerPlanck(model, fp.Grid([(-2, 2)], [40]))
    with pytest.raises(ValueError, match="lr: the schedule gave"):
        fpe.evolve(fp.gaussian(fpe.grid, mean=0.0, std=0.3), [0.0, 0.5])
