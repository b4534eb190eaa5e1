"""Every named data set behind one call, and the data sets that torchvision downloads and reads
(the `full` profile's transfer targets)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from . import cache
from .cars import load_stanford_cars
from .cifar10 import load_cifar10
from .folders import _spec, load_folder_dataset
from .mnist import load_mnist
from .tensors import DataNotFoundError, ImageTensors, data_root, fingerprint, resized


@dataclass(frozen=True)
class TorchvisionDataset:
    """A labelled image data set read through a ``torchvision.datasets`` class (``cls``), whose
    splits are constructor arguments (``{"train": {"split": "trainval"}}``)."""

    name: str
    cls: str
    splits: dict[str, dict]
    where: str = ""


TORCHVISION_DATASETS = {d.name: d for d in [
    TorchvisionDataset("pets", "OxfordIIITPet", {"train": dict(split="trainval"), "test": dict(split="test")},
                       "Oxford-IIIT Pets (Parkhi et al. 2012): 37 breeds of cats and dogs"),
    TorchvisionDataset("flowers102", "Flowers102", {"train": dict(split="train"), "validation": dict(split="val"),
                                                    "test": dict(split="test")},
                       "Oxford Flowers-102 (Nilsback and Zisserman 2008): 102 kinds of flowers"),
]}


class _Decoded(torch.utils.data.Dataset):
    """A torchvision data set's images as uint8 tensors of one size (for a decoding DataLoader)."""

    def __init__(self, dataset, image_size: int) -> None:
        self.dataset, self.image_size = dataset, image_size

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        from torchvision.transforms.v2 import functional as TF

        image, label = self.dataset[i]
        image = TF.pil_to_tensor(image.convert("RGB"))
        image = TF.center_crop(TF.resize(image, self.image_size, antialias=True), [self.image_size] * 2)
        return image, label


def load_torchvision_dataset(name: str, split: str, image_size: int = 224, root: str | Path | None = None,
                             download: bool | None = None, workers: int | None = None) -> ImageTensors:
    """One split of a :data:`TORCHVISION_DATASETS` data set, downloaded by torchvision when missing,
    decoded by a DataLoader with ``workers`` processes into uint8 tensors of ``image_size`` pixels."""
    import torchvision.datasets

    spec = _spec(TORCHVISION_DATASETS, name, split)
    root = Path(root) if root is not None else data_root()
    key = (f"{root.resolve()}/{name}/{split}@{image_size}", True)
    if key in cache._LOADED:
        return cache._LOADED[key]
    if download is None:
        download = os.environ.get("COURSEKIT_DOWNLOAD", "1") != "0"
    cls = getattr(torchvision.datasets, spec.cls)
    try:
        dataset = cls(str(root), download=download, **spec.splits[split])
    except Exception as err:  # missing files, no network: say both fixes
        raise DataNotFoundError(
            f"{name} ({split}) could not be read from {root} ({type(err).__name__}: {err}).\n"
            f"Fix it: run with network and downloads on (COURSEKIT_DOWNLOAD unset or 1), so that "
            f"torchvision.datasets.{spec.cls}({str(root)!r}, download=True) fetches it, or point "
            f"COURSEKIT_DATA at a folder where torchvision has downloaded it before.") from err
    workers = min(8, os.cpu_count() or 1) if workers is None else workers
    loader = torch.utils.data.DataLoader(_Decoded(dataset, image_size), batch_size=64, num_workers=workers)
    images, labels = zip(*loader)
    x, y = torch.cat(images), torch.cat(labels)
    classes = tuple(getattr(dataset, "classes", None) or (str(c) for c in range(int(y.max()) + 1)))
    data = ImageTensors(x, y, classes, dict(kind="torchvision", path=str(root), images=len(y),
                                            fingerprint=fingerprint(x, y),
                                            description=f"{name} ({split}), {spec.where}, resized to {image_size} px"))
    cache._LOADED[key] = data
    return data


def load_dataset(name: str, split: str, image_size: int, **kwargs) -> ImageTensors:
    """A split of any named data set: ``cifar10`` (``train``/``test``, resized when ``image_size`` is
    not 32), ``mnist`` (likewise, one channel, 28 pixels), ``stanford_cars`` (``train``/``val``/``test``), a :data:`~coursekit.data.FOLDER_DATASETS` or a :data:`TORCHVISION_DATASETS` entry."""
    if name == "cifar10":
        if split not in ("train", "test"):
            raise KeyError(f"cifar10 has no split {split!r}; its splits: train, test")
        return resized(load_cifar10(train=split == "train", **kwargs), image_size)
    if name == "mnist":
        if split not in ("train", "test"):
            raise KeyError(f"mnist has no split {split!r}; its splits: train, test")
        return resized(load_mnist(train=split == "train", **kwargs), image_size)
    if name == "stanford_cars":
        return load_stanford_cars(split, image_size, **kwargs)
    if name in TORCHVISION_DATASETS:
        return load_torchvision_dataset(name, split, image_size, **kwargs)
    return load_folder_dataset(name, split, image_size, **kwargs)
