"""Detection: scenes of digits (``coursekit.data.scenes``), the small Faster R-CNN
(``coursekit.models.detector``), and training, running and measuring it (``coursekit.detection``).

The digits are synthetic: bright rectangles on black whose shape tells their label (even digits are wide,
odd ones tall), so that a box can be checked against the label it carries."""
from __future__ import annotations

import pytest
import torch
from torch import nn
from torchvision.ops import box_iou

from coursekit import data, detection, train
from coursekit.data import scenes as sc
from coursekit.models.detector import DigitBackbone, digit_faster_rcnn
from coursekit.runs import RunState

SCENE_ARGS = dict(size=64, per_scene=(1, 2), digit_size=(20, 40), max_overlap=0.3)


def synthetic_digits(n: int = 20) -> data.ImageTensors:
    """``n`` one-channel 28x28 digits; digit ``i`` has label ``(3 i + 1) % 10`` and is a rectangle of 255,
    wide (8 x 20) for an even label and tall (20 x 8) for an odd one, off the frame's centre."""
    labels = (3 * torch.arange(n) + 1) % 10
    images = torch.zeros(n, 1, 28, 28, dtype=torch.uint8)
    for i, d in enumerate(labels.tolist()):
        h, w = (8, 20) if d % 2 == 0 else (20, 8)
        y, x = 2 + d % 4, 3 + d % 3
        images[i, 0, y:y + h, x:x + w] = 255
    return data.ImageTensors(images, labels, data.MNIST_CLASSES, dict(kind="synthetic", description="test digits"))


@pytest.fixture(scope="module")
def digits() -> data.ImageTensors:
    return synthetic_digits()


