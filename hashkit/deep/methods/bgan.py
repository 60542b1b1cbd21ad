"""BGAN: binary generative adversarial networks for image retrieval {cite}`song2017bgan` (Song et al., AAAI 2018).

Unsupervised codes from three networks trained together: the engine's network is BGAN's encoder
and hash layer, and the method owns a generator, which reconstructs the image from its code, and a
discriminator, which tells images from reconstructions. A neighbourhood computed once from
features (:func:`hashkit.features.neighbourhood.expanded_neighbourhood`) says which training
images should get similar codes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import torch
from scipy import sparse
from torch import nn
from torch.nn import functional

from hashkit.checks import check_non_negative, check_positive, check_positive_int
from hashkit.deep.method import HashingMethod, TrainingContext
from hashkit.features.neighbourhood import batch_similarity

Relaxation = Literal["tanh", "app"]
RELAXATIONS = ("tanh", "app")
Adversarial = Literal["saturating", "non-saturating"]
ADVERSARIAL = ("saturating", "non-saturating")
LOSS_PARTS = ("N", "C", "A")
# The paper's continuation: "using β_t = 10 we can already achieve fast convergence"; the authors'
# code stepped the slope 1 → 2.5 → 5 → 7.5 → 10 before the step was removed (two-step).
PAPER_BETAS = (1.0, 2.5, 5.0, 7.5, 10.0)


def app(values: torch.Tensor) -> torch.Tensor:
    """BGAN's eq. 5: the identity clipped to [−1, 1]; ``app(βz) → sgn(z)`` as β grows (eq. 6)."""
    return values.clamp(-1.0, 1.0)


def relax(values: torch.Tensor, beta: float, relaxation: Relaxation) -> torch.Tensor:
    """``app(βz)`` (eq. 6) or ``tanh(βz)`` (eq. 7)."""
    return app(beta * values) if relaxation == "app" else torch.tanh(beta * values)


def check_betas(betas: Sequence[float]) -> tuple[float, ...]:
    """A continuation schedule: positive slopes, strictly increasing; else a ``ValueError`` naming ``betas``."""
    values = tuple(float(beta) for beta in betas)
    if not values or any(not math.isfinite(beta) or beta <= 0 for beta in values):
        raise ValueError(f"betas: expected a non-empty list of positive slopes, got {list(betas)}")
    if any(later <= earlier for earlier, later in zip(values, values[1:])):
        raise ValueError(f"betas: a continuation schedule must increase (each slope steeper than the last), "
                         f"got {list(values)}")
    return values


class Generator(nn.Module):
    """A code → an image (§3.2.3): a dense layer to ``start × start × channels[0]`` maps, then 5×5
    transposed convolutions of stride 2 through ``channels[1:]``, each with batch norm and ELU, and
    a 1×1 convolution to the image's channels, squashed to [0, 1] as the images are. ``start`` is
    the image size halved once per transposed convolution.

    The paper's: channels (256, 256, 128, 32) from 8 × 8 to 64 px.
    """

    def __init__(self, n_bits: int, image_channels: int, image_size: int,
                 channels: Sequence[int] = (32, 16, 8)) -> None:
        super().__init__()
        start = check_generator_shape(image_size, channels)
        self.start, self.first = start, channels[0]
        self.dense = nn.Sequential(nn.Linear(n_bits, start * start * channels[0]), nn.BatchNorm1d(start * start * channels[0]),
                                   nn.ELU())
        layers: list[nn.Module] = []
        for before, after in zip(channels, channels[1:]):
            layers += [nn.ConvTranspose2d(before, after, 5, stride=2, padding=2, output_padding=1), nn.BatchNorm2d(after),
                       nn.ELU()]
        layers += [nn.Conv2d(channels[-1], image_channels, 1), nn.Sigmoid()]
        self.layers = nn.Sequential(*layers)

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        return self.layers(self.dense(codes).view(-1, self.first, self.start, self.start))


