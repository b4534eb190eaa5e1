"""Networks written to be read next to their papers, and one registry to build them by name.

Every network offers timm's seam: ``forward_features(x)`` gives the feature map before global
pooling (CNNs) or every token after the final norm (ViT); ``forward_head(x, pre_logits=False)``
pools and classifies (with ``pre_logits=True`` it returns the vector the classifier reads);
``forward(x)`` is ``forward_head(forward_features(x))``; ``get_classifier()`` is the classifier and
``reset_classifier(n)`` gives it ``n`` new, randomly initialised outputs. Transfer learning, probes
and attention maps need exactly that seam. ``create("small_cnn")`` builds any registered network
with its builder's default number of classes (1000 for ImageNet networks, 10 for CIFAR ones).

The registry and the helpers the families share live in :mod:`.registry`; this module only imports
the families (so that they register) and re-exports the public names.
"""
from __future__ import annotations

from . import (  # register their builders
    alexnet,
    detector,  # torchvision's Faster R-CNN on a small backbone; not in the registry
    fastcifar,
    inception,
    lenet,
    resnet,
    small,
    vgg,
    vit,
    weights,
)
from .registry import (
    classifier_name,
    count_macs,
    count_parameters,
    create,
    init_weights,
    list_models,
    new_classifier,
    register,
    replace_head,
)
from .weights import WeightsUnavailableError, cifar_resnet, input_statistics, pretrained, timm_module

__all__ = [
    "classifier_name", "count_macs", "count_parameters", "create", "init_weights", "list_models", "new_classifier",
    "register", "replace_head",
    "WeightsUnavailableError", "cifar_resnet", "input_statistics", "pretrained", "timm_module",
    "alexnet", "detector", "fastcifar", "inception", "lenet", "resnet", "small", "vgg", "vit", "weights",
]
