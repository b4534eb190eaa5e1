"""What every figure shares: the provenance footer of exported figures, learning curves, confusion
matrices, image grids, and the registry of named figures that ``coursekit figures`` exports.

A figure is a function of one (or several) stored results, so the book, a notebook and
``coursekit figures`` (PNG/SVG/PDF for slides) draw the same picture from the same numbers. In the
book and in notebooks, the provenance of a figure is a collapsed note under it
(:func:`coursekit.book.provenance_note`), not text in the image. Figures exported for slides
(:func:`export`) carry a one-line footer instead, so that a copy on a slide still says which run it
shows. Each chapter's module registers every figure its chapter shows.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from .. import experiments, files, profiles, store
from ..i18n import _, data_name, say

if TYPE_CHECKING:
    import torch

TRAIN_COLOR, TEST_COLOR = "#1f77b4", "#d62728"

def add_footer(fig: Figure, *results: dict) -> Figure:
    """For figures exported for slides (:func:`export` adds it): a one-line footer under the figure, the
    run it shows (the first, and how many more), its profile, hardware, date, wall time and commit. In the
    book and in notebooks figures have none: their provenance is a collapsed note under them
    (:func:`coursekit.book.provenance_note`), with every run's full provenance line
    (:func:`coursekit.store.provenance_line`)."""
    if not results:
        return fig
    r, p = results[0], results[0]["provenance"]
    more = f" and {len(results) - 1} more run{'s' if len(results) > 2 else ''}" if len(results) > 1 else ""
    commit = f" · commit {p['git_commit']}" if p.get("git_commit") else ""
    text = (f"{r['experiment']}{more} · profile {r['profile']} · {p['device']} · {p['date'][:10]} · "
            f"wall time {store.duration(p['wall_seconds'])}{commit}")
    width, height = fig.get_size_inches()
    strip = 6.5 * 1.35 / 72 + 0.12  # inches for one line of 6.5 pt text, below the axes
    bottom = fig.subplotpars.bottom * height
    fig.set_size_inches(width, height + strip)
    fig.subplots_adjust(bottom=(bottom + strip) / (height + strip), top=1 - (1 - fig.subplotpars.top) * height / (height + strip))
    fig.text(0.01, 0.01, text, fontsize=6.5, color="0.35", ha="left", va="bottom")
    return fig


def per_epoch_axes(*axes) -> None:
    """A light grid and whole-number ticks on the epoch axis of each of ``axes``."""
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)


def lr_range_tests(result: dict, titles: dict[str, str] | None = None) -> Figure:
    """Smoothed training loss against learning rate for each network (three panels to a row, titled by
    ``titles`` where given), with its minimum, the suggestion (steepest descent below the minimum) and
    the rate used."""
    n = len(result["metrics"])
    cols = min(3, n)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.8 * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.axis("off")
    for ax, (name, curve) in zip(axes.flat, result["metrics"].items()):
        name = (titles or {}).get(name, name)
        ax.semilogx(curve["lrs"], curve["losses"], color="0.75", lw=0.8, label=_("loss per batch"))
        ax.semilogx(curve["lrs"], curve["smoothed"], color=TRAIN_COLOR, label=_("smoothed"))
        ax.axvline(curve["minimum"], color="0.3", ls="-.",
                   label=say("lowest smoothed loss: {lr:.1e}", lr=curve["minimum"]))
        ax.axvline(curve["suggestion"], color="#2ca02c", ls="--",
                   label=say("steepest descent below it: {lr:.1e}", lr=curve["suggestion"]))
        ax.axvline(curve["chosen_lr"], color="#d62728", ls=":", label=say("peak rate used: {lr:.0e}", lr=curve["chosen_lr"]))
        top = min(max(curve["smoothed"]) * 1.2, 2 * curve["smoothed"][0])
        ax.set_ylim(min(curve["smoothed"]) * 0.9, top)
        ax.set(xlabel=_("learning rate (log scale)"), ylabel=_("training loss"), title=f"{name} ({curve['optimizer']})")
        ax.grid(alpha=0.3)
        ax.legend(frameon=False, fontsize=7)
    fig.tight_layout()
    return fig


def learning_curves(result: dict) -> Figure:
    """Training and test loss and accuracy per epoch."""
    history = result["history"]
    epochs = [row["epoch"] for row in history]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.6))
    ax_loss.plot(epochs, [r["train_loss"] for r in history], "o-", color=TRAIN_COLOR, label=_("training"))
    ax_acc.plot(epochs, [100 * r["train_accuracy"] for r in history], "o-", color=TRAIN_COLOR,
                label=_("training (augmented batches)"))
    tested = [r for r in history if "test_loss" in r]  # a long run is tested after every few epochs
    if tested:
        ax_loss.plot([r["epoch"] for r in tested], [r["test_loss"] for r in tested], "s-", color=TEST_COLOR,
                     label=_("test"))
        ax_acc.plot([r["epoch"] for r in tested], [100 * r["test_accuracy"] for r in tested], "s-", color=TEST_COLOR,
                    label=_("test"))
    ax_loss.set(xlabel=_("epoch"), ylabel=_("cross-entropy loss"), title=_("Loss"))
    ax_acc.set(xlabel=_("epoch"), ylabel=_("accuracy (%)"), title=_("Accuracy"))
    per_epoch_axes(ax_loss, ax_acc)
    for ax in (ax_loss, ax_acc):
        ax.legend(frameon=False)
    fig.suptitle(_(result["title"]), fontsize=11)
    fig.tight_layout()
    return fig


def _draw_confusion(ax, result: dict, fontsize: float = 7) -> "object":
    import numpy as np

    counts = np.array(result["metrics"]["confusion"], dtype=float)
    classes = [data_name(c) for c in result["metrics"].get("classes") or [str(i) for i in range(len(counts))]]
    share = 100 * counts / counts.sum(1, keepdims=True).clip(min=1)
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=100)
    for i in range(len(classes)):
        for j in range(len(classes)):
            if counts[i, j]:
                ax.text(j, i, f"{share[i, j]:.0f}", ha="center", va="center", fontsize=fontsize,
                        color="white" if share[i, j] > 55 else "black")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set(xlabel=_("predicted class"), ylabel=_("true class"))
    return image


def confusion_matrix(result: dict) -> Figure:
    """The test-set confusion matrix, each row normalised to the true class's images (recall)."""
    fig, ax = plt.subplots(figsize=(6.4, 6.0))
    image = _draw_confusion(ax, result)
    ax.set_title(say("Confusion matrix (% of each true class), accuracy {acc:.1f} %",
                     acc=100 * result["metrics"]["accuracy"]))
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label=_("% of the true class"))
    fig.tight_layout()
    return fig


