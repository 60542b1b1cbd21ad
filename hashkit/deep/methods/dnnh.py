"""DNNH: simultaneous feature learning and hash coding with deep neural networks {cite}`lai2015dnnh`
(Lai, Pan, Liu, Yan, CVPR 2015).

The paper's network has three parts: a shared sub-network of convolutions, a *divide-and-encode*
module that cuts the sub-network's feature into one slice per bit and encodes each slice into one
bit on its own (:class:`DivideAndEncode`), and a triplet ranking loss on the relaxed codes
(:func:`triplet_ranking_loss`).
"""

from __future__ import annotations

from numbers import Real

import torch
from torch import nn

from hashkit.checks import check_positive, check_positive_int
from hashkit.codes import sign
from hashkit.deep.method import HashingMethod, TrainingContext
from hashkit.deep.pair_losses import label_similarity


def piecewise_threshold(values: torch.Tensor, epsilon: float) -> torch.Tensor:
    """DNNH's piece-wise threshold ``g(s)``: 0 below ``½ − ε``, 1 above ``½ + ε``, ``s`` in between.

    Its gradient is 1 inside the band and 0 outside it, as the function's own derivative.
    """
    low, high = 0.5 - epsilon, 0.5 + epsilon
    return torch.where(values < low, torch.zeros_like(values), torch.where(values > high, torch.ones_like(values),
                                                                           values))


