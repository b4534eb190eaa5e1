"""Chapter "vit": ResNet-20 against a Vision Transformer on CIFAR-10, from scratch, at equal budget
and at several data sizes; learning-rate range tests; in ``full`` only, pretrained ViTs and the cost
of a ViT-B/16 training step. The readings' words are in the current language (:mod:`coursekit.i18n`)."""
from __future__ import annotations

import torch

from .. import diagnostics, models, profiles, stats, store, train
from ..i18n import _, number, say
from ..results import RunResult, seed_values
from ..runs import RunState
from . import core
from .cifar import CIFAR10_RECIPE, lr_range_tests, train_cifar10_classifier
from .core import Experiment, over_seeds, register
from .transfer import LITE0_RECIPE, run_transfer
from .transfer import RECIPE as TRANSFER_RECIPE
from .vit_readings import (  # noqa: F401 (the readings of single results, in a module of their own)
    GRID_LEARNED,
    GRID_NONE,
    LOCAL,
    WORDED,
    _accuracy,
    _fit_facts,
    _paired,
    clauses,
    facts_attention,
    facts_lr_find,
    facts_positions,
    facts_rate_check,
    facts_strong_augmentation,
    fit_words,
    grid_rule,
    listed,
    local_rule,
    number_word,
    series,
    uniform_attention_distance,
)


def __getattr__(name: str):
    """``LOCAL_RULE``, ``GRID_RULE`` and ``FIT_WORDS`` of :mod:`coursekit.experiments.vit_readings`, worded when
    read, in the current language."""
    if name in WORDED:
        return WORDED[name]()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

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
    return {"vs_test": number(10_000 if per_test is None else 10 * per_test, ","),
            "vs_steps": number(steps(runs[-1]), ","), "vs_batch": str(runs[-1]["batch_size"]),
            "vs_size_epochs": listed(epochs), "vs_seeds": str(len(runs[0]["seeds"])),
            "vs_sizes": ", ".join(number(n, ",") for n in SIZES), "vs_same_size": number(SIZES[1], ","),
            "vs_vit_params": say("{millions:.2f} M",
                                 millions=models.count_parameters(models.create("vit_cifar", **VIT_ARGS)) / 1e6),
            "vs_full_steps": number(steps(core.config(f"vs_vit_{SIZES[-1]}", "full")), ","),
            "vs_strong_epochs": str(core.config(f"vs_vit_{STRONG_SIZE}_strong", profile)["epochs"]),
            "vs_strong_steps": number(steps(core.config(f"vs_vit_{STRONG_SIZE}_strong", profile)), ","),
            **facts_recipe()}


def facts_recipe() -> dict[str, str]:
    """The architectures and recipes the text describes, read from where they are defined: ``vit_cifar``'s
    default size, the smaller ViT of the experiments (:data:`VIT_ARGS`), its tokens, the two optimisers'
    rates and weight decay, the stronger recipe's label smoothing, and the pretraining contrast's pool."""
    full, cifar = models.vit.VIT_SIZES["cifar"], VIT_ARGS
    side = full["image_size"] // full["patch_size"]

    def blocks(args: dict) -> str:
        return say("{blocks} blocks of {heads} heads", blocks=number_word(args["depth"]),
                   heads=number_word(args["heads"]))

    return {"vs_cifar_dim": str(full["dim"]), "vs_cifar_blocks": blocks(full),
            "vs_dim": str(cifar["dim"]), "vs_blocks": blocks(cifar),
            "vs_mlp": say("{number} times", number=number_word(round(cifar["mlp_ratio"]))),
            "vs_patch": f"{full['patch_size']} × {full['patch_size']}", "vs_tokens": f"{side * side}",
            "vs_resnet_lr": number(RESNET["lr"], "g"), "vs_vit_lr": number(VIT["lr"], "g"),
            "vs_vit_wd": number(VIT["weight_decay"], "g"), "vs_smoothing": number(STRONG["label_smoothing"], "g"),
            "vs_pool": number(core.config("vs_lite0", "quick")["pool_per_class"], ",")}


