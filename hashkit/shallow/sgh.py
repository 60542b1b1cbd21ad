"""Stochastic generative hashing: a linear Bernoulli encoder trained as a code length (MDL) model."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional

from hashkit.checks import check_positive_int
from hashkit.codes import sign
from hashkit.runtime import seed_everything
from hashkit.shallow.base import ShallowHasher, check_features


class StochasticNeuron(torch.autograd.Function):
    """``h = 1[p >= xi]`` forward; the gradient reaches ``p`` unchanged.

    With ``xi ~ U(0, 1)`` the forward pass samples ``h ~ Bernoulli(p)``. Passing the gradient
    straight to ``p`` is the paper's approximate distributional derivative: the finite difference
    ``loss(h_k = 1) - loss(h_k = 0)`` replaced by ``d loss / d h_k`` at the sampled code.
    """

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, probabilities: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        return (probabilities >= noise).to(probabilities.dtype)

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad_codes: torch.Tensor) -> tuple[torch.Tensor, None]:
        return grad_codes, None


def bernoulli_log_likelihood(logits: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
    """``log Bernoulli(codes; sigmoid(logits))`` summed over bits, per row; differentiable in both."""
    return (codes * functional.logsigmoid(logits) + (1 - codes) * functional.logsigmoid(-logits)).sum(dim=-1)


class GenerativeHashModel(nn.Module):
    """SGH's encoder ``q(h|x)``, generator ``p(x|h)`` and prior ``p(h)`` on centred features."""

    def __init__(self, n_dims: int, n_bits: int, noise_std: float, generator: torch.Generator) -> None:
        super().__init__()
        self.encoder_weight = nn.Parameter(torch.randn(n_dims, n_bits, generator=generator) / math.sqrt(n_dims))
        self.encoder_bias = nn.Parameter(torch.zeros(n_bits))
        self.decoder_weight = nn.Parameter(torch.randn(n_bits, n_dims, generator=generator) / math.sqrt(n_bits))
        self.decoder_bias = nn.Parameter(torch.zeros(n_dims))
        self.prior_logits = nn.Parameter(torch.zeros(n_bits))
        self.log_noise_std = nn.Parameter(torch.tensor(math.log(noise_std)))

    def description_length(self, batch: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Per item, in nats: ``-log p(x|h) - log p(h) + log q(h|x)`` at a code ``h ~ q(h|x)``."""
        logits = batch @ self.encoder_weight + self.encoder_bias
        codes = StochasticNeuron.apply(torch.sigmoid(logits), noise)
        reconstruction = codes @ self.decoder_weight + self.decoder_bias
        variance = torch.exp(2 * self.log_noise_std)
        n_dims = batch.shape[1]
        data_length = ((batch - reconstruction) ** 2).sum(dim=1) / (2 * variance) + n_dims * (
            self.log_noise_std + 0.5 * math.log(2 * math.pi)
        )
        prior = self.prior_logits.expand_as(codes)
        return data_length - bernoulli_log_likelihood(prior, codes) + bernoulli_log_likelihood(logits, codes)


class SGH(ShallowHasher):
    """Stochastic generative hashing (SGH) {cite}`dai2017sgh`, the paper's linear model.

    Objective (minimum description length): a generative model ``p(h) = Bernoulli(theta)``,
    ``p(x|h) = N(U^T h + c, rho^2 I)`` of centred features from ``h`` in ``{0, 1}^n_bits``, and an
    encoder ``q(h|x) = Bernoulli(sigmoid(W^T x + b))``; minimise the expected code length
    ``E_q[-log p(x|h) - log p(h) + log q(h|x)]`` (the negative evidence lower bound, in nats per
    item, recorded per epoch in ``loss_history_``) over ``W, b, U, c, theta, rho``.

    Algorithm: distributional stochastic gradient descent. Codes are sampled by the stochastic
    neuron ``h = 1[sigmoid(W^T x + b) >= xi]``, ``xi ~ U(0, 1)``, and the encoder's gradient
    is the paper's approximate distributional derivative (:class:`StochasticNeuron`); Adam on
    mini-batches. Encoding is deterministic: ``xi = 1/2``, i.e. ``sign(W^T (x - mean) + b)``.

    Defaults follow the authors' released linear SGH: Adam, ``learning_rate=1e-2``,
    ``batch_size=500``. Their run is 5,000 steps with the rate halved every 2,000; here training
    is bounded by ``n_epochs=50`` (1,000 steps on 10,000 items) at a constant rate.
    """

    def __init__(
        self, n_bits: int, n_epochs: int = 50, batch_size: int = 500, learning_rate: float = 1e-2, seed: int = 0
    ) -> None:
        self.n_bits = check_positive_int(n_bits, "n_bits")
        self.n_epochs = check_positive_int(n_epochs, "n_epochs")
        self.batch_size = check_positive_int(batch_size, "batch_size")
        if not learning_rate > 0:
            raise ValueError(f"learning_rate: expected a positive number, got {learning_rate!r}")
        self.learning_rate = float(learning_rate)
        self.seed = seed

    def fit(self, features: np.ndarray, labels: np.ndarray | None = None) -> SGH:
        """Train the encoder and the generative model on CPU; ``labels`` are ignored."""
        features = check_features(features)
        generator = seed_everything(self.seed)
        self.mean_ = features.mean(axis=0)
        data = torch.from_numpy((features - self.mean_).astype(np.float32))
        model = GenerativeHashModel(data.shape[1], self.n_bits, max(float(data.std()), 1e-6), generator)
        optimizer = torch.optim.Adam(model.parameters(), lr=self.learning_rate)

        history = []
        for _ in range(self.n_epochs):
            total = 0.0
            for batch_ids in torch.randperm(len(data), generator=generator).split(self.batch_size):
                batch = data[batch_ids]
                noise = torch.rand(len(batch), self.n_bits, generator=generator)
                loss = model.description_length(batch, noise).mean()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += loss.item() * len(batch)
            history.append(total / len(data))

        parameters = {name: value.detach().numpy() for name, value in model.named_parameters()}
        self.encoder_weight_ = parameters["encoder_weight"].astype(features.dtype)
        self.encoder_bias_ = parameters["encoder_bias"].astype(features.dtype)
        self.decoder_weight_ = parameters["decoder_weight"]
        self.decoder_bias_ = parameters["decoder_bias"]
        self.prior_logits_ = parameters["prior_logits"]
        self.noise_std_ = float(np.exp(parameters["log_noise_std"]))
        self.loss_history_ = history
        return self

    def encode(self, features: np.ndarray) -> np.ndarray:
        """``(n, n_bits)`` ``int8`` ±1 codes: bit on where ``q(h_k = 1 | x) >= 1/2``."""
        self._check_fitted("mean_", "encoder_weight_")
        features = check_features(features, n_dims=self.encoder_weight_.shape[0])
        return sign((features - self.mean_) @ self.encoder_weight_ + self.encoder_bias_)
