"""Every experiment's runner, on tiny generated data: CIFAR-10 and MNIST replaced by a few dozen images a
class, the ``ci`` sizes, each runner called with a :class:`coursekit.runs.RunState` as
:func:`coursekit.experiments.run` calls it. The transfer runner has its own tests (tests/test_transfer.py)."""
from __future__ import annotations

import pytest
import torch

from coursekit import data, experiments
from coursekit.experiments import core
from coursekit.runs import RunState

CIFAR_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def tiny_set(channels: int, size: int, per_class: int, classes: tuple[str, ...], seed: int) -> data.ImageTensors:
    """``per_class`` noisy images a class, each with a bright box whose place tells its class."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(len(classes)).repeat_interleave(per_class)
    images = torch.randint(0, 60, (len(labels), channels, size, size), generator=g, dtype=torch.uint8)
    for i, label in enumerate(labels.tolist()):  # a bright box whose place tells the class
        top, left = (label % 5) * (size // 5), (label // 5) * (size // 2)
        images[i, :, top:top + size // 5, left:left + size // 2] += 150
    return data.ImageTensors(images, labels, classes, dict(kind="generated", description="generated test images",
                                                           images=len(labels)))


@pytest.fixture
def tiny_data(monkeypatch, tmp_path):
    """CIFAR-10 and MNIST replaced by generated images (a few per class), and an empty store and cache."""
    for variable, folder in (("COURSEKIT_RESULTS", "results"), ("COURSEKIT_CACHE", "cache")):
        monkeypatch.setenv(variable, str(tmp_path / folder))
    cifar = {True: tiny_set(3, 32, 30, CIFAR_CLASSES, 0), False: tiny_set(3, 32, 20, CIFAR_CLASSES, 1)}
    digits = tuple(map(str, range(10)))
    mnist = {True: tiny_set(1, 28, 20, digits, 2), False: tiny_set(1, 28, 10, digits, 3)}
    monkeypatch.setattr(data, "load_cifar10", lambda train=True, **kwargs: cifar[train])
    monkeypatch.setattr(data, "load_mnist", lambda train=True, **kwargs: mnist[train])
    monkeypatch.setattr(core, "_NETWORKS", {})


RUNNERS = [name for name, e in experiments.EXPERIMENTS.items() if "ci" in e.profiles and e.chapter != "transfer"]
# One of each kind in the fast suite: a classifier over seeds, the fast recipe, the detector,
# the few-shot backbone and a plan of few-shot runs on it; every runner under `pytest -m slow`.
FAST = {"classic_resnet", "intro_fast", "detect_digits", "fewshot_pseudo"}


@pytest.mark.parametrize("name", [n if n in FAST else pytest.param(n, marks=pytest.mark.slow) for n in RUNNERS])
def test_every_runner_runs_on_tiny_data(tiny_data, name):
    cfg = experiments.config(name, "ci")
    if "networks" in cfg:  # a range test: on generated images it needs a dozen steps to have a minimum to read
        cfg["steps"] = max(cfg["steps"], 12)
    output = experiments.get(name).runner(cfg, RunState(progress=False, verbose=False, profile="ci"))
    assert {"metrics", "history", "cost", "data"} <= set(output)
    assert output["metrics"], name
    if output["history"]:  # a training run: one row per epoch, a finite loss in each
        assert all(torch.isfinite(torch.tensor(float(row["train_loss"]))) for row in output["history"])
    for seed in output.get("seeds", []):
        assert {"seed", "metrics", "history", "cost"} <= set(seed)


def test_fewshot_train_few_learns_from_a_few_images_per_class(tiny_data):
    from coursekit import fewshot

    pool = tiny_set(3, 32, 6, fewshot.NOVEL_CLASSES, 4)
    test = tiny_set(3, 32, 4, fewshot.NOVEL_CLASSES, 5)
    cfg = dict(experiments.config("fewshot_shots", "ci"), steps=30, batch_size=10)
    outcome, model = fewshot.train_few(pool, test, cfg, init="scratch", seed=0, device=torch.device("cpu"),
                                       augmentations=("cutout",))
    assert set(outcome) == {"accuracy", "macro_f1"}
    assert outcome["accuracy"] > 1 / len(fewshot.NOVEL_CLASSES)  # better than chance on classes it can see
    with pytest.raises(ValueError, match="needs the backbone's weights"):
        fewshot.train_few(pool, test, cfg, init="backbone", seed=0)
    with pytest.raises(ValueError, match="unknown init"):
        fewshot.train_few(pool, test, cfg, init="imagenet", seed=0)
