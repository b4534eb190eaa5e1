"""Chapter "fewshot": a backbone trained on CIFAR-10's five base classes, and the five novel classes
learned from K images each: shots, an ablation of augmentations, mixing, pseudo-labels, episodes."""
from __future__ import annotations

import torch

from .. import augment, data, fewshot, models, profiles, stats, store, train, transfer
from .core import EXPERIMENTS, Experiment, config, network, register, run_plan

# --- the backbone ---------------------------------------------------------------------------------

def train_backbone(cfg: dict, checkpoint=None) -> dict:
    """Train a ResNet-20 from scratch on CIFAR-10's base classes; its weights are the product."""
    device = profiles.device()
    train_set = data.stratified_subset(fewshot.select_classes(data.load_cifar10(train=True), fewshot.BASE_CLASSES),
                                       cfg["train_per_class"], cfg["seed"])
    test_set = data.stratified_subset(fewshot.select_classes(data.load_cifar10(train=False), fewshot.BASE_CLASSES),
                                      cfg["test_per_class"], cfg["seed"])
    mean, std = data.CIFAR10_MEAN, data.CIFAR10_STD
    loader = data.DeviceLoader(train_set, cfg["batch_size"], train=True, device=device, seed=cfg["seed"])
    test_loader = data.DeviceLoader(test_set, 500, train=False, device=device, mean=mean, std=std)
    train.seed_everything(cfg["seed"])
    model = models.create(cfg["model"], num_classes=len(fewshot.BASE_CLASSES))
    fitted = train.fit(model, loader, test_loader=test_loader, epochs=cfg["epochs"], lr=cfg["lr"],
                       weight_decay=cfg["weight_decay"], device=device, checkpoint=checkpoint, seed=cfg["seed"])
    metrics = train.evaluate(model, test_loader, device=device)
    metrics["classes"] = list(fewshot.BASE_CLASSES)
    return dict(metrics=metrics, history=fitted.history,
                cost=dict(parameters=models.count_parameters(model), train_seconds=round(fitted.train_seconds, 2),
                          images_per_second=round(fitted.images_per_second, 1)),
                data=dict(train=train_set.source, test=test_set.source),
                state_dict={k: v.cpu() for k, v in model.state_dict().items()})


def backbone_weights() -> dict:
    """The weights ``fewshot_backbone`` trained (stored, or trained now) under the profile of the run in
    progress (``regenerate --profile full`` takes the ``full`` backbone), else the active profile."""
    return network("fewshot_backbone")


def _weights(init: str) -> dict | None:
    return backbone_weights() if init == "backbone" else None


# --- the runners ----------------------------------------------------------------------------------

def _result(rows: list[dict], by: tuple[str, ...], sources: dict, cfg: dict) -> dict:
    """The output of a few-shot runner: rows, their summary over seeds, cost and data."""
    trained = sum(r["seconds"] for r in rows)
    return dict(metrics=dict(rows=rows, summary=stats.summarise(rows, by)), history=[],
                cost=dict(runs=len(rows), train_seconds=round(trained, 1)), data=sources)


def _data_sources(pool: data.ImageTensors, test: data.ImageTensors) -> dict:
    return dict(train=dict(pool.source, description=f"{pool.source.get('description', 'CIFAR-10')}: "
                                                       f"novel classes {', '.join(fewshot.NOVEL_CLASSES)}, the pool that "
                                                       "each run draws its K images per class from"),
                test=test.source)


