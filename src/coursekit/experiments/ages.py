"""Chapter "ages": predicting age from UTKFace's faces. Four heads on the student's small CNN (L1 on age,
L1 on log-age, eight groups, CORAL), a ResNet from scratch, EfficientNet-Lite0's frozen ImageNet
features with a ridge regression and the same network fine-tuned; every run's test predictions kept
for the chapter to read who the errors fall on. Every word the readings return is written in the current
language (:mod:`coursekit.i18n`); ``NOT_RUN`` is worded when it is read, not when the module is imported."""
from __future__ import annotations

import torch
from torch import nn

from .. import data, diagnostics, models, profiles, regression, stats, train, transfer
from ..i18n import _, number, plural, say
from ..runs import RunState
from . import core
from .core import Experiment, over_seeds, register

# The faces are 96 pixels; the networks trained from scratch see them at 48 (what two CPU cores train
# in minutes), the ImageNet network at 96. Random crops (4 pixels) and flips; AdamW with one-cycle.
RECIPE = dict(model="small_cnn", model_args={}, head="l1", image_size=48, crop_padding=4, flip=True,
              optimizer="adamw", lr=3e-3, weight_decay=0.05, schedule="onecycle", seed=0)
LITE0 = dict(kind="imagenet", name="efficientnet_lite0", layers=dict(deep="pre_logits"))
# Grad-CAM of the fine-tuned ImageNet network on its last stage of stride 16 (6 x 6 maps at 96 pixels).
GRADCAM = dict(layer="blocks.4")
SIZES = {
    "ci": dict(epochs=1, batch_size=16, seeds=[0], per_band=2),
    "quick": dict(epochs=8, batch_size=64, seeds=[0, 1, 2]),
    "full": dict(epochs=40, batch_size=128, seeds=[0, 1, 2], image_size=96, crop_padding=6),
}


def age_network(cfg: dict) -> tuple[nn.Module, str]:
    """The network of ``cfg`` with the last layer its head needs (:func:`coursekit.regression.new_head`),
    and that layer's name: coursekit's ``small_cnn`` or ``resnet20`` from scratch, or ImageNet's
    ``efficientnet_lite0`` pretrained."""
    if cfg["model"] == "efficientnet_lite0":
        model = models.pretrained("efficientnet_lite0")
    else:
        model = models.create(cfg["model"], **cfg["model_args"])
    name = transfer.classifier_name(model)
    parent, _dot, attr = name.rpartition(".")
    owner = model.get_submodule(parent) if parent else model
    setattr(owner, attr, regression.new_head(cfg["head"], getattr(owner, attr).in_features))
    return model, name


def face_splits(cfg: dict) -> dict[str, data.ImageTensors]:
    """The training, validation and test faces at ``cfg['image_size']`` (``cfg['per_band']`` faces of each
    five-year band at most, for the ``ci`` profile)."""
    return {split: data.load_utkface(split, cfg["image_size"], per_band=cfg.get("per_band"))
            for split in ("train", "val", "test")}


def train_age_model(cfg: dict, state: RunState) -> dict:
    """Train ``cfg['model']`` with ``cfg['head']`` on UTKFace's training faces through :func:`train.fit`
    (the validation MAE after every epoch in its history) and measure it on the test faces: MAE, CS(5),
    group accuracy, and every test face's predicted age (to a tenth of a year)."""
    device = profiles.device()
    faces = face_splits(cfg)
    train.seed_everything(cfg["seed"])  # the new head's (or the whole network's) initial weights
    model, head = age_network(cfg)
    pretrained = cfg["model"] == "efficientnet_lite0"
    norm = dict(zip(("mean", "std"), models.input_statistics(model))) if pretrained else {}
    loader = data.DeviceLoader(faces["train"], cfg["batch_size"], train=True, device=device,
                               crop_padding=cfg["crop_padding"], flip=cfg["flip"], seed=cfg["seed"], **norm)
    tests = {s: data.DeviceLoader(faces[s], 256, train=False, device=device, **norm) for s in ("val", "test")}
    runtime = train.Runtime.resolve(device)
    said = regression.group_medians(faces["train"].labels)

    def ages_of(split: str) -> tuple[torch.Tensor, torch.Tensor]:
        logits, truth = train.predict(model, tests[split], runtime=runtime)
        return regression.predict_ages(cfg["head"], logits, said), truth

    def validation(_: nn.Module) -> dict:
        return {"val_mae": regression.age_metrics(*ages_of("val"))["mae"]}

    train.seed_everything(cfg["seed"])
    optimizer = train.make_optimizer(model, cfg["optimizer"], cfg["lr"], cfg["weight_decay"],
                                     lr_multipliers={head: cfg["head_lr_multiplier"]} if pretrained else None)
    schedule = train.make_schedule(optimizer, cfg["schedule"], cfg["epochs"] * len(loader))
    fitted = train.fit(model, loader, optimizer, schedule, regression.AgeLoss(cfg["head"]), state,
                       epochs=cfg["epochs"], evaluate=validation, runtime=runtime)
    predicted, truth = ages_of("test")
    metrics = dict(regression.age_metrics(predicted, truth), predicted=[round(float(a), 1) for a in predicted])
    if cfg.get("gradcam"):
        metrics["gradcam"] = where_it_looks(model, faces["test"], cfg["head"], norm, device, **cfg["gradcam"])
    cost = dict(parameters=models.count_parameters(model), train_seconds=round(fitted.train_seconds, 2),
                images_per_second=round(fitted.images_per_second, 1))
    return dict(metrics=metrics, history=fitted.history, cost=cost,
                data=dict(train=faces["train"].source, test=faces["test"].source))


