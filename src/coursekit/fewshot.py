"""Learning from few examples, with augmentation as the prior knowledge that makes it possible.

CIFAR-10 is split into five *base* classes, on which a ResNet-20 backbone is trained (the
experiment ``fewshot_backbone``, whose weights are stored beside its result), and five *novel*
classes that the backbone never saw. The few-shot experiments learn the novel classes from
K labelled images per class:

- trained from scratch or fine-tuned from the backbone, with and without augmentation;
- in N-way K-shot episodes with a nearest-class-mean (prototype) classifier on frozen features,
  on CIFAR-10's novel classes and on Caltech-101;
- with pseudo-labels for an unlabelled pool, kept above a confidence threshold;
- with mixup or CutMix combining the few images;
- with one augmentation at a time, to see which help at five shots.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from . import augment, data, experiments, models, profiles, train, transfer

BASE_CLASSES = ("airplane", "automobile", "bird", "cat", "deer")
NOVEL_CLASSES = ("dog", "frog", "horse", "ship", "truck")


def select_classes(ds: data.ImageTensors, classes: tuple[str, ...]) -> data.ImageTensors:
    """The images of ``classes`` only, relabelled 0, 1, ... in the order given."""
    missing = [c for c in classes if c not in ds.classes]
    if missing:
        raise ValueError(f"classes {missing} are not in the data set's {ds.classes}")
    old = torch.tensor([ds.classes.index(c) for c in classes])
    keep = (ds.labels[:, None] == old[None]).any(1).nonzero().flatten()
    relabel = torch.full((len(ds.classes),), -1, dtype=torch.long)
    relabel[old] = torch.arange(len(classes))
    subset = ds.subset(keep, note=f"classes {', '.join(classes)}")
    return data.ImageTensors(subset.images, relabel[subset.labels], tuple(classes), subset.source)


def novel_data(test_per_class: int | None) -> tuple[data.ImageTensors, data.ImageTensors]:
    """The novel classes of CIFAR-10: every training image (the pool few-shot sets are drawn
    from) and a fixed class-balanced test set."""
    pool = select_classes(data.load_cifar10(train=True), NOVEL_CLASSES)
    test = data.stratified_subset(select_classes(data.load_cifar10(train=False), NOVEL_CLASSES), test_per_class, seed=0)
    return pool, test


# --- the backbone ---------------------------------------------------------------------------------

def train_backbone(cfg: dict, checkpoint=None) -> dict:
    """Train a ResNet-20 from scratch on CIFAR-10's base classes; its weights are the product."""
    device = profiles.device()
    train_set = data.stratified_subset(select_classes(data.load_cifar10(train=True), BASE_CLASSES),
                                       cfg["train_per_class"], cfg["seed"])
    test_set = data.stratified_subset(select_classes(data.load_cifar10(train=False), BASE_CLASSES),
                                      cfg["test_per_class"], cfg["seed"])
    mean, std = data.CIFAR10_MEAN, data.CIFAR10_STD
    loader = data.DeviceLoader(train_set, cfg["batch_size"], train=True, device=device, seed=cfg["seed"])
    test_loader = data.DeviceLoader(test_set, 500, train=False, device=device, mean=mean, std=std)
    train.seed_everything(cfg["seed"])
    model = models.create(cfg["model"], num_classes=len(BASE_CLASSES))
    fitted = train.fit(model, loader, test_loader=test_loader, epochs=cfg["epochs"], lr=cfg["lr"],
                       weight_decay=cfg["weight_decay"], device=device, checkpoint=checkpoint, seed=cfg["seed"])
    metrics = train.evaluate(model, test_loader, device=device)
    metrics["classes"] = list(BASE_CLASSES)
    return dict(metrics=metrics, history=fitted.history,
                cost=dict(parameters=models.count_parameters(model), train_seconds=round(fitted.train_seconds, 2),
                          images_per_second=round(fitted.images_per_second, 1)),
                data=dict(train=train_set.source, test=test_set.source),
                state_dict={k: v.cpu() for k, v in model.state_dict().items()})


def backbone(num_classes: int) -> nn.Module:
    """The base-class ResNet-20 (``fewshot_backbone``) with a new head for ``num_classes``."""
    model = models.create("resnet20", num_classes=len(BASE_CLASSES))
    model.load_state_dict(experiments.network("fewshot_backbone"))
    transfer.replace_head(model, num_classes)
    return model


# --- training on a few images -----------------------------------------------------------------------

