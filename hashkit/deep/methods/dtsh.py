"""DTSH: deep supervised hashing with triplet labels {cite}`wang2016dtsh` (Wang, Shi, Kitani, ACCV 2016)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from hashkit.checks import check_non_negative, check_positive_int
from hashkit.deep.method import HashingMethod, TrainingContext
from hashkit.deep.pair_losses import squared_quantization


def triplet_loss(anchors: torch.Tensor, positives: torch.Tensor, negatives: torch.Tensor,
                 margin: float) -> torch.Tensor:
    """DTSH's loss of each triplet: ``softplus(−(Θ_qp − Θ_qn − α))`` with ``Θ_ij = ½ u_iᵀ u_j``.

    This is the negative log-likelihood ``−log σ(Θ_qp − Θ_qn − α)`` of the triplet label "``q`` is
    closer to ``p`` than to ``n``", written with ``softplus`` so that it cannot overflow. The three
    ``(..., n_bits)`` tensors broadcast over their leading dimensions, so that ``M₁`` positives
    ``(B, G, M₁, 1, Q)`` against ``M₂`` negatives ``(B, G, 1, M₂, Q)`` give the ``M₁ × M₂`` triplets
    of every group without forming a ``(B, G, M₁, M₂, Q)`` tensor. Returns the unreduced losses in
    the broadcast shape without the last dimension.
    """
    theta_positive = 0.5 * (anchors * positives).sum(dim=-1)
    theta_negative = 0.5 * (anchors * negatives).sum(dim=-1)
    return F.softplus(-(theta_positive - theta_negative - margin))


@dataclass
class Triplets:
    """The triplets of a batch's anchors, ``G`` groups of ``M₁`` positives × ``M₂`` negatives each.

    Attributes:
        positives: ``(B, G, M₁)`` positions in the training split of each group's positives.
        negatives: ``(B, G, M₂)`` positions of each group's negatives.
        valid: ``(B, G)``; ``False`` where the group has no positive or no negative to draw (its
            position entries are then placeholders and its triplets must weigh 0).
    """

    positives: torch.Tensor
    negatives: torch.Tensor
    valid: torch.Tensor


def _draw(blocked: torch.Tensor, count: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``count`` columns per row of a ``(rows, n)`` mask, drawn from ``generator`` among the unblocked ones.

    Each row's candidates (``blocked`` false) are put in a uniformly random order (random keys;
    the blocked columns' keys come after every candidate's) and the first ``count`` are taken:
    without replacement when the row has at least ``count`` candidates; with fewer, the random
    order is repeated cyclically. Returns the ``(rows, count)`` columns and whether each row had a
    candidate at all; a row without one gets placeholder columns that the caller must not use.
    """
    rows, n = blocked.shape
    if n == 0:
        return (torch.zeros((rows, count), dtype=torch.int64, device=blocked.device),
                torch.zeros(rows, dtype=torch.bool, device=blocked.device))
    keys = torch.rand((rows, n), generator=generator).to(blocked.device)
    keys.masked_fill_(blocked, 2.0)
    values, order = torch.topk(keys, min(count, n), dim=1, largest=False, sorted=True)
    # Candidates among the first min(count, n): all of a row's candidates when it has fewer.
    drawable = (values < 2.0).sum(dim=1, keepdim=True)
    slots = torch.arange(count, device=blocked.device).expand(rows, count) % drawable.clamp_min(1)
    return order.gather(1, slots), drawable.squeeze(1) > 0


