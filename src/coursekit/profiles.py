"""Profiles say how big a run is; the device says where it runs.

A profile is data, not branches in chapters: every experiment names its settings for
``ci`` (CPU, seconds, numbers meaningless), ``quick`` (minutes on a laptop CPU or a free GPU,
numbers meaningful and stored) and ``full`` (the chapter's reference recipe on a GPU).
The active profile comes from the environment variable ``COURSEKIT_PROFILE`` (default ``quick``).
"""
from __future__ import annotations

import os
import platform

import torch

PROFILES = ("ci", "quick", "full")
DEFAULT_PROFILE = "quick"

# What each profile is for, shown by `coursekit list` and the book's introduction.
DESCRIPTIONS = {
    "ci": "CI and chapter tests: CPU, no network, seconds per experiment; numbers are meaningless and never stored",
    "quick": "a laptop CPU or a free Colab GPU: minutes per experiment; meaningful small-scale numbers, stored in results/",
    "full": "a GPU: the chapter's reference recipe (full data set, real epochs); numbers comparable to published ones",
}

# The classic networks of chapter "classic" share one budget per profile, so that they compare.
CLASSIC_BUDGET = {
    "ci": dict(train_per_class=10, test_per_class=5, epochs=1, batch_size=25),
    "quick": dict(train_per_class=500, test_per_class=250, epochs=8, batch_size=128),
    "full": dict(train_per_class=None, test_per_class=None, epochs=40, batch_size=128),
}

# Transfer learning (chapter "transfer"): every trained method gets the same number of batches.
# quick: the published CIFAR-10 ResNet-20 as the source, targets at its 32 px; full: ImageNet
# networks (torchvision's ResNet-50 and a timm ConvNeXt) at 224 px on a GPU.
TRANSFER_BUDGET = {
    "ci": dict(seeds=[0], steps=2, batch_size=8, test_per_class=4, probe_weight_decays=[1e-2, 1.0]),
    "quick": dict(seeds=[0, 1, 2], steps=400, batch_size=64, test_per_class=40),
    "full": dict(seeds=[0, 1, 2], steps=2000, batch_size=64, test_per_class=40, image_size=224,
                 finetune_lr=0.005, scratch_lr=0.1, crop_padding=28,
                 sources=[dict(kind="imagenet", name="resnet50", layers=dict(early="layer1", deep="avgpool")),
                          dict(kind="imagenet", name="timm/convnext_tiny.fb_in1k",
                               layers=dict(early="stages.0", deep="head.global_pool"))]),
}

# Few-shot learning (chapter "fewshot"): CIFAR-10's novel classes learned from K images per class.
FEWSHOT_BUDGET = {
    "ci": dict(seeds=[0], steps=2, test_per_class=4),
    "quick": dict(seeds=[0, 1, 2], steps=150, test_per_class=200),
    "full": dict(seeds=[0, 1, 2, 3, 4], steps=500, test_per_class=None),
}

# CNN against ViT (chapter "vit"): training sets of 1,000 to 10,000 CIFAR-10 images, each run seeing
# the same number of images (quick: 30,000), so that only the amount of distinct data changes.
VS_SIZES = (1000, 2500, 5000, 10000)


