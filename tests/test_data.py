import os
import urllib.error

import pytest
import torch

from conftest import requires_cifar10
from coursekit import data


def test_read_image_folder(image_folder):
    ds = data.read_image_folder(image_folder)
    assert ds.classes == ("cat", "dog", "emu")
    assert ds.images.shape == (12, 3, 8, 8) and ds.images.dtype == torch.uint8
    assert ds.labels.tolist() == [0] * 4 + [1] * 4 + [2] * 4  # notes.txt skipped
    assert torch.all(ds.images[ds.labels == 1, 0] == 80)  # labels follow the folders
    assert ds.source["kind"] == "image-folder" and ds.source["images"] == 12


def test_read_image_folder_resizes_on_request(image_folder):
    assert data.read_image_folder(image_folder, image_size=4).images.shape == (12, 3, 4, 4)


def test_read_image_folder_errors(tmp_path, image_folder):
    with pytest.raises(data.DataNotFoundError, match="no ImageFolder tree"):
        data.read_image_folder(tmp_path / "missing")
    with pytest.raises(ValueError, match="expected"):
        data.read_image_folder(image_folder, classes=("a", "b", "c"))


def test_stratified_subset_is_balanced_and_deterministic():
    labels = torch.arange(100) % 5
    a = data.stratified_indices(labels, per_class=3, seed=7)
    b = data.stratified_indices(labels, per_class=3, seed=7)
    c = data.stratified_indices(labels, per_class=3, seed=8)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.bincount(labels[a]).tolist() == [3] * 5
    assert len(set(a.tolist())) == 15
    assert torch.equal(data.stratified_indices(labels, None), torch.arange(100))
    with pytest.raises(ValueError, match="fewer than per_class"):
        data.stratified_indices(labels, per_class=21)


def test_subset_records_itself_in_the_provenance(image_folder):
    ds = data.stratified_subset(data.read_image_folder(image_folder), per_class=2, seed=0)
    assert len(ds) == 6 and ds.source["images"] == 6 and "2 per class" in ds.source["subset"]


def test_device_loader_batches(image_folder):
    ds = data.read_image_folder(image_folder)
    loader = data.DeviceLoader(ds, batch_size=5, train=True, crop_padding=2, mean=(0.5,) * 3, std=(0.25,) * 3)
    batches = list(loader)
    assert len(batches) == len(loader) == 2  # drop_last when training
    x, y = batches[0]
    assert x.shape == (5, 3, 8, 8) and x.dtype == torch.float32 and y.dtype == torch.int64
    assert x.min() >= -2.0 - 1e-6 and x.max() <= 2.0 + 1e-6  # (v/255 - 0.5) / 0.25
    test = data.DeviceLoader(ds, batch_size=5, train=False, mean=(0.5,) * 3, std=(0.25,) * 3)
    assert len(test) == 3 and sum(len(b[1]) for b in test) == 12
    x_test, y_test = next(iter(test))
    expected = (ds.images[:5].float() / 255 - 0.5) / 0.25
    assert torch.allclose(x_test, expected, atol=1e-5) and torch.equal(y_test, ds.labels[:5])  # no augmentation


def test_device_loader_shuffles_per_epoch_and_repeats_per_seed(image_folder):
    ds = data.read_image_folder(image_folder)
    loader = data.DeviceLoader(ds, batch_size=4, train=True, seed=1)
    first = [y.tolist() for _, y in loader]
    again = [y.tolist() for _, y in loader]
    loader.set_epoch(1)
    other = [y.tolist() for _, y in loader]
    assert first == again and first != other


def test_a_batch_does_not_depend_on_the_batches_before_it(image_folder):
    ds = data.read_image_folder(image_folder)
    loader = data.DeviceLoader(ds, batch_size=4, train=True, seed=3)
    loader.set_epoch(2)
    all_batches = list(loader)
    order = loader.order()
    x2, y2 = loader.batch(order[8:12], step=2)  # produced alone
    assert torch.equal(x2, all_batches[2][0]) and torch.equal(y2, all_batches[2][1])


def test_missing_cifar10_without_download_says_where_and_how(tmp_path):
    with pytest.raises(data.DataNotFoundError) as err:
        data.load_cifar10(train=False, root=tmp_path, download=False)
    message = str(err.value)
    assert str(tmp_path / "cifar-10-batches-py") in message
    assert str(tmp_path / "cifar10" / "test") in message
    assert "coursekit data" in message and "COURSEKIT_DATA" in message


