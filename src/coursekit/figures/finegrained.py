"""Figures of chapter "finegrained": the classes a network confuses, every way to train it with the
spread over seeds, accuracy against resolution and cost, accuracy by make, and where it looks."""
from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from ..experiments import finegrained as fg
from ..i18n import _, number, say
from .base import overlay_map, register
from .transfer import METHOD_COLORS


def _class_pairs(images, pairs: list[tuple[str, str, int | None]], per_class: int, title: str) -> Figure:
    """``per_class`` images of each pair's first class beside ``per_class`` of its second (seed 0), one
    pair a row, with its count in red where it has one."""
    from .. import data

    fig, axes = plt.subplots(len(pairs), 2 * per_class, figsize=(1.6 * 2 * per_class, 1.45 * len(pairs) + 0.3),
                             squeeze=False)
    for row, (a, b, count) in enumerate(pairs):
        for side, name in enumerate((a, b)):
            label = images.classes.index(name)
            members = (images.labels == label).nonzero().flatten()
            chosen = members[data.stratified_indices(images.labels[members], per_class, seed=0, at_most=True)]
            for k in range(per_class):
                ax = axes[row, side * per_class + k]
                if k < len(chosen):
                    ax.imshow(images.images[chosen[k]].permute(1, 2, 0).numpy())
                ax.axis("off")
            axes[row, side * per_class].set_title(f"{name}", fontsize=7, loc="left")
        if count is not None:
            axes[row, 0].text(-0.08, 0.5, f"{count}×", transform=axes[row, 0].transAxes, ha="right", va="center",
                              fontsize=8, color="#d62728")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def confusable_classes(images, pairs: list[tuple[str, str, int]], per_class: int = 3) -> Figure:
    """For each pair of classes ``(a, b, count)`` (:func:`coursekit.experiments.finegrained.confused_pairs`),
    ``per_class`` images of ``a`` beside ``per_class`` of ``b`` (seed 0), from ``images``
    (an :class:`~coursekit.data.ImageTensors`), with how often the network confused them."""
    return _class_pairs(images, pairs, per_class,
                        _("The pairs of classes fine-tuning confused most (red: how often, both ways)"))


def look_alike_classes(images, pairs: list[tuple[str, str]], per_class: int = 3) -> Figure:
    """For each pair of classes that differ only by their year
    (:func:`coursekit.experiments.finegrained.look_alikes`), ``per_class`` images of each, side by side."""
    return _class_pairs(images, [(a, b, None) for a, b in pairs], per_class,
                        _("Classes that differ only by their year"))


def cars_methods(results: dict[str, dict]) -> Figure:
    """Test accuracy of every way to train on Stanford Cars (``{label: (result, method, variant)}``
    flattened as ``{label: result}`` with the method in the label's result rows): a dot per seed, the mean
    and its 95 % interval, chance as a line."""
    from .. import stats
    from ..results import seed_values

    fig, ax = plt.subplots(figsize=(6.6, 0.42 * len(results) + 1.2))
    classes = None
    for y, (label, (result, method)) in enumerate(results.items()):
        values = list(seed_values(result["metrics"]["rows"], scale=100, method=method).values())
        mean, _sd, half = stats.mean_interval(values)
        color = METHOD_COLORS.get(method, "#7f7f7f")
        ax.errorbar(mean, y, xerr=half if half else None, fmt="o", color=color, capsize=3)
        ax.scatter(values, [y] * len(values), s=10, color=color, alpha=0.4, lw=0)
        ax.annotate(say("{accuracy:.1f} %", accuracy=mean), (mean, y), textcoords="offset points", xytext=(6, 5),
                    fontsize=7, color=color)
        classes = classes or result["provenance"]["data"]["targets"]["stanford-cars"]["classes"]
    ax.axvline(100 / classes, color="#d62728", ls=":", lw=1, label=say("chance (1 in {classes})", classes=classes))
    ax.set_yticks(range(len(results)), list(results), fontsize=8)
    ax.invert_yaxis()
    ax.set(xlabel=_("test accuracy (%)"), xlim=(0, 100), title=_("Stanford Cars: from scratch, probed, fine-tuned"))
    ax.title.set_fontsize(9.5)
    ax.grid(axis="x", alpha=0.3)
    ax.margins(y=0.12)  # room for the top row's label
    ax.legend(frameon=False, fontsize=7.5, loc="upper right")
    fig.tight_layout()
    return fig


