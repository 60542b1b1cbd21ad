"""DGH and UH-BDNN (BGAN's Fig. 4 baselines): the estimator contract, each algorithm's update checked
by hand, the code properties each objective asks for, and retrieval beyond LSH on clustered data."""

import itertools

import numpy as np
import pytest
from scipy import sparse

from hashkit.metrics import mean_average_precision
from hashkit.shallow import DGH, LSH, METHODS, UHBDNN, UNSUPERVISED
from hashkit.shallow.dgh import AnchorGraph, nearest_balanced_uncorrelated, signed_gradient_step
from hashkit.shallow.uhbdnn import codes_by_coordinate_descent, default_hidden_sizes

# Small settings: each fit below takes well under a second on 2 cores.
FAST = {
    "DGH": lambda n_bits, seed=0, **kw: DGH(n_bits, n_anchors=100, seed=seed, **kw),
    "UH-BDNN": lambda n_bits, seed=0, **kw: UHBDNN(n_bits, lbfgs_iterations=60, n_rounds=4, validation_size=200,
                                                  seed=seed, **kw),
}


@pytest.fixture(scope="module")
def clusters():
    """1,200 items around 8 centres in 32 dimensions: 1,000 to fit on (and search), 200 queries."""
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=2.0, size=(8, 32))
    class_ids = rng.integers(0, 8, size=1200)
    features = (centres[class_ids] + rng.normal(size=(1200, 32))).astype(np.float32)
    return features[:1000], class_ids[:1000], features[1000:], class_ids[1000:]


@pytest.fixture(scope="module")
def gaussian():
    """1,000 items of one anisotropic Gaussian: no clusters, so balanced, uncorrelated bits exist."""
    rng = np.random.default_rng(4)
    return (rng.normal(size=(1000, 32)) * np.linspace(3.0, 0.5, 32)).astype(np.float32)


def balance_and_correlation(codes):
    """Mean |bit mean| and mean |off-diagonal correlation| of ±1 codes."""
    codes = codes.astype(float)
    correlation = codes.T @ codes / len(codes) - np.eye(codes.shape[1])
    return np.abs(codes.mean(axis=0)).mean(), np.abs(correlation).sum() / (codes.shape[1] * (codes.shape[1] - 1))


def distance_to_omega(codes):
    """dist(B, Omega) / (2 n r) = 1 - tr(B^T Y*) / (n r): 0 for balanced, uncorrelated codes."""
    codes = codes.astype(float)
    n_items, n_bits = codes.shape
    nuclear = np.linalg.svd(codes - codes.mean(axis=0), compute_uv=False).sum()
    return 1 - np.sqrt(n_items) * nuclear / (n_items * n_bits)


@pytest.fixture(scope="module")
def fitted(clusters):
    database, _, _, _ = clusters
    return {name: make(16).fit(database) for name, make in FAST.items()}


def test_both_are_registered_under_the_papers_names():
    assert METHODS["DGH"] is DGH and DGH in UNSUPERVISED
    assert METHODS["UH-BDNN"] is UHBDNN and METHODS["UN-BDNH"] is UHBDNN  # ECCV'16's name, BGAN's name


# ---------------------------------------------------------------- the estimator contract

@pytest.mark.parametrize("name", FAST)
def test_codes_are_plus_minus_one_of_the_right_shape_and_reproducible(name, clusters, fitted):
    database, _, queries, _ = clusters
    codes = fitted[name].encode(queries)
    assert codes.shape == (200, 16) and codes.dtype == np.int8
    assert set(np.unique(codes)) == {-1, 1}
    assert fitted[name].codes_.shape == (1000, 16) and set(np.unique(fitted[name].codes_)) == {-1, 1}
    np.testing.assert_array_equal(codes, FAST[name](16).fit(database).encode(queries))


@pytest.mark.parametrize("name", FAST)
def test_beats_lsh_on_clustered_data(name, clusters, fitted):
    database, database_ids, queries, query_ids = clusters
    ours = mean_average_precision(fitted[name].encode(queries), fitted[name].encode(database), query_ids, database_ids)
    lsh = np.mean([mean_average_precision(hasher.encode(queries), hasher.encode(database), query_ids, database_ids)
                   for hasher in (LSH(16, seed).fit(database) for seed in range(3))])
    assert ours > lsh + 0.05, (ours, lsh)


