"""Kunin (b): the circulation of the 2-D quadratic whose Sigma does not commute with H, from the 4-D
kinetic equation (Hermite in v, in the frame of Sigma's principal axes) against the Lyapunov closed
form in the original frame."""

import numpy as np
from scipy import linalg

from fpsolve.cases import kunin

SPEC = {"lr": 0.1, "momentum": 0.5, "batch_size": 1, "noise_scale": 1.0}  # the case's [current] table
HESSIAN = np.diag([1.0, 4.0])
SIGMA = np.array([[1.0, 0.6], [0.6, 1.0]])


def closed_form_circulation():
    """C[theta1, v2] - C[theta2, v1] from M C + C M^T + 2 D = 0 (scipy) in the case's own frame:
    M = [[0, I], [-c H, -gamma I]], D_v = (c^2 lr / 2B) noise_scale Sigma, c = 2 / (lr (1 + beta))."""
    c = 2.0 / (SPEC["lr"] * (1 + SPEC["momentum"]))
    M = np.block([[np.zeros((2, 2)), np.eye(2)], [-c * HESSIAN, -c * (1 - SPEC["momentum"]) * np.eye(2)]])
    D = np.zeros((4, 4))
    D[2:, 2:] = c**2 * SPEC["lr"] / (2 * SPEC["batch_size"]) * SPEC["noise_scale"] * SIGMA
    C = linalg.solve_continuous_lyapunov(M, -2.0 * D)
    return C[0, 3] - C[1, 2]


def test_theta_plane_circulation_from_the_pde_is_rotation_invariant_and_converges(monkeypatch):
    # coarser than the case (24, 32, 48 cells: -3.4 %, -1.9 %, -0.85 %, order 2.00, Richardson -8e-6)
    # to keep the test fast. On 16, 24, 32 theta cells the observed order must be 2 within 0.25 (the
    # staggered scheme's), the Richardson value within 1 % of the closed form and the finest within
    # 5 % (O(h^2) at h = 0.31 sd); the closed form is computed in the case's frame, the PDE in Sigma's
    # principal axes, so this also checks that the rotation keeps the circulation
    monkeypatch.setitem(kunin.THETA_PLANE, "theta_cells", (16, 24, 32))
    monkeypatch.setitem(kunin.THETA_PLANE, "field_cells", 16)
    out = kunin._theta_plane(SPEC, HESSIAN, SIGMA)
    n = out["numbers"]
    closed = closed_form_circulation()
    assert abs(closed) > 0.1  # a real circulation: |H Sigma - Sigma H| = 1.8
    assert n["closed_form"] == np.float64(n["closed_form"]) and abs(n["closed_form"] / closed - 1) < 1e-10
    assert abs(n["observed_order"] - 2.0) < 0.25
    assert abs(n["richardson"] / closed - 1) < 1e-2
    assert abs(n["pde"] / closed - 1) < 5e-2
    # the drawn field int J dv against the closed form C_{v theta} C_{theta theta}^-1 theta p(theta):
    # relative L2 within 15 % on 16^2 cells (measured 12 %; 5 % on 24^2: h^2 and the 6-mode truncation)
    assert n["field_relative_l2_error"] < 0.15
    assert out["field"].shape == (2, 16, 16)


def test_richardson_refuses_values_that_do_not_converge():
    import pytest

    with pytest.raises(RuntimeError, match="theta_cells"):
        kunin._richardson([12, 16, 24], [1.0, 2.0, 1.0])
    order, value = kunin._richardson([10, 20, 40], [1.0 + 1e-2, 1.0 + 2.5e-3, 1.0 + 6.25e-4])
    assert abs(order - 2.0) < 1e-9 and abs(value - 1.0) < 1e-12  # exact for v = 1 + a h^2
