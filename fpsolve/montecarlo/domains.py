"""Domains for exit times: boxes and half-spaces with exact Brownian-bridge crossing tests, or
predicates tested at step ends.

``Box([(lo, hi), ...])`` and ``HalfSpace(normal, offset)`` compile to an intersection of
half-spaces ``A x < c`` (rows of A unit normals), which admits the exact Brownian-bridge crossing
probability per face; a predicate ``lambda x, y: ...`` compiles with ``numba.njit`` and is tested
at step ends only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .compile import _jit

__all__ = ["Box", "HalfSpace", "CompiledDomain", "compile_domain"]


class Box:
    """The open box ``lo_k < x_k < hi_k`` (use ``-inf``/``inf`` for unbounded sides).

    The Brownian-bridge test treats the faces as independent: the crossing probability of a step is
    ``1 - prod_faces (1 - p_face)``, exact for one active face and a slight overestimate near
    corners (where two faces are close at once, within a few ``sqrt(2 D dt)``).
    """

    def __init__(self, bounds):
        b = np.asarray(bounds, dtype=float).reshape(-1, 2)
        if np.any(b[:, 0] >= b[:, 1]):
            raise ValueError(f"Box: every axis needs lo < hi, got {b.tolist()}")
        self.bounds = b

    def __repr__(self):
        return "Box(" + " x ".join(f"({lo:g}, {hi:g})" for lo, hi in self.bounds) + ")"

    def halfspaces(self):
        d = len(self.bounds)
        rows, offsets = [], []
        for k, (lo, hi) in enumerate(self.bounds):
            e = np.zeros(d)
            e[k] = 1.0
            if np.isfinite(hi):
                rows.append(e), offsets.append(hi)
            if np.isfinite(lo):
                rows.append(-e), offsets.append(-lo)
        return np.array(rows).reshape(-1, d), np.array(offsets)


class HalfSpace:
    """The open half-space ``normal @ x < offset``; exit means crossing the plane."""

    def __init__(self, normal, offset):
        n = np.atleast_1d(np.asarray(normal, dtype=float))
        norm = np.linalg.norm(n)
        if not norm > 0:
            raise ValueError("HalfSpace: the normal must be a nonzero vector")
        self.normal, self.offset = n / norm, float(offset) / norm

    def __repr__(self):
        return f"HalfSpace(normal={self.normal.tolist()}, offset={self.offset:g})"

    def halfspaces(self):
        return self.normal[None, :], np.array([self.offset])


@dataclass(frozen=True, eq=False)
class CompiledDomain:
    """``inside(x)`` iff ``A x < c`` row-wise and ``predicate(x)``; ``A``'s rows are unit normals."""

    A: np.ndarray
    c: np.ndarray
    predicate: object
    has_predicate: bool
    description: str


@njit(cache=True, inline="always")
def _always_inside(x):
    return True


def compile_domain(domain, state_dim: int) -> CompiledDomain:
    """Compile a Box, HalfSpace or predicate ``f(x0, x1, ...) -> bool`` for ``state_dim`` axes."""
    if isinstance(domain, (Box, HalfSpace)):
        A, c = domain.halfspaces()
        if A.shape[1] != state_dim:
            raise ValueError(f"domain: {domain!r} has {A.shape[1]} axes, the state has {state_dim}")
        return CompiledDomain(np.ascontiguousarray(A), c, _always_inside, False, repr(domain))
    if callable(domain):
        key = (domain, state_dim)
        if key not in _COMPILED_PREDICATES:  # once per predicate: the simulator's driver is keyed by it
            _COMPILED_PREDICATES[key] = _compile_predicate(domain, state_dim)
        return _COMPILED_PREDICATES[key]
    raise TypeError(f"domain: expected a Box, HalfSpace or predicate, got {type(domain).__name__}")


_COMPILED_PREDICATES: dict = {}


def _compile_predicate(domain, state_dim: int) -> CompiledDomain:
    """The njit predicate ``inside(x)`` of ``domain(*x)`` (compiled once per predicate)."""
    args = ", ".join(f"x[{i}]" for i in range(state_dim))
    try:
        jitted = _jit(domain)
        namespace = {"f": jitted}
        exec(f"def inside(x):\n    return bool(f({args}))", namespace)
        inside = njit(inline="always")(namespace["inside"])
        inside(np.zeros(state_dim))
    except Exception as error:  # numba typing errors, wrong arity
        raise ValueError(
            f"domain: the predicate could not be compiled with numba ({type(error).__name__}); "
            "write it with scalar arithmetic (e.g. lambda x, y: x < 0) or pass a Box/HalfSpace"
        ) from error
    return CompiledDomain(np.zeros((0, state_dim)), np.zeros(0), inside, True, "predicate")
