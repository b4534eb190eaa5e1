from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from coursekit import data


def pytest_addoption(parser):
    parser.addoption("--built-book", action="store_true",
                     help="check the built HTML in _build/html (run after `make book`)")


def pytest_configure(config):
    os.environ.setdefault("COURSEKIT_PROGRESS", "0")


@pytest.fixture
def built_book(request) -> Path:
    if not request.config.getoption("--built-book"):
        pytest.skip("checks the built book: `make test` runs it with --built-book after the build")
    html = Path(__file__).resolve().parents[1] / "_build" / "html"
    assert html.is_dir(), "no _build/html: run `make book` first"
    return html


def has_cifar10() -> bool:
    root = data.data_root()
    return (root / "cifar10" / "test").is_dir() or (root / "cifar-10-batches-py").is_dir()


requires_cifar10 = pytest.mark.skipif(not has_cifar10(), reason="CIFAR-10 is not under COURSEKIT_DATA")


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    """A tiny ImageFolder tree: 3 classes x 4 PNG images of 8x8 pixels, plus a non-image file."""
    from torchvision.io import write_png

    g = torch.Generator().manual_seed(0)
    for c, name in enumerate(["cat", "dog", "emu"]):
        folder = tmp_path / "tiny" / name
        folder.mkdir(parents=True)
        for i in range(4):
            img = torch.randint(0, 256, (3, 8, 8), generator=g, dtype=torch.uint8)
            img[0] = 80 * c  # the red channel tells the class
            write_png(img, str(folder / f"{i:03d}.png"))
    (tmp_path / "tiny" / "cat" / "notes.txt").write_text("not an image")
    return tmp_path / "tiny"
