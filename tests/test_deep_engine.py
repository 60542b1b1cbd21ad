"""The shared training engine and the backbones, on a tiny synthetic image set (seconds in all)."""

import math

import numpy as np
import pytest
import torch

from hashkit.data import ArrayImages, ImageDataset, Split
from hashkit.deep import TrainingDiverged
from hashkit.deep.backbones import BACKBONES, CNNF, SmallCNN, build_backbone
from hashkit.deep.engine import HISTORY_COLUMNS, TrainedModel, _calibrate_batch_norm, evaluate, train
from hashkit.deep.method import HashingMethod, TrainingContext
from hashkit.deep.methods import ADSH, DDSH, DPSH, DSDH, FDAH
from hashkit.metrics import mean_average_precision

torch.set_num_threads(2)

N_ITEMS, SIDE, N_CLASSES = 90, 8, 3
SMALL_NET = {"channels": (4, 8), "feature_dim": 16}


def blocks_dataset(pixels: np.ndarray | None = None) -> ImageDataset:
    """Class k lights up the k-th 4×4 quadrant of an 8×8 image, on top of noise."""
    rng = np.random.default_rng(0)
    classes = np.arange(N_ITEMS) % N_CLASSES
    if pixels is None:
        pixels = rng.integers(0, 80, (N_ITEMS, SIDE, SIDE), dtype=np.uint8)
        for item, k in enumerate(classes):
            row, column = divmod(int(k), 2)
            pixels[item, 4 * row:4 * row + 4, 4 * column:4 * column + 4] += 150
    labels = np.eye(N_CLASSES, dtype=np.uint8)[classes]
    return ImageDataset("blocks", labels, ("a", "b", "c"), ArrayImages(pixels))


def blocks_split(train_size: int = 60) -> Split:
    everything = np.arange(N_ITEMS)
    return Split(query=everything[train_size:], database=everything[:train_size],
                 train=everything[:train_size], protocol="given")


def quick_train(method: HashingMethod | None = None, dataset: ImageDataset | None = None,
                split: Split | None = None, **options) -> TrainedModel:
    settings = {"epochs": 2, "batch_size": 16, "backbone_options": SMALL_NET, "progress": False, **options}
    return train(method or DPSH(), dataset or blocks_dataset(), split or blocks_split(), 8, **settings)


class Recorder(HashingMethod):
    """A minimal method that records the hooks the engine calls; its loss pulls outputs to ±1."""

    name = "recorder"

    def __init__(self, items: np.ndarray | None = None) -> None:
        self.items = items
        self.calls: list[str] = []
        self.positions_seen: list[int] = []

    def begin(self, context: TrainingContext) -> None:
        self.calls.append("begin")
        all_outputs = context.encode_train()
        some = np.array([3, 0, 7])
        torch.testing.assert_close(context.encode_train(some), all_outputs[some])

    def epoch_items(self, context: TrainingContext) -> np.ndarray | None:
        return self.items

    def loss(self, outputs, labels, positions, context):
        self.positions_seen.extend(positions.tolist())
        return ((outputs.abs() - 1) ** 2).mean()

    def end_epoch(self, context: TrainingContext) -> None:
        self.calls.append(f"end {context.epoch}")


def test_history_has_one_row_per_epoch_and_hooks_run_in_order():
    trained = quick_train(Recorder(), epochs=3)
    assert trained.method.calls == ["begin", "end 0", "end 1", "end 2"]
    history = trained.history
    assert list(history.columns) == list(HISTORY_COLUMNS)
    assert history["epoch"].tolist() == [0, 1, 2]
    assert history["items"].tolist() == [60, 60, 60]
    assert (history["seconds"] > 0).all() and np.isfinite(history["loss"]).all()
    assert trained.images_per_second > 0 and trained.n_bits == 8


class Decoder(HashingMethod):
    """A method with a module of its own: a linear decoder from the codes back to the batch's pixels,
    stepped by its own optimiser after the network's step, its loss recorded as a part."""

    name = "decoder"

    def begin(self, context: TrainingContext) -> None:
        self.decoder_ = torch.nn.Linear(context.n_bits, SIDE * SIDE)
        self.optimiser_ = torch.optim.SGD(self.decoder_.parameters(), lr=0.1)
        self.steps_ = 0

    def loss(self, outputs, labels, positions, context):
        target = context.batch_images.flatten(1)
        reconstruction = ((self.decoder_(outputs) - target) ** 2).mean()
        context.record(reconstruction=reconstruction.item(), half=0.5)
        return reconstruction

    def after_step(self, outputs, context):
        assert context.batch_images is not None and len(context.batch_images) == len(outputs)
        self.optimiser_.step()
        self.optimiser_.zero_grad(set_to_none=True)
        self.steps_ += 1