def where_it_looks(model: nn.Module, faces: data.ImageTensors, head: str, norm: dict, device: torch.device,
                   layer: str, grid: int = 16) -> dict:
    """Grad-CAM (:func:`coursekit.diagnostics.grad_cam`) of the predicted age, as seen by the module
    ``layer``, on the first test face of each of the eight age groups: where the evidence for an older
    answer lies. Only a head with one output (L1 on age or on log-age) says an age in one number."""
    if head not in ("l1", "log-l1"):
        raise ValueError(f"Grad-CAM of the predicted age needs a head with one output ('l1' or 'log-l1'), not {head!r}")
    groups = regression.age_groups(faces.labels)
    chosen = torch.stack([(groups == g).nonzero()[0, 0] for g in groups.unique()])
    images = next(iter(data.DeviceLoader(faces.subset(chosen), len(chosen), train=False, device=device, **norm)))[0]
    maps, _scores = diagnostics.grad_cam(model, images, model.get_submodule(layer),
                                   classes=torch.zeros(len(chosen), dtype=torch.long, device=images.device))
    return dict(layer=layer, images=chosen.tolist(), maps=diagnostics.pooled_maps(maps, grid))


def ridge_on_features(cfg: dict, state: RunState) -> dict:
    """A ridge regression of age on the frozen features of ``cfg['source']`` (its penalty chosen by the
    validation MAE), measured on the test faces as :func:`train_age_model` measures a network."""
    device = profiles.device()
    faces = face_splits(cfg)
    source, mean, std = transfer.source_network(cfg["source"])
    layer = {"deep": cfg["source"]["layers"]["deep"]}
    found = {s: transfer.cached_features(source, faces[s], cfg["source"], layer, 1, mean, std, device)["deep"]
             for s in faces}
    fit = regression.ridge_by_validation(found["train"], faces["train"].labels, found["val"], faces["val"].labels,
                                         cfg["penalties"])
    predicted = found["test"] @ fit["weight"] + fit["bias"]
    metrics = dict(regression.age_metrics(predicted, faces["test"].labels), penalty=fit["penalty"],
                   validation_mae=fit["validation_mae"], features=found["train"].shape[1],
                   predicted=[round(float(a), 1) for a in predicted])
    return dict(metrics=metrics, history=[], cost=dict(runs=1),
                data=dict(train=faces["train"].source, test=faces["test"].source))


for head in regression.HEADS:
    register(Experiment(
        name=f"ages_cnn_{head.replace('-', '_')}", chapter="ages",
        title=f"The student's small CNN from scratch on UTKFace, head: {head}",
        base=dict(RECIPE, head=head), sizes=SIZES, runner=over_seeds(train_age_model)))
register(Experiment(
    name="ages_resnet", chapter="ages", title="ResNet-20 from scratch on UTKFace (L1 on age)",
    base=dict(RECIPE, model="resnet20", lr=2e-3), sizes=SIZES, runner=over_seeds(train_age_model)))
register(Experiment(
    name="ages_lite0_finetune", chapter="ages",
    title="ImageNet's EfficientNet-Lite0 fine-tuned on UTKFace at 96 px (L1 on age)",
    base=dict(RECIPE, model="efficientnet_lite0", image_size=96, crop_padding=6, lr=1e-3, weight_decay=1e-4,
              head_lr_multiplier=10, gradcam=GRADCAM),
    sizes=dict(SIZES, quick=dict(SIZES["quick"], epochs=5), full=dict(SIZES["full"], epochs=10)),
    runner=over_seeds(train_age_model)))