def test_failed_download_is_reported(tmp_path, monkeypatch):
    import torchvision.datasets

    def offline(*args, **kwargs):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(torchvision.datasets.CIFAR10, "__init__", offline)
    with pytest.raises(data.DataNotFoundError, match="the download failed: URLError"):
        data.load_cifar10(train=True, root=tmp_path, download=True)


def test_cifar10_from_an_image_folder_tree(tmp_path, image_folder):
    # the same layout as the offline copy: <root>/cifar10/{train,test}/<class>/
    import shutil

    for split in ("train", "test"):
        for c in data.CIFAR10_CLASSES:
            shutil.copytree(image_folder / "dog", tmp_path / "cifar10" / split / c)
    ds = data.load_cifar10(train=False, root=tmp_path)
    assert ds.classes == data.CIFAR10_CLASSES and len(ds) == 40
    assert ds.source["kind"] == "image-folder" and "ImageFolder copy" in ds.source["description"]


@requires_cifar10
def test_cifar10_offline_copy_is_complete():
    train, test = data.load_cifar10(train=True), data.load_cifar10(train=False)
    assert train.images.shape == (50000, 3, 32, 32) and test.images.shape == (10000, 3, 32, 32)
    assert torch.bincount(test.labels).tolist() == [1000] * 10
    assert train.source["fingerprint"] != test.source["fingerprint"]


def test_image_folder_loader_for_large_images(image_folder):
    loader = data.image_folder_loader(image_folder, image_size=16, batch_size=4, train=True, workers=0)
    x, y = next(iter(loader))
    assert x.shape == (4, 3, 16, 16) and x.dtype == torch.float32 and len(loader.dataset) == 12
    x, y = next(iter(data.image_folder_loader(image_folder, image_size=16, batch_size=12, train=False, workers=0)))
    assert x.shape == (12, 3, 16, 16) and y.tolist() == [0] * 4 + [1] * 4 + [2] * 4


def make_tree(base, classes=("ants", "bees"), splits=("train", "val"), image_folder=None):
    import shutil

    for split in splits:
        for c in classes:
            shutil.copytree(image_folder / "dog", base / split / c)


def test_folder_dataset_from_its_tree(tmp_path, image_folder):
    make_tree(tmp_path / "hymenoptera_data", image_folder=image_folder)
    ds = data.load_folder_dataset("hymenoptera", "test", image_size=6, root=tmp_path, download=False)
    assert ds.classes == ("ants", "bees") and ds.images.shape == (8, 3, 6, 6)
    assert "hymenoptera (test)" in ds.source["description"] and ds.source["path"].endswith("val")


def test_folder_dataset_errors(tmp_path, monkeypatch):
    with pytest.raises(data.DataNotFoundError) as err:
        data.load_folder_dataset("hymenoptera", "train", root=tmp_path, download=False)
    assert "hymenoptera_data/train/<class>/*.jpg" in str(err.value)
    assert "https://download.pytorch.org/tutorial/hymenoptera_data.zip" in str(err.value)
    with pytest.raises(data.DataNotFoundError, match="switched off") as err:  # PACS: its pinned copy is named
        data.load_folder_dataset("pacs", "sketch", root=tmp_path, download=False)
    assert "flwrlabs/pacs/resolve/394113073258ead631f617d2e13bb377c0715c4b" in str(err.value)
    monkeypatch.setitem(data.FOLDER_DATASETS, "nowhere", data.FolderDataset("nowhere", "nowhere", {"train": "train"},
                                                                            where="a colleague's disk"))
    with pytest.raises(data.DataNotFoundError, match="no download address") as err:
        data.load_folder_dataset("nowhere", "train", root=tmp_path)
    assert "get it from a colleague's disk" in str(err.value)
    with pytest.raises(KeyError, match="splits: photo, art_painting, cartoon, sketch"):
        data.load_folder_dataset("pacs", "train", root=tmp_path)
    with pytest.raises(KeyError, match="unknown data set 'mnist'"):
        data.load_folder_dataset("mnist", "train", root=tmp_path)


def served_zip(path, top: str, image_folder, classes=("hat", "shirt"), splits=("train", "validation", "test")):
    """A zip archive at ``path`` that unpacks to ``top/<split>/<class>/*.png``, as the real archive does."""
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        for split in splits:
            for c in classes:
                for image in sorted((image_folder / "dog").iterdir())[:2]:
                    archive.write(image, f"{top}/{split}/{c}/{image.name}")
    return path


