"""Transfer learning: a network trained on a source task, reused for a target task.

Four ways to use a pretrained network on a new data set, from the cheapest to the dearest, and
the control they are measured against:

- **deep probe**: the network frozen, a logistic regression on its last features (after the
  global average pooling);
- **early probe**: the same on the output of an early stage, average-pooled to a small grid;
- **fine-tuning**: a new head, and every layer trained further, the pretrained body with a
  learning rate ten times smaller than the new head's (discriminative learning rates), after a
  warm-up (the one-cycle schedule's first fifth); as **fine-tuning with frozen batch norm**, the
  batch-norm layers keep the source's statistics and scales (``timm.layers.freeze_batch_norm_2d``);
  as **fine-tuning with gradual unfreezing**, the new head trains alone first and the body's stages
  join it from the top down (:func:`coursekit.train.gradual_unfreezing`);
- **scratch**: the same architecture trained on the target data alone, with the same budget.

Frozen features are computed once per (network weights, data set) and cached on disk under
``$COURSEKIT_CACHE``, so that probes, which only fit a linear layer, take seconds on a CPU.
"""
from __future__ import annotations

import copy
import hashlib
import json
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from . import __version__, data, diagnostics, files, models, profiles, train
from .metrics import classification_metrics, correct
from .models import classifier_name, replace_head  # noqa: F401 (used here, and by chapters as transfer's)
from .runs import RunState
from .runtime import autocast_dtype

METHODS = ("deep probe", "early probe", "fine-tune", "fine-tune, frozen BN", "fine-tune, gradual unfreezing", "scratch")


@dataclass(frozen=True)
class Target:
    """A target data set: a data set of :func:`coursekit.data.load_dataset` and its splits.

    ``test_split=None`` holds out a fixed, class-balanced test set from ``train_split`` (PACS
    comes as one folder per domain, without a test split).
    """

    name: str
    title: str
    dataset: str
    train_split: str
    test_split: str | None
    relation: str  # how the target relates to a CIFAR-10 source, in words


TARGETS = {t.name: t for t in [
    Target("pacs-photo", "PACS photo", "pacs", "photo", None,
           "photographs of seven classes, two of which (dog, horse) are CIFAR-10 classes"),
    Target("pacs-sketch", "PACS sketch", "pacs", "sketch", None,
           "the same seven classes as black-and-white line drawings"),
    Target("hymenoptera", "ants or bees", "hymenoptera", "train", "test",
           "photographs of insects, a kind of object CIFAR-10 lacks"),
    Target("clothing-small", "clothing", "clothing-small", "train", "test",
           "product photographs of garments, mostly on plain backgrounds"),
    Target("caltech101", "Caltech-101", "caltech101", "train", "test",
           "photographs of 101 object categories, mostly centred"),
    # the fine-grained chapter: its test split read once, its validation split to choose with
    Target("stanford-cars", "Stanford Cars", "stanford_cars", "train", "test",
           "photographs of 196 car models (make, model and year), a few dozen a class: fine-grained"),
    Target("stanford-cars-val", "Stanford Cars (validation)", "stanford_cars", "train", "val",
           "the same, tested on the validation images carved out of the training split"),
    # full profile (ImageNet sources at 224 px): fine-grained targets that torchvision downloads
    Target("cifar10", "CIFAR-10", "cifar10", "train", "test",
           "the source's own data set (for ImageNet sources: ten everyday classes at 32 px, upscaled)"),
    Target("pets", "Oxford-IIIT Pets", "pets", "train", "test",
           "photographs of 37 breeds of cats and dogs: fine-grained, near ImageNet's own dog breeds"),
    Target("flowers102", "Flowers-102", "flowers102", "train", "test",
           "photographs of 102 kinds of flowers: fine-grained, few ImageNet classes alike"),
]}


# --- data ---------------------------------------------------------------------------------------

