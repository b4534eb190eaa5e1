"""Labelled image folders (targets of transfer learning, few-shot episodes): where each data set
lives, how it is split and downloaded, and its splits as uint8 tensors of one size."""
from __future__ import annotations

import contextlib
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch

from .. import files as disk
from ..profiles import show_progress
from . import cache, decode
from .decode import IMAGE_SUFFIXES
from .tensors import BadDataError, DataNotFoundError, ImageTensors, data_root


@dataclass(frozen=True)
class Mirror:
    """A pinned copy of a data set: its address at a fixed revision, its size in bytes and sha256 (checked
    before anything is unpacked), and how it unpacks (a function of :data:`UNPACK`)."""

    url: str
    sha256: str
    size: int
    unpack: str


@dataclass(frozen=True)
class FolderDataset:
    """A labelled image data set kept as ``ImageFolder`` trees under ``$COURSEKIT_DATA/<folder>``.

    ``splits`` maps a split's name to its sub-folder. ``url`` is the archive users download (it
    unpacks to ``extracted``, which is renamed to ``folder``); ``None`` where no stable address exists.
    ``mirror`` is a pinned copy (address at a fixed revision, sha256) used instead where the original's
    address is not stable.

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
    images: str | None = None
    exclude: tuple[str, ...] = ()
    mirror: Mirror | None = None


FOLDER_DATASETS = {d.name: d for d in [
    FolderDataset("hymenoptera", "hymenoptera_data", {"train": "train", "test": "val"},
                  url="https://download.pytorch.org/tutorial/hymenoptera_data.zip", extracted="hymenoptera_data",
                  where="the data of PyTorch's transfer-learning tutorial (ants and bees, from ImageNet)"),
    FolderDataset("clothing-small", "clothing-small", {"train": "train", "validation": "validation", "test": "test"},
                  url="https://github.com/alexeygrigorev/clothing-dataset-small/archive/refs/heads/master.zip",
                  extracted="clothing-dataset-small-master",
                  where="the public repository alexeygrigorev/clothing-dataset-small (CC0)"),
    # The authors' release has no stable address; the Hugging Face copy flwrlabs/pacs holds the standard
    # 9,991 images as one parquet file (image bytes, domain, label), pinned here by revision and sha256.
    FolderDataset("pacs", "pacs", {d: d for d in ("photo", "art_painting", "cartoon", "sketch")},
                  where="the PACS authors' release (Li et al. 2017), from its Hugging Face copy flwrlabs/pacs",
                  mirror=Mirror("https://huggingface.co/datasets/flwrlabs/pacs/resolve/"
                                "394113073258ead631f617d2e13bb377c0715c4b/data/train-00000-of-00001.parquet",
                                "4fc041ee92eec6043fe6e2859e8bdd138e5f958bc621afd153879812cbe65ff5", 191_395_900,
                                "pacs-parquet")),
    # torchvision's Caltech101 downloads from Google Drive, whose links have broken repeatedly; the archive
    # comes instead from Caltech's own data repository (CaltechDATA), and unpacks as torchvision's does, to
    # <root>/caltech101/101_ObjectCategories. As torchvision does, the clutter class BACKGROUND_Google is
    # left out: 101 object classes.
    FolderDataset("caltech101", "caltech101", {"train": "train.txt", "test": "test.txt"},
                  images="101_ObjectCategories", exclude=("BACKGROUND_Google",),
                  where="Caltech-101 (Fei-Fei et al. 2004), from CaltechDATA (record mzrjq-6wc02)",
                  mirror=Mirror("https://data.caltech.edu/records/mzrjq-6wc02/files/caltech-101.zip?download=1",
                                "331234750fc7f77520e50d9565e8b6907b03565e30320da1401130db08c61f91", 137_414_764,
                                "caltech-zip")),
]}

PACS_CLASSES = ("dog", "elephant", "giraffe", "guitar", "horse", "house", "person")


def unpack_pacs_parquet(archive: Path, out: Path) -> None:
    """PACS's parquet file (columns ``image``: bytes and original path, ``domain``, ``label``) as the folder
    tree ``out/<domain>/<class>/<domain>_<row>.<ext>``, image bytes written unchanged. Original names repeat
    across classes, so files are named by their row."""
    try:
        import pyarrow.parquet as pq
    except ImportError as err:
        raise ImportError("unpacking PACS needs pyarrow: pip install pyarrow") from err
    import json

    table = pq.ParquetFile(archive)
    names = json.loads(table.schema_arrow.metadata[b"huggingface"])["info"]["features"]["label"]["names"]
    if tuple(names) != PACS_CLASSES:
        raise BadDataError(f"{archive} labels its classes {names}, not {list(PACS_CLASSES)}: not the pinned PACS file")
    row = 0
    for batch in table.iter_batches(batch_size=256, columns=["image", "domain", "label"]):
        columns = batch.to_pydict()
        for image, domain, label in zip(columns["image"], columns["domain"], columns["label"]):
            suffix = Path(image.get("path") or "").suffix.lower() or ".jpg"
            target = out / domain / PACS_CLASSES[label] / f"{domain}_{row:05d}{suffix}"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(image["bytes"])
            row += 1


def unpack_caltech_zip(archive: Path, out: Path) -> None:
    """Caltech's ``caltech-101.zip`` (which wraps ``101_ObjectCategories.tar.gz``) as ``out/101_ObjectCategories/``."""
    import tarfile
    import zipfile

    with zipfile.ZipFile(archive) as outer:
        inner = next((n for n in outer.namelist() if n.endswith("101_ObjectCategories.tar.gz")), None)
        if inner is None:
            raise BadDataError(f"{archive} holds no 101_ObjectCategories.tar.gz: not the pinned Caltech-101 archive")
        with outer.open(inner) as stream, tarfile.open(fileobj=stream, mode="r|gz") as tar:
            tar.extractall(out, filter="data")  # "data": no absolute paths, links out of ``out`` or devices


