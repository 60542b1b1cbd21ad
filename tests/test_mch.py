"""MCH's framework: regions, the keep reward by hand, the action convention, the extension."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from hashkit import metrics
from hashkit.codes import sign
from hashkit.data import ArrayImages, ImageDataset
from hashkit.deep.pair_losses import ksh_pair_loss, pair_weights
from hashkit.mch import (KEEP, MCH, AgentSettings, MCHSettings, encode_regions, fixed_boxes, keep_rewards,
                         multi_codes, random_boxes, reward_loss, whole_image_box)
from hashkit.mch.agent import policy_agreement, train_policy
from hashkit.mch.regions import crop_regions


class TinyCoder:
    """A fixed random convolution and projection: a frozen base model small enough for a test."""

    def __init__(self, n_bits: int = 8, seed: int = 0) -> None:
        torch.manual_seed(seed)
        self.n_bits = n_bits
        self.encoder = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(4), nn.Flatten())
        self.projection = nn.Linear(64, n_bits)

    def features_and_codes(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.encoder(images)
        return features, sign(self.projection(features))

    def modules(self) -> list[nn.Module]:
        return [self.encoder, self.projection]


def tiny_dataset(n_items: int = 40, side: int = 16, seed: int = 0) -> ImageDataset:
    rng = np.random.default_rng(seed)
    labels = (rng.random((n_items, 3)) < 0.4).astype(np.uint8)
    labels[labels.sum(axis=1) == 0, 0] = 1
    pixels = rng.integers(0, 256, (n_items, side, side), dtype=np.uint8)
    return ImageDataset(name="tiny", labels=labels, class_names=("a", "b", "c"), source=ArrayImages(pixels))


# --- regions ------------------------------------------------------------------------------------


def test_fixed_boxes_are_the_four_corners_and_the_centre():
    boxes = fixed_boxes(56, 56, 0.5)
    assert boxes.tolist() == [[0, 0, 28, 28], [0, 28, 28, 56], [28, 0, 56, 28], [28, 28, 56, 56], [14, 14, 42, 42]]
    assert (fixed_boxes(56, 56, 1.0) == [0, 0, 56, 56]).all()


def test_random_boxes_stay_inside_and_have_the_ratio():
    boxes = random_boxes(500, 20, 30, 0.4, np.random.default_rng(0))
    assert (boxes[:, :2] >= 0).all() and (boxes[:, 2] <= 20).all() and (boxes[:, 3] <= 30).all()
    assert set(boxes[:, 2] - boxes[:, 0]) == {8} and set(boxes[:, 3] - boxes[:, 1]) == {12}
    ranged = random_boxes(500, 20, 20, 0.4, np.random.default_rng(0), scale="range")
    sides = ranged[:, 2] - ranged[:, 0]
    assert sides.min() >= 8 and sides.max() <= 20 and len(set(sides)) > 3


def test_whole_box_crop_is_the_image_and_a_quarter_is_upscaled():
    images = torch.rand(2, 1, 8, 8)
    whole = crop_regions(images, np.array([[0, 0, 8, 8]] * 2))
    assert torch.equal(whole, images)
    constant = torch.zeros(1, 1, 8, 8)
    constant[..., :4, :4] = 1.0
    assert torch.allclose(crop_regions(constant, np.array([[0, 0, 4, 4]])), torch.ones(1, 1, 8, 8))


def test_mask_mode_keeps_the_region_in_place():
    images = torch.rand(1, 1, 8, 8) + 0.1
    masked = crop_regions(images, np.array([[2, 3, 5, 8]]), mode="mask")
    assert torch.equal(masked[..., 2:5, 3:8], images[..., 2:5, 3:8])
    assert masked.sum() == pytest.approx(images[..., 2:5, 3:8].sum().item())


@pytest.mark.parametrize("sigma", [-0.1, 1.5, "half"])
def test_sigma_outside_zero_one_is_named(sigma):
    with pytest.raises(ValueError, match="sigma"):
        fixed_boxes(56, 56, sigma)


def test_a_crop_smaller_than_the_base_model_takes_is_refused():
    with pytest.raises(ValueError, match="sigma: 0.05 gives 3-pixel crops .* at least 4 pixels"):
        MCHSettings(sigma=0.05).check(image_side=56)


@pytest.mark.parametrize("settings, name", [(MCHSettings(xi=1.2), "xi"), (MCHSettings(region_mode="blur"), "region_mode"),
                                            (MCHSettings(agent=AgentSettings(hidden=(8, 8))), "policy_hidden"),
                                            (MCHSettings(agent=AgentSettings(reduction="max")), "reward")])
def test_bad_settings_are_named(settings, name):
    with pytest.raises(ValueError, match=name):
        settings.check()


def test_unknown_base_model_is_named():
    with pytest.raises(ValueError, match="base model: expected one of KSH, HashNet, ADSH, DCH, MMHH, got 'SDH'"):
        reward_loss("SDH", 16)


# --- the reward (eqs. 5-6) ----------------------------------------------------------------------


def test_keep_reward_by_hand_on_three_items():
    # Q = 4. Item 0 is the database image; items 0, 1, 2 the training images (queries of eq. 6).
    whole = np.array([[1, 1, 1, 1]], dtype=np.int8)
    region = np.array([[-1, -1, 1, 1]], dtype=np.int8)
    reference = np.array([[1, 1, 1, 1], [-1, -1, 1, 1], [-1, -1, -1, 1]], dtype=np.int8)
    labels = np.array([[1, 0]], dtype=np.uint8)
    reference_labels = np.array([[1, 0], [1, 0], [0, 1]], dtype=np.uint8)
    # d to the references: whole (0, 2, 3), region (2, 0, 1), so d* = (0, 0, 1); s = (1, 1, 0).
    # KSH: L = ((Q - 2d)/Q - (2s - 1))^2. j=0: 0 -> 0. j=1: (0 - 1)^2 = 1 -> 0. j=2: (-0.5 + 1)^2 = 0.25
    # -> (0.5 + 1)^2 = 2.25. Reward: (1 - 0) + (0.25 - 2.25) = -1.
    loss = reward_loss("KSH", 4)
    assert keep_rewards(whole, region, labels, reference, reference_labels, loss, "sum") == pytest.approx([-1.0])
    assert keep_rewards(whole, region, labels, reference, reference_labels, loss, "mean") == pytest.approx([-1 / 3])
    # ADSH: L = ((Q - 2d) - Q(2s - 1))^2. j=1: (0 - 4)^2 = 16 -> 0; j=2: (-2 + 4)^2 = 4 -> (2 + 4)^2 = 36.
    adsh = reward_loss("ADSH", 4)
    assert keep_rewards(whole, region, labels, reference, reference_labels, adsh, "sum") == pytest.approx([16 - 32])


def test_a_region_equal_to_the_image_earns_nothing_and_a_closer_one_earns():
    rng = np.random.default_rng(1)
    reference = sign(rng.normal(size=(30, 16)))
    reference_labels = (rng.random((30, 3)) < 0.4).astype(np.uint8)
    whole = sign(rng.normal(size=(5, 16)))
    labels = reference_labels[:5]
    for base in ("KSH", "HashNet", "ADSH", "DCH", "MMHH"):
        loss = reward_loss(base, 16)
        assert keep_rewards(whole, whole, labels, reference, reference_labels, loss) == pytest.approx(np.zeros(5))
    # A region coded exactly like a similar training image, far from the dissimilar ones: reward > 0.
    similar = np.array([[1, 0, 0]], dtype=np.uint8)
    reference = np.array([[1] * 16, [-1] * 16], dtype=np.int8)
    reference_labels = np.array([[1, 0, 0], [0, 1, 0]], dtype=np.uint8)
    whole = np.array([[1] * 8 + [-1] * 8], dtype=np.int8)
    for base in ("KSH", "HashNet", "ADSH", "DCH", "MMHH"):
        reward = keep_rewards(whole, reference[:1], similar, reference, reference_labels, reward_loss(base, 16))
        assert reward[0] > 0, base


def test_pair_weights_balance_each_row_on_its_own():
    similarity = torch.tensor([[1.0, 0, 0, 0], [1, 1, 1, 0], [1, 1, 1, 1]])
    weights = pair_weights(similarity, dim=1)
    assert torch.allclose(weights[0], torch.tensor([4.0, 4 / 3, 4 / 3, 4 / 3]))
    assert torch.allclose(weights[1], torch.tensor([4 / 3, 4 / 3, 4 / 3, 4.0]))
    assert torch.equal(weights[2], torch.ones(4))
    assert torch.equal(pair_weights(similarity), pair_weights(similarity.flatten()).reshape(3, 4))


# --- the action convention and the policy -------------------------------------------------------


@pytest.mark.parametrize("sign_of_reward", [1.0, -1.0])
def test_keep_is_the_action_eq6_pays(sign_of_reward):
    rng = np.random.default_rng(0)
    pool = rng.normal(size=(400, 12)).astype(np.float32)
    rewards = np.full(400, 10.0 * sign_of_reward)
    settings = AgentSettings(iterations=60, batch_size=64, learning_rate=1e-3, hidden=(16, 16, 16, 16))
    policy, history = train_policy(pool, rewards, settings, seed=0)
    keep = policy.keep_probability(pool).mean()
    assert (keep > 0.9) if sign_of_reward > 0 else (keep < 0.1)
    assert KEEP == 1 and list(history.columns) == ["iteration", "mean reward", "keep rate"]


def test_the_policy_learns_the_sign_of_a_state_dependent_reward():
    rng = np.random.default_rng(0)
    pool = rng.normal(size=(1000, 6)).astype(np.float32)
    rewards = np.where(pool[:, 0] > 0, 5.0, -5.0)
    settings = AgentSettings(iterations=150, batch_size=128, learning_rate=1e-3, hidden=(32, 32, 16, 16))
    policy, _ = train_policy(pool, rewards, settings, seed=0)
    assert policy_agreement(policy.keep_probability(pool), rewards, 0.5) > 0.9


def test_training_the_policy_twice_gives_the_same_policy():
    rng = np.random.default_rng(0)
    pool, rewards = rng.normal(size=(300, 6)).astype(np.float32), rng.normal(size=300)
    settings = AgentSettings(iterations=5, batch_size=32, hidden=(8, 8, 8, 8))
    first, _ = train_policy(pool, rewards, settings, seed=3)
    second, _ = train_policy(pool, rewards, settings, seed=3)
    assert np.array_equal(first.keep_probability(pool), second.keep_probability(pool))


# --- the extension (§4.3) and ANHC --------------------------------------------------------------


def test_multi_codes_keep_at_or_above_xi_and_count_distinct_codes():
    whole = np.array([[1, 1, 1], [1, -1, 1]], dtype=np.int8)
    regions = np.array([[[-1, 1, 1], [-1, 1, 1], [1, 1, 1]], [[1, 1, -1], [-1, -1, -1], [1, -1, 1]]], dtype=np.int8)
    probabilities = np.array([[0.5, 0.9, 0.8], [0.49, 0.2, 1.0]])
    coded = multi_codes(whole, regions, probabilities, xi=0.5)
    assert coded.kept.tolist() == [[True, True, True], [False, False, True]]
    assert coded.codes.shape == (2, 4, 3)
    assert (coded.codes[1, 1] == whole[1]).all() and (coded.codes[1, 2] == whole[1]).all()
    # image 0: whole, two equal regions and one equal to the whole code -> 2 distinct; image 1: 1
    assert coded.distinct_codes().tolist() == [2, 1]
    assert coded.anhc() == pytest.approx(1.5)
    assert multi_codes(whole, regions, probabilities, xi=1.0).kept.sum() == 1
    with pytest.raises(ValueError, match="xi"):
        multi_codes(whole, regions, probabilities, xi=-0.5)


def test_sigma_one_gives_exactly_the_base_models_results():
    dataset = tiny_dataset()
    coder = TinyCoder()
    train, database, query = np.arange(0, 20), np.arange(10, 40), np.arange(0, 10)
    settings = MCHSettings(sigma=1.0, xi=0.0, agent=AgentSettings(iterations=3, batch_size=16, hidden=(8, 8, 8, 8)))
    mch = MCH(coder, "DCH", settings).fit(dataset, train, seed=0)
    assert np.all(mch.report_.pool_rewards == 0)
    whole = encode_regions(coder, dataset, database, whole_image_box(dataset))
    coded = mch.encode_database(dataset, database, whole)
    assert coded.kept.all() and coded.anhc() == 1.0  # every region kept at xi = 0, each the whole code
    query_codes = encode_regions(coder, dataset, query, whole_image_box(dataset)).codes[:, 0]
    labels = dataset.labels
    for metric in (metrics.mean_average_precision, metrics.hamming_radius_metrics):
        base = metric(query_codes, whole.codes[:, 0], labels[query], labels[database])
        multi = metric(query_codes, coded.codes, labels[query], labels[database])
        assert (base == multi) if isinstance(base, float) else base.equals(multi)


def test_smaller_regions_give_an_image_more_codes():
    dataset = tiny_dataset()
    coder = TinyCoder()
    settings = MCHSettings(sigma=0.5, xi=0.0, agent=AgentSettings(iterations=2, batch_size=16, hidden=(8, 8, 8, 8)))
    mch = MCH(coder, "KSH", settings).fit(dataset, np.arange(20), seed=0)
    coded = mch.encode_database(dataset, np.arange(20, 40))
    assert coded.anhc() > 1.5
    report = mch.report_
    assert len(report.held_out_rewards) == len(report.held_out_probabilities) == 4 * settings.crops_per_image
    assert 0.0 <= report.agreement(0.5) <= 1.0


def test_a_focus_class_the_dataset_lacks_is_named_with_the_classes_it_has():
    from hashkit.experiments.mch import check_focus_classes

    assert check_focus_classes(tiny_dataset(), ["c", "a"]) == [2, 0]
    with pytest.raises(ValueError, match="focus_classes: tiny has no class 'Airplane'; its classes are a, b, c"):
        check_focus_classes(tiny_dataset(), ["a", "Airplane"])
