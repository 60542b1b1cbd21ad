"""Shallow hashing methods as estimators: ``fit(features, labels=None)``, then ``encode(features)``.

Every class takes its hyper-parameters in ``__init__``, learns state in attributes ending in ``_``,
and returns ``(n, n_bits)`` ``int8`` ±1 codes from ``encode``. :data:`UNSUPERVISED` ignore labels;
:data:`SUPERVISED` require them. :data:`METHODS` maps the names the papers' tables use to classes.
"""

from hashkit.shallow.agh import AGH
from hashkit.shallow.bre import BRE
from hashkit.shallow.cosdish import COSDISH
from hashkit.shallow.fsdh import FSDH
from hashkit.shallow.itq import ITQ
from hashkit.shallow.itq_cca import ITQCCA
from hashkit.shallow.ksh import KSH
from hashkit.shallow.lsh import LSH
from hashkit.shallow.mlh import MLH
from hashkit.shallow.pcah import PCAH
from hashkit.shallow.sdh import SDH
from hashkit.shallow.sgh import SGH
from hashkit.shallow.sh import SH
from hashkit.shallow.sp import SP
from hashkit.shallow.sph import SpH

UNSUPERVISED = (LSH, PCAH, ITQ, SH, SpH, AGH, BRE, SP, SGH)
SUPERVISED = (KSH, SDH, FSDH, ITQCCA, MLH, COSDISH)
METHODS = {cls.__name__: cls for cls in UNSUPERVISED + SUPERVISED} | {"ITQ-CCA": ITQCCA}

__all__ = ["AGH", "BRE", "COSDISH", "FSDH", "ITQ", "ITQCCA", "KSH", "LSH", "MLH", "PCAH", "SDH", "SGH", "SH",
           "SP", "SpH", "METHODS", "SUPERVISED", "UNSUPERVISED"]
