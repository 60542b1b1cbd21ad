"""DTSH and VDSH (backprop): losses against hand computations, DTSH's triplet sampling on single- and
multi-label data, VDSH's ridge classifier, and short trainings on Fashion-MNIST that beat LSH."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from hashkit.data import ImageDataset, Split
from hashkit.data.dataset import ArrayImages
from hashkit.deep.engine import train
from hashkit.deep.method import TrainingContext
from hashkit.deep.methods import DTSH, VDSH
from hashkit.deep.methods.dtsh import sample_triplets, triplet_loss
from hashkit.deep.methods.vdsh import ridge_classifier
from tests.conftest import assert_learns_and_repeats

torch.set_num_threads(2)

N_BITS = 32


def make_context(labels: torch.Tensor, memory: torch.Tensor, seed: int = 0) -> TrainingContext:
    return TrainingContext(n_bits=memory.shape[1], train_labels=labels, device=torch.device("cpu"), n_epochs=1,
                           generator=torch.Generator().manual_seed(seed),
                           encode_train=lambda positions=None: memory.clone())


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def test_triplet_loss_matches_a_hand_computed_value():
    # q = (1, 1, -1), p = (1, 1, 1), n = (-1, 1, 1): theta_qp = (1 + 1 - 1) / 2 = 0.5,
    # theta_qn = (-1 + 1 - 1) / 2 = -0.5; margin 1.5: softplus(-(0.5 + 0.5 - 1.5)) = log(1 + e^0.5).
    q, p, n = torch.tensor([1.0, 1, -1]), torch.tensor([1.0, 1, 1]), torch.tensor([-1.0, 1, 1])
    assert triplet_loss(q, p, n, 1.5).item() == pytest.approx(math.log(1 + math.exp(0.5)))


def test_triplet_loss_broadcasts_positives_against_negatives():
    generator = torch.Generator().manual_seed(0)
    anchors, positives, negatives = (torch.randn(shape, generator=generator) for shape in
                                     ((2, 5), (2, 3, 3, 5), (2, 3, 4, 5)))
    losses = triplet_loss(anchors[:, None, None, None], positives[:, :, :, None], negatives[:, :, None], 2.0)
    assert losses.shape == (2, 3, 3, 4)
    for a, g, i, j in [(0, 0, 0, 0), (1, 2, 1, 3), (0, 1, 2, 1)]:
        theta_p = 0.5 * anchors[a] @ positives[a, g, i]
        theta_n = 0.5 * anchors[a] @ negatives[a, g, j]
        assert losses[a, g, i, j].item() == pytest.approx(softplus(-(theta_p - theta_n - 2.0).item()), rel=1e-5)


def test_dtsh_loss_matches_a_hand_computed_value_and_reaches_only_the_anchors():
    # Items 0, 1 of class A, 2, 3 of class B; the batch is items 0 and 2, so each anchor has exactly
    # one positive and one negative outside the batch: triplets (0, 1, 3) and (2, 3, 1).
    # Memory u1 = (1, 1, 1), u3 = (-1, 1, -1); outputs u0 = (.5, 1, 1), u2 = (-1, -.5, -1); margin 3/2.
    # (0, 1, 3): theta_01 = 2.5/2 = 1.25, theta_03 = -0.5/2 = -0.25, softplus(-(1.25 + 0.25 - 1.5)) = log 2.
    # (2, 3, 1): theta_23 = 1.5/2 = 0.75, theta_21 = -2.5/2 = -1.25, softplus(-(0.75 + 1.25 - 1.5)) = softplus(-0.5).
    # Quantisation ||u - sign(u)||^2: 0.25 each, times eta = 2. K = (2 - 1) classes x 1 x 1 = 1;
    # the loss is the sum over triplets and anchors divided by B K = 2.
    labels = torch.tensor([[1.0, 0], [1, 0], [0, 1], [0, 1]])
    memory = torch.tensor([[0.0, 0, 0], [1, 1, 1], [0, 0, 0], [-1, 1, -1]])
    outputs = torch.tensor([[0.5, 1, 1], [-1, -0.5, -1]], requires_grad=True)
    method, context = DTSH(eta=2.0, positives=1, negatives=1), make_context(labels, memory)
    method.begin(context)
    loss = method.loss(outputs, labels[[0, 2]], torch.tensor([0, 2]), context)
    expected = (math.log(2) + softplus(-0.5) + 2 * (0.25 + 0.25)) / 2
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    loss.backward()
    assert torch.isfinite(outputs.grad).all() and outputs.grad.abs().sum() > 0
    assert not method.memory_.requires_grad
    torch.testing.assert_close(method.memory_[[0, 2]], outputs.detach())
    assert method.margin_for(3) == 1.5 and DTSH(margin=4.0).margin_for(3) == 4.0
    assert torch.equal(method.activation(outputs, context), outputs)


def check_triplets(labels: torch.Tensor, anchors: torch.Tensor, triplets, per_label_groups: bool) -> None:
    """Every valid group's positives share a label with its anchor, its negatives none, none is in the batch."""
    anchor_labels = labels[anchors]
    for a in range(len(anchors)):
        for g in range(triplets.valid.shape[1]):
            if not triplets.valid[a, g]:
                continue
            positives, negatives = triplets.positives[a, g], triplets.negatives[a, g]
            assert ((labels[positives] @ anchor_labels[a]) > 0).all()
            assert ((labels[negatives] @ anchor_labels[a]) == 0).all()
            assert not np.isin(positives.numpy(), anchors.numpy()).any()
            assert not np.isin(negatives.numpy(), anchors.numpy()).any()
            if per_label_groups:
                assert (labels[negatives, g] == 1).all()


