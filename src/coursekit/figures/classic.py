"""Figures of chapter "classic": the ILSVRC results, networks drawn from their code, the four
families' learning curves, and the degradation problem."""
from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from torch import nn

from .. import models
from ..experiments.classic import (
    CLASSIC,
    DEGRADATION,
    HUMAN_TOP5_ERROR,
    SHORT_NAMES,
    ilsvrc_table,
    ilsvrc_winners,
)
from ..i18n import _, plural, say
from ..models import inception, resnet
from ..results import RunResult
from .base import lr_range_tests, per_epoch_axes, register


def ilsvrc_top5(human_error: float = HUMAN_TOP5_ERROR) -> Figure:
    """Top-5 error of the ILSVRC classification winners by year (and VGG, 2014's runner-up).

    ``human_error`` is the error of the trained human annotator of Russakovsky et al. (2015).
    """
    rows = ilsvrc_table()
    winners = ilsvrc_winners()
    others = [r for r in rows if winners[r["year"]] != r]
    fig, ax = plt.subplots(figsize=(9, 4.4))
    years = sorted(winners)
    ax.bar(years, [winners[y]["top5_error_percent"] for y in years], width=0.6,
           color=["#9e9e9e" if y < 2012 else "#1f77b4" for y in years])
    for y in years:
        row = winners[y]
        network = row["network"].split(" (")[0]
        label = network if y >= 2012 and len(network) <= 12 else row["team"]
        ax.annotate(say("{network}\n{error:.1f} %", network=label, error=row["top5_error_percent"]),
                    (y, row["top5_error_percent"]), xytext=(0, 3), textcoords="offset points", ha="center",
                    va="bottom", fontsize=7.5)
    for row in others:
        ax.plot(row["year"] + 0.42, row["top5_error_percent"], "D", color="#1f77b4", ms=5, mfc="white")
        ax.annotate(say("{network} (2nd)\n{error:.1f} %", network=row["network"].split(" (")[0],
                        error=row["top5_error_percent"]),
                    (row["year"] + 0.42, row["top5_error_percent"]), xytext=(4, 4), textcoords="offset points",
                    fontsize=7, color="0.35")
    ax.axhline(human_error, color="#d62728", ls="--", lw=1)
    ax.text(years[0] - 0.45, human_error + 0.5, say("human annotator, {error} %", error=human_error), color="#d62728",
            fontsize=8)
    ax.set(xlabel=_("year"), ylabel=_("top-5 error (%)"), ylim=(0, 33),
           title=_("ILSVRC image classification: top-5 error of the winning entries"))
    ax.set_xticks(years)
    fig.tight_layout()
    note = say("Grey: methods without deep networks; blue: convolutional networks. Sources: {sources} (bibliography "
               "keys).", sources="; ".join(sorted({r["source"] for r in rows})))
    fig.text(0.01, 0.005, textwrap.fill(note, 160), fontsize=6.5, color="0.35", va="bottom")
    fig.subplots_adjust(bottom=0.16)
    return fig


_SHOWN_LAYERS = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.Linear, nn.LocalResponseNorm)


_LAYER_COLORS = {"conv": "#1f77b4", "pool": "#ff7f0e", "fc": "#2ca02c", "block": "#9467bd", "norm": "#8c564b"}


def _layer_kind(module: nn.Module) -> tuple[str, str]:
    """The colour key and a short label of a layer, in the papers' notation."""
    if isinstance(module, nn.Conv2d):
        k, s = module.kernel_size, module.stride
        return "conv", f"conv {k[0]}x{k[1]}" + (f"/{s[0]}" if s[0] > 1 else "") + f", {module.out_channels}"
    if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
        kind = "max" if isinstance(module, nn.MaxPool2d) else "avg"
        k = module.kernel_size if isinstance(module.kernel_size, int) else module.kernel_size[0]
        return "pool", f"{kind}pool {k}"
    if isinstance(module, nn.AdaptiveAvgPool2d):
        return "pool", "global avgpool" if module.output_size in (1, (1, 1)) else "avgpool"
    if isinstance(module, nn.Linear):
        return "fc", f"fc {module.out_features}"
    if isinstance(module, nn.LocalResponseNorm):
        return "norm", "LRN"
    return "block", type(module).__name__


