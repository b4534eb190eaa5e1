"""Figures drawn from stored results, each captioned with the run it shows.

A figure is a function of one (or several) results from `coursekit.experiments`, so the book,
a notebook and ``coursekit figures`` (PNG/SVG/PDF for slides) draw the same picture from the
same numbers. Every figure carries its provenance line at the bottom, so a copy on a slide still
says which run it shows.
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from torch import nn

from . import experiments

if TYPE_CHECKING:
    import torch

TRAIN_COLOR, TEST_COLOR = "#1f77b4", "#d62728"


def add_provenance(fig: Figure, *results: dict) -> Figure:
    """Write the provenance line of each result under the figure."""
    text = "\n".join(textwrap.fill(experiments.provenance_line(r), 150) for r in results)
    lines = text.count("\n") + 1
    # Grow the figure downwards: the axes keep their size, the text gets its own strip below them.
    width, height = fig.get_size_inches()
    strip = lines * 6.5 * 1.35 / 72 + 0.15  # inches for the text, at 6.5 pt per line
    bottom = fig.subplotpars.bottom * height
    fig.set_size_inches(width, height + strip)
    fig.subplots_adjust(bottom=(bottom + strip) / (height + strip), top=1 - (1 - fig.subplotpars.top) * height / (height + strip))
    fig.text(0.01, 0.01, text, fontsize=6.5, color="0.35", ha="left", va="bottom")
    return fig


def learning_curves(result: dict) -> Figure:
    """Training and test loss and accuracy per epoch."""
    history = result["history"]
    epochs = [row["epoch"] for row in history]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.6))
    ax_loss.plot(epochs, [r["train_loss"] for r in history], "o-", color=TRAIN_COLOR, label="training")
    ax_acc.plot(epochs, [100 * r["train_accuracy"] for r in history], "o-", color=TRAIN_COLOR,
                label="training (augmented batches)")
    if "test_loss" in history[0]:
        ax_loss.plot(epochs, [r["test_loss"] for r in history], "s-", color=TEST_COLOR, label="test")
        ax_acc.plot(epochs, [100 * r["test_accuracy"] for r in history], "s-", color=TEST_COLOR, label="test")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy loss", title="Loss")
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="Accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend(frameon=False)
        ax.xaxis.get_major_locator().set_params(integer=True)
    fig.suptitle(result["title"], fontsize=11)
    fig.tight_layout()
    return add_provenance(fig, result)


def _draw_confusion(ax, result: dict, fontsize: float = 7) -> "object":
    import numpy as np

    counts = np.array(result["metrics"]["confusion"], dtype=float)
    classes = result["metrics"].get("classes") or [str(i) for i in range(len(counts))]
    share = 100 * counts / counts.sum(1, keepdims=True).clip(min=1)
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=100)
    for i in range(len(classes)):
        for j in range(len(classes)):
            if counts[i, j]:
                ax.text(j, i, f"{share[i, j]:.0f}", ha="center", va="center", fontsize=fontsize,
                        color="white" if share[i, j] > 55 else "black")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set(xlabel="predicted class", ylabel="true class")
    return image


def confusion_matrix(result: dict) -> Figure:
    """The test-set confusion matrix, each row normalised to the true class's images (recall)."""
    fig, ax = plt.subplots(figsize=(6.4, 6.0))
    image = _draw_confusion(ax, result)
    ax.set_title(f"Confusion matrix (% of each true class), accuracy {100 * result['metrics']['accuracy']:.1f} %")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="% of the true class")
    fig.tight_layout()
    return add_provenance(fig, result)


def confusion_matrices(results: list[dict], titles: list[str]) -> Figure:
    """Several confusion matrices side by side (rows normalised to the true class)."""
    fig, axes = plt.subplots(1, len(results), figsize=(4.6 * len(results), 4.8), squeeze=False)
    for ax, result, title in zip(axes[0], results, titles):
        _draw_confusion(ax, result, fontsize=6)
        ax.set_title(f"{title}: {100 * result['metrics']['accuracy']:.1f} %", fontsize=10)
    fig.tight_layout()
    return add_provenance(fig, *results)