def target_data(target: Target, image_size: int, test_per_class: int | None,
                pool_per_class: int | None = None,
                decode_per_class: int | None = None) -> tuple[data.ImageTensors, data.ImageTensors]:
    """The training pool and the test set of ``target``, as uint8 tensors of ``image_size`` pixels.

    Where the data set has no test split, ``test_per_class`` images of each class are held out
    (always with seed 0, so that every run of every method is tested on the same images).
    ``pool_per_class`` keeps at most that many training images of each class (seed 0): the pool
    whose frozen features are computed once and from which every run draws its training set.
    ``decode_per_class`` decodes at most that many images of each class of each split in the first place
    (Stanford Cars, whose loader chooses before decoding: the ``ci`` profile's few images in seconds).
    """
    load = dict(per_class=decode_per_class) if decode_per_class else {}
    pool = data.load_dataset(target.dataset, target.train_split, image_size, **load)
    if pool_per_class is not None:
        pool = pool.subset(data.stratified_indices(pool.labels, pool_per_class, 0, at_most=True),
                           note=f"a pool of at most {pool_per_class} per class, seed 0")
    if target.test_split is not None:
        test = data.load_dataset(target.dataset, target.test_split, image_size, **load)
        if test_per_class is not None:
            test = test.subset(data.stratified_indices(test.labels, test_per_class, 0, at_most=True),
                               note=f"at most {test_per_class} per class, seed 0")
        return pool, test
    if test_per_class is None:
        raise ValueError(f"{target.name} has no test split: give test_per_class to hold one out")
    held_out = data.stratified_indices(pool.labels, test_per_class, seed=0)
    rest = torch.ones(len(pool), dtype=torch.bool)
    rest[held_out] = False
    return (pool.subset(rest.nonzero().flatten(), note=f"all but {test_per_class} per class held out for testing"),
            pool.subset(held_out, note=f"{test_per_class} per class held out (seed 0)"))


# --- the source network -------------------------------------------------------------------------

def source_network(source: dict) -> tuple[nn.Module, tuple[float, ...], tuple[float, ...]]:
    """The pretrained network that ``source`` names, and the mean and std its inputs need.

    ``{"kind": "cifar", "name": "resnet20"}``: the published CIFAR-10 ResNet
    (:func:`coursekit.models.cifar_resnet`); ``{"kind": "imagenet", "name": "resnet50"}``: an
    ImageNet network: ``efficientnet_lite0`` (installed with coursekit), from torchvision, or from timm
    with a ``timm/`` prefix (:func:`coursekit.models.pretrained`). ``{"kind": "scratch", "name": ...}``: no
    pretrained network at all (only the method ``scratch`` can use it), inputs normalised as ImageNet's.
    """
    from .models.resnet import PRETRAINED_CIFAR_MEAN, PRETRAINED_CIFAR_STD

    if source["kind"] == "scratch":
        return None, PRETRAINED_CIFAR_MEAN, PRETRAINED_CIFAR_STD  # ImageNet's statistics
    if source["kind"] == "cifar":
        return models.cifar_resnet(source["name"]), PRETRAINED_CIFAR_MEAN, PRETRAINED_CIFAR_STD
    if source["kind"] == "imagenet":
        model = models.pretrained(source["name"], **source.get("kwargs", {}))
        return model, *models.input_statistics(model)
    raise ValueError(f"unknown source kind {source['kind']!r}; use 'cifar', 'imagenet' or 'scratch'")


def scratch_network(source: dict, num_classes: int) -> nn.Module:
    """The architecture of ``source``, randomly initialised, with ``num_classes`` outputs."""
    if source["name"].startswith("timm/") or source["name"] == "efficientnet_lite0":  # Lite0 is timm's network
        return models.timm_module().create_model(source["name"].removeprefix("timm/"), pretrained=False, num_classes=num_classes,
                                 **source.get("kwargs", {}))
    if source["name"] in models.list_models():
        return models.create(source["name"], num_classes=num_classes, **source.get("kwargs", {}))
    from torchvision import models as tvm

    return tvm.get_model(source["name"], weights=None, num_classes=num_classes)


# --- frozen features and linear probes ----------------------------------------------------------

@torch.no_grad()
def layer_shapes(model: nn.Module, layers: dict[str, str], image_size: int) -> dict[str, tuple[int, ...]]:
    """The shape of one image's output at each of ``layers`` (as :func:`frozen_features` names them,
    before pooling) for an input of ``image_size`` pixels: ``(channels, height, width)`` for a feature
    map, ``(features,)`` for a vector."""
    from torchvision.models.feature_extraction import create_feature_extractor

    model = model.eval()
    x = torch.zeros(1, 3, image_size, image_size)
    nodes = {node: key for key, node in layers.items() if node != "pre_logits"}
    with torch.no_grad():
        out = create_feature_extractor(model, return_nodes=nodes)(x) if nodes else {}
        out |= {key: model.forward_head(model.forward_features(x), pre_logits=True)
                for key, node in layers.items() if node == "pre_logits"}
    return {key: tuple(f.shape[1:]) if f.ndim == 4 else (f.flatten(1).shape[1],) for key, f in out.items()}


