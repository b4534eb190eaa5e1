"""UTKFace (Zhang, Song and Qi 2017): aligned and cropped faces whose file names give the age (1 to
116), gender and race that the data set's annotators (helped by an algorithm) assigned, in its own
coding: ``[age]_[gender]_[race]_[date&time].jpg.chip.jpg``, gender 0 male and 1 female, race 0 White,
1 Black, 2 Asian, 3 Indian, 4 Others.

The faces live under ``$COURSEKIT_DATA/utkface/UTKFace/``. A few names in the published set do not
parse (a field is missing); they are reported and left out, never guessed. The splits are carved
per five-year band of age (80 and over together) and seeded, so that every band is in every split in
the same proportion.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch

from . import cache, decode
from .tensors import DataNotFoundError, ImageTensors, carve, data_root

FOLDER = "utkface"
IMAGES = "UTKFace"
SPLITS = ("train", "val", "test")
SHARES = {"val": 0.15, "test": 0.2}
GENDERS = ("male", "female")
RACES = ("White", "Black", "Asian", "Indian", "Others")
BAND = 5     # years: the splits are stratified by band of age,
OLDEST = 80  # ... with every age from 80 up in one band (the oldest are few)
NAME = re.compile(r"^(\d{1,3})_([01])_([0-4])_(\d+)\.jpg(\.chip\.jpg)?$")
WHERE = ("UTKFace's aligned and cropped faces (Zhang, Song and Qi 2017, https://susanqq.github.io/UTKFace/); "
         "terms: non-commercial research purposes only, the copyright of the images stays with their owners")


@dataclass(frozen=True)
class Face:
    """One face's file and the labels its name gives."""

    path: Path
    age: int
    gender: int
    race: int


def parse_name(path: Path) -> Face | None:
    """The labels in a UTKFace file name, or ``None`` when the name does not follow the pattern."""
    found = NAME.match(path.name)
    if found is None or not 1 <= int(found[1]) <= 116:
        return None
    return Face(path, int(found[1]), int(found[2]), int(found[3]))


def read_faces(folder: Path) -> tuple[list[Face], list[str]]:
    """Every face in ``folder`` (sorted by name) and the names that do not parse."""
    faces, unparsed = [], []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in decode.IMAGE_SUFFIXES:
            continue
        face = parse_name(path)
        if face is None:
            unparsed.append(path.name)
        else:
            faces.append(face)
    return faces, unparsed


def split_faces(faces: list[Face], split: str, seed: int = 0) -> list[Face]:
    """The faces of ``split``, carved per five-year band of age (80 and over in one band; :data:`SHARES`,
    seeded)."""
    if split not in SPLITS:
        raise KeyError(f"utkface has no split {split!r}; its splits: {', '.join(SPLITS)}")
    carved = carve([min(face.age, OLDEST) // BAND for face in faces], SHARES, seed)
    return [faces[i] for i in carved[split]]


def _faces(root: Path) -> list[Face]:
    folder = root / FOLDER / IMAGES
    if not folder.is_dir():
        raise DataNotFoundError(
            f"UTKFace was not found in {folder}.\ncoursekit cannot download it: no copy is pinned yet by a checksum "
            f"that coursekit could verify.\nFix it: get the aligned and cropped faces ({WHERE.split(';')[0]}) and "
            f"unpack them so that {folder}/<age>_<gender>_<race>_<date>.jpg.chip.jpg exist, or point "
            f"COURSEKIT_DATA at the folder that holds {FOLDER}/.")
    faces, unparsed = read_faces(folder)
    if unparsed:
        warnings.warn(f"{len(unparsed)} file names in {folder} do not give an age, a gender and a race and are "
                      f"left out: {', '.join(unparsed[:3])}{' ...' if len(unparsed) > 3 else ''}")
    if not faces:
        raise DataNotFoundError(f"{folder} holds no face whose name parses ({len(unparsed)} that do not).")
    return faces


def at_most(faces: list[Face], per_band: int | None) -> list[Face]:
    """The first ``per_band`` faces of each five-year band of age (all with ``None``), in their order."""
    if per_band is None:
        return faces
    kept: dict[int, int] = {}
    chosen = []
    for face in faces:
        band = min(face.age, OLDEST) // BAND
        if kept.get(band, 0) < per_band:
            kept[band] = kept.get(band, 0) + 1
            chosen.append(face)
    return chosen


def load_utkface(split: str, image_size: int = 96, root: str | Path | None = None, seed: int = 0,
                 per_band: int | None = None) -> ImageTensors:
    """One split of UTKFace as uint8 tensors of ``image_size`` pixels whose labels are the ages; the
    gender and race of the same faces, in the same order, come from :func:`utkface_attributes`. With
    ``per_band``, at most that many faces of each five-year band, chosen before decoding."""
    root = Path(root) if root is not None else data_root()
    key = (f"{root.resolve()}/{FOLDER}/{split}@{image_size}/seed{seed}/{per_band}", True)
    if key in cache._LOADED:
        return cache._LOADED[key]
    chosen = at_most(split_faces(_faces(root), split, seed), per_band)
    folder = root / FOLDER / IMAGES
    how = (f"the {split} part of the faces whose names parse, carved per {BAND}-year band of age "
           f"({100 * (1 - sum(SHARES.values())):.0f} % train, "
           + ", ".join(f"{100 * v:.0f} % {k}" for k, v in SHARES.items()) + f", seed {seed})"
           + (f"; at most {per_band} a band" if per_band else ""))
    source = dict(kind="utkface", path=str(folder), split=how)
    stats = cache.stats((f.path for f in chosen), folder)
    ages = tuple(str(a) for a in range(117))  # a label is the age itself
    data = cache.cached(root, f"{FOLDER}-{split}-{image_size}px-seed{seed}-{per_band or 'all'}",
                        dict(source, files=stats, image_size=image_size),
                        lambda: decode.read_images([(f.path, f.age) for f in chosen], ages, image_size, source))
    data.source["description"] = f"UTKFace ({how}), {image_size} px"
    cache._LOADED[key] = data
    return data


def utkface_attributes(split: str, root: str | Path | None = None, seed: int = 0,
                       per_band: int | None = None) -> dict[str, torch.Tensor]:
    """The age, gender and race of the faces of ``split``, in the order of :func:`load_utkface`."""
    root = Path(root) if root is not None else data_root()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # load_utkface has said which names do not parse
        chosen = at_most(split_faces(_faces(root), split, seed), per_band)
    return {name: torch.tensor([getattr(f, name) for f in chosen]) for name in ("age", "gender", "race")}
