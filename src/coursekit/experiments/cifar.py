"""The shared recipe of the chapters that train a classifier from scratch on CIFAR-10
(introduction, classic networks, CNN against ViT): a subset per class, crops and flips on the
device, a one-cycle schedule, and the test set evaluated after every epoch."""
from __future__ import annotations

import math

from .. import augment, data, diagnostics, models, profiles, train
from ..metrics import correct
from ..runs import RunState

CIFAR10_RECIPE = dict(model="small_cnn", model_args={}, optimizer="sgd", lr=0.05, weight_decay=5e-4,
                      schedule="onecycle", label_smoothing=0.0, crop_padding=4, flip=True, seed=0)

# A long run on a small set is tested about this many times (after every k-th epoch and after the last):
# enough points for its curves, without the test images costing as much as training on them.
EVALUATIONS = 30


def train_cifar10_classifier(cfg: dict, state: RunState) -> dict:
    """Train ``cfg['model']`` from scratch on (a stratified subset of) CIFAR-10 and evaluate it.

    With ``cfg['probe_gradients']``, the gradient norm of every convolution is also measured on one
    fixed batch, at initialisation and after training (:func:`coursekit.diagnostics.gradient_norms`).
    With ``cfg['inspect_attention']``, a ViT's attention maps and distances are kept.
    """
    device = profiles.device()
    train_set = data.stratified_subset(data.load_cifar10(train=True), cfg["train_per_class"], cfg["seed"])
    test_set = data.stratified_subset(data.load_cifar10(train=False), cfg["test_per_class"], cfg["seed"])
    augmentation = augment.pipeline(cfg["augment"], len(train_set.classes)) if cfg.get("augment") else None
    train_loader = data.DeviceLoader(train_set, cfg["batch_size"], train=True, device=device,
                                     crop_padding=cfg["crop_padding"], flip=cfg["flip"], seed=cfg["seed"],
                                     augmentation=augmentation)
    test_loader = data.DeviceLoader(test_set, 500, train=False, device=device)
    train.seed_everything(cfg["seed"])  # the initial weights depend on the seed alone
    model = models.create(cfg["model"], num_classes=len(train_set.classes), **cfg["model_args"])
    parameters, macs = models.count_parameters(model), models.count_macs(model)
    initial_gradients = None
    if cfg.get("probe_gradients"):
        probe = next(iter(data.DeviceLoader(train_set, 256, train=False, device=device)))
        initial_gradients = diagnostics.gradient_norms(model.to(device), *probe)
    runtime = train.Runtime.resolve(device)
    train.seed_everything(cfg["seed"])  # dropout and anything else drawn while training
    optimizer = train.make_optimizer(model, cfg["optimizer"], cfg["lr"], cfg["weight_decay"])
    schedule = train.make_schedule(optimizer, cfg["schedule"], cfg["epochs"] * len(train_loader))
    fitted = train.fit(model, train_loader, optimizer, schedule, train.CrossEntropy(cfg["label_smoothing"]), state,
                       epochs=cfg["epochs"], evaluate=train.evaluator(test_loader, runtime),
                       evaluate_every=max(1, cfg["epochs"] // EVALUATIONS), metrics={"train_accuracy": correct},
                       runtime=runtime)
    metrics = train.evaluate(model, test_loader, runtime=runtime)
    metrics["classes"] = list(train_set.classes)
    cost = dict(parameters=parameters, macs=macs, train_seconds=round(fitted.train_seconds, 2),
                images_per_second=round(fitted.images_per_second, 1),
                peak_memory_mb=round(fitted.peak_memory_mb, 1), peak_memory_kind=fitted.peak_memory_kind,
                precision=fitted.precision)
    output = dict(metrics=metrics, history=fitted.history, cost=cost,
                  data=dict(train=train_set.source, test=test_set.source))
    if initial_gradients is not None:
        trained_gradients = diagnostics.gradient_norms(model, *probe)
        output["gradient_norms"] = dict(layers=list(initial_gradients), initial=list(initial_gradients.values()),
                                        trained=list(trained_gradients.values()))
    if cfg.get("inspect_attention"):
        from ..models.analysis import inspect_vit

        output["attention"] = inspect_vit(model.cpu(), data.load_cifar10(train=False))
    return output


def chosen_lr(curve: dict) -> float:
    """The peak learning rate a range test chooses: where its smoothed training loss is lowest, to one
    significant figure (the conventional peaks, 0.1 for SGD and 1e-3 for AdamW, sit near there)."""
    exponent = math.floor(math.log10(curve["minimum"]))
    return round(curve["minimum"] / 10 ** exponent) * 10 ** exponent


def lr_range_tests(cfg: dict, state: RunState) -> dict:
    """The learning-rate range test (:func:`coursekit.diagnostics.lr_find`) on the training loss of each of
    ``cfg['networks']``; a network given no ``lr`` is assigned :func:`chosen_lr` of its test."""
    device = profiles.device()
    train_set = data.stratified_subset(data.load_cifar10(train=True), cfg["train_per_class"], cfg["seed"])
    curves = {}
    for name, spec in cfg["networks"].items():
        loader = data.DeviceLoader(train_set, cfg["batch_size"], train=True, device=device, seed=cfg["seed"])
        train.seed_everything(cfg["seed"])
        model = models.create(spec["model"], num_classes=10, **spec.get("model_args", {}))
        found = diagnostics.lr_find(model, loader, start_lr=cfg["start_lr"], end_lr=cfg["end_lr"], steps=cfg["steps"],
                                    optimizer=spec["optimizer"], weight_decay=spec["weight_decay"], device=device)
        curves[name] = dict(found, optimizer=spec["optimizer"], chosen_lr=spec.get("lr", chosen_lr(found)))
    description = train_set.source.get("description", "CIFAR-10")
    return dict(metrics=curves, history=[], cost=dict(runs=len(curves)),
                data=dict(train=train_set.source, summary=f"{description}; {len(train_set):,} training images, "
                                                         "no test set (the test reads the training loss)"))
