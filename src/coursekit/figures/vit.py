"""Figures of chapter "vit": patches, range tests, learning curves and confusion matrices at the same
budget, data efficiency and what the trained ViT attends to; each registered for export. Their words are in
the current language (:mod:`coursekit.i18n`)."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from ..experiments.vit import SIZES, STRONG_SIZE
from ..i18n import _, number, say
from .base import TRAIN_COLOR, confusion_matrices, lr_range_tests, register
from .classic import compare_learning_curves

NETWORKS = {"ResNet-20": "resnet20", "ViT": "vit"}


def patches(image: "torch.Tensor", patch: int = 4) -> Figure:
    """An image with its patch grid, and the patches laid out as the token sequence the ViT reads."""
    side = image.shape[-1] // patch
    fig = plt.figure(figsize=(9.5, 3.3))
    ax = fig.add_axes([0.01, 0.08, 0.26, 0.84])
    ax.imshow(image.permute(1, 2, 0).cpu().numpy(), extent=(0, image.shape[-1], image.shape[-2], 0))
    for k in range(1, side):
        ax.axhline(k * patch, color="white", lw=0.6)
        ax.axvline(k * patch, color="white", lw=0.6)
    ax.set_title(say("{width} × {height} image, {patch} × {patch} patches", width=image.shape[-1],
                     height=image.shape[-2], patch=patch), fontsize=9)
    ax.axis("off")
    tiles = image.unfold(1, patch, patch).unfold(2, patch, patch)  # (3, side, side, P, P)
    tiles = tiles.permute(1, 2, 0, 3, 4).reshape(side * side, 3, patch, patch)
    per_row = 16
    for i, tile in enumerate(tiles):
        r, c = divmod(i, per_row)
        tax = fig.add_axes([0.31 + c * 0.042, 0.74 - r * 0.2, 0.037, 0.16])
        tax.imshow(tile.permute(1, 2, 0).cpu().numpy())
        tax.set_xticks([])
        tax.set_yticks([])
        if c == 0:
            tax.set_ylabel(f"{i + 1}", rotation=0, ha="right", va="center", fontsize=6)
    fig.text(0.31, 0.95, say("the sequence: {patches} patches of {numbers} numbers each, read row by row",
                             patches=side * side, numbers=3 * patch * patch), fontsize=9)
    return fig


def cifar10_patches(test=None, label: int = 7, patch: int = 4) -> Figure:
    """The first CIFAR-10 test image of class ``label`` (7: a horse) cut into patches; ``test`` is the
    test set (:func:`coursekit.data.load_cifar10`), loaded when not given."""
    from .. import data

    test = data.load_cifar10(train=False) if test is None else test
    return patches(test.images[int((test.labels == label).nonzero()[0])], patch=patch)


def data_efficiency(results: dict[str, list[dict]], pretrained: dict | None = None) -> Figure:
    """Test accuracy against the number of training images, one line per network trained from scratch
    (``results``: one run per size) and, dashed, one per method of a network pretrained on ImageNet
    (``pretrained``, a ``vs_lite0`` result): the mean over seeds, its 95 % interval as an error bar and
    each seed as a dot."""
    from .. import stats
    from ..experiments.vit import PRETRAINED_CURVE, pretrained_curves, scratch_curves, steps

    curves = scratch_curves(results)
    dashed = pretrained_curves(pretrained) if pretrained else {}
    methods = {"deep probe": _("deep probe"), "fine-tune": _("fine-tune")}
    labels = {PRETRAINED_CURVE.format(method=m): say("EfficientNet-Lite0 (ImageNet), {method}",
                                                     method=methods.get(m, m))
              for m in (pretrained["config"]["methods"] if pretrained else [])}
    fig, ax = plt.subplots(figsize=(6.4, 4.2 if dashed else 3.9))
    colors = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b")
    for (name, curve), color in zip({**curves, **dashed}.items(), colors):
        sizes = [n for n, _n in curve]
        seeds = [list(values.values()) for _n, values in curve]
        means, halves = zip(*((m, h) for m, _n, h in map(stats.mean_interval, seeds)))
        ax.errorbar(sizes, means, yerr=halves, fmt="o--" if name in dashed else "o-", color=color, capsize=3,
                    label=labels.get(name, name))
        for n, values, m in zip(sizes, seeds, means):
            ax.scatter([n] * len(values), values, s=8, color=color, alpha=0.35, lw=0)
            ax.annotate(number(m, ".1f"), (n, m), textcoords="offset points", xytext=(8, -3), fontsize=7, color=color)
    ax.set_xscale("log")
    sizes = [n for n, _n in next(iter(curves.values()))]
    config = next(iter(results.values()))[0]["config"]
    ax.set_xticks(sizes, [number(n, ",") for n in sizes])
    ax.minorticks_off()
    if dashed:
        xlabel = say("training images (log scale; from scratch: {steps:,} batches of {batch}; fine-tuning: {tuning} "
                     "batches)", steps=steps(config), batch=config["batch_size"], tuning=pretrained["config"]["steps"])
        title = _("Accuracy against the amount of data, from scratch and from ImageNet")
    else:
        xlabel = say("training images (log scale; from scratch: {steps:,} batches of {batch})", steps=steps(config),
                     batch=config["batch_size"])
        title = _("Accuracy against the amount of data, from scratch")
    ax.set(xlabel=xlabel, ylabel=_("test accuracy (%)"), title=title)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, title=_("mean, 95 % interval, seeds"), title_fontsize=7, fontsize=7.5)
    fig.tight_layout()
    return fig


def attention_maps(result: dict, test_images: "torch.Tensor | None" = None) -> Figure:
    """Test images and, under each, where the trained ViT's class token looks in the last block;
    ``test_images`` are CIFAR-10's, loaded when not given."""
    import torch

    from .. import data

    if test_images is None:
        test_images = data.load_cifar10(train=False).images

    found = result["attention"]
    n, side = len(found["images"]), found["grid"]
    fig, axes = plt.subplots(2, n, figsize=(1.25 * n, 2.9), squeeze=False)
    for i in range(n):
        image = test_images[found["images"][i]]
        axes[0][i].imshow(image.permute(1, 2, 0).numpy())
        attention = torch.tensor(found["cls_attention"][i]).view(side, side)
        axes[1][i].imshow(image.permute(1, 2, 0).numpy(), alpha=0.35)
        axes[1][i].imshow(attention.numpy(), cmap="inferno", alpha=0.75, extent=(-0.5, 31.5, 31.5, -0.5),
                          interpolation="nearest")
        for ax in (axes[0][i], axes[1][i]):
            ax.axis("off")
    axes[0][0].set_title(_("test images"), loc="left", fontsize=8)
    axes[1][0].set_title(_("class token's attention, last block"), loc="left", fontsize=8)
    fig.tight_layout()
    return fig


