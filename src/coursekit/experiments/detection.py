"""Chapter "detection": LeNet-5 on MNIST, then a Faster R-CNN trained from scratch on scenes of MNIST
digits; and the readings of those runs.

Both run over three seeds. The detector's test scenes are the same for every seed (drawn from the test
digits with :data:`TEST_SCENE_SEED`), so that seeds differ in training alone and compare pairwise. The
question a student asked, "does a detector classify digits as well as a classifier?", is posed on the
same centred test digits to both: LeNet's accuracy on them, and the share of them whose best detection
carries the right label.
"""
from __future__ import annotations

import inspect

from .. import data, detection, models, profiles, stats, store, train
from ..i18n import _, fill, number, say
from ..metrics import classification_metrics, correct
from ..models.detector import digit_faster_rcnn
from ..results import RunResult
from ..runs import RunState
from .core import Experiment, over_seeds, register

TEST_SCENE_SEED = 12_345
SIZE_EDGES = [0, 14, 20, 26, 64]    # digit heights (ink box, pixels) for recall by size
OVERLAP_EDGES = [0, 0.001, 0.1, 1]  # largest IoU with another digit: none, a little, more
EXAMPLES = 12                       # test scenes whose detections the result keeps for figures

# LeNet-5 as the paper trained it: every training digit, no augmentation; SGD with momentum and a one-cycle
# schedule in place of the paper's diagonal Levenberg-Marquardt (and the paper's 20 passes: each profile sets
# its epochs).
LENET_BUDGET = {
    "ci": dict(train_per_class=20, test_per_class=10, epochs=1, batch_size=50, centred=50, seeds=[0]),
    "quick": dict(train_per_class=None, test_per_class=None, epochs=6, batch_size=128, centred=2000, seeds=[0, 1, 2]),
    "full": dict(train_per_class=None, test_per_class=None, epochs=20, batch_size=128, centred=10000, seeds=[0, 1, 2]),
}


def train_lenet(cfg: dict, state: RunState) -> dict:
    """LeNet-5 on (a stratified subset of) MNIST, its 28x28 digits padded to 32x32; its test metrics, its
    accuracy on the first ``cfg['centred']`` test digits (the detector's centred scenes), and its mistakes."""
    device = profiles.device()
    train_set = data.padded(data.stratified_subset(data.load_mnist(train=True), cfg["train_per_class"], cfg["seed"]))
    test_set = data.padded(data.stratified_subset(data.load_mnist(train=False), cfg["test_per_class"], cfg["seed"]))
    loader = dict(device=device, mean=data.MNIST_MEAN, std=data.MNIST_STD)
    train_loader = data.DeviceLoader(train_set, cfg["batch_size"], train=True, crop_padding=0, flip=False,
                                     seed=cfg["seed"], **loader)
    test_loader = data.DeviceLoader(test_set, 1000, train=False, **loader)
    train.seed_everything(cfg["seed"])
    model = models.create(cfg["model"], num_classes=10)
    parameters, macs = models.count_parameters(model), models.count_macs(model, (1, 1, 32, 32))
    runtime = train.Runtime.resolve(device)
    train.seed_everything(cfg["seed"])
    optimizer = train.make_optimizer(model, cfg["optimizer"], cfg["lr"], cfg["weight_decay"])
    schedule = train.make_schedule(optimizer, cfg["schedule"], cfg["epochs"] * len(train_loader))
    fitted = train.fit(model, train_loader, optimizer, schedule, train.CrossEntropy(), state, epochs=cfg["epochs"],
                       evaluate=train.evaluator(test_loader, runtime), metrics={"train_accuracy": correct},
                       runtime=runtime)
    logits, labels = train.predict(model, test_loader, runtime=runtime)
    metrics = classification_metrics(logits, labels)
    wrong = (logits.argmax(1) != labels).nonzero().flatten()
    first = min(cfg["centred"], len(labels))
    metrics["centred_accuracy"] = float((logits[:first].argmax(1) == labels[:first]).double().mean())
    metrics["centred_digits"] = first
    cost = dict(parameters=parameters, macs=macs, train_seconds=round(fitted.train_seconds, 2),
                images_per_second=round(fitted.images_per_second, 1), peak_memory_mb=round(fitted.peak_memory_mb, 1),
                peak_memory_kind=fitted.peak_memory_kind, precision=fitted.precision)
    return dict(metrics=metrics, history=fitted.history, cost=cost,
                mistakes=[dict(index=int(i), label=int(labels[i]), predicted=int(logits[i].argmax())) for i in wrong],
                data=dict(train=train_set.source, test=test_set.source))