def facts_same_budget(resnet: dict, vit: dict, timed: tuple[dict, dict] | None = None) -> dict[str, str]:
    """ResNet-20 against the ViT on the same images and budget: accuracies over seeds, the paired
    difference and whether the seeds tell them apart, the ratio of their parameters, and that of their
    throughputs, read from the runs ``timed`` when given (the largest set's, ResNet's then the ViT's:
    the longest epochs, each run alone on the machine) and otherwise from these."""
    reading = stats.word(_paired(resnet, vit), better=_("the ResNet is ahead by {d:.1f} ± {h:.1f} points"),
                         worse=_("the ViT is ahead by {size:.1f} ± {h:.1f} points"),
                         cannot_tell=_("the seeds cannot tell the two apart (difference {d:+.1f} ± {h:.1f} points)"))
    timed = timed or (resnet, vit)
    speed = [RunResult.from_dict(r).training_speed() for r in timed]
    return {"vit_same_resnet": _accuracy(resnet), "vit_same_vit": _accuracy(vit),
            "vit_speed_images": number(timed[0]["provenance"]["data"].get("train", {}).get("images", 0), ","),
            "vit_same_params": number(vit["cost"]["parameters"] / resnet["cost"]["parameters"], ".1f"),
            "vit_same_speed": number(speed[0] / speed[1], ".1f"),
            "vit_same_provenance": clauses([store.provenance_line(x) for x in (resnet, vit)]),
            "vit_same_reading": reading}


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
        better=_("The ResNet's lead widens by {d:.1f} ± {h:.1f} points as the data grow {growth:.0f}-fold: over this "
                 "range the ResNet turns extra images into accuracy faster than the ViT does"),
        worse=_("The ResNet's lead narrows by {size:.1f} ± {h:.1f} points as the data grow {growth:.0f}-fold"),
        cannot_tell=_("The seeds cannot tell whether the ResNet's lead changes as the data grow {growth:.0f}-fold "
                      "({d:+.1f} ± {h:.1f} points)"), growth=sizes[-1] / sizes[0])
    ahead = [n for n, c in zip(sizes, leads) if c.verdict == "better"]
    if len(ahead) == len(sizes):
        margin = say("ahead by {low:.1f} to {high:.1f} points at every size from {smallest:,} to {largest:,} images",
                     low=min(d for d, _h in leads), high=max(d for d, _h in leads), smallest=sizes[0],
                     largest=sizes[-1])
    elif ahead:
        margin = say("ahead at {sizes} images (by more than the seeds vary), not clearly ahead at the others",
                     sizes=", ".join(number(n, ",") for n in ahead))
    else:
        margin = _("not clearly ahead at any size: the seeds vary as much as the lead")
    return {**_fit_facts(views, sizes),
            "vit_eff_gaps": series([say("{d:+.1f} ± {h:.1f}", d=d, h=hw) for d, hw in leads]),
            "vit_eff_sizes": ", ".join(number(n, ",") for n in sizes),
            "vit_eff_gain_resnet": number(acc["ResNet-20"][-1] - acc["ResNet-20"][0], "+.1f"),
            "vit_eff_gain_vit": number(acc["ViT"][-1] - acc["ViT"][0], "+.1f"),
            "vit_eff_flat_share": say("{percent:.0f} %", percent=100 * max(shares)),
            **{f"vit_eff_{k}": v for k, v in diagnostics.flat_rule().items()},
            "vit_eff_flat_reading": _("every training loss had flattened") if flat else
            _("not every training loss had flattened, so part of each gap is a difference in speed of optimisation"),
            "vit_eff_reading": reading, "vit_discussion_margin": margin}


Curve = list[tuple[int, dict[int, float]]]  # (training images, {seed: test accuracy in %}) by size


