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

from . import experiments

if TYPE_CHECKING:
    import torch

TRAIN_COLOR, TEST_COLOR = "#1f77b4", "#d62728"


def add_provenance(fig: Figure, *results: dict) -> Figure:
    """Write the provenance line of each result under the figure."""
    text = "\n".join(textwrap.fill(experiments.provenance_line(r), 150) for r in results)
    fig.text(0.01, 0.005, text, fontsize=6.5, color="0.35", ha="left", va="bottom")
    lines = text.count("\n") + 1
    fig.subplots_adjust(bottom=min(0.45, 0.13 + 0.035 * lines))
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


def confusion_matrix(result: dict) -> Figure:
    """The test-set confusion matrix, each row normalised to the true class's images (recall)."""
    import numpy as np

    counts = np.array(result["metrics"]["confusion"], dtype=float)
    classes = result["metrics"].get("classes") or [str(i) for i in range(len(counts))]
    share = 100 * counts / counts.sum(1, keepdims=True).clip(min=1)
    fig, ax = plt.subplots(figsize=(6.4, 6.0))
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=100)
    for i in range(len(classes)):
        for j in range(len(classes)):
            if counts[i, j]:
                ax.text(j, i, f"{share[i, j]:.0f}", ha="center", va="center", fontsize=7,
                        color="white" if share[i, j] > 55 else "black")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set(xlabel="predicted class", ylabel="true class",
           title=f"Confusion matrix (% of each true class), accuracy {100 * result['metrics']['accuracy']:.1f} %")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="% of the true class")
    fig.tight_layout()
    return add_provenance(fig, result)


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
    fig, axes = plt.subplots(len(rows), n, figsize=(n * size, len(rows) * size * 1.15), squeeze=False)
    for r, (title, images) in enumerate(rows.items()):
        for c, ax in enumerate(axes[r]):
            if c < len(images):
                ax.imshow(images[c].permute(1, 2, 0).cpu().numpy())
            ax.axis("off")
        axes[r][0].set_title(title, loc="left", fontsize=9)
    fig.tight_layout()
    return fig


@dataclass(frozen=True)
class NamedFigure:
    """A figure the CLI can export: which experiment it draws and how."""

    name: str
    experiment: str
    draw: Callable[[dict], Figure]
    caption: str


FIGURES: dict[str, NamedFigure] = {f.name: f for f in [
    NamedFigure("intro-learning-curves", "intro_cnn", learning_curves,
                "Loss and accuracy per epoch of the introduction's small CNN on CIFAR-10."),
    NamedFigure("intro-confusion-matrix", "intro_cnn", confusion_matrix,
                "Which CIFAR-10 classes the introduction's small CNN confuses."),
]}


def draw(name: str, profile: str | None = None) -> Figure:
    """Draw the named figure from the stored result (training it first if none is stored)."""
    spec = FIGURES[name]
    return spec.draw(experiments.run(spec.experiment, profile))


def export(out_dir: str | Path, formats: tuple[str, ...] = ("png",), profile: str | None = None,
           names: list[str] | None = None, dpi: int = 200) -> tuple[list[Path], list[str]]:
    """Save the named figures whose results are stored, in each format, for slides.

    Returns the files written and the figures skipped because their experiment has no stored
    result for ``profile`` (run ``coursekit regenerate`` first).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written, skipped = [], []
    for name in names or list(FIGURES):
        if name not in FIGURES:
            raise KeyError(f"unknown figure {name!r}; known: {', '.join(FIGURES)}")
        spec = FIGURES[name]
        result = experiments.load(spec.experiment, profile)
        if result is None:
            skipped.append(name)
            continue
        fig = spec.draw(result)
        for fmt in formats:
            path = out_dir / f"{name}.{fmt}"
            tmp = path.with_name(f".{path.stem}.tmp.{fmt}")
            fig.savefig(tmp, dpi=dpi, bbox_inches="tight")
            tmp.replace(path)
            written.append(path)
        plt.close(fig)
    return written, skipped