# The detector: scenes of a few digits of many sizes (SCENES); a small backbone, a narrow box head and few
# proposals per image (the experiment's base); each profile sets the new scenes per epoch, epochs and batch.
DETECTOR_BUDGET = {
    "ci": dict(train_per_class=20, scenes_per_epoch=32, epochs=1, batch_size=8, test_scenes=12, centred=12, seeds=[0]),
    "quick": dict(train_per_class=None, scenes_per_epoch=4000, epochs=4, batch_size=16, test_scenes=500, centred=2000,
                  seeds=[0, 1, 2]),
    "full": dict(train_per_class=None, scenes_per_epoch=16000, epochs=8, batch_size=32, test_scenes=2000, centred=10000,
                 seeds=[0, 1, 2]),
}
SCENES = dict(size=64, per_scene=(1, 4), digit_size=(16, 40), max_overlap=0.3)


def test_scenes(cfg: dict) -> data.Scenes:
    """The detector's test scenes: the same for every seed, made from the test digits."""
    digits = data.stratified_subset(data.load_mnist(train=False), cfg.get("test_per_class"), 0)
    return data.make_scenes(digits, cfg["test_scenes"], seed=TEST_SCENE_SEED, **cfg["scenes"])


def centred_scenes(cfg: dict) -> data.Scenes:
    """The first ``cfg['centred']`` test digits, one per scene at the centre: the classifier's task."""
    return data.centred_digits(data.load_mnist(train=False), cfg["centred"], size=cfg["scenes"]["size"])


def _kept(found: dict, score: float = 0.3) -> dict:
    keep = found["scores"] >= score
    return dict(boxes=found["boxes"][keep].round(decimals=1).tolist(), scores=found["scores"][keep].round(decimals=3).tolist(),
                labels=found["labels"][keep].tolist())


def train_detector(cfg: dict, state: RunState) -> dict:
    """A :func:`~coursekit.models.detector.digit_faster_rcnn` trained from scratch on fresh scenes each
    epoch; mAP on the first ``cfg['watch_scenes']`` test scenes after every epoch; at the end COCO's metrics, per-class AP, recall by
    digit size and by overlap, the label accuracy on centred digits, and the detections of a few scenes."""
    device = profiles.device()
    digits = data.stratified_subset(data.load_mnist(train=True), cfg["train_per_class"], cfg["seed"])
    scenes, centred = test_scenes(cfg), centred_scenes(cfg)
    train.seed_everything(cfg["seed"])
    model = digit_faster_rcnn(image_size=cfg["scenes"]["size"], widths=tuple(cfg["widths"]),
                              representation=cfg["representation"], proposals=cfg["proposals"],
                              sampled_rois=cfg["sampled_rois"])
    parameters = models.count_parameters(model)

    watched = scenes.first(cfg["watch_scenes"])  # after each epoch, a cheaper look at the first test scenes

    def evaluate(m) -> dict:
        scores = detection.mean_average_precision(detection.detect(m, watched.images), watched)
        return dict(map=scores["map"], map_50=scores["map_50"])

    fitted = detection.fit_detector(model, digits, state, epochs=cfg["epochs"], scenes_per_epoch=cfg["scenes_per_epoch"],
                                    batch_size=cfg["batch_size"], scene_args=cfg["scenes"], lr=cfg["lr"],
                                    weight_decay=cfg["weight_decay"], seed=cfg["seed"], device=device,
                                    evaluate=evaluate)
    found = detection.detect(model, scenes.images)
    metrics = detection.mean_average_precision(found, scenes)
    rows = detection.match(found, scenes)
    metrics.update(
        recall=sum(r["found"] for r in rows) / len(rows), objects=len(rows),
        recall_by_size=detection.recall_by(rows, "height", SIZE_EDGES),
        recall_by_overlap=detection.recall_by(rows, "overlap", OVERLAP_EDGES),
        centred_accuracy=detection.label_accuracy(detection.detect(model, centred.images), centred),
        centred_digits=len(centred))
    misses = [r for r in rows if not r["found"]]
    shown = sorted(set(range(EXAMPLES)) | {r["scene"] for r in misses[:EXAMPLES]})
    cost = dict(parameters=parameters, train_seconds=round(fitted.train_seconds, 2),
                images_per_second=round(fitted.images_per_second, 1), peak_memory_mb=round(fitted.peak_memory_mb, 1),
                peak_memory_kind=fitted.peak_memory_kind, precision=fitted.precision)
    return dict(metrics=metrics, history=fitted.history, cost=cost, misses=misses,
                detections={str(n): _kept(found[n]) for n in shown},
                data=dict(train=digits.source, test=scenes.source, centred=centred.source, summary=(
                    f"{digits.source.get('description', 'MNIST')}: {len(digits):,} training digits in "
                    f"{cfg['epochs']} x {cfg['scenes_per_epoch']:,} new scenes of {cfg['scenes']['size']} px; "
                    f"{len(scenes):,} test scenes ({scenes.source['objects']:,} test digits), the same for every seed")))


