"""Object detection, method code: training a torchvision detector on scenes, running it, and measuring it.

``fit_detector`` trains on fresh scenes every epoch (drawn from the training digits by a seed, so a
resumed run sees the same ones) through the one training loop, :func:`coursekit.train.fit`; the loss
is the sum of torchvision's four (the region proposal network's objectness and box regression, the box
head's classification and box regression). ``detect``
runs a trained detector; ``mean_average_precision`` scores detections with torchmetrics' COCO
evaluation (pycocotools underneath); ``match`` pairs every true box with what the detector said about
it, so that the misses can be found by size and by overlap; ``label_accuracy`` poses the classifier's
question (one centred digit: which is it?) to the detector.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from . import train
from .data import ImageTensors, Scenes, make_scenes
from .runs import RunState

LOSSES = ("loss_objectness", "loss_rpn_box_reg", "loss_classifier", "loss_box_reg")


class SceneBatches:
    """New scenes every epoch, made from ``digits`` (:func:`coursekit.data.make_scenes` with ``scene_args``;
    epoch ``e`` of seed ``s`` draws with seed ``1000 * s + e``, so a resumed run sees the same ones), in a
    shuffled order, ``batch_size`` at a time: images as torchvision's detectors read them (a list of float
    tensors in [0, 1], on ``device``) and their targets."""

    def __init__(self, digits: ImageTensors, scenes_per_epoch: int, batch_size: int, scene_args: dict,
                 seed: int, device: torch.device) -> None:
        self.digits, self.count, self.batch_size, self.scene_args = digits, scenes_per_epoch, batch_size, scene_args
        self.seed, self.device, self.scenes = seed, device, None

    def __len__(self) -> int:
        return self.count // self.batch_size

    def set_epoch(self, epoch: int) -> None:
        """Make the scenes of ``epoch`` (``fit`` calls it before each epoch's batches)."""
        self.epoch_seed = 1000 * self.seed + epoch
        self.scenes = make_scenes(self.digits, self.count, seed=self.epoch_seed, **self.scene_args)

    def __iter__(self):
        order = torch.randperm(len(self.scenes), generator=torch.Generator().manual_seed(self.epoch_seed))
        images = self.scenes.images.to(self.device)
        for start in range(0, len(order) - self.batch_size + 1, self.batch_size):
            idx = order[start:start + self.batch_size]
            yield [x.float() / 255 for x in images[idx]], self.scenes.targets(idx, self.device)


def with_targets(model: nn.Module, images: list[torch.Tensor], targets: list[dict], runtime: train.Runtime) -> dict:
    """A torchvision detector in training reads the images and their targets and returns its losses."""
    return model(images, targets)


def total_loss(losses: dict, targets: list[dict]) -> torch.Tensor:
    """The sum of torchvision's four losses (the region proposal network's objectness and box regression,
    the box head's classification and box regression)."""
    return sum(losses.values())


def _mean_of(name: str):
    """A training metric of ``fit``: loss ``name`` of a batch, times its images (``fit`` divides by images seen)."""
    return lambda losses, targets: float(losses[name].detach()) * len(targets)


def fit_detector(model: nn.Module, digits: ImageTensors, state: RunState, *, epochs: int, scenes_per_epoch: int,
                 batch_size: int, scene_args: dict, lr: float = 0.02, weight_decay: float = 1e-4, seed: int = 0,
                 device: torch.device | str | None = None,
                 evaluate: Callable[[nn.Module], dict] | None = None) -> train.FitResult:
    """Train a torchvision detector for ``epochs`` through :func:`coursekit.train.fit`, each epoch on
    ``scenes_per_epoch`` new scenes (:class:`SceneBatches`), by SGD with momentum and a one-cycle schedule.
    The history gets, per epoch, the mean of each of the four losses and of their sum, the time, and
    what ``evaluate(model)`` returns. Checkpoints and resuming are ``fit``'s (``state``)."""
    rt = train.Runtime.resolve(device, channels_last=False)
    train.seed_everything(seed)
    model.to(rt.device)
    batches = SceneBatches(digits, scenes_per_epoch, batch_size, scene_args, seed, rt.device)
    opt = train.make_optimizer(model, "sgd", lr, weight_decay)
    sched = train.make_schedule(opt, "onecycle", epochs * len(batches))
    return train.fit(model, batches, opt, sched, total_loss, state, epochs=epochs, evaluate=evaluate,
                     metrics={k: _mean_of(k) for k in LOSSES}, runtime=rt, forward=with_targets)


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
    the IoU thresholds; None for a class absent from the scenes). Scenes without a single true box have
    nothing to score: a :class:`ValueError` says so, where COCO's code would report -1."""
    from torchmetrics.detection import MeanAveragePrecision

    if not any(len(b) for b in scenes.boxes):
        raise ValueError(f"the {len(scenes.boxes)} scenes hold no true box, so there is nothing to score: average "
                         "precision needs at least one object (make scenes with digits in them)")
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
