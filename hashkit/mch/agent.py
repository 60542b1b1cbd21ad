"""MCH's agent (§4.2, Alg. 2): the state, the keep reward, the policy network and its REINFORCE training.

**Actions.** ``KEEP = 1`` keeps the region's code, ``DISCARD = 0`` drops it, as eq. 6 and the text
have it (eq. 4 prints the labels the other way round; its reward would then pay for discarding).

**Reward (eqs. 5–6).** Keeping the region code ``b*_i`` of training image ``i`` changes its distance
to every training image ``j`` (``j`` plays the query, ``i`` the database item) from
``d_ij = ½(Q − b_iᵀb_j)`` to ``d*_ij = min(d_ij, ½(Q − b*_iᵀb_j))``, and the reward is the drop of
the base model's own Table-1 loss on these binary codes, ``Σ_j L(d_ij, s_ij) − L(d*_ij, s_ij)``;
discarding earns 0. The keep reward depends on the state only, not on the policy: the agent is a
one-step bandit whose best policy keeps exactly the regions with a positive keep reward, so
:func:`policy_agreement` measures how well the learned policy does that.

**Scale.** The paper sums over the N training images and trains with one learning rate for every
base model, though a pair costs at most 4 under KSH's loss and ``4Q²`` under ADSH's. ``reduction``
(``"sum"``, the paper's; ``"mean"``, over N) and ``advantage`` (``"raw"``, the paper's plain
REINFORCE; ``"standardised"``, the batch's rewards centred and scaled, a baseline that keeps the
gradient's direction in expectation) make that choice explicit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from hashkit.checks import check_non_negative, check_positive, check_positive_int
from hashkit.deep.pair_losses import (adsh_pair_loss, dch_pair_loss, hashnet_pair_loss, ksh_pair_loss,
                                      label_overlap, label_similarity, mmhh_pair_loss, pair_weights)

KEEP, DISCARD = 1, 0
BASE_MODELS = ("KSH", "HashNet", "ADSH", "DCH", "MMHH")
Reduction = Literal["sum", "mean"]
Advantage = Literal["raw", "standardised"]
PairLoss = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]
_REWARD_ROWS = 256  # rows of the (regions x training images) pair matrices computed at once


def check_base_model(name: str) -> str:
    if name not in BASE_MODELS:
        raise ValueError(f"base model: expected one of {', '.join(BASE_MODELS)}, got {name!r}")
    return name


def reward_loss(base_model: str, n_bits: int, *, alpha: float | None = None, gamma: float = 20.0,
                radius: float = 2.0) -> PairLoss:
    """The base model's Table-1 loss as the reward evaluates it: ``loss(distances, similarity, overlap)``.

    Pair weights (HashNet, DCH, MMHH) balance the similar and dissimilar pairs of each row, i.e.
    of each database item against all training images. ``alpha`` (HashNet) defaults to its
    authors' 10/Q; ``gamma`` (DCH) and ``radius`` (MMHH) are the bases' defaults in hashkit.
    """
    check_base_model(base_model)
    alpha = 10.0 / n_bits if alpha is None else alpha
    losses: dict[str, PairLoss] = {
        "KSH": lambda d, s, c: ksh_pair_loss(d, s, n_bits),
        "HashNet": lambda d, s, c: hashnet_pair_loss(d, s, n_bits, alpha, pair_weights(s, c, dim=1)),
        "ADSH": lambda d, s, c: adsh_pair_loss(d, s, n_bits),
        "DCH": lambda d, s, c: dch_pair_loss(d, s, gamma, pair_weights(s, dim=1)),
        "MMHH": lambda d, s, c: mmhh_pair_loss(d, s, radius, pair_weights(s, dim=1)),
    }
    return losses[base_model]


def keep_rewards(whole_codes: np.ndarray, region_codes: np.ndarray, labels: np.ndarray,
                 reference_codes: np.ndarray, reference_labels: np.ndarray, loss: PairLoss,
                 reduction: Reduction = "mean") -> np.ndarray:
    """Eq. 6's reward for keeping each region code: ``(n,)`` float64.

    Row ``i``: an image with code ``whole_codes[i]``, labels ``labels[i]`` and a region coded
    ``region_codes[i]``; the sum runs over the reference (training) images ``j``. ``"mean"``
    divides the sum by their number.
    """
    if reduction not in ("sum", "mean"):
        raise ValueError(f"reward: expected 'sum' or 'mean', got {reduction!r}")
    if whole_codes.shape != region_codes.shape or len(labels) != len(whole_codes):
        raise ValueError(f"whole_codes {whole_codes.shape}, region_codes {region_codes.shape} and labels "
                         f"({len(labels)} rows) must describe the same images")
    n_bits = whole_codes.shape[1]
    reference = torch.from_numpy(reference_codes.astype(np.float32))
    reference_labels = torch.from_numpy(reference_labels.astype(np.float32))
    rewards = np.empty(len(whole_codes))
    for start in range(0, len(whole_codes), _REWARD_ROWS):
        rows = slice(start, start + _REWARD_ROWS)
        whole = torch.from_numpy(whole_codes[rows].astype(np.float32))
        region = torch.from_numpy(region_codes[rows].astype(np.float32))
        row_labels = torch.from_numpy(labels[rows].astype(np.float32))
        similarity = label_similarity(row_labels, reference_labels)
        overlap = label_overlap(row_labels, reference_labels)
        distances = 0.5 * (n_bits - whole @ reference.T)
        kept_distances = torch.minimum(distances, 0.5 * (n_bits - region @ reference.T))  # eq. 5
        change = loss(distances, similarity, overlap) - loss(kept_distances, similarity, overlap)
        rewards[rows] = change.double().sum(dim=1).numpy()
    return rewards / len(reference_codes) if reduction == "mean" else rewards


def states(whole_features: np.ndarray, region_features: np.ndarray, whole_codes: np.ndarray,
           region_codes: np.ndarray) -> np.ndarray:
    """Eq. 3: ``h_i = [f(x_i); f(x*_i); b_i; b*_i]``, ``(n, 2 d + 2 Q)`` float32."""
    return np.concatenate([whole_features, region_features, whole_codes, region_codes], axis=1).astype(np.float32)


class PolicyNetwork(nn.Module):
    """π_θ(a | h): five fully connected layers, batch norm and ReLU between them, a softmax over the two actions."""

    def __init__(self, state_dim: int, hidden: Sequence[int] = (256, 128, 64, 32)) -> None:
        super().__init__()
        if len(hidden) != 4:
            raise ValueError(f"policy_hidden: expected 4 widths (five fully connected layers), got {list(hidden)}")
        widths = [state_dim, *(check_positive_int(width, "policy_hidden") for width in hidden)]
        layers: list[nn.Module] = []
        for width_in, width_out in zip(widths, widths[1:]):
            layers += [nn.Linear(width_in, width_out), nn.BatchNorm1d(width_out), nn.ReLU()]
        self.layers = nn.Sequential(*layers, nn.Linear(widths[-1], 2))

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        """Action logits ``(n, 2)``; index :data:`KEEP` is keeping the region's code."""
        return self.layers(states)

    def keep_probability(self, states: np.ndarray) -> np.ndarray:
        """``(n,)`` P(keep | h) in eval mode (batch norm on its running statistics)."""
        was_training = self.training
        self.eval()
        with torch.no_grad():
            probabilities = torch.softmax(self(torch.from_numpy(states)), dim=1)[:, KEEP].double().numpy()
        self.train(was_training)
        return probabilities


