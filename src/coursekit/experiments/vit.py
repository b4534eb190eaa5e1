"""Chapter "vit": ResNet-20 against a Vision Transformer on CIFAR-10, from scratch, at equal budget
and at several data sizes; learning-rate range tests; in ``full`` only, pretrained ViTs and the cost
of a ViT-B/16 training step."""
from __future__ import annotations

from pathlib import Path

import torch

from .. import diagnostics, models, profiles, store, train
from . import core
from .cifar import CIFAR10_RECIPE, lr_range_tests, train_cifar10_classifier
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
    with mixed precision and gradient checkpointing (:func:`coursekit.diagnostics.measure_training_step`)."""
    device = profiles.device()
    if device.type != "cuda":
        raise RuntimeError(f"{cfg['model']}'s memory is measured on a CUDA GPU; this machine has {profiles.device_name()}")
    rows = []
    for setting in cfg["settings"]:
        train.seed_everything(0)
        model = models.create(cfg["model"], num_classes=1000)
        model.grad_checkpointing = setting["checkpointing"]
        rows.append(dict(setting, **diagnostics.measure_training_step(model, cfg["batch_size"], cfg["image_size"],
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


# --- the readings the chapter's text glues: each returns {glue name: text} --------------------------

def facts_lr_find(result: dict) -> dict[str, str]:
    """The range tests read: where each network's smoothed loss is lowest and where, below that, it falls
    fastest (:func:`coursekit.diagnostics.read_range_test`), whether the test stopped because the loss
    exploded or ran to the end of its range, how the peak rate used compares with the suggestion, and
    how many times apart the two minima are (the robust quantity: steep slopes are noisy)."""
    facts = {}
    for name, curve in result["metrics"].items():
        key = "resnet" if name.startswith("ResNet") else "vit"
        chosen, suggestion, last = curve["chosen_lr"], curve["suggestion"], curve["lrs"][-1]
        if len(curve["lrs"]) < result["config"]["steps"]:
            end = f"it had grown fourfold by {last:.1e}, where the test stopped"
        else:
            end = f"it had not grown fourfold by {last:.0e}, the end of the range"
        ratio = max(chosen, suggestion) / min(chosen, suggestion)
        if f"{ratio:.1f}" == "1.0":
            used = f"The peak rate used below, {chosen:g}, is that suggestion"
        else:
            used = f"The peak rate used below, {chosen:g}, is {ratio:.1f} times {'above' if chosen > suggestion else 'below'} that suggestion"
        facts[f"vit_lr_{key}_reading"] = (f"the smoothed loss is lowest at {curve['minimum']:.1e} and falls fastest, "
                                          f"below that, at {suggestion:.1e}; {end}. {used}")
    minima = [c["minimum"] for c in result["metrics"].values()]
    facts["vit_lr_ratio"] = f"{max(minima) / min(minima):,.0f}"
    facts["vit_lr_provenance"] = store.provenance_line(result)
    return facts


def facts_budget(profile: str | None = None) -> dict[str, str]:
    """The budgets the text quotes, read from the configurations: ``profile``'s test images, images seen and
    passes over the smallest and largest sets, and those of the ``quick`` and ``full`` profiles."""
    runs = {n: core.config(f"vs_vit_{n}", profile) for n in SIZES}
    per_test = runs[5000]["test_per_class"]
    quick_seen = core.config("vs_vit_5000", "quick")["epochs"] * 5000
    full = {n: core.config(f"vs_vit_{n}", "full") for n in SIZES}
    return {"vs_test": "10,000" if per_test is None else f"{10 * per_test:,}",
            "vs_seen": f"{runs[5000]['epochs'] * 5000:,}",
            "vs_passes_small": f"{runs[SIZES[0]]['epochs']}",
            "vs_passes_large": f"{runs[SIZES[-1]]['epochs']}",
            "vs_quick_seen": f"{quick_seen:,}",
            "vs_quick_passes": f"{quick_seen / 50_000:.0%}",
            "vs_full_seen": f"{max(c['epochs'] * n for n, c in full.items()):,}",
            "vs_full_epochs": str(max(c["epochs"] for c in full.values()))}


def facts_same_budget(resnet: dict, vit: dict) -> dict[str, str]:
    """ResNet-20 against the ViT on the same images and budget: accuracies, which is ahead and by how
    much, the ratio of their parameters and of their throughputs."""
    r, v = resnet["metrics"]["accuracy"], vit["metrics"]["accuracy"]
    if f"{100 * abs(r - v):.1f}" == "0.0":
        reading = "the two are level"
    elif r > v:
        reading = f"the ResNet is ahead by {100 * (r - v):.1f} points"
    else:
        reading = f"the ViT is ahead by {100 * (v - r):.1f} points"
    return {"vit_same_resnet": f"{100 * r:.1f} %", "vit_same_vit": f"{100 * v:.1f} %",
            "vit_same_params": f"{vit['cost']['parameters'] / resnet['cost']['parameters']:.0f}",
            "vit_same_speed": f"{resnet['cost']['images_per_second'] / vit['cost']['images_per_second']:.1f}",
            "vit_same_provenance": "; ".join(store.provenance_line(x) for x in (resnet, vit)),
            "vit_same_reading": reading}


def facts_data_efficiency(results_by_network: dict[str, list[dict]], sizes: tuple[int, ...] = SIZES) -> dict[str, str]:
    """The ResNet's lead over the ViT at each training-set size (``results_by_network["ResNet-20"]`` and
    ``["ViT"]``, one result per size), what each gains from the smallest set to the largest, and whether
    the gap narrows, widens (by more than two points) or stays."""
    acc = {label: [100 * r["metrics"]["accuracy"] for r in runs] for label, runs in results_by_network.items()}
    gaps = [a - b for a, b in zip(acc["ResNet-20"], acc["ViT"])]
    change = gaps[-1] - gaps[0]
    if change < -2:
        reading = f"The gap narrows by {-change:.1f} points as the data grow tenfold"
    elif change > 2:
        reading = f"The gap widens by {change:.1f} points as the data grow tenfold"
    else:
        reading = (f"The gap stays about the same over this tenfold range (within {abs(change):.1f} points): both "
                   "networks gain from more data at the same rate, and the ResNet's head start does not shrink")
    ahead = [f"{n:,}" for n, g in zip(sizes, gaps) if g > 0]
    behind = [f"{n:,}" for n, g in zip(sizes, gaps) if g <= 0]
    if not behind:
        margin = f"ahead by {min(gaps):.1f} to {max(gaps):.1f} points at every size from {sizes[0]:,} to {sizes[-1]:,} images"
    elif not ahead:
        margin = (f"behind by {-max(gaps):.1f} to {-min(gaps):.1f} points at every size from {sizes[0]:,} to "
                  f"{sizes[-1]:,} images")
    else:
        margin = f"ahead at {', '.join(ahead)} images, behind at {', '.join(behind)}"
    return {"vit_eff_gaps": ", ".join(f"{g:+.1f}" for g in gaps),
            "vit_eff_sizes": ", ".join(f"{n:,}" for n in sizes),
            "vit_eff_gain_resnet": f"{acc['ResNet-20'][-1] - acc['ResNet-20'][0]:+.1f}",
            "vit_eff_gain_vit": f"{acc['ViT'][-1] - acc['ViT'][0]:+.1f}",
            "vit_eff_reading": reading, "vit_discussion_margin": margin}


def facts_strong_augmentation(plain: dict, strong: dict) -> dict[str, str]:
    """What TrivialAugment and label smoothing change in the ViT's accuracy, and whether that pays yet."""
    gain = 100 * (strong["metrics"]["accuracy"] - plain["metrics"]["accuracy"])
    if gain > 0:
        reading = "Within this short budget, stronger augmentation already pays"
    else:
        reading = ("Within this short budget, stronger augmentation does not pay yet: it makes every image harder "
                   "to fit, and its benefit, less overfitting, appears only in longer training, when the plain run "
                   "starts to memorise its 5,000 images")
    return {"vit_strong_gain": f"{gain:+.1f} points", "vit_strong_provenance": store.provenance_line(strong),
            "vit_strong_reading": reading}


