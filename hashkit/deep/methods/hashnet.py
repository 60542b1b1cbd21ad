"""HashNet: deep learning to hash by continuation {cite}`cao2017hashnet` (Cao, Long, Wang, Yu, ICCV 2017)."""

from __future__ import annotations

import torch

from hashkit.checks import check_positive
from hashkit.deep.method import HashingMethod, TrainingContext
from hashkit.deep.pair_losses import (
    hashnet_pair_loss,
    label_overlap,
    label_similarity,
    off_diagonal,
    pair_weights,
    relaxed_hamming,
    tanh_smoothing,
)


class HashNet(HashingMethod):
    """Weighted maximum likelihood of the pairwise labels on codes relaxed by a steepening ``tanh``.

    Objective (HashNet eq. 4; MCH Table 1): over the batch's pairs ``i ≠ j``,
    ``mean w_ij (log(1 + exp(α u_iᵀu_j)) − s_ij α u_iᵀu_j)`` with ``u = tanh(β z)``, ``s_ij = 1``
    when two items share a label, and ``w_ij`` HashNet's eq. (2): similar and dissimilar pairs of
    the batch weigh the same in total, similar ones scaled by ``c_ij``, the share of their labels
    they have in common (1 on single-label data). No quantisation term (Table 1: none).

    Continuation: ``β`` grows from 1 as HashNet's schedule ``β = (1 + γ_β t)^p`` with ``γ_β = 0.005``
    and ``p = 0.5`` over ``t`` iterations; the paper's runs make 10,000 iterations. Here ``t`` is the
    paper's iteration count reached at the same *fraction* of training, ``t = 10,000 · epoch /
    n_epochs``, constant within an epoch, so a short run steepens about as far as a full one
    (β = 6.8 in the last of 10 epochs; 7.1 at the paper's last iteration).

    Defaults: ``α = 10 / n_bits`` (the authors' code; the paper leaves it to cross-validation).
    Pairs: all pairs within a batch, as the authors' code pairs its two half-batches.
    """

    name = "HashNet"

    def __init__(self, alpha: float | None = None, beta_gamma: float = 0.005, beta_power: float = 0.5,
                 paper_iterations: int = 10_000) -> None:
        self.alpha = None if alpha is None else check_positive(alpha, "alpha")
        self.beta_gamma = check_positive(beta_gamma, "beta_gamma")
        self.beta_power = check_positive(beta_power, "beta_power")
        self.paper_iterations = check_positive(paper_iterations, "paper_iterations")

    def beta(self, context: TrainingContext) -> float:
        """The continuation's steepness for the current epoch."""
        iteration = self.paper_iterations * context.epoch / context.n_epochs
        return (1 + self.beta_gamma * iteration) ** self.beta_power

    def activation(self, logits: torch.Tensor, context: TrainingContext) -> torch.Tensor:
        return tanh_smoothing(logits, self.beta(context))

    def loss(self, outputs: torch.Tensor, labels: torch.Tensor, positions: torch.Tensor,
             context: TrainingContext) -> torch.Tensor:
        alpha = 10 / context.n_bits if self.alpha is None else self.alpha
        similarity = off_diagonal(label_similarity(labels, labels))
        weights = pair_weights(similarity, off_diagonal(label_overlap(labels, labels)))
        distances = off_diagonal(relaxed_hamming(outputs, outputs))
        return hashnet_pair_loss(distances, similarity, context.n_bits, alpha, weights).mean()
