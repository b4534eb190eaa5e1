"""Figures of chapter "intro": CIFAR-10's images, a crop-and-flip augmentation, and the small CNN's
learning curves and confusion matrix."""
from __future__ import annotations

from matplotlib.figure import Figure

from .base import confusion_matrix, examples, image_rows, learning_curves, register


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
        "original": images,
        "padded 4 px, random 32x32 crop": augment.random_crop(images, padding=4, generator=g),
        "then a random horizontal flip": augment.random_flip(augment.random_crop(images, 4, generator=g), generator=g),
    })


register("intro-cifar10-examples", "intro", (), lambda rs: cifar10_examples(),
         "Ten training images of each CIFAR-10 class: small, varied, and balanced across classes.")
register("intro-crop-and-flip", "intro", (), lambda rs: crop_and_flip(),
         "Crop-and-flip augmentation: each image padded by 4 pixels, cropped back to 32 x 32 at random, "
         "and mirrored with probability 1/2.")
register("intro-learning-curves", "intro", ("intro_cnn",), lambda rs: learning_curves(rs[0]),
         "Loss and accuracy per epoch of the introduction's small CNN on CIFAR-10.")
register("intro-confusion-matrix", "intro", ("intro_cnn",), lambda rs: confusion_matrix(rs[0]),
         "Which CIFAR-10 classes the introduction's small CNN confuses.")