def _vs_budget(size: int, vit: bool) -> dict:
    return {
        "ci": dict(train_per_class=10, test_per_class=5, epochs=1, batch_size=25,
                   **(dict(model_args=dict(depth=1)) if vit else {})),
        "quick": dict(train_per_class=size // 10, test_per_class=100, epochs=30_000 // size, batch_size=128),
        "full": dict(train_per_class=size // 10, test_per_class=None, epochs=min(300, 1_000_000 // size),
                     batch_size=128),
    }


# Settings per experiment and profile: subset sizes, epochs, widths. An experiment's base
# configuration lives in `coursekit.experiments`; these rows only scale it.
SETTINGS: dict[str, dict[str, dict]] = {
    "intro_cnn": {
        "ci": dict(train_per_class=20, test_per_class=10, epochs=2, batch_size=50, model_args=dict(width=8)),
        "quick": dict(train_per_class=2000, test_per_class=None, epochs=10, batch_size=128,
                      model_args=dict(width=32)),
        "full": dict(train_per_class=None, test_per_class=None, epochs=30, batch_size=256, lr=0.1,
                     model_args=dict(width=64)),
    },
    **{name: CLASSIC_BUDGET for name in (
        "classic_alexnet", "classic_vgg", "classic_googlenet", "classic_resnet",
        "degradation_plain20", "degradation_resnet20", "degradation_plain56", "degradation_resnet56")},
    "transfer_decision": {
        "ci": dict(TRANSFER_BUDGET["ci"], targets=["pacs-photo"], sizes=dict(small=2, large=4)),
        "quick": dict(TRANSFER_BUDGET["quick"]),
        "full": dict(TRANSFER_BUDGET["full"]),
    },
    "fewshot_backbone": {
        "ci": dict(train_per_class=20, test_per_class=10, epochs=1, batch_size=50),
        "quick": dict(train_per_class=None, test_per_class=None, epochs=10, batch_size=128),
        "full": dict(train_per_class=None, test_per_class=None, epochs=40, batch_size=128),
    },
    "fewshot_shots": {
        "ci": dict(FEWSHOT_BUDGET["ci"], shots=[1, 2]),
        "quick": dict(FEWSHOT_BUDGET["quick"]),
        "full": dict(FEWSHOT_BUDGET["full"], shots=[1, 5, 10, 20, 50, 100]),
    },
    "fewshot_ablation": {
        "ci": dict(FEWSHOT_BUDGET["ci"], variants=["none", "crop+flip", "cutmix"]),
        "quick": dict(FEWSHOT_BUDGET["quick"]),
        "full": dict(FEWSHOT_BUDGET["full"]),
    },
    "fewshot_mixing": {
        "ci": dict(FEWSHOT_BUDGET["ci"], shots=[2], inits=["backbone"]),
        "quick": dict(FEWSHOT_BUDGET["quick"]),
        "full": dict(FEWSHOT_BUDGET["full"], shots=[5, 20, 100]),
    },
    "fewshot_pseudo": {
        "ci": dict(FEWSHOT_BUDGET["ci"], shots=[2], thresholds=[None, 0.5], unlabelled_per_class=6),
        "quick": dict(FEWSHOT_BUDGET["quick"]),
        "full": dict(FEWSHOT_BUDGET["full"], unlabelled_per_class=4000),
    },
    "fewshot_episodes": {
        "ci": dict(datasets=["cifar10-novel"], per_class=20, views=2, episodes=5, shots=[1], queries=5),
        "quick": dict(per_class=600, views=10, episodes=600),
        "full": dict(per_class=None, views=20, episodes=2000),
    },
    **{f"vs_{model}_{size}": _vs_budget(size, model.startswith("vit")) for size in VS_SIZES
       for model in ("resnet20", "vit")},
    "vs_vit_5000_strong": _vs_budget(5000, vit=True),
    "vs_lr_find": {
        "ci": dict(train_per_class=10, steps=5, batch_size=25),
        "quick": dict(train_per_class=500, steps=100, batch_size=128),
        "full": dict(train_per_class=500, steps=200, batch_size=128),
    },
    # full only: a GPU and weights from the Hugging Face hub; a CUDA GPU
    "vit_pretrained": {"ci": {}, "quick": {}, "full": dict(steps=3000, batch_size=128)},
    "vit_memory": {"ci": {}, "quick": {}, "full": dict(batch_size=64, steps=20)},
    "transfer_targets": {
        "ci": dict(TRANSFER_BUDGET["ci"], targets=["hymenoptera"], sizes=dict(all=4)),
        "quick": dict(TRANSFER_BUDGET["quick"], seeds=[0], test_per_class=None),
        "full": dict(TRANSFER_BUDGET["full"], seeds=[0], test_per_class=None, targets=["pets", "flowers102"]),
    },
}


def current(profile: str | None = None) -> str:
    """The active profile: ``profile`` if given, else ``$COURSEKIT_PROFILE``, else ``quick``."""
    name = profile or os.environ.get("COURSEKIT_PROFILE") or DEFAULT_PROFILE
    if name not in PROFILES:
        raise ValueError(
            f"unknown profile {name!r} (from {'the argument' if profile else 'COURSEKIT_PROFILE'}); "
            f"choose one of {', '.join(PROFILES)}"
        )
    return name


def settings(experiment: str, profile: str | None = None) -> dict:
    """The settings of ``experiment`` under ``profile`` (a copy, safe to change)."""
    if experiment not in SETTINGS:
        raise KeyError(f"no profile settings for experiment {experiment!r}; known: {', '.join(SETTINGS)}")
    return dict(SETTINGS[experiment][current(profile)])


def device() -> torch.device:
    """The best device present: CUDA, then Apple MPS, then the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def device_name(dev: torch.device | None = None) -> str:
    """A human name for the device, e.g. ``NVIDIA H100 80GB HBM3`` or ``CPU x86_64 (2 threads)``."""
    dev = dev or device()
    if dev.type == "cuda":
        return torch.cuda.get_device_name(dev)
    if dev.type == "mps":
        return f"Apple MPS ({platform.machine()})"
    return f"CPU {platform.machine()} ({torch.get_num_threads()} threads)"


def banner(profile: str | None = None) -> str:
    """One line a chapter prints at its top: profile, device and torch version."""
    from . import __version__

    return (
        f"coursekit {__version__} | profile: {current(profile)} | device: {device_name()} "
        f"| torch {torch.__version__}"
    )