def test_single_label_sampling_is_the_authors_one_group_per_other_class():
    generator = torch.Generator().manual_seed(0)
    labels = torch.eye(4)[torch.randint(4, (200,), generator=generator)]
    anchors = torch.arange(16)
    triplets = sample_triplets(labels[anchors], labels, anchors, 5, 6, torch.Generator().manual_seed(1))
    assert triplets.positives.shape == (16, 4, 5) and triplets.negatives.shape == (16, 4, 6)
    check_triplets(labels, anchors, triplets, per_label_groups=True)
    # Every anchor has one group per other class; its own class's group is empty.
    assert (triplets.valid.sum(dim=1) == 3).all()
    assert not triplets.valid[labels[anchors] > 0].any()
    # Without replacement: an anchor's 4 x 5 positives are distinct (each class has ~50 items).
    for a in range(16):
        assert len(set(triplets.positives[a].flatten().tolist())) == 20


@pytest.mark.parametrize("negative_groups", [None, 3])
def test_multi_label_sampling_draws_only_true_positives_and_negatives(negative_groups):
    generator = torch.Generator().manual_seed(0)
    labels = (torch.rand(150, 6, generator=generator) < 0.3).float()
    labels[labels.sum(dim=1) == 0, 0] = 1
    anchors = torch.arange(20)
    triplets = sample_triplets(labels[anchors], labels, anchors, 4, 5, torch.Generator().manual_seed(1),
                               negative_groups=negative_groups)
    groups = 6 if negative_groups is None else 3
    assert triplets.valid.shape == (20, groups)
    check_triplets(labels, anchors, triplets, per_label_groups=negative_groups is None)
    assert triplets.valid.any()
    if negative_groups is None:
        # The groups of an anchor's own labels are empty.
        assert not triplets.valid[labels[anchors] > 0].any()


def test_sampling_repeats_with_the_seed():
    labels = (torch.rand(100, 5, generator=torch.Generator().manual_seed(0)) < 0.4).float()
    anchors = torch.arange(10)

    def draw(seed: int):
        triplets = sample_triplets(labels[anchors], labels, anchors, 3, 3, torch.Generator().manual_seed(seed))
        return torch.cat([triplets.positives.flatten(), triplets.negatives.flatten()])

    assert torch.equal(draw(7), draw(7))
    assert not torch.equal(draw(7), draw(8))


def test_anchors_without_positives_or_negatives_weigh_nothing_and_keep_the_loss_finite():
    # Item 0 is alone in class A (no positive outside the batch); items 1-3 are class B, which has no
    # negative for them once item 0 is in the batch: no anchor has a triplet, only quantisation is left.
    labels = torch.tensor([[1.0, 0], [0, 1], [0, 1], [0, 1]])
    memory = torch.randn(4, 3, generator=torch.Generator().manual_seed(0))
    method, context = DTSH(eta=2.0, positives=2, negatives=2), make_context(labels, memory)
    method.begin(context)
    outputs = torch.tensor([[0.5, -1, 1], [1, 1, 1]], requires_grad=True)
    loss = method.loss(outputs, labels[[0, 1]], torch.tensor([0, 1]), context)
    # K = 1 x 2 x 2 = 4; quantisation 0.25 + 0 times eta 2; divided by B K = 8.
    assert loss.item() == pytest.approx(2 * 0.25 / 8)
    loss.backward()
    assert torch.isfinite(outputs.grad).all()


