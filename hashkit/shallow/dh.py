"""Deep hashing (DH): a fully connected ``tanh`` network on features whose top layer gives the codes.

DH {cite}`liong2015dh` (Liong, Lu, Wang, Moulin, Zhou, CVPR 2015) learns codes from *features*
(GIST in the paper), not from images, so it has the shallow estimators' shape here:
``fit(features)`` then ``encode(features)``, trained with torch on the CPU.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral

import numpy as np
import torch

from hashkit.checks import check_non_negative, check_positive, check_positive_int
from hashkit.codes import sign
from hashkit.shallow.base import ShallowHasher, check_features

# The project's notes (`notes/bgan.md` §3, written from memory): a three-layer network [60, 30, L].
PAPER_HIDDEN_UNITS = (60, 30)


def dh_objective(outputs: torch.Tensor, weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor],
                 lambda1: float, lambda2: float, lambda3: float) -> dict[str, torch.Tensor]:
    """DH's objective ``J`` and its four terms on the top layer's outputs ``H`` of all ``N`` items.

    ``outputs``: ``(N, L)``, row ``n`` the item's ``h^M``; ``weights[m]``: ``W^m`` of shape
    ``(units out, units in)``; ``biases[m]``: ``c^m``. With ``B = sgn(H)`` (``sgn(0) = +1``):

    * ``quantization = ½ ‖B − H‖²_F`` — a sum over items; ``B`` is a constant of the step, so its
      gradient in ``H`` is ``H − B``;
    * ``variance = tr(H Hᵀ) / (2N)`` — the mean of ``½ ‖h_n‖²``: large when the outputs spread
      (the balance criterion), and subtracted;
    * ``independence = ½ Σ_m ‖W^m W^mᵀ − I‖²_F`` — rows of each layer orthonormal;
    * ``regularization = ½ Σ_m (‖W^m‖²_F + ‖c^m‖²)``;

    ``total = quantization − λ1 variance + λ2 independence + λ3 regularization``.
    """
    n_items = outputs.shape[0]
    codes = torch.where(outputs >= 0, 1.0, -1.0).to(outputs.dtype).detach()
    quantization = 0.5 * ((codes - outputs) ** 2).sum()
    variance = (outputs ** 2).sum() / (2 * n_items)
    independence = 0.5 * sum(((w @ w.T - torch.eye(w.shape[0], dtype=w.dtype)) ** 2).sum() for w in weights)
    regularization = 0.5 * sum((w ** 2).sum() + (c ** 2).sum() for w, c in zip(weights, biases))
    total = quantization - lambda1 * variance + lambda2 * independence + lambda3 * regularization
    return {"total": total, "quantization": quantization, "variance": variance, "independence": independence,
            "regularization": regularization}


def orthonormal_init(n_out: int, n_in: int, rng: np.random.Generator) -> np.ndarray:
    """A random ``(n_out, n_in)`` matrix with orthonormal rows (or columns, when ``n_out > n_in``)."""
    q, r = np.linalg.qr(rng.standard_normal((max(n_out, n_in), min(n_out, n_in))))
    q = q * np.where(np.diag(r) < 0, -1.0, 1.0)
    return q.T if n_out <= n_in else q


def check_hidden_units(hidden_units: Sequence[int]) -> tuple[int, ...]:
    """Widths of the hidden layers: positive integers (none at all is a one-layer network)."""
    if isinstance(hidden_units, (str, bytes)) or not isinstance(hidden_units, Sequence):
        raise ValueError(f"hidden_units: expected a sequence of positive integers, got {hidden_units!r}")
    if any(isinstance(units, bool) or not isinstance(units, Integral) or units <= 0 for units in hidden_units):
        raise ValueError(f"hidden_units: expected positive integers, got {list(hidden_units)}")
    return tuple(int(units) for units in hidden_units)


class DH(ShallowHasher):
    """Deep hashing (DH) {cite}`liong2015dh`: a ``tanh`` network whose top layer, signed, is the code.

    Network: ``h^0 = x``, ``h^m = tanh(W^m h^{m−1} + c^m)`` for ``m = 1 … M``, hidden widths
    ``hidden_units`` and ``n_bits`` units at the top; the code is ``b = sgn(h^M)``.

    Objective over the ``N`` training items (:func:`dh_objective`), ``H = [h^M_1 … h^M_N]``,
    ``B = sgn(H)``::

        J = ½ ‖B − H‖²_F − λ1/(2N) tr(H Hᵀ) + λ2/2 Σ_m ‖W^m W^mᵀ − I‖²_F + λ3/2 Σ_m (‖W^m‖²_F + ‖c^m‖²)

    the paper's three criteria — the binary codes close to the real-valued outputs, the outputs
    spread (even bits), bits independent (orthonormal weights) — and a weight penalty.
    ``loss_history_`` holds ``J / N`` at each epoch's step, before it is taken.

    Sources: the form of ``J`` and the defaults ``λ1 = 100``, ``λ2 = λ3 = 0.001`` and
    ``hidden_units = (60, 30)`` (a three-layer network ``[60, 30, L]``) are the project's notes on
    the BGAN paper's baselines (``notes/bgan.md`` §3, written from memory and marked unverified).
    The paper's body could not be read here; its abstract (CVF open access page) confirms the
    three criteria and the fully connected, multi-layer non-linear network. A third-party
    TensorFlow reimplementation describes its four terms' weights as "1, 100, 0.001 and 0.001",
    which agrees with the notes' λ values; it is no authority.

    Where the sources are silent, hashkit chooses (each a parameter or stated here):

    * input: the features are centred (training mean) and divided by one scalar, their root mean
      square after centring, so that a unit-norm row of ``W^1`` gives pre-activations of about
      unit variance, in ``tanh``'s working range whatever the features' scale;
    * start: each ``W^m`` a random matrix with orthonormal rows (columns where a layer widens),
      drawn from ``seed``; ``c^m = 0``;
    * optimiser: the objective is a sum over all items, so every epoch is **one full-batch step**
      on ``J`` (deterministic, no sampling) with Adam, whose steps do not depend on ``J``'s scale
      (which grows with ``N``); ``B = sgn(H)`` is recomputed from ``H`` at every step;
    * length of training: ``n_epochs=20`` steps at ``learning_rate=0.001`` (well under a second
      on 10,000 × 256 features). Trained longer, the objective drives the codes to collapse: its
      quantisation term is a sum over the ``N`` items while the independence term is not, so at
      ``N = 10,000`` λ2 = 0.001 barely acts, every unit saturates along the same dominant input
      directions and the bits become nearly copies of one another. Measured on 10,000 Fashion-MNIST
      training images (their 256 leading principal components; the first 1,000 training items
      queried against all 10,000, mAP@1000, no query item used), after 0 / 20 / 50 / 100 / 200
      steps: 16 bits 0.45 / 0.50 / 0.44 / 0.42 / 0.42; 32 bits 0.49 / 0.49 / 0.36 / 0.20 / 0.17;
      64 bits 0.52 / 0.52 / 0.42 / 0.27 / 0.26; after 300 steps at a rate of 0.01, 32-bit codes
      take 48 distinct values over the 10,000 items, their bits' mean absolute correlation 0.87.
      Whether and when the paper stops early could not be checked; a fixed, short run is
      hashkit's choice, and ``n_epochs`` is a parameter;
    * ``sgn(0) = +1`` (:func:`hashkit.codes.sign`), in training as in encoding.

    When ``n_bits`` exceeds the last hidden width, the top layer's ``W Wᵀ`` (``n_bits × n_bits``,
    rank at most the hidden width) cannot reach ``I``; the independence term then only pulls
    towards it. Labels are never read.
    """

    def __init__(self, n_bits: int, hidden_units: Sequence[int] = PAPER_HIDDEN_UNITS, lambda1: float = 100.0,
                 lambda2: float = 1e-3, lambda3: float = 1e-3, n_epochs: int = 20,
                 learning_rate: float = 1e-3, seed: int = 0) -> None:
        self.n_bits = check_positive_int(n_bits, "n_bits")
        self.hidden_units = check_hidden_units(hidden_units)
        self.lambda1 = check_non_negative(lambda1, "lambda1")
        self.lambda2 = check_non_negative(lambda2, "lambda2")
        self.lambda3 = check_non_negative(lambda3, "lambda3")
        self.n_epochs = check_positive_int(n_epochs, "n_epochs")
        self.learning_rate = check_positive(learning_rate, "learning_rate")
        if isinstance(seed, bool) or not isinstance(seed, Integral):
            raise ValueError(f"seed: expected an integer, got {seed!r}")
        self.seed = int(seed)

    def fit(self, features: np.ndarray, labels: np.ndarray | None = None) -> DH:
        """Train the network on ``features`` (full-batch, CPU); ``labels`` are ignored."""
        features = check_features(features)
        mean = features.mean(axis=0)
        centred = features - mean
        scale = float(np.sqrt(np.mean(np.square(centred, dtype=np.float64))))
        scale = scale if scale > 0 else 1.0
        data = torch.from_numpy((centred / scale).astype(np.float32))

        rng = np.random.default_rng(self.seed)
        widths = (features.shape[1], *self.hidden_units, self.n_bits)
        weights = [torch.tensor(orthonormal_init(n_out, n_in, rng), dtype=torch.float32, requires_grad=True)
                   for n_in, n_out in zip(widths, widths[1:])]
        biases = [torch.zeros(n_out, requires_grad=True) for n_out in widths[1:]]
        optimiser = torch.optim.Adam([*weights, *biases], lr=self.learning_rate)
        history = []
        for _ in range(self.n_epochs):
            parts = dh_objective(forward(data, weights, biases), weights, biases,
                                 self.lambda1, self.lambda2, self.lambda3)
            optimiser.zero_grad()
            parts["total"].backward()
            optimiser.step()
            history.append(parts["total"].item() / len(data))

        self.mean_ = mean.astype(features.dtype)
        self.scale_ = scale
        self.weights_ = [w.detach().numpy().copy() for w in weights]
        self.biases_ = [c.detach().numpy().copy() for c in biases]
        self.loss_history_ = history
        return self

    def outputs(self, features: np.ndarray) -> np.ndarray:
        """``(n, n_bits)`` real-valued top-layer outputs ``h^M`` in (−1, 1)."""
        self._check_fitted("mean_", "weights_")
        features = check_features(features, n_dims=self.weights_[0].shape[1])
        data = torch.from_numpy(((features - self.mean_) / self.scale_).astype(np.float32))
        with torch.no_grad():
            return forward(data, [torch.from_numpy(w) for w in self.weights_],
                           [torch.from_numpy(c) for c in self.biases_]).numpy()

    def encode(self, features: np.ndarray) -> np.ndarray:
        """``(n, n_bits)`` ``int8`` ±1 codes ``sgn(h^M)``."""
        return sign(self.outputs(features))


def forward(data: torch.Tensor, weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor]) -> torch.Tensor:
    """``h^M`` of every row of ``data``: ``h^m = tanh(W^m h^{m−1} + c^m)``."""
    hidden = data
    for weight, bias in zip(weights, biases):
        hidden = torch.tanh(hidden @ weight.T + bias)
    return hidden