@torch.no_grad()  # frozen: no graph is kept (held across batches, it would grow with the data set)
def frozen_features(model: nn.Module, loader: train.Batches, layers: dict[str, str], grid: int = 4,
                    device: torch.device | None = None) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """The outputs of ``layers`` (``{"early": "layer1", ...}``, module names) for every batch.

    Feature maps are average-pooled to ``grid`` x ``grid`` and flattened, token sequences (N, T, D)
    averaged over tokens; vectors stay as they are. ``"pre_logits"`` names what the classifier of a
    coursekit or timm network reads (``forward_head(forward_features(x), pre_logits=True)``).
    Returns float32 CPU tensors per layer, and the labels.
    """
    from torchvision.models.feature_extraction import create_feature_extractor

    device = device or profiles.device()
    nodes = {node: key for key, node in layers.items() if node != "pre_logits"}
    extractor = create_feature_extractor(model, return_nodes=nodes) if nodes else None
    model.eval().to(device)
    if extractor is not None:
        extractor.eval().to(device)
    outputs: dict[str, list[torch.Tensor]] = {key: [] for key in layers}
    labels = []
    for x, y in loader:
        x = x.to(device, non_blocking=True)
        with torch.autocast(device.type, dtype=autocast_dtype(device), enabled=device.type == "cuda"):
            features = extractor(x) if extractor is not None else {}
            for key, node in layers.items():
                if node == "pre_logits":
                    features[key] = model.forward_head(model.forward_features(x), pre_logits=True)
        for key, f in features.items():
            if f.ndim == 4 and f.shape[-1] > 1:
                f = F.adaptive_avg_pool2d(f, grid)
            elif f.ndim == 3:
                f = f.mean(1)
            outputs[key].append(f.flatten(1).float().cpu())
        labels.append(y.cpu())
    return {key: torch.cat(v) for key, v in outputs.items()}, torch.cat(labels)


def features_cache() -> Path:
    """Where frozen features are kept: ``<cache root>/features`` (:func:`coursekit.data.cache_root`,
    never the data folder, which may be a read-only copy)."""
    return data.cache_root() / "features"


def weights_digest(model: nn.Module) -> str:
    """A sha256 of ``model``'s weights: the name, type, shape and bytes of every tensor of its state
    dict, in order. Any changed weight or buffer changes it; a ResNet-20 takes about a millisecond."""
    sha256 = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        t = tensor.detach().cpu().contiguous()
        sha256.update(f"{name} {t.dtype} {tuple(t.shape)};".encode())
        sha256.update(t.reshape(-1).view(torch.uint8).numpy())  # the raw bytes, whatever the dtype
    return sha256.hexdigest()


def cached_features(model: nn.Module, dataset: data.ImageTensors, key: dict, layers: dict[str, str],
                    grid: int, mean: tuple[float, ...], std: tuple[float, ...],
                    device: torch.device | None = None) -> dict[str, torch.Tensor]:
    """:func:`frozen_features` of ``dataset`` (no augmentation), computed once and then read from disk.

    ``key`` names the network (e.g. the source spec). The cache key adds a hash of the network's
    weights (:func:`weights_digest`: features of a repaired or retrained network are computed
    anew), the data set's recorded fingerprint and content fingerprint, the layers, the grid, the
    normalisation and coursekit's version.
    """
    device = device or profiles.device()
    ident = dict(key, weights_sha256=weights_digest(model), source=dataset.source.get("fingerprint"),
                 data=data.fingerprint(dataset.images, dataset.labels), n=len(dataset),
                 size=list(dataset.images.shape[-2:]), layers=layers, grid=grid, mean=list(mean), std=list(std),
                 coursekit=__version__)
    path = features_cache() / (hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:20] + ".pt")
    try:
        return torch.load(path, weights_only=True)
    except FileNotFoundError:
        pass
    except Exception as err:  # a truncated or corrupt file: compute again and replace it
        warnings.warn(f"the cached features in {path} could not be read ({type(err).__name__}: {err}); computing again")
    loader = data.DeviceLoader(dataset, 256, train=False, device=device, mean=mean, std=std)
    features, _ = frozen_features(model, loader, layers, grid, device)
    try:
        files.torch_save(features, path)
    except OSError as err:  # a read-only or full cache folder: work without the cache
        warnings.warn(f"could not keep the features in {path} ({type(err).__name__}: {err})")
    return features


