"""Training and evaluation: one loop for every method, in plain functions a lecturer can read aloud.

``fit(model, loader, optimizer, scheduler, loss_fn, state)`` trains as torchvision's reference scripts
do: the caller builds the optimiser (its parameter groups: a lower rate for a pretrained body) and the
per-step schedule, the loss maps the model's output and the targets to a number (cross-entropy on hard
or soft labels, L1 for regression, a detector's sum of losses), and metrics are functions passed in.
``train_one_epoch`` is one pass over the data (forward, loss, backward, step). The run's context (its
checkpoint, identity, time limit, and how it reports) comes in as a :class:`coursekit.runs.RunState`;
``fit`` saves the whole training state after every epoch and on Ctrl-C, and resumes from it, to the
same weights as a run never interrupted. :class:`coursekit.runtime.Runtime` says where and in what
precision. ``evaluate`` returns accuracy, top-5, macro-F1, loss and the confusion matrix. Diagnostics
(the learning-rate range test, gradient norms, the cost of a step) are in :mod:`coursekit.diagnostics`.
"""
from __future__ import annotations

import itertools
import math
import random
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

import torch
import torch.nn.functional as F
from torch import nn

from . import files
from .metrics import classification_metrics
from .runs import _FIX, RunState
from .runtime import Runtime, peak_memory

