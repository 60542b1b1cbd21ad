"""MCH's Table 1, written once: the pairwise losses of KSH, HashNet, ADSH, DCH and MMHH, their
relaxations of ``sign`` and their regularisers, as vectorised functions of relaxed codes.

MCH (``papers/mch.md`` §4.1) writes every base model as ``sum_ij L(d_ij, s_ij)`` with ``d_ij`` the
Hamming distance ``(Q - b_i^T b_j) / 2`` and ``s_ij`` in {0, 1}. The losses here take the
*distances*, not the codes, because MCH's reward (its eq. 6) evaluates the same ``L`` at another
distance, ``d*_ij = min(d(b_i, b_j), d(b*_i, b_j))``. Get distances from relaxed codes with
:func:`relaxed_hamming` (``(Q - u_i^T u_j) / 2``; KSH, HashNet, ADSH) or :func:`cosine_hamming`
(``Q/2 (1 - cos(u_i, u_j))``, DCH's normalised distance, also used by MMHH), similarities with
:func:`label_similarity`, and the pair weights ``w_ij`` of HashNet, DCH and MMHH with
:func:`pair_weights`.

Every ``*_pair_loss`` works entry by entry and returns the per-pair losses in the shape of its
``distances`` (an ``(n, m)`` matrix, or the flat pairs a batch keeps, :func:`off_diagonal`),
unreduced: a training step averages them, MCH sums rows of them. Every regulariser returns one
value per item.

MCH's Table 1, row by row (``a`` = alpha, ``g`` = gamma, ``H`` = radius):

* KSH: ``((Q - 2d)/Q - (2s - 1))^2``; sigmoid relaxation; no regulariser.
* HashNet: ``w (log(1 + exp(a (Q - 2d))) - s a (Q - 2d))``; tanh relaxation; no regulariser.
* ADSH: ``((Q - 2d) - Q (2s - 1))^2``; continuous relaxation; ``||b - u||^2``.
* DCH: ``w (s log(d/g) + log(1 + g/d))``; continuous relaxation; ``log(1 + Q/(2g) (1 - cos(b, u)))``.
* MMHH: ``w (s log(1 + max(0, d - H)) + (1 - s) log(1 + 1/max(H, d)))``; continuous relaxation;
  ``||b - u||^2``.
"""

from __future__ import annotations

from numbers import Real

import torch
import torch.nn.functional as F

from hashkit.checks import check_positive
from hashkit.codes import sign

# DCH's loss has log(1 + g / d): a dissimilar pair at distance 0 would cost infinity. The distance
# is floored here (in bits), as the authors' code floors the cosine it is computed from.
MIN_CAUCHY_DISTANCE = 1e-2


def check_radius(radius: float, n_bits: int) -> float:
    """MMHH's Hamming-ball radius ``H``: strictly inside (0, n_bits), else a ``ValueError`` naming it.

    ``H = 0`` would make a dissimilar pair at distance 0 cost ``log(1 + 1/0)``; ``H >= Q`` puts every
    pair inside the ball, where similar pairs cost nothing and the loss has no gradient.
    """
    if isinstance(radius, bool) or not isinstance(radius, Real) or not 0 < radius < n_bits:
        raise ValueError(f"radius: expected a Hamming radius H with 0 < H < n_bits={n_bits}, got {radius!r}")
    return float(radius)


def label_similarity(labels_a: torch.Tensor, labels_b: torch.Tensor) -> torch.Tensor:
    """``s_ij``: 1.0 where multi-hot rows ``labels_a[i]`` and ``labels_b[j]`` share a label, else 0.0."""
    return (labels_a @ labels_b.T > 0).to(labels_a.dtype)


def label_overlap(labels_a: torch.Tensor, labels_b: torch.Tensor) -> torch.Tensor:
    """HashNet's ``c_ij`` for multi-label data: shared labels over the union of labels (Jaccard).

    For single-label data it is 1 on every similar pair, so it can always be passed.
    """
    shared = labels_a @ labels_b.T
    union = labels_a.sum(dim=1, keepdim=True) + labels_b.sum(dim=1) - shared
    return shared / union.clamp_min(1)


