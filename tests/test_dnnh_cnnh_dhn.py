"""DNNH, CNNH and DHN (BGAN's Table 5 baselines): losses against hand computations, DNNH's
divide-and-encode module and in-batch triplets, CNNH's stage-1 coordinate descent against a naive
reference, and short trainings on Fashion-MNIST that beat LSH and repeat with the seed."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from hashkit.data import ImageDataset, Split
from hashkit.data.dataset import ArrayImages
from hashkit.deep.engine import train
from hashkit.deep.method import TrainingContext
from hashkit.deep.methods import CNNH, DHN, DNNH
from hashkit.deep.methods.cnnh import approximate_codes, stage1_objective
from hashkit.deep.methods.dhn import dhn_quantization, log_cosh
from hashkit.deep.methods.dnnh import DivideAndEncode, piecewise_threshold, triplet_ranking_loss
from tests.conftest import assert_learns_and_repeats

torch.set_num_threads(2)

N_BITS = 32


def make_context(labels: torch.Tensor, n_bits: int, seed: int = 0) -> TrainingContext:
    return TrainingContext(n_bits=n_bits, train_labels=labels, device=torch.device("cpu"), n_epochs=1,
                           generator=torch.Generator().manual_seed(seed),
                           encode_train=lambda positions=None: torch.zeros(len(labels), n_bits))


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


# --- DNNH ---------------------------------------------------------------------------------------

def test_triplet_ranking_loss_matches_a_hand_computed_value():
    # Items 0, 1 of class A, item 2 of class B: triplets (0, 1, 2) and (1, 0, 2); item 2 has no positive.
    # F0 = (.9, .2), F1 = (.7, .4), F2 = (.1, .1): D01 = .04 + .04 = .08, D02 = .64 + .01 = .65,
    # D12 = .36 + .09 = .45. Margin 1: (0,1,2) 1 - (.65 - .08) = .43, (1,0,2) 1 - (.45 - .08) = .63.
    labels = torch.tensor([[1.0, 0], [1, 0], [0, 1]])
    outputs = torch.tensor([[0.9, 0.2], [0.7, 0.4], [0.1, 0.1]], requires_grad=True)
    loss = triplet_ranking_loss(outputs, labels, margin=1.0)
    assert loss.item() == pytest.approx((0.43 + 0.63) / 2)
    loss.backward()
    assert torch.isfinite(outputs.grad).all() and outputs.grad.abs().sum() > 0
    # Margin 0.5: the first triplet is satisfied (hinge 0), the second costs .5 - .37 = .13.
    assert triplet_ranking_loss(outputs, labels, margin=0.5).item() == pytest.approx(0.13 / 2)


def test_triplets_are_every_multi_label_query_positive_negative_combination_of_the_batch():
    generator = torch.Generator().manual_seed(0)
    labels = (torch.rand(9, 4, generator=generator) < 0.35).float()
    labels[0] = 0  # an item without labels has no positive: it is never a query or a positive
    outputs = torch.rand(9, 5, generator=generator)
    total, count = 0.0, 0
    for a, p, n in itertools.product(range(9), repeat=3):
        shares_p, shares_n = (labels[a] @ labels[p]) > 0, (labels[a] @ labels[n]) > 0
        if a != p and shares_p and not shares_n:
            gap = ((outputs[a] - outputs[n]) ** 2).sum() - ((outputs[a] - outputs[p]) ** 2).sum()
            total += max(0.0, 1.0 - gap.item())
            count += 1
    assert count > 0
    assert triplet_ranking_loss(outputs, labels).item() == pytest.approx(total / count, rel=1e-5)


def test_a_batch_without_triplets_costs_nothing_and_stays_finite():
    outputs = torch.rand(3, 4, requires_grad=True)
    loss = triplet_ranking_loss(outputs, torch.eye(3))  # three classes, one item each: no positive
    assert loss.item() == 0
    loss.backward()
    assert torch.equal(outputs.grad, torch.zeros_like(outputs))


def test_divide_and_encode_gives_each_bit_its_own_slice():
    module = DivideAndEncode(n_bits=3, slice_units=2)
    with torch.no_grad():
        module.weight.copy_(torch.tensor([[1.0, -1.0], [0.5, 2.0], [-1.0, 1.0]]))
        module.bias.copy_(torch.tensor([0.0, -1.0, 0.5]))
    features = torch.tensor([[2.0, -3.0, 1.0, 0.5, -1.0, -2.0]])
    # relu: slices (2, 0), (1, .5), (0, 0); units 2, .5 + 1 - 1 = .5, .5.
    torch.testing.assert_close(module(features), torch.sigmoid(torch.tensor([[2.0, 0.5, 0.5]])))
    changed = features.clone()
    changed[0, 2:4] = torch.tensor([-5.0, 7.0])  # only slice 1
    difference = module(changed) - module(features)
    assert difference[0, 1] != 0 and difference[0, 0] == 0 and difference[0, 2] == 0


def test_piecewise_threshold_and_codes_at_one_half():
    values = torch.tensor([0.1, 0.45, 0.5, 0.55, 0.9], requires_grad=True)
    thresholded = piecewise_threshold(values, 0.1)
    torch.testing.assert_close(thresholded, torch.tensor([0.0, 0.45, 0.5, 0.55, 1.0]))
    thresholded.sum().backward()
    torch.testing.assert_close(values.grad, torch.tensor([0.0, 1, 1, 1, 0]))
    codes = DNNH().codes(torch.tensor([[0.5, 0.49, 0.8, 0.0]]), None)
    torch.testing.assert_close(codes, torch.tensor([[1.0, -1, 1, -1]]))


def test_dnnh_widens_the_hashing_layer_and_steps_its_own_units():
    method = DNNH(slice_units=4)
    assert method.output_width(8, 10) == 32
    labels = torch.tensor([[1.0, 0], [1, 0], [0, 1], [0, 1]])
    context = make_context(labels, 8)
    method.begin(context)
    logits = torch.randn(4, 32, generator=torch.Generator().manual_seed(1), requires_grad=True)
    outputs = method.activation(logits, context)
    assert outputs.shape == (4, 8) and ((outputs > 0) & (outputs < 1)).all()
    before = method.encoder_.weight.detach().clone()
    method.loss(outputs, labels, torch.arange(4), context).backward()
    assert logits.grad.abs().sum() > 0
    method.after_step(outputs, context)
    assert not torch.equal(before, method.encoder_.weight.detach())
    assert method.encoder_.weight.grad is None  # cleared for the next batch


# --- CNNH ---------------------------------------------------------------------------------------

def naive_stage1(labels: np.ndarray, n_bits: int, sweeps: int, tolerance: float, seed: int) -> np.ndarray:
    """Stage 1 written directly: the full L = HHᵀ − qS, the paper's Newton step with the same safeguards,
    every change of ‖L‖² recomputed from scratch; the same random draws in the same order."""
    rng = np.random.default_rng(seed)
    n = len(labels)
    similarity = np.where(labels @ labels.T > 0, 1.0, -1.0)
    np.fill_diagonal(similarity, 1.0)
    codes = rng.uniform(-1, 1, (n, n_bits))

    def squared_residual(h: np.ndarray) -> float:
        return float(((h @ h.T - n_bits * similarity) ** 2).sum())

    previous = squared_residual(codes)
    for _ in range(sweeps):
        for i in rng.permutation(n):
            for j in rng.permutation(n_bits):
                residual = codes @ codes.T - n_bits * similarity
                value = codes[i, j]
                gradient = 4 * residual[i] @ codes[:, j]
                curvature = 4 * (codes[:, j] @ codes[:, j] + value ** 2 + residual[i, i])
                steps = ([min(max(-gradient / curvature, -1 - value), 1 - value)] if curvature > 0
                         else [-1 - value, 1 - value])
                changes = []
                for step in steps:
                    trial = codes.copy()
                    trial[i, j] += step
                    changes.append(squared_residual(trial) - squared_residual(codes))
                best = int(np.argmin(changes))
                if changes[best] < 0:
                    codes[i, j] += steps[best]
        current = squared_residual(codes)
        if previous - current <= tolerance * previous:
            break
        previous = current
    return codes


def test_stage1_objective_matches_a_hand_computed_value():
    # Two items of one class (S all ones), H = [[1, 1], [1, -1]]: HHᵀ/q = I, S - I has two ones.
    assert stage1_objective(np.array([[1.0, 1], [1, -1]]), np.array([[1.0], [1.0]])) == pytest.approx(2.0)
    # An item without a label is still similar to itself; the pair is dissimilar: S = [[1, -1], [-1, 1]].
    assert stage1_objective(np.array([[1.0, 1], [1, -1]]), np.array([[1.0], [0.0]])) == pytest.approx(2.0)


def test_stage1_coordinate_descent_matches_the_naive_reference():
    rng = np.random.default_rng(3)
    labels = (rng.random((12, 3)) < 0.4).astype(float)
    fast, objectives = approximate_codes(labels, 4, sweeps=3, tolerance=0.0, rng=np.random.default_rng(7))
    np.testing.assert_allclose(fast, naive_stage1(labels, 4, sweeps=3, tolerance=0.0, seed=7), atol=1e-9)
    assert objectives[-1] == pytest.approx(stage1_objective(fast, labels))
    assert np.abs(fast).max() <= 1


def test_stage1_decreases_its_objective_and_separates_the_classes():
    rng = np.random.default_rng(0)
    multi_label = (rng.random((60, 5)) < 0.3).astype(float)
    _, objectives = approximate_codes(multi_label, 12, sweeps=6, tolerance=0.0, rng=np.random.default_rng(0))
    assert all(later <= earlier for earlier, later in zip(objectives, objectives[1:]))
    assert objectives[-1] < 0.7 * objectives[0]

    classes = np.repeat(np.arange(3), 10)
    labels = np.eye(3)[classes]
    relaxed, _ = approximate_codes(labels, 8, rng=np.random.default_rng(1))
    codes = np.where(relaxed >= 0, 1, -1)
    distances = (8 - codes @ codes.T) / 2
    same = classes[:, None] == classes[None, :]
    # Every item is nearer to each item of its class than to any item of another class.
    assert (np.where(same, distances, -np.inf).max(axis=1) < np.where(same, np.inf, distances).min(axis=1)).all()


def test_cnnh_begin_learns_targets_and_the_loss_regresses_them():
    labels = torch.eye(2)[torch.tensor([0, 0, 1, 1])]
    method, context = CNNH(sweeps=3), make_context(labels, 4)
    method.begin(context)
    assert method.codes_.shape == (4, 4) and set(method.codes_.unique().tolist()) <= {-1.0, 1.0}
    assert method.stage1_objectives_[-1] < method.stage1_objectives_[0]
    # Hand value: targets (1, -1), (-1, 1); outputs (.5, -1), (0, 2): errors .25, 0, 1, 1 → mean .5625.
    method.codes_ = torch.tensor([[1.0, -1], [-1, 1]])
    outputs = torch.tensor([[0.5, -1], [0, 2]], requires_grad=True)
    loss = method.loss(outputs, labels[[0, 2]], torch.tensor([0, 1]), make_context(labels, 2))
    assert loss.item() == pytest.approx(0.5625)
    loss.backward()
    assert torch.isfinite(outputs.grad).all()
    torch.testing.assert_close(method.codes(torch.tensor([[0.0, -0.1]]), make_context(labels, 2)),
                               torch.tensor([[1.0, -1]]))


def test_cnnh_plus_adds_the_class_labels():
    labels = torch.eye(2)[torch.tensor([0, 1])]
    method = CNNH(use_labels=True, label_weight=0.5)
    assert method.output_width(2, 2) == 4 and CNNH().output_width(2, 2) == 2
    method.codes_, method.single_label_ = torch.tensor([[1.0, -1], [-1, 1]]), True
    # Codes part exact (error 0); class scores (2, 0) for class 0 and (0, 0) for class 1:
    # cross-entropy log(1 + e^-2) and log 2, mean, times 0.5.
    outputs = torch.tensor([[1.0, -1, 2, 0], [-1, 1, 0, 0]])
    loss = method.loss(outputs, labels, torch.tensor([0, 1]), make_context(labels, 2))
    assert loss.item() == pytest.approx(0.5 * (softplus(-2) + math.log(2)) / 2)
    torch.testing.assert_close(method.codes(outputs, make_context(labels, 2)), torch.tensor([[1.0, -1], [-1, 1]]))


# --- DHN ----------------------------------------------------------------------------------------

def test_log_cosh_is_stable_and_exact():
    values = torch.tensor([-3.0, -0.5, 0.0, 0.8, 20.0], dtype=torch.float64)
    torch.testing.assert_close(log_cosh(values), torch.log(torch.cosh(values)))
    assert log_cosh(torch.tensor(1000.0)).item() == pytest.approx(1000 - math.log(2))


def test_dhn_loss_matches_a_hand_computed_value():
    # u1 = (.5, -.5), u2 = (.2, .4): u1ᵀu2 = -.1. Same label: log(1 + e^-.1) + .1 per ordered pair;
    # quantisation Σ_k log cosh(|u| - 1): 2 log cosh(.5) and log cosh(.8) + log cosh(.6), mean × λ.
    outputs = torch.tensor([[0.5, -0.5], [0.2, 0.4]], requires_grad=True)
    labels = torch.tensor([[1.0, 0], [1, 0]])
    context = make_context(labels, 2)
    quantization = (2 * math.log(math.cosh(0.5)) + math.log(math.cosh(0.8)) + math.log(math.cosh(0.6))) / 2
    loss = DHN(quantization_weight=0.3).loss(outputs, labels, torch.arange(2), context)
    assert loss.item() == pytest.approx(softplus(-0.1) + 0.1 + 0.3 * quantization)
    loss.backward()
    assert torch.isfinite(outputs.grad).all()
    torch.testing.assert_close(dhn_quantization(outputs.detach()),
                               torch.tensor([2 * math.log(math.cosh(0.5)),
                                             math.log(math.cosh(0.8)) + math.log(math.cosh(0.6))]))
    # Dissimilar, alpha = 1/2 (DPSH's form): log(1 + e^-.05).
    dissimilar = DHN(alpha=0.5, quantization_weight=0.0).loss(outputs, torch.eye(2), torch.arange(2), context)
    assert dissimilar.item() == pytest.approx(softplus(-0.05))
    assert torch.equal(DHN().activation(torch.tensor([0.3]), context), torch.tanh(torch.tensor([0.3])))


# --- training -----------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [DNNH, CNNH, DHN], ids=["DNNH", "CNNH", "DHN"])
def test_short_training_beats_lsh_and_repeats_with_the_seed(make, fashion_images, fashion_images_lsh_map):
    assert_learns_and_repeats(make, fashion_images, fashion_images_lsh_map, N_BITS, epochs=2, few_train=200)


@pytest.mark.parametrize("make", [DNNH, lambda: DNNH(epsilon=0.2), CNNH, lambda: CNNH(use_labels=True), DHN],
                         ids=["DNNH", "DNNH-threshold", "CNNH", "CNNH+", "DHN"])
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
    codes = trained.encode(dataset, split.query)
    assert codes.shape == (20, 8) and set(np.unique(codes)) <= {-1, 1}


@pytest.mark.parametrize(("make", "parameter"), [
    (lambda: DNNH(margin=0), "margin"),
    (lambda: DNNH(margin=float("nan")), "margin"),
    (lambda: DNNH(slice_units=0), "slice_units"),
    (lambda: DNNH(slice_units=2.5), "slice_units"),
    (lambda: DNNH(epsilon=0.5), "epsilon"),
    (lambda: DNNH(epsilon=-0.1), "epsilon"),
    (lambda: DNNH(epsilon=float("nan")), "epsilon"),
    (lambda: DNNH(head_learning_rate=0), "head_learning_rate"),
    (lambda: CNNH(sweeps=0), "sweeps"),
    (lambda: CNNH(tolerance=-1), "tolerance"),
    (lambda: CNNH(use_labels="yes"), "use_labels"),
    (lambda: CNNH(label_weight=float("inf")), "label_weight"),
    (lambda: DHN(alpha=0), "alpha"),
    (lambda: DHN(quantization_weight=-0.1), "quantization_weight"),
])
def test_bad_hyper_parameters_name_themselves(make, parameter):
    with pytest.raises(ValueError, match=parameter):
        make()


def test_a_batch_too_small_for_a_triplet_is_refused_before_training():
    dataset = ImageDataset(name="tiny", labels=np.eye(2, dtype=np.uint8)[[0, 0, 1, 1]], class_names=("a", "b"),
                           source=ArrayImages(np.zeros((4, 8, 8), dtype=np.uint8)))
    split = Split(query=np.arange(4), database=np.arange(4), train=np.arange(4), protocol="given")
    with pytest.raises(ValueError, match="batch_size"):
        train(DNNH(), dataset, split, 4, batch_size=2, progress=False)
