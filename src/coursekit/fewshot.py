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

from . import augment, data, models, profiles, train, transfer

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


# --- training on a few images -----------------------------------------------------------------------

def backbone(weights: dict, num_classes: int) -> nn.Module:
    """The base-class ResNet-20 with the trained ``weights`` and a new head for ``num_classes``."""
    model = models.create("resnet20", num_classes=len(BASE_CLASSES))
    model.load_state_dict(weights)
    transfer.replace_head(model, num_classes)
    return model


def train_few(train_set: data.ImageTensors, test_set: data.ImageTensors, cfg: dict, *, init: str,
              weights: dict | None = None, augmentations: tuple[str, ...] = (), crop: bool = True, flip: bool = True,
              seed: int = 0, device: torch.device | None = None) -> tuple[dict, nn.Module]:
    """Train on ``train_set`` from ``init`` (``"scratch"``, or ``"backbone"`` with the backbone's
    ``weights``) for ``cfg['steps']`` batches with the given augmentations; test accuracy and
    macro-F1, and the trained model."""
    device = device or profiles.device()
    num_classes = len(train_set.classes)
    train.seed_everything(seed)
    if init == "backbone":
        if weights is None:
            raise ValueError("init='backbone' needs the backbone's weights")
        model, lr = backbone(weights, num_classes), cfg["finetune_lr"]
        multipliers = {transfer.classifier_name(model): cfg["head_lr_multiplier"]}  # "linear", the new head
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