def small_detector(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return digit_faster_rcnn(image_size=64, widths=(8, 16, 32), representation=32, proposals=20, sampled_rois=16)


def fit(model, digits, checkpoint=None, epochs=5, scenes_per_epoch=32, **kwargs):
    state = RunState(checkpoint=checkpoint, progress=False, verbose=False)
    return detection.fit_detector(model, digits, state, epochs=epochs, scenes_per_epoch=scenes_per_epoch, batch_size=8,
                                  scene_args=SCENE_ARGS, lr=0.02, seed=0, device="cpu", **kwargs)


# --- scenes ------------------------------------------------------------------------------------------

def test_the_same_seed_gives_the_same_scenes(digits):
    a = data.make_scenes(digits, 12, seed=3)
    b = data.make_scenes(digits, 12, seed=3)
    c = data.make_scenes(digits, 12, seed=4)
    assert torch.equal(a.images, b.images)
    assert all(torch.equal(x, y) for x, y in zip(a.boxes, b.boxes))
    assert all(torch.equal(x, y) for x, y in zip(a.labels, b.labels))
    assert all(torch.equal(x, y) for x, y in zip(a.digits, b.digits))
    assert not torch.equal(a.images, c.images)
    assert a.source == b.source and a.source["seed"] == 3 and c.source["seed"] == 4


def test_scenes_have_their_shape_and_provenance(digits):
    s = data.make_scenes(digits, 10, size=48, per_scene=(1, 3), digit_size=(16, 30), seed=0)
    assert len(s) == 10 and s.images.shape == (10, 1, 48, 48) and s.images.dtype == torch.uint8
    assert len(s.boxes) == len(s.labels) == len(s.digits) == 10
    assert s.classes == digits.classes
    assert all(b.dtype == torch.float32 and b.shape == (len(lab), 4) for b, lab in zip(s.boxes, s.labels))
    assert all(lab.dtype == torch.int64 for lab in s.labels)
    assert s.source["kind"] == "scenes" and s.source["made_from"] == "test digits"
    assert s.source["size"] == 48 and s.source["scenes"] == 10 and s.source["per_scene"] == [1, 3]
    assert s.source["objects"] == sum(len(b) for b in s.boxes) > 0


def test_boxes_lie_in_the_canvas_and_overlap_at_most_max_overlap(digits):
    s = data.make_scenes(digits, 40, size=64, per_scene=(2, 4), digit_size=(16, 40), max_overlap=0.3, seed=1)
    overlapping = 0
    for boxes in s.boxes:
        assert (boxes[:, 0] >= 0).all() and (boxes[:, 1] >= 0).all()
        assert (boxes[:, 2] <= 64).all() and (boxes[:, 3] <= 64).all()
        assert (boxes[:, 2] > boxes[:, 0]).all() and (boxes[:, 3] > boxes[:, 1]).all()
        iou = box_iou(boxes, boxes).fill_diagonal_(0)
        assert float(iou.max()) <= 0.3 + 1e-6
        overlapping += int((iou > 0).any())
    assert overlapping > 0  # overlaps do occur, within the limit


def test_every_box_is_the_tight_box_of_its_ink(digits):
    # no overlap allowed: the ink inside each box is that digit's alone
    s = data.make_scenes(digits, 30, size=64, per_scene=(1, 3), digit_size=(16, 36), max_overlap=0.0, seed=2)
    assert s.source["objects"] >= 30
    for image, boxes in zip(s.images, s.boxes):
        ink = image[0] > sc.INK
        covered = torch.zeros_like(ink)
        for x0, y0, x1, y1 in boxes.int().tolist():
            crop = ink[y0:y1, x0:x1]
            assert crop.any(0).all() and crop.any(1).all(), "ink reaches every row and column of its box"
            assert crop[0].any() and crop[-1].any() and crop[:, 0].any() and crop[:, -1].any()
            assert not covered[y0:y1, x0:x1].any(), "boxes overlap although max_overlap is 0"
            covered[y0:y1, x0:x1] = True
        assert not (ink & ~covered).any(), "ink outside every box"
        assert int(image[0][~covered].max()) <= sc.INK  # at most faint edges of resized digits


def test_labels_are_those_of_the_digits_placed(digits):
    s = data.make_scenes(digits, 30, size=64, per_scene=(1, 3), digit_size=(20, 40), max_overlap=0.1, seed=5)
    used = torch.cat(s.digits)
    assert len(used) == s.source["objects"] and used.min() >= 0 and used.max() < len(digits)
    assert len(used.unique()) > 5  # drawn from across the digits
    for boxes, labels, index in zip(s.boxes, s.labels, s.digits):
        assert torch.equal(labels, digits.labels[index])
        width, height = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
        assert torch.equal(width > height, labels % 2 == 0)  # the box is the shape of that label's digit


def test_digits_per_scene_within_per_scene(digits):
    s = data.make_scenes(digits, 30, size=64, per_scene=(2, 3), digit_size=(16, 24), max_overlap=1.0, seed=0)
    counts = {len(b) for b in s.boxes}
    assert counts == {2, 3}  # with any overlap allowed, every digit drawn is placed
    crowded = data.make_scenes(digits, 20, size=64, per_scene=(1, 5), digit_size=(40, 64), max_overlap=0.0, seed=0)
    counts = [len(b) for b in crowded.boxes]
    assert max(counts) <= 5 and min(counts) >= 1
    assert min(counts) < 5  # where no place is found the scene keeps fewer


def test_digits_without_ink_are_left_out():
    blank = data.ImageTensors(torch.zeros(4, 1, 28, 28, dtype=torch.uint8), torch.arange(4), data.MNIST_CLASSES)
    s = data.make_scenes(blank, 3, seed=0)
    assert all(b.shape == (0, 4) and len(lab) == 0 and len(i) == 0 for b, lab, i in zip(s.boxes, s.labels, s.digits))
    assert int(s.images.max()) == 0 and s.source["objects"] == 0
    assert sc.tight_box(blank.images[0]) is None


def test_tight_box():
    img = torch.zeros(1, 10, 12, dtype=torch.uint8)
    img[0, 2:5, 3:9] = 200
    img[0, 8, 10] = sc.INK  # not brighter than INK: not ink
    assert sc.tight_box(img) == (3, 2, 9, 5)
    img[0, 8, 10] = sc.INK + 1
    assert sc.tight_box(img) == (3, 2, 11, 9)


@pytest.mark.parametrize("kwargs, message", [
    (dict(per_scene=(0, 2)), "per_scene"),
    (dict(per_scene=(3, 2)), "per_scene"),
    (dict(digit_size=(16, 80)), "digit_size"),
    (dict(digit_size=(4, 20)), "digit_size"),
    (dict(digit_size=(30, 20)), "digit_size"),
])
def test_bad_arguments_are_refused(digits, kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.make_scenes(digits, 2, size=64, **kwargs)


def test_three_channel_digits_are_refused(digits):
    rgb = data.ImageTensors(digits.images.expand(-1, 3, -1, -1).contiguous(), digits.labels, digits.classes)
    with pytest.raises(ValueError, match="one-channel"):
        data.make_scenes(rgb, 2)


def test_targets_shift_labels_by_one(digits):
    s = data.make_scenes(digits, 6, seed=0)
    targets = s.targets([4, 1])
    assert len(targets) == 2
    assert torch.equal(targets[0]["labels"], s.labels[4] + 1) and torch.equal(targets[1]["labels"], s.labels[1] + 1)
    assert torch.equal(targets[0]["boxes"], s.boxes[4]) and targets[0]["boxes"].dtype == torch.float32
    assert all(int(t["labels"].min()) >= 1 for t in targets)
    assert torch.equal(s.labels[4], digits.labels[s.digits[4]])  # the scenes' own labels are not shifted
    assert len(s.targets(torch.tensor([0, 2, 3]))) == 3


def test_centred_digits(digits):
    s = data.centred_digits(digits, 5, size=64)
    assert len(s) == 5 and s.images.shape == (5, 1, 64, 64)
    offset = (64 - 28) // 2
    assert torch.equal(s.images[:, :, offset:offset + 28, offset:offset + 28], digits.images[:5])
    outside = s.images.clone()
    outside[:, :, offset:offset + 28, offset:offset + 28] = 0
    assert int(outside.max()) == 0
    for i in range(5):
        x0, y0, x1, y1 = sc.tight_box(digits.images[i])
        assert s.boxes[i].tolist() == [[x0 + offset, y0 + offset, x1 + offset, y1 + offset]]
        assert s.labels[i].tolist() == [int(digits.labels[i])] and s.digits[i].tolist() == [i]
        assert sc.tight_box(s.images[i]) == tuple(int(v) for v in s.boxes[i][0])
    assert len(data.centred_digits(digits, 100)) == len(digits)  # no more scenes than digits
    assert data.centred_digits(digits, 3, size=40).boxes[0][0, 0] == sc.tight_box(digits.images[0])[0] + 6


# --- the detector ------------------------------------------------------------------------------------

def test_digit_backbone_has_stride_four():
    x = torch.randn(2, 1, 64, 48)
    backbone = DigitBackbone()
    assert backbone.out_channels == 128 and backbone(x).shape == (2, 128, 16, 12)
    narrow = DigitBackbone(widths=(4, 8, 12))
    assert narrow.out_channels == 12 and narrow(x).shape == (2, 12, 16, 12)


def test_the_detector_in_training_returns_the_four_losses(digits):
    model = small_detector().train()
    s = data.make_scenes(digits, 4, seed=0, **SCENE_ARGS)
    images = [x.float() / 255 for x in s.images]
    losses = model(images, s.targets(range(4)))
    assert set(losses) == set(detection.LOSSES)
    assert all(v.ndim == 0 and torch.isfinite(v) and float(v.detach()) >= 0 for v in losses.values())
    sum(losses.values()).backward()
    assert model.backbone.body[0][0].weight.grad.abs().sum() > 0  # the backbone learns through the losses
    head = model.roi_heads.box_predictor.cls_score
    assert head.out_features == 11  # ten digits and the background


def test_scene_batches(digits):
    batches = detection.SceneBatches(digits, 10, 4, SCENE_ARGS, seed=0, device=torch.device("cpu"))
    batches.set_epoch(0)
    s = data.make_scenes(digits, 10, seed=0, **SCENE_ARGS)  # epoch 0 of seed 0 draws with seed 0
    assert len(batches) == 2  # the last incomplete batch is dropped
    seen = []
    for images, targets in batches:
        assert len(images) == len(targets) == 4
        assert all(x.dtype == torch.float32 and x.shape == (1, 64, 64) and 0 <= float(x.min()) and float(x.max()) <= 1
                   for x in images)
        for x, t in zip(images, targets):
            n = next(i for i in range(len(s)) if torch.equal((s.images[i].float() / 255), x))
            assert torch.equal(t["labels"], s.labels[n] + 1) and torch.equal(t["boxes"], s.boxes[n])
            seen.append(n)
    assert len(set(seen)) == 8
    again = list(batches)
    assert all(torch.equal(a, b) for (xa, _), (xb, _) in zip(list(batches), again) for a, b in zip(xa, xb))
    batches.set_epoch(1)  # a new epoch: new scenes
    assert not torch.equal(next(iter(batches))[0][0], again[0][0][0])


@pytest.fixture(scope="module")
def trained(digits):
    model = small_detector()
    return model, fit(model, digits)


def test_training_lowers_the_loss(trained):
    model, result = trained
    history = result.history
    assert [row["epoch"] for row in history] == [1, 2, 3, 4, 5]
    for row in history:
        assert row["train_loss"] == pytest.approx(sum(row[k] for k in detection.LOSSES))
        assert row["seconds"] > 0 and row["images_per_second"] > 0
    assert history[-1]["train_loss"] < 0.8 * history[0]["train_loss"]
    assert history[-1]["loss_classifier"] < history[0]["loss_classifier"]
    assert result.images_seen == 5 * 32 and result.train_seconds == pytest.approx(sum(r["seconds"] for r in history))
    assert history[-1]["lr"] < history[0]["lr"]  # the one-cycle schedule anneals


def test_detect_returns_cpu_dicts_with_digit_labels(trained, digits):
    model, _ = trained
    model.train()
    s = data.make_scenes(digits, 5, seed=77, **SCENE_ARGS)
    found = detection.detect(model, s.images, batch_size=2)
    assert model.training  # put back as it was
    assert len(found) == 5
    assert sum(len(f["scores"]) for f in found) > 0
    for f in found:
        assert set(f) == {"boxes", "scores", "labels"}
        assert all(v.device.type == "cpu" for v in f.values())
        assert f["boxes"].shape == (len(f["scores"]), 4) and len(f["labels"]) == len(f["scores"])
        assert f["boxes"].dtype == torch.float32 and f["scores"].dtype == torch.float32
        if len(f["labels"]):
            assert int(f["labels"].min()) >= 0 and int(f["labels"].max()) <= 9  # the background is taken off
            assert float(f["boxes"].min()) >= 0 and float(f["boxes"].max()) <= 64
            assert float(f["scores"].max()) <= 1


class Fixed(nn.Module):
    """A stand-in detector: per image, the detections it is given (labels as torchvision's, from 1)."""

    def __init__(self, labels: list[int]):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))
        self.labels, self.batches = labels, []

    def forward(self, images):
        assert not self.training
        self.batches.append(len(images))
        return [dict(boxes=torch.tensor([[1.0, 2.0, 3.0, 4.0]], dtype=torch.float64), scores=torch.tensor([0.5]),
                     labels=torch.tensor([self.labels[int(x.max() * 255)]])) for x in images]


