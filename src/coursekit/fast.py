"""Fast training on CIFAR-10: the recipe of airbench (Jordan 2024), written to be read aloud.

The introduction's small CNN reaches about 80 %; the same data, trained carefully, give over 92 %
in minutes on a CPU and 94 % in seconds on a GPU. Nothing here is a new idea; each piece comes from
the line of fast CIFAR-10 training (Page's ResNet-9, 2018; Balsam's hlb-CIFAR10, 2023; Jordan's
airbench, 2024), and each is a few lines:

- the network :class:`~coursekit.models.fastcifar.FastCifarNet`, with its first layer *whitened*
  from the data (:func:`~coursekit.models.fastcifar.whiten_from`);
- the data on the device, a random 2-pixel translation per image and an *alternating* flip (an image
  flipped in one epoch is not flipped in the next), as batched tensor operations;
- SGD with Nesterov momentum on the summed, label-smoothed loss, a triangular learning-rate schedule,
  batch-norm shifts trained 64 times faster than the rest, and the whitening bias frozen after 3 epochs;
- *lookahead* (Zhang et al. 2019): every 5 steps the weights move to an exponential average of
  themselves, more and more strongly towards the end;
- test-time augmentation: the logits of each image averaged with those of its mirror image and of
  two translated copies.

Nothing is tuned on the test set: the number of epochs is chosen on a validation split held out from
the training images (:func:`run`'s ``validation_per_class``), and the test set is read once, at the end.
"""
from __future__ import annotations

import copy
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from . import augment, data, files, models, train
from .models.fastcifar import whiten_from

# airbench94's hyperparameters, in its decoupled form: lr and weight decay per 1,024 images.
RECIPE = dict(epochs=10, batch_size=1024, lr=11.5, momentum=0.85, weight_decay=0.0153, bias_scaler=64.0,
              label_smoothing=0.2, translate=2, whiten_bias_epochs=3, lookahead_every=5, tta=True)


class Lookahead:
    """An exponential moving average of the weights that the weights are reset to every few steps."""

    def __init__(self, model: nn.Module) -> None:
        self.average = copy.deepcopy(model.state_dict())

    @torch.no_grad()
    def update(self, model: nn.Module, decay: float) -> None:
        for name, value in model.state_dict().items():
            if value.dtype.is_floating_point:
                self.average[name].lerp_(value, 1 - decay)
                value.copy_(self.average[name])


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
    """The learning-rate factor: from 0.2 up to 1 at 23 % of the steps, then down to 0.07."""
    peak = int(0.23 * total)
    if step < peak:
        return 0.2 + 0.8 * step / peak
    return 1.0 - 0.93 * (step - peak) / max(1, total - peak)


def epoch_batches(images: torch.Tensor, labels: torch.Tensor, epoch: int, flips: torch.Tensor, cfg: dict,
                  generator: torch.Generator):
    """One epoch of shuffled batches: alternate flips (``flips`` XOR the epoch's parity) and a random
    ``translate``-pixel shift per image (reflection padding)."""
    order = torch.randperm(len(images), generator=generator)
    for start in range(0, len(order), cfg["batch_size"]):
        idx = order[start:start + cfg["batch_size"]]
        x = images[idx]
        flip = (flips[idx] ^ bool(epoch % 2)).to(x.device)
        x = torch.where(flip[:, None, None, None], x.flip(-1), x)
        yield augment.random_crop(x, cfg["translate"], generator=generator), labels[idx]