def examples(dataset, per_class: int = 8, seed: int = 0) -> Figure:
    """A grid of ``per_class`` images of every class of an :class:`~coursekit.data.ImageTensors` set."""
    from .data import stratified_indices

    idx = stratified_indices(dataset.labels, per_class, seed)
    rows = len(dataset.classes)
    fig, axes = plt.subplots(rows, per_class, figsize=(per_class * 0.8, rows * 0.85))
    for row, name in enumerate(dataset.classes):
        picks = idx[dataset.labels[idx] == row]
        for col, ax in enumerate(axes[row]):
            ax.imshow(dataset.images[picks[col]].permute(1, 2, 0).numpy())
            ax.set_xticks([])
            ax.set_yticks([])
        axes[row][0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
    source = dataset.source
    fig.text(0.01, 0.0, f"{source.get('description', source.get('kind'))}, {len(dataset):,} images",
             fontsize=6.5, color="0.35", ha="left", va="top")
    fig.subplots_adjust(wspace=0.05, hspace=0.05, left=0.15)
    return fig


def image_rows(rows: dict[str, "torch.Tensor"], size: float = 0.9) -> Figure:
    """One row of images per entry of ``rows`` (uint8 tensors (N, 3, H, W)), titled by its key."""
    n = max(len(images) for images in rows.values())
    fig, axes = plt.subplots(len(rows), n, figsize=(n * size, len(rows) * size * 1.3), squeeze=False)
    for r, (title, images) in enumerate(rows.items()):
        for c, ax in enumerate(axes[r]):
            if c < len(images):
                ax.imshow(images[c].permute(1, 2, 0).cpu().numpy())
            ax.axis("off")
        axes[r][0].set_title(title, loc="left", fontsize=9)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.93, wspace=0.06, hspace=0.3)
    return fig


@dataclass(frozen=True)
class NamedFigure:
    """A figure the CLI can export: the experiments it draws (possibly none) and how."""

    name: str
    experiments: tuple[str, ...]
    draw: Callable[[list[dict]], Figure]
    caption: str


def _named() -> dict[str, NamedFigure]:
    from .experiments import CLASSIC, DEGRADATION

    return {f.name: f for f in [
        NamedFigure("intro-learning-curves", ("intro_cnn",), lambda rs: learning_curves(rs[0]),
                    "Loss and accuracy per epoch of the introduction's small CNN on CIFAR-10."),
        NamedFigure("intro-confusion-matrix", ("intro_cnn",), lambda rs: confusion_matrix(rs[0]),
                    "Which CIFAR-10 classes the introduction's small CNN confuses."),
        NamedFigure("ilsvrc-top5", (), lambda rs: ilsvrc_top5(),
                    "Top-5 error of the ILSVRC classification winners by year."),
        NamedFigure("model-zoo", (), lambda rs: model_zoo(),
                    "ImageNet accuracy against computation for every torchvision classifier."),
        NamedFigure("classic-learning-curves", tuple(CLASSIC), compare_learning_curves,
                    "AlexNet, VGG, GoogLeNet and ResNet on CIFAR-10 with the same budget."),
        NamedFigure("degradation", tuple(DEGRADATION), degradation,
                    "Plain networks against ResNets: training loss and per-layer gradient norms."),
        NamedFigure("transfer-decision", ("transfer_decision",), lambda rs: transfer_comparison(rs[0]),
                    "Probes, fine-tuning and training from scratch on similar and different, small and large targets."),
        NamedFigure("transfer-targets", ("transfer_targets",), lambda rs: transfer_comparison(rs[0]),
                    "The four ways of reusing a CIFAR-10 ResNet-20 on three more data sets."),
        NamedFigure("fewshot-shots", ("fewshot_shots",), lambda rs: shots_curves(rs[0]),
                    "Accuracy against labelled images per class, with and without augmentation and a backbone."),
        NamedFigure("fewshot-ablation", ("fewshot_ablation",), lambda rs: ablation_bars(rs[0]),
                    "Which augmentations help at five images per class."),
    ]}


def draw(name: str, profile: str | None = None) -> Figure:
    """Draw the named figure from the stored results (training them first if none are stored)."""
    spec = FIGURES[name]
    return spec.draw([experiments.run(e, profile) for e in spec.experiments])


