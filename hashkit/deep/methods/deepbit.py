"""DeepBit: compact binary descriptors from an unsupervised deep network {cite}`lin2016deepbit`
(Lin, Lu, Chen, Zhou, CVPR 2016).

Three criteria on the top layer's sigmoid activations, no labels: little quantisation loss, bits
evenly distributed, and bits invariant to small rotations of the image. The rotation term needs
the network's outputs of rotated copies of the batch, which the engine's
:attr:`~hashkit.deep.method.TrainingContext.forward` gives.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Real

import torch

from hashkit.checks import check_non_negative, check_positive
from hashkit.codes import sign
from hashkit.deep.method import HashingMethod, TrainingContext

# The authors' rotations (cvpr16-deepbit, aug_img.m): 5 × (k − 3) degrees for k = 1 … 5, i.e. −10,
# −5, 0, 5, 10, each pair weighted exp(−(k − 3)² / 2) = exp(−θ² / (2 · 5²)). The 0° "copy" is the
# image itself here (their two data streams cropped and mirrored it differently), so it is left out.
PAPER_ANGLES = (-10.0, -5.0, 5.0, 10.0)
PAPER_ANGLE_SCALE = 5.0


def binary_bits(activations: torch.Tensor) -> torch.Tensor:
    """DeepBit's bits ``b = 1[σ ≥ ½]`` (0/1) of sigmoid activations; ``σ = ½`` gives 1 (``sign(0) = +1``)."""
    return (activations >= 0.5).to(activations.dtype)


def quantization_loss(activations: torch.Tensor) -> torch.Tensor:
    """``Σ_n ‖(b_n − ½) − (σ_n − ½)‖² / (2N)`` over the batch's ``N`` rows; ``b`` is a constant.

    Its gradient ``(σ − b) / N`` pulls every activation towards the bit it already gives.
    """
    bits = binary_bits(activations).detach()
    return ((bits - activations) ** 2).sum() / (2 * activations.shape[0])


def balance_loss(activations: torch.Tensor) -> torch.Tensor:
    """Even distribution: ``Σ_k (μ_k − ½)² / (2N)``, ``μ_k`` the share of the batch whose bit ``k`` is 1.

    The value is computed on the bits, as the authors' layer does; bits have no gradient, so it
    reaches the activations straight through (``b`` replaced by ``σ`` in the backward pass):
    ``∂/∂σ_nk = (μ_k − ½) / N²``.
    """
    bits = binary_bits(activations)
    straight_through = activations + (bits - activations).detach()
    return ((straight_through.mean(dim=0) - 0.5) ** 2).sum() / (2 * activations.shape[0])


def rotation_weights(angles: Sequence[float], scale: float) -> torch.Tensor:
    """``C(θ) = exp(−θ² / (2 scale²))`` per angle: 1 at 0°, e^{−1/2} at ±scale, e^{−2} at ±2 scale."""
    return torch.tensor([math.exp(-angle ** 2 / (2 * scale ** 2)) for angle in angles])


