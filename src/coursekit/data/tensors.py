"""A labelled image data set as one uint8 tensor, with its provenance: the type, its content
fingerprint, class-balanced subsets and resizing."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch

# An augmentation applied to a whole batch on the device: (uint8 images, labels, generator) to
# (images as uint8 or float in [0, 1], labels or soft labels).
Augmentation = Callable[[torch.Tensor, torch.Tensor, torch.Generator], tuple[torch.Tensor, torch.Tensor]]


class DataNotFoundError(FileNotFoundError):
    """A data set is neither on disk nor downloadable; the message says how to fix it."""


class BadDataError(ValueError):
    """A data set on disk is damaged or inconsistent (an image that does not decode, an empty class
    folder, a class missing from a split); the message names the files and says how to fix it."""


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


def download_or_explain(what: str, root: Path, download: bool | None, fetch: Callable[[], "ImageTensors"],
                        looked_for: list[str], offline_fix: str) -> "ImageTensors":
    """``fetch()`` (a download) when downloads are on (``download``, default ``$COURSEKIT_DOWNLOAD``: on unless
    ``0``); when they are off or the download fails, a :class:`DataNotFoundError` that says what was looked
    for (``looked_for``), what happened, and the two ways to fix it."""
    if download is None:
        download = os.environ.get("COURSEKIT_DOWNLOAD", "1") != "0"
    problem = "downloading is switched off (download=False or COURSEKIT_DOWNLOAD=0)"
    if download:
        try:
            return fetch()
        except Exception as err:  # no network, a proxy, a full disk: say what happened
            problem = f"the download failed: {type(err).__name__}: {err}"
    places = "\n".join(f"  {i}. {place}" for i, place in enumerate(looked_for, 1))
    raise DataNotFoundError(
        f"{what} was not found, and {problem}.\nLooked for:\n{places}\nFix it in one of two ways:\n"
        f"  - with network: run `coursekit data` (or load again with download=True) to download it into {root};\n"
        f"  - offline: {offline_fix}, or point COURSEKIT_DATA at the folder that holds it.")


def data_root() -> Path:
    """Where data sets live: ``$COURSEKIT_DATA``, else ``~/.cache/coursekit``."""
    return Path(os.environ.get("COURSEKIT_DATA") or Path.home() / ".cache" / "coursekit").expanduser()


def cache_root() -> Path:
    """Where coursekit keeps what it computes besides results: feature caches and training checkpoints.
    ``$COURSEKIT_CACHE``, else ``~/.cache/coursekit-cache``: never the data folder, which may be a
    read-only copy shared by a lab."""
    return Path(os.environ.get("COURSEKIT_CACHE") or Path.home() / ".cache" / "coursekit-cache").expanduser()


def fingerprint(images: torch.Tensor, labels: torch.Tensor) -> str:
    """A short hash of every pixel and label: tells the original CIFAR-10 from a re-encoded copy, and a
    data set from the same one with a single image replaced (what caches of features are keyed on)."""
    h = hashlib.sha256(labels.to(torch.int64).numpy().tobytes())
    h.update(images.contiguous().numpy().data)  # the whole buffer, without a copy
    return h.hexdigest()[:16]


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


def carve(labels: list[int], shares: dict[str, float], seed: int = 0) -> dict[str, list[int]]:
    """Indices of ``labels`` split per class, seeded: each share of ``shares`` (rounded, at least one image
    a class) carved off each class in turn, the rest for ``"train"``. The same labels, shares and seed give
    the same split on every machine."""
    g = torch.Generator().manual_seed(seed)
    out: dict[str, list[int]] = {name: [] for name in ("train", *shares)}
    by_class: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        by_class.setdefault(label, []).append(i)
    for label in sorted(by_class):
        members = by_class[label]
        order = [members[i] for i in torch.randperm(len(members), generator=g).tolist()]
        start = 0
        for name, share in shares.items():
            n = max(1, round(share * len(members)))
            out[name] += order[start:start + n]
            start += n
        if start >= len(members):
            raise ValueError(f"class {label} has {len(members)} images, too few for shares {shares} and training")
        out["train"] += order[start:]
    return {name: sorted(idx) for name, idx in out.items()}


def stratified_subset(data: ImageTensors, per_class: int | None, seed: int = 0) -> ImageTensors:
    """A deterministic class-balanced subset with ``per_class`` images per class."""
    if per_class is None:
        return data
    idx = stratified_indices(data.labels, per_class, seed)
    return data.subset(idx, note=f"{per_class} per class, seed {seed}")


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