def test_a_method_steps_modules_of_its_own_and_records_loss_parts():
    untrained = Decoder()
    trained = quick_train(untrained, epochs=3)
    assert trained.method.steps_ == 3 * math.ceil(60 / 16)  # one after-step per batch
    assert list(trained.history.columns) == [*HISTORY_COLUMNS, "reconstruction", "half"]
    assert trained.history["half"].tolist() == [0.5, 0.5, 0.5]
    # The part is the batch-size-weighted mean of the batches' losses, as the engine's own loss column.
    np.testing.assert_allclose(trained.history["reconstruction"], trained.history["loss"], rtol=1e-5)
    assert trained.history["reconstruction"].iloc[-1] < trained.history["reconstruction"].iloc[0]
    assert not hasattr(untrained, "decoder_")
    assert trained.context.batch_images is None


def test_epoch_items_limit_what_an_epoch_trains_on():
    chosen = np.array([1, 5, 9, 20, 33, 41, 50, 58])
    trained = quick_train(Recorder(items=chosen), epochs=2, batch_size=4)
    assert sorted(set(trained.method.positions_seen)) == chosen.tolist()
    assert trained.history["items"].tolist() == [8, 8]


def test_a_last_batch_too_small_for_pairs_is_dropped():
    trained = quick_train(Recorder(), split=blocks_split(train_size=33), batch_size=16, epochs=1)
    assert trained.history["items"].tolist() == [32]


def test_codes_are_int8_signs_and_the_same_seed_gives_the_same_codes():
    dataset, split = blocks_dataset(), blocks_split()
    first = quick_train(seed=3).encode(dataset, split.query)
    second = quick_train(seed=3).encode(dataset, split.query, batch_size=7)
    assert first.dtype == np.int8 and first.shape == (len(split.query), 8)
    assert set(np.unique(first)) <= {-1, 1}
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, quick_train(seed=4).encode(dataset, split.query))


def test_training_never_reads_the_query_items():
    dataset, split = blocks_dataset(), blocks_split()
    corrupted = dataset.images(np.arange(N_ITEMS)).copy()
    corrupted[split.query] = np.random.default_rng(1).integers(0, 256, corrupted[split.query].shape, dtype=np.uint8)
    clean_run = quick_train(dataset=dataset, split=split)
    corrupted_run = quick_train(dataset=blocks_dataset(corrupted), split=split)
    np.testing.assert_array_equal(clean_run.history["loss"], corrupted_run.history["loss"])
    np.testing.assert_array_equal(clean_run.encode(dataset, split.train), corrupted_run.encode(dataset, split.train))


def test_evaluate_ranks_by_learned_codes_for_training_items_and_network_codes_otherwise():
    dataset = blocks_dataset()
    everything = np.arange(N_ITEMS)
    split = Split(query=everything[80:], database=everything[:80], train=everything[:60], protocol="given")
    trained = quick_train(split=split)
    assert trained.database_codes is None
    network_codes = trained.encode(dataset, split.database)
    np.testing.assert_array_equal(trained.codes_for_database(dataset, split.database), network_codes)

    learned = np.where(np.arange(60)[:, None] % 2 == 0, 1, -1) * np.ones((60, 8), dtype=np.int8)
    trained.method.database_codes = lambda: learned.astype(np.int8)
    database = np.array([59, 70, 0, 75, 2])
    codes = trained.codes_for_database(dataset, database)
    np.testing.assert_array_equal(codes[[0, 2, 4]], learned[[59, 0, 2]])
    np.testing.assert_array_equal(codes[[1, 3]], trained.encode(dataset, np.array([70, 75])))

    expected = mean_average_precision(trained.encode(dataset, split.query),
                                      trained.codes_for_database(dataset, split.database),
                                      dataset.labels[split.query], dataset.labels[split.database])
    assert evaluate(trained, dataset, split) == pytest.approx(expected)


class Exploding(Recorder):
    def begin(self, context: TrainingContext) -> None:
        raise AssertionError("training started despite a bad argument")


@pytest.mark.parametrize(("options", "error", "names"), [
    ({"backbone": "lenet"}, ValueError, "backbone"),
    ({"n_bits": 0}, ValueError, "n_bits"),
    ({"n_bits": -8}, ValueError, "n_bits"),
    ({"epochs": 0}, ValueError, "epochs"),
    ({"batch_size": 1}, ValueError, "batch_size"),
    ({"optimizer": "lbfgs"}, ValueError, "optimizer"),
    ({"learning_rate": 0.0}, ValueError, "learning_rate"),
    ({"trainable": "some"}, ValueError, "trainable"),
    ({"pretrained_weights": "/nonexistent/cnn_f_imagenet.pth"}, FileNotFoundError, "cnn_f_imagenet.pth"),
    ({"device": "tpu"}, ValueError, "device"),
])
def test_bad_arguments_are_errors_naming_them_before_training(options, error, names):
    arguments = {"n_bits": 8, **options}
    with pytest.raises(error, match=names):
        train(Exploding(), blocks_dataset(), blocks_split(), progress=False, **arguments)


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")
def test_cuda_without_a_gpu_is_an_error():
    with pytest.raises(ValueError, match="device.*no GPU"):
        train(Exploding(), blocks_dataset(), blocks_split(), 8, device="cuda", progress=False)


