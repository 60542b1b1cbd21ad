"""Unsupervised hashing with a binary deep neural network (UH-BDNN): a network whose hash layer is
pulled onto binary codes that reconstruct the input, learned by alternating optimisation."""

from __future__ import annotations

import numpy as np
import torch

from hashkit.checks import check_non_negative, check_non_negative_int, check_positive_int
from hashkit.codes import sign
from hashkit.metrics import mean_average_precision
from hashkit.shallow.base import ShallowHasher, check_features
from hashkit.shallow.itq import ITQ

_DTYPE = torch.float64  # L-BFGS on a full batch, as in the authors' release: double precision


def default_hidden_sizes(n_bits: int) -> tuple[int, int]:
    """The two sigmoid layers' widths for ``n_bits``: ``(max(90, 2.5 L + 40), 1.25 L + 10)``, rounded.

    The authors' release fixes them for 8/16/24/32 bits only, as (90, 20), (90, 30), (100, 40) and
    (120, 50); this rule gives exactly those four and extends them to other lengths.
    """
    return int(round(max(90.0, 2.5 * n_bits + 40))), int(round(1.25 * n_bits + 10))


def leading_directions(inputs: np.ndarray, n_rows: int, rng: np.random.Generator) -> np.ndarray:
    """``(n_rows, n_in)`` weights whose rows are the leading eigenvectors of the inputs' (uncentred)
    second-moment matrix ``X^T X / n``; rows beyond ``n_in`` are small random draws from ``rng``
    (there are only ``n_in`` eigenvectors, and identical rows would stay identical under training)."""
    n_items, n_in = inputs.shape
    _, eigenvectors = np.linalg.eigh(inputs.T @ inputs / n_items)
    rows = eigenvectors[:, ::-1].T[:n_rows]
    largest = np.abs(rows).argmax(axis=1)
    rows = rows * np.sign(rows[np.arange(len(rows)), largest])[:, None]  # an eigensolver's sign is arbitrary
    if n_rows > n_in:
        rows = np.vstack([rows, 0.01 * rng.standard_normal((n_rows - n_in, n_in))])
    return rows


def codes_by_coordinate_descent(targets: np.ndarray, decoder: np.ndarray, outputs: np.ndarray, binary_weight: float,
                                n_sweeps: int) -> np.ndarray:
    """UH-BDNN's B-step: per item, ``argmin_b ||y - W b||^2 + lambda2 ||h - b||^2`` over ``b in {-1, 1}^L``.

    ``targets`` are ``y = x - c`` (the input less the decoder's bias), ``decoder`` is ``W``
    (``n_dims x L``), ``outputs`` the hash layer's ``h``. With the other bits fixed, bit ``k`` has
    the closed form ``b_k = sgn(q_k - sum_{j != k} (W^T W)_{jk} b_j)``, ``q = W^T y + lambda2 h``;
    ``n_sweeps`` cyclic sweeps over the bits, starting from ``b = 0`` so that the first sweep
    builds each code bit by bit. Returns ``(n, L)`` float ±1 codes.
    """
    gram = decoder.T @ decoder
    linear = targets @ decoder + binary_weight * outputs
    codes = np.zeros_like(outputs)
    for _ in range(n_sweeps):
        previous = codes.copy()
        for bit in range(codes.shape[1]):
            others = codes @ gram[:, bit] - codes[:, bit] * gram[bit, bit]
            codes[:, bit] = np.where(linear[:, bit] - others >= 0, 1.0, -1.0)
        if np.array_equal(codes, previous):
            break
    return codes


class BinaryNetwork(torch.nn.Module):
    """Input -> sigmoid -> sigmoid -> linear hash layer ``h`` (the encoder); ``x ~ W4 b + c4`` (the decoder)."""

    def __init__(self, weights: list[np.ndarray], decoder: np.ndarray) -> None:
        super().__init__()
        self.weights = torch.nn.ParameterList(
            [torch.nn.Parameter(torch.tensor(np.ascontiguousarray(w), dtype=_DTYPE)) for w in weights])
        self.biases = torch.nn.ParameterList([torch.nn.Parameter(torch.zeros(len(w), dtype=_DTYPE)) for w in weights])
        self.decoder = torch.nn.Parameter(torch.tensor(np.ascontiguousarray(decoder), dtype=_DTYPE))
        self.decoder_bias = torch.nn.Parameter(torch.zeros(decoder.shape[0], dtype=_DTYPE))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        activations = inputs
        for layer, (weight, bias) in enumerate(zip(self.weights, self.biases)):
            activations = activations @ weight.T + bias
            if layer < len(self.weights) - 1:
                activations = torch.sigmoid(activations)
        return activations


