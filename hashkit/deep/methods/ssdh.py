"""SSDH: semantic structure-based unsupervised deep hashing {cite}`yang2018ssdh` (Yang et al., IJCAI 2018).

Unsupervised: the pairwise targets come from features of the training images, computed once
before training by :func:`hashkit.features.pseudo_similarity.ssdh_similarity` (the cosine
distances split about the peak of their histogram into similar, dissimilar and unknown pairs),
and the codes of a batch are fitted to them. Labels never reach the loss.
"""

from __future__ import annotations

import torch

from hashkit.deep.method import HashingMethod, TrainingContext
from hashkit.features.pseudo_similarity import SSDHTargets


def ssdh_loss(codes: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """SSDH's loss on a batch: the mean over its ``B²`` pairs of ``|S_ij| (z_iᵀz_j / L − S_ij)²``.

    A pair with ``S_ij = 0`` (unknown) costs nothing but still counts in the mean, and the
    diagonal is included, as in the authors' code (``reduce_mean`` over the ``B × B`` matrix).
    """
    inner = codes @ codes.T / codes.shape[1]
    return (targets.abs() * (inner - targets) ** 2).mean()


class SSDH(HashingMethod):
    """SSDH's loss over the batch's pairs, against targets from
    :func:`~hashkit.features.pseudo_similarity.ssdh_similarity`.

    ``similarity``: the :class:`~hashkit.features.pseudo_similarity.SSDHTargets` of the training
    items, in the order of the training split (built from their features, e.g. VGG-16 relu7 as
    the authors do). The codes the loss sees are ``z = tanh(outputs)`` (the engine's default
    activation), and the loss is :func:`ssdh_loss`.

    The authors train VGG-16 with a new hash layer with Adam, learning rate 10⁻³ and ε = 1, batch
    24, for 10 epochs (``main.py``); the engine owns the optimiser, the batch and the epochs: pass
    ``optimizer="adam", learning_rate=1e-3, batch_size=24, epochs=10`` to
    :func:`hashkit.deep.engine.train` (its Adam keeps torch's ε).
    """

    name = "SSDH"
    supervised = False

    def __init__(self, similarity: SSDHTargets) -> None:
        if not isinstance(similarity, SSDHTargets):
            raise ValueError(f"similarity: expected the SSDHTargets of ssdh_similarity(features), got "
                             f"{type(similarity).__name__}")
        self.similarity = similarity

    def begin(self, context: TrainingContext) -> None:
        if self.similarity.n_items != context.n_train:
            raise ValueError(f"similarity: {self.similarity.n_items} items, but the training split has "
                             f"{context.n_train}")

    def loss(self, outputs: torch.Tensor, labels: torch.Tensor, positions: torch.Tensor,
             context: TrainingContext) -> torch.Tensor:
        return ssdh_loss(outputs, self.similarity.batch(positions).to(outputs.device))
