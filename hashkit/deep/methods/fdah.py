"""FDAH: fast deep asymmetric hashing {cite}`lin2021fdah` (Lin, Lai, Lu, Zhou, 2021).

Notation (the paper's, with ``l`` for the code length): ``n`` training items with multi-hot labels
``Y`` (``c × n``), codes ``B ∈ {−1, +1}^{l × n}`` learned for all of them; each round a query set
Ω of ``m`` training items with network outputs ``Ũ = tanh(F(Ω))`` (``l × m``); ``S_ij = +1`` when
item ``i`` and query ``j`` share a label, else ``−1``; ``A_ij = 1`` when they share a label, else
``0``; ``τ_j = Σ_i A_ij`` and ``Ã_ij = A_ij / τ_j`` (the class-imbalance weights ``1/τ_j``).

Objective (eqs. 2–4)::

    J = γ1 Σ_ij ((Wᵀ y_i)ᵀ ũ_j − l S_ij)²  +  γ2 Σ_ij Ã_ij ‖b_i − ũ_j‖²  +  γ3 Σ_i ‖b_i − Wᵀ y_i‖²

Updates, one round: the network by gradient steps on ``J`` over Ω (autograd; :func:`fdah_gradient`
is eq. 6 written out, and the tests check the two agree), then ``W`` in closed form
(:func:`regression_update`, eq. 7), then ``B`` in closed form, all bits at once
(:func:`code_update`, eq. 9) — no bit-by-bit DCC, which is the paper's point.

Every sum over the ``n`` training items goes through :class:`LabelGroups`: an item enters ``J``
through its labels and its code only, so a batch costs ``groups × batch`` (10 rows on single-label
data) rather than ADSH's ``n × batch``.

Two places where the printed equations and their derivation disagree; we follow the derivation:

* eq. 7 drops the factor ``l`` (the paper's ``c``) of ``l S`` in ``γ1 Y S Ũᵀ``: setting ``∂J/∂W = 0``
  gives ``W = (YYᵀ)⁻¹ (γ1 l Y S Ũᵀ + γ3 Y Bᵀ)(γ1 Ũ Ũᵀ + γ3 I)⁻¹``;
* eq. 6 has ``2 Wᵀ Y S̃`` inside ``2γ1(…)``; the gradient of eq. 5 has ``Wᵀ Y S̃`` there.

The paper writes ``c S_ij`` with ``c`` also the number of classes; the product ``b_iᵀ u_j`` lies in
``[−l, l]`` and FDAH's eq. 1 is ADSH's, where the scale is the code length, so ``c = l`` here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from hashkit.checks import check_non_negative
from hashkit.codes import sign
from hashkit.deep.method import TrainingContext
from hashkit.deep.methods.rounds import SampledRounds
from hashkit.deep.pair_losses import label_similarity

# Label groups per block when forming (groups × m) matrices: bounds memory when nearly every
# training item has its own label vector (~32 MB at m = 2,000).
_BLOCK = 4096
# Keeps (YYᵀ)⁻¹ defined when a class is absent from the training labels.
_LABEL_RIDGE = 1e-6


@dataclass(frozen=True)
class LabelGroups:
    """The training items grouped by label vector: every sum of FDAH over the ``n`` items runs over groups.

    ``S``, ``A`` and ``Wᵀy_i`` depend on an item only through its labels, so the items of a group
    contribute alike, and an ``n × m`` matrix shrinks to ``groups × m``: 10 rows on single-label
    data instead of 60,000. This is what the label regression buys (§2.2), and the sums are the
    same; only their order of addition differs.
    """

    labels: torch.Tensor  # the distinct label vectors, groups × c
    members: torch.Tensor  # each training item's group, n
    sizes: torch.Tensor  # items per group, float

    @classmethod
    def of(cls, train_labels: torch.Tensor) -> LabelGroups:
        labels, members, sizes = torch.unique(train_labels, dim=0, return_inverse=True, return_counts=True)
        return cls(labels, members, sizes.to(train_labels.dtype))

    def total(self, item_values: torch.Tensor) -> torch.Tensor:
        """Per group, the sum of ``item_values`` (``n × k``) over its items: ``groups × k``."""
        totals = torch.zeros((len(self.labels), item_values.shape[1]), dtype=item_values.dtype,
                             device=item_values.device)
        return totals.index_add_(0, self.members, item_values)


def affinity_sums(groups: LabelGroups, query_labels: torch.Tensor,
                  query_values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(A @ query_values, τ)`` per group, for ``A_ij`` = item ``i`` shares a label with query ``j``.

    ``query_values`` is ``m × k``; the first result is ``groups × k`` (a row holds for each of the
    group's items), the second the ``m`` counts ``τ_j`` over all items.
    """
    products = torch.empty((len(groups.labels), query_values.shape[1]), dtype=query_values.dtype,
                           device=query_values.device)
    counts = torch.zeros(len(query_labels), dtype=query_values.dtype, device=query_values.device)
    for start in range(0, len(groups.labels), _BLOCK):
        block = slice(start, start + _BLOCK)
        affinity = label_similarity(groups.labels[block], query_labels)
        products[block] = affinity @ query_values
        counts += groups.sizes[block] @ affinity
    return products, counts