def _grid(cfg: dict, checkpoint, plan: list[dict], by: tuple[str, ...], settings) -> dict:
    """Every run of ``plan``: ``run['shots']`` (else ``cfg['shots']``) images per novel class drawn by the run's
    seed (the same images for every setting of that seed), trained from ``run['init']`` by
    :func:`coursekit.fewshot.train_few` with ``settings(run)`` (crops, flips, augmentations)."""
    device = profiles.device()
    pool, test = fewshot.novel_data(cfg["test_per_class"])

    def run_one(run: dict) -> dict:
        train_set = pool.subset(fewshot.shots_subset(pool, run.get("shots", cfg["shots"]), run["seed"]))
        outcome, _ = fewshot.train_few(train_set, test, cfg, init=run["init"], weights=_weights(run["init"]),
                                       seed=run["seed"], device=device, **settings(run))
        return dict(outcome, train_images=len(train_set))

    rows = run_plan(plan, run_one, checkpoint)
    return _result(rows, by, _data_sources(pool, test), cfg)


def run_shots(cfg: dict, checkpoint=None) -> dict:
    """Accuracy against shots per class: from scratch or from the backbone, without augmentation
    (no crop, no flip) or with it (crops, flips and ``cfg['augmented']``)."""
    plan = [dict(shots=k, init=init, augmentation=aug, seed=seed) for k in cfg["shots"]
            for init in ("scratch", "backbone") for aug in ("none", "augmented") for seed in cfg["seeds"]]

    def settings(run: dict) -> dict:
        on = run["augmentation"] == "augmented"
        return dict(crop=on, flip=on, augmentations=tuple(cfg["augmented"]) if on else ())

    return _grid(cfg, checkpoint, plan, ("shots", "init", "augmentation"), settings)


def run_ablation(cfg: dict, checkpoint=None) -> dict:
    """One augmentation at a time on ``cfg['shots']`` images per class, for each start in ``cfg['inits']``."""
    plan = [dict(init=init, variant=v, seed=seed) for init in cfg["inits"] for v in cfg["variants"]
            for seed in cfg["seeds"]]

    def settings(run: dict) -> dict:
        parts = run["variant"].split("+") if run["variant"] != "none" else []
        return dict(crop="crop" in parts, flip="flip" in parts,
                    augmentations=tuple(p for p in parts if p not in ("crop", "flip")))

    return _grid(cfg, checkpoint, plan, ("init", "variant"), settings)


def run_mixing(cfg: dict, checkpoint=None) -> dict:
    """Combining examples: none, mixup or CutMix on top of crops and flips, at several shots."""
    plan = [dict(shots=k, init=init, mixing=m, seed=seed) for k in cfg["shots"] for init in cfg["inits"]
            for m in ("none", "mixup", "cutmix") for seed in cfg["seeds"]]
    return _grid(cfg, checkpoint, plan, ("shots", "init", "mixing"),
                 lambda run: dict(augmentations=() if run["mixing"] == "none" else (run["mixing"],)))


def run_pseudo(cfg: dict, checkpoint=None) -> dict:
    """Pseudo-labelling (Lee 2013): a model fine-tuned on the labelled images labels an unlabelled
    pool; the images it is at least ``threshold`` sure of join the labelled ones for a second model."""
    device = profiles.device()
    pool, test = fewshot.novel_data(cfg["test_per_class"])
    plan = [dict(shots=k, threshold=t, seed=seed) for k in cfg["shots"] for t in cfg["thresholds"]
            for seed in cfg["seeds"]]
    first: dict = {}  # (shots, seed) -> the labelled-only model and its outcome, shared by the thresholds
    augmented = tuple(cfg["augmented"])

    def run_one(run: dict) -> dict:
        labelled_idx = fewshot.shots_subset(pool, run["shots"], run["seed"])
        labelled = pool.subset(labelled_idx)
        key = (run["shots"], run["seed"])
        if key not in first:
            first[key] = fewshot.train_few(labelled, test, cfg, init="backbone", weights=backbone_weights(), augmentations=augmented, seed=run["seed"], device=device)
        outcome, model = first[key]
        if run["threshold"] is None:  # the labelled-only model
            return dict(outcome, train_images=len(labelled), pseudo_images=0, pseudo_accuracy=None)
        unlabelled_idx = fewshot.shots_subset(pool, cfg["unlabelled_per_class"], run["seed"], exclude=labelled_idx)
        unlabelled = pool.subset(unlabelled_idx)
        keep, predicted, _ = fewshot.pseudo_label(model, unlabelled, run["threshold"], device)
        union = fewshot.with_pseudo_labels(labelled, unlabelled, keep, predicted)
        second, _ = fewshot.train_few(union, test, cfg, init="backbone", weights=backbone_weights(), augmentations=augmented, seed=run["seed"], device=device)
        correct = float((predicted == unlabelled.labels[keep]).double().mean()) if len(keep) else None
        return dict(second, train_images=len(labelled), pseudo_images=len(keep), pseudo_accuracy=correct)

    rows = run_plan(plan, run_one, checkpoint)
    return _result(rows, ("shots", "threshold"), _data_sources(pool, test), cfg)