def test_an_empty_training_split_is_an_error():
    everything = np.arange(N_ITEMS)
    empty = Split(query=everything[:10], database=everything[10:], train=np.array([], dtype=np.int64),
                  protocol="given")
    with pytest.raises(ValueError, match="split.train"):
        train(Exploding(), blocks_dataset(), empty, 8, progress=False)


def test_unknown_backbone_lists_the_valid_names():
    with pytest.raises(ValueError, match="cnn-f.*alexnet.*vgg19.*resnet50.*resnet101"):
        build_backbone("lenet", 1, (28, 28))
    assert BACKBONES[0] == "small-cnn"


def test_small_cnn_weights_load_from_a_local_file(tmp_path):
    source = SmallCNN(1, (8, 8), **SMALL_NET)
    weights_file = tmp_path / "small.pth"
    torch.save(source.state_dict(), weights_file)
    loaded = build_backbone("small-cnn", 1, (8, 8), pretrained_weights=weights_file, **SMALL_NET)
    for name, tensor in source.state_dict().items():
        torch.testing.assert_close(loaded.backbone.state_dict()[name], tensor)
    torch.save({"unrelated": torch.zeros(3)}, weights_file)
    with pytest.raises(ValueError, match="does not fit"):
        build_backbone("small-cnn", 1, (8, 8), pretrained_weights=weights_file, **SMALL_NET)


def test_small_cnn_features_are_standardised_per_batch():
    backbone = build_backbone("small-cnn", 1, (8, 8), **SMALL_NET)
    features = backbone(torch.rand(32, 1, 8, 8))
    torch.testing.assert_close(features.mean(dim=0), torch.zeros(16), atol=1e-4, rtol=0)


class FirstOutputs(Recorder):
    """Keeps what ``encode_train`` gives at ``begin``: the untrained network in eval mode."""

    def begin(self, context: TrainingContext) -> None:
        self.first_outputs = context.encode_train()


