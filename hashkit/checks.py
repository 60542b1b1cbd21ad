"""Argument checks shared across hashkit, each raising an error that names the parameter."""

from __future__ import annotations

from numbers import Integral


def check_positive_int(value: int, name: str) -> int:
    """``value`` as an ``int`` if it is a positive integer (not a bool), else a ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value <= 0:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return int(value)