def uniform_attention_distance(side: int, image_size: int = 32) -> float:
    """The mean attention distance, in pixels, of a head that attends to all ``side`` x ``side`` patches equally."""
    grid = torch.stack(torch.meshgrid(torch.arange(side), torch.arange(side), indexing="ij"), -1).view(-1, 2).float()
    return float(torch.cdist(grid, grid).mean()) * image_size / side


def facts_attention(result: dict) -> dict[str, str]:
    """The range of the heads' mean attention distances in the first and the last block of a trained ViT,
    beside that of uniform attention."""
    distances = result["attention"]["mean_distance"]
    return {"vit_distance_uniform": f"{uniform_attention_distance(result['attention']['grid']):.1f}",
            "vit_distance_first": f"{min(distances[0]):.1f} to {max(distances[0]):.1f}",
            "vit_distance_last": f"{min(distances[-1]):.1f} to {max(distances[-1]):.1f}",
            "vit_best_provenance": store.provenance_line(result)}


NOT_RUN = {
    "vit_pretrained": "this needs pretrained weights from the Hugging Face hub and a GPU (fine-tuning at 224 "
                      "pixels). Run `coursekit regenerate --profile full --experiment vit_pretrained` on a GPU and "
                      "build the book with `make book BOOK_PROFILE=full` to see the measured table here.",
    "vit_memory": "GPU memory is measured on a CUDA GPU. Run `coursekit regenerate --profile full --experiment "
                  "vit_memory` there.",
}


def full_only(name: str, profile: str | None = None) -> tuple[dict | None, str]:
    """A ``full``-only experiment: in the ``full`` profile its result (run or loaded) and no note; in any
    other, no result and the note (Markdown) that says why and how to see it."""
    profile = profiles.current(profile)
    if profile == "full":
        return core.run(name, profile), ""
    return None, f"> **Not run in the `{profile}` profile:** {NOT_RUN[name]}"