register(Experiment(
    name="detect_lenet", chapter="detection", title="LeNet-5 on MNIST (LeCun et al. 1998)",
    base=dict(model="lenet5", optimizer="sgd", lr=0.05, weight_decay=5e-4, schedule="onecycle", seed=0),
    sizes=LENET_BUDGET, runner=over_seeds(train_lenet)))
register(Experiment(
    name="detect_digits", chapter="detection", title="Faster R-CNN from scratch on scenes of MNIST digits",
    base=dict(scenes=SCENES, widths=[32, 64, 128], representation=128, proposals=100, sampled_rois=64, lr=0.04,
              weight_decay=1e-4, watch_scenes=100, seed=0),
    sizes=DETECTOR_BUDGET, runner=over_seeds(train_detector)))


# --- the readings the chapter's text glues --------------------------------------------------------

PAPER_ERROR = 0.95  # LeNet-5's test error (%) on MNIST without distortions (LeCun et al. 1998, Fig. 14)


def _listed(values: list[str], decimals: bool = False) -> str:
    """Numbers already written, joined as a sentence lists them: "12, 20 and 32"; numbers that may have
    ``decimals`` are separated as the language separates them (French: by semicolons, its decimal mark
    being the comma)."""
    if len(values) == 1:
        return values[0]
    items = values[0]
    for value in values[1:-1]:
        items = say("{decimals}, {decimal}", decimals=items, decimal=value) if decimals else f"{items}, {value}"
    return say("{items} and {last}", items=items, last=values[-1])


def _interval(mean: float, half: float, digits: int, percent: bool) -> str:
    """"99.00 ± 0.25 %" (``percent``) or "0.920 ± 0.050", to ``digits`` decimals."""
    if percent:
        return say("{mean:.{digits}f} ± {half:.{digits}f} %", mean=mean, half=half, digits=digits)
    return fill("{mean:.{digits}f} ± {half:.{digits}f}", mean=mean, half=half, digits=digits)


def _mean(values: dict[int, float], scale: float = 100, percent: bool = True, digits: int = 1) -> str:
    mean, _std, half = stats.mean_interval([scale * v for v in values.values()])
    return _interval(mean, half, digits, percent)