def train_few(train_set: data.ImageTensors, test_set: data.ImageTensors, cfg: dict, *, init: str,
              augmentations: tuple[str, ...] = (), crop: bool = True, flip: bool = True, seed: int = 0,
              device: torch.device | None = None) -> tuple[dict, nn.Module]:
    """Train on ``train_set`` from ``init`` (``"scratch"`` or ``"backbone"``) for ``cfg['steps']``
    batches with the given augmentations; test accuracy and macro-F1, and the trained model."""
    device = device or profiles.device()
    num_classes = len(train_set.classes)
    train.seed_everything(seed)
    if init == "backbone":
        model, lr, multipliers = backbone(num_classes), cfg["finetune_lr"], {"linear": cfg["head_lr_multiplier"]}
    elif init == "scratch":
        model, lr, multipliers = models.create("resnet20", num_classes=num_classes), cfg["scratch_lr"], None
    else:
        raise ValueError(f"unknown init {init!r}; use 'scratch' or 'backbone'")
    pipeline = augment.pipeline(augmentations, num_classes) if augmentations else None
    metrics, _ = transfer.train_on_target(model, train_set, test_set, dict(cfg, crop_padding=cfg["crop_padding"] if crop else 0),
                                          lr, multipliers, data.CIFAR10_MEAN, data.CIFAR10_STD, seed, device,
                                          augmentation=pipeline, flip=flip)
    return dict(accuracy=metrics["accuracy"], macro_f1=metrics["macro_f1"]), model


def shots_subset(pool: data.ImageTensors, shots: int, seed: int, exclude: torch.Tensor | None = None) -> torch.Tensor:
    """Indices of ``shots`` images per class of ``pool`` (seeded), avoiding ``exclude``."""
    candidates = torch.arange(len(pool)) if exclude is None else torch.tensor(
        sorted(set(range(len(pool))) - set(exclude.tolist())))
    return candidates[data.stratified_indices(pool.labels[candidates], shots, seed)]


# --- episodes and prototypes ------------------------------------------------------------------------

def prototype_classify(support: torch.Tensor, support_labels: torch.Tensor, query: torch.Tensor,
                       ways: int) -> torch.Tensor:
    """Nearest class mean (Snell et al. 2017; "SimpleShot"): L2-normalised features, each class
    represented by the mean of its support features; logits are negative squared distances."""
    support, query = F.normalize(support, dim=1), F.normalize(query, dim=1)
    prototypes = torch.stack([support[support_labels == c].mean(0) for c in range(ways)])
    return -torch.cdist(query, prototypes).square()


def episodes(features: torch.Tensor, labels: torch.Tensor, *, ways: int, shots: int, queries: int,
             count: int, seed: int = 0, views: torch.Tensor | None = None) -> dict:
    """Accuracy of the prototype classifier over ``count`` sampled N-way K-shot episodes.

    Each episode draws ``ways`` classes, ``shots`` support and ``queries`` query images of each.
    With ``views`` (features of augmented copies, shape (A, N, D)), each support image's
    prototype contribution is the mean over its original and augmented features. Returns the mean
    accuracy, its 95 % confidence half-width (1.96 standard errors) and the per-episode accuracies.
    """
    g = torch.Generator().manual_seed(seed)
    counts = torch.bincount(labels)
    classes = (counts >= shots + queries).nonzero().flatten()  # classes with enough images for an episode
    if len(classes) < ways:
        raise ValueError(f"only {len(classes)} classes have {shots + queries} images; {ways}-way episodes need {ways}")
    by_class = {int(c): (labels == c).nonzero().flatten() for c in classes}
    accuracies = []
    for _ in range(count):
        chosen = classes[torch.randperm(len(classes), generator=g)[:ways]]
        s_idx, q_idx, s_lab, q_lab = [], [], [], []
        for new, c in enumerate(chosen.tolist()):
            idx = by_class[c][torch.randperm(len(by_class[c]), generator=g)[:shots + queries]]
            s_idx.append(idx[:shots]); q_idx.append(idx[shots:])
            s_lab += [new] * shots; q_lab += [new] * (len(idx) - shots)
        s_idx, q_idx = torch.cat(s_idx), torch.cat(q_idx)
        support = features[s_idx] if views is None else torch.cat([features[s_idx][None], views[:, s_idx]]).mean(0)
        logits = prototype_classify(support, torch.tensor(s_lab), features[q_idx], ways)
        accuracies.append(float((logits.argmax(1) == torch.tensor(q_lab)).double().mean()))
    acc = torch.tensor(accuracies, dtype=torch.float64)
    return dict(accuracy=float(acc.mean()), ci95=float(1.96 * acc.std() / len(acc) ** 0.5), episodes=accuracies)


