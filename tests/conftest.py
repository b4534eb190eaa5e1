from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import urllib.error
from pathlib import Path

import pytest
import torch
import torchvision

from coursekit import data

ROOT = Path(__file__).resolve().parents[1]


def pytest_addoption(parser):
    parser.addoption("--built-book", action="store_true",
                     help="check the built HTML in _build/html (run after `make book`)")


def pytest_configure(config):
    os.environ.setdefault("COURSEKIT_PROGRESS", "0")
    # huggingface_hub reads these once, when it is first imported (by timm, at collection): set here,
    # a test without network fails at once instead of waiting for the hub's time-outs.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


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


def stored_result(name: str, profile: str = "quick") -> dict:
    """The stored result of ``name`` under ``profile``, made with the experiment's current configuration.

    The book shows the stored results, and its build (``COURSEKIT_REQUIRE_STORED=1``) refuses a missing or
    outdated one: a test that reads them fails in both cases, saying which and what to run, instead of
    skipping (a skip would pass while the book shows numbers the code no longer makes)."""
    from coursekit import experiments, store

    result = experiments.load(name, profile)
    if result is not None:
        return result
    fix = f"run `coursekit regenerate --profile {profile} --experiment {name}`"
    if store.read_result(name, profile) is None:
        pytest.fail(f"no stored {profile} result of {name} in {store.results_dir()}: {fix}", pytrace=False)
    pytest.fail(f"the stored {profile} result of {name} in {store.results_dir()} is stale: its configuration is "
                f"not the experiment's current one ({fix})", pytrace=False)


# --- coursekit as a student gets it: the wheel, installed in a fresh environment ----------------------

def clean_environment() -> dict[str, str]:
    """This process's environment without PYTHONPATH: nothing may put a checkout's src/ before the wheel."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


@pytest.fixture(scope="session")
def installed(tmp_path_factory) -> Path:
    """The python of a fresh environment in which the wheel of this checkout is installed (not editable).

    The packages coursekit depends on (torch and the rest, gigabytes) are borrowed from the test's own
    environment by a path entry, without that environment's editable install of coursekit. Built once per
    session: tests/test_chapters.py runs every chapter in it, tests/test_installed.py the rest."""
    tmp = tmp_path_factory.mktemp("installed")
    source, wheels = tmp / "source", tmp / "wheels"  # built from a copy: the build leaves nothing in the checkout
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", str(source),
                    "-w", str(wheels)], check=True, cwd=tmp)
    env_dir = tmp / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True)
    python = env_dir / "bin" / "python"
    purelib = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  capture_output=True, text=True, check=True).stdout.strip())
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                    str(next(wheels.glob("coursekit-*.whl")))], check=True)
    # A plain path entry: the borrowed folder's own .pth files (the editable coursekit) are not processed.
    (purelib / "borrowed-dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return python


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


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """An empty torch hub cache; downloads fail as they do without network."""
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))

    def offline(url, *args, **kwargs):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    checkpoints = tmp_path / "torch" / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    return checkpoints


def cache_torchvision_weights(checkpoints: Path, name: str) -> torch.nn.Module:
    """Put a (randomly initialised) torchvision state dict where the download would put it."""
    weights = torchvision.models.get_model_weights(name).DEFAULT
    reference = torchvision.models.get_model(name, weights=None, num_classes=len(weights.meta["categories"]))
    torch.save(reference.state_dict(), checkpoints / Path(weights.url).name)
    return reference.eval()


def cache_timm_weights(name: str, root: Path, monkeypatch, **kwargs) -> torch.nn.Module:
    """A randomly initialised timm network ``name`` saved where huggingface_hub looks for its weights
    (``root/hub``), offline, as a download would have left them."""
    import huggingface_hub
    from safetensors.torch import save_file

    from coursekit import models

    reference = models.timm_module().create_model(name, pretrained=False, **kwargs)
    repo = reference.pretrained_cfg["hf_hub_id"]
    base = root / "hub" / f"models--{repo.replace('/', '--')}"
    revision = "0" * 40
    (base / "snapshots" / revision).mkdir(parents=True)
    (base / "refs").mkdir()
    (base / "refs" / "main").write_text(revision)
    save_file({k: v.contiguous() for k, v in reference.state_dict().items()},
              str(base / "snapshots" / revision / "model.safetensors"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(root / "hub"))
    return reference