def pair_weights(similarity: torch.Tensor, overlap: torch.Tensor | None = None, dim: int | None = None) -> torch.Tensor:
    """``w_ij`` of HashNet (its eq. 2), DCH and MMHH: similar and dissimilar pairs weigh the same in total.

    ``w_ij = |S| / |S_1|`` on similar pairs and ``|S| / |S_0|`` on dissimilar ones, where ``S`` is
    the set of pairs given and ``S_1`` / ``S_0`` its similar / dissimilar parts; similar pairs are
    further multiplied by ``overlap`` (HashNet's ``c_ij``, :func:`label_overlap`) when given. Without
    any similar (or dissimilar) pair, the other kind gets weight 1. Each kind's weights add up to
    ``|S|``, so ``mean(w * L)`` is the sum of the two kinds' mean losses. Works on pairs of any
    shape: pass only the pairs that count (e.g. a batch's off-diagonal ones). ``dim`` balances
    each slice along it on its own (MCH's reward: each database item's row of pairs).
    """
    if dim is None:
        n_pairs = torch.tensor(float(similarity.numel()))
        n_similar = similarity.sum()
    else:
        n_pairs = torch.tensor(float(similarity.shape[dim]))
        n_similar = similarity.sum(dim=dim, keepdim=True)
    one_kind = (n_similar == 0) | (n_similar == n_pairs)
    similar_weight = n_pairs / n_similar.clamp_min(1)
    if overlap is not None:
        similar_weight = similar_weight * overlap
    weights = similarity * similar_weight + (1 - similarity) * (n_pairs / (n_pairs - n_similar).clamp_min(1))
    return torch.where(one_kind, torch.ones_like(weights), weights)


def off_diagonal(matrix: torch.Tensor) -> torch.Tensor:
    """The entries ``(i, j)``, ``i != j``, of a square pair matrix, flattened.

    A batch paired with itself holds each item's pair with itself, which carries no information
    (and, at distance 0, would dominate DCH's loss).
    """
    return matrix[~torch.eye(len(matrix), dtype=torch.bool, device=matrix.device)]


def relaxed_hamming(codes_a: torch.Tensor, codes_b: torch.Tensor) -> torch.Tensor:
    """``d_ij = (Q - u_i^T u_j) / 2``: MCH's eq. (1) on relaxed codes (exact on ±1 codes)."""
    return 0.5 * (codes_a.shape[1] - codes_a @ codes_b.T)


def cosine_hamming(codes_a: torch.Tensor, codes_b: torch.Tensor) -> torch.Tensor:
    """``d_ij = Q/2 (1 - cos(u_i, u_j))``: DCH's normalised distance (its eq. 6), exact on ±1 codes.

    Unlike :func:`relaxed_hamming` it ignores the codes' norms, so it stays in [0, Q] for any
    relaxation.
    """
    cosine = F.normalize(codes_a, dim=1) @ F.normalize(codes_b, dim=1).T
    return 0.5 * codes_a.shape[1] * (1 - cosine)


def sigmoid_smoothing(logits: torch.Tensor) -> torch.Tensor:
    """KSH's relaxation of ``sign``: ``2 / (1 + exp(-x)) - 1``, a sigmoid stretched to (-1, 1)."""
    return 2 * torch.sigmoid(logits) - 1


