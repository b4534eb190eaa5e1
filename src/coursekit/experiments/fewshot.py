"""Chapter "fewshot": a backbone trained on CIFAR-10's five base classes, and the five novel classes
learned from K images each: shots, an ablation of augmentations, mixing, pseudo-labels, episodes."""
from __future__ import annotations

import torch

from .. import augment, data, fewshot, models, profiles, stats, train, transfer
from ..metrics import correct
from ..runs import RunState
from .core import Experiment, network, register, run_plan
from .fewshot_facts import (  # noqa: F401 (the readings the chapter's text glues, in a module of their own)
    configs,
    facts_ablation,
    facts_backbone,
    facts_budgets,
    facts_episodes,
    facts_full,
    facts_mixing,
    facts_premise,
    facts_provenance,
    facts_pseudo,
    facts_shots,
)

# --- the backbone ---------------------------------------------------------------------------------

def train_backbone(cfg: dict, state: RunState) -> dict:
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
    runtime = train.Runtime.resolve(device)
    train.seed_everything(cfg["seed"])
    optimizer = train.make_optimizer(model, "sgd", cfg["lr"], cfg["weight_decay"])
    schedule = train.make_schedule(optimizer, "onecycle", cfg["epochs"] * len(loader))
    fitted = train.fit(model, loader, optimizer, schedule, train.CrossEntropy(), state, epochs=cfg["epochs"],
                       evaluate=train.evaluator(test_loader, runtime), metrics={"train_accuracy": correct},
                       runtime=runtime)
    metrics = train.evaluate(model, test_loader, runtime=runtime)
    metrics["classes"] = list(fewshot.BASE_CLASSES)
    return dict(metrics=metrics, history=fitted.history,
                cost=dict(parameters=models.count_parameters(model), train_seconds=round(fitted.train_seconds, 2),
                          images_per_second=round(fitted.images_per_second, 1)),
                data=dict(train=train_set.source, test=test_set.source),
                state_dict={k: v.cpu() for k, v in model.state_dict().items()})


def backbone_weights(profile: str | None = None) -> dict:
    """The weights ``fewshot_backbone`` trained (stored, or trained now) under ``profile``: a runner
    passes its own (``regenerate --profile full`` takes the ``full`` backbone); else the active profile."""
    return network("fewshot_backbone", profile)


def _weights(init: str, profile: str) -> dict | None:
    return backbone_weights(profile) if init == "backbone" else None


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


def _grid(cfg: dict, state: RunState, plan: list[dict], by: tuple[str, ...], settings) -> dict:
    """Every run of ``plan``: ``run['shots']`` (else ``cfg['shots']``) images per novel class drawn by the run's
    seed (the same images for every setting of that seed), trained from ``run['init']`` by
    :func:`coursekit.fewshot.train_few` with ``settings(run)`` (crops, flips, augmentations)."""
    device = profiles.device()
    pool, test = fewshot.novel_data(cfg["test_per_class"])

    def run_one(run: dict) -> dict:
        train_set = pool.subset(fewshot.shots_subset(pool, run.get("shots", cfg["shots"]), run["seed"]))
        outcome, _ = fewshot.train_few(train_set, test, cfg, init=run["init"], weights=_weights(run["init"], state.profile),
                                       seed=run["seed"], device=device, **settings(run))
        return dict(outcome, train_images=len(train_set))

    rows = run_plan(plan, run_one, state)
    return _result(rows, by, _data_sources(pool, test), cfg)


def run_shots(cfg: dict, state: RunState) -> dict:
    """Accuracy against shots per class: from scratch or from the backbone, without augmentation
    (no crop, no flip) or with it (crops, flips and ``cfg['augmented']``)."""
    plan = [dict(shots=k, init=init, augmentation=aug, seed=seed) for k in cfg["shots"]
            for init in ("scratch", "backbone") for aug in ("none", "augmented") for seed in cfg["seeds"]]

    def settings(run: dict) -> dict:
        on = run["augmentation"] == "augmented"
        return dict(crop=on, flip=on, augmentations=tuple(cfg["augmented"]) if on else ())

    return _grid(cfg, state, plan, ("shots", "init", "augmentation"), settings)


def run_ablation(cfg: dict, state: RunState) -> dict:
    """One augmentation at a time on ``cfg['shots']`` images per class, for each start in ``cfg['inits']``."""
    plan = [dict(init=init, variant=v, seed=seed) for init in cfg["inits"] for v in cfg["variants"]
            for seed in cfg["seeds"]]

    def settings(run: dict) -> dict:
        parts = run["variant"].split("+") if run["variant"] != "none" else []
        return dict(crop="crop" in parts, flip="flip" in parts,
                    augmentations=tuple(p for p in parts if p not in ("crop", "flip")))

    return _grid(cfg, state, plan, ("init", "variant"), settings)


