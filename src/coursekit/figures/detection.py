"""Figures of the detection chapter: scenes with their boxes, LeNet's mistakes, the Faster R-CNN pipeline
drawn from the model, intersection over union and non-maximum suppression, the detector's results (per-class
AP, recall by size and overlap, learning curves) and its detections drawn on test scenes; each registered."""
from __future__ import annotations

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .. import data, stats
from ..detection import LOSSES
from ..experiments import detection as recipe
from ..i18n import _, number, plural, say
from ..results import RunResult
from .base import per_epoch_axes, register
from .diagrams import _arrow, _box, _frame

RIGHT, WRONG, MISSED, TRUTH = "#2ca02c", "#d62728", "#ff9f1c", "#1f77b4"


def _series(values: list[str]) -> str:
    """Numbers already written, one after another: "0.5, 1, 2" (French separates them by semicolons, its
    decimal mark being the comma)."""
    text = values[0]
    for value in values[1:]:
        text = say("{decimals}, {decimal}", decimals=text, decimal=value)
    return text


def _coco_names() -> dict[str, str]:
    """COCO's categories (the names the pretrained detectors give, kept as keys) as the book shows them."""
    return {
        "person": _("person"), "bicycle": _("bicycle"), "car": _("car"), "motorcycle": _("motorcycle"),
        "airplane": _("airplane"), "bus": _("bus"), "train": _("train"), "truck": _("truck"), "boat": _("boat"),
        "traffic light": _("traffic light"), "fire hydrant": _("fire hydrant"), "stop sign": _("stop sign"),
        "parking meter": _("parking meter"), "bench": _("bench"), "bird": _("bird"), "cat": _("cat"), "dog": _("dog"),
        "horse": _("horse"), "sheep": _("sheep"), "cow": _("cow"), "elephant": _("elephant"), "bear": _("bear"),
        "zebra": _("zebra"), "giraffe": _("giraffe"), "backpack": _("backpack"), "umbrella": _("umbrella"),
        "handbag": _("handbag"), "tie": _("tie"), "suitcase": _("suitcase"), "frisbee": _("frisbee"),
        "skis": _("skis"), "snowboard": _("snowboard"), "sports ball": _("sports ball"), "kite": _("kite"),
        "baseball bat": _("baseball bat"), "baseball glove": _("baseball glove"), "skateboard": _("skateboard"),
        "surfboard": _("surfboard"), "tennis racket": _("tennis racket"), "bottle": _("bottle"),
        "wine glass": _("wine glass"), "cup": _("cup"), "fork": _("fork"), "knife": _("knife"), "spoon": _("spoon"),
        "bowl": _("bowl"), "banana": _("banana"), "apple": _("apple"), "sandwich": _("sandwich"),
        "orange": _("orange"), "broccoli": _("broccoli"), "carrot": _("carrot"), "hot dog": _("hot dog"),
        "pizza": _("pizza"), "donut": _("donut"), "cake": _("cake"), "chair": _("chair"), "couch": _("couch"),
        "potted plant": _("potted plant"), "bed": _("bed"), "dining table": _("dining table"), "toilet": _("toilet"),
        "tv": _("tv"), "laptop": _("laptop"), "mouse": _("mouse"), "remote": _("remote"), "keyboard": _("keyboard"),
        "cell phone": _("cell phone"), "microwave": _("microwave"), "oven": _("oven"), "toaster": _("toaster"),
        "sink": _("sink"), "refrigerator": _("refrigerator"), "book": _("book"), "clock": _("clock"),
        "vase": _("vase"), "scissors": _("scissors"), "teddy bear": _("teddy bear"), "hair drier": _("hair drier"),
        "toothbrush": _("toothbrush"),
    }


def _rgb(image: torch.Tensor) -> torch.Tensor:
    """A one-channel uint8 image as three channels, for drawing coloured boxes on it."""
    return image.expand(3, -1, -1) if image.shape[0] == 1 else image