def export(out_dir: str | Path, formats: tuple[str, ...] = ("png",), profile: str | None = None,
           names: list[str] | None = None, dpi: int = 200) -> tuple[list[Path], list[str]]:
    """Save the named figures whose results are stored, in each format, for slides.

    Returns the files written and the figures skipped because an experiment they draw has no stored
    result for ``profile`` (run ``coursekit regenerate`` first).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written, skipped = [], []
    for name in names or list(FIGURES):
        if name not in FIGURES:
            raise KeyError(f"unknown figure {name!r}; known: {', '.join(FIGURES)}")
        spec = FIGURES[name]
        results = [experiments.load(e, profile) for e in spec.experiments]
        if any(r is None for r in results):
            skipped.append(name)
            continue
        fig = spec.draw(results)
        for fmt in formats:
            path = out_dir / f"{name}.{fmt}"
            tmp = path.with_name(f".{path.stem}.tmp.{fmt}")
            fig.savefig(tmp, dpi=dpi, bbox_inches="tight")
            tmp.replace(path)
            written.append(path)
        plt.close(fig)
    return written, skipped

# --- chapter "classic" ----------------------------------------------------------------------------

def ilsvrc_table() -> list[dict]:
    """ILSVRC classification results by year (top-5 error), with the source of each row."""
    import csv
    from importlib.resources import files

    with files("coursekit").joinpath("tables/ilsvrc_top5.csv").open(encoding="utf-8") as f:
        return [dict(row, year=int(row["year"]), top5_error_percent=float(row["top5_error_percent"]))
                for row in csv.DictReader(f)]


def ilsvrc_winners() -> dict[int, dict]:
    """The best ILSVRC classification entry of each year (the row of :func:`ilsvrc_table`)."""
    winners: dict[int, dict] = {}
    for row in ilsvrc_table():
        if row["year"] not in winners or row["top5_error_percent"] < winners[row["year"]]["top5_error_percent"]:
            winners[row["year"]] = row
    return winners


# Top-5 error of the trained human annotator of Russakovsky et al. (2015), section 6.4.
HUMAN_TOP5_ERROR = 5.1


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
        ax.annotate(f"{label}\n{row['top5_error_percent']:.1f} %", (y, row["top5_error_percent"]), xytext=(0, 3),
                    textcoords="offset points", ha="center", va="bottom", fontsize=7.5)
    for row in others:
        ax.plot(row["year"] + 0.42, row["top5_error_percent"], "D", color="#1f77b4", ms=5, mfc="white")
        ax.annotate(f"{row['network'].split(' (')[0]} (2nd)\n{row['top5_error_percent']:.1f} %",
                    (row["year"] + 0.42, row["top5_error_percent"]), xytext=(4, 4), textcoords="offset points",
                    fontsize=7, color="0.35")
    ax.axhline(human_error, color="#d62728", ls="--", lw=1)
    ax.text(years[0] - 0.45, human_error + 0.5, f"human annotator, {human_error} %", color="#d62728", fontsize=8)
    ax.set(xlabel="year", ylabel="top-5 error (%)", ylim=(0, 33),
           title="ILSVRC image classification: top-5 error of the winning entries")
    ax.set_xticks(years)
    fig.tight_layout()
    note = ("Grey: methods without deep networks; blue: convolutional networks. Sources: "
            + "; ".join(sorted({r["source"] for r in rows})) + " (bibliography keys).")
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
    ax.set_title(f"{title or type(model).__name__}: {len(outputs)} units, {params / 1e6:.1f} M parameters, "
                 f"input {'x'.join(map(str, input_size[1:]))}", fontsize=10)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for k, c in _LAYER_COLORS.items()]
    ax.legend(handles, ["convolution", "pooling", "fully connected", "block", "normalisation"],
              loc="lower center", ncol=5, fontsize=7, frameon=False, bbox_to_anchor=(0.5, -0.12))
    fig.tight_layout()
    return fig


# --- the torchvision model zoo -------------------------------------------------------------------

CLASSIC_ZOO = ("alexnet", "vgg16", "googlenet", "inception_v3", "resnet50", "resnet152")


def zoo_table() -> list[dict]:
    """Every torchvision ImageNet classifier's default weights: accuracy, GFLOPs, parameters.

    Read from torchvision's own weight metadata (``weights.meta``), which needs no download.
    """
    import torchvision
    from torchvision import models as tvm

    rows = []
    for name in tvm.list_models(module=tvm):
        meta = tvm.get_model_weights(name).DEFAULT.meta
        metrics = meta.get("_metrics", {}).get("ImageNet-1K", {})
        if "acc@1" in metrics and "_ops" in meta:
            rows.append(dict(name=name, top1=metrics["acc@1"], top5=metrics["acc@5"], gflops=meta["_ops"],
                             params=meta["num_params"], torchvision=torchvision.__version__))
    return rows


def model_zoo(highlight: tuple[str, ...] = CLASSIC_ZOO) -> Figure:
    """ImageNet top-1 accuracy against GFLOPs for torchvision's classifiers (marker area = parameters)."""
    rows = zoo_table()
    fig, ax = plt.subplots(figsize=(9, 5.2))
    sizes = [8 + 350 * r["params"] / max(q["params"] for q in rows) for r in rows]
    colors = ["#d62728" if r["name"] in highlight else "#1f77b4" for r in rows]
    ax.scatter([r["gflops"] for r in rows], [r["top1"] for r in rows], s=sizes, c=colors, alpha=0.55,
               edgecolors="white", linewidths=0.5)
    for r in rows:
        if r["name"] in highlight or r["top1"] == max(q["top1"] for q in rows):
            ax.annotate(r["name"], (r["gflops"], r["top1"]), xytext=(4, -3), textcoords="offset points", fontsize=7.5)
    ax.set_xscale("log")
    ax.set(xlabel="GFLOPs per image (log scale)", ylabel="ImageNet-1K top-1 accuracy (%)",
           title=f"The torchvision model zoo: {len(rows)} ImageNet classifiers (red: the classic networks)")
    ax.grid(alpha=0.3, which="both")
    ax.set_xlim(left=min(r["gflops"] for r in rows) / 1.5)
    largest = max(rows, key=lambda r: r["params"])
    fig.text(0.01, 0.005, f"Marker area proportional to parameters (largest: {largest['name']}, "
             f"{largest['params'] / 1e6:.0f} M). Data: the weight metadata of torchvision {rows[0]['torchvision']} "
             f"(DEFAULT weights, single-crop validation accuracy as torchvision reports it).",
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
        ax_bar.set_xlabel("probability (%)", fontsize=7)
    fig.tight_layout()
    return fig


def results_table(results: list[dict]) -> str:
    """A Markdown table comparing trained networks: size, cost and accuracy, from stored results."""
    from .book import markdown_table

    rows = []
    for r in results:
        c, m = r["cost"], r["metrics"]
        rows.append([r["title"], f"{c['parameters'] / 1e6:.2f} M", f"{c['macs'] / 1e6:,.0f} M",
                     f"{100 * m['accuracy']:.1f} %", f"{m['macro_f1']:.3f}", f"{m['loss']:.3f}",
                     f"{c['train_seconds'] / 60:.1f} min", f"{c['images_per_second']:,.0f}",
                     f"{c['peak_memory_mb']:,.0f} MB"])
    kinds = {r["cost"].get("peak_memory_kind", "") for r in results}
    return markdown_table(["network", "parameters", "MACs / image", "test accuracy", "macro-F1", "test loss",
                           "training time", "images/s (training)",
                           f"peak memory ({kinds.pop()})" if len(kinds) == 1 else "peak memory"], rows)


def compare_learning_curves(results: list[dict]) -> Figure:
    """Training loss and test accuracy per epoch of several runs on one pair of axes."""
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.8))
    for r in results:
        epochs = [row["epoch"] for row in r["history"]]
        ax_loss.plot(epochs, [row["train_loss"] for row in r["history"]], "o-", ms=3, label=r["title"])
        ax_acc.plot(epochs, [100 * row["test_accuracy"] for row in r["history"]], "o-", ms=3, label=r["title"])
    ax_loss.set(xlabel="epoch", ylabel="training loss (cross-entropy)", title="Training loss")
    ax_acc.set(xlabel="epoch", ylabel="test accuracy (%)", title="Test accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    ax_acc.legend(frameon=False, fontsize=7)
    fig.tight_layout()
    return add_provenance(fig, *results)


def degradation(results: list[dict]) -> Figure:
    """Plain networks against ResNets: training loss per epoch, and each convolution's gradient norm."""
    fig, (ax_loss, ax_grad) = plt.subplots(1, 2, figsize=(11, 4.0))
    for r in results:
        plain = r["config"]["model"].startswith("cifar_plain")
        style = dict(ls="--" if plain else "-", color="#d62728" if "56" in r["config"]["model"] else "#1f77b4")
        label = r["config"]["model"].replace("cifar_", "")
        epochs = [row["epoch"] for row in r["history"]]
        ax_loss.plot(epochs, [row["train_loss"] for row in r["history"]], marker="o", ms=3, label=label, **style)
        g = r["gradient_norms"]
        ax_grad.semilogy(range(1, len(g["initial"]) + 1), g["initial"], label=f"{label} (initialisation)", **style)
    ax_loss.set(xlabel="epoch", ylabel="training loss (cross-entropy)",
                title="Training loss")
    ax_grad.set(xlabel="convolution (input side → output side)", ylabel="gradient norm ‖∂L/∂W‖ (log)",
                title="Per-layer gradient norms at initialisation")
    for ax in (ax_loss, ax_grad):
        ax.grid(alpha=0.3)
        ax.legend(frameon=False, fontsize=7)
    ax_loss.xaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    return add_provenance(fig, *results)


FIGURES: dict[str, NamedFigure] = _named()


# --- chapter "transfer" ---------------------------------------------------------------------------

METHOD_COLORS = {"deep probe": "#1f77b4", "early probe": "#9ecae1", "fine-tune": "#2ca02c", "scratch": "#7f7f7f"}


def transfer_comparison(result: dict) -> Figure:
    """Test accuracy of every method on every (target, size): bars with the spread over seeds."""
    from .transfer import TARGETS

    methods = result["config"]["methods"]
    targets = list(dict.fromkeys((s["target"], s["size"]) for s in result["metrics"]["summary"]))
    summary = {(s["target"], s["size"], s["method"]): s for s in result["metrics"]["summary"]}
    fig, ax = plt.subplots(figsize=(max(6.0, 1.9 * len(targets) + 1.5), 3.9))
    width = 0.8 / len(methods)
    for i, method in enumerate(methods):
        rows = [summary[(t, size, method)] for t, size in targets]
        xs = [g + (i - (len(methods) - 1) / 2) * width for g in range(len(targets))]
        means = [100 * r["accuracy"] for r in rows]
        spread = [100 * r["accuracy_std"] for r in rows]
        ax.bar(xs, means, width, yerr=spread if any(spread) else None, capsize=2, label=method,
               color=METHOD_COLORS.get(method), edgecolor="white", linewidth=0.5)
        for x, m, sd in zip(xs, means, spread):
            ax.text(x, m + sd + 1, f"{m:.0f}", ha="center", va="bottom", fontsize=6.5)
    for g, (t, size) in enumerate(targets):  # chance: one over the number of classes
        classes = result["provenance"]["data"]["targets"][t]["classes"]
        ax.plot([g - 0.42, g + 0.42], [100 / classes] * 2, color="#d62728", lw=1, ls=":")
    runs = {s["runs"] for s in result["metrics"]["summary"]}
    ax.set_xticks(range(len(targets)), [f"{TARGETS[t].title}\n{size}: {summary[(t, size, methods[0])]['train_images']:,} images"
                                        for t, size in targets], fontsize=8)
    ax.set(ylabel="test accuracy (%)", ylim=(0, 105),
           title=result["title"] + (f"\nmean over {max(runs)} seeds (bars: ± one standard deviation)" if max(runs) > 1 else ""))
    ax.title.set_fontsize(9.5)
    ax.plot([], [], color="#d62728", lw=1, ls=":", label="chance")
    ax.legend(frameon=False, fontsize=7.5, ncol=len(methods) + 1, loc="upper center", bbox_to_anchor=(0.5, -0.2))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return add_provenance(fig, result)


def transfer_table(result: dict) -> str:
    """A Markdown table: one row per (target, size), one column per method (mean ± std over seeds)."""
    from .book import markdown_table
    from .transfer import TARGETS

    methods = result["config"]["methods"]
    summary = {(s["target"], s["size"], s["method"]): s for s in result["metrics"]["summary"]}
    rows = []
    for t, size in dict.fromkeys((s["target"], s["size"]) for s in result["metrics"]["summary"]):
        cells = []
        for m in methods:
            s = summary[(t, size, m)]
            cells.append(f"{100 * s['accuracy']:.1f} %" + (f" ± {100 * s['accuracy_std']:.1f}" if s["runs"] > 1 else ""))
        best = max(methods, key=lambda m: summary[(t, size, m)]["accuracy"])
        cells = [f"**{c}**" if m == best else c for c, m in zip(cells, methods)]
        classes = result["provenance"]["data"]["targets"][t]["classes"]
        rows.append([TARGETS[t].title, f"{size} ({summary[(t, size, methods[0])]['train_images']:,})", str(classes), *cells])
    return markdown_table(["target", "training images", "classes", *methods], rows)


# --- chapter "fewshot" ----------------------------------------------------------------------------

def augmentation_gallery(images: "torch.Tensor", seed: int = 0) -> Figure:
    """The same images under each augmentation of :mod:`coursekit.augment`, one row each."""
    import torch

    from . import augment

    g = lambda k: torch.Generator().manual_seed(seed * 100 + k)  # noqa: E731
    labels = torch.zeros(len(images), dtype=torch.long)
    rows = {
        "original": images,
        "rotation (up to ±20°)": augment.rotate(images, 20, generator=g(1)),
        "horizontal flip": images.flip(-1),
        "Gaussian noise (σ = 0.05)": augment.gaussian_noise(images, 0.05, generator=g(2)),
        "elastic deformation": augment.elastic(images, generator=g(3)),
        "per-channel (RGB) contrast": augment.channel_contrast(images, 0.5, generator=g(4)),
        "random crop (4 px padding)": augment.random_crop(images, 4, generator=g(5)),
        "colour jitter": augment.color_jitter(images, generator=g(6)),
        "cutout (8 × 8)": augment.cutout(images, 8, generator=g(7)),
        "mixup (with another image of the row)": augment.mixup(images, labels, 1, generator=g(8))[0],
        "CutMix (with another image of the row)": augment.cutmix(images, labels, 1, generator=g(9))[0],
        "TrivialAugment (one random operation each)": augment.trivial_augment(images, generator=g(10)),
    }
    return image_rows(rows, size=0.85)


def _cell(d: dict, value: str, percent: bool = True) -> str:
    scale = 100 if percent else 1
    ci = d.get(f"{value}_ci95", d.get("ci95")) if value == "accuracy" else None
    text = f"{scale * d[value]:.1f}" + (" %" if percent else "")
    return text + (f" ± {scale * ci:.1f}" if ci else "")


def pivot_table(rows: list[dict], index: tuple[str, ...], column: str, value: str = "accuracy",
                names: dict[str, str] | None = None) -> str:
    """A Markdown table of ``value`` (mean ± 95 % half-width where known): one row per ``index``
    combination, one column per value of ``column``; the best cell of each row in bold."""
    from .book import markdown_table

    names = names or {}
    columns = list(dict.fromkeys(r[column] for r in rows))
    table = {}
    for r in rows:
        table.setdefault(tuple(r[k] for k in index), {})[r[column]] = r
    body = []
    for key, cells in table.items():
        best = max(cells, key=lambda c: cells[c][value])
        body.append([*map(str, key), *[("**" + _cell(cells[c], value) + "**" if c == best else _cell(cells[c], value))
                                       if c in cells else "" for c in columns]])
    return markdown_table([*(names.get(k, k) for k in index), *(names.get(str(c), str(c)) for c in columns)], body)


def shots_curves(result: dict) -> Figure:
    """Test accuracy against shots per class (log scale), one line per (init, augmentation), with
    the 95 % confidence band over seeds."""
    summary = experiments.summarise(result["metrics"]["rows"], ("shots", "init", "augmentation"))
    fig, ax = plt.subplots(figsize=(6.8, 4.0))
    styles = {("scratch", "none"): ("#7f7f7f", "--"), ("scratch", "augmented"): ("#7f7f7f", "-"),
              ("backbone", "none"): ("#2ca02c", "--"), ("backbone", "augmented"): ("#2ca02c", "-")}
    for (init, aug), (color, ls) in styles.items():
        rows = sorted((s for s in summary if s["init"] == init and s["augmentation"] == aug), key=lambda s: s["shots"])
        if not rows:
            continue
        k = [s["shots"] for s in rows]
        mean = [100 * s["accuracy"] for s in rows]
        ci = [100 * s["accuracy_ci95"] for s in rows]
        label = f"{'from the backbone' if init == 'backbone' else 'from scratch'}, {'augmented' if aug == 'augmented' else 'no augmentation'}"
        ax.plot(k, mean, marker="o", ms=4, color=color, ls=ls, label=label)
        ax.fill_between(k, [m - c for m, c in zip(mean, ci)], [m + c for m, c in zip(mean, ci)], color=color, alpha=0.12)
    ax.axhline(100 / 5, color="#d62728", lw=1, ls=":", label="chance (5 classes)")
    ax.set_xscale("log")
    shots = sorted({s["shots"] for s in summary})
    ax.set_xticks(shots, [str(s) for s in shots])
    ax.set(xlabel="labelled images per class (log scale)", ylabel="test accuracy (%)",
           title="Five novel CIFAR-10 classes from K images each (bands: 95 % interval over seeds)")
    ax.title.set_fontsize(9.5)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=7.5)
    fig.tight_layout()
    return add_provenance(fig, result)