UNPACK = {"pacs-parquet": unpack_pacs_parquet, "caltech-zip": unpack_caltech_zip}


def fetch_mirror(dataset: FolderDataset, root: Path) -> None:
    """Download ``dataset.mirror`` into ``root/downloads`` (torch's downloader: a progress bar, the sha256
    checked before the file is moved into place), unpack it into a temporary folder and move that into
    ``root/<dataset.folder>`` only when complete: an interrupted run leaves no half data set behind."""
    import tempfile

    mirror = dataset.mirror
    archive = root / "downloads" / f"{dataset.name}-{mirror.sha256[:12]}{Path(mirror.url.split('?')[0]).suffix}"
    if not archive.is_file():
        archive.parent.mkdir(parents=True, exist_ok=True)
        disk.download(mirror.url, archive, hash_prefix=mirror.sha256, progress=show_progress())
    with tempfile.TemporaryDirectory(dir=root, prefix=f".{dataset.folder}.") as tmp:
        UNPACK[mirror.unpack](archive, Path(tmp))
        final = root / dataset.folder
        final.mkdir(exist_ok=True)
        for part in Path(tmp).iterdir():
            if not (final / part.name).exists():
                part.rename(final / part.name)
    archive.unlink()  # unpacked: the archive's hundreds of megabytes can go
    with contextlib.suppress(OSError):  # and its folder, unless it holds other downloads
        archive.parent.rmdir()