def run_mixing(cfg: dict, state: RunState) -> dict:
    """Combining examples: none, mixup or CutMix on top of crops and flips, at several shots."""
    plan = [dict(shots=k, init=init, mixing=m, seed=seed) for k in cfg["shots"] for init in cfg["inits"]
            for m in ("none", "mixup", "cutmix") for seed in cfg["seeds"]]
    return _grid(cfg, state, plan, ("shots", "init", "mixing"),
                 lambda run: dict(augmentations=() if run["mixing"] == "none" else (run["mixing"],)))


def run_pseudo(cfg: dict, state: RunState) -> dict:
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
            first[key] = fewshot.train_few(labelled, test, cfg, init="backbone", weights=backbone_weights(state.profile), augmentations=augmented, seed=run["seed"], device=device)
        outcome, model = first[key]
        if run["threshold"] is None:  # the labelled-only model
            return dict(outcome, train_images=len(labelled), pseudo_images=0, pseudo_accuracy=None)
        unlabelled_idx = fewshot.shots_subset(pool, cfg["unlabelled_per_class"], run["seed"], exclude=labelled_idx)
        unlabelled = pool.subset(unlabelled_idx)
        keep, predicted, _ = fewshot.pseudo_label(model, unlabelled, run["threshold"], device)
        union = fewshot.with_pseudo_labels(labelled, unlabelled, keep, predicted)
        second, _ = fewshot.train_few(union, test, cfg, init="backbone", weights=backbone_weights(state.profile), augmentations=augmented, seed=run["seed"], device=device)
        correct = float((predicted == unlabelled.labels[keep]).double().mean()) if len(keep) else None
        return dict(second, train_images=len(labelled), pseudo_images=len(keep), pseudo_accuracy=correct)

    rows = run_plan(plan, run_one, state)
    return _result(rows, ("shots", "threshold"), _data_sources(pool, test), cfg)


def run_episodes(cfg: dict, state: RunState) -> dict:
    """N-way K-shot episodes with the prototype classifier on the backbone's frozen features, with
    and without augmented views of the support images, on CIFAR-10's novel classes and Caltech-101."""
    device = profiles.device()
    model = fewshot.backbone(backbone_weights(state.profile), len(fewshot.BASE_CLASSES)).eval()
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
        # each episode's accuracy is kept: plain and augmented support of a seed score the same episodes,
        # so their difference is read episode by episode (fewshot_facts.facts_episodes)
        return dict(accuracy=result["accuracy"], ci95=result["ci95"], episodes=cfg["episodes"],
                    episode_accuracy=[round(a, 6) for a in result["episodes"]])

    rows = run_plan(plan, run_one, state)
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


# Experiments 1 and 5 carry the chapter's premise, so they get ten seeds and CIFAR-10's whole test split of
# the novel classes (1,000 images each): intervals about 3.6 times narrower than 3 seeds on 200 images.
TEN_SEEDS = dict(seeds=list(range(10)), test_per_class=None)


def _budget(**extra: dict) -> dict[str, dict]:
    return {p: {**BUDGET[p], **extra.get(p, {})} for p in BUDGET}


register(Experiment(
    name="fewshot_shots", chapter="fewshot",
    title="Accuracy against shots per class, with and without augmentation, from scratch and from the backbone",
    base=dict(RECIPE, shots=[1, 5, 10, 20, 50]),
    sizes=_budget(ci=dict(shots=[1, 2]), quick=TEN_SEEDS, full=dict(TEN_SEEDS, shots=[1, 5, 10, 20, 50, 100])),
    runner=run_shots))
register(Experiment(
    name="fewshot_ablation", chapter="fewshot",
    title="One augmentation at a time on 10 images per class, from scratch and from the backbone",
    base=dict(RECIPE, shots=10, inits=["scratch", "backbone"],
              variants=["none", "crop", "flip", "crop+flip", "rotate", "noise", "elastic", "channel_contrast",
                        "color_jitter", "cutout", "trivial_augment", "mixup", "cutmix", "crop+flip+trivial_augment"]),
    sizes=_budget(ci=dict(shots=2, variants=["none", "crop+flip", "cutmix"]), quick=TEN_SEEDS, full=TEN_SEEDS),
    runner=run_ablation))
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

