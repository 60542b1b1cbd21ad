"""The MCH framework as one estimator: a frozen base model, an agent trained on it, the extension.

``MCH(coder, base_model, settings).fit(dataset, train_indices, seed)`` runs Alg. 2 after the base
model's step: it codes every training image whole and in ``crops_per_image`` random regions (a
pool encoded once rather than a fresh crop per iteration, which would code T·B = 25,600 regions per
base model), computes each region's keep reward against all training images, holds out a share of
the training images and trains the policy on the others' regions. :meth:`MCH.encode_database` then
codes images by the extension (§4.3).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hashkit.checks import check_positive_int
from hashkit.data import ImageDataset
from hashkit.mch.agent import (AgentSettings, PolicyNetwork, keep_rewards, policy_agreement, reward_loss, states,
                               train_policy)
from hashkit.mch.coders import CodedRegions, RegionCoder, encode_regions, whole_image_box
from hashkit.mch.extension import MultiCodes, multi_codes
from hashkit.mch.regions import CropScale, RegionMode, check_ratio, fixed_boxes, random_boxes

MIN_REGION_PIXELS = 4  # a region must keep at least this many pixels a side before it is resized


@dataclass(frozen=True)
class MCHSettings:
    """MCH's own hyper-parameters: σ and ξ (§5.2.2: 0.5 and 0.5) and how the agent's regions are drawn."""

    sigma: float = 0.5
    xi: float = 0.5
    crops_per_image: int = 2
    train_crop: CropScale = "fixed"
    region_mode: RegionMode = "crop"
    holdout: float = 0.2
    agent: AgentSettings = field(default_factory=AgentSettings)

    def check(self, image_side: int | None = None) -> None:
        check_ratio(self.sigma, "sigma")
        check_ratio(self.xi, "xi")
        check_positive_int(self.crops_per_image, "crops_per_image")
        if self.train_crop not in ("fixed", "range"):
            raise ValueError(f"train_crop: expected 'fixed' or 'range', got {self.train_crop!r}")
        if self.region_mode not in ("crop", "mask"):
            raise ValueError(f"region_mode: expected 'crop' or 'mask', got {self.region_mode!r}")
        if not 0.0 < check_ratio(self.holdout, "holdout") < 1.0:
            raise ValueError(f"holdout: expected a share strictly between 0 and 1, got {self.holdout!r}")
        self.agent.check()
        if image_side is not None:
            fixed_boxes(image_side, image_side, self.sigma, MIN_REGION_PIXELS)


@dataclass
class AgentReport:
    """What training the agent measured: its history, the rewards of its pool, and on the held-out
    regions the keep-probabilities beside the rewards (the policy's real accuracy)."""

    history: pd.DataFrame
    pool_rewards: np.ndarray
    held_out_rewards: np.ndarray
    held_out_probabilities: np.ndarray
    held_out_images: np.ndarray
    held_out_boxes: np.ndarray
    seconds: float

    def agreement(self, xi: float) -> float:
        return policy_agreement(self.held_out_probabilities, self.held_out_rewards, xi)


class MCH:
    """Multiple code hashing on a frozen base model (``coder``) with the reward of ``base_model``'s loss."""

    def __init__(self, coder: RegionCoder, base_model: str, settings: MCHSettings = MCHSettings(), *,
                 device: str = "cpu", progress: bool = False, **loss_options: float) -> None:
        settings.check()
        self.coder = coder
        self.base_model = base_model
        self.settings = settings
        self.device = device
        self.progress = progress
        self.loss = reward_loss(base_model, coder.n_bits, **loss_options)

    def fit(self, dataset: ImageDataset, train_indices: np.ndarray, seed: int,
            train_whole: CodedRegions | None = None) -> MCH:
        """Alg. 2's agent step; ``train_whole`` reuses the training images' whole-image coding."""
        started = time.perf_counter()
        settings = self.settings
        height, width = dataset.images(np.array([0])).shape[1:3]
        settings.check(min(height, width))
        train_indices = np.asarray(train_indices, dtype=np.int64)
        if train_whole is None:
            train_whole = self.code(dataset, train_indices, whole_image_box(dataset), "coding training images")
        whole_codes, whole_features = train_whole.codes[:, 0], train_whole.features[:, 0]
        rng = np.random.default_rng(seed)
        n_train, n_crops = len(train_indices), settings.crops_per_image
        boxes = random_boxes(n_train * n_crops, height, width, settings.sigma, rng, settings.train_crop,
                             MIN_REGION_PIXELS).reshape(n_train, n_crops, 4)
        regions = self.code(dataset, train_indices, boxes, "coding training regions")
        owner = np.repeat(np.arange(n_train), n_crops)
        labels = dataset.labels[train_indices]
        rewards = keep_rewards(whole_codes[owner], regions.codes.reshape(-1, self.coder.n_bits), labels[owner],
                               whole_codes, labels, self.loss, settings.agent.reduction)
        pool = states(whole_features[owner], regions.features.reshape(len(owner), -1), whole_codes[owner],
                      regions.codes.reshape(len(owner), -1))
        held_out_images = rng.permutation(n_train)[: max(1, int(round(settings.holdout * n_train)))]
        is_held_out = np.isin(owner, held_out_images)
        self.policy_, history = train_policy(pool[~is_held_out], rewards[~is_held_out], settings.agent, seed,
                                             self.progress)
        self.report_ = AgentReport(
            history=history, pool_rewards=rewards[~is_held_out], held_out_rewards=rewards[is_held_out],
            held_out_probabilities=self.policy_.keep_probability(pool[is_held_out]),
            held_out_images=train_indices[owner[is_held_out]], held_out_boxes=boxes.reshape(-1, 4)[is_held_out],
            seconds=time.perf_counter() - started)
        return self

    def code(self, dataset: ImageDataset, indices: np.ndarray, boxes: np.ndarray, description: str) -> CodedRegions:
        """The base model's features and codes of regions ``boxes`` of ``indices`` (see :func:`encode_regions`)."""
        return encode_regions(self.coder, dataset, indices, boxes, region_mode=self.settings.region_mode,
                              device=self.device, progress=self.progress, description=description)

    def region_probabilities(self, dataset: ImageDataset, indices: np.ndarray, whole: CodedRegions,
                             sigma: float | None = None) -> tuple[CodedRegions, np.ndarray]:
        """The five regions of §4.3 at ``sigma`` (default: the settings'), coded, and P(keep) of each: ``(n, 5)``."""
        policy = self._fitted_policy()
        sigma = self.settings.sigma if sigma is None else check_ratio(sigma, "sigma")
        height, width = dataset.images(np.array([0])).shape[1:3]
        regions = self.code(dataset, indices, fixed_boxes(height, width, sigma, MIN_REGION_PIXELS), "coding regions")
        n_items, n_regions = regions.codes.shape[:2]
        owner = np.repeat(np.arange(n_items), n_regions)
        region_states = states(whole.features[owner, 0], regions.features.reshape(len(owner), -1),
                               whole.codes[owner, 0], regions.codes.reshape(len(owner), -1))
        return regions, policy.keep_probability(region_states).reshape(n_items, n_regions)

    def encode_database(self, dataset: ImageDataset, indices: np.ndarray, whole: CodedRegions | None = None,
                        xi: float | None = None) -> MultiCodes:
        """Several codes per image of ``indices`` by the extension (§4.3)."""
        if whole is None:
            whole = self.code(dataset, indices, whole_image_box(dataset), "coding images")
        regions, probabilities = self.region_probabilities(dataset, indices, whole)
        return multi_codes(whole.codes[:, 0], regions.codes, probabilities, self.settings.xi if xi is None else xi)

    def _fitted_policy(self) -> PolicyNetwork:
        if not hasattr(self, "policy_"):
            raise ValueError("MCH: call fit before coding regions")
        return self.policy_
