"""Deep hashing: image tensors, backbones, the shared training engine and the methods' losses."""