def _draw(ax, image: torch.Tensor, boxes, labels: list[str], colours: list[str], title: str = "",
          zoom: int = 4) -> None:
    """``image`` enlarged ``zoom`` times (nearest pixel) with ``boxes`` (xyxy, in the image's pixels) drawn by
    torchvision's ``draw_bounding_boxes`` in ``colours``, each labelled above its top-left corner."""
    from torchvision.utils import draw_bounding_boxes

    boxes = torch.as_tensor(boxes, dtype=torch.float32).reshape(-1, 4) * zoom
    big = _rgb(image).repeat_interleave(zoom, 1).repeat_interleave(zoom, 2)
    drawn = draw_bounding_boxes(big, boxes, colors=colours or None, width=2)
    ax.imshow(drawn.permute(1, 2, 0).numpy(), interpolation="nearest")
    for box, label, colour in zip(boxes.tolist(), labels, colours):
        ax.text(box[0], box[1] - 2, label, color="white", fontsize=6.5, va="bottom", ha="left",
                bbox=dict(boxstyle="square,pad=0.1", fc=colour, ec="none", alpha=0.85))
    ax.set_title(title, fontsize=7.5)
    ax.axis("off")


def scene_gallery(scenes: data.Scenes, count: int = 8) -> Figure:
    """The first ``count`` scenes with their true boxes and labels."""
    cols = min(count, 4)
    rows = -(-count // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.9 * cols, 2.0 * rows), squeeze=False)
    for n, ax in enumerate(axes.flat):
        if n >= min(count, len(scenes)):
            ax.axis("off")
            continue
        labels = [str(int(c)) for c in scenes.labels[n]]
        _draw(ax, scenes.images[n], scenes.boxes[n], labels, [TRUTH] * len(labels),
              plural("scene {scene}: {n} digit", "scene {scene}: {n} digits", len(labels), scene=n))
    src = scenes.source
    fig.text(0.01, 0.0, say("{scenes:,} scenes of {size} px made from {digits} (seed {seed})", scenes=src["scenes"],
                            size=src["size"], digits=src["made_from"], seed=src.get("seed")),
             fontsize=6.5, color="0.35", ha="left", va="top")
    fig.tight_layout()
    return fig


def lenet_mistakes(result: dict, digits: data.ImageTensors | None = None, count: int = 24) -> Figure:
    """Test digits that LeNet-5 (the first seed) got wrong: the image, its label and LeNet's answer."""
    digits = digits if digits is not None else data.load_mnist(train=False)
    shown = result["mistakes"][:count]
    cols = 12
    rows = max(1, -(-len(shown) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(0.85 * cols, 1.05 * rows), squeeze=False)
    for ax, m in zip(axes.flat, shown + [None] * (rows * cols - len(shown))):
        ax.axis("off")
        if m is None:
            continue
        ax.imshow(digits.images[m["index"], 0].numpy(), cmap="gray", interpolation="nearest")
        ax.set_title(f"{m['label']}→{m['predicted']}", fontsize=8, color=WRONG)
    fig.suptitle(say("{shown} of LeNet-5's {mistakes} mistakes on the {digits:,} test digits (label → answer)",
                     shown=len(shown), mistakes=len(result["mistakes"]), digits=result["metrics"]["images"]),
                 fontsize=9)
    fig.subplots_adjust(left=0.01, right=0.99, top=0.8, bottom=0.02, wspace=0.1, hspace=0.45)
    return fig


def faster_rcnn_pipeline(model: torch.nn.Module, image_size: int = 64) -> Figure:
    """The stages of a torchvision Faster R-CNN, each labelled with the sizes read from ``model``."""
    rpn, heads = model.rpn, model.roi_heads
    anchors = rpn.anchor_generator
    sizes = ", ".join(str(s) for s in anchors.sizes[0])
    ratios = _series([number(float(r), "g") for r in anchors.aspect_ratios[0]])
    with torch.no_grad():
        channels = model.backbone.out_channels
        cells = model.backbone(torch.zeros(1, 1, image_size, image_size)).shape[-1]
    per_cell = len(anchors.sizes[0]) * len(anchors.aspect_ratios[0])
    pool = heads.box_roi_pool.output_size
    width = heads.box_head.fc7.out_features
    classes = heads.box_predictor.cls_score.out_features
    proposals = rpn._post_nms_top_n["testing"]
    fig, ax = plt.subplots(figsize=(10.0, 4.4))
    y = _box(ax, -3.4, 0, say("image {size}×{size}", size=image_size), "io", 2.6)
    _arrow(ax, -3.4, y, -3.4, y - 0.45)
    y = _box(ax, -3.4, y - 0.45, say("backbone: feature map\n{channels} × {cells}×{cells} (stride {stride})",
                                     channels=channels, cells=cells, stride=image_size // cells), "conv", 2.6)
    split = y
    _arrow(ax, -3.4, y, -3.4, y - 0.45)
    y = _box(ax, -3.4, y - 0.45, say("RPN: {per_cell} anchors per cell\n(sizes {sizes}; h/w {ratios})",
                                     per_cell=per_cell, sizes=sizes, ratios=ratios), "attn", 2.6)
    _arrow(ax, -3.4, y, -3.4, y - 0.45)
    y = _box(ax, -3.4, y - 0.45, say("objectness + box deltas\n→ NMS → {proposals} proposals", proposals=proposals),
             "attn", 2.6)
    _arrow(ax, -2.1, y + 0.27, 0.05, y + 0.27)
    _arrow(ax, -2.1, split + 0.27, 0.05, y + 0.55)
    z = _box(ax, 1.2, y + 0.55, say("RoI Align:\n{channels} × {height}×{width} per proposal", channels=channels,
                                    height=pool[0], width=pool[1]), "pool", 2.3)
    _arrow(ax, 2.35, z + 0.27, 2.9, z + 0.27)
    z2 = _box(ax, 4.0, y + 0.55, say("box head:\ntwo FC layers of {width}", width=width), "linear", 2.1)
    _arrow(ax, 4.0, z2, 4.0, z2 - 0.45)
    _box(ax, 4.0, z2 - 0.45, say("{classes} class scores\n(10 digits + background)\n+ box deltas per class",
                                 classes=classes), "linear", 2.4)
    for name, (x, yy) in {_("losses: objectness, RPN boxes"): (-3.4, y - 0.15),
                          _("losses: class, boxes"): (4.0, z2 - 1.2)}.items():
        ax.text(x, yy, name, ha="center", va="top", fontsize=7, color="0.35", style="italic")
    _frame(ax, 10.4, 5.3)
    ax.set_xlim(-5.0, 5.4)
    ax.set_title(_("Faster R-CNN (Ren et al. 2015) as torchvision builds it, sizes read from this chapter's model"),
                 fontsize=9.5)
    return fig


def iou_and_nms(truths: torch.Tensor, candidates: torch.Tensor, scores: torch.Tensor, kept: torch.Tensor,
                size: int = 64) -> Figure:
    """Left: candidate boxes with their score and their IoU with the nearest true box (``truths``, (k, 4)).
    Right: the candidates that non-maximum suppression keeps (``kept``, indices into ``candidates``)."""
    from torchvision.ops import box_iou

    ious = box_iou(candidates, truths).max(1).values
    fig, axes = plt.subplots(1, 2, figsize=(8.0, 3.9))
    titles = (_("candidates: score / IoU with a true box"),
              say("kept by non-maximum suppression ({kept})", kept=len(kept)))
    for ax, title in zip(axes, titles):
        ax.set_xlim(0, size)
        ax.set_ylim(size, 0)
        ax.set_aspect("equal")
        ax.set_title(title, fontsize=9)
        for t in truths:
            ax.add_patch(Rectangle(t[:2].tolist(), *(t[2:] - t[:2]).tolist(), fill=False, ec=TRUTH, lw=2.4))
    for i, (box, score, iou) in enumerate(zip(candidates, scores, ious)):
        x0, y0, x1, y1 = box.tolist()
        axes[0].add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ec=WRONG, lw=1, ls="--"))
        axes[0].text(x0 + 0.5, y1 - 0.5 - 3.2 * (i % 3), f"{number(float(score), '.2f')} / {number(float(iou), '.2f')}",
                     fontsize=6.5, color=WRONG)
        if i in kept.tolist():
            axes[1].add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ec=RIGHT, lw=1.6))
            axes[1].text(x0 + 0.5, y1 - 0.5, number(float(score), ".2f"), fontsize=7, color=RIGHT)
    axes[0].plot([], [], color=TRUTH, lw=2.4, label=_("true boxes"))
    axes[0].legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    return fig


