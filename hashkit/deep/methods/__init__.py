"""The deep hashing methods: each is its loss and, where its paper has one, its update rule.

Train any of them with :func:`hashkit.deep.engine.train`; see :mod:`hashkit.deep.method` for
what a method defines.
"""

from hashkit.deep.methods.adsh import ADSH
from hashkit.deep.methods.cnnh import CNNH
from hashkit.deep.methods.dch import DCH
from hashkit.deep.methods.ddsh import DDSH
from hashkit.deep.methods.deepbit import DeepBit
from hashkit.deep.methods.dhn import DHN
from hashkit.deep.methods.dnnh import DNNH
from hashkit.deep.methods.dpsh import DPSH
from hashkit.deep.methods.dsdh import DSDH
from hashkit.deep.methods.dtsh import DTSH
from hashkit.deep.methods.fdah import FDAH
from hashkit.deep.methods.hashnet import HashNet
from hashkit.deep.methods.mls3rduh import MLS3RDUH
from hashkit.deep.methods.mmhh import MMHH
from hashkit.deep.methods.ssdh import SSDH
from hashkit.deep.methods.vdsh import VDSH

__all__ = ["ADSH", "CNNH", "DCH", "DDSH", "DeepBit", "DHN", "DNNH", "DPSH", "DSDH", "DTSH", "FDAH", "HashNet", "MLS3RDUH",
           "MMHH", "SSDH", "VDSH"]