def run_episodes(cfg: dict, checkpoint=None) -> dict:
    """N-way K-shot episodes with the prototype classifier on the backbone's frozen features, with
    and without augmented views of the support images, on CIFAR-10's novel classes and Caltech-101."""
    device = profiles.device()
    model = fewshot.backbone(backbone_weights(), len(fewshot.BASE_CLASSES)).eval()
    layers = {"deep": "avgpool"}
    pipeline = augment.pipeline(tuple(cfg["augmented"]))
    sets: dict = {}

    def features(name: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, dict]:
        if name not in sets:
            if name == "cifar10-novel":
                pool, _ = fewshot.novel_data(None)
                ds = data.stratified_subset(pool, cfg["per_class"], seed=0)
            else:  # both splits: the episodes need shots + queries images of a class
                train_split, test_split = (data.load_folder_dataset(name, split, image_size=32) for split in ("train", "test"))
                ds = data.ImageTensors(torch.cat([train_split.images, test_split.images]),
                                       torch.cat([train_split.labels, test_split.labels]), train_split.classes,
                                       dict(train_split.source, images=len(train_split) + len(test_split),
                                            subset="training and test splits together"))
            clean = transfer.cached_features(model, ds, dict(name="fewshot_backbone"), layers, 1,
                                             data.CIFAR10_MEAN, data.CIFAR10_STD, device)["deep"]
            views = []
            for view in range(cfg["views"]):  # augmented copies (crops, flips, the policy), in the images' order
                loader = data.DeviceLoader(ds, 500, train=True, device=device, seed=1000 + view, augmentation=pipeline)
                batches = (loader.batch(torch.arange(i, min(i + 500, len(ds)), device=loader.device), step=i)
                           for i in range(0, len(ds), 500))
                views.append(transfer.frozen_features(model, batches, layers, 1, device)[0]["deep"])
            sets[name] = (clean, ds.labels, torch.stack(views), ds.source)
        return sets[name]

    plan = [dict(dataset=d, shots=k, support=s, seed=0) for d in cfg["datasets"] for k in cfg["shots"]
            for s in ("plain", "augmented")]

    def run_one(run: dict) -> dict:
        clean, labels, views, _ = features(run["dataset"])
        result = fewshot.episodes(clean, labels, ways=cfg["ways"], shots=run["shots"], queries=cfg["queries"],
                          count=cfg["episodes"], seed=run["seed"], views=views if run["support"] == "augmented" else None)
        return dict(accuracy=result["accuracy"], ci95=result["ci95"], episodes=cfg["episodes"])

    rows = run_plan(plan, run_one, checkpoint)
    sources = {d: features(d)[3] for d in cfg["datasets"]}
    images = ", ".join(f"{d} ({s['images']:,} images)" for d, s in sources.items())
    return dict(metrics=dict(rows=rows), history=[], cost=dict(runs=len(rows), train_seconds=0.0),
                data=dict(summary=f"frozen backbone features of {images}, at 32 px; each episode draws its support "
                                  f"and query images from these", sets=sources))