def _interval(values: list[float | None]) -> tuple[float, float] | None:
    if any(v is None for v in values):
        return None
    mean, _, half = stats.mean_interval(values)
    return mean, half


def detector_results(result: dict) -> Figure:
    """Average precision of each digit (COCO's, over IoU 0.5:0.95), and recall by digit size and by overlap
    with another digit: means over seeds with their 95 % intervals."""
    seeds = RunResult.from_dict(result).seeds
    fig, axes = plt.subplots(1, 3, figsize=(11.5, 3.3), gridspec_kw=dict(width_ratios=[1.6, 1, 1]))
    ap = [_interval([s.metrics["ap_per_class"][c] for s in seeds]) for c in range(10)]
    axes[0].bar(range(10), [a[0] if a else 0 for a in ap], yerr=[a[1] if a else 0 for a in ap], color="#9ecae1",
                capsize=3)
    axes[0].set_xticks(range(10))
    axes[0].set_xlabel(_("digit"))
    axes[0].set_ylabel(_("AP (IoU 0.5:0.95)"))
    axes[0].set_ylim(0, 1)
    for ax, key, label in ((axes[1], "recall_by_size", _("digit height (px)")),
                           (axes[2], "recall_by_overlap", _("largest IoU with another digit"))):
        bins = result["metrics"][key]
        values = [_interval([s.metrics[key][i]["recall"] for s in seeds]) for i in range(len(bins))]
        names = [f"{number(b['low'], 'g')}–{number(b['high'], 'g')}" if b["low"] > 0 or key != "recall_by_overlap"
                 else _("none") for b in bins]
        ax.bar(range(len(bins)), [100 * v[0] if v else 0 for v in values],
               yerr=[100 * v[1] if v else 0 for v in values],
               color="#fdae6b", capsize=3)
        for i, b in enumerate(bins):
            ax.text(i, 2, f"{b['boxes']}", ha="center", fontsize=6.5, color="0.3")
        ax.set_xticks(range(len(bins)), names, fontsize=7.5)
        ax.set_xlabel(label)
        ax.set_ylabel(_("recall at IoU 0.5 (%)"))
        ax.set_ylim(0, 100)
    for ax in axes:
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(say("Faster R-CNN on {digits:,} test digits: mean over {seeds} seeds with 95 % intervals (numbers in "
                     "bars: true boxes per bin)", digits=result["metrics"]["objects"], seeds=len(seeds)), fontsize=9)
    fig.tight_layout()
    return fig