def check_generator_shape(image_size: int, channels: Sequence[int]) -> int:
    """The generator's starting size: ``image_size`` halved once per transposed convolution
    (``len(channels) − 1``); a ``ValueError`` naming ``generator_channels`` when that is not a whole
    number of at least 2 pixels."""
    doublings = len(channels) - 1
    start, remainder = divmod(image_size, 2 ** doublings)
    if remainder or start < 2:
        raise ValueError(f"generator_channels: {len(channels)} widths mean {doublings} doublings, and {image_size} px "
                         f"images are not {2 ** doublings} × a start of 2 px or more; use fewer widths")
    return start


class Discriminator(nn.Module):
    """An image → the probability that it is real (§3.2.3): 5×5 convolutions with ELU, stride 2
    whenever the number of maps grows (none at the first), a dense layer and a sigmoid.

    :meth:`features` gives the last convolution's maps after activation: eq. 12's ϕ. The paper's
    channels are (32, 128, 256, 512) with a dense layer of 1,024.
    """

    def __init__(self, image_channels: int, image_size: int, channels: Sequence[int] = (8, 16, 32),
                 dense: int = 64) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        size, before = image_size, image_channels
        for index, after in enumerate(channels):
            stride = 1 if index == 0 else 2
            layers += [nn.Conv2d(before, after, 5, stride=stride, padding=2), nn.ELU()]
            size, before = math.ceil(size / stride), after
        self.convolutions = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(before * size * size, dense), nn.ELU(), nn.Linear(dense, 1))

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return self.convolutions(images)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The logit of "real", and the last convolution's maps."""
        maps = self.convolutions(images)
        return self.head(maps).squeeze(1), maps


def neighbour_loss(codes: torch.Tensor, similarity: torch.Tensor) -> torch.Tensor:
    """Eq. 10 over the batch's pairs: ``½ mean_{i≠j} (b_iᵀb_j / L − s_ij)²`` with ``s_ij`` ±1.

    The paper sums over pairs; the mean keeps the learning rate's meaning across batch sizes.
    """
    n_bits = codes.shape[1]
    off_diagonal = ~torch.eye(len(codes), dtype=torch.bool, device=codes.device)
    errors = (codes @ codes.T / n_bits - similarity) ** 2
    return 0.5 * errors[off_diagonal].mean()


