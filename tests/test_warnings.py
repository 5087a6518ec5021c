"""Warnings point at the user's line, however deep inside fpsolve they are raised."""

import warnings

import fpsolve as fp


def test_peclet_warning_from_an_analysis_points_at_the_caller():
    grid = fp.Grid([(-2.5, 0.0)], [30])  # h = 0.083 at T = 0.05: cell Peclet number ~8
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fp.mean_exit_time(fp.Langevin(fp.landscapes.double_well(), 0.05), grid, None,
                          boundary=("reflecting", "absorbing"))
    peclet = [w for w in caught if "Peclet" in str(w.message)]
    assert peclet, "the coarse grid must be reported"
    assert all(w.filename == __file__ for w in peclet)  # not fpsolve/analysis/exit.py
