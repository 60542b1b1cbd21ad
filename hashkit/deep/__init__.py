"""Deep hashing: image tensors, backbones, the shared training engine and the methods' losses."""

from hashkit.deep.engine import TrainingDiverged

__all__ = ["TrainingDiverged"]