register(Experiment(
    name="ages_lite0_ridge", chapter="ages",
    title="A ridge regression on the frozen ImageNet features of EfficientNet-Lite0 (96 px)",
    base=dict(source=LITE0, image_size=96, penalties=[0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0]),
    sizes={"ci": dict(per_band=2), "quick": dict(per_band=None), "full": dict(per_band=None)},  # None: every face
    runner=ridge_on_features))

# full profile only: DINOv2's ViT-S/14 (self-supervised on 142 M curated images), its frozen features
# with the same ridge head, at 224 px (16 x 16 patches of 14 pixels).
DINOV2 = dict(kind="imagenet", name="timm/vit_small_patch14_dinov2.lvd142m", kwargs=dict(img_size=224),
              layers=dict(deep="pre_logits"))
register(Experiment(
    name="ages_dinov2_ridge", chapter="ages", profiles=("full",),
    title="A ridge regression on the frozen features of DINOv2's ViT-S/14 (224 px)",
    base=dict(source=DINOV2, image_size=224, penalties=[0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0]),
    sizes={"full": dict(per_band=None)}, runner=ridge_on_features))


def not_run() -> dict[str, str]:
    """Why each ``full``-only experiment of this chapter is not run in the other profiles, and how to see it
    (Markdown, in the current language): ``NOT_RUN``."""
    return {"ages_dinov2_ridge": _("this needs DINOv2's weights from the Hugging Face hub, and its features at 224 "
                                   "pixels are best computed on a GPU. Run `coursekit regenerate --profile full "
                                   "--experiment ages_dinov2_ridge` and build the book with `make book "
                                   "BOOK_PROFILE=full` to see it here.")}


def full_only(name: str, profile: str | None = None) -> tuple[dict | None, str]:
    """A ``full``-only experiment of this chapter (:func:`coursekit.experiments.core.full_only`)."""
    return core.full_only(name, not_run()[name], profile)


# --- the readings the chapter's text glues: each returns {glue name: text} --------------------------

def _maes(result: dict, key: str = "mae") -> dict[int, float]:
    """A measure of ``result`` by seed (one value, as seed 0, for a run without seeds: the ridge)."""
    if result.get("seeds"):
        return {s["seed"]: s["metrics"][key] for s in result["seeds"]}
    return {0: result["metrics"][key]}


def years_word(*values: float) -> str:
    """The word "years" after ``values`` (written to a tenth), agreed as the current language agrees it: English
    always says "years", French "an" when every value is below 2 ("1,5 an") and "ans" from 2 on. (The two English
    forms are the same: the count chosen here, 1 or 2, only stands for the grammatical number.)"""
    return plural("years", "years", 1 if all(abs(round(v, 1)) < 2 for v in values) else 2)


def _years(values: dict[int, float]) -> str:
    """ "7.1 ± 0.3 years" over seeds, "7.1 years (one run)" for one."""
    mean, _sd, half = stats.mean_interval(list(values.values()))
    if len(values) > 1:
        return say("{mean:.1f} ± {half:.1f} {years}", mean=mean, half=half, years=years_word(mean, half))
    return say("{mean:.1f} {years} (one run)", mean=mean, years=years_word(mean))


def _percent(values: dict[int, float]) -> str:
    """A share (a fraction by seed) in percent: "40 ± 3 %" over seeds, "40 % (one run)" for one."""
    mean, _sd, half = stats.mean_interval([100 * v for v in values.values()])
    if len(values) > 1:
        return say("{mean:.0f} ± {half:.0f} %", mean=mean, half=half)
    return say("{mean:.0f} % (one run)", mean=mean)


def network_name(label: str) -> str:
    """A network as the chapter's text names it (``{label: result}`` in :func:`facts_networks`), in the current
    language; a label the chapter does not use is shown as it is."""
    names = {"small CNN from scratch": _("small CNN from scratch"),
             "ResNet-20 from scratch": _("ResNet-20 from scratch"),
             "ridge on Lite0's frozen ImageNet features": _("ridge on Lite0's frozen ImageNet features"),
             "Lite0 fine-tuned": _("Lite0 fine-tuned"),
             "ridge on DINOv2's features": _("ridge on DINOv2's features")}
    return names.get(label, label)