def architecture(model: nn.Module, input_size: tuple[int, ...] = (1, 3, 224, 224), title: str | None = None,
                 blocks: tuple[type, ...] = ()) -> Figure:
    """A network drawn from its definition: one box per layer (or per block of a type in ``blocks``),
    in the order the forward pass runs them, its height growing with the map's side, labelled
    with the layer and its output shape."""
    import math

    import torch

    shown = []

    def visit(module: nn.Module) -> None:
        for child in module.children():
            if isinstance(child, blocks) or isinstance(child, _SHOWN_LAYERS):
                shown.append(child)
            else:
                visit(child)

    visit(model)
    outputs: list[tuple[nn.Module, tuple[int, ...]]] = []
    hooks = [m.register_forward_hook(lambda m, i, o: outputs.append((m, tuple(o.shape)))) for m in shown]
    p = next(model.parameters())
    with torch.no_grad():
        was_training = model.training
        model.eval()
        model(torch.zeros(input_size, dtype=p.dtype, device=p.device))
        model.train(was_training)
    for h in hooks:
        h.remove()
    fig, ax = plt.subplots(figsize=(max(6.0, 0.42 * len(outputs) + 1), 3.8))
    full = math.sqrt(input_size[-1])
    for i, (module, shape) in enumerate(outputs):
        kind, label = _layer_kind(module)
        side = shape[-1] if len(shape) == 4 else 1
        height = 0.25 + 0.75 * math.sqrt(side) / full
        ax.add_patch(plt.Rectangle((i - 0.35, -height / 2), 0.7, height, color=_LAYER_COLORS[kind], alpha=0.85))
        size = f"{shape[1]}x{shape[2]}x{shape[3]}" if len(shape) == 4 else f"{shape[1]}"
        ax.text(i, 0.55, label, rotation=90, ha="center", va="bottom", fontsize=7)
        ax.text(i, -0.55, size, rotation=90, ha="center", va="top", fontsize=6.5, color="0.3")
    ax.set_xlim(-0.8, len(outputs) - 0.2)
    ax.set_ylim(-1.6, 1.9)
    ax.axis("off")
    params = sum(q.numel() for q in model.parameters())
    ax.set_title(plural("{network}: {n} unit, {millions:.1f} M parameters, input {shape}",
                        "{network}: {n} units, {millions:.1f} M parameters, input {shape}", len(outputs),
                        network=title or type(model).__name__, millions=params / 1e6,
                        shape="x".join(map(str, input_size[1:]))), fontsize=10)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for k, c in _LAYER_COLORS.items()]
    ax.legend(handles, [_("convolution"), _("pooling"), _("fully connected"), _("block"), _("normalisation")],
              loc="lower center", ncol=5, fontsize=7, frameon=False, bbox_to_anchor=(0.5, -0.12))
    fig.tight_layout()
    return fig


# The ImageNet networks the chapter draws: the builder's name -> the title, and the blocks drawn as one box.
ARCHITECTURES = {
    "alexnet": ("AlexNet (torchvision variant)", ()),
    "vgg16": ("VGG-16", ()),
    "googlenet": ("GoogLeNet", (inception.Inception,)),
    "resnet18": ("ResNet-18", (resnet.BasicBlock,)),
}


def network_architecture(name: str) -> Figure:
    """:func:`architecture` of the network ``name`` of :data:`ARCHITECTURES`, freshly built with 1,000
    classes, on a 224 x 224 input."""
    title, blocks = ARCHITECTURES[name]
    shown = {"AlexNet (torchvision variant)": _("AlexNet (torchvision variant)")}.get(title, title)  # the rest: names
    return architecture(models.create(name, num_classes=1000), input_size=(1, 3, 224, 224), title=shown,
                        blocks=blocks)


def compare_learning_curves(results: list[dict]) -> Figure:
    """Training loss per epoch, and test accuracy at the epochs it was measured (a long run is tested after
    every few), of several runs on one pair of axes, labelled by their titles (translated where the catalogue has
    them: the titles of chapter "classic"'s runs are marked with ``N_``)."""
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.8))
    for r in results:
        epochs = [row["epoch"] for row in r["history"]]
        tested = [row for row in r["history"] if "test_accuracy" in row]
        title = _(r["title"]) if r["title"] else r["title"]  # gettext("") would be the catalogue's header
        ax_loss.plot(epochs, [row["train_loss"] for row in r["history"]], "o-", ms=3, label=title)
        ax_acc.plot([row["epoch"] for row in tested], [100 * row["test_accuracy"] for row in tested], "o-", ms=3,
                    label=title)
    ax_loss.set(xlabel=_("epoch"), ylabel=_("training loss (cross-entropy)"), title=_("Training loss"))
    ax_acc.set(xlabel=_("epoch"), ylabel=_("test accuracy (%)"), title=_("Test accuracy"))
    per_epoch_axes(ax_loss, ax_acc)
    ax_acc.legend(frameon=False, fontsize=7)
    fig.tight_layout()
    return fig


