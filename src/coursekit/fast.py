"""Fast training on CIFAR-10: the recipe of airbench (Jordan 2024), written to be read aloud.

The introduction's small CNN is trained the plain way; the same data, trained carefully, give far
higher accuracy in far less time (the introduction's fast run measures how much). Nothing
here is a new idea; each piece comes from the line of fast CIFAR-10 training (Page's ResNet-9, 2018;
Balsam's hlb-CIFAR10, 2023; Jordan's airbench, 2024), and each is a few lines:

- the network :class:`~coursekit.models.fastcifar.FastCifarNet`, with its first layer *whitened*
  from the data (:func:`~coursekit.models.fastcifar.whiten_from`);
- the data on the device, a random translation of up to ``translate`` pixels per image and an
  *alternating* flip (an image flipped in one epoch is not flipped in the next), as batched tensor
  operations;
- SGD with Nesterov momentum on the summed, label-smoothed loss, a triangular learning-rate schedule,
  batch-norm shifts trained ``bias_scaler`` times faster than the rest, and the whitening bias frozen
  after ``whiten_bias_epochs`` epochs;
- *lookahead* (Zhang et al. 2019): every ``lookahead_every`` steps the weights move to an exponential
  average of themselves, more and more strongly towards the end;
- test-time augmentation: the logits of each image averaged with those of its mirror image and of
  shifted copies (:func:`tta_logits`).

``translate``, ``bias_scaler``, ``whiten_bias_epochs`` and ``lookahead_every`` are keys of
:data:`RECIPE`, which holds airbench94's values.

Nothing is tuned on the test set: the number of epochs is chosen on a validation split held out from
the training images (:func:`run`'s ``validation_per_class``), and the test set is read once, at the end.
"""
from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.transforms.v2.functional import normalize

from . import augment, data, models, train
from .metrics import classification_metrics
from .models.fastcifar import whiten_from
from .runs import RunState

# airbench94's hyperparameters, in its decoupled form: lr and weight decay per 1,024 images.
RECIPE = dict(epochs=10, batch_size=1024, lr=11.5, momentum=0.85, weight_decay=0.0153, bias_scaler=64.0,
              label_smoothing=0.2, translate=2, whiten_bias_epochs=3, lookahead_every=5, tta=True)


class Lookahead:
    """An optimiser wrapped with lookahead (Zhang et al. 2019) as airbench uses it: every ``every`` steps
    the weights move to an exponential average of themselves, more and more strongly as the ``total``
    steps near their end, and after the last step they are the average. Its state (the average and the
    steps taken) is saved with the optimiser's."""

    def __init__(self, optimizer: torch.optim.Optimizer, model: nn.Module, every: int, total: int) -> None:
        self.optimizer, self.model, self.every, self.total = optimizer, model, every, total
        self.average = copy.deepcopy(model.state_dict())
        self.steps = 0

    @property
    def param_groups(self) -> list[dict]:
        return self.optimizer.param_groups

    @property
    def state(self) -> dict:
        return self.optimizer.state

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.optimizer.zero_grad(set_to_none=set_to_none)

    def step(self) -> None:
        self.optimizer.step()
        self.steps += 1
        if self.steps % self.every == 0:
            self.update(decay=0.95 ** self.every * (self.steps / self.total) ** 3)
        if self.steps == self.total:
            self.update(decay=1.0)  # end on the average

    @torch.no_grad()
    def update(self, decay: float) -> None:
        for name, value in self.model.state_dict().items():
            if value.dtype.is_floating_point:
                self.average[name].lerp_(value, 1 - decay)
                value.copy_(self.average[name])

    def state_dict(self) -> dict:
        return dict(optimizer=self.optimizer.state_dict(), average=self.average, steps=self.steps)

    def load_state_dict(self, saved: dict) -> None:
        self.optimizer.load_state_dict(saved["optimizer"])
        self.average, self.steps = saved["average"], saved["steps"]


