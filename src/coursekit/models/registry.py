"""The model registry and the few helpers every network family shares.

timm's idea: a builder function decorated with ``@register_model`` becomes buildable by name
through ``create_model("resnet18")``. Here the decorator is :func:`register` and the factory
:func:`create`; :func:`list_models` names what is registered. Beside them live the pieces each
family reuses: :func:`new_classifier` (the head ``reset_classifier`` gives), :func:`init_weights`
(one initialisation for every model), and the two measures the book quotes, :func:`count_parameters`
and :func:`count_macs`.

The families (``resnet``, ``vgg``, ...) import from this module, never from the package
``coursekit.models``, whose ``__init__`` imports them so that they register.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

_REGISTRY: dict[str, Callable[..., nn.Module]] = {}


def register(fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
    """Decorator: make a builder function available to :func:`create` under its own name."""
    if fn.__name__ in _REGISTRY:
        raise ValueError(f"a model named {fn.__name__!r} is registered already")
    _REGISTRY[fn.__name__] = fn
    return fn


def create(name: str, num_classes: int | None = None, **kwargs) -> nn.Module:
    """Build the registered network ``name``, with ``num_classes`` outputs if given, else with its
    builder's default (1000 for ImageNet networks, 10 for CIFAR ones). ``kwargs`` go to the builder."""
    if name not in _REGISTRY:
        raise KeyError(f"unknown model {name!r}; registered: {', '.join(sorted(_REGISTRY))}")
    if num_classes is not None:
        kwargs["num_classes"] = num_classes
    try:
        return _REGISTRY[name](**kwargs)
    except TypeError as err:  # a misspelt argument: say which, and what the builder takes
        import inspect
        import re

        bad = re.search(r"unexpected keyword argument '(\w+)'", str(err))
        if bad is None:
            raise
        builder = _REGISTRY[name]
        raise TypeError(f"{name} takes no argument {bad[1]!r} (from model_args or models.create's keywords); "
                        f"check its spelling: {name}{inspect.signature(builder)} "
                        f"builds {builder.__module__}") from err


def list_models() -> list[str]:
    """Names accepted by :func:`create`."""
    return sorted(_REGISTRY)


def new_classifier(in_features: int, num_classes: int) -> nn.Module:
    """A fresh linear classifier with PyTorch's default initialisation, as ``reset_classifier`` gives
    every network; for ``num_classes=0``, none (``nn.Identity``: the network then returns its features)."""
    return nn.Linear(in_features, num_classes) if num_classes > 0 else nn.Identity()


def init_weights(model: nn.Module, linear: str | None = None) -> None:
    """The initialisation of He et al. (2015) for ReLU networks, in one place for every model.

    Convolutions: Kaiming-normal (fan-out) weights and zero biases; batch norm starts as the
    identity. Linear layers: ``"normal"`` draws N(0, 0.01) as AlexNet, VGG and GoogLeNet did,
    ``"kaiming"`` uses Kaiming-normal (fan-in), ``None`` keeps PyTorch's default.
    """
    if linear not in (None, "normal", "kaiming"):
        raise ValueError(f"linear must be None, 'normal' or 'kaiming', got {linear!r}")
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear) and linear is not None:
            if linear == "normal":
                nn.init.normal_(m.weight, 0.0, 0.01)
            else:
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
            nn.init.zeros_(m.bias)


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """The number of parameters (all, or only those with ``requires_grad``)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def count_macs(model: nn.Module, input_size: tuple[int, ...] = (1, 3, 32, 32)) -> int:
    """Multiply-accumulates of one forward pass on an input of ``input_size``.

    Counted by ``torch.utils.flop_counter.FlopCounterMode`` (which reports FLOPs = 2 x MACs).
    """
    from torch.utils.flop_counter import FlopCounterMode

    p = next(model.parameters())
    x = torch.zeros(input_size, device=p.device, dtype=p.dtype)
    was_training = model.training
    model.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(x)
    model.train(was_training)
    return counter.get_total_flops() // 2


# Where torchvision's own networks keep their classifier (they have no ``reset_classifier``): the
# first of these attributes that the network has; in an ``nn.Sequential`` (AlexNet, VGG, MobileNet,
# EfficientNet, ConvNeXt, the ViT's ``heads``), its last linear layer.
TORCHVISION_CLASSIFIERS = ("fc", "classifier", "heads", "head")


def classifier_name(model: nn.Module) -> str:
    """The module name of ``model``'s classifier, which prefixes its parameters' names (the key for
    :func:`coursekit.train.make_optimizer`'s ``lr_multipliers``): ``"linear"`` for a CIFAR ResNet."""
    if hasattr(model, "get_classifier"):  # coursekit and timm networks
        head = model.get_classifier()
        return next(name for name, m in model.named_modules() if m is head)
    for attr in TORCHVISION_CLASSIFIERS:
        module = getattr(model, attr, None)
        if isinstance(module, nn.Linear):
            return attr
        if isinstance(module, nn.Sequential):
            linear = [name for name, m in module.named_children() if isinstance(m, nn.Linear)]
            if linear:
                return f"{attr}.{linear[-1]}"
    raise ValueError(f"found no linear classifier in {type(model).__name__} (looked for "
                     f"{', '.join(TORCHVISION_CLASSIFIERS)}); give it get_classifier and reset_classifier")


def replace_head(model: nn.Module, num_classes: int) -> str:
    """Give ``model`` a new, randomly initialised classifier for ``num_classes``; return its name.

    coursekit and timm networks do it themselves (``reset_classifier``); in torchvision's the linear
    layer that :func:`classifier_name` finds is replaced by a new one with the same inputs.
    """
    if hasattr(model, "reset_classifier"):
        model.reset_classifier(num_classes)
        return classifier_name(model)
    name = classifier_name(model)
    parent, _, attr = name.rpartition(".")
    owner = model.get_submodule(parent)
    setattr(owner, attr, nn.Linear(getattr(owner, attr).in_features, num_classes))
    return name
