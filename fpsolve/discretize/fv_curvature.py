"""The curvature correction of the finite-volume fitted rates (docs/numerics.md, "Curvature correction").

Both rates of a face are multiplied by one factor e^c, c = -2 delta / (3 (1 + delta^2)), with
delta the curvature of the stationary law's exponent Phi = int V'/D + log D across the link: the
Simpson weighting of the face's share of int e^{Phi}, which removes the Scharfetter-Gummel rates'
O(h^2) bulk error and leaves detailed balance and the discrete stationary law unchanged.
"""

from __future__ import annotations

import numpy as np

from .fv_stencil import along

__all__ = ["curvature_correction", "log_curvature_factor"]


def curvature_correction(v_cell, v_face, dkk_left, dkk_face, dkk_right, k: int, periodic: bool) -> np.ndarray:
    """The log of the factor m multiplying both fitted rates of each face of axis k.

    The Scharfetter-Gummel rates give the face the conductance of a potential that is linear
    between the two centres: 1 / (pi_L k_LR) is h^2 / D times the logarithmic mean of e^{Phi_L} and
    e^{Phi_R}, with Phi = int V' / D + log D the exponent of the stationary law. That mean is a
    trapezoid-like rule for the face's share of int e^{Phi} and carries a bulk error proportional
    to the curvature delta = Phi(face) - (Phi_L + Phi_R) / 2 = -Phi'' h^2 / 8: exit times are off
    by O(h^2) everywhere and the Kramers rate by about h^2 V'' / (6 D) at the barrier. Weighting
    the face value by 2/3 and the two centres by 1/3 (Simpson's rule) removes it; to O(h^4) that
    is m = e^{-2 delta / 3}, one factor for both directions, so detailed balance and the discrete
    stationary law e^{-Phi} at the centres are unchanged, and the factor does not depend on the
    Peclet number (the fitted flux stays exact for constant drift at any Peclet number).

    Phi(face) - Phi_L is integrated over each half cell with the mean of D_kk at its two ends
    (the error is O(h^3)). Where the potential is not resolved (|delta| of order 1) the correction
    is tapered, -2 delta / (3 (1 + delta^2)), and falls back to the plain fitted rates.
    """
    v_left, v_right = along(v_cell, k, 0, periodic), along(v_cell, k, 1, periodic)
    return log_curvature_factor(v_left, v_face, v_right, dkk_left, dkk_face, dkk_right)


def log_curvature_factor(v_left, v_mid, v_right, d_left, d_mid, d_right) -> np.ndarray:
    """-2 delta / (3 (1 + delta^2)) for the link from ``left`` to ``right`` with midpoint ``mid``
    (potential V and diagonal diffusion D at the three points; see :func:`curvature_correction`)."""
    to_mid = (v_mid - v_left) / (0.5 * (d_left + d_mid)) + np.log(d_mid / d_left)
    from_mid = (v_right - v_mid) / (0.5 * (d_mid + d_right)) + np.log(d_right / d_mid)
    delta = 0.5 * (to_mid - from_mid)
    return -2.0 * delta / (3.0 * (1.0 + delta * delta))
