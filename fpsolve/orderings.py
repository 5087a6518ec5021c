"""Fill-reducing orderings for sparse LU: nested dissection of a matrix's graph, compiled.

George's automatic nested dissection: a breadth-first search from a pseudo-peripheral node
splits the graph into level sets; the middle level (pruned to the nodes that touch the next
level) separates the earlier levels from the later ones, since edges join adjacent levels only.
Both parts are ordered recursively and the separator last, so that eliminating one part never
fills into the other. On 2-D grid graphs the LU then costs O(n log n) memory and O(n^1.5) work,
against O(n^1.5) memory and O(n^2) work in banded order. Decided from the matrix alone.

The recursion runs in a Numba kernel (:func:`_dissect_kernel`, the Numba compilation of its
plain-Python twin :func:`_dissect_reference`, which tests run on small graphs): 0.12 CPU seconds
for the 2.6e5 states of the 2-D kinetic stationary problem at 512^2, graph included (0.175 before
the searches dropped their per-link membership test and the graph became an 8-bit pattern), where
the same algorithm on scipy's csgraph took 1.3-1.5 s (benchmarks/bench_momentum.py).
"""

import numba
import numpy as np
import scipy.sparse as sparse

__all__ = ["nested_dissection", "LEAF_SIZE", "SEPARATOR_WINDOW"]

#: Parts of at most this many nodes keep their original order. Measured on the pinned 2-D kinetic
#: stationary system at 512^2 (2.6e5 unknowns, SuperLU with threshold pivoting), with the middle
#: level as separator: 64 gave 2.1e7 nonzeros in L + U, 256 gave 2.5e7, 1024 gave 3.4e7, and below
#: 64 the supernodes shrink and the factorization slows down again. With SEPARATOR_WINDOW (CPU s
#: on a loaded 2-core machine, `PYTHONPATH=. python benchmarks/bench_momentum.py`'s problems):
#: 32: 1.78e7 and 1.59 s; 64: 1.84e7, 1.52-1.54 s; 96: 1.89e7, 1.42-1.47 s; 128: 1.94e7,
#: 1.41-1.46 s; 256: 2.11e7, 1.56 s; on the exit system 64: 1.20-1.24 s, 96: 1.17-1.21 s.
LEAF_SIZE = 96

#: Each split separates at the smallest breadth-first level among those with between this
#: fraction and its complement of the slice's nodes before them (the middle level if none is
#: smaller). The level sets of the kinetic phase-space graph are diagonal bands whose size varies,
#: and a slightly unbalanced split at a shorter level costs less than a balanced one at a long
#: level. Measured (SuperLU with threshold pivoting, CPU seconds on a loaded 2-core machine):
#: the pinned 512^2 kinetic stationary system 2.09e7 nonzeros in L + U and 1.8 s with the middle
#: level, 1.83e7 and 1.5 s at 0.25 (0.3: 1.85e7; 0.2: 1.82e7; 0.15: 2.05e7, too unbalanced);
#: the 512^2 kinetic exit system 1.72e7 and 1.39 s against 1.55e7 and 1.24 s.
SEPARATOR_WINDOW = 0.25


def nested_dissection(M, leaf: int = LEAF_SIZE) -> np.ndarray:
    """A fill-reducing ordering (a permutation of ``range(n)``) of the square sparse matrix M,
    from the graph of M + M^T: ``M[order][:, order]`` factors with little fill.

    Parts of at most ``leaf`` nodes keep their original order; disconnected parts are ordered
    one after another."""
    graph = _graph(M)
    return _dissect_kernel(graph.indptr, graph.indices, int(leaf)).astype(np.intp)


def _graph(M):
    """The pattern of M + M^T (stored zeros of M left out), as CSR with 8-bit entries: five times
    faster than summing |M| + |M^T| in floating point (0.01 against 0.05 s at 512^2)."""
    M = sparse.csr_array(M)
    pattern = sparse.csr_array(((M.data != 0).astype(np.int8), M.indices, M.indptr), shape=M.shape)
    graph = sparse.csr_array(pattern + pattern.T)
    index = np.int32 if graph.shape[0] < 2**31 - 1 else np.int64
    return sparse.csr_array((graph.data, graph.indices.astype(index), graph.indptr.astype(index)), shape=graph.shape)


