"""UTKFace: labels read from the file names, names that do not parse reported and left out, splits
carved per band of age and seeded, and the faces' genders and races in the order of their images."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from torchvision.io import write_png

from coursekit import data
from coursekit.data import utkface


def make_faces(root: Path, ages=range(1, 80), odd_names=("61_1_20170109142408075.jpg.chip.jpg",)) -> Path:
    """A face per age in ``ages`` (gender and race cycling), each image's grey level its age, and files
    whose names do not parse."""
    folder = root / utkface.FOLDER / utkface.IMAGES
    folder.mkdir(parents=True)
    for i, age in enumerate(ages):
        write_png(torch.full((3, 12, 12), age, dtype=torch.uint8), str(folder / f"{age}_{i % 2}_{i % 5}_2017{i:06d}.jpg.chip.jpg"))
    for name in odd_names:
        write_png(torch.zeros(3, 12, 12, dtype=torch.uint8), str(folder / name))
    return folder


def test_names_are_parsed_or_refused():
    face = utkface.parse_name(Path("26_0_1_20170117195838909.jpg.chip.jpg"))
    assert (face.age, face.gender, face.race) == (26, 0, 1)
    for odd in ("61_1_20170109142408075.jpg.chip.jpg", "39_1_20170116174525125.jpg.chip.jpg", "0_0_0_1.jpg.chip.jpg",
                "117_0_0_1.jpg.chip.jpg", "26_2_1_1.jpg.chip.jpg", "26_0_5_1.jpg.chip.jpg", "notes.jpg"):
        assert utkface.parse_name(Path(odd)) is None, odd


def test_splits_are_carved_per_band_of_age_and_the_odd_names_reported(tmp_path):
    make_faces(tmp_path)
    with pytest.warns(UserWarning, match=r"1 file names in .* do not give an age, a gender and a race and are left "
                                         r"out: 61_1_20170109142408075.jpg.chip.jpg"):
        splits = {s: data.load_utkface(s, 8, root=tmp_path) for s in utkface.SPLITS}
    assert sum(len(d) for d in splits.values()) == 79  # every face that parses, in exactly one split
    seen = torch.cat([d.labels for d in splits.values()])
    assert sorted(seen.tolist()) == list(range(1, 80))
    for d in splits.values():  # every five-year band of age in every split
        assert {int(a) // utkface.BAND for a in d.labels} == set(range(16))
    assert {len(d) for d in (splits["val"], splits["test"])} == {16}  # one face of each band
    assert "carved per 5-year band of age (65 % train, 15 % val, 20 % test, seed 0)" in splits["test"].source["split"]


def test_the_attributes_are_in_the_order_of_the_images(tmp_path):
    make_faces(tmp_path)
    with pytest.warns(UserWarning):
        faces = data.load_utkface("train", 8, root=tmp_path)
    found = data.utkface_attributes("train", root=tmp_path)
    assert torch.equal(found["age"], faces.labels) and torch.equal(faces.images[:, 0, 0, 0].long(), faces.labels)
    assert set(found["gender"].tolist()) == {0, 1} and set(found["race"].tolist()) == set(range(5))


def test_a_missing_copy_says_where_and_how(tmp_path):
    with pytest.raises(data.DataNotFoundError, match=r"(?s)UTKFace was not found in .*utkface/UTKFace.*COURSEKIT_DATA"):
        data.load_utkface("train", root=tmp_path)
    with pytest.raises(KeyError, match="its splits: train, val, test"):
        make_faces(tmp_path, odd_names=())
        data.load_utkface("validation", root=tmp_path)


@pytest.mark.skipif(not (Path(os.environ.get("COURSEKIT_DATA", "/nonexistent")) / "utkface" / "UTKFace").is_dir(),
                    reason="the offline UTKFace is not unpacked in $COURSEKIT_DATA")
def test_the_offline_copy_parses():
    faces, unparsed = utkface.read_faces(Path(os.environ["COURSEKIT_DATA"]) / "utkface" / "UTKFace")
    assert len(faces) == 12000 and unparsed == []
    assert min(f.age for f in faces) >= 1 and max(f.age for f in faces) <= 116
