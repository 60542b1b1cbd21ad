"""The deep hashing methods: each is its loss and, where its paper has one, its update rule.

Train any of them with :func:`hashkit.deep.engine.train`; see :mod:`hashkit.deep.method` for
what a method defines.
"""

from hashkit.deep.methods.adsh import ADSH
from hashkit.deep.methods.dpsh import DPSH

__all__ = ["ADSH", "DPSH"]
