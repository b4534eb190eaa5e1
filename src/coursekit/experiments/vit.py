"""Chapter "vit": ResNet-20 against a Vision Transformer on CIFAR-10, from scratch, at equal budget
and at several data sizes; learning-rate range tests; in ``full`` only, pretrained ViTs and the cost
of a ViT-B/16 training step."""
from __future__ import annotations

from pathlib import Path

import torch

from .. import data, models, profiles, train
from .cifar import CIFAR10_RECIPE, train_cifar10_classifier
from .core import Experiment, register
from .transfer import RECIPE as TRANSFER_RECIPE
from .transfer import run_transfer

RESNET = dict(CIFAR10_RECIPE, model="resnet20", lr=0.1)
VIT = dict(CIFAR10_RECIPE, model="vit_cifar", optimizer="adamw", lr=1e-3, weight_decay=0.05, inspect_attention=True)

# Training sets of 1,000 to 10,000 CIFAR-10 images, each run seeing the same number of images
# (quick: 30,000), so that only the amount of distinct data changes.
SIZES = (1000, 2500, 5000, 10000)


def budget(size: int, vit: bool) -> dict[str, dict]:
    """The sizes of a run on ``size`` training images, per profile."""
    return {
        "ci": dict(train_per_class=10, test_per_class=5, epochs=1, batch_size=25,
                   **(dict(model_args=dict(depth=1)) if vit else {})),
        "quick": dict(train_per_class=size // 10, test_per_class=100, epochs=30_000 // size, batch_size=128),
        "full": dict(train_per_class=size // 10, test_per_class=None, epochs=min(300, 1_000_000 // size),
                     batch_size=128),
    }


for size in SIZES:
    register(Experiment(name=f"vs_resnet20_{size}", chapter="vit", title=f"ResNet-20 from scratch on {size:,} CIFAR-10 images",
                        base=RESNET, sizes=budget(size, vit=False), runner=train_cifar10_classifier))
    register(Experiment(name=f"vs_vit_{size}", chapter="vit", title=f"ViT (4 x 4 patches) from scratch on {size:,} CIFAR-10 images",
                        base=VIT, sizes=budget(size, vit=True), runner=train_cifar10_classifier))
register(Experiment(
    name="vs_vit_5000_strong", chapter="vit",
    title="ViT from scratch on 5,000 images with TrivialAugment and label smoothing",
    base=dict(VIT, augment=["trivial_augment"], label_smoothing=0.1), sizes=budget(5000, vit=True),
    runner=train_cifar10_classifier))


def lr_range_tests(cfg: dict, checkpoint: Path | None = None) -> dict:
    """The learning-rate range test (:func:`coursekit.train.lr_find`) for each of ``cfg['networks']``."""
    device = profiles.device()
    train_set = data.stratified_subset(data.load_cifar10(train=True), cfg["train_per_class"], cfg["seed"])
    curves = {}
    for name, spec in cfg["networks"].items():
        loader = data.DeviceLoader(train_set, cfg["batch_size"], train=True, device=device, seed=cfg["seed"])
        train.seed_everything(cfg["seed"])
        model = models.create(spec["model"], num_classes=10)
        found = train.lr_find(model, loader, start_lr=cfg["start_lr"], end_lr=cfg["end_lr"], steps=cfg["steps"],
                              optimizer=spec["optimizer"], weight_decay=spec["weight_decay"], device=device)
        curves[name] = dict(found, optimizer=spec["optimizer"], chosen_lr=spec["lr"])
    description = train_set.source.get("description", "CIFAR-10")
    return dict(metrics=curves, history=[], cost=dict(runs=len(curves)),
                data=dict(train=train_set.source, summary=f"{description}; {len(train_set):,} training images, "
                                                         "no test set (the test reads the training loss)"))


register(Experiment(
    name="vs_lr_find", chapter="vit", title="Learning-rate range tests of ResNet-20 (SGD) and the ViT (AdamW)",
    base=dict(networks={"ResNet-20": {k: RESNET[k] for k in ("model", "optimizer", "lr", "weight_decay")},
                        "ViT": {k: VIT[k] for k in ("model", "optimizer", "lr", "weight_decay")}},
              start_lr=1e-6, end_lr=10.0, seed=0),
    sizes={"ci": dict(train_per_class=10, steps=5, batch_size=25),
           "quick": dict(train_per_class=500, steps=100, batch_size=128),
           "full": dict(train_per_class=500, steps=200, batch_size=128)},
    runner=lr_range_tests))


# full profile only: pretrained ViTs (ImageNet-21k, DINOv2) on CIFAR-10 at 224 px, and what mixed
# precision and gradient checkpointing save on a GPU.
register(Experiment(
    name="vit_pretrained", chapter="vit", profiles=("full",),
    title="Pretrained ViT-S/16 (ImageNet-21k) fine-tuned and probed, and a DINOv2 ViT-S/14 probed, on CIFAR-10",
    base=dict(TRANSFER_RECIPE, targets=["cifar10"], sizes=dict(all=None), methods=["deep probe", "fine-tune"],
              sources=[dict(kind="imagenet", name="timm/vit_small_patch16_224.augreg_in21k_ft_in1k",
                            layers=dict(deep="pre_logits")),
                       dict(kind="imagenet", name="timm/vit_small_patch14_dinov2.lvd142m", kwargs=dict(img_size=224),
                            layers=dict(deep="pre_logits"))],
              image_size=224, crop_padding=28, seeds=[0], steps=3000, batch_size=128, test_per_class=None),
    sizes={"full": dict(steps=3000, batch_size=128)},
    runner=run_transfer))


def step_costs(cfg: dict, checkpoint: Path | None = None) -> dict:
    """Peak GPU memory and throughput of a ViT training step in float32, with mixed precision, and
    with mixed precision and gradient checkpointing (:func:`coursekit.train.measure_training_step`)."""
    device = profiles.device()
    if device.type != "cuda":
        raise RuntimeError(f"{cfg['model']}'s memory is measured on a CUDA GPU; this machine has {profiles.device_name()}")
    rows = []
    for setting in cfg["settings"]:
        train.seed_everything(0)
        model = models.create(cfg["model"], num_classes=1000)
        model.grad_checkpointing = setting["checkpointing"]
        rows.append(dict(setting, **train.measure_training_step(model, cfg["batch_size"], cfg["image_size"],
                                                                amp=setting["amp"], steps=cfg["steps"], device=device)))
        del model
        torch.cuda.empty_cache()
    return dict(metrics=dict(rows=rows), history=[], cost=dict(runs=len(rows)),
                data=dict(summary=f"random tensors of {cfg['batch_size']} x 3 x {cfg['image_size']} x {cfg['image_size']} "
                                  "(the cost of a step does not depend on the pixels)"))


register(Experiment(
    name="vit_memory", chapter="vit", profiles=("full",),
    title="ViT-B/16 training step: float32, mixed precision, and mixed precision with gradient checkpointing",
    base=dict(model="vit_base_patch16_224", image_size=224, batch_size=64, steps=20,
              settings=[dict(name="float32", amp=False, checkpointing=False),
                        dict(name="mixed precision", amp=True, checkpointing=False),
                        dict(name="mixed precision + gradient checkpointing", amp=True, checkpointing=True)]),
    sizes={"full": dict(batch_size=64, steps=20)},
    runner=step_costs))