def _label_gram(groups: LabelGroups) -> torch.Tensor:
    """``YYᵀ`` (``c × c``) with a tiny ridge, so that it stays invertible when a class is absent."""
    ridge = _LABEL_RIDGE * torch.eye(groups.labels.shape[1], dtype=groups.labels.dtype, device=groups.labels.device)
    return groups.labels.T @ (groups.sizes[:, None] * groups.labels) + ridge


def regression_update(groups: LabelGroups, codes: torch.Tensor, query_outputs: torch.Tensor,
                      query_labels: torch.Tensor, gamma1: float, gamma3: float) -> torch.Tensor:
    """Eq. 7 (with the factor ``l``, see the module docstring): the regression matrix ``W`` (``c × l``).

    ``groups`` the training items' :class:`LabelGroups`, ``codes`` ``B`` as ``n × l``,
    ``query_outputs`` ``Ũ`` as ``m × l``.
    """
    n_bits = codes.shape[1]
    # Y S Ũᵀ with S = 2A − 1: Yᵀ-weighted sums of (2 A Ũ − 1 (1ᵀ Ũ)), a group's rows taken together.
    affinity_outputs, _ = affinity_sums(groups, query_labels, query_outputs)
    similarity_outputs = groups.sizes[:, None] * (2 * affinity_outputs - query_outputs.sum(dim=0))
    right = gamma1 * n_bits * groups.labels.T @ similarity_outputs + gamma3 * groups.labels.T @ groups.total(codes)
    output_gram = gamma1 * query_outputs.T @ query_outputs + gamma3 * torch.eye(n_bits, dtype=codes.dtype,
                                                                                 device=codes.device)
    return torch.linalg.solve(_label_gram(groups), right) @ torch.linalg.inv(output_gram)


def code_update(groups: LabelGroups, regression: torch.Tensor, query_outputs: torch.Tensor,
                query_labels: torch.Tensor, gamma2: float, gamma3: float) -> torch.Tensor:
    """Eq. 9: ``B = sgn(γ2 Ũ Ãᵀ + γ3 Wᵀ Y)``, every bit at once, returned ``n × l`` (float ±1).

    The argument of ``sgn`` depends on an item only through its labels: one row per group, then
    each item takes its group's row."""
    _, counts = affinity_sums(groups, query_labels, query_outputs[:, :1])
    weighted_outputs, _ = affinity_sums(groups, query_labels, query_outputs / counts.clamp(min=1)[:, None])
    return sign(gamma2 * weighted_outputs + gamma3 * groups.labels @ regression)[groups.members]


def fdah_gradient(outputs: torch.Tensor, label_codes: torch.Tensor, codes: torch.Tensor, similarity: torch.Tensor,
                  weighted_affinity: torch.Tensor, gamma1: float, gamma2: float) -> torch.Tensor:
    """Eq. 6 (corrected, see the module docstring): ``∂J/∂Z`` for outputs ``Ũ = tanh(Z)``, as ``m × l``.

    ``outputs`` ``Ũ`` as ``m × l``, ``label_codes`` ``(WᵀY)ᵀ`` (``n × l``), ``codes`` ``B`` as ``n × l``,
    ``similarity`` ``S`` (``n × m``, in {−1, +1}), ``weighted_affinity`` ``Ã`` (``n × m``).
    """
    n_bits = outputs.shape[1]
    pair_term = label_codes.T @ (label_codes @ outputs.T - n_bits * similarity)
    quantisation_term = outputs.T - codes.T @ weighted_affinity
    return ((2 * gamma1 * pair_term + 2 * gamma2 * quantisation_term) * (1 - outputs.T ** 2)).T