register(Experiment(
    name="fewshot_backbone", chapter="fewshot",
    title="ResNet-20 trained on CIFAR-10's base classes (airplane, automobile, bird, cat, deer)",
    base=dict(model="resnet20", lr=0.1, weight_decay=5e-4, seed=0),
    sizes={"ci": dict(train_per_class=20, test_per_class=10, epochs=1, batch_size=50),
           "quick": dict(train_per_class=None, test_per_class=None, epochs=10, batch_size=128),
           "full": dict(train_per_class=None, test_per_class=None, epochs=40, batch_size=128)},
    runner=train_backbone))

RECIPE = dict(steps=150, batch_size=32, finetune_lr=0.01, head_lr_multiplier=10, scratch_lr=0.05,
              weight_decay=5e-4, crop_padding=4, augmented=["trivial_augment"])
# The novel classes learned from K images per class: seeds, batches and test images per profile.
BUDGET = {
    "ci": dict(seeds=[0], steps=2, test_per_class=4),
    "quick": dict(seeds=[0, 1, 2], steps=150, test_per_class=200),
    "full": dict(seeds=[0, 1, 2, 3, 4], steps=500, test_per_class=None),
}


def _budget(**extra: dict) -> dict[str, dict]:
    return {p: {**BUDGET[p], **extra.get(p, {})} for p in BUDGET}


register(Experiment(
    name="fewshot_shots", chapter="fewshot",
    title="Accuracy against shots per class, with and without augmentation, from scratch and from the backbone",
    base=dict(RECIPE, shots=[1, 5, 10, 20, 50]),
    sizes=_budget(ci=dict(shots=[1, 2]), full=dict(shots=[1, 5, 10, 20, 50, 100])), runner=run_shots))
register(Experiment(
    name="fewshot_ablation", chapter="fewshot",
    title="One augmentation at a time on 10 images per class, from scratch and from the backbone",
    base=dict(RECIPE, shots=10, inits=["scratch", "backbone"],
              variants=["none", "crop", "flip", "crop+flip", "rotate", "noise", "elastic", "channel_contrast",
                        "color_jitter", "cutout", "trivial_augment", "mixup", "cutmix", "crop+flip+trivial_augment"]),
    sizes=_budget(ci=dict(shots=2, variants=["none", "crop+flip", "cutmix"])), runner=run_ablation))
register(Experiment(
    name="fewshot_mixing", chapter="fewshot", title="Combining examples: mixup and CutMix on few images",
    base=dict(RECIPE, shots=[5, 20], inits=["scratch", "backbone"]),
    sizes=_budget(ci=dict(shots=[2], inits=["backbone"]), full=dict(shots=[5, 20, 100])), runner=run_mixing))
register(Experiment(
    name="fewshot_pseudo", chapter="fewshot",
    title="Pseudo-labels for an unlabelled pool, at several confidence thresholds",
    base=dict(RECIPE, shots=[5, 20], thresholds=[None, 0.0, 0.5, 0.9], unlabelled_per_class=500),
    sizes=_budget(ci=dict(shots=[2], thresholds=[None, 0.5], unlabelled_per_class=6),
                  full=dict(unlabelled_per_class=4000)),
    runner=run_pseudo))
register(Experiment(
    name="fewshot_episodes", chapter="fewshot",
    title="5-way K-shot episodes: prototypes on frozen backbone features, with and without augmented support",
    base=dict(RECIPE, datasets=["cifar10-novel", "caltech101"], per_class=600, views=10, episodes=600, shots=[1, 5],
              queries=15, ways=5),
    sizes={"ci": dict(datasets=["cifar10-novel"], per_class=20, views=2, episodes=5, shots=[1], queries=5),
           "quick": dict(per_class=600, views=10, episodes=600),
           "full": dict(per_class=None, views=20, episodes=2000)},
    runner=run_episodes))


# --- the readings the chapter's text glues --------------------------------------------------------

def configs(profile: str | None = None) -> dict[str, dict]:
    """The configurations of the chapter's experiments under ``profile`` (default: the active one)."""
    return {name: config(name, profile) for name, e in EXPERIMENTS.items() if e.chapter == "fewshot"}