def ablation_bars(result: dict) -> Figure:
    """Accuracy of each augmentation alone (mean and 95 % interval over seeds), sorted, against none."""
    summary = sorted(experiments.summarise(result["metrics"]["rows"], ("variant",)), key=lambda s: s["accuracy"])
    fig, ax = plt.subplots(figsize=(6.8, 0.3 * len(summary) + 1.4))
    none = next((s for s in summary if s["variant"] == "none"), None)
    colors = ["#7f7f7f" if s["variant"] == "none" else "#2ca02c" if none and s["accuracy"] > none["accuracy"] else "#d62728"
              for s in summary]
    ax.barh([s["variant"].replace("+", " + ") for s in summary], [100 * s["accuracy"] for s in summary],
            xerr=[100 * s["accuracy_ci95"] for s in summary], color=colors, capsize=2)
    if none:
        ax.axvline(100 * none["accuracy"], color="#7f7f7f", lw=1, ls="--")
    low = min(100 * (s["accuracy"] - s["accuracy_ci95"]) for s in summary)
    ax.set_xlim(max(0, low - 5), None)
    ax.set(xlabel="test accuracy (%)", title=f"{result['config']['shots']} images per class, fine-tuned from the backbone: "
                                             "one augmentation at a time")
    ax.title.set_fontsize(9.5)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return add_provenance(fig, result)