class UHBDNN(ShallowHasher):
    """Unsupervised hashing with a binary deep neural network (UH-BDNN) {cite}`do2016bdnh`.

    BGAN's Fig. 4 calls it UN-BDNH. Network: ``D -> n1 -> n2`` sigmoid layers, then a linear hash
    layer of ``L = n_bits`` units whose output ``h(x)`` gives the code ``sgn(h(x))``, and a linear
    decoder that reconstructs ``x`` from the *binary* code ``b``: ``x ~ W4 b + c4``.

    Objective over the weights ``W`` (with biases ``c``) and the codes ``B in {-1, 1}^(L x m)`` of
    the ``m`` training items ``X`` (columns), with ``H`` the hash layer's outputs::

        1/(2m) ||X - W4 B - c4 1^T||^2  + lambda1/2 sum_l ||W_l||^2  + lambda2/(2m) ||H - B||^2
          + lambda3/2 ||H H^T / m - I||^2  + lambda4/(2m) ||H 1||^2

    (reconstruction from the codes, weight decay, binary constraint violation, independence,
    balance). Algorithm, as in the authors' release: features rescaled to ``[0, 1]`` (minus each
    dimension's minimum, over the largest range of any dimension); ``B`` initialised by ITQ;
    each encoder layer by the leading eigenvectors of its inputs' second-moment matrix
    (:func:`leading_directions`, biases 0), the decoder by ``W4 = I`` (``D x L``), ``c4 = 0``; the
    weights are first fitted to the ITQ codes, then up to ``n_rounds`` rounds alternate the B-step
    (:func:`codes_by_coordinate_descent`, ``b_sweeps`` sweeps) and ``lbfgs_iterations`` of
    full-batch L-BFGS on the weights with ``B`` fixed. After each round the codes of
    ``validation_size`` training items, ranked against all training codes by Hamming distance,
    are scored by mAP with their ``validation_neighbours`` Euclidean nearest training items as the
    relevant ones; training stops at the first round that does not improve it and keeps the best
    weights (``validation_size=0``: all rounds, last weights; the check holds an
    ``(n, validation_size)`` float32 relevance matrix). ``history_`` records each round.

    Defaults, from the authors' release: ``lambda1 = 1e-5``, ``lambda2 = 5e-2``, ``lambda3 = 1e-2``,
    ``lambda4 = 5e-7``, 400 L-BFGS iterations, at most 20 rounds, 10 sweeps, 1,000 validation items;
    hidden widths from :func:`default_hidden_sizes`. The number of Euclidean neighbours that count as
    relevant (50) is ours: the release reads it from its ground-truth files. ``n_bits`` cannot
    exceed the feature dimension (ITQ starts the codes).
    """

    def __init__(
        self,
        n_bits: int,
        hidden_sizes: tuple[int, int] | None = None,
        weight_decay: float = 1e-5,
        binary_weight: float = 5e-2,
        independence_weight: float = 1e-2,
        balance_weight: float = 5e-7,
        n_rounds: int = 20,
        lbfgs_iterations: int = 400,
        b_sweeps: int = 10,
        validation_size: int = 1000,
        validation_neighbours: int = 50,
        seed: int = 0,
    ) -> None:
        self.n_bits = check_positive_int(n_bits, "n_bits")
        if hidden_sizes is None:
            hidden_sizes = default_hidden_sizes(self.n_bits)
        if not isinstance(hidden_sizes, tuple | list) or len(hidden_sizes) != 2:
            raise ValueError(f"hidden_sizes: expected two layer widths (n1, n2), got {hidden_sizes!r}")
        self.hidden_sizes = tuple(check_positive_int(size, "hidden_sizes") for size in hidden_sizes)
        self.weight_decay = check_non_negative(weight_decay, "weight_decay")
        self.binary_weight = check_non_negative(binary_weight, "binary_weight")
        self.independence_weight = check_non_negative(independence_weight, "independence_weight")
        self.balance_weight = check_non_negative(balance_weight, "balance_weight")
        self.n_rounds = check_non_negative_int(n_rounds, "n_rounds")
        self.lbfgs_iterations = check_positive_int(lbfgs_iterations, "lbfgs_iterations")
        self.b_sweeps = check_positive_int(b_sweeps, "b_sweeps")
        self.validation_size = check_non_negative_int(validation_size, "validation_size")
        self.validation_neighbours = check_positive_int(validation_neighbours, "validation_neighbours")
        self.seed = seed

    def fit(self, features: np.ndarray, labels: np.ndarray | None = None) -> UHBDNN:
        """Learn the rescaling, the network and the training codes ``codes_``; ``labels`` are ignored."""
        features = check_features(features)
        if len(features) < 2:
            raise ValueError(f"features: UH-BDNN needs at least 2 items, got {len(features)}")
        self.minimum_ = features.min(axis=0).astype(np.float64)
        self.scale_ = float((features.max(axis=0) - features.min(axis=0)).max()) + np.finfo(np.float64).eps
        scaled = (features - self.minimum_) / self.scale_
        rng = np.random.default_rng(self.seed)
        codes = ITQ(self.n_bits, seed=self.seed).fit(scaled).encode(scaled).astype(np.float64)
        network = BinaryNetwork(self._initial_weights(scaled, rng), np.eye(scaled.shape[1], self.n_bits))
        inputs = torch.as_tensor(scaled, dtype=_DTYPE)
        validation = self._validation_set(scaled, rng)
        history = [{"round": 0, "objective": self._train_weights(network, inputs, codes), "validation_map": None}]
        best_map, best_state, best_codes = -np.inf, None, codes
        for round_number in range(1, self.n_rounds + 1):
            with torch.no_grad():
                outputs = network(inputs).numpy()
                targets = scaled - network.decoder_bias.numpy()
                decoder = network.decoder.numpy()
            codes = codes_by_coordinate_descent(targets, decoder, outputs, self.binary_weight, self.b_sweeps)
            objective = self._train_weights(network, inputs, codes)
            score = self._validation_map(network, inputs, validation)
            history.append({"round": round_number, "objective": objective, "validation_map": score})
            if validation is None:
                continue
            if score <= best_map:
                network.load_state_dict(best_state)
                codes = best_codes
                break
            best_map, best_codes = score, codes
            best_state = {name: value.clone() for name, value in network.state_dict().items()}
        self.network_ = network
        self.codes_ = codes.astype(np.int8)
        self.history_ = history
        return self

    def encode(self, features: np.ndarray) -> np.ndarray:
        """``(n, n_bits)`` ``int8`` ±1 codes ``sgn(h(x))`` of ``features``."""
        self._check_fitted("network_", "minimum_", "scale_")
        features = check_features(features, n_dims=len(self.minimum_))
        with torch.no_grad():
            outputs = self.network_(torch.as_tensor((features - self.minimum_) / self.scale_, dtype=_DTYPE))
        return sign(outputs.numpy())

    def objective(self, network: BinaryNetwork, inputs: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        """The objective of the class docstring (items in rows here) for ``network`` and fixed ``codes``."""
        n_items = len(inputs)
        outputs = network(inputs)
        reconstruction = codes @ network.decoder.T + network.decoder_bias
        decay = sum((weight ** 2).sum() for weight in [*network.weights, network.decoder])
        correlation = outputs.T @ outputs / n_items - torch.eye(outputs.shape[1], dtype=outputs.dtype)
        return (((inputs - reconstruction) ** 2).sum() / (2 * n_items)
                + self.weight_decay / 2 * decay
                + self.binary_weight / (2 * n_items) * ((outputs - codes) ** 2).sum()
                + self.independence_weight / 2 * (correlation ** 2).sum()
                + self.balance_weight / (2 * n_items) * (outputs.sum(dim=0) ** 2).sum())

    def _initial_weights(self, scaled: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
        weights, activations = [], scaled
        for layer, width in enumerate((*self.hidden_sizes, self.n_bits)):
            weight = leading_directions(activations, width, rng)
            weights.append(weight)
            if layer < len(self.hidden_sizes):
                activations = 1.0 / (1.0 + np.exp(-(activations @ weight.T)))
        return weights

    def _train_weights(self, network: BinaryNetwork, inputs: torch.Tensor, codes: np.ndarray) -> float:
        """``lbfgs_iterations`` of full-batch L-BFGS on the weights with the codes fixed; the final objective."""
        codes = torch.as_tensor(codes, dtype=_DTYPE)
        optimizer = torch.optim.LBFGS(network.parameters(), lr=1.0, max_iter=self.lbfgs_iterations,
                                      max_eval=self.lbfgs_iterations * 5 // 4, tolerance_grad=1e-5,
                                      tolerance_change=1e-9, history_size=100, line_search_fn="strong_wolfe")

        def closure() -> torch.Tensor:
            optimizer.zero_grad()
            loss = self.objective(network, inputs, codes)
            loss.backward()
            return loss

        optimizer.step(closure)
        with torch.no_grad():
            return float(self.objective(network, inputs, codes))

    def _validation_set(self, scaled: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray] | None:
        """Positions of the validation items and a ``(n, n_validation)`` 0/1 matrix marking, for each,
        its ``validation_neighbours`` Euclidean nearest training items (itself included)."""
        if self.validation_size == 0:
            return None
        n_items = len(scaled)
        chosen = np.sort(rng.choice(n_items, size=min(self.validation_size, n_items), replace=False))
        neighbours = min(self.validation_neighbours, n_items)
        squared = (np.square(scaled).sum(axis=1)[:, None] - 2 * scaled @ scaled[chosen].T
                   + np.square(scaled[chosen]).sum(axis=1)[None, :])
        nearest = np.argsort(squared, axis=0, kind="stable")[:neighbours]
        relevant = np.zeros((n_items, len(chosen)), dtype=np.float32)
        relevant[nearest, np.arange(len(chosen))[None, :]] = 1.0
        return chosen, relevant

    def _validation_map(self, network: BinaryNetwork, inputs: torch.Tensor,
                        validation: tuple[np.ndarray, np.ndarray] | None) -> float | None:
        if validation is None:
            return None
        chosen, relevant = validation
        with torch.no_grad():
            codes = sign(network(inputs).numpy())
        # Each validation item is its own "class"; a training item carries the classes of the
        # validation items it is a Euclidean neighbour of, so "shares a label" = "is a neighbour".
        own = np.eye(len(chosen), dtype=np.float32)
        return mean_average_precision(codes[chosen], codes, own, relevant)