def _count(n: int | None) -> str:
    return "all" if n is None else f"{n:,}"


def _points(mean: float, half: float) -> str:
    return f"{100 * mean:+.1f} ± {100 * half:.1f} points"


def _per_seed(rows: list[dict], **fields) -> dict[int, float]:
    """Accuracy by seed of the rows that match ``fields``: the runs a paired difference pairs."""
    return {r["seed"]: r["accuracy"] for r in rows if all(r[k] == v for k, v in fields.items())}


def facts_budgets(cfgs: dict[str, dict]) -> dict[str, str]:
    """The sizes the text quotes, from the active profile's configurations (as given by :func:`configs`)."""
    shots, episodes, pseudo = cfgs["fewshot_shots"], cfgs["fewshot_episodes"], cfgs["fewshot_pseudo"]
    return {"fs_test": _count(shots["test_per_class"]), "fs_seeds": f"{len(shots['seeds'])}",
            "fs_views": f"{episodes['views']}", "fs_queries": f"{episodes['queries']}",
            "fs_per_class": _count(episodes["per_class"]), "fs_episodes": f"{episodes['episodes']:,}",
            "fs_unlabelled": f"{pseudo['unlabelled_per_class']:,}", "fs_ablation_shots": f"{cfgs['fewshot_ablation']['shots']}"}


def facts_full(cfgs: dict[str, dict]) -> dict[str, str]:
    """What the ``full`` profile sets, from its configurations (``configs("full")``)."""
    return {"fs_full_epochs": f"{cfgs['fewshot_backbone']['epochs']}",
            "fs_full_steps": f"{cfgs['fewshot_shots']['steps']:,}",
            "fs_full_seeds": f"{len(cfgs['fewshot_shots']['seeds'])}",
            "fs_full_episodes": f"{cfgs['fewshot_episodes']['episodes']:,}",
            "fs_full_views": f"{cfgs['fewshot_episodes']['views']}",
            "fs_full_pool": f"{cfgs['fewshot_pseudo']['unlabelled_per_class']:,}"}


def facts_provenance(result: dict) -> dict[str, str]:
    """Which run a result is, glued as ``<experiment>_provenance``."""
    return {f"{result['experiment']}_provenance": store.provenance_line(result)}


def facts_backbone(result: dict) -> dict[str, str]:
    """The backbone's run and how many base-class images it was trained on."""
    return facts_provenance(result) | {"fs_backbone_images": f"{result['provenance']['data']['train']['images']:,}"}


def facts_shots(result: dict) -> dict[str, str]:
    """Experiment 1: the four accuracies at five shots (or the fewest measured), what augmentation
    changes from scratch (means and 95 % intervals of the differences paired by seed, at the K where
    the change is smallest and largest), and how many images from scratch match the backbone's fewest."""
    rows = result["metrics"]["rows"]
    acc = {(s["shots"], s["init"], s["augmentation"]): 100 * s["accuracy"]
           for s in stats.summarise(rows, ("shots", "init", "augmentation"))}
    ks = sorted({k for k, _, _ in acc})
    k5 = 5 if 5 in ks else ks[0]
    gain = {k: stats.paired_difference(_per_seed(rows, shots=k, init="scratch", augmentation="augmented"),
                                       _per_seed(rows, shots=k, init="scratch", augmentation="none")) for k in ks}
    low, high = min(ks, key=lambda k: gain[k][0]), max(ks, key=lambda k: gain[k][0])
    changes = (f"{_points(*gain[low])} (at {low} images per class; the 95 % interval of the difference paired by seed)"
               if low == high else
               f"{_points(*gain[low])} (at {low} images per class) to {_points(*gain[high])} (at {high}; "
               f"95 % intervals of the differences paired by seed)")
    backbone_one = max(acc[(ks[0], "backbone", a)] for a in ("none", "augmented"))
    scratch = {k: max(acc[(k, "scratch", a)] for a in ("none", "augmented")) for k in ks}
    equal = [k for k in ks if scratch[k] >= backbone_one]
    worth = (f"from scratch, even {ks[-1]} images per class (with or without augmentation) do not reach what the "
             f"backbone gives from {ks[0]} ({backbone_one:.1f} %)" if not equal else
             f"from scratch it takes {equal[0]} images per class (the better of with and without augmentation: "
             f"{scratch[equal[0]]:.1f} %) to reach what the backbone gives from {ks[0]} ({backbone_one:.1f} %)")
    return facts_provenance(result) | {
        "fewshot_k5": str(k5),
        "fewshot_k5_scratch": f"{acc[(k5, 'scratch', 'none')]:.1f} %",
        "fewshot_k5_scratch_aug": f"{acc[(k5, 'scratch', 'augmented')]:.1f} %",
        "fewshot_k5_backbone": f"{acc[(k5, 'backbone', 'none')]:.1f} %",
        "fewshot_k5_backbone_aug": f"{acc[(k5, 'backbone', 'augmented')]:.1f} %",
        "fewshot_aug_gain_range": changes, "fewshot_backbone_worth": worth}


