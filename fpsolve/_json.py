"""Plain-JSON conversion of results (numpy scalars and arrays, non-finite floats)."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["to_jsonable"]


def to_jsonable(value):
    """Numbers, strings, lists and dicts only: numpy scalars and arrays become Python ones, NaN
    becomes null and infinities the strings "inf" / "-inf" (JSON has no non-finite numbers)."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value
