"""ADSH's schedule, which FDAH adopts: codes learned for every training item, and a network trained
each round on a freshly drawn query set of ``m`` training items."""

from __future__ import annotations

import numpy as np
import torch

from hashkit.checks import check_positive_int
from hashkit.data import draw_round_sample
from hashkit.deep.method import HashingMethod, TrainingContext


class SampledRounds(HashingMethod):
    """Base of the asymmetric methods: per-item codes ``codes_`` (``n × l``) and a query sample per round.

    Each round draws ``sample_size`` training positions (:func:`hashkit.data.draw_round_sample`,
    from a seed ``sample_seed_`` taken from the run's generator; the round's positions are
    ``sample_``) and the engine makes ``epochs_per_round`` passes over them; after each pass the
    subclass's :meth:`update` sets ``codes_`` (and whatever else it learns outside gradient
    descent) from the network's outputs on the sample. The database is ranked by ``codes_``.

    Both papers leave the start open. Ours: ``codes_`` start at 0 and :meth:`update` runs once on
    the first round's sample before any gradient step, so the first pass already trains against
    codes that tell the classes apart (the untrained network's outputs differ by class, once the
    engine has calibrated its batch norms). Measured on Fashion-MNIST (60,000 items, SmallCNN
    16/32 channels, 2 rounds, 32 bits): ADSH mAP 0.53 where random balanced codes gave 0.37;
    FDAH 0.82 where they gave 0.72.
    """

    asymmetric = True
    # Learned state, set from begin() on; a trailing underscore as in scikit-learn.
    codes_: torch.Tensor
    sample_: np.ndarray
    sample_seed_: int

    def __init__(self, sample_size: int, epochs_per_round: int) -> None:
        self.sample_size = check_positive_int(sample_size, "sample_size")
        self.epochs_per_round = check_positive_int(epochs_per_round, "epochs_per_round")

    def begin(self, context: TrainingContext) -> None:
        if self.sample_size > context.n_train:
            raise ValueError(
                f"sample_size: {self.name} samples m={self.sample_size:,} items per round from the training "
                f"set, which holds {context.n_train:,}; pass a sample_size of at most {context.n_train:,}"
            )
        self.sample_seed_ = int(torch.randint(0, 2**31 - 1, (1,), generator=context.generator))
        self.codes_ = torch.zeros((context.n_train, context.n_bits), device=context.device)
        self.update(context, self.epoch_items(context))

    def epoch_items(self, context: TrainingContext) -> np.ndarray:
        if context.epoch % self.epochs_per_round == 0:
            self.sample_ = draw_round_sample(np.arange(context.n_train), self.sample_size, self.sample_seed_,
                                            round_index=context.epoch // self.epochs_per_round)
        return self.sample_

    def end_epoch(self, context: TrainingContext) -> None:
        self.update(context, self.sample_)

    def update(self, context: TrainingContext, sample: np.ndarray) -> None:
        """The method's discrete step(s) from the network's outputs on the training positions ``sample``."""
        raise NotImplementedError

    def database_codes(self) -> np.ndarray:
        return self.codes_.cpu().numpy().astype(np.int8)
