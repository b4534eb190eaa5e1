"""Figures of chapter "intro": CIFAR-10's images, a crop-and-flip augmentation, and the small CNN's
learning curves and confusion matrix."""
from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from ..i18n import _
from .base import (
    TEST_COLOR,
    TRAIN_COLOR,
    confusion_matrix,
    examples,
    image_rows,
    learning_curves,
    per_epoch_axes,
    register,
)


def cifar10_examples(train_set=None, per_class: int = 10) -> Figure:
    """``per_class`` training images of every CIFAR-10 class (the training set is loaded if not given)."""
    if train_set is None:
        from ..data import load_cifar10

        train_set = load_cifar10(train=True)
    return examples(train_set, per_class=per_class)


def crop_and_flip(images=None, seed: int = 0) -> Figure:
    """A batch as it is, padded by 4 pixels and cropped back to 32 x 32 at random, and then mirrored at
    random: one draw per image, as :mod:`coursekit.augment` makes them on the device. Without
    ``images``, the first 8 training images of CIFAR-10."""
    import torch

    from .. import augment

    if images is None:
        from ..data import load_cifar10

        images = load_cifar10(train=True).images[:8]
    g = torch.Generator().manual_seed(seed)
    return image_rows({
        _("original"): images,
        _("padded 4 px, random 32x32 crop"): augment.random_crop(images, padding=4, generator=g),
        _("then a random horizontal flip"): augment.random_flip(augment.random_crop(images, 4, generator=g),
                                                                generator=g),
    })


def fast_curves(fast_result: dict, small_result: dict | None = None) -> Figure:
    """The fast recipe per epoch: training loss, and accuracy on the held-out validation images (no
    test-time augmentation), beside the small CNN's test accuracy per epoch where given; the fast
    recipe's test accuracy (read once, at the end) as a point."""
    history = fast_result["history"]
    epochs = [r["epoch"] for r in history]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.6))
    ax_loss.plot(epochs, [r["train_loss"] for r in history], "o-", color=TRAIN_COLOR)
    ax_loss.set(xlabel=_("epoch"), ylabel=_("summed label-smoothed loss / image"),
                title=_("Fast recipe: training loss"))
    if "validation_accuracy" in history[0]:
        ax_acc.plot(epochs, [100 * r["validation_accuracy"] for r in history], "o-", color=TRAIN_COLOR,
                    label=_("fast recipe, held-out validation images"))
    ax_acc.plot([epochs[-1]], [100 * fast_result["metrics"]["accuracy"]], "*", ms=12, color=TEST_COLOR,
                label=_("fast recipe, test set (once, with TTA)"))
    if small_result is not None:
        ax_acc.plot([r["epoch"] for r in small_result["history"]],
                    [100 * r["test_accuracy"] for r in small_result["history"]], "s--", color="0.5",
                    label=_("small CNN, test set"))
    ax_acc.set(xlabel=_("epoch"), ylabel=_("accuracy (%)"), title=_("Accuracy per epoch"))
    per_epoch_axes(ax_loss, ax_acc)
    ax_acc.legend(frameon=False, fontsize=7)
    fig.tight_layout()
    return fig


register("intro-cifar10-examples", "intro", (), lambda rs: cifar10_examples(),
         "Ten training images of each CIFAR-10 class: small, varied, and balanced across classes.")
register("intro-crop-and-flip", "intro", (), lambda rs: crop_and_flip(),
         "Crop-and-flip augmentation: each image padded by 4 pixels, cropped back to 32 x 32 at random, "
         "and mirrored with probability 1/2.")
register("intro-learning-curves", "intro", ("intro_cnn",), lambda rs: learning_curves(rs[0]),
         "Loss and accuracy per epoch of the introduction's small CNN on CIFAR-10.")
register("intro-confusion-matrix", "intro", ("intro_cnn",), lambda rs: confusion_matrix(rs[0]),
         "Which CIFAR-10 classes the introduction's small CNN confuses.")
register("intro-fast-recipe", "intro", ("intro_fast", "intro_cnn"), lambda rs: fast_curves(*rs),
         "The fast recipe per epoch (validation accuracy) against the small CNN, and its test accuracy.")
