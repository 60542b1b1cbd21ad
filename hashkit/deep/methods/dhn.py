"""DHN: deep hashing network for efficient similarity retrieval {cite}`zhu2016dhn` (Zhu, Long, Wang, Cao, AAAI 2016)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from hashkit.checks import check_non_negative, check_positive
from hashkit.deep.method import HashingMethod, TrainingContext
from hashkit.deep.pair_losses import hashnet_pair_loss, label_similarity, off_diagonal, relaxed_hamming


def log_cosh(values: torch.Tensor) -> torch.Tensor:
    """``log cosh(x)``, computed as ``|x| + log(1 + e^{−2|x|}) − log 2`` so that it cannot overflow."""
    magnitude = values.abs()
    return magnitude + F.softplus(-2 * magnitude) - math.log(2.0)


def dhn_quantization(codes: torch.Tensor) -> torch.Tensor:
    """DHN's quantisation loss of each item: ``Σ_k log cosh(|u_ik| − 1)``.

    The smooth surrogate of ``‖|u_i| − 1‖₁`` (the distance from ``u_i`` to the nearest ±1 code):
    quadratic near the code, linear far from it. Returns one value per item.
    """
    return log_cosh(codes.abs() - 1).sum(dim=1)


class DHN(HashingMethod):
    """Pairwise cross-entropy on the codes' inner products, plus a ``log cosh`` quantisation loss.

    Definition from the authors' released Caffe layers (github.com/thuml/hash-caffe, whose README
    presents them as the paper's losses: ``src/caffe/layers/pairwise_loss_layer.cu``,
    ``quantization_loss_layer.cu``, ``models/DHN/nus_wide/train_val.prototxt``); the paper's own
    text was not available to this study, so its equations are read through that code. With
    ``u = tanh(z)``, the hash layer's output squashed by ``tanh`` (the authors' prototxt puts a
    ``TanH`` layer on ``hash_layer``), and ``s_ij = 1`` when two items share a label:

        ``mean_{i≠j} (log(1 + exp(α u_iᵀu_j)) − s_ij α u_iᵀu_j) + λ mean_i Σ_k log cosh(|u_ik| − 1)``

    over the pairs of each batch (:func:`dhn_quantization` for the second term; the ``log cosh``
    is the smooth stand-in for ``||u| − 1|`` that the layer computes). The first term is
    the negative log-likelihood of the pairwise labels with ``p(s_ij = 1) = σ(α u_iᵀu_j)``,
    computed by :func:`hashkit.deep.pair_losses.hashnet_pair_loss` (HashNet's loss without its pair
    weights).

    Defaults and their sources:

    * ``alpha = 1``: the likelihood of the *full* inner product ``u_iᵀu_j``, as the authors' layer
      computes it (its forward is ``log(1 + e^{ip}) − s·ip`` with ``ip = uᵢᵀuⱼ``, its gradient
      ``2(σ(ip) − s) u_j``). DPSH and DeepHash-pytorch's ``DHN.py`` use ``½ u_iᵀu_j``
      (``alpha=0.5``).
    * ``quantization_weight = λ = 0.2``: the ``loss_weight`` of the quantisation layer in the
      authors' NUS-WIDE prototxt. Their layer's *gradient* is ``λ/B · tanh(|u| − 1) sign(u)`` per
      entry (it divides by the batch size, not by the entries its printed loss averages over), i.e.
      the gradient of ``λ mean_i Σ_k log cosh(|u_ik| − 1)``, against the pair term's mean over the
      batch's pairs: the scaling written above. DeepHash-pytorch uses 0.1 on the mean over entries.

    Pairs: all pairs of the batch, as the authors' layer forms them (a ``B × B`` product of the
    batch with itself); hashkit leaves out the ``B`` pairs of an item with itself (the authors'
    count includes them), which carry no label information and only push ``‖u_i‖`` up.
    DeepHash-pytorch instead pairs each batch with a memory of all training outputs, as DPSH does.

    The authors fine-tune AlexNet with SGD (learning rate 2e-5, ×10 on the hash layer, momentum 0.9,
    weight decay 5e-4, halved every 500 iterations, 3,000 iterations on NUS-WIDE); those are the
    engine's arguments. Codes are ``sign(u)`` (a symmetric method).
    """

    name = "DHN"

    def __init__(self, alpha: float = 1.0, quantization_weight: float = 0.2) -> None:
        self.alpha = check_positive(alpha, "alpha")
        self.quantization_weight = check_non_negative(quantization_weight, "quantization_weight")

    def loss(self, outputs: torch.Tensor, labels: torch.Tensor, positions: torch.Tensor,
             context: TrainingContext) -> torch.Tensor:
        similarity = off_diagonal(label_similarity(labels, labels))
        distances = off_diagonal(relaxed_hamming(outputs, outputs))
        likelihood = hashnet_pair_loss(distances, similarity, outputs.shape[1], self.alpha).mean()
        quantization = dhn_quantization(outputs).mean()
        context.record(likelihood=likelihood.item(), quantization=quantization.item())
        return likelihood + self.quantization_weight * quantization