# --- pseudo-labels ----------------------------------------------------------------------------------

@torch.no_grad()
def pseudo_label(model: nn.Module, pool: data.ImageTensors, threshold: float,
                 device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The indices of ``pool`` whose top softmax probability is at least ``threshold``, their
    predicted labels, and the confidences of all."""
    loader = data.DeviceLoader(pool, 500, train=False, device=device)
    logits, _ = train.predict(model, loader, device=device)
    confidence, predicted = logits.softmax(1).max(1)
    keep = (confidence >= threshold).nonzero().flatten()
    return keep, predicted[keep], confidence


def with_pseudo_labels(labelled: data.ImageTensors, pool: data.ImageTensors, keep: torch.Tensor,
                       predicted: torch.Tensor) -> data.ImageTensors:
    """The labelled images together with the kept pool images under their predicted labels."""
    return data.ImageTensors(torch.cat([labelled.images, pool.images[keep]]), torch.cat([labelled.labels, predicted]),
                             labelled.classes, dict(labelled.source, images=len(labelled) + len(keep),
                                                    subset=f"{len(labelled)} labelled + {len(keep)} pseudo-labelled"))


# --- the experiments ----------------------------------------------------------------------------------

def _result(rows: list[dict], by: tuple[str, ...], sources: dict, cfg: dict) -> dict:
    """The output of a few-shot runner: rows, their summary over seeds, cost and data."""
    trained = sum(r["seconds"] for r in rows)
    return dict(metrics=dict(rows=rows, summary=experiments.summarise(rows, by)), history=[],
                cost=dict(runs=len(rows), train_seconds=round(trained, 1)), data=sources)


def _data_sources(pool: data.ImageTensors, test: data.ImageTensors) -> dict:
    return dict(train=dict(pool.source, description=f"{pool.source.get('description', 'CIFAR-10')}: "
                                                       f"novel classes {', '.join(NOVEL_CLASSES)}, the pool that "
                                                       "each run draws its K images per class from"),
                test=test.source)


def _label(row: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in row.items())


def run_shots(cfg: dict, checkpoint=None) -> dict:
    """Accuracy against shots per class: from scratch or from the backbone, without augmentation
    (no crop, no flip) or with it (crops, flips and ``cfg['augmented']``)."""
    device = profiles.device()
    pool, test = novel_data(cfg["test_per_class"])
    plan = [dict(shots=k, init=init, augmentation=aug, seed=seed) for k in cfg["shots"]
            for init in ("scratch", "backbone") for aug in ("none", "augmented") for seed in cfg["seeds"]]

    def run_one(run: dict) -> dict:
        train_set = pool.subset(shots_subset(pool, run["shots"], run["seed"]))
        augmented = run["augmentation"] == "augmented"
        outcome, _ = train_few(train_set, test, cfg, init=run["init"], crop=augmented, flip=augmented,
                               augmentations=tuple(cfg["augmented"]) if augmented else (), seed=run["seed"], device=device)
        return dict(outcome, train_images=len(train_set))

    rows = experiments.run_plan(plan, run_one, checkpoint, _label)
    return _result(rows, ("shots", "init", "augmentation"), _data_sources(pool, test), cfg)


def run_ablation(cfg: dict, checkpoint=None) -> dict:
    """One augmentation at a time, fine-tuning the backbone on ``cfg['shots']`` images per class."""
    device = profiles.device()
    pool, test = novel_data(cfg["test_per_class"])
    plan = [dict(variant=v, seed=seed) for v in cfg["variants"] for seed in cfg["seeds"]]

    def run_one(run: dict) -> dict:
        parts = run["variant"].split("+") if run["variant"] != "none" else []
        train_set = pool.subset(shots_subset(pool, cfg["shots"], run["seed"]))  # the same images for every variant
        outcome, _ = train_few(train_set, test, cfg, init="backbone", crop="crop" in parts, flip="flip" in parts,
                               augmentations=tuple(p for p in parts if p not in ("crop", "flip")),
                               seed=run["seed"], device=device)
        return dict(outcome, train_images=len(train_set))

    rows = experiments.run_plan(plan, run_one, checkpoint, _label)
    return _result(rows, ("variant",), _data_sources(pool, test), cfg)


def run_mixing(cfg: dict, checkpoint=None) -> dict:
    """Combining examples: none, mixup or CutMix on top of crops and flips, at several shots."""
    device = profiles.device()
    pool, test = novel_data(cfg["test_per_class"])
    plan = [dict(shots=k, init=init, mixing=m, seed=seed) for k in cfg["shots"] for init in cfg["inits"]
            for m in ("none", "mixup", "cutmix") for seed in cfg["seeds"]]

    def run_one(run: dict) -> dict:
        train_set = pool.subset(shots_subset(pool, run["shots"], run["seed"]))
        outcome, _ = train_few(train_set, test, cfg, init=run["init"],
                               augmentations=() if run["mixing"] == "none" else (run["mixing"],),
                               seed=run["seed"], device=device)
        return dict(outcome, train_images=len(train_set))

    rows = experiments.run_plan(plan, run_one, checkpoint, _label)
    return _result(rows, ("shots", "init", "mixing"), _data_sources(pool, test), cfg)


def run_pseudo(cfg: dict, checkpoint=None) -> dict:
    """Pseudo-labelling (Lee 2013): a model fine-tuned on the labelled images labels an unlabelled
    pool; the images it is at least ``threshold`` sure of join the labelled ones for a second model."""
    device = profiles.device()
    pool, test = novel_data(cfg["test_per_class"])
    plan = [dict(shots=k, threshold=t, seed=seed) for k in cfg["shots"] for t in cfg["thresholds"]
            for seed in cfg["seeds"]]
    first: dict = {}  # (shots, seed) -> the labelled-only model and its outcome, shared by the thresholds
    augmented = tuple(cfg["augmented"])

    def run_one(run: dict) -> dict:
        labelled_idx = shots_subset(pool, run["shots"], run["seed"])
        labelled = pool.subset(labelled_idx)
        key = (run["shots"], run["seed"])
        if key not in first:
            first[key] = train_few(labelled, test, cfg, init="backbone", augmentations=augmented, seed=run["seed"], device=device)
        outcome, model = first[key]
        if run["threshold"] is None:  # the labelled-only model
            return dict(outcome, train_images=len(labelled), pseudo_images=0, pseudo_accuracy=None)
        unlabelled_idx = shots_subset(pool, cfg["unlabelled_per_class"], run["seed"], exclude=labelled_idx)
        unlabelled = pool.subset(unlabelled_idx)
        keep, predicted, _ = pseudo_label(model, unlabelled, run["threshold"], device)
        union = with_pseudo_labels(labelled, unlabelled, keep, predicted)
        second, _ = train_few(union, test, cfg, init="backbone", augmentations=augmented, seed=run["seed"], device=device)
        correct = float((predicted == unlabelled.labels[keep]).double().mean()) if len(keep) else None
        return dict(second, train_images=len(labelled), pseudo_images=len(keep), pseudo_accuracy=correct)

    rows = experiments.run_plan(plan, run_one, checkpoint, _label)
    return _result(rows, ("shots", "threshold"), _data_sources(pool, test), cfg)


def run_episodes(cfg: dict, checkpoint=None) -> dict:
    """N-way K-shot episodes with the prototype classifier on the backbone's frozen features, with
    and without augmented views of the support images, on CIFAR-10's novel classes and Caltech-101."""
    device = profiles.device()
    model = backbone(len(BASE_CLASSES)).eval()
    layers = {"deep": "avgpool"}
    pipeline = augment.pipeline(tuple(cfg["augmented"]))
    sets: dict = {}

    def features(name: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, dict]:
        if name not in sets:
            if name == "cifar10-novel":
                pool, _ = novel_data(None)
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
        result = episodes(clean, labels, ways=cfg["ways"], shots=run["shots"], queries=cfg["queries"],
                          count=cfg["episodes"], seed=run["seed"], views=views if run["support"] == "augmented" else None)
        return dict(accuracy=result["accuracy"], ci95=result["ci95"], episodes=cfg["episodes"])

    rows = experiments.run_plan(plan, run_one, checkpoint, _label)
    sources = {d: features(d)[3] for d in cfg["datasets"]}
    images = ", ".join(f"{d} ({s['images']:,} images)" for d, s in sources.items())
    return dict(metrics=dict(rows=rows), history=[], cost=dict(runs=len(rows), train_seconds=0.0),
                data=dict(summary=f"frozen backbone features of {images}, at 32 px; each episode draws its support "
                                  f"and query images from these", sets=sources))
