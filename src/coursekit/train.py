"""Training and evaluation: plain functions a lecturer can read aloud.

``train_one_epoch`` is one pass over the data (forward, loss, backward, step); ``fit`` runs the
epochs, keeps a per-epoch history, saves a checkpoint after every epoch and on Ctrl-C, and resumes
from it. :class:`Runtime` says once where and in what precision the tensors are computed: on CUDA
with automatic mixed precision (bf16 where the GPU has it, else fp16 with a gradient scaler), on
the CPU in float32, with convolutions on channels_last tensors on both. ``evaluate`` returns
accuracy, top-5, macro-F1, loss and the confusion matrix. Diagnostics (the learning-rate range
test, gradient norms, the cost of a step) are in :mod:`coursekit.diagnostics`.
"""
from __future__ import annotations

import contextvars
import itertools
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import torch
import torch.nn.functional as F
from torch import nn

from . import deadline, files, profiles

Batches = Iterable[tuple[torch.Tensor, torch.Tensor]]


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global generators, so that CPU runs repeat exactly."""
    import numpy as np

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def autocast_dtype(device: torch.device, cpu: bool = False) -> torch.dtype | None:
    """The mixed-precision dtype for ``device``: bf16 or fp16 on CUDA; with ``cpu``, bf16 on a CPU
    that has it natively (:func:`coursekit.profiles.cpu_has_bf16`); none elsewhere."""
    if device.type == "cpu" and cpu:
        return torch.bfloat16 if profiles.cpu_has_bf16() else None
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


@dataclass(frozen=True)
class Runtime:
    """Where and how a network computes: the device, the autocast dtype (``None``: float32) and the
    memory format of images. Resolved once by :meth:`resolve`, then used by every step."""

    device: torch.device
    amp_dtype: torch.dtype | None
    memory_format: torch.memory_format

    @classmethod
    def resolve(cls, device: torch.device | str | None = None, amp: bool | None = None,
                channels_last: bool | None = None) -> Runtime:
        """``device`` defaults to the best available; ``amp`` to on for CUDA and off elsewhere
        (``amp=True`` on a CPU uses bf16 where the CPU has it); ``channels_last`` to :func:`memory_format_for`."""
        device = torch.device(device) if device is not None else profiles.device()
        amp_dtype = autocast_dtype(device, cpu=amp is True) if amp in (None, True) else None
        return cls(device, amp_dtype, memory_format_for(device, channels_last))

    @property
    def precision(self) -> str:
        return str(self.amp_dtype).replace("torch.", "") + " autocast" if self.amp_dtype else "float32"

    def autocast(self) -> torch.autocast:
        return torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.amp_dtype is not None)

    def grad_scaler(self) -> torch.amp.GradScaler:
        """Loss scaling, needed by fp16 only (bf16 has float32's range)."""
        return torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)

    def images(self, x: torch.Tensor) -> torch.Tensor:
        return x.to(self.device, non_blocking=True, memory_format=self.memory_format)

    def sync(self) -> None:
        """Wait for the GPU, so that a clock read afterwards includes its work."""
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)


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
    set on the CPU (since the process started: it includes the data set held in memory; 0 where the
    system does not report it)."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20, "CUDA allocated (peak)"
    try:
        import resource  # POSIX only
    except ImportError:  # Windows
        return 0.0, "not measured (no resource module)"
    scale = 2**20 if sys.platform == "darwin" else 1024  # macOS reports bytes, Linux kilobytes
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale, "process resident set (peak)"