def test_detect_batches_and_takes_the_background_off():
    images = torch.arange(5, dtype=torch.uint8).view(5, 1, 1, 1).expand(5, 1, 4, 4).contiguous()
    model = Fixed([1, 10, 3, 4, 5])
    found = detection.detect(model, images, batch_size=2)
    assert model.batches == [2, 2, 1] and model.training
    assert [int(f["labels"][0]) for f in found] == [0, 9, 2, 3, 4]
    assert found[0]["boxes"].dtype == torch.float32


def test_a_detector_interrupted_within_an_epoch_resumes_to_the_same_weights(digits, tmp_path, monkeypatch):
    """The detector trains through train.fit: its checkpoint is fit's, resumed at the batch it stopped in
    (the scenes of that epoch drawn again the same); a finished run is not trained again."""
    uninterrupted_model = small_detector()
    uninterrupted = fit(uninterrupted_model, digits, epochs=2, scenes_per_epoch=16)
    path = tmp_path / "detector.pt"
    real = detection.SceneBatches.__iter__

    def ctrl_c_in_epoch_two(self):
        for i, batch in enumerate(real(self)):
            if self.epoch_seed == 1 and i == 1:
                raise KeyboardInterrupt  # Ctrl-C in the second batch of the second epoch
            yield batch

    monkeypatch.setattr(detection.SceneBatches, "__iter__", ctrl_c_in_epoch_two)
    with pytest.raises(KeyboardInterrupt):
        fit(small_detector(), digits, checkpoint=path, epochs=2, scenes_per_epoch=16)
    saved = torch.load(path, weights_only=False)
    assert (saved["epoch"], saved["step"]) == (1, 1)
    monkeypatch.setattr(detection.SceneBatches, "__iter__", real)
    resumed_model = small_detector(seed=5)  # other initial weights: the checkpoint's replace them
    resumed = fit(resumed_model, digits, checkpoint=path, epochs=2, scenes_per_epoch=16)
    for (name, a), b in zip(uninterrupted_model.state_dict().items(), resumed_model.state_dict().values()):
        assert torch.equal(a, b), name
    for a, b in zip(resumed.history, uninterrupted.history):
        for k in (*detection.LOSSES, "train_loss", "lr"):
            assert a[k] == pytest.approx(b[k], rel=1e-6), k

    def no_training(*args, **kwargs):
        raise AssertionError("trained again")

    monkeypatch.setattr(detection, "make_scenes", no_training)
    again = fit(small_detector(seed=1), digits, checkpoint=path, epochs=2, scenes_per_epoch=16)
    assert again.history == resumed.history and again.images_seen == 2 * 16