def test_vdsh_ridge_classifier_solves_the_normal_equations():
    generator = torch.Generator().manual_seed(0)
    codes = torch.where(torch.rand(30, 8, generator=generator) < 0.5, 1.0, -1.0).double()
    labels = torch.eye(3, dtype=torch.float64)[torch.randint(3, (30,), generator=generator)]
    weights = ridge_classifier(codes, labels, 0.7)
    torch.testing.assert_close((codes.T @ codes + 0.7 * torch.eye(8, dtype=torch.float64)) @ weights, codes.T @ labels)
    # The method fits W on sign(outputs) of all training items, before training and after each epoch.
    outputs = torch.randn(30, 8, generator=generator)
    method, context = VDSH(nu=0.7), make_context(labels.float(), outputs)
    method.begin(context)
    torch.testing.assert_close(method.codes_, torch.where(outputs >= 0, 1.0, -1.0))
    torch.testing.assert_close(method.classifier_, ridge_classifier(method.codes_, labels.float(), 0.7))


def test_vdsh_loss_matches_a_hand_computed_value():
    # W = [[1, 0], [0, 1], [0, 0]] reads bits 1 and 2; u = (0.5, -1, 2), y = (1, 0):
    # W^T u = (0.5, -1), error 0.25 + 1 = 1.25; ||u - sign(u)||^2 = 0.25 + 0 + 1 = 1.25, times mu = 0.1.
    method = VDSH(mu=0.1)
    method.classifier_ = torch.tensor([[1.0, 0], [0, 1], [0, 0]])
    outputs = torch.tensor([[0.5, -1, 2]], requires_grad=True)
    loss = method.loss(outputs, torch.tensor([[1.0, 0]]), torch.tensor([0]), None)
    assert loss.item() == pytest.approx(1.25 + 0.1 * 1.25)
    loss.backward()
    assert torch.isfinite(outputs.grad).all()


@pytest.mark.parametrize("make", [DTSH, VDSH], ids=["DTSH", "VDSH"])
def test_short_training_beats_lsh_and_repeats_with_the_seed(make, fashion_images, fashion_images_lsh_map):
    assert_learns_and_repeats(make, fashion_images, fashion_images_lsh_map, N_BITS, epochs=3, few_train=300)


@pytest.mark.parametrize("make", [DTSH, lambda: DTSH(negative_groups=2), VDSH], ids=["DTSH", "DTSH-pooled", "VDSH"])
def test_training_on_multi_label_data_runs(make):
    rng = np.random.default_rng(0)
    labels = (rng.random((120, 4)) < 0.35).astype(np.uint8)
    labels[labels.sum(axis=1) == 0, 0] = 1
    dataset = ImageDataset(name="multi-label", labels=labels, class_names=("a", "b", "c", "d"),
                           source=ArrayImages(rng.integers(0, 256, (120, 16, 16), dtype=np.uint8)))
    items = np.arange(120)
    split = Split(query=items[:20], database=items, train=items, protocol="given")
    trained = train(make(), dataset, split, 8, epochs=1, batch_size=32, progress=False, seed=0)
    assert np.isfinite(trained.history["loss"]).all()
    assert trained.encode(dataset, split.query).shape == (20, 8)


@pytest.mark.parametrize(("make", "parameter"), [
    (lambda: DTSH(margin=-1), "margin"),
    (lambda: DTSH(margin=float("inf")), "margin"),
    (lambda: DTSH(eta=-0.5), "eta"),
    (lambda: DTSH(positives=0), "positives"),
    (lambda: DTSH(negatives=2.5), "negatives"),
    (lambda: DTSH(negative_groups=0), "negative_groups"),
    (lambda: VDSH(nu=0), "nu"),
    (lambda: VDSH(nu=float("nan")), "nu"),
    (lambda: VDSH(mu=-1), "mu"),
])
def test_bad_hyper_parameters_name_themselves(make, parameter):
    with pytest.raises(ValueError, match=parameter):
        make()
