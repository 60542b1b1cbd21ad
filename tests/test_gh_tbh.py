"""GH and TBH (DSAH's deep baselines, here on fixed features): each loss against a hand computation,
the gradients their binary layers pass, retrieval beyond LSH on Fashion-MNIST, reproducibility, and
bad parameters."""

import math
from collections.abc import Callable

import numpy as np
import pytest
import torch

from hashkit.metrics import mean_average_precision
from hashkit.shallow import GH, LSH, METHODS, TBH, UNSUPERVISED
from hashkit.shallow.base import ShallowHasher
from hashkit.shallow.gh import greedy_loss, greedy_sign
from hashkit.shallow.tbh import (BinaryBottleneck, TwinBottleneckModel, adversarial_loss, normalised_adjacency,
                                 reconstruction_loss, tbh_adjacency)

Factory = Callable[..., ShallowHasher]

# Each method from (n_bits, seed, small): ``small`` for the 300-item checks, else the Fashion-MNIST
# settings. GH's paper settings (SGD at 1e-4) barely move a layer on 784 pixels in a few epochs, and
# TBH's (1024/512 units, 100k iterations) take minutes on 2 cores: both train shorter here.
METHODS_HERE: dict[str, Factory] = {
    "GH": lambda n_bits, seed=0, small=False: GH(n_bits, epochs=2 if small else 10, optimizer="adam",
                                                 learning_rate=1e-3, seed=seed),
    "TBH": lambda n_bits, seed=0, small=False: TBH(n_bits, hidden_units=32 if small else 128,
                                                   continuous_units=16 if small else 64,
                                                   iterations=20 if small else 1500, batch_size=100 if small else 128,
                                                   learning_rate=1e-3, seed=seed),
}


@pytest.fixture(scope="module")
def blobs() -> np.ndarray:
    """300 items in 20 dimensions around 6 centres."""
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=3.0, size=(6, 20))
    return (centres[rng.integers(0, 6, size=300)] + rng.normal(size=(300, 20))).astype(np.float32)


@pytest.fixture(scope="module")
def fitted_on_fashion(fashion: dict[str, np.ndarray]) -> dict[str, ShallowHasher]:
    """Each method at 32 bits, fitted once on the 2,000 training images."""
    return {name: make(32).fit(fashion["train"]) for name, make in METHODS_HERE.items()}


def test_both_are_registered_as_unsupervised() -> None:
    assert METHODS["GH"] is GH and GH in UNSUPERVISED
    assert METHODS["TBH"] is TBH and TBH in UNSUPERVISED


# ---------------------------------------------------------------- GH, by hand

def test_greedy_loss_by_hand() -> None:
    hidden = torch.tensor([[2.0, 0.5], [1.0, -1.0], [0.5, 1.5], [-1.0, -3.0]])
    codes = greedy_sign(hidden)
    np.testing.assert_array_equal(codes, [[1, 1], [1, -1], [1, 1], [-1, -1]])
    features = torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0], [3.0, 0.0]])
    # Pairs (0, 2) and (1, 3). Codes: cos = 1 and (-1 + 1)/2 = 0; features: cos = 1/sqrt(2) and 0.
    similarity = ((1 - 1 / math.sqrt(2)) ** 2 + 0.0) / 2
    # | |h| - 1 |^3 over the 8 entries: 1, 1/8, 0, 0, 1/8, 1/8, 0, 8.
    quantisation = (1 + 0.125 + 0.125 + 0.125 + 8) / 8
    assert greedy_loss(codes, hidden, features).item() == pytest.approx(similarity + 0.1 * quantisation, rel=1e-6)
    assert greedy_loss(codes, hidden, features, quantisation_weight=0.0).item() == pytest.approx(similarity, rel=1e-6)
    # Three items: pair (0, 1) only; the third enters the quantisation term alone.
    three = greedy_loss(codes[:3], hidden[:3], features[:3], quantisation_weight=1.0).item()
    assert three == pytest.approx(0.0 + (1 + 0.125 + 0.125 + 0.125) / 6, rel=1e-6)
    with pytest.raises(ValueError, match="2 items"):
        greedy_loss(codes[:1], hidden[:1], features[:1])


def test_greedy_sign_passes_the_gradient_straight_through() -> None:
    hidden = torch.tensor([[0.3, -2.0, 0.0]], requires_grad=True)
    codes = greedy_sign(hidden)
    np.testing.assert_array_equal(codes.detach(), [[1, -1, 1]])  # sgn(0) = +1
    upstream = torch.tensor([[0.5, -1.5, 2.0]])
    (codes * upstream).sum().backward()
    np.testing.assert_array_equal(hidden.grad, upstream)


# ---------------------------------------------------------------- TBH, by hand

