"""MNIST as one-channel uint8 tensors (``coursekit.data.mnist``): from torchvision's files, from an offline
ImageFolder tree of PNGs (decoded grey), by a download, or an error that names both places and both fixes."""
from __future__ import annotations

import urllib.error
from pathlib import Path

import pytest
import torch
import torchvision

from coursekit import data
from coursekit.data import cache, mnist

PER_DIGIT = 2


@pytest.fixture(autouse=True)
def fresh_memory(monkeypatch):
    """Each test reads its own files: nothing from an earlier test's in-memory data sets, no disk cache."""
    monkeypatch.setattr(cache, "_LOADED", {})
    monkeypatch.setenv("COURSEKIT_DATA_CACHE", "0")
    monkeypatch.delenv("COURSEKIT_DOWNLOAD", raising=False)


def digit_image(digit: int, i: int) -> torch.Tensor:
    """A grey 28x28 image (1, 28, 28) that encodes its digit and its index: a bar of ``10 * digit + 20``
    in row ``digit``, and pixel (27, 27) = ``i``."""
    img = torch.zeros(1, 28, 28, dtype=torch.uint8)
    img[0, 4 + digit, 5:23] = 10 * digit + 20
    img[0, 27, 27] = i
    return img


def mnist_tree(root: Path, split: str = "test", per_digit: int = PER_DIGIT) -> Path:
    """``root/mnist/<split>/<digit>/*.png``: 10 folders of ``per_digit`` grey PNGs (as the offline copy)."""
    from torchvision.io import write_png

    folder = root / "mnist" / split
    for d in range(10):
        (folder / str(d)).mkdir(parents=True)
        for i in range(per_digit):
            write_png(digit_image(d, i), str(folder / str(d) / f"{i:05d}.png"))
    (folder / "3" / "README.txt").write_text("not an image")  # skipped, as any non-image file
    return folder


class FakeMNIST:
    """Stands in for ``torchvision.datasets.MNIST``: records its calls, holds 5 digits (N, 28, 28)."""

    calls: list[dict] = []

    def __init__(self, root, train=True, download=False):
        FakeMNIST.calls.append(dict(root=root, train=train, download=download))
        g = torch.Generator().manual_seed(1 if train else 2)
        self.data = torch.randint(0, 256, (5, 28, 28), generator=g, dtype=torch.uint8)
        self.targets = torch.tensor([7, 2, 1, 0, 4])


@pytest.fixture
def fake_mnist(monkeypatch):
    FakeMNIST.calls = []
    monkeypatch.setattr(torchvision.datasets, "MNIST", FakeMNIST)
    return FakeMNIST


# --- the offline ImageFolder copy ----------------------------------------------------------------

def test_png_tree_loads_as_one_channel_uint8(tmp_path):
    mnist_tree(tmp_path, "test")
    ds = data.load_mnist(train=False, root=tmp_path, download=False)
    assert ds.images.shape == (10 * PER_DIGIT, 1, 28, 28) and ds.images.dtype == torch.uint8
    assert ds.classes == tuple(str(d) for d in range(10)) == data.MNIST_CLASSES
    assert ds.labels.tolist() == [d for d in range(10) for _ in range(PER_DIGIT)]
    for n in range(len(ds)):  # the pixels are the PNGs' own, in folder then file order
        d, i = divmod(n, PER_DIGIT)
        assert torch.equal(ds.images[n], digit_image(d, i))
    assert ds.source["kind"] == "image-folder"
    assert ds.source["path"] == str(tmp_path / "mnist" / "test")
    assert "test" in ds.source["description"] and "lossless" in ds.source["description"]
    assert ds.source["images"] == 10 * PER_DIGIT


def test_the_train_split_reads_its_own_folder(tmp_path):
    mnist_tree(tmp_path, "train", per_digit=1)
    train = data.load_mnist(train=True, root=tmp_path, download=False)
    assert len(train) == 10 and "train" in train.source["description"]
    with pytest.raises(data.DataNotFoundError):  # no test folder: the train folder does not stand in for it
        data.load_mnist(train=False, root=tmp_path, download=False)


def test_an_rgb_png_in_the_tree_is_read_as_grey(tmp_path):
    from torchvision.io import write_png

    folder = mnist_tree(tmp_path, "test", per_digit=1)
    rgb = torch.zeros(3, 28, 28, dtype=torch.uint8)
    rgb[:, 10:18, 10:18] = 200  # grey ink, stored as three equal channels
    write_png(rgb, str(folder / "5" / "00001.png"))
    ds = data.load_mnist(train=False, root=tmp_path, download=False)
    assert ds.images.shape == (11, 1, 28, 28)
    rgb_index = ds.labels.tolist().index(5) + 1  # 5's second file
    assert ds.labels[rgb_index] == 5
    assert torch.equal(ds.images[rgb_index, 0], rgb[0])  # equal channels: the same grey value


