"""Training and evaluation: plain functions a lecturer can read aloud.

``fit`` runs the epochs, keeps a per-epoch history, saves a checkpoint after every epoch and on
Ctrl-C, and resumes from it. On CUDA it trains with automatic mixed precision (bf16 where the GPU
has it, else fp16 with a gradient scaler); on the CPU in float32. Convolutions run on
channels_last tensors on both. ``evaluate`` returns accuracy, top-5, macro-F1, loss and the
confusion matrix.
"""
from __future__ import annotations

import itertools
import os
import random
import resource
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import torch
import torch.nn.functional as F
from torch import nn

from . import files, profiles

Batches = Iterable[tuple[torch.Tensor, torch.Tensor]]


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch, so that CPU runs repeat exactly."""
    import numpy as np

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def autocast_dtype(device: torch.device) -> torch.dtype | None:
    """The mixed-precision dtype for ``device``: bf16 or fp16 on CUDA, none elsewhere."""
    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def memory_format_for(device: torch.device, channels_last: bool | None = None) -> torch.memory_format:
    """channels_last (NHWC) unless asked otherwise, on CUDA and on the CPU.

    On CUDA it lets convolutions use tensor cores; on an x86 CPU, oneDNN's convolutions are
    faster in NHWC as well (``benchmarks/channels_last.py`` measures the ratio). MPS keeps NCHW.
    """
    if channels_last is None:
        channels_last = device.type in ("cuda", "cpu")
    return torch.channels_last if channels_last else torch.contiguous_format


def make_optimizer(model: nn.Module, name: str, lr: float, weight_decay: float,
                   momentum: float = 0.9, lr_multipliers: dict[str, float] | None = None) -> torch.optim.Optimizer:
    """SGD with Nesterov momentum, or AdamW. Norm and bias parameters get no weight decay.

    ``lr_multipliers`` maps a parameter-name prefix to a factor on ``lr`` (discriminative learning
    rates: ``{"fc": 10}`` trains a new head ten times faster than the pretrained body).
    """
    multipliers = lr_multipliers or {}
    groups: dict[tuple[float, bool], list] = {}
    for pname, p in model.named_parameters():
        if not p.requires_grad:
            continue
        factor = next((f for prefix, f in multipliers.items() if pname.startswith(prefix)), 1.0)
        groups.setdefault((factor, p.ndim > 1), []).append(p)
    param_groups = [dict(params=params, lr=lr * factor, weight_decay=weight_decay if decay else 0.0)
                    for (factor, decay), params in groups.items()]
    if name == "sgd":
        return torch.optim.SGD(param_groups, lr=lr, momentum=momentum, nesterov=momentum > 0)
    if name == "adamw":
        return torch.optim.AdamW(param_groups, lr=lr)
    raise ValueError(f"unknown optimizer {name!r}; use 'sgd' or 'adamw'")


def make_schedule(optimizer: torch.optim.Optimizer, name: str, total_steps: int,
                  warmup: float = 0.2) -> torch.optim.lr_scheduler.LRScheduler:
    """A per-step schedule: ``onecycle`` (warm-up for a ``warmup`` fraction, then anneal),
    ``cosine`` (cosine decay from the start) or ``constant``."""
    if name == "onecycle":
        max_lrs = [g["lr"] for g in optimizer.param_groups]
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=max_lrs, total_steps=total_steps,
                                                   pct_start=warmup, anneal_strategy="cos")
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    if name == "constant":
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    raise ValueError(f"unknown schedule {name!r}; use 'onecycle', 'cosine' or 'constant'")


@dataclass
class FitResult:
    """What ``fit`` returns: the per-epoch history and the cost of training."""

    history: list[dict] = field(default_factory=list)
    train_seconds: float = 0.0
    images_seen: int = 0
    peak_memory_mb: float = 0.0
    peak_memory_kind: str = ""
    precision: str = "float32"

    @property
    def images_per_second(self) -> float:
        return self.images_seen / self.train_seconds if self.train_seconds else 0.0


def peak_memory(device: torch.device) -> tuple[float, str]:
    """Peak memory in MB: allocated by CUDA on a GPU (since ``fit`` started), the process's resident
    set on the CPU (since the process started: it includes the data set held in memory)."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20, "CUDA allocated (peak)"
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "process resident set (peak)"


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _save_atomic(obj: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def fit(model: nn.Module, train_loader: Batches, *, epochs: int, test_loader: Batches | None = None,
        optimizer: str = "sgd", lr: float = 0.05, weight_decay: float = 5e-4, momentum: float = 0.9,
        schedule: str = "onecycle", warmup: float = 0.2, label_smoothing: float = 0.0,
        lr_multipliers: dict[str, float] | None = None, device: torch.device | str | None = None, amp: bool | None = None,
        channels_last: bool | None = None, checkpoint: str | Path | None = None,
        seed: int = 0, progress: bool | None = None, verbose: bool = True) -> FitResult:
    """Train ``model`` for ``epochs`` on ``train_loader``; evaluate on ``test_loader`` each epoch.

    ``amp`` defaults to on for CUDA and off elsewhere, ``channels_last`` to :func:`memory_format_for`;
    ``lr_multipliers`` gives parts of the model their own learning rate (:func:`make_optimizer`).
    With ``checkpoint``, the full training state is saved there after every epoch and when Ctrl-C interrupts, and a later
    call with the same path resumes where it stopped (at the same batch of the same epoch).
    """
    from .profiles import device as best_device

    device = torch.device(device) if device is not None else best_device()
    amp_dtype = autocast_dtype(device) if amp in (None, True) else None
    memory_format = memory_format_for(device, channels_last)
    progress = profiles.show_progress() if progress is None else progress
    if progress:  # notebook widgets where they exist, text bars elsewhere
        from tqdm.auto import tqdm
    else:  # tqdm.auto would warn about missing widgets even for a bar it never draws
        from tqdm import tqdm
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")

    seed_everything(seed)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed input sizes: let cuDNN pick its fastest kernels
        torch.cuda.reset_peak_memory_stats(device)  # the peak of this run, not of the process
    model.to(device, memory_format=memory_format)
    steps_per_epoch = len(train_loader)  # type: ignore[arg-type]
    opt = make_optimizer(model, optimizer, lr, weight_decay, momentum, lr_multipliers)
    sched = make_schedule(opt, schedule, epochs * steps_per_epoch, warmup)
    scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype == torch.float16)
    result = FitResult(precision=str(amp_dtype).replace("torch.", "") + " autocast" if amp_dtype else "float32")
    start_epoch, start_step, partial = 0, 0, None

    checkpoint = Path(checkpoint) if checkpoint else None
    if checkpoint and checkpoint.exists():
        state = torch.load(checkpoint, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        scaler.load_state_dict(state["scaler"])
        torch.set_rng_state(state["rng"])
        start_epoch, start_step, partial = state["epoch"], state["step"], state["partial"]
        result.history, result.train_seconds, result.images_seen = (
            state["history"], state["train_seconds"], state["images_seen"])
        if verbose and start_epoch < epochs:
            print(f"resuming from {checkpoint}: epoch {start_epoch + 1}, batch {start_step}")

    def save(epoch: int, step: int, partial: dict | None) -> None:
        if checkpoint:
            _save_atomic(dict(model=model.state_dict(), optimizer=opt.state_dict(),
                              scheduler=sched.state_dict(), scaler=scaler.state_dict(),
                              rng=torch.get_rng_state(), epoch=epoch, step=step, partial=partial,
                              history=result.history, train_seconds=result.train_seconds,
                              images_seen=result.images_seen), checkpoint)

    for epoch in range(start_epoch, epochs):
        if hasattr(train_loader, "set_epoch"):
            train_loader.set_epoch(epoch)
        stats = partial or dict(loss=0.0, correct=0, seen=0, seconds=0.0)
        first_step = start_step if epoch == start_epoch else 0
        model.train()
        bar = tqdm(total=steps_per_epoch, initial=first_step, desc=f"epoch {epoch + 1}/{epochs}",
                   disable=not progress, leave=False)
        _sync(device)
        tick = time.perf_counter()
        next_step = first_step
        try:
            for step, (x, y) in enumerate(itertools.islice(train_loader, first_step, None), first_step):
                x = x.to(device, non_blocking=True, memory_format=memory_format)
                y = y.to(device, non_blocking=True)
                with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
                    logits = model(x)
                    loss = F.cross_entropy(logits, y, label_smoothing=label_smoothing)
                opt.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
                sched.step()
                next_step = step + 1
                stats["loss"] += loss.detach() * len(y)
                hard = y.argmax(1) if y.ndim == 2 else y  # soft labels (mixup, CutMix): their largest share
                stats["correct"] += (logits.argmax(1) == hard).sum()
                stats["seen"] += len(y)
                bar.update(1)
        except KeyboardInterrupt:
            _sync(device)
            stats["seconds"] += time.perf_counter() - tick
            stats = {k: float(v) if torch.is_tensor(v) else v for k, v in stats.items()}
            save(epoch, next_step, stats)
            bar.close()
            if checkpoint:
                print(f"\ninterrupted: state saved to {checkpoint}; call fit again with it to resume")
            raise
        _sync(device)
        stats["seconds"] += time.perf_counter() - tick
        bar.close()
        row = dict(epoch=epoch + 1, lr=opt.param_groups[0]["lr"],
                   train_loss=float(stats["loss"]) / max(1, stats["seen"]),
                   train_accuracy=float(stats["correct"]) / max(1, stats["seen"]),
                   seconds=stats["seconds"], images_per_second=stats["seen"] / max(stats["seconds"], 1e-9))
        result.train_seconds += stats["seconds"]
        result.images_seen += stats["seen"]
        if test_loader is not None:
            tick = time.perf_counter()
            metrics = evaluate(model, test_loader, device=device, amp=amp_dtype is not None,
                               channels_last=memory_format == torch.channels_last)
            row.update(test_loss=metrics["loss"], test_accuracy=metrics["accuracy"],
                       eval_seconds=time.perf_counter() - tick)
        result.history.append(row)
        partial = None
        save(epoch + 1, 0, None)
        if verbose:  # one line per epoch stays; the bar of the epoch is gone
            print(_epoch_line(row, epochs))
    result.peak_memory_mb, result.peak_memory_kind = peak_memory(device)
    return result


class InterruptAt:
    """Wraps a loader and raises ``KeyboardInterrupt`` when batch ``batch`` of epoch ``epoch`` (both
    from 0) is due, as if someone pressed Ctrl-C there: to show and test resuming from a checkpoint."""

    def __init__(self, loader: Batches, epoch: int, batch: int) -> None:
        self.loader, self.stop, self.epoch = loader, (epoch, batch), 0

    def __len__(self) -> int:
        return len(self.loader)  # type: ignore[arg-type]

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        if hasattr(self.loader, "set_epoch"):
            self.loader.set_epoch(epoch)

    def __iter__(self):
        for step, batch in enumerate(self.loader):
            if (self.epoch, step) == self.stop:
                raise KeyboardInterrupt
            yield batch


def _epoch_line(row: dict, epochs: int) -> str:
    line = (f"epoch {row['epoch']:>3}/{epochs}  loss {row['train_loss']:.3f}  "
            f"train acc {row['train_accuracy']:.3f}")
    if "test_accuracy" in row:
        line += f"  test loss {row['test_loss']:.3f}  test acc {row['test_accuracy']:.3f}"
    return line + f"  {row['seconds']:.1f} s  {row['images_per_second']:.0f} img/s"


def gradient_norms(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    """The L2 norm of the loss gradient of every convolution's weight, in the order of the layers.

    One forward and backward pass on the given batch, in training mode (batch statistics), with no
    update; the model's gradients are cleared afterwards.
    """
    was_training = model.training
    model.train()
    model.zero_grad(set_to_none=True)
    F.cross_entropy(model(images), labels).backward()
    norms = {name: float(m.weight.grad.norm()) for name, m in model.named_modules()
             if isinstance(m, nn.Conv2d) and m.weight.grad is not None}
    model.zero_grad(set_to_none=True)
    model.train(was_training)
    return norms


@torch.no_grad()
def predict(model: nn.Module, loader: Batches, *, device: torch.device | str | None = None,
            amp: bool | None = None, channels_last: bool | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits (float32, on the CPU) and labels of every batch of ``loader``."""
    from .profiles import device as best_device

    device = torch.device(device) if device is not None else best_device()
    amp_dtype = autocast_dtype(device) if amp in (None, True) else None
    memory_format = memory_format_for(device, channels_last)
    was_training = model.training
    model.eval()
    logits, labels = [], []
    for x, y in loader:
        x = x.to(device, non_blocking=True, memory_format=memory_format)
        with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
            logits.append(model(x).float().cpu())
        labels.append(y.cpu())
    model.train(was_training)
    return torch.cat(logits), torch.cat(labels)


def classification_metrics(logits: torch.Tensor, labels: torch.Tensor) -> dict:
    """Accuracy, top-5 accuracy, macro-F1, cross-entropy loss and the confusion matrix.

    ``confusion[i][j]`` counts images of true class ``i`` predicted as class ``j``.
    """
    num_classes = logits.shape[1]
    pred = logits.argmax(1)
    confusion = torch.bincount(labels * num_classes + pred, minlength=num_classes ** 2)
    confusion = confusion.view(num_classes, num_classes)
    tp = confusion.diag().double()
    precision_den = confusion.sum(0).double()  # predicted as the class
    recall_den = confusion.sum(1).double()     # truly of the class
    f1 = torch.where(precision_den + recall_den > 0, 2 * tp / (precision_den + recall_den), torch.zeros_like(tp))
    k = min(5, num_classes)
    top5 = (logits.topk(k, dim=1).indices == labels[:, None]).any(1).double().mean()
    return dict(
        accuracy=float((pred == labels).double().mean()),
        top5=float(top5),
        macro_f1=float(f1[recall_den > 0].mean()),
        loss=float(F.cross_entropy(logits, labels)),
        confusion=confusion.tolist(),
        images=len(labels),
    )


def evaluate(model: nn.Module, loader: Batches, **kwargs) -> dict:
    """Accuracy, top-5, macro-F1, loss and confusion matrix of ``model`` on ``loader``."""
    logits, labels = predict(model, loader, **kwargs)
    return classification_metrics(logits, labels)



def lr_find(model: nn.Module, loader: Batches, *, start_lr: float = 1e-6, end_lr: float = 10.0, steps: int = 100,
            optimizer: str = "sgd", weight_decay: float = 5e-4, smoothing: float = 0.1, diverge: float = 4.0,
            device: torch.device | str | None = None) -> dict:
    """The learning-rate range test (Smith 2017): train for up to ``steps`` batches while the learning
    rate grows geometrically from ``start_lr`` to ``end_lr``, recording the loss at each.

    Stops early once the smoothed loss exceeds ``diverge`` times its minimum. Suggests the rate at
    which the smoothed loss falls fastest (the steepest negative slope against log lr). The model's
    weights are restored afterwards. Returns ``lrs``, ``losses``, ``smoothed`` and ``suggestion``.
    """
    import copy
    import math

    from .profiles import device as best_device

    device = torch.device(device) if device is not None else best_device()
    memory_format = memory_format_for(device)
    saved = copy.deepcopy(model.state_dict())
    model.to(device, memory_format=memory_format).train()
    opt = make_optimizer(model, optimizer, start_lr, weight_decay)
    factor = (end_lr / start_lr) ** (1 / max(1, steps - 1))
    lrs, losses, smoothed, average = [], [], [], 0.0
    batches = itertools.cycle(loader) if len(loader) < steps else iter(loader)  # type: ignore[arg-type]
    for step in range(steps):
        lr = start_lr * factor ** step
        for group in opt.param_groups:
            group["lr"] = lr
        x, y = next(batches)
        x, y = x.to(device, memory_format=memory_format), y.to(device)
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        value = float(loss.detach())
        if not math.isfinite(value):
            break
        average = smoothing * value + (1 - smoothing) * average
        lrs.append(lr)
        losses.append(value)
        smoothed.append(average / (1 - (1 - smoothing) ** (step + 1)))  # bias-corrected running mean
        if smoothed[-1] > diverge * min(smoothed):
            break
    model.load_state_dict(saved)
    if len(smoothed) < 3:
        raise RuntimeError(f"the loss diverged after {len(smoothed)} steps: lower start_lr (now {start_lr:g})")
    logs = [math.log10(lr) for lr in lrs]
    slopes = [(smoothed[i + 1] - smoothed[i - 1]) / (logs[i + 1] - logs[i - 1]) for i in range(1, len(lrs) - 1)]
    best = min(range(len(slopes)), key=slopes.__getitem__) + 1
    return dict(lrs=lrs, losses=losses, smoothed=smoothed, suggestion=lrs[best])


def measure_training_step(model: nn.Module, batch_size: int, image_size: int, *, amp: bool, steps: int = 20,
                          warmup: int = 5, num_classes: int = 1000, device: torch.device | str | None = None) -> dict:
    """Peak memory and throughput of full training steps (forward, backward, AdamW update) on random
    data of the given shape: what a precision or a memory-saving option costs, without a data set.

    On CUDA the peak is the memory CUDA allocated during the steps; elsewhere the process's peak.
    """
    from .profiles import device as best_device

    device = torch.device(device) if device is not None else best_device()
    dtype = autocast_dtype(device) if amp else None
    model.to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    scaler = torch.amp.GradScaler("cuda", enabled=dtype == torch.float16)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(batch_size, 3, image_size, image_size, generator=g).to(device)
    y = torch.randint(0, num_classes, (batch_size,), generator=g).to(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    for step in range(warmup + steps):
        if step == warmup:
            _sync(device)
            tick = time.perf_counter()
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
    _sync(device)
    seconds = time.perf_counter() - tick
    peak_mb, kind = peak_memory(device)
    return dict(images_per_second=steps * batch_size / seconds, peak_memory_mb=peak_mb, peak_memory_kind=kind,
                precision=str(dtype).replace("torch.", "") if dtype else "float32")