def make_optimizer(model: nn.Module, cfg: dict) -> torch.optim.SGD:
    """Nesterov SGD for a summed loss: batch-norm shifts get ``bias_scaler`` times the learning rate;
    the weight decay is decoupled (PyTorch multiplies it by the learning rate, so it is divided here)."""
    kilostep_scale = 1024 * (1 + 1 / (1 - cfg["momentum"]))
    lr = cfg["lr"] / kilostep_scale
    decay = cfg["weight_decay"] * cfg["batch_size"] / kilostep_scale
    norm = [p for n, p in model.named_parameters() if p.requires_grad and p.ndim == 1 and "groups" in n]
    other = [p for n, p in model.named_parameters() if p.requires_grad and not (p.ndim == 1 and "groups" in n)]
    biases_lr = lr * cfg["bias_scaler"]
    return torch.optim.SGD([dict(params=norm, lr=biases_lr, weight_decay=decay / biases_lr),
                            dict(params=other, lr=lr, weight_decay=decay / lr)],
                           momentum=cfg["momentum"], nesterov=True)


def triangle(step: int, total: int) -> float:
    """The learning-rate factor, airbench's triangle: a linear rise from a small start to 1 early in
    training, then a linear fall to a small end."""
    peak = int(0.23 * total)
    if step < peak:
        return 0.2 + 0.8 * step / peak
    return 1.0 - 0.93 * (step - peak) / max(1, total - peak)


class FlipShiftBatches:
    """Shuffled batches of the images on the device, each epoch with *alternating* flips (``flips`` XOR
    the epoch's parity) and a random ``translate``-pixel shift per image (reflection padding), all drawn
    from ``generator``. Its state for a checkpoint is the generator's at the start of the epoch in
    progress, so that a run resumed within an epoch draws the same batches again."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, flips: torch.Tensor, cfg: dict,
                 generator: torch.Generator) -> None:
        self.images, self.labels, self.flips, self.generator = images, labels, flips, generator
        self.batch_size, self.translate, self.epoch = cfg["batch_size"], cfg["translate"], 0
        self.start = generator.get_state()

    def __len__(self) -> int:
        return -(-len(self.images) // self.batch_size)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        self.start = self.generator.get_state()
        order = torch.randperm(len(self.images), generator=self.generator)
        for start in range(0, len(order), self.batch_size):
            idx = order[start:start + self.batch_size]
            x = self.images[idx]
            flip = (self.flips[idx] ^ bool(self.epoch % 2)).to(x.device)
            x = torch.where(flip[:, None, None, None], x.flip(-1), x)
            yield augment.random_crop(x, self.translate, generator=self.generator), self.labels[idx]
        self.start = self.generator.get_state()

    def state_dict(self) -> dict:
        return dict(generator=self.start, flips=self.flips)

    def load_state_dict(self, saved: dict) -> None:
        self.generator.set_state(saved["generator"])
        self.flips = saved["flips"]


@torch.no_grad()
def tta_logits(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The mean logits of ``x`` and its mirror image, averaged with those of copies shifted diagonally,
    up-left and down-right (reflection padding)."""
    def mirrored(v: torch.Tensor) -> torch.Tensor:
        return 0.5 * (model(v) + model(v.flip(-1)))

    padded = F.pad(x, (1, 1, 1, 1), mode="reflect")
    h, w = x.shape[-2:]
    shifted = 0.5 * (mirrored(padded[..., :h, :w]) + mirrored(padded[..., 2:, 2:]))
    return 0.5 * mirrored(x) + 0.5 * shifted


@torch.no_grad()
def evaluate(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, runtime: train.Runtime,
             tta: bool, batch_size: int = 1000) -> dict:
    """Accuracy and the other metrics of :func:`coursekit.metrics.classification_metrics`."""
    model.eval()
    logits = []
    for start in range(0, len(images), batch_size):
        x = runtime.images(images[start:start + batch_size])
        with runtime.autocast():
            logits.append((tta_logits(model, x) if tta else model(x)).float().cpu())
    return classification_metrics(torch.cat(logits), labels.cpu())


def normalised(ds: data.ImageTensors, device: torch.device) -> torch.Tensor:
    """The images as normalised floats on ``device`` (CIFAR-10's mean and standard deviation)."""
    return normalize(ds.images.to(device).float() / 255, data.CIFAR10_MEAN, data.CIFAR10_STD)


