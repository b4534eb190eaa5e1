"""Chapter "vit": ResNet-20 against a Vision Transformer on CIFAR-10, from scratch, at equal budget
and at several data sizes; learning-rate range tests; in ``full`` only, pretrained ViTs and the cost
of a ViT-B/16 training step."""
from __future__ import annotations

import torch

from .. import diagnostics, models, profiles, stats, store, train
from ..results import RunResult, seed_values
from ..runs import RunState
from . import core
from .cifar import CIFAR10_RECIPE, lr_range_tests, train_cifar10_classifier
from .core import Experiment, over_seeds, register
from .transfer import LITE0_RECIPE, run_transfer
from .transfer import RECIPE as TRANSFER_RECIPE
from .vit_readings import (  # noqa: F401 (the readings of single results, in a module of their own)
    FIT_WORDS,
    GRID_LEARNED,
    GRID_NONE,
    GRID_RULE,
    LOCAL,
    LOCAL_RULE,
    _accuracy,
    _paired,
    facts_attention,
    facts_lr_find,
    facts_positions,
    facts_rate_check,
    facts_strong_augmentation,
    uniform_attention_distance,
)

RESNET = dict(CIFAR10_RECIPE, model="resnet20", lr=0.1)
# A ViT small enough to train for as many epochs as the ResNet on this CPU: 4 x 4 patches (64 tokens),
# D = 128, 4 blocks of 4 heads, MLPs twice as wide as D (0.55 M parameters, twice ResNet-20's).
VIT_ARGS = dict(dim=128, depth=4, heads=4, mlp_ratio=2.0)
VIT = dict(CIFAR10_RECIPE, model="vit_cifar", model_args=VIT_ARGS, optimizer="adamw", lr=1e-3, weight_decay=0.05,
           inspect_attention=True)
STRONG = dict(augment=["trivial_augment"], label_smoothing=0.1)

# Training sets of 1,000 to 10,000 CIFAR-10 images, each trained for the same number of optimiser steps
# (batches of 128; 30 epochs of the largest set in ``quick``), so that a smaller set is seen more often
# and every network gets the same chance to fit its data: data efficiency as the accuracy a network
# reaches from a given amount of data at a given amount of training. Whether each training loss had
# flattened is read by diagnostics.flat_share, whether it fits its images by diagnostics.fit_verdict.
SIZES = (1000, 3000, 10000)
BATCH = 128
STEPS = {"quick": 2340, "full": 7800}
SEEDS = {"ci": [0], "quick": [0, 1, 2], "full": [0, 1, 2]}


