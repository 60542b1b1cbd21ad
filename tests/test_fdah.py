"""FDAH: its gradient (eq. 6), its closed forms for W (eq. 7) and B (eq. 9), and a short training."""

import numpy as np
import pytest
import torch

from hashkit.deep.engine import evaluate, train
from hashkit.deep.method import TrainingContext
from hashkit.deep.methods.fdah import FDAH, LabelGroups, code_update, fdah_gradient, regression_update

# Float64 so that the closed forms can be checked to tight tolerances.
DOUBLE = torch.float64


def tiny_problem(n=12, m=5, n_bits=4, n_classes=3, seed=0):
    generator = torch.Generator().manual_seed(seed)
    labels = torch.eye(n_classes, dtype=DOUBLE)[torch.randint(0, n_classes, (n,), generator=generator)]
    labels[0, 1] = 1.0  # one multi-label item
    codes = torch.where(torch.rand(n, n_bits, generator=generator, dtype=DOUBLE) < 0.5, -1.0, 1.0).to(DOUBLE)
    regression = torch.randn(n_classes, n_bits, generator=generator, dtype=DOUBLE)
    logits = torch.randn(m, n_bits, generator=generator, dtype=DOUBLE)
    query_positions = torch.arange(m) * 2
    return labels, codes, regression, logits, query_positions


def objective(labels, codes, regression, outputs, query_labels, gamma1, gamma2, gamma3):
    """FDAH's J (eqs. 2–4) written term by term with explicit loops over i and j."""
    n_bits = codes.shape[1]
    total = 0.0
    for j in range(len(outputs)):
        sharing = [i for i in range(len(labels)) if float(labels[i] @ query_labels[j]) > 0]
        for i in range(len(labels)):
            s_ij = 1.0 if i in sharing else -1.0
            total = total + gamma1 * ((regression.T @ labels[i]) @ outputs[j] - n_bits * s_ij) ** 2
            if i in sharing:
                total = total + gamma2 / len(sharing) * ((codes[i] - outputs[j]) ** 2).sum()
    return total + gamma3 * ((codes - labels @ regression) ** 2).sum()


def context_for(labels, n_bits):
    return TrainingContext(n_bits=n_bits, train_labels=labels, device=torch.device("cpu"), n_epochs=1,
                           generator=torch.Generator().manual_seed(0), encode_train=lambda positions=None: None)


def test_the_batch_loss_is_the_objective_and_autograd_matches_eq_6():
    labels, codes, regression, logits, positions = tiny_problem()
    method = FDAH(gamma1=0.3, gamma2=2.0, gamma3=1.0)
    method.codes_, method.regression_ = codes, regression
    method.label_groups_ = LabelGroups.of(labels)
    method.code_totals_ = method.label_groups_.total(codes)
    logits = logits.clone().requires_grad_(True)
    outputs = torch.tanh(logits)
    loss = method.loss(outputs, labels[positions], positions, context_for(labels, codes.shape[1]))
    by_hand = objective(labels, codes, regression, outputs, labels[positions], 0.3, 2.0, 0.0) / len(outputs)
    assert loss.item() == pytest.approx(by_hand.item(), rel=1e-10)
    loss.backward()
    similarity = 2 * (labels @ labels[positions].T > 0).double() - 1
    affinity = (similarity + 1) / 2
    gradient = fdah_gradient(outputs.detach(), labels @ regression, codes, similarity,
                             affinity / affinity.sum(dim=0), 0.3, 2.0)
    torch.testing.assert_close(logits.grad, gradient / len(outputs))


def test_label_groups_hold_each_distinct_label_vector_once_with_its_items_sums():
    labels = torch.tensor([[1, 0], [0, 1], [1, 0], [1, 1], [0, 1], [1, 0]], dtype=DOUBLE)
    values = torch.arange(12, dtype=DOUBLE).reshape(6, 2)
    groups = LabelGroups.of(labels)
    assert len(groups.labels) == 3
    torch.testing.assert_close(groups.labels[groups.members], labels)
    for group, row in enumerate(groups.labels):
        items = (labels == row).all(dim=1)
        assert groups.sizes[group].item() == items.sum().item()
        torch.testing.assert_close(groups.total(values)[group], values[items].sum(dim=0))


