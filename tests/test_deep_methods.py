"""DSDH, DDSH, HashNet, DCH and MMHH trained by the shared engine: better than LSH, reproducible, checked."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hashkit.data import Split
from hashkit.deep.engine import train
from hashkit.deep.method import TrainingContext
from hashkit.deep.methods.dch import DCH
from hashkit.deep.methods.ddsh import DDSH
from hashkit.deep.methods.dsdh import DSDH
from hashkit.deep.methods.hashnet import HashNet
from hashkit.deep.methods.mmhh import MMHH
from hashkit.metrics import mean_average_precision

torch.set_num_threads(2)

METHODS = {"DSDH": DSDH, "DDSH": DDSH, "HashNet": HashNet, "DCH": DCH, "MMHH": MMHH}
N_BITS = 32


@pytest.mark.parametrize("name", sorted(METHODS))
def test_short_training_beats_lsh_and_repeats_with_the_seed(name, fashion_images, fashion_images_lsh_map):
    dataset, split = fashion_images
    lsh_map = fashion_images_lsh_map
    trained = train(METHODS[name](), dataset, split, N_BITS, epochs=4, batch_size=64, progress=False, seed=0)
    query_codes = trained.encode(dataset, split.query)
    learned_map = mean_average_precision(query_codes, trained.codes_for_database(dataset, split.database),
                                         dataset.labels[split.query], dataset.labels[split.database])
    assert learned_map > lsh_map + 0.1, (learned_map, lsh_map)
    assert np.isfinite(trained.history["loss"]).all()
    # The same seed gives the same codes: a second, one-epoch run on a few items against a third.
    few = Split(query=split.query[:50], database=split.train[:300], train=split.train[:300], protocol="given")
    runs = [train(METHODS[name](), dataset, few, N_BITS, epochs=1, batch_size=64, progress=False, seed=seed)
            .encode(dataset, few.query) for seed in (1, 1, 2)]
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


def context(n_epochs: int = 10, n_bits: int = N_BITS) -> TrainingContext:
    labels = torch.eye(2)[torch.tensor([0, 1, 0, 1])]
    return TrainingContext(n_bits=n_bits, train_labels=labels, device=torch.device("cpu"), n_epochs=n_epochs,
                           generator=torch.Generator().manual_seed(0),
                           encode_train=lambda positions=None: torch.zeros(4, n_bits))


def test_hashnet_activation_steepens_with_the_epochs():
    method, run, logits = HashNet(), context(n_epochs=10), torch.tensor([0.3])
    slopes = []
    for epoch in range(10):
        run.epoch = epoch
        slopes.append(method.beta(run))
    assert slopes[0] == 1.0 and all(later > earlier for earlier, later in zip(slopes, slopes[1:]))
    # The paper's schedule (1 + 0.005 t)^0.5 at t = 9,000 of its 10,000 iterations.
    assert slopes[-1] == pytest.approx((1 + 0.005 * 9000) ** 0.5)
    assert method.activation(logits, run).item() == pytest.approx(np.tanh(slopes[-1] * 0.3))


def test_dsdh_discrete_step_fits_codes_a_classifier_can_read():
    # Outputs that already separate two classes: B follows their signs and W reads the labels back.
    outputs = torch.tensor([[1.0, -1, 0.5], [-1, 1, -0.5], [0.8, -0.9, 0.4], [-0.7, 1, -0.3]])
    run = context(n_bits=3)
    run.encode_train = lambda positions=None: outputs
    method = DSDH()
    method.begin(run)
    np.testing.assert_array_equal(method.codes_.numpy(), np.sign(outputs.numpy()))
    predicted = (method.codes_ @ method.classifier_).argmax(dim=1)
    np.testing.assert_array_equal(predicted.numpy(), [0, 1, 0, 1])


def test_ddsh_discrete_step_gives_similar_items_close_codes():
    run = context(n_bits=8)
    method = DDSH(sample_size=4)
    method.begin(run)
    codes = method.sampled_codes_
    labels = run.train_labels[method.sampled_]
    inner = codes @ codes.T
    similar = labels @ labels.T > 0
    assert inner[similar].min() > inner[~similar].max()


@pytest.mark.parametrize(("make", "parameter"), [
    (lambda: HashNet(alpha=0), "alpha"),
    (lambda: HashNet(beta_gamma=-1), "beta_gamma"),
    (lambda: DCH(gamma=-1.0), "gamma"),
    (lambda: DCH(quantization_weight=-0.1), "quantization_weight"),
    (lambda: MMHH(radius=0), "radius"),
    (lambda: MMHH(radius=float("nan")), "radius"),
    (lambda: DSDH(eta=0), "eta"),
    (lambda: DSDH(nu=-1), "nu"),
    (lambda: DSDH(code_iterations=0), "code_iterations"),
    (lambda: DDSH(sample_size=0), "sample_size"),
    (lambda: DDSH(bit_sweeps=1.5), "bit_sweeps"),
])
def test_bad_hyper_parameters_name_themselves(make, parameter):
    with pytest.raises(ValueError, match=parameter):
        make()


def test_mmhh_radius_beyond_the_code_length_is_an_error():
    with pytest.raises(ValueError, match="radius"):
        MMHH(radius=40).begin(context(n_bits=32))