def confusion_matrices(results: list[dict], titles: list[str]) -> Figure:
    """Several confusion matrices side by side (rows normalised to the true class)."""
    fig, axes = plt.subplots(1, len(results), figsize=(4.6 * len(results), 4.8), squeeze=False)
    for ax, result, title in zip(axes[0], results, titles):
        _draw_confusion(ax, result, fontsize=6)
        ax.set_title(say("{title}: {acc:.1f} %", title=title, acc=100 * result["metrics"]["accuracy"]), fontsize=10)
    fig.tight_layout()
    return fig


def examples(dataset, per_class: int = 8, seed: int = 0) -> Figure:
    """A grid of ``per_class`` images of every class of an :class:`~coursekit.data.ImageTensors` set."""
    from ..data import stratified_indices

    idx = stratified_indices(dataset.labels, per_class, seed)
    rows = len(dataset.classes)
    fig, axes = plt.subplots(rows, per_class, figsize=(per_class * 0.8, rows * 0.85))
    for row, name in enumerate(dataset.classes):
        picks = idx[dataset.labels[idx] == row]
        for col, ax in enumerate(axes[row]):
            image = dataset.images[picks[col]]  # grey images (MNIST) have one channel
            ax.imshow(image[0].numpy() if len(image) == 1 else image.permute(1, 2, 0).numpy(), cmap="gray")
            ax.set_xticks([])
            ax.set_yticks([])
        axes[row][0].set_ylabel(data_name(name), rotation=0, ha="right", va="center", fontsize=8)
    source = dataset.source
    fig.text(0.01, 0.0, say("{data}, {n:,} images", data=source.get("description", source.get("kind")), n=len(dataset)),
             fontsize=6.5, color="0.35", ha="left", va="top")
    fig.subplots_adjust(wspace=0.05, hspace=0.05, left=0.15)
    return fig


def overlay_map(ax, image: "torch.Tensor", small_map: list[list[float]]) -> None:
    """An image (3 x H x W, 0-255) on ``ax`` with a stored map in [0, 1] (a Grad-CAM map averaged down
    to a small grid) upsampled onto it, as a heat map at 40 % opacity."""
    import torch
    import torch.nn.functional as F

    side = image.shape[-2:]
    cam = F.interpolate(torch.tensor(small_map)[None, None], size=tuple(side), mode="bilinear", align_corners=False)
    ax.imshow(image.permute(1, 2, 0).numpy())
    ax.imshow(cam[0, 0].numpy(), cmap="jet", alpha=0.4, vmin=0, vmax=1)
    ax.axis("off")


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