def detector_curves(result: dict) -> Figure:
    """The four training losses and the test mAP after each epoch (on the first test scenes), one line per seed."""
    seeds = RunResult.from_dict(result).seeds
    fig, axes = plt.subplots(1, 2, figsize=(10.0, 3.3))
    for s in seeds:
        epochs = [row["epoch"] for row in s.history]
        for k, colour in zip(LOSSES, ("#1f77b4", "#aec7e8", "#d62728", "#ff9896")):
            axes[0].plot(epochs, [row[k] for row in s.history], color=colour, marker="o", ms=3,
                         label=k if s is seeds[0] else None)
        axes[1].plot(epochs, [row["map_50"] for row in s.history], color=RIGHT, marker="o", ms=3,
                     label="mAP@0.5" if s is seeds[0] else None)
        axes[1].plot(epochs, [row["map"] for row in s.history], color=TRUTH, marker="o", ms=3,
                     label="mAP@0.5:0.95" if s is seeds[0] else None)
    axes[0].set_yscale("log")
    axes[0].set_ylabel(_("training loss (mean over the epoch)"))
    watched = result["config"].get("watch_scenes", "all")
    axes[1].set_ylabel(_("test mAP (first all test scenes)") if watched == "all" else
                       say("test mAP (first {scenes} test scenes)", scenes=watched))
    axes[1].set_ylim(0, 1)
    for ax in axes:
        ax.set_xlabel(_("epoch"))
        ax.legend(fontsize=7)
    per_epoch_axes(*axes)
    fig.tight_layout()
    return fig


