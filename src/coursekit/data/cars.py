"""Stanford Cars (Krause et al. 2013): photos of 196 classes of car, each a make, model and year
("Audi TTS Coupe 2012"), 8,144 for training and 8,041 for testing, about 41 a class in each.

The data live under ``$COURSEKIT_DATA/stanford_cars/``: ``cars_train/*.jpg`` with ``labels.csv``
(``file,class_index,class_name``; indices from 1, as the devkit counts, in the order of ``classes.txt``), and, where the
test split is there too, ``cars_test/*.jpg`` with ``labels_test.csv``. Validation images are carved
out of the training split, per class and seeded; when the official test split is absent (the offline
copy has only the training split), the test images are carved out of it as well, and every result
says which (``source["split"]``).

Photos are squeezed, not cropped, into squares: a centre crop of a wide photo of a car cuts off its
front and back, where the grille and lights that tell one model from the next are.
"""
from __future__ import annotations

import csv
from pathlib import Path

import torch

from . import cache, decode
from .tensors import BadDataError, DataNotFoundError, ImageTensors, carve, data_root, stratified_indices

FOLDER = "stanford_cars"
SPLITS = ("train", "val", "test")
SHARES = {"val": 0.15, "test": 0.25}  # of each class's training images, carved off per class
WHERE = ("Stanford Cars (Krause et al. 2013), https://ai.stanford.edu/~jkrause/cars/car_dataset.html "
         "(the page is gone; copies of the 8,144 training and 8,041 test images with the devkit's labels are "
         "mirrored on Kaggle and the Hugging Face hub); terms: non-commercial research and education")


def read_labels(base: Path, split: str = "train") -> tuple[list[tuple[Path, int]], tuple[str, ...]]:
    """The ``(image path, label)`` pairs of the official ``split`` ("train" or "test") and the class names,
    from ``labels.csv`` (or ``labels_test.csv``) and ``classes.txt``; a row whose index and name disagree
    with ``classes.txt``, or whose image is missing, is a :class:`BadDataError` that names it."""
    table = base / ("labels.csv" if split == "train" else "labels_test.csv")
    images = base / ("cars_train" if split == "train" else "cars_test")
    classes = tuple(line.strip() for line in (base / "classes.txt").read_text().splitlines() if line.strip())
    pairs = []
    with open(table, newline="") as f:
        for line, row in enumerate(csv.DictReader(f), 2):
            index = int(row["class_index"]) - 1  # the devkit counts from 1
            if not 0 <= index < len(classes) or classes[index] != row["class_name"]:
                raise BadDataError(f"{table}, line {line}: class {index + 1} is {row['class_name']!r} there but "
                                   f"{classes[index] if 0 <= index < len(classes) else 'out of range'!r} in "
                                   f"{base / 'classes.txt'}.\nFix it: unpack the data set again.")
            pairs.append((images / row["file"], index))
    missing = [str(p) for p, _ in pairs if not p.is_file()]
    if missing:
        raise BadDataError(f"{len(missing)} images listed in {table} are missing, e.g. {missing[0]}.\n"
                           "Fix it: unpack the data set again.")
    return pairs, classes


def load_stanford_cars(split: str, image_size: int = 128, root: str | Path | None = None, seed: int = 0,
                       per_class: int | None = None) -> ImageTensors:
    """One split ("train", "val" or "test") of Stanford Cars as uint8 tensors of ``image_size`` pixels
    (each photo squeezed into a square), the split carved by ``seed`` (see the module's notes); with
    ``per_class``, at most that many images of each class (drawn by ``seed``), chosen before decoding."""
    if split not in SPLITS:
        raise KeyError(f"stanford_cars has no split {split!r}; its splits: {', '.join(SPLITS)}")
    root = Path(root) if root is not None else data_root()
    base = root / FOLDER
    key = (f"{root.resolve()}/{FOLDER}/{split}@{image_size}/seed{seed}/{per_class}", True)
    if key in cache._LOADED:
        return cache._LOADED[key]
    if not (base / "labels.csv").is_file():
        raise DataNotFoundError(
            f"Stanford Cars was not found in {base}.\ncoursekit cannot download it: the original address is gone, "
            "and no copy is pinned yet by a checksum that coursekit could verify.\nFix it: get the images from "
            f"a copy of {WHERE.split(', https')[0]} and arrange them as {base}/cars_train/<file>.jpg with "
            f"{base}/classes.txt (one class name a line) and {base}/labels.csv (file,class_index,class_name; "
            "indices from 1), and likewise cars_test/ with labels_test.csv for the test split; or point "
            f"COURSEKIT_DATA at the folder that holds {FOLDER}/.")
    pairs, classes = read_labels(base, "train")
    official_test = (base / "labels_test.csv").is_file()
    shares = {"val": SHARES["val"]} if official_test else dict(SHARES)
    carved = carve([label for _, label in pairs], shares, seed)
    if split == "test" and official_test:
        chosen, classes_test = read_labels(base, "test")
        if classes_test != classes:
            raise BadDataError(f"the training and test splits in {base} name different classes.\n"
                               "Fix it: unpack the data set again.")
        how = "the official test split"
    else:
        chosen = [pairs[i] for i in carved[split]]
        parts = ", ".join(f"{100 * share:.0f} % {name}" for name, share in {"train": 1 - sum(shares.values()),
                                                                             **shares}.items())
        how = (f"the {split} part of the official training split, carved per class ({parts}, seed {seed})"
               + ("" if official_test else "; the official test split is not here, so the test images are "
                                           "training-split images no run trained on"))
    if per_class is not None:
        keep = stratified_indices(torch.tensor([label for _, label in chosen]), per_class, seed, at_most=True)
        chosen = [chosen[i] for i in keep.tolist()]
        how += f"; at most {per_class} a class"
    source = dict(kind="stanford-cars", path=str(base), split=how)
    stats = cache.stats((p for p, _ in chosen), base)
    data = cache.cached(root, f"{FOLDER}-{split}-{image_size}px-seed{seed}-{per_class or 'all'}",
                        dict(source, classes=classes, files=stats, image_size=image_size, fit="squeeze"),
                        lambda: decode.read_images(chosen, classes, image_size, source, crop=False))
    data.source["description"] = f"Stanford Cars ({how}), squeezed to {image_size} px"
    cache._LOADED[key] = data
    return data
