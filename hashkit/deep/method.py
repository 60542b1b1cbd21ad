"""What a deep hashing method gives the shared training engine: its loss, and its update rule.

The engine (:mod:`hashkit.deep.engine`) owns everything the methods have in common: the data
loader over the protocol's training split, seeds, the device, the optimiser, the progress bar,
the per-epoch history. A method subclasses :class:`HashingMethod` and overrides only what its
paper defines:

* :meth:`HashingMethod.loss` — always; vectorised over the batch (no Python loop over pairs).
* :meth:`HashingMethod.activation` — the relaxation of ``sign`` on the network's last layer
  (``tanh`` by default; HashNet's continuation ``tanh(beta * z)`` changes it per epoch).
* :meth:`HashingMethod.begin` — per-item state allocated once (ADSH's database codes ``V``,
  DSDH's discrete codes ``B``).
* :meth:`HashingMethod.epoch_items` — which training items an epoch iterates over (all by
  default; ADSH and FDAH sample ``m`` query items per round).
* :meth:`HashingMethod.end_epoch` — an update outside gradient descent, after the epoch's
  gradient steps (ADSH's discrete cyclic coordinate descent on ``V``, DSDH's ``B`` and ``W``).
* :meth:`HashingMethod.database_codes` — for asymmetric methods, the learned codes of the
  training items, by which the database is ranked when it is the training set (GUIDE §3.8).
* :meth:`HashingMethod.output_width` — the width of the network's last layer: ``n_bits`` by
  default; a classifier's number of (sub-)classes (DSHC).
* :meth:`HashingMethod.codes` — the ±1 codes of activated outputs: ``sign`` by default; a
  classifier maps its predicted (sub-)classes to codes (DSHC).
* :meth:`HashingMethod.after_step` — a step of the method's own modules after the network's
  gradient step (a GAN's generator and discriminator, BGAN): the modules and their optimisers are
  the method's, created in :meth:`~HashingMethod.begin`; the batch's images are
  :attr:`TrainingContext.batch_images`; :meth:`TrainingContext.record` puts loss parts into the
  epoch history.

A loss that needs the network's outputs of images other than the batch itself (DeepBit's rotated
copies of the batch) calls :attr:`TrainingContext.forward`: the engine's network in its current
mode, then :meth:`HashingMethod.activation`, with gradient, so that the batch's loss reaches the
network through those outputs too.

As in scikit-learn, hyper-parameters are set in ``__init__`` and keep their names; what a run
learns lives in attributes ending in ``_`` (ADSH's ``codes_``, DSDH's ``codes_`` and
``classifier_``), set from :meth:`HashingMethod.begin` on. The engine trains a deep copy of the
method it is given, so the caller's object never holds learned state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from hashkit.codes import sign


@dataclass
class TrainingContext:
    """What the engine tells a method about the run; ``epoch`` advances as training goes.

    Attributes:
        n_bits: code length.
        train_labels: ``(n_train, n_classes)`` float multi-hot labels of the training split, on
            ``device``; item ``i`` is position ``i`` of the split's ``train`` indices.
        device: where the network and the batches live.
        n_epochs: epochs the run will make.
        generator: the run's seeded torch generator (CPU); methods draw their randomness from it.
        encode_train: network outputs after :meth:`HashingMethod.activation` for the training
            items at the given positions, ``(len(positions), n_bits)``, or for all of them when
            called without positions (eval mode, no gradient), computed on demand: what a discrete
            update step needs (ADSH's ``U`` of its sampled items, DSDH's ``U`` of all).
        epoch: the current epoch, from 0.
        batch_images: the current batch's images as the network saw them (after augmentation),
            set by the engine before :meth:`HashingMethod.loss`; ``None`` between batches.
        image_shape: ``(channels, height, width)`` of the dataset's images (what a generator makes).
        forward: ``images → activated outputs``: the network as it stands, in its current mode
            (training mode during an epoch: batch norm uses and updates its batch statistics),
            then :meth:`HashingMethod.activation`, *with* gradient; set by the engine. What a loss
            needs when it compares the batch's outputs with those of other images it makes from
            the batch (DeepBit's rotated copies, :attr:`batch_images` rotated). ``None`` where no
            engine built the context (a test's hand-made one).
    """

    n_bits: int
    train_labels: torch.Tensor
    device: torch.device
    n_epochs: int
    generator: torch.Generator
    encode_train: Callable[..., torch.Tensor]
    epoch: int = 0
    extras: dict[str, object] = field(default_factory=dict)
    batch_images: torch.Tensor | None = None
    image_shape: tuple[int, int, int] | None = None
    forward: Callable[[torch.Tensor], torch.Tensor] | None = None
    # Loss parts of the current epoch: name → (sum weighted by batch size, items).
    parts: dict[str, tuple[float, int]] = field(default_factory=dict)

    def record(self, **parts: float | torch.Tensor) -> None:
        """Add this batch's loss parts (e.g. ``adversarial=…``) to the epoch's means in the history."""
        size = 0 if self.batch_images is None else len(self.batch_images)
        for name, value in parts.items():
            total, items = self.parts.get(name, (0.0, 0))
            self.parts[name] = (total + float(value) * size, items + size)

    def part_means(self) -> dict[str, float]:
        """This epoch's mean of every recorded loss part, and a fresh start for the next epoch."""
        means = {name: total / max(items, 1) for name, (total, items) in self.parts.items()}
        self.parts = {}
        return means

    @property
    def n_train(self) -> int:
        return len(self.train_labels)


class HashingMethod:
    """Base class of the deep hashing methods; see the module docstring for what to override."""

    name: str = "method"
    supervised: bool = True
    asymmetric: bool = False
    # The fewest items a batch may hold: a loss over pairs within the batch needs two. The engine
    # rejects a smaller batch size and drops an epoch's last batch when it would be smaller.
    min_batch_size: int = 2

    def output_width(self, n_bits: int, n_classes: int) -> int:
        """Outputs of the network's last layer for ``n_bits``-bit codes of a ``n_classes``-class dataset.

        ``n_bits`` by default. The engine asks before building the network, so a method that
        cannot make codes of this length for these classes raises here, before any training.
        """
        return n_bits

    def begin(self, context: TrainingContext) -> None:
        """Allocate per-item state before the first epoch (nothing by default)."""

    def activation(self, logits: torch.Tensor, context: TrainingContext) -> torch.Tensor:
        """The relaxed codes the loss sees, from the hashing layer's outputs: ``tanh`` by default."""
        return torch.tanh(logits)

    def epoch_items(self, context: TrainingContext) -> np.ndarray | None:
        """Positions in the training split that this epoch iterates over; ``None`` means all."""
        return None

    def loss(self, outputs: torch.Tensor, labels: torch.Tensor, positions: torch.Tensor,
             context: TrainingContext) -> torch.Tensor:
        """The scalar loss of a batch.

        ``outputs``: ``(batch, n_bits)`` relaxed codes from :meth:`activation`; ``labels``:
        ``(batch, n_classes)`` float multi-hot; ``positions``: ``(batch,)`` int64 positions of the
        batch's items in the training split (to index per-item state and ``train_labels``).
        """
        raise NotImplementedError(f"{type(self).__name__} must define loss()")

    def after_step(self, outputs: torch.Tensor, context: TrainingContext) -> None:
        """After the network's gradient step on a batch: steps of the method's own modules (nothing by default).

        The batch loss's backward has already filled the gradients of every module it reached,
        the method's own included; stepping and clearing those is the method's.
        """

    def end_epoch(self, context: TrainingContext) -> None:
        """An update outside gradient descent after each epoch (nothing by default)."""

    def codes(self, outputs: torch.Tensor, context: TrainingContext) -> torch.Tensor:
        """``(items, n_bits)`` ±1 codes of ``(items, output_width)`` activated outputs: ``sign`` by default."""
        return sign(outputs)

    def database_codes(self) -> np.ndarray | None:
        """Learned ±1 codes of the training items for asymmetric methods; ``None`` otherwise."""
        return None
