import math

import pytest
import torch

from hashkit.deep.pair_losses import (
    adsh_pair_loss,
    cauchy_quantization,
    check_radius,
    cosine_hamming,
    dch_pair_loss,
    hashnet_pair_loss,
    ksh_pair_loss,
    label_overlap,
    label_similarity,
    mmhh_pair_loss,
    pair_weights,
    relaxed_hamming,
    sigmoid_smoothing,
    squared_quantization,
    tanh_smoothing,
)

torch.set_num_threads(2)

# The tiny batch every hand computation below uses: 3 items, Q = 4 bits.
#   u1 = (+1, +1, +1, +1), u2 = (+1, +1, +1, -1), u3 = (-1, -1, +1, -1)
#   inner products: u1.u2 = 2, u1.u3 = -2, u2.u3 = 0
#   d_ij = (Q - u_i.u_j) / 2: d12 = 1, d13 = 3, d23 = 2 (and d_ii = 0)
#   labels: items 1 and 2 share class A, item 3 is class B: s12 = 1, s13 = s23 = 0
CODES = torch.tensor([[1.0, 1, 1, 1], [1, 1, 1, -1], [-1, -1, 1, -1]])
LABELS = torch.tensor([[1.0, 0], [1, 0], [0, 1]])
Q = 4
UPPER = torch.triu_indices(3, 3, offset=1)  # pairs (1,2), (1,3), (2,3)


def upper(matrix: torch.Tensor) -> list[float]:
    return matrix[UPPER[0], UPPER[1]].tolist()


def test_distances_and_similarities_of_the_tiny_batch():
    assert upper(relaxed_hamming(CODES, CODES)) == [1, 3, 2]
    assert torch.diagonal(relaxed_hamming(CODES, CODES)).tolist() == [0, 0, 0]
    # On ±1 codes the cosine distance is the Hamming distance: cos = u.v / Q.
    assert upper(cosine_hamming(CODES, CODES)) == pytest.approx([1, 3, 2])
    # ... and unlike the inner-product one it ignores the codes' scale.
    assert upper(cosine_hamming(0.5 * CODES, CODES)) == pytest.approx([1, 3, 2])
    assert upper(relaxed_hamming(0.5 * CODES, CODES)) == [1.5, 2.5, 2]
    assert upper(label_similarity(LABELS, LABELS)) == [1, 0, 0]


def test_ksh_loss_by_hand():
    # ((Q - 2d)/Q - (2s - 1))^2: (2/4 - 1)^2 = 0.25, (-2/4 + 1)^2 = 0.25, (0/4 + 1)^2 = 1
    loss = ksh_pair_loss(relaxed_hamming(CODES, CODES), label_similarity(LABELS, LABELS), Q)
    assert upper(loss) == pytest.approx([0.25, 0.25, 1.0])


def test_hashnet_loss_by_hand():
    # a = 1/2, a (Q - 2d) = 1, -1, 0:
    #   s = 1: log(1 + e) - 1 = 0.31326;  s = 0: log(1 + e^-1) = 0.31326;  s = 0: log 2 = 0.69315
    distances, similarity = relaxed_hamming(CODES, CODES), label_similarity(LABELS, LABELS)
    loss = hashnet_pair_loss(distances, similarity, Q, alpha=0.5)
    expected = [math.log(1 + math.e) - 1, math.log(1 + math.exp(-1)), math.log(2)]
    assert upper(loss) == pytest.approx(expected)
    # Weights over the three pairs: |S| = 3, |S1| = 1, |S0| = 2 -> w = 3, 1.5, 1.5
    pairs = similarity[UPPER[0], UPPER[1]]
    weights = pair_weights(pairs)
    assert weights.tolist() == [3.0, 1.5, 1.5]
    weighted = hashnet_pair_loss(distances[UPPER[0], UPPER[1]], pairs, Q, alpha=0.5, weights=weights)
    assert weighted.tolist() == pytest.approx([3 * expected[0], 1.5 * expected[1], 1.5 * expected[2]])