def test_folder_dataset_download_unpacks_and_renames(tmp_path, image_folder, monkeypatch):
    """The real download code on a file:// archive: the tree under its usual name, nothing else left."""
    import dataclasses

    archive = served_zip(tmp_path / "master.zip", "clothing-dataset-small-master", image_folder)
    spec = data.FOLDER_DATASETS["clothing-small"]
    monkeypatch.setitem(data.FOLDER_DATASETS, "clothing-small", dataclasses.replace(spec, url=archive.as_uri()))
    root = tmp_path / "data"
    ds = data.load_folder_dataset("clothing-small", "validation", image_size=8, root=root, download=True)
    assert ds.classes == ("hat", "shirt") and (root / "clothing-small" / "test" / "hat").is_dir()
    assert sorted(p.name for p in root.iterdir() if p.name != "decoded") == ["clothing-small"]  # no archive, no temp


def test_an_archive_that_does_not_unpack_is_named_with_the_fix(tmp_path, monkeypatch):
    """An archive left half-written by an interrupted download is not taken for the data set."""
    left = tmp_path / "hymenoptera_data.zip"
    left.write_bytes(b"PK\x03\x04 only the start of a zip")
    with pytest.raises(data.DataNotFoundError) as err:
        data.load_folder_dataset("hymenoptera", "train", root=tmp_path, download=True)
    message = str(err.value)
    assert f"{left} does not unpack" in message and f"delete {left}" in message
    assert not (tmp_path / "hymenoptera_data").exists()  # nothing half-unpacked is left


def test_failed_folder_download_is_reported(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    with pytest.raises(data.DataNotFoundError, match="the download failed: URLError"):
        data.load_folder_dataset("hymenoptera", "train", root=tmp_path, download=True)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not (data.data_root() / "hymenoptera_data").is_dir(), reason="no hymenoptera_data under COURSEKIT_DATA")
def test_hymenoptera_offline_copy():
    train = data.load_folder_dataset("hymenoptera", "train", image_size=32)
    test = data.load_folder_dataset("hymenoptera", "test", image_size=32)
    assert (len(train), len(test)) == (244, 153)  # 124 + 121 - one .gif that is not an image; 70 + 83
    assert torch.bincount(test.labels).tolist() == [70, 83]


def make_caltech(root, image_folder, with_lists=True):
    """torchvision's Caltech-101 layout: one tree of class folders (with the clutter class)."""
    import shutil

    images = root / "caltech101" / "101_ObjectCategories"
    for c in ("accordion", "BACKGROUND_Google", "zebra"):
        shutil.copytree(image_folder / "dog", images / c)
    if with_lists:
        (root / "caltech101" / "train.txt").write_text("accordion/000.png\naccordion/001.png\nBACKGROUND_Google/000.png\nzebra/002.png\n")
        (root / "caltech101" / "test.txt").write_text("accordion/003.png\nzebra/000.png\n")
    return images


def test_caltech101_follows_its_list_files(tmp_path, image_folder):
    make_caltech(tmp_path, image_folder)
    train = data.load_folder_dataset("caltech101", "train", image_size=8, root=tmp_path, download=False)
    test = data.load_folder_dataset("caltech101", "test", image_size=8, root=tmp_path, download=False)
    assert train.classes == ("accordion", "zebra")  # the clutter class is left out, as torchvision does
    assert train.labels.tolist() == [0, 0, 1] and test.labels.tolist() == [0, 1]
    assert train.source["split"] == "the split listed in train.txt"


def test_caltech101_without_lists_gets_a_seeded_split_written_once(tmp_path, image_folder):
    make_caltech(tmp_path, image_folder, with_lists=False)
    train = data.load_folder_dataset("caltech101", "train", image_size=8, root=tmp_path, download=False)
    assert "seeded 2/3 : 1/3 split" in train.source["split"]
    lines = (tmp_path / "caltech101" / "train.txt").read_text().split()
    assert len(lines) == 6 and all(not line.startswith("BACKGROUND") for line in lines)  # 3 of 4 per class
    test_lines = (tmp_path / "caltech101" / "test.txt").read_text().split()
    assert len(test_lines) == 2 and not set(lines) & set(test_lines)
    assert data.split_lists(tmp_path / "caltech101" / "101_ObjectCategories", ("accordion", "zebra"))["train"] == lines


