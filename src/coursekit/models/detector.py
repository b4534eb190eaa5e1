"""A Faster R-CNN (Ren, He, Girshick and Sun 2015) small enough to train from scratch on a CPU: torchvision's
implementation (the region proposal network, RoI Align, the two heads and their losses), on a small
convolutional backbone of coursekit's own.

The pieces, as torchvision names them:

- ``backbone``: images to one feature map (here stride 4: one cell per 4x4 pixels);
- ``rpn_anchor_generator``: at every cell, anchor boxes of a few sizes and shapes;
- the region proposal network: per anchor, "object or not" and a correction of the box; the best few
  hundred corrected anchors, after non-maximum suppression, are the proposals;
- ``box_roi_pool``: RoI Align (He et al. 2017) cuts a 7x7 feature grid out of the map under each proposal;
- ``box_head`` and ``box_predictor``: per proposal, a class (or background) and a second box correction.
"""
from __future__ import annotations

import torch
from torch import nn

from .registry import init_weights
from .small import conv_bn_relu

# Anchors for digits of 8 to 30 pixels: three sizes (the side of a square anchor), and shapes from square
# to twice as tall as wide (torchvision's aspect ratio is height / width; handwritten digits are tall).
ANCHOR_SIZES = (12, 20, 32)
ANCHOR_RATIOS = (1.0, 2.0)


class DigitBackbone(nn.Module):
    """Three stages of two 3x3 convolutions with batch norm and ReLU, a 2x2 max-pool between stages:
    one-channel images (N, 1, H, W) to a feature map (N, ``out_channels``, H/4, W/4)."""

    def __init__(self, widths: tuple[int, int, int] = (32, 64, 128), in_channels: int = 1) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c = in_channels
        for i, w in enumerate(widths):
            layers += [conv_bn_relu(c, w), conv_bn_relu(w, w)]
            if i < len(widths) - 1:
                layers.append(nn.MaxPool2d(2))
            c = w
        self.body = nn.Sequential(*layers)
        self.out_channels = c  # torchvision's detectors read this attribute
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


def digit_faster_rcnn(num_classes: int = 10, image_size: int = 64, widths: tuple[int, int, int] = (32, 64, 128),
                      representation: int = 128, proposals: int = 100, sampled_rois: int = 64,
                      mean: float = 0.1307, std: float = 0.3081) -> nn.Module:
    """torchvision's ``FasterRCNN`` for ``num_classes`` kinds of objects (plus the background) in one-channel
    images of ``image_size`` pixels (kept at that size: no resizing), on a :class:`DigitBackbone`.

    ``representation`` is the width of the box head's two fully connected layers (torchvision's default
    is 1,024), ``proposals`` the number of proposals kept per image after non-maximum suppression (in
    training and testing; 2,000/1,000 by default), ``sampled_rois`` the proposals per image that train
    the box head (512 by default). These are the levers of the cost on a CPU.
    """
    from torchvision.models.detection import FasterRCNN
    from torchvision.models.detection.anchor_utils import AnchorGenerator
    from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
    from torchvision.ops import MultiScaleRoIAlign

    backbone = DigitBackbone(widths)
    anchors = AnchorGenerator(sizes=(ANCHOR_SIZES,), aspect_ratios=(ANCHOR_RATIOS,))
    roi_align = MultiScaleRoIAlign(featmap_names=["0"], output_size=7, sampling_ratio=2)
    return FasterRCNN(
        backbone, min_size=image_size, max_size=image_size, image_mean=[mean], image_std=[std],
        rpn_anchor_generator=anchors,
        rpn_pre_nms_top_n_train=4 * proposals, rpn_pre_nms_top_n_test=4 * proposals,
        rpn_post_nms_top_n_train=proposals, rpn_post_nms_top_n_test=proposals,
        rpn_batch_size_per_image=128,
        box_roi_pool=roi_align,
        box_head=TwoMLPHead(backbone.out_channels * 7 * 7, representation),
        box_predictor=FastRCNNPredictor(representation, num_classes + 1),
        box_batch_size_per_image=sampled_rois, box_detections_per_img=20)
