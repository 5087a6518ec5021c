"""Diagnostics of the finite-volume rates: the Peclet numbers that matter, the Boltzmann exponent that
says which cells matter, and the relative error of the discrete drift (`FokkerPlanck.diagnostics`)."""

from __future__ import annotations

import numpy as np

from .fv_stencil import along

__all__ = ["relevant_peclet", "boltzmann_exponent", "drift_error"]


def relevant_peclet(pe, v_cell, dkk, k, periodic, cutoff) -> float:
    pe = np.abs(pe)
    if v_cell is None or pe.size == 0:
        return float(pe.max(initial=0.0))
    weight = (v_cell - v_cell.min()) / dkk
    mask = np.minimum(along(weight, k, 0, periodic), along(weight, k, 1, periodic)) < cutoff
    return float(pe[mask].max(initial=0.0))


def boltzmann_exponent(v_cell, d_cell) -> np.ndarray:
    """(V - min V) / max D_kk per cell (zero without a potential): a lower bound on the exponent
    of the stationary weight whatever D does in between (with state-dependent D the local D can
    be a floor's tiny value where the density is not small at all)."""
    if v_cell is None:
        return np.zeros(d_cell.shape[2:])
    largest = max(float(d_cell[k, k].max()) for k in range(d_cell.shape[0]))
    return (v_cell - v_cell.min()) / largest


def drift_error(pe_drift, correction, relevant_face, k: int, periodic: bool) -> float:
    """max |(Pe(i + 1/2) - Pe(i - 1/2)) / 6 + (c(i + 1/2) + c(i - 1/2)) / 2| over cells whose two
    faces along k matter, c the log of the curvature factor of :func:`curvature_correction`.

    The discrete drift at cell i is (D/h)(m_R B(-z_R) - m_L B(z_L)) with z the face Peclet numbers
    and m = e^c; expanding B, it is the exact drift times 1 + (z_R - z_L)/6 + (c_R + c_L)/2 + O(h^3).
    Without the correction that is h^2 b' / (6 D); with it, c = -h^2 b' / (12 D) + O(h^4) halves it
    to h^2 b' / (12 D)."""
    correction = np.broadcast_to(correction, pe_drift.shape)
    if periodic:
        term = (pe_drift - np.roll(pe_drift, 1, axis=k)) / 6.0 + (correction + np.roll(correction, 1, axis=k)) / 2.0
        both = relevant_face & np.roll(relevant_face, 1, axis=k)
    else:
        n = pe_drift.shape[k]
        upper, lower = np.arange(1, n), np.arange(n - 1)
        term = (
            np.diff(pe_drift, axis=k) / 6.0
            + (np.take(correction, upper, axis=k) + np.take(correction, lower, axis=k)) / 2.0
        )
        both = np.take(relevant_face, upper, axis=k) & np.take(relevant_face, lower, axis=k)
    return float(np.abs(term[both]).max(initial=0.0))
