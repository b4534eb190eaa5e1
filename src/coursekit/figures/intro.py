"""Figures of chapter "intro": the small CNN's learning curves and confusion matrix."""
from __future__ import annotations

from .base import confusion_matrix, learning_curves, register

register("intro-learning-curves", "intro", ("intro_cnn",), lambda rs: learning_curves(rs[0]),
         "Loss and accuracy per epoch of the introduction's small CNN on CIFAR-10.")
register("intro-confusion-matrix", "intro", ("intro_cnn",), lambda rs: confusion_matrix(rs[0]),
         "Which CIFAR-10 classes the introduction's small CNN confuses.")
