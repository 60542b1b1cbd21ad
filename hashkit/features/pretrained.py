"""ImageNet-pretrained torchvision networks as feature extractors, from weights on local disk only.

The papers feed shallow methods features of AlexNet {cite}`krizhevsky2012alexnet`, VGG
{cite}`simonyan2015vgg` or ResNet {cite}`he2016resnet` networks pretrained on ImageNet
{cite}`deng2009imagenet`. Those weights cannot be downloaded on the study's machines, and a randomly
initialised network would give features that only look like the real thing, so hashkit never
downloads weights and never falls back on random ones: it loads a state dict from a file the user
provides, or stops with an error that says where to put it.

Where the weights of ``<arch>`` are looked for, in this order:

1. the ``weights_path=`` option, when given (and then nowhere else);
2. ``$HASHKIT_DATA/weights/<arch>.pth``;
3. the repository's ``data/weights/<arch>.pth``;
4. torchvision's own download cache, ``<torch hub dir>/checkpoints/<official file name>``
   (e.g. ``alexnet-owt-7be5be79.pth``), where a machine that once ran torchvision online keeps them.

The features are the network's penultimate layer: its 1000-way ImageNet classifier is replaced by
the identity, which leaves fc7 after its ReLU for AlexNet and VGG (4,096 values) and the pooled
features for ResNet (2,048 for ResNet-50). Images are made three-channel (grey replicated),
resized to ``image_size`` (224) and normalised with ImageNet's channel means and deviations.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from hashkit.data.locate import DATA_ENV_VAR, REPO_DATA_DIR
from hashkit.deep.backbones import load_weights_file
from hashkit.features.encoding import Preprocess

SOURCE_PREFIX = "torchvision:"
WEIGHTS_DIR_NAME = "weights"
IMAGENET_CLASSES = 1000
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def torchvision_architectures() -> list[str]:
    """Names of torchvision's ImageNet classification networks, e.g. ``"alexnet"``, ``"resnet50"``."""
    return torchvision.models.list_models(module=torchvision.models)


def check_architecture(arch: str) -> str:
    """``arch`` if torchvision has a classification network of that name, else a ``ValueError`` listing them."""
    architectures = torchvision_architectures()
    if arch not in architectures:
        raise ValueError(
            f"source {SOURCE_PREFIX + arch!r}: torchvision has no classification network {arch!r}; "
            f"expected one of {', '.join(architectures)}"
        )
    return arch


def official_file_names(arch: str) -> list[str]:
    """File names of torchvision's published ImageNet weights for ``arch`` (read from its URLs, offline)."""
    return [Path(weights.url).name for weights in torchvision.models.get_model_weights(arch)]


def weights_candidates(arch: str) -> list[Path]:
    """The places searched for ``arch``'s weights when no ``weights_path`` is given, in order."""
    roots = [Path(os.environ[DATA_ENV_VAR]).expanduser()] if os.environ.get(DATA_ENV_VAR) else []
    roots.append(REPO_DATA_DIR)
    candidates = [root / WEIGHTS_DIR_NAME / f"{arch}.pth" for root in roots]
    hub_checkpoints = Path(torch.hub.get_dir()) / "checkpoints"
    candidates += [hub_checkpoints / name for name in official_file_names(arch)]
    return list(dict.fromkeys(candidates))


def find_weights(arch: str, weights_path: str | os.PathLike | None) -> Path:
    """The local weight file of ``arch``, or a ``FileNotFoundError`` saying where to put one."""
    if weights_path is not None:
        path = Path(weights_path).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"weights_path: {path} does not exist (ImageNet weights of {arch!r} expected)")
        return path
    candidates = weights_candidates(arch)
    for path in candidates:
        if path.is_file():
            return path
    looked = "\n".join(f"  - {path}" for path in candidates)
    urls = ", ".join(weights.url for weights in torchvision.models.get_model_weights(arch))
    repo_file = REPO_DATA_DIR / WEIGHTS_DIR_NAME / f"{arch}.pth"
    raise FileNotFoundError(
        f"source {SOURCE_PREFIX + arch!r} needs ImageNet weights in a local file, and none was found "
        f"(hashkit never downloads weights and never uses a random initialisation instead). Looked for:\n"
        f"{looked}\nProvide them in any one of these ways:\n"
        f"  - save the state dict of torchvision.models.{arch} as {repo_file}\n"
        f"    or as ${DATA_ENV_VAR}/{WEIGHTS_DIR_NAME}/{arch}.pth\n"
        f"  - pass weights_path=<file holding that state dict>\n"
        f"  - copy torchvision's file (from {urls}, fetched on a machine with internet access) into "
        f"{Path(torch.hub.get_dir()) / 'checkpoints'}/"
    )


def _classifier_parent(network: nn.Module, arch: str) -> tuple[nn.Module, str]:
    """The module holding the network's last linear layer, and that layer's attribute name."""
    linear_layers = [name for name, module in network.named_modules() if isinstance(module, nn.Linear)]
    if not linear_layers or network.get_submodule(linear_layers[-1]).out_features != IMAGENET_CLASSES:
        raise ValueError(
            f"source {SOURCE_PREFIX + arch!r}: its last layer is not a {IMAGENET_CLASSES}-way linear classifier, "
            "so hashkit cannot tell its penultimate layer; use a network such as alexnet, vgg19 or resnet50"
        )
    parent_name, _, attribute = linear_layers[-1].rpartition(".")
    return network.get_submodule(parent_name), attribute


def penultimate_network(arch: str, weights_file: Path) -> nn.Module:
    """torchvision's ``arch`` with the weights of ``weights_file`` and its classifier replaced by the identity."""
    network = torchvision.models.get_model(arch, weights=None)
    load_weights_file(network, weights_file, f"the state dict of torchvision.models.{arch}")
    parent, attribute = _classifier_parent(network, arch)
    setattr(parent, attribute, nn.Identity())
    return network.eval()


def imagenet_preprocess(image_size: int) -> Preprocess:
    """A function taking ``[0, 1]`` image batches to the three-channel, resized, normalised input of ImageNet nets."""
    def preprocess(images: torch.Tensor) -> torch.Tensor:
        if images.shape[1] == 1:
            images = images.expand(-1, 3, -1, -1)
        images = F.interpolate(images, size=(image_size, image_size), mode="bilinear", antialias=True,
                               align_corners=False)
        mean = torch.tensor(IMAGENET_MEAN, device=images.device).view(1, 3, 1, 1)
        std = torch.tensor(IMAGENET_STD, device=images.device).view(1, 3, 1, 1)
        return (images - mean) / std

    return preprocess