def scratch_curves(results_by_network: dict[str, list[dict]]) -> dict[str, Curve]:
    """The data-efficiency runs as curves: ``{label: [(training images, accuracy by seed)]}``, one run per size."""
    return {label: [(r["provenance"]["data"]["train"]["images"], RunResult.from_dict(r).metric("accuracy", 100))
                    for r in runs] for label, runs in results_by_network.items()}


PRETRAINED_CURVE = "EfficientNet-Lite0 (ImageNet), {method}"  # the key of a curve of pretrained_curves


def pretrained_curves(result: dict) -> dict[str, Curve]:
    """``vs_lite0``'s runs as curves, one per method: ``{"EfficientNet-Lite0, deep probe": [...], ...}``."""
    rows, curves = result["metrics"]["rows"], {}
    for method in result["config"]["methods"]:
        curves[PRETRAINED_CURVE.format(method=method)] = [
            (next(r["train_images"] for r in rows if r["size"] == size),
             seed_values(rows, scale=100, size=size, method=method)) for size in result["config"]["sizes"]]
    return curves


def _tuning_reading(probe: Curve, tuned: Curve, steps: int) -> str:
    """Whether fine-tuning every layer for ``steps`` batches beats the linear probe, size by size."""
    cells = [(n, stats.compare(tuned_by_seed, probe_by_seed)) for (n, probe_by_seed), (_n, tuned_by_seed)
             in zip(probe, tuned)]
    verdicts = {c.verdict for _n, c in cells}
    if len(verdicts) == 1 and verdicts != {"cannot tell"}:
        sizes = sorted(abs(c.mean_difference) for _n, c in cells)
        if verdicts == {"better"}:
            return say("In {steps:,} batches fine-tuning every layer overtakes the probe at every size, by {low:.1f} "
                       "to {high:.1f} points", steps=steps, low=sizes[0], high=sizes[-1])
        return say("In {steps:,} batches fine-tuning every layer trails the probe at every size, by {low:.1f} to "
                   "{high:.1f} points", steps=steps, low=sizes[0], high=sizes[-1])
    differences = [stats.word(c, better=_("{d:+.1f} ± {h:.1f} points at {images:,} images"),
                              cannot_tell=_("{d:+.1f} ± {h:.1f} points (cannot tell) at {images:,} images"), images=n)
                   for n, c in cells]
    return say("Fine-tuning every layer for {steps:,} batches against the probe: {differences}", steps=steps,
               differences=clauses(differences))


