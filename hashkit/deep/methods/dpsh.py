"""DPSH: deep pairwise-supervised hashing {cite}`li2016dpsh` (Li, Wang, Kang, IJCAI 2016)."""

from __future__ import annotations

import torch

from hashkit.checks import check_non_negative
from hashkit.deep.method import HashingMethod, TrainingContext
from hashkit.deep.pair_losses import hashnet_pair_loss, label_similarity, relaxed_hamming, squared_quantization


class DPSH(HashingMethod):
    """The negative log-likelihood of the pairwise labels, plus a quantisation penalty.

    Objective (DPSH eq. 2, relaxed): with ``Θ_ij = ½ u_iᵀ u_j``,
    ``Σ_{s_ij} (log(1 + e^Θ_ij) − s_ij Θ_ij) + η Σ_i ‖b_i − u_i‖²``, ``b_i = sign(u_i)``, where
    ``u_i`` is the hashing layer's output *without* a squashing function (DPSH's ``u_i = Wᵀφ(x_i) + v``)
    and ``s_ij = 1`` when two items share a label.

    Pairs: as the authors' implementation does, each batch item is paired with *every* training item
    through a memory ``memory_`` of the latest outputs of all training items (updated with the
    batch's own outputs before the loss; the memory carries no gradient). The memory starts as the
    untrained network's outputs rather than the authors' zeros, whose pairs would give no gradient
    for most of the first epoch — a waste when CPU runs last a few epochs. The loss of a batch of
    ``B`` items is the objective's sums over its ``B × n`` pairs and ``B`` items, divided by
    ``B · n``: a mean over pairs plus ``η / n`` times the mean quantisation error, which keeps the
    paper's balance between the two terms (each item is in ``n`` pairs and one quantisation term)
    whatever ``n`` is.

    Defaults: ``η = 10``. Fine-tuning: DPSH fine-tunes all layers of CNN-F
    (``trainable="all"``). DPSH's loss is HashNet's at ``α = ½`` without pair weights, so it is
    computed by :func:`hashkit.deep.pair_losses.hashnet_pair_loss`.
    """

    name = "DPSH"
    # Learned state: the memory of the latest outputs of every training item (n × bits).
    memory_: torch.Tensor

    def __init__(self, eta: float = 10.0) -> None:
        self.eta = check_non_negative(eta, "eta")

    def begin(self, context: TrainingContext) -> None:
        self.memory_ = context.encode_train()

    def activation(self, logits: torch.Tensor, context: TrainingContext) -> torch.Tensor:
        return logits

    def loss(self, outputs: torch.Tensor, labels: torch.Tensor, positions: torch.Tensor,
             context: TrainingContext) -> torch.Tensor:
        self.memory_[positions] = outputs.detach()
        similarity = label_similarity(labels, context.train_labels)
        pair_losses = hashnet_pair_loss(relaxed_hamming(outputs, self.memory_), similarity, context.n_bits, alpha=0.5)
        return pair_losses.mean() + self.eta / context.n_train * squared_quantization(outputs).mean()
