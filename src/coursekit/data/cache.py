"""Decoded data sets kept on disk, and in memory for the rest of a process.

Decoding the 60,000 JPEGs of the offline CIFAR-10 takes seconds that every process would pay
again. The decoded uint8 tensors are therefore saved once under ``$COURSEKIT_CACHE/decoded/``
(one file per data set, split and image size), keyed by a hash of what determines them: the
names, sizes and modification times of the source files (read without decoding), the decoding
parameters, the provenance and the decoder's version. A changed source gets a new key and is
decoded anew; an unreadable cache file is decoded anew and rewritten. ``COURSEKIT_DATA_CACHE=0``
switches the disk cache off.
"""
from __future__ import annotations

import hashlib
import json
import os
import warnings
from importlib import metadata
from pathlib import Path
from typing import Callable, Iterable

import torch

from .. import files
from .tensors import ImageTensors, cache_root

FORMAT = 2  # raise when the layout of a cache file or the decoding changes (2: fingerprints of every image)

# Data sets already read in this process, by (root, name, split and size): treat them as read-only.
_LOADED: dict[tuple[str, bool], ImageTensors] = {}


def enabled() -> bool:
    """Whether decoded data sets are kept on disk (``COURSEKIT_DATA_CACHE``, on unless ``0``)."""
    return os.environ.get("COURSEKIT_DATA_CACHE", "1") != "0"


def folder(root: Path) -> Path:
    """Where the decoded data sets of the data folder ``root`` are kept: under ``$COURSEKIT_CACHE/decoded``,
    one folder per data folder, never in the data folder itself (it may be a lab's read-only copy)."""
    return cache_root() / "decoded" / hashlib.sha256(str(Path(root).resolve()).encode()).hexdigest()[:12]


def stats(paths: Iterable[str | Path], base: Path) -> list[tuple[str, int, int]]:
    """``(name relative to base, size, modification time in ns)`` of each file under ``base``:
    cheap to read (no decoding), and changed by any edit, copy or replacement of a file."""
    prefix = len(os.path.join(base, ""))
    out = []
    for path in map(os.fspath, paths):
        st = os.stat(path)
        out.append((path[prefix:], st.st_size, st.st_mtime_ns))
    return out


def _key_digest(key: dict) -> str:
    try:
        decoder = metadata.version("torchvision")
    except metadata.PackageNotFoundError:
        decoder = "unknown"
    text = json.dumps(dict(key, format=FORMAT, torchvision=decoder), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _read(path: Path, digest: str) -> ImageTensors | None:
    """The data set stored at ``path`` if it is complete and made from the same key, else ``None``."""
    try:
        stored = torch.load(path, map_location="cpu", weights_only=True)
        if stored["key"] != digest:
            return None
        return ImageTensors(stored["images"], stored["labels"], tuple(stored["classes"]), dict(stored["source"]))
    except FileNotFoundError:
        return None
    except Exception as err:  # a truncated, corrupt or foreign file: decode again and replace it
        warnings.warn(f"the decoded data in {path} could not be read ({type(err).__name__}: {err}); decoding again")
        return None


def cached(root: Path, name: str, key: dict, decode: Callable[[], ImageTensors]) -> ImageTensors:
    """``decode()``, or what it returned before for the same ``key``, stored under the data ``root``.

    ``name`` names the file (data set, split, size); ``key`` must hold everything the result
    depends on (the source files' :func:`stats`, decoding parameters, the provenance to record).
    """
    if not enabled():
        return decode()
    digest = _key_digest(key)
    path = folder(root) / f"{name}-{digest[:16]}.pt"
    data = _read(path, digest)
    if data is not None:
        return data
    data = decode()
    stored = dict(key=digest, images=data.images.contiguous(), labels=data.labels, classes=list(data.classes),
                  source=dict(data.source))
    try:
        files.torch_save(stored, path)
        for old in path.parent.glob(f"{name}-*.pt"):  # the same data set made from an older source
            if old != path:
                old.unlink(missing_ok=True)
    except OSError as err:  # a read-only data root: work without the cache
        warnings.warn(f"could not keep the decoded data in {path} ({type(err).__name__}: {err})")
    return data
