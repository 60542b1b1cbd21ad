"""The one training loop every deep hashing method shares, and how a trained model is evaluated.

:func:`train` fits a :class:`~hashkit.deep.method.HashingMethod` on the **training** items of a
protocol split and returns a :class:`TrainedModel`. It owns everything the methods have in
common: argument checks (before any work), seeds, the device, the backbone with its hashing
layer ``Linear(feature_dim, n_bits)``, the optimiser, the seeded data loader, the progress bar and
the per-epoch history. A method adds only its loss and, where its paper has one, its update
outside gradient descent (see :mod:`hashkit.deep.method`).

One epoch::

    items = method.epoch_items(context)             # all training items, or e.g. ADSH's sample
    for images, labels, positions in shuffled batches of items:
        outputs = method.activation(network(images))
        loss = method.loss(outputs, labels, positions)   # NaN or inf: TrainingDiverged, no step
        loss.backward(); optimiser.step()
        method.after_step(outputs)                   # e.g. BGAN's generator and discriminator steps
    method.end_epoch(context)                        # e.g. ADSH's discrete update of V

A loss may send other images through the network too, with gradient, by
``context.forward(images)`` (the network in its current mode, then the method's activation):
DeepBit's rotated copies of the batch.

The engine trains a deep copy of the method it is given, so that the caller's object and every
:class:`TrainedModel` hold state of their own, and it stops at the first batch whose loss is not
finite (:class:`TrainingDiverged`): a diverged run raises rather than reaching a table.

The engine never reads ``split.query`` or ``split.database``: there is no model or epoch selection
on the queries (GUIDE §3.9); the model after the last epoch is the model.

Evaluating (GUIDE §3.8), which :func:`evaluate` does:

* query codes: ``trained.encode(dataset, split.query)``;
* database codes: ``trained.codes_for_database(dataset, split.database)``, i.e. for an asymmetric
  method (ADSH, FDAH) its *learned* codes of the database items that are training items — all of
  them when database == train, as in the FDAH and ADSH protocols — and the network's codes of the
  others; for every other method ``trained.encode(dataset, split.database)``.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Real

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, SubsetRandomSampler
from tqdm import tqdm

from hashkit.checks import check_positive_int
from hashkit.data import ImageDataset, Split
from hashkit.deep.augmentation import augment, check_augmentation
from hashkit.deep.backbones import Trainable, build_backbone, check_backbone_choice
from hashkit.deep.method import HashingMethod, TrainingContext
from hashkit.deep.tensors import SplitImages, image_shape, iterate_batches
from hashkit.metrics import NoRelevant, TieOrder, mean_average_precision
from hashkit.runtime import resolve_device, seed_everything

OPTIMIZERS = ("adam", "sgd", "rmsprop")
HISTORY_COLUMNS = ("epoch", "loss", "items", "seconds", "update_seconds")
ENCODE_BATCH = 1000
CALIBRATION_ITEMS = 2048


class TrainingDiverged(ValueError):
    """The loss of a batch was NaN or infinite: training stopped there, before its gradient step."""


class HashingNetwork(nn.Module):
    """A backbone and the hashing layer on top: image → real outputs (before activation).

    The layer has ``n_bits`` outputs, or as many as the method asks for
    (:meth:`~hashkit.deep.method.HashingMethod.output_width`: a classifier's sub-classes).

    With a frozen backbone (``trainable="head"``) the backbone stays in eval mode during training
    too, so that dropout does not perturb the fixed features.
    """

    def __init__(self, backbone: nn.Module, n_outputs: int, frozen_backbone: bool = False) -> None:
        super().__init__()
        self.backbone = backbone
        self.hash_layer = nn.Linear(backbone.feature_dim, n_outputs)
        self.frozen_backbone = frozen_backbone

    def train(self, mode: bool = True) -> HashingNetwork:
        super().train(mode)
        if self.frozen_backbone:
            self.backbone.eval()
        return self

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.hash_layer(self.backbone(images))


@dataclass
class TrainedModel:
    """A trained network with its method, and what the run measured.

    Attributes:
        method: the fitted method, the engine's own copy of the one given to :func:`train`; its
            learned state is in the attributes ending in ``_`` (e.g. ADSH's ``codes_``).
        network: backbone + hashing layer, in eval mode.
        context: the run's final :class:`TrainingContext` (the activation may depend on it).
        train_indices: the dataset indices of the training items, in the order of the method's
            per-item state (``database_codes`` row ``i`` is item ``train_indices[i]``).
        history: one row per epoch: ``epoch`` (from 0), ``loss`` (mean over the epoch's batches,
            weighted by batch size), ``items`` (images trained on), ``seconds`` (wall time of the
            epoch, its update included) and ``update_seconds`` (of ``end_epoch`` alone), then the
            mean of each loss part the method recorded (:meth:`TrainingContext.record`).
    """

    method: HashingMethod
    network: HashingNetwork
    context: TrainingContext
    train_indices: np.ndarray
    history: pd.DataFrame

    @property
    def n_bits(self) -> int:
        return self.context.n_bits

    @property
    def training_seconds(self) -> float:
        """Wall time of all epochs (the set-up before the first epoch is not counted)."""
        return float(self.history["seconds"].sum())

    @property
    def images_per_second(self) -> float:
        """Training throughput: images trained on per second of training wall time."""
        return float(self.history["items"].sum() / self.training_seconds)

    @property
    def database_codes(self) -> np.ndarray | None:
        """The method's learned ±1 ``int8`` codes of the training items (asymmetric methods), else ``None``."""
        return self.method.database_codes()

    def outputs(self, dataset: ImageDataset, indices: np.ndarray, batch_size: int = ENCODE_BATCH) -> torch.Tensor:
        """``(len(indices), output_width)`` activated outputs of the network, in eval mode."""
        batch_size = check_positive_int(batch_size, "batch_size")
        return _network_outputs(self.network, self.method, self.context, dataset, indices, batch_size)

    def encode(self, dataset: ImageDataset, indices: np.ndarray, batch_size: int = ENCODE_BATCH) -> np.ndarray:
        """``(len(indices), n_bits)`` ±1 ``int8`` codes from the network: the method's
        :meth:`~hashkit.deep.method.HashingMethod.codes` of its activated outputs (``sign`` for most)."""
        codes = self.method.codes(self.outputs(dataset, indices, batch_size), self.context)
        return codes.cpu().numpy().astype(np.int8)

    def codes_for_database(self, dataset: ImageDataset, database_indices: np.ndarray,
                           batch_size: int = ENCODE_BATCH) -> np.ndarray:
        """The codes to rank ``database_indices`` by (GUIDE §3.8; see the module docstring)."""
        database_indices = np.asarray(database_indices, dtype=np.int64)
        learned = self.database_codes
        if learned is None:
            return self.encode(dataset, database_indices, batch_size)
        by_index = np.argsort(self.train_indices)
        sorted_train = self.train_indices[by_index]
        slots = np.minimum(np.searchsorted(sorted_train, database_indices), len(sorted_train) - 1)
        is_training_item = sorted_train[slots] == database_indices
        codes = np.empty((len(database_indices), learned.shape[1]), dtype=np.int8)
        codes[is_training_item] = learned[by_index[slots[is_training_item]]]
        if not is_training_item.all():
            codes[~is_training_item] = self.encode(dataset, database_indices[~is_training_item], batch_size)
        return codes


def _network_outputs(network: nn.Module, method: HashingMethod, context: TrainingContext,
                     dataset: ImageDataset, indices: np.ndarray, batch_size: int) -> torch.Tensor:
    """Activated outputs of ``indices`` in eval mode without gradients; restores the network's mode."""
    was_training = network.training
    network.eval()
    with torch.no_grad():
        outputs = [method.activation(network(images.to(context.device)), context)
                   for images in iterate_batches(dataset, indices, batch_size)]
    network.train(was_training)
    if not outputs:
        return torch.empty((0, network.hash_layer.out_features), device=context.device)
    return torch.cat(outputs)


def _make_optimizer(name: str, parameters: list[nn.Parameter], learning_rate: float,
                    weight_decay: float, momentum: float) -> torch.optim.Optimizer:
    if name == "adam":
        return torch.optim.Adam(parameters, lr=learning_rate, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(parameters, lr=learning_rate, weight_decay=weight_decay, momentum=momentum)
    return torch.optim.RMSprop(parameters, lr=learning_rate, weight_decay=weight_decay, momentum=momentum)


def _check_arguments(method: HashingMethod, split: Split, batch_size: int, optimizer: str,
                     learning_rate: float, weight_decay: float, momentum: float) -> None:
    if not isinstance(method, HashingMethod):
        raise TypeError(f"method: expected a HashingMethod, got {type(method).__name__}")
    if batch_size < method.min_batch_size:
        raise ValueError(
            f"batch_size: {method.name} needs at least {method.min_batch_size} items per batch "
            f"(its loss is over pairs within a batch), got {batch_size}"
        )
    if split.train.size < method.min_batch_size:
        raise ValueError(
            f"split.train: {split.train.size} training items; {method.name} needs at least "
            f"{method.min_batch_size} (protocol {split.protocol!r})"
        )
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer: expected one of {', '.join(OPTIMIZERS)}, got {optimizer!r}")
    for name, value in (("learning_rate", learning_rate), ("weight_decay", weight_decay), ("momentum", momentum)):
        if isinstance(value, bool) or not isinstance(value, Real) or not 0 <= value < math.inf:
            raise ValueError(f"{name}: expected a finite number >= 0, got {value!r}")
    if learning_rate == 0:
        raise ValueError("learning_rate: expected a positive number, got 0")


def _calibrate_batch_norm(network: nn.Module, dataset: ImageDataset, train_indices: np.ndarray,
                          device: torch.device, seed: int) -> None:
    """Set the running statistics of the network's training-mode batch norms from training images.

    Fresh layers hold mean 0 and variance 1, so an untrained network in eval mode (what a method's
    ``begin`` and first update see through ``encode_train``) would give every image nearly the
    same output. A no-gradient pass over up to :data:`CALIBRATION_ITEMS` training items, averaged
    cumulatively, makes eval mode behave as training mode does from the start. Frozen layers
    (a pretrained backbone under ``trainable="head"``) keep their statistics. The sample is drawn
    from its own seeded generator, so the run's random stream is what it was without this pass.
    """
    norms = [module for module in network.modules()
             if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.training and module.track_running_stats]
    if not norms:
        return
    sample = np.sort(np.random.default_rng(seed).permutation(len(train_indices))[:CALIBRATION_ITEMS])
    momenta = [module.momentum for module in norms]
    for module in norms:
        module.reset_running_stats()
        module.momentum = None  # a cumulative average over the pass
    with torch.no_grad():
        for images in iterate_batches(dataset, train_indices[sample], ENCODE_BATCH):
            if len(images) > 1:
                network(images.to(device))
    for module, momentum in zip(norms, momenta):
        module.momentum = momentum


def _batch_loader(split_images: SplitImages, positions: np.ndarray | None, batch_size: int,
                  min_batch_size: int, generator: torch.Generator) -> DataLoader:
    """Shuffled batches of ``positions`` (all items when ``None``), drawn from the run's generator.

    The last, partial batch is dropped only when it would hold fewer items than the method needs,
    or a single item, which batch norm cannot train on.
    """
    if positions is None:
        positions = np.arange(len(split_images))
    positions = np.asarray(positions, dtype=np.int64)
    sampler = SubsetRandomSampler(positions.tolist(), generator=generator)
    drop_last = 0 < len(positions) % batch_size < max(min_batch_size, 2)
    return DataLoader(split_images, batch_sampler=BatchSampler(sampler, batch_size, drop_last), num_workers=0)


def train(
    method: HashingMethod,
    dataset: ImageDataset,
    split: Split,
    n_bits: int,
    *,
    backbone: str = "small-cnn",
    backbone_options: dict[str, object] | None = None,
    pretrained_weights: str | None = None,
    trainable: Trainable = "all",
    epochs: int = 10,
    batch_size: int = 128,
    optimizer: str = "adam",
    learning_rate: float = 1e-3,
    weight_decay: float = 1e-5,
    momentum: float = 0.9,
    lr_step_epochs: int | None = None,
    lr_decay: float = 0.1,
    augmentation: str = "none",
    device: str | torch.device = "cpu",
    seed: int = 0,
    progress: bool = True,
    after_epoch: Callable[[TrainedModel], None] | None = None,
) -> TrainedModel:
    """Train ``method`` on ``dataset``'s items ``split.train`` and return the :class:`TrainedModel`.

    ``method`` itself is never modified: the engine trains a deep copy of it, which becomes
    :attr:`TrainedModel.method`. Training the same object twice thus gives two models that share
    no state.

    Args:
        method: the hashing method (its loss and update rule), with its hyper-parameters.
        dataset, split: the data and its protocol split; only ``split.train`` is read.
        n_bits: code length.
        backbone, backbone_options, pretrained_weights, trainable: see
            :func:`hashkit.deep.backbones.build_backbone`; ``pretrained_weights`` is a local file.
        epochs: passes the engine makes; for methods that train in rounds (ADSH), rounds times
            epochs per round (see the method).
        batch_size: items per gradient step (the papers use 64 or 128).
        optimizer: ``"adam"`` (default: the from-scratch CPU setting trains fastest with it),
            ``"sgd"`` (the papers' choice for fine-tuning) or ``"rmsprop"``; ``momentum`` applies
            to the last two.
        learning_rate, weight_decay: of the optimiser.
        lr_step_epochs, lr_decay: the learning rate is multiplied by ``lr_decay`` every
            ``lr_step_epochs`` epochs (``None``: constant), e.g. DSHC's "decreases every 6 epochs".
        augmentation: ``"none"`` or ``"crop-flip"`` (:mod:`hashkit.deep.augmentation`), applied
            to each training batch.
        device: ``"cpu"`` or ``"cuda[:N]"``; CUDA that is not there is an error before any work.
        seed: seeds Python, numpy and torch; the same seed gives the same codes on the CPU.
        progress: show a progress bar per epoch.
        after_epoch: called after each epoch (its update included) with the model as it stands,
            in eval mode: what a learning curve needs (e.g. mAP after every round). The model is
            live and goes on training, so read what you need inside the call; its time is not
            counted in the history's seconds.

    Every argument is checked before any work: an unknown backbone, a missing weights file,
    ``n_bits`` or ``epochs`` ≤ 0, a batch smaller than the method's pairs need, an absent GPU or a
    training split too small raise an error naming the parameter.

    Raises:
        TrainingDiverged: a batch's loss was NaN or infinite (a learning rate too high, most
            often); the message names the method, the epoch and the batch. No gradient step is
            taken from that loss.
    """
    n_bits = check_positive_int(n_bits, "n_bits")
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    _check_arguments(method, split, batch_size, optimizer, learning_rate, weight_decay, momentum)
    if lr_step_epochs is not None:
        lr_step_epochs = check_positive_int(lr_step_epochs, "lr_step_epochs")
    if isinstance(lr_decay, bool) or not isinstance(lr_decay, Real) or not 0 < lr_decay <= 1:
        raise ValueError(f"lr_decay: expected a number in (0, 1], got {lr_decay!r}")
    check_augmentation(augmentation)
    check_backbone_choice(backbone, pretrained_weights, trainable)
    device = resolve_device(device)
    # Learned state lives on the method (codes_, memory_, …): a copy per run keeps the caller's
    # object unfitted and stops two models trained from it from sharing (and overwriting) tensors.
    method = copy.deepcopy(method)

    generator = seed_everything(seed)
    channels, height, width = image_shape(dataset)
    n_outputs = check_positive_int(method.output_width(n_bits, dataset.n_classes), f"{method.name}'s output_width")
    network = HashingNetwork(
        build_backbone(backbone, channels, (height, width), pretrained_weights=pretrained_weights,
                       trainable=trainable, **(backbone_options or {})),
        n_outputs,
        frozen_backbone=trainable == "head",
    ).to(device)
    split_images = SplitImages(dataset, split.train)

    def encode_train(positions: np.ndarray | None = None) -> torch.Tensor:
        chosen = split.train if positions is None else split.train[np.asarray(positions, dtype=np.int64)]
        return _network_outputs(network, method, context, dataset, chosen, ENCODE_BATCH)

    context = TrainingContext(
        n_bits=n_bits, train_labels=split_images.labels.to(device), device=device, n_epochs=epochs,
        generator=generator, encode_train=encode_train, image_shape=(channels, height, width),
        # Activated outputs of any images, with gradient, in the network's current mode (DeepBit's
        # rotated copies of the batch go through the network this way).
        forward=lambda images: method.activation(network(images), context),
    )
    optimiser = _make_optimizer(optimizer, [p for p in network.parameters() if p.requires_grad],
                                learning_rate, weight_decay, momentum)
    schedule = (None if lr_step_epochs is None
                else torch.optim.lr_scheduler.StepLR(optimiser, step_size=lr_step_epochs, gamma=lr_decay))
    network.train()
    _calibrate_batch_norm(network, dataset, split.train, device, seed)
    method.begin(context)

    rows = []
    for epoch in range(epochs):
        context.epoch = epoch
        started = time.perf_counter()
        loader = _batch_loader(split_images, method.epoch_items(context), batch_size,
                               method.min_batch_size, generator)
        loss_sum, items = 0.0, 0
        bar = tqdm(loader, desc=f"{method.name} epoch {epoch + 1}/{epochs}", disable=not progress, leave=False)
        for batch, (images, labels, positions) in enumerate(bar, start=1):
            images = augment(images, augmentation, generator).to(device)
            labels, positions = labels.to(device), positions.to(device)
            context.batch_images = images
            outputs = method.activation(network(images), context)
            loss = method.loss(outputs, labels, positions, context)
            # Checked before backward: one NaN step would spread NaN through every weight, and the
            # run would go on to give codes and a score that mean nothing.
            if not torch.isfinite(loss):
                raise TrainingDiverged(
                    f"{method.name}: training diverged, the loss is {loss.item()} at epoch {epoch + 1} of "
                    f"{epochs}, batch {batch} of {len(loader)}; lower the learning rate (it is {learning_rate:g})"
                )
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            method.after_step(outputs, context)
            loss_sum += loss.item() * len(images)
            items += len(images)
            bar.set_postfix(loss=f"{loss.item():.4f}")
        context.batch_images = None
        if schedule is not None:
            schedule.step()
        update_started = time.perf_counter()
        method.end_epoch(context)
        finished = time.perf_counter()
        rows.append({"epoch": epoch, "loss": loss_sum / max(items, 1), "items": items,
                     "seconds": finished - started, "update_seconds": finished - update_started,
                     **context.part_means()})
        if after_epoch is not None:
            network.eval()
            after_epoch(TrainedModel(method=method, network=network, context=context, train_indices=split.train,
                                     history=_history(rows)))
            network.train()
    network.eval()
    return TrainedModel(method=method, network=network, context=context, train_indices=split.train.copy(),
                        history=_history(rows))


def _history(rows: list[dict]) -> pd.DataFrame:
    """The per-epoch rows as a table: the engine's columns, then the method's recorded loss parts."""
    parts = list(dict.fromkeys(name for row in rows for name in row if name not in HISTORY_COLUMNS))
    return pd.DataFrame(rows, columns=[*HISTORY_COLUMNS, *parts])


def retrieval_codes(trained: TrainedModel, dataset: ImageDataset, split: Split) -> tuple[np.ndarray, np.ndarray]:
    """``(query codes, database codes)`` of ``split`` as :func:`evaluate` ranks them (see the module docstring)."""
    return trained.encode(dataset, split.query), trained.codes_for_database(dataset, split.database)


def evaluate(trained: TrainedModel, dataset: ImageDataset, split: Split, top_k: int | None = None, *,
             no_relevant: NoRelevant = "zero", tie_order: TieOrder = "stable", seed: int = 0) -> float:
    """mAP@``top_k`` (``None``: the whole database) of ``split.query`` against ``split.database``.

    Queries are encoded by the network; the database is ranked by
    :meth:`TrainedModel.codes_for_database` (learned codes for an asymmetric method's training
    items, GUIDE §3.8). ``no_relevant``, ``tie_order`` and ``seed`` are those of
    :func:`hashkit.metrics.mean_average_precision`.
    """
    query_codes, database_codes = retrieval_codes(trained, dataset, split)
    return mean_average_precision(query_codes, database_codes, dataset.labels[split.query],
                                  dataset.labels[split.database], top_k, no_relevant=no_relevant,
                                  tie_order=tie_order, seed=seed)