# ---------------------------------------------------------------- DGH, by hand

def test_dgh_signed_gradient_step_by_hand():
    # Two anchors; items 1-2 sit on anchor 1, items 3-4 on anchor 2: Lambda = diag(2, 2) and A is
    # block-diagonal with every entry of each 2 x 2 block 1/2.
    z = sparse.csr_matrix(np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]))
    graph = AnchorGraph(z)
    np.testing.assert_allclose(graph.dense(), [[.5, .5, 0, 0], [.5, .5, 0, 0], [0, 0, .5, .5], [0, 0, .5, .5]])
    codes = np.array([[1.0], [-1.0], [1.0], [1.0]])
    target = np.array([[-1.0], [1.0], [-1.0], [-1.0]])
    # A B = (0, 0, 1, 1). With rho = 0 the gradient 2AB = (0, 0, 2, 2): the two zero entries keep
    # their bits (1, -1), the others become sgn(2) = 1.
    np.testing.assert_array_equal(signed_gradient_step(graph, codes, target, rho=0.0), [[1], [-1], [1], [1]])
    # With rho = 0.5: 2AB + rho Y = (-0.5, 0.5, 1.5, 1.5), so B becomes (-1, 1, 1, 1).
    np.testing.assert_array_equal(signed_gradient_step(graph, codes, target, rho=0.5), [[-1], [1], [1], [1]])
    # The same as sgn(2AB + rho Y) with the dense A, on a random graph without zero gradients.
    rng = np.random.default_rng(1)
    z = sparse.csr_matrix(rng.random((30, 5)) * (rng.random((30, 5)) < 0.5) + np.eye(30, 5))
    graph, codes, target = AnchorGraph(z), np.where(rng.random((30, 3)) < 0.5, 1.0, -1.0), rng.normal(size=(30, 3))
    np.testing.assert_array_equal(signed_gradient_step(graph, codes, target, 0.3),
                                  np.sign(2 * graph.dense() @ codes + 0.3 * target))


@pytest.mark.parametrize("rank_deficient", [False, True])
def test_dgh_y_step_is_balanced_uncorrelated_and_maximises_the_trace(rank_deficient):
    rng = np.random.default_rng(2)
    codes = np.where(rng.random((50, 6)) < 0.5, 1.0, -1.0)
    if rank_deficient:  # a repeated bit and a constant bit: JB has rank 4, Ubar must be drawn
        codes[:, 1], codes[:, 5] = codes[:, 0], 1.0
    target = nearest_balanced_uncorrelated(codes, rng)
    np.testing.assert_allclose(target.sum(axis=0), 0, atol=1e-9)
    np.testing.assert_allclose(target.T @ target, 50 * np.eye(6), atol=1e-8)
    singular_values = np.linalg.svd(codes - codes.mean(axis=0), compute_uv=False)
    # von Neumann: tr(B^T Y) = <JB, Y> <= sqrt(n) * (sum of JB's singular values), reached here.
    assert np.sum(codes * target) == pytest.approx(np.sqrt(50) * singular_values.sum(), rel=1e-9)


def test_dgh_objective_never_decreases(fitted, gaussian):
    for dgh in (fitted["DGH"], DGH(16, n_anchors=100).fit(gaussian)):
        history = dgh.objective_history_
        assert len(history) >= 2 and history[-1] > history[0]
        assert np.all(np.diff(history) >= -1e-9 * np.abs(history[:-1]))


def test_dgh_penalty_keeps_codes_balanced_and_decorrelated(gaussian):
    # Constant bits maximise tr(B^T A B); the penalty rho * dist(B, Omega) is what keeps the codes
    # balanced and uncorrelated, the more so the larger rho.
    codes = {rho: DGH(16, n_anchors=100, rho=rho).fit(gaussian).codes_ for rho in (0.0, 1.0, 10.0)}
    distances = [distance_to_omega(codes[rho]) for rho in (0.0, 1.0, 10.0)]
    assert distances[0] > distances[1] > distances[2], distances
    balance, correlation = balance_and_correlation(codes[10.0])
    assert balance < 0.1 and correlation < 0.2, (balance, correlation)
    balance, correlation = balance_and_correlation(codes[1.0])  # the default
    assert balance < 0.2 and correlation < 0.25, (balance, correlation)
    assert balance_and_correlation(codes[0.0])[0] > 0.5  # without the penalty the bits go one-sided