def test_hashnet_loss_does_not_overflow():
    # a (Q - 2d) = 400: log(1 + e^400) overflows in float32 if computed literally; the loss is 0 here.
    loss = hashnet_pair_loss(torch.tensor([-100.0]), torch.tensor([1.0]), 200, alpha=1.0)
    assert torch.isfinite(loss).all() and loss.item() == pytest.approx(0.0, abs=1e-6)


def test_adsh_loss_by_hand():
    # ((Q - 2d) - Q (2s - 1))^2: (2 - 4)^2 = 4, (-2 + 4)^2 = 4, (0 + 4)^2 = 16
    loss = adsh_pair_loss(relaxed_hamming(CODES, CODES), label_similarity(LABELS, LABELS), Q)
    assert upper(loss) == [4, 4, 16]


def test_dch_loss_by_hand_and_as_written_in_table_1():
    # g = 2: s = 1, d = 1: log(1/2) + log(1 + 2) = log 1.5;  s = 0, d = 3: log(1 + 2/3);  d = 2: log 2
    distances, similarity = cosine_hamming(CODES, CODES), label_similarity(LABELS, LABELS)
    loss = dch_pair_loss(distances, similarity, gamma=2.0)
    assert upper(loss) == pytest.approx([math.log(1.5), math.log(5 / 3), math.log(2)])
    # Table 1 literally, s log(d/g) + log(1 + g/d), wherever it is finite.
    literal = similarity * torch.log(distances / 2) + torch.log(1 + 2 / distances)
    assert upper(loss) == pytest.approx(upper(literal))
    # An identical dissimilar pair costs a large but finite amount; an identical similar pair 0.
    at_zero = dch_pair_loss(torch.zeros(2), torch.tensor([0.0, 1.0]), gamma=2.0)
    assert torch.isfinite(at_zero).all() and at_zero[0] > 5 and at_zero[1] == 0


def test_mmhh_loss_by_hand():
    distances, similarity = cosine_hamming(CODES, CODES), label_similarity(LABELS, LABELS)
    # H = 1.5: s = 1, d = 1 inside the ball: log(1 + 0) = 0;  s = 0: log(1 + 1/3), log(1 + 1/2)
    loss = mmhh_pair_loss(distances, similarity, radius=1.5)
    assert upper(loss) == pytest.approx([0.0, math.log(4 / 3), math.log(1.5)])
    # H = 0.5: the similar pair is outside the ball: log(1 + 1 - 0.5) = log 1.5
    assert upper(mmhh_pair_loss(distances, similarity, radius=0.5))[0] == pytest.approx(math.log(1.5))
    # A dissimilar pair inside the ball costs log(1 + 1/H) and no more.
    assert mmhh_pair_loss(torch.tensor([0.0]), torch.tensor([0.0]), radius=2.0).item() == pytest.approx(math.log(1.5))


def test_regularisers_by_hand():
    # u = (0.5, -0.5, 1, -1), b = sign(u) = (1, -1, 1, -1)
    codes = torch.tensor([[0.5, -0.5, 1.0, -1.0]])
    # ||b - u||^2 = 0.25 + 0.25 + 0 + 0
    assert squared_quantization(codes).tolist() == [0.5]
    assert squared_quantization(codes, binary=torch.ones(1, 4)).tolist() == [0.25 + 2.25 + 0 + 4]
    # cos(b, u) = (0.5 + 0.5 + 1 + 1) / (2 sqrt(2.5)) = 3 / sqrt(10); g = 2, Q/(2g) = 1
    expected = math.log(1 + (1 - 3 / math.sqrt(10)))
    assert cauchy_quantization(codes, gamma=2.0).tolist() == pytest.approx([expected])
    # sign(0) is +1 (hashkit.codes.sign), so a zero output is one unit away from its code.
    assert squared_quantization(torch.zeros(1, 3)).tolist() == [3.0]