class BGAN(HashingMethod):
    """BGAN's losses and update rules (§3.3–3.4), with the continuation of §3.2.2.

    The objective (eq. 9) is ``ℓ = ℓN + λ1 ℓC + λ2 ℓA``:

    * ``ℓN`` (eq. 10): the codes' inner products agree with the neighbourhood ``S`` (±1);
    * ``ℓC`` (eq. 13): pixel MSE (eq. 11) plus the perceptual loss (eq. 12), the squared distance
      between the discriminator's last convolutional maps of the image and of its reconstruction;
    * ``ℓA`` (eq. 14): ``log D(I) + log(1 − D(I^R))``.

    Who learns from what (eqs. 18–21) is part of the method. The encoder and hash layer (the
    engine's network) descend ``ℓN + λ1 ℓC``: the adversarial term's gradient is taken for the
    generator's parameters alone. The generator descends ``λ1 ℓC + λ2 ℓA``, stepped by its
    own optimiser after the network's step; the discriminator then ascends ``ℓA`` on the batch's
    images against the detached reconstructions, by its own optimiser. ``adversarial`` chooses the
    generator's form of ``ℓA``: ``"saturating"`` is eq. 14 as printed, ``"non-saturating"`` (the
    authors' code) descends ``−log D(I^R)`` instead.

    ``losses`` keeps a subset of ``("N", "C", "A")`` (Table 2's ablation); without ``"C"`` and
    ``"A"`` nothing needs the generator or the discriminator, and they are not built.

    The codes the loss sees are ``relax(βz)`` with ``relaxation`` ``"tanh"`` (eq. 7) or ``"app"``
    (eq. 6) and β the stage's slope: ``betas`` lists the slopes, one stage per
    ``epochs_per_stage`` epochs, the last slope for the epochs after. ``betas=(1,)`` is the
    *two-step* variant (train relaxed, take the sign after): Table 3's BGAN.

    ``neighbourhood``: the ``(n_train, n_train)`` boolean neighbourhood of the training items in
    the order of the training split; for BGAN_s it is "shares a label" (:func:`label_neighbourhood`).
    """

    name = "BGAN"
    supervised = False

    def __init__(self, neighbourhood: sparse.spmatrix, *, lambda1: float = 0.1, lambda2: float = 0.1,
                 losses: Sequence[str] = LOSS_PARTS, betas: Sequence[float] = (1.0,), epochs_per_stage: int = 1,
                 relaxation: Relaxation = "tanh", adversarial: Adversarial = "saturating",
                 generator_channels: Sequence[int] = (32, 16, 8),
                 discriminator_channels: Sequence[int] = (8, 16, 32), discriminator_dense: int = 64,
                 gan_learning_rate: float = 1e-3) -> None:
        if not sparse.issparse(neighbourhood) or neighbourhood.shape[0] != neighbourhood.shape[1]:
            raise ValueError("neighbourhood: expected a square scipy sparse matrix over the training items")
        unknown = sorted(set(losses) - set(LOSS_PARTS))
        if unknown or not losses:
            raise ValueError(f"losses: expected a non-empty subset of {', '.join(LOSS_PARTS)}, got {list(losses)}")
        if relaxation not in RELAXATIONS:
            raise ValueError(f"relaxation: expected one of {', '.join(RELAXATIONS)}, got {relaxation!r}")
        if adversarial not in ADVERSARIAL:
            raise ValueError(f"adversarial: expected one of {', '.join(ADVERSARIAL)}, got {adversarial!r}")
        self.neighbourhood = sparse.csr_matrix(neighbourhood, dtype=bool)
        self.lambda1 = check_non_negative(lambda1, "lambda1")
        self.lambda2 = check_non_negative(lambda2, "lambda2")
        self.losses = tuple(part for part in LOSS_PARTS if part in losses)
        self.betas = check_betas(betas)
        self.epochs_per_stage = check_positive_int(epochs_per_stage, "epochs_per_stage")
        self.relaxation = relaxation
        self.adversarial = adversarial
        self.generator_channels = tuple(check_positive_int(c, "generator_channels") for c in generator_channels)
        self.discriminator_channels = tuple(check_positive_int(c, "discriminator_channels")
                                            for c in discriminator_channels)
        self.discriminator_dense = check_positive_int(discriminator_dense, "discriminator_dense")
        self.gan_learning_rate = check_positive(gan_learning_rate, "gan_learning_rate")

    @property
    def uses_gan(self) -> bool:
        return "C" in self.losses or "A" in self.losses

    def beta(self, context: TrainingContext) -> float:
        """The slope of the current stage."""
        return self.betas[min(context.epoch // self.epochs_per_stage, len(self.betas) - 1)]

    def begin(self, context: TrainingContext) -> None:
        if self.neighbourhood.shape[0] != context.n_train:
            raise ValueError(f"neighbourhood: {self.neighbourhood.shape[0]} items, but the training split has "
                             f"{context.n_train}")
        if not self.uses_gan:
            return
        channels, height, width = context.image_shape
        if height != width:
            raise ValueError(f"BGAN's generator makes square images; the data's are {height} × {width}")
        self.generator_ = Generator(context.n_bits, channels, height, self.generator_channels).to(context.device)
        self.discriminator_ = Discriminator(channels, height, self.discriminator_channels,
                                            self.discriminator_dense).to(context.device)
        self.generator_optimiser_ = torch.optim.Adam(self.generator_.parameters(), lr=self.gan_learning_rate)
        self.discriminator_optimiser_ = torch.optim.Adam(self.discriminator_.parameters(), lr=self.gan_learning_rate)

    def activation(self, logits: torch.Tensor, context: TrainingContext) -> torch.Tensor:
        return relax(logits, self.beta(context), self.relaxation)

    def loss(self, outputs: torch.Tensor, labels: torch.Tensor, positions: torch.Tensor,
             context: TrainingContext) -> torch.Tensor:
        total = outputs.new_zeros(())
        parts: dict[str, float] = {}
        if "N" in self.losses:
            similarity = batch_similarity(self.neighbourhood, positions.cpu().numpy()).to(outputs.device)
            neighbours = neighbour_loss(outputs, similarity)
            total = total + neighbours
            parts["N"] = neighbours.item()
        if self.uses_gan:
            images = context.batch_images
            self.discriminator_.requires_grad_(False)  # ℓC and ℓA of the generator never update D (eq. 20)
            # One reconstruction serves both losses; without ℓC it needs no path back to the codes.
            reconstructions = self.generator_(outputs if "C" in self.losses else outputs.detach())
            fake_logit, fake_maps = self.discriminator_(reconstructions)
            if "C" in self.losses:
                with torch.no_grad():
                    real_maps = self.discriminator_.features(images)
                content = functional.mse_loss(reconstructions, images) + functional.mse_loss(fake_maps, real_maps)
                total = total + self.lambda1 * content
                parts["C"] = content.item()
            if "A" in self.losses:
                if self.adversarial == "saturating":
                    generator_adversarial = -functional.softplus(fake_logit).mean()  # log(1 − D(I^R))
                else:
                    generator_adversarial = functional.softplus(-fake_logit).mean()  # −log D(I^R)
                if "C" in self.losses:
                    # ℓA reaches the generator, never the encoder (eqs. 18, 21): its gradient is taken
                    # here, for the generator's parameters only, and added to what the batch loss gives them.
                    parameters = list(self.generator_.parameters())
                    gradients = torch.autograd.grad(self.lambda2 * generator_adversarial, parameters,
                                                    retain_graph=True)
                    for parameter, gradient in zip(parameters, gradients):
                        parameter.grad = gradient if parameter.grad is None else parameter.grad + gradient
                else:
                    total = total + self.lambda2 * generator_adversarial
                self.reconstructions_ = reconstructions.detach()
            self.discriminator_.requires_grad_(True)
        context.record(**parts)
        return total

    def after_step(self, outputs: torch.Tensor, context: TrainingContext) -> None:
        """The generator's step on the gradients the batch loss gave it, then the discriminator's (eq. 20)."""
        if not self.uses_gan:
            return
        self.generator_optimiser_.step()
        self.generator_optimiser_.zero_grad(set_to_none=True)
        if "A" not in self.losses:
            return
        real_logit, _ = self.discriminator_(context.batch_images)
        fake_logit, _ = self.discriminator_(self.reconstructions_)
        # ℓA = log D(I) + log(1 − D(I^R)), ascended: descend its negative.
        adversarial = -(functional.logsigmoid(real_logit).mean() + functional.logsigmoid(-fake_logit).mean())
        self.discriminator_optimiser_.zero_grad(set_to_none=True)
        adversarial.backward()
        self.discriminator_optimiser_.step()
        accuracy = ((real_logit > 0).float().mean() + (fake_logit < 0).float().mean()) / 2
        context.record(A=-adversarial.item(), D_accuracy=accuracy.item())
        self.reconstructions_ = None

    def reconstruct(self, codes: torch.Tensor) -> torch.Tensor:
        """Images the trained generator makes from ±1 codes (Fig. 6); for a trained model (eval mode)."""
        if not self.uses_gan:
            raise ValueError(f"BGAN with losses {self.losses} has no generator")
        self.generator_.eval()
        with torch.no_grad():
            return self.generator_(codes.float())


def label_neighbourhood(labels: np.ndarray) -> sparse.csr_matrix:
    """BGAN_s's neighbourhood (§4.5): two training items are neighbours when they share a label."""
    multi_hot = sparse.csr_matrix(np.asarray(labels, dtype=np.int32))
    neighbourhood = (multi_hot @ multi_hot.T) > 0
    neighbourhood = neighbourhood.tolil()
    neighbourhood.setdiag(False)
    return neighbourhood.tocsr().astype(bool)
