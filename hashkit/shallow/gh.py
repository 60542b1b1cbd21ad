"""Greedy hashing (GH), unsupervised: a linear hash layer on fixed features, signed in the forward
pass with the gradient passed straight through, trained to make code cosines match feature cosines.

GreedyHash (Su, Zhang, Han, Tian, "Greedy Hash: Towards Fast Optimization for Accurate Hash
Coding in CNN", NeurIPS 2018) trains only a hash layer on a frozen VGG-16 in its unsupervised
setting, so it has the shallow estimators' shape here: ``fit(features)`` then ``encode(features)``,
with torch inside, on the CPU.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from numbers import Integral

import numpy as np
import torch
from torch.nn import functional

from hashkit.checks import check_non_negative, check_positive, check_positive_int
from hashkit.codes import sign
from hashkit.runtime import seed_everything
from hashkit.shallow.base import ShallowHasher, check_features

OPTIMIZERS = ("sgd", "adam")


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """torch on one intra-op thread for the block, restored after.

    A GH step moves a few dozen items through one small layer: far below the size torch splits
    across threads, so more threads only add synchronisation. On 2 cores shared with other jobs
    that synchronisation cost 2-35 ms a step against 1-3 ms on one thread (measured here).
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


class GreedySign(torch.autograd.Function):
    """``b = sgn(h)`` (``sgn(0) = +1``) forward; backward hands ``dL/db`` to ``h`` unchanged.

    This is GreedyHash's "greedy" step: the sign is the exact minimiser of ``||b - h||`` over
    binary ``b``, and passing the gradient through unchanged lets ``h`` follow it.
    """

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, hidden: torch.Tensor) -> torch.Tensor:
        return sign(hidden)

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad_codes: torch.Tensor) -> torch.Tensor:
        return grad_codes


def greedy_sign(hidden: torch.Tensor) -> torch.Tensor:
    """±1 codes of ``hidden`` whose gradient passes straight through (:class:`GreedySign`)."""
    return GreedySign.apply(hidden)


def greedy_loss(codes: torch.Tensor, hidden: torch.Tensor, features: torch.Tensor,
                quantisation_weight: float = 0.1) -> torch.Tensor:
    """GreedyHash's unsupervised loss on one batch of ``B >= 2`` items.

    Items are paired across the two halves of the batch, ``i`` with ``i + B//2`` for
    ``i < B//2`` (with ``B`` odd the last item has no partner and enters only the second term)::

        mean_i (cos(b_i, b_{i+B//2}) - cos(x_i, x_{i+B//2}))^2  +  w * mean_{n,k} | |h_nk| - 1 |^3

    ``codes`` are the signed ``b`` (``B x L``), ``hidden`` the hash layer's ``h`` and ``features``
    the inputs ``x`` (``B x d``); ``w`` is ``quantisation_weight`` (0.1 in the authors' code).
    A zero feature vector has cosine 0 with everything (as ``torch``'s cosine similarity gives).
    """
    half = codes.shape[0] // 2
    if half == 0:
        raise ValueError("greedy_loss: a batch needs at least 2 items to form a pair")
    code_cosine = functional.cosine_similarity(codes[:half], codes[half:2 * half], dim=1)
    feature_cosine = functional.cosine_similarity(features[:half], features[half:2 * half], dim=1)
    similarity = ((code_cosine - feature_cosine) ** 2).mean()
    quantisation = ((hidden.abs() - 1).abs() ** 3).mean()
    return similarity + quantisation_weight * quantisation