def resolution_cost(by_pixels: dict[int, dict]) -> Figure:
    """Probe and fine-tuning accuracy (first seed) against the input's side in pixels, and fine-tuning's
    training minutes beside it."""
    from ..results import seed_values

    sizes = sorted(by_pixels)
    fig, (ax, cost) = plt.subplots(1, 2, figsize=(8.4, 3.2))
    for method in ("deep probe", "fine-tune"):
        accs = [seed_values(by_pixels[p]["metrics"]["rows"], scale=100, method=method)[by_pixels[p]["config"]["seeds"][0]]
                for p in sizes]
        ax.plot(sizes, accs, "o-", color=METHOD_COLORS[method], label=fg.method_name(method))
        for p, a in zip(sizes, accs):
            ax.annotate(number(a, ".1f"), (p, a), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=7)
    minutes = [next(r["seconds"] for r in experiment_rows(by_pixels[p], "fine-tune")) / 60 for p in sizes]
    cost.bar([str(p) for p in sizes], minutes, color=METHOD_COLORS["fine-tune"])
    ax.set(xlabel=_("input side (pixels)"), ylabel=_("test accuracy (%)"), title=_("Accuracy (first seed)"), xticks=sizes)
    cost.set(xlabel=_("input side (pixels)"), ylabel=_("minutes"), title=_("Fine-tuning's training time on this machine"))
    for a in (ax, cost):
        a.title.set_fontsize(9.5)
        a.grid(axis="y", alpha=0.3)
    ax.margins(y=0.15)  # room for the labels above the points
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def experiment_rows(result: dict, method: str) -> list[dict]:
    """The rows of ``result``'s first seed trained with ``method``."""
    seed = result["config"]["seeds"][0]
    return [r for r in result["metrics"]["rows"] if r["method"] == method and r["seed"] == seed]


def make_accuracy(result: dict, classes: tuple[str, ...] | list[str], least: int = 10) -> Figure:
    """Fine-tuning's test accuracy (first seed) by make, for the makes with at least ``least`` test
    images, worst first, each bar labelled with its number of test images."""
    per_make: dict[str, list[int]] = {}
    for true, predicted, n in experiment_rows(result, "fine-tune")[0]["confusion"]:
        counts = per_make.setdefault(fg.make_of(classes[true]), [0, 0])
        counts[0] += n if true == predicted else 0
        counts[1] += n
    shown = sorted(((100 * r / n, m, n) for m, (r, n) in per_make.items() if n >= least))
    fig, ax = plt.subplots(figsize=(7.2, 0.2 * len(shown) + 1.0))
    ax.barh(range(len(shown)), [a for a, _m, _n in shown], color=METHOD_COLORS["fine-tune"])
    for y, (a, _m, n) in enumerate(shown):
        ax.text(a + 1, y, say("{accuracy:.0f} % of {images}", accuracy=a, images=n), va="center", fontsize=6.5)
    ax.set_yticks(range(len(shown)), [m for _a, m, _n in shown], fontsize=7)
    ax.set(xlabel=_("test accuracy (%)"), xlim=(0, 110), title=_("Fine-tuning's accuracy by make (first seed)"))
    ax.title.set_fontsize(9.5)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def where_it_looks(result: dict, test) -> Figure:
    """The Grad-CAM maps stored with the fine-tuning run of the first seed: test images it got right
    (top) and wrong (bottom), each titled with the prediction (and, when wrong, the truth)."""
    found = experiment_rows(result, "fine-tune")[0]["gradcam"]
    count = len(found["images"])
    right = [i for i, (k, p) in enumerate(zip(found["images"], found["predicted"])) if int(test.labels[k]) == p]
    wrong = [i for i in range(count) if i not in right]
    columns = max(len(right), len(wrong), 1)
    fig, axes = plt.subplots(2, columns, figsize=(1.7 * columns, 4.4), squeeze=False)
    for row, chosen in enumerate((right, wrong)):
        for col in range(columns):
            ax = axes[row, col]
            ax.axis("off")
            if col >= len(chosen):
                continue
            i = chosen[col]
            k, predicted = found["images"][i], found["predicted"][i]
            overlay_map(ax, test.images[k], found["maps"][i])
            said = textwrap.fill(test.classes[predicted], 24)
            title = said if row == 0 else say("{said}\n(true: {truth})", said=said,
                                              truth=textwrap.fill(test.classes[int(test.labels[k])], 24))
            ax.set_title(title, fontsize=5.5, color="black" if row == 0 else "#d62728")
    axes[0, 0].text(-0.1, 0.5, _("right"), transform=axes[0, 0].transAxes, rotation=90, ha="right", va="center",
                    fontsize=8)
    axes[1, 0].text(-0.1, 0.5, _("wrong"), transform=axes[1, 0].transAxes, rotation=90, ha="right", va="center",
                    fontsize=8)
    fig.suptitle(say("Grad-CAM of the fine-tuned network ({layer}): where the evidence for its answer lies",
                     layer=found["layer"]), fontsize=9)
    fig.tight_layout()
    return fig