def facts_lenet(result: dict) -> dict[str, str]:
    """LeNet-5's test accuracy over seeds, its size and cost, its mistakes, and how its error compares with
    the paper's 0.95 %."""
    runs = RunResult.from_dict(result)
    acc = runs.metric()
    errors = [100 * (1 - a) for a in acc.values()]
    mean, _std, half = stats.mean_interval(errors)
    out = {
        "det_lenet_acc": _mean(acc, digits=2),
        "det_lenet_err": _interval(mean, half, 2, percent=True),
        "det_lenet_params": number(result["cost"]["parameters"], ","),
        "det_lenet_macs": say("{thousands:,.0f} thousand", thousands=result["cost"]["macs"] / 1e3),
        "det_lenet_epochs": str(len(result["history"])),
        "det_lenet_seeds": str(len(runs)),
        "det_lenet_images": number(result["provenance"]["data"]["train"]["images"], ","),
        "det_lenet_test_images": number(result["metrics"]["images"], ","),
        "det_lenet_mistakes": number(len(result["mistakes"]), ","),
        "det_lenet_seconds": store.minutes(runs.mean_cost("train_seconds") / 60),
    }
    if mean - half > PAPER_ERROR:
        out["det_lenet_reading"] = say("above the paper's {paper} %: this shorter training does not reach the "
                                       "published level", paper=PAPER_ERROR)
    elif mean + half < PAPER_ERROR:
        out["det_lenet_reading"] = say("below the paper's {paper} %: the modern optimiser and cross-entropy do a "
                                       "little better than the original recipe", paper=PAPER_ERROR)
    else:
        out["det_lenet_reading"] = say("the paper's {paper} % lies within the interval, so this reproduces the "
                                       "published level", paper=PAPER_ERROR)
    return out


def facts_scenes(scenes: dict = SCENES) -> dict[str, str]:
    """The scene settings, the detector's anchors and its two NMS thresholds (between proposals, between
    final boxes) as the text names them, read from the recipe and the detector, and whether digits that
    overlap as much as a scene allows could be suppressed as duplicates."""
    from ..models.detector import ANCHOR_SIZES, digit_faster_rcnn

    detector = digit_faster_rcnn()
    rpn, box = detector.rpn.nms_thresh, detector.roi_heads.nms_thresh
    lo, hi = scenes["per_scene"]
    return {"det_nms_rpn": number(rpn, "g"), "det_nms_box": number(box, "g"),
            "det_nms_reading": (
                _("so NMS never removes one of two true digits here: each pair overlaps less than either threshold, "
                  "and a missed digit that overlaps another was missed before NMS, by the network")
                if scenes["max_overlap"] < min(rpn, box) else
                _("so NMS can remove one of two true digits that overlap this much, taking it for a duplicate")),
            "det_scene_size": f"{scenes['size']} × {scenes['size']}",
            "det_per_scene": say("{low} to {high}", low=lo, high=hi),
            "det_digit_size": say("{low} to {high}", low=scenes["digit_size"][0], high=scenes["digit_size"][1]),
            "det_max_overlap": number(scenes["max_overlap"], "g"),
            "det_anchor_sizes": _listed([str(s) for s in ANCHOR_SIZES])}


