"""Chapter "finegrained": fine-grained recognition on Stanford Cars. ImageNet's EfficientNet-Lite0
probed and fine-tuned (a rate chosen on validation images, what each part of the recipe adds, gradual
unfreezing, three resolutions), against a ResNet and a ViT trained from scratch; the runs' errors
kept for the chapter to read (which classes are confused, where the network looks). Every word the readings
return is written in the current language (:mod:`coursekit.i18n`); ``NOT_RUN`` and ``FIT_WORDS`` are worded
when they are read, not when the module is imported."""
from __future__ import annotations

from .. import diagnostics, stats, store, train
from ..i18n import _, number, plural, say
from . import core
from .cars_classes import confused_pairs, look_alikes, make_of, model_of, within_make  # noqa: F401 (the chapter reads them here)
from .core import Experiment, register
from .transfer import LITE0_RECIPE, _by_seed, run_transfer

# The test images are read once, by the experiments below; the rate is chosen on the validation
# images carved out of the training split (``cars_rates``). Every fine-tuning run gets the same five
# epochs of batches of 32 (about 152 batches an epoch at 128 px), a body rate a tenth of the head's,
# the one-cycle schedule's warm-up and label smoothing of 0.1; ``cars_ablation`` takes each away.
EPOCHS = 5
BATCHES = 152  # an epoch of the training images (about 4,890 of them) in batches of 32
RATE = 0.03    # the body's peak rate, as the validation runs chose it (a test checks it against them)
RATES = (0.003, 0.01, 0.03, 0.1)  # a grid that reaches past the chosen rate on both sides
CARS = dict(LITE0_RECIPE, targets=["stanford-cars"], sizes=dict(all=None), methods=["fine-tune"],
            finetune_lr=RATE, label_smoothing=0.1, keep_confusion=True, test_per_class=None, pool_per_class=None)
BUDGET = {
    "ci": dict(seeds=[0], steps=2, batch_size=8, image_size=32, crop_padding=4, decode_per_class=2, pool_per_class=2,
               test_per_class=2, probe_weight_decays=[1e-2, 1.0]),
    "quick": dict(seeds=[0, 1, 2], steps=EPOCHS * BATCHES, batch_size=32),
    "full": dict(seeds=[0, 1, 2], steps=4 * EPOCHS * BATCHES, batch_size=32, image_size=224, crop_padding=28),
}
ONE_SEED = {profile: dict(sizes, seeds=[0]) for profile, sizes in BUDGET.items()}
# Grad-CAM of the fine-tuned network on the last stage whose maps are 8 x 8 at 128 px.
GRADCAM = dict(layer="blocks.5", per_kind=6)

register(Experiment(
    name="cars_rates", chapter="finegrained",
    title=f"EfficientNet-Lite0 fine-tuned on Stanford Cars at {len(RATES)} peak rates, read on the validation images",
    base=dict(CARS, targets=["stanford-cars-val"], keep_confusion=False,
              variants={f"{lr:g}": dict(finetune_lr=lr) for lr in RATES}),
    sizes=ONE_SEED, runner=run_transfer))

register(Experiment(
    name="cars_finetune", chapter="finegrained",
    title="Stanford Cars from ImageNet's EfficientNet-Lite0 at 128 px: linear probe, fine-tuning, gradual unfreezing",
    base=dict(CARS, methods=["deep probe", "fine-tune", "fine-tune, gradual unfreezing"], gradcam=GRADCAM),
    sizes=BUDGET, runner=run_transfer))

ABLATION = {"one rate for every layer": dict(head_lr_multiplier=1), "no warm-up": dict(schedule="cosine"),
            "no label smoothing": dict(label_smoothing=0.0)}
register(Experiment(
    name="cars_ablation", chapter="finegrained",
    title="Fine-tuning on Stanford Cars with one part of the recipe taken away at a time",
    base=dict(CARS, keep_confusion=False, variants=ABLATION), sizes=BUDGET, runner=run_transfer))