def test_relaxations():
    logits = torch.tensor([-2.0, 0.0, 3.0])
    assert sigmoid_smoothing(logits).tolist() == pytest.approx(torch.tanh(logits / 2).tolist())
    assert tanh_smoothing(logits, beta=2.0).tolist() == pytest.approx(torch.tanh(2 * logits).tolist())


def test_pair_weights_balance_similar_and_dissimilar_pairs():
    similarity = torch.tensor([[1.0, 0, 0, 0], [0, 1, 0, 0], [1, 0, 0, 0]])
    weights = pair_weights(similarity)
    n_pairs = similarity.numel()
    # Each kind adds up to |S|: 3 similar pairs weigh 12/3 = 4, 9 dissimilar ones 12/9.
    assert (weights * similarity).sum().item() == pytest.approx(n_pairs)
    assert (weights * (1 - similarity)).sum().item() == pytest.approx(n_pairs)
    assert weights[0, 0].item() == pytest.approx(4.0) and weights[0, 1].item() == pytest.approx(12 / 9)
    # One kind only: every pair weighs 1.
    assert pair_weights(torch.ones(2, 2)).tolist() == [[1, 1], [1, 1]]
    assert pair_weights(torch.zeros(2, 2)).tolist() == [[1, 1], [1, 1]]
    # HashNet's c_ij for multi-label data: shared labels over the union; 1 on single-label pairs.
    multi = torch.tensor([[1.0, 1, 0], [0, 1, 1], [1, 0, 0]])
    overlap = label_overlap(multi, multi)
    assert overlap[0, 1].item() == pytest.approx(1 / 3) and overlap[0, 2].item() == pytest.approx(1 / 2)
    assert label_overlap(LABELS, LABELS)[0, 1].item() == 1.0
    scaled = pair_weights(label_similarity(multi, multi), overlap)
    assert scaled[0, 1].item() == pytest.approx(pair_weights(label_similarity(multi, multi))[0, 1].item() / 3)


@pytest.mark.parametrize("loss_name", ["ksh", "hashnet", "adsh", "dch", "mmhh", "squared", "cauchy"])
def test_every_loss_passes_gradients(loss_name):
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(6, 8, generator=generator, requires_grad=True)
    codes = torch.tanh(logits)
    labels = torch.eye(3)[torch.tensor([0, 0, 1, 1, 2, 0])]
    similarity = label_similarity(labels, labels)
    weights = pair_weights(similarity)
    losses = {
        "ksh": lambda: ksh_pair_loss(relaxed_hamming(codes, codes), similarity, 8),
        "hashnet": lambda: hashnet_pair_loss(relaxed_hamming(codes, codes), similarity, 8, 10 / 8, weights),
        "adsh": lambda: adsh_pair_loss(relaxed_hamming(codes, codes.detach().sign()), similarity, 8),
        "dch": lambda: dch_pair_loss(cosine_hamming(codes, codes), similarity, 20.0, weights),
        "mmhh": lambda: mmhh_pair_loss(cosine_hamming(codes, codes), similarity, 2.0, weights),
        "squared": lambda: squared_quantization(codes),
        "cauchy": lambda: cauchy_quantization(codes, 20.0),
    }
    losses[loss_name]().mean().backward()
    assert torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0


def test_bad_hyper_parameters_name_the_parameter():
    distances, similarity = torch.ones(2, 2), torch.ones(2, 2)
    with pytest.raises(ValueError, match="alpha"):
        hashnet_pair_loss(distances, similarity, 4, alpha=0.0)
    with pytest.raises(ValueError, match="gamma"):
        dch_pair_loss(distances, similarity, gamma=-1.0)
    with pytest.raises(ValueError, match="gamma"):
        cauchy_quantization(distances, gamma=float("nan"))
    with pytest.raises(ValueError, match="radius"):
        mmhh_pair_loss(distances, similarity, radius=0)
    with pytest.raises(ValueError, match="radius"):
        check_radius(32, n_bits=32)
    assert check_radius(2, n_bits=32) == 2.0