# --- chapter "vit" ---------------------------------------------------------------------------------

def patches(image: "torch.Tensor", patch: int = 4) -> Figure:
    """An image with its patch grid, and the patches laid out as the token sequence the ViT reads."""
    side = image.shape[-1] // patch
    fig = plt.figure(figsize=(9.5, 3.3))
    ax = fig.add_axes([0.01, 0.08, 0.26, 0.84])
    ax.imshow(image.permute(1, 2, 0).cpu().numpy(), extent=(0, image.shape[-1], image.shape[-2], 0))
    for k in range(1, side):
        ax.axhline(k * patch, color="white", lw=0.6)
        ax.axvline(k * patch, color="white", lw=0.6)
    ax.set_title(f"{image.shape[-1]} × {image.shape[-2]} image, {patch} × {patch} patches", fontsize=9)
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
    fig.text(0.31, 0.95, f"the sequence: {side * side} patches of {3 * patch * patch} numbers each, read row by row",
             fontsize=9)
    return fig


def lr_range_tests(result: dict) -> Figure:
    """Smoothed training loss against learning rate for each network, with the suggestion and the rate used."""
    fig, axes = plt.subplots(1, len(result["metrics"]), figsize=(5.2 * len(result["metrics"]), 3.8), squeeze=False)
    for ax, (name, curve) in zip(axes[0], result["metrics"].items()):
        ax.semilogx(curve["lrs"], curve["losses"], color="0.75", lw=0.8, label="loss per batch")
        ax.semilogx(curve["lrs"], curve["smoothed"], color=TRAIN_COLOR, label="smoothed")
        ax.axvline(curve["suggestion"], color="#2ca02c", ls="--", label=f"steepest descent: {curve['suggestion']:.1e}")
        ax.axvline(curve["chosen_lr"], color="#d62728", ls=":", label=f"peak rate used: {curve['chosen_lr']:.0e}")
        top = min(max(curve["smoothed"]) * 1.2, 2 * curve["smoothed"][0])
        ax.set_ylim(min(curve["smoothed"]) * 0.9, top)
        ax.set(xlabel="learning rate (log scale)", ylabel="training loss", title=f"{name} ({curve['optimizer']})")
        ax.grid(alpha=0.3)
        ax.legend(frameon=False, fontsize=7)
    fig.tight_layout()
    return add_provenance(fig, result)