def rotation_loss(activations: torch.Tensor, rotated: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """``Σ_θ Σ_n C(θ) ‖σ(x_n) − σ(R_θ x_n)‖² / (2 A N)`` over the ``A × N`` (angle, image) pairs.

    ``activations``: ``(N, L)``; ``rotated``: ``(A, N, L)``, row ``[a, n]`` the activations of image
    ``n`` rotated by angle ``a``; ``weights``: ``(A,)``. Both sides carry gradient.
    """
    distances = ((rotated - activations.unsqueeze(0)) ** 2).sum(dim=2)
    weights = weights.to(device=activations.device, dtype=activations.dtype)
    return (weights[:, None] * distances).sum() / (2 * distances.numel())


def rotate_batch(images: torch.Tensor, angles: Sequence[float]) -> torch.Tensor:
    """``(A · N, C, H, W)``: the batch rotated by each angle in turn (degrees, anticlockwise, about
    the centre, same size, nearest-neighbour, corners filled with 0)."""
    from torchvision.transforms.functional import InterpolationMode, rotate

    return torch.cat([rotate(images, float(angle), interpolation=InterpolationMode.NEAREST, fill=0.0)
                      for angle in angles])


def check_angles(angles: Sequence[float]) -> tuple[float, ...]:
    """Rotation angles in degrees: finite numbers, no repeats; empty turns the rotation term off."""
    if isinstance(angles, (str, bytes)) or not isinstance(angles, Sequence):
        raise ValueError(f"angles: expected a sequence of angles in degrees, got {angles!r}")
    if any(isinstance(angle, bool) or not isinstance(angle, Real) or not math.isfinite(angle) for angle in angles):
        raise ValueError(f"angles: expected finite angles in degrees, got {list(angles)}")
    values = tuple(float(angle) for angle in angles)
    if len(set(values)) != len(values):
        raise ValueError(f"angles: each angle once, got {list(values)}")
    return values


class DeepBit(HashingMethod):
    """DeepBit {cite}`lin2016deepbit`: sigmoid codes kept near their bits, balanced, and rotation invariant.

    The hashing layer's outputs go through a **sigmoid**, ``σ = sigmoid(z)``; the bits are
    ``b = 1[σ ≥ ½]`` and the ±1 code is ``2b − 1 = sign(σ − ½)``. Per batch of ``N`` images the
    loss is::

        quantization_weight · Σ_n ‖b_n − σ_n‖² / (2N)                         (minimal quantisation)
      + balance_weight      · Σ_k (μ_k − ½)² / (2N),  μ_k = mean_n b_nk         (evenly distributed bits)
      + rotation_weight     · Σ_θ Σ_n C(θ) ‖σ(x_n) − σ(R_θ x_n)‖² / (2 A N)   (rotation invariance)

    with ``R_θ x`` the image rotated by ``θ`` degrees (:func:`rotate_batch`, on the batch as the
    network saw it) and ``C(θ) = exp(−θ² / (2 · angle_scale²))``. The rotated copies go through the
    network in one extra pass (:attr:`TrainingContext.forward`), and the term's gradient reaches
    the network through both the images and their copies. The terms' means over the epoch are in
    the history (``quantization``, ``balance``, ``rotation``).

    Sources. The body of the DeepBit paper could not be read here. Its abstract names minimal
    quantisation loss and evenly distributed codes; its third criterion reads "uncorrelated bits"
    there, while the authors' README, code and later journal version make it rotation (transform)
    invariance, which is what is implemented. The sigmoid follows the project's notes on the paper
    (``notes/bgan.md`` §3, from memory, unverified). The rest comes from the authors' Caffe code,
    github.com/kevinlin311tw/cvpr16-deepbit (read, nothing copied): the loss layers
    ``src/caffe/layers/K1_even_dist_loss_layer.cpp``, ``K2_min_quantize_loss_layer.cpp`` and
    ``K3_transform_loss_layer.cpp`` fix the threshold at ½ and each term's value and normalisation
    above (``/ 2N`` and ``/ 2·pairs``); ``examples/deepbit-cifar10-32/vgg_train32_stage2.prototxt``
    the weights 1 (quantisation), 1 (even distribution) and 0.001 (rotation) — the defaults here;
    ``aug_img.m`` the rotations −10°, −5°, 0°, 5°, 10° with weights ``exp(−(θ/5)² / 2)`` —
    ``angle_scale = 5``.

    Where hashkit departs from or completes the sources:

    * gradients: the authors' backward passes do not differentiate their forward losses (each
      sends one constant to every unit, and the quantisation layer's accumulator is never reset);
      here autograd differentiates the losses as defined, with the bits constant in the
      quantisation term and passed straight through in the balance term (:func:`balance_loss`);
    * activation: the code's network ends in a ReLU, not a sigmoid, and its evaluation script
      thresholds at the mean activation over the training set; here the sigmoid, and ½ as in the
      loss layers (which binarise by ``σ > ½``: an activation of exactly ½ is a 0 bit there and a
      1 bit here, by hashkit's ``sign(0) = +1``);
    * rotations: the 0° pair is left out (``angles = (−10, −5, 5, 10)``): here it would be the image
      itself. Pass ``angles=(-10, -5, 0, 5, 10)`` for the authors' five pairs (the 0° pair then
      compares each image with itself, apart from batch-norm statistics, and the normalisation
      becomes ``A = 5``), ``angles=()`` to drop the term. Corners of a
      rotated image are 0 in the network's input space (the authors' ``imrotate``, then crop, fills
      raw pixels with black before mean subtraction); nearest-neighbour, as ``imrotate``'s default;
    * schedule: the authors train in two stages (50,000 iterations without the rotation term, then
      5,000 with it, at a tenth of the learning rate); here the three terms act from the start;
    * the authors' second stream (the rotated copies) also carries its own quantisation and
      balance terms; here those two terms see the batch itself only;
    * backbone and optimiser are the engine's: the authors fine-tune only the hashing layer on a
      frozen ImageNet VGG-16 (``trainable="head"`` with local weights), SGD, momentum 0.9, weight
      decay 0.0005, learning rate 0.001, batches of 32.

    Cost: each batch makes one more forward and backward pass over ``len(angles)`` times its images
    (an epoch takes about four times as long as without the rotation term).

    Measured from scratch (no pretrained backbone; 3,000 Fashion-MNIST training images, the first
    500 queried against all 3,000, mAP@1000, 32 bits, ``small-cnn`` 16/32 channels, Adam 0.001,
    batches of 64; no query item used): after epochs 1 / 2 / 3 / 4, 0.37 / 0.34 / 0.29 / 0.31, and
    0.42 / 0.41 / 0.39 / 0.37 with ``angles=()``. Nothing in the objective keeps bits apart: the
    quantisation term saturates the outputs and the bits' mean absolute correlation grows (0.56
    after one epoch, 0.70 after four). The authors start from ImageNet features and train only the
    hashing layer, where this matters less.
    """

    name = "DeepBit"
    supervised = False

    def __init__(self, quantization_weight: float = 1.0, balance_weight: float = 1.0,
                 rotation_weight: float = 0.001, angles: Sequence[float] = PAPER_ANGLES,
                 angle_scale: float = PAPER_ANGLE_SCALE) -> None:
        self.quantization_weight = check_non_negative(quantization_weight, "quantization_weight")
        self.balance_weight = check_non_negative(balance_weight, "balance_weight")
        self.rotation_weight = check_non_negative(rotation_weight, "rotation_weight")
        self.angles = check_angles(angles)
        self.angle_scale = check_positive(angle_scale, "angle_scale")

    def activation(self, logits: torch.Tensor, context: TrainingContext) -> torch.Tensor:
        return torch.sigmoid(logits)

    def codes(self, outputs: torch.Tensor, context: TrainingContext) -> torch.Tensor:
        """``2b − 1`` with ``b = 1[σ ≥ ½]``: ``sign(σ − ½)``."""
        return sign(outputs - 0.5)

    def uses_rotations(self) -> bool:
        """Whether the loss has a rotation term (angles given and a positive weight)."""
        return bool(self.angles) and self.rotation_weight > 0

    def loss(self, outputs: torch.Tensor, labels: torch.Tensor, positions: torch.Tensor,
             context: TrainingContext) -> torch.Tensor:
        quantization = quantization_loss(outputs)
        balance = balance_loss(outputs)
        total = self.quantization_weight * quantization + self.balance_weight * balance
        parts = {"quantization": quantization.item(), "balance": balance.item()}
        if self.uses_rotations():
            if context.forward is None or context.batch_images is None:
                raise RuntimeError(f"{self.name}: the rotation term needs the engine's context.forward and "
                                   "context.batch_images; train with hashkit.deep.engine.train, or pass angles=()")
            rotated = context.forward(rotate_batch(context.batch_images, self.angles))
            rotated = rotated.reshape(len(self.angles), outputs.shape[0], outputs.shape[1])
            rotation = rotation_loss(outputs, rotated, rotation_weights(self.angles, self.angle_scale))
            total = total + self.rotation_weight * rotation
            parts["rotation"] = rotation.item()
        context.record(**parts)
        return total