def test_eq_7_gives_a_stationary_point_of_the_objective_in_w():
    labels, codes, random_regression, logits, positions = tiny_problem(seed=1)
    outputs = torch.tanh(logits)
    solved = regression_update(LabelGroups.of(labels), codes, outputs, labels[positions], gamma1=0.2, gamma3=0.7)
    gradients = []
    for regression in (solved, random_regression):
        regression = regression.clone().requires_grad_(True)
        objective(labels, codes, regression, outputs, labels[positions], 0.2, 1.0, 0.7).backward()
        gradients.append(regression.grad.abs().max().item())
    # Zero but for the tiny ridge that keeps (YYᵀ)⁻¹ defined.
    assert gradients[0] < 1e-4 < 1.0 < gradients[1]


def test_eq_9_maximises_its_objective_bit_by_bit():
    labels, codes, regression, logits, positions = tiny_problem(seed=2)
    outputs = torch.tanh(logits)
    updated = code_update(LabelGroups.of(labels), regression, outputs, labels[positions], gamma2=1.5, gamma3=0.5)
    assert set(updated.unique().tolist()) <= {-1.0, 1.0}

    def value(candidate):
        return objective(labels, candidate, regression, outputs, labels[positions], 0.0, 1.5, 0.5)

    best = value(updated)
    for i in range(len(updated)):
        for bit in range(updated.shape[1]):
            flipped = updated.clone()
            flipped[i, bit] *= -1
            assert value(flipped) >= best - 1e-9


def test_the_start_gives_each_item_the_sign_of_its_class_mean_output_then_fits_w():
    labels = torch.eye(3)[torch.tensor([0, 1, 2] * 6)]
    class_outputs = torch.tensor([[0.9, -0.2, 0.5], [-0.7, 0.4, 0.3], [0.1, -0.8, -0.6]])
    context = context_for(labels, n_bits=3)
    context.train_labels = labels
    context.encode_train = lambda positions: class_outputs[torch.as_tensor(positions) % 3]
    method = FDAH(sample_size=9)
    method.begin(context)
    expected_codes = torch.sign(class_outputs)[torch.arange(18) % 3]
    torch.testing.assert_close(method.codes_, expected_codes)
    sample = method.sample_
    expected_regression = regression_update(LabelGroups.of(labels), method.codes_, class_outputs[sample % 3], labels[sample],
                                            1e-3, 1.0)
    torch.testing.assert_close(method.regression_, expected_regression)


@pytest.mark.parametrize("bad", [{"gamma1": -1.0}, {"gamma3": 0.0}, {"sample_size": 0}, {"epochs_per_round": 0}])
def test_bad_hyper_parameters_are_named(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        FDAH(**bad)


def test_a_short_training_ranks_by_learned_codes_and_beats_lsh(fashion_images, fashion_images_lsh_map):
    fashion, small = fashion_images
    with pytest.raises(ValueError, match="sample_size"):
        train(FDAH(sample_size=5000), fashion, small, 32, epochs=1, progress=False)
    trained = train(FDAH(sample_size=600), fashion, small, 32, epochs=6, batch_size=64, progress=False,
                    backbone_options={"channels": (16, 32)}, seed=0)
    assert len(trained.history) == 6
    fdah_map = evaluate(trained, fashion, small)
    assert fdah_map > fashion_images_lsh_map + 0.2, (fdah_map, fashion_images_lsh_map)
    again = train(FDAH(sample_size=600), fashion, small, 32, epochs=6, batch_size=64, progress=False,
                  backbone_options={"channels": (16, 32)}, seed=0)
    np.testing.assert_array_equal(trained.database_codes, again.database_codes)