def test_dgh_out_of_sample_codes_follow_the_papers_formula(clusters, fitted):
    database, _, queries, _ = clusters
    dgh = fitted["DGH"]
    z = dgh._anchor_matrix(queries, dgh.anchors_, dgh.bandwidth_).toarray()
    z_train = dgh._anchor_matrix(database, dgh.anchors_, dgh.bandwidth_).toarray()
    projection = dgh.codes_.T.astype(float) @ z_train / z_train.sum(axis=0)  # W = B^T Z Lambda^-1
    np.testing.assert_array_equal(dgh.encode(queries), np.where(z @ projection.T >= 0, 1, -1))
    # and the training items mostly keep the codes DGH learned for them
    assert np.mean(dgh.encode(database) == dgh.codes_) > 0.9


def test_dgh_i_and_dgh_r_both_fit(clusters):
    database, _, queries, _ = clusters
    for initialization in ("I", "R"):
        dgh = DGH(8, n_anchors=60, initialization=initialization).fit(database)
        assert dgh.encode(queries).shape == (200, 8)


# ---------------------------------------------------------------- UH-BDNN, by hand

def test_uhbdnn_b_step_is_the_exhaustive_minimum_for_orthogonal_decoders_and_bitwise_optimal_otherwise():
    rng = np.random.default_rng(3)
    n_dims, n_bits, weight = 7, 4, 0.05
    targets, outputs = rng.normal(size=(20, n_dims)), rng.normal(size=(20, n_bits))

    def cost(decoder, code, target, output):
        return np.sum((target - decoder @ code) ** 2) + weight * np.sum((output - code) ** 2)

    all_codes = np.array(list(itertools.product((-1.0, 1.0), repeat=n_bits)))
    # W^T W diagonal: the bits decouple and b = sgn(W^T y + lambda2 h) is the exhaustive minimum.
    orthogonal = np.linalg.qr(rng.normal(size=(n_dims, n_bits)))[0] * np.array([1.0, 2.0, 0.5, 3.0])
    codes = codes_by_coordinate_descent(targets, orthogonal, outputs, weight, n_sweeps=10)
    np.testing.assert_array_equal(codes, np.where(targets @ orthogonal + weight * outputs >= 0, 1, -1))
    for code, target, output in zip(codes, targets, outputs):
        best = min(cost(orthogonal, c, target, output) for c in all_codes)
        assert cost(orthogonal, code, target, output) == pytest.approx(best)
    # A general decoder: no single bit flip lowers the cost (each bit is its closed form given the rest).
    decoder = rng.normal(size=(n_dims, n_bits))
    codes = codes_by_coordinate_descent(targets, decoder, outputs, weight, n_sweeps=10)
    for code, target, output in zip(codes, targets, outputs):
        for bit in range(n_bits):
            flipped = code.copy()
            flipped[bit] *= -1
            assert cost(decoder, code, target, output) <= cost(decoder, flipped, target, output) + 1e-12


def test_uhbdnn_hidden_sizes_reproduce_the_authors_table():
    assert [default_hidden_sizes(n) for n in (8, 16, 24, 32)] == [(90, 20), (90, 30), (100, 40), (120, 50)]


def test_uhbdnn_rounds_stop_at_the_first_validation_map_that_does_not_improve(fitted):
    history = fitted["UH-BDNN"].history_
    assert history[0]["round"] == 0 and history[0]["validation_map"] is None and len(history) >= 2
    scores = [entry["validation_map"] for entry in history[1:]]
    assert all(a < b for a, b in zip(scores[:-2], scores[1:-1]))
    assert len(scores) == 4 or scores[-1] <= scores[-2]  # stopped early, or the rounds ran out


def test_uhbdnn_codes_are_balanced_and_decorrelated(gaussian):
    codes = FAST["UH-BDNN"](16).fit(gaussian).codes_
    balance, correlation = balance_and_correlation(codes)
    assert balance < 0.15 and correlation < 0.15, (balance, correlation)
    assert distance_to_omega(codes) < 0.1