@torch.no_grad()
def tta_logits(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The mean logits of ``x`` and its mirror image, averaged with those of two copies shifted by one
    pixel (up-left and down-right, reflection padding)."""
    def mirrored(v: torch.Tensor) -> torch.Tensor:
        return 0.5 * (model(v) + model(v.flip(-1)))

    padded = F.pad(x, (1, 1, 1, 1), mode="reflect")
    h, w = x.shape[-2:]
    shifted = 0.5 * (mirrored(padded[..., :h, :w]) + mirrored(padded[..., 2:, 2:]))
    return 0.5 * mirrored(x) + 0.5 * shifted


@torch.no_grad()
def evaluate(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, runtime: train.Runtime,
             tta: bool, batch_size: int = 1000) -> dict:
    """Accuracy and the other metrics of :func:`coursekit.train.classification_metrics`."""
    model.eval()
    logits = []
    for start in range(0, len(images), batch_size):
        x = runtime.images(images[start:start + batch_size])
        with runtime.autocast():
            logits.append((tta_logits(model, x) if tta else model(x)).float().cpu())
    return train.classification_metrics(torch.cat(logits), labels.cpu())


def normalised(ds: data.ImageTensors, device: torch.device) -> torch.Tensor:
    """The images as normalised floats on ``device`` (CIFAR-10's mean and standard deviation)."""
    mean = torch.tensor(data.CIFAR10_MEAN, device=device)[:, None, None]
    std = torch.tensor(data.CIFAR10_STD, device=device)[:, None, None]
    return (ds.images.to(device).float() / 255 - mean) / std


def fit_fast(model: nn.Module, train_set: data.ImageTensors, cfg: dict, *, runtime: train.Runtime,
             seed: int = 0, validation: data.ImageTensors | None = None, checkpoint: Path | None = None,
             verbose: bool = True) -> dict:
    """Train ``model`` (a :class:`FastCifarNet`) on ``train_set`` by the recipe ``cfg``; evaluate on
    ``validation`` after every epoch if given. Returns the per-epoch history and the training time.

    With ``checkpoint``, the whole state (weights, optimizer, schedule, lookahead's average, the flips,
    the random generator, the history) is saved after every epoch, and a later call with the same path
    goes on from the last finished epoch, to the same weights as a run never interrupted."""
    generator = torch.Generator().manual_seed(seed)
    images, labels = normalised(train_set, runtime.device), train_set.labels.to(runtime.device)
    held_out = normalised(validation, runtime.device) if validation is not None else None
    model.to(runtime.device, memory_format=runtime.memory_format)
    whiten_from(model, images[torch.randperm(len(images), generator=generator)[:5000]])
    optimizer = make_optimizer(model, cfg)
    steps_per_epoch = -(-len(images) // cfg["batch_size"])
    total = cfg["epochs"] * steps_per_epoch
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: triangle(step, total))
    lookahead = Lookahead(model)
    flips = torch.rand(len(images), generator=generator) < 0.5
    history, seconds, step, start = [], 0.0, 0, 0
    if checkpoint is not None and Path(checkpoint).is_file():
        saved = torch.load(checkpoint, map_location=runtime.device, weights_only=False)
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        schedule.load_state_dict(saved["schedule"])
        lookahead.average, flips = saved["average"], saved["flips"]
        generator.set_state(saved["generator"])
        history, seconds, step, start = saved["history"], saved["seconds"], saved["step"], saved["epoch"]
        if verbose:
            print(f"resuming from {checkpoint}: epoch {start + 1}", flush=True)
    for epoch in range(start, cfg["epochs"]):
        model.train()
        model.whiten.bias.requires_grad = epoch < cfg["whiten_bias_epochs"]
        runtime.sync()
        tick, loss_sum, seen = time.perf_counter(), 0.0, 0
        for x, y in epoch_batches(images, labels, epoch, flips, cfg, generator):
            with runtime.autocast():
                loss = F.cross_entropy(model(runtime.images(x)), y, reduction="none",
                                       label_smoothing=cfg["label_smoothing"]).sum()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            step += 1
            if step % cfg["lookahead_every"] == 0:
                lookahead.update(model, decay=0.95 ** cfg["lookahead_every"] * (step / total) ** 3)
            loss_sum, seen = loss_sum + loss.detach(), seen + len(y)
        if epoch == cfg["epochs"] - 1:
            lookahead.update(model, decay=1.0)  # end on the average
        runtime.sync()
        seconds += time.perf_counter() - tick
        row = dict(epoch=epoch + 1, train_loss=float(loss_sum) / seen, seconds=round(seconds, 1),
                   images_per_second=round(seen / (time.perf_counter() - tick), 1))
        if validation is not None:
            val = evaluate(model, held_out, validation.labels, runtime, tta=False)
            row.update(validation_accuracy=val["accuracy"], validation_loss=val["loss"])
        history.append(row)
        if checkpoint is not None:
            files.torch_save(dict(model=model.state_dict(), optimizer=optimizer.state_dict(),
                                  schedule=schedule.state_dict(), average=lookahead.average, flips=flips,
                                  generator=generator.get_state(), history=history, seconds=seconds, step=step,
                                  epoch=epoch + 1), checkpoint)
        if verbose:
            print(" ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()), flush=True)
    return dict(history=history, train_seconds=seconds)


def run(cfg: dict, *, runtime: train.Runtime | None = None, checkpoint: Path | None = None,
        verbose: bool = True) -> dict:
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
    fitted = fit_fast(model, train_set, cfg, runtime=runtime, seed=cfg["seed"], validation=validation,
                      checkpoint=checkpoint, verbose=verbose)
    metrics = evaluate(model, normalised(test_set, runtime.device), test_set.labels, runtime, tta=cfg["tta"])
    metrics["classes"] = list(full.classes)
    return dict(model=model, metrics=metrics, history=fitted["history"], train_seconds=fitted["train_seconds"],
                precision=runtime.precision,
                data=dict(train=train_set.source, test=test_set.source,
                          validation=validation.source if validation is not None else None))
