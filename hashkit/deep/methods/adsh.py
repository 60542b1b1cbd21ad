"""ADSH: asymmetric deep supervised hashing {cite}`jiang2018adsh` (Jiang & Li, AAAI 2018)."""

from __future__ import annotations

import numpy as np
import torch

from hashkit.checks import check_non_negative
from hashkit.codes import sign
from hashkit.deep.method import TrainingContext
from hashkit.deep.methods.rounds import SampledRounds
from hashkit.deep.pair_losses import adsh_pair_loss, label_similarity, relaxed_hamming, squared_quantization

# Database rows per block when forming Sᵀ U: bounds the (block × m) similarity matrix (~32 MB at m = 2,000).
_SIMILARITY_BLOCK = 4096


def discrete_cyclic_update(codes: torch.Tensor, sample_outputs: torch.Tensor, sample_positions: torch.Tensor,
                           train_labels: torch.Tensor, gamma: float) -> torch.Tensor:
    """ADSH's update of the database codes ``V`` by discrete cyclic coordinate descent (its eqs. 7–9).

    With ``U`` the network outputs of the sampled items Ω (``sample_outputs``, ``m × c``), ``Ū``
    the ``n × c`` matrix holding ``U`` in the rows of Ω and 0 elsewhere, and ``S`` the ``m × n``
    similarities in {−1, +1}, the objective in ``V`` is ``‖V Uᵀ‖² + tr(Vᵀ Q)`` (constants dropped),
    ``Q = −2c Sᵀ U − 2γ Ū``. It is quadratic in the binary ``V``, so ADSH solves it one bit (column)
    at a time: for column ``k`` with the others fixed, the objective is linear,
    ``V_kᵀ (2 V̂_k Û_kᵀ U_k + Q_k)``, minimised by ``V_k = −sign(2 V̂_k Û_kᵀ U_k + Q_k)``
    (``V̂_k``, ``Û_k``: ``V``, ``U`` without column ``k``). The loop over bits is why ADSH's
    update grows with the code length — the claim FDAH's closed form answers.

    Returns the new ``V`` (float ±1, ``n × c``); ``codes`` may hold zeros before the first update.
    """
    n_bits = codes.shape[1]
    sample_labels = train_labels[sample_positions]
    column_sums = sample_outputs.sum(dim=0)
    targets = torch.empty_like(codes)
    for start in range(0, len(codes), _SIMILARITY_BLOCK):
        block = slice(start, start + _SIMILARITY_BLOCK)
        # S in {−1, +1} is 2·s − 1 with s in {0, 1}, so Sᵀ U = 2 sᵀ U − (column sums of U).
        shared = label_similarity(train_labels[block], sample_labels)
        targets[block] = -2 * n_bits * (2 * shared @ sample_outputs - column_sums)
    targets[sample_positions] -= 2 * gamma * sample_outputs
    gram = sample_outputs.T @ sample_outputs
    updated = codes.clone()
    for bit in range(n_bits):
        # V̂_k Û_kᵀ U_k = V (Uᵀ U)_k minus column k's own term.
        cross = updated @ gram[:, bit] - updated[:, bit] * gram[bit, bit]
        updated[:, bit] = -sign(2 * cross + targets[:, bit])
    return updated


class ADSH(SampledRounds):
    """Asymmetric pairs: network outputs of sampled items against learned codes of the whole database.

    Objective (ADSH eq. 4; MCH Table 1's ADSH row in inner-product form): with Ω the ``m`` sampled
    items, Γ all ``n`` training items (the database), ``u_i = tanh(F(x_i))`` and database codes
    ``V ∈ {−1, +1}^{n × c}`` (the attribute ``codes_``),
    ``Σ_{i∈Ω, j∈Γ} (u_iᵀ v_j − c s_ij)² + γ Σ_{i∈Ω} ‖v_i − u_i‖²``,
    ``s_ij ∈ {−1, +1}``. The network is trained on Ω only; ``V`` by
    :func:`discrete_cyclic_update`; the database is ranked by ``V``
    (:meth:`~hashkit.deep.engine.TrainedModel.codes_for_database`), queries by the network's codes.

    Schedule: ADSH's ``T_out`` rounds each draw a new Ω (:func:`hashkit.data.draw_round_sample`)
    and make ``T_in = epochs_per_round`` passes over it; after each pass ``V`` is updated (ADSH's
    Algorithm 1). The engine's ``epochs`` is ``T_out · T_in``. ``V`` starts with one update from the
    untrained network's outputs on the first round's sample (:class:`SampledRounds`).

    The loss of a batch of ``B`` items is the objective's sums over its ``B × n`` pairs and ``B``
    items divided by ``B · n`` (a mean over pairs plus ``γ / n`` times the mean quantisation error),
    so the learning rate does not depend on ``n``.

    Defaults are ADSH's: ``γ = 200``, ``m = 2,000``, ``T_in = 3`` (``T_out = 50`` → ``epochs=150``
    at paper scale; CPU runs use fewer rounds). Fine-tuning: all layers of CNN-F (``trainable="all"``).
    Learning rate: ADSH tunes it in [1e-6, 1e-2]; on the default backbone from scratch (60,000
    Fashion-MNIST items, 32 bits, 2 rounds, SmallCNN 16/32 channels) Adam at 1e-3 and 1e-4 gave the
    same mAP (0.53); before the start above and the engine's batch-norm calibration, 1e-3 drifted
    towards codes shared by several classes (0.37 against 0.47 at 1e-4).
    """

    name = "ADSH"

    def __init__(self, gamma: float = 200.0, sample_size: int = 2000, epochs_per_round: int = 3) -> None:
        super().__init__(sample_size, epochs_per_round)
        self.gamma = check_non_negative(gamma, "gamma")

    def loss(self, outputs: torch.Tensor, labels: torch.Tensor, positions: torch.Tensor,
             context: TrainingContext) -> torch.Tensor:
        similarity = label_similarity(labels, context.train_labels)
        pair_losses = adsh_pair_loss(relaxed_hamming(outputs, self.codes_), similarity, context.n_bits)
        quantization = squared_quantization(outputs, self.codes_[positions])
        return pair_losses.mean() + self.gamma / context.n_train * quantization.mean()

    def update(self, context: TrainingContext, sample: np.ndarray) -> None:
        sample_positions = torch.from_numpy(sample).to(context.device)
        self.codes_ = discrete_cyclic_update(self.codes_, context.encode_train(sample), sample_positions,
                                             context.train_labels, self.gamma)