def test_batch_norms_are_calibrated_on_training_images_before_begin():
    method = quick_train(FirstOutputs(), epochs=1).method
    # Eval-mode features are standardised from the start: outputs differ between images about as
    # much as in training mode, where fresh running statistics (mean 0, variance 1) would leave
    # every image with nearly the output of the others.
    spread = method.first_outputs.std(dim=0)
    assert spread.min() > 0.1 * method.first_outputs.abs().mean()
    # The running mean is the mean feature over the training images (all 60 fit in one sample).
    network = build_backbone("small-cnn", 1, (8, 8), **SMALL_NET).train()
    _calibrate_batch_norm(network, blocks_dataset(), blocks_split().train, torch.device("cpu"), seed=0)
    images = torch.from_numpy(blocks_dataset().images(blocks_split().train)).float().div(255).unsqueeze(1)
    with torch.no_grad():
        features = network.backbone(images)
    torch.testing.assert_close(network.standardise.running_mean, features.mean(dim=0), atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(network.standardise.running_var, features.var(dim=0), atol=1e-4, rtol=1e-3)


def test_cnn_f_has_chatfields_shape_and_takes_any_image():
    network = CNNF()
    assert [layer.out_channels for layer in network.features if isinstance(layer, torch.nn.Conv2d)] == [64, 256, 256, 256, 256]
    assert network.features(torch.zeros(1, 3, 224, 224)).shape == (1, 256, 6, 6)
    backbone = build_backbone("cnn-f", 1, (28, 28), trainable="head").eval()
    assert backbone.feature_dim == 4096
    assert backbone(torch.rand(2, 1, 28, 28)).shape == (2, 4096)
    assert not any(parameter.requires_grad for parameter in backbone.parameters())


def test_torchvision_backbones_give_their_feature_size():
    backbone = build_backbone("alexnet", 3, (32, 32)).eval()
    assert backbone(torch.rand(1, 3, 32, 32)).shape == (1, 4096)
    with pytest.raises(TypeError, match="takes no options"):
        build_backbone("alexnet", 3, (32, 32), channels=(4, 8))


# The methods with learned state, each small enough for the 60 training items of blocks_split().
STATEFUL = {
    "ADSH": lambda: ADSH(sample_size=30, epochs_per_round=1),
    "FDAH": lambda: FDAH(sample_size=30, epochs_per_round=1),
    "DDSH": lambda: DDSH(sample_size=30),
    "DPSH": DPSH,
    "DSDH": DSDH,
}


def learned_state(method: HashingMethod) -> dict[str, object]:
    """The attributes a run learned (scikit-learn's trailing underscore)."""
    return {name: value for name, value in vars(method).items() if name.endswith("_")}


def tensors_of(trained: TrainedModel) -> list[torch.Tensor]:
    return [value for value in learned_state(trained.method).values() if isinstance(value, torch.Tensor)] + [
        *trained.network.state_dict().values(), trained.context.train_labels]


@pytest.mark.parametrize("name", sorted(STATEFUL))
def test_training_one_method_object_twice_leaves_the_first_model_and_the_object_unchanged(name):
    dataset, split = blocks_dataset(), blocks_split()
    method = STATEFUL[name]()
    first = quick_train(method, seed=1)
    query_codes, database_codes = first.encode(dataset, split.query), first.database_codes
    state = {key: value.clone() for key, value in learned_state(first.method).items()
             if isinstance(value, torch.Tensor)}
    assert state, "the method learned no tensor state"
    second = quick_train(method, seed=2)
    # The second run learned something else, and it did not overwrite the first model's state.
    assert any(not torch.equal(getattr(second.method, key), value) for key, value in state.items())
    for key, value in state.items():
        assert torch.equal(getattr(first.method, key), value), key
    np.testing.assert_array_equal(first.encode(dataset, split.query), query_codes)
    if database_codes is not None:
        np.testing.assert_array_equal(first.database_codes, database_codes)
    assert learned_state(method) == {}


@pytest.mark.parametrize("name", sorted(STATEFUL))
def test_two_models_from_one_method_object_share_no_method_and_no_tensor(name):
    method = STATEFUL[name]()
    first, second = quick_train(method, seed=1), quick_train(method, seed=2)
    assert first.method is not method and second.method is not method and first.method is not second.method
    assert first.network is not second.network and first.context is not second.context
    storages = [{tensor.untyped_storage().data_ptr() for tensor in tensors_of(trained) if tensor.numel()}
                for trained in (first, second)]
    assert storages[0].isdisjoint(storages[1])
    for key, value in learned_state(first.method).items():
        if isinstance(value, np.ndarray):
            assert not np.shares_memory(value, getattr(second.method, key)), key


class SharedLog(list):
    """A log that deep copies share: the test reads what the engine's copy of a method did."""

    def __deepcopy__(self, memo: dict) -> "SharedLog":
        return self


class Diverging(Recorder):
    """Its loss is multiplied by ``value`` at batch ``batch`` of epoch ``epoch`` (both from 1).

    Logs each loss and each backward pass through it in a :class:`SharedLog`.
    """

    name = "diverging"

    def __init__(self, epoch: int, batch: int, value: float) -> None:
        super().__init__()
        self.at, self.value, self.log, self.batches = (epoch, batch), value, SharedLog(), 0

    def begin(self, context: TrainingContext) -> None:
        self.batches = 0

    def end_epoch(self, context: TrainingContext) -> None:
        self.batches = 0

    def loss(self, outputs, labels, positions, context):
        self.batches += 1
        loss = super().loss(outputs, labels, positions, context)
        if (context.epoch + 1, self.batches) == self.at:
            loss = loss * self.value
        self.log.append(f"loss {context.epoch + 1}.{self.batches}")
        loss.register_hook(lambda gradient: self.log.append("backward"))
        return loss


@pytest.mark.parametrize(("epoch", "batch", "value"), [(1, 2, math.nan), (2, 1, math.inf), (1, 4, -math.inf)])
def test_a_non_finite_loss_stops_training_before_its_step_naming_method_epoch_and_batch(epoch, batch, value):
    method = Diverging(epoch, batch, value)
    # 60 training items in batches of 16: 4 batches per epoch.
    expected = rf"diverging.*epoch {epoch} of 2, batch {batch} of 4.*lower the learning rate"
    with pytest.raises(TrainingDiverged, match=expected):
        quick_train(method, epochs=2)
    steps_before = 4 * (epoch - 1) + batch - 1
    assert method.log[-1] == f"loss {epoch}.{batch}"  # no backward pass, no later batch
    assert method.log.count("backward") == steps_before


def test_a_learning_rate_of_a_million_is_an_error_not_a_table_row():
    # Adam's steps are bounded by the learning rate, so at 1e6 its loss grows huge but finite; SGD's
    # steps scale with the gradient and reach NaN within the first epoch.
    expected = r"DPSH.*epoch 1 of 2, batch \d of 4.*lower the learning rate.*1e\+06"
    with pytest.raises(TrainingDiverged, match=expected):
        train(DPSH(), blocks_dataset(), blocks_split(), 8, optimizer="sgd", learning_rate=1e6,
              epochs=2, batch_size=16, backbone_options=SMALL_NET, progress=False)