def attention_geometry(result: dict) -> Figure:
    """Mean attention distance of every head by block, and the learned position embeddings' similarity."""
    import numpy as np

    found = result["attention"]
    side = found["grid"]
    fig = plt.figure(figsize=(10, 4.2))
    ax = fig.add_axes([0.07, 0.14, 0.36, 0.74])
    for block, heads in enumerate(found["mean_distance"], 1):
        ax.scatter([block] * len(heads), heads, s=18, color=TRAIN_COLOR)
    ax.set(xlabel=_("block (depth)"), ylabel=_("mean attention distance (pixels)"),
           title=_("How far each head looks"), ylim=(0, None))
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(alpha=0.3)
    sim = np.array(found["position_similarity"]).reshape(side, side, side, side)
    show = [(r, c) for r in range(0, side, max(1, side // 4)) for c in range(0, side, max(1, side // 4))]
    k = int(len(show) ** 0.5)
    for i, (r, c) in enumerate(show):
        sub = fig.add_axes([0.52 + (i % k) * 0.11, 0.66 - (i // k) * 0.18, 0.1, 0.16])
        sub.imshow(sim[r, c], cmap="viridis", vmin=-1, vmax=1)
        sub.set_xticks([])
        sub.set_yticks([])
    fig.text(0.52, 0.92, _("position embeddings: similarity of one patch's (yellow square)\nwith every other patch's"),
             fontsize=8.5)
    return fig


def data_efficiency_runs(results: list[dict], pretrained: dict | None = None) -> Figure:
    """:func:`data_efficiency` from the runs of every network of ``NETWORKS`` at every size of ``SIZES``, in
    that order (as :data:`EFFICIENCY_RUNS` names them), and ``pretrained`` if given."""
    n = len(SIZES)
    return data_efficiency({label: results[i * n:(i + 1) * n] for i, label in enumerate(NETWORKS)}, pretrained)


SAME_BUDGET = (f"vs_resnet20_{STRONG_SIZE}", f"vs_vit_{STRONG_SIZE}")
EFFICIENCY_RUNS = tuple(f"vs_{model}_{n}" for model in NETWORKS.values() for n in SIZES)
BEST_VIT = f"vs_vit_{SIZES[-1]}"

register("vit-patches", "vit", (), lambda rs: cifar10_patches(),
         "A CIFAR-10 test image cut into 4 × 4 patches, and the sequence of patches the ViT reads.")
register("vit-lr-range-tests", "vit", ("vs_lr_find",), lambda rs: lr_range_tests(rs[0]),
         "Learning-rate range tests of ResNet-20 (SGD) and the ViT (AdamW): the loss against the rate, "
         "with the steepest descent and the peak rate used.")
register("vit-learning-curves", "vit", SAME_BUDGET, compare_learning_curves,
         f"ResNet-20 and the ViT trained from scratch on the same {STRONG_SIZE:,} images with the same budget.")
register("vit-confusion-matrices", "vit", SAME_BUDGET, lambda rs: confusion_matrices(rs, list(NETWORKS)),
         "Which CIFAR-10 classes ResNet-20 and the ViT confuse, at the same budget.")
register("vit-data-efficiency", "vit", EFFICIENCY_RUNS, data_efficiency_runs,
         "Test accuracy of ResNet-20 and the ViT against the number of training images, at an equal number "
         "of epochs, over seeds.")
register("vit-pretraining", "vit", (*EFFICIENCY_RUNS, "vs_lite0"),
         lambda rs: data_efficiency_runs(rs[:-1], pretrained=rs[-1]),
         "ResNet-20 and the ViT from scratch against ImageNet's EfficientNet-Lite0 probed and fine-tuned, on the "
         "same numbers of CIFAR-10 images.")
register("vit-attention-maps", "vit", (BEST_VIT,), lambda rs: attention_maps(rs[0]),
         "Where the trained ViT's class token looks in the last block, on CIFAR-10 test images.")
register("vit-attention-geometry", "vit", (BEST_VIT,), lambda rs: attention_geometry(rs[0]),
         "How far each head of the trained ViT looks, by block, and how similar its learned position "
         "embeddings are.")