def epochs_for(size: int, steps: int, batch_size: int = BATCH) -> int:
    """The epochs that give ``steps`` optimiser steps on ``size`` images (the last, partial batch of
    each epoch is dropped), to the nearest epoch."""
    return max(1, round(steps / (size // batch_size)))


def steps(config: dict) -> int:
    """The optimiser steps of a run's configuration: its epochs times the full batches of its set."""
    return config["epochs"] * (10 * config["train_per_class"] // config["batch_size"])


def budget(size: int, vit: bool) -> dict[str, dict]:
    """The sizes of a run on ``size`` training images, per profile: the same steps at every size."""
    return {
        "ci": dict(train_per_class=10, test_per_class=5, epochs=2, batch_size=25, seeds=SEEDS["ci"],
                   **(dict(model_args=dict(VIT_ARGS, depth=1)) if vit else {})),
        "quick": dict(train_per_class=size // 10, test_per_class=100, epochs=epochs_for(size, STEPS["quick"]),
                      batch_size=BATCH, seeds=SEEDS["quick"]),
        "full": dict(train_per_class=size // 10, test_per_class=None, epochs=epochs_for(size, STEPS["full"]),
                     batch_size=BATCH, seeds=SEEDS["full"]),
    }


for size in SIZES:
    register(Experiment(name=f"vs_resnet20_{size}", chapter="vit", title=f"ResNet-20 from scratch on {size:,} CIFAR-10 images",
                        base=RESNET, sizes=budget(size, vit=False), runner=over_seeds(train_cifar10_classifier)))
    register(Experiment(name=f"vs_vit_{size}", chapter="vit", title=f"ViT (4 x 4 patches) from scratch on {size:,} CIFAR-10 images",
                        base=VIT, sizes=budget(size, vit=True), runner=over_seeds(train_cifar10_classifier)))
# The stronger recipe on the middle size, at the plain run's steps, so that the two recipes differ in
# the recipe alone.
STRONG_SIZE = SIZES[1]
register(Experiment(
    name=f"vs_vit_{STRONG_SIZE}_strong", chapter="vit",
    title=f"ViT from scratch on {STRONG_SIZE:,} images with TrivialAugment and label smoothing",
    base=dict(VIT, **STRONG),
    sizes=budget(STRONG_SIZE, vit=True),
    runner=over_seeds(train_cifar10_classifier)))


register(Experiment(
    name="vs_lr_find", chapter="vit", title="Learning-rate range tests of ResNet-20 (SGD) and the ViT (AdamW)",
    base=dict(networks={"ResNet-20": {k: RESNET[k] for k in ("model", "optimizer", "lr", "weight_decay")},
                        "ViT": {k: VIT[k] for k in ("model", "model_args", "optimizer", "lr", "weight_decay")}},
              start_lr=1e-6, end_lr=10.0, seed=0),
    sizes={"ci": dict(train_per_class=10, steps=5, batch_size=25),
           "quick": dict(train_per_class=500, steps=100, batch_size=128),
           "full": dict(train_per_class=500, steps=200, batch_size=128)},
    runner=lr_range_tests))


# The book's one range-test rule (the lowest point of the smoothed loss, to one significant figure) gives
# the ViT a peak rate ten times the conventional 1e-3 for AdamW (a test checks it against the stored range
# test). A short check of both on the smallest set, 200 steps over three seeds, says which to train with.
RULE_LR = {"ResNet-20": 0.08, "ViT": 0.01}
for label, lr in (("rule", RULE_LR["ViT"]), ("usual", VIT["lr"])):
    register(Experiment(
        name=f"vs_vit_rate_{label}", chapter="vit",
        title=f"ViT on {SIZES[0]:,} CIFAR-10 images for 200 steps at AdamW's peak rate {lr:g}",
        base=dict(VIT, lr=lr, inspect_attention=False),
        sizes={"ci": dict(train_per_class=10, test_per_class=5, epochs=1, batch_size=25, seeds=SEEDS["ci"],
                          model_args=dict(VIT_ARGS, depth=1)),
               "quick": dict(train_per_class=SIZES[0] // 10, test_per_class=100, epochs=25, batch_size=128,
                             seeds=SEEDS["quick"]),
               "full": dict(train_per_class=SIZES[0] // 10, test_per_class=None, epochs=25, batch_size=128,
                            seeds=SEEDS["full"])},
        runner=over_seeds(train_cifar10_classifier)))


# The pretraining contrast on any machine: ImageNet's EfficientNet-Lite0, probed and fine-tuned on
# training sets of the same sizes, drawn from a pool of 2,000 CIFAR-10 images a class (seed 0) at
# 128 px; every fine-tuning run gets the same 200 batches of 32, whatever the size of its set.
register(Experiment(
    name="vs_lite0", chapter="vit",
    title="ImageNet's EfficientNet-Lite0 probed and fine-tuned on 1,000 to 10,000 CIFAR-10 images",
    base=dict(LITE0_RECIPE, targets=["cifar10"], methods=["deep probe", "fine-tune"],
              sizes={str(n): n // 10 for n in SIZES}, pool_per_class=2000, test_per_class=100),
    sizes={"ci": dict(seeds=[0], sizes={str(SIZES[0]): 2}, pool_per_class=4, test_per_class=2, image_size=32,
                      crop_padding=4, steps=2, batch_size=8, probe_weight_decays=[1e-2, 1.0]),
           "quick": dict(seeds=[0, 1, 2], steps=200, batch_size=32),
           "full": dict(seeds=[0, 1, 2], steps=2000, batch_size=64, image_size=224, crop_padding=28,
                        pool_per_class=None)},
    runner=run_transfer))

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


def step_costs(cfg: dict, state: RunState) -> dict:
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

def facts_budget(profile: str | None = None) -> dict[str, str]:
    """The budgets the text quotes, read from the configurations: ``profile``'s test images, steps, the
    epochs they make at each size, seeds and sizes, and the ``full`` profile's steps."""
    runs = [core.config(f"vs_vit_{n}", profile) for n in SIZES]
    per_test = runs[0]["test_per_class"]
    epochs = [str(run["epochs"]) for run in runs]
    return {"vs_test": "10,000" if per_test is None else f"{10 * per_test:,}",
            "vs_steps": f"{steps(runs[-1]):,}", "vs_batch": str(runs[-1]["batch_size"]),
            "vs_size_epochs": f"{', '.join(epochs[:-1])} and {epochs[-1]}", "vs_seeds": str(len(runs[0]["seeds"])),
            "vs_sizes": ", ".join(f"{n:,}" for n in SIZES), "vs_same_size": f"{SIZES[1]:,}",
            "vs_vit_params": f"{models.count_parameters(models.create('vit_cifar', **VIT_ARGS)) / 1e6:.2f} M",
            "vs_full_steps": f"{steps(core.config(f'vs_vit_{SIZES[-1]}', 'full')):,}",
            "vs_strong_epochs": str(core.config(f"vs_vit_{STRONG_SIZE}_strong", profile)["epochs"]),
            "vs_strong_steps": f"{steps(core.config(f'vs_vit_{STRONG_SIZE}_strong', profile)):,}",
            **facts_recipe()}


NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 8: "eight", 12: "twelve"}


def facts_recipe() -> dict[str, str]:
    """The architectures and recipes the text describes, read from where they are defined: ``vit_cifar``'s
    default size, the smaller ViT of the experiments (:data:`VIT_ARGS`), its tokens, the two optimisers'
    rates and weight decay, the stronger recipe's label smoothing, and the pretraining contrast's pool."""
    full, cifar = models.vit.VIT_SIZES["cifar"], VIT_ARGS
    words = lambda n: NUMBER_WORDS.get(n, str(n))  # noqa: E731
    side = full["image_size"] // full["patch_size"]
    return {"vs_cifar_dim": str(full["dim"]), "vs_cifar_blocks": f"{words(full['depth'])} blocks of "
                                                                f"{words(full['heads'])} heads",
            "vs_dim": str(cifar["dim"]), "vs_blocks": f"{words(cifar['depth'])} blocks of {words(cifar['heads'])} heads",
            "vs_mlp": f"{words(round(cifar['mlp_ratio']))} times",
            "vs_patch": f"{full['patch_size']} × {full['patch_size']}", "vs_tokens": f"{side * side}",
            "vs_resnet_lr": f"{RESNET['lr']:g}", "vs_vit_lr": f"{VIT['lr']:g}", "vs_vit_wd": f"{VIT['weight_decay']:g}",
            "vs_smoothing": f"{STRONG['label_smoothing']:g}",
            "vs_pool": f"{core.config('vs_lite0', 'quick')['pool_per_class']:,}"}


def facts_same_budget(resnet: dict, vit: dict, timed: tuple[dict, dict] | None = None) -> dict[str, str]:
    """ResNet-20 against the ViT on the same images and budget: accuracies over seeds, the paired
    difference and whether the seeds tell them apart, the ratio of their parameters, and that of their
    throughputs, read from the runs ``timed`` when given (the largest set's, ResNet's then the ViT's:
    the longest epochs, each run alone on the machine) and otherwise from these."""
    reading = stats.word(_paired(resnet, vit), better="the ResNet is ahead by {d:.1f} ± {h:.1f} points",
                         worse="the ViT is ahead by {size:.1f} ± {h:.1f} points",
                         cannot_tell="the seeds cannot tell the two apart (difference {d:+.1f} ± {h:.1f} points)")
    timed = timed or (resnet, vit)
    speed = [RunResult.from_dict(r).training_speed() for r in timed]
    return {"vit_same_resnet": _accuracy(resnet), "vit_same_vit": _accuracy(vit),
            "vit_speed_images": f"{timed[0]['provenance']['data'].get('train', {}).get('images', 0):,}",
            "vit_same_params": f"{vit['cost']['parameters'] / resnet['cost']['parameters']:.1f}",
            "vit_same_speed": f"{speed[0] / speed[1]:.1f}",
            "vit_same_provenance": "; ".join(store.provenance_line(x) for x in (resnet, vit)),
            "vit_same_reading": reading}


def _fit_facts(views: dict[str, list[RunResult]], sizes: tuple[int, ...]) -> dict[str, str]:
    """Each run's final training accuracy beside its test accuracy (means over seeds), each network's
    verdicts by size (:func:`coursekit.diagnostics.fit_verdict`), and what an under-fitting run means for
    the comparison."""
    pairs = {label: [(stats.mean_interval(list(r.final("train_accuracy", 100).values()))[0], r.interval()[0])
                     for r in runs] for label, runs in views.items()}
    verdicts = {label: [diagnostics.fit_verdict(*p) for p in ps] for label, ps in pairs.items()}

    def by_verdict(found: list[str]) -> str:  # "over-fits at 1,000 and 3,000 images, under-fits at 10,000"
        groups = {v: [f"{n:,}" for n, w in zip(sizes, found) if w == v] for v in dict.fromkeys(found)}
        parts = [f"{v} at {' and '.join(ns) if len(ns) < 3 else ', '.join(ns[:-1]) + ' and ' + ns[-1]}"
                 for v, ns in groups.items()]
        return ", ".join(parts) + " images" if len(parts) == 1 else ", ".join(parts)

    listed = "; ".join(f"the {label} {by_verdict(found)}" for label, found in verdicts.items())
    if any("under-fits" in found for found in verdicts.values()):
        consequence = ("a run that under-fits is still learning its own images in these steps, so where one does, "
                       "the comparison is of how far each network gets in its steps more than of what it can learn "
                       "from the data")
    else:
        consequence = "every run fits its training images, so the comparison is of what each network makes of its data"
    return {"vit_eff_train": "; ".join(f"{label}: " + ", ".join(f"{tr:.1f} / {te:.1f} %" for tr, te in ps)
                                       for label, ps in pairs.items()),
            "vit_eff_fit_reading": f"{listed[0].upper()}{listed[1:]}: {consequence}"}


def facts_data_efficiency(results_by_network: dict[str, list[dict]], sizes: tuple[int, ...] = SIZES) -> dict[str, str]:
    """The ResNet's lead over the ViT at each training-set size (``results_by_network["ResNet-20"]`` and
    ``["ViT"]``, one result per size, each over the same seeds) as paired differences, whether every
    training loss had flattened, and whether the lead changes from the smallest set to the largest (the
    paired difference of the two leads, per seed)."""
    views = {label: [RunResult.from_dict(r) for r in runs] for label, runs in results_by_network.items()}
    resnet, vit = views["ResNet-20"], views["ViT"]
    leads = [_paired(r, v) for r, v in zip(resnet, vit)]
    acc = {label: [r.interval()[0] for r in runs] for label, runs in views.items()}
    shares = [diagnostics.flat_share(s.history) for runs in views.values() for r in runs for s in r.seeds]
    flat = max(shares) < diagnostics.FLAT_SHARE

    def lead(i: int) -> dict[int, float]:  # the ResNet's lead at the i-th size, by seed, in points
        r, v = resnet[i].metric(), vit[i].metric()
        return {s: 100 * (r[s] - v[s]) for s in sorted(r)}

    reading = stats.word(  # the leads at the largest and the smallest size come from independent runs
        stats.compare_unpaired(lead(-1), lead(0)),
        better="The ResNet's lead widens by {d:.1f} ± {h:.1f} points as the data grow {growth}: over this range "
               "the ResNet turns extra images into accuracy faster than the ViT does",
        worse="The ResNet's lead narrows by {size:.1f} ± {h:.1f} points as the data grow {growth}",
        cannot_tell="The seeds cannot tell whether the ResNet's lead changes as the data grow {growth} "
                    "({d:+.1f} ± {h:.1f} points)", growth=f"{sizes[-1] / sizes[0]:.0f}-fold")
    ahead = [n for n, c in zip(sizes, leads) if c.verdict == "better"]
    if len(ahead) == len(sizes):
        margin = (f"ahead by {min(d for d, _ in leads):.1f} to {max(d for d, _ in leads):.1f} points at every size "
                  f"from {sizes[0]:,} to {sizes[-1]:,} images")
    else:
        margin = (f"ahead at {', '.join(f'{n:,}' for n in ahead)} images (by more than the seeds vary), not clearly "
                  "ahead at the others" if ahead else "not clearly ahead at any size: the seeds vary as much as the lead")
    return {**_fit_facts(views, sizes),
            "vit_eff_gaps": ", ".join(f"{d:+.1f} ± {hw:.1f}" for d, hw in leads),
            "vit_eff_sizes": ", ".join(f"{n:,}" for n in sizes),
            "vit_eff_gain_resnet": f"{acc['ResNet-20'][-1] - acc['ResNet-20'][0]:+.1f}",
            "vit_eff_gain_vit": f"{acc['ViT'][-1] - acc['ViT'][0]:+.1f}",
            "vit_eff_flat_share": f"{100 * max(shares):.0f} %",
            **{f"vit_eff_{k}": v for k, v in diagnostics.flat_rule().items()},
            "vit_eff_flat_reading": "every training loss had flattened" if flat else
            "not every training loss had flattened, so part of each gap is a difference in speed of optimisation",
            "vit_eff_reading": reading, "vit_discussion_margin": margin}


Curve = list[tuple[int, dict[int, float]]]  # (training images, {seed: test accuracy in %}) by size


def scratch_curves(results_by_network: dict[str, list[dict]]) -> dict[str, Curve]:
    """The data-efficiency runs as curves: ``{label: [(training images, accuracy by seed)]}``, one run per size."""
    return {label: [(r["provenance"]["data"]["train"]["images"], RunResult.from_dict(r).metric("accuracy", 100))
                    for r in runs] for label, runs in results_by_network.items()}


def pretrained_curves(result: dict) -> dict[str, Curve]:
    """``vs_lite0``'s runs as curves, one per method: ``{"EfficientNet-Lite0, deep probe": [...], ...}``."""
    rows, curves = result["metrics"]["rows"], {}
    for method in result["config"]["methods"]:
        curves[f"EfficientNet-Lite0 (ImageNet), {method}"] = [
            (next(r["train_images"] for r in rows if r["size"] == size),
             seed_values(rows, scale=100, size=size, method=method)) for size in result["config"]["sizes"]]
    return curves


def _tuning_reading(probe: Curve, tuned: Curve, steps: int) -> str:
    """Whether fine-tuning every layer for ``steps`` batches beats the linear probe, size by size."""
    cells = [(n, stats.compare(tuned_by_seed, probe_by_seed)) for (n, probe_by_seed), (_, tuned_by_seed)
             in zip(probe, tuned)]
    verdicts = {c.verdict for _, c in cells}
    if len(verdicts) == 1 and verdicts != {"cannot tell"}:
        sizes = sorted(abs(c.mean_difference) for _, c in cells)
        return (f"In {steps:,} batches fine-tuning every layer {'overtakes' if verdicts == {'better'} else 'trails'} "
                f"the probe at every size, by {sizes[0]:.1f} to {sizes[-1]:.1f} points")
    return f"Fine-tuning every layer for {steps:,} batches against the probe: " + "; ".join(
        stats.word(c, better="{d:+.1f} ± {h:.1f} points", cannot_tell="{d:+.1f} ± {h:.1f} points (cannot tell)")
        + f" at {n:,} images" for n, c in cells)


def facts_pretraining(results_by_network: dict[str, list[dict]], lite0: dict) -> dict[str, str]:
    """What pretraining on ImageNet buys against training from scratch at each size: the ImageNet network's
    probe and fine-tuning (mean ± 95 % interval over seeds), its best method's lead over the ResNet from
    scratch at the smallest size, and whether its probe on the smallest set is ahead of the ResNet from
    scratch on the largest, and whether that lead is larger than the convolution's over the ViT at the
    smallest size (both from scratch). The ImageNet runs draw their images separately from the runs from
    scratch, so they are compared as independent runs (Welch's interval, :func:`coursekit.stats.contrast`)."""
    scratch, pretrained = scratch_curves(results_by_network), pretrained_curves(lite0)
    resnet, vit = scratch["ResNet-20"], scratch["ViT"]
    probe, tuned = (pretrained[f"EfficientNet-Lite0 (ImageNet), {m}"] for m in ("deep probe", "fine-tune"))
    fmt = lambda curve: ", ".join("{:.1f} ± {:.1f} %".format(*stats.mean_interval(list(v.values()))[::2])  # noqa: E731
                                  for _, v in curve)
    best = max((probe, tuned), key=lambda c: stats.mean_interval(list(c[0][1].values()))[0])
    lead = stats.compare_unpaired(best[0][1], resnet[0][1])
    across = stats.compare_unpaired(probe[0][1], resnet[-1][1])
    # the ResNet and the ViT of a seed share their images (a paired lead); the ImageNet runs drew their own
    architecture = {s: resnet[0][1][s] - vit[0][1][s] for s in resnet[0][1].keys() & vit[0][1].keys()}
    versus = stats.contrast([(1, best[0][1]), (-1, resnet[0][1]), (-1, architecture)])
    small, large = f"{resnet[0][0]:,}", f"{resnet[-1][0]:,}"
    return {
        "vit_pre_probe": fmt(probe), "vit_pre_finetune": fmt(tuned),
        "vit_pre_lead": stats.word(lead, better="ahead by {d:.1f} ± {h:.1f} points", worse="behind by {size:.1f} ± {h:.1f} points",
                                   cannot_tell="not clearly ahead ({d:+.1f} ± {h:.1f} points)"),
        "vit_pre_best": "the probe" if best is probe else "fine-tuning",
        "vit_pre_reading": stats.word(
            across, better="The ImageNet network's linear probe on {small} images is ahead of the ResNet trained from "
                           "scratch on {large} by {d:.1f} ± {h:.1f} points: a tenth of the labels, and no training of "
                           "the body at all",
            worse="Even so, the ResNet trained from scratch on {large} images is ahead of the ImageNet network's "
                  "linear probe on {small} by {size:.1f} ± {h:.1f} points",
            cannot_tell="The ImageNet network's linear probe on {small} images and the ResNet trained from scratch on "
                        "{large} cannot be told apart ({d:+.1f} ± {h:.1f} points)", small=small, large=large),
        "vit_pre_tuning": _tuning_reading(probe, tuned, lite0["config"]["steps"]),
        "vit_pre_arch": stats.word(
            versus,
            better="On {small} images pretraining is worth more than the convolution's assumptions: the ImageNet "
                   "start leads the ResNet by {d:.1f} ± {h:.1f} points more than the ResNet leads the ViT",
            worse="On {small} images the convolution's assumptions are worth more than pretraining: the ResNet "
                  "leads the ViT by {size:.1f} ± {h:.1f} points more than the ImageNet start leads the ResNet",
            cannot_tell="On {small} images the seeds cannot tell whether pretraining is worth more than the "
                        "convolution's assumptions (the ImageNet start's lead over the ResNet minus the ResNet's "
                        "over the ViT: {d:+.1f} ± {h:.1f} points)", small=small),
        "vit_pre_steps": f"{lite0['config']['steps']:,} batches of {lite0['config']['batch_size']}",
        "vit_pre_pixels": f"{lite0['config']['image_size']}",
        "vit_pre_test": f"{10 * lite0['config']['test_per_class']:,}" if lite0["config"]["test_per_class"] else "10,000",
        "vit_pre_provenance": store.provenance_line(lite0),
    }


NOT_RUN = {
    "vit_pretrained": "this needs pretrained weights from the Hugging Face hub and a GPU (fine-tuning at 224 "
                      "pixels). Run `coursekit regenerate --profile full --experiment vit_pretrained` on a GPU and "
                      "build the book with `make book BOOK_PROFILE=full` to see the measured table here.",
    "vit_memory": "GPU memory is measured on a CUDA GPU. Run `coursekit regenerate --profile full --experiment "
                  "vit_memory` there.",
}


def full_only(name: str, profile: str | None = None) -> tuple[dict | None, str]:
    """A ``full``-only experiment of this chapter (:func:`coursekit.experiments.core.full_only`)."""
    return core.full_only(name, NOT_RUN[name], profile)
