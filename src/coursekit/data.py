"""Data sets as in-memory uint8 tensors, and a loader that keeps them on the device.

CIFAR-10 is small enough (50,000 x 3 x 32 x 32 bytes = 154 MB) to live on the GPU as one
tensor. A batch is then cut, augmented and normalised there by a few tensor operations
(`coursekit.augment`), so a 2-core Colab VM does not hold training back with per-image
Python work. Where the images come from is recorded, because the offline copy used by CI (a
JPEG re-encoding) gives different numbers from the original.

Sources for CIFAR-10, in order, under ``$COURSEKIT_DATA`` (default ``~/.cache/coursekit``):

1. torchvision's files ``cifar-10-batches-py/`` (downloaded by torchvision when online);
2. an ``ImageFolder`` tree ``cifar10/{train,test}/<class>/*`` (the offline copy);
3. otherwise a download through torchvision; failing that, an error that names both places.
"""
from __future__ import annotations

import hashlib
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import torch

from . import augment

CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)
# Per-channel statistics of the CIFAR-10 training set (in [0, 1]), used to normalise batches.
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


# An augmentation applied to a whole batch on the device: (uint8 images, labels, generator) to
# (images as uint8 or float in [0, 1], labels or soft labels).
Augmentation = Callable[[torch.Tensor, torch.Tensor, torch.Generator], tuple[torch.Tensor, torch.Tensor]]


class DataNotFoundError(FileNotFoundError):
    """A data set is neither on disk nor downloadable; the message says how to fix it."""


@dataclass
class ImageTensors:
    """A labelled image data set held as one uint8 tensor ``images`` of shape (N, 3, H, W)."""

    images: torch.Tensor
    labels: torch.Tensor
    classes: tuple[str, ...]
    source: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.ndim != 4:
            raise ValueError(f"images must be a uint8 tensor (N, C, H, W), got {self.images.dtype} {tuple(self.images.shape)}")
        if len(self.images) != len(self.labels):
            raise ValueError(f"{len(self.images)} images but {len(self.labels)} labels")

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, indices: torch.Tensor, note: str = "") -> "ImageTensors":
        """The images at ``indices``; ``note`` is added to the provenance."""
        source = dict(self.source, images=len(indices))
        if note:
            source["subset"] = note
        return ImageTensors(self.images[indices], self.labels[indices], self.classes, source)


def data_root() -> Path:
    """Where data sets live: ``$COURSEKIT_DATA``, else ``~/.cache/coursekit``."""
    return Path(os.environ.get("COURSEKIT_DATA") or Path.home() / ".cache" / "coursekit").expanduser()