def detections(result: dict, scenes: data.Scenes | None = None, count: int = 12) -> Figure:
    """The first seed's detections (score 0.5 or more) on test scenes: right in green, a wrong digit in red,
    a true box that nothing found in orange. Scenes with misses come first."""
    from torchvision.ops import box_iou

    scenes = scenes if scenes is not None else recipe.test_scenes(result["config"])
    missed = {m["scene"] for m in result["misses"]}
    order = sorted((int(n) for n in result["detections"]), key=lambda n: (n not in missed, n))[:count]
    cols = 6
    rows = -(-len(order) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.75 * cols, 2.15 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, n in zip(axes.flat, order):
        found = result["detections"][str(n)]
        keep = [i for i, s in enumerate(found["scores"]) if s >= 0.5]
        boxes = torch.tensor([found["boxes"][i] for i in keep]).reshape(-1, 4)
        labels = [found["labels"][i] for i in keep]
        truth = scenes.boxes[n]
        iou = box_iou(boxes, truth) if len(boxes) and len(truth) else torch.zeros(len(boxes), len(truth))
        colours, names = [], []
        for i, lab in enumerate(labels):
            j = int(iou[i].argmax()) if iou.shape[1] else -1
            right = j >= 0 and float(iou[i, j]) >= 0.5 and int(scenes.labels[n][j]) == lab
            colours.append(RIGHT if right else WRONG)
            names.append(f"{lab} {number(found['scores'][keep[i]], '.2f')}")
        lost = [k for k in range(len(truth)) if not (iou.shape[0] and float(iou[:, k].max()) >= 0.5)]
        all_boxes = torch.cat([boxes, truth[lost]]) if lost else boxes
        _draw(ax, scenes.images[n], all_boxes, names + [str(int(scenes.labels[n][k])) for k in lost],
              colours + [MISSED] * len(lost),
              say("scene {scene} (a miss)", scene=n) if n in missed else say("scene {scene}", scene=n))
    fig.suptitle(_("Detections with score ≥ 0.5: green right, red wrong digit, orange a digit nothing found"),
                 fontsize=9)
    fig.tight_layout()
    return fig


def photo_detections(images: list[torch.Tensor], found: list[dict], categories: list[str],
                     score: float = 0.6) -> Figure:
    """A pretrained detector's boxes (score at least ``score``) on photos, labelled with its categories."""
    shown = _coco_names()
    fig, axes = plt.subplots(1, len(images), figsize=(3.0 * len(images), 3.2), squeeze=False)
    for ax, image, f in zip(axes[0], images, found):
        keep = f["scores"] >= score
        names = [f"{shown.get(categories[int(c)], categories[int(c)])} {number(float(s), '.2f')}"
                 for c, s in zip(f["labels"][keep], f["scores"][keep])]
        _draw(ax, image, f["boxes"][keep], names, [RIGHT] * len(names))
    fig.tight_layout()
    return fig


register("detection-scenes", "detection", (),
         lambda rs: scene_gallery(data.make_scenes(data.load_mnist(train=False), 8, seed=recipe.TEST_SCENE_SEED,
                                                   **recipe.SCENES)),
         "Test scenes made of MNIST test digits, with their true boxes and labels.")
register("detection-lenet-mistakes", "detection", ("detect_lenet",), lambda rs: lenet_mistakes(rs[0]),
         "MNIST test digits that LeNet-5 got wrong.")
register("detection-pipeline", "detection", (),
         lambda rs: faster_rcnn_pipeline(recipe.digit_faster_rcnn()),
         "The Faster R-CNN pipeline with the sizes of the chapter's detector.")
register("detection-results", "detection", ("detect_digits",), lambda rs: detector_results(rs[0]),
         "Per-digit AP and recall by size and overlap of the detector, over seeds.")
register("detection-curves", "detection", ("detect_digits",), lambda rs: detector_curves(rs[0]),
         "The detector's training losses and test mAP per epoch.")
register("detection-predictions", "detection", ("detect_digits",), lambda rs: detections(rs[0]),
         "The detector's detections on test scenes, misses first.")