def _against(rows: list[dict], baseline: dict, variant: dict) -> tuple[float, float]:
    """The paired difference (mean, 95 % half-width) of the rows picked by ``variant`` from those picked by ``baseline``."""
    return stats.paired_difference(_per_seed(rows, **variant), _per_seed(rows, **baseline))


def _verdict(effects: list[tuple[str, tuple[float, float]]], none_clear: str) -> str:
    """Which of the named paired differences are clear of zero, in a sentence."""
    clear = [(name, d) for name, d in effects if stats.separated(*d)]
    if not clear:
        return f"No difference is clear of zero: {none_clear}"
    if len(clear) == len(effects) and all(d[0] > 0 for _, d in clear):
        return f"All {len(effects)} differences are positive and clear of zero"
    return "Clear of zero: " + "; ".join(f"{name} ({'better' if d[0] > 0 else 'worse'})" for name, d in clear)


def facts_pseudo(result: dict) -> dict[str, str]:
    """Experiment 3: each threshold against the labelled-only model of the same shots and seed."""
    rows = result["metrics"]["rows"]
    thresholds = [t for t in dict.fromkeys(r["threshold"] for r in rows) if t is not None]
    parts, effects = [], []
    for k in dict.fromkeys(r["shots"] for r in rows):
        diffs = {t: _against(rows, dict(shots=k, threshold=None), dict(shots=k, threshold=t)) for t in thresholds}
        parts.append(f"at {k} images per class, " + ", ".join(f"{_points(*d)} with τ = {t}" for t, d in diffs.items()))
        effects += [(f"τ = {t} at {k} images per class", d) for t, d in diffs.items()]
    return {"fewshot_pseudo_reading": (
        "Against the labelled-only model of the same seed, pseudo-labels change the test accuracy "
        + "; ".join(parts) + " (95 % intervals of the differences paired by seed). "
        + _verdict(effects, "with these seeds, pseudo-labelling cannot be told from the labelled images alone"))}


def facts_mixing(result: dict) -> dict[str, str]:
    """Experiment 4: mixup and CutMix against no mixing, for each number of shots and start."""
    rows = result["metrics"]["rows"]
    mixes = [m for m in dict.fromkeys(r["mixing"] for r in rows) if m != "none"]
    parts, effects = [], []
    for k, init in dict.fromkeys((r["shots"], r["init"]) for r in rows):
        start = "from the backbone" if init == "backbone" else "from scratch"
        diffs = {m: _against(rows, dict(shots=k, init=init, mixing="none"), dict(shots=k, init=init, mixing=m))
                 for m in mixes}
        parts.append(f"{k} per class {start}: " + ", ".join(f"{_points(*d)} with {m}" for m, d in diffs.items()))
        effects += [(f"{m} at {k} per class {start}", d) for m, d in diffs.items()]
    return {"fewshot_mixing_reading": (
        "Against no mixing, in points with the 95 % interval of the difference paired by seed: "
        + "; ".join(parts) + ". "
        + _verdict(effects, "with these seeds and this budget, mixing neither helps nor hurts measurably"))}


