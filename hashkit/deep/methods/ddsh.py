"""DDSH: deep discrete supervised hashing {cite}`jiang2018ddsh` (Jiang, Cui, Li, TIP 2018)."""

from __future__ import annotations

import torch

from hashkit.checks import check_positive_int
from hashkit.codes import sign
from hashkit.deep.method import HashingMethod, TrainingContext
from hashkit.deep.pair_losses import adsh_pair_loss, label_similarity, relaxed_hamming


class DDSH(HashingMethod):
    """Discrete codes of a sampled column set learned from the pairwise labels; the network fits them.

    Objective: ``Σ_{i∈Ω} Σ_{j∈Γ} (b_iᵀ h_j − Q S_ij)² + Σ_{i,j∈Ω} (b_iᵀ b_j − Q S_ij)²`` with
    ``S_ij = ±1`` (shared label or not), ``Ω`` a sample of the training items whose codes ``b_i``
    are discrete variables, ``Γ`` the other training items, and ``h_j = sign(F(x_j))`` the
    network's codes. The supervision thus guides both the discrete coding (``B_Ω``) and the feature
    learning (``F``). Alternating, one round per epoch:

    * discrete coding (``begin``, then after each epoch but the last): draw ``Ω`` anew from the
      run's generator, start from ``b_i = sign(u_i)`` (random codes before any training) and
      update ``B_Ω`` bit by bit, ``bit_sweeps`` times over the bits. The objective in bit ``k``,
      ``b ∈ {−1, 1}^{|Ω|}``, is ``−2 bᵀ f − 2 bᵀ R b`` plus constants, with ``f`` from the
      ``Ω × Γ`` term and ``R`` the off-diagonal residual of the ``Ω × Ω`` term: a binary
      quadratic problem, which is linearised at the current bit, ``b ← sign(f + 2 R b)``, keeping
      the new bit only if it lowers the objective. The ``Ω × Γ`` term sees the network's relaxed
      codes ``u_j = tanh(z_j)`` in place of ``h_j``: the eval-mode outputs of an untrained
      network are near 0 but their signs are nearly the same for every image, which would lock
      ``B_Ω`` onto one code; near-zero ``u_j`` instead leave the first codes to the labels of
      ``Ω``, and ``u_j`` weigh more as the network grows confident.
    * feature learning (the epoch's batches): each batch item ``j`` against every code of ``Ω``,
      ``mean (b_iᵀ u_j − Q S_ij)² / Q²`` with ``u = tanh(z)``: ADSH's pair loss (MCH Table 1)
      between the learned codes and the relaxed outputs, divided by ``Q²`` so that its scale does
      not grow with the code length. An item of ``Ω`` meets its own code (``S_ii = 1``), which
      pulls ``u_i`` onto ``b_i``.

    Defaults: ``|Ω| = 1000`` items (capped at the training set), ``bit_sweeps = 3``. Codes of new
    items are ``sign(u)`` from the network (a symmetric method).
    """

    name = "DDSH"
    # Learned state, redrawn each round: the positions of Ω and their codes B_Ω.
    sampled_: torch.Tensor
    sampled_codes_: torch.Tensor

    def __init__(self, sample_size: int = 1000, bit_sweeps: int = 3) -> None:
        self.sample_size = check_positive_int(sample_size, "sample_size")
        self.bit_sweeps = check_positive_int(bit_sweeps, "bit_sweeps")

    def begin(self, context: TrainingContext) -> None:
        self._discrete_coding(context, from_network=False)

    def loss(self, outputs: torch.Tensor, labels: torch.Tensor, positions: torch.Tensor,
             context: TrainingContext) -> torch.Tensor:
        similarity = label_similarity(labels, context.train_labels[self.sampled_])
        distances = relaxed_hamming(outputs, self.sampled_codes_)
        return adsh_pair_loss(distances, similarity, context.n_bits).mean() / context.n_bits**2

    def end_epoch(self, context: TrainingContext) -> None:
        if context.epoch + 1 < context.n_epochs:
            self._discrete_coding(context, from_network=True)

    def _discrete_coding(self, context: TrainingContext, from_network: bool) -> None:
        """Draw ``Ω`` and learn its codes ``B_Ω`` bit by bit against the network's relaxed codes of ``Γ``.

        ``B_Ω`` starts from the network's codes of ``Ω``, or, before any training
        (``from_network=False``), from random codes: the eval-mode outputs of an untrained network
        (whose feature statistics are still the initial ones) give nearly every image the same
        signs, a point where the bitwise update cannot move (flipping a bit for all of ``Ω``
        changes nothing).
        """
        n_bits, n_train = context.n_bits, context.n_train
        order = torch.randperm(n_train, generator=context.generator).to(context.device)
        sampled, rest = order[:min(self.sample_size, n_train)], order[self.sample_size:]
        network_outputs = context.encode_train()
        labels = context.train_labels
        # Targets Q S_ij with S_ij = ±1.
        rest_targets = n_bits * (2 * label_similarity(labels[sampled], labels[rest]) - 1)
        sampled_targets = n_bits * (2 * label_similarity(labels[sampled], labels[sampled]) - 1)
        rest_outputs = network_outputs[rest]
        # What the Ω × Γ term needs, computed once: Q S_ΩΓ U_Γ and U_Γᵀ U_Γ.
        rest_projection, rest_gram = rest_targets @ rest_outputs, rest_outputs.T @ rest_outputs
        if from_network:
            codes = sign(network_outputs[sampled])
        else:
            codes = sign(torch.randn(len(sampled), n_bits, generator=context.generator)).to(context.device)
        for _ in range(self.bit_sweeps):
            for bit in range(n_bits):
                codes[:, bit] = self._best_bit(codes, bit, rest_projection, rest_gram, sampled_targets)
        self.sampled_, self.sampled_codes_ = sampled, codes

    @staticmethod
    def _best_bit(codes: torch.Tensor, bit: int, rest_projection: torch.Tensor, rest_gram: torch.Tensor,
                  sampled_targets: torch.Tensor) -> torch.Tensor:
        """The linearised update of bit ``bit`` of ``B_Ω``, or the current bit if it does not help.

        With ``B_¬k`` the codes without bit ``k``: ``f = Q S_ΩΓ u_k − B_¬k U_Γ,¬kᵀ u_k`` and
        ``R = Q S_ΩΩ − B_¬k B_¬kᵀ`` off the diagonal (whose entries are constant in ``b``: 1).
        ``R x`` is computed as ``Q S_ΩΩ x − B (Bᵀ x) + b_k (b_kᵀ x) − x``, never forming ``R``.
        """
        current = codes[:, bit]
        coupling = rest_gram[:, bit].clone()
        coupling[bit] = 0
        linear = rest_projection[:, bit] - codes @ coupling

        def quadratic_times(bits: torch.Tensor) -> torch.Tensor:
            return sampled_targets @ bits - codes @ (codes.T @ bits) + current * (current @ bits) - bits

        current_product = quadratic_times(current)
        candidate = sign(linear + 2 * current_product)
        current_value = -(current @ linear) - current @ current_product
        candidate_value = -(candidate @ linear) - candidate @ quadratic_times(candidate)
        return candidate if candidate_value < current_value else current