def data_efficiency(results: dict[str, list[dict]]) -> Figure:
    """Test accuracy against the number of training images, one line per network."""
    fig, ax = plt.subplots(figsize=(6.4, 3.9))
    for (name, rows), color in zip(results.items(), ("#1f77b4", "#ff7f0e", "#2ca02c")):
        sizes = [r["provenance"]["data"]["train"]["images"] for r in rows]
        ax.plot(sizes, [100 * r["metrics"]["accuracy"] for r in rows], "o-", color=color, label=name)
        for n, r in zip(sizes, rows):
            ax.annotate(f"{100 * r['metrics']['accuracy']:.1f}", (n, 100 * r["metrics"]["accuracy"]),
                        textcoords="offset points", xytext=(0, 6), ha="center", fontsize=7, color=color)
    ax.set_xscale("log")
    sizes = [r["provenance"]["data"]["train"]["images"] for r in next(iter(results.values()))]
    ax.set_xticks(sizes, [f"{n:,}" for n in sizes])
    ax.set(xlabel="training images (log scale; every run sees the same number of images)",
           ylabel="test accuracy (%)", title="Accuracy against the amount of data, from scratch")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    fig.tight_layout()
    return add_provenance(fig, *[r for rows in results.values() for r in rows])


def attention_maps(result: dict, test_images: "torch.Tensor") -> Figure:
    """Test images and, under each, where the trained ViT's class token looks in the last block."""
    import torch

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
    axes[0][0].set_title("test images", loc="left", fontsize=8)
    axes[1][0].set_title("class token's attention, last block", loc="left", fontsize=8)
    fig.tight_layout()
    return add_provenance(fig, result)


