"""Networks that map an image to a feature vector; the engine puts the hashing layer on top.

:func:`build_backbone` is the one entry point: a name, the images' channels and size, and
optionally a *local* file of pretrained weights. The names (:data:`BACKBONES`):

* ``"small-cnn"`` — :class:`SmallCNN` with standardised features (:class:`StandardisedFeatures`),
  the study's default: trains in seconds per epoch on two CPU cores at 28–56 px.
* ``"cnn-f"`` — :class:`CNNF`, the CNN-F (VGG-F) net of Chatfield et al. {cite}`chatfield2014cnnf`,
  which DPSH, ADSH, DSDH, DDSH and FDAH fine-tune.
* ``"alexnet"`` {cite}`krizhevsky2012alexnet`, ``"vgg19"`` {cite}`simonyan2015vgg`, ``"resnet50"``,
  ``"resnet101"`` {cite}`he2016resnet` — torchvision's definitions, which HashNet, DCH and MMHH
  (AlexNet) and the later papers (VGG, ResNet) fine-tune.
* ``"cifar-resnet50"``, ``"cifar-resnet101"`` — the same ResNets in their CIFAR form: a 3×3
  stride-1 first convolution and no max-pool, on the images at their own size (32 px CIFAR-10),
  which DSHC trains from scratch. Their weights file, when given, is the state dict of such a
  network (its classification layer, of whatever width, is left out).

The ImageNet networks take 224 px RGB: :class:`ImageNetInput` repeats a grey channel, resizes
and normalises with ImageNet's statistics inside the network, so every dataset feeds them as it
is. No weights are ever downloaded (GUIDE §2): ``pretrained_weights`` names a state-dict file the
user provides, of the whole classification network as its publisher saved it (torchvision's
``*.pth`` files load as they are); a file that is absent or does not fit is an error before any
training, never a silent random initialisation.

Fine-tuning: all six papers that use these networks fine-tune every layer, the new hashing layer
included (``trainable="all"``). ``trainable="head"`` freezes the backbone and trains only the
hashing layer, i.e. hashing on fixed deep features.
"""

from __future__ import annotations

import inspect
import os
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import torch
import torchvision
from torch import nn
from torch.nn import functional

from hashkit.inputs import record_input

Trainable = Literal["all", "head"]
TRAINABLE_CHOICES: tuple[str, ...] = ("all", "head")