def position_interpolation(side: int = 14, new_side: int = 24, dim: int = 96) -> Figure:
    """Why a ViT can be fine-tuned at another resolution: its ``side`` x ``side`` grid of position
    embeddings is resampled (bicubic, timm's ``resample_abs_pos_embed``) to ``new_side`` x ``new_side``,
    the grid that the larger image's patches make. Shown on 2-D sine-cosine embeddings, a stand-in for
    learned ones, which are smooth across the grid in the same way: one channel as an image, and how
    similar (cosine) each position's embedding is to that of the position at a third of the way across."""
    import torch.nn.functional as F

    from ..models.weights import timm_module

    timm_module()  # timm imported quietly first: its hub client warns in a notebook without widgets
    from timm.layers import build_sincos2d_pos_embed, resample_abs_pos_embed

    before = build_sincos2d_pos_embed([side, side], dim, temperature=100.0)[None]  # (1, side^2, dim)
    after = resample_abs_pos_embed(before, [new_side, new_side], [side, side], num_prefix_tokens=0)
    fig, axes = plt.subplots(2, 2, figsize=(6.2, 6.0))
    for col, (grid, n) in enumerate(((before, side), (after, new_side))):
        axes[0, col].imshow(grid[0, :, dim // 2 + 3].view(n, n).numpy(), cmap="coolwarm")
        axes[0, col].set_title(say("one channel of the embeddings, {n} x {n}", n=n), fontsize=8)
        anchor = (n // 3) * n + n // 3
        similarity = F.cosine_similarity(grid[0], grid[0, anchor][None], dim=1).view(n, n)
        axes[1, col].imshow(similarity.numpy(), cmap="viridis", vmin=-1, vmax=1)
        axes[1, col].plot(n // 3, n // 3, "r+", ms=10)
        axes[1, col].set_title(say("similarity to the marked position, {n} x {n}", n=n), fontsize=8)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(say("Position embeddings resampled from {side} x {side} to {new_side} x {new_side} patches\n"
                     "({pixels} to {new_pixels} pixels with 16-pixel patches)", side=side, new_side=new_side,
                     pixels=side * 16, new_pixels=new_side * 16), fontsize=9)
    fig.tight_layout()
    return fig


register("cars-position-interpolation", "finegrained", (), lambda rs: position_interpolation(),
         "A ViT's position embeddings resampled to a larger grid")


def _test_images(result: dict):
    """The test photos at the size the run ``result`` saw (what the figures below show of it)."""
    from .. import data

    return data.load_stanford_cars("test", result["config"]["image_size"])


def most_confused(result: dict, top: int = 3) -> Figure:
    """Test photos of the ``top`` pairs of classes that the first fine-tuning seed of ``result`` confused most."""
    test = _test_images(result)
    first = experiment_rows(result, "fine-tune")[0]
    return confusable_classes(test, fg.confused_pairs(first["confusion"], test.classes)[:top])


register("cars-confusable", "finegrained", ("cars_finetune",), lambda rs: most_confused(rs[0]),
         "Test photos of the pairs of classes fine-tuning confused most (first seed).")
register("cars-makes", "finegrained", ("cars_finetune",), lambda rs: make_accuracy(rs[0], _test_images(rs[0]).classes),
         "Fine-tuning's test accuracy by make (first seed).")
register("cars-gradcam", "finegrained", ("cars_finetune",), lambda rs: where_it_looks(rs[0], _test_images(rs[0])),
         "Grad-CAM of the fine-tuned network on test photos it got right and wrong (first seed).")
register("cars-methods", "finegrained", ("cars_scratch_resnet", "cars_scratch_vit", "cars_finetune"),
         lambda rs: cars_methods(fg.compared_runs(*rs)),
         "Test accuracy on Stanford Cars of every way the chapter trains, a dot a seed, the mean and its 95 % interval.")
register("cars-resolution", "finegrained", ("cars_finetune",) + tuple(f"cars_res_{p}" for p in fg.RESOLUTIONS),
         lambda rs: resolution_cost(fg.by_pixels(rs)),
         "Probe and fine-tuning accuracy against the input's side (first seed), and fine-tuning's training time.")