class GH(ShallowHasher):
    """Greedy hashing (GH), unsupervised: GreedyHash (Su et al., NeurIPS 2018) on fixed features.

    Model: ``h = W x + c`` (a linear hash layer, ``L = n_bits`` outputs) on the features as given
    (the paper: frozen VGG-16 fc7 outputs); ``b = sgn(h)`` in the forward pass, with the gradient
    of ``b`` passed to ``h`` unchanged (:class:`GreedySign`).

    Objective (:func:`greedy_loss`), on each shuffled mini-batch, pairing the batch's two halves:
    ``mean (cos(b_i, b_j) - cos(x_i, x_j))^2 + 0.1 mean | |h| - 1 |^3`` — codes whose angles copy
    the features' angles, and a cubic pull of ``|h|`` towards 1 so that the sign changes little.
    ``loss_history_`` holds each epoch's mean batch loss. Encoding: ``sgn(W x + c)``.

    Sources: the planning notes (``notes/dsah.md`` §3) and the authors' released
    ``unsupervised_vgg.py`` (ssppp/GreedyHash), which agree on the model, loss and settings:
    SGD with ``learning_rate=1e-4``, ``momentum=0.9``, ``weight_decay=5e-4`` (on ``W`` and ``c``),
    ``batch_size=32``, ``epochs=60``; these are the defaults. The layer starts as torch's default
    for a linear layer (the authors' ``nn.Linear``): ``W`` and ``c`` uniform on
    ``±1/sqrt(d)``, drawn from ``seed``.

    Where hashkit departs from that code, and why:

    * ``sgn(0) = +1`` (hashkit's convention); ``torch.sign`` there gives 0, which never occurs in
      practice for real-valued ``h``;
    * the features are fixed: the authors' frozen VGG runs in training mode, so dropout (p = 0.5)
      perturbs fc7 at every step; here the given features are used as they are;
    * the authors run 300 epochs instead of 60 at 16 bits; ``epochs`` is a parameter and stays at
      60 whatever ``n_bits`` is;
    * an odd batch (the last, when ``batch_size`` does not divide ``n``) leaves its last item
      unpaired instead of failing, and a last batch of one item is skipped;
    * ``optimizer="adam"`` (with ``learning_rate``, ``weight_decay`` as L2, no momentum) is an
      addition for short runs. The paper's SGD at 1e-4 moves slowly on small features: the step
      on ``W`` scales with ``|x|^2``, and fc7 vectors (4,096 non-negative entries) are far longer
      than 32-512-dimensional features. Measured on Fashion-MNIST (32 bits, 500 official-test
      queries, mAP over the training items): on 5,000 items' 128 leading principal components,
      the defaults reach 0.395 against LSH's 0.381 (Adam at 1e-3 for 10 epochs: 0.480; SGD at
      1e-2 for 10 epochs: 0.468); on 2,000 items' raw pixels, 10 epochs of the defaults give
      0.284 against LSH's 0.375, Adam at 1e-3 0.441. Chapters pass their own settings.

    Training runs on one torch thread (restored afterwards; see :func:`_one_thread`).

    Labels are never read; ``fit`` accepts a ``labels`` argument only for the shared estimator
    interface.
    """

    def __init__(self, n_bits: int, epochs: int = 60, batch_size: int = 32, learning_rate: float = 1e-4,
                 optimizer: str = "sgd", momentum: float = 0.9, weight_decay: float = 5e-4,
                 quantisation_weight: float = 0.1, seed: int = 0) -> None:
        self.n_bits = check_positive_int(n_bits, "n_bits")
        self.epochs = check_positive_int(epochs, "epochs")
        self.batch_size = check_positive_int(batch_size, "batch_size")
        if self.batch_size < 2:
            raise ValueError(f"batch_size: pairs come from the two halves of a batch, so it needs >= 2, "
                             f"got {batch_size!r}")
        self.learning_rate = check_positive(learning_rate, "learning_rate")
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer: expected one of {OPTIMIZERS}, got {optimizer!r}")
        self.optimizer = optimizer
        self.momentum = check_non_negative(momentum, "momentum")
        if self.momentum >= 1:
            raise ValueError(f"momentum: expected a number in [0, 1), got {momentum!r}")
        self.weight_decay = check_non_negative(weight_decay, "weight_decay")
        self.quantisation_weight = check_non_negative(quantisation_weight, "quantisation_weight")
        if isinstance(seed, bool) or not isinstance(seed, Integral):
            raise ValueError(f"seed: expected an integer, got {seed!r}")
        self.seed = int(seed)

    def fit(self, features: np.ndarray, labels: np.ndarray | None = None) -> GH:
        """Train the hash layer on ``features`` (CPU); ``labels`` are ignored."""
        features = check_features(features)
        generator = seed_everything(self.seed)
        data = torch.from_numpy(features.astype(np.float32))
        n_dims = data.shape[1]
        bound = 1 / math.sqrt(n_dims)
        weight = ((torch.rand(self.n_bits, n_dims, generator=generator) * 2 - 1) * bound).requires_grad_()
        bias = ((torch.rand(self.n_bits, generator=generator) * 2 - 1) * bound).requires_grad_()
        if self.optimizer == "sgd":
            optimiser = torch.optim.SGD([weight, bias], lr=self.learning_rate, momentum=self.momentum,
                                        weight_decay=self.weight_decay)
        else:
            optimiser = torch.optim.Adam([weight, bias], lr=self.learning_rate, weight_decay=self.weight_decay)

        history = []
        with _one_thread():
            for _ in range(self.epochs):
                total, n_batches = 0.0, 0
                for batch_ids in torch.randperm(len(data), generator=generator).split(self.batch_size):
                    if len(batch_ids) < 2:  # no pair to compare
                        continue
                    batch = data[batch_ids]
                    hidden = batch @ weight.T + bias
                    loss = greedy_loss(greedy_sign(hidden), hidden, batch, self.quantisation_weight)
                    optimiser.zero_grad()
                    loss.backward()
                    optimiser.step()
                    total += loss.item()
                    n_batches += 1
                history.append(total / max(n_batches, 1))

        self.weight_ = weight.detach().numpy().T.astype(features.dtype)
        self.bias_ = bias.detach().numpy().astype(features.dtype)
        self.loss_history_ = history
        return self

    def encode(self, features: np.ndarray) -> np.ndarray:
        """``(n, n_bits)`` ``int8`` ±1 codes ``sgn(W x + c)``."""
        self._check_fitted("weight_", "bias_")
        features = check_features(features, n_dims=self.weight_.shape[0])
        return sign(features @ self.weight_ + self.bias_)