def group_name(label: str) -> str:
    """A gender or race group of UTKFace's coding (:data:`coursekit.data.utkface.GENDERS`, ``RACES``), in the
    current language."""
    names = {"male": _("male"), "female": _("female"), "White": _("White"), "Black": _("Black"),
             "Asian": _("Asian"), "Indian": _("Indian"), "Others": _("Others")}
    return names.get(label, label)


def facts_baseline(train_ages: torch.Tensor, test_ages: torch.Tensor) -> dict[str, str]:
    """The median training age and what saying it for every test face scores: the floor to beat."""
    base = regression.median_baseline(train_ages, test_ages)
    return {"ages_median": number(float(train_ages.float().median()), ".0f"),
            "ages_base_mae": say("{mae:.1f} {years}", mae=base["mae"], years=years_word(base["mae"])),
            "ages_base_cs5": say("{share:.0f} %", share=100 * base["cs5"]),
            "ages_base_groups": say("{share:.0f} %", share=100 * base["group_accuracy"])}


def facts_heads(by_head: dict[str, dict]) -> dict[str, str]:
    """The four heads on the same network (``{head: result}``, the same seeds and images): MAE, CS(5) and
    group accuracy of each over seeds, the head with the lowest MAE, and each head's MAE against L1's,
    paired by seed."""
    facts = {}
    for head, result in by_head.items():
        key = head.replace("-", "_")
        facts[f"ages_{key}_mae"] = _years(_maes(result))
        facts[f"ages_{key}_cs5"] = _percent(_maes(result, "cs5"))
        facts[f"ages_{key}_groups"] = _percent(_maes(result, "group_accuracy"))
    mean = {h: stats.mean_interval(list(_maes(r).values()))[0] for h, r in by_head.items()}
    best = min(mean, key=mean.__getitem__)
    versus = []
    for head, result in by_head.items():
        if head == "l1":
            continue
        c = stats.compare(_maes(result), _maes(by_head["l1"]))  # "better" here is a higher error
        versus.append(stats.word(c, better=_("{head} {size:.1f} ± {h:.1f} {years} worse"),
                                 worse=_("{head} {size:.1f} ± {h:.1f} {years} better"),
                                 cannot_tell=_("{head} not clearly different ({d:+.1f} ± {h:.1f})"),
                                 head=head, years=years_word(*c)))
    return {**facts, "ages_best_head": best, "ages_heads_vs_l1": _("; ").join(versus)}


def facts_networks(networks: dict[str, dict]) -> dict[str, str]:
    """MAE of each network (``{label: result}``) over seeds, and the lowest."""
    mean = {label: stats.mean_interval(list(_maes(r).values()))[0] for label, r in networks.items()}
    best = min(mean, key=mean.__getitem__)
    return {"ages_networks": _("; ").join(say("{network}: {mae}", network=network_name(label), mae=_years(_maes(r)))
                                          for label, r in networks.items()),
            "ages_best_network": network_name(best), "ages_best_network_mae": _years(_maes(networks[best]))}


YOUNG, OLD = 20, 60  # the scatter's ends: faces under 20, and of 60 and over


def _errors(result: dict, truth: torch.Tensor) -> dict[int, torch.Tensor]:
    """Every test face's signed error in years (predicted minus true age), by seed (seed 0 for a run
    without seeds: the ridge)."""
    runs = result["seeds"] if result.get("seeds") else [dict(seed=0, metrics=result["metrics"])]
    return {run["seed"]: torch.tensor(run["metrics"]["predicted"]) - truth.float() for run in runs}


def _signed(result: dict, truth: torch.Tensor, chosen: torch.Tensor, absolute: bool = False) -> dict[int, float]:
    """The mean (signed, or absolute) error in years of the faces ``chosen`` (a mask), by seed."""
    return {seed: float((e[chosen].abs() if absolute else e[chosen]).mean()) for seed, e in _errors(result, truth).items()}