def test_uhbdnn_objective_terms_by_hand():
    import torch

    from hashkit.shallow.uhbdnn import BinaryNetwork

    bdnn = UHBDNN(2, hidden_sizes=(2, 2), weight_decay=0.0, binary_weight=1.0, independence_weight=1.0,
                  balance_weight=1.0)
    # Identity layers, zero biases: the hash layer outputs sigmoid(sigmoid(x)) for a 2-D input.
    network = BinaryNetwork([np.eye(2), np.eye(2), np.eye(2)], np.eye(2))
    inputs = torch.tensor([[0.0, 0.0], [1.0, -1.0]], dtype=torch.float64)
    codes = torch.tensor([[1.0, 1.0], [1.0, -1.0]], dtype=torch.float64)
    h = torch.sigmoid(torch.sigmoid(inputs))
    reconstruction = ((inputs - codes) ** 2).sum() / 4
    binary = ((h - codes) ** 2).sum() / 4
    independence = ((h.T @ h / 2 - torch.eye(2)) ** 2).sum() / 2
    balance = (h.sum(dim=0) ** 2).sum() / 4
    expected = reconstruction + binary + independence + balance
    with torch.no_grad():
        assert float(bdnn.objective(network, inputs, codes)) == pytest.approx(float(expected))


# ---------------------------------------------------------------- bad parameters

@pytest.mark.parametrize(("factory", "parameter"), [
    (lambda: DGH(0), "n_bits"),
    (lambda: DGH(16, n_anchors=10), "n_bits"),
    (lambda: DGH(8, n_anchors=0), "n_anchors"),
    (lambda: DGH(8, n_anchors=20, n_nearest_anchors=30), "n_nearest_anchors"),
    (lambda: DGH(8, rho=-1.0), "rho"),
    (lambda: DGH(8, rho=float("nan")), "rho"),
    (lambda: DGH(8, initialization="random"), "initialization"),
    (lambda: DGH(8, n_b_iterations=0), "n_b_iterations"),
    (lambda: DGH(8, n_outer_iterations=0), "n_outer_iterations"),
    (lambda: DGH(8, n_rotation_iterations=-1), "n_rotation_iterations"),
    (lambda: UHBDNN(0), "n_bits"),
    (lambda: UHBDNN(8, hidden_sizes=(10,)), "hidden_sizes"),
    (lambda: UHBDNN(8, hidden_sizes=(10, 0)), "hidden_sizes"),
    (lambda: UHBDNN(8, weight_decay=-1e-5), "weight_decay"),
    (lambda: UHBDNN(8, binary_weight=-1.0), "binary_weight"),
    (lambda: UHBDNN(8, independence_weight=float("inf")), "independence_weight"),
    (lambda: UHBDNN(8, balance_weight=-1.0), "balance_weight"),
    (lambda: UHBDNN(8, n_rounds=-1), "n_rounds"),
    (lambda: UHBDNN(8, lbfgs_iterations=0), "lbfgs_iterations"),
    (lambda: UHBDNN(8, b_sweeps=0), "b_sweeps"),
    (lambda: UHBDNN(8, validation_size=-5), "validation_size"),
    (lambda: UHBDNN(8, validation_neighbours=0), "validation_neighbours"),
])
def test_bad_parameters_raise_naming_them(factory, parameter):
    with pytest.raises(ValueError, match=parameter):
        factory()


def test_bad_data_is_named(clusters):
    database, _, _, _ = clusters
    with pytest.raises(ValueError, match="n_bits"):
        UHBDNN(40).fit(database)  # ITQ starts the codes: at most one bit per feature dimension
    with pytest.raises(ValueError, match="n_anchors"):
        DGH(8, n_anchors=100).fit(database[:50])
    with_nan = database.copy()
    with_nan[3, 2] = np.nan
    for make in (lambda: DGH(8, n_anchors=50), lambda: UHBDNN(8)):
        with pytest.raises(ValueError, match="features"):
            make().fit(database[:, 0])
        with pytest.raises(ValueError, match="NaN"):
            make().fit(with_nan)
        with pytest.raises(RuntimeError, match="fit"):
            make().encode(database)