def facts_design(detector=None, small_box: int = 7) -> dict[str, str]:
    """The detector's settings the text names, read from the model (a
    :func:`~coursekit.models.detector.digit_faster_rcnn`, built when not given) and from the function that
    counts a digit found (:func:`coursekit.detection.match`): the RPN's IoU for a positive and below which
    an anchor is negative, RoI Align's grid and sampling points, the backbone's stride, the anchors'
    shapes (height over width), the IoU and score a detection needs to find a digit, and how many cells of
    the feature map a box ``small_box`` pixels wide (the exercise's) spans."""
    import torch

    from ..models.detector import ANCHOR_RATIOS

    detector = digit_faster_rcnn() if detector is None else detector
    matcher, roi = detector.rpn.proposal_matcher, detector.roi_heads.box_roi_pool
    grid, points = roi.output_size, roi.sampling_ratio
    size = detector.transform.min_size[0]
    with torch.no_grad():
        side = detector.backbone(torch.zeros(1, 1, size, size)).shape[-1]
    match = inspect.signature(detection.match).parameters
    return {"det_rpn_positive": number(matcher.high_threshold, "g"),
            "det_rpn_negative": number(matcher.low_threshold, "g"),
            "det_roi_grid": f"{grid[0]} × {grid[1]}", "det_roi_points": f"{points} × {points}",
            "det_stride": f"{size // side}", "det_small_box_cells": number(small_box / (size // side), "g"),
            "det_anchor_ratios": _listed([number(r, "g") for r in ANCHOR_RATIOS], decimals=True),
            "det_match_iou": number(match["iou"].default, "g"), "det_match_score": number(match["score"].default, "g")}


def facts_boxes(scenes: data.Scenes) -> dict[str, str]:
    """How many ``scenes`` there are, and the narrowest digit box in them (its width and digit) and the
    widest (its width), in pixels."""
    import torch

    boxes, labels = torch.cat(scenes.boxes), torch.cat(scenes.labels)
    widths = boxes[:, 2] - boxes[:, 0]
    narrow = int(widths.argmin())
    return {"det_demo_scenes": number(len(scenes), ","),
            "det_box_narrowest": say("{width:.0f} pixels wide (a {digit})", width=float(widths[narrow]),
                                     digit=scenes.classes[int(labels[narrow])]),
            "det_box_widest": number(float(widths.max()), ".0f")}


def facts_alexnet(alexnet, lenet) -> dict[str, str]:
    """How many times LeNet-5's parameters AlexNet has, from the two models."""
    ratio = models.count_parameters(alexnet) / models.count_parameters(lenet)
    return {"det_alexnet_ratio": number(ratio, ",.0f")}


def facts_shared_digits(detector: dict, lenet: dict) -> dict[str, str]:
    """Whether the detector and LeNet-5 learnt from the same training digits (the same source, once LeNet's
    padding is set aside), read from the provenance of their results."""
    ours = detector["provenance"]["data"]["train"]
    theirs = {k: v for k, v in lenet["provenance"]["data"]["train"].items() if k != "padded"}
    if ours == theirs:
        return {"det_shared_digits": say("fair: both learnt from the same {digits:,} training digits, and neither saw "
                                         "a test digit", digits=ours["images"])}
    return {"det_shared_digits": say("not quite fair: LeNet-5 learnt from {lenet_digits:,} training digits, the "
                                     "detector from {detector_digits:,} (neither saw a test digit)",
                                     lenet_digits=theirs["images"], detector_digits=ours["images"])}


def _bins(result: dict, key: str) -> list[dict[int, float | None]]:
    """Per bin of ``metrics[key]`` (recall by size or overlap): recall by seed."""
    seeds = RunResult.from_dict(result).seeds
    return [{s.seed: s.metrics[key][i]["recall"] for s in seeds} for i in range(len(result["metrics"][key]))]


def _compare_bins(result: dict, key: str, low: int, high: int) -> tuple[float, float, stats.Comparison] | None:
    """Mean recall (%) in bins ``low`` and ``high``, and the first against the second paired over seeds; None
    where a bin is empty."""
    a, b = _bins(result, key)[low], _bins(result, key)[high]
    if any(v is None for v in [*a.values(), *b.values()]):
        return None
    compared = stats.compare({k: 100 * v for k, v in a.items()}, {k: 100 * v for k, v in b.items()})
    return 100 * sum(a.values()) / len(a), 100 * sum(b.values()) / len(b), compared


def _bin_reading(found: tuple | None, what: str, low: str, high: str) -> str:
    """The recall of the digits ``low`` against that of the digits ``high`` (``what``, ``low`` and ``high``:
    plural nouns without an article, in the current language: "digits under 14 pixels tall")."""
    if found is None:
        return say("the test scenes hold no {what} in one of the bins compared, so there is nothing to read", what=what)
    ra, rb, compared = found
    return stats.word(compared,
                      better=_("{low} are found more often than {high} ({ra:.1f} % against {rb:.1f} %, a difference "
                               "of {size:.1f} ± {h:.1f} points over the seeds)"),
                      worse=_("{low} are found less often than {high} ({ra:.1f} % against {rb:.1f} %, a difference "
                              "of {size:.1f} ± {h:.1f} points over the seeds)"),
                      cannot_tell=_("the seeds cannot tell the recall of {low} ({ra:.1f} %) from that of {high} "
                                    "({rb:.1f} %; difference {d:+.1f} ± {h:.1f} points)"),
                      low=low, high=high, ra=ra, rb=rb)


def facts_detector(result: dict, lenet: dict) -> dict[str, str]:
    """The detector's COCO metrics over seeds, its best and worst digits, its misses by size and overlap,
    and the student's comparison: LeNet and the detector on the same centred test digits."""
    runs = RunResult.from_dict(result)
    metric = {name: runs.metric(name) for name in ("map", "map_50", "map_75", "recall")}
    cfg = result["config"]
    out = {
        "det_map50": _mean(metric["map_50"], scale=1, percent=False, digits=3),
        "det_map": _mean(metric["map"], scale=1, percent=False, digits=3),
        "det_map75": _mean(metric["map_75"], scale=1, percent=False, digits=3),
        "det_recall": _mean(metric["recall"]),
        "det_seeds": str(len(runs)),
        "det_params": number(result["cost"]["parameters"], ","),
        "det_steps": number(cfg["epochs"] * (cfg["scenes_per_epoch"] // cfg["batch_size"]), ","),
        "det_batch": str(cfg["batch_size"]),
        "det_train_scenes": number(cfg["epochs"] * cfg["scenes_per_epoch"], ","),
        "det_test_scenes": number(cfg["test_scenes"], ","),
        "det_objects": number(result["metrics"]["objects"], ","),
        "det_seconds": store.minutes(runs.mean_cost("train_seconds") / 60),
        "det_misses": number(len(result["misses"]), ","),
    }
    ap = [[s.metrics["ap_per_class"][c] for s in runs.seeds] for c in range(10)]
    mean_ap = {c: sum(v) / len(v) for c, v in enumerate(ap) if all(x is not None for x in v)}
    best, worst = max(mean_ap, key=mean_ap.get), min(mean_ap, key=mean_ap.get)
    out["det_best_digit"], out["det_best_ap"] = str(best), number(mean_ap[best], ".3f")
    out["det_worst_digit"], out["det_worst_ap"] = str(worst), number(mean_ap[worst], ".3f")
    sizes = result["metrics"]["recall_by_size"]
    out["det_size_reading"] = _bin_reading(_compare_bins(result, "recall_by_size", 0, len(sizes) - 1), _("digits"),
                                           say("digits under {height} pixels tall", height=sizes[0]["high"]),
                                           say("digits of {height} pixels or more", height=sizes[-1]["low"]))
    overlaps = result["metrics"]["recall_by_overlap"]
    out["det_overlap_reading"] = _bin_reading(_compare_bins(result, "recall_by_overlap", 0, len(overlaps) - 1),
                                              _("digits"), _("digits that overlap no other"),
                                              say("digits overlapping another by an IoU of {iou} or more",
                                                  iou=overlaps[-1]["low"]))
    det = runs.metric("centred_accuracy", 100)
    cls = RunResult.from_dict(lenet).metric("centred_accuracy", 100)
    out["det_centred"] = number(result["metrics"]["centred_digits"], ",")
    out["det_centred_acc"] = _mean({k: v / 100 for k, v in det.items()})
    out["det_lenet_centred_acc"] = _mean({k: v / 100 for k, v in cls.items()})
    compared = stats.compare_unpaired(det, cls)  # separately trained networks: their seeds share nothing
    out["det_centred_reading"] = stats.word(
        compared,
        better=_("the detector names the digit more often than LeNet-5 does ({size:.1f} ± {h:.1f} points, the "
                 "difference of the means over seeds with Welch's interval)"),
        worse=_("the detector names the digit less often than LeNet-5 does ({size:.1f} ± {h:.1f} points, the "
                "difference of the means over seeds with Welch's interval)"),
        cannot_tell=_("the seeds cannot tell the two apart (difference {d:+.1f} ± {h:.1f} points): on the "
                      "classifier's own task the detector names the digit as reliably"))
    return out