@dataclass(frozen=True)
class AgentSettings:
    """Alg. 2's settings; the defaults are §5.2.2's (SGD, momentum 0.9, learning rate 1e-4, weight
    decay 5e-4, T = 100, B = 256), eq. 6's summed reward and eq. 7's plain REINFORCE; the widths
    ``hidden`` are not in the paper."""

    iterations: int = 100
    batch_size: int = 256
    learning_rate: float = 1e-4
    momentum: float = 0.9
    weight_decay: float = 5e-4
    reduction: Reduction = "sum"
    advantage: Advantage = "raw"
    hidden: tuple[int, ...] = (256, 128, 64, 32)

    def check(self) -> None:
        check_positive_int(self.iterations, "agent_iterations")
        check_positive_int(self.batch_size, "agent_batch")
        check_positive(self.learning_rate, "agent_lr")
        check_non_negative(self.momentum, "agent_momentum")
        check_non_negative(self.weight_decay, "agent_weight_decay")
        if self.reduction not in ("sum", "mean"):
            raise ValueError(f"reward: expected 'sum' or 'mean', got {self.reduction!r}")
        if self.advantage not in ("raw", "standardised"):
            raise ValueError(f"advantage: expected 'raw' or 'standardised', got {self.advantage!r}")
        if len(self.hidden) != 4:
            raise ValueError(f"policy_hidden: expected 4 widths (five fully connected layers), got {list(self.hidden)}")


def train_policy(state_vectors: np.ndarray, rewards: np.ndarray, settings: AgentSettings, seed: int,
                 progress: bool = False) -> tuple[PolicyNetwork, pd.DataFrame]:
    """REINFORCE (eq. 7) on a pool of states with their keep rewards; returns the policy and its history.

    Each iteration samples ``batch_size`` states, samples an action from π for each, pays the keep
    reward for keeping and 0 for discarding, and steps along ``mean log π(a|h) · R`` (or its
    standardised advantage). History columns: iteration, mean reward (of the sampled actions),
    keep rate (of the sampled actions).
    """
    settings.check()
    if len(state_vectors) != len(rewards) or len(rewards) < 2:
        raise ValueError(f"rewards: expected one per state and at least 2, got {len(rewards)} for {len(state_vectors)}")
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    policy = PolicyNetwork(state_vectors.shape[1], settings.hidden)
    optimizer = torch.optim.SGD(policy.parameters(), lr=settings.learning_rate, momentum=settings.momentum,
                                weight_decay=settings.weight_decay)
    pool = torch.from_numpy(state_vectors)
    keep_reward = torch.from_numpy(rewards.astype(np.float32))
    batch_size = min(settings.batch_size, len(pool))
    rows = []
    policy.train()
    for iteration in tqdm(range(settings.iterations), desc="agent", disable=not progress, leave=False):
        batch = torch.randperm(len(pool), generator=generator)[:batch_size]
        log_probabilities = torch.log_softmax(policy(pool[batch]), dim=1)
        actions = torch.multinomial(log_probabilities.exp().detach(), 1, generator=generator)[:, 0]
        reward = torch.where(actions == KEEP, keep_reward[batch], torch.zeros(()))
        signal = reward
        if settings.advantage == "standardised":
            signal = (reward - reward.mean()) / reward.std().clamp_min(1e-8)
        chosen = log_probabilities.gather(1, actions[:, None])[:, 0]
        loss = -(chosen * signal).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        rows.append({"iteration": iteration, "mean reward": float(reward.mean()),
                     "keep rate": float((actions == KEEP).float().mean())})
    policy.eval()
    return policy, pd.DataFrame(rows)


def policy_agreement(keep_probabilities: np.ndarray, rewards: np.ndarray, xi: float) -> float:
    """Share of regions where the policy's decision (keep iff P ≥ ξ) is the best one (keep iff reward > 0)."""
    return float(np.mean((keep_probabilities >= xi) == (rewards > 0)))