def facts_scatter(result: dict, truth: torch.Tensor) -> dict[str, str]:
    """What the scatter of predicted against true age shows, read over seeds: whether faces under
    :data:`YOUNG` are said older and faces of :data:`OLD` and over younger (the pull towards the middle),
    and whether the old faces' errors are larger than the young ones' (the spread growing with age)."""
    young, old = truth < YOUNG, truth >= OLD
    zero = {s: 0.0 for s in _signed(result, truth, young)}
    said_young = stats.compare(_signed(result, truth, young), zero)
    said_old = stats.compare(_signed(result, truth, old), zero)
    pull = (said_young.verdict == "better" and said_old.verdict == "worse")
    young_words = stats.word(said_young, better=_("faces under {y} are said {size:.1f} ± {h:.1f} {years} older on average"),
                             worse=_("faces under {y} are said {size:.1f} ± {h:.1f} {years} younger on average"),
                             cannot_tell=_("faces under {y} are said neither clearly older nor younger "
                                           "({d:+.1f} ± {h:.1f})"),
                             y=YOUNG, years=years_word(*said_young))
    old_words = stats.word(said_old, better=_("faces of {o} and over {size:.1f} ± {h:.1f} {years} older"),
                           worse=_("faces of {o} and over {size:.1f} ± {h:.1f} {years} younger"),
                           cannot_tell=_("faces of {o} and over neither clearly older nor younger ({d:+.1f} ± {h:.1f})"),
                           o=OLD, years=years_word(*said_old))
    spread = stats.compare(_signed(result, truth, old, absolute=True), _signed(result, truth, young, absolute=True))
    if pull:
        pull_words = say("{young}, and {old}: the predictions are pulled towards the crowded middle of the ages, as an L1 "
                         "loss over an uneven spread of ages favours", young=young_words, old=old_words)
    else:
        pull_words = say("{young}, and {old}: these runs do not show a pull towards the middle",
                         young=young_words, old=old_words)
    return {"ages_pull": pull_words,
            "ages_spread": stats.word(
                spread, better=_("the errors grow with the age: the faces of {o} and over are missed by {size:.1f} ± "
                                 "{h:.1f} {years} more than those under {y}, as the log-age head assumes"),
                worse=_("the faces of {o} and over are missed by {size:.1f} ± {h:.1f} {years} less than those under {y}"),
                cannot_tell=_("the seeds cannot tell whether the old faces are missed by more than the young ones "
                              "({d:+.1f} ± {h:.1f} {years})"), o=OLD, y=YOUNG, years=years_word(*spread))}


def group_errors(result: dict, truth: torch.Tensor, groups: torch.Tensor) -> dict[int, dict[int, float]]:
    """The MAE of each group (``groups``: one group index per test face) by seed: ``{group: {seed: MAE}}``."""
    return {g: _signed(result, truth, groups == g, absolute=True) for g in groups.unique().tolist()}


def facts_fairness(result: dict, attributes: dict[str, torch.Tensor], train_attributes: dict[str, torch.Tensor]
                   ) -> dict[str, str]:
    """Who the errors fall on: the MAE of each gender and race group of the data set's coding (mean ± 95 %
    over seeds), each group's share of the training faces, and whether the group with the fewest training
    faces has a clearly higher MAE than the group with the most (paired by seed)."""
    facts = {}
    for name, labels in (("gender", data.utkface.GENDERS), ("race", data.utkface.RACES)):
        errors = group_errors(result, attributes["age"], attributes[name])
        share = {g: float((train_attributes[name] == g).float().mean()) for g in errors}
        facts[f"ages_by_{name}"] = _("; ").join(
            say("{group}: {mae} ({share:.0f} % of training faces)", group=group_name(labels[g]), mae=_years(v),
                share=100 * share[g]) for g, v in sorted(errors.items()))
        rare, common = min(share, key=share.__getitem__), max(share, key=share.__getitem__)
        versus = stats.compare(errors[rare], errors[common])
        facts[f"ages_{name}_reading"] = stats.word(
            versus,
            better=_("the {rare} faces, the fewest in training, are aged {size:.1f} ± {h:.1f} {years} worse "
                     "than the {common} faces, the most"),
            worse=_("the {rare} faces, the fewest in training, are aged {size:.1f} ± {h:.1f} {years} better "
                    "than the {common} faces, the most: the imbalance alone does not predict the errors"),
            cannot_tell=_("the seeds cannot tell the {rare} faces, the fewest in training, from the "
                          "{common} faces, the most ({d:+.1f} ± {h:.1f} {years})"),
            rare=group_name(labels[rare]), common=group_name(labels[common]), years=years_word(*versus))
    bands = regression.age_groups(attributes["age"])
    by_band = group_errors(result, attributes["age"], bands)
    facts["ages_by_band"] = _("; ").join(say("{band}: {mae}", band=regression.group_names()[g], mae=_years(v))
                                         for g, v in sorted(by_band.items()))
    return facts