def test_peak_memory_is_measured_per_run_not_per_process(digits, monkeypatch):
    """fit resets CUDA's peak counter for every run (the detector's used to be cumulative over seeds)."""
    resets = []
    monkeypatch.setattr(torch.cuda, "reset_peak_memory_stats", lambda device=None: resets.append(device))
    monkeypatch.setattr(train.Runtime, "resolve", classmethod(
        lambda cls, *a, **k: cls(torch.device("cuda"), None, torch.contiguous_format)))
    model, loader = torch.nn.Linear(1, 1), [(torch.zeros(1, 1), torch.zeros(1))]
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    monkeypatch.setattr(torch.nn.Module, "to", lambda self, *a, **k: self)
    monkeypatch.setattr(train, "train_one_epoch", lambda *a, **k: a[6].update(seconds=1.0, seen=1))
    monkeypatch.setattr(train, "peak_memory", lambda device: (1.0, "test"))
    for _ in range(2):
        train.fit(model, loader, opt, train.make_schedule(opt, "constant", 1), torch.nn.MSELoss(),
                  RunState(progress=False, verbose=False), epochs=1)
    assert len(resets) == 2


# --- measuring ---------------------------------------------------------------------------------------

def hand_scenes(boxes: list[list[list[float]]], labels: list[list[int]], size: int = 64) -> data.Scenes:
    n = len(boxes)
    return data.Scenes(torch.zeros(n, 1, size, size, dtype=torch.uint8),
                       [torch.tensor(b, dtype=torch.float32).reshape(-1, 4) for b in boxes],
                       [torch.tensor(lab, dtype=torch.int64) for lab in labels],
                       [torch.arange(len(lab)) for lab in labels], data.MNIST_CLASSES)


