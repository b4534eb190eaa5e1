"""Where a network spends its computation, and how much of the image one output sees.

* :func:`macs_per_layer`: multiply-accumulates of every convolution and linear layer, counted by
  ``torch.utils.flop_counter.FlopCounterMode`` on one forward pass, as
  :func:`coursekit.models.count_macs` counts the whole network: their sum is that total for a network
  made of these layers (batch norm, ReLU and pooling are not counted by either).
* :func:`receptive_field`: the receptive field of a chain of convolutions and poolings. With
  ``r`` the field so far and ``j`` the distance in input pixels between neighbouring outputs
  (the product of the strides so far), a layer with kernel ``k``, stride ``s`` and dilation ``d``
  gives ``r + d (k - 1) j`` and ``j s``. Three 3x3 convolutions see 7x7 pixels, as one 7x7 does
  (Simonyan and Zisserman, 2015, section 2.3).
"""
from __future__ import annotations

from typing import Iterable

import torch
from torch import nn


def macs_per_layer(model: nn.Module, input_size: tuple[int, ...] = (1, 3, 32, 32)) -> dict[str, int]:
    """Multiply-accumulates of each ``Conv2d`` and ``Linear`` for one input of ``input_size``.

    Keys are module names (as in ``model.named_modules()``) in the order the layers run. Counted by
    ``FlopCounterMode``, which reports FLOPs = 2 x MACs: a conv output element costs
    ``in_channels / groups * kernel_height * kernel_width`` MACs, a linear one ``in_features``;
    biases are not counted. A layer that runs twice counts twice.
    """
    from torch.utils.flop_counter import FlopCounterMode

    layers = {name for name, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))}
    p = next(model.parameters())
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(torch.zeros(input_size, device=p.device, dtype=p.dtype))
    finally:
        model.train(was_training)
    # FlopCounterMode names a module "<class of the network>.<its name>", parents included; keep the layers.
    root = type(model).__name__ + "."
    macs = {}
    for name, flops in counter.get_flop_counts().items():
        if name.startswith(root) and name.removeprefix(root) in layers:
            macs[name.removeprefix(root)] = sum(flops.values()) // 2
    return macs


def _pair_first(value: int | tuple[int, ...]) -> int:
    return value if isinstance(value, int) else value[0]


def receptive_field(layers: Iterable[tuple[int, int] | tuple[int, int, int]]) -> int:
    """Receptive field (in input pixels, along one axis) of a chain of layers.

    Each layer is ``(kernel, stride)`` or ``(kernel, stride, dilation)``:
    ``receptive_field([(3, 1)] * 3) == 7``.
    """
    field, jump = 1, 1
    for layer in layers:
        kernel, stride, dilation = (*layer, 1) if len(layer) == 2 else layer
        field += dilation * (kernel - 1) * jump
        jump *= stride
    return field


def spatial_layers(model: nn.Module) -> list[tuple[int, int, int]]:
    """``(kernel, stride, dilation)`` of every convolution and max/average pooling of ``model``,
    in the order they were registered (the first value where height and width differ)."""
    layers = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            layers.append((m.kernel_size[0], m.stride[0], m.dilation[0]))
        elif isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
            dilation = m.dilation if isinstance(m, nn.MaxPool2d) else 1
            layers.append((_pair_first(m.kernel_size), _pair_first(m.stride), _pair_first(dilation)))
    return layers


def receptive_field_of(model: nn.Module) -> int:
    """Receptive field of a network that is a chain of layers, such as AlexNet's or VGG's
    ``features`` (``nn.Sequential``). Branches and shortcuts are not followed: every convolution
    and pooling is taken to lie on one path, in the order the modules were registered."""
    return receptive_field(spatial_layers(model))


@torch.no_grad()
def inspect_vit(model: nn.Module, test_set, count: int = 8) -> dict:
    """What a trained ViT attends to, in numbers small enough to store with a result.

    For one test image of each of the first ``count`` classes (seed 0): the class token's attention
    to every patch in the last block, averaged over heads. For every block and head: the mean
    attention distance in pixels (Dosovitskiy et al. 2021, figure 7), i.e. how far from each patch,
    on average, the patches it attends to lie. And the cosine similarity of the learned position
    embeddings of every pair of patches (their figure 7, centre).
    """
    import torch.nn.functional as F

    from ..data import CIFAR10_MEAN, CIFAR10_STD, stratified_indices

    was_training = model.training
    model.eval()
    indices = stratified_indices(test_set.labels, 1, seed=0)[:count]
    from torchvision.transforms.v2.functional import normalize

    x = normalize(test_set.images[indices].float() / 255, CIFAR10_MEAN, CIFAR10_STD)
    maps = model.attention_maps(x)  # per block: (N, heads, tokens, tokens), token 0 = class token
    side = int(model.patch_embed.num_patches ** 0.5)
    patch = x.shape[-1] // side
    grid = torch.stack(torch.meshgrid(torch.arange(side), torch.arange(side), indexing="ij"), -1).view(-1, 2).float()
    distance = torch.cdist(grid, grid) * patch  # pixels between patch centres
    mean_distance = [[float((m[:, h, 1:, 1:] / m[:, h, 1:, 1:].sum(-1, keepdim=True) * distance).sum(-1).mean())
                      for h in range(m.shape[1])] for m in maps]
    pos = F.normalize(model.pos_embed[0, 1:], dim=-1)
    model.train(was_training)
    return dict(images=indices.tolist(), grid=side,
                cls_attention=[[round(float(v), 5) for v in row] for row in maps[-1][:, :, 0, 1:].mean(1)],
                mean_distance=[[round(d, 3) for d in block] for block in mean_distance],
                position_similarity=[[round(float(v), 3) for v in row] for row in pos @ pos.T])