class DivideAndEncode(nn.Module):
    """``q`` slices of ``m`` features in, ``q`` bits in [0, 1] out: each slice is encoded by its own unit.

    Bit ``k`` is ``σ(w_kᵀ relu(x_k) + b_k)``, where ``x_k`` is the ``k``-th slice of ``m``
    consecutive inputs: no bit sees another bit's slice (the paper's argument: less redundancy
    between bits than a fully connected layer gives). ``epsilon`` adds the piece-wise threshold
    :func:`piecewise_threshold` after the sigmoid. Weights start as ``N(0, 0.1²)`` and biases as 0
    (the initialisation of the NIN prototxt in github.com/HYPJUDY/caffe-dnnh, which follows the
    first author's released network), drawn from ``generator``.
    """

    def __init__(self, n_bits: int, slice_units: int, epsilon: float | None = None,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.n_bits, self.slice_units, self.epsilon = n_bits, slice_units, epsilon
        self.weight = nn.Parameter(0.1 * torch.randn((n_bits, slice_units), generator=generator))
        self.bias = nn.Parameter(torch.zeros(n_bits))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        slices = torch.relu(features).view(len(features), self.n_bits, self.slice_units)
        bits = torch.sigmoid((slices * self.weight).sum(dim=2) + self.bias)
        return bits if self.epsilon is None else piecewise_threshold(bits, self.epsilon)


def triplet_ranking_loss(outputs: torch.Tensor, labels: torch.Tensor, margin: float = 1.0) -> torch.Tensor:
    """DNNH's triplet ranking loss, averaged over every valid triplet of a batch.

    For a query ``a``, a positive ``p`` (shares a label with ``a``, ``p ≠ a``) and a negative ``n``
    (shares none): ``max(0, margin − (‖F_a − F_n‖² − ‖F_a − F_p‖²))`` on the relaxed codes ``F``.
    All ``B × B × B`` (query, positive, negative) combinations are formed at once and masked; a
    batch without a valid triplet gives 0 (with a gradient of zeros, so a step is harmless).
    Multi-label data: positive = shares at least one label, negative = shares none.
    """
    distances = ((outputs[:, None, :] - outputs[None, :, :]) ** 2).sum(dim=2)
    similar = label_similarity(labels, labels) > 0
    not_self = ~torch.eye(len(outputs), dtype=torch.bool, device=outputs.device)
    valid = (similar & not_self)[:, :, None] & ~similar[:, None, :]
    hinge = torch.relu(margin - (distances[:, None, :] - distances[:, :, None]))
    count = valid.sum()
    if count == 0:
        return (outputs * 0).sum()
    return torch.where(valid, hinge, torch.zeros_like(hinge)).sum() / count


class DNNH(HashingMethod):
    """Triplet ranking loss on codes from a divide-and-encode module.

    Network: the engine's backbone is DNNH's shared sub-network. Its hashing layer, here
    ``Linear(feature_dim, q·m)`` (:meth:`output_width`), plays the sub-network's last layer, whose
    ``q·m`` outputs are cut into the ``q`` slices of ``m`` units; the method's
    :class:`DivideAndEncode` module (``encoder_``) turns slice ``k`` into bit ``k``:
    ``F_k = σ(w_kᵀ relu(x_k) + b_k)``. In the authors' network (a Network-in-Network, as
    github.com/HYPJUDY/caffe-dnnh rebuilds it from the first author's released code) the last
    1×1 convolution has ``50·q`` maps, rectified and average-pooled, sliced 50 per bit: hence
    ``slice_units = m = 50`` and the ``relu`` before slicing.

    Why a module of the method: the engine builds a fully connected hashing layer on the backbone
    and gives a method only that layer's outputs (:meth:`activation`). A divide-and-encode head
    cannot be written as an activation without weights of its own: with fixed weights a slice's
    bit would be a fixed function of a full linear map of the features, and without the ``relu``
    the slice's unit would collapse into that linear map, i.e. a plain fully connected hashing
    layer. So the engine's layer is the (widened) last feature layer and the per-slice units are
    parameters the method owns, created in :meth:`begin` and stepped in :meth:`after_step` by their
    own Adam optimiser (``head_learning_rate``, no weight decay), as BGAN steps its generator. A
    cleaner engine hook would let a method supply the head module itself (``head(feature_dim,
    n_bits) -> nn.Module`` in place of ``Linear``), so that its parameters join the engine's
    optimiser and learning-rate schedule.

    Sources: the paper's text was not available to this study; the loss, the module and the
    threshold below are the paper's as its abstract and secondary descriptions give them, and as
    remembered (*unverified* where marked); the network's sizes come from the Caffe port above.

    Loss (:func:`triplet_ranking_loss`): ``max(0, 1 − (‖F(I) − F(I⁻)‖² − ‖F(I) − F(I⁺)‖²))``,
    margin 1 (the paper's form, *unverified*; the Caffe port uses 2). Triplets: every
    (query, positive, negative) triplet within the batch, a positive sharing a label with the query
    and a negative sharing none (multi-label aware), averaged. The Caffe port feeds triplets
    prepared beforehand from the labels, ``B`` triplets a batch; hashkit's batch of ``B`` images
    holds up to ``B³`` of them, formed without sampling (so no randomness beyond the batches).

    Codes: ``b_k = 1`` when ``F_k ≥ ½`` (outputs thresholded at 0.5, as the paper's codes in
    {0, 1} are), i.e. +1, else −1.

    ``epsilon``: the paper's piece-wise threshold after the sigmoid (:func:`piecewise_threshold`;
    *unverified*, from memory of the paper), which keeps the outputs within ``ε`` of ½ and sets
    the others to 0 or 1, where they get no gradient. ``None`` (default) leaves it out, as the Caffe
    network rebuilt from the first author's code does; the paper's value of ε is not known to us.
    It never changes a code.

    Defaults: ``margin = 1`` (paper, *unverified*), ``slice_units = 50`` (authors' network, see above),
    ``epsilon = None``, ``head_learning_rate = 1e-3`` (the engine's default Adam rate).
    """

    name = "DNNH"
    min_batch_size = 3  # a triplet needs three images
    # Learned state: the divide-and-encode units and their optimiser.
    encoder_: DivideAndEncode
    encoder_optimiser_: torch.optim.Optimizer

    def __init__(self, margin: float = 1.0, slice_units: int = 50, epsilon: float | None = None,
                 head_learning_rate: float = 1e-3) -> None:
        self.margin = check_positive(margin, "margin")
        self.slice_units = check_positive_int(slice_units, "slice_units")
        if epsilon is not None and (isinstance(epsilon, bool) or not isinstance(epsilon, Real)
                                    or not 0 < epsilon < 0.5):
            raise ValueError(f"epsilon: expected None or a number in (0, 0.5), got {epsilon!r}")
        self.epsilon = None if epsilon is None else float(epsilon)
        self.head_learning_rate = check_positive(head_learning_rate, "head_learning_rate")

    def output_width(self, n_bits: int, n_classes: int) -> int:
        return n_bits * self.slice_units

    def begin(self, context: TrainingContext) -> None:
        self.encoder_ = DivideAndEncode(context.n_bits, self.slice_units, self.epsilon,
                                        context.generator).to(context.device)
        self.encoder_optimiser_ = torch.optim.Adam(self.encoder_.parameters(), lr=self.head_learning_rate)

    def activation(self, logits: torch.Tensor, context: TrainingContext) -> torch.Tensor:
        return self.encoder_(logits)

    def loss(self, outputs: torch.Tensor, labels: torch.Tensor, positions: torch.Tensor,
             context: TrainingContext) -> torch.Tensor:
        return triplet_ranking_loss(outputs, labels, self.margin)

    def after_step(self, outputs: torch.Tensor, context: TrainingContext) -> None:
        """The divide-and-encode units' step on the gradients the batch loss gave them."""
        self.encoder_optimiser_.step()
        self.encoder_optimiser_.zero_grad(set_to_none=True)

    def codes(self, outputs: torch.Tensor, context: TrainingContext) -> torch.Tensor:
        return sign(outputs - 0.5)
