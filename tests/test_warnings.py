"""Warnings point at the user's line, however deep inside fpsolve they are raised."""

import warnings

import fpsolve as fp


def test_peclet_warning_from_an_analysis_points_at_the_caller():
    grid = fp.Grid([(-2.5, 0.0)], [30])  # h = 0.083 at T = 0.05: cell Peclet number ~8
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fp.mean_exit_time(
            fp.Langevin(fp.landscapes.double_well(), 0.05), grid, None, boundary=("reflecting", "absorbing")
        )
    peclet = [w for w in caught if "Peclet" in str(w.message)]
    assert peclet, "the coarse grid must be reported"
    assert all(w.filename == __file__ for w in peclet)  # not fpsolve/analysis/exit.py


def test_diffusion_resolution_warning_from_an_analysis_points_at_the_caller():
    # Hessian noise with floor 1e-2 on the double well: D changes by a factor e over
    # l = 1e-2 / |U'''(1/sqrt 3)| = 7.2e-4, and h = 1e-3 here (the issue's case, h/l = 1.39)
    model = fp.SGD(fp.landscapes.double_well(), lr=1.0, batch_size=1, noise="hessian", hessian_floor=1e-2)
    grid = fp.Grid([(-2.0, 0.0)], [2000])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fp.mean_exit_time(model, grid, None, boundary=("reflecting", "absorbing"))
    reported = [w for w in caught if "too coarse for the diffusion coefficient" in str(w.message)]
    assert len(reported) == 1
    assert reported[0].filename == __file__
    assert "use about" in str(reported[0].message) and "cells along that axis" in str(reported[0].message)
