"""Damaged or inconsistent files on disk give errors that name the file and say how to fix it:
images that do not decode, class folders that are empty or missing from a split, weights files
whose content is not what their name promises."""
import hashlib
import re
import shutil

import pytest
import torch

from coursekit import data, models
from coursekit.models import weights as pt


@pytest.fixture(autouse=True)
def fresh_memory():
    """Each test reads its own files: nothing from an earlier test's in-memory data sets."""
    data.cache._LOADED.clear()
    yield
    data.cache._LOADED.clear()


# --- images that do not decode -------------------------------------------------------------------

def jpeg_folder(root, classes=("cat", "dog", "emu"), per_class=20):
    """An ImageFolder tree of small JPEGs: many images, so that a bad one is hard to find by eye."""
    from torchvision.io import write_jpeg

    g = torch.Generator().manual_seed(0)
    for name in classes:
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            write_jpeg(torch.randint(0, 256, (3, 16, 16), generator=g, dtype=torch.uint8), str(root / name / f"{i:03d}.jpg"))
    return root


DAMAGES = {
    "truncated": lambda good: good[: len(good) // 2],
    "empty": lambda good: b"",
    "not a jpeg": lambda good: b"<html>404 Not Found</html>" * 20,
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_an_image_that_does_not_decode_is_named_with_the_fix(tmp_path, damage):
    folder = jpeg_folder(tmp_path / "tree")
    bad = folder / "dog" / "013.jpg"
    bad.write_bytes(DAMAGES[damage](bad.read_bytes()))
    with pytest.raises(data.BadDataError) as err:
        data.read_image_folder(folder)
    message = str(err.value)
    assert str(bad) in message and "could not be decoded" in message
    assert "delete or replace" in message and "download" in message


def test_a_folder_data_set_with_a_bad_image_works_again_once_it_is_removed(tmp_path):
    jpeg_folder(tmp_path / "hymenoptera_data" / "train", classes=("ants", "bees"))
    jpeg_folder(tmp_path / "hymenoptera_data" / "val", classes=("ants", "bees"), per_class=3)
    bad = tmp_path / "hymenoptera_data" / "train" / "bees" / "007.jpg"
    bad.write_bytes(bad.read_bytes()[:100])
    with pytest.raises(data.BadDataError, match="007.jpg"):
        data.load_folder_dataset("hymenoptera", "train", image_size=8, root=tmp_path, download=False)
    bad.unlink()
    ds = data.load_folder_dataset("hymenoptera", "train", image_size=8, root=tmp_path, download=False)
    assert len(ds) == 39 and torch.bincount(ds.labels).tolist() == [20, 19]


def test_the_loader_for_large_images_names_a_bad_image_too(tmp_path):
    folder = jpeg_folder(tmp_path / "tree", per_class=3)
    bad = folder / "emu" / "001.jpg"
    bad.write_bytes(bad.read_bytes()[:300])
    loader = data.image_folder_loader(folder, image_size=16, batch_size=9, train=False, workers=0)
    with pytest.raises(data.BadDataError, match=re.escape(str(bad))):
        next(iter(loader))


# --- class folders: empty, or missing from a split -----------------------------------------------

def test_an_empty_class_folder_is_refused(image_folder):
    (image_folder / "fox").mkdir()
    with pytest.raises(data.BadDataError) as err:
        data.read_image_folder(image_folder)
    assert str(image_folder / "fox") in str(err.value) and "no images" in str(err.value)
    (image_folder / "fox" / "readme.txt").write_text("only a note")  # still no image
    with pytest.raises(data.BadDataError, match="fox"):
        data.image_folder_files(image_folder)


def make_hymenoptera(root, image_folder, train=("ants", "bees"), val=("ants", "bees")):
    for split, classes in (("train", train), ("val", val)):
        for name in classes:
            shutil.copytree(image_folder / "dog", root / "hymenoptera_data" / split / name)


@pytest.mark.parametrize("split", ["train", "test"])
def test_a_class_missing_from_one_split_is_refused(tmp_path, image_folder, split):
    make_hymenoptera(tmp_path, image_folder, train=("ants", "bees", "wasps"), val=("ants", "wasps"))
    with pytest.raises(data.BadDataError) as err:  # else the test set's wasps would get the bees' label
        data.load_folder_dataset("hymenoptera", split, image_size=8, root=tmp_path, download=False)
    message = str(err.value)
    assert "'bees'" in message and "'wasps'" not in message and "'ants'" not in message
    assert str(tmp_path / "hymenoptera_data" / "train") in message and str(tmp_path / "hymenoptera_data" / "val") in message


def test_an_empty_class_folder_in_a_folder_data_set_is_refused(tmp_path, image_folder):
    make_hymenoptera(tmp_path, image_folder)
    for file in (tmp_path / "hymenoptera_data" / "val" / "bees").iterdir():
        file.unlink()
    with pytest.raises(data.BadDataError, match="bees"):
        data.load_folder_dataset("hymenoptera", "test", image_size=8, root=tmp_path, download=False)


def make_caltech(root, image_folder, train: str, test: str, classes=("accordion", "BACKGROUND_Google", "zebra")):
    images = root / "caltech101" / "101_ObjectCategories"
    for name in classes:
        shutil.copytree(image_folder / "dog", images / name)
    (root / "caltech101" / "train.txt").write_text(train)
    (root / "caltech101" / "test.txt").write_text(test)
    return images


def test_a_class_missing_from_a_split_list_is_refused(tmp_path, image_folder):
    make_caltech(tmp_path, image_folder, train="accordion/000.png\nzebra/001.png\n", test="accordion/003.png\n")
    assert len(data.load_folder_dataset("caltech101", "train", image_size=8, root=tmp_path, download=False)) == 2
    with pytest.raises(data.BadDataError) as err:
        data.load_folder_dataset("caltech101", "test", image_size=8, root=tmp_path, download=False)
    assert "'zebra'" in str(err.value) and str(tmp_path / "caltech101" / "test.txt") in str(err.value)


def test_a_split_list_naming_an_unknown_class_is_refused(tmp_path, image_folder):
    make_caltech(tmp_path, image_folder, train="accordion/000.png\nzebra/001.png\nyak/002.png\nBACKGROUND_Google/000.png\n",
                 test="accordion/003.png\nzebra/000.png\n")
    with pytest.raises(data.BadDataError) as err:  # the clutter class is left out on purpose; yak is unknown
        data.load_folder_dataset("caltech101", "train", image_size=8, root=tmp_path, download=False)
    assert "'yak'" in str(err.value) and "BACKGROUND_Google" not in str(err.value)


def test_an_empty_class_folder_of_a_listed_data_set_is_refused(tmp_path, image_folder):
    images = make_caltech(tmp_path, image_folder, train="accordion/000.png\n", test="accordion/001.png\n",
                          classes=("accordion",))
    (images / "zebra").mkdir()
    with pytest.raises(data.BadDataError, match="zebra"):
        data.load_folder_dataset("caltech101", "train", image_size=8, root=tmp_path, download=False)


# --- weights files whose content is not what their name promises ---------------------------------

def hashed_weights(folder, stem="tiny", state=None):
    """A small state dict saved as ``<stem>-<first 8 hex digits of its sha256>.pt`` in ``folder``."""
    state = state if state is not None else {"w": torch.arange(10.0)}
    tmp = folder / f"{stem}.tmp"
    torch.save(state, tmp)
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()[:8]
    return tmp.rename(folder / f"{stem}-{digest}.pt")


def test_hash_in_name_follows_torch_hubs_convention():
    assert pt.hash_in_name("resnet20-12fca82f.th") == "12fca82f"
    assert pt.hash_in_name("vit_b_16_swag-9ac1b537.pth") == "9ac1b537"
    assert pt.hash_in_name("resnet-0123456789abcdef.pth") == "0123456789abcdef"
    assert pt.hash_in_name("weights.pt") is None and pt.hash_in_name("resnet-v2.pth") is None


def test_weights_in_the_hub_cache_are_checked_against_their_name(hub):
    path = hashed_weights(hub)
    url = f"https://example.invalid/models/{path.name}"
    assert torch.equal(pt.load_weights(url)["w"], torch.arange(10.0))  # the right file loads
    torch.save({"w": torch.zeros(10)}, path)  # another file under the same name
    with pytest.raises(pt.WeightsDamagedError) as err:
        pt.load_weights(url)
    message = str(err.value)
    assert str(path) in message and "sha256" in message and "delete" in message and "download" in message
    assert isinstance(err.value, pt.WeightsUnavailableError)  # callers that catch the old error still do


def test_truncated_weights_name_their_path(hub):
    hashed = hashed_weights(hub)
    hashed.write_bytes(hashed.read_bytes()[:200])
    with pytest.raises(pt.WeightsDamagedError, match=re.escape(str(hashed))):
        pt.load_weights(f"https://example.invalid/{hashed.name}")
    plain = hub / "plain.pt"  # no hash in the name: torch.load's error, with the path
    torch.save({"w": torch.arange(1000.0)}, plain)
    plain.write_bytes(plain.read_bytes()[:300])
    with pytest.raises(pt.WeightsDamagedError) as err:
        pt.load_weights("https://example.invalid/plain.pt")
    assert str(plain) in str(err.value) and "could not be read" in str(err.value)


def test_a_wrong_file_for_the_published_cifar_resnet_is_refused(hub):
    torch.save({"state_dict": models.create("resnet20").state_dict()}, hub / "resnet20-12fca82f.th")
    with pytest.raises(pt.WeightsDamagedError, match="resnet20-12fca82f.th"):
        models.cifar_resnet("resnet20")


def test_torchvision_weights_in_the_hub_cache_are_checked(hub):
    import torchvision

    url = torchvision.models.get_model_weights("mobilenet_v3_small").DEFAULT.url
    (hub / url.rsplit("/", 1)[1]).write_bytes(b"an interrupted download")
    with pytest.raises(pt.WeightsDamagedError, match=url.rsplit("/", 1)[1]):
        models.pretrained("mobilenet_v3_small")


def test_a_missing_file_is_still_downloaded_into_the_hub_cache(hub, monkeypatch):
    url = "https://example.invalid/x/tiny-0badc0de.pt"
    with pytest.raises(pt.WeightsUnavailableError, match="could not download"):  # offline
        pt.load_weights(url)

    def fake_download(source, dst, hash_prefix, progress):
        assert hash_prefix == "0badc0de"  # torch checks the download against the name
        torch.save({"w": torch.ones(3)}, dst)

    monkeypatch.setattr(torch.hub, "download_url_to_file", fake_download)
    with pytest.raises(pt.WeightsDamagedError, match="0badc0de"):  # the fake passes no check of ours
        pt.load_weights(url)
    assert (hub / "tiny-0badc0de.pt").is_file()


def test_an_offline_copy_of_weights_is_checked_too(tmp_path):
    path = hashed_weights(tmp_path)
    assert torch.equal(pt.read_weights(path)["w"], torch.arange(10.0))
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 1  # one bit flipped
    path.write_bytes(bytes(content))
    with pytest.raises(pt.WeightsDamagedError, match=re.escape(str(path))):
        pt.read_weights(path)


def test_a_16_bit_png_is_read_as_8_bits_and_an_animation_is_refused_by_name(tmp_path):
    import numpy as np
    from PIL import Image

    deep = tmp_path / "deep.png"
    Image.fromarray((np.arange(16 * 16).reshape(16, 16) * 257).astype(np.uint16)).save(deep)  # 16 bits a pixel
    image = data.read_images([(deep, 0)], ("a",), 8).images
    assert image.dtype == torch.uint8 and int(image.max()) > 100
    moving = tmp_path / "moving.jpg"  # a GIF named like a photo
    frames = [Image.new("RGB", (8, 8), colour) for colour in ("red", "blue", "green")]
    frames[0].save(moving, format="GIF", save_all=True, append_images=frames[1:])
    with pytest.raises(data.BadDataError, match=r"moving.jpg is an animation of 3 frames"):
        data.read_images([(moving, 0)], ("a",), 8)


def test_a_stalled_download_times_out_and_names_the_address(tmp_path, monkeypatch):
    import socket

    from coursekit import files

    seen = []

    def stalls(url, dst, hash_prefix=None, progress=True):
        seen.append(socket.getdefaulttimeout())
        raise TimeoutError("timed out")

    monkeypatch.setattr(torch.hub, "download_url_to_file", stalls)
    before = socket.getdefaulttimeout()
    with pytest.raises(TimeoutError, match=r"the download of https://example.org/a.zip stalled: nothing arrived for 5 s"):
        files.download("https://example.org/a.zip", tmp_path / "a.zip", timeout=5)
    assert seen == [5] and socket.getdefaulttimeout() == before  # set for the download only
    with pytest.raises(data.DataNotFoundError, match=r"the download failed: TimeoutError: the download of .* stalled"):
        data.load_folder_dataset("hymenoptera", "train", root=tmp_path, download=True)