def test_binary_bottleneck_forward_and_gradient() -> None:
    logits = torch.tensor([[-1.0, 0.0, 2.0]], requires_grad=True)
    codes = BinaryBottleneck.apply(logits, torch.full((1, 3), 0.5))
    np.testing.assert_array_equal(codes.detach(), [[0, 1, 1]])  # sigmoid(0) = 1/2 >= 1/2
    upstream = torch.tensor([[1.0, -2.0, 3.0]])
    (codes * upstream).sum().backward()
    p = torch.sigmoid(logits.detach())
    np.testing.assert_allclose(logits.grad, p * (1 - p) * upstream, rtol=1e-6)
    # A sampled threshold above sigmoid(2) = 0.88 turns that bit off.
    np.testing.assert_array_equal(BinaryBottleneck.apply(logits, torch.tensor([[0.2, 0.4, 0.9]])).detach(),
                                  [[1, 1, 0]])


def test_tbh_adjacency_by_hand() -> None:
    codes = torch.tensor([[1.0, 0.0, 1.0, 0.0], [1.0, 1.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0]])
    # Hamming distances: d01 = 1, d02 = 4, d12 = 3, out of L = 4; self-loops at distance 0.
    expected = np.array([[1.0, 0.75 ** 1.4, 0.0], [0.75 ** 1.4, 1.0, 0.25 ** 1.4], [0.0, 0.25 ** 1.4, 1.0]])
    np.testing.assert_allclose(tbh_adjacency(codes), expected, rtol=1e-6)
    np.testing.assert_allclose(tbh_adjacency(codes, exponent=1.0), [[1, .75, 0], [.75, 1, .25], [0, .25, 1]])
    # D^{-1/2} A D^{-1/2} on two items: both degrees are 1 + a.
    a = 0.75 ** 1.4
    np.testing.assert_allclose(normalised_adjacency(torch.tensor([[1.0, a], [a, 1.0]])),
                               np.array([[1, a], [a, 1]]) / (1 + a), rtol=1e-6)
    # Through abs, as in the authors' code: identical codes (and the diagonal) pass no gradient.
    same = torch.tensor([[1.0, 0.0, 1.0], [1.0, 0.0, 1.0]], requires_grad=True)
    tbh_adjacency(same).sum().backward()
    np.testing.assert_array_equal(same.grad, np.zeros((2, 3)))


def test_tbh_losses_by_hand() -> None:
    reconstruction = torch.tensor([[1.0, 2.0], [0.0, 0.0]])
    features = torch.tensor([[0.0, 2.0], [3.0, -1.0]])
    assert reconstruction_loss(reconstruction, features).item() == pytest.approx(0.5 * (1 + 0 + 9 + 1))
    real, fake = torch.tensor([[0.8], [0.5]]), torch.tensor([[0.1], [0.4]])
    expected = -(math.log(0.8) + math.log(0.5)) / 2 - (math.log(0.9) + math.log(0.6)) / 2
    assert adversarial_loss(real, fake).item() == pytest.approx(expected, rel=1e-6)
    # Probabilities are clipped at 1e-7, as Keras does: a certain mistake costs -log(1e-7), not infinity.
    # (1 - 1e-7 rounds to 1 - 2^-23 in float32, as in Keras.)
    clipped = -math.log(1 - float(np.float32(1 - 1e-7)))
    assert adversarial_loss(torch.ones(1, 1), torch.ones(1, 1)).item() == pytest.approx(clipped, rel=1e-4)


def test_tbh_actor_loss_is_reconstruction_minus_the_critics() -> None:
    generator = torch.Generator().manual_seed(0)
    model = TwinBottleneckModel(5, 4, 8, 3, 1.4, generator)
    batch = torch.rand(6, 5, generator=generator)
    losses = model.losses(batch, torch.full((6, 4), 0.5), (torch.rand(6, 4, generator=generator) < 0.5).float(),
                          torch.rand(6, 3, generator=generator))
    assert losses["actor"].item() == pytest.approx(losses["reconstruction"].item() - losses["critic"].item(), rel=1e-6)
    assert {name for name, _ in model.named_parameters() if name.startswith("critic_")} == {
        "critic_binary.weight", "critic_binary.bias", "critic_continuous.weight", "critic_continuous.bias"}


# ---------------------------------------------------------------- learning

@pytest.mark.parametrize("name", METHODS_HERE)
def test_beats_lsh_on_fashion_mnist(name: str, fashion, fitted_on_fashion) -> None:
    def retrieval_map(hasher: ShallowHasher) -> float:
        return mean_average_precision(hasher.encode(fashion["query"]), hasher.encode(fashion["train"]),
                                      fashion["query_labels"], fashion["train_labels"])

    learned = retrieval_map(fitted_on_fashion[name])
    lsh = np.mean([retrieval_map(LSH(32, seed).fit(fashion["train"])) for seed in range(3)])
    assert learned > lsh + 0.05, f"{name}: mAP {learned:.3f} vs LSH {lsh:.3f}"


