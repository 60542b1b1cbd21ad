"""ADSH's schedule, which FDAH adopts: codes learned for every training item, and a network trained
each round on a freshly drawn query set of ``m`` training items."""

from __future__ import annotations

import numpy as np
import torch

from hashkit.checks import check_positive_int
from hashkit.data import draw_round_sample
from hashkit.deep.method import HashingMethod, TrainingContext


def balanced_random_codes(n_items: int, n_bits: int, generator: torch.Generator) -> torch.Tensor:
    """Random ±1 codes whose every bit is +1 on half the items (one more when ``n_items`` is odd).

    Balance matters for ADSH's start: a bit's excess of +1s over all ``n`` codes (about √n for
    independent draws) is larger than its excess within a class (about √(n / 10) on ten classes),
    so a network fitted to unbalanced random codes learns one output shared by all images, and the
    update of ``V`` then sets that bit alike for every database item.
    """
    half = torch.where(torch.arange(n_items) < (n_items + 1) // 2, 1.0, -1.0)
    return torch.stack([half[torch.randperm(n_items, generator=generator)] for _ in range(n_bits)], dim=1)


class SampledRounds(HashingMethod):
    """Base of the asymmetric methods: per-item codes ``codes`` (``n × l``) and a query sample per round.

    Each round draws ``sample_size`` training positions (:func:`hashkit.data.draw_round_sample`,
    from a seed taken from the run's generator) and the engine makes ``epochs_per_round`` passes
    over them. ``codes`` start as :func:`balanced_random_codes`; the database is ranked by them.
    A subclass adds its loss and its update of ``codes`` in ``end_epoch``.
    """

    asymmetric = True

    def __init__(self, sample_size: int, epochs_per_round: int) -> None:
        self.sample_size = check_positive_int(sample_size, "sample_size")
        self.epochs_per_round = check_positive_int(epochs_per_round, "epochs_per_round")
        self.codes: torch.Tensor | None = None
        self.sample: np.ndarray | None = None
        self.sample_seed = 0

    def begin(self, context: TrainingContext) -> None:
        if self.sample_size > context.n_train:
            raise ValueError(
                f"sample_size: {self.name} samples m={self.sample_size:,} items per round from the training "
                f"set, which holds {context.n_train:,}; pass a sample_size of at most {context.n_train:,}"
            )
        self.sample_seed = int(torch.randint(0, 2**31 - 1, (1,), generator=context.generator))
        self.codes = balanced_random_codes(context.n_train, context.n_bits, context.generator).to(context.device)

    def epoch_items(self, context: TrainingContext) -> np.ndarray:
        if context.epoch % self.epochs_per_round == 0:
            self.sample = draw_round_sample(np.arange(context.n_train), self.sample_size, self.sample_seed,
                                            round_index=context.epoch // self.epochs_per_round)
        return self.sample

    def database_codes(self) -> np.ndarray | None:
        return None if self.codes is None else self.codes.cpu().numpy().astype(np.int8)