def memory_study(cfg: dict, state: RunState) -> dict:
    """What the student tried against running out of memory, measured on the device at hand for the small
    CNN classifying the eight groups: for each setting (batch size, 16-bit autocast, gradient checkpointing),
    the memory one forward pass keeps for the backward pass (:func:`coursekit.diagnostics.saved_for_backward_mb`),
    training throughput, and on a GPU the peak memory CUDA allocated."""
    device = profiles.device()
    rows = []
    for setting in cfg["settings"]:
        train.seed_everything(0)
        model = models.create(cfg["model"], num_classes=len(regression.GROUP_STARTS)).to(device)
        model.set_grad_checkpointing(setting["checkpointing"])
        images = torch.randn(setting["batch_size"], 3, cfg["image_size"], cfg["image_size"],
                             generator=torch.Generator().manual_seed(0)).to(device)
        saved = diagnostics.saved_for_backward_mb(model, images, amp=setting["amp"])
        step = diagnostics.measure_training_step(model, setting["batch_size"], cfg["image_size"], amp=setting["amp"],
                                                 steps=cfg["steps"], warmup=cfg["warmup"],
                                                 num_classes=len(regression.GROUP_STARTS), device=device)
        rows.append(dict(setting, saved_mb=round(saved, 2), **step))
    return dict(metrics=dict(rows=rows), history=[], cost=dict(runs=len(rows)),
                data=dict(summary=f"random tensors of 3 x {cfg['image_size']} x {cfg['image_size']} "
                                  "(the memory and time of a step do not depend on the pixels)"))


def facts_memory(result: dict) -> dict[str, str]:
    """What the memory study measured (one run, on the device named in its provenance): how the memory
    kept for the backward pass grows with the batch, and what 16-bit autocast and gradient checkpointing
    keep of it at the same batch, with checkpointing's cost in speed."""
    rows = result["metrics"]["rows"]
    plain = {r["batch_size"]: r for r in rows if not r["amp"] and not r["checkpointing"]}
    small, large = min(plain), max(plain)
    at = max(r["batch_size"] for r in rows if r["amp"] or r["checkpointing"])
    ref = plain[at]

    def setting(amp: bool, checkpointing: bool) -> dict:
        return next(r for r in rows if r["batch_size"] == at and r["amp"] == amp and r["checkpointing"] == checkpointing)

    amp, ckpt = setting(True, False), setting(False, True)
    amp_words = (say("16-bit autocast ({precision}) keeps {share:.0f} % of it", precision=amp["precision"],
                     share=100 * amp["saved_mb"] / ref["saved_mb"])
                 if amp["precision"] != "float32" else
                 _("16-bit autocast changes nothing on this device, which has no 16-bit arithmetic it would use (float32)"))
    return {"ages_mem_growth": say("from a batch of {small} to one of {large} ({times} times the images) the memory kept "
                                   "grows {growth:.1f} times, from {low:.0f} to {high:.0f} MB", small=small, large=large,
                                   times=large // small, growth=plain[large]["saved_mb"] / plain[small]["saved_mb"],
                                   low=plain[small]["saved_mb"], high=plain[large]["saved_mb"]),
            "ages_mem_batch": str(at), "ages_mem_amp": amp_words,
            "ages_mem_ckpt": say("gradient checkpointing keeps {share:.0f} % of it and trains at {speed:.0f} % of the speed",
                                 share=100 * ckpt["saved_mb"] / ref["saved_mb"],
                                 speed=100 * ckpt["images_per_second"] / ref["images_per_second"])}


MEMORY_SETTINGS = ([dict(batch_size=b, amp=False, checkpointing=False) for b in (32, 64, 128, 256)]
                   + [dict(batch_size=128, amp=amp, checkpointing=ckpt) for amp, ckpt in ((True, False), (False, True),
                                                                                         (True, True))])
register(Experiment(
    name="ages_memory", chapter="ages",
    title="The small CNN's training step: batch size, 16-bit autocast and gradient checkpointing",
    base=dict(model="small_cnn", image_size=96, settings=MEMORY_SETTINGS, steps=10, warmup=3),
    sizes={"ci": dict(image_size=32, steps=1, warmup=1), "quick": dict(steps=10, warmup=3),
           "full": dict(steps=30, warmup=5)},
    runner=memory_study))


# The module's words that are read as constants, worded when read (PEP 562), in the current language.
WORDED = {"NOT_RUN": not_run}


def __getattr__(name: str):
    if name in WORDED:
        return WORDED[name]()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
