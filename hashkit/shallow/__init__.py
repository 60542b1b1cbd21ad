"""Shallow hashing methods as estimators: ``fit(features, labels=None)``, then ``encode(features)``."""

from hashkit.shallow.lsh import LSH

__all__ = ["LSH"]