def predictions(boxes, labels, scores=None) -> dict:
    scores = [1.0] * len(labels) if scores is None else scores
    return dict(boxes=torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4), scores=torch.tensor(scores),
                labels=torch.tensor(labels, dtype=torch.int64))


# Boxes 20 pixels wide: shifted right by dx pixels, the IoU with the original is (20 - dx) / (20 + dx).
MAP_SCENES = dict(
    boxes=[[[2, 2, 22, 32], [30, 10, 50, 40]], [[5, 30, 25, 60]], [[40, 0, 60, 24], [0, 0, 20, 20], [20, 40, 40, 60]]],
    labels=[[0, 3], [5], [8, 3, 1]])


def shifted(dx: float) -> list[dict]:
    return [predictions([[x0 + dx, y0, x1 + dx, y1] for x0, y0, x1, y1 in b], lab)
            for b, lab in zip(MAP_SCENES["boxes"], MAP_SCENES["labels"])]


def test_perfect_detections_score_one():
    s = hand_scenes(**MAP_SCENES)
    scores = detection.mean_average_precision(shifted(0), s)
    assert scores["map"] == pytest.approx(1.0) and scores["map_50"] == pytest.approx(1.0)
    assert scores["map_75"] == pytest.approx(1.0) and scores["mar_100"] == pytest.approx(1.0)
    ap = scores["ap_per_class"]
    assert len(ap) == 10
    assert [c for c in range(10) if ap[c] is not None] == [0, 1, 3, 5, 8]
    assert all(ap[c] == pytest.approx(1.0) for c in (0, 1, 3, 5, 8))


