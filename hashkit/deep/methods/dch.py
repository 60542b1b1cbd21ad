"""DCH: deep Cauchy hashing for Hamming space retrieval {cite}`cao2018dch` (Cao, Long, Liu, Wang, CVPR 2018)."""

from __future__ import annotations

import torch

from hashkit.checks import check_non_negative, check_positive
from hashkit.deep.method import HashingMethod, TrainingContext
from hashkit.deep.pair_losses import (
    cauchy_quantization,
    cosine_hamming,
    dch_pair_loss,
    label_similarity,
    off_diagonal,
    pair_weights,
)


class DCH(HashingMethod):
    """Cauchy cross-entropy on the normalised Hamming distance, plus the Cauchy quantisation loss.

    Objective (DCH eq. 7–9; MCH Table 1): over the batch's pairs ``i ≠ j``,
    ``mean w_ij (s_ij log(d_ij / γ) + log(1 + γ / d_ij)) + λ mean_i log(1 + Q/(2γ) (1 − cos(b_i, u_i)))``
    with ``d_ij = Q/2 (1 − cos(u_i, u_j))``, ``u = tanh(z)``, ``b = sign(u)`` and ``w_ij``
    balancing similar against dissimilar pairs (DCH eq. 2, HashNet's weights). The Cauchy
    probability ``γ / (γ + d)`` falls fast beyond a small distance, which concentrates similar
    items within a small Hamming ball.

    Defaults: ``γ = 20`` (the authors' released code), ``λ = 0.1`` (the quantisation weight the
    paper selects; its code's default is 0).
    """

    name = "DCH"

    def __init__(self, gamma: float = 20.0, quantization_weight: float = 0.1) -> None:
        self.gamma = check_positive(gamma, "gamma")
        self.quantization_weight = check_non_negative(quantization_weight, "quantization_weight")

    def loss(self, outputs: torch.Tensor, labels: torch.Tensor, positions: torch.Tensor,
             context: TrainingContext) -> torch.Tensor:
        similarity = off_diagonal(label_similarity(labels, labels))
        distances = off_diagonal(cosine_hamming(outputs, outputs))
        cauchy = dch_pair_loss(distances, similarity, self.gamma, pair_weights(similarity)).mean()
        return cauchy + self.quantization_weight * cauchy_quantization(outputs, self.gamma).mean()