def sample_triplets(anchor_labels: torch.Tensor, train_labels: torch.Tensor, excluded: torch.Tensor,
                    positives: int, negatives: int, generator: torch.Generator,
                    negative_groups: int | None = None) -> Triplets:
    """Draw the triplets of a batch's anchors among the training items, as DTSH's ``tripletSampling.m``.

    ``anchor_labels``: ``(B, C)`` multi-hot labels of the anchors; ``train_labels``: ``(n, C)`` of
    the training items; ``excluded``: positions never drawn (the batch itself, as in the authors'
    code, which also keeps an anchor from being its own positive). A positive shares at least one
    label with the anchor, a negative none.

    Groups (``negative_groups=None``, the authors' rule): one group per label column ``c``; its
    negatives are drawn among the items that carry label ``c`` and share no label with the anchor,
    so the groups of the anchor's own labels are empty. On single-label data this is the authors'
    scheme exactly: one group per other class, negatives from that class. On multi-label data an
    anchor gets one group per label it lacks, less those whose every item shares a label with it.
    With ``negative_groups = k``, every anchor instead gets ``k`` groups whose negatives are drawn
    among all items sharing no label with it.

    Each group holds ``positives × negatives`` triplets (every drawn positive against every drawn
    negative). An anchor's positives for all its groups are drawn together without replacement
    (the authors redraw them per group, so one positive may recur across groups; each group's
    positives are a uniform sample either way). Draws repeat cyclically only when there are fewer
    candidates than draws. Everything is vectorised; the only Python loop is over label columns.
    """
    device = train_labels.device
    n_anchors, n_labels = anchor_labels.shape
    available = torch.ones(len(train_labels), dtype=torch.bool, device=device)
    available[excluded] = False
    n_groups = n_labels if negative_groups is None else negative_groups

    shared = anchor_labels @ train_labels.T
    shared[:, excluded] = 0
    drawn, has_positive = _draw(shared == 0, n_groups * positives, generator)
    drawn = drawn.view(n_anchors, n_groups, positives)
    if negative_groups is None:
        negative_positions, has_negative = [], []
        for label in range(n_labels):
            members = torch.nonzero((train_labels[:, label] > 0) & available).squeeze(1)
            columns, found = _draw(anchor_labels @ train_labels[members].T > 0, negatives, generator)
            negative_positions.append(members[columns] if len(members) else columns)
            has_negative.append(found)
        negative_positions = torch.stack(negative_positions, dim=1)
        valid = torch.stack(has_negative, dim=1) & has_positive[:, None]
    else:
        members = torch.nonzero(available).squeeze(1)
        columns, found = _draw(anchor_labels @ train_labels[members].T > 0, n_groups * negatives, generator)
        negative_positions = members[columns].view(n_anchors, n_groups, negatives)
        valid = (found & has_positive)[:, None].expand(n_anchors, n_groups)
    return Triplets(positives=drawn, negatives=negative_positions, valid=valid)