def train_one_epoch(model: nn.Module, loader: Batches, optimizer: torch.optim.Optimizer,
                    scheduler: torch.optim.lr_scheduler.LRScheduler, scaler: torch.amp.GradScaler,
                    runtime: Runtime, tally: dict, *, label_smoothing: float = 0.0, bar=None) -> dict:
    """One pass over ``loader`` from batch ``tally["step"]``: forward, loss, backward, update, schedule.

    Adds the summed loss, the correct predictions, the images seen and the seconds (device clock,
    training steps and data only) to ``tally`` as it goes, so that whoever catches a Ctrl-C knows
    the batch reached (``tally["step"]``) and what was measured up to it.
    """
    model.train()
    runtime.sync()
    tick = time.perf_counter()
    try:
        for x, y in itertools.islice(loader, tally["step"], None):
            x, y = runtime.images(x), y.to(runtime.device, non_blocking=True)
            with runtime.autocast():
                logits = model(x)
                loss = F.cross_entropy(logits, y, label_smoothing=label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            hard = y.argmax(1) if y.ndim == 2 else y  # soft labels (mixup, CutMix): their largest share
            tally["step"] += 1
            tally["loss"] += loss.detach() * len(y)
            tally["correct"] += (logits.argmax(1) == hard).sum()
            tally["seen"] += len(y)
            if bar is not None:
                bar.update(1)
    finally:
        runtime.sync()
        tally["seconds"] += time.perf_counter() - tick
    return tally


# Whose run is training now, for checkpoints whose caller names none (``coursekit.experiments.core.run`` sets it).
run_identity: contextvars.ContextVar[str | None] = contextvars.ContextVar("run_identity", default=None)


@dataclass
class Checkpoint:
    """The whole training state at ``path`` (none: nothing is saved): weights, optimizer, schedule,
    gradient scaler, random generators, the epoch and batch reached, the partial tallies of an
    interrupted epoch, the history so far, and ``identity``: whose run it is (another run's is refused).
    Written atomically (:func:`coursekit.files.torch_save`)."""

    path: Path | None
    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    scaler: torch.amp.GradScaler
    identity: str | None = None

    def save(self, result: FitResult, epoch: int, step: int, partial: dict | None) -> None:
        if self.path is None:
            return
        cuda_rng = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None
        files.torch_save(dict(model=self.model.state_dict(), optimizer=self.optimizer.state_dict(),
                              scheduler=self.scheduler.state_dict(), scaler=self.scaler.state_dict(),
                              rng=torch.get_rng_state(), cuda_rng=cuda_rng, epoch=epoch, step=step,
                              partial=partial, history=result.history, train_seconds=result.train_seconds,
                              images_seen=result.images_seen, identity=self.identity), self.path)

    def load(self, result: FitResult, device: torch.device) -> tuple[int, int, dict | None]:
        """Restore the state into the objects and ``result``; return (epoch, batch, partial tallies)."""
        if self.path is None or not self.path.exists():
            return 0, 0, None
        fix = "delete it to start afresh (`coursekit regenerate ... --force` does)"
        try:
            state = torch.load(self.path, map_location=device, weights_only=False)
        except Exception as error:  # empty, cut short, or not a checkpoint at all
            raise RuntimeError(f"cannot read the checkpoint {self.path} ({error}); {fix}") from error
        if self.identity and state.get("identity") not in (None, self.identity):
            raise RuntimeError(f"the checkpoint {self.path} belongs to {state['identity']}, not to {self.identity}; {fix}")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        torch.set_rng_state(state["rng"].cpu())
        if state.get("cuda_rng") is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda_rng"]])
        result.history, result.train_seconds, result.images_seen = (
            state["history"], state["train_seconds"], state["images_seen"])
        return state["epoch"], state["step"], state["partial"]


def fit(model: nn.Module, train_loader: Batches, *, epochs: int, test_loader: Batches | None = None,
        optimizer: str = "sgd", lr: float = 0.05, weight_decay: float = 5e-4, momentum: float = 0.9,
        schedule: str = "onecycle", warmup: float = 0.2, label_smoothing: float = 0.0,
        lr_multipliers: dict[str, float] | None = None, device: torch.device | str | None = None, amp: bool | None = None,
        channels_last: bool | None = None, checkpoint: str | Path | None = None, identity: str | None = None,
        seed: int = 0, progress: bool | None = None, verbose: bool = True) -> FitResult:
    """Train ``model`` for ``epochs`` on ``train_loader``; evaluate on ``test_loader`` each epoch.

    ``device``, ``amp`` and ``channels_last`` are resolved by :meth:`Runtime.resolve`;
    ``lr_multipliers`` gives parts of the model their own learning rate (:func:`make_optimizer`).
    With ``checkpoint``, the full training state is saved there after every epoch and when Ctrl-C
    interrupts, and a later call with the same path resumes where it stopped (at the same batch of
    the same epoch), giving the same weights as a run that was never interrupted. ``identity`` (default:
    :data:`run_identity`) is saved with it; a checkpoint saved under another identity is refused.

    Settings of the whole process that ``fit`` changes, and leaves changed: it calls
    :func:`seed_everything` with ``seed`` (Python's, NumPy's and torch's global generators) before it
    builds the optimizer, so dropout and anything drawn after ``fit`` depend on ``seed``; on CUDA it
    sets ``torch.backends.cudnn.benchmark = True`` (cuDNN times its kernels for the fixed input
    sizes and keeps the fastest) and resets CUDA's peak-memory counter.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    rt = Runtime.resolve(device, amp, channels_last)
    progress = profiles.show_progress() if progress is None else progress
    if progress:  # notebook widgets where they exist, text bars elsewhere
        from tqdm.auto import tqdm
    else:  # tqdm.auto would warn about missing widgets even for a bar it never draws
        from tqdm import tqdm

    seed_everything(seed)
    if rt.device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.cuda.reset_peak_memory_stats(rt.device)  # the peak of this run, not of the process
    model.to(rt.device, memory_format=rt.memory_format)
    opt = make_optimizer(model, optimizer, lr, weight_decay, momentum, lr_multipliers)
    sched = make_schedule(opt, schedule, epochs * len(train_loader), warmup)  # type: ignore[arg-type]
    scaler = rt.grad_scaler()
    result = FitResult(precision=rt.precision)
    state = Checkpoint(Path(checkpoint) if checkpoint else None, model, opt, sched, scaler, identity or run_identity.get())
    start_epoch, start_step, partial = state.load(result, rt.device)
    if verbose and start_epoch < epochs and state.path and state.path.exists():
        print(f"resuming from {state.path}: epoch {start_epoch + 1}, batch {start_step}")

    for epoch in range(start_epoch, epochs):
        if hasattr(train_loader, "set_epoch"):
            train_loader.set_epoch(epoch)
        tally = partial or dict(loss=0.0, correct=0, seen=0, seconds=0.0)
        tally["step"] = start_step if epoch == start_epoch else 0
        with tqdm(total=len(train_loader), initial=tally["step"], desc=f"epoch {epoch + 1}/{epochs}",  # type: ignore[arg-type]
                  disable=not progress, leave=False) as bar:
            try:
                train_one_epoch(model, train_loader, opt, sched, scaler, rt, tally,
                                label_smoothing=label_smoothing, bar=bar)
            except KeyboardInterrupt:
                partial = {k: float(v) if torch.is_tensor(v) else v for k, v in tally.items()}
                state.save(result, epoch, tally["step"], partial)
                if state.path:
                    print(f"\ninterrupted: state saved to {state.path}; call fit again with it to resume")
                raise
        row = _history_row(epoch, opt, tally)
        result.train_seconds += tally["seconds"]
        result.images_seen += tally["seen"]
        if test_loader is not None:
            tick = time.perf_counter()
            metrics = evaluate(model, test_loader, device=rt.device, amp=rt.amp_dtype is not None,
                               channels_last=rt.memory_format == torch.channels_last)
            row.update(test_loss=metrics["loss"], test_accuracy=metrics["accuracy"],
                       eval_seconds=time.perf_counter() - tick)
        result.history.append(row)
        partial = None
        state.save(result, epoch + 1, 0, None)
        if verbose:  # one line per epoch stays; the bar of the epoch is gone
            print(_epoch_line(row, epochs))
        spent = [r["seconds"] + r.get("eval_seconds", 0.0) for r in result.history[start_epoch:]]
        deadline.check(sum(spent) / len(spent), epochs - epoch - 1)  # under a time limit: stop if the rest overruns
    result.peak_memory_mb, result.peak_memory_kind = peak_memory(rt.device)
    return result


def _history_row(epoch: int, optimizer: torch.optim.Optimizer, tally: dict) -> dict:
    seen, seconds = tally["seen"], tally["seconds"]
    return dict(epoch=epoch + 1, lr=optimizer.param_groups[0]["lr"],
                train_loss=float(tally["loss"]) / max(1, seen), train_accuracy=float(tally["correct"]) / max(1, seen),
                seconds=seconds, images_per_second=seen / max(seconds, 1e-9))


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


@torch.no_grad()
def predict(model: nn.Module, loader: Batches, *, device: torch.device | str | None = None,
            amp: bool | None = None, channels_last: bool | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits (float32, on the CPU) and labels of every batch of ``loader``."""
    rt = Runtime.resolve(device, amp, channels_last)
    was_training = model.training
    model.eval()
    logits, labels = [], []
    for x, y in loader:
        with rt.autocast():
            logits.append(model(rt.images(x)).float().cpu())
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
