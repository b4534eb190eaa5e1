"""Figures of chapter "fewshot": the augmentations, accuracy against shots, and the ablation (per start)."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from .. import stats
from ..experiments.fewshot_facts import variant_name
from ..i18n import _, say
from ..results import seed_values
from .base import image_rows, register


def augmentation_gallery(images: "torch.Tensor", seed: int = 0) -> Figure:
    """The same images under each augmentation of :mod:`coursekit.augment`, one row each."""
    import torch

    from .. import augment

    g = lambda k: torch.Generator().manual_seed(seed * 100 + k)  # noqa: E731
    labels = torch.zeros(len(images), dtype=torch.long)
    rows = {
        _("original"): images,
        say("rotation (up to ±{degrees}°)", degrees=20): augment.rotate(images, 20, generator=g(1)),
        _("horizontal flip"): images.flip(-1),
        say("Gaussian noise (σ = {sigma})", sigma=0.05): augment.gaussian_noise(images, 0.05, generator=g(2)),
        _("elastic deformation"): augment.elastic(images, generator=g(3)),
        _("per-channel (RGB) contrast"): augment.channel_contrast(images, 0.5, generator=g(4)),
        say("random crop ({padding} px padding)", padding=4): augment.random_crop(images, 4, generator=g(5)),
        _("colour jitter"): augment.color_jitter(images, generator=g(6)),
        say("cutout ({side} × {side})", side=8): augment.cutout(images, 8, generator=g(7)),
        _("mixup (with another image of the row)"): augment.mixup(images, labels, 1, generator=g(8))[0],
        _("CutMix (with another image of the row)"): augment.cutmix(images, labels, 1, generator=g(9))[0],
        _("TrivialAugment (one random operation each)"): augment.trivial_augment(images, generator=g(10)),
    }
    return image_rows(rows, size=0.85)


def cifar_gallery(test_set=None, seed: int = 3) -> Figure:
    """:func:`augmentation_gallery` on six CIFAR-10 test images of different classes (one per class,
    drawn with ``seed``); the test set is loaded if not given."""
    from ..data import load_cifar10, stratified_indices

    if test_set is None:
        test_set = load_cifar10(train=False)
    return augmentation_gallery(test_set.images[stratified_indices(test_set.labels, 1, seed=seed)[:6]])


def shots_curves(result: dict) -> Figure:
    """Test accuracy against shots per class (log scale), one line per (init, augmentation), with
    the 95 % confidence band over seeds."""
    summary = stats.summarise(result["metrics"]["rows"], ("shots", "init", "augmentation"))
    fig, ax = plt.subplots(figsize=(6.8, 4.0))
    styles = {("scratch", "none"): ("#7f7f7f", "--"), ("scratch", "augmented"): ("#7f7f7f", "-"),
              ("backbone", "none"): ("#2ca02c", "--"), ("backbone", "augmented"): ("#2ca02c", "-")}
    labels = {("scratch", "none"): _("from scratch, no augmentation"), ("scratch", "augmented"): _("from scratch, augmented"),
              ("backbone", "none"): _("from the backbone, no augmentation"),
              ("backbone", "augmented"): _("from the backbone, augmented")}
    for (init, aug), (color, ls) in styles.items():
        rows = sorted((s for s in summary if s["init"] == init and s["augmentation"] == aug), key=lambda s: s["shots"])
        if not rows:
            continue
        k = [s["shots"] for s in rows]
        mean = [100 * s["accuracy"] for s in rows]
        ci = [100 * s["accuracy_ci95"] for s in rows]
        ax.plot(k, mean, marker="o", ms=4, color=color, ls=ls, label=labels[(init, aug)])
        ax.fill_between(k, [m - c for m, c in zip(mean, ci)], [m + c for m, c in zip(mean, ci)], color=color, alpha=0.12)
    ax.axhline(100 / 5, color="#d62728", lw=1, ls=":", label=say("chance ({classes} classes)", classes=5))
    ax.set_xscale("log")
    shots = sorted({s["shots"] for s in summary})
    ax.set_xticks(shots, [str(s) for s in shots])
    ax.set(xlabel=_("labelled images per class (log scale)"), ylabel=_("test accuracy (%)"),
           title=_("Five novel CIFAR-10 classes from K images each (bands: 95 % interval over seeds)"))
    ax.title.set_fontsize(9.5)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=7.5)
    fig.tight_layout()
    return fig


def ablation_bars(result: dict) -> Figure:
    """Accuracy of each augmentation alone (mean and 95 % interval over seeds), one panel per start,
    against no augmentation (dashed line); green and red mark the variants whose difference from no
    augmentation, paired by seed, is clear of zero upwards and downwards."""
    rows = result["metrics"]["rows"]
    inits = list(dict.fromkeys(r["init"] for r in rows))
    summary = {(s["init"], s["variant"]): s for s in stats.summarise(rows, ("init", "variant"))}
    # one order for every panel: by accuracy in the first one (from scratch), best at the top
    order = sorted((v for i, v in summary if i == inits[0]), key=lambda v: summary[(inits[0], v)]["accuracy"])
    fig, axes = plt.subplots(1, len(inits), figsize=(3.6 * len(inits) + 1.2, 0.3 * len(order) + 1.6), sharey=True,
                             squeeze=False)
    for ax, init in zip(axes[0], inits):
        cells = [summary[(init, v)] for v in order]
        colors = []
        for v in order:
            verdict = stats.compare(seed_values(rows, init=init, variant=v),
                                    seed_values(rows, init=init, variant="none")).verdict
            colors.append("#404040" if v == "none" else
                          {"better": "#2ca02c", "worse": "#d62728", "cannot tell": "#b0b0b0"}[verdict])
        ax.barh([variant_name(v) for v in order], [100 * c["accuracy"] for c in cells],
                xerr=[100 * c["accuracy_ci95"] for c in cells], color=colors, capsize=2)
        ax.axvline(100 * summary[(init, "none")]["accuracy"], color="#404040", lw=1, ls="--")
        low = min(100 * (c["accuracy"] - c["accuracy_ci95"]) for c in cells)
        ax.set_xlim(max(0, low - 5), None)
        ax.set(xlabel=_("test accuracy (%)"), title=_("from the backbone") if init == "backbone" else _("from scratch"))
        ax.title.set_fontsize(9.5)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(say("{shots} images per class, one augmentation at a time (dashed: none; green, red: better, worse "
                     "than none\nbeyond the 95 % interval paired by seed; error bars: 95 % interval over seeds)",
                     shots=result["config"]["shots"]), fontsize=9)
    fig.tight_layout()
    return fig


register("fewshot-augmentations", "fewshot", (), lambda rs: cifar_gallery(),
         "Six CIFAR-10 test images under each augmentation of coursekit.augment, one random draw per image; "
         "mixup and CutMix pair each image with another of its row.")
register("fewshot-shots", "fewshot", ("fewshot_shots",), lambda rs: shots_curves(rs[0]),
         "Accuracy against labelled images per class, with and without augmentation and a backbone.")
register("fewshot-ablation", "fewshot", ("fewshot_ablation",), lambda rs: ablation_bars(rs[0]),
         "Each augmentation alone against none, from scratch and from the backbone (means, 95 % intervals over seeds).")
