"""Stanford Cars: labels read and checked, splits carved per class and seeded, photos squeezed (not
cropped) into squares, and clear errors for a missing or damaged copy."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from torchvision.io import write_png

from coursekit import data
from coursekit.data import cars

CLASSES = ("Audi TTS Coupe 2012", "Acura TL Sedan 2012", "Dodge Dakota Club Cab 2007")


def wide_car(label: int) -> torch.Tensor:
    """A 40 x 80 image: red in its left eighth, blue in its right eighth (a car's front and back), and a
    middle whose grey tells the class."""
    image = torch.full((3, 40, 80), 60 + 60 * label, dtype=torch.uint8)
    image[:, :, :10] = torch.tensor([255, 0, 0], dtype=torch.uint8)[:, None, None]
    image[:, :, -10:] = torch.tensor([0, 0, 255], dtype=torch.uint8)[:, None, None]
    return image


def make_cars(root: Path, per_class: int = 8, test: bool = False) -> Path:
    """The offline layout: cars_train/, classes.txt, labels.csv (devkit indices, from 1); with ``test``,
    cars_test/ and labels_test.csv as well."""
    base = root / cars.FOLDER
    (base / "classes.txt").parent.mkdir(parents=True)
    (base / "classes.txt").write_text("\n".join(CLASSES) + "\n")
    for split, folder, table in [("train", "cars_train", "labels.csv")] + ([("test", "cars_test", "labels_test.csv")]
                                                                          if test else []):
        (base / folder).mkdir()
        rows, n = ["file,class_index,class_name"], 0
        for i in range(per_class):
            for label, name in enumerate(CLASSES):
                n += 1
                write_png(wide_car(label), str(base / folder / f"{n:05d}.png"))
                rows.append(f"{n:05d}.png,{label + 1},{name}")
        (base / table).write_text("\n".join(rows) + "\n")
    return base


def test_splits_are_disjoint_per_class_and_seeded(tmp_path):
    make_cars(tmp_path, per_class=20)
    splits = {s: data.load_stanford_cars(s, 16, root=tmp_path) for s in cars.SPLITS}
    assert {s: len(d) for s, d in splits.items()} == {"train": 3 * 12, "val": 3 * 3, "test": 3 * 5}
    for d in splits.values():  # every class in every split, in the same proportion
        assert torch.bincount(d.labels).tolist() == [len(d) // 3] * 3 and d.classes == CLASSES
    assert "the official test split is not here" in splits["test"].source["split"]
    assert "60 % train, 15 % val, 25 % test, seed 0" in splits["val"].source["description"]
    carved = cars.carve([i % 3 for i in range(60)], cars.SHARES, seed=0)
    assert sorted(sum(carved.values(), [])) == list(range(60))  # each image in exactly one split
    assert carved == cars.carve([i % 3 for i in range(60)], cars.SHARES, seed=0)
    assert carved != cars.carve([i % 3 for i in range(60)], cars.SHARES, seed=1)


def test_the_official_test_split_is_used_when_it_is_there(tmp_path):
    make_cars(tmp_path, per_class=20, test=True)
    test = data.load_stanford_cars("test", 16, root=tmp_path)
    train = data.load_stanford_cars("train", 16, root=tmp_path)
    assert len(test) == 60 and test.source["split"] == "the official test split"
    assert len(train) == 3 * 17  # only the validation share is carved off
    assert "85 % train, 15 % val" in train.source["split"] and "not here" not in train.source["split"]


def test_photos_are_squeezed_so_the_front_and_back_stay(tmp_path):
    make_cars(tmp_path, per_class=4)
    image = data.load_stanford_cars("train", 32, root=tmp_path).images[0].int()
    assert image.shape == (3, 32, 32)
    assert image[0, 16, 0] > 200 and image[2, 16, 0] < 50  # red front at the left edge
    assert image[2, 16, -1] > 200 and image[0, 16, -1] < 50  # blue back at the right edge


def test_per_class_limits_before_decoding(tmp_path):
    make_cars(tmp_path, per_class=20)
    few = data.load_stanford_cars("train", 16, root=tmp_path, per_class=2)
    assert torch.bincount(few.labels).tolist() == [2, 2, 2] and "at most 2 a class" in few.source["split"]


def test_a_missing_copy_says_where_and_how(tmp_path):
    with pytest.raises(data.DataNotFoundError) as err:
        data.load_stanford_cars("train", 16, root=tmp_path)
    message = str(err.value)
    assert str(tmp_path / "stanford_cars") in message and "labels.csv (file,class_index,class_name" in message
    assert "COURSEKIT_DATA" in message
    with pytest.raises(KeyError, match="its splits: train, val, test"):
        data.load_stanford_cars("validation", 16, root=tmp_path)


def test_a_label_that_disagrees_with_the_class_names_is_refused(tmp_path):
    base = make_cars(tmp_path, per_class=4)
    table = base / "labels.csv"
    table.write_text(table.read_text().replace("00002.png,2,Acura TL Sedan 2012", "00002.png,3,Acura TL Sedan 2012"))
    with pytest.raises(data.BadDataError, match=r"labels.csv, line 3: class 3 is 'Acura TL Sedan 2012' there but "
                                                r"'Dodge Dakota Club Cab 2007'"):
        data.load_stanford_cars("train", 16, root=tmp_path)


def test_a_missing_image_is_named(tmp_path):
    base = make_cars(tmp_path, per_class=4)
    (base / "cars_train" / "00005.png").unlink()
    with pytest.raises(data.BadDataError, match=r"1 images listed in .*labels.csv are missing, e.g. .*00005.png"):
        data.load_stanford_cars("train", 16, root=tmp_path)


@pytest.mark.skipif(not (Path(os.environ.get("COURSEKIT_DATA", "/nonexistent")) / cars.FOLDER / "labels.csv").is_file(),
                    reason="the offline Stanford Cars is not unpacked in $COURSEKIT_DATA")
def test_the_offline_copy_reads_all_196_classes():
    base = Path(os.environ["COURSEKIT_DATA"]) / cars.FOLDER
    pairs, classes = cars.read_labels(base)
    assert len(pairs) == 8144 and len(classes) == 196 and classes[13] == "Audi TTS Coupe 2012"
    assert len({label for _, label in pairs}) == 196
    carved = cars.carve([label for _, label in pairs], cars.SHARES)
    assert sum(map(len, carved.values())) == 8144 and min(map(len, carved.values())) > 1000
