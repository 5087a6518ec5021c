"""Nested dissection's choice of separator (fpsolve.orderings.SEPARATOR_WINDOW)."""

import numpy as np
import scipy.sparse as sp
from scipy.sparse import linalg as sla
from scipy.sparse.csgraph import connected_components

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


def dissection_with_explicit_slices(graph, leaf):
    """George's nested dissection as fpsolve.orderings specifies it, written plainly: each slice's
    breadth-first searches test membership in a Python set of the slice's nodes (the compiled
    kernel relies on an invariant of its level array instead)."""
    n = graph.shape[0]
    neighbours = [graph.indices[graph.indptr[i] : graph.indptr[i + 1]] for i in range(n)]
    order = list(range(n))
    stack = [(0, n)]
    while stack:
        start, stop = stack.pop()
        size = stop - start
        if size <= leaf:
            continue
        members = set(order[start:stop])

        def levels(root):
            level, queue = {root: 0}, [root]
            for node in queue:
                for other in neighbours[node]:
                    if other in members and other not in level:
                        level[other] = level[node] + 1
                        queue.append(other)
            return level, queue

        level, queue = levels(order[start])
        if len(queue) < size:  # disconnected: the component reached, then the rest
            part = [x for x in order[start:stop] if x in level]
            order[start:stop] = part + [x for x in order[start:stop] if x not in level]
            stack += [(start, start + len(part)), (start + len(part), stop)]
            continue
        level, queue = levels(queue[-1])
        counts = np.bincount([level[x] for x in queue])
        middle = int(np.searchsorted(np.cumsum(counts), size / 2))  # first level reaching half
        best, before = middle, 0
        for candidate, count in enumerate(counts):
            window = orderings.SEPARATOR_WINDOW
            if before >= window * size and before + count <= (1 - window) * size and count < counts[best]:
                best = candidate
            before += count
        if best < len(counts) - 1:  # prune the separator to nodes touching the next level
            for node in queue:
                if level[node] == best and not any(level.get(o, -9) == best + 1 for o in neighbours[node]):
                    level[node] = best - 1
        first = [x for x in order[start:stop] if level[x] < best]
        second = [x for x in order[start:stop] if level[x] > best]
        order[start:stop] = first + second + [x for x in order[start:stop] if level[x] == best]
        stack += [(start, start + len(first)), (start + len(first), start + len(first) + len(second))]
    return np.array(order)


def test_compiled_dissection_equals_the_plain_one_on_disconnected_and_kinetic_graphs():
    # the compiled searches skip the per-link membership test (only the slice being split holds
    # level -1): the orders must equal those of explicit membership sets, on a kinetic operator
    # (specular walls, two-cell upwind links) and on a graph of several components of a random
    # geometric graph, with small leaves so that the recursion runs deep. Exact equality: both
    # follow the same deterministic rules.
    model = fp.UnderdampedLangevin(fp.landscapes.double_well(), friction=1.0, temperature=0.25)
    grid = fp.phase_space_grid(theta=(-2.2, 2.2), v=(-3, 3), cells=(24, 16))
    kinetic = sp.csr_array(fp.FokkerPlanck(model, grid).generator.matrix)
    rng = np.random.default_rng(11)
    points = rng.random((300, 2)) * [3.0, 1.0]
    points[:, 0] += np.repeat([0.0, 5.0, 10.0], 100)  # three clusters far apart: three components
    near = np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1)) < 0.2
    shuffle = rng.permutation(300)
    scattered = sp.csr_array(near.astype(float)[shuffle][:, shuffle])
    assert connected_components(scattered)[0] >= 3
    for matrix in (kinetic, scattered):
        graph = orderings._graph(matrix)
        for leaf in (3, 8, 40):
            expected = dissection_with_explicit_slices(graph, leaf)
            np.testing.assert_array_equal(orderings.nested_dissection(matrix, leaf=leaf), expected)
