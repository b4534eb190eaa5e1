"""Detection scenes made of real MNIST digits: several digits per black canvas, at random sizes and
places, each with its tight box and its label.

MNIST has no detection task, so the detection chapter builds one from it. A scene is drawn from a
seeded generator alone: the same digits, count, size and seed give the same scenes on every machine.
Training scenes take training digits and test scenes test digits, so no test digit is ever seen in
training. A digit's box is the tight box of its ink (pixels brighter than :data:`INK`), not its
28x28 frame, whose margins hold nothing to find.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from .tensors import ImageTensors

INK = 64  # a pixel brighter than this (of 255) is ink: it bounds the digit's box


@dataclass
class Scenes:
    """Detection scenes: ``images`` uint8 (N, 1, S, S), and per scene its ``boxes`` (k, 4) in pixels
    (x0, y0, x1, y1: torchvision's ``xyxy``), its ``labels`` (k,) and the indices of the ``digits`` it
    was made from."""

    images: torch.Tensor
    boxes: list[torch.Tensor]
    labels: list[torch.Tensor]
    digits: list[torch.Tensor]
    classes: tuple[str, ...]
    source: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.images)

    def first(self, count: int) -> "Scenes":
        """The first ``count`` scenes."""
        return Scenes(self.images[:count], self.boxes[:count], self.labels[:count], self.digits[:count], self.classes,
                      dict(self.source, scenes=min(count, len(self))))

    def targets(self, indices: range | list[int] | torch.Tensor, device: torch.device | str = "cpu") -> list[dict]:
        """The targets of the scenes at ``indices`` as torchvision's detectors read them: a dict of
        ``boxes`` (float) and ``labels`` per scene, labels shifted by one (0 is the background)."""
        return [dict(boxes=self.boxes[i].to(device), labels=self.labels[i].to(device) + 1) for i in map(int, indices)]


def tight_box(digit: torch.Tensor) -> tuple[int, int, int, int] | None:
    """The tight box (x0, y0, x1, y1, ends excluded) of the ink of one digit image (1, H, W), or None
    for an image without ink."""
    ink = digit[0] > INK
    rows, cols = ink.any(1).nonzero().flatten(), ink.any(0).nonzero().flatten()
    if len(rows) == 0:
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def _resize(digit: torch.Tensor, size: int) -> torch.Tensor:
    if digit.shape[-1] == size:
        return digit
    x = F.interpolate(digit[None].float(), size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return x[0].round().clamp(0, 255).to(torch.uint8)


def make_scenes(digits: ImageTensors, count: int, size: int = 64, per_scene: tuple[int, int] = (1, 4),
                digit_size: tuple[int, int] = (16, 40), max_overlap: float = 0.3, seed: int = 0) -> Scenes:
    """``count`` scenes of ``size`` x ``size`` pixels, each with ``per_scene`` digits (a range, both ends
    included) taken at random from ``digits`` (MNIST, one channel), each scaled so that its 28-pixel frame
    measures between ``digit_size[0]`` and ``digit_size[1]`` pixels (ink boxes are about 70 % of that).

    A digit is placed where its box overlaps no box already placed by more than ``max_overlap`` in
    intersection over union (so overlapping digits occur, but none hides another); where twenty tries
    find no such place, the scene keeps fewer digits. Overlapping ink keeps the brighter pixel.
    """
    lo, hi = per_scene
    if not 1 <= lo <= hi:
        raise ValueError(f"per_scene must be (least, most) with 1 <= least <= most, got {per_scene}")
    if not 8 <= digit_size[0] <= digit_size[1] <= size:
        raise ValueError(f"digit_size {digit_size} must lie between 8 and the scene size {size}")
    if digits.images.shape[1] != 1:
        raise ValueError(f"scenes are made of one-channel digits (MNIST), got {digits.images.shape[1]} channels")
    from torchvision.ops import box_iou

    g = torch.Generator().manual_seed(seed)

    def draw(low: int, high: int) -> int:  # an integer in [low, high], from the scenes' own generator
        return int(torch.randint(low, high + 1, (1,), generator=g))

    images = torch.zeros(count, 1, size, size, dtype=torch.uint8)
    all_boxes, all_labels, all_digits = [], [], []
    for n in range(count):
        boxes, labels, used = [], [], []
        for _ in range(draw(lo, hi)):
            for _ in range(20):
                index, s = draw(0, len(digits) - 1), draw(*digit_size)
                digit = _resize(digits.images[index], s)
                ink = tight_box(digit)
                if ink is None:
                    break
                x, y = draw(0, size - s), draw(0, size - s)
                box = (x + ink[0], y + ink[1], x + ink[2], y + ink[3])
                # in float64 the integer areas are exact: the IoU is the very float of Python's inter / union
                placed = torch.tensor(boxes, dtype=torch.float64).reshape(-1, 4)
                if (box_iou(torch.tensor([box], dtype=torch.float64), placed) <= max_overlap).all():
                    region = images[n, :, y:y + s, x:x + s]
                    torch.maximum(region, digit, out=region)
                    boxes.append(box)
                    labels.append(int(digits.labels[index]))
                    used.append(index)
                    break
        all_boxes.append(torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4))
        all_labels.append(torch.tensor(labels, dtype=torch.int64))
        all_digits.append(torch.tensor(used, dtype=torch.int64))
    source = dict(kind="scenes", made_from=digits.source.get("description", digits.source.get("kind", "")),
                  scenes=count, size=size, per_scene=list(per_scene), digit_size=list(digit_size),
                  max_overlap=max_overlap, seed=seed, objects=sum(len(b) for b in all_boxes))
    return Scenes(images, all_boxes, all_labels, all_digits, digits.classes, source)


def centred_digits(digits: ImageTensors, count: int, size: int = 64) -> Scenes:
    """The first ``count`` digits, one per scene, at their own 28 pixels in the centre of a ``size`` canvas:
    the classifier's task posed to a detector (MNIST's digits are centred in their frames)."""
    count = min(count, len(digits))
    offset = (size - digits.images.shape[-1]) // 2
    images = torch.zeros(count, 1, size, size, dtype=torch.uint8)
    edge = digits.images.shape[-1]
    images[:, :, offset:offset + edge, offset:offset + edge] = digits.images[:count]
    boxes, labels = [], []
    for i in range(count):
        ink = tight_box(digits.images[i]) or (0, 0, edge, edge)
        boxes.append(torch.tensor([[ink[0] + offset, ink[1] + offset, ink[2] + offset, ink[3] + offset]], dtype=torch.float32))
        labels.append(digits.labels[i:i + 1].to(torch.int64))
    source = dict(kind="centred digits", made_from=digits.source.get("description", ""), scenes=count, size=size)
    return Scenes(images, boxes, labels, [torch.tensor([i]) for i in range(count)], digits.classes, source)