class DTSH(HashingMethod):
    """The likelihood of triplet labels on the network's raw outputs, plus a quantisation penalty.

    Definition from the authors' MATLAB code (github.com/Minione/DTSH: ``DTSH.m``,
    ``train_triplet.m``, ``tripletSampling.m``, ``update.m``), which hashkit follows. With
    ``Θ_ij = ½ u_iᵀ u_j`` on the hashing layer's raw output ``u`` (no squashing function) and
    ``b = sign(u)``, the objective over triplets ``(q, p, n)`` — ``p`` similar to the anchor ``q``,
    ``n`` dissimilar — is

        ``J = Σ_triplets softplus(−(Θ_qp − Θ_qn − α)) + η Σ_anchors ‖u_q − b_q‖²``

    (:func:`triplet_loss`). The authors' gradient is ``Σ (1 − σ)(u_p − u_n) − 4η (u − b)`` with
    ``σ = σ(Θ_qp − Θ_qn − α)``: their likelihood gradient omits the ``½`` of ``Θ``, and ``4η`` is
    twice ``d/du η‖u − b‖²``, so their step is ``2 ∇J`` — the gradient of this ``J`` with their
    ``η``, scaled by 2.

    Defaults (the authors' code): margin ``α = n_bits / 2`` (``DTSH.m`` passes ``codelens / 2``;
    ``margin=None`` means that), ``η = 100``, ``positives = negatives = 50`` per group.

    Triplets (:func:`sample_triplets`): for each anchor of the batch and each other class, 50
    positives × 50 negatives from that class, drawn among the training items outside the batch —
    22,500 triplets per anchor on 10 classes. Multi-label data: a positive shares a label with
    the anchor, a negative shares none; one group per label the anchor lacks, its negatives among
    the items carrying that label (``negative_groups=k`` instead draws ``k`` groups among all
    dissimilar items). Draws come from the run's generator (``context.generator``), so a seed
    gives the same triplets. The positives' and negatives' outputs come from a memory ``memory_``
    of the latest outputs of all training items (updated with the batch's outputs, detached), so
    the gradient reaches the anchor only, as in the authors' code. The memory starts as the
    untrained network's outputs, as hashkit's DPSH does, rather than the authors' zeros (with which
    no triplet has a gradient until its items have been seen once). An anchor with no positive or
    no negative (a group with none) weighs 0: its triplets add nothing, the loss stays finite.

    Scaling: the loss of a batch of ``B`` anchors is ``J / (B · K)``, where ``K`` is the number of
    triplets an anchor has by design, ``positives · negatives · (C − 1)`` (``C`` label columns) or
    ``positives · negatives · negative_groups``. On single-label data with every anchor valid it
    is the mean over the batch's triplets plus ``η / K`` times the mean quantisation error, which
    keeps the authors' balance (each anchor has ``K`` likelihood terms and one quantisation term)
    for any ``positives`` and ``negatives``. The authors divide their step ``2 ∇J`` by
    ``128 · N`` (batch size × training images, ``update.m``) with plain SGD at ``lr = 5e-4``, so
    plain SGD here takes their steps at ``lr · 2K / N`` (on their CIFAR-10 example, ``N = 5,000``,
    ``K = 22,500``: 4.5e-3); under Adam, the engine's default, only the balance matters.

    Difference from DeepHash-pytorch's ``DTSH.py``: it forms each anchor's (positive, negative)
    pairs within the batch (the anchor among its own positives), uses the full inner product
    ``uᵀu`` (no ``½``), ``α = 5`` whatever the code length, and ``λ = 1`` on the quantisation
    error averaged over entries; it also keeps the epoch of best test mAP. hashkit follows the
    authors' code. Codes of new items are
    ``sign(u)`` from the network (a symmetric method).
    """

    name = "DTSH"
    # Learned state: the memory of the latest outputs of every training item (n × bits).
    memory_: torch.Tensor

    def __init__(self, margin: float | None = None, eta: float = 100.0, positives: int = 50, negatives: int = 50,
                 negative_groups: int | None = None) -> None:
        self.margin = None if margin is None else check_non_negative(margin, "margin")
        self.eta = check_non_negative(eta, "eta")
        self.positives = check_positive_int(positives, "positives")
        self.negatives = check_positive_int(negatives, "negatives")
        self.negative_groups = None if negative_groups is None else check_positive_int(negative_groups,
                                                                                       "negative_groups")

    def margin_for(self, n_bits: int) -> float:
        """``α``: the given margin, or ``n_bits / 2`` (the authors' ``codelens / 2``)."""
        return n_bits / 2 if self.margin is None else self.margin

    def triplets_per_anchor(self, n_labels: int) -> int:
        """``K``, the triplets an anchor has by design (the loss's scale, see the class docstring)."""
        groups = max(n_labels - 1, 1) if self.negative_groups is None else self.negative_groups
        return groups * self.positives * self.negatives

    def begin(self, context: TrainingContext) -> None:
        self.memory_ = context.encode_train()

    def activation(self, logits: torch.Tensor, context: TrainingContext) -> torch.Tensor:
        return logits

    def loss(self, outputs: torch.Tensor, labels: torch.Tensor, positions: torch.Tensor,
             context: TrainingContext) -> torch.Tensor:
        self.memory_[positions] = outputs.detach()
        triplets = sample_triplets(labels, context.train_labels, positions, self.positives, self.negatives,
                                   context.generator, self.negative_groups)
        losses = triplet_loss(outputs[:, None, None, None, :],
                              self.memory_[triplets.positives][:, :, :, None, :],
                              self.memory_[triplets.negatives][:, :, None, :, :],
                              self.margin_for(context.n_bits))
        likelihood = torch.where(triplets.valid[:, :, None, None], losses, torch.zeros_like(losses)).sum()
        scale = len(outputs) * self.triplets_per_anchor(labels.shape[1])
        return (likelihood + self.eta * squared_quantization(outputs).sum()) / scale
