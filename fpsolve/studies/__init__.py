"""Orchestration above the analyses: parameter sweeps on any executor and the batch-size study.

A study solves many problems (one per batch size, noise model, learning rate ...) with the
analyses of :mod:`fpsolve.analysis` and collects their numbers in resumable tables.
"""

from .batch_size import batch_size_point, batch_size_study, exit_time_map, log_tau_slope, occupancy_over_time
from .sweep import SweepTable, sweep

__all__ = [
    "sweep",
    "SweepTable",
    "batch_size_point",
    "batch_size_study",
    "occupancy_over_time",
    "exit_time_map",
    "log_tau_slope",
]