def fit_logistic_regression(x: torch.Tensor, y: torch.Tensor, num_classes: int, weight_decay: float,
                            max_iter: int = 200) -> nn.Linear:
    """Multinomial logistic regression: minimise mean cross-entropy + ``weight_decay``/2 ||W||^2 by L-BFGS."""
    head = nn.Linear(x.shape[1], num_classes)
    nn.init.zeros_(head.weight)
    nn.init.zeros_(head.bias)
    opt = torch.optim.LBFGS(head.parameters(), lr=1.0, max_iter=max_iter, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = F.cross_entropy(head(x), y) + 0.5 * weight_decay * head.weight.square().sum()
        loss.backward()
        return loss

    opt.step(closure)
    return head


def linear_probe(train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor, test_y: torch.Tensor,
                 num_classes: int, weight_decays: tuple[float, ...] = (1e-4, 1e-3, 1e-2, 1e-1, 1.0),
                 folds: int = 3, seed: int = 0) -> dict:
    """A linear classifier on frozen features, its L2 penalty chosen by ``folds``-fold cross-validation
    on the training features alone; metrics on the test features (:func:`coursekit.metrics.classification_metrics`).

    Features are standardised with the training set's mean and standard deviation.
    """
    mean, std = train_x.mean(0), train_x.std(0).clamp_min(1e-6)
    train_x, test_x = (train_x - mean) / std, (test_x - mean) / std
    g = torch.Generator().manual_seed(seed)
    fold = torch.empty(len(train_y), dtype=torch.long)
    for c in train_y.unique():  # stratified folds: each class spread over the folds
        idx = (train_y == c).nonzero().flatten()
        fold[idx[torch.randperm(len(idx), generator=g)]] = torch.arange(len(idx)) % folds
    scores = {}
    for wd in weight_decays:
        correct = 0
        for k in range(folds):
            fit_on, check = fold != k, fold == k
            head = fit_logistic_regression(train_x[fit_on], train_y[fit_on], num_classes, wd)
            with torch.no_grad():
                correct += int((head(train_x[check]).argmax(1) == train_y[check]).sum())
        scores[wd] = correct / len(train_y)
    best = max(weight_decays, key=lambda wd: (scores[wd], wd))  # ties: the stronger penalty
    head = fit_logistic_regression(train_x, train_y, num_classes, best)
    with torch.no_grad():
        metrics = classification_metrics(head(test_x), test_y)
    return dict(metrics, weight_decay=best, cross_validation={str(k): v for k, v in scores.items()})


# --- fine-tuning and training from scratch ------------------------------------------------------

def train_on_target(model: nn.Module, train_set: data.ImageTensors, test_set: data.ImageTensors, cfg: dict,
                    lr: float, lr_multipliers: dict[str, float] | None, mean: tuple[float, ...],
                    std: tuple[float, ...], seed: int, device: torch.device,
                    augmentation: data.Augmentation | None = None, flip: bool = True,
                    unfreeze_below: str | None = None) -> tuple[dict, train.FitResult]:
    """Train ``model`` for ``cfg['steps']`` batches (whole epochs, rounded up) and evaluate it. Batches
    are augmented on the device: random crops (``cfg['crop_padding']``), flips, and ``augmentation`` if
    given. The schedule is ``cfg['schedule']`` (default one-cycle, whose first fifth warms up), the loss
    cross-entropy with ``cfg['label_smoothing']`` (default none). With ``unfreeze_below`` (the new head's
    name), the body below it is unfrozen gradually (:func:`coursekit.train.gradual_unfreezing`); otherwise every layer trains."""
    batch_size = min(cfg["batch_size"], len(train_set))
    loader = data.DeviceLoader(train_set, batch_size, train=True, device=device, mean=mean, std=std,
                               crop_padding=cfg["crop_padding"], flip=flip, seed=seed, augmentation=augmentation)
    epochs = math.ceil(cfg["steps"] / len(loader))
    runtime = train.Runtime.resolve(device)
    train.seed_everything(seed)
    layer_decay = cfg.get("layer_decay")
    optimizer = train.make_optimizer(model, cfg.get("optimizer", "sgd"), lr, cfg["weight_decay"],
                                     lr_multipliers=None if layer_decay else lr_multipliers, layer_decay=layer_decay)
    schedule = train.make_schedule(optimizer, cfg.get("schedule", "onecycle"), epochs * len(loader))
    quiet = RunState(progress=False, verbose=False)  # one short run of many: no checkpoint, no lines
    fitted = train.fit(model, loader, optimizer, schedule, train.CrossEntropy(cfg.get("label_smoothing", 0.0)), quiet,
                       epochs=epochs, metrics={"train_accuracy": correct}, runtime=runtime,
                       on_epoch=train.gradual_unfreezing(model, unfreeze_below, epochs) if unfreeze_below else None)
    test_loader = data.DeviceLoader(test_set, 256, train=False, device=device, mean=mean, std=std)
    return train.evaluate(model, test_loader, runtime=runtime), fitted


# --- the experiment -----------------------------------------------------------------------------

def one_run(method: str, source: nn.Module, spec: dict, pool: data.ImageTensors, idx: torch.Tensor,
            test: data.ImageTensors, features: dict, cfg: dict, seed: int,
            mean: tuple[float, ...], std: tuple[float, ...], device: torch.device) -> dict:
    """Accuracy, macro-F1 and details of one ``method`` trained on ``pool[idx]`` and tested on ``test``.

    ``features`` holds the frozen features of the pool and of the test set (computed on first use).
    """
    num_classes = len(pool.classes)
    if source is None and method != "scratch":
        raise ValueError(f"{method!r} needs a pretrained network; the source {spec['name']!r} is of kind 'scratch'")
    if method.endswith(" probe"):  # "<layer> probe": a linear probe on spec["layers"][<layer>]
        layer = method.split()[0]
        if layer not in spec["layers"]:
            raise ValueError(f"{method!r} needs a layer named {layer!r} in the source's layers {spec['layers']}")
        if not features:  # once per source and target: every size and seed indexes into them
            for split, ds in (("pool", pool), ("test", test)):
                features[split] = cached_features(source, ds, spec, spec["layers"], cfg["grid"], mean, std, device)
        metrics = linear_probe(features["pool"][layer][idx], pool.labels[idx], features["test"][layer], test.labels,
                               num_classes, tuple(cfg["probe_weight_decays"]), seed=seed)
        return dict(accuracy=metrics["accuracy"], macro_f1=metrics["macro_f1"], weight_decay=metrics["weight_decay"],
                    features=features["pool"][layer].shape[1])
    train.seed_everything(seed)  # the new head's (or the whole network's) initial weights
    unfreeze_below = None
    if method.startswith("fine-tune") and method in METHODS:
        model = copy.deepcopy(source)
        if method.endswith("frozen BN"):  # running statistics and affine weights stay the source's
            from timm.layers import freeze_batch_norm_2d

            model = freeze_batch_norm_2d(model)
        head = replace_head(model, num_classes)
        lr, multipliers = cfg["finetune_lr"], {head: cfg["head_lr_multiplier"]}
        if method.endswith("gradual unfreezing"):
            unfreeze_below = head
    elif method == "scratch":
        model = scratch_network(spec, num_classes)
        lr, multipliers = cfg["scratch_lr"], None
    else:
        raise ValueError(f"unknown method {method!r}; use one of {', '.join(METHODS)} (or '<layer> probe')")
    train_set = pool.subset(idx)
    metrics, fitted = train_on_target(model, train_set, test, cfg, lr, multipliers, mean, std, seed, device,
                                      unfreeze_below=unfreeze_below)
    out = dict(accuracy=metrics["accuracy"], top5=metrics["top5"], macro_f1=metrics["macro_f1"],
               epochs=len(fitted.history), images_per_second=round(fitted.images_per_second, 1),
               final_train_loss=round(fitted.history[-1]["train_loss"], 4),
               final_train_accuracy=round(fitted.history[-1]["train_accuracy"], 4))
    if cfg.get("keep_confusion"):  # every (true, predicted, count) that occurred: what a reading of errors needs
        out["confusion"] = [[i, j, n] for i, row in enumerate(metrics["confusion"]) for j, n in enumerate(row) if n]
    if cfg.get("gradcam") and method == "fine-tune":
        out["gradcam"] = diagnostics.right_and_wrong(model, test, mean, std, device, **cfg["gradcam"])
    return out
