"""Argument checks shared across hashkit, each raising an error that names the parameter."""

from __future__ import annotations

import math
from numbers import Integral, Real


def check_positive_int(value: int, name: str) -> int:
    """``value`` as an ``int`` if it is a positive integer (not a bool), else a ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value <= 0:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return int(value)


def check_non_negative_int(value: int, name: str) -> int:
    """``value`` as an ``int`` if it is an integer >= 0 (not a bool), else a ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 0:
        raise ValueError(f"{name}: expected an integer >= 0, got {value!r}")
    return int(value)


def check_positive(value: float, name: str) -> float:
    """``value`` as a float if it is a positive finite number, else a ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 < value < math.inf:
        raise ValueError(f"{name}: expected a positive number, got {value!r}")
    return float(value)


def check_non_negative(value: float, name: str) -> float:
    """``value`` as a float if it is a finite number >= 0, else a ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 <= value < math.inf:
        raise ValueError(f"{name}: expected a finite number >= 0, got {value!r}")
    return float(value)
