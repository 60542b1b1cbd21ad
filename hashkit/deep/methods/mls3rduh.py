"""MLS³RDUH: deep unsupervised hashing via manifold-based local semantic similarity structure
reconstructing {cite}`tu2020mls3rduh` (Tu, Mao and Wei, IJCAI 2020).

Unsupervised: the pairwise targets come from features of the training images, computed once
before training by :func:`hashkit.features.pseudo_similarity.mls3rduh_similarity` (the cosine,
corrected by which cosine neighbours are also neighbours on the data manifold), and the codes of
a batch reconstruct them. Labels never reach the loss.
"""

from __future__ import annotations

import torch

from hashkit.deep.method import HashingMethod, TrainingContext
from hashkit.deep.methods.dhn import log_cosh
from hashkit.features.pseudo_similarity import ManifoldTargets


def mls3rduh_loss(codes: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """MLS³RDUH's loss on a batch: ``Σ_ij log cosh(h_iᵀh_j / L − S_ij) / B²``, over all ``B²`` pairs,
    the diagonal included, as the authors' code sums it."""
    inner = codes @ codes.T / codes.shape[1]
    return log_cosh(inner - targets).mean()


class MLS3RDUH(HashingMethod):
    """MLS³RDUH's loss over the batch's pairs, against targets from
    :func:`~hashkit.features.pseudo_similarity.mls3rduh_similarity`.

    ``targets``: the :class:`~hashkit.features.pseudo_similarity.ManifoldTargets` of the training
    items, in the order of the training split (built from their features, fc7 of a pre-trained
    network in the paper). The codes the loss sees are ``h = tanh(outputs)`` (the engine's default
    activation); the loss is :func:`mls3rduh_loss`. The authors' code also computes a quantisation
    term ``‖sign(h) − h‖²`` but only prints it; it is not optimised here either.

    The authors train with SGD, learning rate 0.04 and weight decay 10⁻⁵, batch 128, for 150 epochs
    (``MLS3RDUH.py``; its step schedule, ×0.5 every 500 epochs, never fires in 150): pass
    ``optimizer="sgd", learning_rate=0.04, weight_decay=1e-5, momentum=0, batch_size=128,
    epochs=150`` to :func:`hashkit.deep.engine.train`.
    """

    name = "MLS3RDUH"
    supervised = False

    def __init__(self, targets: ManifoldTargets) -> None:
        if not isinstance(targets, ManifoldTargets):
            raise ValueError(f"targets: expected the ManifoldTargets of mls3rduh_similarity(features), got "
                             f"{type(targets).__name__}")
        self.targets = targets

    def begin(self, context: TrainingContext) -> None:
        if self.targets.n_items != context.n_train:
            raise ValueError(f"targets: {self.targets.n_items} items, but the training split has {context.n_train}")

    def loss(self, outputs: torch.Tensor, labels: torch.Tensor, positions: torch.Tensor,
             context: TrainingContext) -> torch.Tensor:
        return mls3rduh_loss(outputs, self.targets.batch(positions).to(outputs.device))