Batches = Iterable[tuple[torch.Tensor, torch.Tensor]]


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global generators, so that CPU runs repeat exactly."""
    import numpy as np

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _multiplied_groups(model: nn.Module, lr: float, weight_decay: float, multipliers: dict[str, float]) -> list[dict]:
    """Parameter groups by (rate factor, decayed or not): norm and bias parameters get no weight decay."""
    groups: dict[tuple[float, bool], list] = {}
    for pname, p in model.named_parameters():
        if not p.requires_grad:
            continue
        factor = next((f for prefix, f in multipliers.items() if pname.startswith(prefix)), 1.0)
        groups.setdefault((factor, p.ndim > 1), []).append(p)
    return [dict(params=params, lr=lr * factor, weight_decay=weight_decay if decay else 0.0)
            for (factor, decay), params in groups.items()]


def make_optimizer(model: nn.Module, name: str, lr: float, weight_decay: float,
                   momentum: float = 0.9, lr_multipliers: dict[str, float] | None = None,
                   layer_decay: float | None = None) -> torch.optim.Optimizer:
    """SGD with Nesterov momentum, or AdamW. Norm and bias parameters get no weight decay.

    ``lr_multipliers`` maps a parameter-name prefix to a factor on ``lr`` (discriminative learning
    rates: ``{"fc": 10}`` trains a new head ten times faster than the pretrained body). ``layer_decay``
    (a timm network's, e.g. 0.75) gives each layer the rate of the one above it times ``layer_decay``,
    from the full rate at the head down to the patch embedding (timm's ``param_groups_layer_decay``):
    a ViT's usual fine-tuning recipe. The two cannot be combined.
    """
    if layer_decay is not None:
        if lr_multipliers:
            raise ValueError("give lr_multipliers or layer_decay, not both: layer decay sets every layer's rate")
        from timm.optim import param_groups_layer_decay

        skip = model.no_weight_decay() if hasattr(model, "no_weight_decay") else ()
        param_groups = param_groups_layer_decay(model, weight_decay, no_weight_decay_list=skip, layer_decay=layer_decay)
        for group in param_groups:
            group["lr"] = lr * group.pop("lr_scale")
    else:
        param_groups = _multiplied_groups(model, lr, weight_decay, lr_multipliers or {})
    if name == "sgd":
        return torch.optim.SGD(param_groups, lr=lr, momentum=momentum, nesterov=momentum > 0)
    if name == "adamw":
        return torch.optim.AdamW(param_groups, lr=lr)
    raise ValueError(f"unknown optimizer {name!r}; use 'sgd' or 'adamw'")


WARMUP = 0.2  # the share of the steps over which the one-cycle schedule warms the rate up


def make_schedule(optimizer: torch.optim.Optimizer, name: str, total_steps: int,
                  warmup: float = WARMUP) -> torch.optim.lr_scheduler.LRScheduler:
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


# --- what a step computes: losses and training metrics --------------------------------------------

def forward(model: nn.Module, x, y, runtime: Runtime):
    """The model's output on a batch: ``model(x)``, with images in the runtime's memory format."""
    return model(runtime.images(x))


@dataclass(frozen=True)
class CrossEntropy:
    """Cross-entropy on class indices, or on soft labels (one row of shares per image: mixup, CutMix),
    with ``label_smoothing``. ``reduction="sum"`` is for recipes tuned on the summed loss (airbench)."""

    label_smoothing: float = 0.0
    reduction: str = "mean"

    def __call__(self, output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.reduction == "sum":
            return F.cross_entropy(output, y, reduction="none", label_smoothing=self.label_smoothing).sum()
        return F.cross_entropy(output, y, label_smoothing=self.label_smoothing)


# --- the training state on disk --------------------------------------------------------------------

@dataclass
class Checkpoint:
    """The whole training state, kept at ``state.checkpoint`` (none: nothing is saved): weights, optimizer
    (with whatever it wraps: lookahead's average), schedule, gradient scaler, random generators, the
    loader's own state where it has one (a generator it draws from), the epoch and batch reached, the
    partial tallies of an interrupted epoch, the history so far, and whose run it is (another run's is
    refused). One format for every training; written atomically (:func:`coursekit.files.torch_save`)."""

    state: RunState
    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    scaler: torch.amp.GradScaler
    loader: Batches

    def save(self, result: FitResult, epoch: int, step: int, partial: dict | None) -> None:
        if self.state.checkpoint is None:
            return
        cuda_rng = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None
        loader = self.loader.state_dict() if hasattr(self.loader, "state_dict") else None
        files.torch_save(dict(model=self.model.state_dict(), optimizer=self.optimizer.state_dict(),
                              scheduler=self.scheduler.state_dict(), scaler=self.scaler.state_dict(),
                              rng=torch.get_rng_state(), cuda_rng=cuda_rng, loader=loader, epoch=epoch, step=step,
                              partial=partial, history=result.history, train_seconds=result.train_seconds,
                              images_seen=result.images_seen, identity=self.state.identity), self.state.checkpoint)

    def load(self, result: FitResult, device: torch.device) -> tuple[int, int, dict | None]:
        """Restore the state into the objects and ``result``; return (epoch, batch, partial tallies)."""
        path = self.state.checkpoint
        if path is None or not path.exists():
            return 0, 0, None
        try:
            saved = torch.load(path, map_location=device, weights_only=False)
        except Exception as error:  # empty, cut short, or not a checkpoint at all
            raise self.state.unreadable(path, error) from error
        self.state.check_identity(saved.get("identity"), path)
        try:
            self.model.load_state_dict(saved["model"])
            self.optimizer.load_state_dict(saved["optimizer"])
        except (RuntimeError, ValueError, KeyError) as error:  # another network's, or another configuration's
            first = str(error).strip().splitlines()[0]
            raise RuntimeError(f"the checkpoint {path} holds the state of another network or configuration "
                               f"({first}); {_FIX}") from error
        self.scheduler.load_state_dict(saved["scheduler"])
        self.scaler.load_state_dict(saved["scaler"])
        if saved.get("loader") is not None:
            self.loader.load_state_dict(saved["loader"])
        torch.set_rng_state(saved["rng"].cpu())
        if saved.get("cuda_rng") is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all([s.cpu() for s in saved["cuda_rng"]])
        result.history, result.train_seconds, result.images_seen = (
            saved["history"], saved["train_seconds"], saved["images_seen"])
        return saved["epoch"], saved["step"], saved["partial"]


# --- the loop -------------------------------------------------------------------------------------

def train_one_epoch(model: nn.Module, loader: Batches, optimizer: torch.optim.Optimizer,
                    scheduler: torch.optim.lr_scheduler.LRScheduler, loss_fn: Callable, runtime: Runtime,
                    tally: dict, *, metrics: dict[str, Callable] | None = None, scaler: torch.amp.GradScaler,
                    forward: Callable = forward, bar=None) -> dict:
    """One pass over ``loader`` from batch ``tally["step"]``: forward, loss, backward, update, schedule.

    Adds to ``tally`` as it goes the summed loss, each of ``metrics`` (a function of the output and
    the targets that gives the batch's sum: correct answers, absolute errors), the images seen and
    the seconds (device clock, training steps and data only), so that whoever catches a Ctrl-C
    knows the batch reached (``tally["step"]``) and what was measured up to it.
    """
    metrics = metrics or {}
    summed = getattr(loss_fn, "reduction", "mean") == "sum"
    model.train()
    runtime.sync()
    tick = time.perf_counter()
    try:
        for x, y in itertools.islice(loader, tally["step"], None):
            y = y.to(runtime.device, non_blocking=True) if torch.is_tensor(y) else y
            with runtime.autocast():
                output = forward(model, x, y, runtime)
                loss = loss_fn(output, y)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            n = len(y)  # images in the batch: labels, or a detector's targets
            tally["step"] += 1
            tally["loss"] += loss.detach() if summed else loss.detach() * n
            for name, metric in metrics.items():
                tally[name] = tally.get(name, 0.0) + metric(output, y)
            tally["seen"] += n
            if bar is not None:
                bar.update(1)
    finally:
        runtime.sync()
        tally["seconds"] += time.perf_counter() - tick
    return tally


def fit(model: nn.Module, loader: Batches, optimizer: torch.optim.Optimizer,
        scheduler: torch.optim.lr_scheduler.LRScheduler, loss_fn: Callable, state: RunState, *, epochs: int,
        evaluate: Callable[[nn.Module], dict] | None = None, metrics: dict[str, Callable] | None = None,
        runtime: Runtime | None = None, forward: Callable = forward,
        on_epoch: Callable[[int], None] | None = None, evaluate_every: int = 1) -> FitResult:
    """Train ``model`` for ``epochs`` on ``loader``, as torchvision's reference scripts do: the caller
    builds the optimiser (with its parameter groups) and the per-step schedule; ``loss_fn(output, y)``
    gives the loss to minimise; ``metrics`` are per-batch sums kept per epoch (``{"train_accuracy":
    correct}``); ``evaluate(model)`` is called after every ``evaluate_every``-th epoch and after the
    last, and its numbers join that epoch's row of the history.

    ``forward(model, x, y, runtime)`` computes the output (a detector takes the targets too);
    ``on_epoch(epoch)`` runs before each epoch's batches (a recipe that freezes a layer after some
    epochs). ``runtime`` (default :meth:`Runtime.resolve`) says where and in what precision.

    ``state`` (:class:`coursekit.runs.RunState`) says where the training state is kept: it is saved
    after every epoch and when Ctrl-C interrupts, and a later call with the same state resumes where it
    stopped (at the same batch of the same epoch), giving the same weights as a run never interrupted.
    Under a deadline the run stops after an epoch when the rest would overrun (its state saved).
    On CUDA, ``fit`` sets ``torch.backends.cudnn.benchmark = True`` (cuDNN times its kernels for the
    fixed input sizes and keeps the fastest) and resets CUDA's peak-memory counter. Seeding is the
    caller's: :func:`seed_everything` before building the model and its data.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    if evaluate_every < 1:
        raise ValueError(f"evaluate_every must be at least 1 (evaluate after every epoch), got {evaluate_every}")
    rt = runtime or Runtime.resolve()
    if state.progress:  # notebook widgets where they exist, text bars elsewhere
        from tqdm.auto import tqdm
    else:  # tqdm.auto would warn about missing widgets even for a bar it never draws
        from tqdm import tqdm

    if rt.device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.cuda.reset_peak_memory_stats(rt.device)  # the peak of this run, not of the process
    model.to(rt.device, memory_format=rt.memory_format)
    scaler = rt.grad_scaler()
    result = FitResult(precision=rt.precision)
    saved = Checkpoint(state, model, optimizer, scheduler, scaler, loader)
    start_epoch, start_step, partial = saved.load(result, rt.device)
    if state.verbose and start_epoch < epochs and state.checkpoint and state.checkpoint.exists():
        print(f"resuming from {state.checkpoint}: epoch {start_epoch + 1}, batch {start_step}")

    for epoch in range(start_epoch, epochs):
        if hasattr(loader, "set_epoch"):
            loader.set_epoch(epoch)
        if on_epoch is not None:
            on_epoch(epoch)
        tally = partial or dict(loss=0.0, seen=0, seconds=0.0, **dict.fromkeys(metrics or {}, 0))
        tally["step"] = start_step if epoch == start_epoch else 0
        with tqdm(total=len(loader), initial=tally["step"], desc=f"epoch {epoch + 1}/{epochs}",  # type: ignore[arg-type]
                  disable=not state.progress, leave=False) as bar:
            try:
                train_one_epoch(model, loader, optimizer, scheduler, loss_fn, rt, tally, metrics=metrics,
                                scaler=scaler, forward=forward, bar=bar)
            except KeyboardInterrupt:
                partial = {k: float(v) if torch.is_tensor(v) else v for k, v in tally.items()}
                saved.save(result, epoch, tally["step"], partial)
                if state.checkpoint:
                    print(f"\ninterrupted: state saved to {state.checkpoint}; call fit again with it to resume")
                raise
        row = _history_row(epoch, optimizer, tally, metrics or {})
        result.train_seconds += tally["seconds"]
        result.images_seen += tally["seen"]
        if evaluate is not None and ((epoch + 1) % evaluate_every == 0 or epoch + 1 == epochs):
            tick = time.perf_counter()
            row.update(evaluate(model))
            row["eval_seconds"] = time.perf_counter() - tick
        result.history.append(row)
        partial = None
        saved.save(result, epoch + 1, 0, None)
        if state.verbose:  # one line per epoch stays; the bar of the epoch is gone
            print(_epoch_line(row, epochs), flush=True)
        spent = [r["seconds"] + r.get("eval_seconds", 0.0) for r in result.history[start_epoch:]]
        state.check_time(sum(spent) / len(spent), epochs - epoch - 1)  # stop if the rest would overrun
    result.peak_memory_mb, result.peak_memory_kind = peak_memory(rt.device)
    return result


def _history_row(epoch: int, optimizer: torch.optim.Optimizer, tally: dict, metrics: dict) -> dict:
    seen, seconds = tally["seen"], tally["seconds"]
    row = dict(epoch=epoch + 1, lr=optimizer.param_groups[0]["lr"], train_loss=float(tally["loss"]) / max(1, seen))
    row.update({name: float(tally[name]) / max(1, seen) for name in metrics})
    return dict(row, seconds=seconds, images_per_second=seen / max(seconds, 1e-9))


def evaluator(loader: Batches, runtime: Runtime, prefix: str = "test") -> Callable[[nn.Module], dict]:
    """What ``fit`` records after each epoch for a classifier: loss and accuracy on ``loader``."""
    def evaluate_on(model: nn.Module) -> dict:
        m = evaluate(model, loader, runtime=runtime)
        return {f"{prefix}_loss": m["loss"], f"{prefix}_accuracy": m["accuracy"]}
    return evaluate_on


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
    """One line per epoch: every loss and metric of ``row``, then the time and the speed."""
    numbers = "  ".join(f"{k.replace('_', ' ')} {v:.3f}" for k, v in row.items()
                        if isinstance(v, float) and k not in ("lr", "seconds", "images_per_second", "eval_seconds"))
    return f"epoch {row['epoch']:>3}/{epochs}  {numbers}  {row['seconds']:.1f} s  {row['images_per_second']:.0f} img/s"


@torch.no_grad()
def predict(model: nn.Module, loader: Batches, *, runtime: Runtime | None = None, device: torch.device | str | None = None,
            amp: bool | None = None, channels_last: bool | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits (float32, on the CPU) and labels of every batch of ``loader``, computed as ``runtime``
    says (default: :meth:`Runtime.resolve` of ``device``, ``amp`` and ``channels_last``)."""
    rt = runtime or Runtime.resolve(device, amp, channels_last)
    was_training = model.training
    model.eval()
    logits, labels = [], []
    for x, y in loader:
        with rt.autocast():
            logits.append(model(rt.images(x)).float().cpu())
        labels.append(y.cpu())
    model.train(was_training)
    return torch.cat(logits), torch.cat(labels)


def evaluate(model: nn.Module, loader: Batches, **kwargs) -> dict:
    """Accuracy, top-5, macro-F1, loss and confusion matrix of ``model`` on ``loader``."""
    logits, labels = predict(model, loader, **kwargs)
    return classification_metrics(logits, labels)


def gradual_unfreezing(model: nn.Module, head: str, epochs: int) -> Callable[[int], None]:
    """What ``fit`` calls before each epoch to unfreeze ``model`` gradually (Howard and Ruder 2018): in the
    first epoch only the new head (the parameters under ``head``) trains; in each later one, more of the
    body's stages join it from the top down, evenly, so that the last epoch trains every layer. The stages
    are timm's parameter groups where the network has them (``model.group_matcher``: the stem, each stage
    of blocks, the last convolution), else its top-level modules; frozen parameters get no gradient, so
    the optimiser leaves them as they are."""
    if hasattr(model, "group_matcher"):
        from timm.models import group_parameters

        groups = list(group_parameters(model, model.group_matcher(coarse=True)).values())
    else:
        groups = [[f"{name}.{p}" for p, _ in child.named_parameters()] for name, child in model.named_children()]
    groups = [names for names in groups if names and not any(n == head or n.startswith(head + ".") for n in names)]
    params = dict(model.named_parameters())

    def thaw(epoch: int) -> None:
        stages = len(groups) if epochs == 1 else math.ceil(len(groups) * epoch / (epochs - 1))
        for rank, names in enumerate(reversed(groups)):  # from the top
            for name in names:
                params[name].requires_grad_(rank < stages)
    return thaw
