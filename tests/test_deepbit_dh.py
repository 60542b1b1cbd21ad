"""DeepBit and DH, the BGAN paper's two deep unsupervised baselines: each loss against a hand computation,
DeepBit's rotation term on rotated copies through the network, DH's independence and variance terms,
determinism, no use of labels, and short trainings on tiny synthetic data that beat random codes."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
from torchvision.transforms.functional import InterpolationMode, rotate

from hashkit.data import ArrayImages, ImageDataset, Split
from hashkit.deep.engine import train
from hashkit.deep.method import TrainingContext
from hashkit.deep.methods import DeepBit
from hashkit.deep.methods.deepbit import (balance_loss, quantization_loss, rotate_batch, rotation_loss,
                                          rotation_weights)
from hashkit.metrics import mean_average_precision
from hashkit.shallow import DH, METHODS, UNSUPERVISED
from hashkit.shallow.dh import dh_objective, orthonormal_init

torch.set_num_threads(2)

N_ITEMS, SIDE, N_CLASSES, N_BITS = 120, 16, 4, 8
SMALL_NET = {"channels": (4, 8), "feature_dim": 16}


def blocks(n_items: int = N_ITEMS) -> tuple[ImageDataset, Split]:
    """Class k lights up the k-th 8×8 quadrant of a 16×16 image, on top of noise; the first 30 items query."""
    rng = np.random.default_rng(0)
    classes = np.arange(n_items) % N_CLASSES
    pixels = rng.integers(0, 80, (n_items, SIDE, SIDE), dtype=np.uint8)
    for item, k in enumerate(classes):
        row, column = divmod(int(k), 2)
        pixels[item, 8 * row:8 * row + 8, 8 * column:8 * column + 8] += 150
    dataset = ImageDataset("blocks", np.eye(N_CLASSES, dtype=np.uint8)[classes], tuple("abcd"), ArrayImages(pixels))
    items = np.arange(n_items)
    return dataset, Split(query=items[:30], database=items[30:], train=items[30:], protocol="given")


def random_codes_map(dataset: ImageDataset, split: Split, n_bits: int = N_BITS) -> float:
    """mAP of random ±1 codes, averaged over a few draws: what codes that ignore the images score."""
    scores = []
    for seed in range(5):
        rng = np.random.default_rng(seed)
        codes = rng.choice(np.array([-1, 1], dtype=np.int8), size=(len(dataset.labels), n_bits))
        scores.append(mean_average_precision(codes[split.query], codes[split.database],
                                             dataset.labels[split.query], dataset.labels[split.database]))
    return float(np.mean(scores))


def hand_context(forward=None, batch_images=None) -> TrainingContext:
    return TrainingContext(n_bits=2, train_labels=torch.zeros(4, 2), device=torch.device("cpu"), n_epochs=1,
                           generator=torch.Generator().manual_seed(0), encode_train=lambda positions=None: None,
                           batch_images=batch_images, forward=forward)


# --- DeepBit: the three terms by hand --------------------------------------------------------------

def test_deepbit_quantization_and_balance_terms_match_hand_computations():
    # sigma = [[.8, .3], [.5, .1]]: bits [[1, 0], [1, 0]] (0.5 gives 1, as sign(0) = +1).
    sigma = torch.tensor([[0.8, 0.3], [0.5, 0.1]], requires_grad=True)
    # Quantisation: (0.2² + 0.3² + 0.5² + 0.1²) / (2 · 2) = 0.39 / 4.
    quantization = quantization_loss(sigma)
    assert quantization.item() == pytest.approx(0.39 / 4)
    quantization.backward()
    # Gradient (sigma − b) / N, the bits held constant.
    torch.testing.assert_close(sigma.grad, torch.tensor([[-0.2, 0.3], [-0.5, 0.1]]) / 2)
    # Balance: bit 0 is 1 for both items (mean 1), bit 1 for neither (mean 0): (0.5² + 0.5²) / (2 · 2).
    sigma.grad = None
    balance = balance_loss(sigma)
    assert balance.item() == pytest.approx(0.5 / 4)
    balance.backward()
    # Straight through: d/dsigma_nk = (mu_k − 1/2) / N² = ±0.5 / 4 for every item.
    torch.testing.assert_close(sigma.grad, torch.tensor([[0.125, -0.125], [0.125, -0.125]]))
    # An evenly split batch costs nothing.
    assert balance_loss(torch.tensor([[0.9, 0.2], [0.1, 0.7]])).item() == 0


def test_deepbit_rotation_weights_decay_with_the_angle_and_the_term_matches_a_hand_computation():
    weights = rotation_weights((-10, -5, 0, 5, 10), 5.0)
    expected = [math.exp(-2), math.exp(-0.5), 1.0, math.exp(-0.5), math.exp(-2)]  # the authors' exp(−k²/2)
    assert weights.tolist() == pytest.approx(expected)
    # Two images, two angles: distances ‖σ − σ_θ‖², weighted, summed, over 2 · (2 angles · 2 images).
    sigma = torch.tensor([[0.5, 0.5], [1.0, 0.0]])
    rotated = torch.tensor([[[0.5, 0.7], [1.0, 0.0]],     # angle a: distances 0.04, 0
                            [[0.2, 0.5], [0.0, 1.0]]])    # angle b: distances 0.09, 2
    loss = rotation_loss(sigma, rotated, torch.tensor([1.0, 0.5]))
    assert loss.item() == pytest.approx((1.0 * (0.04 + 0) + 0.5 * (0.09 + 2)) / (2 * 4))


def test_deepbit_codes_are_the_bits_at_one_half_and_the_activation_is_a_sigmoid():
    method, context = DeepBit(), hand_context()
    assert method.codes(torch.tensor([[0.2, 0.5, 0.51, 0.49]]), context).tolist() == [[-1, 1, 1, -1]]
    torch.testing.assert_close(method.activation(torch.tensor([0.0, 2.0]), context),
                               torch.sigmoid(torch.tensor([0.0, 2.0])))
    assert method.supervised is False


def test_deepbits_rotation_term_sends_rotated_copies_through_the_network():
    # An asymmetric 16×16 pattern: rotating it changes pixels, so the copies are not the batch itself.
    images = torch.zeros(3, 1, SIDE, SIDE)
    images[0, 0, 2:6, 1:14] = 1.0
    images[1, 0, 9:15, 3:5] = 1.0
    images[2, 0, 4:12, 10:13] = 0.5
    angles = (-10.0, 5.0)
    layer = torch.nn.Linear(SIDE * SIDE, 2)
    seen: list[torch.Tensor] = []

    def forward(batch: torch.Tensor) -> torch.Tensor:
        seen.append(batch.detach().clone())
        return torch.sigmoid(layer(batch.flatten(1)))

    method = DeepBit(quantization_weight=0.0, balance_weight=0.0, rotation_weight=1.0, angles=angles)
    outputs = torch.sigmoid(layer(images.flatten(1)))
    loss = method.loss(outputs, torch.zeros(3, 2), torch.arange(3), hand_context(forward, images))

    assert len(seen) == 1 and seen[0].shape == (6, 1, SIDE, SIDE)  # one extra pass, angle-major
    for a, angle in enumerate(angles):
        expected = rotate(images, angle, interpolation=InterpolationMode.NEAREST, fill=0.0)
        torch.testing.assert_close(seen[0][3 * a:3 * a + 3], expected)
        assert not torch.equal(expected, images)
    torch.testing.assert_close(rotate_batch(images, angles), seen[0])
    with torch.no_grad():
        rotated = torch.sigmoid(layer(seen[0].flatten(1))).reshape(2, 3, 2)
        weights = torch.exp(-torch.tensor(angles) ** 2 / 50)
        by_hand = sum(weights[a] * ((rotated[a] - outputs) ** 2).sum() for a in range(2)) / (2 * 6)
    assert loss.item() == pytest.approx(by_hand.item(), rel=1e-6) and loss.item() > 0
    # The term alone reaches the network, through the copies as well as the batch.
    loss.backward()
    assert layer.weight.grad is not None and layer.weight.grad.abs().sum() > 0


def test_deepbit_needs_the_engines_forward_only_for_its_rotation_term():
    sigma = torch.tensor([[0.8, 0.3], [0.4, 0.6]])
    with pytest.raises(RuntimeError, match="context.forward"):
        DeepBit().loss(sigma, torch.zeros(2, 2), torch.arange(2), hand_context())
    loss = DeepBit(angles=()).loss(sigma, torch.zeros(2, 2), torch.arange(2), hand_context())
    assert loss.item() == pytest.approx(quantization_loss(sigma).item() + balance_loss(sigma).item())


@pytest.mark.parametrize("parameter, value", [
    ("quantization_weight", -1.0), ("balance_weight", float("nan")), ("rotation_weight", -0.1),
    ("angles", (5.0, float("inf"))), ("angles", (5.0, 5.0)), ("angles", "10"), ("angle_scale", 0.0),
])
def test_deepbit_rejects_bad_hyper_parameters_by_name(parameter, value):
    with pytest.raises(ValueError, match=parameter):
        DeepBit(**{parameter: value})


def test_deepbit_trains_on_the_engine_deterministically_without_labels_and_beats_random_codes():
    dataset, split = blocks()
    options = {"epochs": 3, "batch_size": 30, "backbone_options": SMALL_NET, "progress": False, "seed": 2}
    trained = train(DeepBit(), dataset, split, N_BITS, **options)
    again = train(DeepBit(), dataset, split, N_BITS, **options)
    permuted = dataclasses.replace(dataset, labels=dataset.labels[np.random.default_rng(3).permutation(N_ITEMS)])
    shuffled_labels = train(DeepBit(), permuted, split, N_BITS, **options)

    codes = trained.encode(dataset, np.arange(N_ITEMS))
    assert codes.dtype == np.int8 and set(np.unique(codes)) <= {-1, 1}
    np.testing.assert_array_equal(codes, again.encode(dataset, np.arange(N_ITEMS)))
    np.testing.assert_array_equal(codes, shuffled_labels.encode(permuted, np.arange(N_ITEMS)))
    history = trained.history
    assert {"quantization", "balance", "rotation"} <= set(history.columns)
    assert np.isfinite(history[["quantization", "balance", "rotation"]].to_numpy()).all()
    assert (history["rotation"] > 0).all()
    assert history["quantization"].iloc[-1] < history["quantization"].iloc[0]
    learned = mean_average_precision(codes[split.query], codes[split.database], dataset.labels[split.query],
                                     dataset.labels[split.database])
    assert learned > random_codes_map(dataset, split) + 0.1, learned


# --- DH -----------------------------------------------------------------------------------------------

def test_dh_objective_matches_a_hand_computation():
    # H (N = 2 items, L = 2 bits) = [[.5, −.2], [−.9, .4]]; B = [[1, −1], [−1, 1]].
    outputs = torch.tensor([[0.5, -0.2], [-0.9, 0.4]], requires_grad=True)
    weights = [torch.tensor([[1.0, 1.0]]), torch.tensor([[1.0, 0.0], [0.0, 2.0]])]
    biases = [torch.tensor([0.5]), torch.tensor([0.0, -1.0])]
    parts = dh_objective(outputs, weights, biases, lambda1=10.0, lambda2=0.1, lambda3=0.01)
    quantization = 0.5 * (0.5 ** 2 + 0.8 ** 2 + 0.1 ** 2 + 0.6 ** 2)          # 0.63
    variance = (0.25 + 0.04 + 0.81 + 0.16) / (2 * 2)                            # tr(H Hᵀ) / 2N = 0.315
    independence = 0.5 * ((2 - 1) ** 2 + (0 + 0 + 0 + (4 - 1) ** 2))         # W Wᵀ = [2]; diag(1, 4)
    regularization = 0.5 * ((2 + 0.25) + (5 + 1))
    assert parts["quantization"].item() == pytest.approx(quantization)
    assert parts["variance"].item() == pytest.approx(variance)
    assert parts["independence"].item() == pytest.approx(independence)
    assert parts["regularization"].item() == pytest.approx(regularization)
    assert parts["total"].item() == pytest.approx(
        quantization - 10 * variance + 0.1 * independence + 0.01 * regularization)
    parts["total"].backward()
    # d/dH: (H − B) − lambda1 H / N, B held constant.
    codes = torch.tensor([[1.0, -1.0], [-1.0, 1.0]])
    torch.testing.assert_close(outputs.grad, (outputs - codes - 10 * outputs / 2).detach())


def test_dh_starts_independent_and_its_independence_and_variance_terms_act():
    rng = np.random.default_rng(0)
    for n_out, n_in in ((30, 60), (60, 30), (8, 8)):
        w = orthonormal_init(n_out, n_in, rng)
        gram = w @ w.T if n_out <= n_in else w.T @ w
        np.testing.assert_allclose(gram, np.eye(min(n_out, n_in)), atol=1e-10)
    dataset, split = blocks()
    features = pixels(dataset, split.train)

    def independence(model: DH) -> float:
        return sum(float(((w @ w.T - np.eye(len(w))) ** 2).sum()) for w in model.weights_)

    loose = DH(N_BITS, lambda2=0.0, n_epochs=50).fit(features)
    tight = DH(N_BITS, lambda2=10.0, n_epochs=50).fit(features)
    assert independence(tight) < 0.5 * independence(loose)
    # lambda1 rewards spread outputs: a larger mean of ½‖h‖² than without it.
    flat = DH(N_BITS, lambda1=0.0, n_epochs=50).fit(features)
    spread = DH(N_BITS, lambda1=100.0, n_epochs=50).fit(features)
    assert (spread.outputs(features) ** 2).mean() > (flat.outputs(features) ** 2).mean()
    # No bit is constant over the training items.
    assert (np.abs(spread.encode(features).mean(axis=0)) < 1).all()


def pixels(dataset: ImageDataset, indices: np.ndarray) -> np.ndarray:
    return dataset.images(indices).reshape(len(indices), -1).astype(np.float32) / 255


def test_dh_is_a_registered_seeded_estimator_that_ignores_labels_and_beats_random_codes():
    assert METHODS["DH"] is DH and DH in UNSUPERVISED
    dataset, split = blocks()
    train_features, query_features = pixels(dataset, split.train), pixels(dataset, split.query)
    labels = dataset.labels[split.train]
    model = DH(N_BITS, seed=1).fit(train_features, labels)
    codes = model.encode(query_features)
    assert codes.dtype == np.int8 and codes.shape == (30, N_BITS) and set(np.unique(codes)) <= {-1, 1}
    np.testing.assert_array_equal(codes, DH(N_BITS, seed=1).fit(train_features).encode(query_features))
    permuted = labels[np.random.default_rng(0).permutation(len(labels))]
    np.testing.assert_array_equal(codes, DH(N_BITS, seed=1).fit(train_features, permuted).encode(query_features))
    assert not np.array_equal(codes, DH(N_BITS, seed=2).fit(train_features).encode(query_features))
    assert len(model.loss_history_) == model.n_epochs and model.loss_history_[-1] < model.loss_history_[0]
    learned = mean_average_precision(codes, model.encode(train_features), dataset.labels[split.query], labels)
    assert learned > random_codes_map(dataset, split) + 0.1, learned


@pytest.mark.parametrize("parameter, value", [
    ("n_bits", 0), ("hidden_units", (60, 0)), ("hidden_units", "60"), ("lambda1", -1.0), ("lambda2", float("inf")),
    ("lambda3", -0.5), ("n_epochs", 0), ("learning_rate", 0.0), ("seed", 1.5),
])
def test_dh_rejects_bad_hyper_parameters_by_name(parameter, value):
    settings = {"n_bits": 8, parameter: value}
    with pytest.raises(ValueError, match=parameter):
        DH(**settings)