START = {"scratch": "from scratch", "backbone": "with the backbone"}


def facts_ablation(result: dict) -> dict[str, str]:
    """Experiment 5, for each start: no augmentation, the three best and the worst variant (means over
    seeds), which variants beat or trail no augmentation beyond the 95 % interval of their difference
    paired by seed (a clause, to follow "From scratch, "), and how many clearly beat it from each start."""
    rows, facts, counts, helped, widest = result["metrics"]["rows"], facts_provenance(result), [], {}, 0.0
    name = lambda v: v.replace("+", " + ")  # noqa: E731
    listed = lambda vs, d: ", ".join(f"{name(v)} ({_points(*d[v])})" for v in vs)  # noqa: E731
    for init in dict.fromkeys(r["init"] for r in rows):
        acc = {s["variant"]: s["accuracy"] for s in stats.summarise([r for r in rows if r["init"] == init], ("variant",))}
        ranked = sorted((v for v in acc if v != "none"), key=lambda v: -acc[v])
        diff = {v: _against(rows, dict(init=init, variant="none"), dict(init=init, variant=v)) for v in ranked}
        helps = [v for v in ranked if diff[v][0] > 0 and stats.separated(*diff[v])]
        hurts = [v for v in ranked if diff[v][0] < 0 and stats.separated(*diff[v])]
        beyond = "no augmentation beyond the 95 % interval of the difference paired by seed"
        clear = (f"{listed(helps, diff)} {'beats' if len(helps) == 1 else 'beat'} {beyond}" if helps else
                 f"no variant beats {beyond} (the closest: {name(ranked[0])}, {_points(*diff[ranked[0]])})")
        clear += (f"; {listed(hurts, diff)} {'is' if len(hurts) == 1 else 'are'} worse beyond that interval"
                  if hurts else "; no variant is worse beyond that interval")
        counts.append(f"{len(helps)} of {len(ranked)} variants {START[init]}")
        helped[init], widest = len(helps), max([widest, *(h for _, h in diff.values())])
        facts |= {f"fewshot_ablation_{init}_none": f"{100 * acc['none']:.1f} %",
                  f"fewshot_ablation_{init}_best": ", ".join(f"{name(v)} ({100 * acc[v]:.1f} %)" for v in ranked[:3]),
                  f"fewshot_ablation_{init}_worst": f"{name(ranked[-1])} ({100 * acc[ranked[-1]]:.1f} %)",
                  f"fewshot_ablation_{init}_clear": clear}
    return facts | {"fewshot_ablation_contrast": "Clear gains over no augmentation: " + ", ".join(counts),
                    "fewshot_ablation_start_reading": _start_reading(helped, widest, len({r["seed"] for r in rows}))}


def _start_reading(helped: dict[str, int], widest: float, seeds: int) -> str:
    """Whether the ablation shows augmentation adding more from scratch than with the backbone (the counts of
    variants that clearly help from each start), and, where it shows nothing, why."""
    scratch, backbone = helped.get("scratch", 0), helped.get("backbone", 0)
    return ("more single augmentations clearly help from scratch than with the backbone, as that argument expects"
            if scratch > backbone else
            "more single augmentations clearly help with the backbone than from scratch: the opposite of what that "
            "argument expects" if backbone > scratch else
            f"no single augmentation clearly helps from either start: with {seeds} seeds the 95 % intervals of the "
            f"paired differences (up to ±{100 * widest:.1f} points) are wider than the effects, so this run cannot "
            "show whether the start changes what augmentation adds" if scratch == 0 else
            "as many clearly help from either start: this run does not show the start changing what augmentation adds")