def test_map_falls_as_boxes_drift():
    s = hand_scenes(**MAP_SCENES)
    ious = {dx: (20 - dx) / (20 + dx) for dx in (0, 2, 4, 6, 10)}  # 1, 0.82, 0.67, 0.54, 0.33
    scores = {dx: detection.mean_average_precision(shifted(dx), s) for dx in ious}
    maps = [scores[dx]["map"] for dx in sorted(ious)]
    assert all(a > b for a, b in zip(maps, maps[1:]))
    # COCO's map averages over the thresholds 0.5, 0.55, ..., 0.95 that the IoU reaches
    for dx, iou in ious.items():
        reached = sum(iou >= t - 1e-9 for t in [0.5 + 0.05 * k for k in range(10)])
        assert scores[dx]["map"] == pytest.approx(reached / 10, abs=1e-6), dx
        assert scores[dx]["map_50"] == pytest.approx(1.0 if iou >= 0.5 else 0.0), dx
    assert scores[10]["map"] == 0 and scores[10]["map_50"] == 0


def test_one_class_and_a_scene_without_digits():
    s = hand_scenes(boxes=[[[0, 0, 20, 20]], []], labels=[[4], []])
    found = [predictions([[0, 0, 20, 20]], [4], [0.9]), predictions([], [])]
    scores = detection.mean_average_precision(found, s)
    assert scores["map"] == pytest.approx(1.0)
    assert scores["ap_per_class"] == [None] * 4 + [pytest.approx(1.0)] + [None] * 5
    found[1] = predictions([[30, 30, 50, 50]], [4], [0.95])  # a confident false alarm in the empty scene
    assert detection.mean_average_precision(found, s)["map_50"] < 1
    rows = detection.match(found, s)
    assert len(rows) == 1 and rows[0]["found"] and rows[0]["overlap"] == 0