def fingerprint(images: torch.Tensor, labels: torch.Tensor) -> str:
    """A short content hash: tells the original CIFAR-10 from a re-encoded copy."""
    h = hashlib.sha256(labels.to(torch.int64).numpy().tobytes())
    h.update(images[:: max(1, len(images) // 256)].contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


# --- reading ------------------------------------------------------------------------------------

def read_image_folder(folder: str | Path, image_size: int | None = None,
                      classes: tuple[str, ...] | None = None) -> ImageTensors:
    """Decode an ``ImageFolder`` tree ``folder/<class>/*.jpg`` into uint8 tensors.

    Class folders are sorted alphabetically, as torchvision's ``ImageFolder`` does. Images are
    resized (shorter side, then centre crop) to ``image_size`` when given; otherwise all must have
    the same size. Files that are not images (e.g. a stray ``.gif``) are skipped.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataNotFoundError(f"no ImageFolder tree at {folder}")
    names = tuple(sorted(d.name for d in folder.iterdir() if d.is_dir()))
    if not names:
        raise DataNotFoundError(f"{folder} has no class folders; expected {folder}/<class>/<image>.jpg")
    if classes is not None and names != tuple(classes):
        raise ValueError(f"class folders in {folder} are {names}, expected {tuple(classes)}")
    files = [(path, label) for label, name in enumerate(names) for path in sorted((folder / name).iterdir())
             if path.suffix.lower() in IMAGE_SUFFIXES]
    if not files:
        raise DataNotFoundError(f"no images ({', '.join(IMAGE_SUFFIXES)}) under {folder}")
    return read_images(files, names, image_size, dict(kind="image-folder", path=str(folder)))


def read_images(files: list[tuple[Path, int]], classes: tuple[str, ...], image_size: int | None = None,
                source: dict | None = None) -> ImageTensors:
    """Decode ``(path, label)`` pairs into an :class:`ImageTensors` (resized as in :func:`read_image_folder`)."""
    from torchvision.io import ImageReadMode, decode_image, read_file
    from torchvision.transforms.v2 import functional as TF

    images = []
    with warnings.catch_warnings():
        # torchvision 0.29 deprecates its decoders in favour of TorchCodec; they still work, and
        # warning once per image would flood the output.
        warnings.simplefilter("ignore", DeprecationWarning)
        for path, _ in files:
            img = decode_image(read_file(str(path)), mode=ImageReadMode.RGB)
            if image_size is not None and tuple(img.shape[-2:]) != (image_size, image_size):
                img = TF.center_crop(TF.resize(img, image_size, antialias=True), [image_size, image_size])
            images.append(img)
    sizes = {tuple(i.shape) for i in images}
    if len(sizes) > 1:
        where = Path(files[0][0]).parent.parent
        raise ValueError(f"images under {where} have different sizes {sorted(sizes)[:3]}...; pass image_size=")
    x, y = torch.stack(images), torch.tensor([label for _, label in files])
    return ImageTensors(x, y, tuple(classes), dict(source or {}, images=len(y), fingerprint=fingerprint(x, y)))


def _from_torchvision_cifar10(root: Path, train: bool, download: bool) -> ImageTensors:
    from torchvision.datasets import CIFAR10

    ds = CIFAR10(str(root), train=train, download=download)
    x = torch.from_numpy(ds.data).permute(0, 3, 1, 2).contiguous()
    y = torch.tensor(ds.targets)
    return ImageTensors(x, y, tuple(ds.classes), dict(
        kind="torchvision", description="original CIFAR-10 (torchvision python batches)",
        path=str(root / CIFAR10.base_folder), images=len(y), fingerprint=fingerprint(x, y)))


_LOADED: dict[tuple[str, bool], ImageTensors] = {}


def load_cifar10(train: bool = True, root: str | Path | None = None,
                 download: bool | None = None) -> ImageTensors:
    """CIFAR-10's training (``train=True``) or test set as uint8 tensors, with provenance.

    ``download`` defaults to ``$COURSEKIT_DOWNLOAD`` (``1`` unless set to ``0``). A set once read
    is kept in memory for the rest of the process; treat the tensors as read-only.
    """
    root = Path(root) if root is not None else data_root()
    key = (str(root.resolve()), train)
    if key not in _LOADED:
        _LOADED[key] = _read_cifar10(train, root, download)
    return _LOADED[key]


def _read_cifar10(train: bool, root: Path, download: bool | None) -> ImageTensors:
    from torchvision.datasets import CIFAR10

    split = "train" if train else "test"
    torchvision_dir = root / CIFAR10.base_folder
    folder = root / "cifar10" / split
    if torchvision_dir.is_dir():
        return _from_torchvision_cifar10(root, train, download=False)
    if folder.is_dir():
        data = read_image_folder(folder, classes=CIFAR10_CLASSES)
        data.source["description"] = f"ImageFolder copy of CIFAR-10 ({split})"
        return data
    if download is None:
        download = os.environ.get("COURSEKIT_DOWNLOAD", "1") != "0"
    problem = "downloading is switched off (download=False or COURSEKIT_DOWNLOAD=0)"
    if download:
        try:
            return _from_torchvision_cifar10(root, train, download=True)
        except Exception as err:  # no network, a proxy, a full disk: say what happened
            problem = f"the download failed: {type(err).__name__}: {err}"
    raise DataNotFoundError(
        f"CIFAR-10 ({split}) was not found, and {problem}.\n"
        f"Looked for:\n"
        f"  1. torchvision's files in {torchvision_dir}\n"
        f"  2. an ImageFolder tree in {folder}/<class>/*.jpg\n"
        f"Fix it in one of two ways:\n"
        f"  - with network: run `coursekit data` (or load again with download=True) to download it into {root};\n"
        f"  - offline: unpack a copy so that {folder}/airplane/... exists, or point COURSEKIT_DATA at the folder that holds it."
    )


# --- other labelled image folders (targets of transfer learning, few-shot episodes) -------------

@dataclass(frozen=True)
class FolderDataset:
    """A labelled image data set kept as ``ImageFolder`` trees under ``$COURSEKIT_DATA/<folder>``.

    ``splits`` maps a split's name to its sub-folder. ``url`` is the archive users download (it
    unpacks to ``extracted``, which is renamed to ``folder``); ``None`` where no stable address exists.
    ``torchvision`` names a torchvision data set class that downloads it instead.

    Data sets that come as one tree of class folders (``images``) instead of one tree per split
    name each split by a list file ``<folder>/<split>.txt`` of ``<class>/<file>`` lines; where the
    lists are missing, :func:`split_lists` draws them once (seeded, so every machine draws the same).
    """

    name: str
    folder: str
    splits: dict[str, str]
    url: str | None = None
    extracted: str | None = None
    where: str = ""
    torchvision: str | None = None
    images: str | None = None
    exclude: tuple[str, ...] = ()


FOLDER_DATASETS = {d.name: d for d in [
    FolderDataset("hymenoptera", "hymenoptera_data", {"train": "train", "test": "val"},
                  url="https://download.pytorch.org/tutorial/hymenoptera_data.zip", extracted="hymenoptera_data",
                  where="the data of PyTorch's transfer-learning tutorial (ants and bees, from ImageNet)"),
    FolderDataset("clothing-small", "clothing-small", {"train": "train", "validation": "validation", "test": "test"},
                  url="https://github.com/alexeygrigorev/clothing-dataset-small/archive/refs/heads/master.zip",
                  extracted="clothing-dataset-small-master",
                  where="the public repository alexeygrigorev/clothing-dataset-small (CC0)"),
    FolderDataset("pacs", "pacs", {d: d for d in ("photo", "art_painting", "cartoon", "sketch")},
                  where="the PACS authors' release (Li et al. 2017), also mirrored on model hubs"),
    # torchvision's Caltech101 downloads to <root>/caltech101/101_ObjectCategories and, as here,
    # leaves out the clutter class BACKGROUND_Google: 101 object classes.
    FolderDataset("caltech101", "caltech101", {"train": "train.txt", "test": "test.txt"},
                  torchvision="Caltech101", images="101_ObjectCategories", exclude=("BACKGROUND_Google",),
                  where="Caltech-101 (Fei-Fei et al. 2004), through torchvision.datasets.Caltech101"),
]}


def _fetch(dataset: FolderDataset, root: Path) -> None:
    """Download and unpack ``dataset`` into ``root`` (torchvision's downloader: progress bar, retries)."""
    import torchvision.datasets
    from torchvision.datasets.utils import download_and_extract_archive

    if dataset.torchvision:
        getattr(torchvision.datasets, dataset.torchvision)(str(root), download=True)
        return
    download_and_extract_archive(dataset.url, download_root=str(root), extract_root=str(root),
                                 remove_finished=True)
    if dataset.extracted and dataset.extracted != dataset.folder:
        os.replace(root / dataset.extracted, root / dataset.folder)


def split_lists(images: Path, classes: tuple[str, ...], train_fraction: float = 2 / 3,
                seed: int = 0) -> dict[str, list[str]]:
    """A seeded per-class split of the files under ``images/<class>/``: ``train_fraction`` of each
    class (rounded) for training, the rest for testing, as ``<class>/<file>`` lines."""
    g = torch.Generator().manual_seed(seed)
    lists: dict[str, list[str]] = {"train": [], "test": []}
    for name in classes:
        files = sorted(p.name for p in (images / name).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        order = torch.randperm(len(files), generator=g).tolist()
        cut = round(train_fraction * len(files))
        lists["train"] += sorted(f"{name}/{files[i]}" for i in order[:cut])
        lists["test"] += sorted(f"{name}/{files[i]}" for i in order[cut:])
    return lists


def _listed_split(dataset: FolderDataset, base: Path, split: str) -> tuple[list[tuple[Path, int]], tuple[str, ...], str]:
    """The files of ``split`` of a list-file data set, its classes and where the split came from."""
    images = base / dataset.images
    classes = tuple(sorted(d.name for d in images.iterdir() if d.is_dir() and d.name not in dataset.exclude))
    list_file = base / dataset.splits[split]
    how = f"the split listed in {list_file.name}"
    if not list_file.is_file():
        for name, lines in split_lists(images, classes).items():
            target = base / dataset.splits[name]
            tmp = target.with_name(target.name + ".tmp")
            tmp.write_text("\n".join(lines) + "\n")
            os.replace(tmp, target)
        how = f"coursekit's seeded 2/3 : 1/3 split per class, written to {list_file.name}"
    index = {name: label for label, name in enumerate(classes)}
    lines = [line.strip() for line in list_file.read_text().splitlines() if line.strip()]
    files = [(images / line, index[line.split("/")[0]]) for line in lines if line.split("/")[0] in index]
    return files, classes, how


def _spec(table: dict, name: str, split: str):
    """The entry ``name`` of a table of data sets, after checking it has ``split``."""
    if name not in table:
        raise KeyError(f"unknown data set {name!r}; known: {', '.join(table)}")
    if split not in table[name].splits:
        raise KeyError(f"{name} has no split {split!r}; its splits: {', '.join(table[name].splits)}")
    return table[name]


def load_folder_dataset(name: str, split: str, image_size: int = 64, root: str | Path | None = None,
                        download: bool | None = None) -> ImageTensors:
    """One split of a :data:`FOLDER_DATASETS` data set as uint8 tensors of ``image_size`` pixels.

    Images are resized (shorter side) and centre-cropped. The set is downloaded when missing and a
    download address exists (``download`` defaults to ``$COURSEKIT_DOWNLOAD``, on unless ``0``).
    """
    dataset = _spec(FOLDER_DATASETS, name, split)
    root = Path(root) if root is not None else data_root()
    base = root / dataset.folder
    folder = base / dataset.images if dataset.images else base / dataset.splits[split]
    key = (f"{root.resolve()}/{name}/{split}@{image_size}", True)
    if key in _LOADED:
        return _LOADED[key]
    if download is None:
        download = os.environ.get("COURSEKIT_DOWNLOAD", "1") != "0"
    problem = "downloading is switched off (download=False or COURSEKIT_DOWNLOAD=0)"
    downloadable = dataset.url or dataset.torchvision
    if not folder.is_dir() and not downloadable:
        problem = "it has no download address that coursekit could use"
    elif not folder.is_dir() and download:
        try:
            _fetch(dataset, root)
        except Exception as err:  # no network, a moved file, a full disk: say what happened
            problem = f"the download failed: {type(err).__name__}: {err}"
    if not folder.is_dir():
        source = (f"download it with torchvision.datasets.{dataset.torchvision}(root, download=True)" if dataset.torchvision
                  else f"download it from {dataset.url}" if dataset.url else f"get it from {dataset.where}")
        layout = f"{folder}/<class>/*.jpg" if dataset.images else f"{base}/{dataset.splits[split]}/<class>/*.jpg"
        raise DataNotFoundError(
            f"{name} ({split}) was not found in {folder}, and {problem}.\n"
            f"Fix it: {source} and unpack it so that {layout} "
            f"exists, or point COURSEKIT_DATA at the folder that holds {dataset.folder}/.")
    if dataset.images:
        files, classes, how = _listed_split(dataset, base, split)
        data = read_images(files, classes, image_size, dict(kind="image-folder", path=str(folder), split=how))
    else:
        data = read_image_folder(folder, image_size=image_size)
    data.source["description"] = f"{name} ({split}), {dataset.where}, resized to {image_size} px"
    _LOADED[key] = data
    return data


# --- data sets that torchvision downloads and reads (the `full` profile's transfer targets) -------

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
    if key in _LOADED:
        return _LOADED[key]
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
    _LOADED[key] = data
    return data


def resized(data: ImageTensors, image_size: int, chunk: int = 2048) -> ImageTensors:
    """``data`` with every image resized to ``image_size`` pixels (bilinear, antialiased), in chunks."""
    import torch.nn.functional as F

    if tuple(data.images.shape[-2:]) == (image_size, image_size):
        return data
    parts = [F.interpolate(data.images[i:i + chunk].float(), size=(image_size, image_size), mode="bilinear",
                           antialias=True, align_corners=False).round().clamp(0, 255).to(torch.uint8)
             for i in range(0, len(data), chunk)]
    return ImageTensors(torch.cat(parts), data.labels, data.classes,
                        dict(data.source, resized=f"to {image_size} px"))


def load_dataset(name: str, split: str, image_size: int, **kwargs) -> ImageTensors:
    """A split of any named data set: ``cifar10`` (``train``/``test``, resized when ``image_size`` is
    not 32), a :data:`FOLDER_DATASETS` or a :data:`TORCHVISION_DATASETS` entry."""
    if name == "cifar10":
        if split not in ("train", "test"):
            raise KeyError(f"cifar10 has no split {split!r}; its splits: train, test")
        return resized(load_cifar10(train=split == "train", **kwargs), image_size)
    if name in TORCHVISION_DATASETS:
        return load_torchvision_dataset(name, split, image_size, **kwargs)
    return load_folder_dataset(name, split, image_size, **kwargs)


def stratified_indices(labels: torch.Tensor, per_class: int | None, seed: int = 0,
                       at_most: bool = False) -> torch.Tensor:
    """``per_class`` indices of each class, drawn without replacement by a seeded generator.

    The same labels, ``per_class`` and seed give the same indices on every machine. ``None`` keeps
    every index (in order). A class with fewer images is an error, unless ``at_most`` (then it
    gives all it has).
    """
    if per_class is None:
        return torch.arange(len(labels))
    g = torch.Generator().manual_seed(seed)
    chosen = []
    for c in labels.unique(sorted=True):
        idx = (labels == c).nonzero().flatten()
        if per_class > len(idx) and not at_most:
            raise ValueError(f"class {int(c)} has {len(idx)} images, fewer than per_class={per_class}")
        chosen.append(idx[torch.randperm(len(idx), generator=g)[:per_class]])
    return torch.cat(chosen).sort().values


def stratified_subset(data: ImageTensors, per_class: int | None, seed: int = 0) -> ImageTensors:
    """A deterministic class-balanced subset with ``per_class`` images per class."""
    if per_class is None:
        return data
    idx = stratified_indices(data.labels, per_class, seed)
    return data.subset(idx, note=f"{per_class} per class, seed {seed}")


# --- loading batches on the device --------------------------------------------------------------

class DeviceLoader:
    """Batches of an :class:`ImageTensors` data set, cut and augmented on ``device``.

    The whole data set is moved to the device once, as uint8. Each batch is then indexed,
    augmented (random crop with ``pad`` pixels of padding and horizontal flips, per sample, then
    the optional ``augmentation``, a function ``(images, labels, generator) -> (images, labels)``
    such as :func:`coursekit.augment.pipeline` builds), converted to float and normalised by
    ``mean``/``std`` there. Shuffling and augmentation draw from generators seeded by ``(seed, epoch, batch)``, so a batch is the same whether or not the
    batches before it were produced: resuming mid-epoch reproduces the uninterrupted run.
    """

    def __init__(self, data: ImageTensors, batch_size: int, *, train: bool,
                 device: torch.device | str = "cpu", crop_padding: int = 4, flip: bool = True,
                 mean: tuple[float, ...] = CIFAR10_MEAN, std: tuple[float, ...] = CIFAR10_STD,
                 seed: int = 0, drop_last: bool | None = None,
                 channels_last: bool = False, augmentation: Augmentation | None = None) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.device = torch.device(device)
        self.images = data.images.to(self.device)
        self.labels = data.labels.to(self.device)
        self.classes = data.classes
        self.source = data.source
        self.batch_size = batch_size
        self.train = train
        self.crop_padding = crop_padding if train else 0
        self.flip = flip and train
        self.mean = torch.tensor(mean, device=self.device).view(1, -1, 1, 1) * 255
        self.std = torch.tensor(std, device=self.device).view(1, -1, 1, 1) * 255
        self.seed = seed
        self.epoch = 0
        self.drop_last = train if drop_last is None else drop_last
        self.channels_last = channels_last
        self.augmentation = augmentation if train else None

    def __len__(self) -> int:
        n = len(self.labels)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    @property
    def num_images(self) -> int:
        return len(self) * self.batch_size if self.drop_last else len(self.labels)

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose shuffle and augmentations the next iteration produces."""
        self.epoch = epoch

    def _generator(self, *key: int) -> torch.Generator:
        g = torch.Generator(device="cpu")
        g.manual_seed(hash((self.seed, self.epoch) + key) & 0x7FFF_FFFF_FFFF_FFFF)
        return g

    def order(self) -> torch.Tensor:
        """The index order of the current epoch (shuffled when training)."""
        n = len(self.labels)
        if not self.train:
            return torch.arange(n, device=self.device)
        return torch.randperm(n, generator=self._generator(-1)).to(self.device)

    def batch(self, indices: torch.Tensor, step: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """The augmented, normalised float batch at ``indices``, and its labels (soft labels, (N, C),
        where the ``augmentation`` mixes images)."""
        x = self.images[indices]
        if self.train:
            g = self._generator(step)
            if self.crop_padding:
                x = augment.random_crop(x, self.crop_padding, generator=g)
            if self.flip:
                x = augment.random_flip(x, generator=g)
        y = self.labels[indices]
        if self.augmentation is not None:
            x, y = self.augmentation(x, y, g)
        x = ((x.float() if x.dtype == torch.uint8 else 255 * x) - self.mean) / self.std
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x, y

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        order = self.order()
        for step in range(len(self)):
            yield self.batch(order[step * self.batch_size:(step + 1) * self.batch_size], step)


def image_folder_loader(folder: str | Path, image_size: int = 224, batch_size: int = 64, *,
                        train: bool, workers: int | None = None) -> torch.utils.data.DataLoader:
    """A torchvision ``ImageFolder`` DataLoader with workers, for large images (e.g. 224 px).

    Training applies a random resized crop and a flip; evaluation resizes and centre-crops.
    Images are normalised with ImageNet's statistics, as pretrained networks expect.
    """
    from torchvision import datasets
    from torchvision.transforms import v2 as T

    folder = Path(folder)
    if not folder.is_dir():
        raise DataNotFoundError(f"no ImageFolder tree at {folder}; expected {folder}/<class>/<image>.jpg")
    imagenet = dict(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))
    if train:
        geometry = [T.RandomResizedCrop(image_size, antialias=True), T.RandomHorizontalFlip()]
    else:
        geometry = [T.Resize(int(image_size * 8 / 7), antialias=True), T.CenterCrop(image_size)]
    transform = T.Compose([T.ToImage(), *geometry, T.ToDtype(torch.float32, scale=True), T.Normalize(**imagenet)])
    ds = datasets.ImageFolder(str(folder), transform=transform,
                              is_valid_file=lambda p: Path(p).suffix.lower() in IMAGE_SUFFIXES)
    workers = min(8, os.cpu_count() or 1) if workers is None else workers
    return torch.utils.data.DataLoader(ds, batch_size=batch_size, shuffle=train, num_workers=workers,
                                       pin_memory=torch.cuda.is_available(), drop_last=train,
                                       persistent_workers=workers > 0)

