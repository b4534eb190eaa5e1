"""Figures of chapter "ages": the spread of ages and groups in the data, predicted against true age,
the worst errors with their faces, the errors by group with the spread over seeds, and where the
fine-tuned network looks for an age."""
from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from ..data import load_utkface, utkface_attributes
from ..data.utkface import RACES
from ..experiments import ages as experiment
from ..i18n import _, say
from .base import overlay_map, register


def run_title(result: dict) -> str:
    """The title of ``result``'s experiment in the current language (as it is, for a run whose title the
    chapter's figures do not show)."""
    titles = {"The student's small CNN from scratch on UTKFace, head: l1":
              _("The student's small CNN from scratch on UTKFace, head: l1"),
              "The student's small CNN from scratch on UTKFace, head: log-l1":
              _("The student's small CNN from scratch on UTKFace, head: log-l1"),
              "The student's small CNN from scratch on UTKFace, head: groups":
              _("The student's small CNN from scratch on UTKFace, head: groups"),
              "The student's small CNN from scratch on UTKFace, head: coral":
              _("The student's small CNN from scratch on UTKFace, head: coral"),
              "ResNet-20 from scratch on UTKFace (L1 on age)": _("ResNet-20 from scratch on UTKFace (L1 on age)"),
              "ImageNet's EfficientNet-Lite0 fine-tuned on UTKFace at 96 px (L1 on age)":
              _("ImageNet's EfficientNet-Lite0 fine-tuned on UTKFace at 96 px (L1 on age)")}
    return titles.get(result["title"], result["title"])


def said_age(true: int, said: float) -> str:
    """A face's title: its true age over the predicted one."""
    return say("true {true}\nsaid {said:.0f}", true=true, said=said)


def data_spread(attributes: dict) -> Figure:
    """The training faces' ages (a histogram) and their shares of the data set's gender and race groups."""
    from ..data.utkface import GENDERS, RACES

    fig, (ax_age, ax_group) = plt.subplots(1, 2, figsize=(9.0, 3.0), gridspec_kw=dict(width_ratios=(2, 1)))
    ax_age.hist(attributes["age"].numpy(), bins=range(0, 120, 2), color="#1f77b4")
    ax_age.set(xlabel=_("age (years)"), ylabel=_("training faces"), title=_("Ages"))
    shares = [(experiment.group_name(GENDERS[g]), float((attributes["gender"] == g).float().mean()))
              for g in range(len(GENDERS))]
    shares += [(experiment.group_name(RACES[r]), float((attributes["race"] == r).float().mean()))
               for r in range(len(RACES))]
    ax_group.barh(range(len(shares)), [100 * s for _, s in shares], color=["#7f7f7f"] * 2 + ["#ff7f0e"] * 5)
    ax_group.set_yticks(range(len(shares)), [n for n, _ in shares], fontsize=8)
    ax_group.invert_yaxis()
    ax_group.set(xlabel=_("% of training faces"), title=_("Gender and race (the data set's coding)"))
    for ax in (ax_age, ax_group):
        ax.title.set_fontsize(9.5)
        ax.grid(axis="x" if ax is ax_group else "y", alpha=0.3)
    fig.tight_layout()
    return fig


def predicted_against_true(result: dict, truth) -> Figure:
    """Every test face's predicted age against its true age (first seed), with the diagonal where they agree
    and the band of five years on either side (CS(5) counts the faces inside it)."""
    import torch

    predicted = torch.tensor(result["metrics"]["predicted"])
    fig, ax = plt.subplots(figsize=(4.6, 4.4))
    ax.scatter(truth.numpy(), predicted.numpy(), s=4, alpha=0.35, lw=0, color="#1f77b4")
    top = 100
    ax.plot([0, top], [0, top], color="#d62728", lw=1, label=_("predicted = true"))
    ax.fill_between([0, top], [-5, top - 5], [5, top + 5], color="#d62728", alpha=0.08, label=_("within 5 years"))
    mae = float((predicted - truth.float()).abs().mean())
    ax.set(xlabel=_("true age (years)"), ylabel=_("predicted age (years)"), xlim=(0, top), ylim=(0, top),
           title=say("{title}\n(first seed: MAE {mae:.1f} {years})", title=run_title(result), mae=mae,
                     years=experiment.years_word(mae)))
    ax.title.set_fontsize(8.5)
    ax.legend(frameon=False, fontsize=7.5, loc="upper left")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def worst_errors(result: dict, faces, count: int = 8) -> Figure:
    """The ``count`` test faces whose predicted age (first seed) is furthest from the true one."""
    import torch

    predicted = torch.tensor(result["metrics"]["predicted"])
    error = (predicted - faces.labels.float()).abs()
    worst = error.argsort(descending=True)[:count]
    fig, axes = plt.subplots(1, count, figsize=(1.25 * count, 1.8), squeeze=False)
    for ax, i in zip(axes[0], worst.tolist()):
        ax.imshow(faces.images[i].permute(1, 2, 0).numpy())
        ax.set_title(said_age(int(faces.labels[i]), float(predicted[i])), fontsize=7)
        ax.axis("off")
    fig.suptitle(_("The largest errors (first seed)"), fontsize=9)
    fig.tight_layout()
    return fig