IMAGENET_SIZE = 224
# Per-channel mean and standard deviation of ImageNet in [0, 1] pixels, which torchvision's
# weights were trained with.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class SmallCNN(nn.Module):
    """Two conv blocks and a fully connected layer: the study's default backbone for 28–56 px images.

    conv(5×5, ``channels[0]``) → ReLU → max-pool 2 → conv(5×5, ``channels[1]``) → ReLU → max-pool 2
    → flatten → linear(``feature_dim``) → ReLU. Small enough to train in seconds per epoch on two CPU
    cores (GUIDE §4: 16/32 channels train at ~4,300 28-px images/s there, 32/64 at ~1,950).
    ``build_backbone("small-cnn")`` standardises its features (:class:`StandardisedFeatures`).
    """

    def __init__(self, in_channels: int = 1, image_size: tuple[int, int] = (28, 28),
                 channels: tuple[int, int] = (32, 64), feature_dim: int = 256) -> None:
        super().__init__()
        self.feature_dim = feature_dim
        self.convolutions = nn.Sequential(
            nn.Conv2d(in_channels, channels[0], kernel_size=5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(channels[0], channels[1], kernel_size=5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        )
        flat_size = channels[1] * (image_size[0] // 4) * (image_size[1] // 4)
        self.fully_connected = nn.Sequential(nn.Flatten(), nn.Linear(flat_size, feature_dim), nn.ReLU(inplace=True))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.fully_connected(self.convolutions(images))


class StandardisedFeatures(nn.Module):
    """A backbone whose features are batch-normalised (zero mean, unit variance per feature, no learned affine).

    What lets the pairwise losses train a net from scratch. A random ReLU net gives every image
    nearly the same feature vector plus small differences, and the losses' easiest first move is
    to shrink that common part, which DPSH does by silencing ReLU units until every image has one
    code. Centred features have no common part. Measured on 1,500 Fashion-MNIST images (the
    tests' setting, 32 bits): DPSH mAP 0.10 without, 0.62 with; ADSH 0.50 without, 0.57 with.
    The learned affine is left out because the hashing layer on top is affine already. The
    pretrained ImageNet nets the papers fine-tune do not start from a common part.

    Eval mode uses running statistics, PyTorch's exponential average over recent batches. A plain
    average over all batches (``momentum=None``) lags behind a net that changes fast in its first
    steps, which is when ADSH encodes its sample for the update of ``V``: its eval-mode outputs
    then share a part that the train-mode outputs do not have (32 bits, after one epoch: mean
    |mean output| 0.18 against 0.02), and that update sets such bits alike for all items.
    """

    def __init__(self, backbone: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone
        self.feature_dim = backbone.feature_dim
        self.standardise = nn.BatchNorm1d(backbone.feature_dim, affine=False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.standardise(self.backbone(images))


class CNNF(nn.Module):
    """CNN-F ("fast") of Chatfield et al., BMVC 2014, Table 1: five conv layers and two 4096-unit fc layers.

    conv1 64×11×11 stride 4, LRN, max-pool → conv2 256×5×5 pad 2, LRN, max-pool → conv3–conv5
    256×3×3 pad 1, max-pool after conv5 → fc6 4096, dropout → fc7 4096, dropout → fc8 (classes).
    On 224 px the feature maps are 54, 27, 13 and 6 px wide; the pools round up (``ceil_mode``), as
    the original MatConvNet model pads its first pool, so that fc6 sees 256×6×6. The LRN constants
    are Krizhevsky et al.'s (n=5, k=2, α=1e-4, β=0.75); PyTorch divides α by n, hence 5e-4.
    """

    def __init__(self, n_classes: int = 1000) -> None:
        super().__init__()

        def pool() -> nn.MaxPool2d:
            return nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)

        def normalise() -> nn.LocalResponseNorm:
            return nn.LocalResponseNorm(size=5, alpha=5e-4, beta=0.75, k=2.0)

        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4), nn.ReLU(inplace=True), normalise(), pool(),
            nn.Conv2d(64, 256, kernel_size=5, padding=2), nn.ReLU(inplace=True), normalise(), pool(),
            nn.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True), pool(),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
            nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
            nn.Linear(4096, n_classes),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(images))


class ImageNetInput(nn.Module):
    """Feeds an ImageNet network any dataset's images: grey → RGB, resize to 224 px, normalise.

    Doing this inside the network keeps one image pipeline (:mod:`hashkit.deep.tensors`) for
    every backbone, and lets a 28 px Fashion-MNIST image reach a net whose feature maps would
    otherwise vanish before its fully connected layers.
    """

    def __init__(self, body: nn.Module, feature_dim: int) -> None:
        super().__init__()
        self.body = body
        self.feature_dim = feature_dim
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.shape[1] == 1:
            images = images.expand(-1, 3, -1, -1)
        if images.shape[-2:] != (IMAGENET_SIZE, IMAGENET_SIZE):
            images = functional.interpolate(images, size=(IMAGENET_SIZE, IMAGENET_SIZE), mode="bilinear",
                                            align_corners=False)
        return self.body((images - self.mean) / self.std)


class NativeInput(nn.Module):
    """Feeds a network the images at their own size: grey → RGB, normalised with ImageNet's statistics."""

    def __init__(self, body: nn.Module, feature_dim: int) -> None:
        super().__init__()
        self.body = body
        self.feature_dim = feature_dim
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.shape[1] == 1:
            images = images.expand(-1, 3, -1, -1)
        return self.body((images - self.mean) / self.std)


def _cifar_resnet(network: nn.Module) -> nn.Module:
    """A torchvision ResNet in its CIFAR form: 3×3 stride-1 stem, no max-pool, no classification layer."""
    network.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
    network.maxpool = nn.Identity()
    network.fc = nn.Identity()
    return network


_CIFAR_RESNETS: dict[str, Callable[[], nn.Module]] = {
    "cifar-resnet50": lambda: torchvision.models.resnet50(weights=None),
    "cifar-resnet101": lambda: torchvision.models.resnet101(weights=None),
}
CIFAR_RESNET_FEATURES = 2048


def _without_last_layer(classifier: nn.Sequential) -> list[nn.Module]:
    """The classifier's layers up to, not including, its final class-score layer."""
    return list(classifier.children())[:-1]


def _alexnet_like(network: nn.Module) -> nn.Module:
    """features → pool → fc6 → fc7 of AlexNet, VGG and CNN-F: their 4096-d fc7 output."""
    pooling = getattr(network, "avgpool", nn.Identity())
    return nn.Sequential(network.features, pooling, nn.Flatten(), *_without_last_layer(network.classifier))


def _resnet_body(network: nn.Module) -> nn.Module:
    network.fc = nn.Identity()
    return network


# name -> (constructor of the whole classification net, the feature extractor cut from it, feature size)
_IMAGENET_NETWORKS: dict[str, tuple[Callable[[], nn.Module], Callable[[nn.Module], nn.Module], int]] = {
    "cnn-f": (CNNF, _alexnet_like, 4096),
    "alexnet": (lambda: torchvision.models.alexnet(weights=None), _alexnet_like, 4096),
    "vgg19": (lambda: torchvision.models.vgg19(weights=None), _alexnet_like, 4096),
    "resnet50": (lambda: torchvision.models.resnet50(weights=None), _resnet_body, 2048),
    "resnet101": (lambda: torchvision.models.resnet101(weights=None), _resnet_body, 2048),
}

BACKBONES: tuple[str, ...] = ("small-cnn", *_IMAGENET_NETWORKS, *_CIFAR_RESNETS)


def check_backbone_choice(name: str, pretrained_weights: str | os.PathLike | None, trainable: str) -> Path | None:
    """Validate the cheap arguments of :func:`build_backbone` without building anything.

    Returns the weights file as a ``Path`` (``None`` for random initialisation); raises
    ``ValueError`` for an unknown name or ``trainable`` and ``FileNotFoundError`` naming a weights
    file that is not there.
    """
    if name not in BACKBONES:
        raise ValueError(f"backbone: unknown {name!r}; expected one of {', '.join(BACKBONES)}")
    if trainable not in TRAINABLE_CHOICES:
        raise ValueError(f"trainable: expected one of {', '.join(TRAINABLE_CHOICES)}, got {trainable!r}")
    if pretrained_weights is None:
        return None
    weights_file = Path(pretrained_weights)
    if not weights_file.is_file():
        raise FileNotFoundError(
            f"pretrained_weights: no file at {str(weights_file)!r} for backbone {name!r}. hashkit never "
            "downloads weights; save the network's ImageNet state dict there, or pass "
            "pretrained_weights=None to train from a random initialisation"
        )
    return weights_file


def check_backbone_options(name: str, options: dict[str, object]) -> None:
    """A ``TypeError`` naming any option that backbone ``name`` does not take (see :func:`build_backbone`)."""
    dataset_given = ("in_channels", "image_size")  # set from the dataset, not by the user
    accepted = [] if name != "small-cnn" else [
        parameter for parameter in inspect.signature(SmallCNN).parameters if parameter not in dataset_given]
    foreign = sorted(set(options) - set(accepted))
    if foreign:
        takes = f"takes only {', '.join(accepted)}" if accepted else "takes no options"
        raise TypeError(f"backbone {name!r} {takes}, got {', '.join(foreign)}")


def load_weights_file(network: nn.Module, weights_file: Path, what: str, skip_prefix: str | None = None) -> None:
    """Load the state dict in ``weights_file`` into ``network``; a file that is unreadable or does not fit
    is a ``ValueError`` that starts with ``what`` (the parameter or network it is for) and names the file.
    Entries whose names start with ``skip_prefix`` (a classification layer the network has dropped) are ignored."""
    record_input(weights_file)
    try:
        state_dict = torch.load(weights_file, map_location="cpu", weights_only=True)
    except Exception as error:  # unpickling foreign bytes can raise any type (IndexError, KeyError, ...)
        raise ValueError(
            f"{what}: {str(weights_file)!r} is not a readable torch file ({type(error).__name__}); "
            "expected a state dict saved with torch.save"
        ) from error
    if skip_prefix is not None and isinstance(state_dict, dict):
        state_dict = {name: value for name, value in state_dict.items() if not name.startswith(skip_prefix)}
    try:
        network.load_state_dict(state_dict)
    except (RuntimeError, AttributeError, TypeError) as error:
        # torch's first line only says "Error(s) in loading state_dict"; the next one says which.
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        reason = textwrap.shorten((lines[1:] or lines or [type(error).__name__])[0], 240, placeholder=" ...")
        raise ValueError(
            f"{what}: {str(weights_file)!r} does not fit the network "
            f"(expected the state dict of its whole classification network; {reason})"
        ) from error


def build_backbone(name: str, in_channels: int, image_size: tuple[int, int], *,
                   pretrained_weights: str | os.PathLike | None = None, trainable: Trainable = "all",
                   **options: object) -> nn.Module:
    """A feature extractor with a ``feature_dim`` attribute, ready for a hashing layer on top.

    ``in_channels`` and ``image_size`` are the dataset's (1 or 3 channels; any size for the
    ImageNet networks, which resize). ``options`` go to :class:`SmallCNN` (``channels``,
    ``feature_dim``); the ImageNet networks take none. ``pretrained_weights``: a local state-dict
    file (see the module docstring). ``trainable="head"`` freezes every backbone parameter.
    """
    weights_file = check_backbone_choice(name, pretrained_weights, trainable)
    if in_channels not in (1, 3):
        raise ValueError(f"in_channels: expected 1 (grey) or 3 (RGB), got {in_channels!r}")
    check_backbone_options(name, options)
    if name == "small-cnn":
        small_cnn = SmallCNN(in_channels, image_size, **options)
        if weights_file is not None:
            load_weights_file(small_cnn, weights_file, f"pretrained_weights for backbone {name!r}")
        backbone: nn.Module = StandardisedFeatures(small_cnn)
    elif name in _CIFAR_RESNETS:
        network = _cifar_resnet(_CIFAR_RESNETS[name]())
        if weights_file is not None:
            load_weights_file(network, weights_file, f"pretrained_weights for backbone {name!r}", skip_prefix="fc.")
        backbone = NativeInput(network, CIFAR_RESNET_FEATURES)
    else:
        make_network, cut_features, feature_dim = _IMAGENET_NETWORKS[name]
        network = make_network()
        if weights_file is not None:
            load_weights_file(network, weights_file, f"pretrained_weights for backbone {name!r}")
        backbone = ImageNetInput(cut_features(network), feature_dim)
    if trainable == "head":
        backbone.requires_grad_(False)
    return backbone