def attention_geometry(result: dict) -> Figure:
    """Mean attention distance of every head by block, and the learned position embeddings' similarity."""
    import numpy as np

    found = result["attention"]
    side = found["grid"]
    fig = plt.figure(figsize=(10, 4.2))
    ax = fig.add_axes([0.07, 0.14, 0.36, 0.74])
    for block, heads in enumerate(found["mean_distance"], 1):
        ax.scatter([block] * len(heads), heads, s=18, color=TRAIN_COLOR)
    ax.set(xlabel="block (depth)", ylabel="mean attention distance (pixels)",
           title="How far each head looks", ylim=(0, None))
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
    fig.text(0.52, 0.92, "position embeddings: similarity of one patch's (yellow square)\nwith every other patch's",
             fontsize=8.5)
    return add_provenance(fig, result)


def pseudo_label_table(result: dict) -> str:
    """A Markdown table of a pseudo-labelling result: test accuracy (± 95 %) per shots and threshold,
    with how many pool images were pseudo-labelled on average and how many of their labels were right."""
    from .book import markdown_table

    rows = []
    for s in experiments.summarise(result["metrics"]["rows"], ("shots", "threshold")):
        runs = [r for r in result["metrics"]["rows"] if (r["shots"], r["threshold"]) == (s["shots"], s["threshold"])]
        right = [r["pseudo_accuracy"] for r in runs if r["pseudo_accuracy"] is not None]
        rows.append([str(s["shots"]), "labelled only" if s["threshold"] is None else f"τ = {s['threshold']}",
                     _cell(s, "accuracy"), f"{sum(r['pseudo_images'] for r in runs) / len(runs):,.0f}",
                     f"{100 * sum(right) / len(right):.1f} %" if right else "-"])
    return markdown_table(["images per class", "threshold", "test accuracy", "pseudo-labelled images (mean)",
                           "their labels right"], rows)


def step_costs_table(result: dict) -> str:
    """A Markdown table of measured training-step costs: precision, peak memory and images per second."""
    from .book import markdown_table

    return markdown_table(["setting", "precision", "peak memory", "images/s"],
                          [[r["name"], r["precision"], f"{r['peak_memory_mb']:,.0f} MB", f"{r['images_per_second']:,.0f}"]
                           for r in result["metrics"]["rows"]])