def test_caltech101_offline_names_its_pinned_archive(tmp_path):
    # Downloads from Caltech's own archive are exercised offline in test_mirrors.py; without it, the error says where.
    with pytest.raises(data.DataNotFoundError) as err:
        data.load_folder_dataset("caltech101", "train", root=tmp_path / "elsewhere", download=False)
    assert "https://data.caltech.edu/records/mzrjq-6wc02/files/caltech-101.zip" in str(err.value)
    assert "caltech101/101_ObjectCategories/<class>/*.jpg" in str(err.value)


def test_at_most_per_class_takes_what_a_class_has():
    labels = torch.tensor([0] * 5 + [1] * 2)
    assert len(data.stratified_indices(labels, 3, at_most=True)) == 5
    with pytest.raises(ValueError, match="class 1 has 2 images, fewer than per_class=3"):
        data.stratified_indices(labels, 3)


@pytest.mark.skipif(not (data.data_root() / "caltech101").is_dir(), reason="no caltech101 under COURSEKIT_DATA")
def test_caltech101_offline_copy():
    test = data.load_folder_dataset("caltech101", "test", image_size=32)
    assert len(test.classes) == 101 and "BACKGROUND_Google" not in test.classes
    assert len(test) == 3049 - 156  # the listed test split without its 156 clutter images


# --- decoded data kept on disk -------------------------------------------------------------------

def make_cifar10(root, image_folder):
    import shutil

    for split in ("train", "test"):
        for c in data.CIFAR10_CLASSES:
            shutil.copytree(image_folder / "dog", root / "cifar10" / split / c)


@pytest.fixture
def counted_decoder(monkeypatch, tmp_path):
    """Counts the decodings of image files; a fresh process is simulated by clearing the memory. The
    decoded data go to a cache folder of the test's own."""
    monkeypatch.setenv("COURSEKIT_CACHE", str(tmp_path / "cache"))
    calls = []
    decode = data.decode.read_images

    def counting(*args, **kwargs):
        calls.append(args[0])
        return decode(*args, **kwargs)

    monkeypatch.setattr(data.decode, "read_images", counting)
    monkeypatch.delenv("COURSEKIT_DATA_CACHE", raising=False)
    data.cache._LOADED.clear()
    yield calls
    data.cache._LOADED.clear()


def same(a, b):
    return (torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels) and a.classes == b.classes
            and a.source == b.source and list(a.source) == list(b.source))


def test_a_second_process_reads_decoded_cifar10_from_the_cache(tmp_path, image_folder, counted_decoder, monkeypatch):
    make_cifar10(tmp_path, image_folder)
    first = data.load_cifar10(train=False, root=tmp_path)
    assert len(counted_decoder) == 1
    assert [p.parent for p in tmp_path.rglob("*.pt")] == [data.cache.folder(tmp_path)]  # in the cache, not the data
    assert data.cache.folder(tmp_path).is_relative_to(tmp_path / "cache") and not (tmp_path / "decoded").exists()
    data.cache._LOADED.clear()

    def fail(*args, **kwargs):
        raise AssertionError("decoded again")

    monkeypatch.setattr(data.decode, "read_images", fail)
    again = data.load_cifar10(train=False, root=tmp_path)
    assert same(again, first) and again.source["description"] == "ImageFolder copy of CIFAR-10 (test)"
    monkeypatch.setenv("COURSEKIT_DATA_CACHE", "0")
    data.cache._LOADED.clear()
    monkeypatch.setattr(data.decode, "read_images", data.read_images)  # the real decoder, as the package exports it
    assert same(data.load_cifar10(train=False, root=tmp_path), first)  # a fresh decode gives the same


def test_a_changed_source_is_decoded_anew(tmp_path, image_folder, counted_decoder):
    import os
    import shutil

    make_cifar10(tmp_path, image_folder)
    first = data.load_cifar10(train=True, root=tmp_path)
    image = tmp_path / "cifar10" / "train" / "cat" / "000.png"
    os.utime(image, ns=(image.stat().st_atime_ns, image.stat().st_mtime_ns + 10**9))  # touched
    data.cache._LOADED.clear()
    assert same(data.load_cifar10(train=True, root=tmp_path), first) and len(counted_decoder) == 2
    shutil.copy(image, image.with_name("999.png"))  # an image more
    data.cache._LOADED.clear()
    more = data.load_cifar10(train=True, root=tmp_path)
    assert len(counted_decoder) == 3 and len(more) == len(first) + 1 and more.source["images"] == 41
    assert len(list(data.cache.folder(tmp_path).glob("cifar10-train-*.pt"))) == 1  # the stale file is gone