def _seed_curves(result: dict, field: str) -> tuple[list[int], list[float], list[float], list[float]]:
    """Epochs, and the mean, lowest and highest of ``100 * (1 - field)`` over the seeds of ``result``."""
    histories = [s.history for s in RunResult.from_dict(result).seeds]
    epochs = [row["epoch"] for row in histories[0]]
    errors = [[100 * (1 - h[i][field]) for h in histories] for i in range(len(epochs))]
    return epochs, [sum(e) / len(e) for e in errors], [min(e) for e in errors], [max(e) for e in errors]


def degradation(results: list[dict]) -> Figure:
    """Plain networks against ResNets in the manner of He et al.'s Fig. 6: training error (thin) and test
    error (bold) per epoch, mean over seeds with their range shaded; and each convolution's gradient norm
    at initialisation (the first seed)."""
    fig, (ax_plain, ax_res, ax_grad) = plt.subplots(1, 3, figsize=(14, 4.0))
    for r in results:
        plain = r["config"]["model"].startswith("cifar_plain")
        colour = "#d62728" if "56" in r["config"]["model"] else "#1f77b4"
        label = r["config"]["model"].replace("cifar_", "")
        ax = ax_plain if plain else ax_res
        for field, width, kind in (("train_accuracy", 1.0, "train"), ("test_accuracy", 2.2, "test")):
            epochs, mean, low, high = _seed_curves(r, field)
            shown = say("{network} (train)", network=label) if kind == "train" else say("{network} (test)",
                                                                                         network=label)
            ax.plot(epochs, mean, color=colour, lw=width, ls="--" if kind == "train" else "-", label=shown)
            ax.fill_between(epochs, low, high, color=colour, alpha=0.12, lw=0)
        g = r["gradient_norms"]
        ax_grad.semilogy(range(1, len(g["initial"]) + 1), g["initial"], color=colour, ls="--" if plain else "-",
                         label=label)
    seeds = len(RunResult.from_dict(results[0])) if results else 0
    for ax, title in ((ax_plain, _("Plain networks: training (dashed) and test error")),
                      (ax_res, _("ResNets: training (dashed) and test error"))):
        ax.set(xlabel=_("epoch"), ylabel=_("error (%)"), title=title)
        ax.legend(frameon=False, fontsize=7)
        per_epoch_axes(ax)
    top = max(ax.get_ylim()[1] for ax in (ax_plain, ax_res))
    for ax in (ax_plain, ax_res):
        ax.set_ylim(0, top)
    ax_grad.set(xlabel=_("convolution (input side → output side)"), ylabel=_("gradient norm ‖∂L/∂W‖ (log)"),
                title=_("Per-layer weight gradients at initialisation"))
    ax_grad.legend(frameon=False, fontsize=7)
    ax_grad.grid(alpha=0.3)
    fig.suptitle(plural("Mean over {n} seed, range shaded", "Mean over {n} seeds, range shaded", seeds), fontsize=9,
                 y=0.995)
    fig.tight_layout()
    return fig


register("ilsvrc-top5", "classic", (), lambda rs: ilsvrc_top5(),
         "Top-5 error of the ILSVRC classification winners by year.")
register("classic-learning-curves", "classic",
         CLASSIC, compare_learning_curves,
         "AlexNet, VGG, GoogLeNet and ResNet on CIFAR-10 with the same budget.")
register("classic-lr-range-tests", "classic", ("classic_lr_find",),
         lambda rs: lr_range_tests(rs[0], titles=SHORT_NAMES),
         "Learning-rate range tests of the five classic networks: the training loss against the rate, with the "
         "peak rate used (where the smoothed loss is lowest).")
register("degradation", "classic",
         DEGRADATION, degradation,
         "Plain networks against ResNets: training and test error per epoch over seeds, and per-layer gradient norms.")
for _name, (_title, _blocks) in ARCHITECTURES.items():
    register(f"architecture-{_name}", "classic", (), lambda rs, name=_name: network_architecture(name),
             f"{_title} drawn from its definition: one box per layer or block, its height growing with the map's side.")
