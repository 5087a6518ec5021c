"""Nested dissection's choice of separator (fpsolve.orderings.SEPARATOR_WINDOW)."""

import numpy as np
import scipy.sparse as sp
from scipy.sparse import linalg as sla

import fpsolve as fp
from fpsolve import orderings
from fpsolve.stationary import _heavy_state


def layered_graph(sizes):
    """Layers of the given sizes, every node joined to every node of the adjacent layers: the
    breadth-first levels from either end are the layers. Returns (matrix, layer of each node)."""
    layer = np.repeat(np.arange(len(sizes)), sizes)
    joined = np.abs(layer[:, None] - layer[None, :]) == 1
    return sp.csr_array(joined.astype(float)), layer


def test_separator_is_the_smallest_level_in_the_balanced_window():
    # layers 4, 8, 8, 2, 8, 30, 8, 8, 4 (80 nodes), worked by hand: from the far end (the
    # pseudo-peripheral root) the middle level, where half the nodes are reached, is the layer of
    # 30; the layer of 2 has 20 nodes on one side and 58 on the other, inside the window
    # [1/4, 3/4] of 80, so it separates instead (a path-like graph that a level of 30 would
    # cost 30^3 to factor and a level of 2 costs 2^3). leaf 79: only the top level is split.
    sizes = [4, 8, 8, 2, 8, 30, 8, 8, 4]
    graph, layer = layered_graph(sizes)
    order = orderings.nested_dissection(graph, leaf=79)
    assert np.array_equal(np.sort(order), np.arange(sum(sizes)))
    assert set(layer[order[-2:]]) == {3}
    # the two parts before it: the 58 nodes of layers 4-8 (the root's side), then layers 0-2
    assert set(layer[order[:58]]) == {4, 5, 6, 7, 8} and set(layer[order[58:78]]) == {0, 1, 2}


def test_equal_levels_keep_the_balanced_split():
    # a path: every level has one node, none is smaller than the middle one, so the middle node
    # separates (George's construction; leaf 8 splits only the top of 17 nodes)
    n = 17
    path = sp.diags([np.ones(n - 1)], [1], shape=(n, n), format="csr")
    order = orderings.nested_dissection(path, leaf=8)
    assert order[-1] == 8


def test_kinetic_stationary_system_fills_less_than_with_the_middle_level():
    # the pinned stationary system of the 2-D kinetic double well at 128^2 (the 512^2 benchmark's
    # problem, smaller), factored as fpsolve.solvers factors it, leaves of 64: measured 8.91e5
    # nonzeros in L + U with the window, 9.68e5 when every split took the middle level (the
    # ordering before SEPARATOR_WINDOW); at 512^2 2.09e7 -> 1.83e7. The bound sits between the two.
    model = fp.UnderdampedLangevin(fp.landscapes.double_well(), friction=1.0, temperature=0.25)
    grid = fp.phase_space_grid(theta=(-2.2, 2.2), v=(-3, 3), cells=(128, 128))
    Q = sp.csr_array(fp.FokkerPlanck(model, grid).generator.matrix)
    j = _heavy_state(Q)
    M = sp.lil_array(Q.T)
    M[j, :] = 0.0
    M[j, j] = 1.0
    M = sp.csc_array(M)
    order = orderings.nested_dissection(M, leaf=64)
    assert np.array_equal(np.sort(order), np.arange(M.shape[0]))
    lu = sla.splu(sp.csc_array(M[order][:, order]), permc_spec="NATURAL", diag_pivot_thresh=0.1)
    assert lu.L.nnz + lu.U.nnz < 9.3e5
    # and the factorization solves the system: dense LU of the same matrix as the reference
    # would need 2 GB, so the normwise backward error (round-off: ~1e-16) is checked instead
    b = np.zeros(M.shape[0])
    b[j] = 1.0
    x = np.empty_like(b)
    x[order] = lu.solve(b[order])
    backward = np.abs(b - M @ x).sum() / (1.0 + abs(M).sum(axis=0).max() * np.abs(x).sum())
    assert backward < 1e-14