def test_a_corrupt_cache_is_decoded_again_and_replaced(tmp_path, image_folder, counted_decoder):
    make_cifar10(tmp_path, image_folder)
    first = data.load_cifar10(train=False, root=tmp_path)
    (cached,) = data.cache.folder(tmp_path).glob("cifar10-test-*.pt")
    cached.write_bytes(cached.read_bytes()[:1000])  # cut short, as by a full disk
    data.cache._LOADED.clear()
    with pytest.warns(UserWarning, match="could not be read"):
        again = data.load_cifar10(train=False, root=tmp_path)
    assert same(again, first) and len(counted_decoder) == 2
    data.cache._LOADED.clear()
    assert same(data.load_cifar10(train=False, root=tmp_path), first) and len(counted_decoder) == 2  # rewritten


def test_folder_datasets_are_cached_per_image_size(tmp_path, image_folder, counted_decoder):
    make_caltech(tmp_path, image_folder)
    first = data.load_folder_dataset("caltech101", "train", image_size=8, root=tmp_path, download=False)
    data.cache._LOADED.clear()
    again = data.load_folder_dataset("caltech101", "train", image_size=8, root=tmp_path, download=False)
    assert same(again, first) and len(counted_decoder) == 1
    small = data.load_folder_dataset("caltech101", "train", image_size=4, root=tmp_path, download=False)
    assert small.images.shape[-1] == 4 and len(counted_decoder) == 2
    assert len(list(data.cache.folder(tmp_path).glob("caltech101-train-*.pt"))) == 2


def test_the_cache_can_be_switched_off(tmp_path, image_folder, counted_decoder, monkeypatch):
    monkeypatch.setenv("COURSEKIT_DATA_CACHE", "0")
    make_cifar10(tmp_path, image_folder)
    data.load_cifar10(train=False, root=tmp_path)
    data.cache._LOADED.clear()
    data.load_cifar10(train=False, root=tmp_path)
    assert len(counted_decoder) == 2 and not data.cache.folder(tmp_path).exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_data_folder_is_read_without_writing_into_it(tmp_path, image_folder, counted_decoder):
    make_caltech(tmp_path, image_folder, with_lists=False)  # no list files: the seeded split is drawn
    make_tree(tmp_path / "hymenoptera_data", image_folder=image_folder)
    folders = [tmp_path, *(p for p in tmp_path.rglob("*") if p.is_dir())]
    for folder in folders:
        folder.chmod(0o555)  # a lab's read-only copy
    try:
        with pytest.warns(UserWarning, match="could not"):
            caltech = data.load_folder_dataset("caltech101", "train", image_size=8, root=tmp_path, download=False)
            bees = data.load_folder_dataset("hymenoptera", "train", image_size=8, root=tmp_path, download=False)
    finally:
        for folder in folders:
            folder.chmod(0o755)
    assert len(caltech) == 6 and "seeded 2/3 : 1/3 split" in caltech.source["split"] and len(bees) == 8
    assert not (tmp_path / "caltech101" / "train.txt").exists() and not data.cache.folder(tmp_path).exists()


def test_a_partial_torchvision_folder_does_not_hide_the_offline_copy(tmp_path, image_folder, counted_decoder):
    """An empty cifar-10-batches-py/ (an interrupted extraction) beside a complete ImageFolder copy: the
    copy is read; with no copy, the error says the folder is incomplete and what to do."""
    (tmp_path / "cifar-10-batches-py").mkdir()
    (tmp_path / "cifar-10-batches-py" / "data_batch_1").write_bytes(b"half")
    make_cifar10(tmp_path, image_folder)
    found = data.load_cifar10(train=False, root=tmp_path, download=False)
    assert found.source["description"] == "ImageFolder copy of CIFAR-10 (test)"
    bare = tmp_path / "bare"
    (bare / "cifar-10-batches-py").mkdir(parents=True)
    with pytest.raises(data.DataNotFoundError, match=r"incomplete, without data_batch_1, .*test_batch.*delete it"):
        data.load_cifar10(train=False, root=bare, download=False)
