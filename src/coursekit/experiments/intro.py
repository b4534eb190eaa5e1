"""Chapter "intro": a small CNN trained from scratch on CIFAR-10."""
from __future__ import annotations

from .cifar import CIFAR10_RECIPE, train_cifar10_classifier
from .core import Experiment, register

register(Experiment(
    name="intro_cnn", title="A small CNN trained from scratch on CIFAR-10", chapter="intro",
    base=dict(CIFAR10_RECIPE, model="small_cnn"),
    sizes={
        "ci": dict(train_per_class=20, test_per_class=10, epochs=2, batch_size=50, model_args=dict(width=8)),
        "quick": dict(train_per_class=2000, test_per_class=None, epochs=10, batch_size=128, model_args=dict(width=32)),
        "full": dict(train_per_class=None, test_per_class=None, epochs=30, batch_size=256, lr=0.1,
                     model_args=dict(width=64)),
    },
    runner=train_cifar10_classifier))