class FDAH(SampledRounds):
    """Asymmetric: network outputs of a sampled query set against codes learned for every training item.

    See the module docstring for the objective and the three updates. Schedule as ADSH's, which
    FDAH adopts (§2.2): each round draws a new query set of ``sample_size = m`` training items
    (:func:`hashkit.data.draw_round_sample`), makes ``epochs_per_round`` gradient passes over it,
    updating ``W`` (``regression_``) and then ``B`` (``codes_``) after each pass, as ADSH updates its
    ``V``; the engine's ``epochs`` is rounds times ``epochs_per_round``. The database is ranked by
    the learned ``B``, queries by the network's codes.

    The loss of a batch is the objective's terms for the batch's queries (summed over all ``n``
    training items, as in the paper, so γ1 and γ2 keep the paper's balance), averaged over the
    batch. The start (left open by the paper) is :class:`SampledRounds`': one B step and one W step
    on the first round's query set before any gradient step (:meth:`update`).

    Defaults are the paper's (§3.1): ``γ1 = 1e-3``, ``γ2 = 10``, ``γ3 = 1``, ``m = 2,000``; three
    passes per round as ADSH (150 iterations in all at paper scale; CPU runs use fewer rounds).
    """

    name = "FDAH"
    # Learned state besides SampledRounds': the regression matrix W (c × l), the training items'
    # label groups and, per group, the sum of its items' codes (what the loss needs of B).
    regression_: torch.Tensor | None
    label_groups_: LabelGroups
    code_totals_: torch.Tensor

    def __init__(self, gamma1: float = 1e-3, gamma2: float = 10.0, gamma3: float = 1.0,
                 sample_size: int = 2000, epochs_per_round: int = 3) -> None:
        super().__init__(sample_size, epochs_per_round)
        self.gamma1 = check_non_negative(gamma1, "gamma1")
        self.gamma2 = check_non_negative(gamma2, "gamma2")
        self.gamma3 = check_non_negative(gamma3, "gamma3")
        if self.gamma3 == 0:
            raise ValueError("gamma3: expected a positive number (eq. 7 inverts γ1 ŨŨᵀ + γ3 I), got 0")

    def begin(self, context: TrainingContext) -> None:
        self.regression_ = None  # no W before the first update, which therefore starts from B
        self.label_groups_ = LabelGroups.of(context.train_labels)
        super().begin(context)

    def loss(self, outputs: torch.Tensor, labels: torch.Tensor, positions: torch.Tensor,
             context: TrainingContext) -> torch.Tensor:
        n_bits, groups = context.n_bits, self.label_groups_
        affinity = label_similarity(groups.labels, labels)
        label_codes = groups.labels @ self.regression_
        pair_term = (groups.sizes[:, None] * (label_codes @ outputs.T - n_bits * (2 * affinity - 1)) ** 2).sum(dim=0)
        # Σ_i Ã_ij ‖b_i − ũ_j‖² = l − 2 b̄_jᵀ ũ_j + ‖ũ_j‖², b̄_j the mean code of the items sharing a label with j.
        mean_codes = (affinity.T @ self.code_totals_) / (affinity.T @ groups.sizes).clamp(min=1)[:, None]
        quantisation_term = n_bits - 2 * (mean_codes * outputs).sum(dim=1) + (outputs ** 2).sum(dim=1)
        return (self.gamma1 * pair_term + self.gamma2 * quantisation_term).mean()

    def update(self, context: TrainingContext, sample: np.ndarray) -> None:
        """W by eq. 7, then B by eq. 9, from the network's outputs on ``sample``.

        The first time (no W yet) the order is turned round: B by eq. 9 with ``W = 0``, i.e. each
        item takes the sign of the mean output of the sampled queries sharing its labels; then W.
        """
        query_outputs = context.encode_train(sample)
        query_labels = context.train_labels[torch.from_numpy(sample).to(context.device)]
        groups = self.label_groups_
        starting = self.regression_ is None
        if starting:
            no_regression = torch.zeros((context.train_labels.shape[1], context.n_bits), device=context.device)
            self.codes_ = code_update(groups, no_regression, query_outputs, query_labels, self.gamma2, self.gamma3)
        self.regression_ = regression_update(groups, self.codes_, query_outputs, query_labels,
                                             self.gamma1, self.gamma3)
        if not starting:
            self.codes_ = code_update(groups, self.regression_, query_outputs, query_labels, self.gamma2, self.gamma3)
        self.code_totals_ = groups.total(self.codes_)
