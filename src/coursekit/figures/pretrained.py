"""Figures of chapter "pretrained": the torchvision model zoo and a network's top-5 predictions.

:func:`~coursekit.experiments.pretrained.zoo_table` (the zoo's metadata, which the chapter's readings
use too) is re-exported here as ``figures.zoo_table``."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from ..experiments.pretrained import zoo_table
from ..i18n import _, say
from .base import register

CLASSIC_ZOO = ("alexnet", "vgg16", "googlenet", "inception_v3", "resnet50", "resnet152")


AFTER_ZOO = ("densenet121", "mobilenet_v2", "efficientnet_b0", "convnext_tiny")


def model_zoo(highlight: tuple[str, ...] = CLASSIC_ZOO, after: tuple[str, ...] = AFTER_ZOO) -> Figure:
    """ImageNet top-1 accuracy against GFLOPs for torchvision's classifiers (marker area = parameters),
    the classic networks in red and ``after`` (the designs after ResNet) in green."""
    rows = zoo_table()
    fig, ax = plt.subplots(figsize=(9, 5.2))
    sizes = [8 + 350 * r["params"] / max(q["params"] for q in rows) for r in rows]
    colors = ["#d62728" if r["name"] in highlight else "#2ca02c" if r["name"] in after else "#1f77b4" for r in rows]
    ax.scatter([r["gflops"] for r in rows], [r["top1"] for r in rows], s=sizes, c=colors, alpha=0.55,
               edgecolors="white", linewidths=0.5)
    for r in rows:
        if r["name"] in highlight or r["name"] in after or r["top1"] == max(q["top1"] for q in rows):
            ax.annotate(r["name"], (r["gflops"], r["top1"]), xytext=(4, -3), textcoords="offset points", fontsize=7.5)
    ax.set_xscale("log")
    ax.set(xlabel=_("GFLOPs per image (log scale)"), ylabel=_("ImageNet-1K top-1 accuracy (%)"),
           title=say("torchvision's {count} ImageNet classifiers (red: the classic networks; green: after ResNet)",
                     count=len(rows)))
    ax.title.set_fontsize(10)
    ax.grid(alpha=0.3, which="both")
    ax.set_xlim(left=min(r["gflops"] for r in rows) / 1.5)
    largest = max(rows, key=lambda r: r["params"])
    fig.text(0.01, 0.005, say("Marker area proportional to parameters (largest: {network}, {millions:.0f} M). Data: "
                              "the weight metadata of torchvision {version}\n(DEFAULT weights, single-crop validation "
                              "accuracy as torchvision reports it).", network=largest["name"],
                              millions=largest["params"] / 1e6, version=str(rows[0]["torchvision"])),
             fontsize=6.5, color="0.35")
    fig.tight_layout()
    fig.subplots_adjust(bottom=0.14)
    return fig


def top5_predictions(images: "torch.Tensor", top5: list[list[tuple[str, float]]], columns: int = 3) -> Figure:
    """Each photo beside a bar chart of its five most probable classes.

    ``images`` is a uint8 batch (N, 3, H, W); ``top5[i]`` holds (class name, probability) pairs, best first.
    """
    rows = -(-len(images) // columns)
    fig, axes = plt.subplots(rows, 2 * columns, figsize=(4.2 * columns, 2.1 * rows), squeeze=False,
                             gridspec_kw=dict(width_ratios=[1, 1.3] * columns))
    for i in range(rows * columns):
        ax_img, ax_bar = axes[i // columns][2 * (i % columns)], axes[i // columns][2 * (i % columns) + 1]
        if i >= len(images):
            ax_img.axis("off")
            ax_bar.axis("off")
            continue
        ax_img.imshow(images[i].permute(1, 2, 0).cpu().numpy())
        ax_img.axis("off")
        names, probs = zip(*top5[i])
        ax_bar.barh(range(len(names))[::-1], [100 * p for p in probs], color="#1f77b4")
        ax_bar.set_yticks(range(len(names))[::-1], [n[:18] for n in names], fontsize=7)
        ax_bar.set_xlim(0, 100)
        ax_bar.tick_params(axis="x", labelsize=7)
        ax_bar.set_xlabel(_("probability (%)"), fontsize=7)
    fig.tight_layout()
    return fig


def ant_bee_top5(per_class: int = 3, model=None) -> Figure:
    """The chapter's demonstration: ``per_class`` photos of ants and of bees (the validation split of
    PyTorch's tutorial) classified by an ImageNet network (default: EfficientNet-Lite0, which comes with
    coursekit; ``models.pretrained("resnet50")`` online), each beside its top 5.

    Raises ``data.DataNotFoundError`` when the photos are not on this machine.
    """

    from .. import data, models

    photos = data.load_folder_dataset("hymenoptera", "test", image_size=256)
    model = models.pretrained("efficientnet_lite0") if model is None else model
    images = photos.images[data.stratified_indices(photos.labels, per_class, seed=0)]
    return top5_predictions(images, top5(model, images))


def top5(model, images: "torch.Tensor") -> list[list[tuple[str, float]]]:
    """The five most probable classes of each of ``images`` (uint8) and their probabilities, by an ImageNet
    ``model`` that carries its weights' transforms and category names (``model.weights``)."""
    import torch

    with torch.no_grad():
        best = model(model.weights.transforms()(images)).softmax(dim=1).topk(5, dim=1)
    names = model.weights.meta["categories"]
    return [[(names[i], float(p)) for p, i in zip(ps, idx)] for ps, idx in zip(best.values, best.indices)]


