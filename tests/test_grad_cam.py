"""Grad-CAM points at the evidence, and the filter and Grad-CAM figures draw from a network."""
from __future__ import annotations

import matplotlib.pyplot as plt
import torch
from torch import nn

from coursekit import data, diagnostics, figures, models


def colour_detector() -> nn.Module:
    """Channel 0 of the map is the red of a pixel, channel 1 its green; class c's score is the mean of channel c."""
    conv = nn.Conv2d(3, 2, 1, bias=False)
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[0, 0] = 1.0
        conv.weight[1, 1] = 1.0
    head = nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        head.weight.copy_(torch.eye(2))
    return nn.Sequential(conv, nn.AdaptiveAvgPool2d(1), nn.Flatten(), head)


def test_grad_cam_finds_the_region_that_carries_each_class():
    image = torch.zeros(1, 3, 8, 8)
    image[0, 0, :4, :4] = 1.0  # red, top left: class 0
    image[0, 1, 4:, 4:] = 2.0  # green, bottom right: class 1 (the stronger, so predicted)
    model = colour_detector()
    cams, classes = diagnostics.grad_cam(model, image, model[0])
    assert classes.tolist() == [1] and cams.shape == (1, 8, 8)
    assert cams[0, 4:, 4:].mean() > 0.9 and cams[0, :4, :4].max() < 0.1
    red, _ = diagnostics.grad_cam(model, image, model[0], classes=torch.tensor([0]))
    assert red[0, :4, :4].mean() > 0.9 and red[0, 4:, 4:].max() < 0.1
    assert not any(p.grad is not None for p in model.parameters())  # no gradients left behind
    assert model.training  # its mode restored


def test_the_figures_draw_from_a_network():
    model = models.create("resnet20", num_classes=3)
    fig = figures.pretrained.first_layer_filters(model)
    assert len([ax for ax in fig.axes if ax.images]) == 16
    plt.close(fig)
    g = torch.Generator().manual_seed(0)
    test = data.ImageTensors(torch.randint(0, 255, (6, 3, 32, 32), generator=g, dtype=torch.uint8),
                             torch.tensor([0, 1, 2, 0, 1, 2]), ("a", "b", "c"))
    fig = figures.pretrained.grad_cam_gallery(model, test, model.layer3, (0.5,) * 3, (0.25,) * 3, count=3)
    assert len(fig.axes) == 6 and all(len(ax.images) == 2 for ax in fig.axes[3:])
    plt.close(fig)


def test_a_jpeg_round_trip_halves_the_colour_resolution():
    g = torch.Generator().manual_seed(0)
    image = torch.randint(0, 256, (3, 32, 32), generator=g, dtype=torch.uint8)
    jpeg = figures.pretrained.jpeg_round_trip(image)
    assert jpeg.shape == image.shape and jpeg.dtype == torch.uint8
    assert (jpeg.int() - image.int()).abs().float().mean() > 10  # noise does not survive quality 75
    flat = torch.full((3, 32, 32), 128, dtype=torch.uint8)
    assert (figures.pretrained.jpeg_round_trip(flat).int() - 128).abs().max() <= 2  # a flat image does
    fig = figures.pretrained.jpeg_at_32px(torch.stack([image, flat]))
    assert len(fig.axes) == 10 and fig.axes[0].get_title() == "32 × 32 image"
    plt.close(fig)
