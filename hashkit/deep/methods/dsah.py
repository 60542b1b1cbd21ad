"""DSAH: deep self-adaptive hashing {cite}`lin2021dsah` (Lin, Chen, Zhang, Tian, Chen, CIKM 2021).

Unsupervised. A ±1 similarity W over the training items, built once from label-free features
(W⁰, eqs. 7–9: :func:`hashkit.features.neighbourhood.shared_neighbour_similarity`), steers the
codes; between rounds, Adaptive Neighbour Discovery (AND, eqs. 10–12) turns into positives the
pairs whose learned codes have become as similar as the positives already are; Pairwise
Information Content (PIC, eqs. 13–16) weights each pair of a batch by how surprising it would be
to retrieve one image for the other.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import torch
from scipy import sparse
from torch.nn import functional

from hashkit.checks import check_non_negative, check_positive, check_positive_int
from hashkit.codes import sign
from hashkit.deep.method import HashingMethod, TrainingContext
from hashkit.features.neighbourhood import batch_similarity

Weighting = Literal["pic", "none", "negative", "constant"]
Quantisation = Literal["paper", "normalised"]
WEIGHTINGS = ("pic", "none", "negative", "constant")
QUANTISATIONS = ("paper", "normalised")
PIC_GRADIENTS = ("through", "detached")
# Rows of the training set whose similarities AND holds at once: the n × n cosine matrix is never formed.
AND_BLOCK = 1024


def pair_weights(cosines: torch.Tensor, weighting: Weighting, tau: float) -> torch.Tensor:
    """``(B, B)`` weights ``a_ij`` of a batch's pairs from their cosines ``s_ij`` (§5.4.1's variants).

    ``p`` is the softmax of ``s / τ`` over all ``B²`` pairs of the batch, the diagonal included
    (eq. 16, as the authors' code computes it). ``"pic"``: ``a = −log p`` (eq. 15), from
    ``log_softmax`` so that it stays finite at small τ; ``"none"`` (PIC⁰): ``a = 1``, eq. 3;
    ``"negative"`` (PIC⁻): ``a = −log(1 − p)``; ``"constant"``: every pair gets the batch's mean
    PIC weight, without gradient — PIC's scale without its re-weighting (a control the paper lacks).
    """
    if weighting == "none":
        return torch.ones_like(cosines)
    log_p = functional.log_softmax(cosines.flatten() / tau, dim=0).view_as(cosines)
    if weighting == "pic":
        return -log_p
    if weighting == "negative":
        return -torch.log1p(-log_p.exp())
    return (-log_p).mean().detach().expand_as(cosines)


def cosine_matrix(codes: torch.Tensor) -> torch.Tensor:
    """``(B, B)`` cosines of the rows of ``codes`` (eq. 4)."""
    unit = functional.normalize(codes, dim=1)
    return unit @ unit.T


def adaptive_neighbours(similarity: sparse.csr_matrix, codes: torch.Tensor, gamma: float
                        ) -> tuple[sparse.csr_matrix, dict[str, float]]:
    """One AND update (eqs. 10–12): ``similarity`` (the positive pairs, diagonal included) grown
    by every negative pair whose cosine is at least ``m = μ + γσ``, the mean and (population)
    standard deviation of the positive pairs' cosines. No pair ever returns to −1.

    ``codes``: ``(n, L)`` outputs of the training items. Returns the new positives and the
    round's ``n_positive``, ``mean``, ``std``, ``threshold`` and ``added`` pairs.
    """
    unit = functional.normalize(codes.float(), dim=1)
    n_items = len(unit)
    total, squares, count = 0.0, 0.0, similarity.nnz
    for start in range(0, n_items, AND_BLOCK):
        block = slice(start, min(start + AND_BLOCK, n_items))
        positive = torch.from_numpy(similarity[block].toarray())
        cosines = (unit[block] @ unit.T).double()[positive]
        total, squares = total + float(cosines.sum()), squares + float((cosines ** 2).sum())
    mean = total / count
    std = math.sqrt(max(squares / count - mean ** 2, 0.0))
    threshold = mean + gamma * std
    rows, cols = [], []
    for start in range(0, n_items, AND_BLOCK):
        block = slice(start, min(start + AND_BLOCK, n_items))
        positive = torch.from_numpy(similarity[block].toarray())
        found = torch.nonzero((unit[block] @ unit.T >= threshold) & ~positive)
        rows.append(found[:, 0].numpy() + start)
        cols.append(found[:, 1].numpy())
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    added = sparse.csr_matrix((np.ones(len(rows), dtype=bool), (rows, cols)), shape=similarity.shape)
    grown = (similarity + added).tocsr().astype(bool)
    return grown, {"n_positive": float(grown.nnz), "mean": mean, "std": std, "threshold": threshold,
                   "added": float(len(rows))}


class DSAH(HashingMethod):
    """DSAH {cite}`lin2021dsah`: eq. 17's loss on a similarity that AND refines between rounds.

    Per batch, with ``z = tanh(F(x))`` (eq. 5), ``s_ij = cos(z_i, z_j)`` (eq. 4) and ``w_ij`` ±1
    from the current similarity, the loss is ``mean_ij a_ij (s_ij − w_ij)² + λ mean (z − b)²`` over
    the batch's ``B²`` pairs and ``B × L`` entries, ``b = sgn(z)`` held constant (eq. 17 with means:
    the paper's λ = 10 fits the authors' code, which averages). ``weighting`` chooses ``a``
    (:func:`pair_weights`): ``"pic"`` is DSAH, ``"none"`` is PIC⁰ (= AND⁰ when ``adaptive`` is
    off), ``"negative"`` PIC⁻, ``"constant"`` the loss-scale control. ``pic_gradient="detached"``
    stops the gradient through ``a`` (the paper and the code let it through).
    ``quantisation="normalised"`` is the authors' code's ``mean (b − z/‖z‖)²`` instead of eq. 17's.

    Training runs in rounds of ``epochs_per_round`` epochs (the engine's epochs must be a
    multiple); after each round, with ``adaptive``, AND (:func:`adaptive_neighbours`) grows the
    similarity from the training items' outputs in eval mode, as Algorithm 1 does after the last
    round too. ``rounds_`` records each update; with ``keep_similarities`` the similarity of every
    round is kept in ``similarities_`` (W⁰ first), to be scored against labels afterwards.

    ``similarity``: the ``(n_train, n_train)`` boolean positives of W⁰ in the order of the
    training split; every other pair is −1. It is never read as a dense float matrix.
    """

    name = "DSAH"
    supervised = False

    def __init__(self, similarity: sparse.spmatrix, *, weighting: Weighting = "pic", adaptive: bool = True,
                 tau: float = 1.0, lam: float = 10.0, gamma: float = 1.0, epochs_per_round: int = 10,
                 pic_gradient: str = "through", quantisation: Quantisation = "paper",
                 keep_similarities: bool = False) -> None:
        if not sparse.issparse(similarity) or similarity.shape[0] != similarity.shape[1]:
            raise ValueError("similarity: expected a square scipy sparse matrix over the training items")
        for name, value, choices in (("weighting", weighting, WEIGHTINGS), ("quantisation", quantisation, QUANTISATIONS),
                                     ("pic_gradient", pic_gradient, PIC_GRADIENTS)):
            if value not in choices:
                raise ValueError(f"{name}: expected one of {', '.join(choices)}, got {value!r}")
        if not math.isfinite(gamma):
            raise ValueError(f"gamma: expected a finite number, got {gamma!r}")
        self.similarity = sparse.csr_matrix(similarity, dtype=bool)
        self.weighting = weighting
        self.adaptive = bool(adaptive)
        self.tau = check_positive(tau, "tau")
        self.lam = check_non_negative(lam, "lam")
        self.gamma = float(gamma)
        self.epochs_per_round = check_positive_int(epochs_per_round, "epochs_per_round")
        self.pic_gradient = pic_gradient
        self.quantisation = quantisation
        self.keep_similarities = bool(keep_similarities)

    def begin(self, context: TrainingContext) -> None:
        if self.similarity.shape[0] != context.n_train:
            raise ValueError(f"similarity: {self.similarity.shape[0]} items, but the training split has "
                             f"{context.n_train}")
        if context.n_epochs % self.epochs_per_round:
            raise ValueError(f"epochs: {context.n_epochs} is not a whole number of rounds of "
                             f"epochs_per_round = {self.epochs_per_round}")
        self.similarity_ = self.similarity.copy()
        self.rounds_: list[dict[str, float]] = []
        self.similarities_ = [self.similarity_] if self.keep_similarities else []

    def loss(self, outputs: torch.Tensor, labels: torch.Tensor, positions: torch.Tensor,
             context: TrainingContext) -> torch.Tensor:
        targets = batch_similarity(self.similarity_, positions.cpu().numpy()).to(outputs.device)
        cosines = cosine_matrix(outputs)
        weights = pair_weights(cosines, self.weighting, self.tau)
        if self.pic_gradient == "detached":
            weights = weights.detach()
        pairs = (weights * (cosines - targets) ** 2).mean()
        relaxed = functional.normalize(outputs, dim=1) if self.quantisation == "normalised" else outputs
        quantisation = ((relaxed - sign(outputs).detach()) ** 2).mean()
        context.record(pairs=pairs.item(), quantisation=quantisation.item(), mean_weight=weights.mean().item())
        return pairs + self.lam * quantisation

    def end_epoch(self, context: TrainingContext) -> None:
        if not self.adaptive or (context.epoch + 1) % self.epochs_per_round:
            return
        self.similarity_, update = adaptive_neighbours(self.similarity_, context.encode_train(), self.gamma)
        self.rounds_.append({"round": float(len(self.rounds_) + 1), **update})
        if self.keep_similarities:
            self.similarities_.append(self.similarity_)