# --- the figures a chapter shows, by name, for export ------------------------------------------------

@dataclass(frozen=True)
class NamedFigure:
    """A figure the CLI can export: its chapter, the experiments it draws (possibly none) and how."""

    name: str
    chapter: str
    experiments: tuple[str, ...]
    draw: Callable[[list[dict]], Figure]
    caption: str


FIGURES: dict[str, NamedFigure] = {}


def register(name: str, chapter: str, experiments: tuple[str, ...] | list[str], draw: Callable[[list[dict]], Figure],
             caption: str) -> NamedFigure:
    """Name a figure of ``chapter`` drawn from the stored results of ``experiments`` by ``draw``."""
    if name in FIGURES:
        raise ValueError(f"a figure named {name!r} is registered already")
    FIGURES[name] = NamedFigure(name, chapter, tuple(experiments), draw, caption)
    return FIGURES[name]


class MissingResult(LookupError):
    """A figure was asked to draw an experiment that has no stored result: figures load, they never train."""


def _stored(spec: NamedFigure, profile: str | None) -> tuple[list[dict | None], list[str]]:
    """The stored results of the experiments ``spec`` draws (None where there is none for ``profile`` and
    the current configuration), and the names of those missing."""
    results = [experiments.load(e, profile) for e in spec.experiments]
    return results, [e for e, r in zip(spec.experiments, results) if r is None]


def _why_missing(missing: list[str], profile: str | None) -> str:
    """Why results are missing: none stored, or stored but made with another configuration (stale)."""
    stale = [e for e in missing if experiments.load(e, profile, any_config=True) is not None]
    absent = [e for e in missing if e not in stale]
    parts = ([f"no stored result of {', '.join(absent)}"] if absent else []) + (
        [f"the stored result of {', '.join(stale)} is stale (made with another configuration)"] if stale else [])
    return "; ".join(parts)


def draw(name: str, profile: str | None = None, results: list[dict] | None = None) -> Figure:
    """Draw the named figure from ``results`` (its experiments' results, in order: what a chapter that has
    just computed them hands it) or else from the stored results. A figure never trains: where a result is
    not stored, :class:`MissingResult` names the experiment and the command that makes it."""
    spec = FIGURES[name]
    if results is None:
        results, missing = _stored(spec, profile)
        if missing:
            profile = profiles.current(profile)
            why = ("the ci profile stores no result: hand the figure the results the chapter computed "
                   f"(figures.draw({name!r}, results=[...]))" if profile == "ci" else
                   f"run `coursekit regenerate --profile {profile} --experiment {missing[0]}` first")
            raise MissingResult(f"figure {name!r} draws {', '.join(missing)}, which {'has' if len(missing) == 1 else 'have'} "
                                f"no stored {profile} result for the current configuration, and a figure never trains: {why}")
    return spec.draw(results)


def export(out_dir: str | Path, formats: tuple[str, ...] = ("png",), profile: str | None = None,
           names: list[str] | None = None, dpi: int = 200) -> tuple[list[Path], dict[str, str]]:
    """Save the named figures in each format, for slides, each drawn with its one-line provenance footer
    (:func:`add_footer`).

    Returns the files written and, for each figure skipped, why: an experiment it draws has no
    stored result for ``profile`` (run ``coursekit regenerate`` first), or the data or weights it shows are
    not on this machine. An ``out_dir`` that is a file raises :class:`NotADirectoryError`, a figure
    that cannot be written (a read-only folder, a full disk) an :class:`OSError` that names it; no
    half-written file is left behind.
    """
    from ..data import DataNotFoundError
    from ..models import WeightsUnavailableError

    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(f"{out_dir} is a file, not a folder: name a folder to write the figures into "
                                 "(it is made if missing)")
    written, skipped = [], {}
    for name in names or list(FIGURES):
        if name not in FIGURES:
            raise KeyError(f"unknown figure {name!r}; known: {', '.join(FIGURES)}")
        spec = FIGURES[name]
        results, missing = _stored(spec, profile)
        if missing:
            skipped[name] = _why_missing(missing, profile)
            continue
        try:
            fig = add_footer(spec.draw(results), *results)  # a figure on a slide says which run it shows
        except (DataNotFoundError, WeightsUnavailableError) as error:
            skipped[name] = str(error).splitlines()[0]
            continue
        try:
            for fmt in formats:
                path = out_dir / f"{name}.{fmt}"
                with files.atomic_write(path) as tmp:  # a full disk leaves no half figure
                    fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight")
                written.append(path)
        finally:
            plt.close(fig)
    return written, skipped
