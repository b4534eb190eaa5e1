"""Object detection, method code: training a torchvision detector on scenes, running it, and measuring it.

``fit_detector`` trains on fresh scenes every epoch (drawn from the training digits by a seed, so a
resumed run sees the same ones); the loss is the sum of torchvision's four (the region proposal
network's objectness and box regression, the box head's classification and box regression). ``detect``
runs a trained detector; ``mean_average_precision`` scores detections with torchmetrics' COCO
evaluation (pycocotools underneath); ``match`` pairs every true box with what the detector said about
it, so that the misses can be found by size and by overlap; ``label_accuracy`` poses the classifier's
question (one centred digit: which is it?) to the detector.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from . import deadline, profiles, train
from .data import ImageTensors, Scenes, make_scenes

LOSSES = ("loss_objectness", "loss_rpn_box_reg", "loss_classifier", "loss_box_reg")


def scene_batches(scenes: Scenes, batch_size: int, device: torch.device, generator: torch.Generator):
    """The scenes in a shuffled order, ``batch_size`` at a time: images as torchvision's detectors read
    them (a list of float tensors in [0, 1], on ``device``) and their targets."""
    order = torch.randperm(len(scenes), generator=generator)
    images = scenes.images.to(device)
    for start in range(0, len(order) - batch_size + 1, batch_size):
        idx = order[start:start + batch_size]
        yield [x.float() / 255 for x in images[idx]], scenes.targets(idx, device)


def fit_detector(model: nn.Module, digits: ImageTensors, *, epochs: int, scenes_per_epoch: int, batch_size: int,
                 scene_args: dict, lr: float = 0.02, weight_decay: float = 1e-4, seed: int = 0,
                 device: torch.device | str | None = None, checkpoint: str | Path | None = None,
                 evaluate: Callable[[nn.Module], dict] | None = None, verbose: bool = True) -> train.FitResult:
    """Train a torchvision detector for ``epochs``, each on ``scenes_per_epoch`` new scenes made from ``digits``
    (:func:`coursekit.data.make_scenes` with ``scene_args``; epoch ``e`` of seed ``s`` draws with seed
    ``1000 * s + e``), by SGD with momentum and a one-cycle schedule. After each epoch the history gets the
    mean of each loss, the time, and what ``evaluate(model)`` returns. With ``checkpoint``, the state is
    saved after every epoch, and a later call resumes from it (:class:`coursekit.train.Checkpoint`); a run
    stopped within an epoch (Ctrl-C) resumes at the start of that epoch, whose scenes are drawn again the same.
    """
    from tqdm.auto import tqdm

    rt = train.Runtime.resolve(device, channels_last=False)
    train.seed_everything(seed)
    model.to(rt.device)
    steps = scenes_per_epoch // batch_size
    opt = train.make_optimizer(model, "sgd", lr, weight_decay)
    sched = train.make_schedule(opt, "onecycle", epochs * steps)
    scaler = rt.grad_scaler()
    result = train.FitResult(precision=rt.precision)
    state = train.Checkpoint(Path(checkpoint) if checkpoint else None, model, opt, sched, scaler, train.run_identity.get())
    start, _, _ = state.load(result, rt.device)
    for epoch in range(start, epochs):
        scenes = make_scenes(digits, scenes_per_epoch, seed=1000 * seed + epoch, **scene_args)
        g = torch.Generator().manual_seed(1000 * seed + epoch)
        sums = dict.fromkeys(LOSSES, 0.0)
        model.train()
        rt.sync()
        tick = time.perf_counter()
        try:
            for images, targets in tqdm(scene_batches(scenes, batch_size, rt.device, g), total=steps, leave=False,
                                        desc=f"epoch {epoch + 1}/{epochs}", disable=not profiles.show_progress()):
                with rt.autocast():
                    losses = model(images, targets)
                loss = sum(losses.values())
                opt.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
                sched.step()
                for k in LOSSES:
                    sums[k] += float(losses[k].detach())
        except KeyboardInterrupt:  # the checkpoint of the last finished epoch stays: a resume redoes this one
            if state.path:
                print(f"\ninterrupted: {state.path} holds the state after epoch {epoch}; call again to resume there")
            raise
        rt.sync()
        seconds = time.perf_counter() - tick
        row = dict(epoch=epoch + 1, lr=opt.param_groups[0]["lr"], seconds=seconds,
                   images_per_second=steps * batch_size / seconds, **{k: v / steps for k, v in sums.items()})
        row["train_loss"] = sum(row[k] for k in LOSSES)
        if evaluate is not None:
            tick = time.perf_counter()
            row.update(evaluate(model))
            row["eval_seconds"] = time.perf_counter() - tick
        result.history.append(row)
        result.train_seconds += seconds
        result.images_seen += steps * batch_size
        state.save(result, epoch + 1, 0, None)
        if verbose:
            scores = "  ".join(f"{k} {v:.3f}" for k, v in row.items() if k.startswith("map"))
            print(f"epoch {epoch + 1:>2}/{epochs}  loss {row['train_loss']:.3f}  {scores}  {seconds:.0f} s", flush=True)
        spent = [r["seconds"] + r.get("eval_seconds", 0.0) for r in result.history[start:]]
        deadline.check(sum(spent) / len(spent), epochs - epoch - 1)  # under a time limit: stop if the rest overruns
    result.peak_memory_mb, result.peak_memory_kind = train.peak_memory(rt.device)
    return result


@torch.no_grad()
def detect(model: nn.Module, images: torch.Tensor, batch_size: int = 64,
           device: torch.device | str | None = None) -> list[dict]:
    """What ``model`` finds in each uint8 image of ``images`` (N, C, H, W): per image a dict of ``boxes``
    (k, 4, xyxy), ``scores`` and ``labels`` (class indices from 0: torchvision's background label is taken
    off), on the CPU."""
    device = torch.device(device) if device is not None else next(model.parameters()).device
    was_training = model.training
    model.eval().to(device)
    out = []
    for start in range(0, len(images), batch_size):
        batch = [x.float() / 255 for x in images[start:start + batch_size].to(device)]
        for found in model(batch):
            out.append(dict(boxes=found["boxes"].float().cpu(), scores=found["scores"].float().cpu(),
                            labels=found["labels"].cpu() - 1))
    model.train(was_training)
    return out


def mean_average_precision(predictions: list[dict], scenes: Scenes) -> dict:
    """COCO's average precision of ``predictions`` on ``scenes``, by torchmetrics' ``MeanAveragePrecision``
    (pycocotools): ``map`` (averaged over IoU thresholds 0.5, 0.55, ..., 0.95), ``map_50``, ``map_75``,
    ``mar_100`` (recall with up to 100 detections per image) and ``ap_per_class`` (by class index, over
    the IoU thresholds; None for a class absent from the scenes)."""
    from torchmetrics.detection import MeanAveragePrecision

    metric = MeanAveragePrecision(box_format="xyxy", iou_type="bbox", class_metrics=True, backend="pycocotools")
    metric.update(predictions, [dict(boxes=b, labels=lab) for b, lab in zip(scenes.boxes, scenes.labels)])
    scores = metric.compute()
    per_class = dict(zip(scores["classes"].flatten().tolist(), scores["map_per_class"].flatten().tolist()))
    return dict(map=float(scores["map"]), map_50=float(scores["map_50"]), map_75=float(scores["map_75"]),
                mar_100=float(scores["mar_100"]),
                ap_per_class=[per_class.get(c) if per_class.get(c, -1) >= 0 else None for c in range(len(scenes.classes))])


def match(predictions: list[dict], scenes: Scenes, iou: float = 0.5, score: float = 0.5) -> list[dict]:
    """Every true box of ``scenes`` with what the detections scoring at least ``score`` say about it: the
    best-overlapping detection's label (``predicted``, None when no detection overlaps it by ``iou``),
    ``found`` (that label is right), the digit's ``height`` in pixels and its ``overlap`` (its largest IoU
    with another true box of its scene)."""
    from torchvision.ops import box_iou

    rows = []
    for n, (found, boxes, labels) in enumerate(zip(predictions, scenes.boxes, scenes.labels)):
        keep = found["scores"] >= score
        pred_boxes, pred_labels = found["boxes"][keep], found["labels"][keep]
        with_pred = box_iou(boxes, pred_boxes) if len(pred_boxes) else torch.zeros(len(boxes), 0)
        with_true = box_iou(boxes, boxes).fill_diagonal_(0)
        for k in range(len(boxes)):
            best = int(with_pred[k].argmax()) if with_pred.shape[1] else -1
            hit = best >= 0 and float(with_pred[k, best]) >= iou
            predicted = int(pred_labels[best]) if hit else None
            rows.append(dict(scene=n, label=int(labels[k]), predicted=predicted, found=predicted == int(labels[k]),
                             height=float(boxes[k, 3] - boxes[k, 1]), overlap=float(with_true[k].max()) if len(boxes) > 1 else 0.0))
    return rows


def recall_by(rows: list[dict], field: str, edges: list[float]) -> list[dict]:
    """The share of true boxes found (:func:`match`) in each bin of ``field`` between consecutive ``edges``."""
    out = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = [r for r in rows if lo <= r[field] < hi]
        out.append(dict(low=lo, high=hi, boxes=len(inside),
                        recall=sum(r["found"] for r in inside) / len(inside) if inside else None))
    return out


def label_accuracy(predictions: list[dict], scenes: Scenes) -> float:
    """On scenes of one digit each: the share whose highest-scoring detection has the right label (a scene
    with no detection counts as wrong). The classifier's accuracy, asked of a detector."""
    right = 0
    for found, labels in zip(predictions, scenes.labels):
        if len(found["scores"]):
            right += int(found["labels"][found["scores"].argmax()] == labels[0])
    return right / len(scenes)