def fetch_archive(dataset: FolderDataset, root: Path) -> None:
    """Download ``dataset.url`` into ``root`` (torch's downloader writes a temporary file and moves it into
    place only when it is complete, so an interrupted download leaves no archive behind), unpack it into a
    temporary folder and move what it holds to ``root/<dataset.folder>`` only when complete. An archive
    that does not unpack (damaged, or left by an older downloader that was interrupted) is refused with
    its name and the fix."""
    import tarfile
    import tempfile
    import urllib.parse
    import zipfile

    from torchvision.datasets.utils import extract_archive

    archive = root / Path(urllib.parse.urlparse(dataset.url).path).name
    if not archive.is_file():
        root.mkdir(parents=True, exist_ok=True)
        disk.download(dataset.url, archive, progress=show_progress())
    with tempfile.TemporaryDirectory(dir=root, prefix=f".{dataset.folder}.") as tmp:
        try:
            extract_archive(str(archive), tmp)
        except (zipfile.BadZipFile, tarfile.TarError, EOFError) as err:
            raise BadDataError(f"{archive} does not unpack ({type(err).__name__}: {err}): it is damaged or incomplete, "
                               f"perhaps from an interrupted download. Fix it: delete {archive} and load the data set "
                               "again to download it anew.") from err
        (Path(tmp) / (dataset.extracted or dataset.folder)).rename(root / dataset.folder)
    archive.unlink()


def _fetch(dataset: FolderDataset, root: Path) -> None:
    """Download and unpack ``dataset`` into ``root``: its pinned :class:`Mirror`, or its archive
    (:func:`fetch_archive`)."""
    if dataset.mirror:
        fetch_mirror(dataset, root)
    else:
        fetch_archive(dataset, root)