register("model-zoo", "pretrained", (), lambda rs: model_zoo(),
         "ImageNet accuracy against computation for every torchvision classifier.")
register("pretrained-top5", "pretrained", (), lambda rs: ant_bee_top5(),
         "Photos of ants and bees and the five classes ImageNet's EfficientNet-Lite0 finds most probable for each: "
         "are the runners-up related classes?")


def first_layer_filters(model, columns: int = 8) -> Figure:
    """The filters of a trained network's first convolution, each scaled to [0, 1] on its own and shown
    as an RGB tile."""
    from torch import nn

    weights = next(m for m in model.modules() if isinstance(m, nn.Conv2d)).weight.detach().cpu()
    rows = -(-len(weights) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(1.1 * columns, 1.15 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, w in zip(axes.flat, weights):
        tile = (w - w.min()) / (w.max() - w.min()).clamp_min(1e-12)
        ax.imshow(tile.permute(1, 2, 0).numpy(), interpolation="nearest")
    fig.suptitle(say("The {count} filters of the first layer ({height} × {width}, RGB, each scaled on its own)",
                     count=len(weights), height=weights.shape[-2], width=weights.shape[-1]), fontsize=9)
    fig.tight_layout()
    return fig


def grad_cam_gallery(model, test, layer, mean, std, count: int = 8, categories: list[str] | None = None) -> Figure:
    """``count`` test images (taken in turn from each class, seed 0) and, under each, its Grad-CAM map for
    the predicted class (:func:`coursekit.diagnostics.grad_cam`), titled with prediction and truth.
    ``categories`` names the model's outputs (default: the test set's classes; ImageNet's for an ImageNet
    network shown photos, whose truth is then the folder's class)."""
    import torch

    from .. import data, diagnostics

    index = data.stratified_indices(test.labels, -(-count // len(test.classes)), seed=0)
    labels = test.labels[index]
    rank = torch.tensor([int((labels[:i] == labels[i]).sum()) for i in range(len(index))])
    index = index[torch.argsort(rank, stable=True)][:count]  # the first of each class, then the second...
    categories = categories or list(test.classes)
    images = test.images[index].float() / 255
    normalised = (images - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
    cams, predicted = diagnostics.grad_cam(model, normalised, layer)
    fig, axes = plt.subplots(2, count, figsize=(1.45 * count, 3.3))
    for i in range(count):
        picture = images[i].permute(1, 2, 0).numpy()
        axes[0, i].imshow(picture)
        axes[1, i].imshow(picture)
        axes[1, i].imshow(cams[i].numpy(), cmap="jet", alpha=0.45, vmin=0, vmax=1)
        said, truth = categories[int(predicted[i])], test.classes[int(test.labels[index[i]])]
        right = said == truth or said == truth.rstrip("s")  # ImageNet's "ant" for the folder "ants"
        axes[0, i].set_title(say("{predicted}\n(true: {truth})", predicted=said, truth=truth), fontsize=7,
                             color="black" if right else "#d62728")
        for ax in axes[:, i]:
            ax.axis("off")
    fig.suptitle(_("Grad-CAM: where the evidence for the predicted class lies (red: most)"), fontsize=9)
    fig.tight_layout()
    return fig


def _published_resnet20_views(which: str) -> Figure:
    """The filters or the Grad-CAM gallery of the published CIFAR-10 ResNet-20 (raises
    ``models.WeightsUnavailableError`` or ``data.DataNotFoundError`` where weights or data are missing)."""
    from .. import data, models

    model = models.cifar_resnet("resnet20")
    if which == "filters":
        return first_layer_filters(model)
    return grad_cam_gallery(model, data.load_cifar10(train=False), model.layer3, models.resnet.PRETRAINED_CIFAR_MEAN,
                            models.resnet.PRETRAINED_CIFAR_STD)


register("resnet20-first-layer", "pretrained", (), lambda rs: _published_resnet20_views("filters"),
         "The sixteen 3 × 3 filters of the first layer of the published CIFAR-10 ResNet-20.")
register("resnet20-grad-cam", "pretrained", (), lambda rs: _published_resnet20_views("grad-cam"),
         "Grad-CAM maps of the published CIFAR-10 ResNet-20 on one test image per class.")


def lite0_views(which: str, count: int = 6) -> Figure:
    """The filters of EfficientNet-Lite0's first layer, or Grad-CAM maps of its last convolution on
    ``count`` photos of ants and bees at 224 pixels (raises ``data.DataNotFoundError`` without the photos)."""
    from .. import data, models

    model = models.pretrained("efficientnet_lite0")
    if which == "filters":
        return first_layer_filters(model)
    photos = data.load_folder_dataset("hymenoptera", "test", image_size=224)
    mean, std = models.input_statistics(model)
    return grad_cam_gallery(model, photos, model.conv_head, mean, std, count=count,
                            categories=model.weights.meta["categories"])


register("lite0-first-layer", "pretrained", (), lambda rs: lite0_views("filters"),
         "The 32 filters (3 × 3, stride 2) of the first layer of ImageNet's EfficientNet-Lite0.")
register("lite0-grad-cam", "pretrained", (), lambda rs: lite0_views("grad-cam"),
         "Grad-CAM maps of ImageNet's EfficientNet-Lite0 on photos of ants and bees: where the evidence lies.")


def jpeg_round_trip(image: "torch.Tensor", quality: int = 75) -> "torch.Tensor":
    """``image`` (3, H, W, uint8) encoded as a JPEG of ``quality`` with 4:2:0 chroma subsampling (the
    default of libjpeg, and of the offline CIFAR-10 copy) and decoded again."""
    import io

    import numpy as np
    import torch
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image.permute(1, 2, 0).numpy()).save(buffer, "JPEG", quality=quality, subsampling=2)
    return torch.from_numpy(np.array(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))).permute(2, 0, 1)


def jpeg_at_32px(images: "torch.Tensor", quality: int = 75) -> Figure:
    """Each of ``images`` (N, 3, 32, 32, uint8) beside its JPEG round trip, the difference (x4), and the
    blue-difference chroma channel (Cb) of both, where the 2 x 2 blocks of 4:2:0 subsampling show."""
    import torch

    def cb(x: "torch.Tensor") -> "torch.Tensor":  # ITU-R BT.601, as JPEG stores it
        r, g, b = x.float()
        return 128 - 0.168736 * r - 0.331264 * g + 0.5 * b

    titles = (_("32 × 32 image"), say("JPEG, quality {quality}", quality=quality), _("difference × 4"),
              _("chroma Cb: image"), _("chroma Cb: JPEG"))
    fig, axes = plt.subplots(len(images), 5, figsize=(8.2, 1.75 * len(images)), squeeze=False)
    for row, image in zip(axes, images):
        jpeg = jpeg_round_trip(image, quality)
        difference = (4 * (image.int() - jpeg.int()).abs()).clamp(0, 255).to(torch.uint8)
        for ax, picture in zip(row[:3], (image, jpeg, difference)):
            ax.imshow(picture.permute(1, 2, 0).numpy(), interpolation="nearest")
        for ax, picture in zip(row[3:], (cb(image), cb(jpeg))):
            ax.imshow(picture.numpy(), cmap="coolwarm", interpolation="nearest", vmin=64, vmax=192)
        for ax in row:
            ax.axis("off")
    for ax, title in zip(axes[0], titles):
        ax.set_title(title, fontsize=8)
    fig.tight_layout()
    return fig