def tanh_smoothing(logits: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
    """HashNet's relaxation of ``sign``: ``tanh(beta * x)``, which tends to ``sign(x)`` as beta grows."""
    return torch.tanh(beta * logits)


def ksh_pair_loss(distances: torch.Tensor, similarity: torch.Tensor, n_bits: int) -> torch.Tensor:
    """KSH: ``((Q - 2 d) / Q - (2 s - 1))^2``, the code inner product over Q regressed onto ±1."""
    return ((n_bits - 2 * distances) / n_bits - (2 * similarity - 1)) ** 2


def hashnet_pair_loss(distances: torch.Tensor, similarity: torch.Tensor, n_bits: int, alpha: float,
                      weights: torch.Tensor | None = None) -> torch.Tensor:
    """HashNet: ``w (log(1 + exp(a (Q - 2 d))) - s a (Q - 2 d))``, a weighted pairwise logistic loss.

    ``Q - 2 d`` is the inner product ``u_i^T u_j``; ``alpha`` (HashNet's adaptive sigmoid parameter,
    10 / Q in the authors' code) scales it. ``softplus`` computes ``log(1 + exp(.))`` without
    overflow. With ``alpha = 1/2`` and no weights this is DPSH's and DSDH's negative log-likelihood.
    """
    alpha = check_positive(alpha, "alpha")
    inner = alpha * (n_bits - 2 * distances)
    loss = F.softplus(inner) - similarity * inner
    return loss if weights is None else weights * loss


def adsh_pair_loss(distances: torch.Tensor, similarity: torch.Tensor, n_bits: int) -> torch.Tensor:
    """ADSH: ``((Q - 2 d) - Q (2 s - 1))^2``, the inner product regressed onto ±Q."""
    return ((n_bits - 2 * distances) - n_bits * (2 * similarity - 1)) ** 2


def dch_pair_loss(distances: torch.Tensor, similarity: torch.Tensor, gamma: float,
                  weights: torch.Tensor | None = None) -> torch.Tensor:
    """DCH: ``w (s log(d / g) + log(1 + g / d))``, the cross-entropy of a Cauchy similarity ``g / (g + d)``.

    For ``s`` in {0, 1} the two logarithms of a similar pair add up to ``log(1 + d / g)``; it is
    computed in that form, which stays finite as ``d`` goes to 0; in a dissimilar pair's term the
    distance is floored at :data:`MIN_CAUCHY_DISTANCE`, so an identical dissimilar pair costs a
    large but finite amount.
    """
    gamma = check_positive(gamma, "gamma")
    similar_loss = torch.log1p(distances / gamma)
    dissimilar_loss = torch.log1p(gamma / distances.clamp_min(MIN_CAUCHY_DISTANCE))
    loss = similarity * similar_loss + (1 - similarity) * dissimilar_loss
    return loss if weights is None else weights * loss


def mmhh_pair_loss(distances: torch.Tensor, similarity: torch.Tensor, radius: float,
                   weights: torch.Tensor | None = None) -> torch.Tensor:
    """MMHH: ``w (s log(1 + max(0, d - H)) + (1 - s) log(1 + 1 / max(H, d)))``.

    A t-distribution with a Hamming ball of radius ``H``: similar pairs inside the ball cost
    nothing, dissimilar pairs cost at most ``log(1 + 1/H)``, reached inside the ball.
    """
    radius = check_positive(radius, "radius")
    similar_loss = torch.log1p((distances - radius).clamp_min(0))
    dissimilar_loss = torch.log1p(1 / distances.clamp_min(radius))
    loss = similarity * similar_loss + (1 - similarity) * dissimilar_loss
    return loss if weights is None else weights * loss


def squared_quantization(codes: torch.Tensor, binary: torch.Tensor | None = None) -> torch.Tensor:
    """ADSH's and MMHH's regulariser ``||b_i - u_i||^2`` per item; ``b = sign(u)`` unless ``binary`` is given.

    ``binary`` holds learned codes when a method keeps them (ADSH's ``V``, DSDH's ``B``).
    """
    target = sign(codes.detach()) if binary is None else binary
    return ((target - codes) ** 2).sum(dim=1)


def cauchy_quantization(codes: torch.Tensor, gamma: float) -> torch.Tensor:
    """DCH's regulariser ``log(1 + Q/(2 g) (1 - cos(b_i, u_i)))`` per item, with ``b = sign(u)``."""
    gamma = check_positive(gamma, "gamma")
    cosine = F.cosine_similarity(sign(codes.detach()), codes, dim=1)
    return torch.log1p(codes.shape[1] / (2 * gamma) * (1 - cosine))