def test_a_loaded_set_is_kept_in_memory(tmp_path):
    mnist_tree(tmp_path, "test", per_digit=1)
    first = data.load_mnist(train=False, root=tmp_path, download=False)
    for png in (tmp_path / "mnist").rglob("*.png"):
        png.unlink()  # the files are gone, the set read before is not
    assert data.load_mnist(train=False, root=tmp_path, download=False) is first


def test_the_disk_cache_returns_the_same_digits(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSEKIT_DATA_CACHE", "1")
    monkeypatch.setenv("COURSEKIT_CACHE", str(tmp_path / "cache"))
    mnist_tree(tmp_path, "test", per_digit=1)
    first = data.load_mnist(train=False, root=tmp_path, download=False)
    assert len(list(cache.folder(tmp_path).glob("mnist-test-*.pt"))) == 1
    cache._LOADED.clear()

    def fail(*args, **kwargs):
        raise AssertionError("decoded again")

    monkeypatch.setattr(mnist.decode, "read_images", fail)
    again = data.load_mnist(train=False, root=tmp_path, download=False)
    assert torch.equal(again.images, first.images) and torch.equal(again.labels, first.labels)
    assert again.images.shape[1] == 1 and again.source["kind"] == "image-folder"


def test_wrong_class_folders_are_refused(tmp_path):
    folder = mnist_tree(tmp_path, "test", per_digit=1)
    (folder / "10").mkdir()
    with pytest.raises(ValueError, match="expected"):
        data.load_mnist(train=False, root=tmp_path, download=False)


def test_load_dataset_names_mnist(tmp_path):
    mnist_tree(tmp_path, "test", per_digit=1)
    same = data.load_dataset("mnist", "test", 28, root=tmp_path, download=False)
    assert same.images.shape == (10, 1, 28, 28)
    big = data.load_dataset("mnist", "test", 32, root=tmp_path, download=False)
    assert big.images.shape == (10, 1, 32, 32) and big.images.dtype == torch.uint8
    assert torch.equal(big.labels, same.labels) and big.source["resized"] == "to 32 px"
    with pytest.raises(KeyError, match="no split 'validation'"):
        data.load_dataset("mnist", "validation", 28, root=tmp_path, download=False)


# --- torchvision's files, downloads and the error ------------------------------------------------

def test_torchvision_files_come_first(tmp_path, fake_mnist):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in mnist.missing_raw_files(raw):  # all four of torchvision's files
        (raw / name).write_bytes(b"\0")
    mnist_tree(tmp_path, "test", per_digit=1)  # also there: torchvision's files win
    ds = data.load_mnist(train=False, root=tmp_path, download=False)
    assert fake_mnist.calls == [dict(root=str(tmp_path), train=False, download=False)]
    reference = FakeMNIST(str(tmp_path), train=False)
    assert ds.images.shape == (5, 1, 28, 28) and ds.images.dtype == torch.uint8
    assert torch.equal(ds.images[:, 0], reference.data) and ds.labels.tolist() == [7, 2, 1, 0, 4]
    assert ds.classes == data.MNIST_CLASSES
    assert ds.source["kind"] == "torchvision" and ds.source["path"] == str(tmp_path / "MNIST")
    assert ds.source["images"] == 5 and ds.source["fingerprint"] == data.fingerprint(ds.images, ds.labels)
    ds.labels[0] = 9  # the targets were copied, not shared with the data set object
    assert reference.targets[0] == 7


def test_an_empty_raw_folder_falls_through_to_the_png_tree(tmp_path, fake_mnist):
    (tmp_path / "MNIST" / "raw").mkdir(parents=True)
    mnist_tree(tmp_path, "test", per_digit=1)
    ds = data.load_mnist(train=False, root=tmp_path, download=False)
    assert ds.source["kind"] == "image-folder" and fake_mnist.calls == []


def test_a_partial_raw_folder_falls_through_to_the_png_tree_and_is_named(tmp_path, fake_mnist):
    """An interrupted extraction leaves some of torchvision's files: not a copy to read."""
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "t10k-images-idx3-ubyte").write_bytes(b"\0")
    mnist_tree(tmp_path, "test", per_digit=1)
    assert data.load_mnist(train=False, root=tmp_path, download=False).source["kind"] == "image-folder"
    assert fake_mnist.calls == []
    bare = tmp_path / "bare"
    (bare / "MNIST" / "raw").mkdir(parents=True)
    (bare / "MNIST" / "raw" / "t10k-images-idx3-ubyte").write_bytes(b"\0")
    with pytest.raises(data.DataNotFoundError, match=r"incomplete, without train-images-idx3-ubyte"):
        data.load_mnist(train=False, root=bare, download=False)


