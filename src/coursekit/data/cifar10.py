"""CIFAR-10 (Krizhevsky 2009) as uint8 tensors, from torchvision's files or an offline ``ImageFolder`` copy.

Sources, in order, under ``$COURSEKIT_DATA`` (default ``~/.cache/coursekit``):

1. torchvision's files ``cifar-10-batches-py/`` (downloaded by torchvision when online);
2. an ``ImageFolder`` tree ``cifar10/{train,test}/<class>/*`` (the offline copy);
3. otherwise a download through torchvision; failing that, an error that names both places.

Where the images come from is recorded, because the offline copy used by CI (a JPEG
re-encoding) gives different numbers from the original.
"""
from __future__ import annotations

from pathlib import Path

import torch

from . import cache, decode
from .tensors import ImageTensors, data_root, download_or_explain, fingerprint

CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)
# Per-channel statistics of the CIFAR-10 training set (in [0, 1]), used to normalise batches.
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
TORCHVISION_FOLDER = "cifar-10-batches-py"  # torchvision.datasets.CIFAR10.base_folder


def load_cifar10(train: bool = True, root: str | Path | None = None,
                 download: bool | None = None) -> ImageTensors:
    """CIFAR-10's training (``train=True``) or test set as uint8 tensors, with provenance.

    ``download`` defaults to ``$COURSEKIT_DOWNLOAD`` (``1`` unless set to ``0``). A set once read
    is kept in memory for the rest of the process (treat the tensors as read-only), and decoded
    images on disk for the next process (:mod:`coursekit.data.cache`).
    """
    root = Path(root) if root is not None else data_root()
    key = (str(root.resolve()), train)
    if key not in cache._LOADED:
        cache._LOADED[key] = _read_cifar10(train, root, download)
    return cache._LOADED[key]


def _from_torchvision_cifar10(root: Path, train: bool, download: bool) -> ImageTensors:
    from torchvision.datasets import CIFAR10

    ds = CIFAR10(str(root), train=train, download=download)
    x = torch.from_numpy(ds.data).permute(0, 3, 1, 2).contiguous()
    y = torch.tensor(ds.targets)
    return ImageTensors(x, y, tuple(ds.classes), dict(
        kind="torchvision", description="original CIFAR-10 (torchvision python batches)",
        path=str(root / CIFAR10.base_folder), images=len(y), fingerprint=fingerprint(x, y)))


def missing_batches(folder: Path) -> list[str]:
    """The files of torchvision's CIFAR-10 that ``folder`` lacks (all of them when it is not there): a
    folder left by an interrupted extraction is not a copy to read."""
    from torchvision.datasets import CIFAR10

    needed = [name for name, _ in CIFAR10.train_list + CIFAR10.test_list] + [CIFAR10.meta["filename"]]
    return [name for name in needed if not (folder / name).is_file()]


def _read_cifar10(train: bool, root: Path, download: bool | None) -> ImageTensors:
    split = "train" if train else "test"
    torchvision_dir = root / TORCHVISION_FOLDER
    folder = root / "cifar10" / split
    lacking = missing_batches(torchvision_dir)
    if not lacking:
        batches = cache.stats(sorted(p for p in torchvision_dir.iterdir() if p.is_file()), torchvision_dir)
        return cache.cached(root, f"cifar10-{split}", dict(kind="torchvision", train=train, files=batches),
                            lambda: _from_torchvision_cifar10(root, train, download=False))
    if folder.is_dir():
        files, names = decode.image_folder_files(folder, classes=CIFAR10_CLASSES)
        source = dict(kind="image-folder", path=str(folder))
        key = dict(source, classes=names, files=cache.stats((p for p, _ in files), folder))
        data = cache.cached(root, f"cifar10-{split}", key, lambda: decode.read_images(files, names, None, source))
        data.source["description"] = f"ImageFolder copy of CIFAR-10 ({split})"
        return data
    return download_or_explain(
        f"CIFAR-10 ({split})", root, download, lambda: _from_torchvision_cifar10(root, train, download=True),
        [f"torchvision's files in {torchvision_dir}" + (
            f" (the folder is there but incomplete, without {', '.join(lacking)}: delete it, or let the download "
            "replace it)" if torchvision_dir.is_dir() else ""),
         f"an ImageFolder tree in {folder}/<class>/*.jpg"],
        f"unpack a copy so that {folder}/airplane/... exists")