def split_lists(images: Path, classes: tuple[str, ...], train_fraction: float = 2 / 3,
                seed: int = 0) -> dict[str, list[str]]:
    """A seeded per-class split of the files under ``images/<class>/``: ``train_fraction`` of each
    class (rounded) for training, the rest for testing, as ``<class>/<file>`` lines."""
    g = torch.Generator().manual_seed(seed)
    lists: dict[str, list[str]] = {"train": [], "test": []}
    for name in classes:
        names = sorted(p.name for p in (images / name).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        order = torch.randperm(len(names), generator=g).tolist()
        cut = round(train_fraction * len(names))
        lists["train"] += sorted(f"{name}/{names[i]}" for i in order[:cut])
        lists["test"] += sorted(f"{name}/{names[i]}" for i in order[cut:])
    return lists


def _listed_split(dataset: FolderDataset, base: Path, split: str) -> tuple[list[tuple[Path, int]], tuple[str, ...], str]:
    """The files of ``split`` of a list-file data set, its classes and where the split came from.

    Every class folder must hold images and appear in the list; a listed file of an unknown class
    is an error (files of the left-out classes, ``dataset.exclude``, are skipped).
    """
    images = base / dataset.images
    classes = tuple(name for name in decode.class_folders(images) if name not in dataset.exclude)
    empty = [name for name in classes if not decode.images_in(images / name)]
    if empty:
        raise decode.no_images_error(images, empty)
    list_file = base / dataset.splits[split]
    if list_file.is_file():
        lines = [line.strip() for line in list_file.read_text().splitlines() if line.strip()]
        how = f"the split listed in {list_file.name}"
    else:
        drawn = split_lists(images, classes)
        lines, how = drawn[split], f"coursekit's seeded 2/3 : 1/3 split per class, written to {list_file.name}"
        try:
            for name, names in drawn.items():
                disk.write_text(base / dataset.splits[name], "\n".join(names) + "\n")
        except OSError as err:  # a read-only data folder: the seeded split is drawn again next time
            warnings.warn(f"could not write the split lists into {base} ({type(err).__name__}: {err})")
            how = f"coursekit's seeded 2/3 : 1/3 split per class (drawn again each time: {base} is read-only)"
    index = {name: label for label, name in enumerate(classes)}
    listed = {line.split("/")[0] for line in lines}
    unknown, missing = sorted(listed - set(index) - set(dataset.exclude)), [c for c in classes if c not in listed]
    if unknown or missing:
        raise BadDataError(
            f"{list_file} does not match the class folders of {images}:"
            + (f"\n  it lists files of classes that have no folder: {', '.join(map(repr, unknown))}" if unknown else "")
            + (f"\n  it lists no file of the classes {', '.join(map(repr, missing))}" if missing else "")
            + f"\nA split without a class would shift the labels of the classes after it.\nFix it: delete "
            f"{list_file.name} so that coursekit draws the split again, or download the data set again.")
    pairs = [(images / line, index[line.split("/")[0]]) for line in lines if line.split("/")[0] in index]
    return pairs, classes, how


def _check_split_classes(dataset: FolderDataset, base: Path) -> None:
    """Refuse split folders with different class folders: a label is a class's place in the sorted
    list of class folders, so a class missing from one split would shift the labels after it."""
    found = {base / sub: set(decode.class_folders(base / sub)) for sub in dataset.splits.values() if (base / sub).is_dir()}
    if not found:
        return
    odd = sorted(set.union(*found.values()) - set.intersection(*found.values()))
    if odd:
        def folders(name: str, present: bool) -> str:
            return ", ".join(str(folder) for folder, names in found.items() if (name in names) == present)

        where = "\n".join(f"  {name!r} is in {folders(name, True)} but not in {folders(name, False)}" for name in odd)
        raise BadDataError(
            f"the splits of {dataset.name} do not have the same classes:\n{where}\n"
            f"A label is the class's place in the sorted list of class folders, so a class missing from one "
            f"split would shift the labels of the classes after it.\nFix it: give every split the same class "
            f"folders (each with images), or download the data set again.")


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
    The decoded tensors are kept on disk for the next process (:mod:`coursekit.data.cache`). Splits
    whose class folders differ, empty class folders and images that do not decode are refused
    (:class:`~coursekit.data.BadDataError`), as they would give wrong labels or none.
    """
    dataset = _spec(FOLDER_DATASETS, name, split)
    root = Path(root) if root is not None else data_root()
    base = root / dataset.folder
    folder = base / dataset.images if dataset.images else base / dataset.splits[split]
    key = (f"{root.resolve()}/{name}/{split}@{image_size}", True)
    if key in cache._LOADED:
        return cache._LOADED[key]
    if download is None:
        download = os.environ.get("COURSEKIT_DOWNLOAD", "1") != "0"
    problem = "downloading is switched off (download=False or COURSEKIT_DOWNLOAD=0)"
    downloadable = dataset.url or dataset.mirror
    if not folder.is_dir() and not downloadable:
        problem = "it has no download address that coursekit could use"
    elif not folder.is_dir() and download:
        try:
            _fetch(dataset, root)
        except Exception as err:  # no network, a moved file, a full disk: say what happened
            problem = f"the download failed: {type(err).__name__}: {err}"
    if not folder.is_dir():
        source = (f"download it from {(dataset.mirror or dataset).url}" if downloadable else f"get it from {dataset.where}")
        layout = f"{folder}/<class>/*.jpg" if dataset.images else f"{base}/{dataset.splits[split]}/<class>/*.jpg"
        raise DataNotFoundError(
            f"{name} ({split}) was not found in {folder}, and {problem}.\n"
            f"Fix it: {source} and unpack it so that {layout} "
            f"exists, or point COURSEKIT_DATA at the folder that holds {dataset.folder}/.")
    if dataset.images:
        pairs, classes, how = _listed_split(dataset, base, split)
        source = dict(kind="image-folder", path=str(folder), split=how)
    else:
        _check_split_classes(dataset, base)
        pairs, classes = decode.image_folder_files(folder)
        source = dict(kind="image-folder", path=str(folder))
    stats = cache.stats((p for p, _ in pairs), folder)
    data = cache.cached(root, f"{name}-{split}-{image_size}px", dict(source, classes=classes, files=stats,
                                                                     image_size=image_size),
                        lambda: decode.read_images(pairs, classes, image_size, source))
    data.source["description"] = f"{name} ({split}), {dataset.where}, resized to {image_size} px"
    cache._LOADED[key] = data
    return data
