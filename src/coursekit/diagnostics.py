"""Looking at training rather than doing it: the learning-rate range test, the gradient norm of every
layer, and the memory and speed of a training step.

Each function takes a network and a little data, measures, and leaves the network as it found it
(:func:`lr_find` restores the weights; :func:`gradient_norms` clears the gradients), except
:func:`measure_training_step`, whose steps do update the weights.
"""
from __future__ import annotations

import copy
import itertools
import math
import time

import torch
import torch.nn.functional as F
from torch import nn

from .data import DeviceLoader, ImageTensors
from .i18n import say
from .runtime import Runtime, peak_memory
from .train import Batches, make_optimizer, predict


def lr_find(model: nn.Module, loader: Batches, *, start_lr: float = 1e-6, end_lr: float = 10.0, steps: int = 100,
            optimizer: str = "sgd", weight_decay: float = 5e-4, smoothing: float = 0.1, diverge: float = 4.0,
            device: torch.device | str | None = None) -> dict:
    """The learning-rate range test (Smith 2017): train for up to ``steps`` batches while the learning
    rate grows geometrically from ``start_lr`` to ``end_lr``, recording the loss at each.

    Stops early once the smoothed loss exceeds ``diverge`` times its minimum. Read by
    :func:`read_range_test`: the rate where the smoothed loss is lowest (``minimum``) and the rate of
    steepest descent below it (``suggestion``). The model's weights are restored afterwards. Returns
    ``lrs``, ``losses``, ``smoothed``, ``minimum`` and ``suggestion``.
    In float32 (no autocast), with the global random generators as they are.
    """
    rt = Runtime.resolve(device, amp=False)
    saved = copy.deepcopy(model.state_dict())
    model.to(rt.device, memory_format=rt.memory_format).train()
    opt = make_optimizer(model, optimizer, start_lr, weight_decay)
    factor = (end_lr / start_lr) ** (1 / max(1, steps - 1))
    lrs, losses, smoothed, average = [], [], [], 0.0
    batches = itertools.cycle(loader) if len(loader) < steps else iter(loader)  # type: ignore[arg-type]
    for step in range(steps):
        lr = start_lr * factor ** step
        for group in opt.param_groups:
            group["lr"] = lr
        x, y = next(batches)
        x, y = x.to(rt.device, memory_format=rt.memory_format), y.to(rt.device)
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
    return dict(lrs=lrs, losses=losses, smoothed=smoothed, **read_range_test(lrs, smoothed))


def read_range_test(lrs: list[float], smoothed: list[float], *, span: float = 0.5,
                    warmup: int = 10) -> dict[str, float]:
    """Where to read a range test: ``minimum``, the rate at which the smoothed loss is lowest, and
    ``suggestion``, the rate at which it falls fastest *below* that minimum. Beyond the minimum the
    loss grows, or recovers from a spike, and a steep slope there says nothing about a good rate.

    The slope is measured over ``span`` decades of learning rate (a central difference), and not in
    the first ``warmup`` steps, where the running mean has seen too few batches: between neighbouring
    points the curve's noise is steeper than its descent. Short curves fall back to neighbours."""
    low = min(range(len(smoothed)), key=smoothed.__getitem__)
    if low < 2:
        raise ValueError(f"the smoothed loss is lowest at step {low}: start the test at a lower rate")
    logs = [math.log10(lr) for lr in lrs]
    half = max(1, round(span / 2 / ((logs[-1] - logs[0]) / (len(logs) - 1))))
    points = range(max(half, warmup), low - half + 1)
    if not points:  # too few points below the minimum for the span: neighbours
        half, points = 1, range(1, low)
    slopes = {i: (smoothed[i + half] - smoothed[i - half]) / (logs[i + half] - logs[i - half]) for i in points}
    return dict(minimum=lrs[low], suggestion=lrs[min(slopes, key=slopes.__getitem__)])


