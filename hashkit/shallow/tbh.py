"""Twin-bottleneck hashing (TBH): an auto-encoder on fixed features whose binary bottleneck builds a
graph over the batch, through which the continuous bottleneck is convolved before decoding.

TBH (Shen, Qin, Chen, Yu, Liu, Zhu, Shen, Shao, "Auto-Encoding Twin-Bottleneck Hashing", CVPR
2020) learns from fixed VGG fc7 features, so it has the shallow estimators' shape here:
``fit(features)`` then ``encode(features)``, with torch inside, on the CPU.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from numbers import Integral

import numpy as np
import torch
from torch import nn

from hashkit.checks import check_positive, check_positive_int
from hashkit.codes import sign
from hashkit.runtime import seed_everything
from hashkit.shallow.base import ShallowHasher, check_features

THRESHOLDS = ("code", "stochastic")
_DEGREE_MARGIN = 1e-8  # added to the degrees before D^{-1/2}, as in the authors' graph layer
_PROBABILITY_CLIP = 1e-7  # Keras' binary cross-entropy clips probabilities to [eps, 1 - eps]


class BinaryBottleneck(torch.autograd.Function):
    """``b = 1[sigmoid(logits) >= eps]`` forward; backward ``dL/dlogits = p (1 - p) dL/db``.

    The gradient is the authors' (a straight-through estimate taken through the sigmoid
    ``p = sigmoid(logits)``); ``eps`` receives none.
    """

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, logits: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        probabilities = torch.sigmoid(logits)
        ctx.save_for_backward(probabilities)
        return (probabilities >= eps).to(logits.dtype)

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad_codes: torch.Tensor) -> tuple[torch.Tensor, None]:
        (probabilities,) = ctx.saved_tensors
        return probabilities * (1 - probabilities) * grad_codes, None


def tbh_adjacency(codes: torch.Tensor, exponent: float = 1.4) -> torch.Tensor:
    """The code-driven graph over a batch: ``A_ij = (1 - d_H(b_i, b_j) / L)^exponent``.

    ``codes`` are ``{0, 1}`` (``B x L``); ``d_H = |b_i| + |b_j| - 2 b_i.b_j`` counts differing
    bits, so ``A_ii = 1`` (self-loops) and ``A`` is symmetric in ``[0, 1]``. The distance passes
    through ``abs`` as in the authors' code, which makes the gradient zero where ``d_H = 0`` (the
    diagonal and identical codes); the value is unchanged.
    """
    n_bits = codes.shape[1]
    ones = codes.sum(dim=1)
    hamming = (ones[:, None] + ones[None, :] - 2 * codes @ codes.T).abs()
    return (1 - hamming / n_bits) ** exponent


def normalised_adjacency(adjacency: torch.Tensor) -> torch.Tensor:
    """``D^{-1/2} A D^{-1/2}`` with ``D = diag(A 1 + 1e-8)`` (the margin as in the authors' code)."""
    scale = (adjacency.sum(dim=1) + _DEGREE_MARGIN) ** -0.5
    return scale[:, None] * adjacency * scale[None, :]


def reconstruction_loss(reconstruction: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
    """``½ ||X - X̂||²_F``, summed over the batch's items and dimensions (as the authors' code)."""
    return 0.5 * ((reconstruction - features) ** 2).sum()


def adversarial_loss(real_probabilities: torch.Tensor, fake_probabilities: torch.Tensor) -> torch.Tensor:
    """A discriminator's binary cross-entropy: ``mean(-log D(real)) + mean(-log(1 - D(fake)))``.

    Probabilities are clipped to ``[1e-7, 1 - 1e-7]`` first, as Keras does in the authors' code.
    """
    real = real_probabilities.clamp(_PROBABILITY_CLIP, 1 - _PROBABILITY_CLIP)
    fake = fake_probabilities.clamp(_PROBABILITY_CLIP, 1 - _PROBABILITY_CLIP)
    return -torch.log(real).mean() - torch.log(1 - fake).mean()


@contextlib.contextmanager
def _torch_threads(n_threads: int | None) -> Iterator[None]:
    """torch on ``n_threads`` intra-op threads for the block (``None``: as set), restored after."""
    threads = torch.get_num_threads()
    if n_threads is not None:
        torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _glorot_linear(n_in: int, n_out: int, generator: torch.Generator) -> nn.Linear:
    # Keras' Dense default (the authors' layers): Glorot-uniform weights, zero biases.
    layer = nn.Linear(n_in, n_out)
    bound = math.sqrt(6 / (n_in + n_out))
    with torch.no_grad():
        layer.weight.copy_((torch.rand(n_out, n_in, generator=generator) * 2 - 1) * bound)
        layer.bias.zero_()
    return layer


class TwinBottleneckModel(nn.Module):
    """TBH's encoder, twin bottlenecks, graph layer, decoder and two discriminators."""

    def __init__(self, n_dims: int, n_bits: int, hidden_units: int, continuous_units: int,
                 adjacency_exponent: float, generator: torch.Generator) -> None:
        super().__init__()
        self.adjacency_exponent = adjacency_exponent
        self.encoder_hidden = _glorot_linear(n_dims, hidden_units, generator)
        self.binary_logits = _glorot_linear(hidden_units, n_bits, generator)
        self.continuous = _glorot_linear(hidden_units, continuous_units, generator)
        self.graph = _glorot_linear(continuous_units, continuous_units, generator)
        self.decoder_hidden = _glorot_linear(continuous_units, hidden_units, generator)
        self.decoder_out = _glorot_linear(hidden_units, n_dims, generator)
        self.critic_binary = _glorot_linear(n_bits, 1, generator)
        self.critic_continuous = _glorot_linear(continuous_units, 1, generator)

    def actor_parameters(self) -> list[nn.Parameter]:
        return [p for name, p in self.named_parameters() if not name.startswith("critic_")]

    def critic_parameters(self) -> list[nn.Parameter]:
        return [p for name, p in self.named_parameters() if name.startswith("critic_")]

    def logits(self, batch: torch.Tensor) -> torch.Tensor:
        """The binary bottleneck's logits; ``b = 1[sigmoid(logits) >= eps]``."""
        return self.binary_logits(torch.relu(self.encoder_hidden(batch)))

    def losses(self, batch: torch.Tensor, eps: torch.Tensor, binary_samples: torch.Tensor,
               continuous_samples: torch.Tensor) -> dict[str, torch.Tensor]:
        """The actor's and the critic's losses on one batch, and their parts."""
        hidden = torch.relu(self.encoder_hidden(batch))
        codes = BinaryBottleneck.apply(self.binary_logits(hidden), eps)
        continuous = torch.sigmoid(self.continuous(hidden))
        adjacency = tbh_adjacency(codes, self.adjacency_exponent)
        convolved = torch.sigmoid(normalised_adjacency(adjacency) @ self.graph(continuous))
        reconstruction = self.decoder_out(torch.relu(self.decoder_hidden(convolved)))

        binary_adversarial = adversarial_loss(torch.sigmoid(self.critic_binary(binary_samples)),
                                              torch.sigmoid(self.critic_binary(codes)))
        continuous_adversarial = adversarial_loss(torch.sigmoid(self.critic_continuous(continuous_samples)),
                                                  torch.sigmoid(self.critic_continuous(convolved)))
        rebuilt = reconstruction_loss(reconstruction, batch)
        critic = binary_adversarial + continuous_adversarial
        return {"actor": rebuilt - critic, "critic": critic, "reconstruction": rebuilt}


class TBH(ShallowHasher):
    """Twin-bottleneck hashing (TBH) (Shen et al., CVPR 2020) on fixed features.

    Model, on a batch of ``B`` items ``x`` (the paper: VGG fc7 features; here the features as given):

    * encoder: ``f = ReLU(W1 x + c1)`` (``hidden_units`` wide), then two bottlenecks from ``f``:
      binary ``b = 1[sigmoid(W2 f + c2) >= eps]`` in ``{0, 1}^L`` (:class:`BinaryBottleneck`) and
      continuous ``z = sigmoid(W3 f + c3)`` (``continuous_units`` wide);
    * code-driven graph (:func:`tbh_adjacency`): ``A_ij = (1 - d_H(b_i, b_j)/L)^1.4`` over the
      batch, self-loops included; ``z' = sigmoid(D^{-1/2} A D^{-1/2} (z W4 + c4))``;
    * decoder: ``x̂ = W6 ReLU(W5 z' + c5) + c6``;
    * discriminators: ``D1(b) = sigmoid(v1.b + e1)`` against ``Bernoulli(1/2)`` samples and
      ``D2(z') = sigmoid(v2.z' + e2)`` against ``U(0, 1)`` samples.

    Objective: the actor (encoder, graph layer, decoder) minimises
    ``½ ||X - X̂||² - BCE1 - BCE2``; the discriminators minimise ``BCE1 + BCE2``, where ``BCEk``
    is discriminator k's cross-entropy on samples (label 1) and codes (label 0)
    (:func:`adversarial_loss`). Both steps are taken from one forward pass, each with its own Adam
    at ``learning_rate=1e-4``, on batches of ``batch_size=256`` drawn from successive shuffles of
    the items. ``reconstruction_history_`` holds ``½ ||x - x̂||²`` per item and
    ``critic_history_`` ``BCE1 + BCE2``, at every iteration. Encoding: ``b`` with ``eps = 1/2``
    as ±1, i.e. ``sgn(W2 f + c2)``.

    Sources: the planning notes (``notes/dsah.md`` §3) and the authors' released TensorFlow code
    (ymcidence/TBH: ``model/tbh.py``, ``layer/*.py``, ``train/tbh_train.py``). Where they differ or
    are silent, hashkit follows the code:

    * ``threshold``: the paper samples ``eps ~ U(0, 1)`` in training (``"stochastic"``); the
      released code fixes ``eps = 1/2`` (``"code"``, the default). The default follows the code
      because both of the authors' code bases use ``1/2``: the released re-implementation (its
      random ``eps`` is commented out in its final version) and the older GraphBinary repository,
      which its README names for reproducing the paper's results;
    * ``adjacency_exponent=1.4`` is in the code only;
    * the reconstruction loss is summed over the batch's items and dimensions (the code's
      ``l2_loss``), not averaged, while the cross-entropies are means: the adversarial terms
      weigh less the larger the batch and the features;
    * the graph layer has a bias (the code's ``Dense``), and layers start as Keras' defaults:
      Glorot-uniform weights, zero biases, drawn from ``seed``;
    * the code's batch size is 256 in ``train`` and 400 in ``run_tbh.py``; 256 here (the notes);
    * length of training: the code runs 100,000 iterations; here ``iterations=2000`` by default
      (the notes' short setting). ``hidden_units=1024`` and ``continuous_units=512`` are the
      code's widths (and the notes');
    * ``b = 1[p >= eps]`` where the code's ``(sign(p - eps) + 1)/2`` gives 1/2 at ``p = eps``.

    Cost and short runs, measured on this project's 2 CPU cores while other jobs shared them: at
    the defaults an iteration on 128-dimensional features took about 0.1 s, so a fit on 5,000 x
    128 features about 3 minutes; with ``hidden_units=128, continuous_units=64, batch_size=128``
    about 10 ms. On 2,000 Fashion-MNIST training images' raw pixels (32 bits, 500 official-test
    queries, mAP over the training items), with those widths and ``learning_rate=1e-3``: 0.42
    after 1,000 iterations and 0.46 after 3,000, against LSH's 0.375; with
    ``threshold="stochastic"`` 0.39 and 0.41.

    ``n_threads=1`` runs training on one torch thread (``None`` keeps torch's setting): on 2 cores
    shared with other jobs, two threads made each iteration 2-15 times slower here, as the threads
    wait on each other whenever one is descheduled.

    Labels are never read; ``fit`` accepts a ``labels`` argument only for the shared estimator
    interface.
    """

    def __init__(self, n_bits: int, hidden_units: int = 1024, continuous_units: int = 512, iterations: int = 2000,
                 batch_size: int = 256, learning_rate: float = 1e-4, threshold: str = "code",
                 adjacency_exponent: float = 1.4, n_threads: int | None = 1, seed: int = 0) -> None:
        self.n_bits = check_positive_int(n_bits, "n_bits")
        self.hidden_units = check_positive_int(hidden_units, "hidden_units")
        self.continuous_units = check_positive_int(continuous_units, "continuous_units")
        self.iterations = check_positive_int(iterations, "iterations")
        self.batch_size = check_positive_int(batch_size, "batch_size")
        self.learning_rate = check_positive(learning_rate, "learning_rate")
        if threshold not in THRESHOLDS:
            raise ValueError(f"threshold: expected one of {THRESHOLDS}, got {threshold!r}")
        self.threshold = threshold
        self.adjacency_exponent = check_positive(adjacency_exponent, "adjacency_exponent")
        self.n_threads = None if n_threads is None else check_positive_int(n_threads, "n_threads")
        if isinstance(seed, bool) or not isinstance(seed, Integral):
            raise ValueError(f"seed: expected an integer, got {seed!r}")
        self.seed = int(seed)

    def fit(self, features: np.ndarray, labels: np.ndarray | None = None) -> TBH:
        """Train the auto-encoder and the discriminators on ``features`` (CPU); ``labels`` are ignored."""
        features = check_features(features)
        generator = seed_everything(self.seed)
        data = torch.from_numpy(features.astype(np.float32))
        model = TwinBottleneckModel(data.shape[1], self.n_bits, self.hidden_units, self.continuous_units,
                                    self.adjacency_exponent, generator)
        actor, critic = model.actor_parameters(), model.critic_parameters()
        actor_optimiser = torch.optim.Adam(actor, lr=self.learning_rate)
        critic_optimiser = torch.optim.Adam(critic, lr=self.learning_rate)

        batch_size = min(self.batch_size, len(data))  # fewer items than a batch: each batch is all of them
        stream = torch.empty(0, dtype=torch.long)
        reconstruction_history, critic_history = [], []
        with _torch_threads(self.n_threads):
            for _ in range(self.iterations):
                # Batches run on across shuffles, so every batch is full (as the code's repeat-then-batch).
                while len(stream) < batch_size:
                    stream = torch.cat([stream, torch.randperm(len(data), generator=generator)])
                batch_ids, stream = stream[:batch_size], stream[batch_size:]
                batch = data[batch_ids]
                if self.threshold == "code":
                    eps = torch.full((batch_size, self.n_bits), 0.5)
                else:
                    eps = torch.rand(batch_size, self.n_bits, generator=generator)
                binary_samples = (torch.rand(batch_size, self.n_bits, generator=generator) < 0.5).float()
                continuous_samples = torch.rand(batch_size, self.continuous_units, generator=generator)

                losses = model.losses(batch, eps, binary_samples, continuous_samples)
                actor_grads = torch.autograd.grad(losses["actor"], actor, retain_graph=True)
                critic_grads = torch.autograd.grad(losses["critic"], critic)
                for parameter, grad in zip(actor + critic, actor_grads + critic_grads):
                    parameter.grad = grad
                actor_optimiser.step()
                critic_optimiser.step()
                reconstruction_history.append(losses["reconstruction"].item() / batch_size)
                critic_history.append(losses["critic"].item())

        self.model_ = model.eval()
        self.n_dims_ = data.shape[1]
        self.reconstruction_history_ = reconstruction_history
        self.critic_history_ = critic_history
        return self

    def logits(self, features: np.ndarray) -> np.ndarray:
        """``(n, n_bits)`` logits of the binary bottleneck; a bit is on where its logit is >= 0."""
        self._check_fitted("model_")
        features = check_features(features, n_dims=self.n_dims_)
        with torch.no_grad():
            return self.model_.logits(torch.from_numpy(features.astype(np.float32))).numpy()

    def encode(self, features: np.ndarray) -> np.ndarray:
        """``(n, n_bits)`` ``int8`` ±1 codes: ``b = 1[sigmoid(logits) >= 1/2]`` as ``2b - 1``."""
        # Through the sigmoid, as in training, so that a logit within rounding of 0 gets the same bit.
        logits = torch.from_numpy(self.logits(features))
        return sign((torch.sigmoid(logits) - 0.5).numpy())
