"""Pretrained networks: torchvision's ImageNet weights, and the published CIFAR-10 ResNets.

Weights are downloaded once by ``torch.hub.load_state_dict_from_url`` into torch's hub cache
(``$TORCH_HOME/hub/checkpoints``, by default ``~/.cache/torch/hub/checkpoints``), which checks the
downloaded file against the hash prefix in its name. A file already in the cache is used as it is:
offline, placing a copy there lets the same loading code run (that is how CI tests it).

torchvision deprecated ``pretrained=True`` in version 0.13; weights are named by enums (``ResNet18_Weights.IMAGENET1K_V1``,
or ``"DEFAULT"`` for the best available), whose ``meta`` holds the categories and metrics and whose
``transforms()`` give the preprocessing the weights expect.
"""
from __future__ import annotations

import urllib.error
from pathlib import Path

import torch
from torch import nn

from ..profiles import show_progress
from . import create
from .resnet import load_cifar_resnet_weights

# The CIFAR-10 ResNets of He et al. (2016) trained by github.com/akamaster/pytorch_resnet_cifar10
# (BSD-2-Clause); the eight hex digits are the start of each file's sha256.
CIFAR_RESNET_URLS = {
    "resnet20": "https://github.com/akamaster/pytorch_resnet_cifar10/raw/master/pretrained_models/resnet20-12fca82f.th",
    "resnet56": "https://github.com/akamaster/pytorch_resnet_cifar10/raw/master/pretrained_models/resnet56-4bfd9763.th",
}

# torchvision models that coursekit writes itself with torchvision's module names, so that the
# ImageNet weights load into coursekit's readable code unchanged (tests/test_models_classic.py).
OWN_IMPLEMENTATIONS = ("alexnet", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19",
                       "vgg19_bn", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152")


class WeightsUnavailableError(RuntimeError):
    """Weights are neither in the hub cache nor downloadable; the message says how to fix it."""


def hub_checkpoints() -> Path:
    """The folder where torch keeps downloaded weights."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def _unavailable(url: str, err: Exception) -> WeightsUnavailableError:
    target = hub_checkpoints() / Path(url).name
    return WeightsUnavailableError(
        f"could not download {url} ({type(err).__name__}: {err}).\n"
        f"Fix it in one of two ways:\n"
        f"  - with network: run this again (the file is then cached in {hub_checkpoints()});\n"
        f"  - offline: copy the file to {target} (or set TORCH_HOME to a folder whose "
        f"hub/checkpoints/ holds it).")


def load_weights(url: str, progress: bool | None = None) -> dict:
    """The checkpoint at ``url``, from the hub cache or downloaded into it (hash checked).

    ``progress`` defaults to :func:`coursekit.profiles.show_progress` (off in CI and book builds).
    """
    progress = show_progress() if progress is None else progress
    try:
        return torch.hub.load_state_dict_from_url(url, map_location="cpu", progress=progress,
                                                  check_hash=True, weights_only=True)
    except (urllib.error.URLError, OSError) as err:
        raise _unavailable(url, err) from err


def cifar_resnet(name: str = "resnet20", progress: bool | None = None) -> nn.Module:
    """coursekit's CIFAR ResNet with the published CIFAR-10 weights, in evaluation mode.

    The networks expect images in [0, 1] normalised by ImageNet's mean and standard deviation
    (``coursekit.models.resnet.PRETRAINED_CIFAR_MEAN`` / ``_STD``), as they were trained.
    """
    if name not in CIFAR_RESNET_URLS:
        raise KeyError(f"no published CIFAR-10 weights for {name!r}; available: {', '.join(CIFAR_RESNET_URLS)}")
    model = create(name, num_classes=10)
    load_cifar_resnet_weights(model, load_weights(CIFAR_RESNET_URLS[name], progress))
    return model.eval()


def pretrained(name: str, weights: str = "DEFAULT", progress: bool | None = None, **timm_args) -> nn.Module:
    """An ImageNet-pretrained network by its torchvision name (``resnet50``, ``vit_b_16``...), or a
    timm model by ``timm/<name>`` (``timm/convnext_tiny.fb_in22k_ft_in1k``; its weights come from the
    Hugging Face hub and are cached by ``huggingface_hub``).

    For the networks coursekit implements itself (:data:`OWN_IMPLEMENTATIONS`) the weights are loaded
    into coursekit's code; any other torchvision model is built by torchvision. The weights enum is
    attached as ``model.weights`` (``.meta["categories"]``, ``.transforms()``). Evaluation mode.
    ``timm_args`` go to ``timm.create_model`` (e.g. ``img_size=224`` for a DINOv2 ViT).
    """
    from torchvision import models as tvm

    if name.startswith("timm/"):
        return _timm_pretrained(name.removeprefix("timm/"), **timm_args)

    try:
        enum = tvm.get_model_weights(name)
    except (KeyError, ValueError) as err:
        raise KeyError(f"torchvision has no model {name!r}; see torchvision.models.list_models()") from err
    chosen = enum.verify(weights)
    if name in OWN_IMPLEMENTATIONS:
        model = create(name, num_classes=len(chosen.meta["categories"]))
        model.load_state_dict(load_weights(chosen.url, progress), strict=True)
    else:  # torchvision builds it as the weights require (e.g. GoogLeNet's input transform)
        try:
            model = tvm.get_model(name, weights=chosen, progress=show_progress() if progress is None else progress)
        except (urllib.error.URLError, OSError) as err:
            raise _unavailable(chosen.url, err) from err
    model.weights = chosen
    return model.eval()


def _timm_pretrained(name: str, **timm_args) -> nn.Module:
    import timm

    if not timm.is_model(name):
        raise KeyError(f"timm has no model {name!r}; see timm.list_models(pretrained=True)")
    try:
        model = timm.create_model(name, pretrained=True, **timm_args)
    except (OSError, RuntimeError, ValueError) as err:  # the hub's offline and missing-file errors
        raise WeightsUnavailableError(
            f"could not get the weights of timm/{name} from the Hugging Face hub ({type(err).__name__}: {err}).\n"
            f"Fix it in one of two ways:\n"
            f"  - with network: run this again (huggingface_hub then caches the file, by default in ~/.cache/huggingface);\n"
            f"  - offline: copy a hub cache that holds it and set HF_HOME to it.") from err
    return model.eval()


def input_statistics(model: nn.Module) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The per-channel mean and standard deviation a pretrained ``model`` expects its inputs normalised by.

    From the torchvision weights attached by :func:`pretrained`, or a timm model's ``pretrained_cfg``.
    """
    if getattr(model, "weights", None) is not None:
        transform = model.weights.transforms()
        return tuple(transform.mean), tuple(transform.std)
    if getattr(model, "pretrained_cfg", None):
        return tuple(model.pretrained_cfg["mean"]), tuple(model.pretrained_cfg["std"])
    raise ValueError("the model carries neither torchvision weights nor a timm pretrained_cfg; "
                     "load it with coursekit.models.pretrained()")