def _dissect_reference(indptr, indices, leaf):
    """Nested dissection of the graph (indptr, indices) (self-loops are ignored); returns the
    order. Parts are contiguous slices of one buffer, which each split rewrites stably as (first
    part, second part, separator); a stack holds the slices still to split. Each split starts
    from a pseudo-peripheral node of its own slice (the last node reached from the slice's first
    one): reusing the parent's root instead saves a third of the work but gave 10 % more fill)."""
    n = indptr.size - 1
    order = np.arange(n, dtype=indices.dtype)
    owner = np.full(n, -1, dtype=np.int64)  # serial number of the slice being split
    level = np.full(n, -1, dtype=indices.dtype)
    queue = np.empty(n, dtype=indices.dtype)
    scratch = np.empty(n, dtype=indices.dtype)
    stack = np.empty((n + 2, 2), dtype=np.int64)
    stack[0, 0], stack[0, 1] = 0, n
    depth, serial = 1, -1
    while depth > 0:
        depth -= 1
        start, stop = stack[depth, 0], stack[depth, 1]
        if stop - start <= leaf:
            continue
        serial += 1
        first, second = _bisect(indptr, indices, order, start, stop, serial, owner, level, queue, scratch)
        stack[depth, 0], stack[depth, 1] = start, start + first
        stack[depth + 1, 0], stack[depth + 1, 1] = start + first, start + first + second
        depth += 2
    return order


def _bisect(indptr, indices, order, start, stop, serial, owner, level, queue, scratch):
    """Split the slice order[start:stop] (tagged ``serial`` in ``owner``) in place as (first
    part, second part, separator); returns the sizes of the two parts. A disconnected slice is
    split into the component of its first node and the rest, with an empty separator."""
    size = stop - start
    for k in range(start, stop):
        owner[order[k]] = serial
        level[order[k]] = -1
    reached = _levels(indptr, indices, order[start], level, queue)
    if reached < size:
        # disconnected: the component reached (levels >= 0) first, the rest (level -1) after
        _, second = _split(order, start, stop, level, -1, scratch)
        for k in range(start + second, stop):
            level[order[k]] = 0  # only the slice being split may hold -1 (see _levels)
        return second, size - second
    root = queue[reached - 1]  # pseudo-peripheral: the last node reached
    for k in range(start, stop):
        level[order[k]] = -1
    _levels(indptr, indices, root, level, queue)
    middle = _middle_level(level, queue, size)
    last = level[queue[size - 1]]
    # the separator: middle-level nodes touching the next level; the others join the first
    # part (unless there is no next level: then the whole middle level separates)
    for k in range(size if middle < last else 0):
        node = queue[k]
        if level[node] == middle and not _touches(indptr, indices, node, serial, owner, level, middle + 1):
            level[node] = middle - 1
    return _split(order, start, stop, level, middle, scratch)


def _levels(indptr, indices, root, level, queue):
    """Breadth-first levels from ``root`` within the slice being split: its nodes have ``level``
    -1 on entry, and no other node does (every split leaves levels >= 0 behind it), so the
    search needs no membership test; ``queue`` receives the nodes in the order reached. Returns
    their count."""
    queue[0] = root
    level[root] = 0
    head, tail = 0, 1
    while head < tail:
        node = queue[head]
        head += 1
        for e in range(indptr[node], indptr[node + 1]):
            other = indices[e]
            if level[other] < 0:
                level[other] = level[node] + 1
                queue[tail] = other
                tail += 1
    return tail


def _middle_level(level, queue, size):
    """The level to separate at: the first level at which the cumulative count of nodes reaches
    half of ``size``, unless a level with fewer nodes has between :data:`SEPARATOR_WINDOW` and
    1 - SEPARATOR_WINDOW of them before it and in it (the smallest such level)."""
    counts = np.zeros(level[queue[size - 1]] + 1, dtype=np.int64)
    for k in range(size):
        counts[level[queue[k]]] += 1
    middle, total = 0, counts[0]
    while 2 * total < size:
        middle += 1
        total += counts[middle]
    best, before = middle, 0
    for candidate in range(counts.size):
        balanced = before >= SEPARATOR_WINDOW * size and before + counts[candidate] <= (1 - SEPARATOR_WINDOW) * size
        if balanced and counts[candidate] < counts[best]:
            best = candidate
        before += counts[candidate]
    return best


def _touches(indptr, indices, node, slice_id, owner, level, wanted):
    for e in range(indptr[node], indptr[node + 1]):
        other = indices[e]
        if owner[other] == slice_id and level[other] == wanted:
            return True
    return False


def _split(order, start, stop, level, middle, scratch):
    """Rewrite order[start:stop] stably as (level < middle, level > middle, level == middle);
    returns the sizes of the first two groups."""
    first = second = 0
    for i in range(start, stop):
        if level[order[i]] < middle:
            first += 1
        elif level[order[i]] > middle:
            second += 1
    fill = np.array([0, first, first + second])
    for i in range(start, stop):
        node = order[i]
        group = 0 if level[node] < middle else (1 if level[node] > middle else 2)
        scratch[fill[group]] = node
        fill[group] += 1
    order[start:stop] = scratch[: stop - start]
    return first, second


_levels = numba.njit(cache=True)(_levels)
_middle_level = numba.njit(cache=True)(_middle_level)
_touches = numba.njit(cache=True)(_touches)
_split = numba.njit(cache=True)(_split)
_bisect = numba.njit(cache=True)(_bisect)
_dissect_kernel = numba.njit(cache=True)(_dissect_reference)