def test_losses_fall_during_training(fitted_on_fashion) -> None:
    gh = fitted_on_fashion["GH"].loss_history_
    assert len(gh) == 10 and gh[-1] < gh[0]
    reconstruction = np.array(fitted_on_fashion["TBH"].reconstruction_history_)
    assert len(reconstruction) == 1500 and np.isfinite(fitted_on_fashion["TBH"].critic_history_).all()
    assert reconstruction[-50:].mean() < 0.5 * reconstruction[:50].mean()


# ---------------------------------------------------------------- the estimator contract

@pytest.mark.parametrize("name", METHODS_HERE)
def test_codes_shape_values_and_reproducibility(name: str, blobs: np.ndarray) -> None:
    codes = METHODS_HERE[name](16, seed=1, small=True).fit(blobs).encode(blobs)
    assert codes.shape == (300, 16) and codes.dtype == np.int8
    assert set(np.unique(codes)) == {-1, 1}
    np.testing.assert_array_equal(codes, METHODS_HERE[name](16, seed=1, small=True).fit(blobs).encode(blobs))
    assert not np.array_equal(codes, METHODS_HERE[name](16, seed=2, small=True).fit(blobs).encode(blobs))


@pytest.mark.parametrize("name", METHODS_HERE)
def test_labels_are_never_read(name: str, blobs: np.ndarray) -> None:
    # fit takes labels only for the shared estimator interface: any labels give the same codes as none.
    labels = np.random.default_rng(0).integers(0, 6, size=300)
    codes = METHODS_HERE[name](8, small=True).fit(blobs).encode(blobs)
    np.testing.assert_array_equal(codes, METHODS_HERE[name](8, small=True).fit(blobs, labels).encode(blobs))


def test_tbh_stochastic_threshold_trains_and_differs() -> None:
    rng = np.random.default_rng(0)
    features = rng.normal(size=(120, 10)).astype(np.float32)
    settings = {"hidden_units": 32, "continuous_units": 16, "iterations": 10, "batch_size": 60}
    code = TBH(8, threshold="code", **settings).fit(features)
    stochastic = TBH(8, threshold="stochastic", **settings).fit(features)
    # Same seed and start; sampled thresholds change the training, so the logits must differ.
    assert np.isfinite(stochastic.reconstruction_history_).all()
    assert not np.allclose(code.logits(features), stochastic.logits(features))


@pytest.mark.parametrize("name", METHODS_HERE)
def test_rejects_bad_features_and_use_before_fit(name: str) -> None:
    with pytest.raises(RuntimeError, match="fit"):
        METHODS_HERE[name](8).encode(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        METHODS_HERE[name](8).fit(np.array([[0.0, np.nan]] * 60))
    with pytest.raises(ValueError, match="2-D"):
        METHODS_HERE[name](8).fit(np.zeros(60))
    hasher = METHODS_HERE[name](8, small=True).fit(np.random.default_rng(0).normal(size=(60, 3)))
    with pytest.raises(ValueError, match="3 dimensions"):
        hasher.encode(np.zeros((2, 5)))


@pytest.mark.parametrize(
    ("factory", "parameter"),
    [
        (lambda: GH(0), "n_bits"),
        (lambda: GH(8, epochs=0), "epochs"),
        (lambda: GH(8, batch_size=1), "batch_size"),
        (lambda: GH(8, learning_rate=0), "learning_rate"),
        (lambda: GH(8, optimizer="rmsprop"), "optimizer"),
        (lambda: GH(8, momentum=1.0), "momentum"),
        (lambda: GH(8, weight_decay=-1e-4), "weight_decay"),
        (lambda: GH(8, quantisation_weight=-0.1), "quantisation_weight"),
        (lambda: GH(8, seed=1.5), "seed"),
        (lambda: TBH(2.5), "n_bits"),
        (lambda: TBH(8, hidden_units=0), "hidden_units"),
        (lambda: TBH(8, continuous_units=-2), "continuous_units"),
        (lambda: TBH(8, iterations=0), "iterations"),
        (lambda: TBH(8, batch_size=0), "batch_size"),
        (lambda: TBH(8, learning_rate=-1e-4), "learning_rate"),
        (lambda: TBH(8, threshold="uniform"), "threshold"),
        (lambda: TBH(8, adjacency_exponent=0), "adjacency_exponent"),
        (lambda: TBH(8, n_threads=0), "n_threads"),
        (lambda: TBH(8, seed=None), "seed"),
    ],
)
def test_rejects_bad_hyper_parameters(factory, parameter: str) -> None:
    with pytest.raises(ValueError, match=parameter):
        factory()