def test_download_when_allowed(tmp_path, fake_mnist):
    ds = data.load_mnist(train=True, root=tmp_path, download=True)
    assert fake_mnist.calls == [dict(root=str(tmp_path), train=True, download=True)]
    assert ds.source["kind"] == "torchvision" and ds.images.shape == (5, 1, 28, 28)


def test_download_follows_the_environment_by_default(tmp_path, fake_mnist, monkeypatch):
    monkeypatch.setenv("COURSEKIT_DOWNLOAD", "0")
    with pytest.raises(data.DataNotFoundError, match="downloading is switched off"):
        data.load_mnist(train=False, root=tmp_path)
    assert fake_mnist.calls == []
    monkeypatch.setenv("COURSEKIT_DOWNLOAD", "1")
    assert data.load_mnist(train=False, root=tmp_path).source["kind"] == "torchvision"
    assert fake_mnist.calls[-1]["download"] is True


def test_missing_mnist_without_download_names_both_places_and_fixes(tmp_path, fake_mnist):
    with pytest.raises(data.DataNotFoundError) as err:
        data.load_mnist(train=False, root=tmp_path, download=False)
    message = str(err.value)
    assert str(tmp_path / "MNIST" / "raw") in message
    assert str(tmp_path / "mnist" / "test") + "/<digit>/*.png" in message
    assert "downloading is switched off" in message
    assert "coursekit data" in message and "COURSEKIT_DATA" in message and "download=True" in message
    assert fake_mnist.calls == []  # nothing was fetched
    assert isinstance(err.value, FileNotFoundError)


def test_a_failed_download_is_reported(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(torchvision.datasets, "MNIST", offline)
    with pytest.raises(data.DataNotFoundError) as err:
        data.load_mnist(train=True, root=tmp_path, download=True)
    message = str(err.value)
    assert "the download failed: URLError" in message and "Name or service not known" in message
    assert str(tmp_path / "MNIST" / "raw") in message and str(tmp_path / "mnist" / "train") in message


# --- padding ---------------------------------------------------------------------------------------

def test_padded_adds_a_black_border():
    g = torch.Generator().manual_seed(0)
    images = torch.randint(1, 256, (3, 1, 28, 28), generator=g, dtype=torch.uint8)  # no black pixel
    ds = data.ImageTensors(images, torch.tensor([1, 2, 3]), data.MNIST_CLASSES, dict(kind="test"))
    out = data.padded(ds)
    assert out.images.shape == (3, 1, 32, 32) and out.images.dtype == torch.uint8
    assert torch.equal(out.images[:, :, 2:30, 2:30], images)
    border = torch.ones(32, 32, dtype=torch.bool)
    border[2:30, 2:30] = False
    assert int(out.images[:, :, border].max()) == 0 and int(border.sum()) == 32 * 32 - 28 * 28
    assert torch.equal(out.labels, ds.labels) and out.classes == ds.classes
    assert out.source["kind"] == "test" and out.source["padded"] == "2 px of black border"
    assert "padded" not in ds.source  # the original's provenance is not changed
    wide = data.padded(ds, pixels=5)
    assert wide.images.shape == (3, 1, 38, 38) and torch.equal(wide.images[:, :, 5:33, 5:33], images)


def test_read_images_grey_and_rgb(tmp_path):
    from torchvision.io import write_png

    rgb = torch.zeros(3, 4, 4, dtype=torch.uint8)
    rgb[0] = 255  # pure red: grey is its luma, well below 255
    write_png(rgb, str(tmp_path / "red.png"))
    files = [(tmp_path / "red.png", 0)]
    grey = data.read_images(files, ("a",), grey=True)
    colour = data.read_images(files, ("a",))
    assert grey.images.shape == (1, 1, 4, 4) and colour.images.shape == (1, 3, 4, 4)
    assert torch.equal(colour.images[0], rgb)
    assert 50 < int(grey.images[0, 0, 0, 0]) < 100  # ITU-R 601 luma of red: 0.299 * 255 = 76
