"""DSHC: deep supervised hashing by classification {cite}`luo2021dshc` (Luo, Guo, Ma, Li, Ju, Chen, Deng).

Hashing as classification. A single-label dataset's classes are split into sub-classes, each
with a code from a :class:`~hashkit.deep.codebooks.Codebook` (CPBC or KBC); the network is a
classifier over the sub-classes, and an image's code is the code of the sub-class it is assigned
(:class:`DSHC`). On a multi-label dataset the predicted multi-hot label vector *is* the code
(:class:`DSHCMultiLabel`).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch.nn import functional

from hashkit.checks import check_positive_int
from hashkit.codes import sign
from hashkit.deep.codebooks import Codebook
from hashkit.deep.method import HashingMethod, TrainingContext

TopKWeighting = Literal["uniform", "probability"]
TOP_K_WEIGHTINGS = ("uniform", "probability")
Target = Literal["paper", "normalised"]
TARGETS = ("paper", "normalised")


def subclass_codes(logits: torch.Tensor, codebook_codes: torch.Tensor, top_k: int = 1,
                   weighting: TopKWeighting = "uniform") -> torch.Tensor:
    """±1 codes from sub-class scores: the sign of the average of the ``top_k`` most probable
    sub-classes' codes (§3.3), weighted equally or by their probabilities; ``sign(0) = +1``.

    ``logits``: ``(items, n_subclasses)``; ``codebook_codes``: ``(n_subclasses, n_bits)`` ±1.
    """
    if top_k == 1:
        return codebook_codes[logits.argmax(dim=1)].to(logits.dtype)
    scores, chosen = logits.topk(top_k, dim=1)
    weights = torch.ones_like(scores) if weighting == "uniform" else torch.softmax(logits, dim=1).gather(1, chosen)
    return sign((weights.unsqueeze(2) * codebook_codes[chosen].to(logits.dtype)).sum(dim=1))


def check_top_k(top_k: int, codebook: Codebook) -> int:
    """``top_k`` as an int in 1..the codebook's sub-classes, or a ``ValueError`` naming it."""
    top_k = check_positive_int(top_k, "top_k")
    if top_k > codebook.n_subclasses:
        raise ValueError(f"top_k: {top_k} is more than the codebook's {codebook.n_subclasses} sub-classes "
                         f"({codebook.construction.upper()}, {codebook.n_bits} bits)")
    return top_k


class DSHC(HashingMethod):
    """A classifier over a codebook's sub-classes; a code is its top sub-classes' code (§3.3, eq. 2).

    Loss (eq. 2): cross-entropy of the softmax over every sub-class against a soft target that puts
    the codebook's weight (``1/H`` for CPBC) on each sub-class of the image's class and 0
    elsewhere. The targets are not normalised (they sum to ``(CH + 1)/H``, the paper's "1/H instead
    of 1/(CH+1) for computation"); ``target="normalised"`` makes them sum to 1. The loss never says
    which sub-class an image belongs to: the network spreads each class over its sub-classes.

    Codes (§3.3): "the top-K prediction probabilities are chosen … and the final hash code can be
    calculated by the average of K hash codes". ``top_k = 1`` (the most probable sub-class's code)
    is the default, as the paper's own recall at Hamming radius 0 implies: with ``K ≥ 3``
    sub-classes of one class averaged, every one-bit flip is outvoted and all images of a class get
    its centre, so recall at radius 0 would be near 1, not the 0.024 of §4.2 at 60 bits.

    Needs a single-label dataset whose classes are the codebook's.
    """

    name = "DSHC"

    def __init__(self, codebook: Codebook, top_k: int = 1, top_k_weighting: TopKWeighting = "uniform",
                 target: Target = "paper") -> None:
        if not isinstance(codebook, Codebook):
            raise TypeError(f"codebook: expected a Codebook, got {type(codebook).__name__}")
        if top_k_weighting not in TOP_K_WEIGHTINGS:
            raise ValueError(f"top_k_weighting: expected one of {', '.join(TOP_K_WEIGHTINGS)}, got {top_k_weighting!r}")
        if target not in TARGETS:
            raise ValueError(f"target: expected one of {', '.join(TARGETS)}, got {target!r}")
        self.codebook = codebook
        self.top_k = check_top_k(top_k, codebook)
        self.top_k_weighting = top_k_weighting
        self.target = target

    def output_width(self, n_bits: int, n_classes: int) -> int:
        if n_bits != self.codebook.n_bits or n_classes != self.codebook.n_classes:
            raise ValueError(f"n_bits: DSHC's codebook has {self.codebook.n_bits}-bit codes for "
                             f"{self.codebook.n_classes} classes; asked for {n_bits} bits on {n_classes} classes")
        return self.codebook.n_subclasses

    def begin(self, context: TrainingContext) -> None:
        labels = context.train_labels
        if not torch.all(labels.sum(dim=1) == 1):
            raise ValueError("DSHC: the single-label classifier needs one label per image; "
                             "use DSHCMultiLabel on a multi-label dataset")
        self.targets_ = torch.from_numpy(self.codebook.targets(normalised=self.target == "normalised")).to(context.device)
        self.codes_table_ = torch.from_numpy(self.codebook.codes).to(context.device)

    def activation(self, logits: torch.Tensor, context: TrainingContext) -> torch.Tensor:
        return logits

    def loss(self, outputs: torch.Tensor, labels: torch.Tensor, positions: torch.Tensor,
             context: TrainingContext) -> torch.Tensor:
        return functional.cross_entropy(outputs, labels @ self.targets_)

    def codes(self, outputs: torch.Tensor, context: TrainingContext) -> torch.Tensor:
        return subclass_codes(outputs, self.codes_table_, self.top_k, self.top_k_weighting)


class DSHCMultiLabel(HashingMethod):
    """One output per label, trained with the multi-label soft-margin loss; the code is the predicted labels.

    Loss (eq. 3, read with ``y ∈ {0, 1}`` and ``x`` the logits, as the formula — not its prose —
    says): ``−mean_c [y_c log σ(x_c) + (1 − y_c) log σ(−x_c)]``, PyTorch's
    ``multilabel_soft_margin_loss``. Code: ``sign(x)``, i.e. +1 for a predicted label. The code
    length is the number of labels (21 on NUS-WIDE). How the paper ranks these codes (0/1 codes,
    counting shared predicted labels) is :func:`hashkit.metrics.shared_positive_codes`.
    """

    name = "DSHC"

    def output_width(self, n_bits: int, n_classes: int) -> int:
        if n_bits != n_classes:
            raise ValueError(f"n_bits: the multi-label DSHC's code is its {n_classes} label outputs, so n_bits must be "
                             f"{n_classes}; got {n_bits}")
        return n_classes

    def activation(self, logits: torch.Tensor, context: TrainingContext) -> torch.Tensor:
        return logits

    def loss(self, outputs: torch.Tensor, labels: torch.Tensor, positions: torch.Tensor,
             context: TrainingContext) -> torch.Tensor:
        return functional.multilabel_soft_margin_loss(outputs, labels)