# The resolution study: the same probe and fine-tuning at another input side than cars_finetune's, one seed
# (160 px against 128 in ``quick``; in ``full``, where cars_finetune runs at 224 px, 160 against 224).
RESOLUTIONS = (160,)
for pixels in RESOLUTIONS:
    register(Experiment(
        name=f"cars_res_{pixels}", chapter="finegrained",
        title=f"Stanford Cars from EfficientNet-Lite0 at {pixels} px: linear probe and fine-tuning (one seed)",
        base=dict(CARS, methods=["deep probe", "fine-tune"], image_size=pixels, crop_padding=pixels // 8,
                  keep_confusion=False),
        sizes={"ci": dict(ONE_SEED["ci"], image_size=pixels // 4, crop_padding=pixels // 32),
               **{profile: dict(ONE_SEED[profile], image_size=pixels, crop_padding=pixels // 8)
                  for profile in ("quick", "full")}},
        runner=run_transfer))

# From scratch, at 64 px (a quarter of the pixels: what two CPU cores can train for ten epochs in about
# seven minutes a seed): a CIFAR ResNet-20 (SGD) and a small ViT of 8 x 8 patches, 64 tokens as on
# CIFAR-10 (AdamW).
SCRATCH_EPOCHS = 10
SCRATCH = dict(CARS, methods=["scratch"], image_size=64, crop_padding=8, keep_confusion=False)
SCRATCH_BUDGET = {profile: dict(sizes, image_size=64, crop_padding=8) for profile, sizes in BUDGET.items()}
SCRATCH_BUDGET["quick"]["steps"] = SCRATCH_EPOCHS * BATCHES
SCRATCH_NETWORKS = {
    "resnet": ("ResNet-20", dict(kind="scratch", name="resnet20"), dict(scratch_lr=0.05)),
    "vit": ("a ViT of 8 x 8 patches", dict(kind="scratch", name="vit_cifar",
                                           kwargs=dict(image_size=64, patch_size=8, dim=128, depth=4, heads=4,
                                                       mlp_ratio=2.0)),
            dict(optimizer="adamw", scratch_lr=1e-3, weight_decay=0.05)),
}
for key, (title, source, recipe) in SCRATCH_NETWORKS.items():
    register(Experiment(
        name=f"cars_scratch_{key}", chapter="finegrained",
        title=f"Stanford Cars from scratch at 64 px: {title}",
        base=dict(SCRATCH, sources=[source], **recipe), sizes=SCRATCH_BUDGET, runner=run_transfer))

# full profile only: a ViT-S/16 pretrained on ImageNet-21k (and fine-tuned on ImageNet-1k, AugReg),
# probed and fine-tuned the way ViTs are: AdamW, warm-up, label smoothing, and a rate that shrinks by
# a quarter from each block to the one below it (layer-wise rate decay) instead of one rate for the body.
VIT_SOURCE = dict(kind="imagenet", name="timm/vit_small_patch16_224.augreg_in21k_ft_in1k", layers=dict(deep="pre_logits"))
register(Experiment(
    name="cars_vit_pretrained", chapter="finegrained", profiles=("full",),
    title="Stanford Cars from a ViT-S/16 pretrained on ImageNet-21k: probe, and fine-tuning with layer-wise rate decay",
    base=dict(CARS, sources=[VIT_SOURCE], methods=["deep probe", "fine-tune"], optimizer="adamw", finetune_lr=1e-4,
              weight_decay=0.05, layer_decay=0.75, keep_confusion=False),
    sizes={"full": dict(BUDGET["full"])}, runner=run_transfer))


def not_run() -> dict[str, str]:
    """Why each ``full``-only experiment of this chapter is not run in the other profiles, and how to see it
    (Markdown, in the current language): ``NOT_RUN``."""
    return {"cars_vit_pretrained": _("this needs the ViT's weights from the Hugging Face hub and a GPU (fine-tuning at "
                                     "224 pixels). Run `coursekit regenerate --profile full --experiment "
                                     "cars_vit_pretrained` on a GPU and build the book with `make book "
                                     "BOOK_PROFILE=full` to see it here.")}


def full_only(name: str, profile: str | None = None) -> tuple[dict | None, str]:
    """A ``full``-only experiment of this chapter (:func:`coursekit.experiments.core.full_only`)."""
    return core.full_only(name, not_run()[name], profile)


# --- the readings the chapter's text glues: each returns {glue name: text} --------------------------

def _accuracy(values: dict[int, float]) -> str:
    """"61.2 ± 1.3 %" over seeds; "61.2 % (one seed)" for one."""
    mean, _sd, half = stats.mean_interval(list(values.values()))
    if len(values) > 1:
        return say("{mean:.1f} ± {half:.1f} %", mean=mean, half=half)
    return say("{mean:.1f} % (one seed)", mean=mean)


def _percent(value: float) -> str:
    """One accuracy in percent: "61.2 %"."""
    return say("{accuracy:.1f} %", accuracy=value)


def points_word(*values: float) -> str:
    """The word "points" after ``values`` (written to a tenth), agreed as the current language agrees it: English
    always says "points", French "point" when every value is below 2 ("1,5 point") and "points" from 2 on. (The
    two English forms are the same: the count chosen here, 1 or 2, only stands for the grammatical number.)"""
    return plural("points", "points", 1 if all(abs(round(v, 1)) < 2 for v in values) else 2)


def _series(items: list[str]) -> str:
    """Items one after the other, "128, 160, 224" (in French "128, 160 et 224")."""
    if len(items) < 2:
        return "".join(items)
    return say("{items}, {last}", items=", ".join(items[:-1]), last=items[-1])


def _rate(variant: str) -> str:
    """A peak rate of ``cars_rates`` (its variant's name, the rate written with ``:g``) as the current
    language writes the number."""
    return number(float(variant), "g")


def method_name(method: str) -> str:
    """A way to train (a ``method`` of :func:`coursekit.experiments.transfer.run_transfer`) as the book shows it,
    in the current language."""
    names = {"deep probe": _("deep probe"), "fine-tune": _("fine-tune"),
             "fine-tune, gradual unfreezing": _("fine-tune, gradual unfreezing"), "scratch": _("scratch")}
    return names.get(method, method)


def variant_name(variant: str) -> str:
    """A variant of ``cars_ablation`` (a part of the recipe taken away) in the current language."""
    names = {"one rate for every layer": _("one rate for every layer"), "no warm-up": _("no warm-up"),
             "no label smoothing": _("no label smoothing")}
    return names.get(variant, variant)


def _part_name(variant: str) -> str:
    """The part of the recipe that a variant of ``cars_ablation`` takes away, in the current language."""
    names = {"one rate for every layer": _("a lower rate for the body"), "no warm-up": _("warm-up"),
             "no label smoothing": _("label smoothing")}
    return names.get(variant) or variant.replace("no ", "").replace("one rate for every layer", "a lower rate for the body")


def facts_rates(result: dict) -> dict[str, str]:
    """The validation accuracy of fine-tuning at each peak rate (one seed), the rate it chooses, and
    whether the chapter's runs use that rate (:data:`RATE`)."""
    accs = {v: _by_seed(result, variant=v)[result["config"]["seeds"][0]] for v in result["config"]["variants"]}
    best = max(accs, key=accs.__getitem__)
    chosen = float(best)
    if chosen == RATE:
        reading = say("the validation images choose {best}, the rate every fine-tuning run below uses", best=_rate(best))
    else:
        reading = say("the validation images choose {best}, yet the runs below use {rate:g}: they must be run again",
                      best=_rate(best), rate=RATE)
    if best in (min(accs, key=float), max(accs, key=float)):
        reading = say("{reading} ({best} is at the edge of the rates tried: one beyond it might do better)",
                      reading=reading, best=_rate(best))
    return {"cars_rate_accs": _series([say("{rate}: {accuracy:.1f} %", rate=_rate(v), accuracy=a)
                                       for v, a in accs.items()]),
            "cars_rate_best": _rate(best),
            "cars_rate_reading": reading, "cars_rate_provenance": store.provenance_line(result)}


def fit_words() -> dict[str, str]:
    """What each verdict of :func:`coursekit.diagnostics.fit_verdict` says of fine-tuning, in the current
    language: ``FIT_WORDS``."""
    return {"under-fits": _("it has not yet learnt its own training images: more epochs would still help"),
            "over-fits": _("it has learnt its training images far better than it recognises new ones"),
            "fits": _("it fits its training images and recognises new ones nearly as well")}


def facts_recipe(profile: str | None = None) -> dict[str, str]:
    """The fine-tuning recipe's numbers as the text writes them, read from the chapter's configurations:
    the label smoothing, how many times the head's rate is the body's, the warm-up's share of the steps,
    the epochs and the pixels, the scratch runs' pixels and the ViT's layer-wise rate decay."""
    cfg, scratch = core.config("cars_finetune", profile), core.config("cars_scratch_resnet", profile)
    return {"cars_smoothing": number(cfg["label_smoothing"], "g"), "cars_head_times": number(cfg["head_lr_multiplier"], "g"),
            "cars_warmup": say("{share:.0f} %", share=100 * train.WARMUP),
            "cars_epochs": str(max(1, round(cfg["steps"] / BATCHES))),
            "cars_pixels": str(cfg["image_size"]), "cars_scratch_pixels": str(scratch["image_size"]),
            "cars_n_rates": str(len(core.config("cars_rates", profile)["variants"])),
            "cars_layer_decay": number(core.config("cars_vit_pretrained", "full")["layer_decay"], "g")}


def facts_finetune(result: dict) -> dict[str, str]:
    """The linear probe, fine-tuning and fine-tuning with gradual unfreezing at 128 px (mean ± 95 % over
    seeds), chance, fine-tuning's training accuracy and top-5, and the paired differences: fine-tuning
    against the probe, gradual unfreezing against training every layer from the start."""
    probe, tuned, gradual = (_by_seed(result, method=m) for m in ("deep probe", "fine-tune",
                                                                    "fine-tune, gradual unfreezing"))
    rows = [r for r in result["metrics"]["rows"] if r["method"] == "fine-tune"]
    train_acc = stats.mean_interval([100 * r["final_train_accuracy"] for r in rows])[0]
    top5 = stats.mean_interval([100 * r["top5"] for r in rows])[0]
    classes = result["provenance"]["data"]["targets"]["stanford-cars"]["classes"]
    versus_probe, versus_tuned = stats.compare(tuned, probe), stats.compare(gradual, tuned)
    return {
        "cars_probe": _accuracy(probe), "cars_ft": _accuracy(tuned), "cars_gradual": _accuracy(gradual),
        "cars_chance": _percent(100 / classes), "cars_classes": str(classes),
        "cars_ft_train": _percent(train_acc), "cars_ft_top5": _percent(top5),
        "cars_ft_fit": fit_words()[diagnostics.fit_verdict(train_acc, stats.mean_interval(list(tuned.values()))[0])],
        "cars_ft_vs_probe": stats.word(
            versus_probe, better=_("fine-tuning every layer is ahead of the probe by {d:.1f} ± {h:.1f} {points}"),
            worse=_("the probe is ahead of fine-tuning by {size:.1f} ± {h:.1f} {points}"),
            cannot_tell=_("the seeds cannot tell fine-tuning from the probe ({d:+.1f} ± {h:.1f} {points})"),
            points=points_word(*versus_probe)),
        "cars_gradual_reading": stats.word(
            versus_tuned,
            better=_("unfreezing gradually is ahead of training every layer from the start by {d:.1f} ± {h:.1f} "
                     "{points}"),
            worse=_("unfreezing gradually costs {size:.1f} ± {h:.1f} {points} against training every layer from the "
                    "start"),
            cannot_tell=_("the seeds cannot tell gradual unfreezing from training every layer from the start "
                          "({d:+.1f} ± {h:.1f} {points})"),
            points=points_word(*versus_tuned)),
        "cars_ft_provenance": store.provenance_line(result)}


def facts_ablation(ablation: dict, finetune: dict) -> dict[str, str]:
    """What each part of the recipe adds: the full recipe's accuracy minus that of the same run without
    the part, paired by seed (the same images, order and initial head), for each variant of ``ablation``."""
    full = _by_seed(finetune, method="fine-tune")
    parts, verdicts = [], {"better": [], "worse": [], "cannot tell": []}
    for variant in ablation["config"]["variants"]:
        comparison = stats.compare(full, _by_seed(ablation, variant=variant))
        parts.append(say("{variant}: {d:+.1f} ± {h:.1f}", variant=variant_name(variant), d=comparison.mean_difference,
                         h=comparison.half_width))
        verdicts[comparison.verdict].append(_part_name(variant))
    readings = []
    if verdicts["better"]:
        readings.append(say("clearly adding to the accuracy: {parts}", parts=_series(verdicts["better"])))
    if verdicts["worse"]:  # a part whose removal clearly helps: said, never hidden behind "adds nothing"
        readings.append(say("clearly lowering the accuracy at this budget: {parts}", parts=_series(verdicts["worse"])))
    reading = (_("; ").join(readings) if readings else
               _("no part of the recipe clearly adds to the accuracy by itself at this budget"))
    return {"cars_ablation": _("; ").join(parts), "cars_ablation_reading": reading,
            "cars_ablation_provenance": store.provenance_line(ablation)}


def compared_runs(resnet: dict, vit: dict, tuned: dict) -> dict[str, tuple[dict, str]]:
    """Every way the chapter trains on Stanford Cars, ``{label: (result, method)}``: from scratch (the
    ResNet and the ViT), the probe, fine-tuning, and fine-tuning with gradual unfreezing; the labels, which
    the figure shows, in the current language."""
    pixels = resnet["config"]["image_size"]
    return {say("ResNet-20 from scratch ({pixels} px)", pixels=pixels): (resnet, "scratch"),
            say("ViT from scratch ({pixels} px)", pixels=vit["config"]["image_size"]): (vit, "scratch"),
            _("ImageNet Lite0, linear probe"): (tuned, "deep probe"),
            _("ImageNet Lite0, fine-tuned"): (tuned, "fine-tune"),
            _("fine-tuned, gradual unfreezing"): (tuned, "fine-tune, gradual unfreezing")}


def by_pixels(results: list[dict]) -> dict[int, dict]:
    """Results of the same recipe at several resolutions, by the side of their inputs in pixels."""
    return {r["config"]["image_size"]: r for r in results}


def facts_resolution(by_pixels: dict[int, dict]) -> dict[str, str]:
    """Probe and fine-tuning accuracy of the first seed at each resolution (``{pixels: result}``), the
    training time of fine-tuning at each, and the gain and the cost from the smallest to the largest."""
    sizes = sorted(by_pixels)
    seed = lambda r: r["config"]["seeds"][0]  # noqa: E731
    probe = {p: _by_seed(r, method="deep probe")[seed(r)] for p, r in by_pixels.items()}
    tuned = {p: _by_seed(r, method="fine-tune")[seed(r)] for p, r in by_pixels.items()}
    seconds = {p: next(x["seconds"] for x in r["metrics"]["rows"] if x["method"] == "fine-tune" and x["seed"] == seed(r))
               for p, r in by_pixels.items()}
    low, high = sizes[0], sizes[-1]
    gain = tuned[high] - tuned[low]
    return {"cars_res_sizes": _series([f"{p}" for p in sizes]),
            "cars_res_probe": _series([_percent(probe[p]) for p in sizes]),
            "cars_res_ft": _series([_percent(tuned[p]) for p in sizes]),
            "cars_res_minutes": _series([number(seconds[p] / 60, ".0f") for p in sizes]),
            "cars_res_gain": say("{gain:+.1f} {points}", gain=gain, points=points_word(gain)),
            "cars_res_cost": number(seconds[high] / seconds[low], ".1f"),
            "cars_res_pixels": number((high / low) ** 2, ".1f")}


def facts_scratch(resnet: dict, vit: dict, finetune: dict) -> dict[str, str]:
    """The ResNet and the ViT trained from scratch (mean ± 95 % over seeds), as multiples of chance, which of
    the two learns more, and fine-tuning's lead over the better of them (paired: the same images and seeds)."""
    nets = {"ResNet-20": _by_seed(resnet, method="scratch"), "ViT": _by_seed(vit, method="scratch")}
    classes = finetune["provenance"]["data"]["targets"]["stanford-cars"]["classes"]
    chance = 100 / classes
    best = max(nets, key=lambda n: stats.mean_interval(list(nets[n].values()))[0])
    lead = stats.compare(_by_seed(finetune, method="fine-tune"), nets[best])
    between = stats.compare(nets["ResNet-20"], nets["ViT"])
    return {"cars_scratch_resnet": _accuracy(nets["ResNet-20"]), "cars_scratch_vit": _accuracy(nets["ViT"]),
            "cars_scratch_times": _series([number(stats.mean_interval(list(v.values()))[0] / chance, ".1f")
                                           for v in nets.values()]),
            "cars_scratch_best": best,
            "cars_scratch_reading": stats.word(
                between,
                better=_("the ViT, the network with the fewest built-in assumptions, learns least: the ResNet leads "
                         "it by {size:.1f} ± {h:.1f} {points}"),
                worse=_("the ViT learns more than the ResNet here, by {size:.1f} ± {h:.1f} {points}, despite having "
                        "the fewest built-in assumptions"),
                cannot_tell=_("the seeds cannot tell the ResNet and the ViT apart ({d:+.1f} ± {h:.1f} {points})"),
                points=points_word(*between)),
            "cars_scratch_lead": stats.word(lead, better=_("{d:.1f} ± {h:.1f} {points}"),
                                            worse=_("{d:+.1f} ± {h:.1f} {points}"),
                                            cannot_tell=_("{d:+.1f} ± {h:.1f} {points} (the seeds cannot tell)"),
                                            points=points_word(*lead)),
            "cars_scratch_epochs": str(SCRATCH_EPOCHS),
            "cars_scratch_provenance": "; ".join(store.provenance_line(r) for r in (resnet, vit))}


def facts_errors(result: dict, classes: tuple[str, ...] | list[str], top: int = 3) -> dict[str, str]:
    """Where fine-tuning's errors fall: the most confused pairs (first seed), the share of errors that stay
    within the true class's make against the share that errors spread evenly would give (mean over seeds,
    and whether the seeds tell the two apart), and the makes recognised best and worst (first seed, those
    with at least ten test images)."""
    rows = {r["seed"]: r for r in result["metrics"]["rows"] if r["method"] == "fine-tune"}
    row = rows[result["config"]["seeds"][0]]
    shares = {seed: within_make(r["confusion"], classes) for seed, r in rows.items()}
    same = {seed: s for seed, (s, _) in shares.items()}
    spread = {seed: e for seed, (_, e) in shares.items()}
    makes = [make_of(c) for c in classes]
    per_make: dict[str, list[int]] = {}
    for t, p, n in row["confusion"]:
        right_total = per_make.setdefault(makes[t], [0, 0])
        right_total[0] += n if t == p else 0
        right_total[1] += n
    rated = {m: 100 * r / n for m, (r, n) in per_make.items() if n >= 10}
    ranked = sorted(rated, key=rated.__getitem__)
    pairs = confused_pairs(row["confusion"], classes)[:top]
    excess = stats.compare(same, spread)
    mean = lambda values: stats.mean_interval(list(values.values()))[0]  # noqa: E731
    return {"cars_err_pairs": _("; ").join(say("{a} and {b} ({n})", a=a, b=b, n=n) for a, b, n in pairs),
            "cars_err_same_make": say("{share:.0f} %", share=mean(same)),
            "cars_err_expected": say("{share:.0f} %", share=mean(spread)),
            "cars_err_make_reading": stats.word(
                excess,
                better=_("errors stay within the true make far more often than chance would put them there "
                         "({d:+.1f} ± {h:.1f} {points}): the network has learned what a make looks like before "
                         "it has learned what separates its models"),
                worse=_("errors stay within the true make less often than chance would put them there "
                        "({d:+.1f} ± {h:.1f} {points})"),
                cannot_tell=_("the seeds cannot tell this share from chance ({d:+.1f} ± {h:.1f} {points})"),
                points=points_word(*excess)),
            "cars_err_best": _series([say("{make} ({accuracy:.0f} %)", make=m, accuracy=rated[m])
                                      for m in reversed(ranked[-3:])]),
            "cars_err_worst": _series([say("{make} ({accuracy:.0f} %)", make=m, accuracy=rated[m]) for m in ranked[:3]])}


def facts_data(train_set, val, test) -> dict[str, str]:
    """The splits the chapter reads (:class:`~coursekit.data.ImageTensors`): classes, images per split,
    the fewest, median and most training images a class, how the split was made, and the pairs of
    classes that differ only by their year."""
    import torch

    counts = torch.bincount(train_set.labels, minlength=len(train_set.classes)).sort().values
    pairs = look_alikes(train_set.classes)
    return {"cars_n_classes": str(len(train_set.classes)), "cars_n_train": number(len(train_set), ","),
            "cars_n_val": number(len(val), ","), "cars_n_test": number(len(test), ","),
            "cars_test_se": say("{se:.1f} {points}", se=100 * (0.25 / len(test)) ** 0.5,
                                points=points_word(100 * (0.25 / len(test)) ** 0.5)),
            "cars_per_class": say("{fewest} to {most} (median {median})", fewest=int(counts[0]), most=int(counts[-1]),
                                  median=int(counts[len(counts) // 2])),
            "cars_makes": str(len({make_of(c) for c in train_set.classes})),
            "cars_split": test.source["split"] if "split" in test.source else _("the official test split"),
            "cars_year_pairs": str(len(pairs)),
            "cars_year_example": say("{a} and {b}", a=pairs[0][0], b=pairs[0][1]) if pairs else _("none")}


def method_rows(result: dict) -> list[list[str]]:
    """``[method, test accuracy over seeds]`` for each method of ``result``: a table's rows (the method as the
    book shows it, in the current language)."""
    return [[method_name(method), _accuracy(_by_seed(result, method=method))] for method in result["config"]["methods"]]


# The module's words that are read as constants, worded when read (PEP 562), in the current language.
WORDED = {"NOT_RUN": not_run, "FIT_WORDS": fit_words}


def __getattr__(name: str):
    if name in WORDED:
        return WORDED[name]()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