def fit_fast(model: nn.Module, train_set: data.ImageTensors, cfg: dict, state: RunState, *,
             runtime: train.Runtime, seed: int = 0, validation: data.ImageTensors | None = None) -> train.FitResult:
    """Train ``model`` (a :class:`FastCifarNet`) on ``train_set`` by the recipe ``cfg`` through
    :func:`coursekit.train.fit`; evaluate on ``validation`` after every epoch if given.

    What is the recipe's own goes in as arguments: the whitened first layer, the optimiser wrapped in
    :class:`Lookahead`, the triangular schedule, the summed label-smoothed loss, the batches with
    alternating flips, and the whitening bias frozen after ``whiten_bias_epochs``. Checkpoints and
    resuming are ``fit``'s (``state``)."""
    generator = torch.Generator().manual_seed(seed)
    images, labels = normalised(train_set, runtime.device), train_set.labels.to(runtime.device)
    model.to(runtime.device, memory_format=runtime.memory_format)
    whiten_from(model, images[torch.randperm(len(images), generator=generator)[:5000]])
    sgd = make_optimizer(model, cfg)
    total = cfg["epochs"] * -(-len(images) // cfg["batch_size"])
    schedule = torch.optim.lr_scheduler.LambdaLR(sgd, lambda step: triangle(step, total))
    optimizer = Lookahead(sgd, model, cfg["lookahead_every"], total)
    flips = torch.rand(len(images), generator=generator) < 0.5
    batches = FlipShiftBatches(images, labels, flips, cfg, generator)

    def freeze_whitening_bias(epoch: int) -> None:
        model.whiten.bias.requires_grad = epoch < cfg["whiten_bias_epochs"]

    evaluate_on = None
    if validation is not None:
        held_out = normalised(validation, runtime.device)

        def evaluate_on(m: nn.Module) -> dict:
            val = evaluate(m, held_out, validation.labels, runtime, tta=False)
            return dict(validation_accuracy=val["accuracy"], validation_loss=val["loss"])

    loss = train.CrossEntropy(cfg["label_smoothing"], reduction="sum")
    return train.fit(model, batches, optimizer, schedule, loss, state, epochs=cfg["epochs"], evaluate=evaluate_on,
                     runtime=runtime, on_epoch=freeze_whitening_bias)


def run(cfg: dict, state: RunState, *, runtime: train.Runtime | None = None) -> dict:
    """The recipe on CIFAR-10: train on the training images less ``cfg['validation_per_class']`` per
    class (held out, to choose epochs on), then read the test set once, with test-time augmentation."""
    runtime = runtime or train.Runtime.resolve(amp=cfg.get("amp"))
    full = data.load_cifar10(train=True)
    per_class = cfg.get("validation_per_class")
    held = data.stratified_indices(full.labels, per_class, seed=cfg["seed"]) if per_class else torch.zeros(0, dtype=torch.long)
    keep = torch.ones(len(full), dtype=torch.bool)
    keep[held] = False
    train_set = full.subset(keep.nonzero().flatten(), note=f"less {per_class} per class held out" if per_class else "")
    validation = full.subset(held, note=f"{per_class} per class held out for validation") if per_class else None
    train_set = data.stratified_subset(train_set, cfg.get("train_per_class"), cfg["seed"])
    test_set = data.stratified_subset(data.load_cifar10(train=False), cfg.get("test_per_class"), cfg["seed"])
    train.seed_everything(cfg["seed"])  # the initial weights depend on the seed alone
    model = models.create("fast_cifar", num_classes=len(full.classes), **cfg.get("model_args", {}))
    fitted = fit_fast(model, train_set, cfg, state, runtime=runtime, seed=cfg["seed"], validation=validation)
    metrics = evaluate(model, normalised(test_set, runtime.device), test_set.labels, runtime, tta=cfg["tta"])
    metrics["classes"] = list(full.classes)
    return dict(model=model, metrics=metrics, history=fitted.history, train_seconds=fitted.train_seconds,
                precision=runtime.precision,
                data=dict(train=train_set.source, test=test_set.source,
                          validation=validation.source if validation is not None else None))
