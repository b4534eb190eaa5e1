"""MNIST (LeCun et al. 1998) as one-channel uint8 tensors, from torchvision's files or an offline
``ImageFolder`` copy.

Sources, in order, under ``$COURSEKIT_DATA`` (default ``~/.cache/coursekit``):

1. torchvision's files ``MNIST/raw/`` (downloaded by torchvision when online);
2. an ``ImageFolder`` tree ``mnist/{train,test}/<digit>/*.png`` (the offline copy: the same pixels,
   losslessly, since PNG is lossless);
3. otherwise a download through torchvision; failing that, an error that names both places.

The digits are grey: they stay one channel, (N, 1, 28, 28), white ink on black.
"""
from __future__ import annotations

from pathlib import Path

import torch

from . import cache, decode
from .tensors import ImageTensors, data_root, download_or_explain, fingerprint

MNIST_CLASSES = tuple(str(d) for d in range(10))
# Mean and standard deviation of the training set's pixels (in [0, 1]), used to normalise batches.
MNIST_MEAN = (0.1307,)
MNIST_STD = (0.3081,)
TORCHVISION_FOLDER = "MNIST"  # torchvision.datasets.MNIST keeps its files in <root>/MNIST/raw


def load_mnist(train: bool = True, root: str | Path | None = None, download: bool | None = None) -> ImageTensors:
    """MNIST's training (``train=True``, 60,000 digits) or test set (10,000) as uint8 tensors (N, 1, 28, 28).

    ``download`` defaults to ``$COURSEKIT_DOWNLOAD`` (``1`` unless set to ``0``). A set once read is kept
    in memory for the rest of the process (treat the tensors as read-only), and decoded on disk.
    """
    root = Path(root) if root is not None else data_root()
    key = (f"{root.resolve()}/mnist", train)
    if key not in cache._LOADED:
        cache._LOADED[key] = _read_mnist(train, root, download)
    return cache._LOADED[key]


def _from_torchvision_mnist(root: Path, train: bool, download: bool) -> ImageTensors:
    from torchvision.datasets import MNIST

    ds = MNIST(str(root), train=train, download=download)
    x, y = ds.data.unsqueeze(1).contiguous(), ds.targets.clone()
    return ImageTensors(x, y, MNIST_CLASSES, dict(
        kind="torchvision", description=f"original MNIST ({'train' if train else 'test'}, torchvision's files)",
        path=str(root / TORCHVISION_FOLDER), images=len(y), fingerprint=fingerprint(x, y)))


# The four files torchvision's MNIST reads from <root>/MNIST/raw, unpacked.
RAW_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def missing_raw_files(raw: Path) -> list[str]:
    """The files of torchvision's MNIST that ``raw`` lacks (all of them when it is not there): a folder
    left by an interrupted extraction is not a copy to read."""
    return [name for name in RAW_FILES if not (raw / name).is_file()]


def _read_mnist(train: bool, root: Path, download: bool | None) -> ImageTensors:
    split = "train" if train else "test"
    raw = root / TORCHVISION_FOLDER / "raw"
    folder = root / "mnist" / split
    lacking = missing_raw_files(raw)
    if not lacking:
        return _from_torchvision_mnist(root, train, download=False)
    if folder.is_dir():
        files, names = decode.image_folder_files(folder, classes=MNIST_CLASSES)
        source = dict(kind="image-folder", path=str(folder))
        key = dict(source, classes=names, grey=True, files=cache.stats((p for p, _ in files), folder))
        data = cache.cached(root, f"mnist-{split}", key, lambda: decode.read_images(files, names, None, source, grey=True))
        data.source.update(description=f"PNG copy of MNIST ({split}; lossless: the original pixels)", lossless=True)
        return data
    return download_or_explain(
        f"MNIST ({split})", root, download, lambda: _from_torchvision_mnist(root, train, download=True),
        [f"torchvision's files in {raw}" + (
            f" (the folder is there but incomplete, without {', '.join(lacking)}: delete it, or let the download "
            "replace it)" if raw.is_dir() else ""),
         f"an ImageFolder tree in {folder}/<digit>/*.png"],
        f"unpack a copy so that {folder}/0/... exists")


def padded(data: ImageTensors, pixels: int = 2) -> ImageTensors:
    """``data`` with ``pixels`` of black border on every side: MNIST's 28x28 digits in the 32x32 field
    that LeNet-5 reads (LeCun et al. 1998: so that stroke ends and corners can appear at the centre of the
    receptive fields of the highest-level feature detectors)."""
    x = torch.nn.functional.pad(data.images, (pixels,) * 4)
    return ImageTensors(x, data.labels, data.classes, dict(data.source, padded=f"{pixels} px of black border"))