def test_wrong_labels_and_absent_classes():
    s = hand_scenes(**MAP_SCENES)
    found = shifted(0)
    found[1] = predictions([[5, 30, 25, 60]], [9])  # the 5 called a 9: a class absent from the scenes
    scores = detection.mean_average_precision(found, s)
    ap = scores["ap_per_class"]
    assert ap[9] is None and ap[2] is None  # absent from the scenes: no AP, even when predicted
    assert ap[5] == pytest.approx(0.0) and ap[3] == pytest.approx(1.0)
    assert scores["map"] == pytest.approx(4 / 5)  # the mean over the classes present
    assert scores["map_50"] < 1


def test_match_pairs_true_boxes_with_detections():
    s = hand_scenes(
        boxes=[[[0, 0, 20, 20], [10, 0, 30, 20]], [[30, 30, 50, 60]], [[0, 0, 20, 30], [40, 0, 60, 30]], [[0, 0, 10, 10]]],
        labels=[[3, 5], [1], [2, 4], [6]])
    found = [
        predictions([[0, 0, 20, 20], [10, 0, 30, 20]], [3, 7], [0.9, 0.8]),    # right; wrong label
        predictions([], []),                                                   # nothing
        predictions([[0, 0, 20, 30], [40, 0, 60, 18]], [2, 4], [0.3, 0.9]),    # too unsure; IoU 0.6
        predictions([[0, 0, 10, 14], [0, 0, 10, 11]], [6, 9], [0.9, 0.9]),     # the better overlap (9) is taken
    ]
    rows = detection.match(found, s)
    assert [(r["scene"], r["label"], r["predicted"], r["found"]) for r in rows] == [
        (0, 3, 3, True), (0, 5, 7, False), (1, 1, None, False), (2, 2, None, False), (2, 4, 4, True), (3, 6, 9, False)]
    assert [r["height"] for r in rows] == [20, 20, 30, 30, 30, 10]
    assert rows[0]["overlap"] == pytest.approx(1 / 3) and rows[1]["overlap"] == pytest.approx(1 / 3)
    assert rows[2]["overlap"] == 0 and rows[3]["overlap"] == 0 and rows[5]["overlap"] == 0
    assert detection.match(found, s, score=0.25)[3]["found"]  # a lower score threshold keeps the unsure one
    assert detection.match(found, s, iou=0.7)[4]["predicted"] is None  # a stricter IoU drops the 0.6 overlap


def test_recall_by_bins_rows():
    rows = [dict(height=h, found=f) for h, f in [(5, True), (13.9, False), (25, True), (26, True), (63.9, False), (64, True)]]
    bins = detection.recall_by(rows, "height", [0, 14, 20, 26, 64])
    assert [(b["low"], b["high"], b["boxes"]) for b in bins] == [(0, 14, 2), (14, 20, 0), (20, 26, 1), (26, 64, 2)]
    assert [b["recall"] for b in bins] == [0.5, None, 1.0, 0.5]  # 64 lies outside the last bin [26, 64)


def test_label_accuracy_uses_the_best_detection():
    s = hand_scenes(boxes=[[[0, 0, 9, 9]]] * 4, labels=[[3], [1], [7], [0]])
    found = [
        predictions([[0, 0, 9, 9], [0, 0, 9, 9]], [5, 3], [0.2, 0.9]),   # best is right
        predictions([[0, 0, 9, 9], [0, 0, 9, 9]], [1, 4], [0.4, 0.6]),   # best is wrong, though a 1 was found
        predictions([], []),                                             # nothing: wrong
        predictions([[1, 1, 5, 5]], [0], [0.01]),                        # right, however unsure
    ]
    assert detection.label_accuracy(found, s) == 0.5
    assert detection.label_accuracy(found[:1], hand_scenes(boxes=[[[0, 0, 9, 9]]], labels=[[3]])) == 1.0


def test_scenes_without_a_box_have_nothing_to_score():
    empty = hand_scenes(boxes=[[], []], labels=[[], []])
    with pytest.raises(ValueError, match="the 2 scenes hold no true box, so there is nothing to score"):
        detection.mean_average_precision([predictions([], []), predictions([], [])], empty)