# A training loss has flattened when the last tenth of its epochs brought less than 2.5 % of its fall (a
# quarter of its average pace: a loss falling in a straight line brings 10 %), measured up to the last
# epoch whose learning rate was at least half its peak.
FLAT_SHARE = 0.025
RATE_SHARE = 0.5
def convergence_rule() -> str:
    """The convergence check in words, for a collapsed note beside a verdict (``book.rule_note``)."""
    return say("A training loss has flattened when the last tenth of its epochs brought less than {flat:.1f} % "
               "of its whole fall (a loss falling in a straight line brings 10 %). The epochs are counted up to the "
               "last one whose learning rate was still at least {rate:.0f} % of its peak, because a schedule that "
               "anneals the rate to nearly zero flattens every loss, whatever the network has learnt.",
               flat=100 * FLAT_SHARE, rate=100 * RATE_SHARE)


def flat_rule() -> dict[str, str]:
    """The convergence check's two thresholds in words, for a chapter's text."""
    return dict(flat_limit=say("{share:.1f} %", share=100 * FLAT_SHARE), flat_rate=say("{share:.0f} %", share=100 * RATE_SHARE))


def flat_share(history: list[dict], rate_share: float = RATE_SHARE) -> float:
    """The share of a run's fall in training loss that came in the last tenth of its epochs (at least one)
    *while the learning rate was still at least* ``rate_share`` *of its peak*: near 0 when the loss had
    flattened at a working rate, large while it was still falling (1 when it never fell).

    Under a schedule that anneals the rate to nearly zero (one-cycle, cosine) every loss flattens at the
    end because the steps vanish, whatever the network has learnt; so the check stops where the rate
    falls below ``rate_share`` of its peak (after the peak: not in the warm-up). A run at a constant rate,
    or with no rate recorded, is read to its last epoch."""
    losses = [row["train_loss"] for row in history]
    rates = [row.get("lr") for row in history]
    if None not in rates and losses:
        top = max(range(len(rates)), key=rates.__getitem__)
        end = max(i for i in range(top, len(rates)) if rates[i] >= rate_share * rates[top])
        losses = losses[:end + 1]
    tail = max(1, len(losses) // 10)
    fall = losses[0] - losses[-1]
    return (losses[-1 - tail] - losses[-1]) / fall if fall > 0 and len(losses) > tail else 1.0


FITS = 85.0        # a run has fitted its training images when its final training accuracy is at least 85 %
OVERFIT_GAP = 10.0  # ... and over-fits when that accuracy is more than 10 points above its test accuracy


def fit_rule() -> str:
    """The fit verdict's rule (:func:`fit_verdict`) in words, for a collapsed note beside a verdict."""
    return say("A run fits its training images when its final training accuracy (on the augmented batches it "
               "trained on) is at least {fits:.0f} %; below that it under-fits: it has not yet learnt them, and what "
               "it lacks is training, not regularisation. A run that fits over-fits when its training accuracy is "
               "more than {gap:.0f} points above its test accuracy.", fits=FITS, gap=OVERFIT_GAP)


def fit_verdict(train_accuracy: float, test_accuracy: float) -> str:
    """"under-fits", "over-fits" or "fits" for a run's final training and test accuracies (in %): under
    :data:`FITS` on its own training images it has not learnt them yet, and regularisation cannot be
    what it lacks; above, a gap of more than :data:`OVERFIT_GAP` points to the test images is
    memorisation."""
    if train_accuracy < FITS:
        return "under-fits"
    return "over-fits" if train_accuracy - test_accuracy > OVERFIT_GAP else "fits"


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


def measure_training_step(model: nn.Module, batch_size: int, image_size: int, *, amp: bool, steps: int = 20,
                          warmup: int = 5, num_classes: int = 1000, device: torch.device | str | None = None) -> dict:
    """Peak memory and throughput of full training steps (forward, backward, AdamW update) on random
    data of the given shape: what a precision or a memory-saving option costs, without a data set.

    The clock starts after ``warmup`` steps and reads the device's time (it waits for the GPU). On CUDA
    the peak is the memory CUDA allocated during the steps; elsewhere the process's peak.
    """
    rt = Runtime.resolve(device, amp=amp)
    model.to(rt.device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    scaler = rt.grad_scaler()
    g = torch.Generator().manual_seed(0)
    x = torch.randn(batch_size, 3, image_size, image_size, generator=g).to(rt.device)
    y = torch.randint(0, num_classes, (batch_size,), generator=g).to(rt.device)
    if rt.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(rt.device)
    for step in range(warmup + steps):
        if step == warmup:
            rt.sync()
            tick = time.perf_counter()
        with rt.autocast():
            loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
    rt.sync()
    seconds = time.perf_counter() - tick
    peak_mb, kind = peak_memory(rt.device)
    return dict(images_per_second=steps * batch_size / seconds, peak_memory_mb=peak_mb, peak_memory_kind=kind,
                precision=str(rt.amp_dtype).replace("torch.", "") if rt.amp_dtype else "float32")


def saved_for_backward_mb(model: nn.Module, images: torch.Tensor, amp: bool = False) -> float:
    """The memory (MB) that one training forward pass of ``model`` on ``images`` keeps for the backward
    pass: every tensor autograd saves, each storage counted once. It grows with the batch, halves with
    16-bit activations (``amp``) and shrinks with gradient checkpointing, on any device."""
    rt = Runtime.resolve(images.device, amp=amp)
    seen: dict[tuple, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        seen[(storage.data_ptr(), t.device.type)] = storage.nbytes()
        return t

    model.train()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), rt.autocast():
        model(images)
    return sum(seen.values()) / 2 ** 20


def grad_cam(model: nn.Module, images: torch.Tensor, layer: nn.Module,
             classes: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Grad-CAM (Selvaraju et al. 2017): where in each image the evidence for a class lies, as seen
    by ``layer`` (a convolutional stage). Each channel of the layer's output is weighted by the mean
    gradient of the class score with respect to it; the weighted sum, through a ReLU, is upsampled
    to the image and scaled to [0, 1]. ``classes`` defaults to the predicted ones.
    Returns the maps (N, H, W) and the classes explained; the model's mode and gradients are restored."""
    kept: dict[str, torch.Tensor] = {}
    hook = layer.register_forward_hook(lambda m, args, out: kept.__setitem__("maps", out))
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            logits = model(images)
            classes = logits.argmax(1) if classes is None else classes
            maps = kept["maps"]
            grads, = torch.autograd.grad(logits.gather(1, classes.view(-1, 1)).sum(), maps)
    finally:
        hook.remove()
        model.train(was_training)
    cam = F.relu((grads.mean(dim=(2, 3), keepdim=True) * maps).sum(1, keepdim=True)).detach()
    cam = F.interpolate(cam, size=images.shape[-2:], mode="bilinear", align_corners=False)[:, 0]
    peak = cam.flatten(1).amax(1).clamp_min(1e-12).view(-1, 1, 1)
    return cam / peak, classes


def right_and_wrong(model: nn.Module, test: ImageTensors, mean: tuple[float, ...], std: tuple[float, ...],
                    device: torch.device, layer: str, per_kind: int, grid: int = 16) -> dict:
    """Where ``model`` looks (:func:`coursekit.diagnostics.grad_cam` on the module ``layer``, for the class
    it predicts) in the first ``per_kind`` test images it gets right and the first it gets wrong, each
    map averaged down to ``grid`` x ``grid`` and rounded: small enough to store with the results."""
    loader = DeviceLoader(test, 256, train=False, device=device, mean=mean, std=std)
    logits, labels = predict(model, loader, device=device)
    right = (logits.argmax(1) == labels).nonzero().flatten()[:per_kind]
    wrong = (logits.argmax(1) != labels).nonzero().flatten()[:per_kind]
    chosen = torch.cat([right, wrong])
    images = next(iter(DeviceLoader(test.subset(chosen), len(chosen), train=False, device=device, mean=mean,
                                         std=std)))[0] if len(chosen) else None
    if images is None:
        return dict(layer=layer, images=[], predicted=[], maps=[])
    maps, predicted = grad_cam(model, images, model.get_submodule(layer))
    return dict(layer=layer, images=chosen.tolist(), predicted=predicted.tolist(), maps=pooled_maps(maps, grid))


def pooled_maps(maps: torch.Tensor, grid: int) -> list[list[list[float]]]:
    """Maps (N, H, W) averaged down to ``grid`` x ``grid`` and rounded to 3 decimals: small enough to
    store with a run's results."""
    small = F.adaptive_avg_pool2d(maps[:, None], grid)[:, 0]
    return [[[round(float(v), 3) for v in row] for row in m] for m in small]
