"""The pinned downloads of PACS and Caltech-101, exercised offline: the real download code (torch's
downloader, the sha256 check, the unpacking into a temporary folder) reads a small archive served from a
local file:// address."""
from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import re
import tarfile
import zipfile

import pytest
import torch
from torchvision.io import encode_png

from coursekit import data
from coursekit.data import cache, folders


def png(value: int) -> bytes:
    return bytes(encode_png(torch.full((3, 6, 6), value, dtype=torch.uint8)).numpy())


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(autouse=True)
def fresh(monkeypatch):
    monkeypatch.setattr(cache, "_LOADED", {})
    monkeypatch.setenv("COURSEKIT_DATA_CACHE", "0")


def serve(monkeypatch, name: str, archive, digest: str | None = None) -> None:
    """Point data set ``name``'s mirror at the local ``archive``, with its sha256 (or ``digest``)."""
    spec = folders.FOLDER_DATASETS[name]
    mirror = dataclasses.replace(spec.mirror, url=archive.as_uri(), sha256=digest or sha256(archive),
                                 size=archive.stat().st_size)
    monkeypatch.setitem(folders.FOLDER_DATASETS, name, dataclasses.replace(spec, mirror=mirror))


def pacs_parquet(path, rows: list[tuple[str, int]]) -> None:
    """A parquet file laid out like flwrlabs/pacs: image {bytes, path}, domain, label, and the hub's metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    meta = {"info": {"features": {"label": {"names": list(folders.PACS_CLASSES)}}}}
    table = pa.table({"image": [{"bytes": png(9 * i % 250), "path": f"pic_{i:03d}.png"} for i in range(len(rows))],
                      "domain": [d for d, _ in rows], "label": [label for _, label in rows]})
    pq.write_table(table.replace_schema_metadata({b"huggingface": json.dumps(meta).encode()}), path)


def test_pinned_addresses_name_a_revision_and_a_full_checksum():
    for name in ("pacs", "caltech101"):
        mirror = folders.FOLDER_DATASETS[name].mirror
        assert re.fullmatch(r"[0-9a-f]{64}", mirror.sha256) and mirror.size > 10**8
    assert re.search(r"/resolve/[0-9a-f]{40}/", folders.FOLDER_DATASETS["pacs"].mirror.url)  # a commit, not a branch


def test_pacs_downloads_checks_and_unpacks_into_the_offline_layout(tmp_path, monkeypatch):
    archive = tmp_path / "served.parquet"
    rows = [(d, label) for d in ("photo", "art_painting", "cartoon", "sketch") for label in range(7)]
    pacs_parquet(archive, rows + [("photo", 0)])
    serve(monkeypatch, "pacs", archive)
    root = tmp_path / "data"
    root.mkdir()
    photos = data.load_folder_dataset("pacs", "photo", image_size=8, root=root, download=True)
    assert photos.classes == folders.PACS_CLASSES and len(photos) == 8
    assert photos.labels.tolist().count(0) == 2
    assert len(data.load_folder_dataset("pacs", "sketch", image_size=8, root=root, download=False)) == 7
    assert sorted(p.name for p in root.iterdir()) == ["pacs"]  # no archive, no temporary folder left


def test_a_file_that_is_not_the_pinned_one_is_refused_and_nothing_is_unpacked(tmp_path, monkeypatch):
    archive = tmp_path / "served.parquet"
    pacs_parquet(archive, [("photo", 0)])
    serve(monkeypatch, "pacs", archive, digest="0" * 64)
    root = tmp_path / "data"
    root.mkdir()
    with pytest.raises(data.DataNotFoundError, match="download failed") as err:
        data.load_folder_dataset("pacs", "photo", image_size=8, root=root, download=True)
    assert "hash" in str(err.value).lower()
    assert not (root / "pacs").exists() and not list(root.glob("downloads/*"))


def test_pacs_with_other_class_names_is_refused(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "other.parquet"
    meta = {"info": {"features": {"label": {"names": ["cat", "dog"]}}}}
    table = pa.table({"image": [{"bytes": png(1), "path": "a.png"}], "domain": ["photo"], "label": [0]})
    pq.write_table(table.replace_schema_metadata({b"huggingface": json.dumps(meta).encode()}), path)
    with pytest.raises(data.BadDataError, match="not the pinned PACS file"):
        folders.unpack_pacs_parquet(path, tmp_path / "out")


def caltech_zip(path, classes=("accordion", "BACKGROUND_Google", "zebra"), per_class: int = 3) -> None:
    """A zip laid out like Caltech's caltech-101.zip: caltech-101/101_ObjectCategories.tar.gz inside."""
    inner = io.BytesIO()
    with tarfile.open(fileobj=inner, mode="w:gz") as tar:
        for c in classes:
            for i in range(per_class):
                payload = png(20 * i + 5)
                info = tarfile.TarInfo(f"101_ObjectCategories/{c}/image_{i:04d}.png")
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("caltech-101/101_ObjectCategories.tar.gz", inner.getvalue())
        z.writestr("caltech-101/show_annotation.m", "% not images")


def test_caltech_downloads_from_its_pinned_archive(tmp_path, monkeypatch):
    archive = tmp_path / "caltech-101.zip"
    caltech_zip(archive)
    serve(monkeypatch, "caltech101", archive)
    root = tmp_path / "data"
    root.mkdir()
    train = data.load_folder_dataset("caltech101", "train", image_size=8, root=root, download=True)
    test = data.load_folder_dataset("caltech101", "test", image_size=8, root=root, download=False)
    assert train.classes == ("accordion", "zebra")  # the clutter class is left out, as torchvision does
    assert len(train) + len(test) == 6
    assert (root / "caltech101" / "101_ObjectCategories" / "zebra").is_dir()
    assert sorted(p.name for p in root.iterdir()) == ["caltech101"]


def test_a_zip_without_the_image_archive_is_refused(tmp_path):
    path = tmp_path / "wrong.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "nothing here")
    with pytest.raises(data.BadDataError, match="101_ObjectCategories.tar.gz"):
        folders.unpack_caltech_zip(path, tmp_path / "out")