def facts_pretraining(results_by_network: dict[str, list[dict]], lite0: dict) -> dict[str, str]:
    """What pretraining on ImageNet buys against training from scratch at each size: the ImageNet network's
    probe and fine-tuning (mean ± 95 % interval over seeds), its best method's lead over the ResNet from
    scratch at the smallest size, and whether its probe on the smallest set is ahead of the ResNet from
    scratch on the largest, and whether that lead is larger than the convolution's over the ViT at the
    smallest size (both from scratch). The ImageNet runs draw their images separately from the runs from
    scratch, so they are compared as independent runs (Welch's interval, :func:`coursekit.stats.contrast`)."""
    scratch, pretrained = scratch_curves(results_by_network), pretrained_curves(lite0)
    resnet, vit = scratch["ResNet-20"], scratch["ViT"]
    probe, tuned = (pretrained[PRETRAINED_CURVE.format(method=m)] for m in ("deep probe", "fine-tune"))
    fmt = lambda curve: series([say("{mean:.1f} ± {half:.1f} %", mean=m, half=h)  # noqa: E731
                                for m, h in (stats.mean_interval(list(v.values()))[::2] for _n, v in curve)])
    best = max((probe, tuned), key=lambda c: stats.mean_interval(list(c[0][1].values()))[0])
    lead = stats.compare_unpaired(best[0][1], resnet[0][1])
    across = stats.compare_unpaired(probe[0][1], resnet[-1][1])
    # the ResNet and the ViT of a seed share their images (a paired lead); the ImageNet runs drew their own
    architecture = {s: resnet[0][1][s] - vit[0][1][s] for s in resnet[0][1].keys() & vit[0][1].keys()}
    versus = stats.contrast([(1, best[0][1]), (-1, resnet[0][1]), (-1, architecture)])
    small, large = resnet[0][0], resnet[-1][0]
    return {
        "vit_pre_probe": fmt(probe), "vit_pre_finetune": fmt(tuned),
        "vit_pre_lead": stats.word(lead, better=_("ahead by {d:.1f} ± {h:.1f} points"),
                                   worse=_("behind by {size:.1f} ± {h:.1f} points"),
                                   cannot_tell=_("not clearly ahead ({d:+.1f} ± {h:.1f} points)")),
        "vit_pre_best": _("the probe") if best is probe else _("fine-tuning"),
        "vit_pre_reading": stats.word(
            across, better=_("The ImageNet network's linear probe on {small:,} images is ahead of the ResNet trained "
                             "from scratch on {large:,} by {d:.1f} ± {h:.1f} points: a tenth of the labels, and no "
                             "training of the body at all"),
            worse=_("Even so, the ResNet trained from scratch on {large:,} images is ahead of the ImageNet network's "
                    "linear probe on {small:,} by {size:.1f} ± {h:.1f} points"),
            cannot_tell=_("The ImageNet network's linear probe on {small:,} images and the ResNet trained from scratch "
                          "on {large:,} cannot be told apart ({d:+.1f} ± {h:.1f} points)"), small=small, large=large),
        "vit_pre_tuning": _tuning_reading(probe, tuned, lite0["config"]["steps"]),
        "vit_pre_arch": stats.word(
            versus,
            better=_("On {small:,} images pretraining is worth more than the convolution's assumptions: the ImageNet "
                     "start leads the ResNet by {d:.1f} ± {h:.1f} points more than the ResNet leads the ViT"),
            worse=_("On {small:,} images the convolution's assumptions are worth more than pretraining: the ResNet "
                    "leads the ViT by {size:.1f} ± {h:.1f} points more than the ImageNet start leads the ResNet"),
            cannot_tell=_("On {small:,} images the seeds cannot tell whether pretraining is worth more than the "
                          "convolution's assumptions (the ImageNet start's lead over the ResNet minus the ResNet's "
                          "over the ViT: {d:+.1f} ± {h:.1f} points)"), small=small),
        "vit_pre_steps": say("{steps:,} batches of {batch}", steps=lite0["config"]["steps"],
                             batch=lite0["config"]["batch_size"]),
        "vit_pre_pixels": f"{lite0['config']['image_size']}",
        "vit_pre_test": number(10 * lite0["config"]["test_per_class"] if lite0["config"]["test_per_class"] else 10_000,
                               ","),
        "vit_pre_provenance": store.provenance_line(lite0),
    }


def not_run(name: str) -> str:
    """Why the ``full``-only experiment ``name`` is not run in another profile, and how to see it, in the current
    language."""
    return {
        "vit_pretrained": _("this needs pretrained weights from the Hugging Face hub and a GPU (fine-tuning at 224 "
                            "pixels). Run `coursekit regenerate --profile full --experiment vit_pretrained` on a GPU "
                            "and build the book with `make book BOOK_PROFILE=full` to see the measured table here."),
        "vit_memory": _("GPU memory is measured on a CUDA GPU. Run `coursekit regenerate --profile full --experiment "
                        "vit_memory` there."),
    }[name]


def full_only(name: str, profile: str | None = None) -> tuple[dict | None, str]:
    """A ``full``-only experiment of this chapter (:func:`coursekit.experiments.core.full_only`)."""
    return core.full_only(name, not_run(name), profile)