def errors_by_group(result: dict, attributes: dict, name: str, labels: list[str] | tuple[str, ...]) -> Figure:
    """MAE of each group of ``attributes[name]`` (mean over seeds with its 95 % interval, a dot per seed)."""
    from .. import stats

    errors = experiment.group_errors(result, attributes["age"], attributes[name])
    fig, ax = plt.subplots(figsize=(5.8, 0.38 * len(errors) + 1.1))
    for y, (g, by_seed) in enumerate(sorted(errors.items())):
        values = list(by_seed.values())
        mean, _sd, half = stats.mean_interval(values)
        ax.errorbar(mean, y, xerr=half if half else None, fmt="o", color="#1f77b4", capsize=3)
        ax.scatter(values, [y] * len(values), s=10, alpha=0.4, color="#1f77b4", lw=0)
        count = int((attributes[name] == g).sum())
        ax.annotate(say("{mae:.1f} ({count} faces)", mae=mean, count=count), (mean, y), textcoords="offset points",
                    xytext=(6, 5), fontsize=7)
    ax.set_yticks(range(len(errors)), [experiment.group_name(labels[g]) for g in sorted(errors)], fontsize=8)
    ax.invert_yaxis()
    titles = {"race": _("Errors by race (test faces)"), "gender": _("Errors by gender (test faces)")}
    ax.set(xlabel=_("mean absolute error (years)"), xlim=(0, None),
           title=titles.get(name) or say("Errors by {name} (test faces)", name=name))
    ax.title.set_fontsize(9.5)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def age_gradcam(result: dict, faces) -> Figure:
    """The Grad-CAM maps stored with the first seed's run (one test face of each age group, youngest
    first), each titled with the true and the predicted age: where the evidence for an older answer lies."""
    found = result["metrics"]["gradcam"]
    predicted = result["metrics"]["predicted"]
    count = len(found["images"])
    fig, axes = plt.subplots(1, count, figsize=(1.3 * count, 1.9), squeeze=False)
    for ax, k, cam in zip(axes[0], found["images"], found["maps"]):
        overlay_map(ax, faces.images[k], cam)
        ax.set_title(said_age(int(faces.labels[k]), predicted[k]), fontsize=7)
    fig.suptitle(say("Grad-CAM of the predicted age ({layer}, first seed)", layer=found["layer"]), fontsize=9)
    fig.tight_layout()
    return fig


def _size(name: str) -> int:
    from .. import experiments

    return experiments.config(name)["image_size"]


register("ages-data", "ages", (), lambda rs: data_spread(utkface_attributes("train")),
         "UTKFace's training faces: their ages, and their shares of the data set's gender and race groups.")
register("ages-predicted", "ages", ("ages_cnn_l1",),
         lambda rs: predicted_against_true(rs[0], load_utkface("test", _size("ages_cnn_l1")).labels),
         "The small CNN's predicted age against the true age of every test face, with the band of five years.")
register("ages-errors-by-race", "ages", ("ages_lite0_finetune",),
         lambda rs: errors_by_group(rs[0], utkface_attributes("test"), "race", RACES),
         "The fine-tuned network's MAE by the data set's race groups, over seeds.")
register("ages-gradcam", "ages", ("ages_lite0_finetune",),
         lambda rs: age_gradcam(rs[0], load_utkface("test", _size("ages_lite0_finetune"))),
         "Grad-CAM of the fine-tuned network's predicted age on one test face of each age group.")
