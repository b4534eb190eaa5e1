"""Figures of chapter "transfer": PACS photos and sketches, and every method on every target, with the spread over seeds."""
from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from ..experiments.transfer import display_title, method_label, size_tick, target_title
from ..experiments.transfer import summary as experiment_summary
from ..i18n import _, number, say
from .base import image_rows, register

METHOD_COLORS = {"deep probe": "#1f77b4", "early probe": "#9ecae1", "fine-tune": "#2ca02c",
                 "fine-tune, frozen BN": "#98df8a", "fine-tune, gradual unfreezing": "#17becf", "scratch": "#7f7f7f"}


def transfer_comparison(result: dict) -> Figure:
    """Test accuracy of every method on every (target, size): mean over seeds with its 95 % interval."""
    methods = result["config"]["methods"]
    rows_ = experiment_summary(result)
    targets = list(dict.fromkeys((s["target"], s["size"]) for s in rows_))
    summary = {(s["target"], s["size"], s["method"]): s for s in rows_}
    fig, ax = plt.subplots(figsize=(max(6.0, 1.9 * len(targets) + 1.5), 3.9))
    width = 0.8 / len(methods)
    for i, method in enumerate(methods):
        rows = [summary[(t, size, method)] for t, size in targets]
        xs = [g + (i - (len(methods) - 1) / 2) * width for g in range(len(targets))]
        means = [100 * r["accuracy"] for r in rows]
        spread = [100 * r["accuracy_ci95"] for r in rows]
        ax.bar(xs, means, width, yerr=spread if any(spread) else None, capsize=2, label=method_label(method),
               color=METHOD_COLORS.get(method), edgecolor="white", linewidth=0.5)
        for x, m, sd in zip(xs, means, spread):
            ax.text(x, m + sd + 1, number(m, ".0f"), ha="center", va="bottom", fontsize=6.5)
    for g, (t, size) in enumerate(targets):  # chance: one over the number of classes
        classes = result["provenance"]["data"]["targets"][t]["classes"]
        ax.plot([g - 0.42, g + 0.42], [100 / classes] * 2, color="#d62728", lw=1, ls=":")
    runs = {s["runs"] for s in rows_}
    ax.set_xticks(range(len(targets)), [size_tick(t, size, summary[(t, size, methods[0])]["train_images"])
                                        for t, size in targets], fontsize=8)
    title = display_title(result)
    ax.set(ylabel=_("test accuracy (%)"), ylim=(0, 105),
           title=say("{title}\nmean over {seeds} seeds (bars: 95 % interval)", title=title, seeds=max(runs))
           if max(runs) > 1 else title)
    ax.title.set_fontsize(9.5)
    ax.plot([], [], color="#d62728", lw=1, ls=":", label=_("chance"))
    ax.legend(frameon=False, fontsize=7.5, ncol=len(methods) + 1, loc="upper center", bbox_to_anchor=(0.5, -0.2))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def pacs_examples(per_class: int = 2, image_size: int = 32) -> Figure:
    """``per_class`` images of each PACS class (dog, elephant, giraffe, guitar, horse, house, person), as
    photos and as sketches, at the ``image_size`` pixels the CIFAR-10 network sees.

    Raises ``data.DataNotFoundError`` when PACS is not on this machine.
    """
    from .. import data

    pick = lambda ds: ds.images[data.stratified_indices(ds.labels, per_class, seed=0)]  # noqa: E731
    return image_rows({target_title(f"pacs-{domain}"): pick(data.load_folder_dataset("pacs", domain, image_size=image_size))
                       for domain in ("photo", "sketch")}, size=0.75)


register("transfer-pacs", "transfer", (), lambda rs: pacs_examples(),
         "PACS: the same seven classes as photos, a domain close to CIFAR-10, and as sketches, one far from it.")
register("transfer-decision", "transfer", ("transfer_decision",), lambda rs: transfer_comparison(rs[0]),
         "Probes, fine-tuning and training from scratch on similar and different, small and large targets.")
register("transfer-targets", "transfer", ("transfer_targets",), lambda rs: transfer_comparison(rs[0]),
         "The four ways of reusing a CIFAR-10 ResNet-20 on three more data sets.")
register("transfer-decision-lite0", "transfer", ("transfer_decision_lite0",), lambda rs: transfer_comparison(rs[0]),
         "The same decision experiment from ImageNet's EfficientNet-Lite0 at 128 px, with fine-tuning under frozen "
         "batch norm as a fifth method.")
register("transfer-targets-lite0", "transfer", ("transfer_targets_lite0",), lambda rs: transfer_comparison(rs[0]),
         "The four ways of reusing ImageNet's EfficientNet-Lite0 on three more data sets.")
