"""BGAN: the continuation, the shapes, which parameters each loss updates, and that labels never reach it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from hashkit.data import ArrayImages, ImageDataset, Split
from hashkit.deep.engine import train
from hashkit.deep.method import TrainingContext
from hashkit.deep.methods.bgan import (BGAN, Discriminator, Generator, app, check_betas,
                                       label_neighbourhood, neighbour_loss, relax)
from hashkit.features.neighbourhood import batch_similarity, expanded_neighbourhood

torch.set_num_threads(2)
N_ITEMS, SIDE, N_BITS = 48, 28, 8


def test_app_and_tanh_approach_the_sign_as_beta_grows():
    values = torch.tensor([-0.3, -0.01, 0.02, 0.5, 2.0])
    assert app(values).tolist() == pytest.approx([-0.3, -0.01, 0.02, 0.5, 1.0])
    for relaxation in ("app", "tanh"):
        gaps = [float((relax(values, beta, relaxation) - torch.sign(values)).abs().max()) for beta in (1, 10, 100, 1e4)]
        assert all(later <= earlier for earlier, later in zip(gaps, gaps[1:]))
        assert gaps[-1] < 1e-2


def test_a_continuation_schedule_must_increase():
    assert check_betas([1, 2.5, 10]) == (1.0, 2.5, 10.0)
    with pytest.raises(ValueError, match="betas: a continuation schedule must increase"):
        check_betas([1, 5, 5])
    with pytest.raises(ValueError, match="betas: expected a non-empty list of positive slopes"):
        check_betas([0, 1])


def test_the_generator_makes_the_datas_size_or_says_why_not():
    assert Generator(N_BITS, 1, 28, channels=(16, 8, 4))(torch.ones(2, N_BITS)).shape == (2, 1, 28, 28)
    assert Generator(N_BITS, 1, 56, channels=(16, 8, 4))(torch.ones(2, N_BITS)).shape == (2, 1, 56, 56)
    # The paper's shape: 8 × 8 × 256 up to 64 px.
    assert Generator(N_BITS, 3, 64, channels=(256, 256, 128, 32))(torch.ones(2, N_BITS)).shape == (2, 3, 64, 64)
    with pytest.raises(ValueError, match="generator_channels: 4 widths mean 3 doublings, and 28 px images are not 8 × "
                                         "a start of 2 px or more"):
        Generator(N_BITS, 1, 28, channels=(16, 8, 4, 4))
    logits, maps = Discriminator(1, 28, (4, 8, 16), 32)(torch.rand(3, 1, 28, 28))
    assert logits.shape == (3,) and maps.shape == (3, 16, 7, 7)


def test_neighbour_loss_is_eq_10_on_the_batch_pairs():
    codes = torch.tensor([[1.0, 1.0], [1.0, -1.0], [-1.0, -1.0]])
    similarity = torch.tensor([[1.0, 1.0, -1.0], [1.0, 1.0, -1.0], [-1.0, -1.0, 1.0]])
    # Off-diagonal pairs: (0,1): 0 − 1; (0,2): −1 + 1; (1,2): 0 + 1; each twice.
    assert neighbour_loss(codes, similarity).item() == pytest.approx(0.5 * (1 + 0 + 1) / 3)


def test_the_batch_similarity_reads_the_neighbourhood_by_training_position():
    neighbourhood = label_neighbourhood(np.eye(3, dtype=np.uint8)[[0, 1, 0, 2]])
    assert batch_similarity(neighbourhood, np.array([2, 0, 3])).tolist() == [[1, 1, -1], [1, 1, -1], [-1, -1, 1]]


def make_context(n_bits: int = N_BITS) -> TrainingContext:
    return TrainingContext(n_bits=n_bits, train_labels=torch.zeros(N_ITEMS, 2), device=torch.device("cpu"),
                           n_epochs=1, generator=torch.Generator().manual_seed(0), encode_train=lambda p=None: None,
                           image_shape=(1, SIDE, SIDE))


def one_step(method: BGAN) -> dict[str, dict[str, torch.Tensor]]:
    """One batch through a tiny encoder: which parameters each update changed."""
    torch.manual_seed(0)
    context = make_context()
    method.begin(context)
    encoder = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(SIDE * SIDE, N_BITS))
    optimiser = torch.optim.SGD(encoder.parameters(), lr=0.1)
    images = torch.rand(6, 1, SIDE, SIDE)
    context.batch_images = images
    modules = {"encoder": encoder, **({"generator": method.generator_, "discriminator": method.discriminator_}
                                      if method.uses_gan else {})}
    before = {name: [p.detach().clone() for p in module.parameters()] for name, module in modules.items()}
    loss = method.loss(method.activation(encoder(images), context), torch.zeros(6, 2), torch.arange(6), context)
    optimiser.zero_grad()
    loss.backward()
    encoder_gradient = sum(float(p.grad.abs().sum()) for p in encoder.parameters() if p.grad is not None)
    optimiser.step()
    after_encoder = {name: [p.detach().clone() for p in module.parameters()] for name, module in modules.items()}
    method.after_step(None, context)
    changed = {}
    for stage, snapshot in (("network step", after_encoder), ("after step", None)):
        current = snapshot or {name: [p.detach() for p in module.parameters()] for name, module in modules.items()}
        reference = before if stage == "network step" else after_encoder
        changed[stage] = {name: any(not torch.equal(a, b) for a, b in zip(reference[name], current[name]))
                          for name in modules}
    changed["encoder gradient"] = encoder_gradient
    return changed


NEIGHBOURS = label_neighbourhood(np.eye(2, dtype=np.uint8)[np.arange(N_ITEMS) % 2])
TINY = {"generator_channels": (8, 4, 4), "discriminator_channels": (4, 8),
        "discriminator_dense": 16}


def test_eqs_18_to_21_which_loss_updates_which_parameters():
    full = one_step(BGAN(NEIGHBOURS, **TINY))
    # The network step moves only the encoder; the generator and then the discriminator step after it.
    assert full["network step"] == {"encoder": True, "generator": False, "discriminator": False}
    assert full["after step"] == {"encoder": False, "generator": True, "discriminator": True}
    # ℓA alone never reaches the encoder (eqs. 18, 21): its codes are detached for the adversarial term.
    adversarial_only = one_step(BGAN(NEIGHBOURS, losses=("A",), **TINY))
    assert adversarial_only["encoder gradient"] == 0.0
    assert adversarial_only["after step"] == {"encoder": False, "generator": True, "discriminator": True}
    # ℓC reaches encoder and generator; with no ℓA the discriminator is never stepped (eq. 20).
    content_only = one_step(BGAN(NEIGHBOURS, losses=("C",), **TINY))
    assert content_only["encoder gradient"] > 0
    assert content_only["after step"] == {"encoder": False, "generator": True, "discriminator": False}
    neighbours_only = one_step(BGAN(NEIGHBOURS, losses=("N",), **TINY))
    assert neighbours_only["network step"] == {"encoder": True}
    assert not hasattr(BGAN(NEIGHBOURS, losses=("N",)), "generator_")


@pytest.mark.parametrize(("options", "message"), [
    ({"lambda1": -0.1}, "lambda1"), ({"lambda2": -1}, "lambda2"), ({"losses": ("N", "X")}, "losses"),
    ({"betas": (5, 1)}, "betas: a continuation schedule must increase"), ({"relaxation": "sigmoid"}, "relaxation"),
])
def test_bad_settings_are_named(options, message):
    with pytest.raises(ValueError, match=message):
        BGAN(NEIGHBOURS, **options)


def tiny_images() -> tuple[ImageDataset, Split]:
    rng = np.random.default_rng(0)
    classes = np.arange(N_ITEMS) % 2
    pixels = rng.integers(0, 60, (N_ITEMS, SIDE, SIDE), dtype=np.uint8)
    pixels[classes == 1, :14] += 150
    dataset = ImageDataset("halves", np.eye(2, dtype=np.uint8)[classes], ("top", "bottom"), ArrayImages(pixels))
    items = np.arange(N_ITEMS)
    return dataset, Split(query=items[:8], database=items, train=items[8:], protocol="given")


def test_labels_never_reach_bgan_and_the_loss_parts_are_recorded():
    dataset, split = tiny_images()
    features = dataset.images(split.train).reshape(len(split.train), -1).astype(np.float32)
    neighbourhood = expanded_neighbourhood(features, k1=3, k2=2)
    options = {"epochs": 2, "batch_size": 8, "backbone_options": {"channels": [4, 8], "feature_dim": 16},
               "progress": False, "seed": 1}
    trained = train(BGAN(neighbourhood, betas=(1, 5), **TINY), dataset, split, N_BITS, **options)
    permuted = dataclasses.replace(dataset, labels=dataset.labels[np.random.default_rng(3).permutation(N_ITEMS)])
    again = train(BGAN(neighbourhood, betas=(1, 5), **TINY), permuted, split, N_BITS, **options)
    np.testing.assert_array_equal(trained.encode(dataset, split.query), again.encode(permuted, split.query))
    assert {"N", "C", "A", "D_accuracy"} <= set(trained.history.columns)
    assert np.isfinite(trained.history[["N", "C", "A"]].to_numpy()).all()
    assert trained.method.reconstruct(torch.ones(2, N_BITS)).shape == (2, 1, SIDE, SIDE)

