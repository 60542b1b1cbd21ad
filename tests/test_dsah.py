"""DSAH: W⁰ (eqs. 7–9) and one AND update (eqs. 10–12) on eight points worked by hand, PIC's weights
(eqs. 15–16) finite at small τ and decreasing in the similarity, PIC⁰ equal to eq. 3, the rounds, and
labels that never reach the codes."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from hashkit.data import ArrayImages, ImageDataset, Split
from hashkit.deep.engine import train
from hashkit.deep.method import TrainingContext
from hashkit.deep.methods.dsah import DSAH, adaptive_neighbours, pair_weights
from hashkit.features.neighbourhood import shared_neighbour_similarity, similarity_quality

torch.set_num_threads(2)


def on_circle(degrees: list[float], plane: int) -> np.ndarray:
    """Unit vectors at ``degrees`` in the first (``plane=0``) or second (``plane=1``) pair of four axes."""
    points = np.zeros((len(degrees), 4), dtype=np.float32)
    radians = np.radians(degrees)
    points[:, 2 * plane], points[:, 2 * plane + 1] = np.cos(radians), np.sin(radians)
    return points


# Items 0–3 at 0°, 10°, 25°, 45° in one plane, items 4–7 at the same angles in another: cosines across
# the planes are 0, so every nearest neighbour lies in the item's own plane.
EIGHT = np.vstack([on_circle([0, 10, 25, 45], 0), on_circle([0, 10, 25, 45], 1)])


def positive_pairs(matrix) -> set[tuple[int, int]]:
    rows, cols = matrix.nonzero()
    return set(zip(rows.tolist(), cols.tolist()))


def test_initial_similarity_is_eqs_7_to_9_on_eight_points():
    # W_L with k1 = 3 (the item and its two nearest): angles apart 0→{10, 25}, 10→{0 (10°), 25 (15°)},
    # 25→{10 (15°), 45 (20°)}, 45→{25 (20°), 10 (35°)}: lists {0,1,2}, {0,1,2}, {1,2,3}, {1,2,3}.
    # Shared entries with item 0's list: 3, 3, 2, 2, so its k2 = 2 most overlapping are 0 and 1;
    # item 2's: 2, 2, 3, 3, so 2 and 3. W⁰ = W_L ∧ W_H: 0 → {0, 1}, 1 → {0, 1}, 2 → {2, 3}, 3 → {2, 3};
    # W_L alone would also pair 1 with 2, which share only two list entries.
    similarity = shared_neighbour_similarity(EIGHT, k1=3, k2=2)
    block = {(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3)}
    assert positive_pairs(similarity) == block | {(i + 4, j + 4) for i, j in block}


def test_adaptive_neighbours_is_eqs_10_to_12_on_eight_points():
    similarity = shared_neighbour_similarity(EIGHT, k1=3, k2=2)
    # Codes: each positive pair 53.13° apart (cosine 0.6), items 1 and 2 30° apart (cosine 0.866).
    pair = math.degrees(math.acos(0.6))
    codes = torch.from_numpy(np.vstack([on_circle([0, pair, pair + 30, 2 * pair + 30], plane) for plane in (0, 1)]))
    # Positives: 8 diagonal pairs (cosine 1) and 8 off the diagonal (0.6): μ = 0.8, σ = 0.2.
    grown, update = adaptive_neighbours(similarity, codes, gamma=0.0)
    assert update["mean"] == pytest.approx(0.8, abs=1e-6) and update["std"] == pytest.approx(0.2, abs=1e-6)
    # m = μ + 0σ = 0.8: only the pairs (1, 2) and (5, 6), at 0.866, are added, in both directions.
    assert positive_pairs(grown) - positive_pairs(similarity) == {(1, 2), (2, 1), (5, 6), (6, 5)}
    assert update["n_positive"] == 20 and update["added"] == 4
    # m = μ + σ = 1: nothing reaches it. Positives stay positive whatever the codes say.
    unchanged, update = adaptive_neighbours(similarity, codes, gamma=1.0)
    assert positive_pairs(unchanged) == positive_pairs(similarity) and update["threshold"] == pytest.approx(1.0)
    scrambled, _ = adaptive_neighbours(similarity, torch.randn(8, 4, generator=torch.Generator().manual_seed(0)), 0.0)
    assert positive_pairs(similarity) <= positive_pairs(scrambled)


def test_similarity_quality_scores_the_positive_pairs_against_labels():
    similarity = shared_neighbour_similarity(EIGHT, k1=3, k2=2)
    labels = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    # Off-diagonal positives: (0,1) ✓, (2,3) ✗, (4,5) ✓, (6,7) ✓, each twice: precision 6/8.
    # Pairs sharing a label: 3·2 + 3·2 + 2·1 = 14 ordered pairs: recall 6/14.
    quality = similarity_quality(similarity, labels)
    assert quality["positive pairs"] == 8
    assert quality["precision"] == pytest.approx(6 / 8) and quality["recall"] == pytest.approx(6 / 14)
    assert quality["F_w"] == pytest.approx(2 * (6 / 8) * (6 / 14) / (6 / 8 + 6 / 14))


def test_pic_weights_are_finite_at_small_tau_and_fall_as_similarity_grows():
    codes = torch.randn(50, 16, generator=torch.Generator().manual_seed(0))
    unit = torch.nn.functional.normalize(codes, dim=1)
    cosines = unit @ unit.T
    for tau in (0.01, 1.0, 10.0):
        for weighting in ("pic", "negative", "constant"):
            assert torch.isfinite(pair_weights(cosines, weighting, tau)).all(), (weighting, tau)
    weights = pair_weights(cosines, "pic", 1.0)
    order = torch.argsort(cosines.flatten())
    assert (weights.flatten()[order].diff() <= 1e-6).all()  # a = −log p falls as s grows
    # At τ = 1 over 2,500 pairs, a stays near log(2,500) ≈ 7.8: PIC mostly scales the loss.
    assert math.log(2500) - 1 < weights.mean().item() < math.log(2500) + 1
    # PIC⁻ rises with s; the constant control carries PIC's mean and no re-weighting.
    negative = pair_weights(cosines, "negative", 1.0).flatten()[order]
    assert (negative.diff() >= -1e-9).all()
    assert torch.allclose(pair_weights(cosines, "constant", 1.0), torch.full_like(cosines, weights.mean().item()))


def make_context(n_items: int) -> TrainingContext:
    return TrainingContext(n_bits=4, train_labels=torch.zeros(n_items, 2), device=torch.device("cpu"), n_epochs=1,
                           generator=torch.Generator().manual_seed(0), encode_train=lambda p=None: None)


def test_pic0_without_quantisation_is_eq_3_in_cosine_form():
    similarity = shared_neighbour_similarity(EIGHT, k1=3, k2=2)
    context = make_context(8)
    method = DSAH(similarity, weighting="none", lam=0.0, adaptive=False, epochs_per_round=1)
    method.begin(context)
    outputs = torch.tanh(torch.randn(4, 4, generator=torch.Generator().manual_seed(1)))
    positions = torch.tensor([0, 1, 2, 4])
    # Batch targets: (0, 1) positive, everything else across the batch −1; the diagonal +1.
    targets = torch.tensor([[1.0, 1, -1, -1], [1, 1, -1, -1], [-1, -1, 1, -1], [-1, -1, -1, 1]])
    unit = torch.nn.functional.normalize(outputs, dim=1)
    expected = ((unit @ unit.T - targets) ** 2).mean()
    assert method.loss(outputs, torch.zeros(4, 2), positions, context).item() == pytest.approx(expected.item(), rel=1e-6)
    with_quantisation = DSAH(similarity, weighting="none", lam=10.0, adaptive=False, epochs_per_round=1)
    with_quantisation.begin(context)
    quantisation = ((outputs - torch.where(outputs >= 0, 1.0, -1.0)) ** 2).mean()
    assert with_quantisation.loss(outputs, torch.zeros(4, 2), positions, context).item() == pytest.approx(
        (expected + 10 * quantisation).item(), rel=1e-6)


@pytest.mark.parametrize(("options", "message"), [
    ({"tau": 0.0}, "tau"), ({"tau": -1.0}, "tau"), ({"weighting": "softmax"}, "weighting"), ({"lam": -1}, "lam"),
    ({"epochs_per_round": 0}, "epochs_per_round"), ({"quantisation": "l1"}, "quantisation"),
])
def test_bad_settings_are_named(options, message):
    with pytest.raises(ValueError, match=message):
        DSAH(shared_neighbour_similarity(EIGHT, k1=3, k2=2), **options)


def test_neighbour_counts_must_leave_other_items():
    with pytest.raises(ValueError, match="k1: expected an int in 1..7"):
        shared_neighbour_similarity(EIGHT, k1=8, k2=2)
    with pytest.raises(ValueError, match="k2: expected an int in 1..7"):
        shared_neighbour_similarity(EIGHT, k1=3, k2=8)


N_ITEMS, SIDE = 48, 16


def halves() -> tuple[ImageDataset, Split]:
    rng = np.random.default_rng(0)
    classes = np.arange(N_ITEMS) % 2
    pixels = rng.integers(0, 60, (N_ITEMS, SIDE, SIDE), dtype=np.uint8)
    pixels[classes == 1, :8] += 150
    dataset = ImageDataset("halves", np.eye(2, dtype=np.uint8)[classes], ("top", "bottom"), ArrayImages(pixels))
    items = np.arange(N_ITEMS)
    return dataset, Split(query=items[:8], database=items, train=items[8:], protocol="given")


def test_rounds_grow_the_similarity_and_labels_never_reach_the_codes():
    dataset, split = halves()
    features = dataset.images(split.train).reshape(len(split.train), -1).astype(np.float32)
    similarity = shared_neighbour_similarity(features, k1=5, k2=5)
    options = {"epochs": 3, "batch_size": 10, "backbone_options": {"channels": [4, 8], "feature_dim": 16},
               "progress": False, "seed": 1}

    def make() -> DSAH:
        return DSAH(similarity, gamma=0.0, epochs_per_round=1, keep_similarities=True)

    trained = train(make(), dataset, split, 8, **options)
    rounds = trained.method.rounds_
    assert [r["round"] for r in rounds] == [1, 2, 3]
    assert all(later["n_positive"] >= earlier["n_positive"] for earlier, later in zip(rounds, rounds[1:]))
    assert len(trained.method.similarities_) == 4 and trained.method.similarities_[0].nnz == similarity.nnz
    assert {"pairs", "quantisation", "mean_weight"} <= set(trained.history.columns)
    permuted = dataclasses.replace(dataset, labels=dataset.labels[np.random.default_rng(3).permutation(N_ITEMS)])
    again = train(make(), permuted, split, 8, **options)
    np.testing.assert_array_equal(trained.encode(dataset, split.query), again.encode(permuted, split.query))
    with pytest.raises(ValueError, match="epochs: 3 is not a whole number of rounds of epochs_per_round = 2"):
        train(DSAH(similarity, epochs_per_round=2), dataset, split, 8, **options)


def test_the_overlap_ranking_in_blocks_is_the_whole_matrix_ranking(monkeypatch):
    # most_overlapping counts shared entries a block of rows at a time; the marks must not depend on the
    # block: blocks of 3 rows give the same matrix as one block, and both match a brute-force ranking.
    from hashkit.features import neighbourhood

    features = np.random.default_rng(3).normal(size=(40, 5)).astype(np.float32)
    lists = neighbourhood.neighbour_lists(features, 6)
    whole = neighbourhood.most_overlapping(lists, 9)
    monkeypatch.setattr(neighbourhood, "OVERLAP_BLOCK", 3)
    assert (neighbourhood.most_overlapping(lists, 9) != whole).nnz == 0
    shared = (lists @ lists.T).toarray()
    for item in range(40):
        ranked = sorted(range(40), key=lambda other: (-shared[item, other], other))[:9]
        assert set(whole[item].indices) == {other for other in ranked if shared[item, other] > 0}


def test_sensitivity_points_share_the_default_run_and_name_the_others():
    from hashkit.experiments.dsah import DSAHSettings, sensitivity_frame, sensitivity_points

    points = sensitivity_points(DSAHSettings(lam=10.0, tau=1.0), {"λ": [0, 10], "τ": [0.1, 1]})
    assert points == [("DSAH (λ = 0)", "λ", 0.0), ("DSAH", "λ", 10.0), ("DSAH (τ = 0.1)", "τ", 0.1),
                      ("DSAH", "τ", 1.0)]
    per_query = {("DSAH", "set", 64): [np.array([0.5, 0.7])], ("DSAH (λ = 0)", "set", 64): [np.array([0.2, 0.4])]}
    frame = sensitivity_frame(per_query, points, "set", 64)
    assert frame.to_dict("records") == [
        {"parameter": "λ", "value": 0.0, "map": pytest.approx(0.3), "seed": 0},
        {"parameter": "λ", "value": 10.0, "map": pytest.approx(0.6), "seed": 0},
        {"parameter": "τ", "value": 1.0, "map": pytest.approx(0.6), "seed": 0}]  # τ = 0.1 was not run


def test_memory_check_size_must_exceed_the_paper_k():
    from hashkit.experiments.dsah import check_chapter_parameters

    parameters = {"train_per_class": 200, "mosaic_train": 1_000, "k1": None, "k2": None, "memory_check_items": 500}
    with pytest.raises(ValueError, match="memory_check_items: .* needs more than 500 items; got 500"):
        check_chapter_parameters(parameters)
    check_chapter_parameters({**parameters, "memory_check_items": None})


def test_gamma_round_table_pairs_each_round_with_the_similarity_it_trained_on():
    from types import SimpleNamespace

    import pandas as pd
    from scipy import sparse

    from hashkit.experiments.dsah import gamma_round_table

    # W⁰: the diagonal and the pair (0, 1) both ways, 2 positives off the diagonal; round 1 adds 2 (8 stored
    # after), round 2 adds 0: the rounds train on 2, then 4 positive pairs, the diagonal counted out.
    similarity = sparse.csr_matrix(np.eye(4, dtype=bool) | np.isin(np.indices((4, 4)), [0, 1]).all(axis=0))
    method = SimpleNamespace(similarity=similarity,
                             rounds_=[{"n_positive": 8.0, "added": 2.0}, {"n_positive": 8.0, "added": 0.0}])
    fitted = SimpleNamespace(model=SimpleNamespace(method=method))
    curve = pd.DataFrame({"round": [1, 2], "map": [0.3, 0.4]})
    table = gamma_round_table({0.5: (curve, fitted)})
    assert table.to_dict("list") == {"γ": [0.5, 0.5], "round": [1, 2], "mAP": [0.3, 0.4],
                                     "n₊ trained on": [2, 4], "added": [2, 0]}
